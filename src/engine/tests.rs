//! Engine unit tests over a fixed test rule set (independent of the built-in rules).

use super::*;
use crate::location::Located;
use crate::rules::LoadedConfig;
use crate::stream::{StreamScanner, scan_slice};
use base64::Engine as _;
use std::path::Path;

const RULES: &str = r#"
[[rules]]
id = "tok"
description = "test token"
regex = '''\b(tok_[a-z0-9]{12})\b'''
keywords = ["tok_"]
tags = ["t"]

[[rules]]
id = "ctx"
description = "context secret"
regex = '''(?i)[a-z_]{0,10}passw(?:or)?d[ \t]{0,2}=[ \t]{0,2}"([^"\s]{6,32})"'''
keywords = ["passwd", "password"]
entropy = 2.0
tags = ["t"]

[[rules]]
id = "generic"
description = "generic value"
regex = '''(?i)value[ \t]{0,2}=[ \t]{0,2}([a-z0-9_]{8,40})'''
keywords = ["value"]
tags = ["generic"]

[[rules]]
id = "pem"
description = "test key block"
regex = '''-----BEGIN TEST KEY-----[\s\S]{8,512}?-----END TEST KEY-----'''
keywords = ["-----begin test key-----"]
tags = ["multiline"]

[[rules]]
id = "scoped"
description = "only in .cfg files"
regex = '''scoped_[0-9]{6}'''
keywords = ["scoped_"]
path = '''\.cfg$'''
tags = ["t"]

[[rules]]
id = "allowed"
description = "with allowlists"
regex = '''alw_([a-z]{8})'''
keywords = ["alw_"]
tags = ["t"]
[[rules.allowlists]]
stopwords = ["dummy"]
[[rules.allowlists]]
regexTarget = "line"
regexes = ['''^#''']
"#;

fn engine_with(opts: EngineOptions) -> Engine {
    let loaded = LoadedConfig::from_toml(RULES, "test.toml", Path::new(".")).unwrap();
    let rules = RuleSet::from_loaded(loaded).unwrap();
    rules.validate().unwrap();
    Engine::new(rules, opts).unwrap()
}

fn engine() -> Engine {
    engine_with(EngineOptions::default())
}

fn ids(engine: &Engine, found: &[Located]) -> Vec<(String, String)> {
    found
        .iter()
        .map(|f| {
            (
                engine.rule(f.rule).id.clone(),
                String::from_utf8_lossy(&f.secret).into_owned(),
            )
        })
        .collect()
}

fn scan(engine: &Engine, text: &[u8]) -> Vec<Located> {
    let mut st = engine.new_state();
    let mut found = scan_slice(engine, &mut st, text, &InputMeta::default());
    engine.finalize(&mut found);
    found
}

fn scan_chunked(engine: &Engine, text: &[u8], chunk: usize, feed: usize) -> Vec<Located> {
    let mut st = engine.new_state();
    let meta = InputMeta::default();
    let mut found = Vec::new();
    let mut s = StreamScanner::new(engine, &mut st, &meta, chunk);
    for piece in text.chunks(feed.max(1)) {
        s.feed(&mut st, &meta, piece, &mut found);
    }
    s.finish(&mut st, &meta, &mut found);
    engine.finalize(&mut found);
    found
}

#[test]
fn finds_token_with_position() {
    let e = engine();
    let found = scan(&e, b"line one\n  x = tok_abcdef012345;\n");
    assert_eq!(
        ids(&e, &found),
        vec![("tok".into(), "tok_abcdef012345".into())]
    );
    let f = &found[0];
    assert_eq!((f.start.line, f.start.column), (2, 7));
    assert_eq!((f.end.line, f.end.column), (2, 22));
    assert_eq!(f.secret_span, 15..31);
}

#[test]
fn token_rule_is_anchored_and_context_rule_is_not() {
    let e = engine();
    assert!(e.rules().get("tok").unwrap().anchored);
    assert!(!e.rules().get("ctx").unwrap().anchored);
}

#[test]
fn token_at_buffer_edges() {
    let e = engine();
    assert_eq!(scan(&e, b"tok_abcdef012345").len(), 1);
    assert_eq!(
        scan(&e, b"xtok_abcdef012345").len(),
        0,
        "\\b must hold before the token"
    );
    assert_eq!(
        scan(&e, b"tok_abcdef0123456").len(),
        0,
        "\\b must hold after the token"
    );
}

#[test]
fn token_right_after_an_escape_sequence() {
    let e = engine();
    assert!(e.rules().get("tok").unwrap().escaped_start);
    assert!(!e.rules().get("ctx").unwrap().escaped_start);
    for (text, at) in [
        (&b"ok \x1b[32mtok_abcdef012345\x1b[0m"[..], 8),
        (b"\x1b[01;31m\x1b[Ktok_abcdef012345\x1b[m\x1b[K", 11),
        (br#"{"msg":"one\ntok_abcdef012345"}"#, 13),
        (br#"'\x1b[1mtok_abcdef012345'"#, 8),
    ] {
        let found = scan(&e, text);
        assert_eq!(
            ids(&e, &found),
            vec![("tok".into(), "tok_abcdef012345".into())]
        );
        assert_eq!(
            found[0].span,
            at..at + 16,
            "{}",
            String::from_utf8_lossy(text)
        );
    }
    assert!(
        scan(&e, b"[32mtok_abcdef012345").is_empty(),
        "no escape byte"
    );
    assert!(scan(&e, b"\\qtok_abcdef012345").is_empty(), "no escape");
    assert!(
        scan(&e, b"\\ntok_abcdef0123456").is_empty(),
        "\\b after the token"
    );
    assert!(
        scan(&e, b"# shush:allow \x1b[32mtok_abcdef012345").is_empty(),
        "the whole line counts for inline markers"
    );
}

#[test]
fn context_rule_and_entropy() {
    let e = engine();
    let found = scan(&e, br#"db_password = "Xk9#mP2qL7""#);
    assert_eq!(ids(&e, &found), vec![("ctx".into(), "Xk9#mP2qL7".into())]);
    // Entropy of "aaaaaaaa" is 0: rejected.
    assert!(scan(&e, br#"password = "aaaaaaaa""#).is_empty());
}

#[test]
fn keywords_are_case_insensitive() {
    let e = engine();
    assert_eq!(scan(&e, br#"DB_PASSWORD = "Xk9#mP2qL7""#).len(), 1);
}

#[test]
fn generic_yields_to_specific_on_the_same_secret() {
    let e = engine();
    let found = scan(&e, b"value = tok_abcdef012345\n");
    assert_eq!(
        ids(&e, &found),
        vec![("tok".into(), "tok_abcdef012345".into())]
    );
    let found = scan(&e, b"value = plainvalue123\n");
    assert_eq!(
        ids(&e, &found),
        vec![("generic".into(), "plainvalue123".into())]
    );
}

#[test]
fn multiline_block_is_one_secret() {
    let e = engine();
    let text = b"a\n-----BEGIN TEST KEY-----\nAAAABBBBCCCC\nDDDD\n-----END TEST KEY-----\nb\n";
    let found = scan(&e, text);
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].start.line, found[0].end.line), (2, 5));
    assert!(found[0].secret.starts_with(b"-----BEGIN") && found[0].secret.ends_with(b"KEY-----"));
}

#[test]
fn path_rule_needs_matching_path() {
    let e = engine();
    let mut st = e.new_state();
    let text = b"id = scoped_123456";
    let cfg = InputMeta {
        path: Some("conf/app.cfg"),
        ..Default::default()
    };
    let other = InputMeta {
        path: Some("src/app.rs"),
        ..Default::default()
    };
    assert_eq!(scan_slice(&e, &mut st, text, &cfg).len(), 1);
    assert_eq!(scan_slice(&e, &mut st, text, &other).len(), 0);
    assert_eq!(
        scan_slice(&e, &mut st, text, &InputMeta::default()).len(),
        0
    );
}

#[test]
fn allowlists_and_inline_allow() {
    let e = engine();
    assert_eq!(scan(&e, b"k = alw_abcdefgh").len(), 1);
    assert_eq!(scan(&e, b"k = alw_xdummyxx").len(), 0, "stopword in secret");
    assert_eq!(scan(&e, b"# k = alw_abcdefgh").len(), 0, "line regex");
    assert_eq!(scan(&e, b"k = alw_abcdefgh # shush:allow").len(), 0);
    assert_eq!(scan(&e, b"k = alw_abcdefgh // gitleaks:allow").len(), 0);
    assert_eq!(
        scan(&e, b"# shush:allow\nk = alw_abcdefgh").len(),
        1,
        "marker only counts on the same line"
    );
    let strict = engine_with(EngineOptions {
        inline_allow: false,
        ..Default::default()
    });
    assert_eq!(scan(&strict, b"k = alw_abcdefgh # shush:allow").len(), 1);
}

#[test]
fn base64_encoded_secret_at_every_alignment() {
    let e = engine();
    for pad in 0..3 {
        let mut plain = b"###"[..pad].to_vec();
        plain.extend_from_slice(b"export T=tok_abcdef012345\n");
        let enc = base64::engine::general_purpose::STANDARD.encode(&plain);
        let text = format!("data: {enc}\n");
        let found = scan(&e, text.as_bytes());
        assert_eq!(
            ids(&e, &found),
            vec![("tok".into(), "tok_abcdef012345".into())],
            "pad {pad}: {text}"
        );
        assert_eq!(found[0].decoded, vec![Encoding::Base64]);
        let span = found[0].secret_span.start as usize..found[0].secret_span.end as usize;
        assert!(
            span.start >= 6 && span.end <= 6 + enc.len(),
            "reported inside the encoded run"
        );
        // URL-safe alphabet too.
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&plain);
        assert_eq!(
            scan(&e, format!("x={url}").as_bytes()).len(),
            1,
            "url-safe pad {pad}"
        );
    }
}

#[test]
fn decoding_can_be_disabled_and_deepened() {
    let plain = b"token: tok_abcdef012345\n";
    let once = base64::engine::general_purpose::STANDARD.encode(plain);
    let twice = base64::engine::general_purpose::STANDARD.encode(format!("blob={once}\n"));
    let off = engine_with(EngineOptions {
        decode_depth: 0,
        ..Default::default()
    });
    assert!(scan(&off, once.as_bytes()).is_empty());
    let default = engine();
    assert_eq!(scan(&default, once.as_bytes()).len(), 1);
    assert!(
        scan(&default, twice.as_bytes()).is_empty(),
        "depth 1 does not see a double encoding"
    );
    let deep = engine_with(EngineOptions {
        decode_depth: 2,
        ..Default::default()
    });
    let found = scan(&deep, twice.as_bytes());
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].decoded, vec![Encoding::Base64, Encoding::Base64]);
}

#[test]
fn percent_encoded_secret() {
    let e = engine();
    let found = scan(&e, b"https://x.test/?password%3D%22Xk9%23mP2qL7%22&y=1");
    // Only the decoded pass can see the quotes and `#`.
    assert_eq!(ids(&e, &found), vec![("ctx".into(), "Xk9#mP2qL7".into())]);
    assert_eq!(found[0].decoded, vec![Encoding::Percent]);
    // A plain secret near an unrelated escape is reported once, undecoded.
    let found = scan(&e, b"a%20b tok_abcdef012345");
    assert_eq!(found.len(), 1);
    assert!(found[0].decoded.is_empty());
}

#[test]
fn binary_inputs_are_scanned_but_not_decoded() {
    let e = engine();
    let mut st = e.new_state();
    let enc = base64::engine::general_purpose::STANDARD.encode(b"tok_abcdef012345 ");
    let bin = InputMeta {
        binary: true,
        ..Default::default()
    };
    let raw = b"\0\0tok_abcdef012345\0";
    assert_eq!(scan_slice(&e, &mut st, raw, &bin).len(), 1);
    assert_eq!(scan_slice(&e, &mut st, enc.as_bytes(), &bin).len(), 0);
}

#[test]
fn invalid_utf8_and_nuls_do_not_panic() {
    let e = engine();
    let mut text = vec![0xff, 0xfe, 0x00, b'\n'];
    text.extend_from_slice(b"password = \"\xff\xfeXk9mP2qL\" tok_abcdef012345 \xc3");
    let found = scan(&e, &text);
    assert!(found.iter().any(|f| e.rule(f.rule).id == "tok"));
}

/// A deterministic haystack with many planted matches of every test rule.
fn planted(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let b64 = base64::engine::general_purpose::STANDARD.encode(b"T=tok_zyxwvu987654\n");
    let pieces: Vec<Vec<u8>> = vec![
        b"tok_abcdef012345".to_vec(),
        br#"my_password = "Qz8!rT4wYp""#.to_vec(),
        b"value = somevalue_99".to_vec(),
        b"-----BEGIN TEST KEY-----\nQUJDREVGR0hJSktM\n-----END TEST KEY-----".to_vec(),
        b64.into_bytes(),
        b"password%3D%22Ab1%23Cd2%24Ef%22".to_vec(),
        b"alw_qwertyui".to_vec(),
        b"\x1b[1;32mtok_qwerty012345\x1b[0m".to_vec(),
        br#"{"msg":"a\ntok_asdfgh012345"}"#.to_vec(),
    ];
    let filler = b"fn main() { let x = 1; } // comment tok password value\n";
    let mut out = Vec::with_capacity(len + 256);
    while out.len() < len {
        let r = next();
        if r % 5 == 0 {
            out.extend_from_slice(&pieces[(r / 5 % pieces.len() as u64) as usize]);
            out.push(if r % 2 == 0 { b'\n' } else { b' ' });
        } else {
            let n = (r % filler.len() as u64) as usize;
            out.extend_from_slice(&filler[..n]);
        }
    }
    out
}

#[test]
fn chunked_scanning_equals_whole_scanning() {
    let e = engine();
    let text = planted(40_000, 42);
    let whole = scan(&e, &text);
    assert!(
        whole.len() > 100,
        "the haystack must actually contain matches: {}",
        whole.len()
    );
    for rule in ["tok", "ctx", "generic", "pem", "allowed"] {
        assert!(
            whole.iter().any(|f| e.rule(f.rule).id == rule),
            "no {rule} match planted"
        );
    }
    assert!(whole.iter().any(|f| f.decoded == vec![Encoding::Base64]));
    assert!(whole.iter().any(|f| f.decoded == vec![Encoding::Percent]));
    assert!(whole.iter().any(|f| f.secret == b"tok_qwerty012345"));
    assert!(whole.iter().any(|f| f.secret == b"tok_asdfgh012345"));
    let overlap = e.overlap();
    for (chunk, feed) in [
        (1, 1),
        (7, 3),
        (overlap - 1, 1000),
        (overlap, 77),
        (overlap + 1, 4096),
        (4096, 65_536),
        (1 << 20, 1),
    ] {
        let chunked = scan_chunked(&e, &text, chunk, feed);
        assert_eq!(chunked.len(), whole.len(), "chunk {chunk} feed {feed}");
        assert_eq!(chunked, whole, "chunk {chunk} feed {feed}");
    }
}

#[test]
fn owned_span_reports_only_matches_starting_inside() {
    let e = engine();
    let mut st = e.new_state();
    let text = b"tok_abcdef012345 tok_bbbbbb012345";
    assert!(e.begin_input(&mut st, &InputMeta::default()));
    let mut out = Vec::new();
    e.scan(&mut st, text, 0..5, &InputMeta::default(), &mut out);
    assert_eq!(out.len(), 1);
    out.clear();
    e.scan(
        &mut st,
        text,
        5..text.len(),
        &InputMeta::default(),
        &mut out,
    );
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].span.start, 17);
}

#[test]
fn betterleaks_filters_discard_findings_and_prefilters_skip_inputs() {
    let toml = r#"
prefilter = '''matchesAny(get(attributes, "path", ""), [`\.lock$`])'''
[[rules]]
id = "tok"
description = "t"
regex = '''\b(tok_[a-z0-9]{12})\b'''
keywords = ["tok_"]
filter = '''entropy(finding["secret"]) <= 3.0 || matchesAny(finding["line"], [`(?i)fixture`])'''
"#;
    let loaded = LoadedConfig::from_toml(toml, "bl.toml", Path::new(".")).unwrap();
    let rules = RuleSet::from_loaded(loaded).unwrap();
    assert!(rules.warnings.is_empty(), "{:?}", rules.warnings);
    let e = Engine::new(rules, EngineOptions::default()).unwrap();
    assert_eq!(scan(&e, b"t = tok_a1b2c3d4e5f6").len(), 1);
    assert_eq!(
        scan(&e, b"t = tok_aaaaaaaaaaaa").len(),
        0,
        "low entropy filtered"
    );
    assert_eq!(
        scan(&e, b"t = tok_a1b2c3d4e5f6 # fixture").len(),
        0,
        "line filtered"
    );
    let mut st = e.new_state();
    let lock = InputMeta {
        path: Some("Cargo.lock"),
        ..Default::default()
    };
    assert!(e.scan_bytes(&mut st, b"tok_a1b2c3d4e5f6", &lock).is_empty());
    let src = InputMeta {
        path: Some("src/a.rs"),
        ..Default::default()
    };
    assert_eq!(e.scan_bytes(&mut st, b"tok_a1b2c3d4e5f6", &src).len(), 1);
}

#[test]
fn unsupported_filters_are_reported_not_dropped() {
    let toml = "[[rules]]\nid='t'\nregex='tok_[a-z]{4}'\nfilter='''failsTokenEfficiency(finding[\"secret\"])'''\n";
    let loaded = LoadedConfig::from_toml(toml, "bl.toml", Path::new(".")).unwrap();
    let rules = RuleSet::from_loaded(loaded).unwrap();
    assert!(
        rules
            .warnings
            .iter()
            .any(|w| w.contains("failsTokenEfficiency")),
        "{:?}",
        rules.warnings
    );
    assert!(rules.rules[0].filter.is_none());
}

#[test]
fn the_redaction_policy_lowers_entropy_floors_and_skips_scan_only_allowlists() {
    let toml = r#"
[[rules]]
id = "pw"
description = "password"
regex = '''pw=([^\s]{4,40})'''
keywords = ["pw="]
entropy = 3.0
redact_entropy = 1.0
[[rules.allowlists]]
description = "words: too often code to report, too often real to show"
scan_only = true
regexes = ['''^[a-z]+(?:-[a-z]+)+$''']
[[rules.allowlists]]
description = "references: never a secret"
regexes = ['''^\$\{[A-Z_]+\}$''']

[[rules]]
id = "clamped"
description = "a redaction floor above the scan floor is the scan floor"
regex = '''cl=([a-z0-9]{4,40})'''
keywords = ["cl="]
entropy = 2.0
redact_entropy = 3.5
"#;
    let loaded = LoadedConfig::from_toml(toml, "p.toml", Path::new(".")).unwrap();
    let rules = RuleSet::from_loaded(loaded).unwrap();
    assert!(rules.warnings.is_empty(), "{:?}", rules.warnings);
    assert_eq!(rules.rules[1].redact_entropy, 2.0);
    let e = Engine::new(rules, EngineOptions::default()).unwrap();
    let found = |text: &str, redacting: bool| {
        let mut st = e.new_state();
        st.redaction_policy(redacting);
        e.scan_bytes(&mut st, text.as_bytes(), &InputMeta::default())
            .into_iter()
            .map(|m| String::from_utf8_lossy(&m.secret).into_owned())
            .collect::<Vec<_>>()
    };
    // Weak (entropy 2.3): under the scan floor, over the redaction floor.
    assert!(found("pw=maple1111", false).is_empty());
    assert_eq!(found("pw=maple1111", true), ["maple1111"]);
    // A passphrase: allowed when scanning only.
    assert!(found("pw=maple-river-ember-tulip", false).is_empty());
    assert_eq!(
        found("pw=maple-river-ember-tulip", true),
        ["maple-river-ember-tulip"]
    );
    // A reference: allowed in both.
    assert!(found("pw=${DB_PASSWORD}", true).is_empty());
    // Near-constant: under both floors.
    assert!(found("pw=aaaaaaaa", true).is_empty());
    // A redaction floor above the scan floor would mask less: clamped.
    assert_eq!(found("cl=ab12cd34", true), found("cl=ab12cd34", false));
    let bad = "[[rules]]\nid='n'\nregex='n=([a-z]{4})'\nentropy=2.0\nredact_entropy=-1.0\n";
    let loaded = LoadedConfig::from_toml(bad, "n.toml", Path::new(".")).unwrap();
    assert!(RuleSet::from_loaded(loaded).is_err());
}

#[test]
fn one_regex_for_all_rule_paths_agrees_with_each_rule() {
    let engine = Engine::builtin().unwrap();
    let paths = [
        "home/bob/.pgpass",
        "config/master.key",
        "app/config/credentials/production.key",
        "WinSCP.ini",
        "export.har",
        ".git-credentials",
        "notes/.git-credentials.md",
        "src/main.rs",
        "README.md",
        "PGPASS.CONF",
        "",
    ];
    for path in paths {
        let each = (engine.rules().rules.iter()).any(|r| {
            r.path
                .as_ref()
                .is_some_and(|re| re.is_match(path.as_bytes()))
        });
        assert_eq!(
            engine.some_rule_path_matches(path.as_bytes()),
            each,
            "{path:?}"
        );
    }
    assert!(engine.some_rule_path_matches(b"home/bob/.pgpass"));
    assert!(!engine.some_rule_path_matches(b"src/main.rs"));
}

/// A reader that hands out `data` and then fails.
struct FailsAfter<'a>(&'a [u8]);

impl std::io::Read for FailsAfter<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.0.is_empty() {
            return Err(std::io::Error::other("the pipe broke"));
        }
        let n = buf.len().min(self.0.len()).min(777);
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

fn scan_on_threads(
    e: &Engine,
    reader: &mut dyn std::io::Read,
    threads: usize,
    chunk: usize,
) -> crate::scan::input::ReaderScan {
    let mut scan = crate::source::parallel_stream::scan_parallel(
        e,
        reader,
        Vec::new(),
        &InputMeta::default(),
        threads,
        chunk,
    );
    e.finalize(&mut scan.found);
    scan
}

/// Tokens and a key block spread over many small chunks, with lines before and after.
fn spread_tokens() -> Vec<u8> {
    let mut text = Vec::new();
    for i in 0..300u32 {
        text.extend_from_slice(format!("line {i} of filler, nothing here\n").as_bytes());
        if i % 7 == 3 {
            text.extend_from_slice(format!("  t = tok_{:012x};\n", i * 7919).as_bytes());
        }
        if i == 150 {
            text.extend_from_slice(
                b"-----BEGIN TEST KEY-----\nabcdefghijklmnop\n-----END TEST KEY-----\n",
            );
        }
    }
    text
}

#[test]
fn several_threads_find_what_one_stream_finds() {
    let e = engine();
    let text = spread_tokens();
    let whole = scan(&e, &text);
    assert!(whole.len() >= 40, "{}", whole.len());
    for threads in [1, 2, 5] {
        for chunk in [1, 97, 1000, 4096, 1 << 20] {
            let got = scan_on_threads(&e, &mut &text[..], threads, chunk);
            assert!(got.error.is_none());
            assert_eq!(got.bytes, text.len() as u64);
            assert_eq!(got.found, whole, "{threads} threads, chunk {chunk}");
        }
    }
}

#[test]
fn several_threads_keep_what_came_before_a_failed_read() {
    let e = engine();
    let text = spread_tokens();
    let cut = text.len() / 2;
    let got = scan_on_threads(&e, &mut FailsAfter(&text[..cut]), 3, 1000);
    let error = got.error.expect("the read error is reported");
    assert_eq!(error.to_string(), "the pipe broke");
    assert_eq!(got.bytes, cut as u64);
    assert_eq!(got.found, scan(&e, &text[..cut]));
    assert!(!got.found.is_empty());
}

#[test]
fn several_threads_scan_an_empty_input_once() {
    let e = engine();
    let got = scan_on_threads(&e, &mut &b""[..], 2, 1000);
    assert!(got.error.is_none() && got.found.is_empty() && got.bytes == 0);
}
