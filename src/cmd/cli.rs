//! Command-line definitions (clap).

use clap::{Args, Parser, Subcommand, ValueEnum};
use shush::redact::MaskStyle;
use shush::report::Format;
use std::path::PathBuf;

/// shush: find and stop secret leaks — in commits, CI logs, artifacts and history.
#[derive(Debug, Parser)]
#[command(
    name = "shush",
    version,
    about,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Folds gitleaks-style aliases into the settings they mean (see [`OutputArgs`]).
    pub fn normalise(&mut self) {
        match &mut self.command {
            Command::Scan(a) => a.output.normalise(),
            Command::Image(a) => a.output.normalise(),
            Command::Git(a) => a.output.normalise(),
            Command::Ci(a) => a.output.normalise(),
            _ => {}
        }
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files, directories, or standard input (`-`) for secrets.
    Scan(ScanArgs),
    /// Scan container images (docker save tarballs, OCI layouts as a directory or a tar):
    /// config, history and every file of every layer, deleted ones included.
    Image(ImageArgs),
    /// List the rules, or test rules against their examples.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Redact secrets from standard input to standard output (a pipe for CI logs).
    Redact(crate::cmd::redact::RedactArgs),
    /// Run a command with its standard output and standard error redacted.
    Run(crate::cmd::redact::RunArgs),
    /// Audit git history (every blob of every ref, each once), a range of commits, the
    /// staged changes (pre-commit) or the commits being pushed (pre-push).
    Git(Box<crate::cmd::git::GitArgs>),
    /// Scan what a CI job's event brings (a pull or merge request's commits, a push, a tag),
    /// with the CI's own outputs: GitHub annotations and step summary, GitLab's
    /// secret-detection report, SARIF.
    Ci(Box<crate::cmd::ci::CiArgs>),
    /// Print a shell completion script (e.g. `shush completions bash > /etc/bash_completion.d/shush`).
    Completions(crate::cmd::docs::CompletionsArgs),
    /// Print the man page, or write every page with --out DIR.
    Man(crate::cmd::docs::ManArgs),
    /// Install or remove the pre-commit and pre-push hooks.
    #[command(subcommand)]
    Hook(crate::cmd::hook::HookCommand),
    /// Triage the secrets of a store written by `--store`: list, show, mark (false-positive,
    /// accepted-risk, revoked), import a baseline, export one.
    Triage(crate::cmd::triage::TriageArgs),
    /// Audit many repositories with any number of workers sharing one store: queue them,
    /// work through the queue, see where it stands.
    Fleet(crate::cmd::fleet::FleetArgs),
}

/// Where the rules come from.
#[derive(Debug, Clone, Args)]
pub struct RuleArgs {
    /// A gitleaks, Betterleaks or shush TOML rule file (default: `.shush.toml` or
    /// `.gitleaks.toml` at the scan root, else the built-in rules).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Ignore `.shush.toml` / `.gitleaks.toml` at the scan root; use the built-in rules.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
    /// Levels of base64 / percent-encoding to decode and rescan (0 disables decoding).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub decode_depth: usize,
    /// Do not honour inline `shush:allow` / `gitleaks:allow` comments.
    #[arg(long)]
    pub no_inline_allow: bool,
    /// Leave out this rule (repeatable; `shush rules list` shows the ids).
    #[arg(long, value_name = "ID", action = clap::ArgAction::Append)]
    pub disable_rule: Vec<String>,
    /// Run only this rule and the rules it requires (repeatable).
    #[arg(long, value_name = "ID", action = clap::ArgAction::Append)]
    pub enable_rule: Vec<String>,
    /// Leave out rules less sure than this.
    #[arg(long, value_name = "LEVEL", value_parser = parse_confidence)]
    pub min_confidence: Option<shush::rules::Confidence>,
}

impl RuleArgs {
    /// The rule selection these flags ask for.
    pub fn selection(&self) -> shush::rules::RuleSelection {
        shush::rules::RuleSelection {
            disable: self.disable_rule.clone(),
            enable: self.enable_rule.clone(),
            min_confidence: self.min_confidence,
        }
    }
}

/// Parses `low`, `medium` or `high`.
fn parse_confidence(s: &str) -> Result<shush::rules::Confidence, String> {
    shush::rules::Confidence::parse(s).ok_or_else(|| format!("{s:?}: expected low, medium or high"))
}

/// When to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// How findings are reported. gitleaks' flags are accepted where they mean the same:
/// `--report-format`, `--report-path`, `--baseline-path`, `--redact`, `--no-color`,
/// `-v`/`--verbose`, `--log-level`, `--exit-code`, `--no-banner`.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Report format.
    #[arg(long, short = 'f', alias = "report-format", value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
    /// Write the report to FILE instead of standard output.
    #[arg(
        long,
        short = 'o',
        alias = "report-path",
        short_alias = 'r',
        value_name = "FILE"
    )]
    pub output: Option<PathBuf>,
    /// Show secrets unmasked in the report (default: a short prefix and the length).
    #[arg(long, conflicts_with = "redact")]
    pub show_secrets: bool,
    /// Secrets are always masked unless --show-secrets; accepted for gitleaks compatibility.
    #[arg(
        long,
        value_name = "PERCENT",
        num_args = 0..=1,
        default_missing_value = "100",
        hide_short_help = true
    )]
    pub redact: Option<u8>,
    /// Suppress findings already in this report: a shush JSON/JSONL/SARIF report or a
    /// gitleaks JSON report (default: `.shush-baseline.jsonl` at the root, when present).
    #[arg(long, alias = "baseline-path", short_alias = 'b', value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Do not pick up `.shush-baseline.jsonl` and `.gitleaksignore` at the root.
    #[arg(long)]
    pub no_baseline: bool,
    /// Record the findings in a triage store (an SQLite file, created if missing): where and
    /// when each secret was seen, what is gone; secrets triaged as false-positive,
    /// accepted-risk or revoked (`shush triage set`) are not reported again.
    #[arg(long, value_name = "FILE")]
    pub store: Option<PathBuf>,
    /// With --store: report only the places no earlier run saw (a nightly audit alerts on
    /// what is new).
    #[arg(long, requires = "store")]
    pub new_only: bool,
    /// Exit code when secrets are found (errors always exit 2).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub exit_code: u8,
    /// Colour in text output (`auto` honours NO_COLOR and CLICOLOR_FORCE).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Same as --color never.
    #[arg(long, hide_short_help = true)]
    pub no_color: bool,
    /// No summary, warnings or progress on stderr (errors are still printed).
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Accepted for gitleaks compatibility (findings are always listed).
    #[arg(long, short = 'v', hide_short_help = true)]
    pub verbose: bool,
    /// gitleaks' log level: `error` or `fatal` is --quiet; the others change nothing.
    #[arg(
        long,
        value_name = "LEVEL",
        value_parser = ["trace", "debug", "info", "warn", "error", "fatal"],
        hide_short_help = true
    )]
    pub log_level: Option<String>,
    /// Accepted for gitleaks compatibility (shush prints no banner).
    #[arg(long, hide = true)]
    pub no_banner: bool,
}

impl OutputArgs {
    /// Folds the gitleaks-style aliases into the settings they mean.
    pub fn normalise(&mut self) {
        if self.no_color {
            self.color = ColorChoice::Never;
        }
        if matches!(self.log_level.as_deref(), Some("error" | "fatal")) {
            self.quiet = true;
        }
    }
}

/// Whether to colour output written to a stream: `always` and `never` decide; `auto`
/// colours a terminal unless `NO_COLOR` is set (non-empty), and colours any stream when
/// `CLICOLOR_FORCE` is set (non-empty, not `0`) and `NO_COLOR` is not.
pub fn use_color(choice: ColorChoice, is_terminal: bool) -> bool {
    let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty() && v != "0");
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) => false,
        ColorChoice::Auto => set("CLICOLOR_FORCE") || is_terminal,
    }
}

/// `shush scan`.
#[derive(Debug, Clone, Args)]
pub struct ScanArgs {
    /// Files and directories to scan; `-` reads standard input.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Rules.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Output.
    #[command(flatten)]
    pub output: OutputArgs,
    /// Honour .gitignore, .ignore and git exclude files (default: scan everything, since an
    /// ignored file still leaks into an artifact).
    #[arg(long)]
    pub gitignore: bool,
    /// Follow symbolic links while walking.
    #[arg(long, short = 'L')]
    pub follow: bool,
    /// Skip files larger than this (e.g. 500K, 64M, 2G).
    #[arg(long, value_name = "SIZE", default_value = "256M", value_parser = parse_size)]
    pub max_file_size: u64,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N", default_value_t = 0)]
    pub threads: usize,
    /// Never draw a progress line.
    #[arg(long)]
    pub no_progress: bool,
    /// Archives and images.
    #[command(flatten)]
    pub artifacts: ArtifactArgs,
}

/// How archives and container images are read.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Archives and images")]
pub struct ArtifactArgs {
    /// Archives nested inside one another that are opened (0: scan archives as plain bytes;
    /// at most 64).
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = parse_max_depth)]
    pub max_depth: usize,
    /// Largest archive entry read, inflated; also bounds the memory holding a nested zip.
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_size)]
    pub max_entry_size: u64,
    /// Total bytes one artifact may inflate to.
    #[arg(long, value_name = "SIZE", default_value = "64G", value_parser = parse_size)]
    pub max_total_size: u64,
    /// Entries one artifact may hold, at every level.
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub max_entries: u64,
    /// Largest compression ratio of a stream, an entry or a zip as a whole (checked past
    /// 16 MiB inflated).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub max_ratio: u64,
    /// Temporary disk space nested zips may take at once (those too large to hold in memory;
    /// the files are unlinked, nothing is left behind).
    #[arg(long, value_name = "SIZE", default_value = "4G", value_parser = parse_size)]
    pub max_temp_size: u64,
    /// Report corrupt, truncated, encrypted or over-cap members as warnings (default: they
    /// are errors and the exit code is 2).
    #[arg(long)]
    pub skip_unreadable: bool,
    /// Cache image layer results in DIR, keyed by layer digest and rule-set version (no
    /// full secret is ever written there; ignored with --show-secrets).
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
}

impl ArtifactArgs {
    /// The library's options.
    pub fn options(&self) -> shush::archive::ArtifactOptions {
        shush::archive::ArtifactOptions {
            limits: shush::archive::Limits {
                max_depth: self.max_depth,
                max_entry_size: self.max_entry_size,
                max_total_size: self.max_total_size,
                max_entries: self.max_entries,
                max_ratio: self.max_ratio,
                max_temp_size: self.max_temp_size,
            },
            skip_unreadable: self.skip_unreadable,
            cache: self.cache.clone(),
        }
    }
}

/// `shush image`.
#[derive(Debug, Clone, Args)]
pub struct ImageArgs {
    /// Image tarballs (`docker save`, OCI layout tar) or OCI layout directories.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// Rules.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Output.
    #[command(flatten)]
    pub output: OutputArgs,
    /// Archives and images.
    #[command(flatten)]
    pub artifacts: ArtifactArgs,
}

/// `shush rules …`.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the rules in effect.
    List {
        /// Rules.
        #[command(flatten)]
        rules: RuleArgs,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Check a rule file (default: the built-in rules): regexes compile, examples match with
    /// the right secret, negative examples do not.
    Check {
        /// The TOML file to check.
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,
        /// Also fail on lint problems (missing keywords, unbounded regexes, too few examples).
        #[arg(long)]
        strict: bool,
    },
}

/// Parses `--max-depth`: a nesting of up to [`shush::archive::MAX_NESTING`] levels.
pub fn parse_max_depth(s: &str) -> Result<usize, String> {
    let n: usize = s.parse().map_err(|e| format!("{e}"))?;
    let max = shush::archive::MAX_NESTING;
    if n > max {
        return Err(format!(
            "at most {max} (deeper nesting is a bomb, not an artifact)"
        ));
    }
    Ok(n)
}

/// Parses a size with an optional K/M/G suffix (powers of 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let mult = match c.to_ascii_uppercase() {
                'K' => 1u64 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'B' => 1,
                _ => return Err(format!("unknown size suffix {c:?} (use K, M or G)")),
            };
            (&s[..i], mult)
        }
        _ => (s, 1),
    };
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| format!("not a size: {s:?}"))?;
    n.checked_mul(mult)
        .ok_or_else(|| format!("size too large: {s:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("10"), Ok(10));
        assert_eq!(parse_size("2K"), Ok(2048));
        assert_eq!(parse_size("3m"), Ok(3 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert!(parse_size("1X").is_err());
        assert!(parse_size("").is_err());
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}

/// `--format`: the command line's names for [`Format`] (the library's types do not depend on
/// clap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Grouped by secret: locations, first and last seen, what it grants and how to revoke
    /// it, then a summary (colour on a terminal).
    Text,
    /// `path:line:col: rule secret #id`, one finding a line (for editors and grep).
    Lines,
    /// A JSON array of findings.
    Json,
    /// One JSON finding per line.
    Jsonl,
    /// SARIF 2.1.0, for code-scanning UIs.
    Sarif,
    /// CSV with gitleaks' columns first (secrets masked), for spreadsheets.
    Csv,
    /// JUnit XML, for CI test UIs: a failing testcase per finding, an error per unscanned input.
    Junit,
    /// One self-contained HTML page (findings grouped by secret, with filters): use -o.
    Html,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Text => Format::Text,
            FormatArg::Lines => Format::Lines,
            FormatArg::Json => Format::Json,
            FormatArg::Jsonl => Format::Jsonl,
            FormatArg::Sarif => Format::Sarif,
            FormatArg::Csv => Format::Csv,
            FormatArg::Junit => Format::Junit,
            FormatArg::Html => Format::Html,
        }
    }
}

/// `--mask`: the command line's names for [`MaskStyle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum MaskArg {
    /// `[REDACTED:<rule-id>]`.
    #[default]
    Label,
    /// `***`.
    Stars,
    /// A short prefix of the secret as it appears in the log, then `***` (at most four
    /// printable ASCII characters and never more than a quarter of the secret: `ghp_***`).
    /// Found by a rule only: a known value (`--secret-env`, `::add-mask::`) has no public
    /// prefix, so it is `***` on every line.
    Prefix,
    /// `[REDACTED:<rule-id>:<hash>]`: eight hex digits of a keyed hash of the secret, so that
    /// equal secrets can be correlated within a log. The key is random per run unless
    /// `SHUSH_MASK_KEY` is set (the same key gives the same hashes across runs).
    Hash,
}

impl From<MaskArg> for MaskStyle {
    fn from(m: MaskArg) -> MaskStyle {
        match m {
            MaskArg::Label => MaskStyle::Label,
            MaskArg::Stars => MaskStyle::Stars,
            MaskArg::Prefix => MaskStyle::Prefix,
            MaskArg::Hash => MaskStyle::Hash,
        }
    }
}
