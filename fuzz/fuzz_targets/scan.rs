//! The engine on arbitrary bytes, with the built-in rules: no panic, and (differentially) a
//! chunked scan with a fuzzer-chosen chunk size finds exactly what a whole-input scan finds.

#![no_main]

use libfuzzer_sys::fuzz_target;
use shush::engine::{Engine, InputMeta};
use shush::stream::StreamScanner;
use std::sync::OnceLock;

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| Engine::builtin().expect("built-in rules compile"))
}

fuzz_target!(|data: &[u8]| {
    // The first two bytes pick the chunk size and the feed size; the rest is the input.
    let (chunk, feed, input) = match data {
        [a, b, rest @ ..] => (usize::from(*a) * 7 + 1, usize::from(*b) * 13 + 1, rest),
        _ => (1, 1, data),
    };
    let engine = engine();
    let meta = InputMeta {
        path: Some("fuzz/input.txt"),
        binary: shush::scan::input::looks_binary(input),
        ..Default::default()
    };

    let mut st = engine.new_state();
    let mut whole = shush::stream::scan_slice(engine, &mut st, input, &meta);
    engine.finalize(&mut whole);
    for f in &whole {
        assert!(f.secret_span.end as usize <= input.len());
        let _ = shush::finding::Finding::new(engine, f, "p", shush::finding::Source::Stdin, false);
    }

    let mut chunked = Vec::new();
    let mut scanner = StreamScanner::new(engine, &mut st, &meta, chunk);
    for piece in input.chunks(feed) {
        scanner.feed(&mut st, &meta, piece, &mut chunked);
    }
    scanner.finish(&mut st, &meta, &mut chunked);
    engine.finalize(&mut chunked);
    assert_eq!(whole, chunked, "chunk {chunk}, feed {feed}");
});
