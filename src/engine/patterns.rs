//! The prefilter's pattern table: which strings the keyword automaton searches for and what a
//! hit of each means (an anchor of some rules, a gate keyword, or the base64 encoding of a
//! keyword).
//!
//! Free of crate-internal imports: `build.rs` includes it to precompute the built-in rules'
//! automaton, so a scan starts without building one.

use std::collections::HashMap;

/// What a hit of one automaton pattern means.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PatternInfo {
    /// Rules that use this pattern as a window anchor.
    pub anchor_rules: Vec<u32>,
    /// The gate keyword this pattern is, if any.
    pub gate: Option<u32>,
    /// For a base64 encoding of a keyword: the position, within a 4-character base64
    /// quantum, of the pattern's first character.
    pub b64_quantum_offset: Option<u8>,
}

impl PatternInfo {
    /// Whether a hit of this pattern means nothing to the rules in use (a precomputed
    /// automaton reused for a rule set that no longer has the pattern).
    pub fn is_inert(&self) -> bool {
        self.anchor_rules.is_empty() && self.gate.is_none() && self.b64_quantum_offset.is_none()
    }
}

/// One rule's inputs to the table.
#[derive(Debug, Clone, Copy)]
pub struct RuleKeys<'a> {
    /// Rule id (part of the table's fingerprint).
    pub id: &'a str,
    /// Lower-cased literals every match contains (empty: the rule has no anchor).
    pub anchors: &'a [String],
    /// Lower-cased keywords one of which must occur in the input.
    pub gate: &'a [String],
}

/// The patterns and their meanings.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PatternTable {
    /// The strings searched for (lower-cased; matched ASCII case-insensitively).
    pub strings: Vec<Vec<u8>>,
    /// What each string means.
    pub infos: Vec<PatternInfo>,
    /// Per rule: the gate keyword ids that satisfy it (empty: no gate).
    pub rule_gates: Vec<Vec<u32>>,
    /// Number of distinct gate keywords.
    pub gate_count: usize,
}

/// Encoding levels that get their own patterns (deeper levels would multiply the automaton).
const MAX_PATTERN_LEVELS: usize = 2;
/// Longest base64 pattern kept: 8 characters (48 bits) are selective enough.
const MAX_B64_PATTERN: usize = 8;
/// Shortest base64 pattern worth searching for.
const MIN_B64_PATTERN: usize = 4;

/// Builds the table. `spellings(rule, anchor)` returns how the rule's examples write an
/// anchor (base64 is case-sensitive); when it returns nothing, lower and upper case are used.
/// `decode_depth` levels of base64 get patterns: level 1 encodes the anchors, level n encodes
/// level n-1's patterns.
pub fn build_table(
    rules: &[RuleKeys<'_>],
    decode_depth: usize,
    mut spellings: impl FnMut(usize, &str) -> Vec<Vec<u8>>,
) -> PatternTable {
    let mut table = PatternTable {
        rule_gates: vec![Vec::new(); rules.len()],
        ..Default::default()
    };
    let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut intern = |s: &[u8], table: &mut PatternTable| -> usize {
        let key = s.to_ascii_lowercase();
        *index.entry(key.clone()).or_insert_with(|| {
            table.strings.push(key);
            table.infos.push(PatternInfo::default());
            table.strings.len() - 1
        })
    };
    let mut gate_ids: HashMap<String, u32> = HashMap::new();
    for (ri, rule) in rules.iter().enumerate() {
        for a in rule.anchors {
            let p = intern(a.as_bytes(), &mut table);
            table.infos[p].anchor_rules.push(ri as u32);
        }
        for g in rule.gate {
            let next = gate_ids.len() as u32;
            let id = *gate_ids.entry(g.clone()).or_insert(next);
            let p = intern(g.as_bytes(), &mut table);
            table.infos[p].gate = Some(id);
            table.rule_gates[ri].push(id);
        }
    }
    table.gate_count = gate_ids.len();
    if decode_depth == 0 {
        return table;
    }
    let mut spelled: Vec<Vec<u8>> = Vec::new();
    for (ri, rule) in rules.iter().enumerate() {
        for a in rule.anchors {
            let seen = spellings(ri, a);
            if seen.is_empty() {
                spelled.push(a.as_bytes().to_vec());
                spelled.push(a.to_ascii_uppercase().into_bytes());
            } else {
                spelled.extend(seen);
            }
        }
    }
    spelled.sort();
    spelled.dedup();
    let mut level = spelled;
    for _ in 0..decode_depth.min(MAX_PATTERN_LEVELS) {
        let mut next = Vec::new();
        for word in &level {
            for (pattern, offset) in base64_patterns(word) {
                let p = intern(&pattern, &mut table);
                table.infos[p].b64_quantum_offset = Some(offset);
                next.push(pattern);
            }
        }
        next.sort();
        next.dedup();
        level = next;
    }
    table
}

/// A stable fingerprint of everything `build_table` depends on besides spellings: rule ids in
/// order, their anchors and gates, and the decode depth. A precomputed table is reused only
/// when fingerprints agree.
pub fn fingerprint(rules: &[RuleKeys<'_>], decode_depth: usize) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(&(decode_depth.min(MAX_PATTERN_LEVELS) as u64).to_le_bytes());
    for r in rules {
        eat(r.id.as_bytes());
        eat(&[0xff]);
        for a in r.anchors {
            eat(a.as_bytes());
            eat(&[0]);
        }
        eat(&[0xfe]);
        for g in r.gate {
            eat(g.as_bytes());
            eat(&[0]);
        }
        eat(&[0xfd]);
    }
    h
}

/// The distinct spellings of `anchor` across `texts` (a rule's examples), sorted.
pub fn spellings_of<'a>(texts: impl Iterator<Item = &'a str>, anchor: &str) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = texts
        .flat_map(|t| spellings_in(t.as_bytes(), anchor.as_bytes()))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The distinct spellings of `word` (matched ASCII case-insensitively) inside `text`.
pub fn spellings_in(text: &[u8], word: &[u8]) -> Vec<Vec<u8>> {
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

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 without padding (kept local so `build.rs` needs no extra dependency).
fn encode_b64(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(B64[(n >> (18 - 6 * i) & 63) as usize]);
        }
    }
    out
}

/// The base64 characters that depend only on `word`'s bytes, at each of the three byte
/// alignments `word` can have inside a longer encoded text, in the standard alphabet, with
/// their offset inside a base64 quantum. The one place that works out base64 alignments:
/// the engine's encoded keywords and the redactor's known values both start here.
pub fn base64_stable(word: &[u8]) -> Vec<(Vec<u8>, u8)> {
    (0..3usize)
        .filter_map(|align| {
            let mut bytes = vec![0u8; align];
            bytes.extend_from_slice(word);
            let enc = encode_b64(&bytes);
            let i0 = (8 * align).div_ceil(6);
            let i1 = (8 * (align + word.len())) / 6;
            (i1 > i0 && i1 <= enc.len()).then(|| (enc[i0..i1].to_vec(), (i0 % 4) as u8))
        })
        .collect()
}

/// Standard base64 characters in the URL-safe alphabet (`+` → `-`, `/` → `_`).
pub fn base64_url(standard: &[u8]) -> Vec<u8> {
    standard
        .iter()
        .map(|&b| match b {
            b'+' => b'-',
            b'/' => b'_',
            b => b,
        })
        .collect()
}

/// The substrings of the base64 encodings of `word` that depend only on `word`'s bytes, for
/// each of the three byte alignments, with their offset inside a base64 quantum (at most
/// [`MAX_B64_PATTERN`] characters, alignments under [`MIN_B64_PATTERN`] left out). Both the
/// standard and URL-safe alphabets are produced when they differ.
pub fn base64_patterns(word: &[u8]) -> Vec<(Vec<u8>, u8)> {
    let mut out = Vec::new();
    for (mut stable, offset) in base64_stable(word) {
        if stable.len() < MIN_B64_PATTERN {
            continue;
        }
        stable.truncate(MAX_B64_PATTERN);
        if stable.iter().any(|&b| b == b'+' || b == b'/') {
            out.push((base64_url(&stable), offset));
        }
        out.push((stable, offset));
    }
    out
}

/// Appends a table's rule-facing part (infos, gates) to `out` in a compact binary form.
#[allow(dead_code)] // used by build.rs and the tests
pub fn encode_infos(table: &PatternTable, out: &mut Vec<u8>) {
    let put = |out: &mut Vec<u8>, v: u32| out.extend_from_slice(&v.to_le_bytes());
    put(out, table.infos.len() as u32);
    for info in &table.infos {
        put(out, info.anchor_rules.len() as u32);
        for &r in &info.anchor_rules {
            put(out, r);
        }
        put(out, info.gate.map_or(u32::MAX, |g| g));
        put(out, info.b64_quantum_offset.map_or(u32::MAX, u32::from));
    }
    put(out, table.rule_gates.len() as u32);
    for gates in &table.rule_gates {
        put(out, gates.len() as u32);
        for &g in gates {
            put(out, g);
        }
    }
    put(out, table.gate_count as u32);
}

/// Reads what [`encode_infos`] wrote (strings are not kept: the automaton holds them).
/// Returns the table and the rest of the input, or `None` if the bytes are malformed.
pub fn decode_infos(bytes: &[u8]) -> Option<(PatternTable, &[u8])> {
    let mut r = Reader(bytes);
    let mut table = PatternTable::default();
    let n = r.u32()? as usize;
    table.infos.reserve(n.min(1 << 20));
    for _ in 0..n {
        let k = r.u32()? as usize;
        let anchor_rules = (0..k).map(|_| r.u32()).collect::<Option<Vec<_>>>()?;
        let gate = Some(r.u32()?).filter(|&g| g != u32::MAX);
        let b64 = Some(r.u32()?).filter(|&o| o != u32::MAX).map(|o| o as u8);
        table.infos.push(PatternInfo {
            anchor_rules,
            gate,
            b64_quantum_offset: b64,
        });
    }
    let n = r.u32()? as usize;
    for _ in 0..n {
        let k = r.u32()? as usize;
        table
            .rule_gates
            .push((0..k).map(|_| r.u32()).collect::<Option<Vec<_>>>()?);
    }
    table.gate_count = r.u32()? as usize;
    Some((table, r.0))
}

/// Appends a table's strings to `out` (a count, then each string's length and bytes).
#[allow(dead_code)] // used by build.rs and the tests
pub fn encode_strings(strings: &[Vec<u8>], out: &mut Vec<u8>) {
    out.extend_from_slice(&(strings.len() as u32).to_le_bytes());
    for s in strings {
        out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        out.extend_from_slice(s);
    }
}

/// Reads what [`encode_strings`] wrote; the strings and the rest of the input.
pub fn decode_strings(bytes: &[u8]) -> Option<(Vec<Vec<u8>>, &[u8])> {
    let mut r = Reader(bytes);
    let n = r.u32()? as usize;
    let mut strings = Vec::with_capacity(n.min(1 << 20));
    for _ in 0..n {
        let len = r.u32()? as usize;
        let s = r.0.get(..len)?;
        strings.push(s.to_vec());
        r.0 = &r.0[len..];
    }
    Some((strings, r.0))
}

/// A little-endian reader over a byte slice.
pub struct Reader<'a>(pub &'a [u8]);

impl Reader<'_> {
    /// Reads one `u32`.
    pub fn u32(&mut self) -> Option<u32> {
        let (head, rest) = self.0.split_first_chunk::<4>()?;
        self.0 = rest;
        Some(u32::from_le_bytes(*head))
    }

    /// Reads one `u64`.
    pub fn u64(&mut self) -> Option<u64> {
        let (head, rest) = self.0.split_first_chunk::<8>()?;
        self.0 = rest;
        Some(u64::from_le_bytes(*head))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    #[test]
    fn local_encoder_matches_the_base64_crate() {
        for n in 0..20 {
            let data: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            let want = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&data);
            assert_eq!(encode_b64(&data), want.as_bytes());
        }
    }

    #[test]
    fn base64_patterns_occur_in_encodings() {
        let pats = base64_patterns(b"ghp_");
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
        for (p, off) in base64_patterns(b"password") {
            for pad in 0..3 {
                let mut data = vec![b'#'; pad];
                data.extend_from_slice(b"password");
                let enc = base64::engine::general_purpose::STANDARD.encode(&data);
                if let Some(pos) = enc.as_bytes().windows(p.len()).position(|w| w == &p[..]) {
                    assert_eq!((pos % 4) as u8, off);
                }
            }
        }
    }

    #[test]
    fn infos_roundtrip() {
        let anchors = vec!["tok_".to_string()];
        let gate = vec!["mytool".to_string()];
        let rules = [RuleKeys {
            id: "a",
            anchors: &anchors,
            gate: &gate,
        }];
        let table = build_table(&rules, 1, |_, _| Vec::new());
        let mut bytes = Vec::new();
        encode_infos(&table, &mut bytes);
        bytes.extend_from_slice(b"rest");
        let (back, rest) = decode_infos(&bytes).unwrap();
        assert_eq!(back.infos, table.infos);
        assert_eq!(back.rule_gates, table.rule_gates);
        assert_eq!(back.gate_count, 1);
        assert_eq!(rest, b"rest");
        assert!(decode_infos(&bytes[..7]).is_none());
        let mut bytes = Vec::new();
        encode_strings(&table.strings, &mut bytes);
        bytes.push(7);
        let (strings, rest) = decode_strings(&bytes).unwrap();
        assert_eq!(strings, table.strings);
        assert_eq!(rest, [7]);
        assert!(decode_strings(&bytes[..bytes.len() - 2]).is_none());
    }

    #[test]
    fn fingerprint_tracks_inputs() {
        let a = vec!["tok_".to_string()];
        let b = vec!["tok-".to_string()];
        let r1 = [RuleKeys {
            id: "x",
            anchors: &a,
            gate: &[],
        }];
        let r2 = [RuleKeys {
            id: "x",
            anchors: &b,
            gate: &[],
        }];
        assert_ne!(fingerprint(&r1, 1), fingerprint(&r2, 1));
        assert_ne!(fingerprint(&r1, 0), fingerprint(&r1, 1));
        assert_eq!(
            fingerprint(&r1, 2),
            fingerprint(&r1, 3),
            "depths past the pattern levels share a table"
        );
    }
}
