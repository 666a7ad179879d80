//! The fleet's ledger of blobs scanned (`scanned_blobs`), so that a blob that forks,
//! mirrors and vendored copies share is scanned once across the fleet: before its blob pass
//! a worker asks which of its repository's objects were scanned under the same rules, and
//! afterwards it records the blobs it scanned itself. Rows are keyed by
//! [`FingerprintKey::blob_key`]: an HMAC of the scan's identity and the blob id.

use super::{Result, Store, StoreError, Val};
use crate::fingerprint::FingerprintKey;
use crate::git::{BlobLedger, KnownBlobs, ScannedBlob};
use gix::ObjectId;
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::Mutex;

/// Keys looked up in one statement (one parameter each).
const LOOKUP_BATCH: usize = 500;

/// Rows written in one statement (two parameters each).
const INSERT_BATCH: usize = 500;

impl Store {
    /// Of `keys` (blob keys), those in the ledger, with whether their blob had findings.
    pub fn known_blobs(&mut self, keys: &[String]) -> Result<HashMap<String, bool>> {
        let mut known = HashMap::new();
        for chunk in keys.chunks(LOOKUP_BATCH) {
            let sql = format!(
                "SELECT id, findings FROM scanned_blobs WHERE id IN ({})",
                placeholders(chunk.len(), 1)
            );
            let params: Vec<Val> = chunk.iter().map(Val::from).collect();
            for row in self.rows(&sql, &params)? {
                known.insert(row[0].text(), row[1].int() != 0);
            }
        }
        Ok(known)
    }

    /// Adds `rows` (blob key, whether it had findings), made under the scan identity tagged
    /// `rules`, to the ledger, in one transaction; a key already there (another worker
    /// scanned the same blob at the same moment) is left as it is, since the verdict is the
    /// same.
    pub fn record_blobs(&mut self, rows: &[(String, bool)], rules: &str) -> Result<()> {
        self.begin()?;
        for chunk in rows.chunks(INSERT_BATCH) {
            let sql = format!(
                "INSERT INTO scanned_blobs(id, findings, rules) VALUES {} ON CONFLICT(id) DO NOTHING",
                (0..chunk.len())
                    .map(|i| format!("(?{}, ?{}, ?1)", 2 * i + 2, 2 * i + 3))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let mut params = vec![Val::from(rules)];
            params.extend(
                chunk
                    .iter()
                    .flat_map(|(key, findings)| [Val::from(key), Val::from(*findings)]),
            );
            if let Err(e) = self.exec(&sql, &params) {
                self.abandon_run();
                return Err(e);
            }
        }
        self.batch("COMMIT")
    }

    /// Deletes the ledger's rows made under any scan identity but the one tagged `rules`
    /// (older rules, another shush): no audit under `rules` can use them. Returns how many.
    pub fn prune_ledger(&mut self, rules: &str) -> Result<u64> {
        self.exec(
            "DELETE FROM scanned_blobs WHERE rules <> ?1",
            &[rules.into()],
        )
    }

    /// How many blobs the ledger holds (under every rule set it has seen).
    pub fn ledger_size(&mut self) -> Result<u64> {
        let row = self.row("SELECT COUNT(*) FROM scanned_blobs", &[])?;
        Ok(row.map_or(0, |r| r[0].int() as u64))
    }
}

/// `n` numbered parameters from `?first`: `?1, ?2, …`.
fn placeholders(n: usize, first: usize) -> String {
    (first..first + n)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A store as a git audit's [`BlobLedger`]: lookups and records keyed under the store's
/// fingerprint key and the engine's scan identity.
pub struct StoreLedger {
    store: Mutex<Store>,
    key: FingerprintKey,
    context: String,
    /// The short tag of `context` its rows carry.
    tag: String,
    /// The first lookup or record that failed since [`StoreLedger::take_error`].
    error: Mutex<Option<StoreError>>,
    /// Whether lookups are made (off: every blob is scanned again, and recorded).
    consult: bool,
}

impl std::fmt::Debug for StoreLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreLedger")
            .field("context", &self.context)
            .finish_non_exhaustive()
    }
}

impl StoreLedger {
    /// A ledger in `store` for scans under `key` and `context` (the engine's
    /// [`scan_identity`](crate::Engine::scan_identity)).
    pub fn new(store: Store, key: FingerprintKey, context: String) -> Self {
        StoreLedger {
            store: Mutex::new(store),
            tag: key.context_tag(&context),
            key,
            context,
            error: Mutex::new(None),
            consult: true,
        }
    }

    /// This ledger, answering "none" to every lookup but still recording: every blob is
    /// scanned again (`shush fleet work --full`).
    pub fn record_only(self) -> Self {
        StoreLedger {
            consult: false,
            ..self
        }
    }

    fn key_of(&self, id: &ObjectId) -> String {
        self.key.blob_key(&self.context, id.as_bytes())
    }

    /// Deletes the rows of every other scan identity (see [`Store::prune_ledger`]).
    pub fn prune(&self) -> Result<u64> {
        lock(&self.store).prune_ledger(&self.tag)
    }

    /// The first error of a lookup or a record since the last call, if any: the audit it
    /// served scanned every blob (or its verdicts were not kept), so its results stand, but
    /// the store needs looking at.
    pub fn take_error(&self) -> Option<StoreError> {
        lock(&self.error).take()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl BlobLedger for StoreLedger {
    fn known(&self, ids: &[ObjectId]) -> KnownBlobs {
        if !self.consult {
            return KnownBlobs::default();
        }
        let keys: Vec<String> = ids.par_iter().map(|id| self.key_of(id)).collect();
        let found = match lock(&self.store).known_blobs(&keys) {
            Ok(found) => found,
            Err(e) => {
                lock(&self.error).get_or_insert(e);
                return KnownBlobs::default();
            }
        };
        let mut known = KnownBlobs::default();
        for (id, key) in ids.iter().zip(&keys) {
            match found.get(key) {
                Some(true) => known.with_findings.insert(*id),
                Some(false) => known.clean.insert(*id),
                None => false,
            };
        }
        known
    }

    fn record(&self, scanned: &[ScannedBlob]) {
        let rows: Vec<(String, bool)> = scanned
            .par_iter()
            .map(|b| (self.key_of(&b.id), b.findings))
            .collect();
        if let Err(e) = lock(&self.store).record_blobs(&rows, &self.tag) {
            lock(&self.error).get_or_insert(e);
        }
    }
}
