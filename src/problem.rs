//! What a run could not do (errors: the exit code is 2, a gate must not pass) or should say
//! (warnings), as structured values: what it concerns, what kind of failure, and a message.
//! Every source reports through this one type, so that a report, a CI annotation or an
//! embedder can tell a missing git object from a truncated archive member without parsing
//! text. Messages never contain secret material.

use std::fmt;

/// Where the names of an archive chain are joined for display (`image.tar!layer!etc/app.env`).
pub const CHAIN_SEPARATOR: &str = "!";

/// What a problem concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Subject {
    /// A file or directory, by the path reports show.
    Path(String),
    /// Standard input.
    Stdin,
    /// An archive or image and what is inside it: the chain of names, outermost first.
    Member(Vec<String>),
    /// A git blob, and the path it was met at when known.
    Blob {
        /// The object id (hex).
        id: String,
        /// The path in the tree that names it.
        path: Option<String>,
    },
    /// Another git object (a commit, a tree, a tag), by id.
    Object(String),
    /// A git reference (`refs/heads/main`, `refs/stash`).
    Ref(String),
    /// The run as a whole (reading refs, loading the commit graph, a worker thread).
    Run,
}

/// What kind of failure a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// Could not be read (an I/O error, a permission).
    Unreadable,
    /// Over a size, count or depth cap: not scanned, or only in part.
    OverCap,
    /// Named but absent (a git object, an image layer).
    Missing,
    /// Corrupt or malformed (a bad checksum, truncation, a digest that does not match).
    Corrupt,
    /// A format or feature shush does not open (encryption, a self-extracting stub).
    Unsupported,
    /// Skipped on purpose and said so (with `--skip-unreadable`, or a note).
    Skipped,
    /// Anything else.
    Other,
}

/// One problem: what, which kind, and a message (without the subject).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What it concerns.
    pub subject: Subject,
    /// Which kind of failure.
    pub kind: Kind,
    /// What went wrong, without the subject's name.
    pub message: String,
}

impl Problem {
    /// A problem about `subject`.
    pub fn new(subject: Subject, kind: Kind, message: impl Into<String>) -> Self {
        Problem {
            subject,
            kind,
            message: message.into(),
        }
    }

    /// A problem about a file or directory.
    pub fn path(path: impl Into<String>, kind: Kind, message: impl Into<String>) -> Self {
        Problem::new(Subject::Path(path.into()), kind, message)
    }

    /// A problem about an archive member (or the archive, for a chain of one).
    pub fn member(chain: Vec<String>, kind: Kind, message: impl Into<String>) -> Self {
        Problem::new(Subject::Member(chain), kind, message)
    }

    /// A problem about a git blob, met at `path` when known.
    pub fn blob(id: impl fmt::Display, path: Option<String>, kind: Kind, msg: String) -> Self {
        let id = id.to_string();
        Problem::new(Subject::Blob { id, path }, kind, msg)
    }

    /// A problem about a git object other than a blob.
    pub fn object(id: impl fmt::Display, kind: Kind, message: impl Into<String>) -> Self {
        Problem::new(Subject::Object(id.to_string()), kind, message)
    }

    /// A problem about the run as a whole.
    pub fn run(kind: Kind, message: impl Into<String>) -> Self {
        Problem::new(Subject::Run, kind, message)
    }

    /// The kind of an I/O error: corrupt data, an unsupported format, a missing file, or
    /// unreadable.
    pub fn kind_of(e: &std::io::Error) -> Kind {
        match e.kind() {
            std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof => Kind::Corrupt,
            std::io::ErrorKind::Unsupported => Kind::Unsupported,
            std::io::ErrorKind::NotFound => Kind::Missing,
            _ => Kind::Unreadable,
        }
    }

    /// The same problem, skipped on purpose (`--skip-unreadable`): a warning that says so.
    pub fn skipped(mut self) -> Self {
        self.message.push_str(" (skipped: --skip-unreadable)");
        self
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Path(p) => f.write_str(p),
            Subject::Stdin => f.write_str("<stdin>"),
            Subject::Member(chain) => f.write_str(&chain.join(CHAIN_SEPARATOR)),
            Subject::Blob { id, path: Some(p) } => write!(f, "{p} (blob {id})"),
            Subject::Blob { id, path: None } => write!(f, "blob {id}"),
            Subject::Object(id) => write!(f, "object {id}"),
            Subject::Ref(name) => write!(f, "ref {name}"),
            Subject::Run => Ok(()),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.subject {
            Subject::Run => f.write_str(&self.message),
            _ => write!(f, "{}: {}", self.subject, self.message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_subject_then_the_message() {
        let cases = [
            (
                Problem::path("a/b.txt", Kind::Unreadable, "denied"),
                "a/b.txt: denied",
            ),
            (
                Problem::new(Subject::Stdin, Kind::Corrupt, "bad"),
                "<stdin>: bad",
            ),
            (
                Problem::member(vec!["x.zip".into(), "in.tar".into()], Kind::OverCap, "cap"),
                "x.zip!in.tar: cap",
            ),
            (
                Problem::blob("ab12", Some("f.txt".into()), Kind::OverCap, "big".into()),
                "f.txt (blob ab12): big",
            ),
            (
                Problem::blob("ab12", None, Kind::Missing, "gone".into()),
                "blob ab12: gone",
            ),
            (
                Problem::object("cd34", Kind::Corrupt, "bad"),
                "object cd34: bad",
            ),
            (
                Problem::new(Subject::Ref("refs/stash".into()), Kind::Missing, "gone"),
                "ref refs/stash: gone",
            ),
            (
                Problem::run(Kind::Other, "reading refs: x"),
                "reading refs: x",
            ),
        ];
        for (p, want) in cases {
            assert_eq!(p.to_string(), want);
        }
    }

    #[test]
    fn io_errors_map_to_kinds() {
        use std::io::{Error, ErrorKind};
        assert_eq!(
            Problem::kind_of(&Error::from(ErrorKind::InvalidData)),
            Kind::Corrupt
        );
        assert_eq!(
            Problem::kind_of(&Error::from(ErrorKind::NotFound)),
            Kind::Missing
        );
        assert_eq!(
            Problem::kind_of(&Error::from(ErrorKind::PermissionDenied)),
            Kind::Unreadable
        );
    }

    #[test]
    fn skipped_says_why() {
        let p = Problem::path("a", Kind::OverCap, "too big").skipped();
        assert_eq!(p.to_string(), "a: too big (skipped: --skip-unreadable)");
    }
}
