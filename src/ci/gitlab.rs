//! GitLab's secret-detection report (`gl-secret-detection-report.json`, schema 15.0.7), the
//! artifact GitLab's merge-request widget, pipeline security tab and vulnerability report
//! read. Secrets stay masked: the report carries no source extract.

use crate::finding::{Finding, Source};
use crate::problem::Problem;
use crate::rules::Confidence;
use serde_json::{Value, json};
use sha2::Digest;

/// The report schema version written.
pub const SCHEMA_VERSION: &str = "15.0.7";
/// The report's default file name (what GitLab's own analyzer writes).
pub const REPORT_FILE: &str = "gl-secret-detection-report.json";

/// How a scan went, for the report's `scan` section.
#[derive(Debug, Clone)]
pub struct ScanInfo<'a> {
    /// When the scan started, seconds since the epoch.
    pub start: i64,
    /// When it ended.
    pub end: i64,
    /// The commit the pipeline runs for (findings without a commit are placed there).
    pub commit: &'a str,
    /// Errors: the report's status is `failure` and each is a `fatal` message.
    pub errors: &'a [Problem],
    /// Warnings, as `warn` messages.
    pub warnings: &'a [Problem],
}

/// Seconds since the epoch as `yyyy-mm-ddThh:mm:ss` (UTC), the schema's time format.
fn utc(seconds: i64) -> String {
    let t = crate::git::format_git_time(seconds, 0);
    t[..19].to_string()
}

/// The severity GitLab shows for a rule's confidence.
fn severity(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "Critical",
        Confidence::Medium => "High",
        Confidence::Low => "Medium",
    }
}

/// A stable id for a finding, from where it is (never from the secret).
fn vulnerability_id(f: &Finding, commit: &str) -> String {
    let mut h = sha2::Sha256::new();
    for part in [
        f.rule_id.as_str(),
        f.path.as_str(),
        commit,
        &f.line.to_string(),
        &f.column.to_string(),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let d = h.finalize();
    let hex: String = d[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn vulnerability(f: &Finding, default_commit: &str) -> Value {
    let (sha, author, date, message) = match &f.source {
        Source::Git {
            commit,
            author_name,
            date,
            summary,
            ..
        } => (
            commit.as_deref().unwrap_or(default_commit),
            author_name.clone(),
            date.clone(),
            summary.clone(),
        ),
        _ => (default_commit, None, None, None),
    };
    let mut commit = json!({ "sha": sha });
    for (k, v) in [("author", author), ("date", date), ("message", message)] {
        if let Some(v) = v {
            commit[k] = Value::String(v);
        }
    }
    json!({
        "id": vulnerability_id(f, sha),
        "name": truncate(&f.description, 255),
        "description": format!(
            "{} (rule `{}`), secret `{}` (masked). Revoke or rotate it, then remove it.",
            f.description, f.rule_id, f.secret
        ),
        "severity": severity(f.confidence),
        "solution": "Revoke or rotate the secret with its provider, then remove it from the \
                     code and history. If it is not a secret, add a `shush:allow` comment on \
                     its line or add it to the baseline.",
        "identifiers": [{
            "type": "shush_rule_id",
            "name": format!("shush rule {}", f.rule_id),
            "value": f.rule_id,
        }],
        "location": {
            "file": f.path,
            "start_line": f.line,
            "end_line": f.end_line,
            "commit": commit,
        },
    })
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// The report for `findings`.
pub fn report(findings: &[Finding], info: &ScanInfo<'_>) -> Value {
    let tool = json!({
        "id": "shush",
        "name": "shush",
        "version": env!("CARGO_PKG_VERSION"),
        "url": "https://github.com/shush-scanner/shush",
        "vendor": { "name": "shush" },
    });
    let messages: Vec<Value> = info
        .errors
        .iter()
        .map(|e| json!({ "level": "fatal", "value": e.to_string() }))
        .chain(
            info.warnings
                .iter()
                .map(|w| json!({ "level": "warn", "value": w.to_string() })),
        )
        .collect();
    json!({
        "version": SCHEMA_VERSION,
        "vulnerabilities": findings
            .iter()
            .map(|f| vulnerability(f, info.commit))
            .collect::<Vec<_>>(),
        "scan": {
            "analyzer": tool,
            "scanner": tool,
            "type": "secret_detection",
            "start_time": utc(info.start),
            "end_time": utc(info.end),
            "status": if info.errors.is_empty() { "success" } else { "failure" },
            "messages": messages,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_without_offset() {
        assert_eq!(utc(0), "1970-01-01T00:00:00");
        assert_eq!(utc(1_614_834_367), "2021-03-04T05:06:07");
    }
}
