//! The search structures behind [`KnownSet`](super::KnownSet): [`Compiled`], an Aho-Corasick
//! automaton over the values known at start (built once), and [`Appended`], a hash index
//! over the values learnt while redacting (`::add-mask::` lines), extended in time
//! proportional to the value alone — so that N add-mask lines cost O(N), not the O(N²) of
//! rebuilding an automaton at each.

use super::known::{KnownValue, MIN_KNOWN_LEN, forms};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use std::collections::{HashMap, HashSet};

/// Total bytes of search strings above which they are not compiled into a DFA.
const DFA_BYTES: usize = 16 << 10;
/// Bytes of a search string the hash index keys on (every string has at least as many).
const HEAD: usize = MIN_KNOWN_LEN;
/// Bits of the filter in front of the hash index.
const FILTER_BITS: u32 = 22;

/// `(start, end, value index)` of an occurrence.
pub(crate) type Hit = (usize, usize, usize);

/// The patterns of `values` (the first value owning each), deduplicated.
fn patterns_of(values: &[KnownValue]) -> (Vec<Vec<u8>>, Vec<u32>) {
    let mut patterns: Vec<Vec<u8>> = Vec::new();
    let mut owner = Vec::new();
    let mut seen = HashSet::new();
    for (i, v) in values.iter().enumerate() {
        for f in forms(v.value()) {
            if seen.insert(f.clone()) {
                patterns.push(f);
                owner.push(i as u32);
            }
        }
    }
    (patterns, owner)
}

/// Values compiled into one automaton.
#[derive(Debug, Default)]
pub(crate) struct Compiled {
    pub values: Vec<KnownValue>,
    patterns: Vec<Vec<u8>>,
    /// Pattern indices in the patterns' byte order (for [`Compiled::partial_suffix`]).
    sorted: Vec<u32>,
    owner: Vec<u32>,
    ac: Option<AhoCorasick>,
    pub max_len: usize,
}

impl Compiled {
    /// Compiles `values`.
    pub fn new(values: Vec<KnownValue>) -> Self {
        let (patterns, owner) = patterns_of(&values);
        // The builder picks a DFA for up to 100 patterns whatever their length; it has a
        // state per pattern byte, each as wide as the alphabet: fine for tokens, seconds and
        // hundreds of MB for a certificate bundle. Long patterns get the contiguous NFA.
        let total: usize = patterns.iter().map(Vec::len).sum();
        let kind = (total > DFA_BYTES).then_some(AhoCorasickKind::ContiguousNFA);
        let ac = (!patterns.is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostLongest)
                .kind(kind)
                .build(&patterns)
                .expect("literal patterns always compile")
        });
        let mut sorted: Vec<u32> = (0..patterns.len() as u32).collect();
        sorted.sort_by(|&a, &b| patterns[a as usize].cmp(&patterns[b as usize]));
        let max_len = patterns.iter().map(Vec::len).max().unwrap_or(0);
        Compiled {
            values,
            patterns,
            sorted,
            owner,
            ac,
            max_len,
        }
    }

    /// At each position where an occurrence starts, the longest.
    pub fn find_all(&self, hay: &[u8], out: &mut Vec<Hit>) {
        let Some(ac) = &self.ac else { return };
        // Restarting one byte after each start (a leftmost search can use the automaton's
        // prefilter) gives the union of all occurrences.
        let mut at = 0;
        while let Some(m) = ac.find(aho_corasick::Input::new(hay).span(at..hay.len())) {
            let v = self.owner[m.pattern().as_usize()] as usize;
            out.push((m.start(), m.end(), v));
            at = m.start() + 1;
        }
    }

    /// Whether some pattern longer than `tail` starts with it (a binary search).
    fn extends(&self, tail: &[u8]) -> bool {
        let i = self
            .sorted
            .partition_point(|&p| self.patterns[p as usize].as_slice() < tail);
        self.sorted.get(i).is_some_and(|&p| {
            let p = &self.patterns[p as usize];
            p.len() > tail.len() && p.starts_with(tail)
        })
    }

    /// The longest suffix of `hay` that is a proper prefix of some pattern.
    pub fn partial_suffix(&self, hay: &[u8]) -> usize {
        let limit = self.max_len.saturating_sub(1).min(hay.len());
        (1..=limit)
            .rev()
            .find(|&k| self.extends(&hay[hay.len() - k..]))
            .unwrap_or(0)
    }
}

/// The first [`HEAD`] bytes of `s` (at least that many), as a key.
fn key(s: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b[..HEAD].copy_from_slice(&s[..HEAD]);
    u64::from_le_bytes(b)
}

/// A key of a prefix shorter than [`HEAD`]: its bytes and its length.
fn short_key(s: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b[..s.len()].copy_from_slice(s);
    b[7] = s.len() as u8;
    u64::from_le_bytes(b)
}

fn filter_bit(key: u64) -> usize {
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - FILTER_BITS)) as usize
}

/// Values appended one by one: patterns indexed by their first [`HEAD`] bytes behind a bit
/// filter; every proper prefix shorter than that in a set (for `partial_suffix`).
#[derive(Debug, Default)]
pub(crate) struct Appended {
    pub values: Vec<KnownValue>,
    /// Pattern bytes and the (local) index of the value owning it.
    patterns: Vec<(Vec<u8>, u32)>,
    heads: HashMap<u64, Vec<u32>>,
    short: HashSet<u64>,
    filter: Vec<u64>,
    pub max_len: usize,
}

impl Appended {
    /// Adds a value: its patterns not already present. Time proportional to the value.
    pub fn push(&mut self, value: KnownValue) {
        if self.filter.is_empty() {
            self.filter = vec![0; (1 << FILTER_BITS) / 64];
        }
        let owner = self.values.len() as u32;
        for f in forms(value.value()) {
            let k = key(&f);
            let ids = self.heads.entry(k).or_default();
            if ids.iter().any(|&i| self.patterns[i as usize].0 == f) {
                continue;
            }
            ids.push(self.patterns.len() as u32);
            let bit = filter_bit(k);
            self.filter[bit / 64] |= 1 << (bit % 64);
            for n in 1..HEAD.min(f.len()) {
                self.short.insert(short_key(&f[..n]));
            }
            self.max_len = self.max_len.max(f.len());
            self.patterns.push((f, owner));
        }
        self.values.push(value);
    }

    /// At each position where an occurrence of a value of index below `limit` starts, the
    /// longest; value indices are offset by `base`.
    pub fn find_all(&self, hay: &[u8], limit: usize, base: usize, out: &mut Vec<Hit>) {
        if self.patterns.is_empty() || hay.len() < HEAD {
            return;
        }
        for i in 0..=hay.len() - HEAD {
            let k = key(&hay[i..]);
            let bit = filter_bit(k);
            if self.filter[bit / 64] & (1 << (bit % 64)) == 0 {
                continue;
            }
            let Some(ids) = self.heads.get(&k) else {
                continue;
            };
            let best = ids
                .iter()
                .map(|&p| &self.patterns[p as usize])
                .filter(|(p, o)| (*o as usize) < limit && hay[i..].starts_with(p))
                .max_by_key(|(p, _)| p.len());
            if let Some((p, o)) = best {
                out.push((i, i + p.len(), base + *o as usize));
            }
        }
    }

    /// The longest suffix of `hay` that is a proper prefix of some pattern.
    pub fn partial_suffix(&self, hay: &[u8]) -> usize {
        let limit = self.max_len.saturating_sub(1).min(hay.len());
        (1..=limit)
            .rev()
            .find(|&k| {
                let tail = &hay[hay.len() - k..];
                if k < HEAD {
                    return self.short.contains(&short_key(tail));
                }
                self.heads.get(&key(tail)).is_some_and(|ids| {
                    ids.iter().any(|&p| {
                        let p = &self.patterns[p as usize].0;
                        p.len() > k && p.starts_with(tail)
                    })
                })
            })
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(v: &[u8]) -> KnownValue {
        KnownValue::new("t", v).expect("a value")
    }

    #[test]
    fn appended_finds_what_compiled_finds() {
        let vals = [&b"abcdefgh"[..], b"s3cr3t-Value/42", b"abcdefghij-longer"];
        let compiled = Compiled::new(vals.iter().map(|v| kv(v)).collect());
        let mut appended = Appended::default();
        for v in vals {
            appended.push(kv(v));
        }
        let hay = b"x abcdefghij-longer y s3cr3t-Value%2F42 abcdefgh z czNjcjN0LVZhbHVlLzQy";
        let (mut a, mut b) = (Vec::new(), Vec::new());
        compiled.find_all(hay, &mut a);
        appended.find_all(hay, 3, 0, &mut b);
        assert!(!a.is_empty());
        assert_eq!(a, b);
        let mut c = Vec::new();
        appended.find_all(hay, 1, 10, &mut c);
        assert_eq!(c, vec![(2, 10, 10), (40, 48, 10)]);
        for tail in [&b"xx abcd"[..], b"q s3cr3t-Va", b"none.", b"abcdefghij-lo"] {
            assert_eq!(
                compiled.partial_suffix(tail),
                appended.partial_suffix(tail),
                "{tail:?}"
            );
        }
    }
}
