//! A streaming reader for `ar` archives: Debian packages (`.deb`: `debian-binary`,
//! `control.tar.*`, `data.tar.*`) and static libraries. GNU (`//` long-name table, `/N`
//! references) and BSD (`#1/N` inline names) variants; memory bounded (the long-name table
//! is capped at [`MAX_NAME_TABLE`]).

use std::io::{self, Read};

/// The global header.
pub const MAGIC: &[u8; 8] = b"!<arch>\n";

/// Largest GNU long-name table accepted.
pub const MAX_NAME_TABLE: u64 = 1 << 20;

/// One member's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The member's name.
    pub name: String,
    /// Bytes of data.
    pub size: u64,
    /// Whether it is a symbol or name table (not content).
    pub special: bool,
}

/// Reads members of an ar stream in order.
#[derive(Debug)]
pub struct ArReader<R> {
    inner: R,
    remaining: u64,
    padding: u64,
    names: Vec<u8>,
    started: bool,
    broken: bool,
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

impl<R: Read> ArReader<R> {
    /// Reads an ar stream (starting with [`MAGIC`]).
    pub fn new(inner: R) -> Self {
        ArReader {
            inner,
            remaining: 0,
            padding: 0,
            names: Vec::new(),
            started: false,
            broken: false,
        }
    }

    /// Whether reading the stream itself failed.
    pub fn is_broken(&self) -> bool {
        self.broken
    }

    fn fail<T>(&mut self, e: io::Error) -> io::Result<T> {
        self.broken = true;
        Err(e)
    }

    fn skip(&mut self, n: u64) -> io::Result<()> {
        let got = io::copy(&mut (&mut self.inner).take(n), &mut io::sink())?;
        if got < n {
            return self.fail(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "truncated ar archive",
            ));
        }
        Ok(())
    }

    /// Advances to the next member (skipping what is left of the current one).
    pub fn next_member(&mut self) -> io::Result<Option<Member>> {
        if self.broken {
            return Ok(None);
        }
        if !self.started {
            let mut m = [0u8; 8];
            if let Err(e) = self.inner.read_exact(&mut m) {
                return self.fail(e);
            }
            if &m != MAGIC {
                return self.fail(invalid("not an ar archive"));
            }
            self.started = true;
        }
        let rest = self.remaining + self.padding;
        self.remaining = 0;
        self.padding = 0;
        if let Err(e) = self.skip(rest) {
            return self.fail(e);
        }
        loop {
            let mut h = [0u8; 60];
            let mut got = 0;
            while got < 60 {
                match self.inner.read(&mut h[got..]) {
                    Ok(0) => break,
                    Ok(n) => got += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return self.fail(e),
                }
            }
            if got == 0 {
                return Ok(None);
            }
            if got < 60 {
                return self.fail(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "truncated ar header",
                ));
            }
            if &h[58..60] != b"`\n" {
                return self.fail(invalid("bad ar member header"));
            }
            let size: u64 = match std::str::from_utf8(&h[48..58])
                .ok()
                .and_then(|s| s.trim().parse().ok())
            {
                Some(s) => s,
                None => return self.fail(invalid("bad ar member size")),
            };
            let raw = String::from_utf8_lossy(&h[..16]).trim_end().to_string();
            self.padding = size % 2;
            if raw == "//" {
                // GNU long-name table.
                if size > MAX_NAME_TABLE {
                    return self.fail(invalid("ar name table over 1 MiB"));
                }
                let mut t = vec![0u8; size as usize];
                if let Err(e) = self.inner.read_exact(&mut t) {
                    return self.fail(e);
                }
                self.names = t;
                let pad = self.padding;
                self.padding = 0;
                self.skip(pad)?;
                continue;
            }
            let (name, data_size) = if let Some(n) = raw.strip_prefix("#1/") {
                // BSD: the name is the first N bytes of the data.
                let Some(len) = n
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|&l| l <= size.min(4096))
                else {
                    return self.fail(invalid("bad BSD ar name"));
                };
                let mut nb = vec![0u8; len as usize];
                if let Err(e) = self.inner.read_exact(&mut nb) {
                    return self.fail(e);
                }
                let end = memchr::memchr(0, &nb).unwrap_or(nb.len());
                (String::from_utf8_lossy(&nb[..end]).into_owned(), size - len)
            } else if let Some(off) = raw
                .strip_prefix('/')
                .and_then(|n| n.trim().parse::<usize>().ok())
            {
                let tail = self.names.get(off..).unwrap_or(&[]);
                let end = tail
                    .iter()
                    .position(|&b| b == b'\n' || b == 0)
                    .unwrap_or(tail.len());
                let n = String::from_utf8_lossy(&tail[..end]);
                (n.trim_end_matches('/').to_string(), size)
            } else {
                (raw.trim_end_matches('/').to_string(), size)
            };
            let special = name.is_empty() || name == "__.SYMDEF" || name.starts_with("__.SYMDEF ");
            self.remaining = data_size;
            return Ok(Some(Member {
                name,
                size: data_size,
                special,
            }));
        }
    }

    /// A reader over the current member's data.
    pub fn data(&mut self) -> MemberData<'_, R> {
        MemberData { ar: self }
    }
}

/// The data of the current member.
#[derive(Debug)]
pub struct MemberData<'a, R> {
    ar: &'a mut ArReader<R>,
}

impl<R: Read> Read for MemberData<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let a = &mut *self.ar;
        if a.remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf.len().min(a.remaining.min(usize::MAX as u64) as usize);
        match a.inner.read(&mut buf[..want]) {
            Ok(0) => a.fail(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "truncated ar member",
            )),
            Ok(n) => {
                a.remaining -= n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => a.fail(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str, data: &[u8]) -> Vec<u8> {
        let mut h = format!(
            "{name:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
            0,
            0,
            0,
            "100644",
            data.len()
        )
        .into_bytes();
        h.extend_from_slice(data);
        if data.len() % 2 == 1 {
            h.push(b'\n');
        }
        h
    }

    #[test]
    fn gnu_bsd_and_long_names() {
        let mut a = MAGIC.to_vec();
        a.extend(member("debian-binary", b"2.0\n"));
        a.extend(member("//", b"a-very-long-member-name.tar.gz/\n"));
        a.extend(member("/0", b"odd"));
        let mut bsd = b"bsd-name.txt".to_vec();
        bsd.extend_from_slice(b"hello");
        a.extend(member("#1/12", &bsd));
        let mut r = ArReader::new(&a[..]);
        let m = r.next_member().unwrap().unwrap();
        assert_eq!((m.name.as_str(), m.size), ("debian-binary", 4));
        let m = r.next_member().unwrap().unwrap();
        assert_eq!(m.name, "a-very-long-member-name.tar.gz");
        let mut s = String::new();
        r.data().read_to_string(&mut s).unwrap();
        assert_eq!(s, "odd");
        let m = r.next_member().unwrap().unwrap();
        assert_eq!(m.name, "bsd-name.txt");
        let mut s = String::new();
        r.data().read_to_string(&mut s).unwrap();
        assert_eq!(s, "hello");
        assert!(r.next_member().unwrap().is_none());
    }

    #[test]
    fn truncated_is_an_error() {
        let mut a = MAGIC.to_vec();
        a.extend(member("x", b"0123456789"));
        let mut r = ArReader::new(&a[..a.len() - 4]);
        r.next_member().unwrap().unwrap();
        let mut v = Vec::new();
        assert!(r.data().read_to_end(&mut v).is_err());
        assert!(r.is_broken());
    }
}
