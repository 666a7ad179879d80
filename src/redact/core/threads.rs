//! Multi-line candidates: threads started at a multi-line rule's keyword hits, stepped
//! over new bytes, and settled (final, ignored, or masked whole, fail closed) when they die.

use super::{Dead, MultiState, OVERRUN_SLACK, Redactor, TState, Thread};
use crate::redact::plan::{MultiRule, start_state};
use regex_automata::hybrid::LazyStateID;
use regex_automata::hybrid::dfa::{Cache, DFA};

impl Redactor<'_> {
    /// Advances the live multi-line threads over the new bytes. (Threads are started from
    /// keyword hits that the engine reports while scanning: see [`Self::start_threads`].)
    pub(super) fn track(&mut self) {
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
    pub(super) fn start_threads(&mut self, hay_start: u64, scanned_now: bool, eof: bool) {
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
        let dfa = m.dfa();
        let fresh = self.spawn_threads(m, dfa.is_some(), ms, hits);
        let mut threads = std::mem::take(&mut ms.live);
        let resumed = threads.len();
        threads.extend(fresh);
        let outcomes = self.step_threads(m, dfa, ms, &mut threads, resumed, len);
        self.settle_threads(m, ms, threads, outcomes, len);
    }

    /// Threads for the new keyword hits `hits` of multi-line rule `m`: one per possible
    /// match start before each hit (not covered by an earlier hit's threads) when the rule
    /// has an automaton (`has_dfa`), else one per hit, open for the rule's reach.
    fn spawn_threads(
        &self,
        m: &MultiRule,
        has_dfa: bool,
        ms: &mut MultiState,
        hits: &[u64],
    ) -> Vec<Thread> {
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
            let floor_h = self.hit_floor(m, h);
            if !has_dfa {
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
            for s in self.possible_starts(m, lo, h) {
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
        fresh
    }

    /// The earliest byte a secret of rule `m` through the keyword hit at `h` may mask: the
    /// rule's lead before it, not before the start of its line unless the lead may hold a
    /// line feed.
    #[inline]
    fn hit_floor(&self, m: &MultiRule, h: u64) -> u64 {
        let rp = &self.plan.rules[m.rule];
        let mut floor_h = h.saturating_sub(rp.lead as u64).max(self.base);
        if !rp.lead_newline {
            let from = self.idx(floor_h);
            if let Some(i) = memchr::memrchr(b'\n', &self.buf[from..self.idx(h)]) {
                floor_h = self.base + (from + i) as u64 + 1;
            }
        }
        floor_h
    }

    /// The positions in `[lo, h]` where a match of rule `m` may start (its first bytes).
    #[inline]
    fn possible_starts(&self, m: &MultiRule, lo: u64, h: u64) -> Vec<u64> {
        let range = &self.buf[self.idx(lo)..=self.idx(h)];
        match m.first_few.as_deref() {
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
        }
    }

    /// Steps every thread (the first `resumed` from where they stopped, the others from
    /// their start) to `len`; returns, per thread, where it died if it did.
    fn step_threads(
        &self,
        m: &MultiRule,
        dfa: Option<&DFA>,
        ms: &mut MultiState,
        threads: &mut [Thread],
        resumed: usize,
        len: u64,
    ) -> Vec<Option<u64>> {
        let mut outcomes: Vec<Option<u64>> = Vec::with_capacity(threads.len());
        let Some(dfa) = dfa else {
            step_without_automaton(m, threads, len, &mut outcomes);
            return outcomes;
        };
        let cache = ms.cache.get_or_insert_with(|| dfa.create_cache());
        let c0 = cache.clear_count();
        for (i, t) in threads.iter_mut().enumerate() {
            let from = if i < resumed { ms.pos } else { t.lo };
            outcomes.push(self.step_thread(dfa, cache, t, from, len, m.max_len));
        }
        if cache.clear_count() != c0 {
            self.restep_after_clear(m, dfa, cache, threads, len, &mut outcomes);
        }
        outcomes
    }

    /// A cache clear while stepping invalidates saved states, so every thread runs again
    /// from its start (a few tries, then the length bound); `outcomes` are replaced.
    fn restep_after_clear(
        &self,
        m: &MultiRule,
        dfa: &DFA,
        cache: &mut Cache,
        threads: &mut [Thread],
        len: u64,
        outcomes: &mut Vec<Option<u64>>,
    ) {
        let mut tries = 0;
        let mut clean = false;
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
    }

    /// Settles the threads that died (by `outcomes`) and keeps the others live; one that
    /// outlives the rule's bound is marked endless and its block masked whole from its floor.
    fn settle_threads(
        &mut self,
        m: &MultiRule,
        ms: &mut MultiState,
        threads: Vec<Thread>,
        outcomes: Vec<Option<u64>>,
        len: u64,
    ) {
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
        dfa: &DFA,
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
    pub(super) fn warn_key(&mut self, rule: usize, at: u64, end: u64, what: &str) {
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

    /// The earliest byte an open or undecided multi-line candidate may still mask.
    pub(super) fn multi_floor(&self) -> u64 {
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
    pub(super) fn rescan_from(&self, hay_end: u64) -> u64 {
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
    pub(super) fn deferred(&self, mi: usize, s: u64, hay_end: u64) -> bool {
        let ms = &self.multi[mi];
        ms.live.iter().any(|t| t.lo <= s && s <= t.hi)
            || ms
                .dead
                .iter()
                .any(|d| d.lo <= s && s <= d.hi && d.at > hay_end)
    }
}

enum Run {
    /// Still alive; where in the haystack the last match seen ended, if one did.
    Alive(LazyStateID, Option<usize>),
    /// Died after consuming this many bytes (and where the last match ended).
    Dead(usize, Option<usize>),
    /// The automaton quit (a byte it cannot handle) or its cache failed.
    GaveUp,
}

/// Runs the automaton from `sid` over `hay`.
fn run(dfa: &DFA, cache: &mut Cache, sid: LazyStateID, hay: &[u8]) -> Run {
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

/// Steps the threads of a rule without an automaton: each stays open until its position
/// has arrived (a fresh one until the rule's length bound).
fn step_without_automaton(
    m: &MultiRule,
    threads: &mut [Thread],
    len: u64,
    outcomes: &mut Vec<Option<u64>>,
) {
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
