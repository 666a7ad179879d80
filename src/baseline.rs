//! Baselines: a previous report whose fingerprints are suppressed, so a CI gate fails only
//! on new secrets. Accepts shush JSON (array), JSON Lines and SARIF reports.

use crate::error::{Error, Result};
use std::collections::HashSet;
use std::path::Path;

/// The fingerprints of a baseline report.
#[derive(Debug, Default, Clone)]
pub struct Baseline {
    fingerprints: HashSet<String>,
}

impl Baseline {
    /// Loads a baseline file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&text).map_err(|message| Error::Config {
            origin: path.display().to_string(),
            message: format!("not a shush JSON, JSONL or SARIF report: {message}"),
        })
    }

    /// Parses a report's text.
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let mut fingerprints = HashSet::new();
        let trimmed = text.trim_start();
        if trimmed.is_empty() {
            return Ok(Baseline::default());
        }
        let values: Vec<serde_json::Value> = if trimmed.starts_with('[')
            || trimmed.starts_with("{\n")
            || is_single_document(trimmed)
        {
            match serde_json::from_str::<serde_json::Value>(trimmed) {
                Ok(serde_json::Value::Array(items)) => items,
                Ok(v) => vec![v],
                Err(e) => return Err(e.to_string()),
            }
        } else {
            trimmed
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| serde_json::from_str(l).map_err(|e| e.to_string()))
                .collect::<std::result::Result<_, _>>()?
        };
        for v in values {
            if let Some(runs) = v.get("runs").and_then(|r| r.as_array()) {
                for run in runs {
                    for result in run
                        .get("results")
                        .and_then(|r| r.as_array())
                        .into_iter()
                        .flatten()
                    {
                        if let Some(fp) = result
                            .pointer("/partialFingerprints/shushFingerprint~1v1")
                            .and_then(|f| f.as_str())
                        {
                            fingerprints.insert(fp.to_string());
                        }
                    }
                }
            } else if let Some(fp) = v.get("fingerprint").and_then(|f| f.as_str()) {
                fingerprints.insert(fp.to_string());
            } else {
                return Err("an entry has no `fingerprint`".into());
            }
        }
        Ok(Baseline { fingerprints })
    }

    /// Whether a fingerprint is in the baseline.
    pub fn contains(&self, fingerprint: &str) -> bool {
        self.fingerprints.contains(fingerprint)
    }

    /// Number of fingerprints.
    pub fn len(&self) -> usize {
        self.fingerprints.len()
    }

    /// Whether the baseline is empty.
    pub fn is_empty(&self) -> bool {
        self.fingerprints.is_empty()
    }
}

fn is_single_document(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text).is_ok()
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
}
