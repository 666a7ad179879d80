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
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys looked up in one statement (one parameter each).
const LOOKUP_BATCH: usize = 500;

/// Rows written in one statement (two parameters each).
const INSERT_BATCH: usize = 500;

/// A blob's row in the ledger, as a lookup finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerRow {
    /// Scanned: whether it had findings.
    Verdict(bool),
    /// Being scanned under the claim (repository id, attempt).
    Pending(Claimant),
}

/// A claim of the fleet's queue (repository id, attempt): who holds a blob being scanned.
pub type Claimant = (i64, i64);

impl Store {
    /// Of `keys` (blob keys), those in the ledger, as they are now.
    pub fn ledger_rows(&mut self, keys: &[String]) -> Result<HashMap<String, LedgerRow>> {
        let mut rows = HashMap::new();
        for chunk in keys.chunks(LOOKUP_BATCH) {
            let sql = format!(
                "SELECT id, findings, owner_repo, owner_attempt FROM scanned_blobs WHERE id IN ({})",
                placeholders(chunk.len(), 1)
            );
            let params: Vec<Val> = chunk.iter().map(Val::from).collect();
            for r in self.rows(&sql, &params)? {
                let row = match r[1].opt_int() {
                    Some(f) => LedgerRow::Verdict(f != 0),
                    None => LedgerRow::Pending((r[2].int(), r[3].int())),
                };
                rows.insert(r[0].text(), row);
            }
        }
        Ok(rows)
    }

    /// Of `claims`, those still held: their repository is running at that attempt under a
    /// lease that has not run out.
    pub fn live_claims(&mut self, claims: &[Claimant]) -> Result<HashSet<Claimant>> {
        let mut live = HashSet::new();
        let ids: Vec<i64> = claims.iter().map(|c| c.0).collect();
        for chunk in ids.chunks(LOOKUP_BATCH) {
            let sql = format!(
                "SELECT id, attempts FROM fleet_repos
                 WHERE state = 'running' AND lease_until >= ?1 AND id IN ({})",
                placeholders(chunk.len(), 2)
            );
            let mut params = vec![Val::from(super::fleet::now())];
            params.extend(chunk.iter().map(|&i| Val::from(i)));
            for r in self.rows(&sql, &params)? {
                live.insert((r[0].int(), r[1].int()));
            }
        }
        Ok(live.into_iter().filter(|c| claims.contains(c)).collect())
    }

    /// Reserves the blobs of `keys` not in the ledger for `owner` to scan (under the scan
    /// identity tagged `rules`); returns those it reserved (another worker may have taken
    /// some a moment before). One transaction, committed before it returns, so that others
    /// see the reservations before this worker's pass begins.
    pub fn reserve_blobs(
        &mut self,
        keys: &[String],
        rules: &str,
        owner: Claimant,
    ) -> Result<HashSet<String>> {
        self.begin()?;
        match self.reserve_in_transaction(keys, rules, owner) {
            Ok(reserved) => {
                self.batch("COMMIT")?;
                Ok(reserved)
            }
            Err(e) => {
                self.abandon_run();
                Err(e)
            }
        }
    }

    fn reserve_in_transaction(
        &mut self,
        keys: &[String],
        rules: &str,
        owner: Claimant,
    ) -> Result<HashSet<String>> {
        let mut reserved = HashSet::new();
        for chunk in keys.chunks(INSERT_BATCH) {
            let sql = format!(
                "INSERT INTO scanned_blobs(id, findings, rules, owner_repo, owner_attempt)
                 VALUES {} ON CONFLICT(id) DO NOTHING RETURNING id",
                (0..chunk.len())
                    .map(|i| format!("(?{}, NULL, ?1, ?2, ?3)", i + 4))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let mut params = vec![Val::from(rules), owner.0.into(), owner.1.into()];
            params.extend(chunk.iter().map(Val::from));
            for r in self.rows(&sql, &params)? {
                reserved.insert(r[0].text());
            }
        }
        Ok(reserved)
    }

    /// Moves the blobs of `keys` still being scanned under the dead claim `from` to `to`;
    /// returns those it moved.
    pub fn take_over_blobs(
        &mut self,
        keys: &[String],
        from: Claimant,
        to: Claimant,
    ) -> Result<HashSet<String>> {
        let mut moved = HashSet::new();
        for chunk in keys.chunks(LOOKUP_BATCH) {
            let sql = format!(
                "UPDATE scanned_blobs SET owner_repo = ?1, owner_attempt = ?2
                 WHERE findings IS NULL AND owner_repo = ?3 AND owner_attempt = ?4 AND id IN ({})
                 RETURNING id",
                placeholders(chunk.len(), 5)
            );
            let mut params = vec![to.0.into(), to.1.into(), from.0.into(), from.1.into()];
            params.extend(chunk.iter().map(Val::from));
            for r in self.rows(&sql, &params)? {
                moved.insert(r[0].text());
            }
        }
        Ok(moved)
    }

    /// Drops the reservations `owner` still holds (blobs it did not scan after all: over the
    /// size cap, unreadable, or its audit failed), so that no one waits for them.
    pub fn release_blobs(&mut self, owner: Claimant) -> Result<u64> {
        self.exec(
            "DELETE FROM scanned_blobs WHERE findings IS NULL AND owner_repo = ?1 AND owner_attempt = ?2",
            &[owner.0.into(), owner.1.into()],
        )
    }

    /// Keeps `rows` (blob key, whether it had findings), made under the scan identity tagged
    /// `rules`, in one transaction: a new key is added, a reserved one gets its verdict, and
    /// one that has a verdict already (another worker scanned the same blob) keeps it, since
    /// the verdict is the same.
    pub fn record_blobs(&mut self, rows: &[(String, bool)], rules: &str) -> Result<()> {
        self.begin()?;
        for chunk in rows.chunks(INSERT_BATCH) {
            let sql = format!(
                "INSERT INTO scanned_blobs(id, findings, rules) VALUES {}
                 ON CONFLICT(id) DO UPDATE SET findings = excluded.findings, rules = excluded.rules,
                     owner_repo = NULL, owner_attempt = NULL
                 WHERE scanned_blobs.findings IS NULL",
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
/// fingerprint key and the engine's scan identity. Given the claim its worker holds
/// ([`StoreLedger::set_claim`]), it also reserves the blobs it will scan, so that workers
/// auditing repositories that share blobs at the same moment scan each one once: a blob
/// another live claim holds is left to it and its verdict waited for.
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
    /// The claim of the audit in progress: blobs are reserved under it.
    claim: Mutex<Option<Claimant>>,
    /// How long to wait for another worker's verdicts before scanning the blobs anyway.
    wait_limit: Mutex<Duration>,
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
            claim: Mutex::new(None),
            wait_limit: Mutex::new(Duration::from_secs(600)),
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

    /// Sets the claim (repository id, attempt) of the audit about to run, under which the
    /// blobs it scans are reserved; `None` (the default) reserves nothing. `wait_limit`
    /// bounds the wait for blobs other claims hold (their lease bounds it too).
    pub fn set_claim(&self, claim: Option<Claimant>, wait_limit: Duration) {
        *lock(&self.claim) = claim;
        *lock(&self.wait_limit) = wait_limit;
    }

    /// Ends the audit of the claim set by [`StoreLedger::set_claim`]: the reservations it
    /// still holds are dropped (see [`Store::release_blobs`]).
    pub fn release(&self) {
        let Some(claim) = lock(&self.claim).take() else {
            return;
        };
        if let Err(e) = lock(&self.store).release_blobs(claim) {
            self.keep_error(e);
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

    fn keep_error(&self, e: StoreError) {
        lock(&self.error).get_or_insert(e);
    }

    /// Sorts `ids` by what the ledger says of them; pending blobs of live claims other than
    /// `mine` are `elsewhere`, the others are reserved (or taken over) for `mine`.
    fn classify(
        &self,
        store: &mut Store,
        ids: &[ObjectId],
        keys: &[String],
        mine: Option<Claimant>,
    ) -> Result<KnownBlobs> {
        let rows = store.ledger_rows(keys)?;
        let mut known = KnownBlobs::default();
        let (mut free, mut pending) = (Vec::new(), HashMap::<Claimant, Vec<usize>>::new());
        for (i, key) in keys.iter().enumerate() {
            match rows.get(key) {
                Some(LedgerRow::Verdict(true)) => drop(known.with_findings.insert(ids[i])),
                Some(LedgerRow::Verdict(false)) => drop(known.clean.insert(ids[i])),
                Some(LedgerRow::Pending(owner)) => pending.entry(*owner).or_default().push(i),
                None => free.push(i),
            }
        }
        let Some(mine) = mine else {
            return Ok(known); // nothing reserved: every blob not known is scanned here
        };
        let owners: Vec<Claimant> = pending.keys().copied().collect();
        let live = store.live_claims(&owners)?;
        for (owner, at) in pending {
            if live.contains(&owner) && owner != mine {
                known.elsewhere.extend(at.iter().map(|&i| ids[i]));
                continue;
            }
            let wanted: Vec<String> = at.iter().map(|&i| keys[i].clone()).collect();
            let moved = store.take_over_blobs(&wanted, owner, mine)?;
            let lost = at.iter().filter(|&&i| !moved.contains(&keys[i]));
            known.elsewhere.extend(lost.map(|&i| ids[i]));
        }
        let wanted: Vec<String> = free.iter().map(|&i| keys[i].clone()).collect();
        let reserved = store.reserve_blobs(&wanted, &self.tag, mine)?;
        let lost = free.iter().filter(|&&i| !reserved.contains(&keys[i]));
        known.elsewhere.extend(lost.map(|&i| ids[i]));
        Ok(known)
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
        let mine = *lock(&self.claim);
        let mut store = lock(&self.store);
        self.classify(&mut store, ids, &keys, mine)
            .unwrap_or_else(|e| {
                self.keep_error(e);
                KnownBlobs::default()
            })
    }

    fn wait(&self, ids: &[ObjectId]) -> KnownBlobs {
        let mut known = KnownBlobs::default();
        let mut left: Vec<(ObjectId, String)> =
            ids.iter().map(|id| (*id, self.key_of(id))).collect();
        let deadline = Instant::now() + *lock(&self.wait_limit);
        let mine = *lock(&self.claim);
        let mut holders_gone = false;
        while !left.is_empty() {
            let mut store = lock(&self.store);
            let polled = poll(&mut store, &mut left, &mut known, mine);
            let alive = polled.and_then(|holders| store.live_claims(&holders));
            drop(store);
            let alive = match alive {
                Ok(live) => !live.is_empty(),
                Err(e) => {
                    self.keep_error(e);
                    break;
                }
            };
            // Once no holder lives, read once more: a verdict recorded just before its
            // holder ended (reads of many keys are not one snapshot) is there now; what is
            // still pending after that was abandoned.
            if left.is_empty() || holders_gone || Instant::now() >= deadline {
                break;
            }
            if !alive {
                holders_gone = true;
                continue;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        known
    }

    fn record(&self, scanned: &[ScannedBlob]) {
        let mut rows: Vec<(String, bool)> = scanned
            .par_iter()
            .map(|b| (self.key_of(&b.id), b.findings))
            .collect();
        rows.sort_unstable();
        rows.dedup_by(|a, b| a.0 == b.0);
        let mut store = lock(&self.store);
        if let Err(e) = store.record_blobs(&rows, &self.tag) {
            self.keep_error(e);
        }
        // What the pass reserved and did not scan (LFS pointers, blobs over the cap, ones it
        // could not read) is given up now, not when the audit ends: a worker waiting for it
        // would otherwise wait for this whole audit, and this one, waiting in turn, for
        // that worker's (each records before it waits, so neither waits for the other).
        if let Some(claim) = *lock(&self.claim) {
            if let Err(e) = store.release_blobs(claim) {
                self.keep_error(e);
            }
        }
    }
}

/// Reads the rows of the blobs `left`: verdicts go to `known` (and leave `left`), as do
/// blobs no longer in the ledger (released: the caller scans them); returns the claims
/// other than `mine` that hold the rest.
fn poll(
    store: &mut Store,
    left: &mut Vec<(ObjectId, String)>,
    known: &mut KnownBlobs,
    mine: Option<Claimant>,
) -> Result<Vec<Claimant>> {
    let keys: Vec<String> = left.iter().map(|(_, k)| k.clone()).collect();
    let rows = store.ledger_rows(&keys)?;
    let mut holders = Vec::new();
    left.retain(|(id, key)| match rows.get(key) {
        Some(LedgerRow::Verdict(true)) => !known.with_findings.insert(*id),
        Some(LedgerRow::Verdict(false)) => !known.clean.insert(*id),
        Some(LedgerRow::Pending(holder)) => {
            // Its own reservations it scans itself; only others' are waited for.
            if Some(*holder) != mine {
                holders.push(*holder);
            }
            true
        }
        None => false,
    });
    holders.sort_unstable();
    holders.dedup();
    Ok(holders)
}
