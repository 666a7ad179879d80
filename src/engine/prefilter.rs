//! The keyword prefilter: one ASCII-case-insensitive Aho-Corasick automaton over every rule's
//! anchors and gate keywords, plus the base64 encodings of those keywords so that encoded
//! secrets are found without scanning every base64-looking run.

use super::kwscan::KeywordScanner;
use crate::rules::{RuleSet, Strategy};
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
    pub scanner: Option<KeywordScanner>,
    pub patterns: Vec<PatternInfo>,
    /// Per rule: the gate keyword ids that satisfy it (empty: no gate).
    pub rule_gates: Vec<Vec<u32>>,
    /// Number of distinct gate keywords.
    pub gate_count: usize,
    /// Length of the longest pattern.
    pub max_pattern_len: usize,
}

/// Encoding levels that get their own patterns (deeper levels would multiply the automaton).
const MAX_PATTERN_LEVELS: usize = 2;

/// Longest base64 pattern kept.
const MAX_B64_PATTERN: usize = 8;

/// Minimum length of a base64 pattern worth searching for.
const MIN_B64_PATTERN: usize = 4;

impl Prefilter {
    /// `decode_depth` levels of base64 get patterns: level 1 encodes the anchors, level n
    /// encodes level n-1's patterns.
    pub fn new(rules: &RuleSet, decode_depth: usize) -> Result<Self, String> {
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
        if decode_depth > 0 {
            // Encode each anchor in the spellings it is likely to be written in.
            // Base64 is case-sensitive: encode each anchor as the rule's examples spell it
            // (e.g. `AIza`, `AccountKey`), else in lower and upper case.
            let mut spelled: Vec<Vec<u8>> = Vec::new();
            for rule in &rules.rules {
                if let Strategy::Window { anchors, .. } = &rule.strategy {
                    for a in anchors {
                        let before = spelled.len();
                        for ex in &rule.examples {
                            spelled.extend(spellings_in(ex.text().as_bytes(), a.as_bytes()));
                        }
                        if spelled.len() == before {
                            // No example shows how it is written: lower and upper case.
                            spelled.push(a.as_bytes().to_vec());
                            spelled.push(a.to_ascii_uppercase().into_bytes());
                        }
                    }
                }
            }
            spelled.sort();
            spelled.dedup();
            let mut level: Vec<Vec<u8>> = spelled;
            for _ in 0..decode_depth.min(MAX_PATTERN_LEVELS) {
                let mut next = Vec::new();
                for word in &level {
                    for (pattern, offset) in base64_patterns(word) {
                        let p = intern(&pattern, &mut strings, &mut patterns);
                        patterns[p].b64_quantum_offset = Some(offset);
                        next.push(pattern);
                    }
                }
                next.sort();
                next.dedup();
                level = next;
            }
        }
        let scanner = if strings.is_empty() {
            None
        } else {
            Some(KeywordScanner::new(&strings)?)
        };
        let max_pattern_len = scanner.as_ref().map_or(0, KeywordScanner::max_len);
        Ok(Prefilter {
            scanner,
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
        // 8 characters (48 bits) are selective enough; longer patterns only grow the automaton.
        let stable = enc[i0..i1.min(i0 + MAX_B64_PATTERN)].to_vec();
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
