//! The keyword prefilter: one ASCII-case-insensitive automaton over every rule's anchors and
//! gate keywords, plus the base64 encodings of the anchors so that encoded secrets are found
//! without scanning every base64-looking run.
//!
//! Building the automaton takes tens of milliseconds, too long for a pre-commit hook, so a
//! rule set gets one without building whenever it can:
//! 1. the built-in rules (at the default decode depth) use the automaton `build.rs`
//!    precomputed;
//! 2. a rule set whose patterns are all among the built-in ones (the built-in rules with some
//!    disabled, allowlists added, regexes overridden) reuses that same automaton, with hits of
//!    patterns it no longer has ignored;
//! 3. any other rule set (custom rules with new keywords) loads the automaton from the
//!    on-disk cache ([`super::automaton_cache`]), or builds it and stores it there.

use super::automaton_cache;
use super::kwscan::{KeywordError, KeywordScanner};
use super::patterns::{self, PatternInfo, PatternTable, RuleKeys};
use crate::rules::{RuleSet, Strategy};
use std::collections::HashMap;

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
    /// Where the automaton came from.
    pub origin: AutomatonOrigin,
}

/// Where a prefilter's automaton came from (start-up cost, in increasing order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutomatonOrigin {
    /// The built-in rules' automaton, precomputed at build time, used as is.
    Precomputed,
    /// The precomputed automaton, reused for a rule set whose patterns it covers.
    PrecomputedSuperset,
    /// Read back from the on-disk cache.
    Cached,
    /// Built at start-up.
    Built,
    /// No patterns at all.
    None,
}

/// The built-in rules' automaton at the default decode depth, from `build.rs`.
static PRECOMPUTED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/builtin_prefilter.bin"));

/// The decoded precomputed automaton with its pattern table.
struct Precomputed {
    fingerprint: u64,
    table: PatternTable,
    scanner: KeywordScanner,
}

impl Precomputed {
    fn load() -> Option<Self> {
        let rest = PRECOMPUTED.strip_prefix(b"SHKW2")?;
        let mut r = patterns::Reader(rest);
        let fingerprint = r.u64()?;
        let (mut table, rest) = patterns::decode_infos(r.0)?;
        let (strings, rest) = patterns::decode_strings(rest)?;
        table.strings = strings;
        let scanner = KeywordScanner::from_bytes(rest)?;
        Some(Precomputed {
            fingerprint,
            table,
            scanner,
        })
    }

    /// The prefilter for `table` on this automaton, when every string of `table` is one of
    /// its patterns: `table`'s meanings placed at the automaton's pattern ids, every other
    /// pattern inert.
    fn cover(self, table: PatternTable) -> Option<Prefilter> {
        let ids: HashMap<&[u8], usize> = self
            .table
            .strings
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_slice(), i))
            .collect();
        let mut infos = vec![PatternInfo::default(); self.table.strings.len()];
        for (s, info) in table.strings.iter().zip(table.infos) {
            infos[*ids.get(s.as_slice())?] = info;
        }
        Some(Prefilter {
            max_pattern_len: self.scanner.max_len(),
            scanner: Some(self.scanner),
            patterns: infos,
            rule_gates: table.rule_gates,
            gate_count: table.gate_count,
            origin: AutomatonOrigin::PrecomputedSuperset,
        })
    }
}

impl Prefilter {
    /// Builds (or loads) the prefilter for `rules` with `decode_depth` levels of base64
    /// patterns.
    pub fn new(rules: &RuleSet, decode_depth: usize) -> Result<Self, KeywordError> {
        let keys: Vec<RuleKeys<'_>> = rules.rules.iter().map(rule_keys).collect();
        let fingerprint = patterns::fingerprint(&keys, decode_depth);
        let pre = Precomputed::load();
        if let Some(pre) = pre.as_ref().filter(|p| p.fingerprint == fingerprint) {
            return Ok(Prefilter {
                max_pattern_len: pre.scanner.max_len(),
                scanner: Some(pre.scanner.clone()),
                patterns: pre.table.infos.clone(),
                rule_gates: pre.table.rule_gates.clone(),
                gate_count: pre.table.gate_count,
                origin: AutomatonOrigin::Precomputed,
            });
        }
        let table = patterns::build_table(&keys, decode_depth, |ri, anchor| {
            patterns::spellings_of(rules.rules[ri].examples().iter().map(|e| e.text()), anchor)
        });
        if table.strings.is_empty() {
            return Ok(Self::with(None, table, AutomatonOrigin::None));
        }
        if let Some(p) = pre.and_then(|pre| pre.cover(table.clone())) {
            return Ok(p);
        }
        if let Some(scanner) = automaton_cache::load(&table.strings) {
            return Ok(Self::with(Some(scanner), table, AutomatonOrigin::Cached));
        }
        let scanner = KeywordScanner::new(&table.strings)?;
        automaton_cache::store(&table.strings, &scanner);
        Ok(Self::with(Some(scanner), table, AutomatonOrigin::Built))
    }

    fn with(scanner: Option<KeywordScanner>, table: PatternTable, origin: AutomatonOrigin) -> Self {
        Prefilter {
            max_pattern_len: scanner.as_ref().map_or(0, KeywordScanner::max_len),
            scanner,
            patterns: table.infos,
            rule_gates: table.rule_gates,
            gate_count: table.gate_count,
            origin,
        }
    }
}

/// A rule's inputs to the pattern table.
fn rule_keys(r: &crate::rules::Rule) -> RuleKeys<'_> {
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
}
