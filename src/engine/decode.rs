//! Decode-and-rescan: base64 runs that contain an encoded keyword, and percent-encoded text
//! around keyword hits, are decoded into a bounded buffer and scanned again. Findings are
//! reported at the encoded location, with the encoding chain.

use super::{Engine, InputMeta, Match, ScanState, has_allow_marker, line_of};
use serde::Serialize;
use std::ops::Range;

/// An encoding the engine saw through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// Standard or URL-safe base64.
    Base64,
    /// URL percent-encoding.
    Percent,
    /// UTF-16LE text (ASCII characters each followed by a zero byte).
    Utf16le,
}

impl Encoding {
    /// The lower-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Base64 => "base64",
            Encoding::Percent => "percent",
            Encoding::Utf16le => "utf16le",
        }
    }
}

/// Reusable buffers for one decode depth.
#[derive(Debug, Default)]
pub(crate) struct Buffers {
    decoded: Vec<u8>,
    /// For percent decoding: source offset of each decoded byte.
    map: Vec<u32>,
    found: Vec<Match>,
    done: Vec<Run>,
}

/// Shortest base64 run worth decoding.
const MIN_B64_RUN: usize = 16;
/// Encoded characters kept as context where a decoded base64 run or percent region was cut
/// out of longer text: matches that reach into it are left to a run or region that holds them
/// whole, so a finding never depends on where a cut happened to fall (`\b` and `^` see a cut
/// as an edge of the input).
pub(crate) const B64_EDGE: usize = 8;

/// A decoded base64 run: its encoded range, and the part of it whose matches are reported.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    range: Range<usize>,
    interior: Range<usize>,
    real_start: bool,
    real_end: bool,
}

impl Run {
    /// Whether every match that could contain an encoded keyword at `pos` lies in the interior.
    fn covers(&self, pos: usize, margin: usize) -> bool {
        (self.real_start || self.interior.start + margin <= pos)
            && (self.real_end || pos + margin <= self.interior.end)
            && self.range.contains(&pos)
    }
}

fn is_b64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_')
}

fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

fn hex_val(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b - b'A' + 10,
    }
}

/// Whether `s` holds a `%XX` escape.
fn has_percent_escape(s: &[u8]) -> bool {
    memchr::memchr_iter(b'%', s).any(|i| i + 2 < s.len() && is_hex(s[i + 1]) && is_hex(s[i + 2]))
}

impl Engine {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn decode_and_rescan(
        &self,
        st: &mut ScanState,
        hay: &[u8],
        owned: &Range<usize>,
        meta: &InputMeta<'_>,
        depth: usize,
        out: &mut Vec<Match>,
    ) {
        if st.decode_bufs.len() <= depth {
            st.decode_bufs.resize_with(depth + 1, Buffers::default);
        }
        let mut bufs = std::mem::take(&mut st.decode_bufs[depth]);
        bufs.done.clear();
        let hits = std::mem::take(&mut st.b64_hits);
        let mut plain = std::mem::take(&mut st.plain_hits);
        let inner_meta = InputMeta {
            binary: false,
            ..*meta
        };
        let margin = self.b64_margin();
        for &(pos, off) in &hits {
            // Hits are in input order: a run decoded for an earlier hit usually covers this one.
            if bufs.done.iter().rev().any(|d| d.covers(pos, margin)) {
                continue;
            }
            let Some(run) = base64_run(hay, pos, off as usize, margin + B64_EDGE) else {
                continue;
            };
            let real_start = run.start == 0 || !is_b64(hay[run.start - 1]);
            let real_end = run.end == hay.len() || !is_b64(hay[run.end]);
            let interior = run.start + if real_start { 0 } else { B64_EDGE }
                ..run.end.saturating_sub(if real_end { 0 } else { B64_EDGE });
            bufs.done.push(Run {
                range: run.clone(),
                interior: interior.clone(),
                real_start,
                real_end,
            });
            bufs.decoded.clear();
            if !decode_base64_into(&hay[run.clone()], &mut bufs.decoded) {
                continue;
            }
            bufs.found.clear();
            let decoded = std::mem::take(&mut bufs.decoded);
            self.scan_depth(
                st,
                &decoded,
                0..decoded.len(),
                &inner_meta,
                depth + 1,
                &mut bufs.found,
            );
            for m in bufs.found.drain(..) {
                let enc = |r: &Range<usize>| {
                    let s = run.start + r.start * 4 / 3;
                    let e = (run.start + (r.end * 4).div_ceil(3)).min(run.end);
                    s..e.max(s)
                };
                let secret_span = enc(&m.secret_span);
                let span = enc(&m.span);
                if span.start.min(secret_span.start) < interior.start
                    || span.end.max(secret_span.end) > interior.end
                {
                    // Too close to where the run was cut: a run around its own keyword
                    // holds it whole.
                    continue;
                }
                self.push_decoded(
                    hay,
                    owned,
                    m,
                    span,
                    secret_span,
                    super::Encoding::Base64,
                    out,
                );
            }
            bufs.decoded = decoded;
        }
        st.b64_hits = hits;

        // Percent-encoded runs: the run of URL characters around a plain keyword hit, when it
        // holds an escape. A run is a property of the text (not of where a chunk or window
        // was cut), and only matches in its uncut interior are reported, so whole and chunked
        // scans agree. One SIMD pass first: most inputs have no `%` near any keyword.
        // (Taken before the base64 pass: nested scans reuse `st`'s hit lists.)
        // Hits come in order of their end; keywords of different lengths can interleave starts.
        plain.sort_unstable();
        plain.dedup();
        let reach = self.percent_reach();
        let area = plain
            .first()
            .zip(plain.last())
            .map(|(&lo, &hi)| lo.saturating_sub(reach)..(hi + reach).min(hay.len()));
        if area.is_some_and(|a| memchr::memchr(b'%', &hay[a]).is_some()) {
            bufs.done.clear();
            for &pos in &plain {
                if bufs.done.iter().rev().any(|d| d.covers(pos, reach)) {
                    continue;
                }
                let Some(run) = percent_run(hay, pos, reach) else {
                    continue;
                };
                bufs.done.push(run.clone());
                let (s, e) = (run.range.start, run.range.end);
                percent_decode(&hay[s..e], s, &mut bufs.decoded, &mut bufs.map);
                bufs.found.clear();
                let decoded = std::mem::take(&mut bufs.decoded);
                self.scan_depth(
                    st,
                    &decoded,
                    0..decoded.len(),
                    &inner_meta,
                    depth + 1,
                    &mut bufs.found,
                );
                for m in bufs.found.drain(..) {
                    let map = &bufs.map;
                    let enc = |r: &Range<usize>| {
                        if r.is_empty() || r.end > map.len() {
                            return 0..0;
                        }
                        // Decoded bytes [a, b) came from source bytes [map[a], map[b]), the
                        // last ones running to the run's end. (A `%` that does not start an
                        // escape is a single byte.)
                        let start = map[r.start] as usize;
                        let end = map.get(r.end).map_or(e, |&next| next as usize);
                        start..end
                    };
                    let secret_span = enc(&m.secret_span);
                    if secret_span.is_empty() {
                        continue;
                    }
                    // Nothing in the secret was encoded and the plain scan reported it: keep
                    // that one. (The plain scan can miss it: in `KEY%3Dghp_…` the encoded `=`
                    // leaves no word boundary before the token.)
                    if !has_percent_escape(&hay[secret_span.clone()])
                        && out.iter().any(|o| {
                            o.rule == m.rule && o.decoded.is_empty() && o.secret_span == secret_span
                        })
                    {
                        continue;
                    }
                    let span = enc(&m.span);
                    let (lo, hi) = (
                        span.start.min(secret_span.start),
                        span.end.max(secret_span.end),
                    );
                    if lo < run.interior.start || hi > run.interior.end {
                        // Too close to where the run was cut: the run around a nearer hit
                        // holds it whole.
                        continue;
                    }
                    self.push_decoded(
                        hay,
                        owned,
                        m,
                        span,
                        secret_span,
                        super::Encoding::Percent,
                        out,
                    );
                }
                bufs.decoded = decoded;
            }
        }
        st.plain_hits = plain;
        st.decode_bufs[depth] = bufs;
    }

    #[allow(clippy::too_many_arguments)]
    fn push_decoded(
        &self,
        hay: &[u8],
        owned: &Range<usize>,
        mut m: Match,
        span: Range<usize>,
        secret_span: Range<usize>,
        how: Encoding,
        out: &mut Vec<Match>,
    ) {
        let span = span.start.min(secret_span.start)..span.end.max(secret_span.end);
        // Like a plain match, a decoded one belongs to the chunk where it starts.
        if !owned.contains(&span.start) {
            return;
        }
        if self.options.inline_allow && has_allow_marker(&hay[line_of(hay, span.clone())]) {
            return;
        }
        m.span = span;
        m.secret_span = secret_span;
        m.decoded.insert(0, how);
        out.push(m);
    }
}

/// The base64 run around an encoded-keyword hit at `pos` whose first character sits at
/// `quantum_offset` inside a 4-character quantum, extending at most about `reach` encoded
/// characters on each side.
fn base64_run(hay: &[u8], pos: usize, quantum_offset: usize, reach: usize) -> Option<Range<usize>> {
    let q = pos.checked_sub(quantum_offset)?;
    let reach = reach + 4;
    let all_b64 = |r: Range<usize>| hay[r].iter().all(|&b| is_b64(b));
    let mut start = q;
    while start >= 4 && q - start < reach && all_b64(start - 4..start) {
        start -= 4;
    }
    let mut end = q;
    while end + 4 <= hay.len() && end - q < reach + 4 && all_b64(end..end + 4) {
        end += 4;
    }
    // A final partial quantum (2 or 3 characters), possibly padded.
    let mut tail = 0;
    while tail < 3 && end + tail < hay.len() && is_b64(hay[end + tail]) {
        tail += 1;
    }
    if tail >= 2 {
        end += tail;
    }
    (end >= pos + 4 && end - start >= MIN_B64_RUN).then_some(start..end)
}

/// Bytes that can be part of a percent-encoded run (a URL, a query string, a form body):
/// printable ASCII but for the quotes and angle brackets that delimit URLs in text. Sloppy
/// URLs carry raw `^`, `{`, `|`… (often inside the very password that matters), so they
/// stay in the run.
/// How many URL characters come right before `pos` (at most `limit`): the part of a
/// percent-encoded run that can lie before a scan's owned span.
pub(super) fn url_run_before(hay: &[u8], pos: usize, limit: usize) -> usize {
    hay[..pos]
        .iter()
        .rev()
        .take(limit)
        .take_while(|&&b| is_url_byte(b))
        .count()
}

fn is_url_byte(b: u8) -> bool {
    b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'<' | b'>' | b'`')
}

/// The percent-encoded run around a plain keyword hit at `pos`: URL bytes up to `reach` on
/// each side, if it holds an escape.
fn percent_run(hay: &[u8], pos: usize, reach: usize) -> Option<Run> {
    if !hay.get(pos).copied().is_some_and(is_url_byte) {
        return None;
    }
    let mut start = pos;
    while start > 0 && pos - start < reach && is_url_byte(hay[start - 1]) {
        start -= 1;
    }
    let mut end = pos;
    while end < hay.len() && end - pos < reach && is_url_byte(hay[end]) {
        end += 1;
    }
    if !has_percent_escape(&hay[start..end]) {
        return None;
    }
    let real_start = start == 0 || !is_url_byte(hay[start - 1]);
    let real_end = end == hay.len() || !is_url_byte(hay[end]);
    // The delimiters themselves belong to the text a rule sees: `password%3D%22…"` closes its
    // quote with a raw one.
    if real_start && start > 0 {
        start -= 1;
    }
    if real_end && end < hay.len() {
        end += 1;
    }
    let interior = start + if real_start { 0 } else { B64_EDGE }..end.saturating_sub(if real_end {
        0
    } else {
        B64_EDGE
    });
    Some(Run {
        range: start..end,
        interior,
        real_start,
        real_end,
    })
}

/// Decodes a base64 run (either alphabet, padding optional) into `out`.
fn decode_base64_into(run: &[u8], out: &mut Vec<u8>) -> bool {
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const CFG: GeneralPurposeConfig = GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true);
    const STD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, CFG);
    const URL: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, CFG);
    let run = if run.len() % 4 == 1 {
        &run[..run.len() - 1]
    } else {
        run
    };
    let url = run.iter().any(|&b| b == b'-' || b == b'_');
    let engine = if url { &URL } else { &STD };
    engine.decode_vec(run, out).is_ok()
}

/// Percent-decodes `src` (whose first byte is at offset `base` in the haystack) into `out`,
/// recording for every decoded byte the haystack offset it came from.
fn percent_decode(src: &[u8], base: usize, out: &mut Vec<u8>, map: &mut Vec<u32>) {
    out.clear();
    map.clear();
    let mut i = 0;
    while i < src.len() {
        let b = src[i];
        if b == b'%' && i + 2 < src.len() && is_hex(src[i + 1]) && is_hex(src[i + 2]) {
            out.push(hex_val(src[i + 1]) << 4 | hex_val(src[i + 2]));
            map.push((base + i) as u32);
            i += 3;
        } else {
            out.push(b);
            map.push((base + i) as u32);
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_roundtrip_map() {
        let mut out = Vec::new();
        let mut map = Vec::new();
        percent_decode(b"a%2Fb%zz", 10, &mut out, &mut map);
        assert_eq!(out, b"a/b%zz");
        assert_eq!(map, vec![10, 11, 14, 15, 16, 17]);
    }

    #[test]
    fn run_bounds() {
        let hay = b"x = \"aGVsbG8gd29ybGQgaGVsbG8gd29ybGQ=\";";
        // "hello world hello world" base64; pretend a hit at the start of the run.
        let run = base64_run(hay, 5, 0, 140).unwrap();
        assert_eq!(&hay[run.clone()], b"aGVsbG8gd29ybGQgaGVsbG8gd29ybGQ");
        let mut out = Vec::new();
        assert!(decode_base64_into(&hay[run], &mut out));
        assert_eq!(out, b"hello world hello world");
    }
}
