//! Known secrets: values the pipeline already knows (environment variables, a secrets file,
//! GitHub Actions `::add-mask::` lines), masked verbatim and in the encodings a build tool
//! may print them in: base64 (standard and URL-safe, at all three byte alignments, so a value
//! inside a longer blob such as `Authorization: Basic …` is caught), URL-encoding,
//! JSON string escaping and hex.

use super::index::{Appended, Compiled};
pub use crate::error::KnownValueError;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// Values shorter than this (in bytes) are refused: masking them would mask ordinary text
/// all over the log, and where the masks fall would give the value away.
pub const MIN_KNOWN_LEN: usize = 6;

/// Most values known at start compiled into one automaton; more go to the hash index.
pub const COMPILE_LIMIT: usize = 1000;

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
    /// A value from `source`. Returns an error (naming the source, never the value; shown as
    /// a warning) when the value is too short to mask safely, or empty.
    pub fn new(source: impl Into<String>, value: &[u8]) -> Result<Self, KnownValueError> {
        let source = source.into();
        let longest_line = lines(value).map(<[u8]>::len).max().unwrap_or(0);
        if value.is_empty() {
            return Err(KnownValueError::Empty { origin: source });
        }
        if longest_line < MIN_KNOWN_LEN {
            return Err(KnownValueError::TooShort {
                origin: source,
                len: longest_line,
                min: MIN_KNOWN_LEN,
            });
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
pub fn lines(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b'\n' || b == b'\r')
        .map(<[u8]>::trim_ascii)
        .filter(|l| !l.is_empty())
}

/// The strings to search for a value: its lines verbatim (and trimmed), and the encodings
/// of the whole value (and of the value without surrounding white space or quotes, see
/// `encodings::variants`); the escapings of each line of a multi-line
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
    use crate::engine::patterns::{base64_stable, base64_url};
    for (stable, _) in base64_stable(value) {
        let url = base64_url(&stable);
        out.push(stable);
        out.push(url);
    }
}

/// A set of known values: those known at start compiled into one automaton, and those
/// learnt since (`::add-mask::`) in an index shared by every snapshot of the set, each
/// snapshot seeing the values that were there when it was taken. Adding a value costs time
/// proportional to that value, whatever the number of values before it.
#[derive(Debug, Default, Clone)]
pub struct KnownSet {
    compiled: Arc<Compiled>,
    appended: Arc<RwLock<Appended>>,
    /// How many appended values this snapshot sees.
    seen: usize,
    max_len: usize,
}

impl KnownSet {
    /// Compiles `values`. Beyond `COMPILE_LIMIT` values, they go to the hash index
    /// instead: building an automaton over that many search strings grows faster than their
    /// size (seconds for 10,000 values, minutes for 200,000), the index linearly.
    pub fn new(values: Vec<KnownValue>) -> Self {
        if values.len() > COMPILE_LIMIT {
            let mut appended = Appended::default();
            for v in values {
                appended.push(v);
            }
            let (seen, max_len) = (appended.values.len(), appended.max_len);
            return KnownSet {
                compiled: Arc::default(),
                appended: Arc::new(RwLock::new(appended)),
                seen,
                max_len,
            };
        }
        let compiled = Compiled::new(values);
        let max_len = compiled.max_len;
        KnownSet {
            compiled: Arc::new(compiled),
            appended: Arc::default(),
            seen: 0,
            max_len,
        }
    }

    fn appended(&self) -> std::sync::RwLockReadGuard<'_, Appended> {
        self.appended.read().unwrap_or_else(|e| e.into_inner())
    }

    /// This set with `value` added (the index is shared with `self`, which does not see it).
    fn with(&self, value: KnownValue) -> KnownSet {
        let mut a = self.appended.write().unwrap_or_else(|e| e.into_inner());
        a.push(value);
        KnownSet {
            compiled: self.compiled.clone(),
            appended: self.appended.clone(),
            seen: a.values.len(),
            max_len: self.max_len.max(a.max_len),
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.compiled.values.len() + self.seen
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value of index `i` (in the order they were given, then added).
    pub fn value(&self, i: usize) -> Option<KnownValue> {
        let base = self.compiled.values.len();
        match i.checked_sub(base) {
            None => self.compiled.values.get(i).cloned(),
            Some(j) if j < self.seen => self.appended().values.get(j).cloned(),
            Some(_) => None,
        }
    }

    /// Every value.
    pub fn values(&self) -> Vec<KnownValue> {
        let mut out = self.compiled.values.clone();
        out.extend(self.appended().values.iter().take(self.seen).cloned());
        out
    }

    /// Longest search string.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Occurrences in `hay` whose union is the union of all occurrences: at each position
    /// where one starts, the longest. (start, end, value index), in order of start.
    pub fn find_all(&self, hay: &[u8], out: &mut Vec<(usize, usize, usize)>) {
        let from = out.len();
        self.compiled.find_all(hay, out);
        if self.seen > 0 {
            let base = self.compiled.values.len();
            self.appended().find_all(hay, self.seen, base, out);
            out[from..].sort_unstable();
        }
    }

    /// The longest suffix of `hay` that is a proper prefix of some search string.
    pub fn partial_suffix(&self, hay: &[u8]) -> usize {
        let mut k = self.compiled.partial_suffix(hay);
        if self.seen > 0 {
            k = k.max(self.appended().partial_suffix(hay));
        }
        k
    }
}

/// The registry's set, and the values in it (for deduplication).
#[derive(Debug, Default)]
struct Current {
    set: Arc<KnownSet>,
    values: HashSet<Vec<u8>>,
}

/// Known values shared by several redactors (stdout and stderr of `shush run`): an
/// `::add-mask::` seen on one stream is masked on both from then on.
#[derive(Debug, Default)]
pub struct KnownRegistry {
    current: Mutex<Current>,
    version: AtomicU64,
    /// The token of a `::stop-commands::` in effect in the streams (the runner ignores
    /// commands until a line `::TOKEN::`).
    stop_token: Mutex<Option<Vec<u8>>>,
}

impl KnownRegistry {
    /// A registry holding `values`.
    pub fn new(values: Vec<KnownValue>) -> Self {
        Self::from_set(Arc::new(KnownSet::new(values)))
    }

    /// A registry holding the values of `set`.
    pub fn from_set(set: Arc<KnownSet>) -> Self {
        let values = set.values().into_iter().map(|v| v.value).collect();
        KnownRegistry {
            current: Mutex::new(Current { set, values }),
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
        let cur = self.current.lock().unwrap_or_else(|e| e.into_inner());
        (cur.set.clone(), self.version.load(Ordering::Acquire))
    }

    /// The current version (cheap).
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// Adds a value (unless already present); returns the new set and version. Time
    /// proportional to the value, not to the number of values.
    pub fn add(&self, value: KnownValue) -> (Arc<KnownSet>, u64) {
        let mut cur = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if !cur.values.contains(&value.value) {
            cur.values.insert(value.value.clone());
            cur.set = Arc::new(cur.set.with(value));
            self.version.fetch_add(1, Ordering::AcqRel);
        }
        (cur.set.clone(), self.version.load(Ordering::Acquire))
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
    use base64::Engine as _;

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
        let e = KnownValue::new("env:X", b"pw123").unwrap_err().to_string();
        assert!(!e.contains("pw123") && e.contains("env:X"));
        assert!(KnownValue::new("env:X", b"hunter2").is_ok());
    }

    #[test]
    fn known_value_errors_never_echo_the_value() {
        // Short lines of a multi-line value that holds a token-like string.
        let value = b"fake_\nTOKEN\n_abc1\n23XYZ";
        let e = KnownValue::new("file:secrets.txt:3", value).unwrap_err();
        assert_eq!(
            e,
            KnownValueError::TooShort {
                origin: "file:secrets.txt:3".into(),
                len: 5,
                min: MIN_KNOWN_LEN
            }
        );
        let text = e.to_string();
        assert!(
            text.contains("file:secrets.txt:3") && text.contains("too short"),
            "{text}"
        );
        for part in ["fake_", "TOKEN", "_abc1", "23XYZ"] {
            assert!(!text.contains(part), "{text}");
        }
        let e = KnownValue::new("env:EMPTY", b"").unwrap_err();
        assert_eq!(e.to_string(), "not masking env:EMPTY: the value is empty");
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
    fn large_sets_find_what_small_ones_find() {
        let vals: Vec<KnownValue> = (0..=COMPILE_LIMIT)
            .map(|i| KnownValue::new("t", format!("fake-known-{i:06}-value").as_bytes()).unwrap())
            .collect();
        let hay = b"a fake-known-000007-value b ZmFrZS1rbm93bi0wMDEwMDAtdmFsdWU c fake-known-00";
        let large = KnownSet::new(vals.clone());
        let (mut big, mut small) = (Vec::new(), Vec::new());
        large.find_all(hay, &mut big);
        for (i, v) in vals
            .into_iter()
            .enumerate()
            .filter(|(i, _)| [7, 1000].contains(i))
        {
            let mut hits = Vec::new();
            KnownSet::new(vec![v]).find_all(hay, &mut hits);
            small.extend(hits.into_iter().map(|(s, e, _)| (s, e, i)));
        }
        assert_eq!(big.len(), 2);
        assert_eq!(big, small);
        assert_eq!(large.len(), COMPILE_LIMIT + 1);
        assert_eq!(large.partial_suffix(hay), 13);
    }

    #[test]
    fn partial_suffix() {
        let set = KnownSet::new(vec![KnownValue::new("t", b"abcdefgh").unwrap()]);
        assert_eq!(set.partial_suffix(b"xxabcd"), 4);
        assert_eq!(set.partial_suffix(b"xyz!"), 0);
    }
}
