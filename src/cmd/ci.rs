//! `shush ci`: one command for a CI job. It reads the CI's environment, scans exactly what
//! the event brings, writes the report the user asked for plus the CI's own outputs, and
//! exits 0 (clean), 1 (findings) or 2 (could not scan).

use crate::cmd::app::{end_report, exit_code, load_baseline, load_engine, report_writer};
use crate::cmd::cli::{OutputArgs, RuleArgs, parse_size};
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use shush::ci::event::{self, Plan, Provider, Target, Vars};
use shush::ci::{github, gitlab};
use shush::engine::Engine;
use shush::finding::Finding;
use shush::git::{GitOptions, GitReport, Scope, audit_into};
use shush::problem::{Kind, Problem};
use shush::report::{Format, Notices};
use shush::scan::Stats;
use shush::sink::{Baselined, Document, Held, Order, Sink, Tally, Tee};
use std::io::Write;
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

/// Runs `shush ci`; returns the exit code.
pub fn run(args: CiArgs) -> Result<u8> {
    if args.output.store.is_some() {
        anyhow::bail!(
            "--store records audits: use it with `shush git --store FILE` in a scheduled job, not with `shush ci`"
        );
    }
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
    let baseline = load_baseline(&engine, &args.output, &root)?;
    // One pass feeds every output as findings are attributed: the report, the SARIF file,
    // GitLab's report, GitHub's annotations and step summary.
    let mut errors = Vec::new();
    let outputs = outputs(&args, &engine, &vars, &plan, &mut errors)?;
    let mut sink = Baselined::new(baseline.as_ref(), engine.rules(), Tally::new(outputs));
    let mut report = scan(&args, &engine, &plan.target, &mut sink);
    errors.append(&mut report.errors);
    let pending = report.sink_error.take();
    let notices = shush::report::Notices {
        errors: &errors,
        warnings: &report.warnings,
    };
    // An output that could not be written fails the job.
    match end_report(&mut sink, pending, notices) {
        Ok(unlisted) => report.warnings.extend(unlisted),
        Err(e) => errors.push(Problem::run(
            Kind::Unreadable,
            format!("writing the outputs: {e}"),
        )),
    }
    let found = sink.inner().count();
    if provider == Provider::GitHub {
        if let Err(e) = step_outputs(&args, &vars, found, &errors) {
            errors.push(Problem::run(Kind::Other, format!("{e:#}")));
        }
    }
    if !quiet {
        for w in &report.warnings {
            eprintln!("shush: warning: {w}");
        }
    }
    for e in &errors {
        eprintln!("shush: error: {e}");
    }
    if !quiet {
        let suppressed = sink.suppressed() as usize;
        report.errors = errors.clone();
        let line = crate::cmd::git::summary_line(&report, started, found, suppressed);
        eprintln!("{line}");
    }
    Ok(exit_code(found, errors.len(), &args.output))
}

/// Audits the target into `sink`; a failure to scan becomes an error of the report (so the
/// CI's own outputs still say what happened).
fn scan(args: &CiArgs, engine: &Engine, target: &Target, sink: &mut dyn Sink) -> GitReport {
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
    let mut run = || audit_into(&args.repo, engine, &scope, &opts, &stats, sink);
    let result = match rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads)
        .build()
    {
        Ok(pool) => pool.install(run),
        Err(_) => run(),
    };
    result.unwrap_or_else(|e| GitReport::failed(Problem::run(Kind::Other, e.to_string())))
}

/// Every output the job asked for or the CI reads, as sinks fed by one pass: the report
/// (`--format`, `--output`), SARIF (`--sarif`), GitLab's report, and under GitHub Actions the
/// annotations and the step summary. An output that cannot be created is an error of the
/// job (in `errors`); the others still run.
fn outputs<'a>(
    args: &CiArgs,
    engine: &'a Engine,
    vars: &Vars,
    plan: &Plan,
    errors: &mut Vec<Problem>,
) -> Result<Tee<'a>> {
    let mut tee = Tee::new();
    tee.push(report_writer(engine, &args.output, Order::AsFound)?);
    let mut file = |path: &Path| match std::fs::File::create(path) {
        Ok(f) => Some(std::io::BufWriter::new(f)),
        Err(e) => {
            errors.push(Problem::path(
                path.display().to_string(),
                Problem::kind_of(&e),
                format!("cannot be created: {e}"),
            ));
            None
        }
    };
    if let Some(out) = args.sarif.as_deref().and_then(&mut file) {
        tee.push(Box::new(Held::new(
            Format::Sarif,
            out,
            engine.rules(),
            false,
        )));
    }
    let gitlab_path = args.gitlab_report.clone().or_else(|| {
        (plan.provider == Provider::GitLab).then(|| PathBuf::from(gitlab::REPORT_FILE))
    });
    if let Some(mut out) = gitlab_path.as_deref().and_then(&mut file) {
        let head = match &plan.target {
            Target::Commits { head, .. } => head.clone(),
            Target::Tree { rev } => rev.clone(),
            Target::Nothing => vars.get("CI_COMMIT_SHA").unwrap_or("HEAD").to_string(),
        };
        let start = now();
        tee.push(Box::new(Document::new(
            move |findings: &[Finding], n: Notices<'_>| {
                let info = gitlab::ScanInfo {
                    start,
                    end: now(),
                    commit: &head,
                    errors: n.errors,
                    warnings: n.warnings,
                };
                serde_json::to_writer_pretty(&mut out, &gitlab::report(findings, &info))?;
                out.write_all(b"\n")?;
                out.flush()
            },
        )));
    }
    if plan.provider == Provider::GitHub {
        if !args.no_annotations {
            tee.push(Box::new(github::Annotations::new(std::io::stderr())));
        }
        if let Some(p) = vars.get("GITHUB_STEP_SUMMARY") {
            tee.push(Box::new(github::StepSummary::new(p, &plan.describe)));
        }
    }
    Ok(tee)
}

/// GitHub's step outputs: `findings`, `status` and the SARIF file's path.
fn step_outputs(args: &CiArgs, vars: &Vars, found: u64, errors: &[Problem]) -> Result<()> {
    let Some(p) = vars.get("GITHUB_OUTPUT") else {
        return Ok(());
    };
    let status = if !errors.is_empty() {
        "error"
    } else if found == 0 {
        "clean"
    } else {
        "findings"
    };
    let mut text = format!("findings={found}\nstatus={status}\n");
    if let Some(s) = &args.sarif {
        text.push_str(&format!("sarif={}\n", s.display()));
    }
    github::append(Path::new(p), &text).with_context(|| format!("writing step outputs to {p}"))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
