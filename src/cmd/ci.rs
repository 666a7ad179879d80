//! `shush ci`: one command for a CI job. It reads the CI's environment, scans exactly what
//! the event brings, writes the report the user asked for plus the CI's own outputs, and
//! exits 0 (clean), 1 (findings) or 2 (could not scan).

use crate::cmd::app::{apply_baseline, emit, exit_code, load_baseline, load_engine};
use crate::cmd::cli::{OutputArgs, RuleArgs, parse_size};
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use shush::ci::event::{self, Plan, Provider, Target, Vars};
use shush::ci::{github, gitlab};
use shush::engine::Engine;
use shush::finding::Finding;
use shush::git::{GitOptions, GitReport, Scope, audit};
use shush::problem::{Kind, Problem};
use shush::scan::Stats;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The CI, when not detected from the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProviderArg {
    /// GitHub Actions.
    Github,
    /// GitLab CI.
    Gitlab,
    /// Any other CI: scans the tree at HEAD unless --since is given.
    Generic,
}

impl From<ProviderArg> for Provider {
    fn from(p: ProviderArg) -> Self {
        match p {
            ProviderArg::Github => Provider::GitHub,
            ProviderArg::Gitlab => Provider::GitLab,
            ProviderArg::Generic => Provider::Generic,
        }
    }
}

/// `shush ci`.
#[derive(Debug, Clone, Args)]
pub struct CiArgs {
    /// The repository (default: the one containing the current directory).
    #[arg(value_name = "REPO", default_value = ".")]
    pub repo: PathBuf,
    /// The CI (default: detected from GITHUB_ACTIONS, GITLAB_CI or CI).
    #[arg(long, value_enum)]
    pub provider: Option<ProviderArg>,
    /// Scan the commits after REV (`REV..HEAD`) instead of what the event brings.
    #[arg(long, value_name = "REV")]
    pub since: Option<String>,
    /// Scan what a shallow clone has instead of failing (exit 2) when the commits to scan
    /// reach past its boundary.
    #[arg(long)]
    pub allow_shallow: bool,
    /// Also write a SARIF report to FILE (for code-scanning upload).
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// Write GitLab's secret-detection report to FILE (default under GitLab CI:
    /// gl-secret-detection-report.json).
    #[arg(long, value_name = "FILE")]
    pub gitlab_report: Option<PathBuf>,
    /// Under GitHub Actions, do not print `::error` annotations.
    #[arg(long)]
    pub no_annotations: bool,
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
    /// Rules.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Output.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// What the scan produced, for the CI's outputs.
struct Outcome {
    plan: Plan,
    report: GitReport,
    suppressed: usize,
    start: i64,
}

/// Runs `shush ci`; returns the exit code.
pub fn run(args: CiArgs) -> Result<u8> {
    let started = Instant::now();
    let vars = Vars::from_env();
    let provider = match args.provider {
        Some(p) => p.into(),
        None => event::detect(&vars).ok_or(shush::ci::CiError::NotInCi)?,
    };
    let exists = |rev: &str| shush::git::rev_exists(&args.repo, rev);
    let plan = event::plan(provider, &vars, args.since.as_deref(), &exists)?;
    let quiet = args.output.quiet;
    if !quiet {
        eprintln!("shush: {}: {}", provider.name(), plan.describe);
        for n in &plan.notes {
            eprintln!("shush: note: {n}");
        }
    }
    let root = crate::cmd::git::work_root(&args.repo);
    let engine = load_engine(&args.rules, &root, quiet)?;
    let baseline = load_baseline(&args.output, &root)?;
    let start = now();
    let mut report = scan(&args, &engine, &plan.target);
    let suppressed = apply_baseline(&engine, &mut report.findings, baseline.as_ref());
    let outcome = Outcome {
        plan,
        report,
        suppressed,
        start,
    };
    let notices = shush::report::Notices {
        errors: &outcome.report.errors,
        warnings: &outcome.report.warnings,
    };
    if let Err(e) = emit(&engine, &outcome.report.findings, notices, &args.output) {
        if !crate::cmd::app::is_broken_pipe(&e) {
            return Err(e);
        }
    }
    let mut errors = outcome.report.errors.clone();
    if let Err(e) = native_outputs(&args, &engine, &vars, &outcome) {
        errors.push(Problem::run(Kind::Other, format!("{e:#}")));
    }
    if !quiet {
        for w in &outcome.report.warnings {
            eprintln!("shush: warning: {w}");
        }
    }
    for e in &errors {
        eprintln!("shush: error: {e}");
    }
    if !quiet {
        eprintln!(
            "{}",
            crate::cmd::git::summary_line(
                &outcome.report,
                started,
                outcome.report.findings.len() as u64,
                outcome.suppressed
            )
        );
    }
    Ok(exit_code(
        outcome.report.findings.len() as u64,
        errors.len(),
        &args.output,
    ))
}

/// Scans the target; a failure to scan becomes an error of the report (so the CI's own
/// outputs still say what happened).
fn scan(args: &CiArgs, engine: &Engine, target: &Target) -> GitReport {
    let opts = GitOptions {
        max_blob_size: args.max_blob_size,
        skip_unreadable: args.skip_unreadable,
        threads: args.threads,
        reveal: args.output.show_secrets,
        allow_shallow: args.allow_shallow,
        ..Default::default()
    };
    let scope = match target {
        Target::Nothing => return GitReport::default(),
        Target::Commits { head, exclude } => Scope::Range {
            include: vec![head.clone()],
            exclude: exclude.clone(),
        },
        Target::Tree { rev } => Scope::Tree(rev.clone()),
    };
    let stats = Stats::default();
    let run = || audit(&args.repo, engine, &scope, &opts, &stats);
    let result = match rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads)
        .build()
    {
        Ok(pool) => pool.install(run),
        Err(_) => run(),
    };
    result.unwrap_or_else(|e| GitReport::failed(Problem::run(Kind::Other, e.to_string())))
}

/// The CI's own outputs: GitHub annotations, step summary and step outputs; GitLab's
/// report; SARIF when asked.
fn native_outputs(args: &CiArgs, engine: &Engine, vars: &Vars, o: &Outcome) -> Result<()> {
    let findings = &o.report.findings;
    if let Some(path) = &args.sarif {
        write_file(path, |w| {
            let notices = shush::report::Notices {
                errors: &o.report.errors,
                warnings: &o.report.warnings,
            };
            shush::report::write_sarif(w, findings, engine.rules(), notices)
        })?;
    }
    let gitlab_path = args.gitlab_report.clone().or_else(|| {
        (o.plan.provider == Provider::GitLab).then(|| PathBuf::from(gitlab::REPORT_FILE))
    });
    if let Some(path) = gitlab_path {
        let head = match &o.plan.target {
            Target::Commits { head, .. } => head.clone(),
            Target::Tree { rev } => rev.clone(),
            Target::Nothing => vars.get("CI_COMMIT_SHA").unwrap_or("HEAD").to_string(),
        };
        let info = gitlab::ScanInfo {
            start: o.start,
            end: now(),
            commit: &head,
            errors: &o.report.errors,
            warnings: &o.report.warnings,
        };
        let doc = gitlab::report(findings, &info);
        write_file(&path, |w| {
            serde_json::to_writer_pretty(&mut *w, &doc)?;
            w.write_all(b"\n")
        })?;
    }
    if o.plan.provider == Provider::GitHub {
        github_outputs(args, vars, o)?;
    }
    Ok(())
}

fn github_outputs(args: &CiArgs, vars: &Vars, o: &Outcome) -> Result<()> {
    let findings: &[Finding] = &o.report.findings;
    if !args.no_annotations {
        let mut text = github::annotations(findings);
        for e in &o.report.errors {
            text.push_str(&github::error_annotation(e));
        }
        eprint!("{text}");
    }
    if let Some(p) = vars.get("GITHUB_STEP_SUMMARY") {
        let md = github::step_summary(&o.plan.describe, findings, &o.report.errors);
        github::append(Path::new(p), &format!("{md}\n"))
            .with_context(|| format!("writing the step summary {p}"))?;
    }
    if let Some(p) = vars.get("GITHUB_OUTPUT") {
        let status = if !o.report.errors.is_empty() {
            "error"
        } else if findings.is_empty() {
            "clean"
        } else {
            "findings"
        };
        let mut text = format!("findings={}\nstatus={status}\n", findings.len());
        if let Some(s) = &args.sarif {
            text.push_str(&format!("sarif={}\n", s.display()));
        }
        github::append(Path::new(p), &text)
            .with_context(|| format!("writing step outputs to {p}"))?;
    }
    Ok(())
}

fn write_file(
    path: &Path,
    body: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<()> {
    use std::io::Write;
    let file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut w = std::io::BufWriter::new(file);
    body(&mut w).with_context(|| format!("writing {}", path.display()))?;
    w.flush()
        .with_context(|| format!("writing {}", path.display()))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
