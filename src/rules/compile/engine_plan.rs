//! How the engine runs one rule, derived from its regex analysis: the bound on a match's
//! length, the scan strategy and effective keywords, the windows around anchor hits, and
//! whether the regex can run anchored at a hit.

use super::super::analysis::{self, RegexAnalysis};
use super::{
    DEFAULT_UNBOUNDED_LEN, DEFAULT_UNBOUNDED_MULTILINE_LEN, HARD_MAX_LEN, MIN_DERIVED_KEYWORD_LEN,
    Strategy, starts_at_anchor,
};
use crate::rules::spec::RuleSpec;

/// The engine-facing fields of a [`super::Rule`].
pub(super) struct EnginePlan {
    /// How candidates are found.
    pub(super) strategy: Strategy,
    /// Effective keywords: the configured ones, else the derived anchors.
    pub(super) keywords: Vec<String>,
    /// Upper bound of a match's length in bytes.
    pub(super) max_len: usize,
    /// Whether `max_len` comes from the regex itself (or an explicit `max_len`).
    pub(super) bounded: bool,
    /// Whether a match can span lines.
    pub(super) multiline: bool,
    /// At most how many bytes of a match precede an anchor hit.
    pub(super) window_before: usize,
    /// At most how many bytes of a match follow an anchor hit.
    pub(super) window_after: usize,
    /// Every match starts exactly at an anchor hit.
    pub(super) anchored: bool,
    /// Guarded tokens all start at an anchor (see [`super::Rule::escaped_start`]).
    pub(super) escaped_start: bool,
}

impl EnginePlan {
    /// The plan of a rule with only a `path` (no regex).
    pub(super) fn path_only(keywords: &[String]) -> Self {
        EnginePlan {
            strategy: Strategy::PathOnly,
            keywords: keywords.to_vec(),
            max_len: 0,
            bounded: true,
            multiline: false,
            window_before: 0,
            window_after: 0,
            anchored: false,
            escaped_start: false,
        }
    }

    /// The plan of a rule whose regex analysed as `a`, with configured `keywords`.
    pub(super) fn for_regex(spec: &RuleSpec, a: &RegexAnalysis, keywords: &[String]) -> Self {
        let (max_len, bounded) = match_bound(spec, a);
        let (strategy, eff) = choose_strategy(a, keywords);
        let (window_before, window_after) = match &strategy {
            Strategy::Window { anchors, .. } => window_sides(a, anchors, max_len),
            _ => (max_len, max_len),
        };
        let anchored = matches!(strategy, Strategy::Window { .. }) && window_before == 0;
        let escaped_start = match &strategy {
            Strategy::Window { anchors, .. } if !a.multiline => {
                starts_at_anchor(&a.guarded_prefixes, anchors)
            }
            _ => false,
        };
        EnginePlan {
            strategy,
            keywords: eff,
            max_len,
            bounded,
            multiline: a.multiline,
            window_before,
            window_after,
            anchored,
            escaped_start,
        }
    }
}

/// The bound on a match's length (the regex's, capped by an explicit `max_len`, else a
/// default) and whether it is a real bound.
fn match_bound(spec: &RuleSpec, a: &RegexAnalysis) -> (usize, bool) {
    let bounded = a.max_len.is_some() || spec.max_len.is_some();
    let default_len = if a.multiline {
        DEFAULT_UNBOUNDED_MULTILINE_LEN
    } else {
        DEFAULT_UNBOUNDED_LEN
    };
    let max_len = match (a.max_len, spec.max_len) {
        (Some(m), Some(cap)) => m.min(cap),
        (Some(m), None) => m,
        (None, Some(cap)) => cap,
        (None, None) => default_len,
    }
    .clamp(1, HARD_MAX_LEN);
    (max_len, bounded)
}

/// The scan strategy, and the effective keywords (the configured ones, else the anchors).
fn choose_strategy(a: &RegexAnalysis, keywords: &[String]) -> (Strategy, Vec<String>) {
    match analysis::choose_anchors(a, keywords, MIN_DERIVED_KEYWORD_LEN) {
        (Some(anchors), gate) => {
            let eff = if keywords.is_empty() {
                anchors.clone()
            } else {
                keywords.to_vec()
            };
            (Strategy::Window { anchors, gate }, eff)
        }
        (None, gate) => (Strategy::Full { gate }, keywords.to_vec()),
    }
}

/// At most how many bytes of a match precede and follow a hit of `anchors`.
fn window_sides(a: &RegexAnalysis, anchors: &[String], max_len: usize) -> (usize, usize) {
    let placed = a.covering(anchors).cloned().unwrap_or(analysis::Candidate {
        literals: a.required.clone().unwrap_or_default(),
        before: a.anchor_before,
        after: a.anchor_after,
    });
    let slack = anchor_slack(&placed.literals, anchors);
    let side = |v: Option<usize>| v.map_or(max_len, |v| (v + slack).min(max_len));
    (side(placed.before), side(placed.after))
}

/// An anchor may sit inside a longer literal: the most bytes a literal extends past the
/// (shortest) anchor it contains.
fn anchor_slack(literals: &[Vec<u8>], anchors: &[String]) -> usize {
    literals
        .iter()
        .map(|lit| {
            anchors
                .iter()
                .filter(|k| {
                    lit.len() >= k.len()
                        && lit
                            .windows(k.len())
                            .any(|w| w.eq_ignore_ascii_case(k.as_bytes()))
                })
                .map(|k| lit.len() - k.len())
                .min()
                .unwrap_or(0)
        })
        .max()
        .unwrap_or(0)
}
