//! Baselines: findings a team has already seen and accepted, so a CI gate fails only on new
//! secrets. Three kinds of input are understood:
//!
//! - shush reports (JSON array, JSON Lines, SARIF): a finding is suppressed when its
//!   fingerprint (rule and secret) is in the report — it survives line moves and rebases;
//! - gitleaks JSON reports (`gitleaks … --report-format json`): a finding is suppressed at the
//!   same file and line (and commit, when both sides have one);
//! - `.gitleaksignore` files: one gitleaks fingerprint a line, `file:rule:line` or
//!   `commit:file:rule:line`.
//!
//! gitleaks' rule ids are not always shush's (`generic-api-key` is `generic-password` here):
//! a gitleaks entry whose rule shush also has must name the finding's rule, and an entry for
//! a rule shush does not have suppresses whatever shush finds at that location.

use crate::error::{Error, Result};
use crate::finding::{Finding, Source};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// What every report error says first: the kinds of report a baseline may be.
const NOT_A_REPORT: &str = "not a shush JSON, JSONL or SARIF report, nor a gitleaks JSON report";

/// Why a baseline could not be read. A message names the file, line or entry, never their
/// text: a baseline could hold a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BaselineError {
    /// A report is not valid JSON (nor JSON Lines).
    #[error("{NOT_A_REPORT}: invalid JSON at line {line}, column {column}")]
    Json {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
    },
    /// A report entry has neither a shush fingerprint nor gitleaks' `RuleID`.
    #[error("{NOT_A_REPORT}: entry {entry} has no `fingerprint` (nor gitleaks' `RuleID`)")]
    NoFingerprint {
        /// 1-based position of the entry in the report (for JSON Lines, among its
        /// non-blank lines).
        entry: usize,
    },
    /// A gitleaks report entry lacks a field shush needs.
    #[error("{NOT_A_REPORT}: gitleaks entry {entry} has no `{field}`")]
    GitleaksField {
        /// 1-based position of the entry in the report.
        entry: usize,
        /// The missing field (`StartLine` or `File`).
        field: &'static str,
    },
    /// A `.gitleaksignore` line is not a gitleaks fingerprint.
    #[error("line {line}: not `[commit:]file:rule:line`")]
    IgnoreLine {
        /// 1-based line number.
        line: usize,
    },
    /// The path is not a regular file.
    #[error("not a regular file")]
    NotAFile,
    /// The file is larger than [`MAX_BASELINE_BYTES`].
    #[error("larger than {limit_mib} MiB; not a baseline")]
    TooLarge {
        /// The limit, in MiB.
        limit_mib: u64,
    },
    /// One of the errors above, in a file.
    #[error("{}: {error}", path.display())]
    File {
        /// The baseline file.
        path: PathBuf,
        /// What is wrong with it.
        error: Box<BaselineError>,
    },
}

impl BaselineError {
    /// This error, in the file at `path`.
    pub fn in_file(self, path: &Path) -> Self {
        BaselineError::File {
            path: path.to_path_buf(),
            error: Box::new(self),
        }
    }
}

/// Largest baseline file read: real ones hold thousands of entries, not millions.
pub const MAX_BASELINE_BYTES: u64 = 256 << 20;

/// A gitleaks-style location: where a reviewed finding was.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Location {
    /// The commit, when the entry names one.
    pub commit: Option<String>,
    /// The file's path (normalised: no leading `./`).
    pub path: String,
    /// The rule id, as the other tool named it.
    pub rule: String,
    /// 1-based line.
    pub line: u64,
}

/// The suppressions of one or more baseline files.
#[derive(Debug, Default, Clone)]
pub struct Baseline {
    fingerprints: HashSet<String>,
    /// First-scheme (unkeyed) fingerprints, honoured for one release (see
    /// [`crate::fingerprint::legacy`]).
    legacy: HashSet<String>,
    /// Keyed fingerprints per key id they were made under.
    key_ids: std::collections::BTreeMap<String, usize>,
    locations: HashSet<Location>,
}

impl Baseline {
    /// Loads a report used as a baseline: shush JSON, JSONL or SARIF, or a gitleaks JSON report.
    pub fn load(path: &Path) -> Result<Self> {
        let text = read_bounded(path)?;
        Self::parse(&text).map_err(|e| e.in_file(path).into())
    }

    /// Loads a `.gitleaksignore` file.
    pub fn load_gitleaksignore(path: &Path) -> Result<Self> {
        let text = read_bounded(path)?;
        Self::parse_gitleaksignore(&text).map_err(|e| e.in_file(path).into())
    }

    /// Parses a report's text.
    pub fn parse(text: &str) -> std::result::Result<Self, BaselineError> {
        let mut b = Baseline::default();
        let trimmed = text.trim_start();
        if trimmed.is_empty() {
            return Ok(b);
        }
        for (i, v) in json_values(text)?.iter().enumerate() {
            b.absorb(v, i + 1)?;
        }
        Ok(b)
    }

    /// Parses `.gitleaksignore` text: one fingerprint a line; blank lines and `#` comments are
    /// skipped.
    pub fn parse_gitleaksignore(text: &str) -> std::result::Result<Self, BaselineError> {
        let mut b = Baseline::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let loc = parse_gitleaks_fingerprint(line)
                .ok_or(BaselineError::IgnoreLine { line: i + 1 })?;
            b.locations.insert(loc);
        }
        Ok(b)
    }

    /// Adds what `other` suppresses.
    pub fn merge(&mut self, other: Baseline) {
        self.fingerprints.extend(other.fingerprints);
        self.legacy.extend(other.legacy);
        for (id, n) in other.key_ids {
            *self.key_ids.entry(id).or_insert(0) += n;
        }
        self.locations.extend(other.locations);
    }

    /// What a user must hear about this baseline under `key`: entries written under another
    /// fingerprint key (they can never match), and old unkeyed fingerprints (they still
    /// match in this release, but they let whoever holds the file test guessed secrets).
    pub fn warnings(&self, key: &crate::fingerprint::FingerprintKey) -> Vec<String> {
        let mut out = Vec::new();
        for (id, n) in self.key_ids.iter().filter(|(id, _)| *id != key.id()) {
            out.push(format!(
                "{n} baseline entr{} made under fingerprint key {id}, but this run's key is {} \
                 (from {}): {} cannot match; give every machine the same key \
                 ({} or {})",
                if *n == 1 { "y was" } else { "ies were" },
                key.id(),
                key.origin(),
                if *n == 1 { "it" } else { "they" },
                crate::fingerprint::KEY_ENV,
                crate::fingerprint::KEY_FILE_ENV,
            ));
        }
        if !self.legacy.is_empty() {
            out.push(format!(
                "{} baseline entr{} old unkeyed fingerprints: they still suppress findings in \
                 this release, but anyone holding the file can test guessed secrets against \
                 them; write the baseline again (shush scan … --format jsonl -o FILE)",
                self.legacy.len(),
                if self.legacy.len() == 1 {
                    "y has"
                } else {
                    "ies have"
                },
            ));
        }
        out
    }

    /// Whether a fingerprint is in the baseline.
    pub fn contains(&self, fingerprint: &str) -> bool {
        self.fingerprints.contains(fingerprint) || self.legacy.contains(fingerprint)
    }

    /// Records one fingerprint from a report, by its scheme.
    fn add_fingerprint(&mut self, fp: &str) {
        if crate::fingerprint::is_legacy(fp) {
            self.legacy.insert(fp.to_string());
            return;
        }
        if let Some(id) = crate::fingerprint::key_id_of(fp) {
            if self.fingerprints.insert(fp.to_string()) {
                *self.key_ids.entry(id.to_string()).or_insert(0) += 1;
            }
            return;
        }
        self.fingerprints.insert(fp.to_string());
    }

    /// Whether `f` is suppressed. `has_rule` says whether shush has a rule of that id (see
    /// the module documentation for why it matters).
    pub fn suppresses(&self, f: &Finding, has_rule: &dyn Fn(&str) -> bool) -> bool {
        if self.fingerprints.contains(&f.fingerprint)
            || (!f.legacy_fingerprint.is_empty() && self.legacy.contains(&f.legacy_fingerprint))
        {
            return true;
        }
        if self.locations.is_empty() {
            return false;
        }
        let path = normalise(&f.path);
        let commit = match &f.source {
            Source::Git { commit, .. } => commit.as_deref(),
            _ => None,
        };
        self.locations.iter().any(|l| {
            l.line == f.line
                && l.path == path
                && (l.rule == f.rule_id || !has_rule(&l.rule))
                && match (&l.commit, commit) {
                    (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                    _ => true,
                }
        })
    }

    /// The keyed fingerprints it holds (for importing it into a triage store).
    pub fn keyed_fingerprints(&self) -> impl Iterator<Item = &str> {
        self.fingerprints.iter().map(String::as_str)
    }

    /// How many old unkeyed fingerprints it holds.
    pub fn legacy_count(&self) -> usize {
        self.legacy.len()
    }

    /// The places it names (gitleaks reports and `.gitleaksignore`).
    pub fn locations(&self) -> impl Iterator<Item = &Location> {
        self.locations.iter()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.fingerprints.len() + self.legacy.len() + self.locations.len()
    }

    /// Whether the baseline is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes one report entry (or a whole SARIF log), the `entry`-th of its report.
    fn absorb(
        &mut self,
        v: &serde_json::Value,
        entry: usize,
    ) -> std::result::Result<(), BaselineError> {
        if let Some(runs) = v.get("runs").and_then(|r| r.as_array()) {
            for result in runs
                .iter()
                .filter_map(|run| run.get("results").and_then(|r| r.as_array()))
                .flatten()
            {
                for scheme in ["v2", "v1"] {
                    let at = format!("/partialFingerprints/shushFingerprint~1{scheme}");
                    if let Some(fp) = result.pointer(&at).and_then(|f| f.as_str()) {
                        self.add_fingerprint(fp);
                    }
                }
            }
        } else if let Some(fp) = v.get("fingerprint").and_then(|f| f.as_str()) {
            self.add_fingerprint(fp);
        } else if v.get("RuleID").is_some() {
            self.locations.insert(gitleaks_entry(v, entry)?);
        } else {
            return Err(BaselineError::NoFingerprint { entry });
        }
        Ok(())
    }
}

/// The JSON values of a report: one document (an array is its items) or JSON Lines.
fn json_values(text: &str) -> std::result::Result<Vec<serde_json::Value>, BaselineError> {
    // serde_json's messages describe the error without quoting the input, but only its
    // position is kept: the input may hold secrets.
    let at = |e: serde_json::Error, line: usize| BaselineError::Json {
        line,
        column: e.column(),
    };
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') || trimmed.starts_with("{\n") || is_single_document(text) {
        return match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Array(items)) => Ok(items),
            Ok(v) => Ok(vec![v]),
            Err(e) => {
                let line = e.line();
                Err(at(e, line))
            }
        };
    }
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| at(e, i + 1)))
        .collect()
}

/// One entry of a gitleaks JSON report, the `entry`-th of the report.
fn gitleaks_entry(
    v: &serde_json::Value,
    entry: usize,
) -> std::result::Result<Location, BaselineError> {
    let text = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or_default();
    let missing = |field| BaselineError::GitleaksField { entry, field };
    let line = v
        .get("StartLine")
        .and_then(|x| x.as_u64())
        .ok_or(missing("StartLine"))?;
    let path = text("File");
    if path.is_empty() {
        return Err(missing("File"));
    }
    let commit = text("Commit");
    Ok(Location {
        commit: (!commit.is_empty()).then(|| commit.to_ascii_lowercase()),
        path: normalise(path).to_string(),
        rule: text("RuleID").to_string(),
        line,
    })
}

/// Parses `commit:file:rule:line` or `file:rule:line` (a file name may itself hold colons;
/// a commit is 40 or 64 hex digits).
pub fn parse_gitleaks_fingerprint(s: &str) -> Option<Location> {
    let mut parts = s.rsplitn(3, ':');
    let line: u64 = parts.next()?.trim().parse().ok()?;
    let rule = parts.next()?.to_string();
    let rest = parts.next()?;
    let (commit, path) = match rest.split_once(':') {
        Some((c, p))
            if (c.len() == 40 || c.len() == 64) && c.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            (Some(c.to_ascii_lowercase()), p)
        }
        _ => (None, rest),
    };
    if path.is_empty() || rule.is_empty() {
        return None;
    }
    Some(Location {
        commit,
        path: normalise(path).to_string(),
        rule,
        line,
    })
}

/// A path as baselines compare it: without leading `./`.
pub fn normalise(path: &str) -> &str {
    let mut p = path;
    while let Some(rest) = p.strip_prefix("./") {
        p = rest;
    }
    p
}

fn is_single_document(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text).is_ok()
}

/// Reads a baseline file, refusing what is not a regular file or is absurdly large (a
/// baseline in a scanned repository is not trusted to be well-behaved).
fn read_bounded(path: &Path) -> Result<String> {
    use std::io::Read;
    let md = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    let refuse = |e: BaselineError| Error::from(e.in_file(path));
    if !md.is_file() {
        return Err(refuse(BaselineError::NotAFile));
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .map_err(|e| Error::io(path, e))?
        .take(MAX_BASELINE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| Error::io(path, e))?;
    if text.len() as u64 > MAX_BASELINE_BYTES {
        return Err(refuse(BaselineError::TooLarge {
            limit_mib: MAX_BASELINE_BYTES >> 20,
        }));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_json_jsonl_and_sarif() {
        let json = r#"[{"fingerprint":"aa"},{"fingerprint":"bb"}]"#;
        assert_eq!(Baseline::parse(json).unwrap().len(), 2);
        let jsonl = "{\"fingerprint\":\"aa\"}\n{\"fingerprint\":\"cc\"}\n";
        let b = Baseline::parse(jsonl).unwrap();
        assert!(b.contains("cc") && b.contains("aa"));
        let sarif = r#"{"version":"2.1.0","runs":[{"results":[{"partialFingerprints":{"shushFingerprint/v1":"dd"}}]}]}"#;
        assert!(Baseline::parse(sarif).unwrap().contains("dd"));
        assert!(Baseline::parse("[{\"x\":1}]").is_err());
        assert!(Baseline::parse("").unwrap().is_empty());
    }

    #[test]
    fn parses_gitleaks_reports_and_ignore_files() {
        let report = r#"[{"RuleID":"github-pat","File":"./src/a.py","StartLine":3,"Commit":"","Secret":"REDACTED"}]"#;
        let b = Baseline::parse(report).unwrap();
        assert_eq!(b.len(), 1);
        assert!(Baseline::parse(r#"[{"RuleID":"x","StartLine":3}]"#).is_err());
        let commit = "a".repeat(40);
        let ignore = format!(
            "# reviewed\n\n{commit}:dir/with:colon.txt:aws-key:7\nsrc/b.env:generic-api-key:2\n"
        );
        let b = Baseline::parse_gitleaksignore(&ignore).unwrap();
        assert_eq!(b.len(), 2);
        let loc = parse_gitleaks_fingerprint(&format!("{commit}:dir/with:colon.txt:aws-key:7"));
        assert_eq!(
            loc,
            Some(Location {
                commit: Some(commit.clone()),
                path: "dir/with:colon.txt".into(),
                rule: "aws-key".into(),
                line: 7,
            })
        );
        assert!(Baseline::parse_gitleaksignore("just-a-word\n").is_err());
        assert!(parse_gitleaks_fingerprint("a.txt:rule:x").is_none());
    }

    #[test]
    fn errors_name_the_place_never_the_text() {
        const TOKEN: &str = "fake_TOKEN_abc123XYZ";
        let cases: [(String, BaselineError); 5] = [
            (
                format!("\n\n[{{\"fingerprint\": {TOKEN}}}]"),
                BaselineError::Json {
                    line: 3,
                    column: 20,
                },
            ),
            (
                format!("{{\"fingerprint\":\"a\"}}\n\n{{\"{TOKEN}\": 1}} x\n"),
                BaselineError::Json {
                    line: 3,
                    column: 29,
                },
            ),
            (
                format!("[{{\"fingerprint\":\"a\"}}, {{\"Secret\":\"{TOKEN}\"}}]"),
                BaselineError::NoFingerprint { entry: 2 },
            ),
            (
                format!("[{{\"RuleID\":\"x\",\"File\":\"a\",\"Secret\":\"{TOKEN}\"}}]"),
                BaselineError::GitleaksField {
                    entry: 1,
                    field: "StartLine",
                },
            ),
            (
                format!("[{{\"RuleID\":\"x\",\"StartLine\":1,\"Match\":\"{TOKEN}\"}}]"),
                BaselineError::GitleaksField {
                    entry: 1,
                    field: "File",
                },
            ),
        ];
        for (text, want) in cases {
            let e = Baseline::parse(&text).unwrap_err();
            assert_eq!(e, want, "{text}");
            let shown = e.in_file(Path::new("base.json")).to_string();
            assert!(shown.starts_with("base.json: not a shush JSON"), "{shown}");
            assert!(!shown.contains(TOKEN), "{shown}");
        }
        let e = Baseline::parse_gitleaksignore(&format!("# ok\na.txt:r:1\n{TOKEN}\n")).unwrap_err();
        assert_eq!(e, BaselineError::IgnoreLine { line: 3 });
        let e = Error::from(e.in_file(Path::new(".gitleaksignore")));
        assert_eq!(
            e.to_string(),
            ".gitleaksignore: line 3: not `[commit:]file:rule:line`"
        );
    }
}
