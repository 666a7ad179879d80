//! The full-history audit, in three passes: every blob of the object database scanned once
//! (the blob pass, while the commit graph loads on another thread); the history walked oldest
//! first to attribute each blob with hits to the commit and path that introduced it (commits
//! diffed in parallel batches, merged in order); then those blobs rescanned with their path
//! and commit, so that path and commit allowlists apply exactly.

use super::diff::TreeReader;
use super::graph::{Graph, Tips};
use super::ledger::BlobLedger;
use super::odb::{self, Read};
use super::packs::{self, PassCounters, PassResult};
use super::range;
use super::report::{
    GitOptions, GitReport, Occurrence, Out, UNATTRIBUTED, not_scanned, rescan, too_large,
};
use super::timing;
use crate::engine::{Engine, InputMeta};
use crate::problem::{Kind as ProblemKind, Problem, Subject};
use crate::scan::Stats;
use crate::scan::input::scan_bytes_capped;
use gix::ObjectId;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

/// Commits diffed per attribution thread in one batch.
const BATCH_PER_THREAD: usize = 512;

/// What a full-history audit works with.
pub(super) struct History<'a> {
    /// The repository.
    pub repo: &'a gix::Repository,
    /// The engine.
    pub engine: &'a Engine,
    /// The audit's options.
    pub opts: &'a GitOptions,
    /// Worker threads.
    pub threads: usize,
    /// Commits at a shallow clone's boundary.
    pub shallow: &'a HashSet<ObjectId>,
    /// Shared counters.
    pub stats: &'a Stats,
}

/// The commit graph as its loader thread left it: the graph and its problems, or a panic.
type Loaded = std::thread::Result<(Graph, Vec<Problem>)>;

impl History<'_> {
    /// Audits every blob reachable from `tips` (and, with `--all-objects`, every blob).
    pub(super) fn run(&self, tips: &Tips, report: &mut GitReport, out: &mut Out<'_>) {
        let t0 = Instant::now();
        let dirs = odb::object_dirs(self.repo);
        if odb::is_partial(&dirs) {
            report.warnings.push(Problem::run(
                ProblemKind::Skipped,
                "partial clone (promisor packs): blobs that were never fetched are not in the \
                 object database and cannot be scanned",
            ));
        }
        let sync = self.repo.clone().into_sync();
        let (pass, loaded) = self.blob_pass(&sync, &dirs, tips, report);
        timing::phase("blob pass", t0);
        let path_rules = self.engine.rules().rules.iter().any(|r| r.path.is_some());
        if pass.hits.is_empty() && !path_rules {
            return;
        }
        let mut g = self.graph(loaded, &pass, report);
        timing::phase("graph load", t0);
        let mut pass = pass;
        let packs = Arc::new(std::mem::take(&mut pass.packs));
        let mut walk = Attribution::new(self, &sync, &pass, packs, path_rules);
        walk.commits(&g, report);
        let mut reader = walk.merged_reader(&sync);
        walk.ref_tips(&mut reader, tips);
        timing::phase("attribution walk", t0);
        report.stats.commits = walk.walked;
        let walk_incomplete = !reader.missing.is_empty() || !g.missing.is_empty();
        report.missing.append(&mut reader.missing);
        report.missing.append(&mut g.missing);
        report.errors.append(&mut reader.errors);
        let mut unplaced: Vec<ObjectId> = pass
            .hits
            .iter()
            .filter(|b| !walk.placed.contains(*b))
            .copied()
            .collect();
        unplaced.sort();
        let (engine, opts) = (self.engine, self.opts);
        rescan(self.repo, engine, &g, &walk.occurrences, opts, report, out);
        self.unplaced(&g, &unplaced, walk_incomplete, report, out);
        timing::phase("rescan", t0);
    }

    /// Scans every blob of the database once while the commit graph loads on its own thread
    /// (the pack traversal has serial phases that leave a core free); reports the blobs it
    /// did not scan.
    fn blob_pass(
        &self,
        sync: &gix::ThreadSafeRepository,
        dirs: &[PathBuf],
        tips: &Tips,
        report: &mut GitReport,
    ) -> (PassResult, Loaded) {
        let counters = PassCounters::default();
        let sampler = timing::Sampler::start();
        let (pass, loaded) = std::thread::scope(|scope| {
            let loader = scope.spawn(|| {
                let r = odb::thread_local(sync);
                let mut errors = Vec::new();
                let mut g = Graph::default();
                let none = HashSet::new();
                g.load(&r, &tips.commits, &none, false, self.shallow, &mut errors);
                (g, errors)
            });
            let pass = packs::scan_database(
                self.repo,
                self.engine,
                dirs,
                self.threads,
                self.opts,
                self.stats,
                &counters,
            );
            (pass, loader.join())
        });
        let mut pass = pass;
        report.errors.append(&mut pass.errors);
        for s in &pass.skipped {
            let why = match s.why {
                packs::Skip::TooLarge => too_large(s.size, self.opts),
                packs::Skip::LargeBase => format!(
                    "stored as a delta of an object over --max-blob-size ({} bytes)",
                    self.opts.max_blob_size
                ),
            };
            let what = Subject::Blob {
                id: s.id.to_string(),
                path: None,
            };
            not_scanned(report, self.opts, what, &why);
        }
        sampler.stop();
        odb::trim_heap();
        report.stats.skipped_lfs = counters.lfs.load(Relaxed);
        report.stats.duplicates = counters.duplicates.load(Relaxed);
        report.stats.known = counters.known.load(Relaxed);
        if let Some(ledger) = &self.opts.ledger {
            ledger.record(&pass.scanned);
            pass.scanned = Vec::new();
            let deferred = std::mem::take(&mut pass.deferred);
            if !deferred.is_empty() {
                self.settle(ledger.as_ref(), &deferred, &mut pass, report);
            }
        }
        report.stats.submodules = pass.gitlinks.len() as u64;
        (pass, loaded)
    }

    /// Blobs another audit was scanning during this one's pass: their verdicts are waited
    /// for; those that never came (that audit died, or took too long) are scanned here.
    fn settle(
        &self,
        ledger: &dyn BlobLedger,
        deferred: &[ObjectId],
        pass: &mut PassResult,
        report: &mut GitReport,
    ) {
        let got = ledger.wait(deferred);
        let occurrences: Vec<Occurrence> = (deferred.iter())
            .map(|&blob| Occurrence {
                blob,
                path: None,
                commit: None,
                via: None,
            })
            .collect();
        let firsts: Vec<&Occurrence> = occurrences.iter().collect();
        let results = range::scan_all(self.repo, self.engine, &firsts, &got, self.opts, self.stats);
        let tally = range::tally(results, report, self.opts);
        pass.hits.extend(tally.hits);
        ledger.record(&tally.scanned);
    }

    /// The loaded commit graph (empty if its thread failed), with the dangling commits
    /// added under `--all-objects`.
    fn graph(&self, loaded: Loaded, pass: &PassResult, report: &mut GitReport) -> Graph {
        let mut g = match loaded {
            Ok((g, mut errors)) => {
                report.errors.append(&mut errors);
                g
            }
            Err(_) => {
                report.errors.push(Problem::run(
                    ProblemKind::Other,
                    "loading the commit graph failed; findings are not attributed",
                ));
                Graph::default()
            }
        };
        if self.opts.all_objects {
            let dangling: Vec<ObjectId> = pass
                .commits
                .iter()
                .filter(|c| !g.index.contains_key(*c))
                .copied()
                .collect();
            let none = HashSet::new();
            g.load(
                self.repo,
                &dangling,
                &none,
                true,
                self.shallow,
                &mut report.errors,
            );
        }
        g
    }

    /// Blobs with hits that no commit or ref placed: dangling ones (`--all-objects`) and,
    /// when objects of the history are missing, ones the walk could not reach (reported as
    /// such, never as "unreachable") are rescanned; otherwise they are unreachable and only
    /// counted.
    fn unplaced(
        &self,
        g: &Graph,
        unplaced: &[ObjectId],
        walk_incomplete: bool,
        report: &mut GitReport,
        out: &mut Out<'_>,
    ) {
        if walk_incomplete || self.opts.all_objects {
            let via = walk_incomplete.then(|| UNATTRIBUTED.to_string());
            let occ: Vec<Occurrence> = unplaced
                .iter()
                .map(|b| Occurrence {
                    blob: *b,
                    path: None,
                    commit: None,
                    via: via.clone(),
                })
                .collect();
            rescan(self.repo, self.engine, g, &occ, self.opts, report, out);
        } else if !unplaced.is_empty() {
            let mut st = self.engine.new_state();
            let mut buf = Vec::new();
            for b in unplaced {
                if let Ok(Read::Found(d)) = odb::read(self.repo, b, &mut buf) {
                    let (found, more) =
                        scan_bytes_capped(self.engine, &mut st, d.data, InputMeta::default());
                    report.stats.unreachable_hidden += found.len() as u64 + more;
                }
            }
        }
    }
}

/// Blobs a batch of commits introduce: (commit index, path, blob).
type Introduced = Vec<(u32, Vec<u8>, ObjectId)>;

/// Which blobs the attribution walk looks for (shared by its threads).
struct Wants<'a> {
    hits: &'a HashSet<ObjectId>,
    path_rules: bool,
    engine: &'a Engine,
}

impl Wants<'_> {
    /// Whether a blob at `path` is wanted: it has hits, or a path rule may match there.
    fn wants(&self, blob: &ObjectId, path: &[u8]) -> bool {
        self.hits.contains(blob) || (self.path_rules && self.engine.some_rule_path_matches(path))
    }

    /// One thread's share of a batch: each commit diffed against its first parent.
    fn diff_part(&self, reader: &mut TreeReader, g: &Graph, part: &[u32]) -> (Introduced, u64) {
        let mut found = Vec::new();
        let mut links = 0u64;
        for &i in part {
            let node = &g.nodes[i as usize];
            let base = node.parents.first().map(|&p| g.nodes[p as usize].tree);
            let mut prefix = Vec::new();
            reader.diff(
                base,
                node.tree,
                &mut prefix,
                &mut links,
                &mut |path, blob| {
                    if self.wants(&blob, path) {
                        found.push((i, path.to_vec(), blob));
                    }
                },
            );
        }
        (found, links)
    }
}

/// The attribution walk: which commit (or ref) first introduced each blob with hits.
struct Attribution<'h, 'p> {
    history: &'h History<'h>,
    pass: &'p PassResult,
    path_rules: bool,
    packs: Arc<Vec<gix::odb::pack::Bundle>>,
    /// One tree reader per thread.
    readers: Vec<TreeReader>,
    /// Where blobs were introduced, oldest first.
    occurrences: Vec<Occurrence>,
    /// Blobs already placed.
    placed: HashSet<ObjectId>,
    /// Commits walked.
    walked: u64,
    /// Submodule entries met.
    gitlinks: u64,
}

impl<'h, 'p> Attribution<'h, 'p> {
    fn new(
        history: &'h History<'h>,
        sync: &gix::ThreadSafeRepository,
        pass: &'p PassResult,
        packs: Arc<Vec<gix::odb::pack::Bundle>>,
        path_rules: bool,
    ) -> Self {
        let readers = (0..history.threads.max(1))
            .map(|_| {
                let mut r = TreeReader::new(odb::thread_local(sync), packs.clone());
                r.check_blobs = true;
                r
            })
            .collect();
        Attribution {
            history,
            pass,
            path_rules,
            packs,
            readers,
            occurrences: Vec::new(),
            placed: HashSet::new(),
            walked: 0,
            gitlinks: 0,
        }
    }

    /// Whether an occurrence of `blob` is recorded: every one with `--all-occurrences` or
    /// path rules, else the first.
    fn place(&mut self, blob: ObjectId) -> bool {
        let every = self.history.opts.all_occurrences || self.path_rules;
        let first = self.placed.insert(blob);
        every || first
    }

    /// Walks the commits oldest first, in batches diffed in parallel and merged in order, so
    /// that the first introduction wins exactly as in a serial walk; stops once every blob
    /// with hits is placed (unless every occurrence is wanted).
    fn commits(&mut self, g: &Graph, report: &mut GitReport) {
        let order = g.oldest_first();
        let batch = BATCH_PER_THREAD * self.readers.len();
        let every = self.history.opts.all_occurrences || self.path_rules;
        for chunk in order.chunks(batch) {
            if !every && self.placed.len() == self.pass.hits.len() {
                break;
            }
            self.walked += chunk.len() as u64;
            for result in self.diff_batch(g, chunk) {
                let Some((found, links)) = result else {
                    report.errors.push(Problem::run(
                        ProblemKind::Other,
                        "an attribution thread failed; some findings may be missing",
                    ));
                    continue;
                };
                self.gitlinks += links;
                for (i, path, blob) in found {
                    if self.place(blob) {
                        self.occurrences.push(Occurrence {
                            blob,
                            path: Some(String::from_utf8_lossy(&path).into_owned()),
                            commit: Some(i),
                            via: None,
                        });
                    }
                }
            }
        }
    }

    /// Diffs each commit of `chunk` against its first parent, a share per thread; returns
    /// each thread's introductions (in `chunk`'s order) or `None` for a thread that failed.
    fn diff_batch(&mut self, g: &Graph, chunk: &[u32]) -> Vec<Option<(Introduced, u64)>> {
        let mut readers = std::mem::take(&mut self.readers);
        let per = chunk.len().div_ceil(readers.len());
        let wants = Wants {
            hits: &self.pass.hits,
            path_rules: self.path_rules,
            engine: self.history.engine,
        };
        let wants = &wants;
        let results = std::thread::scope(|scope| {
            let handles: Vec<_> = readers
                .iter_mut()
                .zip(chunk.chunks(per))
                .map(|(reader, part)| {
                    std::thread::Builder::new()
                        .stack_size(16 << 20)
                        .spawn_scoped(scope, move || wants.diff_part(reader, g, part))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.ok().and_then(|h| h.join().ok()))
                .collect()
        });
        self.readers = readers;
        results
    }

    /// One reader holding every thread's missing objects and errors.
    fn merged_reader(&mut self, sync: &gix::ThreadSafeRepository) -> TreeReader {
        let mut reader = self
            .readers
            .pop()
            .unwrap_or_else(|| TreeReader::new(odb::thread_local(sync), self.packs.clone()));
        for r in &mut self.readers {
            reader.missing.append(&mut r.missing);
            reader.errors.append(&mut r.errors);
        }
        reader
    }

    /// Trees and blobs that refs name directly (e.g. `git tag t $(git hash-object -w f)`).
    fn ref_tips(&mut self, reader: &mut TreeReader, tips: &Tips) {
        for (tree, name) in &tips.trees {
            let mut prefix = Vec::new();
            let mut found = Vec::new();
            let hits = &self.pass.hits;
            reader.diff(
                None,
                *tree,
                &mut prefix,
                &mut self.gitlinks,
                &mut |path, blob| {
                    if hits.contains(&blob) {
                        found.push((path.to_vec(), blob));
                    }
                },
            );
            for (path, blob) in found {
                if self.place_tip(blob) {
                    self.occurrences.push(Occurrence {
                        blob,
                        path: Some(String::from_utf8_lossy(&path).into_owned()),
                        commit: None,
                        via: Some(name.clone()),
                    });
                }
            }
        }
        for (blob, name) in &tips.blobs {
            if self.pass.hits.contains(blob) && self.place_tip(*blob) {
                self.occurrences.push(Occurrence {
                    blob: *blob,
                    path: None,
                    commit: None,
                    via: Some(name.clone()),
                });
            }
        }
    }

    /// Like [`Attribution::place`] for a ref's tree or blob: path rules do not add
    /// occurrences here (only blobs with hits are looked at).
    fn place_tip(&mut self, blob: ObjectId) -> bool {
        let first = self.placed.insert(blob);
        self.history.opts.all_occurrences || first
    }
}
