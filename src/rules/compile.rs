//! Turning a loaded configuration into a [`RuleSet`]: compiled allowlists, scan strategies
//! derived from regex analysis, and regexes that compile lazily on first use.

use super::analysis::{self, RegexAnalysis, RegexError};
use super::load::{self, LoadedConfig};
use super::spec::{AllowlistSpec, ConfigFile, ExampleSpec, NegativeSpec, RuleSpec};
use crate::checksum::Checksum;
use crate::error::{Error, Result};
use aho_corasick::AhoCorasick;
use regex_automata::meta;
use serde::Serialize;
use sha2::Digest;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

mod engine_plan;
use engine_plan::EnginePlan;

/// Bound used for a single-line regex whose match length is otherwise unbounded.
pub const DEFAULT_UNBOUNDED_LEN: usize = 4 * 1024;
/// Bound used for a multi-line regex whose match length is otherwise unbounded.
pub const DEFAULT_UNBOUNDED_MULTILINE_LEN: usize = 16 * 1024;
/// No rule may look further than this, whatever its regex says: it bounds the overlap
/// between chunks and the bytes a streaming redactor may hold back.
pub const HARD_MAX_LEN: usize = 64 * 1024;
/// Derived keywords shorter than this select too much input to be worth using as anchors.
pub const MIN_DERIVED_KEYWORD_LEN: usize = 3;

/// How sure a rule is that a match is a live secret.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Context or entropy based (generic assignments).
    Low,
    /// A distinctive format without a checksum, or a weaker context rule.
    Medium,
    /// A distinctive prefix and format, or a verified checksum.
    High,
}

impl Confidence {
    /// Parses `high`, `medium` or `low` (case-insensitive).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "high" => Some(Confidence::High),
            "medium" => Some(Confidence::Medium),
            "low" => Some(Confidence::Low),
            _ => None,
        }
    }

    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::High => "high",
            Confidence::Medium => "medium",
            Confidence::Low => "low",
        }
    }
}

/// Builds a byte regex the way every shush regex is built: ASCII classes (RE2 semantics),
/// matching on arbitrary bytes; Unicode mode only when the pattern needs it. An error
/// names what is wrong and where, never the pattern text (it may hold a real secret).
pub fn build_regex(pattern: &str, unicode: bool) -> std::result::Result<meta::Regex, RegexError> {
    let pattern = &*analysis::go_compat(pattern);
    let syntax = regex_automata::util::syntax::Config::new()
        .unicode(unicode)
        .utf8(false);
    let config = meta::Config::new()
        .utf8_empty(false)
        .nfa_size_limit(Some(20 << 20))
        .hybrid_cache_capacity(1 << 20);
    let build = |syntax| -> std::result::Result<meta::Regex, RegexError> {
        meta::Regex::builder()
            .syntax(syntax)
            .configure(config.clone())
            .build(pattern)
            .map_err(|e| RegexError::from_build(&e))
    };
    match build(syntax) {
        Ok(re) => Ok(re),
        Err(_) if !unicode => build(syntax.unicode(true)),
        Err(e) => Err(e),
    }
}

/// A regex compiled on first use, so that a scan pays only for the rules its input triggers.
#[derive(Debug)]
pub struct LazyRegex {
    pattern: String,
    unicode: bool,
    cell: OnceLock<std::result::Result<meta::Regex, RegexError>>,
}

impl LazyRegex {
    /// A lazily compiled `pattern`.
    pub fn new(pattern: impl Into<String>, unicode: bool) -> Self {
        LazyRegex {
            pattern: pattern.into(),
            unicode,
            cell: OnceLock::new(),
        }
    }

    /// The source pattern.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The compiled regex, compiling it now if needed. The error never holds the pattern.
    pub fn get(&self) -> std::result::Result<&meta::Regex, &RegexError> {
        self.cell
            .get_or_init(|| build_regex(&self.pattern, self.unicode))
            .as_ref()
    }

    /// Whether the regex matches anywhere in `hay`; a regex that failed to compile matches
    /// nothing (configurations are validated when loaded, so this is only a safeguard).
    pub fn is_match(&self, hay: &[u8]) -> bool {
        self.get().is_ok_and(|re| re.is_match(hay))
    }
}

/// What allowlist `regexes` are tested against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RegexTarget {
    /// The captured secret (gitleaks default).
    Secret,
    /// The whole regex match.
    Match,
    /// The whole line(s) of the match.
    Line,
}

/// A compiled allowlist.
#[derive(Debug)]
pub struct Allowlist {
    /// Human description.
    pub description: Option<String>,
    /// `true` for `condition = "AND"`: every criterion that is set must hold.
    pub and: bool,
    commits: HashSet<String>,
    paths: Option<LazyRegex>,
    /// What the regexes test.
    pub target: RegexTarget,
    regexes: Option<LazyRegex>,
    stopwords: Vec<String>,
    /// Applies when scanning only: a redactor ignores it (`scan_only`).
    pub scan_only: bool,
    /// The stopwords' automaton, built on first use.
    stopword_ac: OnceLock<Option<AhoCorasick>>,
}

/// What an allowlist is checked against.
#[derive(Debug, Clone, Copy)]
pub struct AllowCandidate<'a> {
    /// The captured secret.
    pub secret: &'a [u8],
    /// The whole match.
    pub matched: &'a [u8],
    /// The line(s) containing the match.
    pub line: &'a [u8],
    /// The input's path, if it has one.
    pub path: Option<&'a str>,
    /// The commit, for git sources.
    pub commit: Option<&'a str>,
}

impl Allowlist {
    fn compile(spec: &AllowlistSpec, scope: &str) -> Result<Self> {
        let and = match spec
            .condition
            .as_deref()
            .map(str::to_ascii_uppercase)
            .as_deref()
        {
            None | Some("") | Some("OR") | Some("||") => false,
            Some("AND") | Some("&&") => true,
            Some(other) => {
                return Err(Error::Config {
                    origin: scope.into(),
                    message: format!("unknown allowlist condition {other:?} (expected AND or OR)"),
                });
            }
        };
        let target = match spec.regex_target.as_deref() {
            None | Some("") | Some("secret") => RegexTarget::Secret,
            Some("match") => RegexTarget::Match,
            Some("line") => RegexTarget::Line,
            Some(other) => {
                return Err(Error::Config {
                    origin: scope.into(),
                    message: format!(
                        "unknown regexTarget {other:?} (expected secret, match or line)"
                    ),
                });
            }
        };
        if spec.commits.is_empty()
            && spec.paths.is_empty()
            && spec.regexes.is_empty()
            && spec.stopwords.is_empty()
        {
            return Err(Error::Config {
                origin: scope.into(),
                message:
                    "an allowlist must set at least one of commits, paths, regexes or stopwords"
                        .into(),
            });
        }
        // Compiled lazily, ASCII mode first (`build_regex` falls back to Unicode);
        // `RuleSet::validate` compiles user configurations up front.
        let join = |pats: &[String]| joined_pattern(pats).map(|p| LazyRegex::new(p, false));
        Ok(Allowlist {
            description: spec.description.clone(),
            and,
            commits: spec
                .commits
                .iter()
                .map(|c| c.trim().to_ascii_lowercase())
                .collect(),
            paths: join(&spec.paths),
            target,
            regexes: join(&spec.regexes),
            stopwords: spec.stopwords.clone(),
            stopword_ac: OnceLock::new(),
            scan_only: spec.scan_only,
        })
    }

    fn regexes(&self) -> impl Iterator<Item = &LazyRegex> {
        self.paths.iter().chain(self.regexes.iter())
    }

    /// Whether the allowlist has `paths` (so what it allows may depend on the input's path).
    pub fn has_paths(&self) -> bool {
        self.paths.is_some()
    }

    /// Whether the allowlist's criteria can be decided from the path alone and allow it:
    /// then the rule need not run on this input at all.
    pub fn allows_path(&self, path: Option<&str>) -> bool {
        let Some(paths) = &self.paths else {
            return false;
        };
        let Some(path) = path else { return false };
        let path_only =
            self.commits.is_empty() && self.regexes.is_none() && self.stopwords.is_empty();
        (path_only || !self.and) && paths.is_match(path.as_bytes())
    }

    /// Whether this allowlist allows (suppresses) the candidate.
    pub fn allows(&self, c: &AllowCandidate<'_>) -> bool {
        let mut checks: [Option<bool>; 4] = [None; 4];
        if !self.commits.is_empty() {
            checks[0] = Some(c.commit.is_some_and(|id| {
                let id = id.to_ascii_lowercase();
                self.commits.contains(&id)
            }));
        }
        if let Some(paths) = &self.paths {
            checks[1] = Some(c.path.is_some_and(|p| paths.is_match(p.as_bytes())));
        }
        if let Some(re) = &self.regexes {
            let hay = match self.target {
                RegexTarget::Secret => c.secret,
                RegexTarget::Match => c.matched,
                RegexTarget::Line => c.line,
            };
            checks[2] = Some(re.is_match(hay));
        }
        if !self.stopwords.is_empty() {
            let ac = self.stopword_ac.get_or_init(|| {
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .build(&self.stopwords)
                    .ok()
            });
            checks[3] = Some(match ac {
                Some(ac) => ac.is_match(c.secret),
                // Unbuildable (absurdly many stopwords): fall back to a plain search.
                None => self.stopwords.iter().any(|w| {
                    memchr::memmem::find(
                        &c.secret.to_ascii_lowercase(),
                        w.to_ascii_lowercase().as_bytes(),
                    )
                    .is_some()
                }),
            });
        }
        let mut set = checks.iter().flatten();
        if self.and {
            set.all(|&b| b)
        } else {
            set.any(|&b| b)
        }
    }
}

/// How the engine finds a rule's candidates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Strategy {
    /// Run the regex only in windows around hits of `anchors`, which every match contains.
    /// `gate` keywords (gitleaks semantics: "the keyword appears in the input"), when set,
    /// must also occur in the input.
    Window {
        /// Lower-cased literals every match contains.
        anchors: Vec<String>,
        /// Keywords that must also appear somewhere in the input.
        gate: Vec<String>,
    },
    /// No usable anchor: run over the whole input (when a gate keyword, if any, occurs).
    Full {
        /// Keywords that must appear somewhere in the input.
        gate: Vec<String>,
    },
    /// A rule with only a `path`: the input's path is the finding.
    PathOnly,
}

/// A composite-rule requirement, resolved to a rule index.
#[derive(Debug, Clone)]
pub struct Required {
    /// Index of the required rule in the set.
    pub rule: usize,
    /// Maximum line distance, if bounded.
    pub within_lines: Option<usize>,
    /// Maximum column distance, if bounded.
    pub within_columns: Option<usize>,
}

/// One compiled rule.
#[derive(Debug)]
pub struct Rule {
    /// Unique id.
    pub id: String,
    /// Human description.
    pub description: String,
    /// The detectors file it came from, for built-in rules.
    pub family: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Effective keywords (lower-cased): the configured ones, else those derived from the regex.
    pub keywords: Vec<String>,
    /// Confidence of a finding.
    pub confidence: Confidence,
    /// Documentation links.
    pub references: Vec<String>,
    /// What to do about a secret it finds (shared by all its findings).
    pub remediation: std::sync::Arc<crate::remediation::Remediation>,
    /// The confirming regex.
    pub regex: Option<LazyRegex>,
    /// Capture group of the secret (0: first non-empty group, else the whole match).
    pub secret_group: usize,
    /// Entropy threshold (the secret must exceed it).
    pub entropy: f64,
    /// Entropy threshold when redacting (`redact_entropy`, else `entropy`).
    pub redact_entropy: f64,
    /// Path restriction.
    pub path: Option<LazyRegex>,
    /// Format check.
    pub checksum: Option<Checksum>,
    /// Rule allowlists (including global ones targeted at this rule).
    pub allowlists: Vec<Allowlist>,
    /// Composite requirements.
    pub required: Vec<Required>,
    /// Betterleaks Expr filter (`true` discards a finding), when shush supports it.
    pub filter: Option<super::expr::Filter>,
    /// Found but not reported (a component of a composite rule).
    pub skip_report: bool,
    /// Tagged `generic`: yields to any specific rule that reports the same secret.
    pub generic: bool,
    /// Upper bound of a match's length in bytes.
    pub max_len: usize,
    /// Whether `max_len` comes from the regex itself (or an explicit `max_len`).
    pub bounded: bool,
    /// Whether a match can span lines.
    pub multiline: bool,
    /// At most how many bytes of a match precede an anchor hit (window-strategy rules).
    pub window_before: usize,
    /// At most how many bytes of a match follow an anchor hit.
    pub window_after: usize,
    /// Every match starts exactly at an anchor hit: the regex runs anchored there.
    pub anchored: bool,
    /// A token whose own prefix marks its start (`\b(ghp_…)`, see `rules::guard`), each
    /// prefix beginning with an anchor: right after an escape sequence ending in a letter or
    /// digit (`\x1b[32m`, a JSON `\n`) the engine also runs it as at the start of a line.
    pub escaped_start: bool,
    /// How candidates are found.
    pub strategy: Strategy,
    /// A gate right after each keyword hit (`follow`): hits it rejects open no window.
    pub follow: Option<super::follow::FollowGate>,
    /// The rule's own examples from its configuration.
    own_examples: RuleExamplesOwned,
    /// Whether the rule exists among the built-in rules (whose examples are embedded apart).
    builtin: bool,
    /// Own examples plus the built-in ones, assembled on first use.
    all_examples: OnceLock<RuleExamplesOwned>,
    /// The public prefixes of its secrets (see `rules::public_prefix`), read from the regex
    /// on the first finding.
    public_prefixes: OnceLock<Vec<Vec<u8>>>,
}

/// Positive and negative examples.
#[derive(Debug, Clone, Default)]
struct RuleExamplesOwned {
    examples: Vec<ExampleSpec>,
    negative: Vec<NegativeSpec>,
}

impl Rule {
    /// How reports show a secret this rule found: the public prefix of its format and the
    /// length (`ghp_…(40)`, `AKIA…(20)`), or `…` alone when the format has no public prefix
    /// (a password, a generic value): nothing of such a secret, not even its length.
    pub fn mask(&self, secret: &[u8]) -> String {
        let prefixes = self.public_prefixes.get_or_init(|| {
            self.regex.as_ref().map_or_else(Vec::new, |r| {
                super::public_prefix::public_prefixes(r.pattern(), self.secret_group)
            })
        });
        crate::finding::mask_public(secret, super::public_prefix::public_len(secret, prefixes))
    }

    fn compile(
        spec: &RuleSpec,
        family: Option<String>,
        analysis_cache: &HashMap<String, RegexAnalysis>,
        origin: &str,
    ) -> Result<Self> {
        check_spec(spec, origin)?;
        let keywords = analysis::normalize_keywords(&spec.keywords);
        let confidence = parse_confidence(spec)?;
        let checksum = parse_checksum(spec)?;
        let path = spec.path.as_ref().map(|p| LazyRegex::new(p.clone(), false));
        let allowlists = compile_rule_allowlists(spec, origin)?;
        let generic = spec.tags.iter().any(|t| t.eq_ignore_ascii_case("generic"));
        let follow = compile_follow(spec)?;
        let (regex, analysis) = compile_rule_regex(spec, analysis_cache)?;
        let plan = match &analysis {
            None => {
                if path.is_none() {
                    return Err(rule_error(
                        spec,
                        "a rule needs a regex, a path, or both".into(),
                    ));
                }
                EnginePlan::path_only(&keywords)
            }
            Some(a) => EnginePlan::for_regex(spec, a, &keywords),
        };
        let is_builtin = family.is_some();
        Ok(Rule {
            id: spec.id.clone(),
            description: spec.description.clone(),
            family,
            tags: unique_tags(&spec.tags),
            keywords: plan.keywords,
            confidence,
            references: spec.references.clone(),
            remediation: std::sync::Arc::new(crate::remediation::Remediation::of_rule(
                spec.remediation.as_ref(),
                &spec.references,
            )),
            regex,
            secret_group: spec.secret_group,
            entropy: spec.entropy,
            // Redaction is never less strict than scanning.
            redact_entropy: spec
                .redact_entropy
                .map_or(spec.entropy, |f| f.min(spec.entropy)),
            path,
            checksum,
            allowlists,
            required: Vec::new(),
            filter: None,
            skip_report: spec.skip_report,
            generic,
            max_len: plan.max_len,
            bounded: plan.bounded,
            multiline: plan.multiline,
            window_before: plan.window_before,
            window_after: plan.window_after,
            anchored: plan.anchored,
            escaped_start: plan.escaped_start,
            strategy: plan.strategy,
            follow,
            own_examples: RuleExamplesOwned {
                examples: spec.examples.clone(),
                negative: spec.negative_examples.clone(),
            },
            builtin: is_builtin,
            all_examples: OnceLock::new(),
            public_prefixes: OnceLock::new(),
        })
    }

    /// Which rule wins a secret several rules report (lower wins; ties go to rule order):
    /// specific before `generic`, then higher confidence. One ordering for the scanner's
    /// finalize and the redactor's masks.
    pub fn span_precedence(&self) -> (u8, u8) {
        (
            self.generic as u8,
            Confidence::High as u8 - self.confidence as u8,
        )
    }

    fn examples_all(&self) -> &RuleExamplesOwned {
        self.all_examples.get_or_init(|| {
            let mut all = self.own_examples.clone();
            if self.builtin {
                if let Some(e) = load::embedded_examples().get(&self.id) {
                    all.examples.extend(e.examples.iter().cloned());
                    all.negative.extend(e.negative_examples.iter().cloned());
                }
            }
            all
        })
    }

    /// Positive examples: the configuration's own, plus the built-in rule's when the rule is
    /// (or overrides) a built-in one.
    pub fn examples(&self) -> &[ExampleSpec] {
        &self.examples_all().examples
    }

    /// Negative examples, likewise.
    pub fn negative_examples(&self) -> &[NegativeSpec] {
        &self.examples_all().negative
    }

    /// Whether the rule applies to an input with this path (rules with a `path` need one that
    /// matches).
    pub fn applies_to_path(&self, path: Option<&str>) -> bool {
        match &self.path {
            None => true,
            Some(re) => path.is_some_and(|p| re.is_match(p.as_bytes())),
        }
    }
}

/// An error about rule `spec`.
fn rule_error(spec: &RuleSpec, message: String) -> Error {
    Error::Rule {
        id: spec.id.clone(),
        message,
    }
}

/// An error about one of rule `spec`'s regexes (never echoing the pattern).
fn rule_regex_error(spec: &RuleSpec, what: &str, error: RegexError) -> Error {
    Error::RuleRegex {
        id: spec.id.clone(),
        what: what.into(),
        error,
    }
}

/// Rejects a rule without an id, or with a negative `redact_entropy`.
fn check_spec(spec: &RuleSpec, origin: &str) -> Result<()> {
    if spec.id.trim().is_empty() {
        return Err(Error::Config {
            origin: origin.into(),
            message: "a rule has no id".into(),
        });
    }
    if spec.redact_entropy.is_some_and(|f| f.is_nan() || f < 0.0) {
        return Err(rule_error(
            spec,
            "redact_entropy must be a number, 0 or more".into(),
        ));
    }
    Ok(())
}

/// The rule's confidence (medium when not set).
fn parse_confidence(spec: &RuleSpec) -> Result<Confidence> {
    match &spec.confidence {
        None => Ok(Confidence::Medium),
        Some(c) => Confidence::parse(c)
            .ok_or_else(|| rule_error(spec, format!("unknown confidence {c:?}"))),
    }
}

/// The rule's format check, if it names one.
fn parse_checksum(spec: &RuleSpec) -> Result<Option<Checksum>> {
    match &spec.checksum {
        None => Ok(None),
        Some(c) => {
            Ok(Some(Checksum::parse(c).ok_or_else(|| {
                rule_error(spec, format!("unknown checksum {c:?}"))
            })?))
        }
    }
}

/// The rule's own allowlists (`allowlists`, then the older `allowlist`).
fn compile_rule_allowlists(spec: &RuleSpec, origin: &str) -> Result<Vec<Allowlist>> {
    let mut allowlists = Vec::new();
    for (i, a) in spec
        .allowlists
        .iter()
        .chain(spec.allowlist.iter())
        .enumerate()
    {
        allowlists.push(Allowlist::compile(
            a,
            &format!("{origin}: rule `{}` allowlist #{}", spec.id, i + 1),
        )?);
    }
    Ok(allowlists)
}

/// The gate after each keyword hit, when the rule sets `follow`.
fn compile_follow(spec: &RuleSpec) -> Result<Option<super::follow::FollowGate>> {
    spec.follow
        .as_deref()
        .map(super::follow::FollowGate::new)
        .transpose()
        .map_err(|e| rule_regex_error(spec, "bad follow regex", e))
}

/// The rule's (lazily compiled) regex and its analysis, both `None` without a regex.
fn compile_rule_regex(
    spec: &RuleSpec,
    analysis_cache: &HashMap<String, RegexAnalysis>,
) -> Result<(Option<LazyRegex>, Option<RegexAnalysis>)> {
    let Some(re) = spec.regex.as_deref().filter(|r| !r.is_empty()) else {
        return Ok((None, None));
    };
    let a = match analysis_cache.get(re) {
        Some(a) => a.clone(),
        None => analysis::analyse(re).map_err(|e| rule_regex_error(spec, "bad regex", e))?,
    };
    check_secret_group(spec, re)?;
    Ok((Some(LazyRegex::new(re, a.unicode)), Some(a)))
}

/// Like gitleaks, refuses a `secretGroup` the regex `re` does not have (it would silently
/// report the whole match instead).
fn check_secret_group(spec: &RuleSpec, re: &str) -> Result<()> {
    if spec.secret_group > 0 {
        let groups = analysis::parse(re)
            .map(|(hir, _)| hir.properties().explicit_captures_len())
            .map_err(|e| rule_regex_error(spec, "bad regex", e))?;
        if spec.secret_group > groups {
            return Err(rule_error(
                spec,
                format!(
                    "secretGroup = {} but the regex has {groups} capture group(s)",
                    spec.secret_group
                ),
            ));
        }
    }
    Ok(())
}

/// `[extend]` accumulates tags; a tag listed twice is still one tag (and SARIF requires
/// them unique).
fn unique_tags(tags: &[String]) -> Vec<String> {
    tags.iter().fold(Vec::new(), |mut tags, t| {
        if !tags.contains(t) {
            tags.push(t.clone());
        }
        tags
    })
}

/// Whether every one of a guarded token's `prefixes` begins with one of `anchors`, so that
/// every such token starts at an anchor hit (false when there are no prefixes).
fn starts_at_anchor(prefixes: &[Vec<u8>], anchors: &[String]) -> bool {
    !prefixes.is_empty()
        && prefixes.iter().all(|p| {
            anchors.iter().any(|a| {
                !a.is_empty()
                    && p.len() >= a.len()
                    && p[..a.len()].eq_ignore_ascii_case(a.as_bytes())
            })
        })
}

/// One regex matching any of `patterns` (an allowlist's `paths` or `regexes`).
fn joined_pattern(patterns: &[String]) -> Option<String> {
    (!patterns.is_empty()).then(|| {
        patterns
            .iter()
            .map(|p| format!("(?:{p})"))
            .collect::<Vec<_>>()
            .join("|")
    })
}

/// Every regex text of the built-in rules, as the rule set compiles it. These are proven
/// to compile by the test suite (`builtin_rules_compile`), so validating a configuration that
/// extends the built-in rules compiles only the regexes it adds or changes.
fn builtin_patterns() -> &'static HashSet<String> {
    static PATTERNS: OnceLock<HashSet<String>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let cfg = &load::embedded().config;
        let allowlists = cfg
            .rules
            .iter()
            .flat_map(|r| r.allowlists.iter().chain(r.allowlist.iter()))
            .chain(cfg.allowlists.iter().chain(cfg.allowlist.iter()));
        let from_allowlists = allowlists.flat_map(|a| {
            [joined_pattern(&a.paths), joined_pattern(&a.regexes)]
                .into_iter()
                .flatten()
        });
        cfg.rules
            .iter()
            .flat_map(|r| r.regex.iter().chain(r.path.iter()).cloned())
            .chain(from_allowlists)
            .collect()
    })
}

/// A compiled set of rules with its global allowlists.
#[derive(Debug)]
pub struct RuleSet {
    /// The rules, in configuration order.
    pub rules: Vec<Rule>,
    /// Global allowlists (those without `targetRules`).
    pub global_allowlists: Vec<Allowlist>,
    /// Betterleaks global Expr filter over findings.
    pub global_filter: Option<super::expr::Filter>,
    /// Betterleaks global Expr prefilter over inputs (`true` skips an input).
    pub global_prefilter: Option<super::expr::Filter>,
    /// Warnings produced while loading.
    pub warnings: Vec<String>,
    /// Where the rules came from.
    pub origin: String,
    /// A stable hash of the configuration, to key caches of scan results.
    pub version: String,
}

impl RuleSet {
    /// The built-in rules.
    pub fn builtin() -> Result<Self> {
        Self::from_loaded(LoadedConfig::builtin())
    }

    /// Compiles a loaded configuration. Regexes compile lazily; call [`RuleSet::validate`] to
    /// compile them all now (user configurations should be, so errors surface at once).
    pub fn from_loaded(loaded: LoadedConfig) -> Result<Self> {
        let LoadedConfig {
            config,
            mut warnings,
            origin,
            uses_builtin,
        } = loaded;
        let version = if origin == "built-in" {
            load::BUILTIN_RULES_HASH.to_string()
        } else {
            config_hash(&config)
        };
        let (mut rules, index) = compile_rules(&config, uses_builtin, &origin)?;
        resolve_required(&mut rules, &config, &index)?;
        let global_allowlists = compile_global_allowlists(&mut rules, &config, &index, &origin)?;
        attach_rule_filters(&mut rules, &config, &origin, &mut warnings);
        let global_filter = compile_global_filter("filter", &config.filter, &origin, &mut warnings);
        let global_prefilter =
            compile_global_filter("prefilter", &config.prefilter, &origin, &mut warnings);
        Ok(RuleSet {
            global_filter,
            global_prefilter,
            rules,
            global_allowlists,
            warnings,
            origin,
            version,
        })
    }

    /// Compiles every regex now; the first failure is returned. Regexes the built-in rules
    /// use verbatim are known to compile and are left to compile lazily, so a configuration
    /// that extends the built-in rules starts as fast as the built-in rules.
    pub fn validate(&self) -> Result<()> {
        // An allowlist's `paths` and `regexes` are each compiled as one `(?:a)|(?:b)`
        // regex, so an error's column counts in that form.
        const JOINED: &str = "allowlist regex (columns count in `(?:a)|(?:b)|…` of its list)";
        let known = builtin_patterns();
        for rule in &self.rules {
            let regexes = (rule.regex.iter().map(|r| (r, "regex")))
                .chain(rule.path.iter().map(|r| (r, "path regex")))
                .chain(
                    rule.allowlists
                        .iter()
                        .flat_map(Allowlist::regexes)
                        .map(|r| (r, JOINED)),
                )
                .filter(|(re, _)| !known.contains(re.pattern()));
            for (re, what) in regexes {
                re.get().map_err(|e| Error::RuleRegex {
                    id: rule.id.clone(),
                    what: format!("{what} does not compile"),
                    error: e.clone(),
                })?;
            }
        }
        for a in &self.global_allowlists {
            for re in a.regexes().filter(|re| !known.contains(re.pattern())) {
                re.get().map_err(|e| Error::ConfigRegex {
                    origin: self.origin.clone(),
                    what: format!("global {JOINED} does not compile"),
                    error: e.clone(),
                })?;
            }
        }
        Ok(())
    }

    /// Finds a rule by id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

/// Compiles the rules of `config` in order, with an index of their ids.
fn compile_rules(
    config: &ConfigFile,
    uses_builtin: bool,
    origin: &str,
) -> Result<(Vec<Rule>, HashMap<String, usize>)> {
    let embedded = load::embedded();
    let mut rules = Vec::with_capacity(config.rules.len());
    let mut index = HashMap::new();
    for spec in &config.rules {
        let family = if uses_builtin {
            embedded.families.get(&spec.id).cloned()
        } else {
            None
        };
        let rule = Rule::compile(spec, family, &embedded.analysis, origin)?;
        if index.insert(rule.id.clone(), rules.len()).is_some() {
            return Err(Error::Config {
                origin: origin.to_string(),
                message: format!("duplicate rule id `{}`", spec.id),
            });
        }
        rules.push(rule);
    }
    Ok((rules, index))
}

/// Resolves composite requirements (`[[rules.required]]`) to rule indices.
fn resolve_required(
    rules: &mut [Rule],
    config: &ConfigFile,
    index: &HashMap<String, usize>,
) -> Result<()> {
    for (i, spec) in config.rules.iter().enumerate() {
        for req in &spec.required {
            let Some(&j) = index.get(&req.id) else {
                return Err(Error::Rule {
                    id: spec.id.clone(),
                    message: format!(
                        "[[rules.required]] names `{}`, which does not exist",
                        req.id
                    ),
                });
            };
            rules[i].required.push(Required {
                rule: j,
                within_lines: req.within_lines,
                within_columns: req.within_columns,
            });
        }
    }
    Ok(())
}

/// Compiles the global allowlists: those with `targetRules` are attached to their rules,
/// the others are returned.
fn compile_global_allowlists(
    rules: &mut [Rule],
    config: &ConfigFile,
    index: &HashMap<String, usize>,
    origin: &str,
) -> Result<Vec<Allowlist>> {
    let mut global_allowlists = Vec::new();
    for (i, spec) in config.allowlists.iter().enumerate() {
        let scope = format!("{origin}: global allowlist #{}", i + 1);
        if spec.target_rules.is_empty() {
            global_allowlists.push(Allowlist::compile(spec, &scope)?);
        } else {
            for id in &spec.target_rules {
                let Some(&j) = index.get(id) else {
                    return Err(Error::Config {
                        origin: scope,
                        message: format!("targetRules names `{id}`, which does not exist"),
                    });
                };
                rules[j].allowlists.push(Allowlist::compile(spec, &scope)?);
            }
        }
    }
    Ok(global_allowlists)
}

/// Betterleaks Expr filters of the rules: evaluated when shush supports the expression,
/// otherwise reported (never silently dropped).
fn attach_rule_filters(
    rules: &mut [Rule],
    config: &ConfigFile,
    origin: &str,
    warnings: &mut Vec<String>,
) {
    let mut unsupported: Vec<String> = Vec::new();
    for (rule, spec) in rules.iter_mut().zip(&config.rules) {
        if let Some(src) = &spec.filter {
            match super::expr::Filter::parse(src) {
                Ok(f) => rule.filter = Some(f),
                Err(e) => unsupported.push(format!("`{}` ({e})", rule.id)),
            }
        }
    }
    if !unsupported.is_empty() {
        let shown: Vec<_> = unsupported.iter().take(3).cloned().collect();
        let more = unsupported.len().saturating_sub(3);
        warnings.push(format!(
            "{origin}: {} rule filter(s) use Expr that shush does not evaluate; those filters are ignored: {}{}",
            unsupported.len(),
            shown.join(", "),
            if more > 0 { format!(" and {more} more") } else { String::new() }
        ));
    }
}

/// A global Expr filter (`what`: `filter` or `prefilter`), or a warning that it is not
/// supported.
fn compile_global_filter(
    what: &str,
    src: &Option<String>,
    origin: &str,
    warnings: &mut Vec<String>,
) -> Option<super::expr::Filter> {
    src.as_deref()
        .and_then(|s| match super::expr::Filter::parse(s) {
            Ok(f) => Some(f),
            Err(e) => {
                warnings.push(format!(
                    "{origin}: global `{what}` is not supported ({e}); ignored"
                ));
                None
            }
        })
}

fn config_hash(config: &ConfigFile) -> String {
    let json = serde_json::to_vec(config).unwrap_or_default();
    let digest = sha2::Sha256::digest(&json);
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn set(toml: &str) -> RuleSet {
        RuleSet::from_loaded(LoadedConfig::from_toml(toml, "t.toml", Path::new(".")).unwrap())
            .unwrap()
    }

    #[test]
    fn strategy_window_when_keywords_cover() {
        let s = set("[[rules]]\nid='a'\nregex='''tok_[a-z]{10}'''\nkeywords=['tok_']\n");
        assert_eq!(
            s.rules[0].strategy,
            Strategy::Window {
                anchors: vec!["tok_".into()],
                gate: vec![]
            }
        );
        assert_eq!(s.rules[0].max_len, 14);
    }

    #[test]
    fn strategy_derives_anchor_and_keeps_gate() {
        let s = set("[[rules]]\nid='a'\nregex='''tok_[a-z]{10}'''\nkeywords=['mytool']\n");
        assert_eq!(
            s.rules[0].strategy,
            Strategy::Window {
                anchors: vec!["tok_".into()],
                gate: vec!["mytool".into()]
            }
        );
    }

    #[test]
    fn windows_follow_the_anchor_position() {
        let s = set(concat!(
            "[[rules]]\nid='a'\nregex='tok_[a-z]{10}'\nkeywords=['tok_']\n",
            "[[rules]]\nid='b'\nregex='[a-z]{0,5}pass=([a-z]{10})'\nkeywords=['pass']\n",
            "[[rules]]\nid='c'\nregex='xtok_[a-z]{2}'\nkeywords=['tok']\n",
        ));
        assert!(s.rules[0].anchored);
        assert_eq!((s.rules[0].window_before, s.rules[0].window_after), (0, 10));
        assert!(!s.rules[1].anchored);
        // `pass` is inside the literal `pass=`: one byte of slack on each side.
        assert_eq!((s.rules[1].window_before, s.rules[1].window_after), (6, 11));
        // `tok` sits one byte into the literal `xtok_`, with `_` after it.
        assert!(!s.rules[2].anchored);
        assert_eq!((s.rules[2].window_before, s.rules[2].window_after), (2, 4));
    }

    #[test]
    fn strategy_full_without_literals() {
        let s = set("[[rules]]\nid='a'\nregex='''[a-f0-9]{32}'''\n");
        assert_eq!(s.rules[0].strategy, Strategy::Full { gate: vec![] });
    }

    #[test]
    fn unbounded_regex_gets_default_bound() {
        let s = set("[[rules]]\nid='a'\nregex='''tok_[a-z]+'''\n");
        assert!(!s.rules[0].bounded);
        assert_eq!(s.rules[0].max_len, DEFAULT_UNBOUNDED_LEN);
    }

    #[test]
    fn allowlist_and_or() {
        let a = Allowlist::compile(
            &AllowlistSpec {
                condition: Some("AND".into()),
                paths: vec!["test".into()],
                stopwords: vec!["dummy".into()],
                ..Default::default()
            },
            "t",
        )
        .unwrap();
        let c = |secret: &'static [u8], path| AllowCandidate {
            secret,
            matched: secret,
            line: secret,
            path,
            commit: None,
        };
        assert!(a.allows(&c(b"xDUMMYx", Some("a/test/b"))));
        assert!(!a.allows(&c(b"xDUMMYx", Some("src/b"))));
        assert!(!a.allows(&c(b"real", Some("a/test/b"))));
        assert!(!a.allows_path(Some("a/test/b")));
    }

    #[test]
    fn targeted_global_allowlist_attaches_to_rule() {
        let s = set(
            "[[rules]]\nid='a'\nregex='''tok_[a-z]{4}'''\n[[allowlists]]\ntargetRules=['a']\nstopwords=['x']\n",
        );
        assert_eq!(s.rules[0].allowlists.len(), 1);
        assert!(s.global_allowlists.is_empty());
    }

    #[test]
    fn builtin_rules_compile() {
        let s = RuleSet::builtin().unwrap();
        s.validate().unwrap();
    }

    #[test]
    fn regex_errors_never_echo_the_pattern() {
        const TOKEN: &str = "fake_TOKEN_abc123XYZ";
        // Syntax, with a position.
        let e = build_regex(&format!("x({TOKEN}"), false).unwrap_err();
        assert_eq!(e.to_string(), "unclosed group (column 2)");
        // Too large for the NFA size limit.
        let e = build_regex(&format!("{TOKEN}(?:\\w{{500}}){{200}}"), true).unwrap_err();
        assert!(matches!(e, RegexError::TooLarge { .. }), "{e:?}");
        assert!(!e.to_string().contains(TOKEN), "{e}");
        let lazy = LazyRegex::new(format!("[z-a]{TOKEN}"), false);
        assert!(!lazy.get().unwrap_err().to_string().contains(TOKEN));
        assert!(!lazy.is_match(TOKEN.as_bytes()));

        // And through a configuration: the rule's regex, its follow gate, its allowlist, a
        // global allowlist. Each names the rule or allowlist, never the pattern.
        let bad = format!("'''({TOKEN}'''");
        let rule = |extra: &str| format!("[[rules]]\nid = 'leaky-rule'\n{extra}\n");
        let cases = [
            (
                rule(&format!("regex = {bad}")),
                "rule `leaky-rule`: bad regex: ",
            ),
            (
                rule(&format!("regex = 'ok_[a-z]{{4}}'\nfollow = {bad}")),
                "rule `leaky-rule`: bad follow regex: ",
            ),
            (
                rule(&format!(
                    "regex = 'ok_[a-z]{{4}}'\n[[rules.allowlists]]\nregexes = [{bad}]"
                )),
                "rule `leaky-rule`: allowlist regex",
            ),
            (
                format!(
                    "{}[[allowlists]]\nregexes = [{bad}]\n",
                    rule("regex = 'ok_[a-z]{4}'")
                ),
                "t.toml: global allowlist regex",
            ),
        ];
        for (toml, prefix) in cases {
            let loaded = LoadedConfig::from_toml(&toml, "t.toml", Path::new(".")).unwrap();
            let e = RuleSet::from_loaded(loaded)
                .and_then(|s| s.validate())
                .unwrap_err();
            let text = e.to_string();
            assert!(text.starts_with(prefix), "{text}");
            assert!(text.contains("unclosed group (column "), "{text}");
            assert!(!text.contains(TOKEN), "{text}");
            assert!(
                matches!(
                    e,
                    Error::RuleRegex {
                        error: RegexError::Syntax { .. },
                        ..
                    } | Error::ConfigRegex {
                        error: RegexError::Syntax { .. },
                        ..
                    }
                ),
                "{e:?}"
            );
        }
    }
}
