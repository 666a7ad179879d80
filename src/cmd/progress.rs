//! A progress line on stderr for long scans, drawn only on a terminal. Workers only bump
//! atomic counters; a ticker thread redraws a few times a second.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use shush::scan::Stats;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Progress reporting for a scan; a no-op unless enabled.
#[derive(Debug, Default)]
pub struct Progress {
    bar: Option<ProgressBar>,
    stop: Arc<Mutex<bool>>,
}

impl Progress {
    /// A progress display that does nothing.
    pub fn hidden() -> Self {
        Progress::default()
    }

    /// Shows a spinner with files, bytes and throughput, fed from `stats`.
    pub fn start(stats: Arc<Stats>) -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(8));
        bar.set_style(
            ProgressStyle::with_template("{spinner} scanning: {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        let stop = Arc::new(Mutex::new(false));
        let (b, s) = (bar.clone(), stop.clone());
        let started = std::time::Instant::now();
        std::thread::spawn(move || {
            loop {
                if *s.lock().unwrap_or_else(|e| e.into_inner()) {
                    break;
                }
                let files = stats.files.load(Ordering::Relaxed);
                let bytes = stats.bytes.load(Ordering::Relaxed);
                let secs = started.elapsed().as_secs_f64().max(1e-3);
                b.set_message(format!(
                    "{files} files, {:.1} MB, {:.0} MB/s",
                    bytes as f64 / 1e6,
                    bytes as f64 / 1e6 / secs
                ));
                b.tick();
                std::thread::sleep(Duration::from_millis(125));
            }
        });
        Progress {
            bar: Some(bar),
            stop,
        }
    }

    /// Removes the progress line.
    pub fn finish(&self) {
        *self.stop.lock().unwrap_or_else(|e| e.into_inner()) = true;
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
