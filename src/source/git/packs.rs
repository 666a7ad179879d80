//! The blob pass: every object in the database decoded once (packs by delta-tree
//! traversal, then loose objects), every blob under the size cap scanned once, in parallel.

use super::ledger::{KnownBlobs, ScannedBlob};
use super::report::GitOptions;
use super::{odb, oversized};
use crate::engine::{Engine, InputMeta, ScanState};
use crate::problem::{Kind as ProblemKind, Problem};
use crate::scan::Stats;
use crate::scan::input::scan_bytes_capped;
use gix::ObjectId;
use gix::objs::Kind;
use gix::odb::pack;
use rayon::prelude::*;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

/// Decoded bytes between two releases of a pack's resident pages.
const RELEASE_EVERY: u64 = 16 << 20;

/// The first line of a git-lfs pointer file.
const LFS_POINTER: &[u8] = b"version https://git-lfs.github.com/spec/v1";

/// Counters beyond [`Stats`] that only the git source has.
#[derive(Debug, Default)]
pub(crate) struct PassCounters {
    /// LFS pointer blobs (not scanned: they hold only an id and a size).
    pub lfs: AtomicU64,
    /// Objects seen in more than one pack or both packed and loose (decoded once).
    pub duplicates: AtomicU64,
    /// Blobs the ledger knew (scanned before, not scanned again).
    pub known: AtomicU64,
}

/// What the blob pass found.
#[derive(Default)]
pub(crate) struct PassResult {
    /// Blobs with at least one path-free finding.
    pub hits: HashSet<ObjectId>,
    /// Every commit in the database (collected only when asked, for `--all-objects`).
    pub commits: Vec<ObjectId>,
    /// Distinct submodule commits referenced by trees (gitlinks: nothing to scan).
    pub gitlinks: HashSet<ObjectId>,
    /// Objects that could not be read; each one is an error.
    pub errors: Vec<Problem>,
    /// The packs, opened once, for the attribution that follows.
    pub packs: Vec<pack::Bundle>,
    /// Blobs not scanned: over the size cap.
    pub skipped: Vec<SkippedBlob>,
    /// The blobs scanned, for the ledger (only when there is one).
    pub scanned: Vec<ScannedBlob>,
    /// Blobs not scanned because another audit is scanning them (the ledger said so).
    pub deferred: Vec<ObjectId>,
}

/// Why a blob was not scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Skip {
    /// It is over the size cap.
    TooLarge,
    /// It is stored as a delta of an object over the size cap (never inflated).
    LargeBase,
}

/// A blob the pass did not scan.
#[derive(Debug, Clone)]
pub(crate) struct SkippedBlob {
    /// The blob.
    pub id: ObjectId,
    /// Its size (0 when not known: [`Skip::LargeBase`]).
    pub size: u64,
    /// Why.
    pub why: Skip,
}

struct Shared<'a> {
    engine: &'a Engine,
    stats: &'a Stats,
    counters: &'a PassCounters,
    max_blob: u64,
    want_commits: bool,
    /// What the ledger knew of this repository's objects (empty without one).
    known: KnownBlobs,
    /// Whether there is a ledger (its verdicts are looked at, scanned blobs listed for it).
    ledger: bool,
    scanned: Mutex<Vec<ScannedBlob>>,
    deferred: Mutex<Vec<ObjectId>>,
    hits: Mutex<HashSet<ObjectId>>,
    commits: Mutex<Vec<ObjectId>>,
    gitlinks: Mutex<HashSet<ObjectId>>,
    skipped: Mutex<Vec<SkippedBlob>>,
    /// Bytes decoded from the current pack (drives [`odb::release_pages`]).
    decoded: AtomicU64,
}

/// One traversal thread: its own scan state and a batch of commit ids flushed on drop.
struct Worker<'s, 'a> {
    shared: &'s Shared<'a>,
    st: ScanState,
    /// Packs before this one: an object also there was already handled.
    earlier: &'s [pack::Bundle],
    /// The whole mapped pack being traversed.
    mapped: &'s [u8],
    commits: Vec<ObjectId>,
}

impl Clone for Worker<'_, '_> {
    fn clone(&self) -> Self {
        Worker {
            shared: self.shared,
            st: self.shared.engine.new_state(),
            earlier: self.earlier,
            mapped: self.mapped,
            commits: Vec::new(),
        }
    }
}

impl Drop for Worker<'_, '_> {
    fn drop(&mut self) {
        if !self.commits.is_empty() {
            lock(&self.shared.commits).append(&mut self.commits);
        }
    }
}

fn take<T>(m: Mutex<T>) -> T {
    m.into_inner().unwrap_or_else(|e| e.into_inner())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Worker<'_, '_> {
    fn process(&mut self, kind: Kind, data: &[u8], id: &gix::oid) {
        let n = data.len() as u64;
        let before = self.shared.decoded.fetch_add(n, Relaxed);
        if before / RELEASE_EVERY != (before + n) / RELEASE_EVERY {
            odb::release_pages(self.mapped);
        }
        if !self.earlier.is_empty() && odb::in_packs(self.earlier, id) {
            self.shared.counters.duplicates.fetch_add(1, Relaxed);
            return;
        }
        process_object(self.shared, &mut self.st, &mut self.commits, kind, data, id);
    }
}

fn process_object(
    sh: &Shared<'_>,
    st: &mut ScanState,
    commits: &mut Vec<ObjectId>,
    kind: Kind,
    data: &[u8],
    id: &gix::oid,
) {
    match kind {
        Kind::Blob => {
            if data.len() as u64 > sh.max_blob {
                sh.skip(id.to_owned(), data.len() as u64, Skip::TooLarge);
                return;
            }
            if data.len() < 1024 && data.starts_with(LFS_POINTER) {
                sh.counters.lfs.fetch_add(1, Relaxed);
                return;
            }
            if sh.ledger && known_to_ledger(sh, id) {
                return;
            }
            sh.stats.files.fetch_add(1, Relaxed);
            sh.stats.bytes.fetch_add(data.len() as u64, Relaxed);
            let findings = !scan_bytes_capped(sh.engine, st, data, InputMeta::default())
                .0
                .is_empty();
            if findings {
                lock(&sh.hits).insert(id.to_owned());
            }
            if sh.ledger {
                lock(&sh.scanned).push(ScannedBlob {
                    id: id.to_owned(),
                    findings,
                });
            }
        }
        Kind::Commit if sh.want_commits => commits.push(id.to_owned()),
        // Gitlinks (mode 160000) are submodule commits: counted, never scanned.
        Kind::Tree if memchr::memmem::find(data, b"160000 ").is_some() => {
            let mut links = Vec::new();
            for e in gix::objs::TreeRefIter::from_bytes(data, id.kind()).flatten() {
                if e.mode.is_commit() {
                    links.push(e.oid.to_owned());
                }
            }
            if !links.is_empty() {
                lock(&sh.gitlinks).extend(links);
            }
        }
        _ => {}
    }
}

/// Whether the ledger's answer settles blob `id`: another audit is scanning it (it is
/// deferred), or it was scanned before (its verdict is taken).
fn known_to_ledger(sh: &Shared<'_>, id: &gix::oid) -> bool {
    if sh.known.elsewhere.contains(id) {
        lock(&sh.deferred).push(id.to_owned());
        return true;
    }
    let Some(findings) = sh.known.verdict(id) else {
        return false;
    };
    sh.counters.known.fetch_add(1, Relaxed);
    if findings {
        lock(&sh.hits).insert(id.to_owned());
    }
    true
}

/// Decodes every object of the repository once and scans its blobs (those the ledger of
/// `opts` knows excepted).
pub(crate) fn scan_database(
    repo: &gix::Repository,
    engine: &Engine,
    dirs: &[PathBuf],
    threads: usize,
    opts: &GitOptions,
    stats: &Stats,
    counters: &PassCounters,
) -> PassResult {
    let hash = repo.object_hash();
    let mut errors = Vec::new();
    let packs = odb::open_packs(dirs, hash, &mut errors);
    let want_blobs = opts.ledger.is_some();
    let surveys: Vec<oversized::Survey> = packs
        .iter()
        .map(|bundle| {
            let survey = oversized::survey(bundle, opts.max_blob_size, want_blobs);
            // Reading every entry's header brought the whole pack in.
            odb::release_pages(mapped(bundle));
            survey
        })
        .collect();
    let known = match &opts.ledger {
        Some(ledger) => ledger.known(&maybe_blobs(&surveys, dirs, hash)),
        None => KnownBlobs::default(),
    };
    let shared = Shared {
        engine,
        stats,
        counters,
        max_blob: opts.max_blob_size,
        want_commits: opts.all_objects,
        known,
        ledger: opts.ledger.is_some(),
        scanned: Mutex::new(Vec::new()),
        deferred: Mutex::new(Vec::new()),
        hits: Mutex::new(HashSet::new()),
        commits: Mutex::new(Vec::new()),
        gitlinks: Mutex::new(HashSet::new()),
        skipped: Mutex::new(Vec::new()),
        decoded: AtomicU64::new(0),
    };
    for (k, survey) in surveys.iter().enumerate() {
        scan_pack(
            repo,
            &shared,
            &packs,
            k,
            &survey.large,
            threads,
            &mut errors,
        );
    }
    // Loose objects not also packed.
    for dir in dirs {
        scan_loose(&shared, dir, hash, &packs, &mut errors);
    }
    PassResult {
        hits: take(shared.hits),
        commits: take(shared.commits),
        gitlinks: take(shared.gitlinks),
        skipped: take(shared.skipped),
        scanned: take(shared.scanned),
        deferred: take(shared.deferred),
        errors,
        packs,
    }
}

/// The whole mapped pack.
fn mapped(bundle: &pack::Bundle) -> &[u8] {
    bundle
        .pack
        .entry_slice(0..bundle.pack.data_len() as u64)
        .unwrap_or(&[])
}

/// The ids of the database's blobs (packed ones told from their headers, every loose
/// object), each once: what a ledger is asked about.
fn maybe_blobs(
    surveys: &[oversized::Survey],
    dirs: &[PathBuf],
    hash: gix::hash::Kind,
) -> Vec<ObjectId> {
    let mut ids: Vec<ObjectId> = surveys
        .iter()
        .flat_map(|s| s.blobs.iter().copied())
        .collect();
    for dir in dirs {
        ids.extend(odb::loose_ids(dir, hash));
    }
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Counters a failed traversal had reached, to be put back before the fallback.
struct Counts {
    files: u64,
    bytes: u64,
    skipped_large: u64,
    lfs: u64,
    duplicates: u64,
    known: u64,
    skipped: usize,
    scanned: usize,
    deferred: usize,
}

impl Shared<'_> {
    fn counts(&self) -> Counts {
        Counts {
            files: self.stats.files.load(Relaxed),
            bytes: self.stats.bytes.load(Relaxed),
            skipped_large: self.stats.skipped_large.load(Relaxed),
            lfs: self.counters.lfs.load(Relaxed),
            duplicates: self.counters.duplicates.load(Relaxed),
            known: self.counters.known.load(Relaxed),
            skipped: lock(&self.skipped).len(),
            scanned: lock(&self.scanned).len(),
            deferred: lock(&self.deferred).len(),
        }
    }

    fn restore(&self, c: Counts) {
        self.stats.files.store(c.files, Relaxed);
        self.stats.bytes.store(c.bytes, Relaxed);
        self.stats.skipped_large.store(c.skipped_large, Relaxed);
        self.counters.lfs.store(c.lfs, Relaxed);
        self.counters.duplicates.store(c.duplicates, Relaxed);
        self.counters.known.store(c.known, Relaxed);
        lock(&self.skipped).truncate(c.skipped);
        lock(&self.scanned).truncate(c.scanned);
        lock(&self.deferred).truncate(c.deferred);
    }

    fn skip(&self, id: ObjectId, size: u64, why: Skip) {
        self.stats.skipped_large.fetch_add(1, Relaxed);
        lock(&self.skipped).push(SkippedBlob { id, size, why });
    }
}

/// Traverses one pack (`packs[k]`), every object decoded once, except those over the blob
/// cap (told from their headers: [`oversized`]), which are looked at one by one.
fn scan_pack(
    repo: &gix::Repository,
    shared: &Shared<'_>,
    packs: &[pack::Bundle],
    k: usize,
    large: &[(u64, u32)],
    threads: usize,
    errors: &mut Vec<Problem>,
) {
    let bundle = &packs[k];
    let mapped = mapped(bundle);
    let mut w = Worker {
        shared,
        st: shared.engine.new_state(),
        earlier: &packs[..k],
        mapped,
        commits: Vec::new(),
    };
    let before = shared.counts();
    let interrupt = AtomicBool::new(false);
    let result = if large.is_empty() {
        let processor =
            move |kind: Kind, data: &[u8], entry: &pack::index::Entry, _: &dyn gix::Progress| {
                w.process(kind, data, &entry.oid);
                Ok::<(), std::convert::Infallible>(())
            };
        traverse(bundle, threads, &interrupt, processor)
    } else {
        let process = move |kind: Kind, data: &[u8], id: &gix::oid| w.process(kind, data, id);
        oversized::traverse_without(bundle, large, threads, &interrupt, process)
    };
    odb::release_pages(mapped);
    match result {
        Ok(()) => scan_large(repo, shared, bundle, large, &packs[..k], errors),
        Err(e) => {
            // A damaged pack: report it, then read what can be read object by object.
            errors.push(Problem::path(
                bundle.index.path().display().to_string(),
                ProblemKind::Corrupt,
                format!("pack traversal failed ({e}); reading its objects one by one"),
            ));
            // Count what the fallback reads, not what the failed traversal had reached.
            shared.restore(before);
            let ids: Vec<ObjectId> = bundle.index.iter().map(|e| e.oid).collect();
            scan_by_lookup(repo, shared, &ids, &packs[..k], errors);
        }
    }
}

/// gix-pack's delta-tree traversal of a whole pack.
fn traverse<P>(
    bundle: &pack::Bundle,
    threads: usize,
    interrupt: &AtomicBool,
    processor: P,
) -> Result<(), String>
where
    P: FnMut(
            Kind,
            &[u8],
            &pack::index::Entry,
            &dyn gix::Progress,
        ) -> Result<(), std::convert::Infallible>
        + Send
        + Clone,
{
    bundle
        .index
        .traverse(
            &bundle.pack,
            &mut gix::progress::Discard,
            interrupt,
            processor,
            pack::index::traverse::Options {
                traversal: pack::index::traverse::Algorithm::DeltaTreeLookup,
                thread_limit: Some(threads),
                check: pack::index::traverse::SafetyCheck::SkipFileAndObjectChecksumVerification,
                alloc_limit_bytes: None,
                make_pack_lookup_cache: || pack::cache::Never,
            },
        )
        .map(|_| ())
        .map_err(|e| odb::error_chain(&e))
}

/// The entries the traversal left out: blobs over the cap are skipped by the size their
/// headers give; other objects are read on their own, unless that needs a base over the cap.
fn scan_large(
    repo: &gix::Repository,
    shared: &Shared<'_>,
    bundle: &pack::Bundle,
    large: &[(u64, u32)],
    earlier: &[pack::Bundle],
    errors: &mut Vec<Problem>,
) {
    let mut st = shared.engine.new_state();
    let mut commits = Vec::new();
    let mut buf = Vec::new();
    for &(offset, pos) in large {
        let id = oversized::id_at(bundle, pos);
        if odb::in_packs(earlier, &id) {
            shared.counters.duplicates.fetch_add(1, Relaxed);
            continue;
        }
        let read = match odb::read_capped(repo, &id, &mut buf, shared.max_blob) {
            Ok(odb::Capped::TooLarge(size)) => {
                shared.skip(id, size, Skip::TooLarge);
                continue;
            }
            _ if oversized::needs_large_base(bundle, offset, shared.max_blob) => {
                shared.skip(id, 0, Skip::LargeBase);
                continue;
            }
            _ => odb::read(repo, &id, &mut buf),
        };
        match read {
            Ok(odb::Read::Found(data)) => {
                process_object(shared, &mut st, &mut commits, data.kind, data.data, &id);
            }
            Ok(odb::Read::Missing) => {}
            Err(e) => errors.push(e.problem("; skipped")),
        }
    }
    lock(&shared.commits).append(&mut commits);
}

/// Scans the loose objects of `dir` that no pack holds; a blob over the cap is told from its
/// header and never inflated.
fn scan_loose(
    shared: &Shared<'_>,
    dir: &std::path::Path,
    hash: gix::hash::Kind,
    packs: &[pack::Bundle],
    errors: &mut Vec<Problem>,
) {
    let loose = gix::odb::loose::Store::at(dir, hash);
    let ids: Vec<ObjectId> = odb::loose_ids(dir, hash)
        .into_iter()
        .filter(|id| {
            let packed = odb::in_packs(packs, id);
            if packed {
                shared.counters.duplicates.fetch_add(1, Relaxed);
            }
            !packed
        })
        .collect();
    let read = |id: &ObjectId, buf: &mut Vec<u8>, st: &mut ScanState, commits: &mut Vec<_>| {
        if let Some((size, Kind::Blob)) = loose.try_header(id)? {
            if size > shared.max_blob {
                shared.skip(*id, size, Skip::TooLarge);
                return Ok(());
            }
        }
        if let Some(data) = loose.try_find(id, buf)? {
            process_object(shared, st, commits, data.kind, data.data, id);
        }
        Ok::<(), gix::odb::loose::find::Error>(())
    };
    let errs: Vec<Problem> = ids
        .par_iter()
        .with_min_len(16)
        .map_init(
            || (shared.engine.new_state(), Vec::new(), Vec::new()),
            |(st, buf, commits), id| {
                let r = read(id, buf, st, commits);
                if !commits.is_empty() {
                    lock(&shared.commits).append(commits);
                }
                r.err().map(|e| {
                    Problem::object(
                        id,
                        ProblemKind::Unreadable,
                        format!(
                            "loose object cannot be read, skipped: {}",
                            odb::error_chain(&e)
                        ),
                    )
                })
            },
        )
        .flatten()
        .collect();
    errors.extend(errs);
}

/// The fallback for a damaged pack: each object looked up on its own.
fn scan_by_lookup(
    repo: &gix::Repository,
    shared: &Shared<'_>,
    ids: &[ObjectId],
    earlier: &[pack::Bundle],
    errors: &mut Vec<Problem>,
) {
    let mut st = shared.engine.new_state();
    let mut commits = Vec::new();
    let mut buf = Vec::new();
    for id in ids {
        if odb::in_packs(earlier, id) {
            continue;
        }
        match odb::read_capped(repo, id, &mut buf, shared.max_blob) {
            Ok(odb::Capped::Found(data)) => {
                process_object(shared, &mut st, &mut commits, data.kind, data.data, id);
            }
            Ok(odb::Capped::TooLarge(size)) => shared.skip(*id, size, Skip::TooLarge),
            Ok(odb::Capped::Missing) => {}
            Err(e) => errors.push(e.problem("; skipped")),
        }
    }
    lock(&shared.commits).append(&mut commits);
}
