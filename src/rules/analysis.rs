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
    pub required: Option<Vec<Vec<u8>>>,
    /// Whether a match can contain a line feed.
    pub multiline: bool,
    /// Whether the regex needed Unicode mode to parse (ASCII mode is preferred: faster and
    /// matches RE2's ASCII `\w`, `\d`, `\s`, `\b`).
    pub unicode: bool,
}

/// Parses `pattern` the way the engine compiles it: ASCII mode first, Unicode mode when the
/// pattern needs it. Returns the HIR and whether Unicode mode was needed.
#[allow(clippy::result_large_err)] // regex_syntax::Error as is: rare, and shown to users
pub fn parse(pattern: &str) -> Result<(Hir, bool), regex_syntax::Error> {
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
            .map(|hir| (hir, true)),
    }
}

/// Analyses `pattern`.
#[allow(clippy::result_large_err)] // regex_syntax::Error as is: rare, and shown to users
pub fn analyse(pattern: &str) -> Result<RegexAnalysis, regex_syntax::Error> {
    let (hir, unicode) = parse(pattern)?;
    let required =
        required(&hir).filter(|set| !set.is_empty() && set.iter().all(|l| !l.is_empty()));
    Ok(RegexAnalysis {
        max_len: hir.properties().maximum_len(),
        required,
        multiline: can_match_newline(&hir),
        unicode,
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

    /// Whether every match is guaranteed to contain one of `keywords` (lower-cased), which
    /// makes scanning only windows around keyword hits exact.
    pub fn keywords_cover_matches(&self, keywords: &[String]) -> bool {
        let Some(req) = &self.required else {
            return false;
        };
        !keywords.is_empty()
            && req.iter().all(|lit| {
                keywords
                    .iter()
                    .any(|k| !k.is_empty() && memchr_contains(lit, k.as_bytes()))
            })
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

/// How useful a required set is: longer shortest literal first, then fewer literals.
fn score(set: &[Vec<u8>]) -> (usize, std::cmp::Reverse<usize>) {
    let min = set.iter().map(Vec::len).min().unwrap_or(0).min(8);
    (min, std::cmp::Reverse(set.len()))
}

fn better(a: Option<Vec<Vec<u8>>>, b: Option<Vec<Vec<u8>>>) -> Option<Vec<Vec<u8>>> {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(a), Some(b)) => Some(if score(&b) > score(&a) { b } else { a }),
    }
}

/// A set of literals every match of `hir` contains (lower-cased), if one is known.
fn required(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => None,
        HirKind::Literal(lit) => Some(vec![lit.0.to_ascii_lowercase()]),
        HirKind::Class(_) => exact(hir).filter(|s| s.len() <= MAX_RUN_PRODUCT),
        HirKind::Capture(cap) => required(&cap.sub),
        HirKind::Repetition(rep) => {
            if rep.min == 0 {
                return None;
            }
            better(
                required(&rep.sub),
                exact(hir).filter(|s| s.len() <= MAX_RUN_PRODUCT),
            )
        }
        HirKind::Alternation(subs) => {
            let mut acc = Vec::new();
            for s in subs {
                acc.extend(required(s)?);
                if acc.len() > MAX_SET {
                    return None;
                }
            }
            acc.sort();
            acc.dedup();
            Some(acc)
        }
        HirKind::Concat(subs) => {
            let mut best: Option<Vec<Vec<u8>>> = None;
            let mut run: Option<Vec<Vec<u8>>> = None;
            for s in subs {
                match exact(s).and_then(|e| match &run {
                    None => (e.len() <= MAX_RUN_PRODUCT).then_some(e),
                    Some(r) => cross(r, &e, MAX_RUN_PRODUCT),
                }) {
                    Some(extended) => run = Some(extended),
                    None => {
                        best = better(best, run.take().filter(|r| r.iter().all(|l| !l.is_empty())));
                        // The child may still start a new run on its own.
                        run = exact(s).filter(|e| e.len() <= MAX_RUN_PRODUCT);
                        best = better(best, required(s));
                    }
                }
            }
            better(best, run.filter(|r| r.iter().all(|l| !l.is_empty())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        // `abc` is optional; only the digits are in every match.
        let digits: Vec<String> = (0..10).map(|d| d.to_string()).collect();
        assert_eq!(req(r"(?:abc)?[0-9]{4}"), Some(digits));
        assert_eq!(req(r"(?:abc)?x*"), None);
    }

    #[test]
    fn max_len_and_multiline() {
        let a = analyse(r"(?s)-----BEGIN.{1,100}-----END").unwrap();
        assert_eq!(a.max_len, Some("-----BEGIN".len() + 100 + "-----END".len()));
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
    fn unicode_fallback() {
        let a = analyse(r"\p{Greek}+x").unwrap();
        assert!(a.unicode);
    }
}
