//! CI integration: which CI a job runs in and what its event asks to scan ([`event`]), and
//! each CI's own report formats ([`github`], [`gitlab`]). `shush ci` (in the binary) puts them
//! together over the git history audit.

pub mod event;
pub mod github;
pub mod gitlab;

pub use event::{CiError, Plan, Provider, Target, Vars};
