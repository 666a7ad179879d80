//! `--cache DIR`: what scanning a layer found, keyed by the layer's digest and everything
//! else that decides the result (shush's version, the rule set's version, the fingerprint
//! key's id, engine options and caps), so an unchanged base layer is scanned once across runs.
//!
//! Entries hold masked secrets and fingerprints only — never a full secret: with
//! `--show-secrets` the cache is neither read nor written. A layer whose scan hit a problem
//! is never cached (it is rescanned, and the problem reported, every time).

use super::LayerScan;
use super::manifest::valid_digest;
use crate::archive::Limits;
use crate::engine::Engine;
use sha2::Digest;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Bumped when the cached format or its meaning changes.
const FORMAT: u32 = 3;

/// A directory of cached layer results.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
    salt: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Entry {
    salt: String,
    layer: String,
    scan: LayerScan,
}

impl Cache {
    /// Opens (creating it if needed) a cache directory for scans with `engine` under
    /// `limits`.
    pub fn open(dir: &Path, engine: &Engine, limits: &Limits) -> io::Result<Cache> {
        std::fs::create_dir_all(dir)?;
        let o = engine.options();
        let salt = format!(
            "shush-layer-cache/{FORMAT} {} rules={} fingerprint-key={} decode={} inline-allow={} limits={:?}",
            env!("CARGO_PKG_VERSION"),
            engine.rules().version,
            // Cached findings carry fingerprints made under this key.
            engine.fingerprint_key().id(),
            o.decode_depth,
            o.inline_allow,
            limits
        );
        Ok(Cache {
            dir: dir.to_path_buf(),
            salt,
        })
    }

    fn file(&self, layer: &str) -> Option<PathBuf> {
        if !valid_digest(layer) {
            return None;
        }
        let mut h = sha2::Sha256::new();
        h.update(self.salt.as_bytes());
        h.update([0]);
        h.update(layer.as_bytes());
        let key: String = h.finalize()[..20]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Some(self.dir.join(format!("{key}.json")))
    }

    /// Whether there is a cached result for the layer's digest (it may still be a miss if
    /// corrupt; [`Cache::load`] decides).
    pub fn has(&self, layer: &super::manifest::LayerRef) -> bool {
        layer
            .digest
            .as_deref()
            .and_then(|d| self.file(d))
            .is_some_and(|f| f.is_file())
    }

    /// The cached result for the layer with digest `layer`, if any (a corrupt entry is a
    /// miss). Only use it for content proven to hash to that digest ([`super::verify`]).
    pub fn load(&self, layer: &str) -> Option<LayerScan> {
        let path = self.file(layer)?;
        let bytes = std::fs::read(path).ok()?;
        let e: Entry = serde_json::from_slice(&bytes).ok()?;
        (e.salt == self.salt && e.layer == layer).then_some(e.scan)
    }

    /// Stores a layer's result (written to a temporary file, then renamed into place).
    pub fn store(&self, layer: &str, scan: &LayerScan) -> io::Result<()> {
        let Some(path) = self.file(layer) else {
            return Ok(());
        };
        let entry = Entry {
            salt: self.salt.clone(),
            layer: layer.to_string(),
            scan: scan.clone(),
        };
        let mut tmp = tempfile_in(&self.dir)?;
        serde_json::to_writer(&mut tmp.1, &entry)?;
        tmp.1.flush()?;
        drop(tmp.1);
        std::fs::rename(&tmp.0, &path).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp.0);
        })
    }
}

/// A new, uniquely named file in `dir`.
fn tempfile_in(dir: &Path) -> io::Result<(PathBuf, io::BufWriter<std::fs::File>)> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let name = format!(
        ".tmp-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let p = dir.join(name);
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&p)?;
    Ok((p, io::BufWriter::new(f)))
}
