//! The library's error type.

use std::path::PathBuf;

/// Everything the shush library can fail with. Messages never contain secret material.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A rule configuration file is malformed.
    #[error("{origin}: {message}")]
    Config {
        /// Where the configuration came from (a path, or `built-in`).
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// One rule is invalid.
    #[error("rule `{id}`: {message}")]
    Rule {
        /// The rule id.
        id: String,
        /// What is wrong.
        message: String,
    },
    /// An input could not be scanned.
    #[error("{origin}: {message}")]
    Input {
        /// The input (path, archive chain, blob id…).
        origin: String,
        /// What is wrong.
        message: String,
    },
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result alias for the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Whether `err` is a write to a pipe whose reader has gone (`EPIPE`): the end of a pipeline
/// such as `shush scan | head`, not a failure of the scan.
pub fn is_broken_pipe(err: &std::io::Error) -> bool {
    err.kind() == std::io::ErrorKind::BrokenPipe
}
