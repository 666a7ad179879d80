//! `shush git`: arguments and the command (the binary's edge: `anyhow` errors).

use crate::cmd::app::report_sink;
use crate::cmd::app::{EXIT_ERROR, emit, exit_code, load_engine};
use crate::cmd::cli::{OutputArgs, RuleArgs, parse_size};
use crate::cmd::progress::Progress;
use anyhow::{Context, Result};
use clap::Args;
use shush::finding::{Finding, Source};
use shush::git::{GitOptions, GitReport, Scope, audit, audit_into};
use shush::problem::{Kind, Problem};
use shush::report::Format;
use shush::scan::Stats;
use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// The baseline file the hooks use when it exists at the repository root.
pub const HOOK_BASELINE: &str = ".shush-baseline.jsonl";

/// `shush git`.
#[derive(Debug, Clone, Args)]
pub struct GitArgs {
    /// The repository (a work tree or a bare repository; default: the one containing the
    /// current directory).
    #[arg(value_name = "REPO", default_value = ".")]
    pub repo: PathBuf,
    /// Also scan unreachable objects (deleted branches, rewritten commits, dangling blobs)
    /// and report them marked `unreachable`.
    #[arg(long, conflicts_with_all = ["branch", "since", "range", "staged", "pre_push"])]
    pub all_objects: bool,
    /// List every commit and path that introduced a blob with findings, not only the first.
    #[arg(long)]
    pub all_occurrences: bool,
    /// Scan only the blobs introduced by commits after REV (`REV..HEAD`, or `REV..BRANCH`
    /// with --branch).
    #[arg(long, value_name = "REV", conflicts_with_all = ["range", "staged", "pre_push"])]
    pub since: Option<String>,
    /// Scan only the blobs introduced by the commits in A..B (reachable from B, not from A).
    #[arg(long, value_name = "A..B", conflicts_with_all = ["staged", "pre_push"])]
    pub range: Option<String>,
    /// Scan the history of this branch (or any revision) only, instead of every ref.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["staged", "pre_push"])]
    pub branch: Option<String>,
    /// Scan the staged changes (the index, not the working tree); report only findings on
    /// lines added relative to HEAD. For pre-commit hooks.
    #[arg(long, conflicts_with = "pre_push")]
    pub staged: bool,
    /// With --staged: the files to check, as the pre-commit framework passes them. When
    /// all are staged changes, only their added lines are checked; when some are not
    /// (`pre-commit run --all-files`), every file given is checked whole, as staged.
    #[arg(long, value_name = "FILE", num_args = 0.., requires = "staged")]
    pub files: Vec<String>,
    /// Read git's pre-push hook lines from standard input and scan only the commits being
    /// pushed.
    #[arg(long)]
    pub pre_push: bool,
    /// With --pre-push: the remote's name (the hook's first argument); its remote-tracking
    /// refs count as already pushed.
    #[arg(long, value_name = "NAME", requires = "pre_push")]
    pub remote: Option<String>,
    /// Scan a shallow clone's history as far as it goes (default: refuse, exit 2, since
    /// the commits it lacks cannot be checked).
    #[arg(long)]
    pub allow_shallow: bool,
    /// Do not scan blobs larger than this (e.g. 500K, 64M): each one is an error (exit 2)
    /// naming it, unless --skip-unreadable.
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = parse_size)]
    pub max_blob_size: u64,
    /// Report blobs left unscanned (over --max-blob-size) as warnings, not errors.
    #[arg(long)]
    pub skip_unreadable: bool,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Never draw a progress line.
    #[arg(long)]
    pub no_progress: bool,
    /// Rules.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Output.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Runs `shush git`; returns the exit code.
pub fn run(args: GitArgs) -> Result<u8> {
    let started = Instant::now();
    let out_args = &args.output;
    let root = work_root(&args.repo);
    let engine = load_engine(&args.rules, &root, out_args.quiet)?;
    let baseline = crate::cmd::app::load_baseline(&engine, out_args, &root)?;
    let opts = options(&args);
    let stats = Arc::new(Stats::default());
    let show = !out_args.quiet
        && !args.no_progress
        && !args.staged
        && !args.pre_push
        && std::io::stderr().is_terminal();
    let progress = if show {
        Progress::start(stats.clone())
    } else {
        Progress::hidden()
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads)
        .build()
        .context("starting worker threads")?;
    let hook = args.staged || args.pre_push;
    if hook && out_args.store.is_some() {
        anyhow::bail!(
            "--store records audits; a hook's scan (--staged, --pre-push) is not one: audit the history with `shush git --store FILE`"
        );
    }
    // A hook collects (its message lists the findings); an audit streams to the report.
    let mut streamed = if hook {
        None
    } else {
        Some(report_sink(
            &engine,
            baseline.as_ref(),
            out_args,
            shush::sink::Order::AsFound,
            Some(&store_scope(&args)),
        )?)
    };
    let result = pool.install(|| -> Result<GitReport> {
        if args.staged {
            return Ok(shush::git::staged::scan_staged(
                &args.repo,
                &engine,
                &opts,
                &stats,
                &args.files,
            )?);
        }
        let scope = scope_of(&args)?;
        if let Scope::Range { include, .. } = &scope {
            if include.is_empty() {
                return Ok(GitReport::default());
            }
        }
        Ok(match &mut streamed {
            Some(sink) => audit_into(&args.repo, &engine, &scope, &opts, &stats, sink)?,
            None => audit(&args.repo, &engine, &scope, &opts, &stats)?,
        })
    });
    progress.finish();
    let mut report = result?;
    if report.unlisted > 0 {
        report.warnings.push(Problem::run(
            Kind::OverCap,
            format!(
                "{} more findings were not listed: a report lists at most {} (and {} from one blob)",
                report.unlisted,
                shush::sink::MAX_LISTED_FINDINGS,
                shush::stream::MAX_FOUND_PER_INPUT
            ),
        ));
    }
    let (found, suppressed) = match streamed {
        Some(mut sink) => {
            let pending = report.sink_error.take();
            let notices = shush::report::Notices {
                errors: &report.errors,
                warnings: &report.warnings,
            };
            let unlisted = crate::cmd::app::end_report(&mut sink, pending, notices)
                .context("writing the report")?;
            report.warnings.extend(unlisted);
            crate::cmd::app::print_triage(sink.inner(), out_args);
            (crate::cmd::app::found(&sink), sink.suppressed() as usize)
        }
        None => hook_report(&engine, baseline.as_ref(), &mut report, out_args)?,
    };
    if !out_args.quiet {
        for w in &report.warnings {
            eprintln!("shush: warning: {w}");
        }
    }
    for e in &report.errors {
        eprintln!("shush: error: {e}");
    }
    if hook && !report.findings.is_empty() {
        eprint!("{}", hook_message(&report.findings, args.pre_push));
    }
    if !out_args.quiet {
        eprintln!("{}", summary_line(&report, started, found, suppressed));
    }
    let mut code = exit_code(found, report.errors.len(), out_args);
    // Findings past the caps were never compared with the baseline: they count.
    if code == crate::cmd::app::EXIT_CLEAN && report.unlisted > 0 {
        code = out_args.exit_code;
    }
    debug_assert!(code != EXIT_ERROR || !report.errors.is_empty());
    Ok(code)
}

/// The audit's options, from the command line.
fn options(args: &GitArgs) -> GitOptions {
    GitOptions {
        all_objects: args.all_objects,
        all_occurrences: args.all_occurrences,
        max_blob_size: args.max_blob_size,
        skip_unreadable: args.skip_unreadable,
        threads: args.threads,
        reveal: args.output.show_secrets,
        allow_shallow: args.allow_shallow,
        ledger: None,
    }
}

/// What a git audit records in a triage store: the repository and whatever narrows the
/// audit (a range, a branch, a date, unreachable objects), so that only an audit of the same
/// scope marks places as gone.
fn store_scope(args: &GitArgs) -> crate::cmd::app::StoreScope {
    let mut detail = Vec::new();
    for (name, value) in [
        ("range", &args.range),
        ("branch", &args.branch),
        ("since", &args.since),
    ] {
        if let Some(v) = value {
            detail.push(format!("{name}={v}"));
        }
    }
    if args.all_objects {
        detail.push("all-objects".to_string());
    }
    crate::cmd::app::StoreScope::of("git", std::slice::from_ref(&args.repo), &detail.join(" "))
}

/// A hook's report: the collected findings filtered by the baseline, written only in a
/// format other than text or to a file (on a terminal the hook's message lists them).
/// Returns the findings left and how many the baseline suppressed.
fn hook_report(
    engine: &shush::Engine,
    baseline: Option<&shush::baseline::Baseline>,
    report: &mut GitReport,
    out_args: &OutputArgs,
) -> Result<(u64, usize)> {
    let suppressed = crate::cmd::app::apply_baseline(engine, &mut report.findings, baseline);
    if !(Format::from(out_args.format) == Format::Text && out_args.output.is_none()) {
        let notices = shush::report::Notices {
            errors: &report.errors,
            warnings: &report.warnings,
        };
        emit(engine, &report.findings, notices, out_args, None)?;
    }
    Ok((report.findings.len() as u64, suppressed))
}

/// What to audit, from the command line: the commits being pushed (pre-push lines on
/// standard input, or the pre-commit framework's environment), `--range A..B`, `--since`,
/// one `--branch`, or every ref.
fn scope_of(args: &GitArgs) -> Result<Scope> {
    Ok(if args.pre_push {
        let mut input = String::new();
        std::io::stdin()
            .read_to_string(&mut input)
            .context("reading pre-push lines from standard input")?;
        let mut updates = shush::git::prepush::parse(&input)?;
        let mut remote = args.remote.clone();
        if updates.is_empty() {
            // The pre-commit framework passes the push in its environment instead.
            updates = shush::git::prepush::from_pre_commit_env(&args.repo)?;
            remote = remote.or_else(|| std::env::var("PRE_COMMIT_REMOTE_NAME").ok());
        }
        shush::git::prepush::scope(&args.repo, &updates, remote.as_deref())
    } else if let Some(r) = &args.range {
        let (a, b) = r
            .split_once("..")
            .with_context(|| format!("--range {r:?}: expected A..B"))?;
        let b = if b.is_empty() { "HEAD" } else { b };
        Scope::Range {
            include: vec![b.to_string()],
            exclude: if a.is_empty() {
                vec![]
            } else {
                vec![a.to_string()]
            },
        }
    } else if let Some(since) = &args.since {
        Scope::Range {
            include: vec![args.branch.clone().unwrap_or_else(|| "HEAD".into())],
            exclude: vec![since.clone()],
        }
    } else if let Some(b) = &args.branch {
        Scope::Branch(b.clone())
    } else {
        Scope::All
    })
}

/// The directory whose `.shush.toml` / `.gitleaks.toml` applies: the work tree's root.
pub(crate) fn work_root(repo: &std::path::Path) -> PathBuf {
    shush::git::open(repo)
        .ok()
        .and_then(|r| r.workdir().map(|p| p.to_path_buf()))
        .unwrap_or_else(|| repo.to_path_buf())
}

/// What the developer reads when a hook blocks: what, where, and the three ways out.
pub fn hook_message(findings: &[Finding], push: bool) -> String {
    let what = if push { "push" } else { "commit" };
    let mut s = format!(
        "\nshush: {} secret{} found — {what} blocked.\n",
        findings.len(),
        if findings.len() == 1 { "" } else { "s" }
    );
    for f in findings {
        let commit = match &f.source {
            Source::Git {
                commit: Some(c), ..
            } => format!(" (commit {})", &c[..c.len().min(10)]),
            _ => String::new(),
        };
        s.push_str(&format!(
            "  {}:{}:{}: {} {}{commit}\n",
            shush::report::printable(&f.path),
            f.line,
            f.column,
            f.rule_id,
            shush::report::printable(&f.secret)
        ));
    }
    s.push_str(&format!(
        "\nTo go on, do one of:\n\
         \x20 1. remove the secret{} and rotate it if it was ever shared;\n\
         \x20 2. if it is not a secret, add a `shush:allow` comment on its line;\n\
         \x20 3. accept it knowingly: append its fingerprint to the baseline\n\
         \x20    shush git {} --format jsonl >> {HOOK_BASELINE}\n",
        if push {
            " (rewrite the commits that add it)"
        } else {
            " from the staged file (then `git add` it)"
        },
        if push {
            "--pre-push < PUSH-LINES"
        } else {
            "--staged"
        },
    ));
    s
}

pub(crate) fn summary_line(
    report: &GitReport,
    started: Instant,
    found: u64,
    suppressed: usize,
) -> String {
    let st = &report.stats;
    let secs = started.elapsed().as_secs_f64();
    let n = found;
    let mut line = format!(
        "shush: {} blobs, {:.1} MB in {:.2}s ({:.0} MB/s): {} finding{}",
        st.blobs,
        st.bytes as f64 / 1e6,
        secs,
        st.bytes as f64 / 1e6 / secs.max(1e-6),
        n,
        if n == 1 { "" } else { "s" }
    );
    let mut extra = |count: u64, what: &str| {
        if count > 0 {
            line.push_str(&format!(", {count} {what}"));
        }
    };
    extra(suppressed as u64, "suppressed by baseline");
    extra(st.skipped_large, "over the size cap skipped");
    extra(st.skipped_lfs, "LFS pointers skipped");
    extra(st.submodules, "submodule entries skipped");
    extra(
        st.missing,
        "missing objects skipped (partial or shallow clone)",
    );
    extra(
        st.unreachable_hidden,
        "in unreachable objects not shown (use --all-objects)",
    );
    extra(report.errors.len() as u64, "errors");
    line
}
