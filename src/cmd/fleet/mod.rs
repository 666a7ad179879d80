//! `shush fleet`: audit many repositories with any number of workers sharing one store.
//! `enqueue` fills the store's queue, `work` runs workers that each claim one repository at a
//! time under a lease (a worker that dies loses its lease and its repository is picked up
//! again), mirror it into a cache (`git clone --mirror`, then `git fetch` on later runs),
//! audit every blob of every ref and record the findings in the triage store, and `status`
//! shows the queue. The store is an SQLite file (the embedded default, `shush-fleet.db`).

mod mirror;
mod status;

use crate::cmd::cli::RuleArgs;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use mirror::{existing_commits, mirror, redact_url, ref_tips};
use shush::engine::Engine;
use shush::git::{GitOptions, Scope};
use shush::store::{Claim, RepoResult, Status, Store, StoreLedger};
use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

/// `shush fleet …`.
#[derive(Debug, Args)]
pub struct FleetArgs {
    /// The store holding the queue and the findings (an SQLite file).
    #[arg(
        long,
        value_name = "FILE",
        env = "SHUSH_FLEET_STORE",
        default_value = "shush-fleet.db",
        global = true
    )]
    pub store: PathBuf,
    /// What to do.
    #[command(subcommand)]
    pub command: FleetCommand,
}

/// The fleet subcommands.
#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// Queue repositories (URLs: https, ssh, git://, or local paths), or those of GitHub
    /// organisations and users and GitLab groups; ones done or failed before are queued again.
    Enqueue {
        /// Repositories.
        repos: Vec<String>,
        /// A file of repositories, one per line (`#` starts a comment).
        #[arg(long, short = 'f', value_name = "FILE")]
        file: Option<PathBuf>,
        /// Organisations, users and groups listed through the forges' APIs.
        #[command(flatten)]
        forge: crate::cmd::forge::ForgeArgs,
    },
    /// Work through the queue until it is empty: mirror, audit, record; exit 2 when a
    /// repository failed, 1 when open findings were recorded, 0 otherwise.
    Work(WorkArgs),
    /// Show the queue: done, running, queued and failed repositories, with their errors.
    Status {
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// `shush fleet work`.
#[derive(Debug, Args)]
pub struct WorkArgs {
    /// Worker threads, each auditing one repository at a time.
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// Where the mirrors are kept between runs (default: ~/.cache/shush/fleet).
    #[arg(long, value_name = "DIR")]
    cache: Option<PathBuf>,
    /// Claims of one repository before it is failed: a repository whose worker dies every
    /// time (out of memory) must not take down every worker in turn.
    #[arg(long, value_name = "N", default_value_t = 3)]
    max_attempts: u64,
    /// Seconds a claim lasts without renewal (a dead worker's repository waits this long).
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    lease: u64,
    /// Audit every repository's whole history, not only what is new since its last
    /// completed audit, and scan every blob again, even one the store's ledger says was
    /// scanned under the same rules (in this repository or another).
    #[arg(long)]
    full: bool,
    /// Do not scan blobs larger than this (e.g. 500K, 64M): each one is an error that fails
    /// its repository (exit 2), unless --skip-unreadable.
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = crate::cmd::cli::parse_size)]
    max_blob_size: u64,
    /// Report blobs left unscanned (over --max-blob-size) as warnings: the repository is
    /// done, not failed.
    #[arg(long)]
    skip_unreadable: bool,
    /// Exit code when open findings were recorded (a failed repository always exits 2):
    /// 0 where a scheduler (a Kubernetes Job) would take any other code for a failed run.
    #[arg(long, value_name = "N", default_value_t = 1)]
    exit_code: u8,
    /// Rules.
    #[command(flatten)]
    rules: RuleArgs,
}

/// Runs `shush fleet`.
pub fn run(args: FleetArgs) -> Result<u8> {
    match args.command {
        FleetCommand::Enqueue { repos, file, forge } => {
            enqueue(&args.store, repos, file.as_deref(), &forge)
        }
        FleetCommand::Work(work_args) => {
            let code = work(&args.store, &work_args)?;
            Ok(if code == 1 { work_args.exit_code } else { code })
        }
        FleetCommand::Status { json } => status::status(&args.store, json),
    }
}

fn enqueue(
    store: &Path,
    mut repos: Vec<String>,
    file: Option<&Path>,
    forge: &crate::cmd::forge::ForgeArgs,
) -> Result<u8> {
    if let Some(f) = file {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        repos.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_string),
        );
    }
    repos.extend(crate::cmd::forge::enumerate(forge)?);
    if repos.is_empty() {
        bail!(
            "nothing to queue: give repositories, --file FILE, or owners (--github-org, --github-user, --gitlab-group) that have some"
        );
    }
    let mut s = Store::open(&store.to_string_lossy(), None)?;
    let queued = s.enqueue(&repos)?;
    eprintln!(
        "shush: fleet {}: {queued} of {} repositor{} queued",
        store.display(),
        repos.len(),
        if repos.len() == 1 { "y" } else { "ies" }
    );
    Ok(crate::cmd::EXIT_CLEAN)
}

/// What one worker did.
#[derive(Debug, Default)]
struct Tally {
    done: u64,
    failed: u64,
    open_findings: u64,
}

/// What every worker of one `fleet work` shares.
struct Settings<'a> {
    store: &'a Path,
    key: &'a str,
    engine: &'a Engine,
    cache: &'a Path,
    lease: u64,
    max_attempts: u64,
    threads: usize,
    full: bool,
    max_blob_size: u64,
    skip_unreadable: bool,
}

/// Runs the workers until the queue is empty.
fn work(store: &Path, args: &WorkArgs) -> Result<u8> {
    let workers = args.workers.max(1);
    let engine = crate::cmd::app::load_engine(&args.rules, Path::new("."), false)?;
    let key = crate::cmd::app::use_fingerprint_key(&engine)?
        .id()
        .to_string();
    // The store is checked (and given its key) once, before any worker starts, and its
    // ledger loses the verdicts of other rules (another shush, a changed config), which no
    // worker of these rules can use.
    let ledger = StoreLedger::new(
        Store::open(&store.to_string_lossy(), Some(&key))?,
        engine.fingerprint_key().clone(),
        engine.scan_identity(),
    );
    let pruned = ledger.prune()?;
    if pruned > 0 {
        eprintln!("shush: fleet: {pruned} blobs scanned under other rules dropped from the ledger");
    }
    drop(ledger);
    let cache = args.cache.clone().unwrap_or_else(default_cache);
    std::fs::create_dir_all(&cache).with_context(|| format!("creating {}", cache.display()))?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let settings = Settings {
        store,
        key: &key,
        engine: &engine,
        cache: &cache,
        lease: args.lease.max(3),
        max_attempts: args.max_attempts.max(1),
        threads: (cores / workers).max(1),
        full: args.full,
        max_blob_size: args.max_blob_size,
        skip_unreadable: args.skip_unreadable,
    };
    let started = Instant::now();
    let results: Vec<Result<Tally>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|i| {
                let settings = &settings;
                let name = format!("{}:{}:{i}", host(), std::process::id());
                s.spawn(move || worker(settings, &name))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| bail!("a worker panicked")))
            .collect()
    });
    let mut total = Tally::default();
    for r in results {
        let t = r?;
        total.done += t.done;
        total.failed += t.failed;
        total.open_findings += t.open_findings;
    }
    eprintln!(
        "shush: fleet: {} done, {} failed in {:.1}s; {} open findings",
        total.done,
        total.failed,
        started.elapsed().as_secs_f64(),
        total.open_findings
    );
    Ok(if total.failed > 0 {
        crate::cmd::EXIT_ERROR
    } else if total.open_findings > 0 {
        1
    } else {
        crate::cmd::EXIT_CLEAN
    })
}

/// The next repository for `name`: a queued one, else one whose worker died (its lease ran
/// out), waiting while others are still running; `None` once nothing is queued or running.
/// Repositories given up (their worker died `max_attempts` times) count as failed in
/// `tally`.
fn next_claim(
    s: &mut Store,
    name: &str,
    settings: &Settings<'_>,
    tally: &mut Tally,
) -> Result<Option<Claim>> {
    loop {
        let abandoned = s.give_up(settings.max_attempts)?;
        tally.failed += abandoned;
        if abandoned > 0 {
            eprintln!(
                "shush: fleet: gave up {abandoned} repositor{} whose worker died {} times",
                if abandoned == 1 { "y" } else { "ies" },
                settings.max_attempts
            );
        }
        if let Some(claim) = s.claim(name, settings.lease)? {
            return Ok(Some(claim));
        }
        if s.running()? == 0 {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// One worker: claims repositories until none is left.
fn worker(settings: &Settings<'_>, name: &str) -> Result<Tally> {
    let mut s = Store::open(&settings.store.to_string_lossy(), Some(settings.key))?;
    let ledger = StoreLedger::new(
        Store::open(&settings.store.to_string_lossy(), Some(settings.key))?,
        settings.engine.fingerprint_key().clone(),
        settings.engine.scan_identity(),
    );
    let ledger = Arc::new(if settings.full {
        ledger.record_only()
    } else {
        ledger
    });
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(settings.threads)
        .build()
        .context("starting worker threads")?;
    let mut tally = Tally::default();
    while let Some(claim) = next_claim(&mut s, name, settings, &mut tally)? {
        // Blobs are reserved under this claim while it lives; another worker waits for
        // their verdicts up to twice the lease (its renewal keeps it alive meanwhile).
        ledger.set_claim(
            Some((claim.id, claim.attempts)),
            Duration::from_secs(settings.lease.saturating_mul(2).max(60)),
        );
        let outcome = with_lease(settings, &claim, name, || {
            pool.install(|| audit_repo(&mut s, &ledger, settings, &claim))
        });
        ledger.release();
        let ended = match outcome {
            Ok((result, open, how)) => {
                tally.done += 1;
                tally.open_findings += open;
                eprintln!(
                    "shush: fleet: {}: {how}: {} blobs scanned, {} scanned before, {} findings \
                     ({open} open) in {:.1}s",
                    claim.url, result.blobs, result.known, result.findings, result.seconds
                );
                s.end_claim(claim.id, name, Ok(result))?
            }
            Err(e) => {
                tally.failed += 1;
                eprintln!("shush: fleet: {}: failed: {e}", claim.url);
                s.end_claim(claim.id, name, Err(&e))?
            }
        };
        if !ended {
            eprintln!(
                "shush: warning: fleet: {}: the lease ran out and another worker took it",
                claim.url
            );
        }
    }
    Ok(tally)
}

/// Runs `job` while a thread renews the claim's lease every third of it.
fn with_lease<T>(settings: &Settings<'_>, claim: &Claim, name: &str, job: impl FnOnce() -> T) -> T {
    let (stop, stopped) = mpsc::channel::<()>();
    let lease = settings.lease;
    let (store, key) = (settings.store, settings.key);
    std::thread::scope(|s| {
        s.spawn(move || {
            let Ok(mut renewer) = Store::open(&store.to_string_lossy(), Some(key)) else {
                return;
            };
            let every = Duration::from_secs((lease / 3).max(1));
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                if !matches!(renewer.renew(claim.id, name, lease), Ok(true)) {
                    return;
                }
            }
        });
        let out = job();
        let _ = stop.send(());
        out
    })
}

/// Mirrors, audits and records one repository; returns what it gave, how many of its
/// findings are open, and how it was audited (the whole history, or only what is new since
/// the last completed audit). An error is the repository's failure, said in words.
fn audit_repo(
    s: &mut Store,
    ledger: &Arc<StoreLedger>,
    settings: &Settings<'_>,
    claim: &Claim,
) -> std::result::Result<(RepoResult, u64, &'static str), String> {
    let started = Instant::now();
    let mirror = mirror(&claim.url, settings.cache)?;
    let tips = ref_tips(&mirror, &claim.url)?;
    let since = if settings.full {
        Vec::new()
    } else {
        existing_commits(&mirror, &claim.audited_refs, &claim.url)?
    };
    let (scope, how) = if since.is_empty() {
        (Scope::All, "full audit")
    } else {
        let scope = Scope::Range {
            include: tips.clone(),
            exclude: since,
        };
        (scope, "new since the last audit")
    };
    let stats = shush::scan::Stats::default();
    let mut found = Vec::new();
    let opts = GitOptions {
        ledger: Some(ledger.clone()),
        max_blob_size: settings.max_blob_size,
        skip_unreadable: settings.skip_unreadable,
        ..GitOptions::default()
    };
    let report =
        shush::git::audit_into(&mirror, settings.engine, &scope, &opts, &stats, &mut found)
            .map_err(|e| e.to_string())?;
    if let Some(first) = report.warnings.first() {
        let n = report.warnings.len();
        eprintln!(
            "shush: warning: fleet: {}: {n} warning{}, the first: {first}",
            redact_url(&claim.url),
            if n == 1 { "" } else { "s" }
        );
    }
    if let Some(e) = ledger.take_error() {
        eprintln!(
            "shush: warning: fleet: {}: the store's ledger of scanned blobs failed (every blob \
             was scanned, or what was scanned is not kept): {e}",
            redact_url(&claim.url)
        );
    }
    let store_scope = format!("fleet:{}", redact_url(&claim.url));
    // Only a full audit sees every place, so only a full one marks the unseen as gone.
    let complete = report.errors.is_empty() && matches!(scope, Scope::All);
    let open = record(s, &store_scope, &mut found, complete).map_err(|e| e.to_string())?;
    if let Some(first) = report.errors.first() {
        return Err(format!(
            "{} error{} while auditing, the first: {first}",
            report.errors.len(),
            if report.errors.len() == 1 { "" } else { "s" }
        ));
    }
    let load = |n: &std::sync::atomic::AtomicU64| n.load(std::sync::atomic::Ordering::Relaxed);
    let result = RepoResult {
        refs: tips,
        blobs: load(&stats.files),
        known: report.stats.known,
        bytes: load(&stats.bytes),
        findings: found.len() as u64,
        seconds: started.elapsed().as_secs_f64(),
    };
    Ok((result, open, how))
}

/// Records one repository's findings as one run over `scope` (places it no longer has are
/// gone when the audit was `complete`); returns how many findings are of open secrets.
/// Findings go in fingerprint order, so that two workers recording secrets they share take
/// their row locks in the same order; a transaction that loses a race anyway (a deadlock,
/// a row inserted at the same moment) is run again, up to three times.
fn record(
    s: &mut Store,
    scope: &str,
    found: &mut [shush::finding::Finding],
    complete: bool,
) -> shush::store::Result<u64> {
    found.sort_by(|a, b| a.fingerprint.cmp(&b.fingerprint));
    let mut attempt = 0;
    loop {
        attempt += 1;
        match record_once(s, scope, found, complete) {
            Err(e) if e.is_transient() && attempt < 3 => {
                std::thread::sleep(Duration::from_millis(100 * attempt));
            }
            other => return other,
        }
    }
}

fn record_once(
    s: &mut Store,
    scope: &str,
    found: &[shush::finding::Finding],
    complete: bool,
) -> shush::store::Result<u64> {
    let run = s.begin_run("fleet", scope, false)?;
    let mut open = 0;
    let mut all = || -> shush::store::Result<()> {
        for f in found {
            open += u64::from(s.record(run, scope, f)?.status == Status::Open);
        }
        s.finish_run(run, scope, found.len() as u64, complete)?;
        Ok(())
    };
    if let Err(e) = all() {
        s.abandon_run();
        return Err(e);
    }
    Ok(open)
}

/// `$XDG_CACHE_HOME/shush/fleet`, else `~/.cache/shush/fleet`, else a directory beside the
/// store.
fn default_cache() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".shush-cache"))
        .join("shush")
        .join("fleet")
}

/// This machine's name, for worker names.
fn host() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "local".to_string())
}
