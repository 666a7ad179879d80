//! The audit: which blobs to scan (whole database, a branch, a range of commits), scanning
//! them once, attributing what is found, and building findings.

use super::graph::{self, Graph};
use super::odb::{self, Capped, Read};
use super::range::{Walk, range};
use super::{GitError, format_git_time};
use crate::engine::{Engine, InputMeta};
use crate::finding::{Finding, Source};
use crate::problem::{Kind as ProblemKind, Problem, Subject};
use crate::scan::Stats;
use crate::scan::input::scan_bytes_capped;
use crate::sink::Sink;
use gix::ObjectId;
use gix::objs::Kind;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;

/// What part of the repository to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every blob reachable from every ref (branches, tags, remotes, notes, stash, HEAD).
    All,
    /// Every blob reachable from one branch (or any revision).
    Branch(String),
    /// The blobs introduced by the commits reachable from `include` but not from `exclude`
    /// (revisions, as `git rev-parse` takes them).
    Range {
        /// Revisions whose history is scanned.
        include: Vec<String>,
        /// Revisions whose history is excluded.
        exclude: Vec<String>,
    },
    /// Every file in one commit's tree (a release tag, a manual CI run): what that commit
    /// ships, not its history. Findings are attributed to that commit.
    Tree(String),
}

/// Settings of a git audit.
#[derive(Debug, Clone)]
pub struct GitOptions {
    /// Also scan unreachable objects (dangling commits and blobs) and report them flagged.
    pub all_objects: bool,
    /// Report every commit/path that introduced a blob with findings, not only the first.
    pub all_occurrences: bool,
    /// Blobs larger than this are not scanned (nor inflated): each is an error naming it,
    /// or a warning with `skip_unreadable`.
    pub max_blob_size: u64,
    /// Report blobs left unscanned (over `max_blob_size`) as warnings instead of errors.
    pub skip_unreadable: bool,
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// Put secrets in reports unmasked.
    pub reveal: bool,
    /// Scan a shallow clone's history as far as it goes instead of refusing: without it, a
    /// history audit of a shallow clone, or a range that reaches its boundary, is an error.
    pub allow_shallow: bool,
    /// Blobs scanned before under the same rules (a fleet's store): not scanned again; the
    /// audit's own scanned blobs are recorded in it.
    pub ledger: Option<std::sync::Arc<dyn super::ledger::BlobLedger>>,
}

impl Default for GitOptions {
    fn default() -> Self {
        GitOptions {
            all_objects: false,
            all_occurrences: false,
            max_blob_size: 64 << 20,
            skip_unreadable: false,
            threads: 0,
            reveal: false,
            allow_shallow: false,
            ledger: None,
        }
    }
}

/// Counters of a git audit.
#[derive(Debug, Default, Clone)]
pub struct GitStats {
    /// Distinct blobs scanned.
    pub blobs: u64,
    /// Bytes of blob content scanned.
    pub bytes: u64,
    /// Blobs over the size cap, not scanned.
    pub skipped_large: u64,
    /// Git LFS pointer blobs, not scanned.
    pub skipped_lfs: u64,
    /// Submodule entries (gitlinks): commits of another repository, not scanned.
    pub submodules: u64,
    /// Objects stored more than once (several packs, packed and loose), decoded once.
    pub duplicates: u64,
    /// Commits walked for attribution or for the range.
    pub commits: u64,
    /// Objects named but absent (partial clone, promisor packs): skipped.
    pub missing: u64,
    /// Findings in unreachable objects left out (they are reported with `--all-objects`).
    pub unreachable_hidden: u64,
    /// Blobs the ledger ([`GitOptions::ledger`]) knew: scanned before, not scanned again.
    pub known: u64,
}

/// What a git audit produced.
#[derive(Debug, Default)]
pub struct GitReport {
    /// Findings, sorted by commit date then path and position.
    pub findings: Vec<Finding>,
    /// Errors (each makes the exit code 2); the scan went on past each.
    pub errors: Vec<Problem>,
    /// Warnings that do not fail the scan.
    pub warnings: Vec<Problem>,
    /// Counters.
    pub stats: GitStats,
    /// Objects named in the history but absent from the database, in the order met.
    pub(crate) missing: Vec<ObjectId>,
    /// Findings past the listing caps (per blob and per report), counted but not kept (nor
    /// compared with a baseline).
    pub unlisted: u64,
    /// The first error the sink returned ([`audit_into`]): it was fed nothing more, but the
    /// audit went on so that its verdict stands.
    pub sink_error: Option<std::io::Error>,
}

impl GitReport {
    /// The report of an audit that could not run at all: no findings, one error.
    pub fn failed(error: Problem) -> Self {
        GitReport {
            errors: vec![error],
            ..Default::default()
        }
    }
}

/// Keeps at most [`crate::stream::MAX_FOUND_PER_INPUT`] of one blob's matches, and lets the
/// report grow to at most [`crate::sink::MAX_LISTED_FINDINGS`]; counts the rest.
pub(crate) fn admit(
    located: &mut Vec<crate::location::Located>,
    listed: usize,
    unlisted: &mut u64,
) {
    let room = crate::stream::MAX_FOUND_PER_INPUT
        .min(crate::sink::MAX_LISTED_FINDINGS.saturating_sub(listed));
    *unlisted += crate::stream::keep_first(located, room);
}

/// One place a blob was introduced: at `path` by commit `commit` (a graph index), or by a
/// ref that names a tree or blob directly (`commit` is `None`, `path` may be).
#[derive(Debug, Clone)]
pub(super) struct Occurrence {
    /// The blob.
    pub blob: ObjectId,
    /// Its path in the commit's (or the ref's) tree.
    pub path: Option<String>,
    /// The commit (an index into the graph) that introduced it.
    pub commit: Option<u32>,
    /// The ref name, for trees and blobs tagged directly.
    pub via: Option<String>,
}

/// Runs an audit of the repository at `path`.
pub fn audit(
    path: &Path,
    engine: &Engine,
    scope: &Scope,
    opts: &GitOptions,
    stats: &Stats,
) -> Result<GitReport, GitError> {
    let mut found: Vec<Finding> = Vec::new();
    let mut report = audit_into(path, engine, scope, opts, stats, &mut found)?;
    found.sort_by(Finding::report_order);
    report.findings = found;
    Ok(report)
}

/// Like [`audit`], with each finding given to `sink` as soon as its blob is attributed and
/// rescanned (oldest introduction first): a long audit shows results at once and holds none.
/// The report's `findings` stay empty.
pub fn audit_into(
    path: &Path,
    engine: &Engine,
    scope: &Scope,
    opts: &GitOptions,
    stats: &Stats,
    sink: &mut dyn Sink,
) -> Result<GitReport, GitError> {
    let mut out = Out {
        sink,
        listed: 0,
        error: None,
    };
    let repo = odb::open(path)?;
    let threads = crate::threads::worker_count(opts.threads);
    let mut report = GitReport::default();
    let shallow = graph::shallow_commits(&repo);
    match scope {
        Scope::All | Scope::Branch(_) => {
            if let Some(cut) = shallow.iter().min().filter(|_| !opts.allow_shallow) {
                return Err(GitError::Shallow {
                    what: "the history".into(),
                    boundary: *cut,
                });
            }
            let tips = match scope {
                Scope::Branch(rev) => {
                    let id = resolve(&repo, rev)?;
                    graph::classify(&repo, vec![(id, rev.clone())], &mut report.errors)
                }
                _ => graph::all_ref_tips(&repo, &mut report.errors),
            };
            let history = super::history::History {
                repo: &repo,
                engine,
                opts,
                threads,
                shallow: &shallow,
                stats,
            };
            history.run(&tips, &mut report, &mut out);
        }
        Scope::Range { include, exclude } => {
            let resolve_all = |revs: &[String]| {
                revs.iter()
                    .map(|r| resolve_in_range(&repo, r, &shallow))
                    .collect::<Result<Vec<_>, _>>()
            };
            let (inc, exc) = (resolve_all(include)?, resolve_all(exclude)?);
            let walk = Walk {
                include: &inc,
                exclude: &exc,
                whole_tree: false,
            };
            range(
                &repo,
                engine,
                walk,
                opts,
                &shallow,
                stats,
                &mut report,
                &mut out,
            )?;
        }
        Scope::Tree(rev) => {
            let id = resolve_in_range(&repo, rev, &shallow)?;
            let mut buf = Vec::new();
            let commit = match graph::peel(&repo, id, &mut buf)? {
                Some((Kind::Commit, c)) => c,
                _ => {
                    return Err(GitError::Revision {
                        spec: rev.clone(),
                        message: "does not name a commit".into(),
                    });
                }
            };
            let parents = commit_parents(&repo, commit, &HashSet::new(), &mut buf);
            let walk = Walk {
                include: &[commit],
                exclude: &parents,
                whole_tree: true,
            };
            range(
                &repo,
                engine,
                walk,
                opts,
                &shallow,
                stats,
                &mut report,
                &mut out,
            )?;
        }
    }
    missing_objects(&repo, &mut report);
    report.stats.blobs = stats.files.load(Relaxed);
    report.stats.bytes = stats.bytes.load(Relaxed);
    report.stats.skipped_large = stats.skipped_large.load(Relaxed);
    report.sink_error = out.error;
    report.errors.sort_by_cached_key(|p| p.to_string());
    report.errors.dedup();
    Ok(report)
}

/// Why a blob of `size` bytes was not scanned.
pub(super) fn too_large(size: u64, opts: &GitOptions) -> String {
    format!(
        "{size} bytes is over --max-blob-size ({} bytes)",
        opts.max_blob_size
    )
}

/// Reports `what` as not scanned, for `why`: an error (a gate must not pass what it did not
/// read), or a warning with `--skip-unreadable`.
pub(crate) fn not_scanned(report: &mut GitReport, opts: &GitOptions, what: Subject, why: &str) {
    let p = Problem::new(what, ProblemKind::OverCap, format!("not scanned: {why}"));
    if opts.skip_unreadable {
        report.warnings.push(p.skipped());
    } else {
        report.errors.push(p);
    }
}

/// What a finding's summary says when the history walk could not place its blob because
/// objects of the history are missing.
pub(super) const UNATTRIBUTED: &str = "(not attributed: objects of the history are missing)";

/// How many missing object ids an error names.
const MISSING_NAMED: usize = 5;

/// Counts the objects the audit found missing and, outside a partial clone (where blobs that
/// were never fetched are expected), makes them an error that names them: a damaged
/// repository must not pass a gate.
fn missing_objects(repo: &gix::Repository, report: &mut GitReport) {
    let mut seen = HashSet::new();
    report.missing.retain(|id| seen.insert(*id));
    report.stats.missing = report.missing.len() as u64;
    if report.missing.is_empty() || odb::is_partial(&odb::object_dirs(repo)) {
        return;
    }
    let named: Vec<String> = report
        .missing
        .iter()
        .take(MISSING_NAMED)
        .map(|id| id.to_string())
        .collect();
    let more = report.missing.len().saturating_sub(MISSING_NAMED);
    report.errors.push(Problem::run(
        ProblemKind::Missing,
        format!(
            "{} object(s) named in the history are missing from the object database: {}{}; \
         this is not a partial clone, so the repository is damaged and what they hold was \
         not scanned (`git fsck --full` lists them)",
            report.missing.len(),
            named.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ),
    ));
}

/// Resolves a revision of a range; in a shallow clone a revision that does not resolve is
/// most likely cut off by the clone, and the error says how to fetch it.
fn resolve_in_range(
    repo: &gix::Repository,
    rev: &str,
    shallow: &HashSet<ObjectId>,
) -> Result<ObjectId, GitError> {
    resolve(repo, rev).map_err(|e| match (e, shallow.iter().min()) {
        (GitError::Revision { spec, .. }, Some(cut)) => GitError::ShallowRevision {
            spec,
            boundary: *cut,
        },
        (e, _) => e,
    })
}

/// Resolves a revision to an object id.
pub(crate) fn resolve(repo: &gix::Repository, rev: &str) -> Result<ObjectId, GitError> {
    repo.rev_parse_single(rev)
        .map(|id| id.detach())
        .map_err(|e| GitError::Revision {
            spec: rev.to_string(),
            message: odb::error_chain(&e),
        })
}

/// Where an audit's findings go: the sink, how many it was given (for the report's cap),
/// and the first error it returned (after which it is given nothing).
pub(crate) struct Out<'s> {
    sink: &'s mut dyn Sink,
    listed: usize,
    error: Option<std::io::Error>,
}

impl Out<'_> {
    fn give(&mut self, findings: impl Iterator<Item = Finding>) {
        for f in findings {
            self.listed += 1;
            if self.error.is_none() {
                if let Err(e) = self.sink.finding(f) {
                    self.error = Some(e);
                }
            }
        }
    }
}

/// Scans each occurrence's blob with its path and commit (so path and commit allowlists
/// apply exactly) and gives the findings to `out`. Without `--all-occurrences`, a blob is
/// reported at its first occurrence that has findings.
pub(super) fn rescan(
    repo: &gix::Repository,
    engine: &Engine,
    g: &Graph,
    occurrences: &[Occurrence],
    opts: &GitOptions,
    report: &mut GitReport,
    out: &mut Out<'_>,
) {
    let mut st = engine.new_state();
    let mut buf = Vec::new();
    let mut done: HashSet<ObjectId> = HashSet::new();
    let mut meta_cache: HashMap<u32, CommitMeta> = HashMap::new();
    for occ in occurrences {
        if !opts.all_occurrences && done.contains(&occ.blob) {
            continue;
        }
        // A blob over the cap was reported where it was met.
        let data = match odb::read_capped(repo, &occ.blob, &mut buf, opts.max_blob_size) {
            Ok(Capped::Found(d)) => d,
            Ok(Capped::TooLarge(_)) => continue,
            Ok(Capped::Missing) => {
                report.missing.push(occ.blob);
                continue;
            }
            Err(e) => {
                report.errors.push(e.problem("; skipped"));
                continue;
            }
        };
        let node = occ.commit.map(|i| &g.nodes[i as usize]);
        let commit_hex = node.map(|n| n.id.to_string());
        let meta = InputMeta {
            path: occ.path.as_deref(),
            commit: commit_hex.as_deref(),
            binary: false,
        };
        let (mut located, more) = scan_bytes_capped(engine, &mut st, data.data, meta);
        if located.is_empty() {
            continue;
        }
        report.unlisted += more;
        admit(&mut located, out.listed, &mut report.unlisted);
        done.insert(occ.blob);
        let cm = match occ.commit {
            Some(i) => meta_cache
                .entry(i)
                .or_insert_with(|| commit_meta(repo, g.nodes[i as usize].id))
                .clone(),
            None => CommitMeta::default(),
        };
        let source = Source::Git {
            commit: commit_hex.clone(),
            blob: occ.blob.to_string(),
            path: occ.path.clone(),
            author_name: cm.author_name,
            author_email: cm.author_email,
            date: cm.date,
            summary: cm.summary.or_else(|| occ.via.clone()),
            unreachable: node.map_or(occ.via.is_none(), |n| n.unreachable),
        };
        let display = match &occ.path {
            Some(p) => p.clone(),
            None => format!("blob:{}", occ.blob),
        };
        out.give(
            located
                .iter()
                .map(|l| Finding::new(engine, l, &display, source.clone(), opts.reveal)),
        );
    }
}

/// Who made a commit, when, and why.
#[derive(Debug, Clone, Default)]
pub(crate) struct CommitMeta {
    pub author_name: Option<String>,
    pub author_email: Option<String>,
    pub date: Option<String>,
    pub summary: Option<String>,
}

pub(crate) fn commit_meta(repo: &gix::Repository, id: ObjectId) -> CommitMeta {
    let mut buf = Vec::new();
    let Ok(Read::Found(data)) = odb::read(repo, &id, &mut buf) else {
        return CommitMeta::default();
    };
    let Ok(c) = gix::objs::CommitRef::from_bytes(data.data, id.kind()) else {
        return CommitMeta::default();
    };
    let author = c.author().ok();
    CommitMeta {
        author_name: author.as_ref().map(|a| a.name.to_string()),
        author_email: author.as_ref().map(|a| a.email.to_string()),
        date: author
            .as_ref()
            .and_then(|a| a.time().ok())
            .map(|t| format_git_time(t.seconds, t.offset)),
        summary: Some(c.message().summary().to_string()),
    }
}

/// A commit's parents as written (including ones outside the graph), none at the shallow
/// boundary.
pub(super) fn commit_parents(
    repo: &gix::Repository,
    id: ObjectId,
    shallow: &HashSet<ObjectId>,
    buf: &mut Vec<u8>,
) -> Vec<ObjectId> {
    if shallow.contains(&id) {
        return Vec::new();
    }
    match odb::read(repo, &id, buf) {
        Ok(Read::Found(d)) => gix::objs::CommitRefIter::from_bytes(d.data, id.kind())
            .parent_ids()
            .collect(),
        _ => Vec::new(),
    }
}
