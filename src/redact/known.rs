//! Known secrets: values the pipeline already knows (environment variables, a secrets file,
//! GitHub Actions `::add-mask::` lines), masked verbatim and in the encodings a build tool
//! may print them in: base64 (standard and URL-safe, at all three byte alignments, so a value
//! inside a longer blob such as `Authorization: Basic …` is caught), URL-encoding,
//! JSON string escaping and hex.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use base64::Engine as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Values shorter than this (in bytes) are refused: masking them would mask ordinary text
/// all over the log, and where the masks fall would give the value away.
pub const MIN_KNOWN_LEN: usize = 6;

/// Total bytes of search strings above which they are not compiled into a DFA.
const DFA_BYTES: usize = 16 << 10;

/// One known value and where it came from (never the value itself).
#[derive(Clone)]
pub struct KnownValue {
    /// Where the value came from, e.g. `env:GITHUB_TOKEN`, `file:secrets.txt:3`, `add-mask`.
    pub source: String,
    value: Vec<u8>,
}

impl std::fmt::Debug for KnownValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnownValue")
            .field("source", &self.source)
            .field("len", &self.value.len())
            .finish()
    }
}

impl KnownValue {
    /// A value from `source`. Returns a warning (naming the source, never the value) when the
    /// value is too short to mask safely, or empty.
    pub fn new(source: impl Into<String>, value: &[u8]) -> Result<Self, String> {
        let source = source.into();
        let longest_line = lines(value).map(<[u8]>::len).max().unwrap_or(0);
        if value.is_empty() {
            return Err(format!("not masking {source}: the value is empty"));
        }
        if longest_line < MIN_KNOWN_LEN {
            return Err(format!(
                "not masking {source}: the value is too short to mask safely ({} bytes; at \
                 least {MIN_KNOWN_LEN} needed)",
                longest_line
            ));
        }
        Ok(KnownValue {
            source,
            value: value.to_vec(),
        })
    }

    /// The value.
    pub fn value(&self) -> &[u8] {
        &self.value
    }
}

/// The lines of `value` as a log shows them (split at `\n` and `\r`), white space trimmed,
/// empty ones left out.
pub(crate) fn lines(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b'\n' || b == b'\r')
        .map(<[u8]>::trim_ascii)
        .filter(|l| !l.is_empty())
}

/// The strings to search for a value: its lines verbatim (and trimmed), and the encodings
/// of the whole value (and of the value without surrounding white space or quotes, see
/// [`variants`](super::encodings::variants)); the escapings of each line of a multi-line
/// value. Every string is at least [`MIN_KNOWN_LEN`] bytes.
pub fn forms(value: &[u8]) -> Vec<Vec<u8>> {
    use super::encodings::{base64_forms, json_forms, percent_forms, text_forms, variants};
    let mut out: Vec<Vec<u8>> = Vec::new();
    // Verbatim, line by line (a multi-line value is printed line by line; a log line may
    // end at a carriage return, and indentation is not part of the secret).
    for line in value.split(|&b| b == b'\n') {
        out.push(line.strip_suffix(b"\r").unwrap_or(line).to_vec());
    }
    out.extend(lines(value).map(<[u8]>::to_vec));
    for v in variants(value) {
        out.push(v.to_vec());
        base64_forms(v, &mut out);
        base64_pieces(v, &mut out);
        percent_forms(v, &mut out);
        json_forms(v, &mut out);
        text_forms(v, &mut out);
        let hex: String = v.iter().map(|b| format!("{b:02x}")).collect();
        out.push(hex.to_ascii_uppercase().into_bytes());
        out.push(hex.into_bytes());
    }
    if lines(value).nth(1).is_some() {
        for line in lines(value) {
            text_forms(line, &mut out);
        }
    }
    out.retain(|f| f.len() >= MIN_KNOWN_LEN);
    out.sort();
    out.dedup();
    out
}

/// The base64 characters that depend only on `value`, at each of the three byte alignments
/// inside a longer encoded blob (both alphabets).
fn base64_pieces(value: &[u8], out: &mut Vec<Vec<u8>>) {
    use base64::engine::general_purpose::STANDARD_NO_PAD;
    for align in 0..3usize {
        let mut bytes = vec![0u8; align];
        bytes.extend_from_slice(value);
        let enc = STANDARD_NO_PAD.encode(&bytes).into_bytes();
        let i0 = (8 * align).div_ceil(6);
        let i1 = (8 * (align + value.len())) / 6;
        if i1 > i0 && i1 <= enc.len() {
            let stable = enc[i0..i1].to_vec();
            let url: Vec<u8> = stable
                .iter()
                .map(|&b| match b {
                    b'+' => b'-',
                    b'/' => b'_',
                    b => b,
                })
                .collect();
            out.push(stable);
            out.push(url);
        }
    }
}

/// A compiled set of known values.
#[derive(Debug, Default)]
pub struct KnownSet {
    values: Vec<KnownValue>,
    patterns: Vec<Vec<u8>>,
    /// For each pattern: the value it encodes (the first, if several).
    owner: Vec<u32>,
    ac: Option<AhoCorasick>,
    max_len: usize,
}

impl KnownSet {
    /// Compiles `values`.
    pub fn new(values: Vec<KnownValue>) -> Self {
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        let mut owner = Vec::new();
        let mut seen = std::collections::HashMap::new();
        for (i, v) in values.iter().enumerate() {
            for f in forms(&v.value) {
                if seen.contains_key(&f) {
                    continue;
                }
                seen.insert(f.clone(), patterns.len());
                patterns.push(f);
                owner.push(i as u32);
            }
        }
        // The builder picks a DFA for up to 100 patterns whatever their length; it has a
        // state per pattern byte, each as wide as the alphabet: fine for tokens, seconds and
        // hundreds of MB for a certificate bundle registered with `::add-mask::`. Long
        // patterns get the contiguous NFA (what the builder picks for many patterns anyway).
        let total: usize = patterns.iter().map(Vec::len).sum();
        let kind = (total > DFA_BYTES).then_some(AhoCorasickKind::ContiguousNFA);
        let ac = (!patterns.is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostLongest)
                .kind(kind)
                .build(&patterns)
                .expect("literal patterns always compile")
        });
        let max_len = patterns.iter().map(Vec::len).max().unwrap_or(0);
        KnownSet {
            values,
            patterns,
            owner,
            ac,
            max_len,
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The values.
    pub fn values(&self) -> &[KnownValue] {
        &self.values
    }

    /// Longest search string.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Occurrences in `hay` whose union is the union of all occurrences: at each position
    /// where one starts, the longest. (start, end, value index).
    pub fn find_all(&self, hay: &[u8], out: &mut Vec<(usize, usize, usize)>) {
        let Some(ac) = &self.ac else { return };
        // The union of all occurrences: at each start the longest one, restarting one byte
        // after each start (a leftmost search can use the automaton's prefilter).
        let mut at = 0;
        while let Some(m) = ac.find(aho_corasick::Input::new(hay).span(at..hay.len())) {
            out.push((
                m.start(),
                m.end(),
                self.owner[m.pattern().as_usize()] as usize,
            ));
            at = m.start() + 1;
        }
    }

    /// The longest suffix of `hay` that is a proper prefix of some search string.
    pub fn partial_suffix(&self, hay: &[u8]) -> usize {
        let limit = self.max_len.saturating_sub(1).min(hay.len());
        for k in (1..=limit).rev() {
            let tail = &hay[hay.len() - k..];
            if self
                .patterns
                .iter()
                .any(|p| p.len() > k && p.starts_with(tail))
            {
                return k;
            }
        }
        0
    }
}

/// Known values shared by several redactors (stdout and stderr of `shush run`): an
/// `::add-mask::` seen on one stream is masked on both from then on.
#[derive(Debug, Default)]
pub struct KnownRegistry {
    set: Mutex<Arc<KnownSet>>,
    version: AtomicU64,
    /// The token of a `::stop-commands::` in effect in the streams (the runner ignores
    /// commands until a line `::TOKEN::`).
    stop_token: Mutex<Option<Vec<u8>>>,
}

impl KnownRegistry {
    /// A registry holding `values`.
    pub fn new(values: Vec<KnownValue>) -> Self {
        KnownRegistry {
            set: Mutex::new(Arc::new(KnownSet::new(values))),
            version: AtomicU64::new(1),
            stop_token: Mutex::new(None),
        }
    }

    /// The token of the `::stop-commands::` in effect, if commands are stopped.
    pub(crate) fn stop_token(&self) -> Option<Vec<u8>> {
        self.stop_token
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Records that commands are stopped until `token` (or resumed: `None`).
    pub(crate) fn set_stop_token(&self, token: Option<Vec<u8>>) {
        *self.stop_token.lock().unwrap_or_else(|e| e.into_inner()) = token;
    }

    /// The current set and its version.
    pub fn current(&self) -> (Arc<KnownSet>, u64) {
        let set = self.set.lock().unwrap_or_else(|e| e.into_inner());
        (set.clone(), self.version.load(Ordering::Acquire))
    }

    /// The current version (cheap).
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// Adds a value (unless already present); returns the new set and version.
    pub fn add(&self, value: KnownValue) -> (Arc<KnownSet>, u64) {
        let mut set = self.set.lock().unwrap_or_else(|e| e.into_inner());
        if !set.values.iter().any(|v| v.value == value.value) {
            let mut values = set.values.clone();
            values.push(value);
            *set = Arc::new(KnownSet::new(values));
            self.version.fetch_add(1, Ordering::AcqRel);
        }
        (set.clone(), self.version.load(Ordering::Acquire))
    }
}

/// If `line` is a GitHub Actions add-mask command as the runner reads it (`::add-mask::VALUE`
/// after white space, the name in any case, or the legacy `##[add-mask]VALUE`), the range of
/// its value, still escaped, trailing white space excluded. The line ends at its first `\r`
/// or `\n`, as for the runner.
pub fn add_mask_value(line: &[u8]) -> Option<std::ops::Range<usize>> {
    let end = memchr::memchr2(b'\n', b'\r', line).unwrap_or(line.len());
    let line = &line[..end];
    super::gha::commands(line).into_iter().find_map(|c| {
        if !super::gha::is_named(line, &c, super::gha::ADD_MASK) {
            return None;
        }
        let value = line[c.data.clone()].trim_ascii_end();
        (!value.trim_ascii_start().is_empty()).then_some(c.data.start..c.data.start + value.len())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_cover_encodings() {
        let v = b"s3cr3t-Value/42";
        let f = forms(v);
        let has = |x: &[u8]| f.iter().any(|p| p == x);
        assert!(has(v));
        assert!(has(b"s3cr3t-Value%2F42"));
        let hex: String = v.iter().map(|b| format!("{b:02x}")).collect();
        assert!(has(hex.as_bytes()));
        assert!(has(b"s3cr3t-Value\\/42"));
        // Inside a longer base64 blob, at every alignment.
        for pad in 0..3 {
            let mut blob = b"user:"[..pad + 2].to_vec();
            blob.extend_from_slice(v);
            blob.extend_from_slice(b"@host");
            let enc = base64::engine::general_purpose::STANDARD.encode(&blob);
            let set = KnownSet::new(vec![KnownValue::new("t", v).unwrap()]);
            let mut hits = Vec::new();
            set.find_all(enc.as_bytes(), &mut hits);
            assert!(!hits.is_empty(), "alignment {pad}: {enc}");
        }
    }

    #[test]
    fn short_values_refused() {
        assert!(KnownValue::new("env:X", b"abc").is_err());
        assert!(KnownValue::new("env:X", b"").is_err());
        let e = KnownValue::new("env:X", b"pw123").unwrap_err();
        assert!(!e.contains("pw123") && e.contains("env:X"));
        assert!(KnownValue::new("env:X", b"hunter2").is_ok());
    }

    #[test]
    fn add_mask_lines() {
        assert_eq!(add_mask_value(b"::add-mask::abc123\r"), Some(12..18));
        assert_eq!(add_mask_value(b"  ::add-mask::abc123  "), Some(14..20));
        assert_eq!(add_mask_value(b"echo ::add-mask::abc"), None);
        assert_eq!(add_mask_value(b"::add-mask::"), None);
        assert_eq!(add_mask_value(b"::add-mask::   "), None);
        assert_eq!(add_mask_value(b"::Add-Mask::abc123\rmore"), Some(12..18));
        assert_eq!(add_mask_value(b"log ##[add-mask]abc123"), Some(16..22));
    }

    #[test]
    fn partial_suffix() {
        let set = KnownSet::new(vec![KnownValue::new("t", b"abcdefgh").unwrap()]);
        assert_eq!(set.partial_suffix(b"xxabcd"), 4);
        assert_eq!(set.partial_suffix(b"xyz!"), 0);
    }
}
