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

mod db;
mod fleet;
mod import;
mod ledger;
#[cfg(feature = "postgres")]
mod pg_tls;
mod query;
mod sink;

pub use db::{Db, DbError, Dialect, Val, is_postgres_url};
pub use fleet::{Claim, RepoResult, RepoRow};
pub use import::{ImportFormat, Imported};
pub use ledger::StoreLedger;
pub use query::{ListFilter, SecretDetail, SecretRow, StatusChange, StoredLocation};
pub use sink::{TriageStats, Triaged};

use crate::finding::{Finding, Source};
use std::collections::HashSet;
use std::path::Path;

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: &str = "2";

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
    /// The database failed (the file is not a database, is locked, the disk is full, the
    /// server refused…).
    #[error("triage store {path}: {source}")]
    Db {
        /// The store's file or URL (without its password).
        path: String,
        /// What the database said.
        #[source]
        source: DbError,
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

impl StoreError {
    /// Whether running the transaction again may succeed (another writer won a race).
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Db { source, .. } if source.is_transient())
    }
}

/// A 64-bit hash of `text`, for sets that need not hold the text itself.
fn hash_of(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// A `Result` with a [`StoreError`].
pub type Result<T> = std::result::Result<T, StoreError>;

/// The store's schema, as SQLite takes it.
const SCHEMA: &str = include_str!("schema.sql");

/// The same schema as PostgreSQL takes it: 64-bit integers and floats, identity keys, and a
/// lock so that workers starting at once do not race to create the tables.
fn postgres_schema(sqlite: &str) -> String {
    let body = sqlite
        .replace(
            "INTEGER PRIMARY KEY",
            "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        )
        .replace(" INTEGER", " BIGINT")
        .replace(" REAL", " DOUBLE PRECISION")
        // SQLite's clustered tables; PostgreSQL's are heaps whatever the DDL says.
        .replace(") WITHOUT ROWID;", ");");
    format!("BEGIN;\nSELECT pg_advisory_xact_lock(7305854);\n{body}\nCOMMIT;\n")
}

/// An open triage store.
#[derive(Debug)]
pub struct Store {
    db: Db,
    /// The file or URL, as messages show it (no password).
    path: String,
    /// Secrets the run in progress inserted, by a 64-bit hash of their fingerprint (it
    /// counts each as new once; 8 bytes a secret however many there are).
    inserted: HashSet<u64>,
    /// Whether statuses imported from other tools' baselines wait for secrets (asked once a
    /// run: a new secret looks for one only then).
    imports: Option<bool>,
}

/// Now, UTC, RFC 3339 to the second (`2026-12-06T15:49:38Z`): how the store writes time.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// `location` as messages may show it: a URL's password replaced by `***`.
pub fn display_location(location: &str) -> String {
    match location.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((userinfo, host)) if !userinfo.contains('/') => {
                let user = userinfo.split(':').next().unwrap_or("");
                if userinfo.contains(':') {
                    format!("{scheme}://{user}:***@{host}")
                } else {
                    location.to_string()
                }
            }
            _ => location.to_string(),
        },
        None => location.to_string(),
    }
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
    /// Opens (creating it if needed) the store at `location`: a `postgres://` URL, else an
    /// SQLite file. `key_id` is this run's fingerprint key; `None` opens it for triage
    /// commands, which need no key.
    pub fn open(location: &str, key_id: Option<&str>) -> Result<Store> {
        let path = display_location(location);
        if !is_postgres_url(location) {
            create_private(Path::new(location)).map_err(|source| StoreError::Create {
                path: path.clone(),
                source,
            })?;
        }
        let db = Db::open(location).map_err(|source| StoreError::Db {
            path: path.clone(),
            source,
        })?;
        let mut store = Store {
            db,
            path,
            inserted: HashSet::new(),
            imports: None,
        };
        store.init(key_id)?;
        Ok(store)
    }

    /// Wraps a database error with the store's location.
    fn err(&self, source: DbError) -> StoreError {
        StoreError::Db {
            path: self.path.clone(),
            source,
        }
    }

    /// Runs one statement.
    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64> {
        self.db.execute(sql, params).map_err(|e| self.err(e))
    }

    /// Runs one query.
    fn rows(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>> {
        self.db.query(sql, params).map_err(|e| self.err(e))
    }

    /// The first row of a query.
    fn row(&mut self, sql: &str, params: &[Val]) -> Result<Option<Vec<Val>>> {
        self.db.query_one(sql, params).map_err(|e| self.err(e))
    }

    /// Runs statements without parameters.
    fn batch(&mut self, sql: &str) -> Result<()> {
        self.db.batch(sql).map_err(|e| self.err(e))
    }

    fn init(&mut self, key_id: Option<&str>) -> Result<()> {
        let schema = match self.db.dialect() {
            Dialect::Sqlite => SCHEMA.to_string(),
            Dialect::Postgres => postgres_schema(SCHEMA),
        };
        self.batch(&schema)?;
        match self.meta("schema_version")? {
            None => self.set_meta("schema_version", SCHEMA_VERSION)?,
            Some(v) if v == SCHEMA_VERSION => {}
            Some(v) if v == "1" => self.upgrade_from_1()?,
            Some(found) => {
                return Err(StoreError::Version {
                    path: self.path.clone(),
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
                        path: self.path.clone(),
                        store,
                        run: run_key.to_string(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Brings a version 1 store (before the fleet's blob ledger) to version 2: the schema
    /// made the new table; `fleet_repos` gains `known_blobs`. Under the write lock (an
    /// advisory lock on PostgreSQL), so it is done once however many workers open the store
    /// at the same moment.
    fn upgrade_from_1(&mut self) -> Result<()> {
        self.begin()?;
        match self.upgrade_from_1_locked() {
            Ok(()) => self.batch("COMMIT"),
            Err(e) => {
                self.abandon_run();
                Err(e)
            }
        }
    }

    fn upgrade_from_1_locked(&mut self) -> Result<()> {
        let integer = match self.db.dialect() {
            Dialect::Sqlite => "INTEGER",
            Dialect::Postgres => {
                self.batch("SELECT pg_advisory_xact_lock(7305854)")?;
                "BIGINT"
            }
        };
        if self.meta("schema_version")?.as_deref() == Some("1") {
            self.batch(&format!(
                "ALTER TABLE fleet_repos ADD COLUMN known_blobs {integer}"
            ))?;
            self.set_meta("schema_version", SCHEMA_VERSION)?;
        }
        Ok(())
    }

    /// A metadata value (`schema_version`, `key_id`, `clear_secrets`).
    pub fn meta(&mut self, key: &str) -> Result<Option<String>> {
        let row = self.row("SELECT value FROM meta WHERE key = ?1", &[key.into()])?;
        Ok(row.map(|r| r[0].text()))
    }

    fn set_meta(&mut self, key: &str, value: &str) -> Result<()> {
        self.exec(
            "INSERT INTO meta(key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            &[key.into(), value.into()],
        )
        .map(drop)
    }

    /// Whether some run wrote secrets in clear into this store.
    pub fn holds_clear_secrets(&mut self) -> Result<bool> {
        Ok(self.meta("clear_secrets")?.as_deref() == Some("1"))
    }

    /// Starts a transaction: `BEGIN IMMEDIATE` in SQLite (the write lock at once, so that two
    /// writers wait instead of failing halfway), `BEGIN` in PostgreSQL.
    fn begin(&mut self) -> Result<()> {
        match self.db.dialect() {
            Dialect::Sqlite => self.batch("BEGIN IMMEDIATE"),
            Dialect::Postgres => self.batch("BEGIN"),
        }
    }

    /// Starts a run over `scope` (what was audited: the places of this scope that the run
    /// does not see again are gone once it completes): one transaction until
    /// [`Store::finish_run`], so that a run that dies leaves nothing half written.
    pub fn begin_run(&mut self, command: &str, scope: &str, clear_secrets: bool) -> Result<i64> {
        self.begin()?;
        self.inserted.clear();
        self.imports = None;
        if clear_secrets {
            self.set_meta("clear_secrets", "1")?;
        }
        let row = self.row(
            "INSERT INTO runs(started_at, command, scope) VALUES (?1, ?2, ?3) RETURNING id",
            &[utc_now().into(), command.into(), scope.into()],
        )?;
        Ok(row.map_or(0, |r| r[0].int()))
    }

    /// Records `f` in run `run` over `scope`: the secret (new, or seen again) and its place,
    /// in two statements. A new secret takes a status imported for its fingerprint or its
    /// place, if any.
    pub fn record(&mut self, run: i64, scope: &str, f: &Finding) -> Result<Recorded> {
        let (status, new_secret) = self.upsert_secret(run, f)?;
        let new_location = self.upsert_location(run, scope, f)?;
        Ok(Recorded {
            status,
            new_secret,
            new_location,
        })
    }

    /// Inserts the secret of `f`, or marks it seen by this run (and shown as this run shows
    /// it: masked, or in clear); returns its status and whether this run inserted it. One
    /// statement either way, so that two writers meeting the same new secret at the same
    /// moment are serialised by the database (the second one updates).
    fn upsert_secret(&mut self, run: i64, f: &Finding) -> Result<(Status, bool)> {
        let row = self.row(
            "INSERT INTO secrets(fingerprint, secret_id, rule_id, description, confidence, secret, first_seen_run, last_seen_run)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
             ON CONFLICT(fingerprint) DO UPDATE SET last_seen_run = excluded.last_seen_run, secret = excluded.secret
             RETURNING status, first_seen_run",
            &[
                (&f.fingerprint).into(),
                (&f.secret_id).into(),
                (&f.rule_id).into(),
                (&f.description).into(),
                f.confidence.as_str().into(),
                (&f.secret).into(),
                run.into(),
            ],
        )?;
        let (status, first_seen) = row.map_or((Status::Open, 0), |r| {
            (
                Status::parse(&r[0].text()).unwrap_or(Status::Open),
                r[1].int(),
            )
        });
        let new = first_seen == run && self.inserted.insert(hash_of(&f.fingerprint));
        if new && self.has_imports()? {
            if let Some((status, comment, origin)) = self.imported_status(f)? {
                let by = format!("import of {origin}");
                self.write_status(&f.fingerprint, status, comment.as_deref(), &by)?;
                return Ok((status, true));
            }
        }
        Ok((status, new))
    }

    /// Whether any imported status waits for a secret (asked once a run).
    fn has_imports(&mut self) -> Result<bool> {
        if let Some(known) = self.imports {
            return Ok(known);
        }
        let row = self.row(
            "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM imported_fingerprints LIMIT 1) AS a)
                  + (SELECT COUNT(*) FROM (SELECT 1 FROM imported_places LIMIT 1) AS b)",
            &[],
        )?;
        let any = row.is_some_and(|r| r[0].int() > 0);
        self.imports = Some(any);
        Ok(any)
    }

    /// Inserts the place of `f`, or marks it seen by this run; returns whether no earlier run
    /// saw it. One statement.
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
        let row = self.row(
            "INSERT INTO locations(fingerprint, scope, place, path, line, col, commit_id, commit_date, source, first_seen_run, last_seen_run)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)
             ON CONFLICT(fingerprint, scope, place) DO UPDATE SET last_seen_run = excluded.last_seen_run, present = 1
             RETURNING first_seen_run",
            &[
                (&f.fingerprint).into(),
                scope.into(),
                place.into(),
                (&f.path).into(),
                f.line.into(),
                f.column.into(),
                commit.into(),
                date.into(),
                source.into(),
                run.into(),
            ],
        )?;
        Ok(row.is_some_and(|r| r[0].int() == run))
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
            self.exec(
                "UPDATE locations SET present = 0 WHERE scope = ?1 AND present = 1 AND last_seen_run < ?2",
                &[scope.into(), run.into()],
            )?
        } else {
            0
        };
        self.exec(
            "UPDATE runs SET finished_at = ?2, findings = ?3, complete = ?4 WHERE id = ?1",
            &[
                run.into(),
                utc_now().into(),
                findings.into(),
                complete.into(),
            ],
        )?;
        self.batch("COMMIT")?;
        Ok(gone)
    }

    /// Gives up the run in progress: nothing it recorded stays (the transaction
    /// [`Store::begin_run`] opened is rolled back).
    pub fn abandon_run(&mut self) {
        let _ = self.db.batch("ROLLBACK");
    }

    /// Sets the status of the secret `fingerprint`, and appends it to its history.
    fn write_status(
        &mut self,
        fingerprint: &str,
        status: Status,
        comment: Option<&str>,
        by: &str,
    ) -> Result<()> {
        let now = utc_now();
        self.exec(
            "UPDATE secrets SET status = ?2, comment = ?3, status_by = ?4, status_at = ?5
             WHERE fingerprint = ?1",
            &[
                fingerprint.into(),
                status.as_str().into(),
                comment.into(),
                by.into(),
                (&now).into(),
            ],
        )?;
        self.exec(
            "INSERT INTO status_history(fingerprint, status, comment, by_whom, at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            &[
                fingerprint.into(),
                status.as_str().into(),
                comment.into(),
                by.into(),
                now.into(),
            ],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_schema_for_both_databases() {
        let pg = postgres_schema(SCHEMA);
        assert!(!pg.contains(" INTEGER") && !pg.contains(" REAL"), "{pg}");
        assert_eq!(
            pg.matches("GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
                .count(),
            SCHEMA.matches("INTEGER PRIMARY KEY").count()
        );
        assert!(pg.contains("pg_advisory_xact_lock") && pg.ends_with("COMMIT;\n"));
        assert!(!pg.contains("WITHOUT ROWID") && SCHEMA.contains("WITHOUT ROWID"));
    }

    #[test]
    fn utc_dates_and_hidden_passwords() {
        let now = utc_now();
        assert_eq!(now.len(), 20, "{now}");
        assert!(now.starts_with("20") && now.ends_with('Z'), "{now}");
        let url = "postgres://shush:hunter2@db:5432/audit"; // shush:allow (synthetic)
        assert_eq!(display_location(url), "postgres://shush:***@db:5432/audit");
        assert_eq!(
            display_location("postgres://db/audit"),
            "postgres://db/audit"
        );
        assert_eq!(display_location("triage.db"), "triage.db");
    }
}
