//! shush: a streaming secret-leak scanner, as a library.
//!
//! Data flows one way: [`source`]s (a directory walk, standard input, archive members, image
//! layers, git blobs, the staged index) yield inputs with their provenance; one
//! [`engine::Engine`] (shareable across threads, one [`ScanState`] per thread) finds matches
//! with rules that are data ([`rules`], gitleaks-compatible, embedded); each match becomes a
//! [`finding::Finding`] and goes to a [`sink::Sink`] (a report format, a baseline filter, a
//! counter, a `Vec`). The `shush` binary's command line is not part of the library: build
//! with `default-features = false` to leave out clap, tokio, indicatif and anyhow.
//!
//! Scan a directory tree into a vector (any [`sink::Sink`] works the same way):
//!
//! ```
//! use shush::finding::Finding;
//! use shush::scan::{ScanOptions, Stats, scan_paths_into};
//! let engine = shush::Engine::builtin().unwrap();
//! let dir = std::env::temp_dir().join(format!("shush-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! std::fs::write(dir.join("a.txt"), "nothing to see\n").unwrap();
//! let mut found: Vec<Finding> = Vec::new();
//! let outcome = scan_paths_into(&engine, &[dir.clone()], &ScanOptions::default(), &Stats::default(), &mut found);
//! assert!(found.is_empty() && outcome.errors.is_empty());
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

#![warn(missing_docs)]

pub mod baseline;
pub mod checksum;
pub mod ci;
pub mod engine;
pub mod error;
pub mod finding;
pub mod fingerprint;
pub mod location;
pub mod problem;
pub mod redact;
pub mod remediation;
pub mod rules;
pub mod sink;
pub mod source;
pub mod store;
pub mod threads;

pub use sink::report;
pub use source::{archive, git, image, scan, stream};

pub use engine::{Engine, EngineOptions, InputMeta, Match, ScanState};
pub use error::{Error, Result};
