//! The engine through the library API: regression tests for bugs found by the property tests
//! and the CLI suite, each on a minimal input.

mod util;

use shush::engine::{Engine, EngineOptions, InputMeta};
use shush::location::Located;
use shush::rules::{LoadedConfig, RuleSet};
use shush::stream::StreamScanner;

fn fixture_engine() -> Engine {
    let loaded = LoadedConfig::from_path(&util::fixture_rules()).unwrap();
    Engine::new(
        RuleSet::from_loaded(loaded).unwrap(),
        EngineOptions::default(),
    )
    .unwrap()
}

fn whole(engine: &Engine, input: &[u8]) -> Vec<Located> {
    let mut st = engine.new_state();
    shush::scan::input::scan_bytes(engine, &mut st, input, InputMeta::default())
}

fn chunked(engine: &Engine, input: &[u8], chunk: usize) -> Vec<Located> {
    let meta = InputMeta::default();
    let mut st = engine.new_state();
    let mut found = Vec::new();
    let mut scanner = StreamScanner::new(engine, &mut st, &meta, chunk);
    for byte in input.chunks(1) {
        scanner.feed(&mut st, &meta, byte, &mut found);
    }
    scanner.finish(&mut st, &meta, &mut found);
    engine.finalize(&mut found);
    found
}

fn secrets(engine: &Engine, found: &[Located]) -> Vec<(String, String)> {
    found
        .iter()
        .map(|l| {
            (
                engine.rule(l.rule).id.clone(),
                String::from_utf8_lossy(&l.secret).into_owned(),
            )
        })
        .collect()
}

/// Percent-encodes every byte that is not alphanumeric.
fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn a_literal_percent_at_the_end_of_a_decoded_match_does_not_panic() {
    // `%"` is not an escape: the `%` is one source byte, not three.
    let engine = fixture_engine();
    let pw = "yGvn!qPzIw2sRIYNSoB%";
    for input in [
        format!("{}password = \"{pw}\"", percent("\"x\"")),
        format!("password%20%3D%20%22{pw}\""),
        format!("password%20%3D%20%22{pw}\"\n"),
    ] {
        let found = whole(&engine, input.as_bytes());
        for f in &found {
            assert!(f.secret_span.end as usize <= input.len());
        }
        assert_eq!(found, chunked(&engine, input.as_bytes(), 12));
    }
    // The span of a decoded secret ending in a literal `%` stops at that `%`.
    let input = format!("password%20%3D%20%22ab%21cd{pw}\" tail");
    let found = whole(&engine, input.as_bytes());
    assert_eq!(
        secrets(&engine, &found),
        vec![("fixture-password".into(), format!("ab!cd{pw}"))]
    );
    let span = found[0].secret_span.start as usize..found[0].secret_span.end as usize;
    assert_eq!(&input[span], format!("ab%21cd{pw}"));
}
