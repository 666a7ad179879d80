//! Driving a [`Redactor`] from a byte source to a sink, with the idle timer, fail-closed
//! error handling and quiet stop on a broken downstream pipe. `shush redact` runs this on
//! plain threads (a reader thread feeds a channel so that the main thread can wait with a
//! timeout); `shush run` drives the same redactor from tokio.

use super::cli::Setup;
use super::core::{RedactError, RedactOptions, Redactor, Stats};
use std::io::{self, Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;

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
}

/// What to do with one redactor call.
pub(crate) enum Step<'a> {
    Push(&'a [u8]),
    PushAll(&'a [&'a [u8]]),
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
        Step::PushAll(pieces) => {
            fault_injection(r, pieces.iter().map(|p| p.len()).sum())?;
            r.push_all(pieces, out)
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

/// Debug builds only: `SHUSH_REDACT_FAULT=N` makes the redactor fail once more than `N`
/// bytes have been pushed, so that tests can prove the fail-closed path.
#[cfg(debug_assertions)]
fn fault_injection(r: &Redactor<'_>, incoming: usize) -> Result<(), RedactError> {
    if let Some(n) = std::env::var("SHUSH_REDACT_FAULT")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        if r.stats().bytes_in + incoming as u64 > n {
            return Err(RedactError::Internal("injected fault".into()));
        }
    }
    Ok(())
}

#[cfg(not(debug_assertions))]
fn fault_injection(_: &Redactor<'_>, _: usize) -> Result<(), RedactError> {
    Ok(())
}

/// Whether a write error means the reader went away.
pub(crate) fn is_broken_pipe(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
}

/// `shush redact`: standard input through the redactor to standard output.
pub(crate) fn redact_stdio(setup: &mut Setup) -> anyhow::Result<Outcome> {
    use std::os::fd::AsFd;
    // Write straight to the file descriptor: std's stdout is line-buffered, which would
    // split every large write at its last newline.
    let mut stdout = std::fs::File::from(std::io::stdout().as_fd().try_clone_to_owned()?);
    let stdin = std::io::stdin();
    let (tx, rx) = mpsc::sync_channel::<io::Result<Vec<u8>>>(16);
    // Buffers come back to the reader for reuse: large allocations would otherwise be
    // fresh mappings, page-faulted in and unmapped on every read.
    let (pool_tx, pool_rx) = mpsc::channel::<Vec<u8>>();
    std::thread::Builder::new()
        .name("shush-stdin".into())
        .spawn(move || {
            let mut input = stdin.lock();
            loop {
                let mut buf = pool_rx.try_recv().unwrap_or_default();
                buf.resize(READ_SIZE, 0);
                match input.read(&mut buf) {
                    Ok(0) => return,
                    Ok(n) => {
                        buf.truncate(n);
                        if tx.send(Ok(buf)).is_err() {
                            return;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
            }
        })?;
    let mut opts = RedactOptions::new(setup.masker.clone());
    opts.events = setup.report.is_some();
    opts.add_mask = setup.add_mask;
    let engine = &setup.engine;
    let mut r = Redactor::new(engine, &setup.plan, opts).with_known(setup.registry.clone());
    let mut outcome = Outcome::default();
    let mut out: Vec<u8> = Vec::with_capacity(BATCH + READ_SIZE);
    let mut idle_spent = false;
    let mut batch: Vec<Vec<u8>> = Vec::new();
    loop {
        let msg = if r.held() > 0 && !idle_spent {
            match rx.recv_timeout(setup.hold) {
                Ok(m) => Some(m),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    idle_spent = true;
                    out.clear();
                    if let Err(e) = guarded(&mut r, Step::Idle, &mut out) {
                        outcome.error = Some(e);
                        break;
                    }
                    if let Err(e) = write_out(&mut stdout, &out) {
                        if is_broken_pipe(&e) {
                            outcome.broken_pipe = true;
                            break;
                        }
                        return Err(e.into());
                    }
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => None,
            }
        } else {
            rx.recv().ok()
        };
        let mut ended = false;
        let mut read_error = None;
        for b in batch.drain(..) {
            let _ = pool_tx.send(b);
        }
        match msg {
            None => ended = true,
            Some(Err(e)) => read_error = Some(e),
            Some(Ok(chunk)) => {
                let mut size = chunk.len();
                batch.push(chunk);
                // Gather what else is already waiting.
                while size < BATCH {
                    match rx.try_recv() {
                        Ok(Ok(c)) => {
                            size += c.len();
                            batch.push(c);
                        }
                        Ok(Err(e)) => {
                            read_error = Some(e);
                            break;
                        }
                        Err(mpsc::TryRecvError::Empty) => break,
                        Err(mpsc::TryRecvError::Disconnected) => {
                            ended = true;
                            break;
                        }
                    }
                }
            }
        }
        out.clear();
        let mut res = Ok(());
        if !batch.is_empty() {
            idle_spent = false;
            let pieces: Vec<&[u8]> = batch.iter().map(|b| &b[..]).collect();
            res = guarded(&mut r, Step::PushAll(&pieces), &mut out);
        }
        if res.is_ok() && (ended || read_error.is_some()) {
            res = guarded(&mut r, Step::Finish, &mut out);
        }
        if let Some(rep) = &mut setup.report {
            rep.write(engine, "stdout", &r.take_events())?;
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

fn write_out(w: &mut std::fs::File, out: &[u8]) -> io::Result<()> {
    if out.is_empty() {
        return Ok(());
    }
    w.write_all(out)?;
    w.flush()
}
