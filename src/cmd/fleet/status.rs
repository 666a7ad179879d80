//! `shush fleet status`: the queue at a glance (done, running, queued, failed with their
//! errors), the throughput so far and the time left for one worker.

use super::mirror::redact_url;
use anyhow::{Result, bail};
use shush::store::{RepoRow, Store};
use std::io::Write;
use std::path::Path;

/// Shows the queue of `store`, as text or JSON.
pub(super) fn status(store: &Path, json: bool) -> Result<u8> {
    let location = store.to_string_lossy();
    if !shush::store::is_postgres_url(&location) && !store.is_file() {
        bail!(
            "no fleet store at {} (shush fleet enqueue first)",
            store.display()
        );
    }
    let rows = Store::open(&store.to_string_lossy(), None)?.fleet()?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &rows)?;
        writeln!(out)?;
        return Ok(crate::cmd::EXIT_CLEAN);
    }
    write_status(&mut out, &rows)?;
    Ok(crate::cmd::EXIT_CLEAN)
}

fn write_status(out: &mut dyn Write, rows: &[RepoRow]) -> std::io::Result<()> {
    let count = |state: &str| rows.iter().filter(|r| r.state == state).count();
    let (done, running, queued, failed) = (
        count("done"),
        count("running"),
        count("queued"),
        count("failed"),
    );
    let seconds: f64 = rows.iter().filter_map(|r| r.seconds).sum();
    let blobs: i64 = rows.iter().filter_map(|r| r.blobs).sum();
    let known: i64 = rows.iter().filter_map(|r| r.known_blobs).sum();
    let findings: i64 = rows.iter().filter_map(|r| r.findings).sum();
    writeln!(
        out,
        "{} repositories: {done} done, {running} running, {queued} queued, {failed} failed",
        rows.len()
    )?;
    if done > 0 {
        let per_repo = seconds / done as f64;
        writeln!(
            out,
            "{blobs} blobs scanned ({known} more scanned before, in another repository) and \
             {findings} findings so far; {:.1}s a repository, {:.0} blobs/s; about {:.0}s left \
             for one worker",
            per_repo,
            if seconds > 0.0 {
                blobs as f64 / seconds
            } else {
                0.0
            },
            per_repo * (queued + running) as f64
        )?;
    }
    for r in rows.iter().filter(|r| r.state != "done") {
        let what = match (&r.state[..], &r.error, &r.worker) {
            ("failed", Some(e), _) => format!("failed after {} attempt(s): {e}", r.attempts),
            ("running", _, Some(w)) => format!("running on {w}"),
            (state, _, _) => state.to_string(),
        };
        writeln!(
            out,
            "  {}: {}",
            redact_url(&r.url),
            shush::report::printable(&what)
        )?;
    }
    Ok(())
}
