//! Where findings go: every consumer of findings is a [`Sink`], fed one finding at a time as
//! sources confirm them (in the spirit of ripgrep's `Sink`).
//!
//! A report is a chain of sinks: [`Baselined`] drops what a baseline suppresses, [`Tally`]
//! counts what is left (the exit code's input), and a format sink writes. [`Jsonl`] writes
//! each finding the moment it arrives, where the source's order is deterministic (a long
//! history audit shows results at once and holds none); [`Held`] keeps what a whole-document format needs (text sorted for people, a JSON
//! array, SARIF) up to [`MAX_LISTED_FINDINGS`] and writes it at [`Sink::finish`]. A
//! `Vec<Finding>` is a sink too, for embedders and tests.
//!
//! ```
//! use shush::finding::Finding;
//! use shush::sink::{Sink, Tally};
//! use shush::{Engine, InputMeta};
//! let engine = Engine::builtin().unwrap();
//! let mut st = engine.new_state();
//! // A synthetic GitHub token: 30 random characters and their checksum.
//! let random = "Ky9Pf34qY6Nb3wWD25RQ4F5ZR3qa7y";
//! let sum = shush::checksum::github_checksum(random.as_bytes());
//! let text = format!("token = ghp_{random}{sum}\n");
//! let mut sink = Tally::new(Vec::new());
//! let meta = InputMeta::default();
//! for m in shush::scan::input::scan_bytes(&engine, &mut st, text.as_bytes(), meta) {
//!     let source = shush::finding::Source::Stdin;
//!     sink.finding(Finding::new(&engine, &m, "-", source, false)).unwrap();
//! }
//! assert_eq!(sink.count(), 1);
//! assert_eq!(sink.into_inner()[0].rule_id, "github-pat");
//! ```

mod baselined;
mod held;
pub mod report;

pub use baselined::Baselined;
pub use held::{Collected, Document, Held, MAX_LISTED_FINDINGS};

use crate::finding::Finding;
use crate::report::{Format, Notices};
use crate::rules::RuleSet;
use std::io::{self, Write};

/// A consumer of findings. Sources call [`Sink::finding`] as findings are confirmed (from
/// any worker thread, one call at a time), then [`Sink::finish`] once, with what the run
/// could not do.
pub trait Sink: Send {
    /// Takes one finding. An error (a closed pipe, a full disk) is the sink's: the source
    /// stops feeding it but finishes its scan, so that the verdict still stands.
    fn finding(&mut self, finding: Finding) -> io::Result<()>;

    /// The run is over: write what was held, and `notices` where the format has a place for
    /// them.
    fn finish(&mut self, notices: Notices<'_>) -> io::Result<()> {
        let _ = notices;
        Ok(())
    }

    /// Findings it took but will not list (a held report's cap): counted, so that the run
    /// can say how many.
    fn unlisted(&self) -> u64 {
        0
    }
}

impl Sink for Vec<Finding> {
    fn finding(&mut self, finding: Finding) -> io::Result<()> {
        self.push(finding);
        Ok(())
    }
}

impl<S: Sink + ?Sized> Sink for &mut S {
    fn finding(&mut self, finding: Finding) -> io::Result<()> {
        (**self).finding(finding)
    }

    fn finish(&mut self, notices: Notices<'_>) -> io::Result<()> {
        (**self).finish(notices)
    }

    fn unlisted(&self) -> u64 {
        (**self).unlisted()
    }
}

impl<S: Sink + ?Sized> Sink for Box<S> {
    fn finding(&mut self, finding: Finding) -> io::Result<()> {
        (**self).finding(finding)
    }

    fn finish(&mut self, notices: Notices<'_>) -> io::Result<()> {
        (**self).finish(notices)
    }

    fn unlisted(&self) -> u64 {
        (**self).unlisted()
    }
}

/// Writes one compact JSON object per finding, one per line, as each arrives (flushed, so a
/// reader sees it at once): nothing is held, so memory stays flat however many findings a
/// run has.
#[derive(Debug)]
pub struct Jsonl<W> {
    out: W,
}

impl<W: Write + Send> Jsonl<W> {
    /// A JSON Lines sink writing to `out` (buffer it: each finding is one small write).
    pub fn new(out: W) -> Self {
        Jsonl { out }
    }
}

impl<W: Write + Send> Sink for Jsonl<W> {
    fn finding(&mut self, finding: Finding) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, &finding)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }

    fn finish(&mut self, _: Notices<'_>) -> io::Result<()> {
        self.out.flush()
    }
}

/// Counts the findings that reach it, then passes them on: the count a gate's exit code is
/// made of (after the baseline, before any listing cap).
#[derive(Debug)]
pub struct Tally<S> {
    inner: S,
    count: u64,
}

impl<S: Sink> Tally<S> {
    /// Counts what goes to `inner`.
    pub fn new(inner: S) -> Self {
        Tally { inner, count: 0 }
    }

    /// Findings seen so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The sink it feeds.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Sink> Sink for Tally<S> {
    fn finding(&mut self, finding: Finding) -> io::Result<()> {
        self.count += 1;
        self.inner.finding(finding)
    }

    fn finish(&mut self, notices: Notices<'_>) -> io::Result<()> {
        self.inner.finish(notices)
    }

    fn unlisted(&self) -> u64 {
        self.inner.unlisted()
    }
}

/// Feeds every finding to each of several sinks (a CI job's report, its SARIF file and its
/// annotations at once). A sink that fails is fed nothing more while the others go on; the
/// run's error is the first one that is not a closed pipe (a file that could not be
/// written fails the run; a reader that went away does not hide it).
#[derive(Default)]
pub struct Tee<'a> {
    sinks: Vec<(Box<dyn Sink + 'a>, Option<io::Error>)>,
}

impl std::fmt::Debug for Tee<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tee")
            .field("sinks", &self.sinks.len())
            .finish_non_exhaustive()
    }
}

impl<'a> Tee<'a> {
    /// A tee with no sinks yet.
    pub fn new() -> Self {
        Tee::default()
    }

    /// Adds a sink.
    pub fn push(&mut self, sink: Box<dyn Sink + 'a>) {
        self.sinks.push((sink, None));
    }

    /// The first error worth failing for: one that is not a closed pipe, else a closed pipe.
    fn first_error(&mut self) -> Option<io::Error> {
        let errors = self.sinks.iter_mut().filter_map(|(_, e)| e.take());
        let (pipes, others): (Vec<_>, Vec<_>) = errors.partition(crate::error::is_broken_pipe);
        others.into_iter().chain(pipes).next()
    }
}

impl Sink for Tee<'_> {
    fn finding(&mut self, finding: Finding) -> io::Result<()> {
        for (sink, error) in &mut self.sinks {
            if error.is_none() {
                if let Err(e) = sink.finding(finding.clone()) {
                    *error = Some(e);
                }
            }
        }
        Ok(())
    }

    fn finish(&mut self, notices: Notices<'_>) -> io::Result<()> {
        for (sink, error) in &mut self.sinks {
            if error.is_none() {
                if let Err(e) = sink.finish(notices) {
                    *error = Some(e);
                }
            }
        }
        self.first_error().map_or(Ok(()), Err)
    }

    fn unlisted(&self) -> u64 {
        self.sinks
            .iter()
            .map(|(s, _)| s.unlisted())
            .max()
            .unwrap_or(0)
    }
}

/// The order a report's findings are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// [`Finding::report_order`]: needed when the source's own order depends on thread
    /// timing (a parallel directory walk), so that reports stay byte-identical run to run.
    Sorted,
    /// The order the source gives them, when that order is itself deterministic (a git
    /// audit attributes and rescans blobs oldest first, on one thread): JSON Lines then
    /// streams.
    AsFound,
}

/// The sink that writes `format` to `out`: JSON Lines in [`Order::AsFound`] streams
/// ([`Jsonl`]); anything else is [`Held`]. `color` applies to text only.
pub fn for_format<'a, W: Write + Send + 'a>(
    format: Format,
    order: Order,
    out: W,
    rules: &'a RuleSet,
    color: bool,
) -> Box<dyn Sink + 'a> {
    match (format, order) {
        (Format::Jsonl, Order::AsFound) => Box::new(Jsonl::new(out)),
        _ => Box::new(Held::new(format, out, rules, color)),
    }
}

#[cfg(test)]
mod tests;
