//! The public prefix of a secret: the fixed text a rule's format puts at the start of every
//! secret it finds (`ghp_`, `AKIA`/`ASIA`, `sk_live_`, `-----BEGIN RSA PRIVATE KEY-----`).
//!
//! A report may show it, because it tells the reader which credential this is and reveals
//! nothing an attacker does not know from the format. Everything after it is secret, and a
//! secret with no such prefix (a password, a generic value) shows nothing at all. The prefix
//! is read from the rule's regex: the literal text at the start of the secret's capture
//! group (or the whole regex when it has no group), through concatenations, alternations of
//! literals, case-insensitive letters and exact repetitions, and nothing that could match
//! more than one character (a class of digits is already secret).

use regex_syntax::hir::{Class, Hir, HirKind};

/// Most alternative prefixes kept (`(?:AKIA|ASIA|ABIA|ACCA)` is four).
const MAX_ALTERNATIVES: usize = 64;
/// Longest prefix kept.
const MAX_PREFIX: usize = 40;

/// The public prefixes of the secrets `pattern` finds in `secret_group` (0: the first
/// group, else the whole match), lower-cased; empty when there are none.
pub fn public_prefixes(pattern: &str, secret_group: usize) -> Vec<Vec<u8>> {
    let Ok((hir, _)) = super::analysis::parse(pattern) else {
        return Vec::new();
    };
    let secret = find_group(&hir, secret_group).unwrap_or(&hir);
    let mut prefixes = literal_prefixes(secret).set;
    prefixes.retain(|p| !p.is_empty());
    prefixes.sort();
    prefixes.dedup();
    prefixes
}

/// How many leading bytes of `secret` are one of `prefixes` (compared case-insensitively);
/// the longest that fits with at least eight bytes of secret after it, else 0.
pub fn public_len(secret: &[u8], prefixes: &[Vec<u8>]) -> usize {
    prefixes
        .iter()
        .filter(|p| secret.len() >= p.len() + 8 && secret[..p.len()].eq_ignore_ascii_case(p))
        .map(Vec::len)
        .max()
        .unwrap_or(0)
}

/// The capture group holding the secret: group `index`, or the first group for 0.
fn find_group(hir: &Hir, index: usize) -> Option<&Hir> {
    match hir.kind() {
        HirKind::Capture(cap) if index == 0 || cap.index as usize == index => Some(&cap.sub),
        HirKind::Capture(cap) => find_group(&cap.sub, index),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => {
            subs.iter().find_map(|s| find_group(s, index))
        }
        HirKind::Repetition(rep) => find_group(&rep.sub, index),
        _ => None,
    }
}

/// Literal prefixes of the strings `hir` matches; `complete` when each is all of its match
/// (so whatever follows `hir` extends it).
struct Prefixes {
    set: Vec<Vec<u8>>,
    complete: bool,
}

impl Prefixes {
    fn stop() -> Self {
        Prefixes {
            set: vec![Vec::new()],
            complete: false,
        }
    }

    fn exact(bytes: Vec<u8>) -> Self {
        Prefixes {
            set: vec![bytes],
            complete: true,
        }
    }
}

fn literal_prefixes(hir: &Hir) -> Prefixes {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Prefixes::exact(Vec::new()),
        HirKind::Literal(lit) => Prefixes::exact(lit.0.to_ascii_lowercase()),
        HirKind::Class(class) => match small_class(class) {
            Some(bytes) => Prefixes {
                set: bytes.into_iter().map(|b| vec![b]).collect(),
                complete: true,
            },
            None => Prefixes::stop(),
        },
        HirKind::Capture(cap) => literal_prefixes(&cap.sub),
        HirKind::Repetition(rep) if rep.min >= 1 => {
            let one = literal_prefixes(&rep.sub);
            if one.complete && one.set.len() == 1 && rep.min <= 8 {
                let unit = &one.set[0];
                let times = rep.min as usize;
                Prefixes {
                    set: vec![unit.repeat(times)],
                    complete: rep.max == Some(rep.min),
                }
            } else {
                Prefixes {
                    set: one.set,
                    complete: false,
                }
            }
        }
        HirKind::Repetition(_) => Prefixes::stop(),
        HirKind::Alternation(subs) => {
            let mut set = Vec::new();
            let mut complete = true;
            for s in subs {
                let p = literal_prefixes(s);
                complete &= p.complete;
                set.extend(p.set);
                if set.len() > MAX_ALTERNATIVES {
                    return Prefixes::stop();
                }
            }
            Prefixes { set, complete }
        }
        HirKind::Concat(subs) => concat(subs),
    }
}

/// Prefixes of a concatenation: each part extends the prefixes while the parts before it
/// are wholly literal.
fn concat(subs: &[Hir]) -> Prefixes {
    let mut acc = Prefixes::exact(Vec::new());
    for s in subs {
        let next = literal_prefixes(s);
        let mut set = Vec::new();
        for a in &acc.set {
            for n in &next.set {
                let mut joined = a.clone();
                joined.extend_from_slice(n);
                joined.truncate(MAX_PREFIX);
                set.push(joined);
            }
        }
        if set.len() > MAX_ALTERNATIVES {
            return Prefixes {
                set: acc.set,
                complete: false,
            };
        }
        acc = Prefixes {
            set,
            complete: next.complete,
        };
        if !acc.complete {
            break;
        }
    }
    acc
}

/// The few characters a class stands for (lower-cased): a fixed byte, a letter in either
/// case, or a small choice such as a token type `[bp]` (at most four after folding case);
/// `None` for a class that can hold anything of a secret's variety.
fn small_class(class: &Class) -> Option<Vec<u8>> {
    let members: Vec<u32> = match class {
        Class::Bytes(c) => ranges_of(
            c.ranges()
                .iter()
                .map(|r| (r.start() as u32, r.end() as u32)),
        )?,
        Class::Unicode(c) => ranges_of(
            c.ranges()
                .iter()
                .map(|r| (r.start() as u32, r.end() as u32)),
        )?,
    };
    let mut bytes: Vec<u8> = members
        .iter()
        .map(|&m| {
            u8::try_from(m)
                .ok()
                .filter(u8::is_ascii)
                .map(|b| b.to_ascii_lowercase())
        })
        .collect::<Option<_>>()?;
    bytes.sort_unstable();
    bytes.dedup();
    (bytes.len() <= 4).then_some(bytes)
}

/// The members of a class given as ranges, when there are at most eight.
fn ranges_of(ranges: impl Iterator<Item = (u32, u32)>) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    for (a, b) in ranges {
        if out.len() + (b - a) as usize + 1 > 8 {
            return None;
        }
        out.extend(a..=b);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: Vec<Vec<u8>>) -> Vec<String> {
        v.into_iter()
            .map(|p| String::from_utf8(p).unwrap())
            .collect()
    }

    #[test]
    fn token_formats_have_their_prefix() {
        assert_eq!(
            strs(public_prefixes(r"\b(ghp_[A-Za-z0-9]{36})\b", 0)),
            ["ghp_"]
        );
        assert_eq!(
            strs(public_prefixes(r"\b((?:AKIA|ASIA)[A-Z0-9]{16})\b", 0)),
            ["akia", "asia"]
        );
        assert_eq!(
            strs(public_prefixes(r"(?i)\b(sk_live_[a-z0-9]{24})", 0)),
            ["sk_live_"]
        );
        assert_eq!(
            strs(public_prefixes(
                r"token=(xox[bp]-[0-9]{10,13}-[a-z0-9]+)",
                0
            )),
            ["xoxb-", "xoxp-"]
        );
    }

    #[test]
    fn passwords_and_generic_values_have_none() {
        assert!(public_prefixes(r#"(?i)password\s*=\s*"([^"\s]{6,64})""#, 0).is_empty());
        assert!(public_prefixes(r"(?i)secret[=:]([0-9a-f]{32})", 0).is_empty());
        // The keyword outside the secret group is not part of the secret.
        assert!(public_prefixes(r"(?i)(api_key)=([a-z0-9]{32})", 2).is_empty());
    }

    #[test]
    fn the_shown_part_leaves_the_rest_secret() {
        let prefixes = public_prefixes(r"\b((?:AKIA|ASIA)[A-Z0-9]{16})\b", 0);
        assert_eq!(public_len(b"AKIAQWERTYUIOPASDFGH", &prefixes), 4); // shush:allow (synthetic)
        assert_eq!(public_len(b"AKIA1234", &prefixes), 0);
        assert_eq!(public_len(b"password123", &prefixes), 0);
    }
}
