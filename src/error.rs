//! The library's error type.
//!
//! [`Error`] gathers the typed errors of the library's parts: [`RegexError`] (rule and
//! allowlist regexes), [`ExprError`] (Betterleaks Expr filters), [`BaselineError`],
//! [`KnownValueError`], [`KeywordError`] (the engine's keyword automaton), [`GitError`] and
//! [`RedactError`]. None of them ever holds secret material in its message: an error about
//! a regex or a filter names the rule or field, the problem and where, never the pattern
//! or a literal; a baseline error names the file and line, never its text.
//!
//! Where a variant adds context to an inner error (``rule `x`: bad regex: …``), its message
//! includes the inner error's and the inner error is a field of the variant rather than
//! its [`source`](std::error::Error::source), so that a report printing the whole chain
//! does not say it twice.

pub use crate::baseline::BaselineError;
pub use crate::engine::KeywordError;
pub use crate::git::GitError;
pub use crate::redact::RedactError;
pub use crate::rules::RegexError;
pub use crate::rules::expr::ExprError;
use std::path::PathBuf;

/// Everything the shush library can fail with. Messages never contain secret material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
    /// A regex of a rule (its `regex`, `path`, `follow` gate or an allowlist's) does not
    /// parse or compile.
    #[error("rule `{id}`: {what}: {error}")]
    RuleRegex {
        /// The rule id.
        id: String,
        /// Which regex, and what failed (e.g. `bad regex`, `path regex does not compile`).
        what: String,
        /// What is wrong with it (never the pattern text).
        error: RegexError,
    },
    /// A regex outside any rule (a global allowlist's) does not compile.
    #[error("{origin}: {what}: {error}")]
    ConfigRegex {
        /// Where the configuration came from (a path, or `built-in`).
        origin: String,
        /// Which regex, and what failed.
        what: String,
        /// What is wrong with it (never the pattern text).
        error: RegexError,
    },
    /// The engine's keyword automaton could not be built.
    #[error("{origin}: keyword automaton: {error}")]
    Keywords {
        /// Where the rules came from.
        origin: String,
        /// What failed.
        error: KeywordError,
    },
    /// A regex given on its own (not a rule's: see [`Error::RuleRegex`]) is invalid.
    #[error(transparent)]
    Regex(#[from] RegexError),
    /// A Betterleaks Expr filter is not supported. (Loading rules reports unsupported
    /// filters as warnings; this is for a caller that parses one itself.)
    #[error(transparent)]
    Expr(#[from] ExprError),
    /// A baseline could not be loaded.
    #[error(transparent)]
    Baseline(#[from] BaselineError),
    /// A known value cannot be masked.
    #[error(transparent)]
    KnownValue(#[from] KnownValueError),
    /// The git source failed.
    #[error(transparent)]
    Git(#[from] GitError),
    /// The redactor failed.
    #[error(transparent)]
    Redact(#[from] RedactError),
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

/// Why a known value (see [`KnownValue`](crate::redact::KnownValue)) is not masked. The
/// message names where the value came from, never the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KnownValueError {
    /// The value is empty.
    #[error("not masking {origin}: the value is empty")]
    Empty {
        /// Where the value came from, e.g. `env:GITHUB_TOKEN`.
        origin: String,
    },
    /// The value is too short to mask without masking ordinary text too.
    #[error(
        "not masking {origin}: the value is too short to mask safely ({len} bytes; at least \
         {min} needed)"
    )]
    TooShort {
        /// Where the value came from, e.g. `env:GITHUB_TOKEN`.
        origin: String,
        /// The length of the value's longest line, in bytes.
        len: usize,
        /// The shortest length masked.
        min: usize,
    },
}

/// Result alias for the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Whether `err` is a write to a pipe whose reader has gone (`EPIPE`): the end of a pipeline
/// such as `shush scan | head`, not a failure of the scan.
pub fn is_broken_pipe(err: &std::io::Error) -> bool {
    err.kind() == std::io::ErrorKind::BrokenPipe
}
