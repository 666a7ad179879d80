//! The fleet's work queue, kept in the triage store (`fleet_repos`): repositories to audit,
//! claimed one at a time by any number of workers under a lease that expires, so that the
//! repository of a worker that died is picked up again, and ended done or failed with the
//! error (a failed repository is reported, never skipped silently).

use super::{Result, Store};
use rusqlite::{OptionalExtension, params};
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
}

/// What the audit of one repository gave.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RepoResult {
    /// Blobs scanned.
    pub blobs: u64,
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
    /// Blobs of its last audit.
    pub blobs: Option<i64>,
    /// Seconds of its last audit.
    pub seconds: Option<f64>,
}

/// Seconds since the epoch.
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Store {
    /// Queues `urls`: new ones are added, ones already done or failed are queued again (a
    /// nightly run); ones queued or running are left alone. Returns how many were queued.
    pub fn enqueue(&mut self, urls: &[String]) -> Result<usize> {
        let tx = self
            .conn
            .transaction()
            .map_err(|e| sqlite_err(&self.path, e))?;
        let mut queued = 0;
        for url in urls {
            queued += tx
                .execute(
                    "INSERT INTO fleet_repos(url, enqueued_at) VALUES (?1, strftime('%Y-%m-%dT%H:%M:%SZ','now'))
                     ON CONFLICT(url) DO UPDATE SET state = 'queued', error = NULL, attempts = 0,
                         enqueued_at = excluded.enqueued_at
                     WHERE fleet_repos.state IN ('done', 'failed')",
                    [url],
                )
                .map_err(|e| sqlite_err(&self.path, e))?;
        }
        tx.commit().map_err(|e| sqlite_err(&self.path, e))?;
        Ok(queued)
    }

    /// Claims the next repository for `worker` for `lease` seconds: the oldest queued one,
    /// else one whose lease ran out. `None` when there is no work.
    pub fn claim(&mut self, worker: &str, lease: u64) -> Result<Option<Claim>> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| sqlite_err(&self.path, e))?;
        let t = now();
        let next: Option<(i64, String, i64)> = tx
            .query_row(
                "SELECT id, url, attempts FROM fleet_repos
                 WHERE state = 'queued' OR (state = 'running' AND lease_until < ?1)
                 ORDER BY state = 'running', id LIMIT 1",
                [t],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(|e| sqlite_err(&self.path, e))?;
        let Some((id, url, attempts)) = next else {
            return Ok(None);
        };
        tx.execute(
            "UPDATE fleet_repos SET state = 'running', worker = ?2, lease_until = ?3,
                 attempts = attempts + 1, started_at = strftime('%Y-%m-%dT%H:%M:%SZ','now')
             WHERE id = ?1",
            params![id, worker, t + lease as i64],
        )
        .map_err(|e| sqlite_err(&self.path, e))?;
        tx.commit().map_err(|e| sqlite_err(&self.path, e))?;
        Ok(Some(Claim {
            id,
            url,
            attempts: attempts + 1,
        }))
    }

    /// Extends `worker`'s lease on claim `id`; false when the claim is no longer its own
    /// (the lease ran out and another worker took the repository).
    pub fn renew(&self, id: i64, worker: &str, lease: u64) -> Result<bool> {
        let n = self
            .conn
            .execute(
                "UPDATE fleet_repos SET lease_until = ?3 WHERE id = ?1 AND worker = ?2 AND state = 'running'",
                params![id, worker, now() + lease as i64],
            )
            .map_err(|e| self.err(e))?;
        Ok(n == 1)
    }

    /// Ends `worker`'s claim `id`: done with `result`, or failed with `error`. False when
    /// the claim was no longer its own (nothing is written).
    pub fn end_claim(
        &self,
        id: i64,
        worker: &str,
        outcome: std::result::Result<RepoResult, &str>,
    ) -> Result<bool> {
        let (state, error, r) = match outcome {
            Ok(r) => ("done", None, r),
            Err(e) => ("failed", Some(e), RepoResult::default()),
        };
        let n = self
            .conn
            .execute(
                "UPDATE fleet_repos SET state = ?3, error = ?4, lease_until = NULL,
                     finished_at = strftime('%Y-%m-%dT%H:%M:%SZ','now'),
                     blobs = ?5, bytes = ?6, findings = ?7, seconds = ?8
                 WHERE id = ?1 AND worker = ?2 AND state = 'running'",
                params![
                    id,
                    worker,
                    state,
                    error,
                    r.blobs as i64,
                    r.bytes as i64,
                    r.findings as i64,
                    r.seconds
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(n == 1)
    }

    /// How many repositories are running (claimed by a worker, alive or not).
    pub fn running(&self) -> Result<u64> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM fleet_repos WHERE state = 'running'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }

    /// Every repository of the queue, in the order they were queued.
    pub fn fleet(&self) -> Result<Vec<RepoRow>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT url, state, worker, attempts, error, findings, blobs, seconds
                 FROM fleet_repos ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(RepoRow {
                    url: r.get(0)?,
                    state: r.get(1)?,
                    worker: r.get(2)?,
                    attempts: r.get(3)?,
                    error: r.get(4)?,
                    findings: r.get(5)?,
                    blobs: r.get(6)?,
                    seconds: r.get(7)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err(e))
    }
}

/// A SQLite error of a transaction (which borrows the store's connection) with the store's
/// path.
fn sqlite_err(path: &std::path::Path, source: rusqlite::Error) -> super::StoreError {
    super::StoreError::Sqlite {
        path: path.display().to_string(),
        source,
    }
}
