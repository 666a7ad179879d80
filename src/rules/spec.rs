//! The on-disk rule format: gitleaks-compatible TOML plus shush's extensions.
//!
//! This module is deliberately free of crate-internal imports: `build.rs` includes it with
//! `#[path]` to validate `detectors/*.toml` at compile time and embed the parsed rules as JSON,
//! so the binary starts without parsing TOML.
//!
//! Field names follow gitleaks exactly where gitleaks has the field (`secretGroup`,
//! `regexTarget`, `useDefault`, …). shush's own extensions use snake case (`examples`,
//! `negative_examples`, `checksum`, `confidence`, `references`, `max_len`). Keys that neither
//! format knows are collected in `unknown` so the loader can warn about them instead of
//! silently dropping them.

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A whole rule file: `detectors/*.toml`, `.shush.toml`, `.gitleaks.toml` or a Betterleaks
/// config.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ConfigFile {
    /// Human title of the configuration (gitleaks `title`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Free-form description (gitleaks `description`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Minimum gitleaks version the file was written for; informational only.
    #[serde(
        rename = "minVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub min_version: Option<String>,
    /// How this file extends another rule set (gitleaks `[extend]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extend: Option<ExtendSpec>,
    /// The rules (`[[rules]]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RuleSpec>,
    /// The deprecated single global allowlist (gitleaks `[allowlist]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowlist: Option<AllowlistSpec>,
    /// Global allowlists (gitleaks `[[allowlists]]`); `targetRules` scopes one to some rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowlists: Vec<AllowlistSpec>,
    /// Betterleaks: an Expr filter over every finding (`true` discards it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// Betterleaks: an Expr filter over every input's attributes (`true` skips the input).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefilter: Option<String>,
    /// shush: what to do about the secrets of this file's rules (`[[remediation]]`), moved
    /// into the rules by [`ConfigFile::attach_remediation`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remediation: Vec<RemediationSpec>,
    /// Keys shush does not understand; reported as warnings by the loader.
    #[serde(flatten, skip_serializing)]
    pub unknown: BTreeMap<String, IgnoredAny>,
}

/// gitleaks `[extend]`: build on the default rules or another file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExtendSpec {
    /// Extend shush's built-in rules. Unset means "not said": a gitleaks file then replaces
    /// the built-in rules, while shush's own `.shush.toml` extends them.
    #[serde(
        rename = "useDefault",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub use_default: Option<bool>,
    /// Extend the rules of another file, relative to this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// gitleaks reserves `url`; shush never fetches rules over the network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Rule ids of the extended set to leave out.
    #[serde(
        rename = "disabledRules",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub disabled_rules: Vec<String>,
    /// Keys shush does not understand.
    #[serde(flatten, skip_serializing)]
    pub unknown: BTreeMap<String, IgnoredAny>,
}

/// One detection rule (`[[rules]]`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RuleSpec {
    /// Unique identifier, e.g. `github-pat`.
    #[serde(default)]
    pub id: String,
    /// Short human description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The confirming regular expression (RE2/Rust syntax, ASCII classes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// Capture group holding the secret; 0 means "the first non-empty group, else the match".
    #[serde(rename = "secretGroup", default, skip_serializing_if = "is_zero_usize")]
    pub secret_group: usize,
    /// Minimum Shannon entropy (bits per byte) the secret must exceed.
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub entropy: f64,
    /// shush: the entropy floor when redacting a stream (`shush redact`, `shush run`) instead
    /// of `entropy`. A value a scan ranks too weak to report (`Summer2024!`) can still be a
    /// live password that a log must not show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redact_entropy: Option<f64>,
    /// Literal keywords; the rule only runs near them (ASCII case-insensitive).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// Regular expression over the input's path: the rule only applies where it matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Free-form tags; the tag `generic` marks low-precision context rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Deprecated single rule allowlist (gitleaks `[rules.allowlist]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowlist: Option<AllowlistSpec>,
    /// Rule allowlists (gitleaks `[[rules.allowlists]]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowlists: Vec<AllowlistSpec>,
    /// Composite rules: other rules that must match nearby (gitleaks `[[rules.required]]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required: Vec<RequiredSpec>,
    /// Match but do not report (used as a `required` component).
    #[serde(rename = "skipReport", default, skip_serializing_if = "is_false")]
    pub skip_report: bool,
    /// shush: named format check the secret must pass (e.g. `github-crc32`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
    /// shush: `high`, `medium` or `low`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<String>,
    /// shush: links to the provider's documentation of the format.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// shush: inputs the rule must find, each with the secret it must capture.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<ExampleSpec>,
    /// shush: inputs the rule must not report.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub negative_examples: Vec<NegativeSpec>,
    /// Betterleaks: an Expr filter over this rule's findings (`true` discards one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// shush: upper bound on a match's length, for regexes that are otherwise unbounded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_len: Option<usize>,
    /// shush: a regex that must match right after a keyword hit (anchored there) for the
    /// rule's window around that hit to be searched: a cheap necessary condition (an
    /// assignment operator after `token`, say) that spares the confirming regex the hits it
    /// could never confirm. See `rules::follow`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow: Option<String>,
    /// shush: what to do about a secret this rule finds (`[rules.remediation]`, or a file's
    /// `[[remediation]]` naming the rule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<RemediationSpec>,
    /// Keys shush does not understand (e.g. Betterleaks `filter`, `validate`).
    #[serde(flatten, skip_serializing)]
    pub unknown: BTreeMap<String, IgnoredAny>,
}

/// What to do about a leaked credential, from the provider's documentation: what it grants,
/// where it is revoked, and the command that revokes it where one exists.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RemediationSpec {
    /// The rules of the same file it covers (`[[remediation]]` only); empty: every rule of
    /// the file that no other entry names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    /// What whoever holds the credential can do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grants: Option<String>,
    /// The page where it is revoked or rotated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoke_url: Option<String>,
    /// One documented command that revokes or rotates it (`<placeholders>` in angle brackets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The provider's documentation on revoking or rotating it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs: Option<String>,
    /// Keys shush does not understand.
    #[serde(flatten, skip_serializing)]
    pub unknown: BTreeMap<String, IgnoredAny>,
}

impl ConfigFile {
    /// Moves the file's `[[remediation]]` entries into the rules they cover: first the
    /// entries that name rules, then the one that names none (every rule still without
    /// one). A rule's own `[rules.remediation]` wins. An entry naming a rule the file does
    /// not define, a rule named twice, or two entries naming no rule, is an error (the
    /// message says which).
    pub fn attach_remediation(&mut self) -> Result<(), String> {
        let entries = std::mem::take(&mut self.remediation);
        let mut named = std::collections::BTreeSet::new();
        let mut fallback = None;
        for entry in entries {
            if entry.rules.is_empty() {
                if fallback.replace(entry).is_some() {
                    return Err("more than one [[remediation]] names no rules".into());
                }
                continue;
            }
            for id in &entry.rules {
                if !named.insert(id.clone()) {
                    return Err(format!("[[remediation]]: rule {id} is named twice"));
                }
                let rule = self.rules.iter_mut().find(|r| &r.id == id).ok_or_else(|| {
                    format!("[[remediation]]: rule {id} is not defined in this file")
                })?;
                if rule.remediation.is_none() {
                    rule.remediation = Some(RemediationSpec {
                        rules: Vec::new(),
                        ..entry.clone()
                    });
                }
            }
        }
        if let Some(entry) = fallback {
            for rule in self.rules.iter_mut().filter(|r| r.remediation.is_none()) {
                rule.remediation = Some(entry.clone());
            }
        }
        Ok(())
    }
}

/// A positive example: either plain text that must match, or text plus the exact secret the
/// rule must capture from it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ExampleSpec {
    /// Text the rule must report (any secret).
    Text(String),
    /// Text the rule must report, with the secret it must capture.
    WithSecret {
        /// The input.
        text: String,
        /// The secret the rule must capture from `text`.
        secret: String,
        /// The input's path (for rules restricted by `path`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
    },
}

/// A negative example: text the rule must not report, optionally at a path.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum NegativeSpec {
    /// Text the rule must not report.
    Text(String),
    /// Text the rule must not report when it is the content of `path`.
    WithPath {
        /// The input.
        text: String,
        /// The input's path.
        path: String,
    },
}

impl NegativeSpec {
    /// The input text.
    pub fn text(&self) -> &str {
        match self {
            NegativeSpec::Text(t) | NegativeSpec::WithPath { text: t, .. } => t,
        }
    }

    /// The input's path, if the example names one.
    pub fn path(&self) -> Option<&str> {
        match self {
            NegativeSpec::Text(_) => None,
            NegativeSpec::WithPath { path, .. } => Some(path),
        }
    }
}

impl ExampleSpec {
    /// The input text of the example.
    pub fn text(&self) -> &str {
        match self {
            ExampleSpec::Text(t) => t,
            ExampleSpec::WithSecret { text, .. } => text,
        }
    }

    /// The secret the example expects, when it names one.
    pub fn secret(&self) -> Option<&str> {
        match self {
            ExampleSpec::Text(_) => None,
            ExampleSpec::WithSecret { secret, .. } => Some(secret),
        }
    }

    /// The input's path, when the example names one.
    pub fn path(&self) -> Option<&str> {
        match self {
            ExampleSpec::Text(_) => None,
            ExampleSpec::WithSecret { path, .. } => path.as_deref(),
        }
    }
}

/// An allowlist (`[[rules.allowlists]]` or global `[[allowlists]]`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AllowlistSpec {
    /// Human description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `OR` (default) or `AND` over the criteria that are set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// Commit ids whose findings are allowed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commits: Vec<String>,
    /// Path regexes whose findings are allowed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// What `regexes` test: `secret` (default), `match` or `line`.
    #[serde(
        rename = "regexTarget",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub regex_target: Option<String>,
    /// Regexes that allow a finding when they match the target.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regexes: Vec<String>,
    /// Substrings that allow a finding when the secret contains one (case-insensitive).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stopwords: Vec<String>,
    /// Global allowlists only: the rule ids it applies to (all when empty).
    #[serde(rename = "targetRules", default, skip_serializing_if = "Vec::is_empty")]
    pub target_rules: Vec<String>,
    /// shush: the allowlist applies when scanning, not when redacting. For allowlists that
    /// leave out values a scan is better off not reporting though they may be real (weak
    /// passwords, passphrases of words, values with `test` or `1234`): a redactor masks them.
    #[serde(default, skip_serializing_if = "is_false")]
    pub scan_only: bool,
    /// Keys shush does not understand.
    #[serde(flatten, skip_serializing)]
    pub unknown: BTreeMap<String, IgnoredAny>,
}

/// gitleaks `[[rules.required]]`: another rule that must match near this one.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RequiredSpec {
    /// The id of the required rule.
    #[serde(default)]
    pub id: String,
    /// The required match must start within this many lines of the primary match.
    #[serde(
        rename = "withinLines",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub within_lines: Option<usize>,
    /// The required match must start within this many columns of the primary match.
    #[serde(
        rename = "withinColumns",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub within_columns: Option<usize>,
    /// Keys shush does not understand.
    #[serde(flatten, skip_serializing)]
    pub unknown: BTreeMap<String, IgnoredAny>,
}

fn is_zero_usize(v: &usize) -> bool {
    *v == 0
}

fn is_zero_f64(v: &f64) -> bool {
    *v == 0.0
}

fn is_false(v: &bool) -> bool {
    !*v
}
