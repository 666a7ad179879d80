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

/// Findings held for a document written at the end: at most [`MAX_LISTED_FINDINGS`], the
/// rest counted. The one cap every held output shares.
#[derive(Debug, Default)]
pub struct Collected {
    findings: Vec<Finding>,
    unlisted: u64,
}

impl Collected {
    /// Keeps `finding` if there is room, else counts it.
    pub fn push(&mut self, finding: Finding) {
        if self.findings.len() < MAX_LISTED_FINDINGS {
            self.findings.push(finding);
        } else {
            self.unlisted += 1;
        }
    }

    /// Findings counted but not kept.
    pub fn unlisted(&self) -> u64 {
        self.unlisted
    }

    /// The findings kept, in report order ([`Finding::report_order`]); empties the holder.
    pub fn take_sorted(&mut self) -> Vec<Finding> {
        let mut findings = std::mem::take(&mut self.findings);
        findings.sort_by(Finding::report_order);
        findings
    }
}

/// Holds findings for a whole-document format and writes them, sorted
/// ([`Finding::report_order`]), at [`Sink::finish`].
pub struct Held<'a, W> {
    format: Format,
    out: W,
    rules: &'a RuleSet,
    color: bool,
    held: Collected,
}

impl<W> std::fmt::Debug for Held<'_, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Held")
            .field("format", &self.format)
            .field("held", &self.held.findings.len())
            .field("unlisted", &self.held.unlisted)
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
            held: Collected::default(),
        }
    }
}

impl<W: Write + Send> Sink for Held<'_, W> {
    fn finding(&mut self, finding: Finding) -> io::Result<()> {
        self.held.push(finding);
        Ok(())
    }

    fn finish(&mut self, notices: Notices<'_>) -> io::Result<()> {
        let findings = self.held.take_sorted();
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
        self.held.unlisted()
    }
}

/// A document written once, at the end, by `write` (a CI's report file, a summary): the
/// findings it is given are held ([`Collected`]) and passed to `write` sorted, with the
/// run's notices.
pub struct Document<F> {
    write: F,
    held: Collected,
}

impl<F> std::fmt::Debug for Document<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document")
            .field("held", &self.held)
            .finish_non_exhaustive()
    }
}

impl<F> Document<F>
where
    F: FnMut(&[Finding], Notices<'_>) -> io::Result<()> + Send,
{
    /// A document that `write` writes at the end.
    pub fn new(write: F) -> Self {
        Document {
            write,
            held: Collected::default(),
        }
    }
}

impl<F> Sink for Document<F>
where
    F: FnMut(&[Finding], Notices<'_>) -> io::Result<()> + Send,
{
    fn finding(&mut self, finding: Finding) -> io::Result<()> {
        self.held.push(finding);
        Ok(())
    }

    fn finish(&mut self, notices: Notices<'_>) -> io::Result<()> {
        let findings = self.held.take_sorted();
        (self.write)(&findings, notices)
    }

    fn unlisted(&self) -> u64 {
        self.held.unlisted()
    }
}
