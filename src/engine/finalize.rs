//! Per-input post-processing: composite rules (`[[rules.required]]`), `skipReport`, and
//! overlap resolution so one secret yields one finding.

use super::Engine;
use crate::location::Located;

impl Engine {
    /// Resolves an input's matches into what is reported, in input order:
    /// - duplicates (same rule, same secret span) collapse;
    /// - a composite rule's match survives only if every required rule matched within the
    ///   configured line/column distance; `skipReport` rules are then dropped;
    /// - of several rules reporting the very same secret span, the most specific wins
    ///   (non-generic, then higher confidence, then rule order);
    /// - a `generic` match overlapping a specific rule's secret is dropped.
    pub fn finalize(&self, found: &mut Vec<Located>) {
        if found.is_empty() {
            return;
        }
        found.sort_by(|a, b| {
            (a.secret_span.start, a.secret_span.end, a.rule).cmp(&(
                b.secret_span.start,
                b.secret_span.end,
                b.rule,
            ))
        });
        found.dedup_by(|b, a| a.rule == b.rule && a.secret_span == b.secret_span);

        let rules = &self.rules().rules;
        if rules.iter().any(|r| !r.required.is_empty()) {
            let snapshot: Vec<(usize, u64, u64)> = found
                .iter()
                .map(|f| (f.rule, f.start.line, f.start.column))
                .collect();
            found.retain(|f| {
                rules[f.rule].required.iter().all(|req| {
                    snapshot.iter().any(|&(r, line, col)| {
                        r == req.rule
                            && req
                                .within_lines
                                .is_none_or(|n| line.abs_diff(f.start.line) <= n as u64)
                            && req
                                .within_columns
                                .is_none_or(|n| col.abs_diff(f.start.column) <= n as u64)
                    })
                })
            });
        }
        found.retain(|f| !rules[f.rule].skip_report);

        // Same span, several rules: keep the best one.
        let rank = |f: &Located| {
            let (generic, confidence) = rules[f.rule].span_precedence();
            (generic, confidence, f.rule)
        };
        let mut i = 0;
        let mut keep = vec![true; found.len()];
        while i < found.len() {
            let mut j = i + 1;
            while j < found.len() && found[j].secret_span == found[i].secret_span {
                j += 1;
            }
            if j - i > 1 {
                let best = (i..j).min_by_key(|&k| rank(&found[k])).unwrap_or(i);
                for (k, slot) in keep.iter_mut().enumerate().take(j).skip(i) {
                    *slot = k == best;
                }
            }
            i = j;
        }
        // A decoded match inside a plain, specific one is the same secret seen twice (a
        // kubeconfig `client-key-data` blob and the PEM key it encodes): keep the plain one.
        let plain: Vec<(u64, u64)> = found
            .iter()
            .zip(&keep)
            .filter(|(f, k)| **k && f.decoded.is_empty() && !rules[f.rule].generic)
            .map(|(f, _)| (f.secret_span.start, f.secret_span.end))
            .collect();
        for (f, k) in found.iter().zip(keep.iter_mut()) {
            if *k && !f.decoded.is_empty() && !rules[f.rule].generic {
                let (s, e) = (f.secret_span.start, f.secret_span.end);
                if plain.iter().any(|&(ps, pe)| ps < e && s < pe) {
                    *k = false;
                }
            }
        }
        // Generic overlapping specific: drop the generic one. `specific` is sorted by start;
        // with a running maximum of ends, "some specific span starting before f ends also
        // ends after f starts" is one binary search.
        let mut specific: Vec<(u64, u64)> = Vec::new();
        for (f, k) in found.iter().zip(&keep) {
            if *k && !rules[f.rule].generic {
                let end = f.secret_span.end.max(f.secret_span.start + 1);
                let max_end = specific.last().map_or(end, |&(_, m)| m.max(end));
                specific.push((f.secret_span.start, max_end));
            }
        }
        for (f, k) in found.iter().zip(keep.iter_mut()) {
            if *k && rules[f.rule].generic {
                let end = f.secret_span.end.max(f.secret_span.start + 1);
                let upto = specific.partition_point(|&(s, _)| s < end);
                if upto > 0 && specific[upto - 1].1 > f.secret_span.start {
                    *k = false;
                }
            }
        }
        let mut it = keep.into_iter();
        found.retain(|_| it.next().unwrap_or(true));
    }
}
