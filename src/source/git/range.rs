//! An audit of a range of commits (a push, a pull request, `--since`, one commit's tree):
//! the blobs the commits of the range introduce, each scanned once, in parallel; then the
//! ones with hits rescanned at every commit and path that introduced them.

use super::GitError;
use super::diff::TreeReader;
use super::graph::{self, Graph};
use super::ledger::{KnownBlobs, ScannedBlob};
use super::odb::{self, Capped, Read};
use super::report::{
    GitOptions, GitReport, Occurrence, Out, commit_parents, not_scanned, rescan, too_large,
};
use crate::engine::{Engine, InputMeta};
use crate::problem::{Problem, Subject};
use crate::scan::Stats;
use crate::scan::input::scan_bytes_capped;
use gix::ObjectId;
use gix::objs::Kind;
use rayon::prelude::*;
use std::collections::HashSet;
use std::sync::atomic::Ordering::Relaxed;

/// Which commits a range walks, and how.
#[derive(Clone, Copy)]
pub(super) struct Walk<'a> {
    /// Commits whose history is walked.
    pub include: &'a [ObjectId],
    /// Commits whose history is left out.
    pub exclude: &'a [ObjectId],
    /// Diff each commit against nothing: every file it holds counts as introduced.
    pub whole_tree: bool,
}

/// The blobs introduced by commits reachable from `include` but not from `exclude`.
#[allow(clippy::too_many_arguments)]
pub(super) fn range(
    repo: &gix::Repository,
    engine: &Engine,
    walk: Walk<'_>,
    opts: &GitOptions,
    shallow: &HashSet<ObjectId>,
    stats: &Stats,
    report: &mut GitReport,
    out: &mut Out<'_>,
) -> Result<(), GitError> {
    let mut g = range_graph(repo, walk, opts, shallow, report)?;
    let mut reader = TreeReader::new(repo.clone(), Default::default());
    let mut gitlinks = 0u64;
    let occurrences = introduced(repo, &g, walk, shallow, &mut reader, &mut gitlinks);
    report.stats.commits = g.nodes.len() as u64;
    report.stats.submodules = gitlinks;
    report.missing.append(&mut reader.missing);
    report.missing.append(&mut g.missing);
    report.errors.append(&mut reader.errors);
    let hits = blobs_with_hits(repo, engine, &occurrences, opts, stats, report);
    let occ: Vec<Occurrence> = occurrences
        .into_iter()
        .filter(|o| hits.contains(&o.blob))
        .collect();
    rescan(repo, engine, &g, &occ, opts, report, out);
    Ok(())
}

/// The commits of the range. A commit of the range at a shallow clone's boundary is an error
/// (unless `--allow-shallow`): what it introduced is unknown (its parents were never
/// fetched), and so are the commits before it.
fn range_graph(
    repo: &gix::Repository,
    walk: Walk<'_>,
    opts: &GitOptions,
    shallow: &HashSet<ObjectId>,
    report: &mut GitReport,
) -> Result<Graph, GitError> {
    let tips = graph::classify(
        repo,
        walk.include.iter().map(|i| (*i, i.to_string())).collect(),
        &mut report.errors,
    );
    let hidden = graph::reachable(repo, walk.exclude, shallow, &mut report.errors);
    let mut g = Graph::default();
    g.load(
        repo,
        &tips.commits,
        &hidden,
        false,
        shallow,
        &mut report.errors,
    );
    if !walk.whole_tree && !opts.allow_shallow {
        if let Some(cut) = g.nodes.iter().map(|n| n.id).find(|id| shallow.contains(id)) {
            return Err(GitError::Shallow {
                what: "the commits to scan".into(),
                boundary: cut,
            });
        }
    }
    Ok(g)
}

/// Where each commit of the range (oldest first) introduced blobs: a blob is introduced when
/// it differs from every parent at that path (with `whole_tree`, every blob of the tree).
fn introduced(
    repo: &gix::Repository,
    g: &Graph,
    walk: Walk<'_>,
    shallow: &HashSet<ObjectId>,
    reader: &mut TreeReader,
    gitlinks: &mut u64,
) -> Vec<Occurrence> {
    let mut occurrences = Vec::new();
    let mut buf = Vec::new();
    for i in g.oldest_first() {
        let node = &g.nodes[i as usize];
        let parent_ids = if walk.whole_tree {
            Vec::new()
        } else {
            commit_parents(repo, node.id, shallow, &mut buf)
        };
        let bases: Vec<Option<ObjectId>> = if parent_ids.is_empty() {
            vec![None]
        } else {
            parent_ids
                .iter()
                .map(|p| tree_of(repo, g, p, &mut buf))
                .collect()
        };
        let mut found: Option<Vec<(Vec<u8>, ObjectId)>> = None;
        for base in bases {
            let mut these = Vec::new();
            let mut prefix = Vec::new();
            reader.diff(base, node.tree, &mut prefix, gitlinks, &mut |p, b| {
                these.push((p.to_vec(), b))
            });
            found = Some(match found {
                None => these,
                Some(prev) => {
                    let set: HashSet<&(Vec<u8>, ObjectId)> = these.iter().collect();
                    prev.into_iter().filter(|x| set.contains(x)).collect()
                }
            });
        }
        for (p, b) in found.unwrap_or_default() {
            occurrences.push(Occurrence {
                blob: b,
                path: Some(String::from_utf8_lossy(&p).into_owned()),
                commit: Some(i),
                via: None,
            });
        }
    }
    occurrences
}

/// The tree of commit `id`: from the graph, or read (a parent outside the range).
fn tree_of(
    repo: &gix::Repository,
    g: &Graph,
    id: &ObjectId,
    buf: &mut Vec<u8>,
) -> Option<ObjectId> {
    if let Some(&i) = g.index.get(id) {
        return Some(g.nodes[i as usize].tree);
    }
    match odb::read(repo, id, buf) {
        Ok(Read::Found(d)) if d.kind == Kind::Commit => {
            gix::objs::CommitRefIter::from_bytes(d.data, id.kind())
                .tree_id()
                .ok()
        }
        _ => None,
    }
}

/// Scans each distinct blob of `occurrences` once, in parallel (those the ledger knows
/// excepted: their verdict is taken from it, or waited for while another audit scans
/// them); returns those with hits and reports the ones that could not be scanned.
fn blobs_with_hits(
    repo: &gix::Repository,
    engine: &Engine,
    occurrences: &[Occurrence],
    opts: &GitOptions,
    stats: &Stats,
    report: &mut GitReport,
) -> HashSet<ObjectId> {
    let mut seen = HashSet::new();
    let firsts: Vec<&Occurrence> = occurrences.iter().filter(|o| seen.insert(o.blob)).collect();
    let Some(ledger) = &opts.ledger else {
        let results = scan_all(repo, engine, &firsts, &KnownBlobs::default(), opts, stats);
        return tally(results, report, opts).hits;
    };
    let known = ledger.known(&firsts.iter().map(|o| o.blob).collect::<Vec<_>>());
    let results = scan_all(repo, engine, &firsts, &known, opts, stats);
    let mut first = tally(results, report, opts);
    // Own verdicts first: another audit may be waiting for them while this one waits.
    ledger.record(&first.scanned);
    if !first.deferred.is_empty() {
        let ids: Vec<ObjectId> = first.deferred.iter().map(|o| o.blob).collect();
        let got = ledger.wait(&ids);
        let results = scan_all(repo, engine, &first.deferred, &got, opts, stats);
        let second = tally(results, report, opts);
        ledger.record(&second.scanned);
        first.hits.extend(second.hits);
    }
    first.hits
}

/// Scans the blobs of `firsts` in parallel, taking the ledger's verdicts from `known`.
pub(super) fn scan_all<'o>(
    repo: &gix::Repository,
    engine: &Engine,
    firsts: &[&'o Occurrence],
    known: &KnownBlobs,
    opts: &GitOptions,
    stats: &Stats,
) -> Vec<(&'o Occurrence, Result<Blob, Problem>)> {
    let sync = repo.clone().into_sync();
    firsts
        .par_iter()
        .with_min_len(8)
        .map_init(
            || (sync.to_thread_local(), engine.new_state(), Vec::new()),
            |(repo, st, buf), occ| {
                if known.elsewhere.contains(&occ.blob) {
                    return (*occ, Ok(Blob::Elsewhere));
                }
                if let Some(findings) = known.verdict(&occ.blob) {
                    return (*occ, Ok(Blob::Known { findings }));
                }
                let r = match odb::read_capped(repo, &occ.blob, buf, opts.max_blob_size) {
                    Ok(Capped::Found(d)) => {
                        stats.files.fetch_add(1, Relaxed);
                        stats.bytes.fetch_add(d.data.len() as u64, Relaxed);
                        let (found, _) =
                            scan_bytes_capped(engine, st, d.data, InputMeta::default());
                        Ok(if found.is_empty() {
                            Blob::Clean
                        } else {
                            Blob::Hit
                        })
                    }
                    Ok(Capped::TooLarge(size)) => {
                        stats.skipped_large.fetch_add(1, Relaxed);
                        Ok(Blob::TooLarge(size))
                    }
                    Ok(Capped::Missing) => Ok(Blob::Missing),
                    Err(e) => Err(e.problem("; skipped")),
                };
                (*occ, r)
            },
        )
        .collect()
}

/// What one round of scanning a range's blobs gave.
pub(super) struct Tally<'o> {
    /// Blobs with findings.
    pub hits: HashSet<ObjectId>,
    /// The verdicts of the blobs scanned, for the ledger.
    pub scanned: Vec<ScannedBlob>,
    /// Blobs another audit is scanning.
    pub deferred: Vec<&'o Occurrence>,
}

/// Sorts the results of [`scan_all`]: hits, verdicts, blobs deferred; reports the blobs
/// that could not be scanned.
pub(super) fn tally<'o>(
    results: Vec<(&'o Occurrence, Result<Blob, Problem>)>,
    report: &mut GitReport,
    opts: &GitOptions,
) -> Tally<'o> {
    let mut t = Tally {
        hits: HashSet::new(),
        scanned: Vec::new(),
        deferred: Vec::new(),
    };
    for (occ, r) in results {
        let verdict = |findings| ScannedBlob {
            id: occ.blob,
            findings,
        };
        match r {
            Ok(Blob::Hit) => {
                t.hits.insert(occ.blob);
                t.scanned.push(verdict(true));
            }
            Ok(Blob::Clean) => t.scanned.push(verdict(false)),
            Ok(Blob::Known { findings }) => {
                report.stats.known += 1;
                if findings {
                    t.hits.insert(occ.blob);
                }
            }
            Ok(Blob::Elsewhere) => t.deferred.push(occ),
            Ok(Blob::TooLarge(size)) => {
                let what = Subject::Blob {
                    id: occ.blob.to_string(),
                    path: occ.path.clone(),
                };
                not_scanned(report, opts, what, &too_large(size, opts));
            }
            Ok(Blob::Missing) => report.missing.push(occ.blob),
            Err(e) => report.errors.push(e),
        }
    }
    t
}

/// What scanning one blob of a range found.
pub(super) enum Blob {
    /// Findings.
    Hit,
    /// None.
    Clean,
    /// Scanned before (the ledger knew it), with findings or not.
    Known {
        /// Whether it had findings.
        findings: bool,
    },
    /// Being scanned by another audit: its verdict is waited for.
    Elsewhere,
    /// Not scanned: over the size cap (its size).
    TooLarge(u64),
    /// Not in the database.
    Missing,
}
