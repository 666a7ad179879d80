//! `shush scan`: files and directories walked in parallel, and standard input.

pub mod input;

use crate::archive::TAIL_SKIP;
use crate::archive::sniff::Tail;
use crate::engine::{Engine, InputMeta};
use crate::finding::{Finding, Source};
use crate::problem::{Kind, Problem, Subject};
use crate::sink::Sink;
use std::collections::HashSet;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Settings for a filesystem scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Follow symbolic links while walking (explicitly named paths are always followed, and
    /// explicitly named pipes and devices are read as streams).
    pub follow_symlinks: bool,
    /// Honour `.gitignore`, `.ignore` and git's exclude files.
    pub gitignore: bool,
    /// Files larger than this are skipped (and counted).
    pub max_file_size: u64,
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// Put secrets in reports unmasked.
    pub reveal: bool,
    /// Archives and container images: caps, unreadable members, layer cache.
    pub artifacts: crate::archive::ArtifactOptions,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            follow_symlinks: false,
            gitignore: false,
            max_file_size: 256 << 20,
            threads: 0,
            reveal: false,
            artifacts: Default::default(),
        }
    }
}

/// Counters of a scan, shared by all workers.
#[derive(Debug, Default)]
pub struct Stats {
    /// Inputs scanned.
    pub files: AtomicU64,
    /// Bytes scanned.
    pub bytes: AtomicU64,
    /// Files over the size cap, not scanned (each also an error, or a warning with
    /// `--skip-unreadable`).
    pub skipped_large: AtomicU64,
    /// Symbolic links not followed.
    pub skipped_symlinks: AtomicU64,
    /// FIFOs, sockets and devices met while walking, not read.
    pub skipped_special: AtomicU64,
    /// Files whose path a global allowlist (or prefilter) excludes for every rule: not read.
    pub skipped_allowlisted: AtomicU64,
    /// Findings past one input's cap ([`crate::stream::MAX_FOUND_PER_INPUT`]): counted, not
    /// kept, so memory stays bounded however many an input holds.
    pub unlisted: AtomicU64,
}

/// What a scan produced, besides the findings it gave its sink.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The findings, sorted ([`Finding::report_order`]), when the scan collected them
    /// ([`scan_paths`], [`scan_stdin`]); empty when they went to a sink.
    pub findings: Vec<Finding>,
    /// Errors on single inputs (each makes the exit code 2).
    pub errors: Vec<Problem>,
    /// Warnings that do not fail the scan (skipped large files…).
    pub warnings: Vec<Problem>,
    /// Findings counted past one input's cap but not listed (nor checked against a
    /// baseline).
    pub unlisted: u64,
    /// The first error the sink returned: it was fed nothing more, but the scan went on so
    /// that its verdict stands (a reader of `shush scan | head` went away).
    pub sink_error: Option<std::io::Error>,
}

/// The sink shared by the workers, and the first error it returned.
struct SinkSlot<'s> {
    sink: &'s mut dyn Sink,
    error: Option<std::io::Error>,
}

/// Shared per-scan collector: findings go to the sink as each input is done; errors and
/// warnings are gathered for the end.
struct Collector<'s> {
    sink: Mutex<SinkSlot<'s>>,
    errors: Mutex<Vec<Problem>>,
    warnings: Mutex<Vec<Problem>>,
    /// Display paths already scanned, when several roots may overlap (`shush scan . src`):
    /// a file is scanned once however many arguments reach it.
    seen: Option<Mutex<HashSet<String>>>,
}

impl<'s> Collector<'s> {
    fn new(sink: &'s mut dyn Sink, overlapping_roots: bool) -> Self {
        Collector {
            sink: Mutex::new(SinkSlot { sink, error: None }),
            errors: Mutex::new(Vec::new()),
            warnings: Mutex::new(Vec::new()),
            seen: overlapping_roots.then(|| Mutex::new(HashSet::new())),
        }
    }

    /// Whether `display` is met for the first time (always, with one root).
    fn first_visit(&self, display: &str) -> bool {
        self.seen.as_ref().is_none_or(|seen| {
            seen.lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(display.to_string())
        })
    }

    fn error(&self, msg: Problem) {
        self.errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(msg);
    }

    fn warn(&self, msg: Problem) {
        self.warnings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(msg);
    }

    /// Something left unscanned: an error (a gate must not pass it), or a warning with
    /// `--skip-unreadable`.
    fn not_scanned(&self, msg: Problem, opts: &ScanOptions) {
        if opts.artifacts.skip_unreadable {
            self.warn(msg.skipped());
        } else {
            self.error(msg);
        }
    }

    /// Gives one input's findings to the sink, in order; after a sink error, drops them.
    fn findings(&self, mut found: Vec<Finding>) {
        if found.is_empty() {
            return;
        }
        found.sort_by(Finding::report_order);
        let mut slot = self.sink.lock().unwrap_or_else(|e| e.into_inner());
        for f in found {
            if slot.error.is_some() {
                return;
            }
            if let Err(e) = slot.sink.finding(f) {
                slot.error = Some(e);
            }
        }
    }

    fn artifact(&self, a: crate::archive::ArtifactScan, opts: &ScanOptions, stats: &Stats) {
        stats.files.fetch_add(a.scanned, Ordering::Relaxed);
        stats.bytes.fetch_add(a.bytes, Ordering::Relaxed);
        for p in a.problems {
            self.not_scanned(p, opts);
        }
        for n in a.notes {
            self.warn(Problem::run(Kind::Other, n));
        }
        stats.unlisted.fetch_add(a.unlisted, Ordering::Relaxed);
        self.findings(a.findings);
    }

    fn into_outcome(self, stats: &Stats) -> Outcome {
        let slot = self.sink.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut errors = self.errors.into_inner().unwrap_or_else(|e| e.into_inner());
        errors.sort_by_cached_key(|p| p.to_string());
        let mut warnings = self
            .warnings
            .into_inner()
            .unwrap_or_else(|e| e.into_inner());
        warnings.sort_by_cached_key(|p| p.to_string());
        let unlisted = stats.unlisted.swap(0, Ordering::Relaxed);
        if unlisted > 0 {
            warnings.push(Problem::run(
                Kind::OverCap,
                format!(
                    "{unlisted} more findings were not listed: one input lists at most {}",
                    crate::stream::MAX_FOUND_PER_INPUT
                ),
            ));
        }
        Outcome {
            findings: Vec::new(),
            errors,
            warnings,
            unlisted,
            sink_error: slot.error,
        }
    }
}

/// Runs `scan` with a collecting sink and puts the findings, sorted, in its outcome.
fn collected(scan: impl FnOnce(&mut dyn Sink) -> Outcome) -> Outcome {
    let mut found: Vec<Finding> = Vec::new();
    let mut outcome = scan(&mut found);
    found.sort_by(Finding::report_order);
    outcome.findings = found;
    outcome
}

/// The path as shown in reports: without a leading `./`.
pub fn display_path(p: &Path) -> String {
    let s = p.to_string_lossy();
    s.strip_prefix("./").unwrap_or(&s).to_string()
}

/// Scans files and directories in parallel and returns the findings, sorted, in the outcome
/// (see [`scan_paths_into`] to stream them to a sink instead).
pub fn scan_paths(
    engine: &Engine,
    paths: &[PathBuf],
    opts: &ScanOptions,
    stats: &Stats,
) -> Outcome {
    collected(|sink| scan_paths_into(engine, paths, opts, stats, sink))
}

/// Scans files and directories in parallel; each input's findings go to `sink` as soon as
/// the input is done (an input's findings together and in order; inputs in the order the
/// workers finish them).
pub fn scan_paths_into(
    engine: &Engine,
    paths: &[PathBuf],
    opts: &ScanOptions,
    stats: &Stats,
    sink: &mut dyn Sink,
) -> Outcome {
    let collector = Collector::new(sink, paths.len() > 1);
    // Image layout directories are scanned as images, not walked.
    let images_on = opts.artifacts.limits.max_depth > 0;
    let (roots, top_layouts): (Vec<&PathBuf>, Vec<&PathBuf>) = paths
        .iter()
        .partition(|p| !(images_on && p.is_dir() && crate::image::is_layout_dir(p)));
    let layouts = std::sync::Arc::new(Mutex::new(
        top_layouts.into_iter().cloned().collect::<Vec<PathBuf>>(),
    ));
    let found = layouts.clone();
    let threads = crate::threads::worker_count(opts.threads);
    let mut builder =
        ignore::WalkBuilder::new(roots.first().map_or(Path::new(""), |p| p.as_path()));
    for p in roots.iter().skip(1) {
        builder.add(p);
    }
    builder
        .standard_filters(false)
        .hidden(false)
        .follow_links(opts.follow_symlinks)
        .threads(threads)
        .filter_entry(move |e| {
            e.file_name() != ".git" && !(images_on && e.depth() > 0 && layout_dir(e, &found))
        });
    if opts.gitignore {
        builder
            .git_ignore(true)
            .git_global(true)
            .git_exclude(true)
            .ignore(true)
            .parents(true)
            .require_git(false);
    }
    if roots.is_empty() {
        scan_layouts(engine, &layouts, opts, stats, &collector);
        return collector.into_outcome(stats);
    }
    builder.build_parallel().run(|| {
        let mut st = engine.new_state();
        let mut buf = Vec::new();
        let collector = &collector;
        Box::new(move |entry| {
            let entry = match entry {
                Ok(e) => e,
                Err(err) => {
                    collector.error(walk_error(&err));
                    return ignore::WalkState::Continue;
                }
            };
            let path = entry.path();
            let ft = entry.file_type();
            let is_root = entry.depth() == 0;
            if let Some(ft) = ft {
                if ft.is_dir() {
                    return ignore::WalkState::Continue;
                }
                if ft.is_symlink() && !is_root {
                    stats.skipped_symlinks.fetch_add(1, Ordering::Relaxed);
                    return ignore::WalkState::Continue;
                }
            }
            if !collector.first_visit(&display_path(path)) {
                return ignore::WalkState::Continue;
            }
            match scan_file(engine, &mut st, &mut buf, path, is_root, opts, stats) {
                Ok(FileResult::Scanned(findings)) => collector.findings(findings),
                Ok(FileResult::Partial(findings, why)) => {
                    collector.findings(findings);
                    collector.not_scanned(why, opts);
                }
                Ok(FileResult::TooLarge(size)) => collector.not_scanned(
                    Problem::path(
                        display_path(path),
                        Kind::OverCap,
                        format!(
                            "not scanned: {size} bytes is over --max-file-size ({} bytes)",
                            opts.max_file_size
                        ),
                    ),
                    opts,
                ),
                Ok(FileResult::ReadFailed(findings, msg)) => {
                    collector.findings(findings);
                    collector.error(msg);
                }
                Ok(FileResult::Special) => {}
                Ok(FileResult::Artifact(a)) => collector.artifact(a, opts, stats),
                Err(msg) => collector.error(msg),
            }
            ignore::WalkState::Continue
        })
    });
    scan_layouts(engine, &layouts, opts, stats, &collector);
    collector.into_outcome(stats)
}

/// Scans the image layout directories met (or named), as images.
fn scan_layouts(
    engine: &Engine,
    layouts: &Mutex<Vec<PathBuf>>,
    opts: &ScanOptions,
    stats: &Stats,
    collector: &Collector,
) {
    let dirs = std::mem::take(&mut *layouts.lock().unwrap_or_else(|e| e.into_inner()));
    for dir in dirs {
        if !collector.first_visit(&display_path(&dir)) {
            continue;
        }
        let store = crate::image::store::Store::dir(&dir);
        let a = crate::image::scan_store(
            engine,
            &store,
            &display_path(&dir),
            &opts.artifacts,
            opts.reveal,
        );
        collector.artifact(a, opts, stats);
    }
}

/// Whether a walked entry is an image layout directory (collected to be scanned as an
/// image rather than walked).
fn layout_dir(e: &ignore::DirEntry, found: &Mutex<Vec<PathBuf>>) -> bool {
    let is_dir = e.file_type().is_some_and(|t| t.is_dir());
    if !is_dir || !crate::image::is_layout_dir(e.path()) {
        return false;
    }
    found
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(e.path().to_path_buf());
    true
}

fn walk_error(err: &ignore::Error) -> Problem {
    match err {
        ignore::Error::WithPath { path, err } => Problem {
            subject: Subject::Path(display_path(path)),
            ..walk_error(err)
        },
        ignore::Error::WithDepth { err, .. } => walk_error(err),
        ignore::Error::Loop { ancestor, child } => Problem::path(
            display_path(child),
            Kind::Other,
            format!(
                "symbolic link loop back to {}; not followed",
                display_path(ancestor)
            ),
        ),
        ignore::Error::Io(e) => Problem::run(Problem::kind_of(e), e.to_string()),
        other => Problem::run(Kind::Unreadable, other.to_string()),
    }
}

enum FileResult {
    Scanned(Vec<Finding>),
    /// Scanned, but not all of it (a stream that went on past the size cap: its head was
    /// scanned; a zip behind a stub: its entries were not opened): the findings, and why.
    Partial(Vec<Finding>, Problem),
    /// A read failed part-way: the findings of what was read, and the error.
    ReadFailed(Vec<Finding>, Problem),
    Artifact(crate::archive::ArtifactScan),
    TooLarge(u64),
    Special,
}

/// Scans one walked or named path. `explicit`: named on the command line, where a pipe or
/// device (`shush scan <(git diff)`, `/dev/stdin`) is read as a stream; met while walking,
/// such files are skipped (reading a FIFO could block forever).
fn scan_file(
    engine: &Engine,
    st: &mut crate::engine::ScanState,
    buf: &mut Vec<u8>,
    path: &Path,
    explicit: bool,
    opts: &ScanOptions,
    stats: &Stats,
) -> Result<FileResult, Problem> {
    let display = display_path(path);
    let failed = |e: std::io::Error| Problem::path(&display, Problem::kind_of(&e), e.to_string());
    let md = std::fs::metadata(path).map_err(failed)?;
    let stream = !md.is_file();
    if md.is_dir() {
        return Ok(FileResult::Special);
    }
    if stream && !explicit {
        stats.skipped_special.fetch_add(1, Ordering::Relaxed);
        return Ok(FileResult::Special);
    }
    // A path no rule may report on is not read at all (nor opened as an archive): a
    // committed allowlist of fixtures must not make the scan slow or fail on them.
    let meta = InputMeta {
        path: Some(&display),
        ..Default::default()
    };
    if !engine.begin_input(st, &meta) {
        stats.skipped_allowlisted.fetch_add(1, Ordering::Relaxed);
        return Ok(FileResult::Special);
    }
    let mut file = File::open(path).map_err(failed)?;
    if !stream {
        // Archives and images are bounded by their own caps, not --max-file-size.
        if let Some(a) = crate::image::scan_file(
            engine,
            st,
            buf,
            &mut file,
            path,
            &display,
            &opts.artifacts,
            opts.reveal,
        )
        .map_err(failed)?
        {
            return Ok(FileResult::Artifact(a));
        }
    }
    if !stream && md.len() > opts.max_file_size {
        stats.skipped_large.fetch_add(1, Ordering::Relaxed);
        return Ok(FileResult::TooLarge(md.len()));
    }
    if !stream {
        // The artifact probe read the file's head.
        std::io::Seek::rewind(&mut file).map_err(failed)?;
    }
    let meta = InputMeta {
        path: Some(&display),
        ..Default::default()
    };
    let mut reader = Tail::new(file.take(opts.max_file_size), TAIL_SKIP);
    let scanned = input::scan_reader(engine, st, &mut reader, buf, meta);
    stats
        .unlisted
        .fetch_add(scanned.unlisted, Ordering::Relaxed);
    let (located, bytes) = (scanned.found, scanned.bytes);
    let stub = crate::archive::behind_stub(&reader, buf, bytes);
    // A stream has no size to check up front: see whether it went on past the cap.
    let truncated = stream
        && bytes == opts.max_file_size
        && reader
            .into_inner()
            .into_inner()
            .read(&mut [0u8; 1])
            .is_ok_and(|n| n > 0);
    stats.files.fetch_add(1, Ordering::Relaxed);
    stats.bytes.fetch_add(bytes, Ordering::Relaxed);
    let source = Source::File {
        path: display.clone(),
    };
    let findings = located
        .iter()
        .map(|l| Finding::new(engine, l, &display, source.clone(), opts.reveal))
        .collect();
    Ok(if let Some(e) = scanned.error {
        FileResult::ReadFailed(findings, failed(e))
    } else if truncated {
        let why = format!(
            "only the first {} bytes were scanned (--max-file-size)",
            opts.max_file_size
        );
        FileResult::Partial(findings, Problem::path(&display, Kind::OverCap, why))
    } else if let Some(why) = stub {
        FileResult::Partial(
            findings,
            Problem::path(&display, Kind::Unsupported, why.to_string()),
        )
    } else {
        FileResult::Scanned(findings)
    })
}

/// Scans standard input (or any reader) as one input named `-`, and returns the findings
/// in the outcome (see [`scan_stdin_into`]).
pub fn scan_stdin<R: Read>(
    engine: &Engine,
    reader: &mut R,
    opts: &ScanOptions,
    stats: &Stats,
) -> Outcome {
    collected(|sink| scan_stdin_into(engine, reader, opts, stats, sink))
}

/// Scans standard input (or any reader) as one input named `-`; the findings go to `sink`.
pub fn scan_stdin_into<R: Read>(
    engine: &Engine,
    reader: &mut R,
    opts: &ScanOptions,
    stats: &Stats,
    sink: &mut dyn Sink,
) -> Outcome {
    let collector = Collector::new(sink, false);
    let mut st = engine.new_state();
    let mut buf = Vec::new();
    // An archive piped in (`docker save app | shush scan -`) is opened like a file.
    let mut head = Vec::new();
    match crate::archive::scan_stream(
        engine,
        &mut st,
        &mut buf,
        reader,
        &mut head,
        "-",
        &opts.artifacts.limits,
        opts.reveal,
    ) {
        Ok(Some(a)) => {
            collector.artifact(a, opts, stats);
            return collector.into_outcome(stats);
        }
        Ok(None) => {}
        Err(e) => {
            collector.error(Problem::new(
                Subject::Stdin,
                Problem::kind_of(&e),
                e.to_string(),
            ));
            return collector.into_outcome(stats);
        }
    }
    let mut reader = Tail::new(std::io::Cursor::new(head).chain(reader), TAIL_SKIP);
    // One input, so the cores the walk would share among files all go to its chunks.
    let threads = crate::threads::worker_count(opts.threads);
    let scanned = input::scan_reader_on(
        engine,
        &mut st,
        &mut reader,
        &mut buf,
        InputMeta::default(),
        threads,
    );
    if let Some(why) = crate::archive::behind_stub(&reader, &buf, scanned.bytes) {
        collector.not_scanned(
            Problem::new(Subject::Stdin, Kind::Unsupported, why.to_string()),
            opts,
        );
    }
    stats.files.fetch_add(1, Ordering::Relaxed);
    stats.bytes.fetch_add(scanned.bytes, Ordering::Relaxed);
    stats
        .unlisted
        .fetch_add(scanned.unlisted, Ordering::Relaxed);
    collector.findings(
        scanned
            .found
            .iter()
            .map(|l| Finding::new(engine, l, "-", Source::Stdin, opts.reveal))
            .collect(),
    );
    if let Some(e) = scanned.error {
        collector.error(Problem::new(
            Subject::Stdin,
            Problem::kind_of(&e),
            e.to_string(),
        ));
    }
    collector.into_outcome(stats)
}
