//! Layer content checked against its digest as it streams: a layer is identified (for
//! de-duplication and `--cache`) by the digest its manifest claims, so that claim is only
//! trusted once the bytes read are proven to hash to it. A layer whose content does not
//! match is a problem (exit 2), and its scan is never cached.

use sha2::{Digest, Sha256};
use std::io::{self, Read};

/// What a layer's digest is a hash of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestOf {
    /// The bytes as stored (an OCI descriptor's digest, a `blobs/sha256/…` file name).
    Stored,
    /// The uncompressed tar (a legacy `docker save` config's `rootfs.diff_ids` entry): equal
    /// to the stored bytes' hash when the layer is stored uncompressed, as `docker save` does.
    Uncompressed,
}

/// A reader that hashes everything read through it, and remembers the first bytes (to tell a
/// compressed layer).
pub struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    head: Vec<u8>,
}

/// Bytes of the head kept to recognise a compression format.
const HEAD: usize = 10;

impl<R: Read> Hashing<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Hashing {
            inner,
            hasher: Sha256::new(),
            head: Vec::with_capacity(HEAD),
        }
    }

    /// Reads what the consumer left (tar padding, trailing blocks) and returns the
    /// `sha256:<hex>` digest of the whole content, and whether it looks compressed.
    pub fn finish(mut self) -> io::Result<(String, bool)> {
        io::copy(&mut self, &mut io::sink())?;
        let compressed =
            crate::archive::sniff::sniff(&self.head).is_some_and(|f| f.is_compression());
        let hex: String = self
            .hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok((format!("sha256:{hex}"), compressed))
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        if self.head.len() < HEAD {
            let take = (HEAD - self.head.len()).min(n);
            self.head.extend_from_slice(&buf[..take]);
        }
        Ok(n)
    }
}

/// The outcome of checking a layer's content against its claimed digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The content hashes to the claimed digest.
    Verified,
    /// The digest cannot be checked here (another algorithm, or a diff_id of a layer stored
    /// compressed): the layer is scanned but not cached.
    Unverifiable,
    /// The content does not hash to the claimed digest (tampered or corrupt).
    Mismatch {
        /// What the content hashes to.
        actual: String,
    },
}

/// Compares the content's hash with what the layer claims.
pub fn judge(claimed: &str, of: DigestOf, actual: &str, compressed: bool) -> Verdict {
    if !claimed.starts_with("sha256:") || (of == DigestOf::Uncompressed && compressed) {
        return Verdict::Unverifiable;
    }
    if claimed.eq_ignore_ascii_case(actual) {
        Verdict::Verified
    } else {
        Verdict::Mismatch {
            actual: actual.to_string(),
        }
    }
}

/// Hashes all of `reader` and judges it against `claimed`.
pub fn check(reader: impl Read, claimed: &str, of: DigestOf) -> io::Result<Verdict> {
    let (actual, compressed) = Hashing::new(reader).finish()?;
    Ok(judge(claimed, of, &actual, compressed))
}

/// The problem message of a mismatch.
pub fn mismatch_message(claimed: &str, actual: &str) -> String {
    format!(
        "layer content does not match its digest {claimed} (it hashes to {actual}): \
         tampered or corrupt; its scan is not cached"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_stored_and_uncompressed_digests() {
        let data = b"layer bytes".to_vec();
        let (d, compressed) = Hashing::new(&data[..]).finish().unwrap();
        assert!(!compressed);
        assert_eq!(judge(&d, DigestOf::Stored, &d, false), Verdict::Verified);
        assert_eq!(
            judge(&d, DigestOf::Uncompressed, &d, false),
            Verdict::Verified
        );
        assert_eq!(
            judge(&d, DigestOf::Uncompressed, &d, true),
            Verdict::Unverifiable
        );
        let other = format!("sha256:{}", "0".repeat(64));
        assert!(matches!(
            judge(&other, DigestOf::Stored, &d, false),
            Verdict::Mismatch { .. }
        ));
        assert_eq!(
            judge("sha512:abc", DigestOf::Stored, &d, false),
            Verdict::Unverifiable
        );
    }

    #[test]
    fn hashes_what_the_consumer_left_unread() {
        let data = vec![7u8; 100_000];
        let mut h = Hashing::new(&data[..]);
        let mut first = [0u8; 10];
        h.read_exact(&mut first).unwrap();
        let (d, _) = h.finish().unwrap();
        let (whole, _) = Hashing::new(&data[..]).finish().unwrap();
        assert_eq!(d, whole);
    }
}
