//! Archives and compressed streams, opened in memory and scanned entry by entry.
//!
//! Formats are recognised by their first bytes ([`sniff()`]): tar, zip and its family (jar,
//! war, ear, whl, nupkg, apk, aar, vsix, docx…), gzip, bzip2, xz and zstd, nested to any mix
//! up to [`Limits::max_depth`]. Nothing is extracted to disk: entries stream through the
//! engine ([`crate::scan::input::scan_reader`]), so path-traversal names in entries never
//! touch the filesystem. A zip needs random access: a zip stored in another is read in
//! place, any other nested zip is held in memory or, past [`hold::HELD_IN_MEMORY`] for the
//! whole artifact, in an unlinked temporary file ([`hold`]).
//!
//! Where a finding sits is the whole chain of names, outermost first: the file's path, then
//! each entry's path inside its container — `release.tar.gz!app/lib/core.jar!Config.properties`.
//! Compression wrappers add no link to the chain (`x.tar.gz` is one link).
//!
//! Hostile input is bounded ([`Limits`]): total inflated bytes, the size of one entry, the
//! compression ratio of every decompressed stream (and of each zip as a whole), the number of
//! entries, the depth and the temporary space. Hitting a cap, a corrupt or truncated member,
//! an encrypted zip entry, overlapping zip entries, a zip behind a stub, or entries left
//! unread after a cap stopped the artifact is a [`Problem`] with its chain: an artifact gate
//! must not pass what it could not read.

pub mod ar;
pub mod hold;
pub mod sniff;
pub mod tar;
mod zips;

use crate::engine::{Engine, InputMeta, ScanState};
use crate::finding::{Finding, Source};
use crate::location::Located;
use crate::scan::input;
use hold::Window;
use sniff::{Format, HEAD_LEN, sniff};
use std::cell::Cell;
use std::fmt;
use std::io::{self, Read, Seek};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

pub use zips::NAMED_NOT_SCANNED;

pub use crate::problem::CHAIN_SEPARATOR;

/// Compression wrappers stacked directly on one another (`x.gz.gz.gz…`) beyond this are a
/// cap hit: nothing legitimate needs more.
pub const MAX_STACKED_COMPRESSION: usize = 4;

/// Inflated bytes a stream may produce before its compression ratio is checked (small
/// runs of zeros compress far better than any cap, harmlessly).
pub const RATIO_GRACE: u64 = 16 << 20;

/// The deepest nesting [`Limits::max_depth`] may ask for: each level holds a reader (and,
/// for compressed layers, a decoder) on the stack, and a nesting of hundreds of levels
/// would overflow it. No real artifact nests a tenth as deep.
pub const MAX_NESTING: usize = 64;

/// Caps on what one artifact may make shush read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Containers nested inside one another that are opened (a top-level archive is depth 1;
    /// 0 turns archive scanning off: archives are scanned as plain bytes). Values above
    /// [`MAX_NESTING`] count as [`MAX_NESTING`].
    pub max_depth: usize,
    /// Largest entry read, inflated (also bounds the memory that holds a nested zip).
    pub max_entry_size: u64,
    /// Total bytes inflated from one artifact (every decompressed stream and zip entry).
    pub max_total_size: u64,
    /// Entries in one artifact, at every level.
    pub max_entries: u64,
    /// Largest compression ratio (inflated ÷ compressed) of any stream or zip entry, and of
    /// each zip as a whole.
    pub max_ratio: u64,
    /// Temporary disk space nested zips may take at once (those that do not fit in
    /// [`hold::HELD_IN_MEMORY`]).
    pub max_temp_size: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 8,
            max_entry_size: 1 << 30,
            max_total_size: 64 << 30,
            max_entries: 1_000_000,
            max_ratio: 1000,
            max_temp_size: 4 << 30,
        }
    }
}

/// A cap that was hit, carried inside an [`io::Error`] so it travels up through readers.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct CapHit(pub String);

fn cap(msg: String) -> io::Error {
    io::Error::other(CapHit(msg))
}

/// Whether an I/O error is a cap hit or a refusal (rather than corrupt or unreadable input).
pub fn is_cap(e: &io::Error) -> bool {
    e.get_ref()
        .is_some_and(|inner| inner.is::<CapHit>() || inner.is::<NotScanned>())
}

/// Why part of an artifact was refused or left unread, carried inside an [`io::Error`].
/// Messages name no content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotScanned {
    /// Two entries of a zip share compressed bytes: the trick of zip bombs that inflate one
    /// kernel many times. The archive is refused.
    #[error("entries `{first}` and `{second}` overlap (a zip bomb?); archive refused, not scanned")]
    Overlapping {
        /// One entry.
        first: String,
        /// Another entry sharing its bytes.
        second: String,
    },
    /// Scanning of the artifact stopped at a cap before this part was read.
    #[error("not scanned: scanning of this artifact stopped at a cap")]
    AfterCap,
    /// The entries after `after` in a tar or `ar` stream, unread after a cap stopped the
    /// artifact.
    #[error("entries after `{after}` not scanned: scanning of this artifact stopped at a cap")]
    RestAfter {
        /// The last entry read.
        after: String,
    },
    /// More entries than are named one by one.
    #[error("{count} more entries {why}")]
    More {
        /// How many.
        count: u64,
        /// Why they were not scanned.
        why: Box<NotScanned>,
    },
    /// A nested zip would take more temporary space than allowed.
    #[error(
        "nested zip needs more than --max-temp-size ({max} bytes) of temporary space; not opened"
    )]
    TempSpace {
        /// The cap.
        max: u64,
    },
    /// A zip behind a stub (a self-extracting archive): its entries are not opened.
    #[error(
        "a zip behind a {stub}-byte stub (self-extracting archive): its entries were not \
         opened, only its bytes scanned as they are"
    )]
    BehindStub {
        /// Bytes before the zip's records, as far as they can be told.
        stub: u64,
    },
}

/// The budget one artifact draws on. Shared (atomically) by every thread that scans a part
/// of the artifact, e.g. the layers of an image.
#[derive(Debug)]
pub struct Budget {
    limits: Limits,
    inflated: AtomicU64,
    entries: AtomicU64,
    aborted: AtomicBool,
    held_memory: AtomicU64,
    held_temp: AtomicU64,
}

impl Budget {
    /// A fresh budget under `limits`.
    pub fn new(limits: Limits) -> Self {
        Budget {
            limits,
            inflated: AtomicU64::new(0),
            entries: AtomicU64::new(0),
            aborted: AtomicBool::new(false),
            held_memory: AtomicU64::new(0),
            held_temp: AtomicU64::new(0),
        }
    }

    /// The caps.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Whether a whole-artifact cap was hit: scanning stops.
    pub fn aborted(&self) -> bool {
        self.aborted.load(Ordering::Relaxed)
    }

    /// Bytes inflated so far.
    pub fn inflated(&self) -> u64 {
        self.inflated.load(Ordering::Relaxed)
    }

    fn add_inflated(&self, n: u64) -> io::Result<()> {
        let total = self.inflated.fetch_add(n, Ordering::Relaxed) + n;
        if total > self.limits.max_total_size {
            self.aborted.store(true, Ordering::Relaxed);
            return Err(cap(format!(
                "inflates past --max-total-size ({} bytes); scanning of this artifact stopped",
                self.limits.max_total_size
            )));
        }
        Ok(())
    }

    /// Counts one entry; `false` once past the entry cap (and the artifact is aborted).
    pub fn add_entry(&self) -> bool {
        let n = self.entries.fetch_add(1, Ordering::Relaxed) + 1;
        if n > self.limits.max_entries {
            self.aborted.store(true, Ordering::Relaxed);
            return false;
        }
        true
    }
}

/// A secret found inside an archive: the chain of names and the match in its entry.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Where the entry sits: the outermost name first.
    pub chain: Vec<String>,
    /// The match, located in the entry.
    pub located: Located,
}

pub use crate::problem::Problem;

/// Walks one artifact: recognises what each input is, opens containers, and feeds
/// everything else to the engine. One walker per thread.
pub struct Walker<'a> {
    engine: &'a Engine,
    st: &'a mut ScanState,
    buf: &'a mut Vec<u8>,
    budget: &'a Budget,
    /// Matches found, with their chains.
    pub hits: Vec<Hit>,
    /// Inputs that could not be read completely.
    pub problems: Vec<Problem>,
    /// Leaf inputs scanned.
    pub scanned: u64,
    /// Bytes of leaf inputs scanned.
    pub bytes: u64,
    /// Findings past the caps, counted but not kept.
    pub unlisted: u64,
}

impl fmt::Debug for Walker<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Walker")
            .field("hits", &self.hits.len())
            .field("problems", &self.problems)
            .field("scanned", &self.scanned)
            .finish()
    }
}

impl<'a> Walker<'a> {
    /// A walker drawing on `budget`, scanning with `engine` and the per-thread `st` and `buf`.
    pub fn new(
        engine: &'a Engine,
        st: &'a mut ScanState,
        buf: &'a mut Vec<u8>,
        budget: &'a Budget,
    ) -> Self {
        Walker {
            engine,
            st,
            buf,
            budget,
            hits: Vec::new(),
            problems: Vec::new(),
            scanned: 0,
            bytes: 0,
            unlisted: 0,
        }
    }

    /// The budget.
    pub fn budget(&self) -> &Budget {
        self.budget
    }

    /// Records a problem at `chain`.
    pub fn problem(&mut self, chain: &[String], e: &io::Error) {
        let kind = if is_cap(e) {
            crate::problem::Kind::OverCap
        } else {
            Problem::kind_of(e)
        };
        self.problems
            .push(Problem::member(chain.to_vec(), kind, describe(e)));
    }

    /// Scans one input whose name (last link) and containers are `chain`, after `depth`
    /// containers were opened. Errors returned are the input's own (its bytes are corrupt,
    /// truncated or over a cap), for the caller to attribute; problems found deeper are
    /// recorded in [`Walker::problems`].
    pub fn scan(
        &mut self,
        reader: &mut dyn Read,
        chain: &mut Vec<String>,
        depth: usize,
    ) -> io::Result<()> {
        self.scan_inner(reader, chain, depth, 0, None)
    }

    /// [`Walker::scan`], after `wraps` compression layers; `whole`, when given, holds the
    /// same bytes as `reader` with random access (a zip stored in a zip: opened in place).
    fn scan_inner(
        &mut self,
        reader: &mut dyn Read,
        chain: &mut Vec<String>,
        depth: usize,
        wraps: usize,
        whole: Option<Window>,
    ) -> io::Result<()> {
        if self.budget.aborted() {
            return Ok(());
        }
        let mut head = Vec::with_capacity(HEAD_LEN);
        let sniffed = sniff_reader(reader, &mut head)?;
        let limits = self.budget.limits();
        let format = if limits.max_depth == 0 { None } else { sniffed };
        let mut rd = io::Cursor::new(&head[..]).chain(reader);
        match format {
            Some(f) if f.is_compression() => {
                if wraps >= MAX_STACKED_COMPRESSION {
                    return Err(cap(format!(
                        "more than {MAX_STACKED_COMPRESSION} compression layers stacked"
                    )));
                }
                let budget = self.budget;
                inflated(&mut rd, f, budget, |r| {
                    self.scan_inner(r, chain, depth, wraps + 1, None)
                })
            }
            Some(Format::Tar | Format::Zip | Format::Ar)
                if depth >= limits.max_depth.min(MAX_NESTING) =>
            {
                let e = cap(format!(
                    "{} nested deeper than --max-depth {}; scanned as plain bytes",
                    format.map_or("", |f| f.as_str()),
                    limits.max_depth.min(MAX_NESTING)
                ));
                self.problem(chain, &e);
                self.leaf(&mut rd, chain, wraps > 0)
            }
            Some(Format::Tar) => self.scan_tar(&mut rd, chain, depth + 1, None),
            Some(Format::Ar) => self.scan_ar(&mut rd, chain, depth + 1),
            Some(Format::Zip) => match whole {
                Some(w) if w.len() > limits.max_entry_size => Err(cap(format!(
                    "nested zip larger than --max-entry-size ({} bytes); not opened",
                    limits.max_entry_size
                ))),
                Some(w) => self.scan_zip(w, chain, depth + 1),
                None => {
                    let held = hold::hold(&mut rd, self.budget)?;
                    self.scan_zip(held.window.clone(), chain, depth + 1)
                }
            },
            _ => self.leaf(&mut rd, chain, wraps > 0),
        }
    }

    /// Scans an image layer: a tar stream, plain or compressed (gzip, zstd, any format
    /// [`sniff()`] knows). `visit` sees every entry's header first and says whether to scan it
    /// (the image scanner records whiteouts there). An empty stream is an empty layer.
    pub fn scan_layer(
        &mut self,
        reader: &mut dyn Read,
        chain: &mut Vec<String>,
        depth: usize,
        visit: &mut dyn FnMut(&tar::Entry) -> bool,
    ) -> io::Result<()> {
        self.scan_layer_inner(reader, chain, depth, visit, 0)
    }

    fn scan_layer_inner(
        &mut self,
        reader: &mut dyn Read,
        chain: &mut Vec<String>,
        depth: usize,
        visit: &mut dyn FnMut(&tar::Entry) -> bool,
        wraps: usize,
    ) -> io::Result<()> {
        let mut head = Vec::with_capacity(HEAD_LEN);
        let format = sniff_reader(reader, &mut head)?;
        if head.is_empty() {
            return Ok(());
        }
        let mut rd = io::Cursor::new(&head[..]).chain(reader);
        match format {
            Some(f) if f.is_compression() && wraps < MAX_STACKED_COMPRESSION => {
                let budget = self.budget;
                inflated(&mut rd, f, budget, |r| {
                    self.scan_layer_inner(r, chain, depth, visit, wraps + 1)
                })
            }
            Some(Format::Tar) => self.scan_tar(&mut rd, chain, depth, Some(visit)),
            _ if head.iter().all(|&b| b == 0) => Ok(()), // an empty tar: end-of-archive blocks
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "layer is not a tar stream",
            )),
        }
    }

    /// Scans a tar stream's entries; `visit` (if any) sees each header first and says
    /// whether to scan the entry.
    pub fn scan_tar(
        &mut self,
        src: &mut dyn Read,
        chain: &mut Vec<String>,
        depth: usize,
        mut visit: Option<&mut dyn FnMut(&tar::Entry) -> bool>,
    ) -> io::Result<()> {
        let mut tar = tar::TarReader::new(tar::Stream(src));
        let mut last: Option<String> = None;
        loop {
            if self.budget.aborted() {
                self.rest_not_scanned(chain, last);
                return Ok(());
            }
            let entry = match tar.next_entry() {
                Ok(Some(entry)) => entry,
                Ok(None) => return Ok(()),
                Err(e) => return Err(self.stream_broke(chain, last, e)),
            };
            if let Some(v) = visit.as_mut() {
                if !v(&entry) {
                    continue;
                }
            }
            if entry.kind != tar::Kind::File {
                continue; // links are scanned where their targets are stored
            }
            if !self.count_entry(chain) {
                return Ok(());
            }
            chain.push(entry.name());
            last = Some(entry.name());
            let r = self.scan_inner(&mut tar.data(), chain, depth, 0, None);
            if let Err(e) = r {
                if tar.is_broken() {
                    chain.pop();
                    return Err(self.stream_broke(chain, last, e));
                }
                self.problem(chain, &e);
            }
            chain.pop();
        }
    }

    /// Scans an `ar` archive's members (a `.deb`: its `control.tar.*` and `data.tar.*`).
    pub fn scan_ar(
        &mut self,
        src: &mut dyn Read,
        chain: &mut Vec<String>,
        depth: usize,
    ) -> io::Result<()> {
        let mut ar = ar::ArReader::new(src);
        let mut last: Option<String> = None;
        loop {
            if self.budget.aborted() {
                self.rest_not_scanned(chain, last);
                return Ok(());
            }
            let m = match ar.next_member() {
                Ok(Some(m)) => m,
                Ok(None) => return Ok(()),
                Err(e) => return Err(self.stream_broke(chain, last, e)),
            };
            if m.special {
                continue;
            }
            if !self.count_entry(chain) {
                return Ok(());
            }
            chain.push(tar::normalize(&m.name));
            last = Some(tar::normalize(&m.name));
            let r = self.scan_inner(&mut ar.data(), chain, depth, 0, None);
            if let Err(e) = r {
                if ar.is_broken() {
                    chain.pop();
                    return Err(self.stream_broke(chain, last, e));
                }
                self.problem(chain, &e);
            }
            chain.pop();
        }
    }

    /// The error that broke a tar or `ar` stream, for the caller to report; when it broke
    /// because a cap stopped the artifact, what follows `last` is recorded as not scanned.
    fn stream_broke(&mut self, chain: &[String], last: Option<String>, e: io::Error) -> io::Error {
        if self.budget.aborted() {
            self.rest_not_scanned(chain, last);
        }
        e
    }

    /// Records that what follows `last` (the last entry read) in the archive at `chain` was
    /// not scanned, scanning having stopped at a cap. Nothing is recorded when no entry was
    /// read: the cap was hit before, and is reported where it was.
    fn rest_not_scanned(&mut self, chain: &[String], last: Option<String>) {
        if let Some(after) = last {
            let e = io::Error::other(NotScanned::RestAfter { after });
            self.problem(chain, &e);
        }
    }

    fn count_entry(&mut self, chain: &[String]) -> bool {
        if self.budget.add_entry() {
            return true;
        }
        let e = cap(format!(
            "more than --max-entries ({}) entries; scanning of this artifact stopped",
            self.budget.limits().max_entries
        ));
        self.problem(chain, &e);
        false
    }

    fn leaf(
        &mut self,
        reader: &mut dyn Read,
        chain: &[String],
        decompressed: bool,
    ) -> io::Result<()> {
        let last = chain.last().map_or("", String::as_str);
        let name = if decompressed {
            sniff::strip_compression_suffix(last)
        } else {
            last.to_string()
        };
        let mut limited = EntryCap {
            inner: reader,
            left: self.budget.limits().max_entry_size,
            max: self.budget.limits().max_entry_size,
        };
        let mut tail = sniff::Tail::new(&mut limited, TAIL_SKIP);
        let meta = InputMeta {
            path: Some(&name),
            ..Default::default()
        };
        // What was read before an error (truncation, bad CRC, a cap) is scanned and its
        // findings kept; the error is then the caller's to report.
        let scanned = input::scan_reader(self.engine, self.st, &mut tail, self.buf, meta);
        self.scanned += 1;
        self.bytes += scanned.bytes;
        // At most [`MAX_ARTIFACT_FINDINGS`] kept per artifact; the rest counted.
        let mut found = scanned.found;
        let room = MAX_ARTIFACT_FINDINGS.saturating_sub(self.hits.len());
        self.unlisted += scanned.unlisted + crate::stream::keep_first(&mut found, room);
        self.hits.extend(found.into_iter().map(|l| Hit {
            chain: chain.to_vec(),
            located: l,
        }));
        if let Some(e) = scanned.error {
            return Err(e);
        }
        match behind_stub(&tail, self.buf, scanned.bytes) {
            Some(why) => Err(io::Error::other(why)),
            None => Ok(()),
        }
    }
}

/// Most findings one artifact keeps (every entry and level together); the rest are counted
/// ([`ArtifactScan::unlisted`]), so a bomb of credentials cannot grow memory without bound.
pub const MAX_ARTIFACT_FINDINGS: usize = crate::sink::MAX_LISTED_FINDINGS;

/// Where a [`sniff::Tail`] read through by [`input::scan_reader`] starts keeping bytes: the
/// engine's buffer holds smaller inputs whole.
pub const TAIL_SKIP: u64 = (input::WHOLE_INPUT_LIMIT - sniff::TAIL_LEN) as u64;

/// After [`input::scan_reader`] read `bytes` through `tail` (made with [`TAIL_SKIP`]) with
/// `buf` as its buffer, whether the input was a zip behind a stub (a self-extracting
/// archive), whose entries were then not opened.
pub fn behind_stub<R>(tail: &sniff::Tail<R>, buf: &[u8], bytes: u64) -> Option<NotScanned> {
    let end = if bytes <= input::WHOLE_INPUT_LIMIT as u64 {
        &buf[buf.len().saturating_sub(sniff::TAIL_LEN)..]
    } else {
        tail.tail()
    };
    let at = sniff::zip_behind_stub(tail.head(), end, bytes)?;
    Some(NotScanned::BehindStub {
        stub: stub_len(end, at, bytes),
    })
}

/// How many bytes precede a zip whose end-of-central-directory record is at `at` in `tail`
/// (the last bytes of an input of `total` bytes): the record's position less the central
/// directory's size and offset, as far as they can be told.
fn stub_len(tail: &[u8], at: usize, total: u64) -> u64 {
    let r = &tail[at..];
    let le32 = |b: &[u8]| u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let record = total - (tail.len() - at) as u64;
    record.saturating_sub(le32(&r[12..16]) + le32(&r[16..20]))
}

/// Runs `k` on `compressed` decoded as `format`, behind the budget's caps on inflated bytes
/// and compression ratio (the compressed bytes consumed are counted for the ratio).
fn inflated<T>(
    compressed: &mut dyn Read,
    format: Format,
    budget: &Budget,
    k: impl FnOnce(&mut dyn Read) -> io::Result<T>,
) -> io::Result<T> {
    let consumed = Cell::new(0u64);
    let mut counted = Counting {
        inner: compressed,
        n: &consumed,
    };
    let mut dec = decoder(format, &mut counted)?;
    let mut guard = Inflate::new(&mut *dec, InputSize::Counted(&consumed), budget);
    k(&mut guard)
}

/// A decoder for a compressed stream.
fn decoder<'r>(format: Format, r: &'r mut dyn Read) -> io::Result<Box<dyn Read + 'r>> {
    Ok(match format {
        Format::Gzip => Box::new(flate2::read::MultiGzDecoder::new(r)),
        Format::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(r)),
        Format::Xz => {
            // Bound the decoder's memory (the dictionary size comes from the stream).
            let stream = liblzma::stream::Stream::new_stream_decoder(
                256 << 20,
                liblzma::stream::CONCATENATED,
            )
            .map_err(io::Error::other)?;
            Box::new(liblzma::read::XzDecoder::new_stream(r, stream))
        }
        Format::Zstd => {
            // The default window limit (128 MiB) bounds memory; larger windows are refused.
            Box::new(zstd::stream::read::Decoder::new(r)?)
        }
        Format::Tar | Format::Zip | Format::Ar => {
            return Err(io::Error::other("not a compression format"));
        }
    })
}

fn zip_error(e: zip::result::ZipError) -> io::Error {
    match e {
        zip::result::ZipError::Io(e) => e,
        zip::result::ZipError::UnsupportedArchive(m)
            if m == zip::result::ZipError::PASSWORD_REQUIRED =>
        {
            io::Error::new(
                io::ErrorKind::InvalidData,
                Unreadable("encrypted entry: cannot be scanned".into()),
            )
        }
        other => io::Error::new(io::ErrorKind::InvalidData, format!("zip: {other}")),
    }
}

/// An input shush cannot read by design (an encrypted entry), as opposed to a corrupt one.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct Unreadable(pub String);

/// A problem's message: caps as they are, other errors with a hint of their kind.
fn describe(e: &io::Error) -> String {
    if is_cap(e) || e.get_ref().is_some_and(|i| i.is::<Unreadable>()) {
        return e.to_string();
    }
    match e.kind() {
        io::ErrorKind::UnexpectedEof => format!("truncated ({e})"),
        io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput | io::ErrorKind::Other => {
            format!("corrupt or unsupported ({e})")
        }
        _ => e.to_string(),
    }
}

/// Counts the bytes read through it.
struct Counting<'a, 'b> {
    inner: &'a mut dyn Read,
    n: &'b Cell<u64>,
}

impl Read for Counting<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n.set(self.n.get() + n as u64);
        Ok(n)
    }
}

/// The compressed bytes behind an inflating reader, for its ratio.
enum InputSize<'a> {
    /// Consumed so far, counted as they are.
    Counted(&'a Cell<u64>),
    /// Consumed so far: what a shared counter gained since it stood at the second value.
    Since(&'a AtomicU64, u64),
    /// Known up front (the whole input).
    Known(u64),
}

/// Guards an inflating reader: charges its output to the budget and checks the ratio of
/// the stream (and of the archive it belongs to, when given) as the bytes come.
struct Inflate<'a, 'b> {
    inner: &'a mut dyn Read,
    input: InputSize<'b>,
    out: u64,
    budget: &'b Budget,
    /// Bytes inflated from all the entries of the archive, and the archive's size.
    archive: Option<(&'b Cell<u64>, u64)>,
}

impl<'a, 'b> Inflate<'a, 'b> {
    fn new(inner: &'a mut dyn Read, input: InputSize<'b>, budget: &'b Budget) -> Self {
        Inflate {
            inner,
            input,
            out: 0,
            budget,
            archive: None,
        }
    }

    fn ratio_over(&self, max_ratio: u64) -> Option<String> {
        if self.out > RATIO_GRACE {
            let input = match &self.input {
                InputSize::Counted(c) => c.get(),
                InputSize::Since(c, from) => c.load(Ordering::Relaxed).saturating_sub(*from),
                InputSize::Known(k) => *k,
            };
            if self.out / input.max(1) > max_ratio {
                return Some(format!(
                    "compression ratio over --max-ratio {max_ratio}:1 (a decompression bomb?)"
                ));
            }
        }
        match self.archive {
            Some((out, len)) if out.get() > RATIO_GRACE && out.get() / len.max(1) > max_ratio => {
                Some(format!(
                    "the archive inflates over --max-ratio {max_ratio}:1 as a whole (a \
                     decompression bomb?); scanning of this archive stopped"
                ))
            }
            _ => None,
        }
    }
}

/// Most bytes one read through [`Inflate`] delivers: caps are overshot by at most this.
const INFLATE_STEP: usize = 64 << 10;

impl Read for Inflate<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let step = buf.len().min(INFLATE_STEP);
        let n = self.inner.read(&mut buf[..step])?;
        self.out += n as u64;
        if let Some((out, _)) = self.archive {
            out.set(out.get() + n as u64);
        }
        self.budget.add_inflated(n as u64)?;
        match self.ratio_over(self.budget.limits().max_ratio) {
            Some(msg) => Err(cap(msg)),
            None => Ok(n),
        }
    }
}

/// Fails a read that goes past the per-entry cap.
struct EntryCap<'a> {
    inner: &'a mut dyn Read,
    left: u64,
    max: u64,
}

impl Read for EntryCap<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(cap(format!(
                    "entry larger than --max-entry-size ({} bytes)",
                    self.max
                ))),
            };
        }
        let want = buf.len().min(self.left.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// What [`for_each_entry`] tells its callback to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Go on to the next entry.
    Continue,
    /// Stop reading the archive.
    Stop,
}

/// Reads a tar stream, decompressing it first if it is compressed (any format [`sniff()`]
/// knows, stacked up to [`MAX_STACKED_COMPRESSION`]), and hands each entry's header and
/// data to `f`. Inflated bytes are charged to `budget`. `Ok(false)` when the (decompressed)
/// stream is not a tar. Errors are the stream's own: an error while `f` reads an entry is
/// returned only when the archive itself broke.
pub fn for_each_entry(
    reader: &mut dyn Read,
    budget: &Budget,
    f: &mut dyn FnMut(&tar::Entry, &mut dyn Read) -> Flow,
) -> io::Result<bool> {
    for_each_entry_inner(reader, budget, f, 0)
}

fn for_each_entry_inner(
    reader: &mut dyn Read,
    budget: &Budget,
    f: &mut dyn FnMut(&tar::Entry, &mut dyn Read) -> Flow,
    wraps: usize,
) -> io::Result<bool> {
    let mut head = Vec::with_capacity(HEAD_LEN);
    let format = sniff_reader(reader, &mut head)?;
    let mut rd = io::Cursor::new(&head[..]).chain(reader);
    match format {
        Some(fmt) if fmt.is_compression() && wraps < MAX_STACKED_COMPRESSION => {
            inflated(&mut rd, fmt, budget, |r| {
                for_each_entry_inner(r, budget, f, wraps + 1)
            })
        }
        Some(Format::Tar) => {
            let mut tar = tar::TarReader::new(tar::Stream(&mut rd));
            while let Some(entry) = tar.next_entry()? {
                if budget.aborted() {
                    break;
                }
                let flow = f(&entry, &mut tar.data());
                if tar.is_broken() {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "archive broken while reading an entry (truncated or corrupt)",
                    ));
                }
                if flow == Flow::Stop {
                    break;
                }
            }
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// Reads `head` (up to [`HEAD_LEN`] bytes) from `r`, and tells the format.
pub fn sniff_reader<R: Read + ?Sized>(r: &mut R, head: &mut Vec<u8>) -> io::Result<Option<Format>> {
    head.clear();
    (&mut *r).take(HEAD_LEN as u64).read_to_end(head)?;
    Ok(sniff(head))
}

/// How archives and images are read: the caps, and what to do with what cannot be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArtifactOptions {
    /// Caps on hostile input.
    pub limits: Limits,
    /// Report unreadable members and cap hits as warnings instead of errors.
    pub skip_unreadable: bool,
    /// Directory caching image layer results across runs.
    pub cache: Option<std::path::PathBuf>,
}

/// What scanning one artifact produced.
#[derive(Debug, Default)]
pub struct ArtifactScan {
    /// Findings, with their sources.
    pub findings: Vec<Finding>,
    /// Parts that could not be read completely.
    pub problems: Vec<Problem>,
    /// Remarks that do not make the scan incomplete (skipped attestations…).
    pub notes: Vec<String>,
    /// Images found (for an image archive or layout).
    pub images: Vec<crate::image::ImageSummary>,
    /// Distinct layers of those images.
    pub layers_scanned: u64,
    /// Of which results came from the cache.
    pub layers_cached: u64,
    /// Leaf inputs scanned.
    pub scanned: u64,
    /// Bytes scanned.
    pub bytes: u64,
    /// Findings past the per-input and per-artifact caps, counted but not kept.
    pub unlisted: u64,
}

impl ArtifactScan {
    /// Builds findings from a walker's hits (`source.kind = archive`).
    pub fn absorb(&mut self, engine: &Engine, walker: Walker<'_>, reveal: bool) {
        for h in &walker.hits {
            let path = h.chain.join(CHAIN_SEPARATOR);
            let source = Source::Archive {
                chain: h.chain.clone(),
            };
            self.findings
                .push(Finding::new(engine, &h.located, &path, source, reveal));
        }
        self.problems.extend(walker.problems);
        self.unlisted += walker.unlisted;
        self.scanned += walker.scanned;
        self.bytes += walker.bytes;
    }
}

/// Scans a stream (standard input) if it is an archive or a compressed stream; otherwise
/// returns `Ok(None)` with the bytes consumed to tell in `head`, for the caller to scan
/// (`head` then the rest of `reader`). Errors are failures to read the head.
#[allow(clippy::too_many_arguments)]
pub fn scan_stream<R: Read>(
    engine: &Engine,
    st: &mut ScanState,
    buf: &mut Vec<u8>,
    reader: &mut R,
    head: &mut Vec<u8>,
    name: &str,
    limits: &Limits,
    reveal: bool,
) -> io::Result<Option<ArtifactScan>> {
    let kind = crate::source::classify::classify_stream(reader, head)?;
    if matches!(kind, crate::source::classify::InputKind::Plain) || limits.max_depth == 0 {
        return Ok(None);
    }
    let budget = Budget::new(limits.clone());
    let mut out = ArtifactScan::default();
    let mut walker = Walker::new(engine, st, buf, &budget);
    let mut chain = vec![name.to_string()];
    let mut rd = io::Cursor::new(&head[..]).chain(reader);
    if let Err(e) = walker.scan(&mut rd, &mut chain, 0) {
        walker.problem(&chain, &e);
    }
    out.absorb(engine, walker, reveal);
    Ok(Some(out))
}

/// Scans a file on disk already recognised as `format` (its position anywhere; it is
/// rewound). Zips are read in place, with random access; streams are read once.
pub fn scan_file(
    engine: &Engine,
    st: &mut ScanState,
    buf: &mut Vec<u8>,
    file: &mut std::fs::File,
    display: &str,
    limits: &Limits,
    reveal: bool,
) -> ArtifactScan {
    let budget = Budget::new(limits.clone());
    let mut out = ArtifactScan::default();
    let mut walker = Walker::new(engine, st, buf, &budget);
    let mut chain = vec![display.to_string()];
    let r = file.rewind().and_then(|()| {
        let mut head = Vec::new();
        let format = sniff_reader(file, &mut head)?;
        file.rewind()?;
        match format {
            Some(Format::Zip) if limits.max_depth > 0 => {
                walker.scan_zip(Window::file(file)?, &mut chain, 1)
            }
            _ => walker.scan(
                &mut io::BufReader::with_capacity(256 << 10, &mut *file),
                &mut chain,
                0,
            ),
        }
    });
    if let Err(e) = r {
        walker.problem(&chain, &e);
    }
    out.absorb(engine, walker, reveal);
    out
}
