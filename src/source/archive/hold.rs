//! Random access to archives that need it: a zip's directory is at its end, so a zip met
//! inside another entry must be held somewhere seekable while its entries are read.
//!
//! * A zip **stored** (not compressed) inside a zip that is itself seekable needs no copy: it
//!   is a [`Window`] onto its parent's bytes, however deep the nesting.
//! * Any other nested zip is inflated once into memory while the whole artifact holds less
//!   than [`HELD_IN_MEMORY`] that way, across every level; past that it spills to an
//!   **unlinked** temporary file (it has no name, so nothing is left behind, whatever way shush
//!   exits), whose total size at once is capped by [`Limits::max_temp_size`].
//!
//! [`Limits::max_temp_size`]: super::Limits::max_temp_size

use super::{Budget, NotScanned};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::sync::Arc;

/// Bytes of nested zips one artifact holds in memory at once, across every level and
/// thread; what does not fit spills to a temporary file.
pub const HELD_IN_MEMORY: u64 = 32 << 20;

/// Bytes read or copied at a time while holding or reading a window.
const STEP: usize = 64 << 10;

/// Where the bytes of an archive read with random access live.
#[derive(Debug)]
pub enum Backing {
    /// In memory.
    Memory(Vec<u8>),
    /// In a file: the artifact itself, or an unlinked temporary file.
    File(File),
}

impl Backing {
    fn read_at(&self, buf: &mut [u8], at: u64) -> io::Result<usize> {
        match self {
            Backing::Memory(v) => {
                let start = usize::try_from(at).unwrap_or(usize::MAX).min(v.len());
                let n = buf.len().min(v.len() - start);
                buf[..n].copy_from_slice(&v[start..start + n]);
                Ok(n)
            }
            Backing::File(f) => read_file_at(f, buf, at),
        }
    }
}

#[cfg(unix)]
fn read_file_at(f: &File, buf: &mut [u8], at: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(f, buf, at)
}

#[cfg(windows)]
fn read_file_at(f: &File, buf: &mut [u8], at: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(f, buf, at)
}

/// A range of a [`Backing`], with its own position: windows onto one backing are read
/// independently (positioned reads, no shared file offset).
#[derive(Debug, Clone)]
pub struct Window {
    backing: Arc<Backing>,
    start: u64,
    len: u64,
    pos: u64,
}

impl Window {
    /// The whole of `backing`, `len` bytes long.
    pub fn new(backing: Backing, len: u64) -> Window {
        Window {
            backing: Arc::new(backing),
            start: 0,
            len,
            pos: 0,
        }
    }

    /// The whole of a file (a handle of its own; the caller's position is untouched).
    pub fn file(file: &File) -> io::Result<Window> {
        let len = file.metadata()?.len();
        Ok(Window::new(Backing::File(file.try_clone()?), len))
    }

    /// The window's length.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the window is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The part `offset..offset + len` of this window, as a window of its own.
    pub fn sub(&self, offset: u64, len: u64) -> io::Result<Window> {
        match offset.checked_add(len) {
            Some(end) if end <= self.len => Ok(Window {
                backing: self.backing.clone(),
                start: self.start + offset,
                len,
                pos: 0,
            }),
            _ => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "entry extends past the end of its archive",
            )),
        }
    }
}

impl Read for Window {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.len.saturating_sub(self.pos);
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        if want == 0 {
            return Ok(0);
        }
        let n = self
            .backing
            .read_at(&mut buf[..want], self.start + self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Window {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.pos = seek_target(to, self.pos, self.len)?;
        Ok(self.pos)
    }
}

fn seek_target(to: SeekFrom, pos: u64, len: u64) -> io::Result<u64> {
    let target = match to {
        SeekFrom::Start(n) => Some(n),
        SeekFrom::End(d) => len.checked_add_signed(d),
        SeekFrom::Current(d) => pos.checked_add_signed(d),
    };
    target.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))
}

/// A buffered reader over a [`Window`] that keeps its buffer across seeks that land inside
/// it (the zip reader seeks to every header it reads; `BufReader` would refill each time),
/// and counts the bytes it hands out (the compressed bytes an entry consumed).
#[derive(Debug)]
pub struct ZipSource {
    window: Window,
    buf: Vec<u8>,
    /// Window offset of `buf[0]`.
    buf_at: u64,
    /// Logical position.
    pos: u64,
    served: Arc<std::sync::atomic::AtomicU64>,
}

impl ZipSource {
    /// Reads `window`, counting what it serves in `served`.
    pub fn new(window: Window, served: Arc<std::sync::atomic::AtomicU64>) -> ZipSource {
        ZipSource {
            window,
            buf: Vec::new(),
            buf_at: 0,
            pos: 0,
            served,
        }
    }
}

impl Read for ZipSource {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let in_buf = self.pos >= self.buf_at && self.pos < self.buf_at + self.buf.len() as u64;
        if !in_buf {
            self.buf.resize(STEP, 0);
            self.window.seek(SeekFrom::Start(self.pos))?;
            let n = self.window.read(&mut self.buf)?;
            self.buf.truncate(n);
            self.buf_at = self.pos;
            if n == 0 {
                return Ok(0);
            }
        }
        let from = (self.pos - self.buf_at) as usize;
        let n = out.len().min(self.buf.len() - from);
        out[..n].copy_from_slice(&self.buf[from..from + n]);
        self.pos += n as u64;
        self.served
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

impl Seek for ZipSource {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.pos = seek_target(to, self.pos, self.window.len())?;
        Ok(self.pos)
    }
}

/// A nested archive held for random access. The memory or temporary space it takes is
/// charged to its artifact's [`Budget`] until it is dropped (a temporary file is then closed,
/// and with it gone: it was never linked into the filesystem).
#[derive(Debug)]
pub struct Held<'b> {
    /// The archive's bytes.
    pub window: Window,
    charge: Charge<'b>,
}

impl Held<'_> {
    /// Whether the bytes went to a temporary file (rather than memory).
    pub fn spilled(&self) -> bool {
        self.charge.temp > 0
    }
}

/// Bytes charged to a budget, given back on drop.
#[derive(Debug)]
struct Charge<'b> {
    budget: &'b Budget,
    memory: u64,
    temp: u64,
}

impl Drop for Charge<'_> {
    fn drop(&mut self) {
        self.budget.release_held(self.memory, self.temp);
    }
}

/// Reads `reader` (a nested archive, at most [`super::Limits::max_entry_size`] bytes) into
/// memory, or into an unlinked temporary file once the artifact's memory allowance for held
/// archives is used up.
pub fn hold<'b>(reader: &mut dyn Read, budget: &'b Budget) -> io::Result<Held<'b>> {
    let max = budget.limits().max_entry_size;
    let mut charge = Charge {
        budget,
        memory: 0,
        temp: 0,
    };
    let mut data = Vec::new();
    let mut chunk = vec![0u8; STEP];
    loop {
        let n = read_some(reader, &mut chunk)?;
        if n == 0 {
            let len = data.len() as u64;
            let window = Window::new(Backing::Memory(data), len);
            return Ok(Held { window, charge });
        }
        if data.len() as u64 + n as u64 > max {
            return Err(super::cap(format!(
                "nested zip larger than --max-entry-size ({max} bytes); not opened"
            )));
        }
        if !budget.hold_memory(n as u64) {
            return spill(data, &chunk[..n], reader, charge);
        }
        charge.memory += n as u64;
        data.extend_from_slice(&chunk[..n]);
    }
}

/// Moves what was read so far (`data`, then `pending`) to a temporary file and copies the
/// rest of `reader` after it.
fn spill<'b>(
    data: Vec<u8>,
    pending: &[u8],
    reader: &mut dyn Read,
    mut charge: Charge<'b>,
) -> io::Result<Held<'b>> {
    let budget = charge.budget;
    let max = budget.limits().max_entry_size;
    let mut file = tempfile::tempfile().map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot create a temporary file to open a nested zip: {e}"),
        )
    })?;
    let mut len = 0u64;
    let mut put = |bytes: &[u8], charge: &mut Charge<'_>| -> io::Result<()> {
        len += bytes.len() as u64;
        if len > max {
            return Err(super::cap(format!(
                "nested zip larger than --max-entry-size ({max} bytes); not opened"
            )));
        }
        budget.hold_temp(bytes.len() as u64)?;
        charge.temp += bytes.len() as u64;
        file.write_all(bytes)
    };
    put(&data, &mut charge)?;
    drop(data);
    budget.release_held(charge.memory, 0);
    charge.memory = 0;
    put(pending, &mut charge)?;
    let mut chunk = vec![0u8; STEP];
    loop {
        let n = read_some(reader, &mut chunk)?;
        if n == 0 {
            break;
        }
        put(&chunk[..n], &mut charge)?;
    }
    file.flush()?;
    Ok(Held {
        window: Window::new(Backing::File(file), len),
        charge,
    })
}

/// One read, retried when interrupted.
fn read_some(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match reader.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            r => return r,
        }
    }
}

impl Budget {
    /// Charges `n` bytes of a held archive to memory; `false` when that would pass
    /// [`HELD_IN_MEMORY`] (nothing is charged then).
    fn hold_memory(&self, n: u64) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        let before = self.held_memory.fetch_add(n, Relaxed);
        if before + n > HELD_IN_MEMORY {
            self.held_memory.fetch_sub(n, Relaxed);
            return false;
        }
        true
    }

    /// Charges `n` bytes of temporary space; an error past [`super::Limits::max_temp_size`].
    fn hold_temp(&self, n: u64) -> io::Result<()> {
        use std::sync::atomic::Ordering::Relaxed;
        let before = self.held_temp.fetch_add(n, Relaxed);
        let max = self.limits().max_temp_size;
        if before + n > max {
            self.held_temp.fetch_sub(n, Relaxed);
            return Err(io::Error::other(NotScanned::TempSpace { max }));
        }
        Ok(())
    }

    fn release_held(&self, memory: u64, temp: u64) {
        use std::sync::atomic::Ordering::Relaxed;
        self.held_memory.fetch_sub(memory, Relaxed);
        self.held_temp.fetch_sub(temp, Relaxed);
    }

    /// Bytes of nested archives held in memory right now.
    pub fn held_in_memory(&self) -> u64 {
        self.held_memory.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Bytes of nested archives held in temporary files right now.
    pub fn held_in_temp(&self) -> u64 {
        self.held_temp.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_read_and_seek_their_own_range() {
        let w = Window::new(Backing::Memory((0u8..100).collect()), 100);
        let mut sub = w.sub(10, 20).unwrap();
        let mut got = Vec::new();
        sub.read_to_end(&mut got).unwrap();
        assert_eq!(got, (10u8..30).collect::<Vec<_>>());
        sub.seek(SeekFrom::End(-2)).unwrap();
        let mut two = [0u8; 4];
        assert_eq!(sub.read(&mut two).unwrap(), 2);
        assert_eq!(&two[..2], &[28, 29]);
        assert!(w.sub(90, 11).is_err());
        assert!(sub.seek(SeekFrom::Current(-100)).is_err());
    }

    #[test]
    fn zip_source_serves_from_its_buffer_across_seeks() {
        let served = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let w = Window::new(
            Backing::Memory((0..=255u8).cycle().take(200_000).collect()),
            200_000,
        );
        let mut s = ZipSource::new(w, served.clone());
        s.seek(SeekFrom::Start(70_000)).unwrap();
        let mut b = [0u8; 3];
        s.read_exact(&mut b).unwrap();
        assert_eq!(
            b,
            [
                (70_000 % 256) as u8,
                (70_001 % 256) as u8,
                (70_002 % 256) as u8
            ]
        );
        s.seek(SeekFrom::Start(70_010)).unwrap();
        s.read_exact(&mut b).unwrap();
        assert_eq!(b[0], (70_010 % 256) as u8);
        assert_eq!(served.load(std::sync::atomic::Ordering::Relaxed), 6);
    }

    #[test]
    fn holding_spills_past_the_memory_allowance_and_gives_it_back() {
        let budget = Budget::new(super::super::Limits::default());
        let small = vec![7u8; 1000];
        let held = hold(&mut &small[..], &budget).unwrap();
        assert!(!held.spilled());
        assert_eq!(budget.held_in_memory(), 1000);
        let big = vec![9u8; HELD_IN_MEMORY as usize];
        let spilled = hold(&mut &big[..], &budget).unwrap();
        assert!(spilled.spilled());
        assert_eq!(budget.held_in_memory(), 1000);
        assert_eq!(budget.held_in_temp(), HELD_IN_MEMORY);
        let mut back = Vec::new();
        spilled.window.clone().read_to_end(&mut back).unwrap();
        assert!(back == big);
        drop((held, spilled));
        assert_eq!((budget.held_in_memory(), budget.held_in_temp()), (0, 0));
    }

    #[test]
    fn temporary_space_is_capped() {
        let budget = Budget::new(super::super::Limits {
            max_temp_size: HELD_IN_MEMORY,
            ..Default::default()
        });
        let big = vec![1u8; HELD_IN_MEMORY as usize + 1];
        let e = hold(&mut &big[..], &budget).unwrap_err();
        assert!(e.to_string().contains("--max-temp-size"), "{e}");
        assert_eq!((budget.held_in_memory(), budget.held_in_temp()), (0, 0));
    }
}
