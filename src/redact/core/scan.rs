//! Scanning: choosing the cut points of owned ranges, and turning the rule matches and
//! known values found in a range into masks.

use super::{HARD_HOLD, Origin, RedactError, Redactor, Span};
use crate::engine::{InputMeta, Match};
use crate::redact::gha;

impl Redactor<'_> {
    /// Scans what can be scanned now (everything at the end of input) and writes what is
    /// final; masks the held block whole if it grows past [`HARD_HOLD`].
    pub(super) fn advance(&mut self, eof: bool, out: &mut Vec<u8>) -> Result<(), RedactError> {
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

    /// Scans the owned range up to `c` with the input up to `hay_end` visible, records its
    /// masks, and sets `scanned = c`.
    fn scan_to(&mut self, c: u64, hay_end: u64, eof: bool) -> Result<(), RedactError> {
        if c < self.scanned {
            return Ok(());
        }
        let own_from = self.scan_rules(c, hay_end, eof)?;
        // Known values and add-mask lines: single-line, searched in [scanned, c).
        let from = self.scanned.max(self.base);
        if self.opts.add_mask && c > from {
            self.workflow_commands(from, c, hay_end, eof)?;
        }
        if !self.known.is_empty() && hay_end > from {
            self.scan_known(from, c, hay_end)?;
        }
        // Matches are final up to `c` now; threads decided by `hay_end` were scanned.
        for ms in &mut self.multi {
            ms.dead.retain(|d| !(d.at <= hay_end && d.lo >= own_from));
        }
        self.scanned = c;
        Ok(())
    }

    /// Runs the engine over the owned range up to `c` (from `scanned`, or earlier for
    /// decided multi-line candidates) and masks its rule matches, scanning again from
    /// earlier while threads it started are decided with a start before what it owned.
    /// Returns where the last scan's owned range started.
    fn scan_rules(&mut self, c: u64, hay_end: u64, eof: bool) -> Result<u64, RedactError> {
        let mut first = true;
        let mut own_from = self.rescan_from(hay_end);
        loop {
            let hay_start = own_from.saturating_sub(self.k).max(self.base);
            let mut found = std::mem::take(&mut self.scratch);
            found.clear();
            let ran = self.engine_scan(hay_start, own_from, c, hay_end, &mut found);
            if first {
                // Threads for the multi-line keyword hits of this scan, before its matches
                // are judged final or not.
                self.start_threads(hay_start, ran, eof);
                first = false;
            }
            for m in found.drain(..) {
                self.rule_match(m, hay_start, hay_end)?;
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
        Ok(own_from)
    }

    /// Runs the engine over `[hay_start, hay_end)`, owning `[own_from, c)`, into `found`;
    /// returns whether it ran (the owned range is not empty).
    #[inline]
    fn engine_scan(
        &mut self,
        hay_start: u64,
        own_from: u64,
        c: u64,
        hay_end: u64,
        found: &mut Vec<Match>,
    ) -> bool {
        let (hs, he) = (self.idx(hay_start), self.idx(hay_end));
        let owned = (own_from - hay_start) as usize..(c - hay_start) as usize;
        let ran = !owned.is_empty();
        if ran {
            let meta = InputMeta::default();
            self.engine
                .scan(&mut self.st, &self.buf[hs..he], owned, &meta, found);
        }
        ran
    }

    /// Masks one rule match of a scan whose haystack starts at `hay_start`, unless it is
    /// not reported, or is a multi-line match not final yet.
    #[inline]
    fn rule_match(&mut self, m: Match, hay_start: u64, hay_end: u64) -> Result<(), RedactError> {
        if m.secret_span.is_empty() {
            return Ok(());
        }
        let rule = self.engine.rule(m.rule);
        if rule.skip_report {
            return Ok(());
        }
        let start = hay_start + m.secret_span.start as u64;
        let end = hay_start + m.secret_span.end as u64;
        if rule.multiline {
            let s = hay_start + m.span.start as u64;
            let mi = self.plan.multi_of[m.rule];
            if mi != u32::MAX && self.deferred(mi as usize, s, hay_end) {
                return Ok(());
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
        })
    }

    /// Masks the known values found in `[from, hay_end)` that start before `c` and at or
    /// after the position each applies from.
    fn scan_known(&mut self, from: u64, c: u64, hay_end: u64) -> Result<(), RedactError> {
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
        Ok(())
    }
}
