//! Arguments of `shush redact` and `shush run`, the setup they share (rules, known secrets,
//! report) and `shush redact` itself. Errors here are `anyhow` (the binary's edge).

mod ci;
mod pump;
mod register;
pub mod run;

pub use register::RegisterMasks;

use self::ci::Ci;
use self::register::{Stream, Targets, registration_values};
use crate::cmd::cli::{MaskArg, RuleArgs};
use anyhow::{Context, Result};
use clap::Args;
use shush::engine::Engine;
use shush::redact::Masker;
use shush::redact::Plan;
use shush::redact::{KnownRegistry, KnownValue};
use shush::redact::{Redaction, Stats};
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Where the rules come from. Unlike `shush scan`, a rule file in the working directory is
/// never picked up: an untrusted change could otherwise switch redaction off.
#[derive(Debug, Clone, Args)]
pub struct RedactRuleArgs {
    /// A gitleaks, Betterleaks or shush TOML rule file (default: the built-in rules).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Levels of base64 / percent-encoding to decode and rescan (0 disables decoding).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub decode_depth: usize,
}

/// Values the pipeline already knows to be secret.
#[derive(Debug, Clone, Args)]
pub struct SecretArgs {
    /// Mask the value of this environment variable (repeatable).
    #[arg(long, value_name = "NAME")]
    pub secret_env: Vec<String>,
    /// Mask the values of environment variables whose names match these globs,
    /// comma-separated, case-insensitive (repeatable), e.g. `*TOKEN*,*SECRET*,*PASSWORD*,*_KEY`.
    #[arg(long, value_name = "GLOB[,GLOB…]")]
    pub secret_env_match: Vec<String>,
    /// Mask every line of FILE as a value (repeatable).
    #[arg(long, value_name = "FILE")]
    pub secrets_file: Vec<PathBuf>,
    /// Do not honour GitHub Actions `::add-mask::VALUE` lines in the stream.
    #[arg(long)]
    pub no_add_mask: bool,
    /// Where to register masks with the GitHub Actions runner (the values of `::add-mask::`
    /// lines, which shush masks, and known secrets at start): `auto` under
    /// `GITHUB_ACTIONS=true` on a stream proven to be the runner's own pipe.
    #[arg(long, value_enum, value_name = "WHERE", default_value_t = RegisterMasks::Auto)]
    pub register_masks: RegisterMasks,
    /// Do not mask the CI's own credentials found in the environment (GitHub Actions:
    /// `GITHUB_TOKEN`, `ACTIONS_RUNTIME_TOKEN`, `ACTIONS_ID_TOKEN_REQUEST_TOKEN`; GitLab CI:
    /// `CI_JOB_TOKEN`, `CI_REGISTRY_PASSWORD`, `CI_DEPENDENCY_PROXY_PASSWORD`,
    /// `CI_DEPLOY_PASSWORD`, `CI_JOB_JWT*`, the token in `CI_REPOSITORY_URL`).
    #[arg(long)]
    pub no_ci_secrets: bool,
    /// Fail (exit 2, before any input passes) when a known secret cannot be masked: a
    /// `--secret-env` variable that is not set, or a value that is empty or too short.
    #[arg(long)]
    pub strict: bool,
}

/// Output settings shared by `redact` and `run`.
#[derive(Debug, Clone, Args)]
pub struct RedactOutputArgs {
    /// How a secret is replaced.
    #[arg(long, value_enum, default_value_t = MaskArg::Label)]
    pub mask: MaskArg,
    /// Release a partial line (a prompt, a progress bar) after it has waited this long,
    /// except for a tail that could still start a secret.
    #[arg(long, value_name = "MS", default_value_t = 100)]
    pub hold_ms: u64,
    /// Write one JSON line per redaction (secrets masked) to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Exit 1 when anything was redacted (after the whole log has been written).
    #[arg(long)]
    pub fail_on_secret: bool,
    /// No summary or warnings on stderr (errors are still printed).
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// `shush redact`.
#[derive(Debug, Clone, Args)]
pub struct RedactArgs {
    /// Rules.
    #[command(flatten)]
    pub rules: RedactRuleArgs,
    /// Known secrets.
    #[command(flatten)]
    pub secrets: SecretArgs,
    /// Output.
    #[command(flatten)]
    pub output: RedactOutputArgs,
}

/// `shush run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Rules.
    #[command(flatten)]
    pub rules: RedactRuleArgs,
    /// Known secrets.
    #[command(flatten)]
    pub secrets: SecretArgs,
    /// Output.
    #[command(flatten)]
    pub output: RedactOutputArgs,
    /// Give the command one pipe for its standard output and standard error (as `2>&1`
    /// does), redacted as one stream to standard output: lines keep the order in which the
    /// command wrote them.
    #[arg(long)]
    pub merge: bool,
    /// The command and its arguments.
    #[arg(
        value_name = "CMD",
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub command: Vec<OsString>,
}

/// Everything a redacting command needs, loaded before any input is read (so that a bad
/// rule file or secrets file fails before a byte passes).
pub(crate) struct Setup {
    pub engine: Engine,
    pub plan: Plan,
    pub registry: Arc<KnownRegistry>,
    pub masker: Masker,
    pub hold: Duration,
    pub add_mask: bool,
    pub report: Option<ReportSink>,
    pub warnings: Vec<String>,
    /// Known secrets that will not be masked: printed even with `--quiet`.
    pub unmasked: Vec<String>,
    /// The streams masks are registered on with the GitHub Actions runner.
    pub targets: Targets,
    /// Known secrets to register with the runner at start.
    pub startup: Vec<Vec<u8>>,
}

impl Setup {
    pub fn new(
        rules: &RedactRuleArgs,
        secrets: &SecretArgs,
        output: &RedactOutputArgs,
    ) -> Result<Self> {
        let rule_args = RuleArgs {
            config: rules.config.clone(),
            no_config: rules.config.is_none(),
            decode_depth: rules.decode_depth,
            no_inline_allow: true,
            disable_rule: Vec::new(),
            enable_rule: Vec::new(),
            min_confidence: None,
        };
        let engine = crate::cmd::app::load_engine(&rule_args, Path::new("."), output.quiet)?;
        let plan = Plan::new(&engine);
        let ci = Ci::detect();
        let targets = Targets::resolve(secrets.register_masks, ci.github)?;
        let mut unmasked = Vec::new();
        let values = known_values(secrets, ci, &mut unmasked)?;
        if secrets.strict && !unmasked.is_empty() {
            anyhow::bail!(
                "--strict: {} (nothing was read; drop --strict to redact anyway)",
                unmasked.join("; ")
            );
        }
        let report = match &output.report {
            Some(p) => Some(ReportSink::create(p)?),
            None => None,
        };
        // In order, without repeats (a set: a linear search would be quadratic in the
        // number of values).
        let mut startup: Vec<Vec<u8>> = Vec::new();
        let mut seen: std::collections::HashSet<Vec<u8>> = std::collections::HashSet::new();
        for v in &values {
            for r in registration_values(v.value()) {
                if seen.insert(r.clone()) {
                    startup.push(r);
                }
            }
        }
        Ok(Setup {
            targets,
            startup,
            engine,
            plan,
            registry: Arc::new(KnownRegistry::new(values)),
            masker: Masker::new(output.mask.into()),
            hold: Duration::from_millis(output.hold_ms),
            add_mask: !secrets.no_add_mask,
            report,
            warnings: Vec::new(),
            unmasked,
        })
    }
}

/// Gathers the known values; warns (naming the source, never the value) about unset, empty
/// or too-short ones.
pub(crate) fn known_values(
    args: &SecretArgs,
    ci: Ci,
    warnings: &mut Vec<String>,
) -> Result<Vec<KnownValue>> {
    let mut values: Vec<KnownValue> = Vec::new();
    let mut push = |r: Result<KnownValue, shush::error::KnownValueError>,
                    warnings: &mut Vec<String>| match r {
        Ok(v) => values.push(v),
        Err(w) => warnings.push(w.to_string()),
    };
    let mut names: Vec<String> = Vec::new();
    for name in &args.secret_env {
        if names.contains(name) {
            continue;
        }
        names.push(name.clone());
        match std::env::var_os(name) {
            Some(v) => push(
                KnownValue::new(format!("env:{name}"), v.as_encoded_bytes()),
                warnings,
            ),
            None => warnings.push(format!(
                "not masking env:{name}: it is not set (--secret-env {name} names no \
                 variable; check the name, or pass --strict to make this an error)"
            )),
        }
    }
    let globs: Vec<&str> = args
        .secret_env_match
        .iter()
        .flat_map(|g| g.split(','))
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .collect();
    if !globs.is_empty() {
        let mut b = globset::GlobSetBuilder::new();
        for g in &globs {
            b.add(
                globset::GlobBuilder::new(g)
                    .case_insensitive(true)
                    .literal_separator(false)
                    .build()
                    .with_context(|| format!("--secret-env-match: bad glob {g:?}"))?,
            );
        }
        let set = b.build().context("--secret-env-match")?;
        let mut vars: Vec<(OsString, OsString)> = std::env::vars_os().collect();
        vars.sort();
        for (k, v) in vars {
            let Some(name) = k.to_str() else { continue };
            if names.iter().any(|n| n == name) || !set.is_match(name) {
                continue;
            }
            names.push(name.to_string());
            push(
                KnownValue::new(format!("env:{name}"), v.as_encoded_bytes()),
                warnings,
            );
        }
    }
    for path in &args.secrets_file {
        let text = read_secrets_file(path)?;
        for (i, line) in text.split(|&b| b == b'\n').enumerate() {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                continue;
            }
            push(
                KnownValue::new(format!("{}:{}", path.display(), i + 1), line),
                warnings,
            );
        }
    }
    if !args.no_ci_secrets {
        values.extend(self::ci::credentials(ci, &names, warnings));
    }
    Ok(values)
}

/// The most a secrets file may hold: far more than any pipeline's secrets, far less than
/// what would exhaust memory (`--secrets-file /dev/zero`).
const MAX_SECRETS_FILE_BYTES: u64 = 16 << 20;

/// Reads a `--secrets-file`: a regular file or a pipe (`<(vault kv get …)`), never a device
/// or directory, and at most [`MAX_SECRETS_FILE_BYTES`].
fn read_secrets_file(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let what = || format!("secrets file {}", path.display());
    let md = std::fs::metadata(path).with_context(|| format!("reading {}", what()))?;
    let kind_ok = md.is_file() || {
        #[cfg(unix)]
        {
            std::os::unix::fs::FileTypeExt::is_fifo(&md.file_type())
        }
        #[cfg(not(unix))]
        {
            false
        }
    };
    if !kind_ok {
        anyhow::bail!("{}: not a regular file or a pipe", what());
    }
    let mut text = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_SECRETS_FILE_BYTES + 1).read_to_end(&mut text))
        .with_context(|| format!("reading {}", what()))?;
    if text.len() as u64 > MAX_SECRETS_FILE_BYTES {
        anyhow::bail!(
            "{}: larger than {} MiB; not a secrets file",
            what(),
            MAX_SECRETS_FILE_BYTES >> 20
        );
    }
    Ok(text)
}

/// The `--report` file: one JSON object per redaction.
pub(crate) struct ReportSink {
    out: std::io::BufWriter<std::fs::File>,
}

impl ReportSink {
    fn create(path: &Path) -> Result<Self> {
        let f = std::fs::File::create(path)
            .with_context(|| format!("creating report {}", path.display()))?;
        Ok(ReportSink {
            out: std::io::BufWriter::new(f),
        })
    }

    pub fn write(&mut self, engine: &Engine, stream: &str, events: &[Redaction]) -> Result<()> {
        for e in events {
            let obj = shush::redact::RedactionRecord::new(engine, stream, e);
            serde_json::to_writer(&mut self.out, &obj)?;
            self.out.write_all(b"\n")?;
        }
        Ok(())
    }

    pub fn finish(&mut self) -> Result<()> {
        self.out.flush().context("writing the report")
    }
}

/// Compiles every rule's regex and every multi-line tracker now (on another core), so that
/// the first line to trigger a rule does not wait for its compilation: without this, the
/// slowest lines of a log are those that first hit each rule.
pub(crate) fn warm_up(engine: &Engine, plan: &Plan) {
    plan.warm_up(engine);
}

/// `shush: redacted N secrets (rules: a ×2, b)`.
pub(crate) fn summary(stats: &[&Stats]) -> String {
    let mut by: std::collections::BTreeMap<&str, u64> = Default::default();
    let mut n = 0;
    for s in stats {
        n += s.redactions;
        for (k, v) in &s.by_label {
            *by.entry(k).or_insert(0) += v;
        }
    }
    let mut line = format!(
        "shush: redacted {n} secret{}",
        if n == 1 { "" } else { "s" }
    );
    if !by.is_empty() {
        let parts: Vec<String> = by
            .iter()
            .map(|(k, v)| {
                if *v > 1 {
                    format!("{k} x{v}")
                } else {
                    k.to_string()
                }
            })
            .collect();
        line.push_str(&format!(" (rules: {})", parts.join(", ")));
    }
    let fc: u64 = stats.iter().map(|s| s.fail_closed).sum();
    if fc > 0 {
        line.push_str(&format!(
            "; {fc} block{} masked whole because a possible secret never completed",
            if fc == 1 { "" } else { "s" }
        ));
    }
    line
}

/// Registers the known secrets with the GitHub Actions runner at start, on the stream the
/// targets pick for output written to `own`. Returns a warning when that is not possible.
pub(crate) fn register_at_start(setup: &Setup, own: Stream) -> Option<String> {
    if setup.startup.is_empty() {
        return None;
    }
    let Some(stream) = setup.targets.pick(own) else {
        let note = setup.targets.note.as_deref()?;
        return Some(unregistered(setup.startup.len(), "known secret", note));
    };
    // A line of its own, whatever was written to the stream before shush started.
    let mut buf = b"\n".to_vec();
    buf.extend(self::register::lines(&setup.startup));
    let res = match stream {
        Stream::Stdout => {
            let mut o = std::io::stdout().lock();
            o.write_all(&buf).and_then(|()| o.flush())
        }
        Stream::Stderr => std::io::stderr().write_all(&buf),
    };
    res.err()
        .map(|e| format!("registering known secrets with the GitHub Actions runner: {e}"))
}

/// The warning for `n` values that could not be registered with the runner.
pub(crate) fn unregistered(n: usize, what: &str, note: &str) -> String {
    format!(
        "{n} {what}{} not registered with the GitHub Actions runner ({note}); if one of \
         shush's streams leads to the runner, say which with --register-masks",
        if n == 1 { "" } else { "s" }
    )
}

/// Prints the known secrets that will not be masked, whatever `--quiet` says: a secret the
/// user asked for and that is not masked is never noise.
pub(crate) fn print_unmasked(setup: &Setup) {
    for w in &setup.unmasked {
        eprintln!("shush: warning: {w}");
    }
}

/// `shush redact`: standard input to standard output.
pub fn redact_cmd(args: RedactArgs) -> Result<u8> {
    let mut setup = Setup::new(&args.rules, &args.secrets, &args.output)?;
    if let Some(w) = register_at_start(&setup, Stream::Stdout) {
        setup.warnings.push(w);
    }
    print_unmasked(&setup);
    if !args.output.quiet {
        for w in &setup.warnings {
            eprintln!("shush: warning: {w}");
        }
    }
    let mut report = setup.report.take();
    let setup = &setup;
    // A stream (pipe, terminal) wants every line fast from the start; a file read whole does
    // not, and would only pay for compiling rules it never triggers.
    let streaming = {
        use std::os::fd::AsFd;
        std::io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .map(std::fs::File::from)
            .and_then(|f| f.metadata())
            .map_or(true, |m| !m.is_file())
    };
    let outcome = std::thread::scope(|s| {
        if streaming {
            s.spawn(move || warm_up(&setup.engine, &setup.plan));
        }
        self::pump::redact_stdio(setup, &mut report)
    })?;
    if let Some(r) = &mut report {
        r.finish()?;
    }
    if outcome.broken_pipe {
        return Ok(crate::cmd::app::EXIT_CLEAN);
    }
    if !args.output.quiet {
        for w in &outcome.warnings {
            eprintln!("shush: warning: {w}");
        }
        if let (n @ 1.., Some(note)) = (outcome.unregistered, &setup.targets.note) {
            eprintln!(
                "shush: warning: {}",
                unregistered(n, "add-mask value", note)
            );
        }
    }
    if let Some(e) = &outcome.error {
        eprintln!("shush: error: {e}");
        return Ok(crate::cmd::app::EXIT_ERROR);
    }
    if !args.output.quiet {
        eprintln!("{}", summary(&[&outcome.stats]));
    }
    Ok(
        if args.output.fail_on_secret && outcome.stats.redactions > 0 {
            1
        } else {
            crate::cmd::app::EXIT_CLEAN
        },
    )
}
