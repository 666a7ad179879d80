//! shush's integration tests, all in one test binary (as ripgrep's `tests/tests.rs`): the crate
//! and its dependencies are linked once instead of once per file. Each module below is one
//! area, and [`util`] holds the helpers they share.
//!
//! `cargo test --test suite` runs them all; `cargo test --test suite cli::` runs one module
//! (any test-name filter works: `cargo test --test suite redteam::known`). Filters match
//! substrings, so `cli::` also runs `redact_cli::`; add `-- --skip redact_cli::` to leave it out.
//!
//! Insta keeps the snapshots in `snapshots/` beside this file, named `suite__<module>__<name>`.
//! Proptest, finding this `main.rs`, keeps regression seeds in `tests/proptest-regressions/`,
//! as `<module>.txt`.

mod archive;
mod chunks;
mod ci;
mod ci_templates;
mod cli;
mod config_compat;
mod corpus;
mod deploy;
mod engine;
mod fingerprints;
mod fleet;
mod fleet_ledger;
mod forge;
mod git;
mod grouped;
mod html_report;
mod image;
mod packaging;
mod postgres_tls;
mod properties;
mod redact;
mod redact_ci;
mod redact_cli;
mod redteam;
mod reports;
mod rules;
mod sarif;
mod snapshots;
mod triage;
mod util;
