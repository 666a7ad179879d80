//! Recognising containers and compressed streams by their first bytes, never their names.

use super::tar::looks_like_tar;

/// Bytes of an input's head needed to recognise every format (a tar header block).
pub const HEAD_LEN: usize = 512;

/// A format shush opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A tar archive (ustar, GNU, PAX or v7).
    Tar,
    /// A zip archive, or one of its family (jar, war, ear, whl, nupkg, apk, aar, vsix, docx…).
    Zip,
    /// A gzip stream (one or more members).
    Gzip,
    /// A bzip2 stream.
    Bzip2,
    /// An xz stream.
    Xz,
    /// A zstd stream.
    Zstd,
    /// An `ar` archive (Debian packages, static libraries).
    Ar,
}

impl Format {
    /// Whether this is a compression wrapper (one stream) rather than a container of entries.
    pub fn is_compression(self) -> bool {
        !matches!(self, Format::Tar | Format::Zip | Format::Ar)
    }

    /// A short lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Tar => "tar",
            Format::Zip => "zip",
            Format::Gzip => "gzip",
            Format::Bzip2 => "bzip2",
            Format::Xz => "xz",
            Format::Zstd => "zstd",
            Format::Ar => "ar",
        }
    }
}

/// Recognises the format of an input from its first bytes (pass at least [`HEAD_LEN`] bytes
/// when the input has them; tar needs a whole header block).
pub fn sniff(head: &[u8]) -> Option<Format> {
    if head.starts_with(&[0x1f, 0x8b, 0x08]) {
        return Some(Format::Gzip);
    }
    if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        return Some(Format::Xz);
    }
    if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Some(Format::Zstd);
    }
    if head.len() >= 10
        && head.starts_with(b"BZh")
        && (b'1'..=b'9').contains(&head[3])
        && (head[4..10] == [0x31, 0x41, 0x59, 0x26, 0x53, 0x59]
            || head[4..10] == [0x17, 0x72, 0x45, 0x38, 0x50, 0x90])
    {
        return Some(Format::Bzip2);
    }
    if head.starts_with(b"PK\x03\x04")
        || head.starts_with(b"PK\x05\x06")
        || head.starts_with(b"PK\x07\x08PK\x03\x04")
    {
        return Some(Format::Zip);
    }
    if head.starts_with(super::ar::MAGIC) {
        return Some(Format::Ar);
    }
    if looks_like_tar(head) {
        return Some(Format::Tar);
    }
    None
}

/// The name a compressed file's content goes by: `app.log.gz` → `app.log`,
/// `x.tgz` → `x.tar`; other names are kept.
pub fn strip_compression_suffix(name: &str) -> String {
    for (suffix, repl) in [
        (".tgz", ".tar"),
        (".tbz2", ".tar"),
        (".txz", ".tar"),
        (".tzst", ".tar"),
        (".gz", ""),
        (".bz2", ""),
        (".xz", ""),
        (".zst", ""),
        (".zstd", ""),
    ] {
        if let Some(stem) = name.strip_suffix(suffix) {
            if !stem.is_empty() && !stem.ends_with('/') {
                return format!("{stem}{repl}");
            }
        }
    }
    name.to_string()
}

/// Bytes at the end of an input that hold a zip's end-of-central-directory record, whatever
/// its comment (at most 65,535 bytes).
pub const TAIL_LEN: usize = 22 + 65_535;

/// When `tail` (an input's last bytes, up to [`TAIL_LEN`]) ends with a zip's
/// end-of-central-directory record while the input does not start like a zip (`head`: its
/// first bytes), the input is a zip behind a stub — a self-extracting archive, or a zip
/// appended to another file. `total` is the input's length. Returns the record's offset in
/// `tail`.
///
/// The record must end exactly at the end of the input (its comment length says where) and
/// describe a central directory that fits before it, so a stray signature in other binary
/// data does not count.
pub fn zip_behind_stub(head: &[u8], tail: &[u8], total: u64) -> Option<usize> {
    if head.starts_with(b"PK") || tail.len() < 22 {
        return None;
    }
    let le16 = |b: &[u8]| u16::from_le_bytes([b[0], b[1]]);
    let le32 = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let tail_at = total.checked_sub(tail.len() as u64)?;
    // Every input that does not start like a zip passes here, so the search is on its
    // rarest byte: 0x05 (absent from text) with a vectorised memrchr, then the signature
    // around it; candidates come last to first, as a reverse substring search would give.
    let candidates = memchr::memrchr_iter(0x05, tail)
        .filter(|&i| i >= 2 && tail[i - 2..].starts_with(b"PK\x05\x06"))
        .map(|i| i - 2);
    for p in candidates {
        let r = &tail[p..];
        let ends_here = r.len() >= 22 && 22 + usize::from(le16(&r[20..22])) == r.len();
        if ends_here {
            let one_disk =
                le16(&r[4..6]) == 0 && le16(&r[6..8]) == 0 && le16(&r[8..10]) == le16(&r[10..12]);
            let (cd_size, cd_offset) = (le32(&r[12..16]), le32(&r[16..20]));
            let zip64 = cd_offset == u32::MAX || cd_size == u32::MAX;
            let fits = u64::from(cd_size) + u64::from(cd_offset) <= tail_at + p as u64;
            if one_disk && le16(&r[10..12]) > 0 && (zip64 || (cd_size >= 46 && fits)) {
                return Some(p);
            }
        }
    }
    None
}

/// A reader that remembers the first bytes and the last [`TAIL_LEN`] bytes read through it
/// (the last ones only past `skip` bytes: what comes before is the caller's to see).
#[derive(Debug)]
pub struct Tail<R> {
    inner: R,
    skip: u64,
    read: u64,
    head: Vec<u8>,
    tail: Vec<u8>,
}

impl<R> Tail<R> {
    /// Wraps `inner`; bytes before offset `skip` are not kept as tail.
    pub fn new(inner: R, skip: u64) -> Self {
        Tail {
            inner,
            skip,
            read: 0,
            head: Vec::new(),
            tail: Vec::new(),
        }
    }

    /// The first bytes read (up to 4).
    pub fn head(&self) -> &[u8] {
        &self.head
    }

    /// The last bytes read (up to [`TAIL_LEN`]) past the skipped part.
    pub fn tail(&self) -> &[u8] {
        let n = self.tail.len().min(TAIL_LEN);
        &self.tail[self.tail.len() - n..]
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.read
    }

    /// The reader wrapped.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: std::io::Read> std::io::Read for Tail<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let got = &buf[..n];
        if self.head.len() < 4 {
            let k = (4 - self.head.len()).min(n);
            self.head.extend_from_slice(&got[..k]);
        }
        let end = self.read + n as u64;
        if end > self.skip {
            let from = n - (end - self.skip).min(n as u64) as usize;
            let keep = &got[from.max(n.saturating_sub(TAIL_LEN))..];
            if self.tail.len() + keep.len() > 2 * TAIL_LEN {
                let drop = self.tail.len().saturating_sub(TAIL_LEN);
                self.tail.drain(..drop);
            }
            self.tail.extend_from_slice(keep);
        }
        self.read = end;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_numbers() {
        assert_eq!(sniff(&[0x1f, 0x8b, 0x08, 0]), Some(Format::Gzip));
        assert_eq!(sniff(b"\xfd7zXZ\x00\x00"), Some(Format::Xz));
        assert_eq!(sniff(b"\x28\xb5\x2f\xfd\x00"), Some(Format::Zstd));
        assert_eq!(sniff(b"BZh91AY&SY\x00"), Some(Format::Bzip2));
        assert_eq!(sniff(b"BZh9 not really"), None);
        assert_eq!(sniff(b"PK\x03\x04rest"), Some(Format::Zip));
        assert_eq!(sniff(b"PK\x05\x06"), Some(Format::Zip));
        assert_eq!(sniff(b"plain text"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn suffixes() {
        assert_eq!(strip_compression_suffix("a/app.log.gz"), "a/app.log");
        assert_eq!(strip_compression_suffix("x.tgz"), "x.tar");
        assert_eq!(strip_compression_suffix(".gz"), ".gz");
        assert_eq!(strip_compression_suffix("plain"), "plain");
    }

    #[test]
    fn zips_behind_stubs() {
        // An end-of-central-directory record for one entry (a 46-byte record) at offset 30.
        let mut eocd = b"PK\x05\x06\0\0\0\0\x01\0\x01\0".to_vec();
        eocd.extend_from_slice(&46u32.to_le_bytes());
        eocd.extend_from_slice(&30u32.to_le_bytes());
        eocd.extend_from_slice(&0u16.to_le_bytes());
        let mut input = vec![b'M'; 200];
        input.extend_from_slice(&eocd);
        let total = input.len() as u64;
        assert_eq!(zip_behind_stub(b"MZ", &input, total), Some(200));
        // A zip at the start is a plain zip.
        assert_eq!(zip_behind_stub(b"PK\x03\x04", &input, total), None);
        // The record must end the input: a trailing byte, or a comment length that does not
        // match, and it is not one.
        let mut longer = input.clone();
        longer.push(0);
        assert_eq!(zip_behind_stub(b"MZ", &longer, total + 1), None);
        let mut bad = input.clone();
        bad[200 + 20] = 5;
        assert_eq!(zip_behind_stub(b"MZ", &bad, total), None);
        // Only the tail is given: the record's absolute position counts.
        assert_eq!(zip_behind_stub(b"MZ", &input[150..], total), Some(50));
        // A directory that does not fit before the record.
        let mut far = input.clone();
        far[200 + 16..200 + 20].copy_from_slice(&10_000u32.to_le_bytes());
        assert_eq!(zip_behind_stub(b"MZ", &far, total), None);
    }

    #[test]
    fn tail_keeps_the_head_and_the_last_bytes() {
        use std::io::Read;
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let mut t = Tail::new(&data[..], 1000);
        let mut sink = Vec::new();
        let mut chunk = [0u8; 7777];
        loop {
            let n = t.read(&mut chunk).unwrap();
            if n == 0 {
                break;
            }
            sink.extend_from_slice(&chunk[..n]);
        }
        assert_eq!(sink, data);
        assert_eq!(t.head(), &data[..4]);
        assert_eq!(t.tail(), &data[data.len() - TAIL_LEN..]);
        assert_eq!(t.bytes_read(), data.len() as u64);
        // Nothing before `skip` is kept.
        let mut short = Tail::new(&data[..2000], 1500);
        std::io::copy(&mut short, &mut std::io::sink()).unwrap();
        assert_eq!(short.tail(), &data[1500..2000]);
    }
}
