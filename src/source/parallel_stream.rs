//! One large input (standard input, above all) scanned on several threads.
//!
//! A pipe is one input, so the directory walk's parallelism (one file per thread) gives it
//! one core. Here the reading thread cuts the input into the same owned spans with context
//! that [`StreamScanner`](super::stream::StreamScanner) scans one after another, worker
//! threads scan them in any order, and the reading thread puts the matches back in input
//! order and locates them. Each chunk carries [`Engine::overlap`] bytes of context on both
//! sides, so the result is what the one-thread stream finds, match for match.
//!
//! Memory stays bounded: at most `2 × threads + 1` chunks exist at once (queued, being
//! scanned, or waiting for an earlier one), and their buffers are reused.

use super::stream::{MAX_FOUND_PER_INPUT, keep_first};
use crate::engine::{Engine, InputMeta, Match};
use crate::location::{LineCounter, Located};
use crate::scan::input::{ReaderScan, fill_from};
use std::collections::BTreeMap;
use std::io::{self, Read};
use std::ops::Range;
use std::sync::{Arc, Mutex, mpsc};

/// A chunk to scan: its bytes (context included) and the span it owns.
struct Piece {
    seq: u64,
    buf: Vec<u8>,
    owned: Range<usize>,
    /// Bytes from this chunk's start to the next chunk's start.
    step: usize,
}

/// A scanned chunk, back from a worker.
struct Scanned {
    piece: Piece,
    found: Vec<Match>,
}

/// Scans `head` (the input's first bytes, already read) followed by the rest of `reader` on
/// `threads` worker threads, `chunk` owned bytes per piece. The findings are those of a
/// one-thread [`StreamScanner`](super::stream::StreamScanner) over the same bytes, located,
/// in input order, not yet finalized.
pub fn scan_parallel<R: Read + ?Sized>(
    engine: &Engine,
    reader: &mut R,
    head: Vec<u8>,
    meta: &InputMeta<'_>,
    threads: usize,
    chunk: usize,
) -> ReaderScan {
    let threads = threads.max(1);
    let (job_tx, job_rx) = mpsc::sync_channel::<Piece>(threads);
    // The workers alone hold the queue's receiving end: were they all gone, sending fails
    // instead of waiting forever.
    let job_rx = Arc::new(Mutex::new(job_rx));
    let (done_tx, done_rx) = mpsc::channel::<Scanned>();
    std::thread::scope(|s| {
        for _ in 0..threads {
            let done_tx = done_tx.clone();
            let job_rx = Arc::clone(&job_rx);
            s.spawn(move || scan_pieces(engine, meta, &job_rx, &done_tx));
        }
        drop((done_tx, job_rx));
        let mut order = InOrder::default();
        let mut cutter = Cutter::new(head, chunk.max(1), engine.overlap());
        while let Some(piece) = cutter.next_piece(reader, &mut order.spare) {
            if job_tx.send(piece).is_err() {
                break;
            }
            for scanned in done_rx.try_iter() {
                order.accept(scanned);
            }
        }
        drop(job_tx);
        for scanned in done_rx.iter() {
            order.accept(scanned);
        }
        // (A worker that panics makes the scope panic when it ends: no piece goes missing
        // silently.)
        ReaderScan {
            found: order.found,
            bytes: cutter.read,
            error: cutter.error.take(),
            unlisted: order.unlisted,
        }
    })
}

/// A worker: scans pieces until the queue closes.
fn scan_pieces(
    engine: &Engine,
    meta: &InputMeta<'_>,
    jobs: &Mutex<mpsc::Receiver<Piece>>,
    done: &mpsc::Sender<Scanned>,
) {
    let mut st = engine.new_state();
    let active = engine.begin_input(&mut st, meta);
    loop {
        // The lock is held only to take one piece.
        let next = jobs.lock().map(|rx| rx.recv());
        let Ok(Ok(piece)) = next else { return };
        let mut found = Vec::new();
        if active {
            engine.scan(&mut st, &piece.buf, piece.owned.clone(), meta, &mut found);
        }
        if done.send(Scanned { piece, found }).is_err() {
            return;
        }
    }
}

/// Cuts the input into pieces: each holds up to `overlap` bytes before its owned span and
/// `overlap` bytes after it (the next piece starts with a copy of them).
struct Cutter {
    /// Bytes read but not yet handed out, starting at the next piece's first byte.
    pending: Vec<u8>,
    /// Where the next piece's owned span starts in `pending`.
    owned_start: usize,
    chunk: usize,
    overlap: usize,
    seq: u64,
    read: u64,
    ended: bool,
    /// The read error that ended the input early.
    error: Option<io::Error>,
}

impl Cutter {
    fn new(head: Vec<u8>, chunk: usize, overlap: usize) -> Self {
        Cutter {
            read: head.len() as u64,
            pending: head,
            owned_start: 0,
            chunk,
            overlap,
            seq: 0,
            ended: false,
            error: None,
        }
    }

    /// The next piece, or `None` at the end of the input. A read error ends the input: the
    /// bytes read before it are handed out, and the error kept in `error`.
    fn next_piece<R: Read + ?Sized>(
        &mut self,
        reader: &mut R,
        spare: &mut Vec<Vec<u8>>,
    ) -> Option<Piece> {
        if self.ended {
            return None;
        }
        let full = self.owned_start + self.chunk + self.overlap;
        if self.pending.len() < full {
            let before = self.pending.len();
            let got = fill_from(reader, &mut self.pending, full - before);
            // `fill_from` keeps what arrived before an error.
            self.read += (self.pending.len() - before) as u64;
            match got {
                Ok((_, eof)) => self.ended = eof,
                Err(e) => {
                    self.ended = true;
                    self.error = Some(e);
                }
            }
        }
        if self.ended {
            let owned = self.owned_start..self.pending.len();
            // The last piece; an empty one only when the whole input is empty (the engine
            // still reports the rules that match by path alone).
            if owned.is_empty() && self.seq > 0 {
                return None;
            }
            let buf = std::mem::take(&mut self.pending);
            let step = buf.len();
            return Some(self.piece(buf, owned, step));
        }
        let owned = self.owned_start..self.owned_start + self.chunk;
        let next_from = owned.end - self.overlap.min(owned.end);
        let mut next = spare.pop().unwrap_or_default();
        next.clear();
        next.extend_from_slice(&self.pending[next_from..]);
        self.owned_start = owned.end - next_from;
        let buf = std::mem::replace(&mut self.pending, next);
        Some(self.piece(buf, owned, next_from))
    }

    fn piece(&mut self, buf: Vec<u8>, owned: Range<usize>, step: usize) -> Piece {
        let seq = self.seq;
        self.seq += 1;
        Piece {
            seq,
            buf,
            owned,
            step,
        }
    }
}

/// Puts scanned pieces back in input order, locating their matches.
#[derive(Default)]
struct InOrder {
    next: u64,
    waiting: BTreeMap<u64, Scanned>,
    counter: LineCounter,
    found: Vec<Located>,
    unlisted: u64,
    /// Buffers of located pieces, for the cutter to reuse.
    spare: Vec<Vec<u8>>,
}

impl InOrder {
    fn accept(&mut self, scanned: Scanned) {
        self.waiting.insert(scanned.piece.seq, scanned);
        while let Some(s) = self.waiting.remove(&self.next) {
            self.locate(s);
            self.next += 1;
        }
    }

    fn locate(&mut self, s: Scanned) {
        let Scanned { piece, mut found } = s;
        if !found.is_empty() {
            let room = MAX_FOUND_PER_INPUT.saturating_sub(self.found.len());
            self.unlisted += keep_first(&mut found, room);
            self.found.extend(self.counter.locate(&piece.buf, found));
        }
        self.counter.advance(&piece.buf[..piece.step]);
        self.spare.push(piece.buf);
    }
}
