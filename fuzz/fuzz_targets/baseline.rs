//! Baseline reports (`--baseline`): JSON, JSON Lines or SARIF text of any shape is accepted
//! or refused with an error, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(baseline) = shush::baseline::Baseline::parse(&text) {
        assert!(baseline.len() <= text.len());
    }
});
