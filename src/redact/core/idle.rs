//! Idle release: how much of a partial line may leave before its newline arrives.

use super::Redactor;
use crate::engine::InputMeta;
use crate::redact::gha;
use crate::redact::plan::{Plan, RulePlan, find_ci};

impl Redactor<'_> {
    /// The first byte of the unscanned tail that may not leave yet.
    pub(super) fn idle_floor(&mut self) -> u64 {
        let len = self.len();
        let mut f = len.min(self.multi_floor());
        if self.plan.line_lag > 0 {
            f = f.min(len.saturating_sub(self.plan.line_lag as u64));
        }
        let t0 = self.scanned.max(self.done).max(self.base);
        if t0 >= len {
            return f;
        }
        f = f.min(self.decided_floor(t0, len));
        f = f.min(self.encoded_floor(t0, len));
        f = f.min(self.known_and_command_floor(t0, len));
        f = f.min(self.rules_floor());
        f.max(self.done)
    }

    /// Decided secrets in the tail from `t0` (the engine sees the tail as the end of
    /// input): the earliest start, if any.
    fn decided_floor(&mut self, t0: u64, len: u64) -> u64 {
        let mut f = u64::MAX;
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
        f
    }

    /// Encoded text in the tail from `t0` whose secrets are only seen once the line is
    /// whole or the run has ended: percent-escapes, UTF-16LE, a base64 run at the end.
    fn encoded_floor(&self, t0: u64, len: u64) -> u64 {
        let mut f = u64::MAX;
        let tail = &self.buf[self.idx(t0)..];
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
        f.min(len - b64 as u64)
    }

    /// Known values (complete occurrences, and a tail that may begin one) and add-mask
    /// commands (or the start of one) in the tail from `t0`.
    fn known_and_command_floor(&self, t0: u64, len: u64) -> u64 {
        let mut f = u64::MAX;
        let tail = &self.buf[self.idx(t0)..];
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
        f
    }

    /// Rules: a secret not decided yet starts at or after `scanned`; where each rule could
    /// still have one, from its anchors present in the tail and those that may still arrive.
    fn rules_floor(&self) -> u64 {
        let mut f = u64::MAX;
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
            if self.engine.rule(r).regex.is_none() || rp.branches.is_empty() {
                // No regex, or left out of the plan (a rule for a kind of file never runs on
                // a log): nothing of it can be undecided.
                continue;
            }
            let fl = rule_floor(plan, rp, &hits[r], tail);
            if debug && fl < tail.len() {
                eprintln!("idle floor {} by {}", fl, self.engine.rule(r).id);
            }
            f = f.min(s0 + fl as u64);
        }
        f
    }
}

/// Offset in `tail` (which starts where undecided matches may start) before which rule `rp`
/// cannot have a secret that is still undecided.
fn rule_floor(plan: &Plan, rp: &RulePlan, hits: &[usize], tail: &[u8]) -> usize {
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
            let pre_at = b.pre.iter().filter_map(|p| find_ci(tail, p)).min();
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
