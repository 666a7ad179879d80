//! Blobs scanned before: a fleet's repositories (forks, mirrors, vendored copies) share most
//! of their blobs, and a blob's path-free scan gives the same answer wherever it is met
//! under the same rules. An audit given a [`BlobLedger`] asks it, before scanning, which
//! blobs were already scanned and whether they had findings; it scans only the others, and
//! attributes the known blobs with findings (diffing this repository's history for their
//! commits and paths) like blobs it found itself. Those few are then read again at each
//! place, as every blob with findings is, so that path and commit allowlists apply exactly.
//! The blobs it did scan go to the ledger as soon as its blob pass ends, before the slower
//! attribution, so that workers auditing other repositories at that moment find them.

use gix::ObjectId;
use std::collections::HashSet;

/// Where an audit learns which blobs were scanned before under the same rules (a fleet's
/// store, keyed so that it cannot confirm a guessed file; see `shush fleet`).
pub trait BlobLedger: Send + Sync + std::fmt::Debug {
    /// Of `ids` (any objects of the repository, most of them not blobs), the blobs scanned
    /// before. A ledger that cannot answer answers "none": the audit then scans everything,
    /// which costs time and never a finding.
    fn known(&self, ids: &[ObjectId]) -> KnownBlobs;

    /// Waits for the verdicts of `ids`, which [`BlobLedger::known`] said are being scanned
    /// elsewhere, as long as that goes on; returns those it got. The audit scans the rest
    /// itself. A ledger that never answers `elsewhere` need not wait.
    fn wait(&self, ids: &[ObjectId]) -> KnownBlobs {
        let _ = ids;
        KnownBlobs::default()
    }

    /// Keeps the verdicts of the blobs an audit scanned (not those it took from the ledger),
    /// called once its pass is over: a ledger that reserves blobs also gives up then the
    /// ones the pass did not scan, so that no one waits for them. A ledger that cannot keep
    /// the verdicts says so its own way: the audit's results stand.
    fn record(&self, scanned: &[ScannedBlob]);
}

/// Blobs a ledger knows, by what their scan found.
#[derive(Debug, Default, Clone)]
pub struct KnownBlobs {
    /// Scanned before: no findings.
    pub clean: HashSet<ObjectId>,
    /// Scanned before: at least one finding.
    pub with_findings: HashSet<ObjectId>,
    /// Being scanned by another audit at this moment: its verdict is waited for
    /// ([`BlobLedger::wait`]) after this audit's own pass.
    pub elsewhere: HashSet<ObjectId>,
}

impl KnownBlobs {
    /// Whether `id` was scanned before (`Some`), and whether it had findings.
    pub fn verdict(&self, id: &gix::oid) -> Option<bool> {
        if self.with_findings.contains(id) {
            Some(true)
        } else if self.clean.contains(id) {
            Some(false)
        } else {
            None
        }
    }

    /// How many blobs it knows a verdict of.
    pub fn len(&self) -> usize {
        self.clean.len() + self.with_findings.len()
    }

    /// Whether it knows none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A blob an audit scanned (not one it took from the ledger), for the ledger to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ScannedBlob {
    /// The blob.
    pub id: ObjectId,
    /// Whether its path-free scan found anything.
    pub findings: bool,
}
