//! Keyed fingerprints: how a report names a secret without letting anyone confirm a guess.
//!
//! A fingerprint identifies a (rule, secret) pair across runs, line moves and rebases, so that
//! baselines and triage can follow it. An unkeyed hash of the secret would also let anyone who
//! holds a report (a committed baseline, an uploaded SARIF file) test guesses offline: a weak
//! password falls to a small word list in milliseconds. So the fingerprint is
//! HMAC-SHA-256 under a key that lives outside the repository:
//!
//! `v2:<key id>:<first 128 bits of HMAC(key, "shush/fp/v2" NUL rule id NUL secret), hex>`
//!
//! The key id (32 bits of HMAC(key, "shush/key-id")) names the key without revealing it, so
//! that a baseline written under another key is recognised and reported instead of silently
//! matching nothing. Machines that share the key (a team, its CI) get the same fingerprints.
//! Fingerprints of the first scheme (an unkeyed SHA-256, 32 hex digits) are still accepted in
//! baselines for one release, with a warning: [`legacy`].

use crate::redact::mask::hmac_sha256;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Environment variable holding the key itself (a CI secret shared by a team).
pub const KEY_ENV: &str = "SHUSH_FINGERPRINT_KEY";
/// Environment variable naming a file that holds the key.
pub const KEY_FILE_ENV: &str = "SHUSH_FINGERPRINT_KEY_FILE";
/// Fewest bytes of key material accepted: a short key could itself be guessed.
pub const MIN_KEY_LEN: usize = 16;
/// Largest key file read.
const MAX_KEY_FILE: u64 = 4096;
/// Prefix of every keyed fingerprint.
pub const PREFIX: &str = "v2:";

/// Why no fingerprint key could be had. Messages name the place, never key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key given is too short to resist guessing.
    #[error("{origin}: a fingerprint key needs at least {MIN_KEY_LEN} bytes")]
    TooShort {
        /// Where the key came from.
        origin: String,
    },
    /// A key file could not be read or created.
    #[error("{path}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
}

/// Where the key in use came from (said in warnings and `--verbose` output).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyOrigin {
    /// [`KEY_ENV`].
    Env,
    /// A key file: [`KEY_FILE_ENV`], or the per-user file created on first use.
    File(PathBuf),
    /// Random for this process: fingerprints do not carry over to another run.
    Ephemeral,
    /// Given by the program embedding the library.
    Given,
}

impl std::fmt::Display for KeyOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyOrigin::Env => f.write_str(KEY_ENV),
            KeyOrigin::File(p) => write!(f, "{}", p.display()),
            KeyOrigin::Ephemeral => f.write_str("a random key for this run only"),
            KeyOrigin::Given => f.write_str("the embedding program"),
        }
    }
}

/// The key fingerprints are made with.
#[derive(Clone)]
pub struct FingerprintKey {
    key: [u8; 32],
    id: String,
    origin: KeyOrigin,
}

impl std::fmt::Debug for FingerprintKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FingerprintKey")
            .field("id", &self.id)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl FingerprintKey {
    /// A key from key material (any bytes, at least [`MIN_KEY_LEN`]; surrounding whitespace
    /// is ignored, so a key file may end with a newline).
    pub fn from_material(material: &[u8], origin: KeyOrigin) -> Result<Self, KeyError> {
        let material = material.trim_ascii();
        if material.len() < MIN_KEY_LEN {
            return Err(KeyError::TooShort {
                origin: origin.to_string(),
            });
        }
        let mut h = Sha256::new();
        h.update(b"shush/fingerprint-key/v2\0");
        h.update(material);
        Ok(Self::from_raw(h.finalize().into(), origin))
    }

    /// A random key for this process only (what the library uses when given none).
    pub fn ephemeral() -> Self {
        Self::from_raw(crate::redact::mask::random_key(), KeyOrigin::Ephemeral)
    }

    fn from_raw(key: [u8; 32], origin: KeyOrigin) -> Self {
        let id = hex(&hmac_sha256(&key, b"shush/key-id")[..4]);
        FingerprintKey { key, id, origin }
    }

    /// The key the command line uses: [`KEY_ENV`], else the file [`KEY_FILE_ENV`] names,
    /// else the per-user key file ([`user_key_path`]), created with a random key on first use.
    /// With no home directory to keep it in (none, or one that cannot be written), a random
    /// key for this run: fingerprints then do not carry over, and a baseline says so.
    pub fn from_environment() -> Result<Self, KeyError> {
        if let Some(k) = std::env::var_os(KEY_ENV).filter(|k| !k.is_empty()) {
            return Self::from_material(k.as_encoded_bytes(), KeyOrigin::Env);
        }
        if let Some(p) = std::env::var_os(KEY_FILE_ENV).filter(|p| !p.is_empty()) {
            return Self::from_file(Path::new(&p));
        }
        let Some(path) = user_key_path() else {
            return Ok(Self::ephemeral());
        };
        match Self::from_file_or_create(&path) {
            // Nowhere to keep a key (a read-only or missing home, as in many containers): a
            // key for this run. A baseline then names the mismatch; the scan itself goes on.
            Err(KeyError::Io { .. }) if !path.exists() => Ok(Self::ephemeral()),
            other => other,
        }
    }

    /// The key held in `path`.
    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        use std::io::Read;
        let io = |source| KeyError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut material = Vec::new();
        std::fs::File::open(path)
            .map_err(io)?
            .take(MAX_KEY_FILE)
            .read_to_end(&mut material)
            .map_err(io)?;
        Self::from_material(&material, KeyOrigin::File(path.to_path_buf()))
    }

    /// The key in `path`, written there first (random, readable by its owner only) when the
    /// file does not exist yet.
    pub fn from_file_or_create(path: &Path) -> Result<Self, KeyError> {
        match Self::from_file(path) {
            Err(KeyError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                create_key_file(path).map_err(|source| KeyError::Io {
                    path: path.to_path_buf(),
                    source,
                })?;
                Self::from_file(path)
            }
            other => other,
        }
    }

    /// Eight hex digits naming the key (not secret: they reveal nothing of it).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Where the key came from.
    pub fn origin(&self) -> &KeyOrigin {
        &self.origin
    }

    /// The fingerprint of `secret` as found by rule `rule_id` (see the module's doc).
    pub fn fingerprint(&self, rule_id: &str, secret: &[u8]) -> String {
        let mut msg = Vec::with_capacity(16 + rule_id.len() + secret.len());
        msg.extend_from_slice(b"shush/fp/v2\0");
        msg.extend_from_slice(rule_id.as_bytes());
        msg.push(0);
        msg.extend_from_slice(secret);
        let mac = hmac_sha256(&self.key, &msg);
        format!("{PREFIX}{}:{}", self.id, hex(&mac[..16]))
    }

    /// The key under which a fleet's store records that blob `blob` (its object id) was
    /// scanned in `context` (the engine's [`scan_identity`](crate::Engine::scan_identity)):
    /// 32 hex digits of an HMAC, so that the store cannot confirm a guessed file (whose id
    /// anyone can compute) without this key, and a change of rules never matches an old
    /// verdict.
    pub fn blob_key(&self, context: &str, blob: &[u8]) -> String {
        self.keyed(b"shush/blob/v1\0", context, blob)
    }

    /// A short tag of `context` (8 hex digits of an HMAC) that marks the rows a fleet's
    /// store keeps under it, so that those of other rules can be deleted.
    pub fn context_tag(&self, context: &str) -> String {
        self.keyed(b"shush/context/v1\0", context, b"")[..8].to_string()
    }

    /// 32 hex digits of the HMAC of `domain`, `context`, a NUL and `data`.
    fn keyed(&self, domain: &[u8], context: &str, data: &[u8]) -> String {
        let mut msg = Vec::with_capacity(domain.len() + context.len() + 1 + data.len());
        msg.extend_from_slice(domain);
        msg.extend_from_slice(context.as_bytes());
        msg.push(0);
        msg.extend_from_slice(data);
        hex(&hmac_sha256(&self.key, &msg)[..16])
    }
}

/// The per-user key file: `$XDG_CONFIG_HOME/shush/fingerprint.key`, else
/// `$HOME/.config/shush/fingerprint.key`; `None` without a home.
pub fn user_key_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| PathBuf::from(h).join(".config"))
        })?;
    Some(base.join("shush").join("fingerprint.key"))
}

/// Writes a new random key to `path` (a new file, mode 0600 on Unix; never overwrites).
fn create_key_file(path: &Path) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let material = hex(&crate::redact::mask::random_key());
    match opts.open(path) {
        Ok(mut f) => f.write_all(format!("{material}\n").as_bytes()),
        // Another process created it first: theirs is the key.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Whether `fp` has the shape of a first-scheme fingerprint (32 lower-case hex digits).
pub fn is_legacy(fp: &str) -> bool {
    fp.len() == 32 && fp.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The key id a keyed fingerprint was made under (`None`: not a keyed fingerprint).
pub fn key_id_of(fp: &str) -> Option<&str> {
    let rest = fp.strip_prefix(PREFIX)?;
    let (id, mac) = rest.split_once(':')?;
    (id.len() == 8 && mac.len() == 32).then_some(id)
}

/// The first scheme's fingerprint: SHA-256(rule id, NUL, secret), 128 bits in hex. Unkeyed,
/// so it is never written any more; it is computed only to honour old baselines for one
/// release.
pub fn legacy(rule_id: &str, secret: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(rule_id.as_bytes());
    h.update([0u8]);
    h.update(secret);
    hex(&h.finalize()[..16])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(material: &str) -> FingerprintKey {
        FingerprintKey::from_material(material.as_bytes(), KeyOrigin::Given).unwrap()
    }

    #[test]
    fn same_key_same_fingerprint_other_key_other_fingerprint() {
        let a = key("team key number one, long enough");
        let b = key("team key number two, long enough");
        let fp = a.fingerprint("rule", b"hunter22");
        assert_eq!(fp, a.fingerprint("rule", b"hunter22"));
        assert_ne!(fp, b.fingerprint("rule", b"hunter22"));
        assert_ne!(fp, a.fingerprint("other-rule", b"hunter22"));
        assert_ne!(fp, a.fingerprint("rule", b"hunter23"));
        assert_eq!(key_id_of(&fp), Some(a.id()));
        assert_ne!(a.id(), b.id());
        assert!(!fp.contains(&legacy("rule", b"hunter22")));
        assert!(!is_legacy(&fp));
        assert!(is_legacy(&legacy("rule", b"hunter22")));
    }

    #[test]
    fn a_key_file_ending_in_a_newline_is_the_same_key() {
        assert_eq!(
            key("0123456789abcdef0123").id(),
            key("0123456789abcdef0123\n").id()
        );
    }

    #[test]
    fn short_keys_are_refused_without_echoing_them() {
        let e = FingerprintKey::from_material(b"short-key", KeyOrigin::Env).unwrap_err();
        assert!(e.to_string().contains(KEY_ENV), "{e}");
        assert!(!e.to_string().contains("short-key"), "{e}");
    }

    #[test]
    fn the_user_key_file_is_created_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shush").join("fingerprint.key");
        let first = FingerprintKey::from_file_or_create(&path).unwrap();
        let again = FingerprintKey::from_file_or_create(&path).unwrap();
        assert_eq!(first.id(), again.id());
        assert_eq!(first.origin(), &KeyOrigin::File(path.clone()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{mode:o}");
        }
    }

    #[test]
    fn debug_output_never_shows_the_key() {
        let k = key("a key that must not be printed");
        let shown = format!("{k:?}");
        assert!(shown.contains(k.id()));
        assert!(!shown.contains(&hex(&k.key)), "{shown}");
        assert!(!shown.contains(&format!("{:?}", k.key)), "{shown}");
    }
}
