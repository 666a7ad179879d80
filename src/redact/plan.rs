//! What the redactor knows about each rule beyond what the engine needs: how far before its
//! keyword (anchor) a secret can start, and, for rules that can match across lines, a
//! deterministic automaton that says when a possible match starting near a keyword hit is
//! still open.
//!
//! All of it is derived from the rule set once and shared by every redactor (stdout and
//! stderr of `shush run` use one plan).

use crate::engine::Engine;
use crate::rules::{Rule, Strategy};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex_automata::hybrid::dfa::{Cache, DFA};
use regex_automata::nfa::thompson;
use regex_automata::util::start;
use regex_automata::{Anchored, hybrid::LazyStateID};
use regex_syntax::hir::{Class, Hir, HirKind, Repetition};
use std::sync::OnceLock;

/// Repetitions longer than this, inside or after the secret, are made unbounded in the
/// automaton that tracks open multi-line candidates, so that a secret that never ends (a PEM
/// `BEGIN` with an endless body) stays "open" until the hold cap instead of silently dying
/// when the rule's bound runs out.
const RELAX_ABOVE: u32 = 32;
/// Largest cross product of exact strings tracked in a run of concatenated literals.
const MAX_RUN: usize = 16;

/// A set of bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ByteSet([u64; 4]);

impl ByteSet {
    fn empty() -> Self {
        ByteSet([0; 4])
    }
    pub(crate) fn all() -> Self {
        ByteSet([u64::MAX; 4])
    }
    fn insert(&mut self, b: u8) {
        self.0[(b >> 6) as usize] |= 1 << (b & 63);
    }
    fn insert_range(&mut self, lo: u8, hi: u8) {
        for b in lo..=hi {
            self.insert(b);
        }
    }
    fn union(&mut self, o: &ByteSet) {
        for i in 0..4 {
            self.0[i] |= o.0[i];
        }
    }
    /// Whether `b` is in the set.
    pub(crate) fn contains(&self, b: u8) -> bool {
        self.0[(b >> 6) as usize] & (1 << (b & 63)) != 0
    }
}

/// Where a rule's secret can sit relative to the rule's anchors.
#[derive(Debug, Clone)]
pub(crate) struct RulePlan {
    /// Lower-cased anchors (keywords every match contains); empty when the rule has none.
    pub anchors: Vec<Vec<u8>>,
    /// A secret starts at most this many bytes before the first anchor occurrence of its
    /// match.
    pub lead: usize,
    /// Whether the bytes between the secret's start and that anchor can hold a line feed.
    pub lead_newline: bool,
    /// How each alternative of the regex places its secret (one entry when the regex is not
    /// a top-level alternation).
    pub branches: Vec<BranchPlan>,
    /// Top-level concatenation index where the secret starts (for relaxing the tracker).
    secret_child: usize,
}

/// Where one alternative of a rule's regex places its secret.
#[derive(Debug, Clone)]
pub(crate) struct BranchPlan {
    /// An anchor occurs wholly before the secret.
    pub anchor_before: bool,
    /// Otherwise: the secret starts at most this many bytes before the anchor occurrence.
    pub lead: usize,
    /// Bytes that can occur from the secret's start up to that anchor (an index into
    /// [`Plan::alphabets`]).
    pub alphabet: usize,
    /// Literals one of which always occurs before the secret (empty: none known).
    pub pre: Vec<Vec<u8>>,
    /// When the secret always starts with one of these strings (up to and including the
    /// anchor): they are what a partial line must end with for the secret to be starting.
    pub starts: Vec<Vec<u8>>,
}

/// A rule that can match across lines, and its open-candidate tracker.
#[derive(Debug)]
pub(crate) struct MultiRule {
    /// Index of the rule in the engine.
    pub rule: usize,
    /// Bytes of a match before an anchor hit, at most.
    pub before: usize,
    /// Bytes of a match after an anchor hit's end, at most.
    pub after: usize,
    /// Longest anchor.
    pub anchor_len: usize,
    /// Longest match.
    pub max_len: usize,
    /// Bytes a match can begin with: other starts need no thread.
    pub first: ByteSet,
    /// The same bytes, when there are at most three (searched with `memchr`).
    pub first_few: Option<Vec<u8>>,
    pattern: Option<Hir>,
    dfa: OnceLock<Option<DFA>>,
}

impl MultiRule {
    /// The tracking automaton, built on first use (`None`: the regex has no DFA form, e.g.
    /// Unicode word boundaries; the caller falls back to the rule's length bound).
    pub fn dfa(&self) -> Option<&DFA> {
        self.dfa
            .get_or_init(|| {
                let hir = self.pattern.as_ref()?;
                let nfa = thompson::Compiler::new()
                    .configure(
                        thompson::Config::new()
                            .utf8(false)
                            .which_captures(thompson::WhichCaptures::None),
                    )
                    .build_from_hir(hir)
                    .ok()?;
                DFA::builder()
                    .configure(
                        DFA::config()
                            .match_kind(regex_automata::MatchKind::LeftmostFirst)
                            .unicode_word_boundary(true)
                            .cache_capacity(2 << 20),
                    )
                    .build_from_nfa(nfa)
                    .ok()
            })
            .as_ref()
    }
}

/// Everything the redactor derives from a rule set.
#[derive(Debug)]
pub struct Plan {
    pub(crate) rules: Vec<RulePlan>,
    /// Distinct alphabets referenced by [`RulePlan::alphabet`].
    pub(crate) alphabets: Vec<ByteSet>,
    /// Every anchor of every rule (for holding partial lines).
    pub(crate) anchors: Option<AhoCorasick>,
    /// For each pattern of `anchors`: the rules it anchors.
    pub(crate) anchor_rules: Vec<Vec<u32>>,
    /// The multi-line rules.
    pub(crate) multi: Vec<MultiRule>,
    /// For each rule: its index in `multi`, or `u32::MAX`. The engine reports the anchor
    /// hits of these rules during its own keyword pass (`ScanState::watch_anchors`).
    pub(crate) multi_of: Vec<u32>,
    /// Whether a newline may end a scan: false when some multi-line rule has no anchor,
    /// since then an open candidate cannot be seen.
    pub(crate) line_cuts: bool,
    /// The largest `lead + anchor length` over rules whose lead can cross a line feed: a
    /// complete line is released only once this many bytes follow it.
    pub(crate) line_lag: usize,
}

impl Plan {
    /// Compiles every rule's regex and every multi-line tracker now (e.g. on another core
    /// while the input is opened), so that the first line to trigger a rule does not wait for
    /// its compilation: without this, the slowest lines of a log are those that first hit
    /// each rule.
    pub fn warm_up(&self, engine: &Engine) {
        let _ = engine.rules().validate();
        for m in &self.multi {
            let _ = m.dfa();
        }
    }

    /// Derives the plan for `engine`'s rules.
    pub fn new(engine: &Engine) -> Self {
        let mut alphabets: Vec<ByteSet> = Vec::new();
        let mut rules = Vec::new();
        let mut all_anchors: Vec<Vec<u8>> = Vec::new();
        let mut anchor_rules: Vec<Vec<u32>> = Vec::new();
        let mut multi = Vec::new();
        let mut multi_of = vec![u32::MAX; engine.rules().rules.len()];
        let mut line_cuts = true;
        let mut line_lag = 0usize;
        for (ri, rule) in engine.rules().rules.iter().enumerate() {
            let (mut plan, branch_alphabets, hir) = analyse(rule);
            if rule.path.is_some() {
                // A log has no path: a rule restricted to a kind of file never runs here, so
                // it neither anchors nor holds anything (its plan stays, empty, to keep the
                // indexes of the others).
                plan.anchors.clear();
                plan.branches.clear();
                plan.lead_newline = false;
                rules.push(plan);
                continue;
            }
            for (b, alphabet) in plan.branches.iter_mut().zip(branch_alphabets) {
                b.alphabet = match alphabets.iter().position(|a| *a == alphabet) {
                    Some(i) => i,
                    None => {
                        alphabets.push(alphabet);
                        alphabets.len() - 1
                    }
                };
            }
            for a in &plan.anchors {
                match all_anchors.iter().position(|x| x == a) {
                    Some(i) => anchor_rules[i].push(ri as u32),
                    None => {
                        all_anchors.push(a.clone());
                        anchor_rules.push(vec![ri as u32]);
                    }
                }
            }
            if rule.regex.is_some() && rule.multiline {
                if plan.anchors.is_empty() {
                    line_cuts = false;
                } else {
                    multi_of[ri] = multi.len() as u32;
                    let relaxed = hir.map(|h| relax_after(&h, plan.secret_child));
                    let first = match &relaxed {
                        Some(h) => match first_bytes(h) {
                            (set, false) => set,
                            (_, true) => ByteSet::all(),
                        },
                        None => ByteSet::all(),
                    };
                    multi.push(MultiRule {
                        rule: ri,
                        before: if rule.anchored { 0 } else { rule.window_before },
                        after: rule.window_after,
                        anchor_len: plan.anchors.iter().map(Vec::len).max().unwrap_or(0),
                        max_len: rule.max_len,
                        first_few: {
                            let few: Vec<u8> = (0..=255u8).filter(|&b| first.contains(b)).collect();
                            (few.len() <= 3).then_some(few)
                        },
                        first,
                        pattern: relaxed,
                        dfa: OnceLock::new(),
                    });
                }
                if plan.lead_newline {
                    let al = plan.anchors.iter().map(Vec::len).max().unwrap_or(0);
                    line_lag = line_lag.max(plan.lead + al);
                }
            }
            rules.push(plan);
        }
        let build = |pats: &[Vec<u8>], kind: MatchKind| -> Option<AhoCorasick> {
            if pats.is_empty() {
                return None;
            }
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(kind)
                .build(pats)
                .ok()
        };
        let anchors = build(&all_anchors, MatchKind::Standard);
        if !all_anchors.is_empty() && anchors.is_none() {
            // Cannot happen for literal keyword sets; never guess: hold lines whole.
            line_cuts = false;
        }
        Plan {
            rules,
            alphabets,
            anchors,
            anchor_rules,
            multi,
            multi_of,
            line_cuts,
            line_lag,
        }
    }

    /// Rules whose secret-to-anchor lead could not be derived exactly (for diagnostics).
    pub fn lead(&self, rule: usize) -> (usize, bool) {
        let r = &self.rules[rule];
        (r.lead, r.lead_newline)
    }
}

/// The anchored start state for a candidate whose first byte follows `prev`.
pub(crate) fn start_state(
    dfa: &DFA,
    cache: &mut Cache,
    prev: Option<u8>,
) -> Result<LazyStateID, ()> {
    let cfg = start::Config::new()
        .anchored(Anchored::Yes)
        .look_behind(prev);
    dfa.start_state(cache, &cfg).map_err(|_| ())
}

/// What one branch analysis found (alphabet not yet interned).
struct Branch {
    anchor_before: bool,
    lead: usize,
    newline: bool,
    alphabet: ByteSet,
    pre: Vec<Vec<u8>>,
    starts: Vec<Vec<u8>>,
}

/// Derives a rule's plan; returns it with the branch alphabets (to be interned, in branch
/// order) and the parsed regex.
fn analyse(rule: &Rule) -> (RulePlan, Vec<ByteSet>, Option<Hir>) {
    let anchors: Vec<Vec<u8>> = match &rule.strategy {
        Strategy::Window { anchors, .. } => anchors
            .iter()
            .map(|a| a.to_ascii_lowercase().into_bytes())
            .filter(|a| !a.is_empty())
            .collect(),
        _ => Vec::new(),
    };
    let hir = rule
        .regex
        .as_ref()
        .and_then(|re| crate::rules::analysis::parse(re.pattern()).ok())
        .map(|(h, _)| h);
    let whole = hir.as_ref().map_or_else(ByteSet::all, alphabet_of);
    let fallback_lead = if anchors.is_empty() {
        rule.max_len
    } else {
        rule.window_before.min(rule.max_len)
    };
    let fallback = |anchors: Vec<Vec<u8>>, hir: Option<Hir>| {
        (
            RulePlan {
                anchors,
                lead: fallback_lead,
                lead_newline: rule.multiline,
                branches: vec![BranchPlan {
                    anchor_before: false,
                    lead: fallback_lead,
                    alphabet: 0,
                    pre: Vec::new(),
                    starts: Vec::new(),
                }],
                secret_child: 0,
            },
            vec![whole.clone()],
            hir,
        )
    };
    let Some(h) = hir.as_ref() else {
        return fallback(anchors, None);
    };
    if anchors.is_empty() {
        return fallback(anchors, hir);
    }
    let (alts, top_children): (Vec<&Hir>, bool) = match h.kind() {
        HirKind::Alternation(subs) => (subs.iter().collect(), false),
        _ => (vec![h], true),
    };
    let mut branches = Vec::new();
    let mut secret_child = 0;
    for alt in alts {
        let children: Vec<&Hir> = match alt.kind() {
            HirKind::Concat(subs) => subs.iter().collect(),
            _ => vec![alt],
        };
        let g = secret_child_of(&children, rule.secret_group);
        if top_children {
            secret_child = g;
        }
        branches.push(analyse_branch(
            &children,
            g,
            &anchors,
            rule.max_len,
            fallback_lead,
        ));
    }
    let lead = branches.iter().map(|b| b.lead).max().unwrap_or(0);
    let lead_newline = branches.iter().any(|b| b.newline);
    let alphabets = branches.iter().map(|b| b.alphabet.clone()).collect();
    let plan = RulePlan {
        anchors,
        lead,
        lead_newline,
        branches: branches
            .into_iter()
            .map(|b| BranchPlan {
                anchor_before: b.anchor_before,
                lead: b.lead,
                alphabet: 0,
                pre: b.pre,
                starts: b.starts,
            })
            .collect(),
        secret_child,
    };
    (plan, alphabets, hir)
}

/// Analyses one alternative, `children` its concatenation and `g` the child where its
/// secret starts. Where nothing exact can be said, the secret may start `fallback_lead`
/// bytes before an anchor hit, with any byte the rest of the branch can match.
fn analyse_branch(
    children: &[&Hir],
    g: usize,
    anchors: &[Vec<u8>],
    max_len: usize,
    fallback_lead: usize,
) -> Branch {
    let first_anchor = |s: &[u8]| -> Option<(usize, usize)> {
        anchors
            .iter()
            .filter_map(|a| find_ci(s, a).map(|off| (off, a.len())))
            .min()
    };
    let runs = exact_runs(children);
    // Literals always present before the secret: the longest-shortest exact run before it.
    let pre = runs
        .iter()
        .filter(|(_, end, set)| *end <= g && set.iter().all(|s| s.len() >= 2))
        .max_by_key(|(_, _, set)| set.iter().map(Vec::len).min().unwrap_or(0))
        .map(|(_, _, set)| set.clone())
        .unwrap_or_default();
    let required_before = children[..g].iter().any(|c| requires_anchor(c, anchors))
        || runs.iter().any(|(_, end, set)| {
            *end <= g && !set.is_empty() && set.iter().all(|s| first_anchor(s).is_some())
        });
    if required_before {
        return Branch {
            anchor_before: true,
            lead: 0,
            newline: false,
            alphabet: ByteSet::empty(),
            pre,
            starts: Vec::new(),
        };
    }
    let exact_lead = secret_lead(children, g, anchors, max_len);
    match exact_lead {
        Some((lead, newline, alphabet, starts)) => Branch {
            anchor_before: false,
            lead,
            newline,
            alphabet,
            pre,
            starts,
        },
        None => {
            let mut alphabet = ByteSet::empty();
            for c in &children[g..] {
                alphabet.union(&alphabet_of(c));
            }
            Branch {
                anchor_before: false,
                lead: fallback_lead,
                newline: alphabet.contains(b'\n'),
                alphabet,
                pre,
                starts: Vec::new(),
            }
        }
    }
}

/// How far before the anchor the secret can start, whether a line feed can sit in between,
/// and which bytes can: from the secret group's own children.
fn secret_lead(
    children: &[&Hir],
    g: usize,
    anchors: &[Vec<u8>],
    max_len: usize,
) -> Option<(usize, bool, ByteSet, Vec<Vec<u8>>)> {
    let first_anchor = |s: &[u8]| -> Option<(usize, usize)> {
        anchors
            .iter()
            .filter_map(|a| find_ci(s, a).map(|off| (off, a.len())))
            .min()
    };
    // The secret's own sequence: the secret group's children (when the group is a direct
    // child), then what follows it.
    let mut seq: Vec<&Hir> = Vec::new();
    match children.get(g).map(|c| c.kind()) {
        Some(HirKind::Capture(cap)) => {
            match cap.sub.kind() {
                HirKind::Concat(inner) => seq.extend(inner.iter()),
                _ => seq.push(&cap.sub),
            }
            seq.extend(children[g + 1..].iter().copied());
        }
        _ => seq.extend(children[g..].iter().copied()),
    }
    let (i0, _, set) = exact_runs(&seq)
        .into_iter()
        .filter(|(_, _, set)| !set.is_empty() && set.iter().all(|s| first_anchor(s).is_some()))
        .min_by_key(|(s, _, _)| *s)?;
    let before = &seq[..i0];
    let pre_len = before
        .iter()
        .try_fold(0usize, |a, c| a.checked_add(c.properties().maximum_len()?))?;
    let mut alphabet = ByteSet::empty();
    let mut newline = false;
    for c in before {
        let a = alphabet_of(c);
        newline |= a.contains(b'\n');
        alphabet.union(&a);
    }
    let mut off_max = 0;
    let mut starts = Vec::new();
    for s in &set {
        let (off, alen) = first_anchor(s)?;
        off_max = off_max.max(off);
        if before.is_empty() {
            starts.push(s[..off + alen].to_vec());
        }
        for &b in &s[..off] {
            alphabet.insert(b);
            alphabet.insert(b.to_ascii_uppercase());
            newline |= b == b'\n';
        }
    }
    Some((
        (pre_len + off_max).min(max_len.max(1)),
        newline,
        alphabet,
        starts,
    ))
}

/// Maximal runs of consecutive children with few exact strings: (start, end, strings).
fn exact_runs(children: &[&Hir]) -> Vec<(usize, usize, Vec<Vec<u8>>)> {
    let mut runs: Vec<(usize, usize, Vec<Vec<u8>>)> = Vec::new();
    let mut cur: Option<(usize, Vec<Vec<u8>>)> = None;
    for (i, c) in children.iter().enumerate() {
        let e = exact(c).filter(|e| e.len() <= MAX_RUN);
        let ext = match (&cur, &e) {
            (Some((s, acc)), Some(e)) => cross(acc, e).map(|x| (*s, x)),
            (None, Some(e)) => Some((i, e.clone())),
            _ => None,
        };
        match ext {
            Some(x) => cur = Some(x),
            None => {
                if let Some((s, acc)) = cur.take() {
                    runs.push((s, i, acc));
                }
                if let Some(e) = e {
                    cur = Some((i, e));
                }
            }
        }
        if let Some((s, acc)) = &cur {
            runs.push((*s, i + 1, acc.clone()));
        }
    }
    runs
}

/// Whether every match of `hir` contains one of `anchors` (lower-cased).
fn requires_anchor(hir: &Hir, anchors: &[Vec<u8>]) -> bool {
    let has = |s: &[u8]| anchors.iter().any(|a| find_ci(s, a).is_some());
    match hir.kind() {
        HirKind::Literal(lit) => has(&lit.0),
        HirKind::Capture(cap) => requires_anchor(&cap.sub, anchors),
        HirKind::Repetition(rep) => rep.min >= 1 && requires_anchor(&rep.sub, anchors),
        HirKind::Alternation(subs) => subs.iter().all(|s| requires_anchor(s, anchors)),
        HirKind::Concat(subs) => {
            let refs: Vec<&Hir> = subs.iter().collect();
            subs.iter().any(|s| requires_anchor(s, anchors))
                || exact_runs(&refs)
                    .iter()
                    .any(|(_, _, set)| !set.is_empty() && set.iter().all(|s| has(s)))
        }
        _ => false,
    }
}

/// Index of the concatenation child where the secret starts (0 when the secret may be the
/// whole match): the secret group when it is a direct child that always takes part and,
/// for "first non-empty group" rules, no group comes before it.
fn secret_child_of(children: &[&Hir], secret_group: usize) -> usize {
    for (i, c) in children.iter().enumerate() {
        if let HirKind::Capture(cap) = c.kind() {
            let nonempty = c.properties().minimum_len().unwrap_or(0) > 0;
            if secret_group > 0 {
                if cap.index as usize == secret_group {
                    return i;
                }
            } else {
                return if nonempty { i } else { 0 };
            }
        }
        if contains_capture(c) {
            // The secret is inside this child if it always captures something; otherwise
            // (an optional group) it may be the whole match.
            return if secret_group == 0 && always_captures(c) {
                i
            } else {
                0
            };
        }
    }
    0
}

/// Whether every match of `h` sets some capture group to a non-empty string.
fn always_captures(h: &Hir) -> bool {
    match h.kind() {
        HirKind::Capture(_) => h.properties().minimum_len().unwrap_or(0) > 0,
        HirKind::Concat(subs) => subs.iter().any(always_captures),
        HirKind::Alternation(subs) => subs.iter().all(always_captures),
        HirKind::Repetition(rep) => rep.min >= 1 && always_captures(&rep.sub),
        _ => false,
    }
}

fn contains_capture(h: &Hir) -> bool {
    h.properties().explicit_captures_len() > 0
}

/// The bytes a match of `hir` can begin with, and whether it can be empty.
fn first_bytes(hir: &Hir) -> (ByteSet, bool) {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => (ByteSet::empty(), true),
        HirKind::Literal(lit) => {
            let mut set = ByteSet::empty();
            match lit.0.first() {
                Some(&b) => {
                    set.insert(b);
                    (set, false)
                }
                None => (set, true),
            }
        }
        HirKind::Class(_) => (alphabet_of(hir), false),
        HirKind::Repetition(rep) => {
            let (f, n) = first_bytes(&rep.sub);
            (f, n || rep.min == 0)
        }
        HirKind::Capture(cap) => first_bytes(&cap.sub),
        HirKind::Concat(subs) => {
            let mut acc = ByteSet::empty();
            for c in subs {
                let (f, n) = first_bytes(c);
                acc.union(&f);
                if !n {
                    return (acc, false);
                }
            }
            (acc, true)
        }
        HirKind::Alternation(subs) => {
            let mut acc = ByteSet::empty();
            let mut nullable = false;
            for c in subs {
                let (f, n) = first_bytes(c);
                acc.union(&f);
                nullable |= n;
            }
            (acc, nullable)
        }
    }
}

/// Every byte `hir` can match.
fn alphabet_of(hir: &Hir) -> ByteSet {
    let mut set = ByteSet::empty();
    fn walk(h: &Hir, set: &mut ByteSet) {
        match h.kind() {
            HirKind::Empty | HirKind::Look(_) => {}
            HirKind::Literal(lit) => lit.0.iter().for_each(|&b| set.insert(b)),
            HirKind::Class(Class::Bytes(c)) => {
                for r in c.ranges() {
                    set.insert_range(r.start(), r.end());
                }
            }
            HirKind::Class(Class::Unicode(c)) => {
                for r in c.ranges() {
                    if (r.end() as u32) < 0x80 {
                        set.insert_range(r.start() as u8, r.end() as u8);
                    } else {
                        // Any multi-byte character: be generous.
                        set.insert_range(r.start().min('\u{7f}') as u8, 0x7f);
                        set.insert_range(0x80, 0xff);
                    }
                }
            }
            HirKind::Repetition(rep) => {
                if rep.max != Some(0) {
                    walk(&rep.sub, set)
                }
            }
            HirKind::Capture(cap) => walk(&cap.sub, set),
            HirKind::Concat(subs) | HirKind::Alternation(subs) => {
                subs.iter().for_each(|s| walk(s, set))
            }
        }
    }
    walk(hir, &mut set);
    set
}

/// The exact (lower-cased) strings `hir` matches, when few.
fn exact(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Some(vec![Vec::new()]),
        HirKind::Literal(lit) => Some(vec![lit.0.to_ascii_lowercase()]),
        HirKind::Class(c) => {
            let mut out: Vec<Vec<u8>> = Vec::new();
            let mut push = |b: u8| {
                let l = vec![b.to_ascii_lowercase()];
                if !out.contains(&l) {
                    out.push(l);
                }
            };
            match c {
                Class::Bytes(c) => {
                    for r in c.ranges() {
                        if usize::from(r.end() - r.start()) > 2 * MAX_RUN {
                            return None;
                        }
                        (r.start()..=r.end()).for_each(&mut push);
                    }
                }
                Class::Unicode(c) => {
                    for r in c.ranges() {
                        if r.end() as u32 > 0x7f || (r.end() as u32 - r.start() as u32) > 32 {
                            return None;
                        }
                        (r.start() as u8..=r.end() as u8).for_each(&mut push);
                    }
                }
            }
            (out.len() <= MAX_RUN).then_some(out)
        }
        HirKind::Capture(cap) => exact(&cap.sub),
        HirKind::Repetition(rep) => {
            if Some(rep.min) != rep.max || rep.min > 8 {
                return None;
            }
            let sub = exact(&rep.sub)?;
            let mut acc = vec![Vec::new()];
            for _ in 0..rep.min {
                acc = cross(&acc, &sub)?;
            }
            Some(acc)
        }
        HirKind::Concat(subs) => {
            let mut acc = vec![Vec::new()];
            for s in subs {
                acc = cross(&acc, &exact(s)?)?;
            }
            Some(acc)
        }
        HirKind::Alternation(subs) => {
            let mut acc: Vec<Vec<u8>> = Vec::new();
            for s in subs {
                for x in exact(s)? {
                    if !acc.contains(&x) {
                        acc.push(x);
                    }
                }
                if acc.len() > MAX_RUN {
                    return None;
                }
            }
            Some(acc)
        }
    }
}

fn cross(a: &[Vec<u8>], b: &[Vec<u8>]) -> Option<Vec<Vec<u8>>> {
    if a.len().saturating_mul(b.len()) > MAX_RUN {
        return None;
    }
    let mut out = Vec::with_capacity(a.len() * b.len());
    for x in a {
        for y in b {
            let mut s = x.clone();
            s.extend_from_slice(y);
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    Some(out)
}

/// Offset of the first ASCII-case-insensitive occurrence of `needle` in `hay`.
pub(crate) fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    if needle.len() > hay.len() {
        return None;
    }
    // Candidates are the positions of the first byte in either case (memchr), which keeps
    // the idle release cheap however many rules have literals.
    let starts = &hay[..=hay.len() - needle.len()];
    memchr::memchr2_iter(
        first.to_ascii_lowercase(),
        first.to_ascii_uppercase(),
        starts,
    )
    .find(|&i| hay[i + 1..i + needle.len()].eq_ignore_ascii_case(rest))
}

/// `hir` with the long repetitions of its secret part (top-level children from `from` on)
/// made unbounded.
fn relax_after(hir: &Hir, from: usize) -> Hir {
    match hir.kind() {
        HirKind::Concat(subs) => Hir::concat(
            subs.iter()
                .enumerate()
                .map(|(i, s)| if i >= from { relax(s) } else { s.clone() })
                .collect(),
        ),
        _ => relax(hir),
    }
}

fn relax(hir: &Hir) -> Hir {
    match hir.kind() {
        HirKind::Repetition(rep) => {
            let max = match rep.max {
                Some(m) if m > RELAX_ABOVE => None,
                m => m,
            };
            Hir::repetition(Repetition {
                min: rep.min,
                max,
                greedy: rep.greedy,
                sub: Box::new(relax(&rep.sub)),
            })
        }
        HirKind::Capture(cap) => Hir::capture(regex_syntax::hir::Capture {
            index: cap.index,
            name: cap.name.clone(),
            sub: Box::new(relax(&cap.sub)),
        }),
        HirKind::Concat(subs) => Hir::concat(subs.iter().map(relax).collect()),
        HirKind::Alternation(subs) => Hir::alternation(subs.iter().map(relax).collect()),
        _ => hir.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_ci_equals_the_naive_search() {
        let naive = |hay: &[u8], needle: &[u8]| -> Option<usize> {
            if needle.is_empty() || needle.len() > hay.len() {
                return None;
            }
            hay.windows(needle.len())
                .position(|w| w.eq_ignore_ascii_case(needle))
        };
        let hays: [&[u8]; 6] = [
            b"",
            b"p",
            b"Enter PASSWORD: pass",
            b"xpassword=1 Password",
            b"-----BEGIN RSA",
            b"\xffpAsS\x00pass",
        ];
        let needles: [&[u8]; 6] = [b"", b"p", b"pass", b"password", b"-----begin", b"S\x00P"];
        for hay in hays {
            for needle in needles {
                assert_eq!(
                    find_ci(hay, needle),
                    naive(hay, needle),
                    "{hay:?} {needle:?}"
                );
            }
        }
    }

    #[test]
    fn builtin_leads() {
        let engine = Engine::builtin().unwrap();
        let plan = Plan::new(&engine);
        let id = |name: &str| {
            engine
                .rules()
                .rules
                .iter()
                .position(|r| r.id == name)
                .unwrap()
        };
        // A PEM block is its own secret and starts five dashes before `BEGIN`.
        assert_eq!(plan.lead(id("private-key-rsa")), (5, false));
        // The kubeconfig token follows `token:`.
        assert_eq!(plan.lead(id("kubeconfig-user-token")), (0, false));
        assert_eq!(plan.lead(id("netrc-password")), (0, false));
        assert!(plan.line_cuts);
        assert_eq!(
            plan.line_lag, 0,
            "no built-in secret starts a line before its keyword"
        );
        for m in &plan.multi {
            assert!(m.dfa().is_some(), "{}: no tracker", engine.rule(m.rule).id);
        }
    }
}
