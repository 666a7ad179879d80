//! The engine through the library API: regression tests for bugs found by the property tests
//! and the CLI suite, each on a minimal input.

use crate::util;
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

#[test]
fn every_secret_in_one_base64_run_is_found() {
    // A base64-encoded env file with several tokens: the run decoded around the first
    // encoded keyword used to swallow the keywords of the next ones, which were then skipped.
    let engine = Engine::builtin().unwrap();
    let tokens: Vec<String> = (0..4).map(util::ghp).collect();
    let env: String = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| format!("TOKEN_{i}={t}\n"))
        .collect();
    let input = util::base64(env);
    let found: Vec<_> = secrets(&engine, &whole(&engine, input.as_bytes()))
        .into_iter()
        .filter(|(rule, _)| rule == "github-pat")
        .map(|(_, s)| s)
        .collect();
    assert_eq!(found, tokens);
}

#[test]
fn a_literal_percent_at_the_end_of_a_decoded_match_does_not_panic() {
    // `%"` is not an escape: the `%` is one source byte, not three.
    let engine = fixture_engine();
    let pw = "yGvn!qPzIw2sRIYNSoB%";
    for input in [
        format!("{}password = \"{pw}\"", util::percent("\"x\"")),
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

#[test]
fn percent_escapes_after_a_chunk_boundary_are_still_decoded() {
    // The match starts in one chunk; all its escapes are in the next one.
    let engine = fixture_engine();
    let pw = util::password(3);
    let input = format!(
        "{}\npassword%20%3D%20%22{}%22\n{}",
        "x".repeat(60),
        util::percent(&pw),
        "y".repeat(300)
    );
    let want = whole(&engine, input.as_bytes());
    assert_eq!(
        secrets(&engine, &want),
        vec![("fixture-password".into(), pw.clone())]
    );
    for chunk in [1, 2, 5, 9, 10, 11, 64, 1000] {
        assert_eq!(
            chunked(&engine, input.as_bytes(), chunk),
            want,
            "chunk {chunk}"
        );
    }
}

#[test]
fn decoded_matches_starting_before_a_chunk_boundary_are_found_once() {
    let engine = fixture_engine();
    let pw = util::password(4);
    let encoded = util::base64(format!("password = \"{pw}\""));
    let input = format!("{}\n{encoded}\n{}", "a".repeat(40), "b".repeat(400));
    let want = whole(&engine, input.as_bytes());
    assert_eq!(
        secrets(&engine, &want),
        vec![("fixture-password".into(), pw.clone())]
    );
    for chunk in 1..=80 {
        assert_eq!(
            chunked(&engine, input.as_bytes(), chunk),
            want,
            "chunk {chunk}"
        );
    }
}

#[test]
fn a_percent_encoded_match_is_reported_only_around_its_own_keyword() {
    // The token's keyword is itself encoded (`fxt%5F`), so no window of its rule holds it;
    // it used to be reported only when another rule's keyword happened to be near, which
    // made the result depend on chunking.
    let engine = fixture_engine();
    let input = format!(
        "password = \"{}\" FXT%5FTOKEN%3D{}",
        util::password(1),
        util::fxt(1).replace('_', "%5F")
    );
    let want = whole(&engine, input.as_bytes());
    assert_eq!(
        secrets(&engine, &want),
        vec![("fixture-password".into(), util::password(1))]
    );
    for chunk in [1, 7, 30, 31, 32, 33, 1000] {
        assert_eq!(chunked(&engine, input.as_bytes(), chunk), want);
    }
}

#[test]
fn base64_runs_are_decoded_the_same_whatever_the_chunking() {
    // A long base64 run with secrets spread through it, around several chunk boundaries.
    let engine = fixture_engine();
    let mut plain = String::new();
    for i in 0..6 {
        plain.push_str(&format!(
            "{} t={} password = \"{}\"\n",
            "z".repeat(i * 17),
            util::fxt(i as u64),
            util::password(i as u64)
        ));
    }
    let input = format!("data: {}\n", util::base64(&plain));
    let want = whole(&engine, input.as_bytes());
    assert_eq!(want.len(), 12, "{:?}", secrets(&engine, &want));
    for chunk in [1, 3, 17, 64, 100, 333, 4096] {
        assert_eq!(
            chunked(&engine, input.as_bytes(), chunk),
            want,
            "chunk {chunk}"
        );
    }
}

#[test]
fn base64_inside_base64_is_found_with_decode_depth_2() {
    // A Kubernetes secret holding a Docker config, whose `auth` is base64 of user:token.
    let tok = util::ghp(9);
    let auth = util::base64(format!("ci-bot:{tok}"));
    let docker = format!(r#"{{"auths":{{"registry.example":{{"auth":"{auth}"}}}}}}"#);
    let secret = format!(
        "apiVersion: v1\nkind: Secret\ndata:\n  .dockerconfigjson: {}\n",
        util::base64(docker)
    );
    let engine = |depth| {
        Engine::new(
            RuleSet::builtin().unwrap(),
            EngineOptions {
                decode_depth: depth,
                inline_allow: true,
            },
        )
        .unwrap()
    };
    let found = |depth| -> Vec<String> {
        let e = engine(depth);
        secrets(&e, &whole(&e, secret.as_bytes()))
            .into_iter()
            .filter(|(rule, _)| rule == "github-pat")
            .map(|(_, s)| s)
            .collect()
    };
    assert_eq!(found(1), Vec::<String>::new());
    assert_eq!(found(2), vec![tok.clone()]);
    assert_eq!(found(3), vec![tok]);
    let e = engine(2);
    let located = whole(&e, secret.as_bytes());
    let token = located
        .iter()
        .find(|l| e.rule(l.rule).id == "github-pat")
        .expect("the token is found");
    assert_eq!(
        token.decoded,
        vec![
            shush::engine::Encoding::Base64,
            shush::engine::Encoding::Base64
        ]
    );
    for chunk in [1, 50, 99, 1000] {
        assert_eq!(
            chunked(&e, secret.as_bytes(), chunk),
            located,
            "chunk {chunk}"
        );
    }
}

fn engine_from(toml: &str) -> Engine {
    engine_with(toml, EngineOptions::default())
}

fn engine_with(toml: &str, options: EngineOptions) -> Engine {
    let loaded = LoadedConfig::from_toml(toml, "inline.toml", std::path::Path::new(".")).unwrap();
    let rules = RuleSet::from_loaded(loaded).unwrap();
    rules.validate().unwrap();
    Engine::new(rules, options).unwrap()
}

#[test]
fn one_secret_yields_one_finding_from_the_most_specific_rule() {
    let engine = engine_from(
        r#"
[[rules]]
id = "generic-token"
regex = '''(?i)token[ \t]{0,3}[:=][ \t]{0,3}([a-z0-9_]{20,40})\b'''
keywords = ["token"]
tags = ["generic"]
confidence = "high"

[[rules]]
id = "fxt-medium"
regex = '''\b(fxt_[0-9A-Za-z]{24})\b'''
keywords = ["fxt_"]
confidence = "medium"

[[rules]]
id = "fxt-high"
regex = '''\b(fxt_[0-9A-Za-z]{24})\b'''
keywords = ["fxt_"]
confidence = "high"

[[rules]]
id = "fxt-suffix"
regex = '''fxt_[0-9A-Za-z]{4}([0-9A-Za-z]{20})\b'''
keywords = ["fxt_"]
confidence = "low"
"#,
    );
    let tok = util::fxt(1);
    let found = whole(&engine, format!("token = {tok}\n").as_bytes());
    // Same span: the highest confidence wins over rule order. A generic rule yields to the
    // specific one whose secret it overlaps; a different (inner) span of a specific rule
    // is its own finding.
    assert_eq!(
        secrets(&engine, &found),
        vec![
            ("fxt-high".into(), tok.clone()),
            ("fxt-suffix".into(), tok[8..].to_string())
        ]
    );
    // Alone, the generic rule reports.
    let found = whole(&engine, b"token = abcdefghij0123456789xyz\n");
    assert_eq!(
        secrets(&engine, &found),
        vec![("generic-token".into(), "abcdefghij0123456789xyz".into())]
    );
}

#[test]
fn an_allow_marker_far_along_the_line_applies_whatever_the_chunking() {
    // Long minified lines: the marker is thousands of bytes from the secret, further than
    // the rules' own match lengths.
    let engine = fixture_engine();
    for (before, after) in [(3000, 0), (0, 3000), (4000, 50)] {
        let line = format!(
            "{}{}x = {} {}{}\n",
            if before > 0 { "/* shush:allow */ " } else { "" },
            ".".repeat(before),
            util::fxt(5),
            ".".repeat(after),
            if after > 0 { " // gitleaks:allow" } else { "" },
        );
        let input = format!("first line\n{line}last line {}\n", util::fxt(6));
        let want = whole(&engine, input.as_bytes());
        assert_eq!(
            secrets(&engine, &want),
            vec![("fixture-token".into(), util::fxt(6))]
        );
        for chunk in [1, 100, 1000, 2999, 3100] {
            assert_eq!(
                chunked(&engine, input.as_bytes(), chunk),
                want,
                "chunk {chunk}"
            );
        }
    }
}

#[test]
fn an_encoded_keyword_far_after_its_match_start_is_found_whatever_the_chunking() {
    // The match belongs to the chunk where it starts; its encoded keyword is thousands of
    // bytes further on, past that chunk, so the prefilter and the decoded run must reach
    // that far (4/3 of the match per base64 level).
    let engine = engine_with(
        r#"
[[rules]]
id = "wide-tail"
regex = '''\b(wtok_[a-z0-9]{16})[.]{0,3000}:widetail'''
keywords = [":widetail"]
"#,
        EngineOptions {
            decode_depth: 2,
            inline_allow: true,
        },
    );
    let tok = format!(
        "wtok_{}",
        util::Rng::new(1).string(b"abcdefghijklmnopqrstuvwxyz0123456789", 16)
    );
    let plain = format!("{tok}{}:widetail", ".".repeat(2990));
    for (encoded, levels) in [
        (util::base64(&plain), 1),
        (util::base64(util::base64(&plain)), 2),
    ] {
        let input = format!("{}\n{encoded}\n{}", "a".repeat(5000), "b".repeat(20000));
        let want = whole(&engine, input.as_bytes());
        assert_eq!(
            secrets(&engine, &want),
            vec![("wide-tail".into(), tok.clone())]
        );
        assert_eq!(want[0].decoded.len(), levels);
        // Chunk boundaries at, just after and well after the match start (offset 5001).
        for chunk in [1, 2, 3, 7, 64, 5001, 5002, 5003, 5010, 6000] {
            assert_eq!(
                chunked(&engine, input.as_bytes(), chunk),
                want,
                "chunk {chunk}, {levels} level(s)"
            );
        }
    }
}

#[test]
fn a_percent_encoded_match_needs_a_plain_keyword_of_its_own() {
    // The keyword of the second match is itself encoded (`widekey%3A`); it lies in the
    // window of the first match's keyword, which used to be enough to report it, but only
    // when both were in the same chunk.
    let engine = engine_from(
        r#"
[[rules]]
id = "kv"
regex = '''key:[ ]{0,40}"([a-z0-9!]{8,16})"'''
keywords = ["key:"]
"#,
    );
    let input = "key: \"abcdef12!\" key%3A%20%22zyxwvu98%21%22 key:%20%22mnopqr76%21%22\n";
    let want = whole(&engine, input.as_bytes());
    assert_eq!(
        secrets(&engine, &want),
        vec![
            ("kv".into(), "abcdef12!".into()),
            ("kv".into(), "mnopqr76!".into())
        ]
    );
    for chunk in 1..=70 {
        assert_eq!(
            chunked(&engine, input.as_bytes(), chunk),
            want,
            "chunk {chunk}"
        );
    }
}

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
}

#[test]
fn utf16le_text_is_read_through_the_same_whatever_the_chunking() {
    // PowerShell output: a byte order mark, then UTF-16LE lines with secrets spread through.
    let engine = Engine::builtin().unwrap();
    let mut text = String::from("PS C:\\build> .\\deploy.ps1\r\n");
    let mut planted = Vec::new();
    for i in 0..5 {
        let token = util::ghp(900 + i);
        text.push_str(&format!(
            "{} GITHUB_TOKEN={token}\r\n",
            "x".repeat(i as usize * 13)
        ));
        planted.push(token);
    }
    let mut input = vec![0xff, 0xfe];
    input.extend(utf16le(&text));
    let want = whole(&engine, &input);
    let got: Vec<String> = want
        .iter()
        .map(|l| String::from_utf8_lossy(&l.secret).into_owned())
        .collect();
    assert_eq!(got, planted, "{:?}", secrets(&engine, &want));
    for l in &want {
        // Reported at the UTF-16LE bytes, decoded as such.
        let wide = utf16le(std::str::from_utf8(&l.secret).unwrap());
        let span = l.secret_span.start as usize..l.secret_span.end as usize;
        assert_eq!(&input[span], &wide[..]);
        assert_eq!(l.decoded, vec![shush::engine::Encoding::Utf16le]);
    }
    for chunk in [1, 2, 3, 17, 64, 101, 4096] {
        assert_eq!(chunked(&engine, &input, chunk), want, "chunk {chunk}");
    }
}

#[test]
fn short_wide_pairs_in_binary_look_like_nothing() {
    // `A\0` pairs shorter than a run, and NUL-heavy bytes: no finding, no panic.
    let engine = Engine::builtin().unwrap();
    let mut input = Vec::new();
    for i in 0..2000u32 {
        input.extend_from_slice(&[b'A' + (i % 26) as u8, 0, 0, 0, (i % 251) as u8, 0]);
    }
    assert!(whole(&engine, &input).is_empty());
}
