//! Scanning one input — bytes in memory or a reader of any size — into finalized matches.
//! Every source (files, stdin, archive entries, git blobs, image layers) goes through here.

use crate::engine::{Engine, InputMeta, ScanState};
use crate::location::Located;
use crate::stream::{self, StreamScanner};
use std::io::{self, Read};

/// Inputs up to this size are read whole and scanned in one piece.
pub const WHOLE_INPUT_LIMIT: usize = 8 << 20;
/// Bytes inspected for a NUL to call an input binary.
pub const BINARY_SNIFF: usize = 8 << 10;

/// Whether `head` (an input's first bytes) looks binary: it holds a NUL byte.
pub fn looks_binary(head: &[u8]) -> bool {
    memchr::memchr(0, &head[..head.len().min(BINARY_SNIFF)]).is_some()
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

/// Scans a reader: small inputs are read whole into `buf` (reused across calls), larger ones
/// are streamed in chunks. Returns the matches and the number of bytes read.
pub fn scan_reader<R: Read>(
    engine: &Engine,
    st: &mut ScanState,
    reader: &mut R,
    buf: &mut Vec<u8>,
    meta: InputMeta<'_>,
) -> io::Result<(Vec<Located>, u64)> {
    buf.clear();
    // Read up to the whole-input limit; if the input ends there, scan it in one piece.
    let read = reader
        .by_ref()
        .take(WHOLE_INPUT_LIMIT as u64 + 1)
        .read_to_end(buf)?;
    if read <= WHOLE_INPUT_LIMIT {
        let found = scan_bytes(engine, st, buf, meta);
        return Ok((found, read as u64));
    }
    let meta = InputMeta {
        binary: meta.binary || looks_binary(buf),
        ..meta
    };
    let mut found = Vec::new();
    let mut scanner = StreamScanner::new(engine, st, &meta, stream::DEFAULT_CHUNK);
    scanner.feed(st, &meta, buf, &mut found);
    scanner.feed_reader(st, &meta, reader, &mut found)?;
    let total = scanner.finish(st, &meta, &mut found);
    engine.finalize(&mut found);
    Ok((found, total))
}
