//! The pending masks: adding a match (or a block masked whole, fail closed) to the sorted
//! set of masks not written yet.

use super::{Origin, RedactError, Redactor, Span};

impl Redactor<'_> {
    /// Opens a fail-closed block of `rule` from `floor`, its end not known yet.
    pub(super) fn open_fail_closed(&mut self, floor: u64, rule: usize) {
        self.stats.fail_closed += 1;
        self.add_fail_closed(floor, u64::MAX, Some(rule));
    }

    /// Ends the open fail-closed block of `rule` from `floor` at `at`.
    pub(super) fn close_fail_closed(&mut self, floor: u64, at: u64, rule: usize) {
        if let Some(s) = self.masks.iter_mut().find(|s| {
            s.start == floor && s.end == u64::MAX && s.origin == Origin::FailClosed(Some(rule))
        }) {
            s.end = at.max(floor + 1);
        }
    }

    /// Masks `[start, end)` whole, fail closed (labelled by `rule`, else `held-block`),
    /// except what has been written already.
    pub(super) fn add_fail_closed(&mut self, start: u64, end: u64, rule: Option<usize>) {
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

    /// Adds a mask, unless the same one is pending; part of it already written must have
    /// been masked then (else the redactor fails: a secret leaked).
    pub(super) fn add_mask(&mut self, span: Span) -> Result<(), RedactError> {
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

    /// Inserts a mask, keeping the masks sorted by start and end.
    fn insert_mask(&mut self, span: Span) {
        let at = self
            .masks
            .partition_point(|m| (m.start, m.end) <= (span.start, span.end));
        self.masks.insert(at, span);
    }
}
