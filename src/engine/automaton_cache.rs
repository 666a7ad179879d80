//! An on-disk cache of keyword automata, so a rule set with its own keywords (a gitleaks
//! config with custom rules, say) pays the automaton's build once per machine instead of
//! at every start of a pre-commit hook.
//!
//! Location: `$SHUSH_CACHE_DIR`, else `$XDG_CACHE_HOME/shush`, else `$HOME/.cache/shush`;
//! `SHUSH_CACHE_DIR=` (set, empty) turns the cache off. A file is named by the SHA-256 of the
//! automaton's keyword list and holds only the automaton — keywords and state tables, never
//! scanned content. Everything is best effort: a missing, unreadable or unwritable cache
//! only costs the build; a file that does not decode, or whose automaton does not recognise
//! each of its keywords, is ignored and rewritten.

use super::kwscan::KeywordScanner;
use sha2::Digest;
use std::path::PathBuf;

/// File format tag; bump it whenever the serialised automaton changes.
const MAGIC: &[u8] = b"SHKC1";
/// Largest file read back (real automata are a few megabytes).
const MAX_FILE: u64 = 256 << 20;

/// The cache directory, or `None` when caching is off or no home is known.
pub fn dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("SHUSH_CACHE_DIR") {
        return (!d.is_empty()).then(|| PathBuf::from(d));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("shush"))
}

/// The cache key of a keyword list: its SHA-256 (with the format tag), 128 bits in hex.
fn key(strings: &[Vec<u8>]) -> String {
    let mut h = sha2::Sha256::new();
    h.update(MAGIC);
    for s in strings {
        h.update((s.len() as u32).to_le_bytes());
        h.update(s);
    }
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn file_for(strings: &[Vec<u8>]) -> Option<PathBuf> {
    Some(dir()?.join(format!("automaton-{}.bin", key(strings))))
}

/// The cached automaton for exactly these keywords, if there is a sound one.
pub(crate) fn load(strings: &[Vec<u8>]) -> Option<KeywordScanner> {
    use std::io::Read;
    let path = file_for(strings)?;
    let file = std::fs::File::open(&path).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE).read_to_end(&mut bytes).ok()?;
    let scanner = KeywordScanner::from_bytes(bytes.strip_prefix(MAGIC)?)?;
    scanner.recognises(strings).then_some(scanner)
}

/// Stores an automaton for these keywords: written to a temporary file and renamed, so a
/// concurrent reader sees the old file or the whole new one.
pub(crate) fn store(strings: &[Vec<u8>], scanner: &KeywordScanner) {
    let Some(path) = file_for(strings) else {
        return;
    };
    let Some(parent) = path.parent() else {
        return;
    };
    if std::fs::create_dir_all(parent).is_err() {
        return;
    }
    let mut bytes = MAGIC.to_vec();
    scanner.to_bytes(&mut bytes);
    let tmp = parent.join(format!(
        ".automaton-{}-{}.tmp",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    ));
    if std::fs::write(&tmp, &bytes).is_ok() && std::fs::rename(&tmp, &path).is_ok() {
        return;
    }
    let _ = std::fs::remove_file(&tmp);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cached_automaton_must_recognise_its_keywords() {
        let a: Vec<Vec<u8>> = vec![b"tok_".to_vec(), b"password".to_vec()];
        let b: Vec<Vec<u8>> = vec![b"tok-".to_vec(), b"password".to_vec()];
        let sa = KeywordScanner::new(&a).unwrap();
        assert!(sa.recognises(&a));
        // Same count and lengths, other keywords: refused.
        assert!(!sa.recognises(&b));
        assert!(!sa.recognises(&a[..1]));
        assert_ne!(key(&a), key(&b));
        assert_eq!(key(&a), key(&a.clone()));
        // Concatenations that agree must still differ: lengths are part of the key.
        assert_ne!(
            key(&[b"ab".to_vec(), b"c".to_vec()]),
            key(&[b"a".to_vec(), b"bc".to_vec()])
        );
    }
}
