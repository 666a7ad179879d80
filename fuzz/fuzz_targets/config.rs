//! Rule files: TOML parsing, `[extend]` resolution, compilation, and a scan with whatever
//! compiled. Any input may be rejected with an error; none may panic, hang or blow up.

#![no_main]

use libfuzzer_sys::fuzz_target;
use shush::engine::{Engine, EngineOptions, InputMeta};
use shush::rules::{LoadedConfig, RuleSet};
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // `[extend] path` resolves against a directory with nothing in it.
    let Ok(loaded) =
        LoadedConfig::from_toml(text, "fuzz.toml", Path::new("/nonexistent-shush-fuzz"))
    else {
        return;
    };
    let Ok(rules) = RuleSet::from_loaded(loaded) else {
        return;
    };
    if rules.validate().is_err() {
        return;
    }
    let Ok(engine) = Engine::new(rules, EngineOptions::default()) else {
        return;
    };
    let mut st = engine.new_state();
    let sample = b"password = \"hunter2hunter2\"\nkey=0123456789abcdef tok_abcdefgh %41%42 dG9rX2FiY2RlZmdo\n";
    let _ = shush::scan::input::scan_bytes(
        &engine,
        &mut st,
        sample,
        InputMeta {
            path: Some("src/app.env"),
            ..Default::default()
        },
    );
    // The rules' own examples, as `shush rules check` runs them.
    let _ = shush::rules::check::check(&engine);
});
