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
}
