//! The detection engine: keyword prefilter → per-rule regex on bounded windows → filters
//! (entropy, checksum, allowlists, inline `shush:allow`) → decode-and-rescan.
//!
//! The [`Engine`] is immutable and shared across threads; each thread owns a [`ScanState`]
//! holding regex caches and scratch buffers, so scanning allocates nothing per byte.
//!
//! Scanning works on a haystack with an *owned* span: the engine looks at bytes around the
//! span for context but reports only matches that start inside it. Consecutive chunks whose
//! owned spans tile an input, each with at least [`Engine::overlap`] bytes of context on both
//! sides, report every match exactly once (see [`crate::stream`]).

pub mod automaton_cache;
mod decode;
mod escapes;
mod finalize;
mod kwscan;
pub(crate) mod patterns;
mod prefilter;
mod wide;

pub use kwscan::KeywordError;
pub use prefilter::AutomatonOrigin;

use crate::checksum::shannon_entropy;
use crate::error::{Error, Result};
use crate::rules::{AllowCandidate, Rule, RuleSet, Strategy};
use prefilter::Prefilter;
use regex_automata::meta;
use regex_automata::util::captures::Captures;
use std::ops::Range;
use std::sync::OnceLock;

pub use decode::Encoding;

/// Inline markers that suppress a finding on their line.
const ALLOW_MARKERS: [&[u8]; 2] = [b"shush:allow", b"gitleaks:allow"];
/// Base64 layers whose keywords the prefilter searches for directly: base64 inside base64
/// is found from the outer text. A third layer is decoded only inside a run that was found
/// through a keyword of its own.
const MAX_B64_NESTING: usize = 2;
/// Longest stretch of a percent-encoded run followed on each side of a keyword hit.
const MAX_PERCENT_REACH: usize = 12 * 1024;
/// How far around a match the engine looks for its line (bounds work on huge lines).
pub(crate) const LINE_CONTEXT: usize = 4096;

/// Engine settings.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// How many levels of base64 / percent-encoding to decode and rescan (0 disables).
    pub decode_depth: usize,
    /// Honour `shush:allow` and `gitleaks:allow` comments.
    pub inline_allow: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            decode_depth: 1,
            inline_allow: true,
        }
    }
}

/// What the engine needs to know about an input beyond its bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct InputMeta<'a> {
    /// Path (for `path` rules and allowlists), if the input has one.
    pub path: Option<&'a str>,
    /// Commit id (for commit allowlists), for git sources.
    pub commit: Option<&'a str>,
    /// Whether the input is binary: decoding is skipped there.
    pub binary: bool,
}

/// One confirmed match, in haystack coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// Index of the rule in the engine's rule set.
    pub rule: usize,
    /// The whole match (for a decoded match: the encoded bytes that hold it).
    pub span: Range<usize>,
    /// The secret (for a decoded match: the encoded bytes that hold it).
    pub secret_span: Range<usize>,
    /// The secret's bytes (decoded, for a decoded match).
    pub secret: Vec<u8>,
    /// Shannon entropy of the secret, bits per byte.
    pub entropy: f64,
    /// How the secret was encoded, outermost first; empty for a plain match.
    pub decoded: Vec<Encoding>,
}

/// Per-thread mutable state: regex caches and scratch space. Create one per thread with
/// [`Engine::new_state`] and reuse it for every input.
#[derive(Debug)]
pub struct ScanState {
    caches: Vec<Option<meta::Cache>>,
    captures: Vec<Option<Captures>>,
    disabled: Vec<bool>,
    open: Vec<(usize, usize)>,
    touched: Vec<u32>,
    windows: Vec<(u32, usize, usize)>,
    anchored: Vec<(u32, usize)>,
    /// Anchor hits of `escaped_start` rules right after an escape sequence (rule, position).
    escaped: Vec<(u32, usize)>,
    gate_seen: Vec<bool>,
    b64_hits: Vec<(usize, u8)>,
    /// Starts of plain keyword hits (where percent-encoded runs are looked for).
    plain_hits: Vec<usize>,
    hits: Vec<kwscan::RawHit>,
    kw_scratch: kwscan::KwScratch,
    decode_bufs: Vec<decode::Buffers>,
    wide_bufs: wide::WideBuffers,
    /// Every rule is disabled for the current input (a global path allowlist matched).
    all_disabled: bool,
    gates_open: bool,
    /// The redaction policy is in force (see [`ScanState::redaction_policy`]).
    redacting: bool,
    /// Rules whose anchor hits are recorded (empty: none).
    watch: Vec<bool>,
    watched_hits: Vec<(u32, usize)>,
}

impl ScanState {
    /// Treats every rule's gate keywords as present. A streaming redactor cannot know whether
    /// a gate keyword (gitleaks: "appears somewhere in the input") will still arrive, so it
    /// runs gated rules whenever their anchors hit: more masking, never less.
    pub fn open_gates(&mut self, open: bool) {
        self.gates_open = open;
    }

    /// Confirms matches by the redaction policy: each rule's `redact_entropy` floor instead
    /// of its `entropy`, and allowlists marked `scan_only` left out. A scan may leave out a
    /// value it cannot tell from a word or a test fixture (`Summer2024!`, `maple-river-ember`
    /// assigned to a password); a redacted log must not show it.
    pub fn redaction_policy(&mut self, on: bool) {
        self.redacting = on;
    }

    /// Records, during each [`Engine::scan`], every anchor hit of these rules in the range
    /// the keyword automaton covers (the owned span widened by the engine's context), so that
    /// a caller tracking candidates of some rules needs no second pass over the input.
    pub fn watch_anchors(&mut self, rules: &[usize]) {
        self.watch.clear();
        if let Some(&max) = rules.iter().max() {
            self.watch.resize(max + 1, false);
            for &r in rules {
                self.watch[r] = true;
            }
        }
    }

    /// The watched anchor hits of the last [`Engine::scan`]: (rule, start offset in its
    /// haystack), in order of their end.
    pub fn watched_hits(&self) -> &[(u32, usize)] {
        &self.watched_hits
    }
}

/// Sentinel for "no open window" in [`ScanState::open`].
const NO_WINDOW: (usize, usize) = (usize::MAX, 0);

/// The compiled detector. Cheap to share: wrap it in an `Arc` or borrow it across threads.
#[derive(Debug)]
pub struct Engine {
    rules: RuleSet,
    options: EngineOptions,
    prefilter: Prefilter,
    full_rules: Vec<usize>,
    path_rules: Vec<usize>,
    /// Rules with a `path` or an allowlist with `paths`: decided per input.
    path_sensitive: Vec<usize>,
    /// Every rule's `path` as one regex, built on first use ([`Engine::some_rule_path_matches`]).
    any_rule_path: OnceLock<Option<meta::Regex>>,
    /// Whether some global allowlist has `paths`.
    global_path_allowlists: bool,
    max_len: usize,
    /// The key of findings' fingerprints (set by the caller, else random on first use).
    fingerprint_key: OnceLock<crate::fingerprint::FingerprintKey>,
}

impl Engine {
    /// Builds an engine over `rules`.
    pub fn new(rules: RuleSet, options: EngineOptions) -> Result<Self> {
        let prefilter =
            Prefilter::new(&rules, options.decode_depth).map_err(|error| Error::Keywords {
                origin: rules.origin.clone(),
                error,
            })?;
        let full_rules = rules
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| matches!(r.strategy, Strategy::Full { .. }))
            .map(|(i, _)| i)
            .collect();
        let path_rules = rules
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.strategy == Strategy::PathOnly)
            .map(|(i, _)| i)
            .collect();
        let max_len = rules
            .rules
            .iter()
            .map(|r| r.max_len)
            .max()
            .unwrap_or(1)
            .max(prefilter.max_pattern_len);
        let path_sensitive = rules
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.path.is_some() || r.allowlists.iter().any(|a| a.has_paths()))
            .map(|(i, _)| i)
            .collect();
        let global_path_allowlists = rules.global_allowlists.iter().any(|a| a.has_paths());
        Ok(Engine {
            rules,
            options,
            prefilter,
            full_rules,
            path_rules,
            path_sensitive,
            any_rule_path: OnceLock::new(),
            global_path_allowlists,
            max_len,
            fingerprint_key: OnceLock::new(),
        })
    }

    /// Sets the key findings' fingerprints are made with (see [`crate::fingerprint`]), before
    /// the first finding. Returns false when a key was already in use. Without one, the
    /// engine uses a random key of its own: fingerprints then hold within this process only.
    pub fn set_fingerprint_key(&self, key: crate::fingerprint::FingerprintKey) -> bool {
        self.fingerprint_key.set(key).is_ok()
    }

    /// The key fingerprints are made with.
    pub fn fingerprint_key(&self) -> &crate::fingerprint::FingerprintKey {
        self.fingerprint_key
            .get_or_init(crate::fingerprint::FingerprintKey::ephemeral)
    }

    /// Whether some rule's `path` matches `path`. The history walk asks this of every path
    /// of every commit, so it is one regex over all the rules' path patterns (built on first
    /// use), not one match per rule.
    pub fn some_rule_path_matches(&self, path: &[u8]) -> bool {
        let combined = self.any_rule_path.get_or_init(|| {
            let alternatives: Vec<String> = (self.rules.rules.iter())
                .filter_map(|r| r.path.as_ref())
                .map(|p| format!("(?:{})", p.pattern()))
                .collect();
            if alternatives.is_empty() {
                return None;
            }
            crate::rules::compile::build_regex(&alternatives.join("|"), false).ok()
        });
        match combined {
            Some(re) => re.is_match(path),
            // No rule has a path; or (a safeguard) the combination did not compile.
            None => (self.rules.rules.iter())
                .any(|r| r.path.as_ref().is_some_and(|re| re.is_match(path))),
        }
    }

    /// An engine over the built-in rules with default options.
    pub fn builtin() -> Result<Self> {
        Self::new(RuleSet::builtin()?, EngineOptions::default())
    }

    /// The rule set.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// The rule at `index`.
    pub fn rule(&self, index: usize) -> &Rule {
        &self.rules.rules[index]
    }

    /// The options.
    pub fn options(&self) -> &EngineOptions {
        &self.options
    }

    /// What decides a path-free scan's verdict besides the bytes: this build, the rules'
    /// version and the options. A record of scan results (a fleet's blob ledger) is kept
    /// under it, so that a new rule or option never reuses an old verdict.
    pub fn scan_identity(&self) -> String {
        format!(
            "shush {} rules={} decode={} inline-allow={}",
            env!("CARGO_PKG_VERSION"),
            self.rules.version,
            self.options.decode_depth,
            self.options.inline_allow
        )
    }

    /// Whether the keyword automaton was precomputed at build time (the built-in rules at
    /// the default decode depth) rather than built at start-up.
    pub fn prefilter_precomputed(&self) -> bool {
        matches!(
            self.prefilter.origin,
            AutomatonOrigin::Precomputed | AutomatonOrigin::PrecomputedSuperset
        )
    }

    /// Where the keyword automaton came from (precomputed, reused, cached or built).
    pub fn automaton_origin(&self) -> AutomatonOrigin {
        self.prefilter.origin
    }

    /// Size of the keyword prefilter: (patterns, automaton states, byte classes, table bytes).
    pub fn prefilter_size(&self) -> (usize, usize, usize, usize) {
        let (states, classes, bytes) = self
            .prefilter
            .scanner
            .as_ref()
            .map_or((0, 0, 0), |s| s.size());
        (self.prefilter.patterns.len(), states, classes, bytes)
    }

    /// The longest possible match of any rule, in bytes.
    pub fn max_match_len(&self) -> usize {
        self.max_len
    }

    /// Context a chunk needs on each side of its owned span for chunked scanning to find
    /// exactly what a whole-input scan finds.
    pub fn overlap(&self) -> usize {
        // Plain matches need `max_len` of context on each side; a base64 run is decoded
        // around an encoded keyword up to `b64_margin` past the owned span, and reaches
        // `b64_margin` plus an edge further (see `decode`); the line of a match (inline
        // allow markers, `regexTarget = "line"`) is looked at up to `LINE_CONTEXT` bytes
        // around it.
        (2 * self.max_len + 8)
            .max(2 * self.b64_margin() + decode::B64_EDGE + 16)
            .max(2 * self.percent_reach() + decode::B64_EDGE + 16)
            .max(2 * self.wide_reach() + 2 * wide::WIDE_EDGE + 16)
            .max(LINE_CONTEXT + self.max_len + 8)
    }

    /// How far a percent-encoded run is followed from a keyword hit: an encoded match is at
    /// most three times its decoded length, capped so a long URL costs bounded work.
    pub(crate) fn percent_reach(&self) -> usize {
        (3 * self.max_len).min(MAX_PERCENT_REACH) + decode::B64_EDGE
    }

    /// How far (in encoded bytes) a base64-encoded match can extend from its encoded keyword:
    /// 4/3 of its length per level of base64 whose keywords the prefilter searches for.
    pub(crate) fn b64_margin(&self) -> usize {
        let levels = self.options.decode_depth.clamp(1, MAX_B64_NESTING);
        let mut len = self.max_len;
        for _ in 0..levels {
            len = len.div_ceil(3) * 4 + 8;
        }
        len
    }

    /// Fresh per-thread state.
    pub fn new_state(&self) -> ScanState {
        let n = self.rules.rules.len();
        ScanState {
            caches: (0..n).map(|_| None).collect(),
            captures: (0..n).map(|_| None).collect(),
            disabled: vec![false; n],
            open: vec![NO_WINDOW; n],
            touched: Vec::new(),
            windows: Vec::new(),
            anchored: Vec::new(),
            escaped: Vec::new(),
            gate_seen: vec![false; self.prefilter.gate_count],
            b64_hits: Vec::new(),
            plain_hits: Vec::new(),
            hits: Vec::new(),
            kw_scratch: kwscan::KwScratch::default(),
            decode_bufs: Vec::new(),
            wide_bufs: wide::WideBuffers::default(),
            all_disabled: false,
            gates_open: false,
            redacting: false,
            watch: Vec::new(),
            watched_hits: Vec::new(),
        }
    }

    /// Prepares `st` for a new input: decides from the path alone which rules apply.
    /// Returns `false` when no rule can report anything for this input (it can be skipped).
    pub fn begin_input(&self, st: &mut ScanState, meta: &InputMeta<'_>) -> bool {
        // Only rules whose applicability depends on the path are re-decided; the others stay
        // enabled (undoing a previous input's blanket disable first).
        if st.all_disabled {
            st.disabled.iter_mut().for_each(|d| *d = false);
            st.all_disabled = false;
        }
        let prefiltered = self.rules.global_prefilter.as_ref().is_some_and(|f| {
            f.eval(&crate::rules::expr::FilterInput {
                path: meta.path,
                ..Default::default()
            })
        });
        if prefiltered
            || self.global_path_allowlists
                && self
                    .rules
                    .global_allowlists
                    .iter()
                    .any(|a| a.allows_path(meta.path))
        {
            st.disabled.iter_mut().for_each(|d| *d = true);
            st.all_disabled = true;
            return false;
        }
        let mut any = self.path_sensitive.len() < self.rules.rules.len();
        // Most paths are no rule's kind of file: one combined match answers for every rule
        // with a `path` before any of their own regexes runs.
        let some_rule_path = meta
            .path
            .is_some_and(|p| self.some_rule_path_matches(p.as_bytes()));
        for &i in &self.path_sensitive {
            let rule = &self.rules.rules[i];
            let applies = rule.path.is_none() || some_rule_path && rule.applies_to_path(meta.path);
            let off = !applies || rule.allowlists.iter().any(|a| a.allows_path(meta.path));
            st.disabled[i] = off;
            any |= !off;
        }
        any
    }

    /// Scans a whole input: [`Engine::begin_input`] then [`Engine::scan`] over all of it.
    pub fn scan_bytes(&self, st: &mut ScanState, hay: &[u8], meta: &InputMeta<'_>) -> Vec<Match> {
        let mut out = Vec::new();
        if self.begin_input(st, meta) {
            self.scan(st, hay, 0..hay.len(), meta, &mut out);
        }
        out
    }

    /// Scans `hay`, reporting into `out` the matches that start inside `owned`. Call
    /// [`Engine::begin_input`] once per input first.
    pub fn scan(
        &self,
        st: &mut ScanState,
        hay: &[u8],
        owned: Range<usize>,
        meta: &InputMeta<'_>,
        out: &mut Vec<Match>,
    ) {
        let owned = owned.start.min(hay.len())..owned.end.min(hay.len());
        st.watched_hits.clear();
        if owned.start == 0 {
            for &r in &self.path_rules {
                if !st.disabled[r] {
                    out.push(Match {
                        rule: r,
                        span: 0..0,
                        secret_span: 0..0,
                        secret: Vec::new(),
                        entropy: 0.0,
                        decoded: Vec::new(),
                    });
                }
            }
        }
        self.scan_depth(st, hay, owned, meta, 0, out);
    }

    fn scan_depth(
        &self,
        st: &mut ScanState,
        hay: &[u8],
        owned: Range<usize>,
        meta: &InputMeta<'_>,
        depth: usize,
        out: &mut Vec<Match>,
    ) {
        if owned.is_empty() {
            return;
        }
        let decode_here = depth < self.options.decode_depth && !meta.binary;
        self.collect_windows(st, hay, &owned, decode_here, depth == 0);
        let windows = std::mem::take(&mut st.windows);
        for &(r, ws, we) in &windows {
            let r = r as usize;
            if self.gate_ok(st, r) {
                self.run_rule(st, r, hay, ws..we, &owned, meta, false, out);
            }
        }
        let mut anchored = std::mem::take(&mut st.anchored);
        anchored.sort_unstable();
        anchored.dedup();
        for &(r, pos) in &anchored {
            let r = r as usize;
            if self.gate_ok(st, r) {
                let end = (pos + self.rules.rules[r].max_len).min(hay.len());
                self.run_rule(st, r, hay, pos..end, &owned, meta, true, out);
            }
        }
        st.anchored = anchored;
        self.run_escaped(st, hay, meta, out);
        for i in 0..self.full_rules.len() {
            let r = self.full_rules[i];
            if st.disabled[r] || !self.gate_ok(st, r) {
                continue;
            }
            let ml = self.rules.rules[r].max_len;
            let range = owned.start.saturating_sub(ml)..(owned.end + ml).min(hay.len());
            self.run_rule(st, r, hay, range, &owned, meta, false, out);
        }
        if decode_here {
            self.decode_and_rescan(st, hay, &owned, meta, depth, out);
            if depth == 0 {
                self.wide_rescan(st, hay, &owned, meta, depth, out);
            }
        }
        st.windows = windows;
        st.windows.clear();
    }

    fn gate_ok(&self, st: &ScanState, r: usize) -> bool {
        let gates = &self.prefilter.rule_gates[r];
        st.gates_open || gates.is_empty() || gates.iter().any(|&g| st.gate_seen[g as usize])
    }

    /// Runs the automaton and turns anchor hits into merged per-rule windows.
    fn collect_windows(
        &self,
        st: &mut ScanState,
        hay: &[u8],
        owned: &Range<usize>,
        want_b64: bool,
        record: bool,
    ) {
        st.windows.clear();
        st.anchored.clear();
        st.escaped.clear();
        st.b64_hits.clear();
        st.plain_hits.clear();
        st.gate_seen.iter_mut().for_each(|g| *g = false);
        let Some(scanner) = &self.prefilter.scanner else {
            return;
        };
        // Encoded keywords belong to matches up to `b64_margin` away; plain ones to matches up
        // to `max_len` away.
        let reach = if want_b64 {
            self.b64_margin()
                .max(self.percent_reach())
                .max(self.max_len)
        } else {
            self.max_len
        };
        // Before the owned span only keywords that start in it but were cut, and encoded
        // ones a few characters ahead of their decoded match, matter: a match contains its
        // keyword, so no hit further back belongs to a match this scan reports. Two
        // exceptions reach further back: gate keywords (anywhere in the input: the whole
        // reach is searched), and percent-escapes, whose runs are found around plain keyword
        // hits that may lie before the match (`widekey%3A…` has no plain hit of its own) but
        // inside the same run of URL characters, so the run reaching the owned span from
        // before is searched. (A redactor scanning line by line would otherwise step the
        // automaton through `reach` bytes of old context for every line.)
        let before = if self.prefilter.gate_count > 0 && !st.gates_open {
            reach
        } else {
            let cut_keyword = 2 * self.prefilter.max_pattern_len + 16;
            let url_run = if want_b64 {
                decode::url_run_before(hay, owned.start, self.percent_reach()) + 16
            } else {
                0
            };
            cut_keyword.max(url_run)
        };
        let region = owned.start.saturating_sub(before)..(owned.end + reach).min(hay.len());
        let mut hits = std::mem::take(&mut st.hits);
        hits.clear();
        scanner.find_all(hay, region, &mut st.kw_scratch, &mut hits);
        for &hit in &hits {
            for (pid, hs) in scanner.patterns(hit) {
                let he = hit.end;
                let info = &self.prefilter.patterns[pid as usize];
                if info.is_inert() {
                    continue;
                }
                if let Some(g) = info.gate {
                    st.gate_seen[g as usize] = true;
                }
                if let Some(off) = info.b64_quantum_offset {
                    if want_b64 {
                        st.b64_hits.push((hs, off));
                    }
                } else if want_b64 && st.plain_hits.last() != Some(&hs) {
                    st.plain_hits.push(hs);
                }
                if record && !st.watch.is_empty() {
                    for &r in &info.anchor_rules {
                        if st.watch.get(r as usize).copied().unwrap_or(false) {
                            st.watched_hits.push((r, hs));
                        }
                    }
                }
                if hs < owned.start || hs >= owned.end + self.max_len {
                    continue;
                }
                for &r in &info.anchor_rules {
                    let r = r as usize;
                    if st.disabled[r] {
                        continue;
                    }
                    let rule = &self.rules.rules[r];
                    if rule.follow.as_ref().is_some_and(|f| !f.allows(hay, he)) {
                        continue;
                    }
                    if rule.escaped_start
                        && (owned.start..owned.end).contains(&hs)
                        && escapes::ends_escape(hay, hs)
                    {
                        st.escaped.push((r as u32, hs));
                    }
                    if rule.anchored {
                        if hs < owned.end {
                            st.anchored.push((r as u32, hs));
                        }
                        continue;
                    }
                    let ws = hs.saturating_sub(rule.window_before);
                    let we = (he + rule.window_after).min(hay.len());
                    let open = &mut st.open[r];
                    if open.0 == usize::MAX {
                        *open = (ws, we);
                        st.touched.push(r as u32);
                    } else if ws <= open.1 {
                        open.1 = open.1.max(we);
                    } else {
                        st.windows.push((r as u32, open.0, open.1));
                        *open = (ws, we);
                    }
                }
            }
        }
        st.hits = hits;
        for &r in &st.touched {
            let (ws, we) = std::mem::replace(&mut st.open[r as usize], NO_WINDOW);
            st.windows.push((r, ws, we));
        }
        st.touched.clear();
    }

    /// Runs each guarded token rule at its anchor hits that follow an escape sequence.
    fn run_escaped(
        &self,
        st: &mut ScanState,
        hay: &[u8],
        meta: &InputMeta<'_>,
        out: &mut Vec<Match>,
    ) {
        let mut escaped = std::mem::take(&mut st.escaped);
        escaped.sort_unstable();
        escaped.dedup();
        for &(r, pos) in &escaped {
            if self.gate_ok(st, r as usize) {
                self.run_after_escape(st, r as usize, hay, pos, meta, out);
            }
        }
        escaped.clear();
        st.escaped = escaped;
    }

    /// Runs rule `r` anchored at `pos` on the input from `pos` on, so that the escape
    /// sequence before it reads as the start of a line (see [`escapes`]), and confirms a match
    /// against the whole input (its line, allowlists, inline markers). The rule's guard
    /// rejects the escape's last byte, so such a match is never also found the usual way.
    fn run_after_escape(
        &self,
        st: &mut ScanState,
        r: usize,
        hay: &[u8],
        pos: usize,
        meta: &InputMeta<'_>,
        out: &mut Vec<Match>,
    ) {
        let rule = &self.rules.rules[r];
        let Some(lazy) = &rule.regex else { return };
        let Ok(re) = lazy.get() else { return };
        let rest = &hay[pos..];
        let input = regex_automata::Input::new(rest)
            .range(0..rule.max_len.min(rest.len()))
            .anchored(regex_automata::Anchored::Yes);
        let cache = st.caches[r].get_or_insert_with(|| re.create_cache());
        let caps = st.captures[r].get_or_insert_with(|| re.create_captures());
        re.search_captures_with(cache, &input, caps);
        let Some(m) = caps.get_match() else { return };
        let secret = secret_span(rule, caps).unwrap_or(m.range());
        let shift = |s: Range<usize>| s.start + pos..s.end + pos;
        let redacting = st.redacting;
        if let Some(found) = self.confirm(r, hay, shift(m.range()), shift(secret), meta, redacting)
        {
            out.push(found);
        }
    }

    /// Runs rule `r`'s regex over `range`, confirming matches that start in `owned`.
    #[allow(clippy::too_many_arguments)]
    fn run_rule(
        &self,
        st: &mut ScanState,
        r: usize,
        hay: &[u8],
        range: Range<usize>,
        owned: &Range<usize>,
        meta: &InputMeta<'_>,
        anchored: bool,
        out: &mut Vec<Match>,
    ) {
        let rule = &self.rules.rules[r];
        let Some(lazy) = &rule.regex else { return };
        let Ok(re) = lazy.get() else { return };
        let cache = st.caches[r].get_or_insert_with(|| re.create_cache());
        let needs_groups = re.group_info().group_len(regex_automata::PatternID::ZERO) > 1;
        let caps = st.captures[r].get_or_insert_with(|| re.create_captures());
        let redacting = st.redacting;
        let mut input = regex_automata::Input::new(hay).range(range.clone());
        if anchored {
            input = input.anchored(regex_automata::Anchored::Yes);
        }
        loop {
            let m = if needs_groups {
                re.search_captures_with(cache, &input, caps);
                caps.get_match()
            } else {
                re.search_with(cache, &input)
            };
            let Some(m) = m else { break };
            if m.start() >= owned.end {
                break;
            }
            if m.start() >= owned.start {
                let secret_span = if needs_groups {
                    secret_span(rule, caps)
                } else {
                    None
                }
                .unwrap_or(m.range());
                let found = self.confirm(r, hay, m.range(), secret_span, meta, redacting);
                if let Some(found) = found {
                    out.push(found);
                }
            }
            let next = if m.is_empty() { m.end() + 1 } else { m.end() };
            if anchored || next > range.end {
                break;
            }
            input.set_start(next);
        }
    }

    /// The filters every candidate passes: entropy, checksum, allowlists, inline allow
    /// (`redacting`: by the redaction policy, see [`ScanState::redaction_policy`]).
    fn confirm(
        &self,
        r: usize,
        hay: &[u8],
        span: Range<usize>,
        secret_span: Range<usize>,
        meta: &InputMeta<'_>,
        redacting: bool,
    ) -> Option<Match> {
        let rule = &self.rules.rules[r];
        let secret = &hay[secret_span.clone()];
        if secret.is_empty() {
            return None;
        }
        let entropy = shannon_entropy(secret);
        let floor = if redacting {
            rule.redact_entropy
        } else {
            rule.entropy
        };
        if floor > 0.0 && entropy <= floor {
            return None;
        }
        if let Some(check) = rule.checksum {
            if !check.verify(secret) {
                return None;
            }
        }
        let line = line_of(hay, span.clone());
        let candidate = AllowCandidate {
            secret,
            matched: &hay[span.clone()],
            line: &hay[line],
            path: meta.path,
            commit: meta.commit,
        };
        if rule
            .allowlists
            .iter()
            .chain(self.rules.global_allowlists.iter())
            .any(|a| !(redacting && a.scan_only) && a.allows(&candidate))
        {
            return None;
        }
        if self.options.inline_allow && has_allow_marker(candidate.line) {
            return None;
        }
        if rule.filter.is_some() || self.rules.global_filter.is_some() {
            let input = crate::rules::expr::FilterInput {
                secret,
                matched: candidate.matched,
                line: candidate.line,
                path: meta.path,
            };
            if rule
                .filter
                .iter()
                .chain(self.rules.global_filter.iter())
                .any(|f| f.eval(&input))
            {
                return None;
            }
        }
        Some(Match {
            rule: r,
            span,
            secret_span,
            secret: secret.to_vec(),
            entropy,
            decoded: Vec::new(),
        })
    }
}

/// The span of the secret: the configured group, else the first non-empty group.
fn secret_span(rule: &Rule, caps: &Captures) -> Option<Range<usize>> {
    if rule.secret_group > 0 {
        return caps.get_group(rule.secret_group).map(|s| s.range());
    }
    (1..caps.group_len())
        .filter_map(|g| caps.get_group(g))
        .find(|s| !s.is_empty())
        .map(|s| s.range())
}

/// The line(s) containing `span`, limited to [`LINE_CONTEXT`] bytes on each side.
pub(crate) fn line_of(hay: &[u8], span: Range<usize>) -> Range<usize> {
    let lo = span.start.saturating_sub(LINE_CONTEXT);
    let start = memchr::memrchr(b'\n', &hay[lo..span.start]).map_or(lo, |i| lo + i + 1);
    let hi = (span.end + LINE_CONTEXT).min(hay.len());
    let end = memchr::memchr(b'\n', &hay[span.end..hi]).map_or(hi, |i| span.end + i);
    start..end
}

/// Whether `line` carries a `shush:allow` or `gitleaks:allow` marker.
pub(crate) fn has_allow_marker(line: &[u8]) -> bool {
    ALLOW_MARKERS
        .iter()
        .any(|m| memchr::memmem::find(line, m).is_some())
}

#[cfg(test)]
mod tests;
