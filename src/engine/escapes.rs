//! Escape sequences that end in a letter or digit: where a token can start although the byte
//! before it is a word character.
//!
//! Tools print values right after such sequences: an ANSI colour (`\x1b[32m`, grep's
//! `\x1b[K`), an escape inside a JSON string or a Python repr (`\n`, `\t`, `\u003c`,
//! `\x1b[0m` written out). A rule's `\b` sees the `m`, `K`, `n` or `c` and rejects the token;
//! the engine runs a guarded token rule (`Rule::escaped_start`) once more after each of
//! these. Recognised, ending right before the token:
//!
//! - a one-letter backslash escape: `\n` `\r` `\t` `\a` `\b` `\e` `\f` `\v` `\0`;
//! - a numeric backslash escape: `\xHH`, `\uHHHH`, `\UHHHHHHHH`, `\NNN` (octal);
//! - an ANSI control sequence `ESC [ parameters letter`, with the escape byte itself or
//!   written as `\x1b`, `\u001b`, `\u{1b}`, `\033`, `\e` or `^[` (`cat -v`).
//!
//! Percent-escapes (`%0A`) are left to the decoder, which rescans the decoded text.

/// Most parameter bytes accepted in one ANSI control sequence (`38;2;255;255;255` is 16).
const MAX_PARAMS: usize = 32;

/// How the escape byte that starts an ANSI control sequence is written, ASCII case ignored.
const ESC_SPELLINGS: [&[u8]; 7] = [
    b"\x1b", b"\\x1b", b"\\u001b", b"\\u{1b}", b"\\033", b"\\e", b"^[",
];

/// Whether `hay[..at]` ends with an escape sequence whose last byte is an ASCII letter or
/// digit.
pub(crate) fn ends_escape(hay: &[u8], at: usize) -> bool {
    let Some(before) = hay.get(..at) else {
        return false;
    };
    match before.last() {
        Some(b) if b.is_ascii_alphanumeric() => backslash_escape(before) || ansi_sequence(before),
        _ => false,
    }
}

/// `\n`-style and numeric backslash escapes at the end of `b`.
fn backslash_escape(b: &[u8]) -> bool {
    let n = b.len();
    if n >= 2 && b[n - 2] == b'\\' && b"abefnrtv0".contains(&b[n - 1]) {
        return true;
    }
    let numeric = [(b'x', 2), (b'u', 4), (b'U', 8)]
        .iter()
        .any(|&(marker, digits)| {
            n >= digits + 2
                && b[n - digits - 2] == b'\\'
                && b[n - digits - 1] == marker
                && b[n - digits..].iter().all(u8::is_ascii_hexdigit)
        });
    let octal = n >= 4 && b[n - 4] == b'\\' && b[n - 3..].iter().all(|c| (b'0'..=b'7').contains(c));
    numeric || octal
}

/// An ANSI control sequence (`ESC [ parameters final-letter`) at the end of `b`.
fn ansi_sequence(b: &[u8]) -> bool {
    let Some((&last, body)) = b.split_last() else {
        return false;
    };
    if !last.is_ascii_alphabetic() {
        return false;
    }
    let params = body
        .iter()
        .rev()
        .take(MAX_PARAMS + 1)
        .take_while(|c| c.is_ascii_digit() || b";:<=>?".contains(c))
        .count();
    if params > MAX_PARAMS {
        return false;
    }
    let Some(lead) = body[..body.len() - params].strip_suffix(b"[") else {
        return false;
    };
    ESC_SPELLINGS.iter().any(|esc| {
        lead.len() >= esc.len() && lead[lead.len() - esc.len()..].eq_ignore_ascii_case(esc)
    })
}

#[cfg(test)]
mod tests {
    use super::ends_escape;

    fn ends(s: &[u8]) -> bool {
        ends_escape(s, s.len())
    }

    #[test]
    fn ansi_sequences_in_every_spelling() {
        for s in [
            &b"\x1b[32m"[..],
            b"\x1b[1;31m",
            b"\x1b[38;5;208m",
            b"\x1b[01;31m\x1b[K",
            b"\x1b[m",
            b"\x1b[?25l",
            b"\\x1b[32m",
            b"\\x1B[32m",
            b"\\u001b[0m",
            b"\\u{1b}[1m",
            b"\\033[32m",
            b"\\e[32m",
            b"^[[1m",
        ] {
            assert!(ends(s), "{}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    fn backslash_escapes() {
        for s in [
            &b"line one\\n"[..],
            b"\\t",
            b"\\r",
            b"a\\\\n",
            b"\\u003c",
            b"\\x0a",
            b"\\U0000000a",
            b"\\012",
        ] {
            assert!(ends(s), "{}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    fn what_is_no_escape() {
        for s in [
            &b""[..],
            b"value",
            b"task_",
            b"n",
            b"\\q",
            b"[32m",
            b"x[32m",
            b"\x1b[32",
            b"\x1b[32m ",
            b"\\u03c",
            b"\\x0",
            b"\\08",
            b"%0A",
        ] {
            assert!(!ends(s), "{}", String::from_utf8_lossy(s));
        }
        let long = [&b"\x1b["[..], &[b'1'; 40], b"m"].concat();
        assert!(!ends(&long), "too many parameters");
        assert!(!ends_escape(b"\\n", 3), "past the end");
    }

    #[test]
    fn only_the_bytes_before_the_position_count() {
        let s = b"a\\nghp_";
        assert!(ends_escape(s, 3));
        assert!(!ends_escape(s, 4));
    }
}
