//! Recall and false positives of the built-in rules on the synthetic corpus
//! (`corpus/generator.rs`), plus tests of the generator itself.
//!
//! The corpus is generated at test time from the rules' own examples (fresh secrets minted
//! per rule, planted in ~25 file formats, plain and base64/percent-encoded, among hard
//! negatives), written to a temporary directory and scanned through the library.
//!
//! Matching (see `corpus/generator.rs`): a planted positive is found when a finding on its
//! line comes from the expected rule, or — when the expected rule is `generic` — from any
//! non-generic rule. A false positive is a finding on a line holding no planted positive
//! (findings by rule B on rule A's own negative examples are listed as cross-rule hits, not
//! counted).
//!
//! `cargo test --test suite corpus:: -- --nocapture` prints the table.
//! `cargo run --example gen-corpus -- OUT --score --misses 50` writes the corpus and lists
//! misses and false positives.

#[allow(dead_code)]
#[path = "../../corpus/generator.rs"]
mod generator;

use generator::{Corpus, Encoding, Hit, Label, Options, Score, generate, score};
use shush::Engine;
use shush::engine::EngineOptions;
use shush::rules::{LoadedConfig, RuleSet};
use shush::scan::{ScanOptions, Stats, scan_paths};
use std::collections::BTreeSet;
use std::path::Path;

// Floors and ceilings, set from what the engine achieves on the built-in rules, with a
// little room; raise them when the engine improves, never lower them to make a change pass.
/// Recall on plain plantings.
const MIN_RECALL_PLAIN: f64 = 0.98;
/// Recall inside base64 (`.env` blobs, Kubernetes `Secret` data, Docker `auth` fields).
const MIN_RECALL_BASE64: f64 = 0.95;
/// Recall inside percent-encoded text.
const MIN_RECALL_PERCENT: f64 = 0.95;
/// False positives per planted hard negative.
const MAX_FP_RATE: f64 = 0.01;
/// Mint attempts that may fail (each falls back to the rule's own example).
const MAX_DROPPED_RATE: f64 = 0.05;

fn is_generic(engine: &Engine, id: &str) -> bool {
    engine.rules().get(id).is_some_and(|r| r.generic)
}

fn family(engine: &Engine, id: &str) -> String {
    engine
        .rules()
        .get(id)
        .and_then(|r| r.family.clone())
        .unwrap_or_else(|| id.split('-').next().unwrap_or(id).to_string())
}

/// Writes the corpus to a temporary directory, scans it with `engine`, scores the findings.
fn scan_and_score(engine: &Engine, corpus: &Corpus) -> Score {
    let dir = tempfile::tempdir().unwrap();
    corpus.write_to(dir.path()).unwrap();
    let root = dir.path().to_path_buf();
    let outcome = scan_paths(
        engine,
        std::slice::from_ref(&root),
        &ScanOptions::default(),
        &Stats::default(),
    );
    assert!(
        outcome.errors.is_empty(),
        "scan errors: {:?}",
        outcome.errors
    );
    let prefix = format!("{}/", root.display());
    let hits: Vec<Hit> = outcome
        .findings
        .iter()
        .map(|f| Hit {
            file: f.path.strip_prefix(&prefix).unwrap_or(&f.path).to_string(),
            line: f.line,
            rule: Some(f.rule_id.clone()),
        })
        .collect();
    score(
        &corpus.labels,
        &hits,
        |id| is_generic(engine, id),
        |id| family(engine, id),
    )
}

fn report(corpus: &Corpus, s: &Score) -> String {
    let st = &corpus.stats;
    let mut out = format!(
        "corpus seed {:#x}: {} files, {} bytes, {} labels; rules {}, examples {} ({} skipped), minted {} (probed {}), dropped {} {:?}, unplantable {:?}\n{s}",
        corpus.seed,
        corpus.files.len(),
        corpus.bytes(),
        corpus.labels.len(),
        st.rules,
        st.examples,
        st.examples_skipped,
        st.minted,
        st.probed,
        st.dropped,
        st.dropped_by_rule,
        st.unplantable,
    );
    for (l, others) in s.missed.iter().take(30) {
        out.push_str(&format!(
            "MISS {}:{} {} ({}, {}, {}) reported there: {others:?}\n",
            l.file,
            l.line,
            l.rule.as_deref().unwrap_or("-"),
            l.context,
            l.kind,
            l.encoding.as_str()
        ));
    }
    for (file, line, rule, cat) in s.fp_list.iter().take(30) {
        out.push_str(&format!("FP   {file}:{line} {rule} ({cat})\n"));
    }
    out
}

/// Structural checks on labels: lines inside their files, ranges ordered, one label a line.
fn check_labels(corpus: &Corpus) {
    let mut seen = BTreeSet::new();
    for l in &corpus.labels {
        let file = corpus
            .files
            .iter()
            .find(|f| f.path == l.file)
            .unwrap_or_else(|| panic!("label for a missing file: {l:?}"));
        let lines = file.content.lines().count() as u64;
        assert!(
            1 <= l.first_line
                && l.first_line <= l.line
                && l.line <= l.last_line
                && l.last_line <= lines,
            "label out of range ({lines} lines): {l:?}"
        );
        assert!(
            !file
                .content
                .lines()
                .nth(l.line as usize - 1)
                .unwrap()
                .trim()
                .is_empty(),
            "label on an empty line: {l:?}"
        );
        assert!(
            seen.insert((l.file.clone(), l.line)),
            "two labels on one line: {l:?}"
        );
        if l.positive {
            assert!(l.rule.is_some(), "positive without a rule: {l:?}");
        }
    }
}

#[test]
fn builtin_rules_recall_and_false_positives_on_the_corpus() {
    let engine = Engine::builtin().expect("built-in rules");
    let corpus = generate(&engine, &Options::default());
    check_labels(&corpus);
    let s = scan_and_score(&engine, &corpus);
    let table = report(&corpus, &s);
    println!("{table}");

    let st = &corpus.stats;
    let plantable = engine.rules().rules.len() - st.unplantable.len();
    assert!(
        st.unplantable.is_empty(),
        "rules the corpus cannot plant: {:?}\n{table}",
        st.unplantable
    );
    // Every rule is covered by at least one planted positive, minted where possible.
    let covered: BTreeSet<&str> = corpus
        .labels
        .iter()
        .filter(|l| l.positive)
        .filter_map(|l| l.rule.as_deref())
        .collect();
    let uncovered: Vec<&str> = engine
        .rules()
        .rules
        .iter()
        .map(|r| r.id.as_str())
        .filter(|id| !covered.contains(id))
        .collect();
    assert!(
        uncovered.is_empty(),
        "rules without a planted positive: {uncovered:?}"
    );
    let attempts = st.minted + st.dropped;
    assert!(
        st.dropped as f64 <= MAX_DROPPED_RATE * attempts as f64,
        "{} of {attempts} mint attempts failed: {:?}\n{table}",
        st.dropped,
        st.dropped_by_rule
    );
    // The floors below mean something only if every encoding is well represented.
    // A rule restricted to one kind of file (`.msmtprc`, `rclone.conf`) has no URL query to
    // be percent-encoded in: the percent floor counts the rules that can have one.
    let anywhere = engine
        .rules()
        .rules
        .iter()
        .filter(|r| r.path.is_none())
        .count();
    for (e, min) in [
        (Encoding::Plain, 2 * plantable),
        (Encoding::Base64, 2 * plantable),
        (Encoding::Percent, anywhere),
    ] {
        let planted = s.by_encoding.get(&e).map_or(0, |t| t.planted);
        assert!(
            planted >= min,
            "only {planted} {} positives planted (want ≥ {min})",
            e.as_str()
        );
    }
    assert!(
        s.negative_items() >= 300,
        "only {} negatives planted",
        s.negative_items()
    );

    for (e, floor) in [
        (Encoding::Plain, MIN_RECALL_PLAIN),
        (Encoding::Base64, MIN_RECALL_BASE64),
        (Encoding::Percent, MIN_RECALL_PERCENT),
    ] {
        assert!(
            s.recall(e) >= floor,
            "{} recall {:.4} is below the floor {floor}\n{table}",
            e.as_str(),
            s.recall(e)
        );
    }
    let fp_rate = s.fp() as f64 / s.negative_items() as f64;
    assert!(
        fp_rate <= MAX_FP_RATE,
        "{} false positives on {} negatives ({fp_rate:.4} > {MAX_FP_RATE})\n{table}",
        s.fp(),
        s.negative_items()
    );
}

#[test]
fn generation_is_deterministic() {
    let engine = Engine::builtin().unwrap();
    let small = Options {
        mints_per_example: 1,
        encoded_per_rule: 0,
        min_negatives_per_category: 3,
        negatives_per_rule: 0.05,
        ..Options::default()
    };
    let a = generate(&engine, &small);
    let b = generate(&engine, &small);
    assert_eq!(a.files, b.files);
    assert_eq!(a.labels, b.labels);
    assert_eq!(a.labels_jsonl(), b.labels_jsonl());
    let c = generate(
        &engine,
        &Options {
            seed: small.seed + 1,
            ..small.clone()
        },
    );
    assert_ne!(a.files, c.files, "the seed must matter");
}

// ---------------------------------------------------------------------------------------------
// The generator on rule shapes the built-in set may not have yet.
// ---------------------------------------------------------------------------------------------

/// A test rule set exercising every minting path: CRC32 checksums, bech32, JWTs (bare and
/// behind a prefix), a hex segment after a base62 one, restricted leading characters, a
/// multi-line PEM block, a JSON-escaped PEM, a URL credential, a generic context rule.
/// Example secrets are generated here (fake, random-looking, valid where a format checks).
fn shape_rules() -> String {
    use base64::Engine as _;
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let crc = |random: &str| {
        format!(
            "{random}{}",
            shush::checksum::github_checksum(random.as_bytes())
        )
    };
    let tkp1 = format!("tkp_{}", crc("Qm7Zr2Kd9Xv4Lp8Wn3Ty6Hs1Bc5Fg0"));
    let tkp2 = format!("tkp_{}", crc("a8Vd2Rk7Mx4Qn9Lw3Pz6Ty1Hc5Jb0E"));
    let hrp = bech32::Hrp::parse("testkey-").unwrap();
    let bech = |seed: u8| {
        let data: Vec<u8> = (0..32u8)
            .map(|i| i.wrapping_mul(37).wrapping_add(seed))
            .collect();
        bech32::encode_upper::<bech32::Bech32>(hrp, &data).unwrap()
    };
    let (age1, age2) = (bech(11), bech(97));
    let jwt = |sub: &str, sig: &str| {
        format!(
            "{}.{}.{sig}",
            b64url.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
            b64url.encode(format!(
                r#"{{"sub":"{sub}","iat":1716239022,"scope":"read:all"}}"#
            ))
        )
    };
    let jwt1 = jwt("u-83hd72ks", "Xk3d9QwLp0Zr7Nv2Bm5Tc8Hy4Fs1Jg6Ea");
    let jwt2 = jwt("svc-0p2m4n", "Rt6Yp1Lk9Qz3Wx7Nc2Vb5Mh8Gd4Fs0Ja");
    let pem_body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7Vx3kPq9Zr2Lm\n\
                    Wn5Ty8Hs1Bc4Fg7Jk0Xd6Qa3Rv9Pe2Uo5Iy8Ht1Gs4Fd7Sa0Zx3Cv6Bn9Mq2Wp\n\
                    Lk5Jh8Gf1Ds4Ap7Zo0Xi3Cu6Vy9Bt2Nr5Me8Lw1Kq4Jp7Hn0Gm3Fl6Ek9Dj2Ci";
    format!(
        r#"
[[rules]]
id = "shape-crc"
description = "prefix, base62 body, CRC32 checksum"
regex = '''\b(tkp_[0-9A-Za-z]{{36}})\b'''
keywords = ["tkp_"]
checksum = "github-crc32"
tags = ["t"]
examples = [ {{ text = 'TK={tkp1}', secret = '{tkp1}' }}, {{ text = '"k": "{tkp2}"', secret = '{tkp2}' }} ]

[[rules]]
id = "shape-bech32"
description = "bech32 with a human-readable part"
regex = '''\b(TESTKEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{{58}})\b'''
keywords = ["testkey-1"]
checksum = "bech32"
tags = ["t"]
examples = [ {{ text = '{age1}', secret = '{age1}' }}, {{ text = 'key: {age2}', secret = '{age2}' }} ]

[[rules]]
id = "shape-jwt"
description = "a JWT after a prefix"
regex = '''\b(tkj-eyJ[0-9A-Za-z_-]{{10,300}}\.eyJ[0-9A-Za-z_-]{{10,600}}\.[0-9A-Za-z_-]{{20,200}})'''
keywords = ["tkj-eyj"]
tags = ["t"]
examples = [ {{ text = 'JOB=tkj-{jwt1}', secret = 'tkj-{jwt1}' }}, {{ text = 'x: "tkj-{jwt2}"', secret = 'tkj-{jwt2}' }} ]

[[rules]]
id = "shape-jwt-bare"
description = "a bare JWT near a keyword"
regex = '''(?i)bearer[ \t]{{1,4}}(eyJ[0-9A-Za-z_-]{{10,300}}\.eyJ[0-9A-Za-z_-]{{10,600}}\.[0-9A-Za-z_-]{{20,200}})'''
keywords = ["bearer"]
checksum = "jwt"
tags = ["t"]
examples = [ {{ text = 'Authorization: Bearer {jwt1}', secret = '{jwt1}' }}, {{ text = 'bearer {jwt2}', secret = '{jwt2}' }} ]

[[rules]]
id = "shape-hexseg"
description = "a hex segment after a base62 one"
regex = '''\b(TKX(?:AT|RJ)_[0-9A-Za-z]{{12}}_[0-9a-f]{{32}})\b'''
keywords = ["tkxat_", "tkxrj_"]
tags = ["t"]
examples = [ {{ text = 'T=TKXAT_Zq8Lm3Xv0Pw6_9f2c4e8a1b7d3f6e0c5a9b2d8e4f1a7c', secret = 'TKXAT_Zq8Lm3Xv0Pw6_9f2c4e8a1b7d3f6e0c5a9b2d8e4f1a7c' }}, {{ text = 'TKXRJ_Rt5Kp2Wn9Qx4_0a3b6c9d2e5f8a1b4c7d0e3f6a9b2c5d', secret = 'TKXRJ_Rt5Kp2Wn9Qx4_0a3b6c9d2e5f8a1b4c7d0e3f6a9b2c5d' }} ]

[[rules]]
id = "shape-restricted"
description = "restricted leading characters, keyword outside the secret"
regex = '''tkr[_a-z]{{0,10}}[ \t]{{0,4}}[=:][ \t]{{0,4}}"?([MNO][DTjz][0-9A-Za-z]{{30}})\b'''
keywords = ["tkr"]
tags = ["t"]
examples = [ {{ text = 'tkr_token = "NjQ5Nzc2ODQ1MzIxOkx9Wr4Tq7Yp2Zsw"', secret = 'NjQ5Nzc2ODQ1MzIxOkx9Wr4Tq7Yp2Zsw' }}, {{ text = 'tkr: ODk3NjU0MzIxMDk4Ok3Lm8Pq1Rs6Tv9X', secret = 'ODk3NjU0MzIxMDk4Ok3Lm8Pq1Rs6Tv9X' }} ]

[[rules]]
id = "shape-pem"
description = "a multi-line PEM block"
regex = '''-----BEGIN TEST PRIVATE KEY-----[\s\S]{{64,4096}}?-----END TEST PRIVATE KEY-----'''
keywords = ["-----begin test private key-----"]
tags = ["t", "multiline"]
examples = [ {{ text = """-----BEGIN TEST PRIVATE KEY-----
{pem_body}
-----END TEST PRIVATE KEY-----""", secret = """-----BEGIN TEST PRIVATE KEY-----
{pem_body}
-----END TEST PRIVATE KEY-----""" }}, """key_pem = '''
-----BEGIN TEST PRIVATE KEY-----
{pem_body}
-----END TEST PRIVATE KEY-----
'''""" ]

[[rules]]
id = "shape-json-pem"
description = "a PEM with JSON-escaped newlines"
regex = '''"test_key"[ \t]{{0,4}}:[ \t]{{0,4}}"(-----BEGIN TEST KEY-----\\n[A-Za-z0-9+/=\\]{{64,4096}}?\\n-----END TEST KEY-----)'''
keywords = ["test_key"]
tags = ["t"]
examples = [ {{ text = '{{"test_key": "-----BEGIN TEST KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\nKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ==\n-----END TEST KEY-----"}}', secret = '-----BEGIN TEST KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\nKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ==\n-----END TEST KEY-----' }}, '"test_key":"-----BEGIN TEST KEY-----\nQm9ndXNLZXlEYXRhRm9yVGVzdGluZ09ubHlOb3RBUmVhbEtleUF0QWxsMTIzNDU2\nNzg5MGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6\n-----END TEST KEY-----"' ]

[[rules]]
id = "shape-url"
description = "a password in a URL"
regex = '''[a-z][a-z0-9+.-]{{1,20}}://[a-z0-9_-]{{2,32}}:([0-9A-Za-z!*_~-]{{12,64}})@[a-z0-9.-]{{3,100}}'''
keywords = ["://"]
entropy = 3.0
tags = ["t"]
examples = [ {{ text = 'DATABASE_URL=postgres://app:Hq7Lm2Xw9Zp4Rt6V@db.internal:5432/app', secret = 'Hq7Lm2Xw9Zp4Rt6V' }}, {{ text = 'amqp://svc:Kd3Nv8Wq1Zr5Tp7Y@mq.example.net/vhost', secret = 'Kd3Nv8Wq1Zr5Tp7Y' }} ]

[[rules]]
id = "shape-generic"
description = "a generic context rule"
regex = '''(?i)passwd[a-z_]{{0,10}}[ \t]{{0,4}}[:=][ \t]{{0,4}}["']?([0-9A-Za-z!@#%^*+/]{{12,40}})'''
keywords = ["passwd"]
entropy = 3.0
tags = ["generic"]
examples = [ {{ text = 'DB_PASSWD="x9Lq2Wm7Rt4Zp8Kv"', secret = 'x9Lq2Wm7Rt4Zp8Kv' }}, {{ text = 'passwd: Vn3Hs8Qd1Lw6Tz9Y', secret = 'Vn3Hs8Qd1Lw6Tz9Y' }} ]
"#
    )
}

#[test]
fn generator_mints_every_rule_shape() {
    let loaded =
        LoadedConfig::from_toml(&shape_rules(), "shape-rules.toml", Path::new(".")).unwrap();
    let set = RuleSet::from_loaded(loaded).unwrap();
    set.validate().unwrap();
    let engine = Engine::new(set, EngineOptions::default()).unwrap();
    let checked = shush::rules::check::check(&engine);
    assert!(
        checked.failures.is_empty(),
        "shape rules fail their examples: {:?}",
        checked.failures
    );

    let corpus = generate(&engine, &Options::default());
    check_labels(&corpus);
    let st = &corpus.stats;
    assert!(st.unplantable.is_empty(), "{:?}", st.unplantable);
    assert_eq!(st.examples_skipped, 0);
    assert_eq!(st.dropped, 0, "mint failures: {:?}", st.dropped_by_rule);
    for rule in &engine.rules().rules {
        let minted = corpus
            .labels
            .iter()
            .filter(|l| {
                l.positive && l.kind == "minted" && l.rule.as_deref() == Some(rule.id.as_str())
            })
            .count();
        assert!(minted >= 4, "{}: only {minted} minted plantings", rule.id);
    }
    // Minted secrets are new: no example secret is planted as is.
    let all: String = corpus.files.iter().map(|f| f.content.as_str()).collect();
    for rule in &engine.rules().rules {
        for secret in rule.examples().iter().filter_map(|e| e.secret()) {
            assert!(
                !all.contains(secret),
                "{}: an example secret was planted",
                rule.id
            );
        }
    }
    let s = scan_and_score(&engine, &corpus);
    let table = report(&corpus, &s);
    println!("{table}");
    assert!(s.recall(Encoding::Plain) >= MIN_RECALL_PLAIN, "{table}");
    assert!(s.total.recall() >= 0.9, "{table}");
}

// ---------------------------------------------------------------------------------------------
// The scorer.
// ---------------------------------------------------------------------------------------------

fn label(file: &str, line: u64, rule: Option<&str>, positive: bool, kind: &'static str) -> Label {
    Label {
        file: file.into(),
        line,
        first_line: line,
        last_line: line,
        rule: rule.map(str::to_string),
        positive,
        encoding: Encoding::Plain,
        kind,
        context: "text/value".into(),
    }
}

fn hit(file: &str, line: u64, rule: &str) -> Hit {
    Hit {
        file: file.into(),
        line,
        rule: Some(rule.into()),
    }
}

#[test]
fn scorer_counts_recall_and_false_positives() {
    let labels = vec![
        label("a", 1, Some("tok"), true, "minted"),
        label("a", 2, Some("pw-generic"), true, "minted"),
        label("a", 3, Some("tok"), true, "minted"),
        label("a", 4, Some("tok"), false, "rule-negative"),
        label("a", 5, None, false, "placeholder"),
    ];
    let generic = |id: &str| id.ends_with("generic");
    let fam = |id: &str| id.to_string();
    // Nothing found: recall 0, no FP.
    let s = score(&labels, &[], generic, fam);
    assert_eq!(s.total.planted, 3);
    assert_eq!(s.total.found, 0);
    assert_eq!(s.fp(), 0);
    assert_eq!(s.negative_items(), 2);
    let hits = vec![
        hit("a", 1, "tok"),           // found
        hit("a", 2, "specific"),      // a specific rule claimed a generic positive: found
        hit("a", 3, "other-generic"), // wrong rule: missed (other-rule)
        hit("a", 4, "other"),         // another rule on tok's near miss: cross-rule
        hit("a", 4, "tok"),           // tok on its own near miss: FP
        hit("a", 5, "x"),             // FP on a placeholder
        hit("a", 9, "x"),             // FP on filler
        hit("b", 1, "tok"),           // FP in another file
    ];
    let s = score(&labels, &hits, generic, fam);
    assert_eq!(s.total.found, 2);
    assert_eq!(s.total.other_rule, 1);
    assert_eq!(s.missed.len(), 1);
    assert_eq!(s.missed[0].0.line, 3);
    assert_eq!(s.cross_rule, 1);
    assert_eq!(s.fp(), 4);
    assert_eq!(s.false_positives.get("filler"), Some(&2));
    assert_eq!(s.false_positives.get("placeholder"), Some(&1));
    assert_eq!(s.false_positives.get("rule-negative"), Some(&1));
    assert!((s.recall(Encoding::Plain) - 2.0 / 3.0).abs() < 1e-9);
}

// ---------------------------------------------------------------------------------------------
// An engine regression the corpus found.
// ---------------------------------------------------------------------------------------------

/// In `KEY%3Dtok_…` the encoded `=` leaves no word boundary before the token, so the plain
/// scan cannot report it; the percent-decoded scan must, even though nothing inside the
/// secret itself is encoded.
#[test]
fn percent_encoded_separator_before_a_token() {
    let toml = r#"
[[rules]]
id = "tok"
description = "t"
regex = '''\b(tok_[0-9a-z]{12})\b'''
keywords = ["tok_"]
tags = ["t"]
"#;
    let loaded = LoadedConfig::from_toml(toml, "t.toml", Path::new(".")).unwrap();
    let engine = Engine::new(
        RuleSet::from_loaded(loaded).unwrap(),
        EngineOptions::default(),
    )
    .unwrap();
    let mut st = engine.new_state();
    let scan = |st: &mut shush::ScanState, text: &str| {
        shush::scan::input::scan_bytes(&engine, st, text.as_bytes(), shush::InputMeta::default())
    };
    let found = scan(&mut st, "GET /cb?data=TOKEN%3Dtok_a1b2c3d4e5f6&v=1");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].secret, b"tok_a1b2c3d4e5f6");
    assert!(!found[0].decoded.is_empty());
    // Reported once, plainly, when the plain scan sees it too.
    let found = scan(
        &mut st,
        "GET /cb?data=TOKEN%3D%22x%22&t=tok_a1b2c3d4e5f6&v=1",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].decoded.is_empty());
}
