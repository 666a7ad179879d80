//! Which regexes describe a token whose own prefix marks where it starts: a *left guard* (a
//! `\b`, a `^`, or "`^` or a byte that is no letter or digit") followed by literal text that
//! begins with a letter or digit (`\b(ghp_…)`, `(?:(?m:^)|[^A-Za-z0-9+/])(IQoJb3JpZ2luX2Vj…)`).
//!
//! The guard keeps the prefix from matching inside a longer identifier or a base64 run, but it
//! also rejects a token right after an escape sequence that ends in a letter or digit (an
//! ANSI colour `\x1b[32m`, a JSON `\n`). The engine runs such a rule once more right after
//! those escapes, as if the token started a line (`engine::escapes`); this module tells the
//! rules where that is sound: the guard accepts the start of a line, and rejects the letter
//! or digit the escape ends with (so a token is never reported twice).
//!
//! Free of crate-internal imports: `build.rs` includes it (through `analysis`) to precompute
//! the built-in rules' analysis.

use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Class, Hir, HirKind, Look};

/// Most prefix literals kept for one regex.
const MAX_PREFIXES: usize = 64;

/// The literal prefixes (lower-cased) that every match of `hir` starts with right after its
/// left guard, when `hir` is such a guarded token; empty otherwise.
pub fn guarded_prefixes(hir: &Hir) -> Vec<Vec<u8>> {
    let HirKind::Concat(subs) = hir.kind() else {
        return Vec::new();
    };
    let guard = subs.iter().take_while(|s| is_guard(s)).count();
    if guard == 0 || guard == subs.len() {
        return Vec::new();
    }
    let rest = Hir::concat(subs[guard..].to_vec());
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(&rest);
    let Some(lits) = seq.literals() else {
        return Vec::new();
    };
    let mut out: Vec<Vec<u8>> = lits
        .iter()
        .map(|l| l.as_bytes().to_ascii_lowercase())
        .collect();
    if out.is_empty()
        || !out
            .iter()
            .all(|l| l.first().is_some_and(u8::is_ascii_alphanumeric))
    {
        return Vec::new();
    }
    // Small classes after the prefix multiply the set (`pk_[0-9]{6,12}`: `pk_00`…`pk_99`):
    // shorten every literal until few remain, which keeps "every match starts with one".
    let mut len = out.iter().map(Vec::len).max().unwrap_or(0);
    loop {
        out.iter_mut().for_each(|l| l.truncate(len));
        out.sort();
        out.dedup();
        if out.len() <= MAX_PREFIXES || len <= 1 {
            break;
        }
        len -= 1;
    }
    out
}

/// A guard item: it matches at the start of a line without consuming a byte, and never right
/// after a letter or digit (given that a letter or digit follows it).
fn is_guard(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Look(look) => is_guard_look(*look),
        HirKind::Capture(cap) => is_guard(&cap.sub),
        HirKind::Alternation(alts) => {
            alts.iter()
                .any(|a| matches!(a.kind(), HirKind::Look(l) if is_guard_look(*l)))
                && alts.iter().all(|a| match a.kind() {
                    HirKind::Look(l) => is_guard_look(*l),
                    HirKind::Class(c) => !has_alnum(c),
                    _ => false,
                })
        }
        _ => false,
    }
}

/// Assertions that hold at the start of the input and fail after a letter or digit when a
/// letter or digit follows.
fn is_guard_look(look: Look) -> bool {
    matches!(
        look,
        Look::Start
            | Look::StartLF
            | Look::StartCRLF
            | Look::WordAscii
            | Look::WordUnicode
            | Look::WordStartAscii
            | Look::WordStartUnicode
            | Look::WordStartHalfAscii
            | Look::WordStartHalfUnicode
    )
}

/// Whether a class matches some ASCII letter or digit.
fn has_alnum(class: &Class) -> bool {
    let alnum = |c: u32| char::from_u32(c).is_some_and(|c| c.is_ascii_alphanumeric());
    match class {
        Class::Bytes(c) => c
            .ranges()
            .iter()
            .any(|r| (r.start()..=r.end()).any(|b| alnum(u32::from(b)))),
        Class::Unicode(c) => c.ranges().iter().any(|r| {
            let (lo, hi) = (u32::from(r.start()), u32::from(r.end()).min(0x7f));
            (lo..=hi).any(alnum)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefixes(pattern: &str) -> Vec<String> {
        let hir = regex_syntax::ParserBuilder::new()
            .unicode(false)
            .utf8(false)
            .build()
            .parse(pattern)
            .unwrap();
        guarded_prefixes(&hir)
            .into_iter()
            .map(|p| String::from_utf8(p).unwrap())
            .collect()
    }

    #[test]
    fn a_word_boundary_before_a_prefix_is_a_guard() {
        assert_eq!(prefixes(r"\b(ghp_[0-9A-Za-z]{36})\b"), ["ghp_"]);
        assert_eq!(
            prefixes(r"\b((?:AKIA|ASIA)[A-Z0-9]{16})\b"),
            ["akia", "asia"]
        );
        assert_eq!(prefixes(r"\b(pn[ub]_[0-9A-Za-z]{36})\b"), ["pnb_", "pnu_"]);
        // The parser factors the common `\b` out of the branches.
        assert_eq!(
            prefixes(r"\b(ghp_[a-z]{4})|\b(gho_[a-z]{4})"),
            ["gho_", "ghp_"]
        );
        let digits: Vec<String> = (0..10).map(|d| format!("xoxb-{d}")).collect();
        assert_eq!(prefixes(r"\b(xoxb-[0-9]{8,14}-[0-9A-Za-z]{24})\b"), digits);
    }

    #[test]
    fn a_line_start_or_a_separator_is_a_guard() {
        assert_eq!(
            prefixes(r"(?:(?m:^)|[^A-Za-z0-9+/%\n])((?:IQoJ|FwoG)[A-Za-z0-9/+]{10})"),
            ["fwog", "iqoj"]
        );
    }

    #[test]
    fn what_is_no_guarded_token() {
        // No guard, a guard that needs a byte before, a guard that admits letters.
        assert!(prefixes(r"(ghp_[0-9A-Za-z]{36})").is_empty());
        assert!(prefixes(r#"[=:"' ](EAAA[0-9A-Za-z]{60})"#).is_empty());
        assert!(prefixes(r"(?:^|[^+/])(EAAA[0-9A-Za-z]{60})").is_empty());
        // A class or a non-word byte right after the guard.
        assert!(prefixes(r"\b([0-9a-f]{32}-us[0-9]{1,2})\b").is_empty());
        assert!(prefixes(r"\b(-----BEGIN)").is_empty());
        // An alternation of unguarded branches.
        assert!(prefixes(r"\b(ghp_[a-z]{4})|(gho_[a-z]{4})").is_empty());
    }
}
