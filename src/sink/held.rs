//! Formats that are one document (text sorted for people, a JSON array, SARIF): the sink
//! holds findings until the run ends, up to a cap, and writes them in report order.

use super::Sink;
use crate::finding::Finding;
use crate::report::{Format, Notices, write_report};
use crate::rules::RuleSet;
use std::io::{self, Write};

/// Most findings a held report lists: past this, a pathological input (a generated file with
/// a million matches) would grow memory without bound; the rest are counted
/// ([`Sink::unlisted`]), and the exit code is the same. JSON Lines streams and has no cap.
pub const MAX_LISTED_FINDINGS: usize = 100_000;

/// Holds findings for a whole-document format and writes them, sorted
/// ([`Finding::report_order`]), at [`Sink::finish`].
pub struct Held<'a, W> {
    format: Format,
    out: W,
    rules: &'a RuleSet,
    color: bool,
    findings: Vec<Finding>,
    unlisted: u64,
}

impl<W> std::fmt::Debug for Held<'_, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Held")
            .field("format", &self.format)
            .field("held", &self.findings.len())
            .field("unlisted", &self.unlisted)
            .finish_non_exhaustive()
    }
}

impl<'a, W: Write + Send> Held<'a, W> {
    /// A sink writing `format` to `out`; `rules` supplies SARIF's rule metadata, `color`
    /// applies to text.
    pub fn new(format: Format, out: W, rules: &'a RuleSet, color: bool) -> Self {
        Held {
            format,
            out,
            rules,
            color,
            findings: Vec::new(),
            unlisted: 0,
        }
    }
}

impl<W: Write + Send> Sink for Held<'_, W> {
    fn finding(&mut self, finding: Finding) -> io::Result<()> {
        if self.findings.len() < MAX_LISTED_FINDINGS {
            self.findings.push(finding);
        } else {
            self.unlisted += 1;
        }
        Ok(())
    }

    fn finish(&mut self, notices: Notices<'_>) -> io::Result<()> {
        let mut findings = std::mem::take(&mut self.findings);
        findings.sort_by(Finding::report_order);
        write_report(
            &mut self.out,
            &findings,
            self.format,
            self.rules,
            notices,
            self.color,
        )?;
        self.out.flush()
    }

    fn unlisted(&self) -> u64 {
        self.unlisted
    }
}
