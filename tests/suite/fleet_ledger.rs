//! The fleet's ledger of blobs scanned, through the library on SQLite and PostgreSQL: what
//! it answers, that a change of rules or key matches nothing old, that it holds no blob id
//! anyone could look up, and that a store written before it existed is brought up to date.

use crate::util::Dir;
use shush::fingerprint::{FingerprintKey, KeyOrigin};
use shush::git::{BlobLedger, ScannedBlob};
use shush::store::{Store, StoreLedger};

fn key(material: &[u8]) -> FingerprintKey {
    FingerprintKey::from_material(material, KeyOrigin::Given).unwrap()
}

fn oid(n: u8) -> gix::ObjectId {
    gix::ObjectId::from_bytes_or_panic(&[n; 20])
}

/// Records two blobs, then asks about them and a third, under the same and other contexts.
fn round_trip(location: &str) {
    let k = key(b"ledger test key one, long enough");
    let open = || Store::open(location, Some(k.id())).unwrap();
    let ledger = StoreLedger::new(open(), k.clone(), "rules=1".into());
    assert!(ledger.known(&[oid(1), oid(2)]).is_empty());
    let scanned = [
        ScannedBlob {
            id: oid(1),
            findings: true,
        },
        ScannedBlob {
            id: oid(2),
            findings: false,
        },
    ];
    ledger.record(&scanned);
    // Recording the same blobs again (two workers at once) changes nothing.
    ledger.record(&scanned);
    assert!(ledger.take_error().is_none());
    let known = ledger.known(&[oid(1), oid(2), oid(3)]);
    assert_eq!(known.with_findings, [oid(1)].into());
    assert_eq!(known.clean, [oid(2)].into());
    assert!(ledger.take_error().is_none());

    // Another worker, another connection: the same answer.
    let other = StoreLedger::new(open(), k.clone(), "rules=1".into());
    assert_eq!(other.known(&[oid(1), oid(2)]).len(), 2);
    // New rules (another scan identity), or --full: nothing is known.
    let new_rules = StoreLedger::new(open(), k.clone(), "rules=2".into());
    assert!(new_rules.known(&[oid(1), oid(2)]).is_empty());
    let full = StoreLedger::new(open(), k.clone(), "rules=1".into()).record_only();
    assert!(full.known(&[oid(1), oid(2)]).is_empty());
    // Under another key the rows mean nothing.
    let k2 = key(b"ledger test key two, long enough");
    let stranger = StoreLedger::new(Store::open(location, None).unwrap(), k2, "rules=1".into());
    assert!(stranger.known(&[oid(1), oid(2)]).is_empty());
    assert_eq!(open().ledger_size().unwrap(), 2);
    // Rows of other rules are deleted by a worker of the new ones; its own stay.
    new_rules.record(&[ScannedBlob {
        id: oid(9),
        findings: false,
    }]);
    assert_eq!(new_rules.prune().unwrap(), 2);
    assert_eq!(open().ledger_size().unwrap(), 1);
    assert!(ledger.known(&[oid(1), oid(2)]).is_empty());
    assert_eq!(new_rules.known(&[oid(9)]).clean, [oid(9)].into());
}

#[test]
fn the_ledger_answers_per_rules_and_key_on_sqlite() {
    let dir = Dir::new();
    let path = dir.join("ledger.db");
    round_trip(path.to_str().unwrap());
    // The file holds keyed ids only: no blob id, in hex or raw, that a guess could match.
    let bytes = std::fs::read(&path).unwrap();
    for n in [1u8, 2] {
        let hex = oid(n).to_string();
        assert!(!bytes.windows(hex.len()).any(|w| w == hex.as_bytes()));
        assert!(!bytes.windows(20).any(|w| w == oid(n).as_bytes()));
    }
    // A ledger that cannot be read answers "none" (everything is scanned) and keeps the
    // error for the worker to say; one that cannot be written keeps the error too.
    let k = key(b"ledger test key one, long enough");
    let ledger = StoreLedger::new(
        Store::open(path.to_str().unwrap(), Some(k.id())).unwrap(),
        k,
        "rules=1".into(),
    );
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("DROP TABLE scanned_blobs").unwrap();
    drop(conn);
    assert!(ledger.known(&[oid(1), oid(2)]).is_empty());
    let err = ledger.take_error().expect("the lookup's error").to_string();
    assert!(err.contains("scanned_blobs"), "{err}");
    assert!(ledger.take_error().is_none());
    ledger.record(&[ScannedBlob {
        id: oid(3),
        findings: false,
    }]);
    assert!(ledger.take_error().is_some());
}

#[test]
fn the_ledger_answers_per_rules_and_key_on_postgres() {
    let Some(url) = crate::util::postgres_db("ledger") else {
        return;
    };
    round_trip(&url);
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let ids: Vec<String> = client
        .query("SELECT id FROM scanned_blobs", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    // The one row left after the prune: 32 hex digits, no blob id in them.
    assert_eq!(ids.len(), 1);
    for id in ids {
        assert_eq!(id.len(), 32, "{id}");
        assert!(!id.contains(&oid(9).to_string()[..8]));
    }
}

/// A store of schema version 1 (before the ledger) is brought to version 2 when opened: the
/// ledger's table is made, and the queue gains the count of blobs taken from it.
#[test]
fn a_version_1_store_is_upgraded() {
    let dir = Dir::new();
    let path = dir.join("old.db");
    let location = path.to_str().unwrap();
    drop(Store::open(location, None).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "ALTER TABLE fleet_repos DROP COLUMN known_blobs;
         DROP TABLE scanned_blobs;
         UPDATE meta SET value = '1' WHERE key = 'schema_version';",
    )
    .unwrap();
    drop(conn);
    let mut store = Store::open(location, None).unwrap();
    assert_eq!(store.meta("schema_version").unwrap().as_deref(), Some("2"));
    store
        .enqueue(&["https://git.example/a.git".into()])
        .unwrap();
    let rows = store.fleet().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].known_blobs, None);
    assert_eq!(store.ledger_size().unwrap(), 0);
    // A store from a newer shush is refused, not rewritten.
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
        .unwrap();
    drop(conn);
    let err = Store::open(location, None).unwrap_err().to_string();
    assert!(err.contains("schema version 3"), "{err}");
}

/// Workers auditing at the same moment: a blob one of them is scanning is left to it and
/// its verdict waited for; a blob held by a claim that died is taken over; what an audit
/// reserved and did not scan is released.
fn reservations(location: &str) {
    let k = key(b"ledger test key one, long enough");
    let open = || Store::open(location, Some(k.id())).unwrap();
    let mut queue = open();
    let urls: Vec<String> = ["a", "b", "c"]
        .iter()
        .map(|n| format!("https://git.example/{n}.git"))
        .collect();
    queue.enqueue(&urls).unwrap();
    let claims: Vec<(i64, i64)> = ["w1", "w2", "w3"]
        .iter()
        .map(|w| {
            let c = queue.claim(w, 300).unwrap().unwrap();
            (c.id, c.attempts)
        })
        .collect();
    let ledger = |claim| {
        let l = StoreLedger::new(open(), k.clone(), "rules=1".into());
        l.set_claim(Some(claim), std::time::Duration::from_secs(5));
        l
    };
    let (a, b, c) = (ledger(claims[0]), ledger(claims[1]), ledger(claims[2]));
    let verdict = |n, findings| ScannedBlob {
        id: oid(n),
        findings,
    };

    // A reserves 1 and 2; B finds them being scanned and reserves 3.
    let by_a = a.known(&[oid(1), oid(2)]);
    assert!(by_a.is_empty() && by_a.elsewhere.is_empty());
    let by_b = b.known(&[oid(1), oid(2), oid(3)]);
    assert!(by_b.is_empty());
    assert_eq!(by_b.elsewhere, [oid(1), oid(2)].into());
    // A's verdicts arrive while B waits.
    let waiting = std::thread::spawn(move || (b.wait(&[oid(1), oid(2)]), b));
    std::thread::sleep(std::time::Duration::from_millis(300));
    a.record(&[verdict(1, true), verdict(2, false)]);
    let (got, b) = waiting.join().unwrap();
    assert_eq!(got.with_findings, [oid(1)].into());
    assert_eq!(got.clean, [oid(2)].into());

    // What A reserved and its pass did not scan (an LFS pointer, say) is given up when A
    // records, not when its audit ends: B does not wait for it, and scans it itself.
    assert!(a.known(&[oid(6)]).elsewhere.is_empty());
    assert!(b.known(&[oid(6)]).elsewhere.contains(&oid(6)));
    a.record(&[]);
    let started = std::time::Instant::now();
    assert!(b.wait(&[oid(6)]).is_empty());
    assert!(started.elapsed() < std::time::Duration::from_secs(4));

    // C reserves 4, then its claim ends (failed): B takes 4 over instead of waiting.
    assert!(c.known(&[oid(4)]).elsewhere.is_empty());
    assert!(b.known(&[oid(4)]).elsewhere.contains(&oid(4)));
    queue
        .end_claim(claims[2].0, "w3", Err("the clone failed"))
        .unwrap();
    let again = b.known(&[oid(4)]);
    assert!(again.is_empty() && again.elsewhere.is_empty());
    // Waiting on a blob no live claim but its own holds returns at once, without a verdict.
    let started = std::time::Instant::now();
    assert!(b.wait(&[oid(4)]).is_empty());
    assert!(started.elapsed() < std::time::Duration::from_secs(4));

    // B ends without scanning 3 and 4: their reservations go, the verdicts stay.
    b.release();
    assert_eq!(open().ledger_size().unwrap(), 2);
    assert!(a.take_error().is_none() && b.take_error().is_none());
}

#[test]
fn workers_at_the_same_moment_scan_each_blob_once_on_sqlite() {
    let dir = Dir::new();
    reservations(dir.join("ledger.db").to_str().unwrap());
}

#[test]
fn workers_at_the_same_moment_scan_each_blob_once_on_postgres() {
    let Some(url) = crate::util::postgres_db("reserve") else {
        return;
    };
    reservations(&url);
}
