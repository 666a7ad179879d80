//! The streaming redactor.
//!
//! Bytes are appended to a buffer and released once every secret that could cover them is
//! known. The engine scans *owned* ranges that end at cut points, looking at context on both
//! sides, and reports matches that start inside them:
//!
//! - **Line cuts.** A rule that cannot match a line feed cannot match across one, so the
//!   range up to the last `\n` can be scanned with nothing after it, and released at once.
//! - **Distance cuts.** On a long line, everything but the last `H` bytes is scanned with
//!   `H` bytes of right context (the engine's exactly-once contract), so a line without a
//!   newline streams in constant memory.
//! - **Multi-line candidates.** A hit of a multi-line rule's keyword (a PEM `BEGIN`, a
//!   kubeconfig `token:`) starts *threads*: an anchored automaton from every position where a
//!   match through that hit could start. While a thread is alive, nothing from its secret's
//!   earliest start is released; a match of that rule starting there is ignored until its
//!   thread has died (then it is final), and the range is scanned again from the thread's
//!   start. A thread that outlives the rule's length bound (a `BEGIN` that never ends), or is
//!   still open at the end of the input, masks its block whole: fail closed.
//! - **Idle release.** A partial line is released by [`Redactor::release_idle`] except for
//!   the tail that could still be (or lead into) a secret.
//!
//! The set of masks is a function of the input alone, and no byte leaves before every mask
//! that could cover it is known, so the output is the same however the input is chunked.
//!
//! This module holds the public types and the push / release / finish API; the steps live
//! in submodules: `scan` (cut points, rule and known-value matches of a range), `threads`
//! (multi-line candidates), `commands` (workflow commands), `known_values` (the registry),
//! `masks` (pending masks), `output` (writing masks and bytes) and `idle` (idle release).

use super::known::{KnownRegistry, KnownSet};
use super::mask::Masker;
use super::plan::Plan;
use crate::engine::{Encoding, Engine, InputMeta, Match, ScanState};
use regex_automata::hybrid::LazyStateID;
use regex_automata::hybrid::dfa::Cache;
use std::collections::BTreeMap;
use std::sync::Arc;

mod commands;
mod idle;
mod known_values;
mod masks;
mod output;
mod scan;
mod threads;

/// Buffer space reclaimed at once (amortises the move of the retained tail).
const RECLAIM: usize = 1 << 20;
/// Never hold more than this many bytes, whatever happens: beyond it the held block is
/// masked whole (a safety net; the rule bounds keep holds far below it).
pub const HARD_HOLD: usize = 8 << 20;
/// Slack past a multi-line rule's length bound before an open candidate counts as endless.
const OVERRUN_SLACK: u64 = 4;

/// Errors of the redactor. They never contain secret material.
#[derive(Debug, thiserror::Error)]
pub enum RedactError {
    /// An internal invariant broke; the redactor stops passing bytes on (fail closed).
    #[error("internal error: {0}")]
    Internal(String),
    /// The redactor failed earlier and refuses further input.
    #[error("the redactor stopped after an earlier error")]
    Stopped,
}

/// Settings of a redactor.
#[derive(Debug, Clone)]
pub struct RedactOptions {
    /// How masks look.
    pub masker: Masker,
    /// Record a [`Redaction`] (with line and column) for every mask.
    pub events: bool,
    /// Honour GitHub Actions `::add-mask::VALUE` lines.
    pub add_mask: bool,
    /// Keep the value of every add-mask command the runner would act on, for
    /// [`Redactor::take_registrations`] (to forward them to the runner).
    pub registrations: bool,
}

impl RedactOptions {
    /// Default options with `masker`.
    pub fn new(masker: Masker) -> Self {
        RedactOptions {
            masker,
            events: false,
            add_mask: true,
            registrations: false,
        }
    }
}

/// What produced a mask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A rule, by index.
    Rule(usize),
    /// A known value, by its source.
    Known(String),
    /// A block held too long (or cut off by the end of input) by an open candidate of a
    /// multi-line rule, masked whole. `None`: the hard hold cap.
    FailClosed(Option<usize>),
}

/// One mask written to the output.
#[derive(Debug, Clone)]
pub struct Redaction {
    /// The label (a rule id, `known-secret`, …).
    pub label: String,
    /// What produced it.
    pub origin: Origin,
    /// Byte offset of the masked text in the input.
    pub offset: u64,
    /// Length of the masked text in the input.
    pub length: u64,
    /// 1-based line of its first byte (0 unless events were requested).
    pub line: u64,
    /// 1-based column of its first character (0 unless events were requested).
    pub column: u64,
    /// A short preview of the secret (prefix and length), as scan reports show it.
    pub preview: String,
    /// Fingerprint of label and secret: a keyed hash (see [`Masker::fingerprint`]), never
    /// the secret nor an unkeyed digest of it.
    pub fingerprint: String,
    /// Encodings the secret was found through.
    pub decoded: Vec<Encoding>,
}

/// Counters of a redactor.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Bytes read.
    pub bytes_in: u64,
    /// Bytes written.
    pub bytes_out: u64,
    /// Masks written.
    pub redactions: u64,
    /// Masks written per label.
    pub by_label: BTreeMap<String, u64>,
    /// Blocks masked whole because a possible secret never completed (fail closed).
    pub fail_closed: u64,
}

#[derive(Debug, Clone)]
struct Span {
    start: u64,
    end: u64,
    /// Rank key: lower wins the label of a merged group: rules (specific before generic),
    /// then an add-mask command's own value, then known values.
    rank: (u8, u8, usize),
    label: String,
    origin: Origin,
    secret: Vec<u8>,
    decoded: Vec<Encoding>,
    /// The label has already been written (an open fail-closed block).
    written: bool,
}

#[derive(Debug, Clone, Copy)]
enum TState {
    /// Not started yet.
    Fresh,
    Dfa(LazyStateID),
    /// No automaton: open until this position has arrived.
    Until(u64),
}

#[derive(Debug, Clone)]
struct Thread {
    /// Possible match starts this thread stands for.
    lo: u64,
    hi: u64,
    /// No byte from here on may leave while the thread is open.
    floor: u64,
    state: TState,
    matched: bool,
    /// End of the last match the automaton has seen (a block's last key line or END line).
    last: Option<u64>,
    overrun: bool,
}

impl Thread {
    /// Records a match the automaton saw, ending `last` bytes past `from`.
    fn note_match(&mut self, from: u64, last: Option<usize>) {
        if let Some(l) = last {
            self.matched = true;
            self.last = Some(from + l as u64);
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Dead {
    lo: u64,
    hi: u64,
    /// Position by which the match was decided.
    at: u64,
    floor: u64,
}

#[derive(Debug, Default)]
struct MultiState {
    cache: Option<Cache>,
    live: Vec<Thread>,
    dead: Vec<Dead>,
    /// Starts below this already have threads.
    created: u64,
    /// Live threads have consumed input up to here.
    pos: u64,
}

/// A streaming redactor: [`push`](Redactor::push) bytes in, get redacted bytes out,
/// [`finish`](Redactor::finish) at the end of input.
pub struct Redactor<'e> {
    engine: &'e Engine,
    plan: &'e Plan,
    st: ScanState,
    opts: RedactOptions,
    registry: Option<Arc<KnownRegistry>>,
    known: Arc<KnownSet>,
    known_version: u64,
    /// Per known value: first position it applies from (add-mask values apply from their
    /// line on).
    known_from: Vec<u64>,
    buf: Vec<u8>,
    base: u64,
    scanned: u64,
    done: u64,
    masks: Vec<Span>,
    /// Recently written masks (start, end), to recognise a match reported again.
    written: Vec<(u64, u64)>,
    multi: Vec<MultiState>,
    h: u64,
    k: u64,
    scratch: Vec<Match>,
    hits: Vec<(usize, usize, usize)>,
    events: Vec<Redaction>,
    /// Add-mask values to forward, by the input position of their command line, until the
    /// output reaches it.
    pending: std::collections::VecDeque<(u64, Vec<u8>)>,
    /// Add-mask values to forward, by their offset in the caller's output buffer.
    registrations: Vec<(usize, Vec<u8>)>,
    warnings: Vec<String>,
    /// Key blocks starting below this have been warned about already.
    key_warned: u64,
    stats: Stats,
    line: u64,
    col: u64,
    failed: bool,
    finished: bool,
}

impl std::fmt::Debug for Redactor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("base", &self.base)
            .field("buffered", &self.buf.len())
            .field("scanned", &self.scanned)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<'e> Redactor<'e> {
    /// A redactor over `engine`'s rules; `plan` must come from the same engine.
    pub fn new(engine: &'e Engine, plan: &'e Plan, opts: RedactOptions) -> Self {
        Self::with_state(engine, plan, opts, engine.new_state())
    }

    /// A redactor for a new input that reuses `st`, a scan state of the same engine (from
    /// [`Engine::new_state`] or an earlier redactor's [`Redactor::into_state`]): the regex
    /// caches it has built carry over, so many short inputs do not each pay for them.
    pub fn with_state(
        engine: &'e Engine,
        plan: &'e Plan,
        opts: RedactOptions,
        mut st: ScanState,
    ) -> Self {
        st.open_gates(true);
        st.redaction_policy(true);
        let watched: Vec<usize> = plan.multi.iter().map(|m| m.rule).collect();
        st.watch_anchors(&watched);
        engine.begin_input(&mut st, &InputMeta::default());
        let overlap = engine.overlap() as u64 + crate::engine::LINE_CONTEXT as u64 + 16;
        Redactor {
            engine,
            plan,
            st,
            opts,
            registry: None,
            known: Arc::new(KnownSet::default()),
            known_version: 0,
            known_from: Vec::new(),
            buf: Vec::new(),
            base: 0,
            scanned: 0,
            done: 0,
            masks: Vec::new(),
            written: Vec::new(),
            multi: (0..plan.multi.len())
                .map(|_| MultiState::default())
                .collect(),
            h: overlap,
            k: overlap,
            scratch: Vec::new(),
            hits: Vec::new(),
            events: Vec::new(),
            pending: std::collections::VecDeque::new(),
            registrations: Vec::new(),
            warnings: Vec::new(),
            key_warned: 0,
            stats: Stats::default(),
            line: 1,
            col: 0,
            failed: false,
            finished: false,
        }
    }

    /// Gives back the engine scan state, to be reused by [`Redactor::with_state`].
    pub fn into_state(self) -> ScanState {
        self.st
    }

    /// Masks the values of `registry` too (and registers `::add-mask::` values there).
    pub fn with_known(mut self, registry: Arc<KnownRegistry>) -> Self {
        self.registry = Some(registry);
        self.refresh_known();
        self
    }

    /// Bytes received but not yet written.
    pub fn held(&self) -> usize {
        (self.len() - self.done) as usize
    }

    /// Bytes kept in memory (held bytes plus the left context scans need).
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Counters so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Takes the masks written since the last call (only recorded when
    /// [`RedactOptions::events`] is set).
    pub fn take_events(&mut self) -> Vec<Redaction> {
        std::mem::take(&mut self.events)
    }

    /// Takes the values (unescaped) of the add-mask commands the runner would have acted on
    /// that were written since the last call, each with the offset in the output buffer
    /// where its command (`::` or `##[`) starts, in order (only recorded when
    /// [`RedactOptions::registrations`] is set). The commands are masked in the output, so
    /// the runner never sees them: whoever drives the redactor registers the values, at
    /// those offsets when the output goes to the runner (a `::stop-commands::` earlier in the
    /// same output must come first, a later one after).
    pub fn take_registrations(&mut self) -> Vec<(usize, Vec<u8>)> {
        std::mem::take(&mut self.registrations)
    }

    /// Takes warnings (e.g. an `::add-mask::` value too short to mask; a private key block
    /// cut off before its END line, a BEGIN line with no body, or a block longer than its
    /// rule's bound). Warnings name a rule and a byte offset, never key material. They do
    /// not change what counts as a redaction: a cut-off or capped block is masked and
    /// counted like any other, so `shush redact` exits 1 for it only with
    /// `--fail-on-secret`, and a bodiless BEGIN line masks nothing.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    fn len(&self) -> u64 {
        self.base + self.buf.len() as u64
    }

    fn idx(&self, pos: u64) -> usize {
        (pos - self.base) as usize
    }

    fn check(&self) -> Result<(), RedactError> {
        if self.failed || self.finished {
            Err(RedactError::Stopped)
        } else {
            Ok(())
        }
    }

    fn fail<T>(&mut self, msg: &str) -> Result<T, RedactError> {
        self.failed = true;
        Err(RedactError::Internal(msg.to_string()))
    }

    /// Appends `data`; writes to `out` every byte that is now final, redacted.
    pub fn push(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<(), RedactError> {
        self.push_all(&[data], out)
    }

    /// Appends several pieces at once (one scan for all of them); writes to `out` every
    /// byte that is now final, redacted.
    pub fn push_all(&mut self, pieces: &[&[u8]], out: &mut Vec<u8>) -> Result<(), RedactError> {
        self.check()?;
        let n: usize = pieces.iter().map(|p| p.len()).sum();
        if n == 0 {
            return Ok(());
        }
        self.buf.reserve(n);
        for p in pieces {
            self.buf.extend_from_slice(p);
        }
        self.stats.bytes_in += n as u64;
        self.refresh_known();
        self.track();
        self.advance(false, out)
    }

    /// Releases what can be released of a partial line that has waited long enough: all
    /// but the tail that could still be, or lead into, a secret.
    pub fn release_idle(&mut self, out: &mut Vec<u8>) -> Result<(), RedactError> {
        self.check()?;
        if self.done >= self.len() {
            return Ok(());
        }
        let floor = self.idle_floor();
        self.emit(floor, out)?;
        self.trim();
        Ok(())
    }

    /// Ends the input: scans and writes everything left.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), RedactError> {
        self.check()?;
        self.refresh_known();
        self.track();
        let r = self.advance(true, out);
        self.place(u64::MAX, None, out.len());
        self.finished = true;
        r
    }
}

/// Redacts a whole input at once (the reference the streaming output equals).
pub fn redact_all(
    engine: &Engine,
    plan: &Plan,
    opts: RedactOptions,
    input: &[u8],
) -> Result<Vec<u8>, RedactError> {
    let mut r = Redactor::new(engine, plan, opts);
    let mut out = Vec::with_capacity(input.len());
    r.push(input, &mut out)?;
    r.finish(&mut out)?;
    Ok(out)
}
