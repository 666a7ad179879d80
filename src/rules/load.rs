//! Loading rule configurations: the embedded built-in rules, user files, gitleaks `[extend]`
//! semantics, and warnings for every field shush does not support.

use super::analysis::RegexAnalysis;
use super::spec::{AllowlistSpec, ConfigFile, ExtendSpec, RuleSpec};
use crate::error::{Error, Result};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// gitleaks allows a chain of at most two `[extend] path` hops; so do we.
const MAX_EXTEND_DEPTH: usize = 2;

/// The built-in rules as compiled by `build.rs`.
#[derive(Debug, serde::Deserialize)]
pub struct Embedded {
    /// All `detectors/*.toml` files merged, in file order.
    pub config: ConfigFile,
    /// Precomputed regex analysis, keyed by regex text.
    pub analysis: HashMap<String, RegexAnalysis>,
    /// Rule id → the detectors file (family) it came from.
    pub families: BTreeMap<String, String>,
}

/// The embedded built-in rules, parsed once.
pub fn embedded() -> &'static Embedded {
    static EMBEDDED: OnceLock<Embedded> = OnceLock::new();
    EMBEDDED.get_or_init(|| {
        let json = include_str!(concat!(env!("OUT_DIR"), "/builtin_rules.json"));
        serde_json::from_str(json).expect("build.rs wrote a valid rule document")
    })
}

/// A built-in rule's examples (kept apart so start-up does not parse them).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct RuleExamples {
    /// Positive examples.
    #[serde(default)]
    pub examples: Vec<super::spec::ExampleSpec>,
    /// Negative examples.
    #[serde(default)]
    pub negative_examples: Vec<super::spec::NegativeSpec>,
}

/// The built-in rules' examples by rule id, parsed on first use.
pub fn embedded_examples() -> &'static HashMap<String, RuleExamples> {
    static EXAMPLES: OnceLock<HashMap<String, RuleExamples>> = OnceLock::new();
    EXAMPLES.get_or_init(|| {
        let json = include_str!(concat!(env!("OUT_DIR"), "/builtin_examples.json"));
        serde_json::from_str(json).expect("build.rs wrote valid examples")
    })
}

/// A stable identifier of the built-in rule set (changes whenever a detector changes).
pub const BUILTIN_RULES_HASH: &str = env!("SHUSH_RULES_HASH");

/// A configuration after `[extend]` has been resolved, plus what the loader had to say.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The merged configuration.
    pub config: ConfigFile,
    /// Human-readable warnings (unsupported fields, disabled rules that do not exist, …).
    pub warnings: Vec<String>,
    /// Where the configuration came from.
    pub origin: String,
    /// Whether the configuration is, or extends, the built-in rules (so rules with built-in
    /// ids carry the built-in family and examples).
    pub uses_builtin: bool,
}

impl LoadedConfig {
    /// The built-in rules alone.
    pub fn builtin() -> Self {
        LoadedConfig {
            config: embedded().config.clone(),
            warnings: Vec::new(),
            origin: "built-in".into(),
            uses_builtin: true,
        }
    }

    /// Loads a gitleaks, Betterleaks or shush TOML file and resolves its `[extend]`.
    ///
    /// A file in shush's own format (see [`is_shush_file`]) extends the built-in rules unless
    /// it says otherwise; a gitleaks file replaces them unless it sets `[extend] useDefault`.
    /// A configuration that ends up with no rules, or whose `[extend] path` chain comes back
    /// to a file already in it, is an error.
    pub fn from_path(path: &Path) -> Result<Self> {
        let mut ctx = Resolving::default();
        let config = load_file(path, &mut ctx)?;
        let loaded = LoadedConfig {
            config,
            warnings: ctx.warnings,
            origin: path.display().to_string(),
            uses_builtin: ctx.uses_builtin,
        };
        loaded.ensure_rules()?;
        Ok(loaded)
    }

    /// Parses TOML text (with `[extend] path` resolved relative to `base_dir`). `origin`
    /// names the text in messages; its file name decides the format as in
    /// [`LoadedConfig::from_path`].
    pub fn from_toml(text: &str, origin: &str, base_dir: &Path) -> Result<Self> {
        let mut ctx = Resolving::default();
        let cfg = parse_toml(text, origin)?;
        let config = resolve(cfg, origin, base_dir, &mut ctx)?;
        let loaded = LoadedConfig {
            config,
            warnings: ctx.warnings,
            origin: origin.into(),
            uses_builtin: ctx.uses_builtin,
        };
        loaded.ensure_rules()?;
        Ok(loaded)
    }

    /// An error when no rule is left: a scan with no rules would pass every gate.
    pub fn ensure_rules(&self) -> Result<()> {
        if self.config.rules.iter().any(|r| !r.skip_report) {
            return Ok(());
        }
        Err(Error::Config {
            origin: self.origin.clone(),
            message: if self.uses_builtin {
                "no rules are left to run (every rule is disabled)".into()
            } else {
                "defines no rules, and a gitleaks-format file replaces the built-in rules: \
                 add `[extend]` with `useDefault = true` to build on them (a `.shush.toml` \
                 extends them by default)"
                    .into()
            },
        })
    }
}

/// Whether `name` (a path or an origin string) is a file in shush's own format, which
/// extends the built-in rules unless it says `[extend] useDefault = false`: `.shush.toml`,
/// `shush.toml` or any `*.shush.toml`. Every other file follows gitleaks, where a
/// configuration replaces the defaults unless it sets `useDefault = true`.
pub fn is_shush_file(name: &str) -> bool {
    let file = Path::new(name)
        .file_name()
        .map(|f| f.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    file == "shush.toml" || file.ends_with(".shush.toml")
}

/// State of one `[extend]` resolution: the chain of files (to refuse cycles), warnings, and
/// whether the built-in rules were pulled in.
#[derive(Default)]
struct Resolving {
    chain: Vec<PathBuf>,
    /// `[extend] path` hops taken so far.
    depth: usize,
    warnings: Vec<String>,
    uses_builtin: bool,
}

fn parse_toml(text: &str, origin: &str) -> Result<ConfigFile> {
    toml::from_str(text).map_err(|e| Error::Config {
        origin: origin.into(),
        message: e.to_string(),
    })
}

/// Rule files larger than this are refused: real ones are a few hundred kilobytes.
pub const MAX_CONFIG_BYTES: u64 = 16 << 20;

/// Reads a rule file: a regular file of at most [`MAX_CONFIG_BYTES`]. An `[extend] path` in
/// a config discovered in a scanned repository is not trusted to name a regular file: a
/// device or a FIFO (`/dev/zero`, `/dev/stdin`) would never end or fill memory.
fn read_config(path: &Path) -> Result<String> {
    use std::io::Read;
    let refuse = |message: String| Error::Config {
        origin: path.display().to_string(),
        message,
    };
    // Checked before opening too: opening a FIFO blocks until someone writes to it.
    let is_file = |md: std::fs::Metadata| md.is_file();
    if !std::fs::metadata(path)
        .map(is_file)
        .map_err(|e| Error::io(path, e))?
    {
        return Err(refuse("not a regular file".into()));
    }
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    if !file
        .metadata()
        .map(is_file)
        .map_err(|e| Error::io(path, e))?
    {
        return Err(refuse("not a regular file".into()));
    }
    let mut text = String::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| Error::io(path, e))?;
    if text.len() as u64 > MAX_CONFIG_BYTES {
        return Err(refuse(format!(
            "larger than {} MiB; not a rule file",
            MAX_CONFIG_BYTES >> 20
        )));
    }
    Ok(text)
}

fn load_file(path: &Path, ctx: &mut Resolving) -> Result<ConfigFile> {
    let origin = path.display().to_string();
    // What cannot be resolved is tracked as written; reading it reports the real problem.
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if ctx.chain.contains(&canonical) {
        return Err(Error::Config {
            origin,
            message: "[extend] path leads back to this file: a configuration cannot extend itself"
                .into(),
        });
    }
    let text = read_config(path)?;
    let cfg = parse_toml(&text, &origin)?;
    let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    ctx.chain.push(canonical);
    let resolved = resolve(cfg, &origin, &base, ctx);
    ctx.chain.pop();
    resolved
}

/// What a file's `[extend]` asks for, with shush's default for its own format filled in.
fn extend_of(cfg: &ConfigFile, origin: &str) -> Result<Option<ExtendSpec>> {
    let shush_format = is_shush_file(origin);
    let mut extend = match (&cfg.extend, shush_format) {
        (Some(e), _) => e.clone(),
        (None, true) => ExtendSpec::default(),
        (None, false) => return Ok(None),
    };
    if extend.use_default == Some(true) && extend.path.is_some() {
        return Err(Error::Config {
            origin: origin.into(),
            message: "[extend] cannot set both useDefault and path".into(),
        });
    }
    if extend.use_default.is_none() {
        extend.use_default = Some(shush_format && extend.path.is_none());
    }
    Ok(Some(extend))
}

/// Applies `[extend]` (recursively, bounded) and collects warnings.
fn resolve(
    mut cfg: ConfigFile,
    origin: &str,
    base_dir: &Path,
    ctx: &mut Resolving,
) -> Result<ConfigFile> {
    collect_unknown(&cfg, origin, &mut ctx.warnings);
    upgrade_deprecated_allowlists(&mut cfg, origin)?;
    cfg.attach_remediation().map_err(|message| Error::Config {
        origin: origin.into(),
        message,
    })?;
    let Some(extend) = extend_of(&cfg, origin)? else {
        return Ok(cfg);
    };
    if let Some(url) = &extend.url {
        ctx.warnings.push(format!(
            "{origin}: [extend] url = {url:?} is not supported (shush never fetches rules over the network); ignored"
        ));
    }
    let base = if extend.use_default == Some(true) {
        ctx.uses_builtin = true;
        Some(embedded().config.clone())
    } else if let Some(p) = &extend.path {
        if ctx.depth >= MAX_EXTEND_DEPTH {
            ctx.warnings.push(format!(
                "{origin}: [extend] path {p:?} not followed: extend chains are limited to depth {MAX_EXTEND_DEPTH}"
            ));
            None
        } else {
            let full: PathBuf = base_dir.join(p);
            ctx.depth += 1;
            let loaded = load_file(&full, ctx);
            ctx.depth -= 1;
            Some(loaded?)
        }
    } else {
        None
    };
    match base {
        Some(base) => Ok(merge(
            cfg,
            base,
            &extend.disabled_rules,
            origin,
            &mut ctx.warnings,
        )),
        None => Ok(cfg),
    }
}

/// Moves the deprecated single `[allowlist]` tables into the `[[allowlists]]` lists.
fn upgrade_deprecated_allowlists(cfg: &mut ConfigFile, origin: &str) -> Result<()> {
    if let Some(old) = cfg.allowlist.take() {
        if !cfg.allowlists.is_empty() {
            return Err(Error::Config {
                origin: origin.into(),
                message: "[allowlist] is deprecated and cannot be used alongside [[allowlists]]"
                    .into(),
            });
        }
        cfg.allowlists.push(old);
    }
    for rule in &mut cfg.rules {
        if let Some(old) = rule.allowlist.take() {
            if !rule.allowlists.is_empty() {
                return Err(Error::Config {
                    origin: origin.into(),
                    message: format!(
                        "rule `{}`: [rules.allowlist] is deprecated and cannot be used alongside [[rules.allowlists]]",
                        rule.id
                    ),
                });
            }
            rule.allowlists.push(old);
        }
    }
    Ok(())
}

/// gitleaks merge semantics: the extending file's rules win field by field; tags, keywords and
/// allowlists accumulate; global allowlists are appended.
fn merge(
    child: ConfigFile,
    mut base: ConfigFile,
    disabled: &[String],
    origin: &str,
    warnings: &mut Vec<String>,
) -> ConfigFile {
    for id in disabled {
        if !base.rules.iter().any(|r| &r.id == id) {
            warnings.push(format!(
                "{origin}: disabledRules names `{id}`, which the extended rules do not have"
            ));
        }
    }
    let removed: HashSet<String> = base
        .rules
        .iter()
        .filter(|r| disabled.contains(&r.id))
        .map(|r| r.id.clone())
        .collect();
    base.rules.retain(|r| !removed.contains(&r.id));
    let mut index: HashMap<String, usize> = base
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.clone(), i))
        .collect();
    for rule in child.rules {
        match index.get(&rule.id) {
            Some(&i) => merge_rule(&mut base.rules[i], rule),
            None => {
                index.insert(rule.id.clone(), base.rules.len());
                base.rules.push(rule);
            }
        }
    }
    base.allowlists.extend(child.allowlists);
    let mut merged = ConfigFile {
        title: child.title.or(base.title),
        description: child.description.or(base.description),
        min_version: child.min_version.or(base.min_version),
        extend: None,
        rules: base.rules,
        allowlist: None,
        allowlists: base.allowlists,
        filter: child.filter.or(base.filter),
        prefilter: child.prefilter.or(base.prefilter),
        remediation: Vec::new(),
        unknown: Default::default(),
    };
    super::select::prune_references(&mut merged, &removed, origin, warnings);
    merged
}

fn merge_rule(base: &mut RuleSpec, over: RuleSpec) {
    if !over.description.is_empty() {
        base.description = over.description;
    }
    if over.entropy != 0.0 {
        base.entropy = over.entropy;
    }
    if over.redact_entropy.is_some() {
        base.redact_entropy = over.redact_entropy;
    }
    if over.secret_group != 0 {
        base.secret_group = over.secret_group;
    }
    if over.regex.is_some() {
        base.regex = over.regex;
    }
    if over.path.is_some() {
        base.path = over.path;
    }
    if over.checksum.is_some() {
        base.checksum = over.checksum;
    }
    if over.confidence.is_some() {
        base.confidence = over.confidence;
    }
    if over.max_len.is_some() {
        base.max_len = over.max_len;
    }
    if over.filter.is_some() {
        base.filter = over.filter;
    }
    if over.remediation.is_some() {
        base.remediation = over.remediation;
    }
    base.skip_report |= over.skip_report;
    base.tags.extend(over.tags);
    base.keywords.extend(over.keywords);
    base.allowlists.extend(over.allowlists);
    base.required.extend(over.required);
    base.references.extend(over.references);
    base.examples.extend(over.examples);
    base.negative_examples.extend(over.negative_examples);
}

/// What a known-but-unsupported key means, for a clearer warning.
fn explain(key: &str) -> &'static str {
    match key {
        "validate" => "live validation; shush never calls providers",
        "tokenEfficiency" => "Betterleaks token-efficiency scoring",
        "specificity" => "Betterleaks rule specificity",
        "betterleaksMinVersion" => "Betterleaks version requirement",
        _ => "unknown field",
    }
}

/// Warns once per (scope, key) for every key shush does not understand; keys used by many
/// rules are summarised in one line.
fn collect_unknown(cfg: &ConfigFile, origin: &str, warnings: &mut Vec<String>) {
    let top_level_only_informational = ["betterleaksMinVersion"];
    for key in cfg.unknown.keys() {
        if top_level_only_informational.contains(&key.as_str()) {
            continue;
        }
        warnings.push(format!(
            "{origin}: `{key}` is not supported ({}); ignored",
            explain(key)
        ));
    }
    if let Some(ext) = &cfg.extend {
        for key in ext.unknown.keys() {
            warnings.push(format!(
                "{origin}: [extend] `{key}` is not supported; ignored"
            ));
        }
    }
    let mut by_key: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for rule in &cfg.rules {
        for key in rule.unknown.keys() {
            by_key.entry(key.clone()).or_default().push(rule.id.clone());
        }
        for (i, a) in rule
            .allowlists
            .iter()
            .chain(rule.allowlist.iter())
            .enumerate()
        {
            allowlist_unknown(
                a,
                &format!("{origin}: rule `{}` allowlist #{}", rule.id, i + 1),
                warnings,
            );
        }
        for req in &rule.required {
            for key in req.unknown.keys() {
                warnings.push(format!(
                    "{origin}: rule `{}` [[rules.required]] `{key}` is not supported; ignored",
                    rule.id
                ));
            }
        }
    }
    for (key, ids) in by_key {
        let shown: Vec<_> = ids.iter().take(3).map(|s| format!("`{s}`")).collect();
        let more = if ids.len() > 3 {
            format!(" and {} more", ids.len() - 3)
        } else {
            String::new()
        };
        warnings.push(format!(
            "{origin}: rule field `{key}` is not supported ({}); ignored in {} rule(s): {}{more}",
            explain(&key),
            ids.len(),
            shown.join(", ")
        ));
    }
    for (i, a) in cfg
        .allowlists
        .iter()
        .chain(cfg.allowlist.iter())
        .enumerate()
    {
        allowlist_unknown(
            a,
            &format!("{origin}: global allowlist #{}", i + 1),
            warnings,
        );
    }
}

fn allowlist_unknown(a: &AllowlistSpec, scope: &str, warnings: &mut Vec<String>) {
    for key in a.unknown.keys() {
        warnings.push(format!("{scope}: `{key}` is not supported; ignored"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_parse() {
        let e = embedded();
        assert!(!e.config.rules.is_empty());
        for r in &e.config.rules {
            if let Some(re) = &r.regex {
                assert!(e.analysis.contains_key(re), "no analysis for {}", r.id);
            }
        }
    }

    #[test]
    fn extend_default_overrides_and_disables() {
        let first = embedded().config.rules[0].id.clone();
        let second = embedded().config.rules.get(1).map(|r| r.id.clone());
        let text = format!(
            r#"
            [extend]
            useDefault = true
            disabledRules = ["{}", "no-such-rule"]
            [[rules]]
            id = "custom"
            regex = '''custom_[a-z]{{8}}'''
            keywords = ["custom_"]
            "#,
            second.clone().unwrap_or_default()
        );
        let loaded = LoadedConfig::from_toml(&text, "test.toml", Path::new(".")).unwrap();
        let ids: Vec<_> = loaded.config.rules.iter().map(|r| r.id.as_str()).collect();
        assert!(ids.contains(&"custom"));
        assert!(ids.contains(&first.as_str()));
        if let Some(s) = second {
            assert!(!ids.contains(&s.as_str()));
        }
        assert!(loaded.warnings.iter().any(|w| w.contains("no-such-rule")));
    }

    #[test]
    fn unknown_fields_warn() {
        let text = r#"
            postfilter = "x"
            [[rules]]
            id = "a"
            regex = "a_[0-9]{4}"
            tokenEfficiency = true
            validate = "x"
            [[rules.allowlists]]
            regexes = ["x"]
            bogus = 1
        "#;
        let loaded = LoadedConfig::from_toml(text, "t.toml", Path::new(".")).unwrap();
        let all = loaded.warnings.join("\n");
        assert!(all.contains("`postfilter`"), "{all}");
        assert!(all.contains("`tokenEfficiency`"), "{all}");
        assert!(all.contains("`validate`"), "{all}");
        assert!(all.contains("`bogus`"), "{all}");
        // Betterleaks `filter`/`prefilter` are understood (evaluated or reported when the
        // rule set is compiled), so loading does not call them unknown.
        let text =
            "prefilter = 'true'\n[[rules]]\nid = 'a'\nregex = 'a_[0-9]{4}'\nfilter = 'false'\n";
        let loaded = LoadedConfig::from_toml(text, "t.toml", Path::new(".")).unwrap();
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    }

    #[test]
    fn deprecated_allowlist_is_upgraded() {
        let text = r#"
            [allowlist]
            paths = ["vendor/"]
            [[rules]]
            id = "a"
            regex = "a_[0-9]{4}"
            [rules.allowlist]
            stopwords = ["test"]
        "#;
        let loaded = LoadedConfig::from_toml(text, "t.toml", Path::new(".")).unwrap();
        assert_eq!(loaded.config.allowlists.len(), 1);
        assert_eq!(loaded.config.rules[0].allowlists.len(), 1);
    }

    #[test]
    fn shush_files_extend_the_defaults_unless_told_not_to() {
        assert!(is_shush_file("repo/.shush.toml"));
        assert!(is_shush_file("ci.shush.toml"));
        assert!(!is_shush_file(".gitleaks.toml"));
        assert!(!is_shush_file("shush.toml.bak"));
        let builtin = embedded().config.rules.len();
        let extra = "[[rules]]\nid = 'x'\nregex = 'x_[0-9]{8}'\n";
        let l = LoadedConfig::from_toml(extra, ".shush.toml", Path::new(".")).unwrap();
        assert!(l.uses_builtin);
        assert_eq!(l.config.rules.len(), builtin + 1);
        // Only disabledRules under [extend]: still extends the defaults.
        let first = &embedded().config.rules[0].id;
        let text = format!("[extend]\ndisabledRules = ['{first}']\n{extra}");
        let l = LoadedConfig::from_toml(&text, ".shush.toml", Path::new(".")).unwrap();
        assert_eq!(l.config.rules.len(), builtin);
        let text = format!("[extend]\nuseDefault = false\n{extra}");
        let l = LoadedConfig::from_toml(&text, ".shush.toml", Path::new(".")).unwrap();
        assert_eq!(l.config.rules.len(), 1);
        // The same text in gitleaks' format replaces the defaults.
        let l = LoadedConfig::from_toml(extra, ".gitleaks.toml", Path::new(".")).unwrap();
        assert!(!l.uses_builtin);
        assert_eq!(l.config.rules.len(), 1);
    }

    #[test]
    fn both_default_and_path_is_an_error() {
        let text = "[extend]\nuseDefault = true\npath = \"x.toml\"\n";
        assert!(LoadedConfig::from_toml(text, "t.toml", Path::new(".")).is_err());
    }
}
