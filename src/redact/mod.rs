//! Inline redaction for CI logs: `shush redact` (a pipe) and `shush run` (a wrapper).
//!
//! [`Redactor`] is the streaming core: bytes in, redacted bytes out, identical to redacting
//! the whole input at once whatever the chunking, with a line released as soon as its
//! newline arrives (a possible multi-line secret is held until it ends) and memory bounded.
//! [`KnownRegistry`] masks values the pipeline already knows, in their common encodings.
//!
//! ```
//! use shush::Engine;
//! use shush::redact::{Masker, MaskStyle, Plan, RedactOptions, Redactor};
//! let engine = Engine::builtin().unwrap();
//! let plan = Plan::new(&engine);
//! let mut r = Redactor::new(&engine, &plan, RedactOptions::new(Masker::new(MaskStyle::Label)));
//! let mut out = Vec::new();
//! r.push(b"token ghp_", &mut out).unwrap();
//! r.push(b"Ky9Pf34qY6Nb3wWD25RQ4F5ZR3qa7y3gm1IL\nnext", &mut out).unwrap();
//! assert_eq!(out, b"token [REDACTED:github-pat]\n");
//! r.finish(&mut out).unwrap();
//! assert_eq!(out, b"token [REDACTED:github-pat]\nnext");
//! ```

mod core;
mod encodings;
mod gha;
mod index;
mod known;
pub(crate) mod mask;
mod plan;
mod record;

pub use core::{
    HARD_HOLD, Origin, RedactError, RedactOptions, Redaction, Redactor, Stats, redact_all,
};
pub use gha::{add_mask_line, is_line_end};
pub use known::lines as known_lines;
pub use known::{KnownRegistry, KnownSet, KnownValue, MIN_KNOWN_LEN, add_mask_value, forms};
pub use mask::{MaskStyle, Masker};
pub use plan::Plan;
pub use record::RedactionRecord;
