//! The binary's commands, wired from the library. Errors here are `anyhow` (the edge).

use crate::cmd::cli::{Cli, ColorChoice, Command, OutputArgs, RuleArgs, RulesCommand, ScanArgs};
use crate::cmd::progress::Progress;
use anyhow::{Context, Result, bail};
use shush::baseline::Baseline;
use shush::engine::{Engine, EngineOptions};
use shush::finding::Finding;
use shush::problem::{Kind, Problem};
use shush::report::{self, Format};
use shush::rules::{LoadedConfig, RuleSet, Strategy};
use shush::scan::{self, ScanOptions, Stats};
use shush::sink::{self, Baselined, Sink, Tally};
use shush::store::{Store, Triaged};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// Exit code: nothing found.
pub const EXIT_CLEAN: u8 = 0;
/// Exit code: an error (the scan is incomplete, so a gate must not pass).
pub const EXIT_ERROR: u8 = 2;

/// Runs a parsed command line; returns the process exit code.
pub fn run(mut cli: Cli) -> Result<u8> {
    cli.normalise();
    match cli.command {
        Command::Scan(args) => scan_cmd(args),
        Command::Image(args) => crate::cmd::image::run(args),
        Command::Rules(RulesCommand::List { rules, json }) => rules_list(&rules, json),
        Command::Rules(RulesCommand::Check { file, strict }) => {
            rules_check(file.as_deref(), strict)
        }
        Command::Redact(args) => crate::cmd::redact::redact_cmd(args),
        Command::Run(args) => crate::cmd::redact::run::run_cmd(args),
        Command::Git(args) => crate::cmd::git::run(*args),
        Command::Ci(args) => crate::cmd::ci::run(*args),
        Command::Completions(args) => crate::cmd::docs::completions(&args),
        Command::Man(args) => crate::cmd::docs::man(&args),
        Command::Hook(cmd) => crate::cmd::hook::run(cmd),
        Command::Triage(args) => crate::cmd::triage::run(args),
        Command::Fleet(args) => crate::cmd::fleet::run(args),
    }
}

/// Config files picked up at a scan root, in order of preference.
pub const DISCOVERED_CONFIGS: [&str; 2] = [".shush.toml", ".gitleaks.toml"];

/// Loads the rules: `--config`, else a config discovered at `root`, else the built-ins.
/// Prints which config is used and its warnings to stderr (unless `quiet`).
pub fn load_engine(args: &RuleArgs, root: &Path, quiet: bool) -> Result<Engine> {
    let path: Option<PathBuf> = match &args.config {
        Some(p) => Some(p.clone()),
        None if args.no_config => None,
        None => DISCOVERED_CONFIGS
            .iter()
            .map(|n| root.join(n))
            .find(|p| p.is_file()),
    };
    let mut loaded = match &path {
        Some(p) => {
            if !quiet && args.config.is_none() {
                eprintln!(
                    "shush: using rules from {} (--no-config to ignore it)",
                    p.display()
                );
            }
            LoadedConfig::from_path(p)
                .with_context(|| format!("loading rules from {}", p.display()))?
        }
        None => LoadedConfig::builtin(),
    };
    args.selection()
        .apply(&mut loaded)
        .context("choosing the rules")?;
    let origin = loaded.origin.clone();
    let rules =
        RuleSet::from_loaded(loaded).with_context(|| format!("loading rules from {origin}"))?;
    if path.is_some() {
        rules
            .validate()
            .with_context(|| format!("loading rules from {origin}"))?;
    }
    if !quiet {
        for w in &rules.warnings {
            eprintln!("shush: warning: {w}");
        }
    }
    let options = EngineOptions {
        decode_depth: args.decode_depth,
        inline_allow: !args.no_inline_allow,
    };
    Ok(Engine::new(rules, options)?)
}

/// The baseline picked up at a scan or repository root when present.
pub const DISCOVERED_BASELINE: &str = ".shush-baseline.jsonl";
/// gitleaks' ignore file, honoured at a scan or repository root when present.
pub const GITLEAKS_IGNORE: &str = ".gitleaksignore";

/// The baseline in effect: `--baseline FILE`, else `.shush-baseline.jsonl` at `root`; plus
/// `.gitleaksignore` at `root`. Discovery is off with `--no-baseline`. Says on stderr which
/// files it picked up (unless quiet).
///
/// First it gives `engine` the fingerprint key ([`use_fingerprint_key`]): a baseline's
/// fingerprints only match under the key they were written with, so the two go together.
pub fn load_baseline(engine: &Engine, args: &OutputArgs, root: &Path) -> Result<Option<Baseline>> {
    let key = use_fingerprint_key(engine)?;
    let baseline = discover_baselines(args, root)?;
    if let (Some(b), false) = (&baseline, args.quiet) {
        for w in b.warnings(key) {
            eprintln!("shush: warning: {w}");
        }
    }
    Ok(baseline)
}

/// Gives `engine` the key of its fingerprints: `SHUSH_FINGERPRINT_KEY`, the file
/// `SHUSH_FINGERPRINT_KEY_FILE` names, else the per-user key file (created on first use).
/// A key that is given but unusable (too short, unreadable) stops the run: exit 2.
pub(crate) fn use_fingerprint_key(engine: &Engine) -> Result<&shush::fingerprint::FingerprintKey> {
    let key = shush::fingerprint::FingerprintKey::from_environment()
        .context("loading the fingerprint key")?;
    engine.set_fingerprint_key(key);
    Ok(engine.fingerprint_key())
}

fn discover_baselines(args: &OutputArgs, root: &Path) -> Result<Option<Baseline>> {
    let mut baseline = match &args.baseline {
        Some(p) => Some(Baseline::load(p)?),
        None => None,
    };
    if args.no_baseline {
        return Ok(baseline);
    }
    let mut found = |name: &str, b: Baseline| {
        if !args.quiet {
            eprintln!(
                "shush: using {} (--no-baseline to ignore it)",
                root.join(name).display()
            );
        }
        baseline.get_or_insert_with(Baseline::default).merge(b);
    };
    let default = root.join(DISCOVERED_BASELINE);
    if args.baseline.is_none() && default.is_file() {
        found(DISCOVERED_BASELINE, Baseline::load(&default)?);
    }
    let ignore = root.join(GITLEAKS_IGNORE);
    if ignore.is_file() {
        found(GITLEAKS_IGNORE, Baseline::load_gitleaksignore(&ignore)?);
    }
    Ok(baseline)
}

/// Drops the findings `baseline` suppresses (the [`Baselined`] sink over a list); returns
/// how many.
pub fn apply_baseline(
    engine: &Engine,
    findings: &mut Vec<Finding>,
    baseline: Option<&Baseline>,
) -> usize {
    let mut kept = Baselined::new(baseline, engine.rules(), Vec::new());
    for f in findings.drain(..) {
        // A list never fails to take a finding.
        let _ = kept.finding(f);
    }
    let suppressed = kept.suppressed() as usize;
    *findings = kept.into_inner();
    suppressed
}

/// The root used for config discovery: the first directory argument, else the current one.
fn scan_root(paths: &[PathBuf]) -> PathBuf {
    paths
        .iter()
        .find(|p| p.as_os_str() != "-" && p.is_dir())
        .cloned()
        .unwrap_or_else(|| PathBuf::from("."))
}

fn scan_cmd(args: ScanArgs) -> Result<u8> {
    let started = Instant::now();
    let out_args = &args.output;
    let root = scan_root(&args.paths);
    let engine = load_engine(&args.rules, &root, out_args.quiet)?;
    let baseline = load_baseline(&engine, out_args, &root)?;
    let opts = ScanOptions {
        follow_symlinks: args.follow,
        gitignore: args.gitignore,
        max_file_size: args.max_file_size,
        threads: args.threads,
        reveal: out_args.show_secrets,
        artifacts: args.artifacts.options(),
    };
    let stats = Arc::new(Stats::default());
    let (stdin_args, path_args): (Vec<_>, Vec<_>) = args
        .paths
        .iter()
        .cloned()
        .partition(|p| p.as_os_str() == "-");
    // A parallel walk finishes files in any order: the report is sorted, so that it is
    // byte-identical run to run (a committed baseline does not churn).
    let scope = StoreScope::of("scan", &args.paths, "");
    let mut sink = report_sink(
        &engine,
        baseline.as_ref(),
        out_args,
        sink::Order::Sorted,
        Some(&scope),
    )?;
    let mut outcome = scan::Outcome::default();
    if !path_args.is_empty() {
        for p in &path_args {
            if let Err(e) = std::fs::symlink_metadata(p) {
                let kind = Problem::kind_of(&e);
                let path = p.display().to_string();
                outcome
                    .errors
                    .push(Problem::path(path, kind, e.to_string()));
            }
        }
        let existing: Vec<PathBuf> = path_args
            .into_iter()
            .filter(|p| std::fs::symlink_metadata(p).is_ok())
            .collect();
        if !existing.is_empty() {
            let show = !out_args.quiet && !args.no_progress && std::io::stderr().is_terminal();
            let progress = if show {
                Progress::start(stats.clone())
            } else {
                Progress::hidden()
            };
            let o = scan::scan_paths_into(&engine, &existing, &opts, &stats, &mut sink);
            progress.finish();
            merge(&mut outcome, o);
        }
    }
    if !stdin_args.is_empty() {
        let mut stdin = std::io::stdin().lock();
        let o = scan::scan_stdin_into(&engine, &mut stdin, &opts, &stats, &mut sink);
        merge(&mut outcome, o);
    }
    shush::git::timing::phase("scan", started);
    let pending = outcome.sink_error.take();
    let notices = report::Notices {
        errors: &outcome.errors,
        warnings: &outcome.warnings,
    };
    let unlisted = end_report(&mut sink, pending, notices).context("writing the report")?;
    outcome.warnings.extend(unlisted);
    if !out_args.quiet {
        for w in &outcome.warnings {
            eprintln!("shush: warning: {w}");
        }
    }
    for e in &outcome.errors {
        eprintln!("shush: error: {e}");
    }
    let found = found(&sink);
    print_triage(sink.inner(), out_args);
    if !out_args.quiet {
        eprintln!(
            "{}",
            summary_line(&stats, started, &outcome, found, sink.suppressed())
        );
    }
    // Findings past an input's cap were not checked against the baseline: they count.
    let code = exit_code(found, outcome.errors.len(), out_args);
    Ok(if code == EXIT_CLEAN && outcome.unlisted > 0 {
        out_args.exit_code
    } else {
        code
    })
}

/// Ends a report: the error its sink returned while the source fed it, else what finishing
/// it returns. A reader that went away (`shush … | head`) is not an error: the report stops
/// but the verdict stands (exiting 0 would let `set -o pipefail; shush … | head` pass a
/// gate). Returns the warning for findings a held output took but did not list.
pub fn end_report(
    sink: &mut dyn Sink,
    pending: Option<std::io::Error>,
    notices: report::Notices<'_>,
) -> std::io::Result<Option<Problem>> {
    let written = match pending {
        Some(e) => Err(e),
        None => sink.finish(notices),
    };
    match written {
        Err(e) if !shush::error::is_broken_pipe(&e) => Err(e),
        _ => Ok((sink.unlisted() > 0).then(|| unlisted_warning(sink.unlisted()))),
    }
}

/// The warning for findings a held report took but did not list.
fn unlisted_warning(unlisted: u64) -> Problem {
    Problem::run(
        Kind::OverCap,
        format!(
            "{unlisted} more findings were not listed: a report lists at most {} (JSON Lines lists all)",
            shush::sink::MAX_LISTED_FINDINGS
        ),
    )
}

/// A report as the command line asks for it: findings a baseline suppresses stop first, the
/// rest are counted (the exit code's input) and written in `--format` to `--output` or
/// standard output.
pub type ReportSink<'a> = Baselined<'a, Triaged<Tally<Box<dyn Sink + 'a>>>>;

/// What a run records in a triage store (`--store`): the command, and its scope (what was
/// audited; the places of a scope a complete run no longer sees are gone).
#[derive(Debug, Clone)]
pub struct StoreScope {
    /// `scan`, `git` or `image`.
    pub command: &'static str,
    /// What was audited: canonical paths, and the git range or filters.
    pub scope: String,
}

impl StoreScope {
    /// The scope of a command over `paths` (made absolute where they exist), with `detail`
    /// (a git range, say) appended.
    pub fn of(command: &'static str, paths: &[PathBuf], detail: &str) -> StoreScope {
        let names: Vec<String> = paths
            .iter()
            .map(|p| {
                std::fs::canonicalize(p)
                    .unwrap_or_else(|_| p.clone())
                    .display()
                    .to_string()
            })
            .collect();
        let mut scope = format!("{command}:{}", names.join(","));
        if !detail.is_empty() {
            scope.push(' ');
            scope.push_str(detail);
        }
        StoreScope { command, scope }
    }
}

/// The findings a report counted: what was left after the baseline and triage.
pub fn found(sink: &ReportSink<'_>) -> u64 {
    sink.inner().inner().count()
}

/// The triage layer of a report: recording in `--store` when given (for a command that has
/// a `scope`), else a pass-through.
pub fn triaged<S: Sink>(
    engine: &Engine,
    args: &OutputArgs,
    scope: Option<&StoreScope>,
    inner: S,
) -> Result<Triaged<S>> {
    let Some(path) = &args.store else {
        return Ok(Triaged::pass_through(inner));
    };
    let Some(scope) = scope else {
        bail!("--store records audits (shush scan, git, image); it cannot be used here");
    };
    let key = engine.fingerprint_key().id().to_string();
    let store = Store::open(&path.to_string_lossy(), Some(&key))?;
    Ok(Triaged::recording(
        store,
        scope.command,
        &scope.scope,
        args.show_secrets,
        args.new_only,
        inner,
    )?)
}

/// Says on stderr what a run did to its triage store.
pub fn print_triage(triaged: &Triaged<impl Sink>, args: &OutputArgs) {
    if args.quiet || !triaged.is_recording() {
        return;
    }
    let s = triaged.stats();
    let mut line = format!(
        "shush: store {}: {} new secret{}, {} new place{}, {} gone",
        shush::store::display_location(
            &args
                .store
                .as_deref()
                .unwrap_or(Path::new(""))
                .to_string_lossy()
        ),
        s.new_secrets,
        if s.new_secrets == 1 { "" } else { "s" },
        s.new_locations,
        if s.new_locations == 1 { "" } else { "s" },
        s.gone_locations,
    );
    let held: Vec<String> = (s.suppressed.iter())
        .map(|(status, n)| format!("{n} {}", status.as_str()))
        .collect();
    if !held.is_empty() {
        line.push_str(&format!("; not reported, triaged: {}", held.join(", ")));
    }
    if s.seen_before > 0 {
        line.push_str(&format!("; {} seen before (--new-only)", s.seen_before));
    }
    eprintln!("{line}");
}

/// Opens the report's destination (a file, or standard output with colour when it is a
/// terminal and allowed) and builds its sinks; `order` says whether the source's own order
/// can be kept (see [`sink::Order`]).
pub fn report_sink<'a>(
    engine: &'a Engine,
    baseline: Option<&'a Baseline>,
    args: &OutputArgs,
    order: sink::Order,
    scope: Option<&StoreScope>,
) -> Result<ReportSink<'a>> {
    let format = report_writer(engine, args, order)?;
    let triaged = triaged(engine, args, scope, Tally::new(format))?;
    Ok(Baselined::new(baseline, engine.rules(), triaged))
}

/// The sink that writes the report in `--format` to `--output` or standard output.
pub fn report_writer<'a>(
    engine: &'a Engine,
    args: &OutputArgs,
    order: sink::Order,
) -> Result<Box<dyn Sink + 'a>> {
    let (out, color): (Box<dyn Write + Send>, bool) = match &args.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("creating {}", path.display()))?;
            (Box::new(file), args.color == ColorChoice::Always)
        }
        None => {
            let stdout = std::io::stdout();
            let color = matches!(Format::from(args.format), Format::Text | Format::Lines)
                && crate::cmd::cli::use_color(args.color, stdout.is_terminal());
            (Box::new(stdout), color)
        }
    };
    let out = std::io::BufWriter::new(out);
    Ok(sink::for_format(
        args.format.into(),
        order,
        out,
        engine.rules(),
        color,
    ))
}

fn merge(into: &mut scan::Outcome, from: scan::Outcome) {
    into.unlisted += from.unlisted;
    into.findings.extend(from.findings);
    into.errors.extend(from.errors);
    into.warnings.extend(from.warnings);
    if into.sink_error.is_none() {
        into.sink_error = from.sink_error;
    }
}

/// Whether `err` comes from writing to a pipe whose reader has gone.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(shush::error::is_broken_pipe)
    })
}

/// 2 on any error (fail closed), else the `--exit-code` when something was found, else 0.
pub fn exit_code(found: u64, errors: usize, args: &OutputArgs) -> u8 {
    if errors > 0 {
        EXIT_ERROR
    } else if found > 0 {
        args.exit_code
    } else {
        EXIT_CLEAN
    }
}

/// Writes `findings` (already filtered by the baseline) as the report `--output` and
/// `--format` ask for, with `notices` where the format has a place for them; records them
/// in `--store` for a command with a `scope`. Returns how many were reported (after
/// triage).
pub fn emit(
    engine: &Engine,
    findings: &[Finding],
    notices: report::Notices<'_>,
    args: &OutputArgs,
    scope: Option<&StoreScope>,
) -> Result<u64> {
    let mut sink = report_sink(engine, None, args, sink::Order::Sorted, scope)?;
    for f in findings {
        sink.finding(f.clone())?;
    }
    sink.finish(notices)?;
    print_triage(sink.inner(), args);
    Ok(found(&sink))
}

fn summary_line(
    stats: &Stats,
    started: Instant,
    outcome: &scan::Outcome,
    found: u64,
    suppressed: u64,
) -> String {
    use std::sync::atomic::Ordering::Relaxed;
    let secs = started.elapsed().as_secs_f64();
    let bytes = stats.bytes.load(Relaxed);
    let mut line = format!(
        "shush: {} files, {:.1} MB in {:.2}s ({:.0} MB/s): {} finding{}",
        stats.files.load(Relaxed),
        bytes as f64 / 1e6,
        secs,
        bytes as f64 / 1e6 / secs.max(1e-6),
        found,
        if found == 1 { "" } else { "s" }
    );
    if suppressed > 0 {
        line.push_str(&format!(", {suppressed} suppressed by baseline"));
    }
    let large = stats.skipped_large.load(Relaxed);
    if large > 0 {
        line.push_str(&format!(", {large} over size cap skipped"));
    }
    let allowed = stats.skipped_allowlisted.load(Relaxed);
    if allowed > 0 {
        line.push_str(&format!(", {allowed} allowlisted paths skipped"));
    }
    let links = stats.skipped_symlinks.load(Relaxed);
    if links > 0 {
        line.push_str(&format!(", {links} symlinks not followed"));
    }
    if !outcome.errors.is_empty() {
        line.push_str(&format!(
            ", {} error{}",
            outcome.errors.len(),
            if outcome.errors.len() == 1 { "" } else { "s" }
        ));
    }
    line
}

fn rules_list(args: &RuleArgs, json: bool) -> Result<u8> {
    let engine = load_engine(args, Path::new("."), false)?;
    let rules = &engine.rules().rules;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if json {
        let items: Vec<_> = rules
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id,
                    "description": r.description,
                    "family": r.family,
                    "confidence": r.confidence,
                    "keywords": r.keywords,
                    "tags": r.tags,
                    "checksum": r.checksum.map(|c| format!("{c:?}")),
                    "max_len": r.max_len,
                    "multiline": r.multiline,
                    "references": r.references,
                })
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &items)?;
        writeln!(out)?;
    } else {
        let width = rules.iter().map(|r| r.id.len()).max().unwrap_or(2).max(2);
        writeln!(
            out,
            "{:width$}  {:6}  {:24}  DESCRIPTION",
            "ID", "CONF", "KEYWORDS"
        )?;
        for r in rules {
            let mut kw = r.keywords.join(",");
            if kw.chars().count() > 24 {
                // By characters: keywords need not be ASCII.
                kw = kw.chars().take(21).chain("...".chars()).collect();
            }
            if matches!(r.strategy, Strategy::Full { .. }) && kw.is_empty() {
                kw = "(none: full scan)".into();
            }
            writeln!(
                out,
                "{:width$}  {:6}  {:24}  {}",
                r.id,
                r.confidence.as_str(),
                kw,
                r.description
            )?;
        }
        writeln!(out, "{} rules", rules.len())?;
    }
    out.flush()?;
    Ok(EXIT_CLEAN)
}

fn rules_check(file: Option<&Path>, strict: bool) -> Result<u8> {
    let loaded = match file {
        Some(p) => {
            LoadedConfig::from_path(p).with_context(|| format!("loading {}", p.display()))?
        }
        None => LoadedConfig::builtin(),
    };
    let origin = loaded.origin.clone();
    let rules = RuleSet::from_loaded(loaded).with_context(|| format!("loading {origin}"))?;
    for w in &rules.warnings {
        eprintln!("shush: warning: {w}");
    }
    if let Err(e) = rules.validate() {
        bail!("{origin}: {e}");
    }
    let engine = Engine::new(rules, EngineOptions::default())?;
    let report = shush::rules::check::check(&engine);
    let mut out = std::io::stdout().lock();
    for p in &report.failures {
        writeln!(out, "FAIL {}: {}", p.rule, p.message)?;
    }
    for p in &report.lints {
        writeln!(
            out,
            "{} {}: {}",
            if strict { "FAIL" } else { "lint" },
            p.rule,
            p.message
        )?;
    }
    writeln!(
        out,
        "{origin}: {} rules, {} examples, {} failures, {} lint problems",
        report.rules,
        report.examples,
        report.failures.len(),
        report.lints.len()
    )?;
    let failed = !report.failures.is_empty() || (strict && !report.lints.is_empty());
    Ok(if failed { 1 } else { EXIT_CLEAN })
}
