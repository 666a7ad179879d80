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

use super::gha;
use super::known::{KnownRegistry, KnownSet, KnownValue};
use super::mask::Masker;
use super::plan::{MultiRule, Plan, start_state};
use crate::engine::{Encoding, Engine, InputMeta, Match, ScanState};
use crate::finding::mask as preview;
use crate::location::{count_chars, count_newlines};
use regex_automata::hybrid::LazyStateID;
use regex_automata::hybrid::dfa::Cache;
use std::collections::BTreeMap;
use std::sync::Arc;

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

    fn refresh_known(&mut self) {
        let Some(reg) = &self.registry else { return };
        if reg.version() == self.known_version {
            return;
        }
        let (set, version) = reg.current();
        self.install_known(set, version, self.scanned);
    }

    fn install_known(&mut self, set: Arc<KnownSet>, version: u64, from: u64) {
        let old = self.known_from.len();
        self.known_from.resize(set.len(), from);
        // Values another stream added apply from here on; earlier ones keep their start.
        let _ = old;
        self.h = self.h.max(set.max_len() as u64 + 1);
        self.known = set;
        self.known_version = version;
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

    /// Gives the pending registrations whose command line starts before `upto` the output
    /// offset `at` (plus, for raw bytes copied from `from` on, the distance from it).
    fn place(&mut self, upto: u64, from: Option<u64>, out_len: usize) {
        while let Some((p, _)) = self.pending.front() {
            if *p >= upto {
                break;
            }
            let at = out_len + from.map_or(0, |f| p.saturating_sub(f) as usize);
            let Some((_, value)) = self.pending.pop_front() else {
                break;
            };
            self.registrations.push((at, value));
        }
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

    // ---------------------------------------------------------------- multi-line tracking

    /// Advances the live multi-line threads over the new bytes. (Threads are started from
    /// keyword hits that the engine reports while scanning: see [`Self::start_threads`].)
    fn track(&mut self) {
        if self.plan.multi.is_empty() {
            return;
        }
        let len = self.len();
        let mut multi = std::mem::take(&mut self.multi);
        for (mi, ms) in multi.iter_mut().enumerate() {
            if !ms.live.is_empty() {
                self.update_rule(mi, ms, &[], len);
            }
            ms.pos = len;
        }
        self.multi = multi;
    }

    /// Starts threads at the multi-line keyword hits the last engine scan reported (haystack
    /// offsets from `hay_start`; none unless `scanned_now`), steps them to the end of the
    /// buffer and, at the end of input, decides every thread.
    fn start_threads(&mut self, hay_start: u64, scanned_now: bool, eof: bool) {
        if self.plan.multi.is_empty() {
            return;
        }
        let len = self.len();
        let mut new_hits: Vec<Vec<u64>> = vec![Vec::new(); self.plan.multi.len()];
        // (Without a scan just now, the state still holds an earlier scan's hits.)
        let hits: &[(u32, usize)] = if scanned_now {
            self.st.watched_hits()
        } else {
            &[]
        };
        for &(r, hs) in hits {
            let mi = self.plan.multi_of[r as usize];
            if mi != u32::MAX {
                new_hits[mi as usize].push(hay_start + hs as u64);
            }
        }
        let mut multi = std::mem::take(&mut self.multi);
        for (mi, ms) in multi.iter_mut().enumerate() {
            let hits = &mut new_hits[mi];
            hits.sort_unstable();
            hits.dedup();
            hits.retain(|&h| h >= ms.created);
            if !hits.is_empty() {
                self.update_rule(mi, ms, hits, len);
            }
            ms.pos = len;
            if eof {
                self.end_threads(mi, ms, len);
            }
        }
        self.multi = multi;
    }

    /// Creates threads for `hits`, steps every thread of rule `mi` to `len`, and settles the
    /// ones that died.
    fn update_rule(&mut self, mi: usize, ms: &mut MultiState, hits: &[u64], len: u64) {
        let plan = self.plan;
        let m = &plan.multi[mi];
        let rp = &plan.rules[m.rule];
        let dfa = m.dfa();
        // Threads for the new starts.
        let mut fresh: Vec<Thread> = Vec::new();
        for &h in hits {
            let lo = h
                .saturating_sub(m.before as u64)
                .max(ms.created)
                .max(self.base);
            if lo > h {
                continue;
            }
            ms.created = h + 1;
            let mut floor_h = h.saturating_sub(rp.lead as u64).max(self.base);
            if !rp.lead_newline {
                let from = self.idx(floor_h);
                if let Some(i) = memchr::memrchr(b'\n', &self.buf[from..self.idx(h)]) {
                    floor_h = self.base + (from + i) as u64 + 1;
                }
            }
            if dfa.is_none() {
                fresh.push(Thread {
                    lo,
                    hi: h,
                    floor: floor_h.max(lo),
                    state: TState::Until(h + (m.anchor_len + m.after) as u64 + 2),
                    matched: true,
                    last: None,
                    overrun: false,
                });
                continue;
            }
            let range = &self.buf[self.idx(lo)..=self.idx(h)];
            let starts: Vec<u64> = match m.first_few.as_deref() {
                Some([]) => Vec::new(),
                Some(&[a]) => memchr::memchr_iter(a, range)
                    .map(|i| lo + i as u64)
                    .collect(),
                Some(&[a, b]) => memchr::memchr2_iter(a, b, range)
                    .map(|i| lo + i as u64)
                    .collect(),
                Some(&[a, b, c]) => memchr::memchr3_iter(a, b, c, range)
                    .map(|i| lo + i as u64)
                    .collect(),
                _ => (lo..=h)
                    .filter(|&s| m.first.contains(self.buf[self.idx(s)]))
                    .collect(),
            };
            for s in starts {
                fresh.push(Thread {
                    lo: s,
                    hi: s,
                    floor: floor_h.max(s),
                    state: TState::Fresh,
                    matched: false,
                    last: None,
                    overrun: false,
                });
            }
        }
        let mut threads = std::mem::take(&mut ms.live);
        let resumed = threads.len();
        threads.extend(fresh);
        // Step every thread; a cache clear in between invalidates saved states, so then
        // every thread runs again from its start (a few tries, then the length bound).
        let mut outcomes: Vec<Option<u64>> = Vec::with_capacity(threads.len());
        if let Some(dfa) = dfa {
            let cache = ms.cache.get_or_insert_with(|| dfa.create_cache());
            let c0 = cache.clear_count();
            for (i, t) in threads.iter_mut().enumerate() {
                let from = if i < resumed { ms.pos } else { t.lo };
                outcomes.push(self.step_thread(dfa, cache, t, from, len, m.max_len));
            }
            let mut tries = 0;
            let mut clean = cache.clear_count() == c0;
            while !clean {
                tries += 1;
                let c1 = cache.clear_count();
                outcomes.clear();
                for t in threads.iter_mut() {
                    if !matches!(t.state, TState::Until(_)) {
                        t.state = TState::Fresh;
                        t.matched = false;
                        t.last = None;
                    }
                    if t.overrun && (tries >= 3 || t.lo <= self.base) {
                        // An endless block whose start is gone: it stays open to the end.
                        t.state = TState::Until(u64::MAX);
                        t.matched = true;
                    } else if tries >= 3 {
                        t.state = TState::Until(t.lo + m.max_len as u64 + 2);
                        t.matched = true;
                    }
                    let lo = t.lo;
                    outcomes.push(self.step_thread(dfa, cache, t, lo, len, m.max_len));
                }
                clean = tries >= 3 || cache.clear_count() == c1;
            }
        } else {
            for t in threads.iter_mut() {
                let lo = t.lo;
                outcomes.push(match t.state {
                    TState::Until(at) => (len >= at).then_some(at),
                    _ => {
                        t.state = TState::Until(lo + m.max_len as u64 + 2);
                        t.matched = true;
                        None
                    }
                });
            }
        }
        for (t, outcome) in threads.into_iter().zip(outcomes) {
            match outcome {
                Some(at) => self.thread_died(ms, &t, at, m),
                None => {
                    let mut t = t;
                    if !t.overrun && len > t.lo + m.max_len as u64 + OVERRUN_SLACK {
                        // Longer than any match of the rule and still open: an endless
                        // block (a `BEGIN` with no `END`). Mask it whole from its floor.
                        t.overrun = true;
                        let msg = "is longer than its rule's bound: masked whole, fail closed";
                        self.warn_key(m.rule, t.lo, len, msg);
                        self.open_fail_closed(t.floor, m.rule);
                    }
                    ms.live.push(t);
                }
            }
        }
    }

    /// Steps one thread over `[from, len)`; returns where it died, if it did.
    fn step_thread(
        &self,
        dfa: &regex_automata::hybrid::dfa::DFA,
        cache: &mut Cache,
        t: &mut Thread,
        from: u64,
        len: u64,
        max_len: usize,
    ) -> Option<u64> {
        let (sid, from) = match t.state {
            TState::Until(at) => return (len >= at).then_some(at),
            TState::Dfa(sid) => (sid, from),
            TState::Fresh => {
                let prev = (t.lo > self.base).then(|| self.buf[self.idx(t.lo) - 1]);
                match start_state(dfa, cache, prev) {
                    Ok(sid) => (sid, t.lo),
                    Err(()) => {
                        t.state = TState::Until(t.lo + max_len as u64 + 2);
                        t.matched = true;
                        return None;
                    }
                }
            }
        };
        match run(dfa, cache, sid, &self.buf[self.idx(from)..self.idx(len)]) {
            Run::Alive(sid, last) => {
                t.state = TState::Dfa(sid);
                t.note_match(from, last);
                None
            }
            Run::Dead(consumed, last) => {
                t.note_match(from, last);
                Some(from + consumed as u64)
            }
            Run::GaveUp => {
                t.state = TState::Until(t.lo + max_len as u64 + 2);
                t.matched = true;
                (len >= t.lo + max_len as u64 + 2).then_some(t.lo + max_len as u64 + 2)
            }
        }
    }

    /// Settles a thread that died at `at`. One that outlived the rule's length bound (seen
    /// now, or earlier while it was open) masks its block whole, fail closed, from its floor
    /// through its last match (the END line, or the last key line), or to `at` without one.
    fn thread_died(&mut self, ms: &mut MultiState, t: &Thread, at: u64, m: &MultiRule) {
        let end = t.last.filter(|&l| l > t.floor).unwrap_or(at);
        if t.overrun {
            self.close_fail_closed(t.floor, end, m.rule);
        } else if at > t.lo + m.max_len as u64 + OVERRUN_SLACK {
            self.stats.fail_closed += 1;
            self.warn_key(
                m.rule,
                t.lo,
                end,
                "is longer than its rule's bound: masked whole, fail closed",
            );
            self.add_fail_closed(t.floor, end, Some(m.rule));
        } else if !t.matched {
            let (lo, at) = (t.lo.max(self.base), at.min(self.len()));
            if self.buf[self.idx(lo)..self.idx(at)].starts_with(b"-----BEGIN ") {
                let msg = "has a BEGIN line but no body and no END line: nothing masked";
                self.warn_key(m.rule, t.lo, at, msg);
            }
        } else {
            ms.dead.push(Dead {
                lo: t.lo,
                hi: t.hi,
                at,
                floor: t.floor,
            });
        }
    }

    /// End of input: a live thread whose automaton matches at the end, or matched earlier,
    /// leaves the decision to the engine's final scan; one that never matched is an
    /// unterminated block, masked whole from its floor (fail closed).
    fn end_threads(&mut self, mi: usize, ms: &mut MultiState, len: u64) {
        let m = &self.plan.multi[mi];
        let dfa = m.dfa();
        for t in std::mem::take(&mut ms.live) {
            if t.overrun {
                let eoi_match = match (t.state, dfa, ms.cache.as_mut()) {
                    (TState::Dfa(sid), Some(dfa), Some(cache)) => dfa
                        .next_eoi_state(cache, sid)
                        .map(|s| s.is_match())
                        .unwrap_or(true),
                    _ => true,
                };
                let end = if eoi_match {
                    len
                } else {
                    t.last.unwrap_or(len)
                };
                self.close_fail_closed(t.floor, end, m.rule);
                continue;
            }
            let engine_decides = match (t.state, dfa, ms.cache.as_mut()) {
                (TState::Dfa(sid), Some(dfa), Some(cache)) => {
                    t.matched
                        || dfa
                            .next_eoi_state(cache, sid)
                            .map(|s| s.is_match())
                            .unwrap_or(true)
                }
                _ => true,
            };
            if engine_decides {
                ms.dead.push(Dead {
                    lo: t.lo,
                    hi: t.hi,
                    at: len,
                    floor: t.floor,
                });
            } else {
                self.stats.fail_closed += 1;
                let msg = "has no END line before the end of input: masked whole, fail closed";
                self.warn_key(m.rule, t.lo, len, msg);
                self.add_fail_closed(t.floor, len, Some(m.rule));
            }
        }
    }

    /// Warns (once per block) about a private-key block of `rule` at `[at, end)` that is
    /// cut off, has no body, or is too long; the message names the rule and the byte offset,
    /// never key material. Other multi-line rules are not warned about.
    fn warn_key(&mut self, rule: usize, at: u64, end: u64, what: &str) {
        let r = self.engine.rule(rule);
        if at < self.key_warned || !r.tags.iter().any(|t| t == "private-key") {
            return;
        }
        self.key_warned = end.max(at + 1);
        self.warnings.push(format!(
            "a private key block ({}) at byte {at} {what}",
            r.id
        ));
    }

    fn open_fail_closed(&mut self, floor: u64, rule: usize) {
        self.stats.fail_closed += 1;
        self.add_fail_closed(floor, u64::MAX, Some(rule));
    }

    fn close_fail_closed(&mut self, floor: u64, at: u64, rule: usize) {
        if let Some(s) = self.masks.iter_mut().find(|s| {
            s.start == floor && s.end == u64::MAX && s.origin == Origin::FailClosed(Some(rule))
        }) {
            s.end = at.max(floor + 1);
        }
    }

    fn add_fail_closed(&mut self, start: u64, end: u64, rule: Option<usize>) {
        let label = match rule {
            Some(r) => self.engine.rule(r).id.clone(),
            None => "held-block".to_string(),
        };
        let start = start.max(self.done);
        if end <= start {
            return;
        }
        self.insert_mask(Span {
            start,
            end,
            rank: (0, 0, 0),
            label,
            origin: Origin::FailClosed(rule),
            secret: Vec::new(),
            decoded: Vec::new(),
            written: false,
        });
    }

    // ---------------------------------------------------------------- scanning

    fn advance(&mut self, eof: bool, out: &mut Vec<u8>) -> Result<(), RedactError> {
        let len = self.len();
        if eof {
            self.scan_to(len, len, true)?;
        } else {
            if self.plan.line_cuts && len > self.scanned {
                let from = self.idx(self.scanned);
                if let Some(nl) = memchr::memrchr(b'\n', &self.buf[from..]) {
                    let c = self.scanned + nl as u64 + 1;
                    self.scan_to(c, c, false)?;
                }
            }
            if len > self.scanned + self.h {
                let c = self.unfinished_command(len - self.h);
                if c > self.scanned {
                    self.scan_to(c, len, false)?;
                }
            }
        }
        let mut e = self.scanned;
        if !eof {
            e = e.min(self.multi_floor());
            if self.plan.line_lag > 0 {
                e = e.min(len.saturating_sub(self.plan.line_lag as u64));
            }
        }
        self.emit(e.max(self.done), out)?;
        if !eof && self.len() - self.done > HARD_HOLD as u64 {
            // Safety net: never hold without bound. Mask the held block whole.
            self.stats.fail_closed += 1;
            let (from, to) = (self.done, self.len());
            self.add_fail_closed(from, to, None);
            self.scanned = self.scanned.max(to);
            self.emit(to, out)?;
        }
        self.trim();
        Ok(())
    }

    /// `c`, or the start of an add-mask command before it on a line that has not ended: its
    /// value is known only at the end of the line, so a long line is not cut past it (it
    /// is held instead, up to [`HARD_HOLD`]).
    fn unfinished_command(&self, c: u64) -> u64 {
        if !self.opts.add_mask {
            return c;
        }
        let from = self.idx(self.scanned.max(self.base));
        let tail = &self.buf[from..];
        let open = memchr::memrchr2(b'\n', b'\r', tail).map_or(0, |j| j + 1);
        gha::first_add_mask(&tail[open..])
            .map_or(c, |start| c.min(self.base + (from + open + start) as u64))
    }

    /// The earliest byte an open or undecided multi-line candidate may still mask.
    fn multi_floor(&self) -> u64 {
        let mut f = u64::MAX;
        for ms in &self.multi {
            for t in &ms.live {
                // An endless block is masked (open) up to its last match; what follows
                // that is held until the block goes on or ends.
                let hold = match (t.overrun, t.state) {
                    (false, _) => t.floor,
                    (true, TState::Dfa(_)) => t.last.unwrap_or(t.floor),
                    (true, _) => continue,
                };
                f = f.min(hold);
            }
            for d in &ms.dead {
                f = f.min(d.floor);
            }
        }
        f
    }

    /// Where a scan decided at `hay_end` must start owning: `scanned`, or earlier for a
    /// decided multi-line candidate whose possible starts were scanned before it was decided.
    fn rescan_from(&self, hay_end: u64) -> u64 {
        let mut own_from = self.scanned;
        for ms in &self.multi {
            for d in &ms.dead {
                if d.at <= hay_end {
                    own_from = own_from.min(d.lo);
                }
            }
        }
        own_from.max(self.base)
    }

    /// Whether a match of multi-line rule `mi` starting at `s` is not final yet.
    fn deferred(&self, mi: usize, s: u64, hay_end: u64) -> bool {
        let ms = &self.multi[mi];
        ms.live.iter().any(|t| t.lo <= s && s <= t.hi)
            || ms
                .dead
                .iter()
                .any(|d| d.lo <= s && s <= d.hi && d.at > hay_end)
    }

    /// Scans the owned range up to `c` with the input up to `hay_end` visible, records its
    /// masks, and sets `scanned = c`.
    fn scan_to(&mut self, c: u64, hay_end: u64, eof: bool) -> Result<(), RedactError> {
        if c < self.scanned {
            return Ok(());
        }
        let mut first = true;
        let mut own_from = self.rescan_from(hay_end);
        loop {
            let hay_start = own_from.saturating_sub(self.k).max(self.base);
            let (hs, he) = (self.idx(hay_start), self.idx(hay_end));
            let owned = (own_from - hay_start) as usize..(c - hay_start) as usize;
            let ran = !owned.is_empty();
            let mut found = std::mem::take(&mut self.scratch);
            found.clear();
            if ran {
                let meta = InputMeta::default();
                self.engine
                    .scan(&mut self.st, &self.buf[hs..he], owned, &meta, &mut found);
            }
            if first {
                // Threads for the multi-line keyword hits of this scan, before its matches
                // are judged final or not.
                self.start_threads(hay_start, ran, eof);
                first = false;
            }
            for m in found.drain(..) {
                if m.secret_span.is_empty() {
                    continue;
                }
                let rule = self.engine.rule(m.rule);
                if rule.skip_report {
                    continue;
                }
                let start = hay_start + m.secret_span.start as u64;
                let end = hay_start + m.secret_span.end as u64;
                if rule.multiline {
                    let s = hay_start + m.span.start as u64;
                    let mi = self.plan.multi_of[m.rule];
                    if mi != u32::MAX && self.deferred(mi as usize, s, hay_end) {
                        continue;
                    }
                }
                if rule.multiline
                    && m.secret.starts_with(b"-----BEGIN")
                    && memchr::memmem::find(&m.secret, b"-----END").is_none()
                {
                    self.warn_key(
                        m.rule,
                        start,
                        end,
                        "has no END line: masked through its last key line",
                    );
                }
                let (generic, confidence) = rule.span_precedence();
                let rank = (1 + generic, confidence, m.rule);
                let label = rule.id.clone();
                self.add_mask(Span {
                    start,
                    end,
                    rank,
                    label,
                    origin: Origin::Rule(m.rule),
                    secret: m.secret,
                    decoded: m.decoded,
                    written: false,
                })?;
            }
            self.scratch = found;
            // Threads started by this scan may have been decided with a start before what
            // it owned: scan again from there.
            let need = self.rescan_from(hay_end);
            if need >= own_from {
                break;
            }
            own_from = need;
        }
        // Known values and add-mask lines: single-line, searched in [scanned, c).
        let from = self.scanned.max(self.base);
        if self.opts.add_mask && c > from {
            self.workflow_commands(from, c, hay_end, eof)?;
        }
        if !self.known.is_empty() && hay_end > from {
            let mut hits = std::mem::take(&mut self.hits);
            hits.clear();
            let (a, b) = (self.idx(from), self.idx(hay_end));
            self.known.find_all(&self.buf[a..b], &mut hits);
            for &(s, e, v) in &hits {
                let (s, e) = (from + s as u64, from + e as u64);
                if s >= c || s < self.known_from.get(v).copied().unwrap_or(0) {
                    continue;
                }
                let Some(kv) = self.known.value(v) else {
                    continue;
                };
                let secret = kv.value().to_vec();
                let source = kv.source;
                self.add_mask(Span {
                    start: s,
                    end: e,
                    rank: (3, 1, v),
                    label: "known-secret".into(),
                    origin: Origin::Known(source),
                    secret,
                    decoded: Vec::new(),
                    written: false,
                })?;
            }
            self.hits = hits;
        }
        // Matches are final up to `c` now; threads decided by `hay_end` were scanned.
        for ms in &mut self.multi {
            ms.dead.retain(|d| !(d.at <= hay_end && d.lo >= own_from));
        }
        self.scanned = c;
        Ok(())
    }

    /// Workflow commands on the lines that start in `[from, c)`: `::add-mask::` values are
    /// masked in their line and, as known values, from that line on; `::stop-commands::`
    /// and its resume token are followed, because a value the runner would not register
    /// then (it ignores commands) must not be forwarded to it either.
    fn workflow_commands(
        &mut self,
        from: u64,
        c: u64,
        hay_end: u64,
        eof: bool,
    ) -> Result<(), RedactError> {
        let (a, b, ci) = (self.idx(from), self.idx(hay_end), self.idx(c));
        // Lines holding a command that matters to masking (a line as the runner splits them).
        let mut lines: Vec<(usize, usize)> = Vec::new();
        let hay = &self.buf[..b];
        let mut finder = gha::CommandFinder::new(hay, a);
        while let Some(m) = finder.next() {
            let pos = m.start;
            if pos >= ci {
                break;
            }
            let ls = memchr::memrchr2(b'\n', b'\r', &hay[..pos]).map_or(0, |j| j + 1);
            match memchr::memchr2(b'\n', b'\r', &hay[pos..]) {
                Some(j) => lines.push((ls, pos + j)),
                None if eof => lines.push((ls, b)),
                None => {}
            }
            finder.seek(lines.last().map_or(pos + 1, |l| l.1.max(pos + 1)));
        }
        let mut prev = a;
        for (ls, le) in lines {
            if ls >= prev {
                self.resume_between(prev, ls, b, eof);
            }
            self.command_line(ls, le)?;
            prev = prev.max(le);
        }
        if prev < ci {
            self.resume_between(prev, ci, b, eof);
        }
        Ok(())
    }

    /// While commands are stopped, looks for the resume token on the whole lines that start
    /// in `[x, y)` (buffer indices; lines end before `b`, or at it at the end of input).
    fn resume_between(&mut self, x: usize, y: usize, b: usize, eof: bool) {
        let Some(token) = self.stop_token() else {
            return;
        };
        let mut ls = if x == 0 || gha::is_line_end(self.buf[x - 1]) {
            x
        } else {
            match memchr::memchr2(b'\n', b'\r', &self.buf[x..y]) {
                Some(j) => x + j + 1,
                None => return,
            }
        };
        while ls < y {
            let le = match memchr::memchr2(b'\n', b'\r', &self.buf[ls..b]) {
                Some(j) => ls + j,
                None if eof => b,
                None => return,
            };
            let line = &self.buf[ls..le];
            if gha::commands(line)
                .iter()
                .any(|cmd| gha::is_named(line, cmd, &token))
            {
                self.registry().set_stop_token(None);
                return;
            }
            ls = le + 1;
        }
    }

    /// The commands of the line `[ls, le)` (buffer indices).
    fn command_line(&mut self, ls: usize, le: usize) -> Result<(), RedactError> {
        let line = self.buf[ls..le].to_vec();
        for cmd in gha::commands(&line) {
            let stopped = self.stop_token();
            if let Some(token) = &stopped {
                if gha::is_named(&line, &cmd, token) {
                    self.registry().set_stop_token(None);
                    continue;
                }
            }
            if gha::is_named(&line, &cmd, gha::ADD_MASK) {
                self.add_mask_command(ls, &line, &cmd, stopped.is_none())?;
            } else if stopped.is_none() && gha::is_named(&line, &cmd, gha::STOP_COMMANDS) {
                let token = gha::unescape(&line[cmd.data.clone()], cmd.legacy);
                if !token.is_empty() {
                    self.registry().set_stop_token(Some(token));
                }
            }
        }
        Ok(())
    }

    /// One add-mask command of the line starting at buffer index `ls`: its data is masked
    /// in the line whatever its length; its value (unescaped as the runner does) and, when
    /// they differ, the escaped text become known values from this line on; and it is
    /// queued for the runner unless commands are stopped.
    fn add_mask_command(
        &mut self,
        ls: usize,
        line: &[u8],
        cmd: &gha::Command,
        forward: bool,
    ) -> Result<(), RedactError> {
        let data = &line[cmd.data.clone()];
        let trimmed = data.trim_ascii_end();
        if trimmed.trim_ascii_start().is_empty() {
            return Ok(());
        }
        let value = gha::unescape(data, cmd.legacy);
        let line_start = self.base + ls as u64;
        match KnownValue::new("add-mask", &value) {
            Ok(kv) => {
                self.learn(kv, line_start);
                let escaped = trimmed.trim_ascii_start();
                if escaped != value.trim_ascii() {
                    if let Ok(kv) = KnownValue::new("add-mask", escaped) {
                        self.learn(kv, line_start);
                    }
                }
            }
            Err(w) => self.warnings.push(w.to_string()),
        }
        if forward && self.opts.registrations {
            // Where the command starts (`::` or `##[`): nothing from there on has been
            // released, whatever the chunking (see `idle_floor`).
            let prefix = if cmd.legacy { 3 } else { 2 };
            let p = line_start + (cmd.name.start - prefix) as u64;
            let at = self.pending.partition_point(|(q, _)| *q <= p);
            self.pending.insert(at, (p, value));
        }
        let vs = line_start + cmd.data.start as u64;
        self.add_mask(Span {
            start: vs,
            end: vs + trimmed.len() as u64,
            rank: (3, 0, usize::MAX),
            label: "add-mask".into(),
            origin: Origin::Known("add-mask".into()),
            secret: trimmed.to_vec(),
            decoded: Vec::new(),
            written: false,
        })
    }

    /// The token of the `::stop-commands::` in effect (commands are stopped), if any.
    fn stop_token(&self) -> Option<Vec<u8>> {
        self.registry.as_ref()?.stop_token()
    }

    /// The shared registry, created (with the values known so far) on first use.
    fn registry(&mut self) -> &Arc<KnownRegistry> {
        let known = &self.known;
        self.registry
            .get_or_insert_with(|| Arc::new(KnownRegistry::from_set(known.clone())))
    }

    /// Adds a known value that applies from `from` on.
    fn learn(&mut self, kv: KnownValue, from: u64) {
        let (set, version) = self.registry().add(kv);
        let n = self.known_from.len();
        self.install_known(set, version, self.scanned);
        for f in self.known_from.iter_mut().skip(n) {
            *f = from;
        }
    }

    fn add_mask(&mut self, span: Span) -> Result<(), RedactError> {
        if span.end <= span.start {
            return Ok(());
        }
        if span.start < self.done {
            // Already written: fine if it was masked then (a match reported again, or a
            // block masked whole); a secret found after it was released is a bug.
            let covered = self
                .written
                .iter()
                .any(|&(s, e)| s <= span.start && span.end.min(self.done) <= e);
            if !covered {
                return self.fail("a secret was found after part of it had been released");
            }
            if span.end <= self.done {
                return Ok(());
            }
            let mut rest = span;
            rest.start = self.done;
            return self.add_mask(rest);
        }
        // The masks are sorted by start: look among those starting where `span` does only.
        let first = self.masks.partition_point(|m| m.start < span.start);
        if self.masks[first..]
            .iter()
            .take_while(|m| m.start == span.start)
            .any(|m| m.end == span.end && m.origin == span.origin)
        {
            return Ok(());
        }
        self.insert_mask(span);
        Ok(())
    }

    fn insert_mask(&mut self, span: Span) {
        let at = self
            .masks
            .partition_point(|m| (m.start, m.end) <= (span.start, span.end));
        self.masks.insert(at, span);
    }

    // ---------------------------------------------------------------- output

    /// Writes `[done, e)` with masks applied, lowering `e` so that no mask is cut (an open
    /// fail-closed block is swallowed up to `e` and stays open; a closed one whose label is
    /// out already is written through its end).
    fn emit(&mut self, e: u64, out: &mut Vec<u8>) -> Result<(), RedactError> {
        let len = self.len();
        let e = e.min(len);
        if e <= self.done && !self.masks.iter().any(|m| m.written) {
            return Ok(());
        }
        // Merge overlapping masks that start before `e` into groups.
        let mut groups: Vec<(u64, u64, usize, bool)> = Vec::new(); // start, end, best, written
        for (i, m) in self.masks.iter().enumerate() {
            if m.start >= e.max(self.done) && !m.written {
                break;
            }
            match groups.last_mut() {
                Some(g) if m.start < g.1 => {
                    g.1 = g.1.max(m.end);
                    if m.rank < self.masks[g.2].rank {
                        g.2 = i;
                    }
                    g.3 |= m.written;
                }
                _ => groups.push((m.start, m.end, i, m.written)),
            }
        }
        // A group that extends past `e` must not be cut, unless its label is out already
        // or it is open-ended.
        let mut cut = e;
        for g in &groups {
            if g.0 < cut && g.1 > cut {
                if g.1 == u64::MAX {
                    // An open fail-closed block: swallowed up to `e` (its thread holds what
                    // may follow its last match); it stays open until its thread dies.
                    continue;
                }
                if g.3 {
                    cut = cut.max(len.min(g.1));
                } else {
                    cut = g.0;
                }
            }
        }
        let e = cut.max(self.done);
        let mut pos = self.done;
        for &(gs, ge, best, written) in &groups {
            if gs >= e {
                break;
            }
            if gs > pos {
                self.write_raw(pos, gs, out);
                pos = gs;
            }
            let gend = ge.min(e);
            if !written && gs >= self.done {
                self.place(ge, None, out.len());
                self.write_mask(best, gs, ge, out);
            }
            if gend > pos {
                self.advance_position(pos, gend);
                pos = gend;
            }
            if ge > e {
                // An open block: mark its masks written; they stay until the block ends.
                for m in self.masks.iter_mut() {
                    if m.start >= gs && m.start < ge {
                        m.written = true;
                    }
                }
            }
        }
        if e > pos {
            self.write_raw(pos, e, out);
        }
        // Drop masks wholly written.
        let done = e;
        let mut written = std::mem::take(&mut self.written);
        self.masks.retain(|m| {
            if m.end <= done {
                written.push((m.start, m.end));
                false
            } else {
                true
            }
        });
        self.written = written;
        self.done = done;
        // Command lines inside a block written earlier go out now.
        self.place(done, None, out.len());
        Ok(())
    }

    fn write_raw(&mut self, from: u64, to: u64, out: &mut Vec<u8>) {
        self.place(to, Some(from), out.len());
        let bytes = &self.buf[self.idx(from)..self.idx(to)];
        out.extend_from_slice(bytes);
        self.stats.bytes_out += bytes.len() as u64;
        self.advance_position(from, to);
    }

    fn advance_position(&mut self, from: u64, to: u64) {
        if !self.opts.events {
            return;
        }
        let bytes = &self.buf[self.idx(from)..self.idx(to)];
        match memchr::memrchr(b'\n', bytes) {
            Some(last) => {
                self.line += count_newlines(bytes);
                self.col = count_chars(&bytes[last + 1..]);
            }
            None => self.col += count_chars(bytes),
        }
    }

    fn write_mask(&mut self, best: usize, start: u64, end: u64, out: &mut Vec<u8>) {
        let m = &self.masks[best];
        let raw_end = end.min(self.len());
        let raw = &self.buf[self.idx(start)..self.idx(raw_end)];
        let before = out.len();
        let secret: &[u8] = if m.secret.is_empty() { raw } else { &m.secret };
        // A known value has no public prefix: `--mask prefix` shows nothing of it (on every
        // line of a multi-line value, each masked on its own).
        let shown = if matches!(m.origin, Origin::Known(_)) {
            &[][..]
        } else {
            raw
        };
        if m.decoded.first() == Some(&Encoding::Utf16le) {
            // UTF-16LE text: the mask is written in it too, so the rest of the line stays
            // readable (what is shown of the secret comes from its characters).
            let shown: Vec<u8> = shown.iter().step_by(2).copied().collect();
            let mut narrow = Vec::new();
            self.opts
                .masker
                .render(&m.label, &shown, secret, &mut narrow);
            out.extend(narrow.iter().flat_map(|&b| [b, 0]));
        } else {
            self.opts.masker.render(&m.label, shown, secret, out);
        }
        self.stats.bytes_out += (out.len() - before) as u64;
        self.stats.redactions += 1;
        *self.stats.by_label.entry(m.label.clone()).or_insert(0) += 1;
        if self.opts.events {
            let m = &self.masks[best];
            let secret: &[u8] = if m.secret.is_empty() { raw } else { &m.secret };
            self.events.push(Redaction {
                label: m.label.clone(),
                origin: m.origin.clone(),
                offset: start,
                length: end.saturating_sub(start).min(raw_end - start),
                line: self.line,
                column: self.col + 1,
                preview: preview(secret),
                fingerprint: self.opts.masker.fingerprint(&m.label, secret),
                decoded: m.decoded.clone(),
            });
        }
    }

    /// Drops buffer bytes no longer needed: written, outside every scan's left context and
    /// every thread's reach.
    fn trim(&mut self) {
        let mut keep = self.done.min(self.scanned.saturating_sub(self.k));
        for ms in &self.multi {
            for t in ms.live.iter().filter(|t| !t.overrun) {
                keep = keep.min(t.lo.saturating_sub(self.k + 1));
            }
            for d in &ms.dead {
                keep = keep.min(d.lo.saturating_sub(self.k + 1));
            }
        }
        for m in self.masks.iter().filter(|m| !m.written) {
            keep = keep.min(m.start);
        }
        if keep > self.base + (RECLAIM.max(self.buf.len() / 2)) as u64 {
            let n = (keep - self.base) as usize;
            self.buf.drain(..n);
            self.base = keep;
            self.written.retain(|&(_, e)| e > keep);
        }
    }

    // ---------------------------------------------------------------- idle release

    /// The first byte of the unscanned tail that may not leave yet.
    fn idle_floor(&mut self) -> u64 {
        let len = self.len();
        let mut f = len.min(self.multi_floor());
        if self.plan.line_lag > 0 {
            f = f.min(len.saturating_sub(self.plan.line_lag as u64));
        }
        let t0 = self.scanned.max(self.done).max(self.base);
        if t0 >= len {
            return f;
        }
        let tail = &self.buf[self.idx(t0)..];
        // Decided secrets in the tail (the engine sees the tail as the end of input).
        let hay_start = t0.saturating_sub(self.k).max(self.base);
        let mut found = std::mem::take(&mut self.scratch);
        found.clear();
        let meta = InputMeta::default();
        let hs = self.idx(hay_start);
        self.engine.scan(
            &mut self.st,
            &self.buf[hs..],
            (t0 - hay_start) as usize..(len - hay_start) as usize,
            &meta,
            &mut found,
        );
        for m in found.drain(..) {
            f = f.min(hay_start + m.secret_span.start as u64);
        }
        self.scratch = found;
        // Percent-escapes: decoded secrets may hide anywhere in the line; hold it.
        if tail
            .windows(3)
            .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
        {
            f = f.min(t0);
        }
        // UTF-16LE text (zero bytes) on the partial line: its secrets are only seen once
        // the line is whole, as for percent-escapes.
        if memchr::memchr(0, tail).is_some() {
            f = f.min(t0);
        }
        // A base64 run reaching the end may still grow into an encoded secret.
        let b64 = tail
            .iter()
            .rev()
            .take_while(|&&b| {
                b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_')
            })
            .count();
        f = f.min(len - b64 as u64);
        // Known values: complete occurrences, and a tail that may begin one.
        if !self.known.is_empty() {
            let mut hits = Vec::new();
            self.known.find_all(tail, &mut hits);
            for (s, _, _) in hits {
                f = f.min(t0 + s as u64);
            }
            f = f.min(len - self.known.partial_suffix(tail) as u64);
        }
        // An add-mask command (or the start of one) on the partial line: its value is only
        // known once the line ends.
        if self.opts.add_mask {
            if let Some(start) = gha::first_add_mask(tail) {
                f = f.min(t0 + start as u64);
            }
            f = f.min(len - gha::partial_command(tail) as u64);
        }
        // Rules: a secret not decided yet starts at or after `scanned`; where each rule
        // could still have one, from its anchors present in the tail and those that may
        // still arrive.
        let plan = self.plan;
        let s0 = self.scanned.max(self.base);
        let tail = &self.buf[self.idx(s0)..];
        let mut hits: Vec<Vec<usize>> = vec![Vec::new(); plan.rules.len()];
        if let Some(ac) = &plan.anchors {
            for m in ac.find_overlapping_iter(tail) {
                for &r in &plan.anchor_rules[m.pattern().as_usize()] {
                    hits[r as usize].push(m.start());
                }
            }
        }
        let debug = std::env::var_os("SHUSH_DEBUG_IDLE").is_some();
        for (r, rp) in plan.rules.iter().enumerate() {
            if self.engine.rule(r).regex.is_none() {
                continue;
            }
            let fl = rule_floor(plan, rp, &hits[r], tail);
            if debug && fl < tail.len() {
                eprintln!("idle floor {} by {}", fl, self.engine.rule(r).id);
            }
            f = f.min(s0 + fl as u64);
        }
        f.max(self.done)
    }
}

/// Offset in `tail` (which starts where undecided matches may start) before which rule `rp`
/// cannot have a secret that is still undecided.
fn rule_floor(plan: &Plan, rp: &super::plan::RulePlan, hits: &[usize], tail: &[u8]) -> usize {
    let n = tail.len();
    let last_non_alpha = |alpha: usize, upto: usize| -> Option<usize> {
        let set = &plan.alphabets[alpha];
        tail[..upto].iter().rposition(|&b| !set.contains(b))
    };
    let partial = |lits: &[Vec<u8>]| partial_prefix_ci(tail, lits);
    if rp.anchors.is_empty() {
        let b = &rp.branches[0];
        let lo = last_non_alpha(b.alphabet, n).map_or(0, |i| i + 1);
        return lo.max(n.saturating_sub(b.lead));
    }
    let k = partial(&rp.anchors);
    let first_hit = hits.iter().min().copied();
    let mut best = n;
    for b in &rp.branches {
        let mut fb = if b.anchor_before {
            first_hit.unwrap_or(n - k)
        } else {
            let at = |a: usize| -> usize {
                let lo = a.saturating_sub(b.lead);
                match last_non_alpha(b.alphabet, a) {
                    Some(i) => lo.max(i + 1).min(a),
                    None => lo,
                }
            };
            let not_arrived = if b.starts.is_empty() {
                at(n - k)
            } else {
                n - partial(&b.starts)
            };
            hits.iter().fold(not_arrived, |m, &h| m.min(at(h)))
        };
        if !b.pre.is_empty() {
            // The secret follows one of these literals.
            let pre_at = b
                .pre
                .iter()
                .filter_map(|p| super::plan::find_ci(tail, p))
                .min();
            fb = fb.max(pre_at.unwrap_or(n - partial(&b.pre)));
        }
        best = best.min(fb);
    }
    best
}

/// The length of the longest suffix of `tail` that is a proper prefix of one of `lits`,
/// ASCII case ignored. Such a suffix starts with its literal's first byte, so only those
/// positions are tried, leftmost (longest) first.
fn partial_prefix_ci(tail: &[u8], lits: &[Vec<u8>]) -> usize {
    let n = tail.len();
    let mut k = 0;
    for a in lits {
        let Some(&first) = a.first() else { continue };
        let longest = (a.len() - 1).min(n);
        if longest <= k {
            continue;
        }
        let from = n - longest;
        let (lo, up) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
        for i in memchr::memchr2_iter(lo, up, &tail[from..n - k]) {
            let kk = longest - i;
            if tail[n - kk..].eq_ignore_ascii_case(&a[..kk]) {
                k = kk;
                break;
            }
        }
    }
    k
}

enum Run {
    /// Still alive; where in the haystack the last match seen ended, if one did.
    Alive(LazyStateID, Option<usize>),
    /// Died after consuming this many bytes (and where the last match ended).
    Dead(usize, Option<usize>),
    /// The automaton quit (a byte it cannot handle) or its cache failed.
    GaveUp,
}

fn run(
    dfa: &regex_automata::hybrid::dfa::DFA,
    cache: &mut Cache,
    sid: LazyStateID,
    hay: &[u8],
) -> Run {
    // Match states come one byte late: a match state entered on byte `i` means a match
    // ended just before it.
    // (A start state that is a match was recorded by the run that entered it.)
    let mut last = None;
    let mut sid = sid;
    for (i, &b) in hay.iter().enumerate() {
        match dfa.next_state(cache, sid, b) {
            Ok(next) => {
                if next.is_dead() {
                    return Run::Dead(i + 1, last);
                }
                if next.is_quit() {
                    return Run::GaveUp;
                }
                if next.is_match() {
                    last = Some(i);
                }
                sid = next;
            }
            Err(_) => return Run::GaveUp,
        }
    }
    Run::Alive(sid, last)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_prefix_equals_the_naive_search() {
        let naive = |tail: &[u8], lits: &[Vec<u8>]| -> usize {
            let n = tail.len();
            let mut k = 0;
            for a in lits {
                for kk in (k + 1..a.len().min(n + 1)).rev() {
                    if tail[n - kk..].eq_ignore_ascii_case(&a[..kk]) {
                        k = kk;
                        break;
                    }
                }
            }
            k
        };
        let lits: Vec<Vec<u8>> = vec![
            b"password".to_vec(),
            b"pass".to_vec(),
            b"ghp_".to_vec(),
            b"".to_vec(),
            b"aaa".to_vec(),
        ];
        let tails: [&[u8]; 9] = [
            b"",
            b"p",
            b"Enter PASS",
            b"Enter Password",
            b"token ghp",
            b"xx gh",
            b"aaaa",
            b"aa",
            b"password: ",
        ];
        for tail in tails {
            for i in 0..lits.len() {
                let some = &lits[i..];
                assert_eq!(partial_prefix_ci(tail, some), naive(tail, some), "{tail:?}");
            }
        }
    }
}
