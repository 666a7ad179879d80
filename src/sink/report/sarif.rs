//! SARIF 2.1.0 output (<https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html>).

use super::Notices;
use crate::finding::{Finding, Source};
use crate::problem::{Problem, Subject};
use crate::remediation::Remediation;
use crate::rules::{Confidence, RuleSet};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

/// Most results GitHub code scanning accepts in one run; a larger run is rejected whole, so
/// the rest are left out (the most confident are kept) and a notification says how many.
pub const MAX_RESULTS: usize = 25_000;

/// Most tags GitHub keeps on a rule.
const MAX_TAGS: usize = 20;

/// The run's `automationDetails.id`: the category code scanning files the alerts under
/// (`category/`; GitHub's upload action may override it with its own `category`).
const AUTOMATION_ID: &str = "shush/";

/// Writes a SARIF log with one run, shaped for code-scanning UIs (GitHub's requirements:
/// rules with full descriptions, help and `security-severity`, locations relative to the
/// source root, stable `partialFingerprints`, at most [`MAX_RESULTS`] results). Only the
/// rules that produced results are listed. When there are `notices`, the run has an
/// invocation listing them (`executionSuccessful` is false when there are errors: something
/// was not scanned).
pub fn write_sarif(
    out: &mut dyn Write,
    findings: &[Finding],
    rules: &RuleSet,
    notices: Notices<'_>,
) -> io::Result<()> {
    let root = std::env::current_dir().ok();
    let (listed, left_out) = most_confident(findings);
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut descriptors: Vec<Value> = Vec::new();
    for f in &listed {
        if !index.contains_key(f.rule_id.as_str()) {
            index.insert(&f.rule_id, descriptors.len());
            descriptors.push(descriptor(f, rules));
        }
    }
    let results: Vec<Value> = (listed.iter())
        .map(|f| result(f, index[f.rule_id.as_str()], root.as_deref()))
        .collect();
    let mut run = json!({
        "tool": { "driver": {
            "name": "shush",
            "semanticVersion": env!("CARGO_PKG_VERSION"),
            "informationUri": "https://github.com/shush-scanner/shush",
            "rules": descriptors,
        }},
        "automationDetails": { "id": AUTOMATION_ID },
        "originalUriBaseIds": { "%SRCROOT%": {
            "description": { "text": "The directory shush ran in (the repository's root in CI)." }
        }},
        "columnKind": "unicodeCodePoints",
        "results": results,
    });
    let truncated = (left_out > 0).then(|| {
        Problem::run(
            crate::problem::Kind::OverCap,
            format!(
                "{left_out} less confident findings are not listed: code scanning accepts at most {MAX_RESULTS} results per run (the exit code counts them all)"
            ),
        )
    });
    let warnings: Vec<Problem> = notices.warnings.iter().cloned().chain(truncated).collect();
    if !notices.errors.is_empty() || !warnings.is_empty() {
        run["invocations"] = json!([invocation(notices.errors, &warnings)]);
    }
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    });
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}

/// The findings a run lists: all of them, or the [`MAX_RESULTS`] most confident (in report
/// order otherwise); and how many were left out.
fn most_confident(findings: &[Finding]) -> (Vec<&Finding>, usize) {
    let mut listed: Vec<&Finding> = findings.iter().collect();
    if listed.len() <= MAX_RESULTS {
        return (listed, 0);
    }
    // A stable sort keeps report order within each confidence.
    listed.sort_by_key(|f| std::cmp::Reverse(f.confidence));
    let left_out = listed.len() - MAX_RESULTS;
    listed.truncate(MAX_RESULTS);
    (listed, left_out)
}

/// The `security-severity` code scanning ranks alerts by (over 9.0 critical, 7.0–8.9 high,
/// 4.0–6.9 medium): a leaked credential is critical when the rule is sure of it.
fn security_severity(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "9.5",
        Confidence::Medium => "8.0",
        Confidence::Low => "5.0",
    }
}

/// SARIF's `precision` for a rule's confidence.
fn precision(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "very-high",
        Confidence::Medium => "high",
        Confidence::Low => "medium",
    }
}

fn level(c: Confidence) -> &'static str {
    if c == Confidence::Low {
        "warning"
    } else {
        "error"
    }
}

/// The reporting descriptor of `f`'s rule: descriptions, what to do (`help`, `helpUri`),
/// and the properties code scanning ranks and filters by.
fn descriptor(f: &Finding, rules: &RuleSet) -> Value {
    let r = &f.remediation;
    let short = if f.description.is_empty() {
        f.rule_id.clone()
    } else {
        f.description.clone()
    };
    let full = match &r.grants {
        Some(g) => format!("{short}. {g}"),
        None => format!("{short}."),
    };
    let mut tags: Vec<&str> = vec!["security", "secret"];
    tags.extend(
        f.tags
            .iter()
            .map(String::as_str)
            .filter(|t| !["security", "secret"].contains(t)),
    );
    tags.truncate(MAX_TAGS);
    let mut d = json!({
        "id": f.rule_id,
        "name": rule_name(&f.rule_id),
        "shortDescription": { "text": short },
        "fullDescription": { "text": full },
        "defaultConfiguration": { "level": level(f.confidence) },
        "help": help(r),
        "properties": {
            "tags": tags,
            "precision": precision(f.confidence),
            "security-severity": security_severity(f.confidence),
            "confidence": f.confidence.as_str(),
        },
    });
    let reference = rules.get(&f.rule_id).and_then(|r| r.references.first());
    if let Some(uri) = r.revoke_url.as_ref().or(r.docs.as_ref()).or(reference) {
        d["helpUri"] = json!(uri);
    }
    d
}

/// A rule's `help`: what the credential grants and how to revoke it, as text and Markdown.
fn help(r: &Remediation) -> Value {
    let mut text = Vec::new();
    let mut markdown = Vec::new();
    if let Some(g) = &r.grants {
        text.push(format!("What it grants: {g}"));
        markdown.push(format!("**What it grants:** {g}"));
    }
    text.push(r.summary.clone());
    markdown.push(r.summary.clone());
    if let Some(url) = &r.revoke_url {
        text.push(format!("Revoke it at: {url}"));
        markdown.push(format!("**Revoke it at:** <{url}>"));
    }
    if let Some(c) = &r.command {
        text.push(format!("Command: {c}"));
        markdown.push(format!("**Command:** `{c}`"));
    }
    if let Some(d) = &r.docs {
        text.push(format!("Documentation: {d}"));
        markdown.push(format!("**Documentation:** <{d}>"));
    }
    json!({ "text": text.join("\n"), "markdown": markdown.join("\n\n") })
}

/// One result: the rule, the message, where, and the fingerprint code scanning tracks the
/// alert by across runs.
fn result(f: &Finding, rule_index: usize, root: Option<&Path>) -> Value {
    let mut message = format!(
        "{} ({}) found: {} #{}",
        f.description, f.rule_id, f.secret, f.secret_id
    );
    if let Some(chain) = &f.decoded {
        let names: Vec<_> = chain.iter().map(|e| e.as_str()).collect();
        message.push_str(&format!(" (decoded: {})", names.join(" > ")));
    }
    let (artifact, inner) = artifact_of(f);
    let mut physical = json!({ "artifactLocation": artifact_location(artifact, root) });
    match inner {
        // Inside an archive or an image: the line is the inner file's, not the artifact's.
        Some(inner) => message.push_str(&format!(" in {inner}")),
        None => {
            physical["region"] = json!({
                "startLine": f.line.max(1),
                "startColumn": f.column.max(1),
                "endLine": f.end_line.max(f.line).max(1),
                "endColumn": f.end_column.max(1) + 1,
            });
        }
    }
    json!({
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": level(f.confidence),
        "message": { "text": message },
        "locations": [{ "physicalLocation": physical }],
        "partialFingerprints": { "shushFingerprint/v2": f.fingerprint },
        "properties": {
            "secret": f.secret,
            "secretId": f.secret_id,
            "entropy": f.entropy,
            "confidence": f.confidence.as_str(),
            "path": f.path,
            "line": f.line,
            "source": f.source,
        },
    })
}

/// The file on disk a finding is in, and where inside it when that file is an archive or an
/// image (`app/app.war!WEB-INF/app.env`, `layer 3: etc/app.env`).
fn artifact_of(f: &Finding) -> (&str, Option<String>) {
    match &f.source {
        Source::Archive { chain } if chain.len() > 1 => (
            chain[0].as_str(),
            Some(chain[1..].join(crate::problem::CHAIN_SEPARATOR)),
        ),
        Source::Image(img) => {
            let inner = match (&img.field, &img.path) {
                (Some(field), _) => format!("image config {field}"),
                (None, Some(p)) => match img.layer_index {
                    Some(i) => format!("layer {i}: {p}"),
                    None => p.clone(),
                },
                (None, None) => "the image".to_string(),
            };
            (img.artifact.as_str(), Some(inner))
        }
        _ => (f.path.as_str(), None),
    }
}

/// An artifact location: relative to `%SRCROOT%` (the directory shush ran in) when the path
/// is relative or under it, so that code scanning links it to the repository's file; an
/// absolute `file://` URI otherwise.
fn artifact_location(path: &str, root: Option<&Path>) -> Value {
    let p = Path::new(path);
    let relative = if p.is_absolute() {
        root.and_then(|r| p.strip_prefix(r).ok())
            .map(|r| r.to_string_lossy().into_owned())
    } else {
        Some(path.strip_prefix("./").unwrap_or(path).to_string())
    };
    match relative {
        Some(rel) => json!({ "uri": path_to_uri(&rel), "uriBaseId": "%SRCROOT%" }),
        None => json!({ "uri": format!("file://{}", path_to_uri(path)) }),
    }
}

/// The invocation of a run that has notices: each error and warning a notification.
fn invocation(errors: &[Problem], warnings: &[Problem]) -> Value {
    let note = |level: &str, p: &Problem| {
        let mut n = json!({ "level": level, "message": { "text": p.to_string() } });
        // A file the run could not read is a location a code-scanning UI can link to.
        if let Subject::Path(path) = &p.subject {
            n["locations"] =
                json!([{ "physicalLocation": { "artifactLocation": { "uri": path } } }]);
        }
        n
    };
    let notes: Vec<Value> = (errors.iter().map(|e| note("error", e)))
        .chain(warnings.iter().map(|w| note("warning", w)))
        .collect();
    json!({
        "executionSuccessful": errors.is_empty(),
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
