//! shush: a streaming secret-leak scanner.
//!
//! One engine ([`engine::Engine`]) serves every job: scanning files and directories, redacting
//! CI logs inline, gating artifacts and auditing git history. Rules are data ([`rules`]),
//! gitleaks-compatible, embedded in the binary.
//!
//! ```
//! use shush::{Engine, InputMeta};
//! let engine = Engine::builtin().unwrap();
//! let mut state = engine.new_state();
//! let found = shush::scan::input::scan_bytes(&engine, &mut state, b"nothing to see", InputMeta::default());
//! assert!(found.is_empty());
//! ```

#![warn(missing_docs)]

pub mod baseline;
pub mod checksum;
pub mod ci;
pub mod engine;
pub mod error;
pub mod finding;
pub mod location;
pub mod redact;
pub mod rules;
pub mod sink;
pub mod source;
pub mod threads;

pub use sink::report;
pub use source::{archive, git, image, scan, stream};

pub use engine::{Engine, EngineOptions, InputMeta, Match, ScanState};
pub use error::{Error, Result};
