//! The red team: real CI tool output with secrets planted in it, and clean logs that must
//! stay clean. Each category of the redaction issue has a module of generated cases; every
//! case is checked by [`harness::check`]: redaction masks every planted secret (whole input
//! and chunked alike), keeps the text around it, and — where the scanner had the same gap —
//! `shush scan` reports it.
//!
//! `cargo test --test suite redteam::` runs it all; a failure lists every problem of every case.

use crate::util;

mod assignments;
mod boundaries;
mod clean;
mod commands;
mod harness;
mod keys;
mod known;

#[test]
fn a_realistic_ci_log_stays_clean() {
    harness::check_clean("realistic CI log (5 MB)", &clean::realistic(1, 5 << 20));
}

#[test]
fn a_tricky_log_stays_clean() {
    harness::check_clean("tricky log (2 MB)", &clean::tricky(2, 2 << 20));
}

#[test]
#[should_panic(expected = "a clean log was changed")]
fn the_clean_check_fails_on_a_leak() {
    let mut log = clean::realistic(3, 64 << 10);
    log.extend_from_slice(format!("token: {}\n", util::ghp(5)).as_bytes());
    harness::check_clean("realistic with a token", &log);
}
