//! A streaming tar reader with bounded memory.
//!
//! The `tar` crate reads GNU long-name and PAX extension members into memory whole, with no
//! bound on their declared size, so a hostile (or decompression-bomb) archive could make it
//! allocate without limit. This reader keeps memory constant: extension members are capped at
//! [`MAX_EXTENSION`] bytes, entry data is streamed through [`TarReader::data`], and nothing is
//! ever written to disk. It understands ustar, GNU (long names and links, old-style sparse
//! files) and PAX (`path`, `linkpath`, `size`, `GNU.sparse.name`) headers.

use std::io::{self, Read, Seek, SeekFrom};

/// Largest GNU long-name / long-link / PAX extension member accepted.
pub const MAX_EXTENSION: u64 = 1 << 20;

/// Tar block size.
pub const BLOCK: usize = 512;

/// The kind of a tar entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A regular file (including contiguous and GNU sparse files).
    File,
    /// A directory.
    Dir,
    /// A symbolic link.
    Symlink,
    /// A hard link to an earlier entry.
    Hardlink,
    /// Anything else (devices, FIFOs, volume labels…).
    Other,
}

/// One entry's header, after long-name and PAX extensions are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The entry's path as stored (raw bytes).
    pub path: Vec<u8>,
    /// The link target, for links.
    pub link: Vec<u8>,
    /// What the entry is.
    pub kind: Kind,
    /// Bytes of data stored for the entry.
    pub size: u64,
    /// Offset of the entry's data from the start of the stream.
    pub data_offset: u64,
}

impl Entry {
    /// The path as text (invalid UTF-8 replaced), normalised: no leading `./` or `/`, no
    /// trailing `/`.
    pub fn name(&self) -> String {
        normalize(&String::from_utf8_lossy(&self.path))
    }
}

/// Removes leading `./` and `/` and trailing `/` from an entry path.
pub fn normalize(p: &str) -> String {
    let mut s = p;
    loop {
        if let Some(r) = s.strip_prefix("./") {
            s = r;
        } else if let Some(r) = s.strip_prefix('/') {
            s = r;
        } else {
            break;
        }
    }
    s.trim_end_matches('/').to_string()
}

/// How a tar stream skips data it does not read: by reading it, or by seeking.
pub trait Skip: Read {
    /// Skips `n` bytes.
    fn skip(&mut self, n: u64) -> io::Result<()>;
}

/// A plain reader: skipping reads and discards.
#[derive(Debug)]
pub struct Stream<R>(pub R);

impl<R: Read> Read for Stream<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl<R: Read> Skip for Stream<R> {
    fn skip(&mut self, n: u64) -> io::Result<()> {
        let copied = io::copy(&mut (&mut self.0).take(n), &mut io::sink())?;
        if copied < n {
            return Err(truncated());
        }
        Ok(())
    }
}

/// A seekable reader (a file on disk): skipping seeks.
#[derive(Debug)]
pub struct Seekable<R>(pub R);

impl<R: Read> Read for Seekable<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl<R: Read + Seek> Skip for Seekable<R> {
    fn skip(&mut self, n: u64) -> io::Result<()> {
        let n = i64::try_from(n).map_err(|_| invalid("entry size out of range"))?;
        self.0.seek(SeekFrom::Current(n))?;
        Ok(())
    }
}

fn truncated() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "truncated tar archive")
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

/// A streaming tar reader. Call [`TarReader::next_entry`], then read the entry's data with
/// [`TarReader::data`] (or don't: the next call skips it).
#[derive(Debug)]
pub struct TarReader<R> {
    inner: R,
    pos: u64,
    remaining: u64,
    padding: u64,
    done: bool,
    broken: bool,
}

impl<R: Skip> TarReader<R> {
    /// Reads a tar stream from `inner`.
    pub fn new(inner: R) -> Self {
        TarReader {
            inner,
            pos: 0,
            remaining: 0,
            padding: 0,
            done: false,
            broken: false,
        }
    }

    /// Whether reading the stream itself failed (truncated or unreadable): the fault lies in
    /// the archive, not in an entry.
    pub fn is_broken(&self) -> bool {
        self.broken
    }

    /// Bytes consumed from the stream so far.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// The underlying reader.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    fn fail<T>(&mut self, e: io::Error) -> io::Result<T> {
        self.broken = true;
        self.done = true;
        Err(e)
    }

    fn skip_rest(&mut self) -> io::Result<()> {
        let n = self.remaining + self.padding;
        if n > 0 {
            if let Err(e) = self.inner.skip(n) {
                return self.fail(e);
            }
            self.pos += n;
            self.remaining = 0;
            self.padding = 0;
        }
        Ok(())
    }

    /// Reads one block; `Ok(false)` at a clean end of stream.
    fn read_block(&mut self, block: &mut [u8; BLOCK]) -> io::Result<bool> {
        let mut got = 0;
        while got < BLOCK {
            match self.inner.read(&mut block[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.fail(e),
            }
        }
        self.pos += got as u64;
        match got {
            0 => Ok(false),
            BLOCK => Ok(true),
            _ => self.fail(truncated()),
        }
    }

    fn read_extension(&mut self, size: u64) -> io::Result<Vec<u8>> {
        if size > MAX_EXTENSION {
            return self.fail(invalid("tar extension header over 1 MiB"));
        }
        let mut v = vec![0u8; size as usize];
        if let Err(e) = self.inner.read_exact(&mut v) {
            let e = if e.kind() == io::ErrorKind::UnexpectedEof {
                truncated()
            } else {
                e
            };
            return self.fail(e);
        }
        self.pos += size;
        self.remaining = 0;
        self.padding = pad(size);
        self.skip_rest()?;
        Ok(v)
    }

    /// Advances to the next entry, skipping the rest of the current one. `Ok(None)` at the
    /// end of the archive.
    pub fn next_entry(&mut self) -> io::Result<Option<Entry>> {
        if self.done {
            return Ok(None);
        }
        self.skip_rest()?;
        let mut long_name: Option<Vec<u8>> = None;
        let mut long_link: Option<Vec<u8>> = None;
        let mut pax = Pax::default();
        let mut block = [0u8; BLOCK];
        loop {
            if !self.read_block(&mut block)? {
                self.done = true;
                return Ok(None);
            }
            if block.iter().all(|&b| b == 0) {
                self.done = true;
                return Ok(None);
            }
            if !checksum_ok(&block) {
                return self.fail(invalid("bad tar header checksum"));
            }
            let typeflag = block[156];
            let mut size = match parse_number(&block[124..136]) {
                Some(s) => s,
                None => return self.fail(invalid("bad tar size field")),
            };
            match typeflag {
                b'L' => {
                    long_name = Some(trim_nul(&self.read_extension(size)?).to_vec());
                    continue;
                }
                b'K' => {
                    long_link = Some(trim_nul(&self.read_extension(size)?).to_vec());
                    continue;
                }
                b'x' => {
                    let data = self.read_extension(size)?;
                    pax.parse(&data);
                    continue;
                }
                b'g' => {
                    // Global extended header: archive-wide defaults; nothing we need.
                    self.read_extension(size)?;
                    continue;
                }
                _ => {}
            }
            // Old-style GNU sparse files: extension blocks follow the header.
            if typeflag == b'S' && block[482] != 0 {
                let mut ext = [0u8; BLOCK];
                loop {
                    if !self.read_block(&mut ext)? {
                        return self.fail(truncated());
                    }
                    if ext[504] == 0 {
                        break;
                    }
                }
            }
            if let Some(s) = pax.size {
                size = s;
            }
            let ustar = &block[257..263] == b"ustar\0";
            let path = if let Some(p) = long_name.take().or(pax.path.take()) {
                p
            } else {
                let name = trim_nul(&block[0..100]);
                let prefix = trim_nul(&block[345..500]);
                if ustar && !prefix.is_empty() {
                    let mut p = prefix.to_vec();
                    p.push(b'/');
                    p.extend_from_slice(name);
                    p
                } else {
                    name.to_vec()
                }
            };
            let link = long_link
                .take()
                .or(pax.linkpath.take())
                .unwrap_or_else(|| trim_nul(&block[157..257]).to_vec());
            let kind = match typeflag {
                b'0' | b'\0' | b'7' | b'S' => {
                    if typeflag == b'\0' && path.last() == Some(&b'/') {
                        Kind::Dir
                    } else {
                        Kind::File
                    }
                }
                b'1' => Kind::Hardlink,
                b'2' => Kind::Symlink,
                b'5' => Kind::Dir,
                _ => Kind::Other,
            };
            let path = pax.sparse_name.take().unwrap_or(path);
            self.remaining = size;
            self.padding = pad(size);
            return Ok(Some(Entry {
                path,
                link,
                kind,
                size,
                data_offset: self.pos,
            }));
        }
    }

    /// A reader over the current entry's data.
    pub fn data(&mut self) -> EntryData<'_, R> {
        EntryData { tar: self }
    }
}

/// The data of the current entry; reading past what the header declares is end of file,
/// and a stream that ends early is an error (and marks the archive broken).
#[derive(Debug)]
pub struct EntryData<'a, R> {
    tar: &'a mut TarReader<R>,
}

impl<R: Skip> Read for EntryData<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let t = &mut *self.tar;
        if t.remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf.len().min(t.remaining.min(usize::MAX as u64) as usize);
        match t.inner.read(&mut buf[..want]) {
            Ok(0) => t.fail(truncated()),
            Ok(n) => {
                t.remaining -= n as u64;
                t.pos += n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => t.fail(e),
        }
    }
}

fn pad(size: u64) -> u64 {
    (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64
}

fn trim_nul(b: &[u8]) -> &[u8] {
    match memchr::memchr(0, b) {
        Some(i) => &b[..i],
        None => b,
    }
}

/// Whether the header's checksum field matches its bytes (unsigned or signed sum, as
/// historic tars wrote either).
pub fn checksum_ok(block: &[u8]) -> bool {
    if block.len() < BLOCK {
        return false;
    }
    let Some(stored) = parse_octal(&block[148..156]) else {
        return false;
    };
    let mut unsigned: u64 = 0;
    let mut signed: i64 = 0;
    for (i, &b) in block[..BLOCK].iter().enumerate() {
        let b = if (148..156).contains(&i) { b' ' } else { b };
        unsigned += u64::from(b);
        signed += i64::from(b as i8);
    }
    stored == unsigned || i64::try_from(stored).is_ok_and(|s| s == signed)
}

/// Whether `head` starts with a tar header: a valid checksum over a non-empty block, and
/// a name.
pub fn looks_like_tar(head: &[u8]) -> bool {
    head.len() >= BLOCK
        && head[0] != 0
        && checksum_ok(head)
        && (&head[257..262] == b"ustar" || parse_number(&head[124..136]).is_some())
}

fn parse_octal(field: &[u8]) -> Option<u64> {
    let s = trim_nul(field);
    let s = s.trim_ascii();
    if s.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &c in s {
        if !(b'0'..=b'7').contains(&c) {
            return None;
        }
        v = v.checked_mul(8)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(v)
}

/// Parses a numeric field: octal text, or GNU base-256 (high bit of the first byte set).
fn parse_number(field: &[u8]) -> Option<u64> {
    if field.first().is_some_and(|&b| b & 0x80 != 0) {
        if field[0] == 0xff {
            return None; // negative
        }
        let mut v: u64 = u64::from(field[0] & 0x7f);
        for &b in &field[1..] {
            v = v.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(v);
    }
    let t = trim_nul(field).trim_ascii();
    if t.is_empty() {
        return Some(0);
    }
    parse_octal(field)
}

/// The PAX keys we apply.
#[derive(Debug, Default)]
struct Pax {
    path: Option<Vec<u8>>,
    linkpath: Option<Vec<u8>>,
    size: Option<u64>,
    sparse_name: Option<Vec<u8>>,
}

impl Pax {
    /// Parses `LEN key=value\n` records; malformed records end parsing (what was read is kept).
    fn parse(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let Some(sp) = memchr::memchr(b' ', data) else {
                return;
            };
            let Some(len) = std::str::from_utf8(&data[..sp])
                .ok()
                .and_then(|s| s.parse::<usize>().ok())
            else {
                return;
            };
            if len <= sp + 1 || len > data.len() {
                return;
            }
            let rec = &data[sp + 1..len];
            let rec = rec.strip_suffix(b"\n").unwrap_or(rec);
            if let Some(eq) = memchr::memchr(b'=', rec) {
                let (k, v) = (&rec[..eq], &rec[eq + 1..]);
                match k {
                    b"path" => self.path = Some(v.to_vec()),
                    b"linkpath" => self.linkpath = Some(v.to_vec()),
                    b"size" => self.size = std::str::from_utf8(v).ok().and_then(|s| s.parse().ok()),
                    b"GNU.sparse.name" => self.sparse_name = Some(v.to_vec()),
                    _ => {}
                }
            }
            data = &data[len..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(name: &str, size: u64, typeflag: u8) -> [u8; BLOCK] {
        let mut b = [0u8; BLOCK];
        b[..name.len()].copy_from_slice(name.as_bytes());
        b[100..107].copy_from_slice(b"0000644");
        let s = format!("{size:011o}");
        b[124..135].copy_from_slice(s.as_bytes());
        b[156] = typeflag;
        b[257..263].copy_from_slice(b"ustar\0");
        b[263..265].copy_from_slice(b"00");
        b[148..156].copy_from_slice(b"        ");
        let sum: u64 = b.iter().map(|&x| u64::from(x)).sum();
        let c = format!("{sum:06o}\0 ");
        b[148..156].copy_from_slice(c.as_bytes());
        b
    }

    fn archive(entries: &[(&str, &[u8], u8)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, data, t) in entries {
            out.extend_from_slice(&header(name, data.len() as u64, *t));
            out.extend_from_slice(data);
            out.resize(out.len() + pad(data.len() as u64) as usize, 0);
        }
        out.resize(out.len() + 2 * BLOCK, 0);
        out
    }

    #[test]
    fn reads_entries_and_long_names() {
        let long = "d/".repeat(80) + "file.txt";
        let tar = archive(&[
            ("././@LongLink", format!("{long}\0").as_bytes(), b'L'),
            ("short", b"hello", b'0'),
            ("dir/", b"", b'5'),
            ("b", b"world!", b'0'),
        ]);
        let mut r = TarReader::new(Stream(&tar[..]));
        let e = r.next_entry().unwrap().unwrap();
        assert_eq!(e.name(), long);
        assert_eq!(e.kind, Kind::File);
        let mut s = String::new();
        r.data().read_to_string(&mut s).unwrap();
        assert_eq!(s, "hello");
        assert_eq!(r.next_entry().unwrap().unwrap().kind, Kind::Dir);
        let e = r.next_entry().unwrap().unwrap();
        assert_eq!((e.name().as_str(), e.size), ("b", 6));
        assert_eq!(&tar[e.data_offset as usize..][..6], b"world!");
        assert!(r.next_entry().unwrap().is_none());
        assert!(!r.is_broken());
    }

    #[test]
    fn pax_overrides_path_and_size() {
        let rec = |k: &str, v: &str| {
            let body = format!(" {k}={v}\n");
            let mut n = body.len() + 1;
            if (n.to_string().len() + body.len()) != n {
                n = n.to_string().len() + body.len();
            }
            format!("{n}{body}")
        };
        let pax = rec("path", "über/long.txt") + &rec("size", "3");
        let tar = archive(&[("PaxHeader", pax.as_bytes(), b'x'), ("x", b"abc", b'0')]);
        let mut r = TarReader::new(Stream(&tar[..]));
        let e = r.next_entry().unwrap().unwrap();
        assert_eq!(e.name(), "über/long.txt");
        assert_eq!(e.size, 3);
    }

    #[test]
    fn truncated_and_corrupt_are_errors() {
        let tar = archive(&[("a", &[b'x'; 2000], b'0')]);
        let mut r = TarReader::new(Stream(&tar[..1200]));
        r.next_entry().unwrap().unwrap();
        let mut v = Vec::new();
        assert!(r.data().read_to_end(&mut v).is_err());
        assert!(r.is_broken());
        let mut bad = archive(&[("a", b"x", b'0')]);
        bad[0] = b'b';
        let mut r = TarReader::new(Stream(&bad[..]));
        assert!(r.next_entry().is_err());
    }

    #[test]
    fn oversized_extension_is_refused() {
        let mut h = header("././@LongLink", MAX_EXTENSION + 1, b'L');
        h[0] = b'.';
        let mut r = TarReader::new(Stream(&h[..]));
        assert!(r.next_entry().is_err());
    }

    #[test]
    fn sniffing() {
        let tar = archive(&[("a", b"x", b'0')]);
        assert!(looks_like_tar(&tar));
        assert!(!looks_like_tar(&[0u8; 1024]));
        assert!(!looks_like_tar(b"hello"));
    }

    #[test]
    fn normalizes() {
        assert_eq!(normalize("./a/b/"), "a/b");
        assert_eq!(normalize("/./x"), "x");
    }
}
