//! Git sources: the whole-history audit (`shush git`), incremental ranges for CI and
//! pre-push, and the staged index for pre-commit — all read in-process with `gix`, never a
//! `git` subprocess.
//!
//! # How a full-history audit works
//!
//! 1. **Every blob once, straight from the packs.** Each pack is traversed with gix-pack's
//!    delta-tree algorithm, which decodes every base and delta exactly once, in parallel;
//!    each worker scans the blobs it decodes with its own [`ScanState`](crate::ScanState). An
//!    object also in an earlier pack is skipped (lock-free dedup); loose objects come last,
//!    skipped when packed. No path is known here, so blobs are scanned path-free.
//! 2. **Attribution only for blobs with findings.** The commits reachable from the refs are
//!    ordered oldest first (parents before children, ties by commit date) and each is diffed
//!    against its first parent; identical subtrees are skipped. The first commit whose diff
//!    adds or changes a path to a blob with findings is the one that introduced it. The walk
//!    stops as soon as every such blob is attributed (unless `--all-occurrences`).
//! 3. **Exact semantics per occurrence.** Each attributed blob is rescanned with its real
//!    path and commit, so path and commit allowlists apply exactly as in `shush scan`.
//!
//! Blobs found in the object database but reached by no ref are unreachable: they are
//! reported only with `--all-objects`, attributed through dangling commits when there are
//! some, and flagged `unreachable`.

mod diff;
mod graph;
mod history;
mod ledger;
mod range;

mod odb;
mod oversized;
mod packs;
pub mod prepush;
mod report;
pub mod staged;
pub mod timing;

pub use ledger::{BlobLedger, KnownBlobs, ScannedBlob};
pub use odb::open;
pub use report::{GitOptions, GitReport, GitStats, Scope, audit, audit_into};

use gix::ObjectId;

/// Errors of the git source. Messages name objects and paths, never secret material.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The repository could not be opened.
    #[error("{path}: not a git repository ({message})")]
    Open {
        /// The path given.
        path: String,
        /// Why.
        message: String,
    },
    /// A revision did not resolve.
    #[error("revision `{spec}`: {message}")]
    Revision {
        /// The revision as given.
        spec: String,
        /// Why.
        message: String,
    },
    /// An object could not be read or decoded.
    #[error("object {id}: {message}")]
    Object {
        /// The object id.
        id: ObjectId,
        /// Why.
        message: String,
    },
    /// A pack could not be read.
    #[error("{path}: {message}")]
    Pack {
        /// The pack index path.
        path: String,
        /// Why.
        message: String,
    },
    /// Standard input (pre-push lines) was malformed.
    #[error("pre-push input line {line}: {message}")]
    PrePush {
        /// 1-based line number.
        line: usize,
        /// Why.
        message: String,
    },
    /// A shallow clone lacks history the scan needs.
    #[error(
        "shallow clone: {what} reach past the clone's boundary (commit {boundary}), so the \
         scan would be incomplete. Fetch the whole history: `fetch-depth: 0` for \
         actions/checkout, `GIT_DEPTH: 0` in GitLab CI, or `git fetch --unshallow`; \
         --allow-shallow scans only what the clone has"
    )]
    Shallow {
        /// What needs the missing history (`the history`, `the commits to scan`).
        what: String,
        /// A commit at the shallow boundary.
        boundary: ObjectId,
    },
    /// A revision did not resolve in a shallow clone (most likely cut off by it).
    #[error(
        "revision `{spec}` is not in this shallow clone (its boundary is at commit \
         {boundary}). Fetch the whole history: `fetch-depth: 0` for actions/checkout, \
         `GIT_DEPTH: 0` in GitLab CI, or `git fetch --unshallow`"
    )]
    ShallowRevision {
        /// The revision as given.
        spec: String,
        /// A commit at the shallow boundary.
        boundary: ObjectId,
    },
    /// An I/O error with the path it concerns.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

impl GitError {
    /// This error as a problem of an audit that went on past it, with `note` (what was
    /// skipped: `"; skipped"`) after its message.
    pub(crate) fn problem(&self, note: &str) -> crate::problem::Problem {
        use crate::problem::{Kind, Problem};
        match self {
            GitError::Object { id, message } => {
                Problem::object(id, Kind::Unreadable, format!("{message}{note}"))
            }
            GitError::Pack { path, message } => {
                Problem::path(path, Kind::Unreadable, format!("{message}{note}"))
            }
            other => Problem::run(Kind::Other, format!("{other}{note}")),
        }
    }
}

impl GitError {
    pub(crate) fn object(id: ObjectId, message: impl std::fmt::Display) -> Self {
        GitError::Object {
            id,
            message: message.to_string(),
        }
    }
}

/// Whether `rev` resolves to an object in the repository at (or above) `repo`.
pub fn rev_exists(repo: &std::path::Path, rev: &str) -> bool {
    odb::open(repo).is_ok_and(|r| report::resolve(&r, rev).is_ok())
}

/// Formats a git signature time (seconds since the epoch, offset in seconds) as RFC 3339,
/// in the signer's own offset: `2021-03-04T05:06:07+01:00` (gix's date formatting; a time
/// it cannot convert is shown as seconds since the epoch).
pub fn format_git_time(seconds: i64, offset: i32) -> String {
    gix::date::Time::new(seconds, offset).format_or_unix(gix::date::time::format::ISO8601_STRICT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_times() {
        assert_eq!(format_git_time(0, 0), "1970-01-01T00:00:00+00:00");
        assert_eq!(
            format_git_time(1_614_834_367, 3600),
            "2021-03-04T06:06:07+01:00"
        );
        assert_eq!(
            format_git_time(951_782_400, -5 * 3600 - 1800),
            "2000-02-28T18:30:00-05:30"
        );
    }
}
