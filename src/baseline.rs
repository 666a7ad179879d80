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
use std::path::Path;

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
    locations: HashSet<Location>,
}

impl Baseline {
    /// Loads a report used as a baseline: shush JSON, JSONL or SARIF, or a gitleaks JSON report.
    pub fn load(path: &Path) -> Result<Self> {
        let text = read_bounded(path)?;
        Self::parse(&text).map_err(|message| Error::Config {
            origin: path.display().to_string(),
            message: format!(
                "not a shush JSON, JSONL or SARIF report, nor a gitleaks JSON report: {message}"
            ),
        })
    }

    /// Loads a `.gitleaksignore` file.
    pub fn load_gitleaksignore(path: &Path) -> Result<Self> {
        let text = read_bounded(path)?;
        Self::parse_gitleaksignore(&text).map_err(|message| Error::Config {
            origin: path.display().to_string(),
            message,
        })
    }

    /// Parses a report's text.
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let mut b = Baseline::default();
        let trimmed = text.trim_start();
        if trimmed.is_empty() {
            return Ok(b);
        }
        for v in json_values(trimmed)? {
            b.absorb(&v)?;
        }
        Ok(b)
    }

    /// Parses `.gitleaksignore` text: one fingerprint a line; blank lines and `#` comments are
    /// skipped.
    pub fn parse_gitleaksignore(text: &str) -> std::result::Result<Self, String> {
        let mut b = Baseline::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let loc = parse_gitleaks_fingerprint(line)
                .ok_or_else(|| format!("line {}: not `[commit:]file:rule:line`", i + 1))?;
            b.locations.insert(loc);
        }
        Ok(b)
    }

    /// Adds what `other` suppresses.
    pub fn merge(&mut self, other: Baseline) {
        self.fingerprints.extend(other.fingerprints);
        self.locations.extend(other.locations);
    }

    /// Whether a fingerprint is in the baseline.
    pub fn contains(&self, fingerprint: &str) -> bool {
        self.fingerprints.contains(fingerprint)
    }

    /// Whether `f` is suppressed. `has_rule` says whether shush has a rule of that id (see
    /// the module documentation for why it matters).
    pub fn suppresses(&self, f: &Finding, has_rule: &dyn Fn(&str) -> bool) -> bool {
        if self.fingerprints.contains(&f.fingerprint) {
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

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.fingerprints.len() + self.locations.len()
    }

    /// Whether the baseline is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes one report entry (or a whole SARIF log).
    fn absorb(&mut self, v: &serde_json::Value) -> std::result::Result<(), String> {
        if let Some(runs) = v.get("runs").and_then(|r| r.as_array()) {
            for result in runs
                .iter()
                .filter_map(|run| run.get("results").and_then(|r| r.as_array()))
                .flatten()
            {
                if let Some(fp) = result
                    .pointer("/partialFingerprints/shushFingerprint~1v1")
                    .and_then(|f| f.as_str())
                {
                    self.fingerprints.insert(fp.to_string());
                }
            }
        } else if let Some(fp) = v.get("fingerprint").and_then(|f| f.as_str()) {
            self.fingerprints.insert(fp.to_string());
        } else if v.get("RuleID").is_some() {
            self.locations.insert(gitleaks_entry(v)?);
        } else {
            return Err("an entry has no `fingerprint` (nor gitleaks' `RuleID`)".into());
        }
        Ok(())
    }
}

/// The JSON values of a report: one document (an array is its items) or JSON Lines.
fn json_values(text: &str) -> std::result::Result<Vec<serde_json::Value>, String> {
    if text.starts_with('[') || text.starts_with("{\n") || is_single_document(text) {
        return match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Array(items)) => Ok(items),
            Ok(v) => Ok(vec![v]),
            Err(e) => Err(e.to_string()),
        };
    }
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(|e| e.to_string()))
        .collect()
}

/// One entry of a gitleaks JSON report.
fn gitleaks_entry(v: &serde_json::Value) -> std::result::Result<Location, String> {
    let text = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or_default();
    let line = v
        .get("StartLine")
        .and_then(|x| x.as_u64())
        .ok_or("a gitleaks entry has no `StartLine`")?;
    let path = text("File");
    if path.is_empty() {
        return Err("a gitleaks entry has no `File`".into());
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

fn normalise(path: &str) -> &str {
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
    let refuse = |message: String| Error::Config {
        origin: path.display().to_string(),
        message,
    };
    if !md.is_file() {
        return Err(refuse("not a regular file".into()));
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .map_err(|e| Error::io(path, e))?
        .take(MAX_BASELINE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| Error::io(path, e))?;
    if text.len() as u64 > MAX_BASELINE_BYTES {
        return Err(refuse(format!(
            "larger than {} MiB; not a baseline",
            MAX_BASELINE_BYTES >> 20
        )));
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
}
