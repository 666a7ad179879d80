//! The binary's side of shush: the command line (clap), the wiring of each command from the
//! library's sources, engine and sinks, progress on a terminal, and exit codes. Nothing in the
//! library imports this module.

pub mod app;
pub mod ci;
pub mod cli;
pub mod docs;
pub mod fleet;
pub mod forge;
pub mod git;
pub mod hook;
pub mod image;
pub mod progress;
pub mod redact;
pub mod triage;

pub use app::{EXIT_CLEAN, EXIT_ERROR, is_broken_pipe, run};
