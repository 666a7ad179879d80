//! The triage store: an embedded SQLite database (`--store FILE`) that remembers every run's
//! findings, keyed by secret (the keyed fingerprint) and by place, with when each was first
//! and last seen and whether it is still there; and a triage status per secret (`open`,
//! `false-positive`, `accepted-risk`, `revoked`) with who set it, when and why. The status
//! follows the secret through rescans, rebases and new locations, so that a nightly audit
//! alerts only on what is new ([`Triaged`] with `new_only`).
//!
//! The store holds what reports hold: masked secrets and keyed fingerprints. A run with
//! `--show-secrets` writes secrets in clear, and the store then says so in its metadata
//! (`clear_secrets`), for ever. A store belongs to one fingerprint key: a run under another
//! key would see every secret as new, so it is refused ([`StoreError::KeyMismatch`]).

mod fleet;
mod import;
mod query;
mod sink;

pub use fleet::{Claim, RepoResult, RepoRow};
pub use import::{ImportFormat, Imported};
pub use query::{ListFilter, SecretDetail, SecretRow, StatusChange, StoredLocation};
pub use sink::{TriageStats, Triaged};

use crate::finding::{Finding, Source};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: &str = "1";

/// A triage status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Not triaged yet, or confirmed and not dealt with: reported.
    Open,
    /// Not a secret: never reported again.
    FalsePositive,
    /// A real secret the team accepts (a test key, a public demo token): not reported.
    AcceptedRisk,
    /// Revoked at the issuer: harmless where it remains, not reported.
    Revoked,
}

impl Status {
    /// Every status, in the order lists show them.
    pub const ALL: [Status; 4] = [
        Status::Open,
        Status::FalsePositive,
        Status::AcceptedRisk,
        Status::Revoked,
    ];

    /// The name the command line and the database use.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::FalsePositive => "false-positive",
            Status::AcceptedRisk => "accepted-risk",
            Status::Revoked => "revoked",
        }
    }

    /// Parses a status name.
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// What went wrong with a store. No message holds secret material.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed (the file is not a database, is locked, the disk is full…).
    #[error("triage store {path}: {source}")]
    Sqlite {
        /// The store's file.
        path: String,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// The store was written under another fingerprint key.
    #[error(
        "triage store {path} was written under fingerprint key {store}, but this run's key is {run}: every secret would look new; use the store's key (SHUSH_FINGERPRINT_KEY) or another store"
    )]
    KeyMismatch {
        /// The store's file.
        path: String,
        /// The store's key id.
        store: String,
        /// This run's key id.
        run: String,
    },
    /// The store's file could not be created.
    #[error("creating triage store {path}: {source}")]
    Create {
        /// The store's file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A newer shush wrote the store.
    #[error(
        "triage store {path} has schema version {found}; this shush reads version {SCHEMA_VERSION}"
    )]
    Version {
        /// The store's file.
        path: String,
        /// The version it has.
        found: String,
    },
    /// No secret has this id.
    #[error("no secret {0} in the triage store (`shush triage list` shows the ids)")]
    NotFound(String),
    /// Several secrets start with this id.
    #[error("{id} names {count} secrets in the triage store: give more of the id")]
    Ambiguous {
        /// The id given.
        id: String,
        /// How many secrets it names.
        count: usize,
    },
    /// A baseline to import could not be read or parsed.
    #[error("importing {path}: {message}")]
    Import {
        /// The file.
        path: String,
        /// What is wrong with it.
        message: String,
    },
}

/// A `Result` with a [`StoreError`].
pub type Result<T> = std::result::Result<T, StoreError>;

/// An open triage store.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// What one run recorded of one finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    /// The secret's status.
    pub status: Status,
    /// The secret was not in the store before this run.
    pub new_secret: bool,
    /// This place of the secret was not in the store before this run (in this scope).
    pub new_location: bool,
}

/// Creates the store's file readable by its owner only (it is a security team's triage
/// record), unless it exists already.
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

impl Store {
    /// Opens (creating it if needed) the store at `path`. `key_id` is this run's fingerprint
    /// key; `None` opens it for triage commands, which need no key.
    pub fn open(path: &Path, key_id: Option<&str>) -> Result<Store> {
        create_private(path).map_err(|source| StoreError::Create {
            path: path.display().to_string(),
            source,
        })?;
        let conn = Connection::open(path).map_err(|source| StoreError::Sqlite {
            path: path.display().to_string(),
            source,
        })?;
        let store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.init(key_id)?;
        Ok(store)
    }

    /// Where the store is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Wraps a SQLite error with the store's path.
    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.display().to_string(),
            source,
        }
    }

    fn init(&self, key_id: Option<&str>) -> Result<()> {
        self.conn
            .busy_timeout(std::time::Duration::from_secs(30))
            .map_err(|e| self.err(e))?;
        self.conn
            .execute_batch(include_str!("schema.sql"))
            .map_err(|e| self.err(e))?;
        match self.meta("schema_version")? {
            None => self.set_meta("schema_version", SCHEMA_VERSION)?,
            Some(v) if v == SCHEMA_VERSION => {}
            Some(found) => {
                return Err(StoreError::Version {
                    path: self.path.display().to_string(),
                    found,
                });
            }
        }
        if let Some(run_key) = key_id {
            match self.meta("key_id")? {
                None => self.set_meta("key_id", run_key)?,
                Some(k) if k == run_key => {}
                Some(store) => {
                    return Err(StoreError::KeyMismatch {
                        path: self.path.display().to_string(),
                        store,
                        run: run_key.to_string(),
                    });
                }
            }
        }
        Ok(())
    }

    /// A metadata value (`schema_version`, `key_id`, `clear_secrets`).
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO meta(key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [key, value],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Whether some run wrote secrets in clear into this store.
    pub fn holds_clear_secrets(&self) -> Result<bool> {
        Ok(self.meta("clear_secrets")?.as_deref() == Some("1"))
    }

    /// Starts a run over `scope` (what was audited: the places of this scope that the run
    /// does not see again are gone once it completes): one transaction until
    /// [`Store::finish_run`], so that a run that dies leaves nothing half written.
    pub fn begin_run(&mut self, command: &str, scope: &str, clear_secrets: bool) -> Result<i64> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.err(e))?;
        if clear_secrets {
            self.set_meta("clear_secrets", "1")?;
        }
        self.conn
            .execute(
                "INSERT INTO runs(started_at, command, scope) VALUES (strftime('%Y-%m-%dT%H:%M:%SZ','now'), ?1, ?2)",
                [command, scope],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Records `f` in run `run` over `scope`: the secret (new, or seen again) and its place.
    /// A new secret takes a status imported for its fingerprint or its place, if any.
    pub fn record(&mut self, run: i64, scope: &str, f: &Finding) -> Result<Recorded> {
        let existing: Option<String> = self
            .conn
            .prepare_cached("SELECT status FROM secrets WHERE fingerprint = ?1")
            .and_then(|mut st| st.query_row([&f.fingerprint], |r| r.get(0)))
            .optional()
            .map_err(|e| self.err(e))?;
        let new_secret = existing.is_none();
        let status = match existing {
            Some(s) => Status::parse(&s).unwrap_or(Status::Open),
            None => self.insert_secret(run, f)?,
        };
        self.conn
            .prepare_cached(
                "UPDATE secrets SET last_seen_run = ?2, secret = ?3 WHERE fingerprint = ?1",
            )
            .and_then(|mut st| st.execute(params![f.fingerprint, run, f.secret]))
            .map_err(|e| self.err(e))?;
        let new_location = self.upsert_location(run, scope, f)?;
        Ok(Recorded {
            status,
            new_secret,
            new_location,
        })
    }

    /// Inserts a secret seen for the first time; returns its status (an imported one, else
    /// open).
    fn insert_secret(&mut self, run: i64, f: &Finding) -> Result<Status> {
        self.conn
            .execute(
                "INSERT INTO secrets(fingerprint, secret_id, rule_id, description, confidence, secret, first_seen_run, last_seen_run)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                params![f.fingerprint, f.secret_id, f.rule_id, f.description, f.confidence.as_str(), f.secret, run],
            )
            .map_err(|e| self.err(e))?;
        match self.imported_status(f)? {
            Some((status, comment, origin)) => {
                let by = format!("import of {origin}");
                self.write_status(&f.fingerprint, status, comment.as_deref(), &by)?;
                Ok(status)
            }
            None => Ok(Status::Open),
        }
    }

    /// Inserts or refreshes the place of `f`; returns whether it is new.
    fn upsert_location(&mut self, run: i64, scope: &str, f: &Finding) -> Result<bool> {
        let (commit, date) = match &f.source {
            Source::Git { commit, date, .. } => (commit.clone(), date.clone()),
            _ => (None, None),
        };
        let place = format!(
            "{}:{}:{}@{}",
            f.path,
            f.line,
            f.column,
            commit.as_deref().unwrap_or("")
        );
        let source = serde_json::to_string(&f.source).unwrap_or_default();
        let updated = self
            .conn
            .prepare_cached(
                "UPDATE locations SET last_seen_run = ?4, present = 1
                 WHERE fingerprint = ?1 AND scope = ?2 AND place = ?3",
            )
            .and_then(|mut st| st.execute(params![f.fingerprint, scope, place, run]))
            .map_err(|e| self.err(e))?;
        if updated > 0 {
            return Ok(false);
        }
        self.conn
            .execute(
                "INSERT INTO locations(fingerprint, scope, place, path, line, col, commit_id, commit_date, source, first_seen_run, last_seen_run)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
                params![f.fingerprint, scope, place, f.path, f.line, f.column, commit, date, source, run],
            )
            .map_err(|e| self.err(e))?;
        Ok(true)
    }

    /// Ends run `run`: records how many findings it saw and, when it `complete`d (nothing
    /// left unscanned), marks the places of its scope it did not see as gone. Commits.
    /// Returns how many places are now gone.
    pub fn finish_run(
        &mut self,
        run: i64,
        scope: &str,
        findings: u64,
        complete: bool,
    ) -> Result<u64> {
        let gone = if complete {
            self.conn
                .execute(
                    "UPDATE locations SET present = 0 WHERE scope = ?1 AND present = 1 AND last_seen_run < ?2",
                    params![scope, run],
                )
                .map_err(|e| self.err(e))? as u64
        } else {
            0
        };
        self.conn
            .execute(
                "UPDATE runs SET finished_at = strftime('%Y-%m-%dT%H:%M:%SZ','now'), findings = ?2, complete = ?3 WHERE id = ?1",
                params![run, findings as i64, complete],
            )
            .map_err(|e| self.err(e))?;
        self.conn.execute_batch("COMMIT").map_err(|e| self.err(e))?;
        Ok(gone)
    }

    /// Gives up the run in progress: nothing it recorded stays (the transaction
    /// [`Store::begin_run`] opened is rolled back).
    pub fn abandon_run(&mut self) {
        let _ = self.conn.execute_batch("ROLLBACK");
    }

    /// Sets the status of the secret `fingerprint`, and appends it to its history.
    fn write_status(
        &self,
        fingerprint: &str,
        status: Status,
        comment: Option<&str>,
        by: &str,
    ) -> Result<()> {
        self.conn
            .execute(
                "UPDATE secrets SET status = ?2, comment = ?3, status_by = ?4, status_at = strftime('%Y-%m-%dT%H:%M:%SZ','now')
                 WHERE fingerprint = ?1",
                params![fingerprint, status.as_str(), comment, by],
            )
            .map_err(|e| self.err(e))?;
        self.conn
            .execute(
                "INSERT INTO status_history(fingerprint, status, comment, by_whom, at)
                 VALUES (?1, ?2, ?3, ?4, strftime('%Y-%m-%dT%H:%M:%SZ','now'))",
                params![fingerprint, status.as_str(), comment, by],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }
}
