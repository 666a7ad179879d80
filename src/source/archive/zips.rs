//! Zip archives. Every entry is listed from the central directory and located by its local
//! header before anything is inflated, so that overlapping entries (many directory records
//! pointing at the same compressed bytes: a zip bomb that inflates one kernel again and
//! again) are refused at once, and an entry that declares a bomb's compression ratio is not
//! inflated at all. What is inflated is checked as it comes: the ratio against the
//! compressed bytes consumed so far (exactly, for deflate), and the ratio of the whole
//! archive. When scanning stops at a cap, the entries left are named as not scanned.

use super::hold::{Window, ZipSource};
use super::{Inflate, InputSize, NotScanned, RATIO_GRACE, Unreadable, Walker, cap, tar};
use std::cell::Cell;
use std::io::{self, BufRead, Read};
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use zip::CompressionMethod;

/// Entries named one by one when the rest of an archive is not scanned; the others are
/// counted.
pub const NAMED_NOT_SCANNED: usize = 10;

/// One entry as the central directory and its local header describe it.
#[derive(Debug)]
struct Entry {
    index: usize,
    name: String,
    /// A directory or a symbolic link: nothing to scan.
    skip: bool,
    encrypted: bool,
    method: CompressionMethod,
    compressed: u64,
    size: u64,
    crc: u32,
    /// Where its compressed bytes start.
    data_start: u64,
}

impl Entry {
    /// The bytes the entry occupies: its local header through its compressed data.
    fn span(&self, header_start: u64) -> Range<u64> {
        header_start..self.data_start.saturating_add(self.compressed)
    }
}

/// An entry whose local header could not be read.
struct Broken {
    index: usize,
    name: String,
    error: io::Error,
}

/// The archive being read, and what its entries have inflated to so far.
struct Archive<'s> {
    zip: zip::ZipArchive<ZipSource>,
    window: &'s Window,
    /// Bytes the zip reader has read from the archive (the compressed bytes consumed).
    served: Arc<AtomicU64>,
    /// Bytes inflated from all its entries.
    out: Cell<u64>,
}

impl Walker<'_> {
    /// Scans a zip archive's entries (`src`: the whole archive).
    pub fn scan_zip(
        &mut self,
        src: Window,
        chain: &mut Vec<String>,
        depth: usize,
    ) -> io::Result<()> {
        let served = Arc::new(AtomicU64::new(0));
        let zip = zip::ZipArchive::new(ZipSource::new(src.clone(), served.clone()))
            .map_err(super::zip_error)?;
        let mut ar = Archive {
            zip,
            window: &src,
            served,
            out: Cell::new(0),
        };
        let (entries, broken) = list(&mut ar.zip)?;
        let mut broken = broken.into_iter().peekable();
        for (k, e) in entries.iter().enumerate() {
            while let Some(b) = broken.next_if(|b| b.index < e.index) {
                self.entry_problem(chain, &b.name, &b.error);
            }
            if self.budget.aborted() || !self.count_entry(chain) {
                let rest = entries[k..].iter().map(|e| e.name.as_str());
                self.not_scanned(chain, rest, &NotScanned::AfterCap);
                return Ok(());
            }
            chain.push(e.name.clone());
            let r = self.scan_entry(&mut ar, e, chain, depth);
            chain.pop();
            if let Err(err) = r {
                self.entry_problem(chain, &e.name, &err);
            }
            if archive_ratio_over(&ar, self.budget.limits().max_ratio) {
                let rest = entries[k + 1..].iter().map(|e| e.name.as_str());
                self.not_scanned(chain, rest, &NotScanned::AfterCap);
                return Ok(());
            }
        }
        for b in broken {
            self.entry_problem(chain, &b.name, &b.error);
        }
        Ok(())
    }

    fn entry_problem(&mut self, chain: &mut Vec<String>, name: &str, e: &io::Error) {
        chain.push(name.to_string());
        self.problem(chain, e);
        chain.pop();
    }

    /// Records `names` (entries of the archive at `chain`) as not scanned, for `why`: the
    /// first [`NAMED_NOT_SCANNED`] one by one, the others counted.
    pub(crate) fn not_scanned<'n>(
        &mut self,
        chain: &mut Vec<String>,
        names: impl Iterator<Item = &'n str>,
        why: &NotScanned,
    ) {
        let mut more = 0u64;
        for (i, name) in names.enumerate() {
            if i >= NAMED_NOT_SCANNED {
                more += 1;
                continue;
            }
            self.entry_problem(chain, name, &io::Error::other(why.clone()));
        }
        if more > 0 {
            let e = io::Error::other(NotScanned::More {
                count: more,
                why: Box::new(why.clone()),
            });
            self.problem(chain, &e);
        }
    }

    /// Scans one entry, refusing it before inflating when it is encrypted or its sizes
    /// declare a bomb.
    fn scan_entry(
        &mut self,
        ar: &mut Archive<'_>,
        e: &Entry,
        chain: &mut Vec<String>,
        depth: usize,
    ) -> io::Result<()> {
        if e.skip {
            return Ok(());
        }
        refuse(e, self.budget.limits().max_ratio)?;
        let budget = self.budget;
        let archive = Some((&ar.out, ar.window.len()));
        match e.method {
            CompressionMethod::Stored => {
                // A zip stored in this one is read in place, never copied.
                let whole = ar.window.sub(e.data_start, e.compressed).ok();
                let mut f = ar.zip.by_index(e.index).map_err(super::zip_error)?;
                let mut guard = Inflate::new(&mut f, InputSize::Known(e.compressed), budget);
                guard.archive = archive;
                self.scan_inner(&mut guard, chain, depth, 0, whole)
            }
            CompressionMethod::Deflated => {
                // Inflated here, so that the compressed bytes consumed are counted exactly.
                let raw = ar.zip.by_index_raw(e.index).map_err(super::zip_error)?;
                let consumed = Cell::new(0u64);
                let counted = CountConsumed {
                    inner: io::BufReader::with_capacity(32 << 10, raw),
                    n: &consumed,
                };
                let mut dec = Checked::new(flate2::bufread::DeflateDecoder::new(counted), e);
                let mut guard = Inflate::new(&mut dec, InputSize::Counted(&consumed), budget);
                guard.archive = archive;
                self.scan_inner(&mut guard, chain, depth, 0, None)
            }
            _ => {
                // Other methods go through the zip reader; what it consumed is counted where
                // it reads the archive (a few KiB ahead of the decoder at most).
                let input = InputSize::Since(&ar.served, ar.served.load(Ordering::Relaxed));
                let mut f = ar.zip.by_index(e.index).map_err(super::zip_error)?;
                let mut guard = Inflate::new(&mut f, input, budget);
                guard.archive = archive;
                self.scan_inner(&mut guard, chain, depth, 0, None)
            }
        }
    }
}

/// Refuses an entry before anything is inflated: encrypted, or declaring (in the directory)
/// a compression ratio over the cap.
fn refuse(e: &Entry, max_ratio: u64) -> io::Result<()> {
    if e.encrypted {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            Unreadable("encrypted entry: cannot be scanned".into()),
        ));
    }
    if e.size > RATIO_GRACE && e.size / e.compressed.max(1) > max_ratio {
        return Err(cap(format!(
            "compression ratio over --max-ratio {max_ratio}:1 declared by the directory (a \
             decompression bomb?); not inflated"
        )));
    }
    Ok(())
}

/// Whether the archive as a whole has inflated past the ratio cap.
fn archive_ratio_over(ar: &Archive<'_>, max_ratio: u64) -> bool {
    let out = ar.out.get();
    out > RATIO_GRACE && out / ar.window.len().max(1) > max_ratio
}

/// Lists the entries (in directory order) and refuses the archive when two of them share
/// bytes. Entries whose local header cannot be read are returned apart, to be reported.
fn list(zip: &mut zip::ZipArchive<ZipSource>) -> io::Result<(Vec<Entry>, Vec<Broken>)> {
    let mut entries = Vec::with_capacity(zip.len());
    let mut broken = Vec::new();
    let mut spans = Vec::with_capacity(zip.len());
    for index in 0..zip.len() {
        let name = tar::normalize(zip.name_for_index(index).unwrap_or("?"));
        let f = match zip.by_index_raw(index) {
            Ok(f) => f,
            Err(e) => {
                let error = super::zip_error(e);
                broken.push(Broken { index, name, error });
                continue;
            }
        };
        let e = Entry {
            index,
            name,
            skip: f.is_dir() || f.is_symlink(),
            encrypted: f.encrypted(),
            method: f.compression(),
            compressed: f.compressed_size(),
            size: f.size(),
            crc: f.crc32(),
            data_start: f.data_start().unwrap_or(f.header_start()),
        };
        spans.push((e.span(f.header_start()), entries.len()));
        entries.push(e);
    }
    spans.sort_unstable_by_key(|(s, _)| (s.start, s.end));
    for pair in spans.windows(2) {
        let ((a, i), (b, j)) = (&pair[0], &pair[1]);
        if b.start < a.end {
            let (first, second) = (entries[*i].name.clone(), entries[*j].name.clone());
            return Err(io::Error::other(NotScanned::Overlapping { first, second }));
        }
    }
    Ok((entries, broken))
}

/// Counts the compressed bytes a decoder consumes (exactly: what it `consume`s).
struct CountConsumed<'c, R> {
    inner: R,
    n: &'c Cell<u64>,
}

impl<R: BufRead> Read for CountConsumed<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n.set(self.n.get() + n as u64);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for CountConsumed<'_, R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.n.set(self.n.get() + amt as u64);
        self.inner.consume(amt);
    }
}

/// Checks an entry's inflated bytes against the directory's CRC-32 and size at its end.
struct Checked<R> {
    inner: R,
    crc: crc32fast::Hasher,
    len: u64,
    want_crc: u32,
    want_len: u64,
}

impl<R: Read> Checked<R> {
    fn new(inner: R, e: &Entry) -> Self {
        Checked {
            inner,
            crc: crc32fast::Hasher::new(),
            len: 0,
            want_crc: e.crc,
            want_len: e.size,
        }
    }
}

impl<R: Read> Read for Checked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.crc.update(&buf[..n]);
        self.len += n as u64;
        if n == 0 && !buf.is_empty() {
            if self.len != self.want_len {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "inflates to {} bytes, the directory says {}",
                        self.len, self.want_len
                    ),
                ));
            }
            if self.crc.clone().finalize() != self.want_crc {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "bad CRC-32"));
            }
        }
        Ok(n)
    }
}
