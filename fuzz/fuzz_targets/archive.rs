//! Any bytes as an artifact: format sniffing, tar/zip/gzip/bzip2/xz/zstd readers and their
//! nesting, under tight caps. Must never panic, and must stay within the inflation budget.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shush::archive::{Budget, Limits, Walker};
use std::sync::OnceLock;

fn engine() -> &'static shush::Engine {
    static E: OnceLock<shush::Engine> = OnceLock::new();
    E.get_or_init(|| shush::Engine::builtin().expect("built-in rules"))
}

const TOTAL: u64 = 8 << 20;

fuzz_target!(|data: &[u8]| {
    let engine = engine();
    let mut st = engine.new_state();
    let mut buf = Vec::new();
    let budget = Budget::new(Limits {
        max_entry_size: 1 << 20,
        max_total_size: TOTAL,
        max_entries: 10_000,
        max_ratio: 100,
        ..Limits::default()
    });
    let mut w = Walker::new(engine, &mut st, &mut buf, &budget);
    let mut chain = vec!["fuzz".to_string()];
    let _ = w.scan(&mut &data[..], &mut chain, 0);
    assert!(budget.inflated() <= TOTAL + (64 << 10));
    for p in &w.problems {
        assert_eq!(p.chain[0], "fuzz");
    }
});
