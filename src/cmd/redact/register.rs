//! Registering masks with the GitHub Actions runner: which of shush's output streams lead
//! to the runner, and nowhere else.
//!
//! Shush masks `::add-mask::VALUE` lines in its output, so the runner would never register
//! the value and every later step that does not run under shush would print it in clear.
//! Shush therefore writes its own `::add-mask::` line for each value the job asked to mask
//! (and for each known secret at start), but only to a stream that reaches the runner and
//! no file or other reader: the runner reads commands on both the step's standard output and
//! standard error, and a `tee build.log` or a file after shush must never get the value.
//!
//! What can be proven (Linux, `/proc`): the runner process (`Runner.Worker`) holds one end of
//! each pipe it reads the step from, so a stream of shush that is one of the pipes the
//! nearest `Runner.Worker` ancestor has open is the runner's own, whatever redirections
//! (`2>&1`, `| tee`, `exec > >(tee log)`) happened in between. In a container job the runner
//! is outside shush's PID namespace: there the topmost visible ancestor (the step's shell,
//! started by `docker exec`) stands for it, and a stream of shush that is that process's
//! standard output or standard error counts as the runner's; a redirection of that shell's
//! own streams inside the step (`exec > >(tee log)`) cannot be seen there. Without `/proc`
//! (macOS), or when the processes cannot be read, nothing is proven and nothing is
//! registered unless `--register-masks` names a stream.

use anyhow::{Result, bail};
use clap::ValueEnum;
use std::os::fd::AsFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt};

/// Where shush registers masks with the GitHub Actions runner (`--register-masks`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RegisterMasks {
    /// Under GitHub Actions (`GITHUB_ACTIONS=true`), on a stream proven to lead to the
    /// runner (its own pipe); otherwise nowhere.
    Auto,
    /// On standard output, which the caller asserts leads to the runner (not a regular file).
    Stdout,
    /// On standard error, which the caller asserts leads to the runner (not a regular file).
    Stderr,
    /// Never.
    Off,
}

/// One of shush's output streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

impl Stream {
    fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "standard output",
            Stream::Stderr => "standard error",
        }
    }
}

/// What one of shush's streams is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Endpoint {
    /// A pipe or socket (what the runner reads from).
    pipe: bool,
    /// A regular file: never the runner.
    file: bool,
    /// Device and inode: the same for both ends of a pipe.
    id: (u64, u64),
}

fn endpoint(s: Stream) -> Option<Endpoint> {
    let fd = match s {
        Stream::Stdout => std::io::stdout().as_fd().try_clone_to_owned(),
        Stream::Stderr => std::io::stderr().as_fd().try_clone_to_owned(),
    }
    .ok()?;
    let m = std::fs::File::from(fd).metadata().ok()?;
    let t = m.file_type();
    Some(Endpoint {
        pipe: t.is_fifo() || t.is_socket(),
        file: t.is_file(),
        id: (m.dev(), m.ino()),
    })
}

/// The streams registrations may be written to.
#[derive(Debug, Clone, Default)]
pub(crate) struct Targets {
    stdout: bool,
    stderr: bool,
    /// Standard output and standard error are the same pipe (`2>&1`): one stream.
    pub same_pipe: bool,
    /// Why nothing is registered although the runner would want it (GitHub Actions, auto).
    pub note: Option<String>,
}

impl Targets {
    /// Decides where to register. `github`: `GITHUB_ACTIONS=true`. An explicit stream that
    /// cannot be the runner (a regular file, closed) is an error.
    pub fn resolve(mode: RegisterMasks, github: bool) -> Result<Targets> {
        let out = endpoint(Stream::Stdout);
        let err = endpoint(Stream::Stderr);
        let same_pipe = matches!((out, err), (Some(o), Some(e)) if o.pipe && o.id == e.id);
        let mut t = Targets {
            same_pipe,
            ..Targets::default()
        };
        let explicit = |s: Stream, e: Option<Endpoint>| -> Result<()> {
            match e {
                None => bail!("--register-masks: {} is closed", s.name()),
                Some(e) if e.file => bail!(
                    "--register-masks: {} is a regular file, not the GitHub Actions runner \
                     (registering there would write the secrets to the file)",
                    s.name()
                ),
                Some(_) => Ok(()),
            }
        };
        match mode {
            RegisterMasks::Off => {}
            RegisterMasks::Stdout => {
                explicit(Stream::Stdout, out)?;
                t.stdout = true;
            }
            RegisterMasks::Stderr => {
                explicit(Stream::Stderr, err)?;
                t.stderr = true;
            }
            RegisterMasks::Auto if github => t.prove(out, err),
            RegisterMasks::Auto => {}
        }
        Ok(t)
    }

    /// `auto` under GitHub Actions: the streams that are one of the runner's pipes.
    fn prove(&mut self, out: Option<Endpoint>, err: Option<Endpoint>) {
        match runner_pipes() {
            Ok(ids) => {
                self.stdout = out.is_some_and(|e| e.pipe && ids.contains(&e.id));
                self.stderr = err.is_some_and(|e| e.pipe && ids.contains(&e.id));
                if !self.stdout && !self.stderr {
                    self.note = Some(
                        "neither standard output nor standard error is one of the runner's \
                         pipes: a file, or a pipe to another program such as tee"
                            .into(),
                    );
                }
            }
            Err(why) => {
                self.note = Some(format!(
                    "cannot tell which stream leads to the runner: {why}"
                ))
            }
        }
    }

    /// Whether add-mask values are worth collecting: there is a stream to register them on,
    /// or a warning to give about them.
    pub fn collecting(&self) -> bool {
        self.stdout || self.stderr || self.note.is_some()
    }

    /// The stream to register on for output written to `own`: `own` itself when it leads
    /// to the runner (the registration then precedes the output in order), else the other.
    pub fn pick(&self, own: Stream) -> Option<Stream> {
        let ok = |s: Stream| match s {
            Stream::Stdout => self.stdout,
            Stream::Stderr => self.stderr,
        };
        let other = match own {
            Stream::Stdout => Stream::Stderr,
            Stream::Stderr => Stream::Stdout,
        };
        [own, other].into_iter().find(|&s| ok(s))
    }
}

/// The registration lines for `values` (see [`registration_values`] for known secrets).
pub(crate) fn lines(values: &[Vec<u8>]) -> Vec<u8> {
    values
        .iter()
        .flat_map(|v| shush::redact::add_mask_line(v))
        .collect()
}

/// `out` with the registration line of each of `regs` (value, offset in `out`) inserted at
/// its offset, each on a line of its own: after a line feed when the byte before it (`last`:
/// the one written before `out`) does not end a line.
pub(crate) fn interleave(out: &[u8], regs: &[(usize, Vec<u8>)], last: Option<u8>) -> Vec<u8> {
    let mut buf = Vec::with_capacity(out.len() + 64 * regs.len());
    let mut pos = 0;
    for (at, value) in regs {
        let at = (*at).clamp(pos, out.len());
        buf.extend_from_slice(&out[pos..at]);
        pos = at;
        if !buf
            .last()
            .copied()
            .or(last)
            .is_some_and(shush::redact::is_line_end)
        {
            buf.push(b'\n');
        }
        buf.extend(shush::redact::add_mask_line(value));
    }
    buf.extend_from_slice(&out[pos..]);
    buf
}

/// What to register for a known secret: a one-line value as it is; a multi-line one line by
/// line, trimmed, leaving out lines too short to mask (the runner would mask them all over
/// the log, as shush refuses to).
pub(crate) fn registration_values(value: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for line in shush::redact::known_lines(value) {
        if line.len() >= shush::redact::MIN_KNOWN_LEN && !out.iter().any(|o| o == line) {
            out.push(line.to_vec());
        }
    }
    out
}

/// Identities (device, inode) of the pipes that reach the GitHub Actions runner.
#[cfg(target_os = "linux")]
fn runner_pipes() -> Result<Vec<(u64, u64)>, String> {
    let mut pid = std::process::id();
    for _ in 0..256 {
        let ppid = parent(pid).ok_or_else(|| format!("cannot read /proc/{pid}/stat"))?;
        if ppid == 0 {
            if initial_pid_namespace() {
                break;
            }
            // A container job: the runner is outside; the topmost process stands for it.
            return [1, 2]
                .iter()
                .map(|fd| fd_id(pid, *fd))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| format!("cannot read the streams of process {pid}"));
        }
        let comm = std::fs::read(format!("/proc/{ppid}/comm")).unwrap_or_default();
        if comm.trim_ascii_end() == b"Runner.Worker" {
            let dir = std::fs::read_dir(format!("/proc/{ppid}/fd"))
                .map_err(|e| format!("cannot list the runner's open files: {e}"))?;
            return Ok(dir
                .filter_map(|e| {
                    let m = std::fs::metadata(e.ok()?.path()).ok()?;
                    let t = m.file_type();
                    (t.is_fifo() || t.is_socket()).then(|| (m.dev(), m.ino()))
                })
                .collect());
        }
        pid = ppid;
    }
    Err("no Runner.Worker process among shush's parents".into())
}

#[cfg(not(target_os = "linux"))]
fn runner_pipes() -> Result<Vec<(u64, u64)>, String> {
    Err("other processes' open files cannot be read on this system".into())
}

/// The parent of `pid` (0 when it is outside this PID namespace).
#[cfg(target_os = "linux")]
fn parent(pid: u32) -> Option<u32> {
    let stat = std::fs::read(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so from the last `)`.
    let close = memchr::memrchr(b')', &stat)?;
    let rest = std::str::from_utf8(&stat[close + 1..]).ok()?;
    rest.split_ascii_whitespace().nth(1)?.parse().ok()
}

/// Device and inode of file descriptor `fd` of process `pid`.
#[cfg(target_os = "linux")]
fn fd_id(pid: u32, fd: u32) -> Option<(u64, u64)> {
    let m = std::fs::metadata(format!("/proc/{pid}/fd/{fd}")).ok()?;
    Some((m.dev(), m.ino()))
}

/// Whether shush runs in the host's PID namespace (whose inode number is fixed,
/// `PROC_PID_INIT_INO`): reaching its top means no runner was found.
#[cfg(target_os = "linux")]
fn initial_pid_namespace() -> bool {
    const PROC_PID_INIT_INO: &str = "pid:[4026531836]";
    std::fs::read_link("/proc/self/ns/pid").is_ok_and(|l| l.as_os_str() == PROC_PID_INIT_INO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pick_prefers_the_own_stream() {
        let t = Targets {
            stdout: true,
            stderr: true,
            ..Targets::default()
        };
        assert_eq!(t.pick(Stream::Stderr), Some(Stream::Stderr));
        let t = Targets {
            stderr: true,
            ..Targets::default()
        };
        assert_eq!(t.pick(Stream::Stdout), Some(Stream::Stderr));
        assert_eq!(Targets::default().pick(Stream::Stdout), None);
    }

    #[test]
    fn known_secrets_register_line_by_line() {
        assert_eq!(
            registration_values(b"one-line-value"),
            vec![b"one-line-value".to_vec()]
        );
        assert_eq!(
            registration_values(b"{\n  \"key\": \"abcdef123\"\n}\n"),
            vec![b"\"key\": \"abcdef123\"".to_vec()]
        );
        assert!(registration_values(b"short").is_empty());
        assert_eq!(
            lines(&[b"a%b\nc".to_vec()]),
            b"::add-mask::a%25b%0Ac\n".to_vec()
        );
    }

    #[test]
    fn registrations_start_lines() {
        let v = |s: &str| s.as_bytes().to_vec();
        let out = b"a\n::add-mask::[REDACTED:add-mask]\npartial";
        let regs = vec![(2, v("s%1")), (out.len(), v("two"))];
        assert_eq!(
            interleave(out, &regs, Some(b'x')),
            b"a\n::add-mask::s%251\n::add-mask::[REDACTED:add-mask]\npartial\n::add-mask::two\n"
        );
        // At the start of the output: a line feed unless the stream is at a line start.
        assert_eq!(interleave(b"", &[(0, v("x"))], None), b"\n::add-mask::x\n");
        assert_eq!(
            interleave(b"", &[(0, v("x"))], Some(b'\r')),
            b"::add-mask::x\n"
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn proc_parent_is_read() {
        let me = std::process::id();
        assert_eq!(parent(me), Some(std::os::unix::process::parent_id()));
    }
}
