//! Property tests of the engine's public behaviour:
//! (a) scanning never panics, whatever the bytes;
//! (b) a whole-input scan and a chunked [`StreamScanner`] scan, with any chunk size and any
//!     feed sizes, report exactly the same located matches;
//! (c) the baseline parser and the config loader never panic, whatever the text.
//!
//! Set `PROPTEST_CASES` to run more cases than the defaults below.

use crate::util;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use shush::engine::{Engine, EngineOptions, InputMeta};
use shush::location::Located;
use shush::rules::{LoadedConfig, RuleSet};
use shush::stream::StreamScanner;
use std::sync::OnceLock;

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn builtin() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| Engine::builtin().expect("built-in rules compile"))
}

fn builtin_deep() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| {
        Engine::new(
            RuleSet::builtin().unwrap(),
            EngineOptions {
                decode_depth: 3,
                inline_allow: true,
            },
        )
        .unwrap()
    })
}

/// The fixed test rules: unlike the built-in set, they include a rule whose keyword sits
/// before its secret (`password = "…"`), which stresses chunk boundaries differently.
fn fixture_engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| {
        let loaded = LoadedConfig::from_path(&util::fixture_rules()).unwrap();
        Engine::new(
            RuleSet::from_loaded(loaded).unwrap(),
            EngineOptions::default(),
        )
        .unwrap()
    })
}

fn fixture_engine_deep() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| {
        let loaded = LoadedConfig::from_path(&util::fixture_rules()).unwrap();
        let options = EngineOptions {
            decode_depth: 2,
            inline_allow: true,
        };
        Engine::new(RuleSet::from_loaded(loaded).unwrap(), options).unwrap()
    })
}

/// Rules whose keyword can sit 3000 bytes before or after the secret: long matches, for which
/// the margins around encoded keywords and the chunk overlap matter more than the line
/// context.
fn wide_engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| {
        let toml = r#"
[[rules]]
id = "wide-pair"
description = "A keyword far before its secret"
regex = '''widekey:[.]{0,3000}(wsec_[a-z0-9]{16})\b'''
keywords = ["widekey:"]

[[rules]]
id = "wide-tail"
description = "A secret far before its keyword"
regex = '''\b(wtok_[a-z0-9]{16})[.]{0,3000}:widetail'''
keywords = [":widetail"]
"#;
        let loaded = LoadedConfig::from_toml(toml, "wide.toml", std::path::Path::new(".")).unwrap();
        let options = EngineOptions {
            decode_depth: 2,
            inline_allow: true,
        };
        Engine::new(RuleSet::from_loaded(loaded).unwrap(), options).unwrap()
    })
}

fn corpus_wide() -> &'static Corpus {
    static C: OnceLock<Corpus> = OnceLock::new();
    C.get_or_init(|| Corpus::of(&[wide_engine()]))
}

/// What inputs are built from: real matches to plant, and keywords for near misses.
struct Corpus {
    examples: Vec<Vec<u8>>,
    keywords: Vec<String>,
}

impl Corpus {
    fn of(engines: &[&Engine]) -> Corpus {
        let rules = || engines.iter().flat_map(|e| e.rules().rules.iter());
        let mut examples: Vec<Vec<u8>> = rules()
            .flat_map(|r| r.examples().iter().map(|e| e.text().as_bytes().to_vec()))
            .collect();
        // Fresh synthetic tokens too, so the property does not hinge on a few examples.
        for i in 0..8 {
            for r in rules() {
                match r.id.as_str() {
                    "github-pat" => examples.push(format!("token={}", util::ghp(i)).into_bytes()),
                    "fixture-token" => examples.push(format!("t: {}", util::fxt(i)).into_bytes()),
                    "wide-pair" => examples.push(
                        format!(
                            "widekey:{}wsec_{}",
                            ".".repeat([0, 7, 100, 1500, 2999][i as usize % 5]),
                            util::Rng::new(i).string(b"abcdefghijklmnopqrstuvwxyz0123456789", 16)
                        )
                        .into_bytes(),
                    ),
                    "wide-tail" => examples.push(
                        format!(
                            "wtok_{}{}:widetail",
                            util::Rng::new(i).string(b"abcdefghijklmnopqrstuvwxyz0123456789", 16),
                            ".".repeat([2999, 0, 7, 100, 1500][i as usize % 5]),
                        )
                        .into_bytes(),
                    ),
                    "fixture-password" => {
                        examples.push(format!("password = \"{}\"", util::password(i)).into_bytes())
                    }
                    _ => {}
                }
            }
        }
        assert!(!examples.is_empty());
        let keywords = rules().flat_map(|r| r.keywords.iter().cloned()).collect();
        Corpus { examples, keywords }
    }
}

fn corpus_all() -> &'static Corpus {
    static C: OnceLock<Corpus> = OnceLock::new();
    C.get_or_init(|| Corpus::of(&[builtin(), fixture_engine()]))
}

fn corpus_builtin() -> &'static Corpus {
    static C: OnceLock<Corpus> = OnceLock::new();
    C.get_or_init(|| Corpus::of(&[builtin()]))
}

fn corpus_fixture() -> &'static Corpus {
    static C: OnceLock<Corpus> = OnceLock::new();
    C.get_or_init(|| Corpus::of(&[fixture_engine()]))
}

fn b64(data: &[u8], url: bool) -> Vec<u8> {
    use base64::Engine as _;
    let e = if url {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
    } else {
        base64::engine::general_purpose::STANDARD.encode(data)
    };
    e.into_bytes()
}

/// One piece of an input.
#[derive(Debug, Clone)]
enum Piece {
    /// Arbitrary bytes.
    Bytes(Vec<u8>),
    /// Printable filler with newlines.
    Text(String),
    /// A run of NUL bytes.
    Nuls(usize),
    /// A long run of base64 alphabet characters.
    Base64Noise(String),
    /// A run of `%XX` escapes.
    PercentNoise(Vec<u8>),
    /// A keyword of a built-in rule, without a secret.
    Keyword(usize),
    /// A built-in rule's example, plain.
    Example(usize),
    /// A built-in rule's example, base64-encoded (optionally URL-safe).
    Base64Example(usize, bool),
    /// A built-in rule's example, percent-encoded.
    PercentExample(usize),
    /// A built-in rule's example, base64-encoded twice.
    DoubleBase64Example(usize),
    /// A built-in rule's example on a line with an inline allow marker `pad` bytes before it.
    AllowedExample(usize, usize),
}

impl Piece {
    fn render(&self, corpus: &Corpus, out: &mut Vec<u8>) {
        let ex = &corpus.examples;
        let kw = &corpus.keywords;
        match self {
            Piece::Bytes(b) => out.extend_from_slice(b),
            Piece::Text(s) => out.extend_from_slice(s.as_bytes()),
            Piece::Nuls(n) => out.extend(std::iter::repeat_n(0u8, *n)),
            Piece::Base64Noise(s) => out.extend_from_slice(s.as_bytes()),
            Piece::PercentNoise(b) => {
                for &x in b {
                    out.extend_from_slice(format!("%{x:02x}").as_bytes());
                }
            }
            Piece::Keyword(i) => {
                if !kw.is_empty() {
                    out.extend_from_slice(kw[i % kw.len()].as_bytes())
                }
            }
            Piece::Example(i) => out.extend_from_slice(&ex[i % ex.len()]),
            Piece::Base64Example(i, url) => out.extend_from_slice(&b64(&ex[i % ex.len()], *url)),
            Piece::PercentExample(i) => {
                out.extend_from_slice(util::percent(&ex[i % ex.len()]).as_bytes())
            }
            Piece::AllowedExample(i, pad) => {
                out.extend_from_slice(b"\n# shush:allow ");
                out.extend(std::iter::repeat_n(b'.', *pad));
                out.push(b' ');
                out.extend_from_slice(&ex[i % ex.len()]);
            }
            Piece::DoubleBase64Example(i) => {
                out.extend_from_slice(&b64(&b64(&ex[i % ex.len()], false), false))
            }
        }
    }
}

fn hostile_piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        3 => proptest::collection::vec(any::<u8>(), 0..300).prop_map(Piece::Bytes),
        2 => "[ -~\n\t]{0,200}".prop_map(Piece::Text),
        1 => (0usize..64).prop_map(Piece::Nuls),
        2 => "[A-Za-z0-9+/=_-]{16,3000}".prop_map(Piece::Base64Noise),
        1 => proptest::collection::vec(any::<u8>(), 1..200).prop_map(Piece::PercentNoise),
        2 => any::<usize>().prop_map(Piece::Keyword),
        2 => any::<usize>().prop_map(Piece::Example),
        2 => (any::<usize>(), any::<bool>()).prop_map(|(i, u)| Piece::Base64Example(i, u)),
        1 => any::<usize>().prop_map(Piece::PercentExample),
        1 => any::<usize>().prop_map(Piece::DoubleBase64Example),
    ]
}

fn render(pieces: &[Piece], corpus: &Corpus) -> Vec<u8> {
    let mut out = Vec::new();
    for p in pieces {
        p.render(corpus, &mut out);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// (a) The engine never panics.

proptest! {
    #![proptest_config(Config { cases: cases(192), ..Config::default() })]

    #[test]
    fn engine_never_panics_on_arbitrary_bytes(
        pieces in proptest::collection::vec(hostile_piece(), 0..24),
        path in proptest::option::of("[a-z./_-]{1,20}"),
        deep in any::<bool>(),
    ) {
        let input = render(&pieces, corpus_all());
        let engine = if deep { builtin_deep() } else { builtin() };
        let mut st = engine.new_state();
        let meta = InputMeta { path: path.as_deref(), ..Default::default() };
        let found = shush::scan::input::scan_bytes(engine, &mut st, &input, meta);
        for f in &found {
            prop_assert!(f.span.end as usize <= input.len());
            prop_assert!(f.secret_span.start <= f.secret_span.end);
            prop_assert!(f.secret_span.end as usize <= input.len());
            prop_assert!(f.start <= f.end);
            // Line and column agree with a naive count (columns count characters: bytes
            // that are not UTF-8 continuation bytes).
            let at = f.secret_span.start as usize;
            let before = &input[..at];
            let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            let line = 1 + before.iter().filter(|&&b| b == b'\n').count() as u64;
            let column = 1 + input[line_start..at].iter().filter(|&&b| b & 0xC0 != 0x80).count() as u64;
            prop_assert_eq!((f.start.line, f.start.column), (line, column));
        }
        // Building findings (masking, fingerprints) never panics either.
        for f in &found {
            let finding = shush::finding::Finding::new(engine, f, "p", shush::finding::Source::Stdin, false);
            prop_assert!(!finding.fingerprint.is_empty());
        }
    }

    #[test]
    fn arbitrary_bytes_through_a_reader_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..4096),
    ) {
        let engine = builtin();
        let mut st = engine.new_state();
        let mut buf = Vec::new();
        let scanned = shush::scan::input::scan_reader(
            engine, &mut st, &mut bytes.as_slice(), &mut buf, InputMeta::default(),
        );
        prop_assert!(scanned.error.is_none());
        prop_assert_eq!(scanned.bytes, bytes.len() as u64);
    }
}

// ---------------------------------------------------------------------------------------------
// (b) Whole-input and chunked scans agree.

fn scan_whole(engine: &Engine, input: &[u8], meta: &InputMeta<'_>) -> Vec<Located> {
    let mut st = engine.new_state();
    let mut found = shush::stream::scan_slice(engine, &mut st, input, meta);
    engine.finalize(&mut found);
    found
}

fn scan_chunked(
    engine: &Engine,
    input: &[u8],
    meta: &InputMeta<'_>,
    chunk: usize,
    feeds: &[usize],
) -> Vec<Located> {
    let mut st = engine.new_state();
    let mut found = Vec::new();
    let mut scanner = StreamScanner::new(engine, &mut st, meta, chunk);
    let mut at = 0;
    let mut i = 0;
    while at < input.len() {
        let n = feeds[i % feeds.len()].min(input.len() - at);
        scanner.feed(&mut st, meta, &input[at..at + n], &mut found);
        at += n;
        i += 1;
    }
    let total = scanner.finish(&mut st, meta, &mut found);
    assert_eq!(total, input.len() as u64);
    engine.finalize(&mut found);
    found
}

/// The chunks of [`scan_chunked`] scanned on 1 to 3 threads (from the first feed), with
/// the input's first feed already read.
fn scan_parallel(
    engine: &Engine,
    input: &[u8],
    meta: &InputMeta<'_>,
    chunk: usize,
    feeds: &[usize],
) -> Vec<Located> {
    let head = feeds[0].min(input.len());
    let threads = 1 + feeds[0] % 3;
    let mut rest = &input[head..];
    let scan = shush::source::parallel_stream::scan_parallel(
        engine,
        &mut rest,
        input[..head].to_vec(),
        meta,
        threads,
        chunk,
    );
    assert!(scan.error.is_none());
    assert_eq!(scan.bytes, input.len() as u64);
    let mut found = scan.found;
    engine.finalize(&mut found);
    found
}

/// Filler between planted matches: printable text, sometimes with stray bytes, never so
/// glued to a planted example that it changes whether the example matches.
fn filler() -> impl Strategy<Value = Piece> {
    prop_oneof![
        6 => "[ -~\n]{0,400}".prop_map(|s| Piece::Text(format!("\n{s}\n"))),
        1 => proptest::collection::vec(any::<u8>(), 0..64).prop_map(|mut b| {
            b.insert(0, b'\n');
            b.push(b'\n');
            Piece::Bytes(b)
        }),
        1 => "[A-Za-z0-9+/]{16,600}".prop_map(|s| Piece::Base64Noise(format!("\n{s}\n"))),
        1 => any::<usize>().prop_map(Piece::Keyword),
    ]
}

fn planted() -> impl Strategy<Value = Piece> {
    prop_oneof![
        4 => any::<usize>().prop_map(Piece::Example),
        2 => (any::<usize>(), any::<bool>()).prop_map(|(i, u)| Piece::Base64Example(i, u)),
        1 => any::<usize>().prop_map(Piece::PercentExample),
        1 => any::<usize>().prop_map(Piece::DoubleBase64Example),
        1 => (any::<usize>(), 0usize..6000).prop_map(|(i, pad)| Piece::AllowedExample(i, pad)),
    ]
}

#[derive(Debug, Clone)]
struct ChunkCase {
    pieces: Vec<Piece>,
    /// Filler before and after the pieces (seed, length): inputs must be longer than the
    /// engine's overlap, or the scanner never cuts them into chunks at all.
    prefix: (u64, usize),
    suffix: (u64, usize),
    chunk: usize,
    feeds: Vec<usize>,
    binary: bool,
}

/// Scanner cost budget per case, in bytes the prefilter looks at.
const BUDGET: usize = 40 << 20;

fn chunk_case(engine: &Engine) -> impl Strategy<Value = ChunkCase> + use<> {
    let overlap = engine.overlap();
    // How far around each owned span the prefilter looks (a generous bound).
    let reach = 2 * engine.max_match_len() + 64;
    // Inputs run to about 3 overlaps; every chunk costs its size plus 2·reach, so the
    // smallest chunk is what keeps a case within budget. With today's rules that is 1 byte;
    // as rules grow longer, the smallest chunks tried grow with them.
    let min_chunk = (3 * overlap * 2 * reach / BUDGET).clamp(1, 32 << 10);
    let min_exp = usize::BITS - 1 - min_chunk.leading_zeros();
    (min_exp..=16)
        .prop_flat_map(move |e| ((1usize << e).max(min_chunk))..=(2usize << e).min(64 << 10))
        .prop_flat_map(move |chunk| {
            (
                proptest::collection::vec(prop_oneof![2 => filler(), 1 => planted()], 1..16),
                (any::<u64>(), 0..=overlap + overlap / 2),
                (any::<u64>(), 0..=overlap),
                Just(chunk),
                proptest::collection::vec(
                    prop_oneof![1usize..16, 16usize..4096, 4096usize..100_000],
                    1..8,
                ),
                proptest::bool::weighted(0.1),
            )
        })
        .prop_map(
            move |(pieces, prefix, suffix, chunk, feeds, binary)| ChunkCase {
                pieces,
                prefix,
                // At least a few chunks past the overlap.
                suffix: (
                    suffix.0,
                    suffix.1.max((overlap + 4 * chunk).saturating_sub(prefix.1)),
                ),
                chunk,
                feeds,
                binary,
            },
        )
}

/// `len` bytes of printable filler with newlines, from `seed`.
fn padding(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = util::Rng::new(seed);
    (0..len)
        .map(|_| {
            let r = rng.next_u64();
            if r % 23 == 0 {
                b'\n'
            } else {
                b' ' + (r % 95) as u8
            }
        })
        .collect()
}

fn check_chunk_case(
    engine: &Engine,
    corpus: &Corpus,
    case: &ChunkCase,
) -> Result<usize, TestCaseError> {
    let mut input = padding(case.prefix.0, case.prefix.1);
    input.push(b'\n');
    input.extend_from_slice(&render(&case.pieces, corpus));
    input.push(b'\n');
    input.extend_from_slice(&padding(case.suffix.0, case.suffix.1));
    let meta = InputMeta {
        path: Some("dir/file.txt"),
        binary: case.binary,
        ..Default::default()
    };
    let whole = scan_whole(engine, &input, &meta);
    let chunked = scan_chunked(engine, &input, &meta, case.chunk, &case.feeds);
    let parallel = scan_parallel(engine, &input, &meta, case.chunk, &case.feeds);
    if whole != parallel {
        return Err(TestCaseError::fail(format!(
            "chunk {} on several threads, input ({} bytes) b\"{}\":\nwhole:    {:?}\nparallel: {:?}",
            case.chunk,
            input.len(),
            input.escape_ascii(),
            whole,
            parallel
        )));
    }
    if whole != chunked {
        let show = |v: &[Located]| -> Vec<String> {
            v.iter()
                .map(|l| {
                    format!(
                        "{} {:?} {:?} {}:{}",
                        engine.rule(l.rule).id,
                        l.secret_span,
                        l.decoded,
                        l.start.line,
                        l.start.column
                    )
                })
                .collect()
        };
        return Err(TestCaseError::fail(format!(
            "chunk {} feeds {:?} input ({} bytes) b\"{}\":\nwhole:   {:#?}\nchunked: {:#?}",
            case.chunk,
            case.feeds,
            input.len(),
            input.escape_ascii(),
            show(&whole),
            show(&chunked)
        )));
    }
    Ok(whole.len())
}

fn run_chunk_property(engine: &Engine, corpus: &Corpus, cases_n: u32) {
    let mut runner = TestRunner::new(Config {
        cases: cases_n,
        ..Config::default()
    });
    let with_matches = std::cell::Cell::new(0u32);
    let total = std::cell::Cell::new(0u32);
    let result = runner.run(&chunk_case(engine), |case| {
        let has_plant = case.pieces.iter().any(|p| {
            matches!(
                p,
                Piece::Example(_)
                    | Piece::Base64Example(..)
                    | Piece::PercentExample(_)
                    | Piece::DoubleBase64Example(_)
            )
        });
        let n = check_chunk_case(engine, corpus, &case)?;
        if has_plant {
            total.set(total.get() + 1);
            if n > 0 {
                with_matches.set(with_matches.get() + 1);
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // Not vacuous: most inputs with a planted example do report something.
    assert!(
        with_matches.get() * 10 >= total.get() * 7,
        "only {} of {} inputs with a planted example had a match",
        with_matches.get(),
        total.get()
    );
}

#[test]
fn whole_and_chunked_scans_find_the_same_matches() {
    run_chunk_property(builtin(), corpus_builtin(), cases(192));
}

#[test]
fn whole_and_chunked_scans_agree_with_the_fixture_rules() {
    run_chunk_property(fixture_engine(), corpus_fixture(), cases(192));
}

#[test]
fn whole_and_chunked_scans_agree_with_the_fixture_rules_decoding_deeply() {
    run_chunk_property(fixture_engine_deep(), corpus_fixture(), cases(48));
}

#[test]
fn whole_and_chunked_scans_agree_on_long_matches() {
    run_chunk_property(wide_engine(), corpus_wide(), cases(48));
}

#[test]
fn whole_and_chunked_scans_agree_with_deep_decoding() {
    run_chunk_property(builtin_deep(), corpus_builtin(), cases(32));
}

// ---------------------------------------------------------------------------------------------
// (c) The baseline parser and the config loader never panic.

/// Fragments of rule files, so random configs reach past the TOML parser.
fn config_fragment() -> impl Strategy<Value = String> {
    let keys = prop_oneof![
        Just("id"),
        Just("description"),
        Just("regex"),
        Just("secretGroup"),
        Just("entropy"),
        Just("keywords"),
        Just("path"),
        Just("tags"),
        Just("skipReport"),
        Just("checksum"),
        Just("confidence"),
        Just("max_len"),
        Just("examples"),
        Just("negative_examples"),
        Just("condition"),
        Just("regexTarget"),
        Just("regexes"),
        Just("stopwords"),
        Just("paths"),
        Just("commits"),
        Just("targetRules"),
        Just("withinLines"),
        Just("withinColumns"),
        Just("useDefault"),
        Just("disabledRules"),
        Just("filter"),
    ];
    let value = prop_oneof![
        "[a-z_]{0,8}".prop_map(|s| format!("{s:?}")),
        "[ -~]{0,16}".prop_map(|s| format!("'''{}'''", s.replace('\'', ""))),
        any::<i64>().prop_map(|n| n.to_string()),
        (0u32..100).prop_map(|n| format!("{n}")),
        any::<f64>().prop_map(|f| if f.is_finite() {
            format!("{f:?}")
        } else {
            "1.5".into()
        }),
        any::<bool>().prop_map(|b| b.to_string()),
        proptest::collection::vec("[a-z_]{0,6}", 0..3).prop_map(|v| format!("{v:?}")),
        Just(r#"'''\b(tok_[a-z0-9]{8})\b'''"#.to_string()),
        Just(r#"'''(?i)key[ =]{0,3}([a-f0-9]{16})'''"#.to_string()),
        Just(r#"[{ text = "tok_abcdefgh", secret = "tok_abcdefgh" }]"#.to_string()),
        Just("\"AND\"".to_string()),
        Just("\"line\"".to_string()),
        Just("\"github-crc32\"".to_string()),
    ];
    prop_oneof![
        4 => (keys, value).prop_map(|(k, v)| format!("{k} = {v}\n")),
        1 => Just("[[rules]]\nid = \"r\"\n".to_string()),
        1 => Just("[[rules]]\n".to_string()),
        1 => Just("[[rules.allowlists]]\n".to_string()),
        1 => Just("[rules.allowlist]\n".to_string()),
        1 => Just("[[rules.required]]\nid = \"r\"\n".to_string()),
        1 => Just("[[allowlists]]\n".to_string()),
        1 => Just("[allowlist]\n".to_string()),
        1 => Just("[extend]\nuseDefault = true\n".to_string()),
        1 => Just("[extend]\npath = \"missing.toml\"\n".to_string()),
        1 => "[ -~\n]{0,30}",
    ]
}

fn load_and_use(text: &str) {
    let base = std::env::temp_dir();
    let Ok(loaded) = LoadedConfig::from_toml(text, "prop.toml", &base) else {
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
    let input = b"tok_abcdefgh key = 0123456789abcdef\nr tok_zz %41 dG9rX2FiY2RlZmdo";
    let _ = shush::scan::input::scan_bytes(&engine, &mut st, input, InputMeta::default());
    let _ = shush::rules::check::check(&engine);
}

proptest! {
    #![proptest_config(Config { cases: cases(256), ..Config::default() })]

    #[test]
    fn baseline_parser_never_panics(text in "\\PC{0,200}") {
        let _ = shush::baseline::Baseline::parse(&text);
    }

    #[test]
    fn baseline_parser_never_panics_on_json_like_text(
        parts in proptest::collection::vec(prop_oneof![
            Just("[".to_string()), Just("]".to_string()), Just("{".to_string()),
            Just("}".to_string()), Just(",".to_string()), Just("\n".to_string()),
            Just("\"fingerprint\":".to_string()), Just("\"runs\":".to_string()),
            Just("\"results\":".to_string()), Just("\"partialFingerprints\":".to_string()),
            Just("\"shushFingerprint/v1\":".to_string()), Just("\"ab12\"".to_string()),
            Just("null".to_string()), Just("7".to_string()), Just("{\n".to_string()),
        ], 0..40),
    ) {
        let text = parts.concat();
        if let Ok(b) = shush::baseline::Baseline::parse(&text) {
            prop_assert!(b.len() <= text.len());
        }
    }

    #[test]
    fn config_loader_never_panics_on_arbitrary_text(text in "\\PC{0,300}") {
        load_and_use(&text);
    }

    #[test]
    fn config_loader_never_panics_on_config_like_text(
        frags in proptest::collection::vec(config_fragment(), 0..24),
    ) {
        load_and_use(&frags.concat());
    }
}

#[test]
fn baseline_parser_survives_deep_nesting() {
    for n in [10, 200, 5000, 100_000] {
        let _ = shush::baseline::Baseline::parse(&format!("{}{}", "[".repeat(n), "]".repeat(n)));
        let _ = shush::baseline::Baseline::parse(&"{\"a\":".repeat(n));
    }
}
