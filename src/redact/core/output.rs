//! Writing output: raw bytes and masks, statistics and events, forwarded add-mask
//! registrations, and trimming the buffer.

use super::{Origin, RECLAIM, RedactError, Redaction, Redactor};
use crate::engine::Encoding;
use crate::location::{count_chars, count_newlines};

impl Redactor<'_> {
    /// Gives the pending registrations whose command line starts before `upto` the output
    /// offset `at` (plus, for raw bytes copied from `from` on, the distance from it).
    pub(super) fn place(&mut self, upto: u64, from: Option<u64>, out_len: usize) {
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

    /// Writes `[done, e)` with masks applied, lowering `e` so that no mask is cut (an open
    /// fail-closed block is swallowed up to `e` and stays open; a closed one whose label is
    /// out already is written through its end).
    pub(super) fn emit(&mut self, e: u64, out: &mut Vec<u8>) -> Result<(), RedactError> {
        let len = self.len();
        let e = e.min(len);
        if e <= self.done && !self.masks.iter().any(|m| m.written) {
            return Ok(());
        }
        let groups = self.mask_groups(e);
        let e = uncut_end(&groups, e, len).max(self.done);
        self.write_groups(&groups, e, out);
        // Drop masks wholly written.
        let done = e;
        self.drop_written(done);
        self.done = done;
        // Command lines inside a block written earlier go out now.
        self.place(done, None, out.len());
        Ok(())
    }

    /// Merges the overlapping masks that start before `e` (or whose label is out already)
    /// into groups: start, end, the mask whose label wins, whether it is written.
    fn mask_groups(&self, e: u64) -> Vec<Group> {
        let mut groups: Vec<Group> = Vec::new();
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
        groups
    }

    /// Writes `[done, e)`: raw bytes between the `groups`, a mask for each group not
    /// written yet; an open group is marked written.
    fn write_groups(&mut self, groups: &[Group], e: u64, out: &mut Vec<u8>) {
        let mut pos = self.done;
        for &(gs, ge, best, written) in groups {
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
    }

    /// Drops the masks that end by `done`, remembering them as written.
    #[inline]
    fn drop_written(&mut self, done: u64) {
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
    }

    /// Writes the bytes `[from, to)` as they are.
    fn write_raw(&mut self, from: u64, to: u64, out: &mut Vec<u8>) {
        self.place(to, Some(from), out.len());
        let bytes = &self.buf[self.idx(from)..self.idx(to)];
        out.extend_from_slice(bytes);
        self.stats.bytes_out += bytes.len() as u64;
        self.advance_position(from, to);
    }

    /// Moves the line and column (kept for events only) over `[from, to)`.
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

    /// Writes mask `best` for `[start, end)` and counts it.
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
            self.record_event(best, start, end, raw_end);
        }
    }

    /// Records the [`Redaction`] of mask `best`, written for `[start, end)` (its bytes up to
    /// `raw_end` in the buffer).
    fn record_event(&mut self, best: usize, start: u64, end: u64, raw_end: u64) {
        let m = &self.masks[best];
        let raw = &self.buf[self.idx(start)..self.idx(raw_end)];
        let secret: &[u8] = if m.secret.is_empty() { raw } else { &m.secret };
        self.events.push(Redaction {
            label: m.label.clone(),
            origin: m.origin.clone(),
            offset: start,
            length: end.saturating_sub(start).min(raw_end - start),
            line: self.line,
            column: self.col + 1,
            preview: match m.origin {
                Origin::Rule(r) => self.engine.rule(r).mask(secret),
                _ => crate::finding::mask_public(secret, 0),
            },
            fingerprint: self.opts.masker.fingerprint(&m.label, secret),
            decoded: m.decoded.clone(),
        });
    }

    /// Drops buffer bytes no longer needed: written, outside every scan's left context and
    /// every thread's reach.
    pub(super) fn trim(&mut self) {
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
}

/// A group of overlapping masks: start, end, the mask whose label wins, whether written.
type Group = (u64, u64, usize, bool);

/// `e`, lowered so that no group extending past it is cut, unless its label is out already
/// (then raised through its end, up to `len`) or it is open-ended.
#[inline]
fn uncut_end(groups: &[Group], e: u64, len: u64) -> u64 {
    let mut cut = e;
    for g in groups {
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
    cut
}
