//! The fleet's work queue, kept in the triage store (`fleet_repos`): repositories to audit,
//! claimed one at a time by any number of workers under a lease that expires, so that the
//! repository of a worker that died is picked up again, and ended done or failed with the
//! error (a failed repository is reported, never skipped silently).

use super::{Dialect, Result, Store, Val, utc_now};
use serde::Serialize;

/// A repository a worker claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// Its row.
    pub id: i64,
    /// Its URL or path, as enqueued.
    pub url: String,
    /// How many times it was claimed, this claim included.
    pub attempts: i64,
    /// The ref tips its last completed audit covered (empty: never audited).
    pub audited_refs: Vec<String>,
}

/// What the audit of one repository gave.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RepoResult {
    /// The ref tips the audit covered, for the next one to start from.
    pub refs: Vec<String>,
    /// Blobs scanned.
    pub blobs: u64,
    /// Blobs not scanned: scanned before under the same rules (the store's ledger).
    pub known: u64,
    /// Bytes scanned.
    pub bytes: u64,
    /// Findings recorded.
    pub findings: u64,
    /// Wall-clock seconds, fetch included.
    pub seconds: f64,
}

/// One repository as `shush fleet status` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct RepoRow {
    /// Its URL or path.
    pub url: String,
    /// `queued`, `running`, `done` or `failed`.
    pub state: String,
    /// The worker holding it, or that last held it.
    pub worker: Option<String>,
    /// Claims so far.
    pub attempts: i64,
    /// Why it failed.
    pub error: Option<String>,
    /// Findings of its last audit.
    pub findings: Option<i64>,
    /// Blobs its last audit scanned.
    pub blobs: Option<i64>,
    /// Blobs its last audit took from the ledger (scanned before, in another repository).
    pub known_blobs: Option<i64>,
    /// Seconds of its last audit.
    pub seconds: Option<f64>,
}

/// Seconds since the epoch.
pub(super) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Store {
    /// Queues `urls`: new ones are added, ones already done or failed are queued again (a
    /// nightly run); ones queued or running are left alone. Returns how many were queued.
    pub fn enqueue(&mut self, urls: &[String]) -> Result<usize> {
        self.begin()?;
        let mut queued = 0;
        for url in urls {
            match self.exec(
                "INSERT INTO fleet_repos(url, enqueued_at) VALUES (?1, ?2)
                 ON CONFLICT(url) DO UPDATE SET state = 'queued', error = NULL, attempts = 0,
                     enqueued_at = excluded.enqueued_at
                 WHERE fleet_repos.state IN ('done', 'failed')",
                &[url.into(), utc_now().into()],
            ) {
                Ok(n) => queued += n as usize,
                Err(e) => {
                    self.abandon_run();
                    return Err(e);
                }
            }
        }
        self.batch("COMMIT")?;
        Ok(queued)
    }

    /// Claims the next repository for `worker` for `lease` seconds: the oldest queued one,
    /// else one whose lease ran out. One statement: SQLite runs it under its write lock,
    /// PostgreSQL skips the rows other workers are claiming (`FOR UPDATE SKIP LOCKED`), so
    /// two workers never claim the same repository. `None` when there is no work.
    pub fn claim(&mut self, worker: &str, lease: u64) -> Result<Option<Claim>> {
        let lock = match self.db.dialect() {
            Dialect::Sqlite => "",
            Dialect::Postgres => "FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE fleet_repos SET state = 'running', worker = ?1, lease_until = ?2,
                 attempts = attempts + 1, started_at = ?3
             WHERE id = (SELECT id FROM fleet_repos
                         WHERE state = 'queued' OR (state = 'running' AND lease_until < ?4)
                         ORDER BY state = 'running', id LIMIT 1 {lock})
             RETURNING id, url, attempts, audited_refs"
        );
        let t = now();
        let row = self.row(
            &sql,
            &[
                worker.into(),
                (t + lease as i64).into(),
                utc_now().into(),
                t.into(),
            ],
        )?;
        Ok(row.map(|r| Claim {
            id: r[0].int(),
            url: r[1].text(),
            attempts: r[2].int(),
            audited_refs: r[3].text().lines().map(str::to_string).collect(),
        }))
    }

    /// Fails the repositories whose lease ran out `max_attempts` times: their worker died on
    /// each of them (a repository that exhausts memory, say), so a further attempt would kill
    /// another. Returns how many.
    pub fn give_up(&mut self, max_attempts: u64) -> Result<u64> {
        self.exec(
            "UPDATE fleet_repos SET state = 'failed', lease_until = NULL, finished_at = ?3,
                 error = 'gave up after ' || attempts || ' attempts: the worker holding it stopped renewing its lease each time (killed, or out of memory?)'
             WHERE state = 'running' AND lease_until < ?1 AND attempts >= ?2",
            &[now().into(), max_attempts.into(), utc_now().into()],
        )
    }

    /// Extends `worker`'s lease on claim `id`; false when the claim is no longer its own
    /// (the lease ran out and another worker took the repository).
    pub fn renew(&mut self, id: i64, worker: &str, lease: u64) -> Result<bool> {
        let n = self.exec(
            "UPDATE fleet_repos SET lease_until = ?3 WHERE id = ?1 AND worker = ?2 AND state = 'running'",
            &[id.into(), worker.into(), (now() + lease as i64).into()],
        )?;
        Ok(n == 1)
    }

    /// Ends `worker`'s claim `id`: done with `result`, or failed with `error`. False when
    /// the claim was no longer its own (nothing is written).
    pub fn end_claim(
        &mut self,
        id: i64,
        worker: &str,
        outcome: std::result::Result<RepoResult, &str>,
    ) -> Result<bool> {
        let (state, error, r) = match outcome {
            Ok(r) => ("done", None, r),
            Err(e) => ("failed", Some(e), RepoResult::default()),
        };
        // A failed audit keeps the tips of the last one that completed.
        let refs = (state == "done").then(|| r.refs.join("\n"));
        let n = self.exec(
            "UPDATE fleet_repos SET state = ?3, error = ?4, lease_until = NULL, finished_at = ?5,
                 blobs = ?6, bytes = ?7, findings = ?8, seconds = ?9,
                 audited_refs = COALESCE(?10, audited_refs), known_blobs = ?11
             WHERE id = ?1 AND worker = ?2 AND state = 'running'",
            &[
                id.into(),
                worker.into(),
                state.into(),
                error.into(),
                utc_now().into(),
                r.blobs.into(),
                r.bytes.into(),
                r.findings.into(),
                r.seconds.into(),
                refs.into(),
                r.known.into(),
            ],
        )?;
        Ok(n == 1)
    }

    /// How many repositories are running (claimed by a worker, alive or not).
    pub fn running(&mut self) -> Result<u64> {
        let row = self.row(
            "SELECT COUNT(*) FROM fleet_repos WHERE state = 'running'",
            &[],
        )?;
        Ok(row.map_or(0, |r| r[0].int() as u64))
    }

    /// Every repository of the queue, in the order they were queued.
    pub fn fleet(&mut self) -> Result<Vec<RepoRow>> {
        let rows = self.rows(
            "SELECT url, state, worker, attempts, error, findings, blobs, seconds, known_blobs
             FROM fleet_repos ORDER BY id",
            &[],
        )?;
        Ok(rows.iter().map(|r| repo_row(r)).collect())
    }
}

fn repo_row(r: &[Val]) -> RepoRow {
    RepoRow {
        url: r[0].text(),
        state: r[1].text(),
        worker: r[2].opt_text(),
        attempts: r[3].int(),
        error: r[4].opt_text(),
        findings: r[5].opt_int(),
        blobs: r[6].opt_int(),
        seconds: r[7].opt_real(),
        known_blobs: r[8].opt_int(),
    }
}
