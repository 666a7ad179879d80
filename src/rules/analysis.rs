//! Static analysis of a rule's regex: its maximum match length, the literals every match must
//! contain (used to derive keywords and to prove that keyword-window scanning is exact), and
//! whether a match can span lines.
//!
//! Like `spec.rs`, this module has no crate-internal imports: `build.rs` runs it over the
//! built-in rules so that startup does not have to parse 200+ regexes.

use regex_syntax::hir::{Class, Hir, HirKind};
use serde::{Deserialize, Serialize};

/// Largest set of alternative literals tracked while analysing one sub-expression.
const MAX_SET: usize = 64;
/// Largest cross product kept when extending a run of exact literals in a concatenation.
const MAX_RUN_PRODUCT: usize = 16;
/// Longest literal tracked (longer ones are truncated, which keeps them sound as "contains").
const MAX_LIT_LEN: usize = 48;

/// What the analysis learned about one regex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegexAnalysis {
    /// Longest possible match in bytes, or `None` when unbounded.
    pub max_len: Option<usize>,
    /// Lower-cased literals such that every match contains at least one of them
    /// (ASCII case-insensitively), or `None` when no such set was found.
    #[serde(with = "literal_text::option")]
    pub required: Option<Vec<Vec<u8>>>,
    /// At most how many bytes of a match precede the required literal (`None`: unknown).
    #[serde(default)]
    pub anchor_before: Option<usize>,
    /// At most how many bytes of a match follow the required literal (`None`: unknown).
    #[serde(default)]
    pub anchor_after: Option<usize>,
    /// Every literal set found at the top level, with positions: a rule's keywords may name
    /// any one of them as the anchor.
    #[serde(default)]
    pub candidates: Vec<Candidate>,
    /// Whether a match can contain a line feed.
    pub multiline: bool,
    /// Whether the regex needed Unicode mode to parse (ASCII mode is preferred: faster and
    /// matches RE2's ASCII `\w`, `\d`, `\s`, `\b`).
    pub unicode: bool,
    /// For a token behind a left guard (`\b(ghp_…)`): the lower-cased literal prefixes every
    /// match starts with after the guard (see `rules::guard`); empty for other regexes.
    #[serde(default, with = "literal_text", skip_serializing_if = "Vec::is_empty")]
    pub guarded_prefixes: Vec<Vec<u8>>,
}

/// Rewrites the few RE2 (Go) spellings that Rust's parser rejects, so gitleaks and
/// Betterleaks configs load unchanged: a `{` that does not start a valid repetition is a
/// literal in RE2 (e.g. `\$?{{[^}]+}}`), and `\Q…\E` quotes a literal. Valid Rust patterns
/// are returned unchanged.
pub fn go_compat(pattern: &str) -> std::borrow::Cow<'_, str> {
    if !pattern.contains('{') && !pattern.contains("\\Q") {
        return std::borrow::Cow::Borrowed(pattern);
    }
    let b = pattern.as_bytes();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut i = 0;
    let mut in_class = false;
    let mut class_start = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\\' && i + 1 < b.len() {
            if !in_class && b[i + 1] == b'Q' {
                let end = pattern[i + 2..].find("\\E").map_or(b.len(), |e| i + 2 + e);
                for ch in pattern[i + 2..end].chars() {
                    if ch.is_ascii_punctuation() {
                        out.push('\\');
                    }
                    out.push(ch);
                }
                i = (end + 2).min(b.len());
                continue;
            }
            // `\p{Greek}`, `\x{263a}`: copy the braced argument whole.
            if matches!(b[i + 1], b'p' | b'P' | b'x') && b.get(i + 2) == Some(&b'{') {
                if let Some(e) = pattern[i + 2..].find('}') {
                    out.push_str(&pattern[i..i + 2 + e + 1]);
                    i += 2 + e + 1;
                    continue;
                }
            }
            // Copy the escape and the escaped character whole (it may be multi-byte).
            let len = pattern[i + 1..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&pattern[i..i + 1 + len]);
            i += 1 + len;
            continue;
        }
        if in_class {
            if c == b'[' && b.get(i + 1) == Some(&b':') {
                if let Some(e) = pattern[i + 2..].find(":]") {
                    out.push_str(&pattern[i..i + 2 + e + 2]);
                    i += 2 + e + 2;
                    continue;
                }
            }
            // `]` right after `[` or `[^` is a literal.
            if c == b']' && i > class_start {
                in_class = false;
            }
        } else if c == b'[' {
            in_class = true;
            class_start = i + 1;
            if b.get(i + 1) == Some(&b'^') {
                class_start = i + 2;
            }
            out.push('[');
            if class_start == i + 2 {
                out.push('^');
            }
            i = class_start;
            continue;
        } else if c == b'{' && !valid_repetition(&b[i..]) {
            out.push_str("\\{");
            i += 1;
            continue;
        }
        let len = pattern[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&pattern[i..i + len]);
        i += len;
    }
    std::borrow::Cow::Owned(out)
}

/// Whether `s` (starting at `{`) is `{n}`, `{n,}` or `{n,m}`.
fn valid_repetition(s: &[u8]) -> bool {
    let mut i = 1;
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < s.len() && s[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > start
    };
    if !digits(&mut i) {
        return false;
    }
    if s.get(i) == Some(&b',') {
        i += 1;
        digits(&mut i);
    }
    s.get(i) == Some(&b'}')
}

/// A set of literals every match contains, and where: at most `before` bytes of the match
/// precede the literal and `after` bytes follow it (`None`: unknown).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// Lower-cased literals; every match contains one.
    #[serde(with = "literal_text")]
    pub literals: Vec<Vec<u8>>,
    /// Bytes of a match before the literal, at most.
    pub before: Option<usize>,
    /// Bytes of a match after the literal, at most.
    pub after: Option<usize>,
}

impl Candidate {
    /// Whether every literal contains one of `keywords` (ASCII case-insensitively).
    pub fn covered_by(&self, keywords: &[String]) -> bool {
        !keywords.is_empty()
            && !self.literals.is_empty()
            && self.literals.iter().all(|lit| {
                keywords
                    .iter()
                    .any(|k| !k.is_empty() && memchr_contains(lit, k.as_bytes()))
            })
    }
}

/// Why a regex does not parse or build. Its message names the problem and where it is,
/// never the pattern text: `regex_syntax`'s own `Display` quotes the whole pattern, and a
/// pattern's literal tokens may be real secrets.
///
/// (Written without `thiserror`: `build.rs` compiles this module too.)
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegexError {
    /// The pattern is not valid regex syntax.
    Syntax {
        /// What is wrong, e.g. `unclosed group` (the kind of the error, never pattern text).
        kind: String,
        /// 1-based line of the error in the pattern.
        line: usize,
        /// 1-based column (in characters) of the error in the pattern, as parsed: the same
        /// as the configured text unless it has Go-only `\Q…\E` or literal braces, which
        /// are rewritten first.
        column: usize,
    },
    /// The pattern is not valid regex syntax, and the parser did not say where.
    InvalidSyntax,
    /// The compiled regex would exceed a size limit.
    TooLarge {
        /// The limit the regex builder reports exceeded (its message, which never holds
        /// pattern text).
        detail: String,
    },
    /// The regex could not be built for another reason.
    Build {
        /// The regex builder's message (which never holds pattern text).
        detail: String,
    },
    /// A pattern that must be searched anchored (a `follow` gate) cannot be.
    NotAnchored,
}

impl RegexError {
    /// Describes a regex syntax error by its kind and position only.
    pub fn from_syntax(e: &regex_syntax::Error) -> Self {
        let (kind, span) = match e {
            regex_syntax::Error::Parse(e) => (e.kind().to_string(), e.span()),
            regex_syntax::Error::Translate(e) => (e.kind().to_string(), e.span()),
            _ => return RegexError::InvalidSyntax,
        };
        RegexError::Syntax {
            kind,
            line: span.start.line,
            column: span.start.column,
        }
    }

    /// Describes an error from building a regex (`regex_automata`'s meta, NFA or DFA
    /// builders): the syntax error in its source chain if there is one (see
    /// [`RegexError::from_syntax`]), otherwise the innermost cause's message (a size
    /// limit…), which never contains pattern text.
    pub fn from_build(e: &(dyn std::error::Error + 'static)) -> Self {
        let mut cause = Some(e);
        let mut innermost = e;
        while let Some(c) = cause {
            if let Some(syntax) = c.downcast_ref::<regex_syntax::Error>() {
                return RegexError::from_syntax(syntax);
            }
            innermost = c;
            cause = c.source();
        }
        let detail = innermost.to_string();
        if detail.contains("limit") {
            RegexError::TooLarge { detail }
        } else {
            RegexError::Build { detail }
        }
    }
}

impl std::fmt::Display for RegexError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RegexError::Syntax { kind, line, column } if *line > 1 => {
                write!(f, "{kind} (line {line}, column {column})")
            }
            RegexError::Syntax { kind, column, .. } => write!(f, "{kind} (column {column})"),
            RegexError::InvalidSyntax => f.write_str("invalid regex syntax"),
            RegexError::TooLarge { detail } => write!(f, "regex is too large ({detail})"),
            RegexError::Build { detail } => f.write_str(detail),
            RegexError::NotAnchored => f.write_str("the pattern cannot be searched anchored"),
        }
    }
}

impl std::error::Error for RegexError {}

/// Describes a regex syntax error by its kind and position only, never the pattern text
/// (see [`RegexError::from_syntax`]).
pub fn describe_syntax_error(e: &regex_syntax::Error) -> String {
    RegexError::from_syntax(e).to_string()
}

/// Describes an error from building a regex without quoting the pattern (see
/// [`RegexError::from_build`]).
pub fn describe_build_error(e: &(dyn std::error::Error + 'static)) -> String {
    RegexError::from_build(e).to_string()
}

/// Parses `pattern` the way the engine compiles it: ASCII mode first, Unicode mode when the
/// pattern needs it. Returns the HIR and whether Unicode mode was needed.
/// Errors are described without the pattern text ([`RegexError::from_syntax`]).
pub fn parse(pattern: &str) -> Result<(Hir, bool), RegexError> {
    let pattern = &*go_compat(pattern);
    let ascii = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pattern);
    match ascii {
        Ok(hir) => Ok((hir, false)),
        Err(_) => regex_syntax::ParserBuilder::new()
            .utf8(false)
            .build()
            .parse(pattern)
            .map(|hir| (hir, true))
            .map_err(|e| RegexError::from_syntax(&e)),
    }
}

/// Analyses `pattern`.
pub fn analyse(pattern: &str) -> Result<RegexAnalysis, RegexError> {
    let (hir, unicode) = parse(pattern)?;
    let usable = |r: &Req| !r.set.is_empty() && r.set.iter().all(|l| !l.is_empty());
    let req = required(&hir).filter(usable);
    let mut candidates: Vec<Candidate> = top_candidates(&hir)
        .into_iter()
        .chain(req.clone())
        .filter(usable)
        .map(|r| Candidate {
            literals: r.set,
            before: r.before,
            after: r.after,
        })
        .collect();
    let mut seen = Vec::new();
    candidates.retain(|c| {
        let fresh = !seen.contains(c);
        if fresh {
            seen.push(c.clone());
        }
        fresh
    });
    let (required, anchor_before, anchor_after) = match req {
        Some(r) => (Some(r.set), r.before, r.after),
        None => (None, None, None),
    };
    Ok(RegexAnalysis {
        max_len: hir.properties().maximum_len(),
        required,
        anchor_before,
        anchor_after,
        candidates,
        multiline: can_match_newline(&hir),
        unicode,
        guarded_prefixes: super::guard::guarded_prefixes(&hir),
    })
}

impl RegexAnalysis {
    /// Keywords derived from the required literals: usable when every literal is at least
    /// `min_len` bytes long (shorter ones would select too much input to be worth it).
    pub fn derived_keywords(&self, min_len: usize) -> Option<Vec<String>> {
        let req = self.required.as_ref()?;
        if req.iter().any(|l| l.len() < min_len) {
            return None;
        }
        let mut out: Vec<String> = req
            .iter()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect();
        out.sort();
        out.dedup();
        Some(out)
    }

    /// The best-placed literal set whose every literal contains one of `keywords`: when one
    /// exists, scanning only windows around keyword hits is exact.
    pub fn covering(&self, keywords: &[String]) -> Option<&Candidate> {
        self.candidates
            .iter()
            .filter(|c| c.covered_by(keywords))
            .min_by_key(|c| {
                let known = c.before.is_some() && c.after.is_some();
                (
                    !known,
                    c.before
                        .unwrap_or(usize::MAX)
                        .saturating_add(c.after.unwrap_or(usize::MAX)),
                )
            })
    }

    /// Whether every match is guaranteed to contain one of `keywords`.
    pub fn keywords_cover_matches(&self, keywords: &[String]) -> bool {
        self.covering(keywords).is_some()
    }
}

/// Literals serialised as text (printable ASCII as is, other bytes and `%` as `%XX`), which
/// keeps the embedded rule document small and fast to parse.
mod literal_text {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Encoded: controls, DEL, `%` and every non-ASCII byte.
    const ESCAPED: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS.add(b'%');

    fn encode(lit: &[u8]) -> String {
        percent_encoding::percent_encode(lit, ESCAPED).to_string()
    }

    fn decode(text: &str) -> Result<Vec<u8>, String> {
        // Every `%` this module writes starts an escape of two hex digits; anything else is
        // a damaged document, not a literal `%`.
        let b = text.as_bytes();
        let hex = |i: usize| b.get(i).is_some_and(u8::is_ascii_hexdigit);
        if (0..b.len()).any(|i| b[i] == b'%' && !(hex(i + 1) && hex(i + 2))) {
            return Err("truncated or malformed escape".into());
        }
        Ok(percent_encoding::percent_decode_str(text).collect())
    }

    pub fn serialize<S: Serializer>(lits: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        lits.iter()
            .map(|l| encode(l))
            .collect::<Vec<_>>()
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|t| decode(t).map_err(serde::de::Error::custom))
            .collect()
    }

    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(
            lits: &Option<Vec<Vec<u8>>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match lits {
                Some(l) => super::serialize(l, s),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<Vec<Vec<u8>>>, D::Error> {
            Option::<Vec<String>>::deserialize(d)?
                .map(|v| {
                    v.iter()
                        .map(|t| super::decode(t).map_err(serde::de::Error::custom))
                        .collect()
                })
                .transpose()
        }
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn roundtrip() {
            for lit in [&b"ghp_"[..], b"a%b", b"\xff\x00z"] {
                assert_eq!(super::decode(&super::encode(lit)).unwrap(), lit);
            }
            assert!(super::decode("%4").is_err());
        }
    }
}

/// Keywords as the engine uses them: lower-cased, non-empty, sorted, deduplicated.
pub fn normalize_keywords(keywords: &[String]) -> Vec<String> {
    let mut k: Vec<String> = keywords
        .iter()
        .map(|k| k.to_ascii_lowercase())
        .filter(|k| !k.is_empty())
        .collect();
    k.sort();
    k.dedup();
    k
}

/// Which literals anchor a rule's windows, and which keywords gate it:
/// - the rule's keywords, when they provably occur in every match (no gate);
/// - else literals derived from the regex, gated by the keywords (gitleaks semantics: a
///   keyword must occur somewhere in the input);
/// - else no anchor (`None`): the regex runs over whole inputs, still gated.
pub fn choose_anchors(
    a: &RegexAnalysis,
    keywords: &[String],
    min_derived: usize,
) -> (Option<Vec<String>>, Vec<String>) {
    if a.keywords_cover_matches(keywords) {
        (Some(keywords.to_vec()), Vec::new())
    } else {
        (a.derived_keywords(min_derived), keywords.to_vec())
    }
}

fn memchr_contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.len() <= hay.len()
        && hay
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Whether `hir` can match a `\n` byte.
fn can_match_newline(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => false,
        HirKind::Literal(lit) => lit.0.contains(&b'\n'),
        HirKind::Class(Class::Bytes(c)) => c
            .ranges()
            .iter()
            .any(|r| r.start() <= b'\n' && b'\n' <= r.end()),
        HirKind::Class(Class::Unicode(c)) => c
            .ranges()
            .iter()
            .any(|r| r.start() <= '\n' && '\n' <= r.end()),
        HirKind::Repetition(rep) => rep.max != Some(0) && can_match_newline(&rep.sub),
        HirKind::Capture(cap) => can_match_newline(&cap.sub),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => subs.iter().any(can_match_newline),
    }
}

/// The (lower-cased) set of bytes a class matches, when small and ASCII.
fn class_bytes(class: &Class) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    match class {
        Class::Bytes(c) => {
            for r in c.ranges() {
                for b in r.start()..=r.end() {
                    out.push(b.to_ascii_lowercase());
                    if out.len() > 2 * MAX_SET {
                        return None;
                    }
                }
            }
        }
        Class::Unicode(c) => {
            for r in c.ranges() {
                if r.end() as u32 > 0x7f {
                    return None;
                }
                for ch in r.start()..=r.end() {
                    out.push((ch as u8).to_ascii_lowercase());
                    if out.len() > 2 * MAX_SET {
                        return None;
                    }
                }
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    Some(out)
}

/// The exact set of strings `hir` matches (lower-cased), when small.
fn exact(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Some(vec![Vec::new()]),
        HirKind::Literal(lit) => Some(vec![lit.0.to_ascii_lowercase()]),
        HirKind::Class(c) => {
            let bytes = class_bytes(c)?;
            (bytes.len() <= MAX_SET).then(|| bytes.into_iter().map(|b| vec![b]).collect())
        }
        HirKind::Capture(cap) => exact(&cap.sub),
        HirKind::Repetition(rep) => {
            if Some(rep.min) != rep.max || rep.min > 8 {
                return None;
            }
            let sub = exact(&rep.sub)?;
            let mut acc = vec![Vec::new()];
            for _ in 0..rep.min {
                acc = cross(&acc, &sub, MAX_SET)?;
            }
            Some(acc)
        }
        HirKind::Concat(subs) => {
            let mut acc = vec![Vec::new()];
            for s in subs {
                acc = cross(&acc, &exact(s)?, MAX_SET)?;
            }
            Some(acc)
        }
        HirKind::Alternation(subs) => {
            let mut acc = Vec::new();
            for s in subs {
                acc.extend(exact(s)?);
                if acc.len() > MAX_SET {
                    return None;
                }
            }
            acc.sort();
            acc.dedup();
            Some(acc)
        }
    }
}

fn cross(a: &[Vec<u8>], b: &[Vec<u8>], limit: usize) -> Option<Vec<Vec<u8>>> {
    if a.len().saturating_mul(b.len()) > limit {
        return None;
    }
    let mut out = Vec::with_capacity(a.len() * b.len());
    for x in a {
        for y in b {
            let mut s = x.clone();
            s.extend_from_slice(y);
            s.truncate(MAX_LIT_LEN);
            out.push(s);
        }
    }
    out.sort();
    out.dedup();
    Some(out)
}

/// A required-literal set with where it sits: every match contains some literal of `set`
/// with at most `before` bytes of the match ahead of it and `after` bytes behind it.
#[derive(Debug, Clone)]
struct Req {
    set: Vec<Vec<u8>>,
    before: Option<usize>,
    after: Option<usize>,
}

impl Req {
    fn exact(set: Vec<Vec<u8>>) -> Self {
        Req {
            set,
            before: Some(0),
            after: Some(0),
        }
    }

    fn shifted(mut self, before: Option<usize>, after: Option<usize>) -> Self {
        self.before = add(self.before, before);
        self.after = add(self.after, after);
        self
    }
}

fn add(a: Option<usize>, b: Option<usize>) -> Option<usize> {
    a?.checked_add(b?)
}

/// Sum of the maximum lengths of `hirs` (`None` if any is unbounded).
fn max_len_sum(hirs: &[Hir]) -> Option<usize> {
    hirs.iter().try_fold(0usize, |acc, h| {
        acc.checked_add(h.properties().maximum_len()?)
    })
}

/// How useful a required set is: literals of at least four bytes are selective enough, so
/// up to that length longer wins; beyond it fewer literals win once there are more than four
/// (each is another keyword), then longer literals, then a known position.
fn score(r: &Req) -> (usize, std::cmp::Reverse<usize>, usize, bool) {
    let min = r.set.iter().map(Vec::len).min().unwrap_or(0);
    (
        min.min(4),
        std::cmp::Reverse(r.set.len().max(4)),
        min.min(16),
        r.before.is_some() && r.after.is_some(),
    )
}

fn better(a: Option<Req>, b: Option<Req>) -> Option<Req> {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(a), Some(b)) => Some(if score(&b) > score(&a) { b } else { a }),
    }
}

/// Every required-literal candidate of a concatenation: each maximal run of exact children,
/// each child's own required set, and a run extended into an adjacent child whose literals
/// sit at its edge (so `(?i)(?:hcloud|hetzner)`, which the parser factors into
/// `h(?:cloud|etzner)`, still yields `hcloud`/`hetzner`).
fn concat_candidates(subs: &[Hir]) -> Vec<Req> {
    let mut out = Vec::new();
    let mut run: Option<(usize, Vec<Vec<u8>>)> = None;
    let push_run = |out: &mut Vec<Req>, start: usize, end: usize, set: &[Vec<u8>]| {
        if set.iter().all(|l| !l.is_empty()) {
            out.push(Req {
                set: set.to_vec(),
                before: max_len_sum(&subs[..start]),
                after: max_len_sum(&subs[end..]),
            });
        }
    };
    for (i, s) in subs.iter().enumerate() {
        let extended = exact(s).and_then(|e| match &run {
            None => (e.len() <= MAX_RUN_PRODUCT).then_some((i, e)),
            Some((start, r)) => cross(r, &e, MAX_RUN_PRODUCT).map(|x| (*start, x)),
        });
        match extended {
            Some(x) => {
                // A run that a class just multiplied stays a candidate in its own right
                // (`JQQJ9` before `[9DH]` widens it to three literals).
                if let Some((start, prev)) = &run {
                    if x.1.len() > prev.len() {
                        push_run(&mut out, *start, i, prev);
                    }
                }
                run = Some(x)
            }
            None => {
                let inner = required(s);
                if let Some((start, set)) = run.take() {
                    push_run(&mut out, start, i, &set);
                    // The run directly precedes literals at the child's left edge.
                    if let Some(r) = inner.as_ref().filter(|r| r.before == Some(0)) {
                        if let Some(joined) = cross(&set, &r.set, MAX_SET) {
                            out.push(Req {
                                set: joined,
                                before: max_len_sum(&subs[..start]),
                                after: add(r.after, max_len_sum(&subs[i + 1..])),
                            });
                        }
                    }
                }
                run = exact(s)
                    .filter(|e| e.len() <= MAX_RUN_PRODUCT)
                    .map(|e| (i, e));
                if let Some(r) = inner {
                    // Literals at the child's right edge directly followed by an exact run.
                    if r.after == Some(0) {
                        if let Some(next) = subs
                            .get(i + 1)
                            .and_then(exact)
                            .filter(|e| e.len() <= MAX_RUN_PRODUCT)
                        {
                            if let Some(joined) = cross(&r.set, &next, MAX_SET) {
                                out.push(Req {
                                    set: joined,
                                    before: add(r.before, max_len_sum(&subs[..i])),
                                    after: max_len_sum(&subs[i + 2..]),
                                });
                            }
                        }
                    }
                    out.push(r.shifted(max_len_sum(&subs[..i]), max_len_sum(&subs[i + 1..])));
                }
            }
        }
    }
    if let Some((start, set)) = run {
        push_run(&mut out, start, subs.len(), &set);
    }
    out
}

/// All candidates, including those nested in groups and repetitions, placed relative to the
/// whole match (for choosing the one a rule's keywords name).
fn top_candidates(hir: &Hir) -> Vec<Req> {
    match hir.kind() {
        HirKind::Capture(cap) => top_candidates(&cap.sub),
        HirKind::Concat(subs) => {
            let mut out = concat_candidates(subs);
            for (i, s) in subs.iter().enumerate() {
                if matches!(
                    s.kind(),
                    HirKind::Capture(_) | HirKind::Concat(_) | HirKind::Repetition(_)
                ) {
                    let (pre, post) = (max_len_sum(&subs[..i]), max_len_sum(&subs[i + 1..]));
                    out.extend(top_candidates(s).into_iter().map(|r| r.shifted(pre, post)));
                }
            }
            out
        }
        HirKind::Repetition(rep) if rep.min > 0 => {
            let rest = rep.max.and_then(|m| {
                rep.sub
                    .properties()
                    .maximum_len()?
                    .checked_mul(m as usize - 1)
            });
            top_candidates(&rep.sub)
                .into_iter()
                .map(|r| r.shifted(Some(0), rest))
                .collect()
        }
        _ => required(hir).into_iter().collect(),
    }
}

/// A set of literals every match of `hir` contains (lower-cased), with their position.
fn required(hir: &Hir) -> Option<Req> {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => None,
        HirKind::Literal(lit) => Some(Req::exact(vec![lit.0.to_ascii_lowercase()])),
        HirKind::Class(_) => exact(hir)
            .filter(|s| s.len() <= MAX_RUN_PRODUCT)
            .map(Req::exact),
        HirKind::Capture(cap) => required(&cap.sub),
        HirKind::Repetition(rep) => {
            if rep.min == 0 {
                return None;
            }
            // The literal is in the first repetition; the others may follow it.
            let rest = rep.max.and_then(|m| {
                rep.sub
                    .properties()
                    .maximum_len()?
                    .checked_mul(m as usize - 1)
            });
            better(
                required(&rep.sub).map(|r| r.shifted(Some(0), rest)),
                exact(hir)
                    .filter(|s| s.len() <= MAX_RUN_PRODUCT)
                    .map(Req::exact),
            )
        }
        HirKind::Alternation(subs) => {
            let mut acc = Req::exact(Vec::new());
            for s in subs {
                let r = required(s)?;
                acc.set.extend(r.set);
                acc.before = acc.before.zip(r.before).map(|(a, b)| a.max(b));
                acc.after = acc.after.zip(r.after).map(|(a, b)| a.max(b));
                if acc.set.len() > MAX_SET {
                    return None;
                }
            }
            acc.set.sort();
            acc.set.dedup();
            Some(acc)
        }
        HirKind::Concat(subs) => concat_candidates(subs)
            .into_iter()
            .fold(None, |best, c| better(best, Some(c))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(p: &str) -> (Option<usize>, Option<usize>) {
        let a = analyse(p).unwrap();
        (a.anchor_before, a.anchor_after)
    }

    #[test]
    fn anchor_positions() {
        assert_eq!(pos(r"\b(ghp_[0-9A-Za-z]{36})\b"), (Some(0), Some(36)));
        assert_eq!(
            pos(r"[a-z_]{0,10}password[ \t]{0,3}=[ \t]{0,3}([a-z]{8,20})"),
            (Some(10), Some(27))
        );
        // The exact prefix joins the run: {xxtok_, ytok_} at offset 0.
        assert_eq!(pos(r"(?:x{2}|y)tok_[a-z]{4}"), (Some(0), Some(4)));
        assert_eq!(pos(r"[a-z]+tok_[a-z]{4}"), (None, Some(4)));
        // Alternation of anchored branches: worst case of each side.
        assert_eq!(
            pos(r"(?:aaa_[0-9]{2}|[a-z]{3}bbb_[0-9]{5})"),
            (Some(3), Some(5))
        );
    }

    fn req(p: &str) -> Option<Vec<String>> {
        analyse(p).unwrap().required.map(|s| {
            s.into_iter()
                .map(|l| String::from_utf8(l).unwrap())
                .collect()
        })
    }

    #[test]
    fn prefix_literal_is_required() {
        assert_eq!(req(r"\b(ghp_[A-Za-z0-9]{36})\b"), Some(vec!["ghp_".into()]));
    }

    #[test]
    fn case_insensitive_literal_is_lowercased() {
        assert_eq!(
            req(r"(?i)Password\s*=\s*(\S{8,20})"),
            Some(vec!["password".into()])
        );
    }

    #[test]
    fn alternation_unions() {
        assert_eq!(
            req(r"(?:ghp|gho)_[a-z]{3}"),
            Some(vec!["gho_".into(), "ghp_".into()])
        );
    }

    #[test]
    fn wide_class_ends_a_run() {
        assert_eq!(req(r"A3T[A-Z0-9][A-Z0-9]{16}"), Some(vec!["a3t".into()]));
    }

    #[test]
    fn optional_parts_are_not_required() {
        // Every match holds a digit, which is true but useless as a keyword.
        let a = analyse(r"(?:abc)?[0-9]{4}").unwrap();
        assert_eq!(a.derived_keywords(3), None);
        assert_eq!(req(r"(?:abc)?x"), Some(vec!["x".into()]));
        assert_eq!(req(r"(?:abc)?\w"), None);
    }

    #[test]
    fn max_len_and_multiline() {
        let a = analyse(r"(?s)-----BEGIN.{1,100}-----END").unwrap();
        assert_eq!(a.max_len, Some(10 + 100 + 8));
        assert!(a.multiline);
        let b = analyse(r"ghp_[A-Za-z0-9]{36}").unwrap();
        assert_eq!(b.max_len, Some(40));
        assert!(!b.multiline);
        assert_eq!(analyse(r"x\s+").unwrap().max_len, None);
    }

    #[test]
    fn keyword_coverage() {
        let a = analyse(r"(?i)(?:api|secret)_key\s*=\s*(\w{20})").unwrap();
        assert!(a.keywords_cover_matches(&["_key".into()]));
        assert!(!a.keywords_cover_matches(&["api".into()]));
        assert!(a.keywords_cover_matches(&["api".into(), "secret".into()]));
    }

    #[test]
    fn go_compat_rewrites() {
        assert_eq!(go_compat(r"a{2,3}b{4}c{5,}"), r"a{2,3}b{4}c{5,}");
        assert_eq!(go_compat(r"\$?{{[^}]+}}"), r"\$?\{\{[^}]+}}");
        assert_eq!(go_compat(r"[{]x{,3}"), r"[{]x\{,3}");
        assert_eq!(go_compat(r"[^]{]x"), r"[^]{]x");
        assert_eq!(go_compat(r"[[:alpha:]{]z"), r"[[:alpha:]{]z");
        assert_eq!(go_compat(r"\Qa.b\E+"), r"a\.b+");
        assert_eq!(go_compat(r"\{x"), r"\{x");
        assert_eq!(go_compat(r"\p{Greek}{2}\x{41}"), r"\p{Greek}{2}\x{41}");
        // Everything rewritten parses.
        for p in [r"\$?{{[^}]+}}", r"x{,3}", r"a{b}", r"\Q{}\E"] {
            assert!(parse(p).is_ok(), "{p}");
        }
    }

    #[test]
    fn factored_alternations_keep_their_prefix() {
        // The parser factors the shared `h` out of both branches.
        let a = analyse(r"(?i)(?:hcloud_[a-z]{3}|hetzner[0-9]{2})=([a-z]{20})").unwrap();
        assert!(
            a.keywords_cover_matches(&["hcloud".into(), "hetzner".into()]),
            "{:?}",
            a.candidates
        );
    }

    #[test]
    fn keywords_choose_their_candidate() {
        // Two required parts: the provider name and a later `api_key`.
        let a = analyse(r"(?i)(?:datadog|dd)[_.-]{0,3}api_key[ \t]{0,3}=[ \t]{0,3}([a-f0-9]{32})")
            .unwrap();
        let c = a
            .covering(&["datadog".into(), "dd".into()])
            .expect("provider names anchor");
        assert_eq!(c.before, Some(0));
        let c = a.covering(&["api_key".into()]).expect("api_key anchors");
        assert_eq!(c.before, Some(10));
    }

    #[test]
    fn unicode_fallback() {
        let a = analyse(r"\p{Greek}+x").unwrap();
        assert!(a.unicode);
    }

    #[test]
    fn regex_errors_never_echo_the_pattern() {
        const TOKEN: &str = "fake_TOKEN_abc123XYZ";
        for pattern in [
            format!("({TOKEN}"),
            format!("{TOKEN}[z-a]"),
            format!("{TOKEN}\\"),
            format!("a\n{TOKEN}(?P<"),
        ] {
            let e = analyse(&pattern).unwrap_err();
            let text = e.to_string();
            assert!(!text.contains(TOKEN), "{text}");
            assert!(matches!(e, RegexError::Syntax { .. }), "{e:?}");
            assert!(text.contains("column"), "{text}");
        }
        let e = analyse(&format!("({TOKEN}")).unwrap_err();
        assert_eq!(
            e,
            RegexError::Syntax {
                kind: "unclosed group".into(),
                line: 1,
                column: 1
            }
        );
        assert_eq!(e.to_string(), "unclosed group (column 1)");
    }
}
