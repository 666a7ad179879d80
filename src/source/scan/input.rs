//! Scanning one input — bytes in memory or a reader of any size — into finalized matches.
//! Every source (files, stdin, archive entries, git blobs, image layers) goes through here.

use crate::engine::{Engine, InputMeta, ScanState};
use crate::location::Located;
use crate::stream::{self, StreamScanner};
use std::io::{self, Read};

/// Inputs up to this size are read whole and scanned in one piece.
pub const WHOLE_INPUT_LIMIT: usize = 8 << 20;
/// Owned bytes per piece when one input is scanned on several threads: large enough that
/// the context copied on each side (see [`Engine::overlap`]) costs little, small enough that
/// every core gets work early.
pub const PARALLEL_CHUNK: usize = 2 << 20;
/// Bytes inspected for a NUL to call an input binary.
pub const BINARY_SNIFF: usize = 8 << 10;

/// Whether `head` (an input's first bytes) looks binary: it holds a NUL byte and is not
/// UTF-16LE text (see [`looks_utf16le`]), which the engine reads through.
pub fn looks_binary(head: &[u8]) -> bool {
    memchr::memchr(0, &head[..head.len().min(BINARY_SNIFF)]).is_some() && !looks_utf16le(head)
}

/// Whether `head` starts like UTF-16LE text: the byte order mark `FF FE` and then mostly
/// ASCII characters each followed by a zero byte (what PowerShell's `Out-File` writes), or
/// without the mark, nearly only such pairs.
pub fn looks_utf16le(head: &[u8]) -> bool {
    let wide_share = |body: &[u8]| {
        let pairs = body.chunks_exact(2).take(64);
        let n = pairs.len();
        let ascii = pairs
            .filter(|p| p[1] == 0 && matches!(p[0], b'\t' | b'\n' | b'\r' | 0x20..=0x7e))
            .count();
        (ascii, n)
    };
    match head.strip_prefix(&[0xff, 0xfe]) {
        Some(body) => {
            let (ascii, n) = wide_share(body);
            n > 0 && ascii * 2 > n
        }
        None => {
            let (ascii, n) = wide_share(head);
            n >= 8 && ascii * 4 > n * 3
        }
    }
}

/// Scans an in-memory input. `meta.binary` is decided here from the content.
pub fn scan_bytes(
    engine: &Engine,
    st: &mut ScanState,
    bytes: &[u8],
    meta: InputMeta<'_>,
) -> Vec<Located> {
    let meta = InputMeta {
        binary: meta.binary || looks_binary(bytes),
        ..meta
    };
    let mut found = stream::scan_slice(engine, st, bytes, &meta);
    engine.finalize(&mut found);
    found
}

/// Appends up to `want` bytes from `reader` to `buf`, reading until that much arrived or
/// the reader ended. Returns (bytes appended, whether the reader ended). The new region is
/// zero-initialised once and filled whole, so the cost stays proportional to the data even
/// when a decompressor hands out small reads.
pub fn fill_from<R: Read + ?Sized>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    want: usize,
) -> io::Result<(usize, bool)> {
    let len = buf.len();
    buf.resize(len + want, 0);
    let mut got = 0;
    while got < want {
        match reader.read(&mut buf[len + got..]) {
            Ok(0) => {
                buf.truncate(len + got);
                return Ok((got, true));
            }
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                buf.truncate(len + got);
                return Err(e);
            }
        }
    }
    Ok((got, false))
}

/// Reads until EOF or `limit` bytes into `buf` (appending), growing it by doubling but never
/// past `limit`: `read_to_end` would double an 8 MiB buffer to 16 MiB for one extra byte.
pub fn read_up_to<R: Read + ?Sized>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    limit: usize,
) -> io::Result<usize> {
    let start = buf.len();
    loop {
        let filled = buf.len() - start;
        if filled >= limit {
            return Ok(filled);
        }
        if buf.len() == buf.capacity() {
            let grow = (buf.capacity() - start).max(16 * 1024).min(limit - filled);
            buf.reserve_exact(grow);
        }
        // Start small and double: a 1 KiB file must not pay for zeroing the capacity a
        // previous large one left behind.
        let room = (buf.capacity() - buf.len())
            .min(limit - filled)
            .min(filled.max(16 * 1024));
        let (_, eof) = fill_from(reader, buf, room)?;
        if eof {
            return Ok(buf.len() - start);
        }
    }
}

/// Scans an in-memory input like [`scan_bytes`] but in bounded memory: at most
/// [`stream::MAX_FOUND_PER_INPUT`] findings are kept, and an input over
/// [`WHOLE_INPUT_LIMIT`] (a git blob up to `--max-blob-size`) is scanned in chunks, so the
/// engine never holds more than one chunk's matches. Returns the findings and how many more
/// there were. Chunked scanning finds exactly what a whole scan finds.
pub fn scan_bytes_capped(
    engine: &Engine,
    st: &mut ScanState,
    bytes: &[u8],
    meta: InputMeta<'_>,
) -> (Vec<Located>, u64) {
    if bytes.len() <= WHOLE_INPUT_LIMIT {
        let scan = ReaderScan::new(scan_bytes(engine, st, bytes, meta), 0, None).capped();
        return (scan.found, scan.unlisted);
    }
    let mut reader = bytes;
    let scan = scan_reader(engine, st, &mut reader, &mut Vec::new(), meta);
    (scan.found, scan.unlisted)
}

/// Scans a reader: small inputs are read whole into `buf` (reused across calls), larger ones
/// are streamed in chunks. Returns the matches and the number of bytes read.
pub fn scan_reader<R: Read>(
    engine: &Engine,
    st: &mut ScanState,
    reader: &mut R,
    buf: &mut Vec<u8>,
    meta: InputMeta<'_>,
) -> ReaderScan {
    scan_reader_on(engine, st, reader, buf, meta, 1)
}

/// Like [`scan_reader`], with an input larger than [`WHOLE_INPUT_LIMIT`] scanned on
/// `threads` threads (see [`crate::source::parallel_stream`]): for one large input such as
/// standard input, where nothing else keeps the other cores busy. The findings are the same.
pub fn scan_reader_on<R: Read>(
    engine: &Engine,
    st: &mut ScanState,
    reader: &mut R,
    buf: &mut Vec<u8>,
    meta: InputMeta<'_>,
    threads: usize,
) -> ReaderScan {
    buf.clear();
    // Read up to the whole-input limit; if the input ends there (or a read fails before),
    // scan what was read in one piece.
    let head = read_up_to(reader, buf, WHOLE_INPUT_LIMIT + 1);
    if let Err(error) = head {
        let found = scan_bytes(engine, st, buf, meta);
        return ReaderScan::new(found, buf.len() as u64, Some(error)).capped();
    }
    if buf.len() <= WHOLE_INPUT_LIMIT {
        let found = scan_bytes(engine, st, buf, meta);
        return ReaderScan::new(found, buf.len() as u64, None).capped();
    }
    let meta = InputMeta {
        binary: meta.binary || looks_binary(buf),
        ..meta
    };
    if threads > 1 {
        let head = std::mem::take(buf);
        let mut scan = crate::source::parallel_stream::scan_parallel(
            engine,
            reader,
            head,
            &meta,
            threads,
            PARALLEL_CHUNK,
        );
        engine.finalize(&mut scan.found);
        return scan;
    }
    let mut found = Vec::new();
    // The stream scanner continues in the same buffer: no copy of the head, and the
    // thread's buffer keeps its capacity for the next input.
    let mut scanner = StreamScanner::with_buffer(
        engine,
        st,
        &meta,
        stream::DEFAULT_CHUNK,
        std::mem::take(buf),
    );
    scanner.feed(st, &meta, &[], &mut found);
    let fed = scanner.feed_reader(st, &meta, reader, &mut found);
    let end = scanner.finish_into_buffer(st, &meta, &mut found);
    *buf = end.buf;
    engine.finalize(&mut found);
    let mut scan = ReaderScan::new(found, end.bytes, fed.err());
    scan.unlisted = end.unlisted;
    scan
}

/// What [`scan_reader`] produced: the findings in everything that could be read, and the
/// error that ended the reading early, if one did. The findings before a failed read still
/// count (a truncated archive member's readable part is real content).
#[derive(Debug)]
pub struct ReaderScan {
    /// Findings in the bytes read.
    pub found: Vec<Located>,
    /// Bytes read and scanned.
    pub bytes: u64,
    /// The read error that ended the input early.
    pub error: Option<io::Error>,
    /// Findings past [`stream::MAX_FOUND_PER_INPUT`], counted but not kept.
    pub unlisted: u64,
}

impl ReaderScan {
    fn new(found: Vec<Located>, bytes: u64, error: Option<io::Error>) -> ReaderScan {
        ReaderScan {
            found,
            bytes,
            error,
            unlisted: 0,
        }
    }

    /// Keeps at most [`stream::MAX_FOUND_PER_INPUT`] findings (a whole input scanned in one
    /// piece is at most [`WHOLE_INPUT_LIMIT`] bytes, so what it held before is bounded too).
    fn capped(mut self) -> ReaderScan {
        self.unlisted += stream::keep_first(&mut self.found, stream::MAX_FOUND_PER_INPUT);
        self
    }
}
