//! Loading rule configurations: the embedded built-in rules, user files, gitleaks `[extend]`
//! semantics, and warnings for every field shush does not support.

use super::analysis::RegexAnalysis;
use super::spec::{AllowlistSpec, ConfigFile, RuleSpec};
use crate::error::{Error, Result};
use std::collections::{BTreeMap, HashMap};
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
    pub fn from_path(path: &Path) -> Result<Self> {
        let mut warnings = Vec::new();
        let mut uses_builtin = false;
        let config = load_file(path, 0, &mut warnings, &mut uses_builtin)?;
        Ok(LoadedConfig {
            config,
            warnings,
            origin: path.display().to_string(),
            uses_builtin,
        })
    }

    /// Parses TOML text (with `[extend] path` resolved relative to `base_dir`).
    pub fn from_toml(text: &str, origin: &str, base_dir: &Path) -> Result<Self> {
        let mut warnings = Vec::new();
        let mut uses_builtin = false;
        let cfg = parse_toml(text, origin)?;
        let config = resolve(cfg, origin, base_dir, 0, &mut warnings, &mut uses_builtin)?;
        Ok(LoadedConfig {
            config,
            warnings,
            origin: origin.into(),
            uses_builtin,
        })
    }
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

fn load_file(
    path: &Path,
    depth: usize,
    warnings: &mut Vec<String>,
    uses_builtin: &mut bool,
) -> Result<ConfigFile> {
    let text = read_config(path)?;
    let origin = path.display().to_string();
    let cfg = parse_toml(&text, &origin)?;
    let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    resolve(cfg, &origin, &base, depth, warnings, uses_builtin)
}

/// Applies `[extend]` (recursively, bounded) and collects warnings.
fn resolve(
    mut cfg: ConfigFile,
    origin: &str,
    base_dir: &Path,
    depth: usize,
    warnings: &mut Vec<String>,
    uses_builtin: &mut bool,
) -> Result<ConfigFile> {
    collect_unknown(&cfg, origin, warnings);
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

    let Some(extend) = cfg.extend.clone() else {
        return Ok(cfg);
    };
    if extend.use_default && extend.path.is_some() {
        return Err(Error::Config {
            origin: origin.into(),
            message: "[extend] cannot set both useDefault and path".into(),
        });
    }
    if let Some(url) = &extend.url {
        warnings.push(format!(
            "{origin}: [extend] url = {url:?} is not supported (shush never fetches rules over the network); ignored"
        ));
    }
    let base = if extend.use_default {
        *uses_builtin = true;
        Some(embedded().config.clone())
    } else if let Some(p) = &extend.path {
        if depth >= MAX_EXTEND_DEPTH {
            warnings.push(format!(
                "{origin}: [extend] path {p:?} not followed: extend chains are limited to depth {MAX_EXTEND_DEPTH}"
            ));
            None
        } else {
            let full: PathBuf = base_dir.join(p);
            Some(load_file(&full, depth + 1, warnings, uses_builtin)?)
        }
    } else {
        None
    };
    match base {
        Some(base) => Ok(merge(cfg, base, &extend.disabled_rules, origin, warnings)),
        None => Ok(cfg),
    }
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
    base.rules.retain(|r| !disabled.contains(&r.id));
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
    ConfigFile {
        title: child.title.or(base.title),
        description: child.description.or(base.description),
        min_version: child.min_version.or(base.min_version),
        extend: None,
        rules: base.rules,
        allowlist: None,
        allowlists: base.allowlists,
        filter: child.filter.or(base.filter),
        prefilter: child.prefilter.or(base.prefilter),
        unknown: Default::default(),
    }
}

fn merge_rule(base: &mut RuleSpec, over: RuleSpec) {
    if !over.description.is_empty() {
        base.description = over.description;
    }
    if over.entropy != 0.0 {
        base.entropy = over.entropy;
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
    fn both_default_and_path_is_an_error() {
        let text = "[extend]\nuseDefault = true\npath = \"x.toml\"\n";
        assert!(LoadedConfig::from_toml(text, "t.toml", Path::new(".")).is_err());
    }
}
