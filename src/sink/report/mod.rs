//! Output formats: human text (grouped by secret, or one line per finding), JSON, JSON
//! Lines, SARIF 2.1.0, CSV, JUnit XML and an HTML page. Every format serialises the same
//! [`Finding`]s, whose secrets are already masked unless the user asked to reveal them.

mod csv;
pub mod group;
mod html;
mod junit;
mod sarif;
#[cfg(test)]
mod testing;
mod text;

use crate::finding::Finding;
use crate::problem::Problem;
use crate::rules::RuleSet;
use std::io::{self, Write};

pub use self::csv::write_csv;
pub use html::write_html;
pub use junit::write_junit;
pub use sarif::write_sarif;
pub use text::{printable, write_lines, write_text};

/// What a run could not do, for the formats that have a place for it (SARIF's tool
/// execution notifications, the HTML page's header; text and JSON reports leave it to
/// standard error): errors (what was not scanned: the run is incomplete) and warnings.
#[derive(Debug, Default, Clone, Copy)]
pub struct Notices<'a> {
    /// Errors.
    pub errors: &'a [Problem],
    /// Warnings.
    pub warnings: &'a [Problem],
}

/// A report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Grouped by secret, with locations, remediation and a summary (colour on a
    /// terminal).
    Text,
    /// `path:line:col: rule secret`, one finding a line (colour on a terminal).
    Lines,
    /// A JSON array of findings.
    Json,
    /// One JSON finding per line.
    Jsonl,
    /// SARIF 2.1.0, for code-scanning UIs.
    Sarif,
    /// CSV with gitleaks' columns first, for spreadsheets and gitleaks users' scripts.
    Csv,
    /// JUnit XML, for CI test UIs.
    Junit,
    /// One self-contained HTML page, findings grouped by secret, with filters.
    Html,
}

/// Writes `findings` in `format`. `rules` supplies rule metadata (SARIF, HTML), and `notices`
/// SARIF's tool execution notifications, JUnit's error testcases and the HTML page's header;
/// `color` applies to text only.
pub fn write_report(
    out: &mut dyn Write,
    findings: &[Finding],
    format: Format,
    rules: &RuleSet,
    notices: Notices<'_>,
    color: bool,
) -> io::Result<()> {
    match format {
        Format::Text => write_text(out, findings, color),
        Format::Lines => write_lines(out, findings, color),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, findings)?;
            writeln!(out)
        }
        Format::Jsonl => write_jsonl(out, findings),
        Format::Sarif => write_sarif(out, findings, rules, notices),
        Format::Csv => write_csv(out, findings),
        Format::Junit => write_junit(out, findings, notices),
        Format::Html => write_html(out, findings, rules, notices),
    }
}

/// Writes one compact JSON object per finding, one per line.
pub fn write_jsonl(out: &mut dyn Write, findings: &[Finding]) -> io::Result<()> {
    for f in findings {
        serde_json::to_writer(&mut *out, f)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
