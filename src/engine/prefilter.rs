//! The keyword prefilter: one ASCII-case-insensitive Aho-Corasick automaton over every rule's
//! anchors and gate keywords, plus the base64 encodings of those keywords so that encoded
//! secrets are found without scanning every base64-looking run.

use crate::rules::{RuleSet, Strategy};
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use std::collections::HashMap;

/// What a hit of one automaton pattern means.
#[derive(Debug, Default, Clone)]
pub(crate) struct PatternInfo {
    /// Rules that use this pattern as a window anchor.
    pub anchor_rules: Vec<u32>,
    /// The gate keyword this pattern is, if any.
    pub gate: Option<u32>,
    /// For a base64 encoding of a keyword: the position, within a 4-character base64
    /// quantum, of the pattern's first character.
    pub b64_quantum_offset: Option<u8>,
}

/// The compiled prefilter.
#[derive(Debug)]
pub(crate) struct Prefilter {
    pub ac: Option<AhoCorasick>,
    pub patterns: Vec<PatternInfo>,
    /// Per rule: the gate keyword ids that satisfy it (empty: no gate).
    pub rule_gates: Vec<Vec<u32>>,
    /// Number of distinct gate keywords.
    pub gate_count: usize,
    /// Length of the longest pattern.
    pub max_pattern_len: usize,
}

/// Minimum length of a base64 pattern worth searching for.
const MIN_B64_PATTERN: usize = 4;

impl Prefilter {
    /// `base64_levels`: how many nested base64 encodings of each anchor to search for (0: no
    /// decoding; 2 finds base64 inside base64, as in a Kubernetes secret holding a Docker
    /// config whose `auth` is base64).
    pub fn new(rules: &RuleSet, base64_levels: usize) -> Result<Self, String> {
        let mut strings: Vec<Vec<u8>> = Vec::new();
        let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut patterns: Vec<PatternInfo> = Vec::new();
        let mut intern =
            |s: &[u8], strings: &mut Vec<Vec<u8>>, patterns: &mut Vec<PatternInfo>| -> usize {
                let key = s.to_ascii_lowercase();
                *index.entry(key.clone()).or_insert_with(|| {
                    strings.push(key);
                    patterns.push(PatternInfo::default());
                    strings.len() - 1
                })
            };
        let mut gate_ids: HashMap<String, u32> = HashMap::new();
        let mut rule_gates = vec![Vec::new(); rules.rules.len()];
        let mut encodable: Vec<String> = Vec::new();
        for (ri, rule) in rules.rules.iter().enumerate() {
            let (anchors, gate): (&[String], &[String]) = match &rule.strategy {
                Strategy::Window { anchors, gate } => (anchors, gate),
                Strategy::Full { gate } => (&[], gate),
                Strategy::PathOnly => (&[], &[]),
            };
            for a in anchors {
                let p = intern(a.as_bytes(), &mut strings, &mut patterns);
                patterns[p].anchor_rules.push(ri as u32);
                encodable.push(a.clone());
            }
            for g in gate {
                let next = gate_ids.len() as u32;
                let id = *gate_ids.entry(g.clone()).or_insert(next);
                let p = intern(g.as_bytes(), &mut strings, &mut patterns);
                patterns[p].gate = Some(id);
                rule_gates[ri].push(id);
            }
        }
        if base64_levels > 0 {
            // Encode each anchor in the spellings it is likely to be written in.
            // Base64 is case-sensitive: encode each anchor in lower and upper case, and in
            // every spelling the rule's examples use (e.g. `AIza`, `AccountKey`).
            let mut spelled: Vec<Vec<u8>> = Vec::new();
            for rule in &rules.rules {
                if let Strategy::Window { anchors, .. } = &rule.strategy {
                    for a in anchors {
                        spelled.push(a.as_bytes().to_vec());
                        spelled.push(a.to_ascii_uppercase().into_bytes());
                        for ex in &rule.examples {
                            spelled.extend(spellings_in(ex.text().as_bytes(), a.as_bytes()));
                        }
                    }
                }
            }
            spelled.sort();
            spelled.dedup();
            for word in spelled {
                for (pattern, offset) in base64_patterns(&word) {
                    if base64_levels > 1 {
                        // The encoded anchor, encoded again: what an outer base64 layer
                        // shows of it. Its offset is within the outer layer's quanta.
                        for (outer, outer_offset) in base64_patterns(&pattern) {
                            let p = intern(&outer, &mut strings, &mut patterns);
                            patterns[p].b64_quantum_offset = Some(outer_offset);
                        }
                    }
                    let p = intern(&pattern, &mut strings, &mut patterns);
                    patterns[p].b64_quantum_offset = Some(offset);
                }
            }
        }
        let max_pattern_len = strings.iter().map(Vec::len).max().unwrap_or(0);
        let ac = if strings.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .kind(Some(AhoCorasickKind::DFA))
                    .build(&strings)
                    .map_err(|e| e.to_string())?,
            )
        };
        Ok(Prefilter {
            ac,
            patterns,
            rule_gates,
            gate_count: gate_ids.len(),
            max_pattern_len,
        })
    }
}

/// The distinct spellings of `word` (matched ASCII case-insensitively) inside `text`.
fn spellings_in(text: &[u8], word: &[u8]) -> Vec<Vec<u8>> {
    if word.is_empty() || text.len() < word.len() {
        return Vec::new();
    }
    let mut out: Vec<Vec<u8>> = text
        .windows(word.len())
        .filter(|w| w.eq_ignore_ascii_case(word))
        .map(<[u8]>::to_vec)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The substrings of the base64 encodings of `word` that depend only on `word`'s bytes, for
/// each of the three byte alignments, with their offset inside a base64 quantum. Both the
/// standard and URL-safe alphabets are produced when they differ.
pub(crate) fn base64_patterns(word: &[u8]) -> Vec<(Vec<u8>, u8)> {
    use base64::Engine as _;
    let mut out = Vec::new();
    for align in 0..3usize {
        let mut bytes = vec![0u8; align];
        bytes.extend_from_slice(word);
        let enc = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&bytes);
        let enc = enc.as_bytes();
        let first_bit = 8 * align;
        let end_bit = 8 * (align + word.len());
        let i0 = first_bit.div_ceil(6);
        let i1 = end_bit / 6;
        if i1 <= i0 || i1 - i0 < MIN_B64_PATTERN || i1 > enc.len() {
            continue;
        }
        let stable = enc[i0..i1].to_vec();
        let offset = (i0 % 4) as u8;
        if stable.iter().any(|&b| b == b'+' || b == b'/') {
            let url: Vec<u8> = stable
                .iter()
                .map(|&b| match b {
                    b'+' => b'-',
                    b'/' => b'_',
                    b => b,
                })
                .collect();
            out.push((url, offset));
        }
        out.push((stable, offset));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    #[test]
    fn base64_patterns_occur_in_encodings() {
        let word = b"ghp_";
        let pats = base64_patterns(word);
        assert!(!pats.is_empty());
        for pad in 0..3 {
            let mut data = b"xyz"[..pad].to_vec();
            data.extend_from_slice(b"token ghp_abcdefghijk");
            let enc = base64::engine::general_purpose::STANDARD.encode(&data);
            assert!(
                pats.iter()
                    .any(|(p, _)| enc.as_bytes().windows(p.len()).any(|w| w == &p[..])),
                "no pattern found in {enc} (pad {pad})"
            );
        }
    }

    #[test]
    fn quantum_offsets_are_consistent() {
        let word = b"password";
        for (p, off) in base64_patterns(word) {
            // Find the pattern in a real encoding and check its position mod 4.
            for pad in 0..3 {
                let mut data = vec![b'#'; pad];
                data.extend_from_slice(word);
                let enc = base64::engine::general_purpose::STANDARD.encode(&data);
                if let Some(pos) = enc.as_bytes().windows(p.len()).position(|w| w == &p[..]) {
                    assert_eq!((pos % 4) as u8, off);
                }
            }
        }
    }
}
