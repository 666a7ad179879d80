//! GitHub Actions' own outputs: workflow-command annotations (`::error file=…::…`), a step
//! summary in Markdown, and step outputs. Every one of them carries secrets masked, exactly
//! as the other reports do.

use crate::finding::{Finding, Source};
use crate::problem::{Problem, Subject};
use crate::report::Notices;
use crate::sink::Sink;
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

/// GitHub's annotations as a sink: an `::error` line for each finding as it comes, at most
/// [`MAX_ANNOTATIONS`] (then one line counting the rest), and one for each error the run
/// met, at the end. Nothing is held.
#[derive(Debug)]
pub struct Annotations<W> {
    out: W,
    seen: usize,
}

impl<W: std::io::Write + Send> Annotations<W> {
    /// Annotations written to `out` (the runner reads them from the job's log).
    pub fn new(out: W) -> Self {
        Annotations { out, seen: 0 }
    }
}

impl<W: std::io::Write + Send> Sink for Annotations<W> {
    fn finding(&mut self, f: Finding) -> std::io::Result<()> {
        self.seen += 1;
        if self.seen <= MAX_ANNOTATIONS {
            writeln!(self.out, "{}", annotation(&f))?;
        }
        Ok(())
    }

    fn finish(&mut self, notices: Notices<'_>) -> std::io::Result<()> {
        if self.seen > MAX_ANNOTATIONS {
            writeln!(
                self.out,
                "::warning title=shush::{} more findings are not annotated; see the job log or the report",
                self.seen - MAX_ANNOTATIONS
            )?;
        }
        for e in notices.errors {
            self.out.write_all(error_annotation(e).as_bytes())?;
        }
        self.out.flush()
    }
}

/// The step summary as a sink: the first [`MAX_SUMMARY_ROWS`] findings and the count are
/// kept, and the summary is appended to the file `GITHUB_STEP_SUMMARY` names at the end,
/// with the verdict.
#[derive(Debug)]
pub struct StepSummary {
    path: std::path::PathBuf,
    describe: String,
    rows: Vec<Finding>,
    count: usize,
}

impl StepSummary {
    /// A summary of a scan of `describe`, appended to `path`.
    pub fn new(path: impl Into<std::path::PathBuf>, describe: impl Into<String>) -> Self {
        StepSummary {
            path: path.into(),
            describe: describe.into(),
            rows: Vec::new(),
            count: 0,
        }
    }
}

impl Sink for StepSummary {
    fn finding(&mut self, f: Finding) -> std::io::Result<()> {
        self.count += 1;
        if self.rows.len() < MAX_SUMMARY_ROWS {
            self.rows.push(f);
        }
        Ok(())
    }

    fn finish(&mut self, notices: Notices<'_>) -> std::io::Result<()> {
        self.rows.sort_by(Finding::report_order);
        let md = summary_markdown(&self.describe, &self.rows, self.count, notices.errors);
        append(&self.path, &format!("{md}\n"))
    }
}

/// The step summary's Markdown: what was scanned, the verdict, and a table of `rows` (the
/// first findings, sorted) of `count`.
fn summary_markdown(describe: &str, rows: &[Finding], count: usize, errors: &[Problem]) -> String {
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
    if count == 0 {
        if errors.is_empty() {
            md.push_str(":white_check_mark: No secrets found.\n");
        }
        return md;
    }
    let _ = writeln!(
        md,
        ":warning: **{count} secret{} found.** Revoke or rotate each one, then remove it.\n",
        if count == 1 { "" } else { "s" }
    );
    md.push_str("| Rule | Where | Commit | Secret (masked) |\n|---|---|---|---|\n");
    for f in rows {
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
    if count > rows.len() {
        let _ = writeln!(
            md,
            "\n…and {} more (see the job log or the report).",
            count - rows.len()
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

    /// `n` findings of a token in `a.txt`.
    fn findings(n: usize) -> Vec<Finding> {
        let engine = crate::Engine::builtin().unwrap();
        let mut st = engine.new_state();
        let random = "Ky9Pf34qY6Nb3wWD25RQ4F5ZR3qa7y";
        let sum = crate::checksum::github_checksum(random.as_bytes());
        let text = format!("token = ghp_{random}{sum}\n").repeat(n);
        let meta = crate::InputMeta {
            path: Some("a.txt"),
            ..Default::default()
        };
        crate::scan::input::scan_bytes(&engine, &mut st, text.as_bytes(), meta)
            .iter()
            .map(|l| {
                let src = crate::finding::Source::File {
                    path: "a.txt".into(),
                };
                Finding::new(&engine, l, "a.txt", src, false)
            })
            .collect()
    }

    #[test]
    fn annotations_stream_up_to_the_cap_then_count_the_rest_and_the_errors() {
        use crate::problem::Kind;
        let mut out = Vec::new();
        let mut sink = Annotations::new(&mut out);
        for f in findings(MAX_ANNOTATIONS + 2) {
            sink.finding(f).unwrap();
        }
        let errors = [Problem::path("b.bin", Kind::Unreadable, "denied")];
        let notices = Notices {
            errors: &errors,
            warnings: &[],
        };
        sink.finish(notices).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), MAX_ANNOTATIONS + 2);
        assert!(
            lines[0].starts_with("::error file=a.txt,line=1,"),
            "{}",
            lines[0]
        );
        assert!(lines[MAX_ANNOTATIONS].contains("2 more findings are not annotated"));
        assert!(lines[MAX_ANNOTATIONS + 1].starts_with("::error file=b.bin,"));
    }

    #[test]
    fn the_step_summary_counts_every_finding_and_lists_the_first() {
        let dir = std::env::temp_dir().join(format!("shush-summary-{}", std::process::id()));
        let mut sink = StepSummary::new(&dir, "a push");
        for f in findings(MAX_SUMMARY_ROWS + 3) {
            sink.finding(f).unwrap();
        }
        sink.finish(Notices::default()).unwrap();
        let md = std::fs::read_to_string(&dir).unwrap();
        std::fs::remove_file(&dir).unwrap();
        assert!(
            md.contains(&format!("**{} secrets found.**", MAX_SUMMARY_ROWS + 3)),
            "{md}"
        );
        assert_eq!(md.matches("| `github-pat` |").count(), MAX_SUMMARY_ROWS);
        assert!(md.contains("…and 3 more"), "{md}");
    }

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
