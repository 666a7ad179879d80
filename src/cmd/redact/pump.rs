//! Driving a [`Redactor`] from a byte source to a sink, with the idle timer, fail-closed
//! error handling and quiet stop on a broken downstream pipe. `shush redact` runs on one
//! plain thread (`poll` with the idle timeout, then `read`); `shush run` drives the same
//! redactor from tokio.

use super::Setup;
use super::register::Stream;
use shush::redact::{RedactError, RedactOptions, Redactor, Stats};
use std::io::{self, Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Read size from the source.
pub(crate) const READ_SIZE: usize = 256 * 1024;
/// Most bytes gathered from the channel into one push (amortises the engine's per-scan
/// cost when the producer is faster than the redactor).
const BATCH: usize = 4 << 20;

/// How a pump ended.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub stats: Stats,
    pub warnings: Vec<String>,
    /// Set when redaction failed: output stopped there (fail closed).
    pub error: Option<String>,
    pub broken_pipe: bool,
    /// Add-mask values that no stream could register with the runner.
    pub unregistered: usize,
}

/// What to do with one redactor call.
pub(crate) enum Step<'a> {
    Push(&'a [u8]),
    Idle,
    Finish,
}

/// Runs one redactor call, catching panics: any failure stops the output for good.
pub(crate) fn guarded(
    r: &mut Redactor<'_>,
    step: Step<'_>,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    let res = catch_unwind(AssertUnwindSafe(|| match step {
        Step::Push(data) => {
            fault_injection(r, data.len())?;
            r.push(data, out)
        }
        Step::Idle => r.release_idle(out),
        Step::Finish => r.finish(out),
    }));
    match res {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("{e}; output stopped (fail closed)")),
        Err(_) => {
            Err("internal error (panic) while redacting; output stopped (fail closed)".into())
        }
    }
}

/// Test hook: `SHUSH_REDACT_FAULT=N` makes the redactor fail once more than `N` bytes have
/// been pushed, so that tests (of debug and release builds alike) can prove the fail-closed
/// path. Unset (or not a number), it has no effect. It can only stop output, never let
/// unredacted bytes through, so it is safe to leave in release builds. Read once per
/// process, so the hot path costs one load.
fn fault_injection(r: &Redactor<'_>, incoming: usize) -> Result<(), RedactError> {
    static FAULT_AFTER: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    let limit = FAULT_AFTER.get_or_init(|| {
        std::env::var("SHUSH_REDACT_FAULT")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
    });
    match limit {
        Some(n) if r.stats().bytes_in + incoming as u64 > *n => {
            Err(RedactError::Internal("injected fault".into()))
        }
        _ => Ok(()),
    }
}

/// Whether a write error means the reader went away.
pub(crate) use shush::error::is_broken_pipe;

/// Waits until `fd` is readable or `timeout_ms` passes (`None`: no limit); `Ok(false)` on
/// timeout.
fn wait_readable(fd: std::os::fd::RawFd, timeout_ms: Option<u64>) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let timeout = timeout_ms.map_or(-1, |t| t.min(i32::MAX as u64) as i32);
    loop {
        // SAFETY: one valid pollfd for the duration of the call.
        let r = unsafe { libc::poll(&mut pfd, 1, timeout) };
        if r >= 0 {
            return Ok(r > 0);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// `shush redact`: standard input through the redactor to standard output, on one thread:
/// `poll` waits for input with the idle timeout, so a line costs no thread hand-off.
pub(crate) fn redact_stdio(
    setup: &Setup,
    report: &mut Option<super::ReportSink>,
) -> anyhow::Result<Outcome> {
    use std::os::fd::{AsFd, AsRawFd};
    // Read and write the file descriptors directly: std's stdout is line-buffered, which
    // would split every large write at its last newline.
    let mut stdout = std::fs::File::from(std::io::stdout().as_fd().try_clone_to_owned()?);
    let mut stdin = std::fs::File::from(std::io::stdin().as_fd().try_clone_to_owned()?);
    let fd = stdin.as_raw_fd();
    let mut opts = RedactOptions::new(setup.masker.clone());
    opts.events = report.is_some();
    opts.add_mask = setup.add_mask;
    opts.registrations = setup.targets.collecting();
    let engine = &setup.engine;
    let mut r = Redactor::new(engine, &setup.plan, opts).with_known(setup.registry.clone());
    let mut outcome = Outcome::default();
    let mut last_out: Option<u8> = None;
    let mut out: Vec<u8> = Vec::with_capacity(BATCH + READ_SIZE);
    let mut input = vec![0u8; BATCH];
    let hold_ms = setup.hold.as_millis() as u64;
    let mut idle_spent = false;
    loop {
        let timeout = (r.held() > 0 && !idle_spent).then_some(hold_ms);
        let ready = match wait_readable(fd, timeout) {
            Ok(ready) => ready,
            Err(e) => {
                outcome.error = Some(format!("waiting for standard input: {e}"));
                break;
            }
        };
        out.clear();
        let mut res = Ok(());
        let mut ended = false;
        let mut read_error = None;
        if !ready {
            idle_spent = true;
            res = guarded(&mut r, Step::Idle, &mut out);
        } else {
            // Read what is there, up to a batch (one scan for all of it).
            let mut n = 0;
            loop {
                match stdin.read(&mut input[n..n + READ_SIZE]) {
                    Ok(0) => {
                        ended = true;
                        break;
                    }
                    Ok(k) => n += k,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        read_error = Some(e);
                        break;
                    }
                }
                if BATCH - n < READ_SIZE || !matches!(wait_readable(fd, Some(0)), Ok(true)) {
                    break;
                }
            }
            if n > 0 {
                idle_spent = false;
                res = guarded(&mut r, Step::Push(&input[..n]), &mut out);
            }
            if res.is_ok() && (ended || read_error.is_some()) {
                res = guarded(&mut r, Step::Finish, &mut out);
            }
        }
        if let Some(rep) = report {
            rep.write(engine, "stdout", &r.take_events())?;
        }
        out = with_registrations(setup, &mut r, &mut outcome, out, last_out);
        if let Some(&b) = out.last() {
            last_out = Some(b);
        }
        if let Err(e) = write_out(&mut stdout, &out) {
            if is_broken_pipe(&e) {
                outcome.broken_pipe = true;
                break;
            }
            return Err(e.into());
        }
        if let Err(e) = res {
            outcome.error = Some(e);
            break;
        }
        if let Some(e) = read_error {
            outcome.error = Some(format!("reading standard input: {e}"));
            break;
        }
        if ended {
            break;
        }
    }
    outcome.warnings = r.take_warnings();
    outcome.stats = r.stats().clone();
    Ok(outcome)
}

/// `out`, with the add-mask values the redactor has just seen registered with the runner:
/// on standard output, each before its command line, when standard output leads to the
/// runner; else on standard error when that does (after a line feed: other processes write
/// there too); else counted as not registered.
fn with_registrations(
    setup: &Setup,
    r: &mut Redactor<'_>,
    outcome: &mut Outcome,
    out: Vec<u8>,
    last_out: Option<u8>,
) -> Vec<u8> {
    let regs = r.take_registrations();
    if regs.is_empty() {
        return out;
    }
    match setup.targets.pick(Stream::Stdout) {
        Some(Stream::Stdout) => super::register::interleave(&out, &regs, last_out),
        Some(Stream::Stderr) => {
            if let Err(e) = io::stderr().write_all(&super::register::interleave(&[], &regs, None)) {
                outcome.warnings.push(format!(
                    "registering masks with the GitHub Actions runner: {e}"
                ));
            }
            out
        }
        None => {
            outcome.unregistered += regs.len();
            out
        }
    }
}

fn write_out(w: &mut std::fs::File, out: &[u8]) -> io::Result<()> {
    if out.is_empty() {
        return Ok(());
    }
    w.write_all(out)?;
    w.flush()
}
