//! The keyword prefilter: one ASCII-case-insensitive automaton over every rule's anchors and
//! gate keywords, plus the base64 encodings of the anchors so that encoded secrets are found
//! without scanning every base64-looking run.
//!
//! For the built-in rules the automaton is precomputed by `build.rs` and loaded here when its
//! fingerprint matches the rule set in use; any other rule set gets one built at start-up.

use super::kwscan::KeywordScanner;
use super::patterns::{self, PatternInfo, RuleKeys};
use crate::rules::{RuleSet, Strategy};

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
    /// Whether the automaton came precomputed from the build.
    pub precomputed: bool,
}

/// The built-in rules' automaton at the default decode depth, from `build.rs`.
static PRECOMPUTED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/builtin_prefilter.bin"));

impl Prefilter {
    /// Builds (or loads) the prefilter for `rules` with `decode_depth` levels of base64
    /// patterns.
    pub fn new(rules: &RuleSet, decode_depth: usize) -> Result<Self, String> {
        let keys: Vec<RuleKeys<'_>> = rules
            .rules
            .iter()
            .map(|r| {
                let (anchors, gate): (&[String], &[String]) = match &r.strategy {
                    Strategy::Window { anchors, gate } => (anchors, gate),
                    Strategy::Full { gate } => (&[], gate),
                    Strategy::PathOnly => (&[], &[]),
                };
                RuleKeys {
                    id: &r.id,
                    anchors,
                    gate,
                }
            })
            .collect();
        let fingerprint = patterns::fingerprint(&keys, decode_depth);
        if let Some(pre) = Self::precomputed(fingerprint) {
            return Ok(pre);
        }
        let table = patterns::build_table(&keys, decode_depth, |ri, anchor| {
            patterns::spellings_of(rules.rules[ri].examples().iter().map(|e| e.text()), anchor)
        });
        let scanner = if table.strings.is_empty() {
            None
        } else {
            Some(KeywordScanner::new(&table.strings)?)
        };
        Ok(Prefilter {
            max_pattern_len: scanner.as_ref().map_or(0, KeywordScanner::max_len),
            scanner,
            patterns: table.infos,
            rule_gates: table.rule_gates,
            gate_count: table.gate_count,
            precomputed: false,
        })
    }

    /// The precomputed prefilter, if it was built for exactly this fingerprint.
    fn precomputed(fingerprint: u64) -> Option<Self> {
        let rest = PRECOMPUTED.strip_prefix(b"SHKW1")?;
        let mut r = patterns::Reader(rest);
        if r.u64()? != fingerprint {
            return None;
        }
        let (table, rest) = patterns::decode_infos(r.0)?;
        let scanner = KeywordScanner::from_bytes(rest)?;
        Some(Prefilter {
            max_pattern_len: scanner.max_len(),
            scanner: Some(scanner),
            patterns: table.infos,
            rule_gates: table.rule_gates,
            gate_count: table.gate_count,
            precomputed: true,
        })
    }
}
