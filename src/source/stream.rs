//! The streaming API: scan an input of any size in bounded memory, as chunks whose owned
//! spans tile the input, each seen with [`Engine::overlap`] bytes of context on both sides,
//! so that every match is reported exactly once and whole-input and chunked scans agree.

use crate::engine::{Engine, InputMeta, Match, ScanState};
use crate::location::{LineCounter, Located};
use std::io::Read;

/// Default owned bytes per chunk.
pub const DEFAULT_CHUNK: usize = 1 << 20;

/// A chunked scanner over one input. Feed it bytes (or a reader), then [`finish`] it.
///
/// [`finish`]: StreamScanner::finish
#[derive(Debug)]
pub struct StreamScanner<'e> {
    engine: &'e Engine,
    chunk: usize,
    overlap: usize,
    buf: Vec<u8>,
    /// Start, in `buf`, of the bytes not yet scanned as owned.
    owned_start: usize,
    counter: LineCounter,
    active: bool,
    scratch: Vec<Match>,
    /// Findings past [`MAX_FOUND_PER_INPUT`], counted but not kept.
    unlisted: u64,
}

/// Most findings one input keeps: an input made of tokens (a generated file, a bomb of
/// credentials) would otherwise grow memory by a finding's size for every match. The rest
/// are counted and reported as a number ([`Finished::unlisted`]).
pub const MAX_FOUND_PER_INPUT: usize = 10_000;

/// What [`StreamScanner::finish_into_buffer`] leaves: the input's totals and the buffer.
#[derive(Debug)]
pub struct Finished {
    /// Bytes fed in all.
    pub bytes: u64,
    /// Findings past [`MAX_FOUND_PER_INPUT`], counted but not kept.
    pub unlisted: u64,
    /// The scanner's buffer, emptied, for the next input.
    pub buf: Vec<u8>,
}

/// Keeps the first `room` items of `found` and returns how many it dropped: the one way every
/// cap on findings (per input, per artifact, per report) keeps some and counts the rest.
pub fn keep_first<T>(found: &mut Vec<T>, room: usize) -> u64 {
    let over = found.len().saturating_sub(room);
    found.truncate(room);
    over as u64
}

impl<'e> StreamScanner<'e> {
    /// Starts scanning an input described by `meta`, with `chunk` owned bytes per scan.
    pub fn new(engine: &'e Engine, st: &mut ScanState, meta: &InputMeta<'_>, chunk: usize) -> Self {
        Self::with_buffer(engine, st, meta, chunk, Vec::new())
    }

    /// Like [`StreamScanner::new`], starting with `buf`'s bytes as the input's first bytes
    /// (and reusing its allocation).
    pub fn with_buffer(
        engine: &'e Engine,
        st: &mut ScanState,
        meta: &InputMeta<'_>,
        chunk: usize,
        buf: Vec<u8>,
    ) -> Self {
        let active = engine.begin_input(st, meta);
        StreamScanner {
            engine,
            chunk: chunk.max(1),
            overlap: engine.overlap(),
            buf,
            owned_start: 0,
            counter: LineCounter::default(),
            active,
            scratch: Vec::new(),
            unlisted: 0,
        }
    }

    /// Whether any rule can report on this input (when not, feeding it is free).
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// Total bytes fed so far.
    pub fn bytes_seen(&self) -> u64 {
        self.counter.offset + self.buf.len() as u64
    }

    /// Appends `data`, scanning every chunk that now has its full right-hand context.
    pub fn feed(
        &mut self,
        st: &mut ScanState,
        meta: &InputMeta<'_>,
        data: &[u8],
        out: &mut Vec<Located>,
    ) {
        self.buf.extend_from_slice(data);
        self.drain_ready(st, meta, out);
    }

    /// Reads `reader` to its end, scanning as it goes. Returns the bytes read.
    pub fn feed_reader<R: Read>(
        &mut self,
        st: &mut ScanState,
        meta: &InputMeta<'_>,
        reader: &mut R,
        out: &mut Vec<Located>,
    ) -> std::io::Result<u64> {
        let mut total = 0u64;
        loop {
            let (n, eof) =
                crate::scan::input::fill_from(reader, &mut self.buf, self.chunk.max(64 * 1024))?;
            total += n as u64;
            if n == 0 && eof {
                return Ok(total);
            }
            self.drain_ready(st, meta, out);
            if eof {
                return Ok(total);
            }
        }
    }

    fn drain_ready(&mut self, st: &mut ScanState, meta: &InputMeta<'_>, out: &mut Vec<Located>) {
        while self.buf.len() >= self.owned_start + self.chunk + self.overlap {
            let owned = self.owned_start..self.owned_start + self.chunk;
            self.scan_owned(st, meta, owned.clone(), out);
            self.owned_start = owned.end;
        }
        // Drop what no later chunk needs, once (keeping `overlap` bytes of left context), so a
        // large feed is not shifted after every chunk.
        let keep_from = self.owned_start.saturating_sub(self.overlap);
        if keep_from > 0 {
            self.counter.advance(&self.buf[..keep_from]);
            self.buf.drain(..keep_from);
            self.owned_start -= keep_from;
        }
    }

    fn scan_owned(
        &mut self,
        st: &mut ScanState,
        meta: &InputMeta<'_>,
        owned: std::ops::Range<usize>,
        out: &mut Vec<Located>,
    ) {
        if !self.active {
            return;
        }
        self.scratch.clear();
        self.engine
            .scan(st, &self.buf, owned, meta, &mut self.scratch);
        if !self.scratch.is_empty() {
            let mut found = std::mem::take(&mut self.scratch);
            self.unlisted += keep_first(&mut found, MAX_FOUND_PER_INPUT.saturating_sub(out.len()));
            out.extend(self.counter.locate(&self.buf, found));
        }
    }

    /// Scans what remains. Returns the total number of bytes fed.
    pub fn finish(
        mut self,
        st: &mut ScanState,
        meta: &InputMeta<'_>,
        out: &mut Vec<Located>,
    ) -> u64 {
        self.finish_scan(st, meta, out)
    }

    /// Scans what remains; returns the totals and the (emptied) buffer, so its allocation can
    /// serve the next input.
    pub fn finish_into_buffer(
        mut self,
        st: &mut ScanState,
        meta: &InputMeta<'_>,
        out: &mut Vec<Located>,
    ) -> Finished {
        let bytes = self.finish_scan(st, meta, out);
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        Finished {
            bytes,
            unlisted: self.unlisted,
            buf,
        }
    }

    fn finish_scan(
        &mut self,
        st: &mut ScanState,
        meta: &InputMeta<'_>,
        out: &mut Vec<Located>,
    ) -> u64 {
        let owned = self.owned_start..self.buf.len();
        if !owned.is_empty() || self.counter.offset == 0 {
            self.scan_owned(st, meta, owned, out);
        }
        self.bytes_seen()
    }
}

/// Scans a whole in-memory input and locates its matches (the common case for files).
pub fn scan_slice(
    engine: &Engine,
    st: &mut ScanState,
    hay: &[u8],
    meta: &InputMeta<'_>,
) -> Vec<Located> {
    let found = engine.scan_bytes(st, hay, meta);
    if found.is_empty() {
        return Vec::new();
    }
    LineCounter::default().locate(hay, found)
}
