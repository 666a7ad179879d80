//! GitHub Actions' own outputs: workflow-command annotations (`::error file=…::…`), a step
//! summary in Markdown, and step outputs. Every one of them carries secrets masked, exactly
//! as the other reports do.

use crate::finding::{Finding, Source};
use crate::problem::{Problem, Subject};
use std::fmt::Write as _;

/// Annotations GitHub shows per step; more are dropped by the runner, so shush says how many
/// it left out instead.
pub const MAX_ANNOTATIONS: usize = 50;
/// Rows of the step summary's table.
pub const MAX_SUMMARY_ROWS: usize = 100;

/// Escapes a workflow command's message (`%`, CR, LF), as the runner unescapes it.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value (also `:` and `,`, which delimit them).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The short commit a finding was introduced in, if any.
fn commit_of(f: &Finding) -> Option<&str> {
    match &f.source {
        Source::Git {
            commit: Some(c), ..
        } => Some(&c[..c.len().min(12)]),
        _ => None,
    }
}

/// Whether a finding has a file path GitHub can place it on.
fn has_file(f: &Finding) -> bool {
    !f.path.starts_with("blob:") && f.path != "-"
}

/// One `::error` annotation for a finding.
pub fn annotation(f: &Finding) -> String {
    let mut props = Vec::new();
    if has_file(f) {
        props.push(format!("file={}", escape_property(&f.path)));
        props.push(format!("line={}", f.line));
        props.push(format!("endLine={}", f.end_line));
        if f.line == f.end_line {
            props.push(format!("col={}", f.column));
            props.push(format!("endColumn={}", f.end_column));
        }
    }
    props.push(format!(
        "title={}",
        escape_property(&format!("Secret: {}", f.rule_id))
    ));
    let commit = commit_of(f).map_or(String::new(), |c| format!(" in commit {c}"));
    let message = format!(
        "{} ({}) found{commit}: {}. Revoke or rotate it, then remove it; if it is not a \
         secret, add a `shush:allow` comment on its line or baseline it.",
        f.description, f.rule_id, f.secret
    );
    format!("::error {}::{}", props.join(","), escape_data(&message))
}

/// The annotations for `findings`, at most [`MAX_ANNOTATIONS`], plus a notice for the rest.
pub fn annotations(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings.iter().take(MAX_ANNOTATIONS) {
        out.push_str(&annotation(f));
        out.push('\n');
    }
    if findings.len() > MAX_ANNOTATIONS {
        let _ = writeln!(
            out,
            "::warning title=shush::{} more findings are not annotated; see the job log or the report",
            findings.len() - MAX_ANNOTATIONS
        );
    }
    out
}

/// An `::error` annotation for a scan that could not complete.
pub fn error_annotation(problem: &Problem) -> String {
    // A file or blob path the run could not read is annotated on that file.
    let file = match &problem.subject {
        Subject::Path(p) | Subject::Blob { path: Some(p), .. } => {
            format!("file={},", escape_property(p))
        }
        _ => String::new(),
    };
    format!(
        "::error {file}title={}::{}\n",
        escape_property("shush could not scan"),
        escape_data(&problem.to_string())
    )
}

/// Markdown text in a table cell: no pipes, no line breaks, code spans kept closed.
fn cell(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '|' => '¦',
            '`' => '\'',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

/// The step summary: what was scanned, the verdict, and a table of findings.
pub fn step_summary(describe: &str, findings: &[Finding], errors: &[Problem]) -> String {
    let mut md = String::from("### shush: secret scan\n\n");
    let _ = writeln!(md, "Scanned: {}.\n", cell(describe));
    if !errors.is_empty() {
        let _ = writeln!(
            md,
            ":x: **The scan could not complete** ({} error{}); the job fails closed.\n",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" }
        );
        for e in errors.iter().take(20) {
            let _ = writeln!(md, "- {}", cell(&e.to_string()));
        }
        md.push('\n');
    }
    if findings.is_empty() {
        if errors.is_empty() {
            md.push_str(":white_check_mark: No secrets found.\n");
        }
        return md;
    }
    let _ = writeln!(
        md,
        ":warning: **{} secret{} found.** Revoke or rotate each one, then remove it.\n",
        findings.len(),
        if findings.len() == 1 { "" } else { "s" }
    );
    md.push_str("| Rule | Where | Commit | Secret (masked) |\n|---|---|---|---|\n");
    for f in findings.iter().take(MAX_SUMMARY_ROWS) {
        let _ = writeln!(
            md,
            "| `{}` | `{}:{}` | {} | `{}` |",
            cell(&f.rule_id),
            cell(&f.path),
            f.line,
            commit_of(f).map_or("—".to_string(), |c| format!("`{c}`")),
            cell(&f.secret)
        );
    }
    if findings.len() > MAX_SUMMARY_ROWS {
        let _ = writeln!(
            md,
            "\n…and {} more (see the job log or the report).",
            findings.len() - MAX_SUMMARY_ROWS
        );
    }
    md
}

/// Appends `text` to the file a GitHub variable names (`GITHUB_STEP_SUMMARY`,
/// `GITHUB_OUTPUT`).
pub fn append(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_about_a_file_is_annotated_on_that_file() {
        use crate::problem::Kind;
        let p = Problem::path("src/a,b.txt", Kind::Unreadable, "permission denied");
        assert_eq!(
            error_annotation(&p),
            "::error file=src/a%2Cb.txt,title=shush could not scan::src/a,b.txt: permission denied\n"
        );
        let p = Problem::run(Kind::Other, "reading refs: broken");
        assert_eq!(
            error_annotation(&p),
            "::error title=shush could not scan::reading refs: broken\n"
        );
    }

    #[test]
    fn escaping_follows_the_runner() {
        assert_eq!(escape_data("a%b\r\nc"), "a%25b%0D%0Ac");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(cell("a|b`c\nd"), "a¦b'c d");
    }
}
