//! `shush run [--] CMD ARGS…`: runs a command with its standard output and standard error
//! each redacted and kept separate (or, with `--merge`, one pipe for both, redacted as one
//! stream to standard output, in the order the command wrote), standard input passed
//! through, signals forwarded, and the command's exit status returned as shush's own.
//!
//! Signals: SIGINT, SIGTERM, SIGHUP and SIGQUIT are caught (shush stays alive to redact
//! what the command still prints) and forwarded. When shush's standard input is not a
//! terminal (CI), the command runs in its own process group and each signal goes to that
//! group exactly once, whether it was sent to shush alone or to shush's group. On a
//! terminal the command shares shush's group (so it can read the terminal): the terminal
//! already delivers Ctrl-C, Ctrl-\ and hangups to it, and only SIGTERM is forwarded.

use super::pump::{READ_SIZE, Step, guarded, is_broken_pipe};
use super::register::Stream;
use super::{ReportSink, RunArgs, Setup, register_at_start, summary, unregistered};
use anyhow::{Context, Result};
use shush::redact::{RedactOptions, Redactor, Stats};
use std::cell::RefCell;
use std::io::IsTerminal;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::signal::unix::{SignalKind, signal};

/// Exit code when the command cannot be found (as shells do).
pub const EXIT_NOT_FOUND: u8 = 127;
/// Exit code when the command cannot be executed (as shells do).
pub const EXIT_CANNOT_EXEC: u8 = 126;

/// The conventional name of a signal number.
pub fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        _ => "signal",
    }
}

/// How one stream's pump ended.
#[derive(Default)]
struct StreamEnd {
    stats: Stats,
    warnings: Vec<String>,
    error: Option<String>,
    broken_pipe: bool,
    /// Add-mask values that no stream could register with the runner.
    unregistered: usize,
}

/// One of shush's output streams, shared by the pumps that write to it (both, when
/// standard output and standard error are the same pipe).
struct Sink {
    w: Box<dyn AsyncWrite + Unpin>,
    /// The last byte written, if known: a registration must start a line.
    last: Option<u8>,
}

impl Sink {
    /// Writes `out` with the registrations `regs` inserted at their offsets.
    async fn write(&mut self, out: &[u8], regs: &[(usize, Vec<u8>)]) -> std::io::Result<()> {
        let joined;
        let bytes = if regs.is_empty() {
            out
        } else {
            joined = super::register::interleave(out, regs, self.last);
            &joined
        };
        if bytes.is_empty() {
            return Ok(());
        }
        self.w.write_all(bytes).await?;
        self.last = bytes.last().copied();
        self.w.flush().await
    }
}

/// Shush's standard output and standard error.
struct Sinks {
    out: tokio::sync::Mutex<Sink>,
    /// `None` when standard error is the same pipe as standard output (`2>&1`).
    err: Option<tokio::sync::Mutex<Sink>>,
}

impl Sinks {
    /// `started`: the stream the known secrets were registered on at start (it is at the
    /// start of a line).
    fn new(same_pipe: bool, started: Option<Stream>) -> Sinks {
        let last = |s: Stream| (started == Some(s)).then_some(b'\n');
        Sinks {
            out: tokio::sync::Mutex::new(Sink {
                w: Box::new(tokio::io::stdout()),
                last: last(Stream::Stdout),
            }),
            err: (!same_pipe).then(|| {
                tokio::sync::Mutex::new(Sink {
                    w: Box::new(tokio::io::stderr()),
                    last: last(Stream::Stderr),
                })
            }),
        }
    }

    fn get(&self, s: Stream) -> &tokio::sync::Mutex<Sink> {
        match (s, &self.err) {
            (Stream::Stderr, Some(err)) => err,
            _ => &self.out,
        }
    }
}

/// What the pumps share.
struct Ctx<'a> {
    setup: &'a Setup,
    sinks: &'a Sinks,
    report: &'a RefCell<Option<ReportSink>>,
}

impl Ctx<'_> {
    /// Writes `out` to `own` with the add-mask values the redactor has just seen registered
    /// with the runner: on `own`, each before its command line, when it leads to the runner;
    /// else on the other stream when that does.
    async fn write(
        &self,
        own: Stream,
        r: &mut Redactor<'_>,
        out: &[u8],
        end: &mut StreamEnd,
    ) -> std::io::Result<()> {
        let mut regs = r.take_registrations();
        if !regs.is_empty() {
            match self.setup.targets.pick(own) {
                None => end.unregistered += std::mem::take(&mut regs).len(),
                Some(t) if std::ptr::eq(self.sinks.get(t), self.sinks.get(own)) => {}
                Some(t) => {
                    // Another stream: its order with this one is not kept anyway.
                    regs.iter_mut().for_each(|r| r.0 = 0);
                    let res = self.sinks.get(t).lock().await.write(&[], &regs).await;
                    if let Err(e) = res {
                        end.warnings.push(format!(
                            "registering masks with the GitHub Actions runner: {e}"
                        ));
                    }
                    regs.clear();
                }
            }
        }
        self.sinks.get(own).lock().await.write(out, &regs).await
    }
}

/// `shush run`.
pub fn run_cmd(args: RunArgs) -> Result<u8> {
    let mut setup = Setup::new(&args.rules, &args.secrets, &args.output)?;
    if let Some(w) = register_at_start(&setup, Stream::Stdout) {
        setup.warnings.push(w);
    }
    super::print_unmasked(&setup);
    if !args.output.quiet {
        for w in &setup.warnings {
            eprintln!("shush: warning: {w}");
        }
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let program = args.command[0].to_string_lossy().into_owned();
    let report = setup.report.take();
    let setup = &setup;
    let result = std::thread::scope(|s| {
        s.spawn(move || super::warm_up(&setup.engine, &setup.plan));
        rt.block_on(run_child(setup, report, &args))
    });
    // Do not wait for blocked reads of inherited handles (tokio's stdin/stdout threads).
    rt.shutdown_background();
    let (status, ends) = match result? {
        Ok(x) => x,
        Err(code) => return Ok(code),
    };
    let quiet = args.output.quiet;
    let code = match (status.code(), status.signal()) {
        (Some(c), _) => (c & 0xff) as u8,
        (None, Some(sig)) => {
            let broken = ends.iter().any(|e| e.broken_pipe);
            if !(broken && sig == libc::SIGPIPE) {
                eprintln!(
                    "shush: {program} killed by signal {sig} ({}){}",
                    signal_name(sig),
                    if status.core_dumped() {
                        ", core dumped"
                    } else {
                        ""
                    }
                );
            }
            128u8.wrapping_add(sig as u8)
        }
        _ => crate::cmd::app::EXIT_ERROR,
    };
    let mut failed = false;
    for (name, e) in ["stdout", "stderr"].iter().zip(&ends) {
        if !quiet {
            for w in &e.warnings {
                eprintln!("shush: warning: {w}");
            }
        }
        if let Some(err) = &e.error {
            eprintln!("shush: error: {name}: {err}");
            failed = true;
        }
    }
    let lost: usize = ends.iter().map(|e| e.unregistered).sum();
    if let (false, 1.., Some(note)) = (quiet, lost, &setup.targets.note) {
        eprintln!(
            "shush: warning: {}",
            unregistered(lost, "add-mask value", note)
        );
    }
    if !quiet && !ends.iter().any(|e| e.broken_pipe) {
        eprintln!("{}", summary(&[&ends[0].stats, &ends[1].stats]));
    }
    if failed {
        return Ok(crate::cmd::app::EXIT_ERROR);
    }
    let redacted = ends[0].stats.redactions + ends[1].stats.redactions;
    Ok(if code == 0 && args.output.fail_on_secret && redacted > 0 {
        1
    } else {
        code
    })
}

type ChildResult = std::result::Result<(std::process::ExitStatus, [StreamEnd; 2]), u8>;

/// The command to run: standard input inherited, standard output (and standard error, or
/// with `--merge` the same pipe) piped; its own process group when not on a terminal.
fn command(args: &RunArgs, tty: bool) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(&args.command[0]);
    cmd.args(&args.command[1..])
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(if args.merge {
            Stdio::null()
        } else {
            Stdio::piped()
        })
        .kill_on_drop(false);
    if args.merge {
        // SAFETY: runs in the child between fork and exec, after its standard output was set
        // to the pipe; dup2(2) is async-signal-safe and touches no memory of the parent.
        unsafe {
            cmd.pre_exec(|| {
                if libc::dup2(1, 2) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    if !tty {
        cmd.process_group(0);
    }
    cmd
}

async fn run_child(
    setup: &Setup,
    report: Option<ReportSink>,
    args: &RunArgs,
) -> Result<ChildResult> {
    let tty = std::io::stdin().is_terminal();
    let mut cmd = command(args, tty);
    // Catch the signals before the child exists, so none is lost in between.
    let mut sigs = Vec::new();
    for kind in [
        SignalKind::interrupt(),
        SignalKind::terminate(),
        SignalKind::hangup(),
        SignalKind::quit(),
    ] {
        sigs.push((
            kind.as_raw_value(),
            signal(kind).context("installing signal handlers")?,
        ));
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let program = args.command[0].to_string_lossy();
            eprintln!("shush: cannot run {program}: {e}");
            return Ok(Err(if e.kind() == std::io::ErrorKind::NotFound {
                EXIT_NOT_FOUND
            } else {
                EXIT_CANNOT_EXEC
            }));
        }
    };
    let pid = child.id().map(|p| p as i32);
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let report = RefCell::new(report);
    let engine = &setup.engine;
    let make = |events: bool| {
        let mut opts = RedactOptions::new(setup.masker.clone());
        opts.events = events;
        opts.add_mask = setup.add_mask;
        opts.registrations = setup.targets.collecting();
        Redactor::new(engine, &setup.plan, opts).with_known(setup.registry.clone())
    };
    let events = report.borrow().is_some();
    let mut r_out = make(events);
    let mut r_err = make(events);
    let started = (!setup.startup.is_empty())
        .then(|| setup.targets.pick(Stream::Stdout))
        .flatten();
    let sinks = Sinks::new(setup.targets.same_pipe, started);
    let ctx = Ctx {
        setup,
        sinks: &sinks,
        report: &report,
    };
    let out_name = if args.merge { "merged" } else { "stdout" };
    let out_fut = pump(&ctx, stdout, Stream::Stdout, &mut r_out, out_name);
    let err_fut = pump(&ctx, stderr, Stream::Stderr, &mut r_err, "stderr");
    let wait_fut = async {
        loop {
            let forwarded = async {
                // Wait for whichever caught signal comes first.
                let futs = sigs.iter_mut().map(|(raw, s)| {
                    let raw = *raw;
                    Box::pin(async move {
                        s.recv().await;
                        raw
                    })
                });
                futures_select(futs.collect()).await
            };
            tokio::select! {
                st = child.wait() => break st,
                sig = forwarded => {
                    let forward = !tty || sig == libc::SIGTERM;
                    if let (true, Some(pid)) = (forward, pid) {
                        let target = if tty { pid } else { -pid };
                        // SAFETY: kill(2) with a pid or process-group id we own.
                        unsafe {
                            libc::kill(target, sig);
                        }
                    }
                }
            }
        }
    };
    let (status, e_out, e_err) = tokio::join!(wait_fut, out_fut, err_fut);
    let status = status.context("waiting for the command")?;
    if let Some(mut rep) = report.into_inner() {
        rep.finish()?;
    }
    Ok(Ok((status, [e_out, e_err])))
}

/// Resolves with the value of the first of `futs` to complete.
async fn futures_select<F: std::future::Future<Output = i32> + Unpin>(mut futs: Vec<F>) -> i32 {
    std::future::poll_fn(move |cx| {
        for f in futs.iter_mut() {
            if let std::task::Poll::Ready(v) = std::pin::Pin::new(f).poll(cx) {
                return std::task::Poll::Ready(v);
            }
        }
        std::task::Poll::Pending
    })
    .await
}

/// Pumps one of the child's streams through a redactor to shush's stream `own`.
async fn pump<R: AsyncRead + Unpin>(
    ctx: &Ctx<'_>,
    src: Option<R>,
    own: Stream,
    r: &mut Redactor<'_>,
    name: &str,
) -> StreamEnd {
    let mut end = StreamEnd::default();
    let Some(mut src) = src else { return end };
    let (hold, engine) = (ctx.setup.hold, &ctx.setup.engine);
    let mut buf = vec![0u8; READ_SIZE];
    let mut out = Vec::new();
    let mut idle_spent = false;
    let mut output_ok = true;
    loop {
        let read = if r.held() > 0 && !idle_spent && output_ok {
            tokio::time::timeout(hold, src.read(&mut buf)).await.ok()
        } else {
            Some(src.read(&mut buf).await)
        };
        out.clear();
        let step = match &read {
            None => {
                idle_spent = true;
                Step::Idle
            }
            Some(Ok(0)) => Step::Finish,
            Some(Ok(n)) => {
                idle_spent = false;
                Step::Push(&buf[..*n])
            }
            Some(Err(e)) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Some(Err(_)) => Step::Finish,
        };
        let finishing = matches!(step, Step::Finish);
        if output_ok {
            if let Err(e) = guarded(r, step, &mut out) {
                // Fail closed: nothing more from this stream reaches the output; keep
                // draining it so the command is not blocked.
                end.error = Some(e);
                output_ok = false;
                out.clear();
            }
            if let Some(rep) = ctx.report.borrow_mut().as_mut() {
                if let Err(e) = rep.write(engine, name, &r.take_events()) {
                    end.error.get_or_insert(format!("writing the report: {e}"));
                }
            }
            if let Err(e) = ctx.write(own, r, &out, &mut end).await {
                if is_broken_pipe(&e) {
                    // The reader went away: close the command's pipe too, so that it
                    // sees a broken pipe as it would without shush.
                    end.broken_pipe = true;
                    break;
                }
                end.error.get_or_insert(format!("writing: {e}"));
                output_ok = false;
            }
        }
        if let Some(Err(e)) = &read {
            end.error
                .get_or_insert(format!("reading the command's {name}: {e}"));
        }
        if finishing {
            break;
        }
    }
    end.warnings = r.take_warnings();
    end.stats = r.stats().clone();
    end
}
