//! Diagnostics for benchmarks: with `SHUSH_TIMING` set, `shush git` prints each phase's wall
//! and CPU time and memory, and `shush scan` its totals (Linux `/proc`; elsewhere the numbers
//! read as zero).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};

fn enabled() -> bool {
    std::env::var_os("SHUSH_TIMING").is_some()
}

fn status_kb(status: &str, key: &str) -> u64 {
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l[key.len()..].trim().trim_end_matches(" kB").parse().ok())
        .unwrap_or(0)
}

/// Prints the time since `since` and the process's CPU time and memory after `phase`.
pub fn phase(phase: &str, since: Instant) {
    if !enabled() {
        return;
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let f: Vec<&str> = stat.rsplit(") ").next().unwrap_or("").split(' ').collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / 100.0;
    eprintln!(
        "shush: timing: {phase} done at {:.3}s wall, {:.2}s user, {:.2}s sys, rss {} kB (anon {}, file {}), peak {} kB",
        since.elapsed().as_secs_f64(),
        ticks(11),
        ticks(12),
        status_kb(&status, "VmRSS:"),
        status_kb(&status, "RssAnon:"),
        status_kb(&status, "RssFile:"),
        status_kb(&status, "VmHWM:"),
    );
}

/// Samples anonymous and file-backed RSS every 20 ms until stopped (timing mode only).
pub(crate) struct Sampler {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sampler {
    pub fn start() -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = enabled().then(|| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let (mut anon, mut file) = (0, 0);
                while !stop.load(Relaxed) {
                    let st = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
                    anon = status_kb(&st, "RssAnon:").max(anon);
                    file = status_kb(&st, "RssFile:").max(file);
                    std::thread::sleep(Duration::from_millis(20));
                }
                eprintln!("shush: timing: blob pass max anon {anon} kB, max file {file} kB");
            })
        });
        Sampler { stop, thread }
    }

    pub fn stop(mut self) {
        self.stop.store(true, Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
