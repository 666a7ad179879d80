//! The forms a known value takes in a log: the encodings and escapings build tools, shells
//! and languages print a string in. Each function appends the encoded value (only the body
//! of a quoted literal, never its quotes) to `out`; [`super::known::forms`] deduplicates.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_encode};

/// The columns `base64` (coreutils, OpenSSL, `uuencode -m`) wraps its output at.
const BASE64_COLUMNS: usize = 76;
/// PEM's wrapping (OpenSSL `base64 -e`, `openssl enc -a`).
const PEM_COLUMNS: usize = 64;

/// The ways a stored value differs from the secret it holds: the value itself, without the
/// white space around it (a trailing newline from a file or `echo`), and without the quotes
/// it was stored in (`"…"` or `'…'` from a `.env` file).
pub(crate) fn variants(value: &[u8]) -> Vec<&[u8]> {
    let mut out = vec![value];
    let trimmed = value.trim_ascii();
    if trimmed.len() != value.len() {
        out.push(trimmed);
    }
    for q in [b'"', b'\''] {
        if trimmed.len() >= 2 && trimmed[0] == q && trimmed[trimmed.len() - 1] == q {
            out.push(&trimmed[1..trimmed.len() - 1]);
        }
    }
    out
}

/// Base64 in both alphabets, padded and not, of `v` and of `v` with the newline `echo`
/// adds; and each line of it wrapped at 76 and 64 columns.
pub(crate) fn base64_forms(v: &[u8], out: &mut Vec<Vec<u8>>) {
    let mut with_nl = v.to_vec();
    with_nl.push(b'\n');
    for v in [v, &with_nl[..]] {
        for e in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
            out.push(e.encode(v).into_bytes());
        }
        let enc = STANDARD.encode(v).into_bytes();
        for cols in [BASE64_COLUMNS, PEM_COLUMNS] {
            if enc.len() > cols {
                out.extend(enc.chunks(cols).map(<[u8]>::to_vec));
            }
        }
    }
}

/// Characters RFC 3986 leaves unreserved: every other byte is percent-encoded.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Python's `urllib.parse.quote`: `/` kept too.
const PYTHON_QUOTE: &AsciiSet = &UNRESERVED.remove(b'/');
/// JavaScript's `encodeURIComponent`: `!*'()` kept too.
const JS_URI_COMPONENT: &AsciiSet = &UNRESERVED
    .remove(b'!')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// Percent-encodings: RFC 3986 (upper and lower hex), HTML forms (`+` for a space), Python's
/// `quote` (`/` kept) and JavaScript's `encodeURIComponent` (`!*'()` kept too).
pub(crate) fn percent_forms(v: &[u8], out: &mut Vec<Vec<u8>>) {
    let encode = |set: &'static AsciiSet| percent_encode(v, set).to_string().into_bytes();
    let rfc = encode(UNRESERVED);
    out.push(rfc.clone());
    out.push(encode(PYTHON_QUOTE));
    out.push(encode(JS_URI_COMPONENT));
    // A literal `%20` in the value is itself encoded (`%2520`): every `%20` left is a space.
    out.push(
        String::from_utf8_lossy(&rfc)
            .replace("%20", "+")
            .into_bytes(),
    );
    out.push(lower_hex(&rfc));
}

/// `%2F` as `%2f`: the hex digits of every escape in lower case.
fn lower_hex(encoded: &[u8]) -> Vec<u8> {
    let mut out = encoded.to_vec();
    for i in 0..out.len() {
        // Hex digits are never `%`: each escape is met once, at its `%`.
        if out[i] == b'%' {
            let end = (i + 3).min(out.len());
            out[i + 1..end].make_ascii_lowercase();
        }
    }
    out
}

/// JSON string bodies: as serde writes them, with `\/`, ASCII-only (`\uXXXX`), and as Go's
/// `encoding/json` writes them (`&`, `<`, `>`, U+2028 and U+2029 as `\u0026`…).
pub(crate) fn json_forms(v: &[u8], out: &mut Vec<Vec<u8>>) {
    let Ok(text) = std::str::from_utf8(v) else {
        return;
    };
    let Ok(json) = serde_json::to_string(text) else {
        return;
    };
    let inner = json[1..json.len() - 1].to_string();
    out.push(inner.replace('/', "\\/").into_bytes());
    let mut ascii = String::new();
    let mut go = String::new();
    for c in inner.chars() {
        if c.is_ascii() {
            ascii.push(c);
        } else {
            let mut buf = [0u16; 2];
            for u in c.encode_utf16(&mut buf) {
                ascii.push_str(&format!("\\u{u:04x}"));
            }
        }
        match c {
            '&' | '<' | '>' | '\u{2028}' | '\u{2029}' => {
                go.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => go.push(c),
        }
    }
    out.push(ascii.into_bytes());
    out.push(go.into_bytes());
    out.push(inner.into_bytes());
}

/// Escapings that keep most characters: XML and HTML entities, SQL's doubled quote, POSIX
/// shell quoting (`'\''`, `'"'"'`, and the body of a double-quoted word), Python's `repr` of
/// a `str` and of `bytes`, UTF-16LE.
pub(crate) fn text_forms(v: &[u8], out: &mut Vec<Vec<u8>>) {
    let xml = replace(
        v,
        &[
            (b'&', b"&amp;"),
            (b'<', b"&lt;"),
            (b'>', b"&gt;"),
            (b'"', b"&quot;"),
            (b'\'', b"&apos;"),
        ],
    );
    out.push(xml);
    for (apos, quot) in [(&b"&#39;"[..], &b"&#34;"[..]), (b"&#x27;", b"&quot;")] {
        let mut t = replace(v, &[(b'&', b"&amp;"), (b'<', b"&lt;"), (b'>', b"&gt;")]);
        t = replace(&t, &[(b'\'', apos), (b'"', quot)]);
        out.push(t);
    }
    out.push(replace(v, &[(b'\'', b"''")]));
    out.push(replace(v, &[(b'\'', b"'\\''")]));
    out.push(replace(v, &[(b'\'', b"'\"'\"'")]));
    out.push(replace(
        v,
        &[
            (b'\\', b"\\\\"),
            (b'"', b"\\\""),
            (b'$', b"\\$"),
            (b'`', b"\\`"),
        ],
    ));
    out.push(py_repr(v, false));
    out.push(py_repr(v, true));
    if let Ok(text) = std::str::from_utf8(v) {
        out.push(text.encode_utf16().flat_map(u16::to_le_bytes).collect());
    }
}

/// `v` with each byte in `map` replaced by its text.
fn replace(v: &[u8], map: &[(u8, &[u8])]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len() + 8);
    for &b in v {
        match map.iter().find(|(from, _)| *from == b) {
            Some((_, to)) => out.extend_from_slice(to),
            None => out.push(b),
        }
    }
    out
}

/// The body of Python 3's `repr` of a `str` (printable non-ASCII kept) or of `bytes`
/// (non-ASCII as `\xNN`): `'` quotes unless the value has `'` and no `"`.
fn py_repr(v: &[u8], bytes: bool) -> Vec<u8> {
    let quote = if v.contains(&b'\'') && !v.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = Vec::with_capacity(v.len() + 8);
    for &b in v {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b if b == quote => out.extend_from_slice(&[b'\\', b]),
            0x20..=0x7e => out.push(b),
            0x80.. if !bytes => out.push(b),
            b => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(v: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        base64_forms(v, &mut out);
        percent_forms(v, &mut out);
        json_forms(v, &mut out);
        text_forms(v, &mut out);
        out
    }

    #[test]
    fn escapings() {
        let f = all("a&b<c>'d\"e\\é/ f".as_bytes());
        let has = |x: &str| f.iter().any(|p| p == x.as_bytes());
        assert!(has("a&amp;b&lt;c&gt;&apos;d&quot;e\\é/ f"));
        assert!(has("a&amp;b&lt;c&gt;&#39;d&#34;e\\é/ f"));
        assert!(has("a&b<c>''d\"e\\é/ f"));
        assert!(has("a&b<c>'\\''d\"e\\é/ f"));
        assert!(has("a\\u0026b\\u003cc\\u003e'd\\\"e\\\\é/ f"));
        assert!(has("a&b<c>\\'d\"e\\\\é/ f"));
        assert!(has("a&b<c>\\'d\"e\\\\\\xc3\\xa9/ f"));
        assert!(has("a%26b%3Cc%3E'd%22e%5C%C3%A9%2F%20f"));
        assert!(has("a%26b%3Cc%3E%27d%22e%5C%C3%A9/%20f"));
    }

    #[test]
    fn variants_strip_newlines_and_quotes() {
        assert_eq!(
            variants(b"\"abc\"\n"),
            vec![&b"\"abc\"\n"[..], b"\"abc\"", b"abc"]
        );
        assert_eq!(variants(b"abc"), vec![&b"abc"[..]]);
        assert_eq!(variants(b"'x'"), vec![&b"'x'"[..], b"x"]);
    }

    #[test]
    fn base64_is_wrapped_like_the_tools() {
        let v = [7u8; 100];
        let mut out = Vec::new();
        base64_forms(&v, &mut out);
        let enc = STANDARD.encode(v);
        assert!(out.iter().any(|p| p == &enc.as_bytes()[..76]));
        assert!(out.iter().any(|p| p == &enc.as_bytes()[76..]));
        assert!(out.iter().any(|p| p == &enc.as_bytes()[64..128]));
    }
}
