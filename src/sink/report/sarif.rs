//! SARIF 2.1.0 output (<https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html>).

use super::Notices;
use crate::finding::Finding;
use crate::problem::{Problem, Subject};
use crate::rules::{Confidence, RuleSet};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Writes a SARIF log with one run. Only the rules that produced results are listed. When
/// there are `notices`, the run has an invocation listing them (`executionSuccessful` is
/// false when there are errors: something was not scanned).
pub fn write_sarif(
    out: &mut dyn Write,
    findings: &[Finding],
    rules: &RuleSet,
    notices: Notices<'_>,
) -> io::Result<()> {
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut descriptors: Vec<Value> = Vec::new();
    for f in findings {
        if index.contains_key(f.rule_id.as_str()) {
            continue;
        }
        index.insert(&f.rule_id, descriptors.len());
        let mut d = json!({
            "id": f.rule_id,
            "name": rule_name(&f.rule_id),
            "shortDescription": { "text": if f.description.is_empty() { f.rule_id.clone() } else { f.description.clone() } },
            "properties": { "tags": f.tags, "confidence": f.confidence.as_str() },
        });
        if let Some(uri) = rules.get(&f.rule_id).and_then(|r| r.references.first()) {
            d["helpUri"] = json!(uri);
        }
        descriptors.push(d);
    }
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let mut message = format!("{} ({}) found: {}", f.description, f.rule_id, f.secret);
            if let Some(chain) = &f.decoded {
                let names: Vec<_> = chain.iter().map(|e| e.as_str()).collect();
                message.push_str(&format!(" (decoded: {})", names.join(" > ")));
            }
            json!({
                "ruleId": f.rule_id,
                "ruleIndex": index[f.rule_id.as_str()],
                "level": if f.confidence == Confidence::Low { "warning" } else { "error" },
                "message": { "text": message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": path_to_uri(&f.path) },
                        "region": {
                            "startLine": f.line.max(1),
                            "startColumn": f.column.max(1),
                            "endLine": f.end_line.max(f.line).max(1),
                            "endColumn": f.end_column.max(1) + 1,
                            "byteOffset": f.offset,
                            "byteLength": f.length,
                        }
                    }
                }],
                "partialFingerprints": { "shushFingerprint/v2": f.fingerprint },
                "properties": {
                    "secret": f.secret,
                    "entropy": f.entropy,
                    "confidence": f.confidence.as_str(),
                    "source": f.source,
                },
            })
        })
        .collect();
    let mut run = json!({
        "tool": { "driver": {
            "name": "shush",
            "semanticVersion": env!("CARGO_PKG_VERSION"),
            "informationUri": "https://github.com/shush-scanner/shush",
            "rules": descriptors,
        }},
        "columnKind": "unicodeCodePoints",
        "results": results,
    });
    if !notices.errors.is_empty() || !notices.warnings.is_empty() {
        run["invocations"] = json!([invocation(notices)]);
    }
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    });
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}

/// The invocation of a run that has notices: each error and warning a notification.
fn invocation(notices: Notices<'_>) -> Value {
    let note = |level: &str, p: &Problem| {
        let mut n = json!({ "level": level, "message": { "text": p.to_string() } });
        // A file the run could not read is a location a code-scanning UI can link to.
        if let Subject::Path(path) = &p.subject {
            n["locations"] =
                json!([{ "physicalLocation": { "artifactLocation": { "uri": path } } }]);
        }
        n
    };
    let notes: Vec<Value> = (notices.errors.iter().map(|e| note("error", e)))
        .chain(notices.warnings.iter().map(|w| note("warning", w)))
        .collect();
    json!({
        "executionSuccessful": notices.errors.is_empty(),
        "toolExecutionNotifications": notes,
    })
}

/// `github-pat` → `GithubPat` (SARIF's `name` is a PascalCase identifier by convention).
fn rule_name(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            cs.next()
                .map(|c| c.to_ascii_uppercase())
                .into_iter()
                .chain(cs)
                .collect::<String>()
        })
        .collect()
}

/// A relative URI reference for a path: `/` separators, everything outside RFC 3986's
/// unreserved set (and `/`) percent-encoded.
pub(crate) fn path_to_uri(path: &str) -> String {
    const RESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~')
        .remove(b'/');
    percent_encoding::utf8_percent_encode(&path.replace('\\', "/"), RESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_escaping() {
        assert_eq!(path_to_uri("src/a b#c.rs"), "src/a%20b%23c.rs");
        assert_eq!(path_to_uri("é"), "%C3%A9");
    }

    #[test]
    fn names() {
        assert_eq!(rule_name("github-pat"), "GithubPat");
        assert_eq!(rule_name("aws.key_id"), "AwsKeyId");
    }
}
