//! UTF-16LE text (what Windows tools write: PowerShell's `Out-File` and `>`, `reg export`,
//! .NET console output redirected to a file) seen through: runs of ASCII characters each
//! followed by a zero byte are narrowed to plain text, scanned like any decoded layer, and
//! matches are reported at their UTF-16LE bytes (two per character) with the encoding
//! `utf16le`.
//!
//! Only ASCII is narrowed: every rule's token and keyword is ASCII, and a non-ASCII character
//! ends a run (so does a lone byte, a CJK character or a surrogate pair). A run must hold
//! [`MIN_WIDE_CHARS`] characters: shorter ones (binary records, `A\0` pairs in images) hold no
//! credential a rule could confirm.
//!
//! Chunked scanning finds what a whole-input scan finds, as for base64 and percent runs: runs
//! are looked for up to [`Engine::wide_reach`] bytes around the owned span, which
//! [`Engine::overlap`] covers, a match within [`WIDE_EDGE`] characters of where that cut a
//! run is left to the chunk that holds it whole, and matches longer than [`WIDE_MAX_CHARS`]
//! are not reported from UTF-16LE text (a whole PGP key block in UTF-16LE is not found).

use super::{Engine, InputMeta, Match, ScanState};
use crate::engine::Encoding;
use std::ops::Range;

/// Fewest characters a run must hold to be narrowed and scanned.
pub(crate) const MIN_WIDE_CHARS: usize = 8;
/// Characters of a run kept as context where the search region cut it.
pub(crate) const WIDE_EDGE: usize = 8;
/// Longest match (in characters) reported from UTF-16LE text. Tokens, assignments and
/// headers are far shorter; bounding it bounds the context every scan looks at for zero
/// bytes (the longest rules, PGP blocks of 48 KiB, would otherwise make it hundreds of KiB
/// around each line the redactor scans). Longer matches are dropped whatever the chunking.
pub(crate) const WIDE_MAX_CHARS: usize = 1024;

/// Whether `b` is an ASCII character that UTF-16LE text carries as `b, 0`.
fn is_wide_char(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\r' | 0x20..=0x7e)
}

/// A maximal run of UTF-16LE ASCII inside `region`: `hay[range]` is `c0 0 c1 0 …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WideRun {
    pub range: Range<usize>,
    /// The run was cut by the region's start (not a real start of the text).
    pub cut_start: bool,
    /// The run was cut by the region's end.
    pub cut_end: bool,
}

/// The runs of at least [`MIN_WIDE_CHARS`] characters in `hay[region]`, in order. Most text
/// has no zero byte at all: one `memchr` pass decides that.
pub(crate) fn wide_runs(hay: &[u8], region: Range<usize>, out: &mut Vec<WideRun>) {
    out.clear();
    let area = &hay[region.clone()];
    let mut next_free = 0;
    for z in memchr::memchr_iter(0, area) {
        if z < next_free + 1 || !is_wide_char(area[z - 1]) {
            continue;
        }
        // The first pair of a run: an earlier pair would have started it at its own zero.
        let start = z - 1;
        let mut end = z + 1;
        while end + 1 < area.len() && area[end + 1] == 0 && is_wide_char(area[end]) {
            end += 2;
        }
        next_free = end;
        if (end - start) / 2 >= MIN_WIDE_CHARS {
            out.push(WideRun {
                range: region.start + start..region.start + end,
                cut_start: start < 2 && region.start > 0,
                cut_end: end + 2 > area.len() && region.end < hay.len(),
            });
        }
    }
}

/// Reusable buffers for the narrowed text.
#[derive(Debug, Default)]
pub(crate) struct WideBuffers {
    runs: Vec<WideRun>,
    narrow: Vec<u8>,
    found: Vec<Match>,
}

impl Engine {
    /// How far around the owned span UTF-16LE runs are followed: a match and the context
    /// its rule looks at, both twice as long as plain text.
    pub(crate) fn wide_reach(&self) -> usize {
        2 * (2 * self.max_len.min(WIDE_MAX_CHARS) + WIDE_EDGE)
    }

    /// Narrows the UTF-16LE runs around `owned`, scans them one level deeper, and reports
    /// their matches at their UTF-16LE bytes.
    pub(super) fn wide_rescan(
        &self,
        st: &mut ScanState,
        hay: &[u8],
        owned: &Range<usize>,
        meta: &InputMeta<'_>,
        depth: usize,
        out: &mut Vec<Match>,
    ) {
        let reach = self.wide_reach();
        let region = owned.start.saturating_sub(reach)..(owned.end + reach).min(hay.len());
        if memchr::memchr(0, &hay[region.clone()]).is_none() {
            return;
        }
        let mut bufs = std::mem::take(&mut st.wide_bufs);
        wide_runs(hay, region, &mut bufs.runs);
        let inner_meta = InputMeta {
            binary: false,
            ..*meta
        };
        for run in &bufs.runs {
            let (s, e) = (run.range.start, run.range.end);
            // Characters whose bytes start in `owned` are this chunk's to report.
            let lo = owned.start.clamp(s, e);
            let hi = owned.end.clamp(s, e);
            if lo >= hi {
                continue;
            }
            bufs.narrow.clear();
            bufs.narrow.extend(hay[s..e].iter().step_by(2));
            let inner_owned = (lo - s).div_ceil(2)..(hi - s).div_ceil(2);
            bufs.found.clear();
            let narrow = std::mem::take(&mut bufs.narrow);
            self.scan_depth(
                st,
                &narrow,
                inner_owned,
                &inner_meta,
                depth + 1,
                &mut bufs.found,
            );
            bufs.narrow = narrow;
            let interior = if run.cut_start { WIDE_EDGE } else { 0 }
                ..bufs.narrow.len() - if run.cut_end { WIDE_EDGE } else { 0 };
            for mut m in bufs.found.drain(..) {
                let (a, b) = (
                    m.span.start.min(m.secret_span.start),
                    m.span.end.max(m.secret_span.end),
                );
                if a < interior.start
                    || b > interior.end
                    || b - a > WIDE_MAX_CHARS
                    || m.secret_span.is_empty()
                {
                    continue;
                }
                let wide = |r: &Range<usize>| s + 2 * r.start..s + 2 * r.end;
                m.span = wide(&m.span);
                m.secret_span = wide(&m.secret_span);
                m.decoded.insert(0, Encoding::Utf16le);
                out.push(m);
            }
        }
        st.wide_bufs = bufs;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
    }

    #[test]
    fn runs_are_maximal_ascii_pairs() {
        let mut hay = b"plain text ".to_vec();
        let a = hay.len();
        hay.extend(utf16le("password=hunter22\r\n"));
        let b = hay.len();
        hay.extend(utf16le("é"));
        hay.extend(utf16le("short"));
        hay.extend(b"\x00\x00\x01\x00");
        let mut runs = Vec::new();
        wide_runs(&hay, 0..hay.len(), &mut runs);
        assert_eq!(
            runs,
            vec![WideRun {
                range: a..b,
                cut_start: false,
                cut_end: false
            }]
        );
    }

    #[test]
    fn odd_alignment_and_cuts() {
        // A stray byte before the text shifts it to odd offsets; a region cutting it says so.
        let mut hay = vec![0x7f];
        hay.extend(utf16le("GITHUB_TOKEN=abcdefghij"));
        let mut runs = Vec::new();
        wide_runs(&hay, 0..hay.len(), &mut runs);
        assert_eq!(runs[0].range, 1..hay.len());
        wide_runs(&hay, 5..hay.len() - 4, &mut runs);
        assert_eq!(runs.len(), 1);
        assert!(runs[0].cut_start && runs[0].cut_end);
        assert_eq!(runs[0].range.start % 2, 1);
    }
}
