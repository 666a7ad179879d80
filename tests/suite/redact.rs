//! The streaming redactor's guarantees, through the library:
//! - output identical to redacting the whole input at once, for any chunking (proptest over
//!   random inputs, planted secrets of every built-in rule, random chunkings and idle
//!   releases; an exhaustive every-split-point test), and identical to an independent
//!   reference built from a whole-input engine scan;
//! - no planted secret, nor any 12-byte piece of one, reaches the output;
//! - bounded latency (a line leaves when its newline arrives; idle release keeps only a tail
//!   that could start a secret) and bounded memory (an endless line, an endless PEM body);
//! - known secrets in their encodings, `::add-mask::`, composite and gated rules.

use proptest::prelude::*;
use shush::Engine;
use shush::engine::{EngineOptions, ScanState};
use shush::redact::{
    KnownRegistry, KnownValue, MaskStyle, Masker, Plan, RedactOptions, Redactor, redact_all,
};
use shush::rules::{LoadedConfig, RuleSet};
use std::sync::{Arc, OnceLock};

fn engine() -> &'static (Engine, Plan) {
    static E: OnceLock<(Engine, Plan)> = OnceLock::new();
    E.get_or_init(|| {
        let engine = Engine::new(
            RuleSet::builtin().unwrap(),
            EngineOptions {
                decode_depth: 1,
                inline_allow: false,
            },
        )
        .unwrap();
        let plan = Plan::new(&engine);
        (engine, plan)
    })
}

fn opts() -> RedactOptions {
    RedactOptions::new(Masker::with_key(MaskStyle::Label, [9; 32]))
}

/// A planted item: an example text and the secret it holds.
#[derive(Debug, Clone)]
struct Plant {
    rule: String,
    text: Vec<u8>,
    secret: Vec<u8>,
}

/// Every built-in example that names its secret and no path: every rule family. (An example
/// with a path proves a rule scoped to one kind of file; a log has no path, as in the red-team
/// tests.)
fn plants() -> &'static Vec<Plant> {
    static P: OnceLock<Vec<Plant>> = OnceLock::new();
    P.get_or_init(|| {
        let (engine, _) = engine();
        let mut out = Vec::new();
        for rule in &engine.rules().rules {
            for ex in rule.examples() {
                if let (Some(secret), None) = (ex.secret(), ex.path()) {
                    out.push(Plant {
                        rule: rule.id.clone(),
                        text: ex.text().as_bytes().to_vec(),
                        secret: secret.as_bytes().to_vec(),
                    });
                }
            }
        }
        assert!(out.len() > 300, "{} plants", out.len());
        out
    })
}

thread_local! {
    /// A scan state handed from one streamed redaction to the next on this thread: its regex
    /// caches are built once instead of once per input (most of the cost of a short input in
    /// a debug build). [`whole`] always starts fresh, so every comparison of a streamed output
    /// with it also checks that a reused state changes nothing.
    static STATE: std::cell::RefCell<Option<ScanState>> = const { std::cell::RefCell::new(None) };
}

/// A redactor for a new input, on this thread's reused scan state.
fn redactor() -> Redactor<'static> {
    let (engine, plan) = engine();
    let st = STATE
        .with(|s| s.borrow_mut().take())
        .unwrap_or_else(|| engine.new_state());
    Redactor::with_state(engine, plan, opts(), st)
}

/// Hands `r`'s scan state back for the next [`redactor`].
fn recycle(r: Redactor<'static>) {
    STATE.with(|s| *s.borrow_mut() = Some(r.into_state()));
}

/// Redacts `input` pushed in the given pieces, calling `release_idle` after the pieces
/// whose index is in `idle`.
fn stream(input: &[u8], cuts: &[usize], idle: &[bool]) -> (Vec<u8>, u64) {
    let mut r = redactor();
    let mut out = Vec::new();
    let mut prev = 0;
    for (i, &c) in cuts.iter().chain(std::iter::once(&input.len())).enumerate() {
        let c = c.clamp(prev, input.len());
        r.push(&input[prev..c], &mut out).unwrap();
        if idle.get(i).copied().unwrap_or(false) {
            r.release_idle(&mut out).unwrap();
        }
        prev = c;
    }
    r.finish(&mut out).unwrap();
    let fc = r.stats().fail_closed;
    recycle(r);
    (out, fc)
}

fn whole(input: &[u8]) -> Vec<u8> {
    let (engine, plan) = engine();
    redact_all(engine, plan, opts(), input).unwrap()
}

/// The independent reference: one engine scan of the whole input, every reported secret
/// (composite rules unresolved, `skipReport` components left alone) masked, overlapping
/// masks merged under the most specific rule's label.
fn reference(input: &[u8]) -> Vec<u8> {
    let (engine, _) = engine();
    let mut st = engine.new_state();
    st.open_gates(true);
    st.redaction_policy(true);
    let mut spans: Vec<(usize, usize, (u8, u8, usize))> = engine
        .scan_bytes(&mut st, input, &Default::default())
        .into_iter()
        .filter(|m| !m.secret_span.is_empty() && !engine.rule(m.rule).skip_report)
        .map(|m| {
            let r = engine.rule(m.rule);
            (
                m.secret_span.start,
                m.secret_span.end,
                (1 + r.generic as u8, 2 - r.confidence as u8, m.rule),
            )
        })
        .collect();
    spans.sort();
    let mut out = Vec::new();
    let mut pos = 0;
    let mut i = 0;
    while i < spans.len() {
        let (s, mut e, mut best) = spans[i];
        let mut j = i + 1;
        while j < spans.len() && spans[j].0 < e {
            e = e.max(spans[j].1);
            best = best.min(spans[j].2);
            j += 1;
        }
        out.extend_from_slice(&input[pos..s]);
        out.extend_from_slice(format!("[REDACTED:{}]", engine.rule(best.2).id).as_bytes());
        pos = e;
        i = j;
    }
    out.extend_from_slice(&input[pos..]);
    out
}

/// Fails if any 12-byte piece of a planted secret (or a shorter secret whole) is in `out`
/// but not in the filler or in the plants' text outside their secrets. One automaton over all
/// the pieces, one pass over the output: linear in its size whatever the number of plants.
fn assert_no_leak(out: &[u8], filler: &[u8], planted: &[&Plant]) {
    // Mask labels name rules (`[REDACTED:aws-bedrock-api-key]`): not secret text.
    let mut stripped = Vec::with_capacity(out.len());
    let mut rest = out;
    while let Some(i) = memchr::memmem::find(rest, b"[REDACTED:") {
        stripped.extend_from_slice(&rest[..i]);
        stripped.push(0);
        rest = &rest[i..];
        let end = memchr::memchr(b']', rest).map_or(rest.len(), |j| j + 1);
        rest = &rest[end..];
    }
    stripped.extend_from_slice(rest);
    let out = &stripped[..];
    let context: Vec<Vec<u8>> = planted
        .iter()
        .map(|q| {
            let mut t = q.text.clone();
            if let Some(i) = memchr::memmem::find(&t, &q.secret) {
                t.splice(i..i + q.secret.len(), [0u8]);
            }
            t
        })
        .collect();
    // Each piece once, with the plant it comes from.
    let mut pieces: Vec<(&[u8], &Plant)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for p in planted {
        let w = p.secret.len().min(12);
        for piece in p.secret.windows(w) {
            if seen.insert(piece) {
                pieces.push((piece, p));
            }
        }
    }
    if pieces.is_empty() {
        return;
    }
    let ac = aho_corasick::AhoCorasick::new(pieces.iter().map(|(p, _)| p)).unwrap();
    // Pieces that also occur in the filler or in the plants' own text are no evidence.
    let mut innocent = vec![false; pieces.len()];
    for hay in std::iter::once(filler).chain(context.iter().map(Vec::as_slice)) {
        for m in ac.find_overlapping_iter(hay) {
            innocent[m.pattern().as_usize()] = true;
        }
    }
    let leak = ac
        .find_overlapping_iter(out)
        .find(|m| !innocent[m.pattern().as_usize()]);
    if let Some(m) = leak {
        let (piece, p) = pieces[m.pattern().as_usize()];
        let lo = m.start().saturating_sub(120);
        let hi = (m.start() + 120).min(out.len());
        panic!(
            "a piece {:?} of the {} secret leaked: …{}…",
            String::from_utf8_lossy(piece),
            p.rule,
            String::from_utf8_lossy(&out[lo..hi]).escape_debug()
        );
    }
}

/// Filler: log-like lines, with CR, ANSI colour, NUL and invalid UTF-8 thrown in.
fn filler() -> impl Strategy<Value = Vec<u8>> {
    let line = prop_oneof![
        Just(b"   Compiling serde v1.0.200\n".to_vec()),
        Just(b"\x1b[32mok\x1b[0m test tests::parse ... ok\r\n".to_vec()),
        Just(b"Step 4/12 : RUN apt-get update\n".to_vec()),
        Just(b"progress 45%\r".to_vec()),
        Just(b"\x00\xff\xfe binary\n".to_vec()),
        Just(b"password: \n".to_vec()),
        Just(b"token: abc\n".to_vec()),
        Just(b"-----BEGIN CERTIFICATE-----\n".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..40),
        "[ -~]{0,60}\n".prop_map(|s| s.into_bytes()),
    ];
    proptest::collection::vec(line, 0..6).prop_map(|v| v.concat())
}

/// An input: filler with up to three plants, each on its own lines.
fn input() -> impl Strategy<Value = (Vec<u8>, Vec<u8>, Vec<usize>)> {
    let n = plants().len();
    (
        proptest::collection::vec(filler(), 1..5),
        proptest::collection::vec(0..n, 0..4),
    )
        .prop_map(|(fills, picks)| {
            let mut input = Vec::new();
            let mut fill_only = Vec::new();
            for (i, f) in fills.iter().enumerate() {
                input.extend_from_slice(f);
                fill_only.extend_from_slice(f);
                if let Some(&p) = picks.get(i) {
                    input.push(b'\n');
                    input.extend_from_slice(&plants()[p].text);
                    input.push(b'\n');
                }
            }
            (input, fill_only, picks)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn any_chunking_equals_whole_and_reference(
        (input, fill, picks) in input(),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..24),
        idle in proptest::collection::vec(any::<bool>(), 0..25),
    ) {
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(input.len() + 1)).collect();
        cuts.sort_unstable();
        let expected = whole(&input);
        let (got, fail_closed) = stream(&input, &cuts, &idle);
        prop_assert!(got == expected, "chunked output differs from the whole-input output");
        if fail_closed == 0 {
            prop_assert!(expected == reference(&input), "differs from the engine reference");
        }
        let planted: Vec<&Plant> = picks.iter().map(|&i| &plants()[i]).collect();
        assert_no_leak(&got, &fill, &planted);
    }

    #[test]
    fn one_byte_at_a_time((input, fill, picks) in input()) {
        let cuts: Vec<usize> = (1..input.len()).collect();
        let (got, _) = stream(&input, &cuts, &[]);
        prop_assert!(got == whole(&input));
        let planted: Vec<&Plant> = picks.iter().map(|&i| &plants()[i]).collect();
        assert_no_leak(&got, &fill, &planted);
    }
}

/// Every plant of every rule, alone on a line between log lines, through 1-, 7- and
/// 64-byte chunks with idle releases: equal to the whole-input output and the reference,
/// and the secret is gone.
#[test]
fn every_rule_every_small_chunking() {
    for p in plants() {
        let mut input = b"   Compiling foo v0.1.0\nexport X=1\n".to_vec();
        input.extend_from_slice(&p.text);
        input.extend_from_slice(b"\n\x1b[0mtest result: ok.\n");
        let expected = whole(&input);
        assert!(
            expected == reference(&input),
            "{}: whole-input redaction differs from the engine reference",
            p.rule
        );
        for step in [1usize, 7, 64] {
            let cuts: Vec<usize> = (step..input.len()).step_by(step).collect();
            let idle: Vec<bool> = (0..cuts.len() + 1).map(|i| i % 3 == 0).collect();
            let (got, _) = stream(&input, &cuts, &idle);
            assert!(got == expected, "{}: {step}-byte chunks differ", p.rule);
        }
        assert_no_leak(&expected, b"", &[p]);
    }
}

/// Every split point of an input holding a PEM key, a kubeconfig token, a netrc entry, a
/// GitHub token, a base64-encoded secret and an `::add-mask::` line: two pushes (with and
/// without an idle release between them) give the whole-input output.
#[test]
fn exhaustive_split_points() {
    let pick = |rule: &str| {
        plants()
            .iter()
            .find(|p| p.rule == rule)
            .unwrap_or_else(|| panic!("no plant for {rule}"))
            .text
            .clone()
    };
    let mut input = Vec::new();
    input.extend_from_slice(b"step 1\r\n");
    input.extend_from_slice(&pick("github-pat"));
    input.extend_from_slice(b"\n::add-mask::Sup3rS3cretValue\nuse Sup3rS3cretValue now\n");
    input.extend_from_slice(&pick("kubeconfig-user-token"));
    input.extend_from_slice(b"\n");
    input.extend_from_slice(&pick("netrc-password"));
    input.extend_from_slice(b"\nprogress 10%\rprogress 99%\r\n");
    input.extend_from_slice(&pick("private-key-openssh"));
    input.extend_from_slice(b"\nAuthorization: Basic ");
    {
        use base64::Engine as _;
        let enc = base64::engine::general_purpose::STANDARD
            .encode(b"token=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");
        input.extend_from_slice(enc.as_bytes());
    }
    input.extend_from_slice(b"\ndone");
    let expected = whole(&input);
    assert!(!contains(&expected, b"Sup3rS3cretValue"));
    assert!(!contains(
        &expected,
        b"Ky9Pf34qY6Nb3wWD25RQ4F5ZR3qa7y3gm1IL"
    ));
    same_at_every_split_point(&input, &expected);
}

/// Streaming `input` cut in two at every byte, with and without an idle release at the cut,
/// gives `expected`.
fn same_at_every_split_point(input: &[u8], expected: &[u8]) {
    for k in 0..=input.len() {
        for idle in [false, true] {
            let (got, _) = stream(input, &[k], &[idle]);
            assert!(
                got == expected,
                "split at {k} (idle release: {idle}) differs"
            );
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

#[test]
fn a_line_leaves_when_its_newline_arrives() {
    let (engine, plan) = engine();
    let mut r = Redactor::new(engine, plan, opts());
    let mut out = Vec::new();
    r.push(b"building...", &mut out).unwrap();
    assert!(
        out.is_empty(),
        "a partial line waits for its newline or the idle timer"
    );
    r.push(b" done\nnext", &mut out).unwrap();
    assert_eq!(out, b"building... done\n");
    r.push(b" ghp_Ky9Pf34qY6Nb3w", &mut out).unwrap();
    r.release_idle(&mut out).unwrap();
    // The idle release lets the partial line go, except the possible start of a token.
    assert_eq!(out, b"building... done\nnext ");
    r.push(b"WD25RQ4F5ZR3qa7y3gm1IL\n", &mut out).unwrap();
    assert_eq!(out, b"building... done\nnext [REDACTED:github-pat]\n");
}

#[test]
fn a_prompt_is_released_but_a_keyword_tail_is_held() {
    let (engine, plan) = engine();
    let mut r = Redactor::new(engine, plan, opts());
    let mut out = Vec::new();
    r.push(b"Continue? [y/N] ", &mut out).unwrap();
    r.release_idle(&mut out).unwrap();
    assert_eq!(out, b"Continue? [y/N] ");
    out.clear();
    r.push(b"\nEnter password: ", &mut out).unwrap();
    r.release_idle(&mut out).unwrap();
    assert_eq!(out, b"\nEnter ", "what follows `password` could be one");
}

#[test]
fn a_multiline_key_is_held_until_it_ends() {
    let (engine, plan) = engine();
    let pem = plants()
        .iter()
        .find(|p| p.rule == "private-key-rsa")
        .unwrap()
        .text
        .clone();
    let mut r = Redactor::new(engine, plan, opts());
    let mut out = Vec::new();
    r.push(b"before\n", &mut out).unwrap();
    let end = pem.len() - 3;
    r.push(&pem[..end], &mut out).unwrap();
    r.release_idle(&mut out).unwrap();
    assert_eq!(
        out, b"before\n",
        "the block is held while it may still be a key"
    );
    r.push(&pem[end..], &mut out).unwrap();
    r.push(b"after\n", &mut out).unwrap();
    assert_eq!(out, b"before\n[REDACTED:private-key-rsa]\nafter\n");
}

#[test]
fn an_endless_line_streams_in_bounded_memory() {
    let (engine, plan) = engine();
    let mut r = Redactor::new(engine, plan, opts());
    let chunk: Vec<u8> = (0..64 * 1024)
        .map(|i| b"abcdefghij0123456789 ,;"[i % 23])
        .collect();
    let mut out = Vec::new();
    let mut written = 0usize;
    let mut max_buf = 0;
    for i in 0..512 {
        // 32 MiB without a newline, a secret in the middle.
        if i == 256 {
            r.push(b" 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 ", &mut out)
                .unwrap();
        }
        r.push(&chunk, &mut out).unwrap();
        written += out.len();
        if i == 300 {
            assert!(contains(&out, b"[REDACTED:github-pat]") || written > 0);
        }
        assert!(!contains(&out, b"Ky9Pf34qY6Nb3wWD25RQ4F5ZR3qa7y3gm1IL"));
        out.clear();
        max_buf = max_buf.max(r.buffered());
    }
    r.finish(&mut out).unwrap();
    written += out.len();
    assert!(max_buf < 3 << 20, "buffer grew to {max_buf} bytes");
    assert_eq!(written, 512 * chunk.len() + " [REDACTED:github-pat] ".len());
}

#[test]
fn an_endless_pem_body_is_masked_whole_in_bounded_memory() {
    let (engine, plan) = engine();
    let mut r = Redactor::new(engine, plan, opts());
    let mut out = Vec::new();
    r.push(b"log line\n-----BEGIN RSA PRIVATE KEY-----\n", &mut out)
        .unwrap();
    let body = b"MIIEpAIBAAKCAQEA+Uket7mQHi+hfg+CjF1utryQ5jkC4Ef0d95NidNyMTNqEM+t\n";
    let mut max_buf = 0;
    let mut total = Vec::new();
    for _ in 0..100_000 {
        r.push(body, &mut out).unwrap();
        total.extend_from_slice(&out);
        out.clear();
        max_buf = max_buf.max(r.buffered());
    }
    r.finish(&mut out).unwrap();
    total.extend_from_slice(&out);
    assert!(max_buf < 3 << 20, "buffer grew to {max_buf} bytes");
    assert!(
        !contains(&total, b"MIIEpAIBAAKCAQEA"),
        "no byte of the body leaves raw"
    );
    // Masked through the last key line: the line feed after it is kept.
    assert_eq!(total, b"log line\n[REDACTED:private-key-rsa]\n");
    assert_eq!(r.stats().fail_closed, 1);
}

#[test]
fn an_unterminated_key_at_the_end_is_masked_whole() {
    let out = whole(b"a\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n");
    // The key rules match a block cut off before its END line through its last key line,
    // so the line feed after it is kept.
    assert_eq!(out, b"a\n[REDACTED:private-key-openssh]\n");
}

#[test]
fn known_values_in_every_encoding() {
    use base64::Engine as _;
    let (engine, plan) = engine();
    let v = b"p@ss w0rd/ext\"ra";
    let reg = Arc::new(KnownRegistry::new(vec![
        KnownValue::new("env:DB_PASSWORD", v).unwrap(),
    ]));
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut lines: Vec<Vec<u8>> = vec![
        v.to_vec(),
        b64.encode(v).into_bytes(),
        b64.encode(b"user:p@ss w0rd/ext\"ra").into_bytes(),
        b64.encode(b"xuser:p@ss w0rd/ext\"ra@host").into_bytes(),
        b64.encode(b"xyuser:p@ss w0rd/ext\"ra").into_bytes(),
        b"p%40ss%20w0rd%2Fext%22ra".to_vec(),
        b"p%40ss+w0rd%2Fext%22ra".to_vec(),
        br#"{"pw":"p@ss w0rd/ext\"ra"}"#.to_vec(),
        v.iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
            .into_bytes(),
    ];
    let short = KnownValue::new("env:SHORT", b"abc");
    assert!(short.is_err());
    let mut input = Vec::new();
    for l in &mut lines {
        input.extend_from_slice(b"value: ");
        input.extend_from_slice(l);
        input.push(b'\n');
    }
    let mut r = Redactor::new(engine, plan, opts()).with_known(reg);
    let mut out = Vec::new();
    for b in input.chunks(5) {
        r.push(b, &mut out).unwrap();
    }
    r.finish(&mut out).unwrap();
    for l in &lines {
        // Base64 keeps at most the characters that also depend on neighbouring bytes.
        let piece = &l[l.len() / 2 - 3..l.len() / 2 + 3];
        assert!(
            !contains(&out, piece),
            "an encoding leaked: {}",
            String::from_utf8_lossy(&out)
        );
    }
    assert_eq!(
        out.split(|&b| b == b'\n')
            .filter(|l| contains(l, b"[REDACTED:known-secret]"))
            .count(),
        lines.len()
    );
}

#[test]
fn add_mask_applies_to_its_line_and_after_not_before() {
    let input = b"early Xy7-secret-Q9\n::add-mask::Xy7-secret-Q9\nlate Xy7-secret-Q9 and eHk3LXNlY3JldC1RO\n";
    let out = whole(input);
    assert_eq!(
        String::from_utf8_lossy(&out),
        "early Xy7-secret-Q9\n::add-mask::[REDACTED:add-mask]\nlate [REDACTED:known-secret] and eHk3LXNlY3JldC1RO\n"
    );
    // Too short to mask elsewhere: masked in the command itself only, with a warning.
    let (engine, plan) = engine();
    let mut r = Redactor::new(engine, plan, opts());
    let mut out = Vec::new();
    r.push(b"::add-mask::ab\nab cd\n", &mut out).unwrap();
    r.finish(&mut out).unwrap();
    assert_eq!(out, b"::add-mask::[REDACTED:add-mask]\nab cd\n");
    assert_eq!(r.take_warnings().len(), 1);
}

/// Redacts `input` in two pushes split at `k` (an idle release between them when `idle`),
/// with registrations on: the output with `<REG:value>` where each registration belongs.
fn with_registrations(input: &[u8], k: usize, idle: bool) -> Vec<u8> {
    let (engine, plan) = engine();
    let mut o = opts();
    o.registrations = true;
    let mut r = Redactor::new(engine, plan, o);
    let mut out = Vec::new();
    let mut regs = Vec::new();
    let mut shown = Vec::new();
    let mut step = |r: &mut Redactor<'_>, out: &mut Vec<u8>| {
        for (at, v) in r.take_registrations() {
            regs.push((shown.len() + at, v));
        }
        shown.extend_from_slice(out);
        out.clear();
    };
    r.push(&input[..k], &mut out).unwrap();
    if idle {
        r.release_idle(&mut out).unwrap();
    }
    step(&mut r, &mut out);
    r.push(&input[k..], &mut out).unwrap();
    r.finish(&mut out).unwrap();
    step(&mut r, &mut out);
    for (at, v) in regs.into_iter().rev() {
        let mark = format!("<REG:{}>", String::from_utf8_lossy(&v));
        shown.splice(at..at, mark.into_bytes());
    }
    shown
}

/// Add-mask commands as the runner reads them (lines end at `\r` too, the name in any case,
/// the legacy `##[add-mask]` form, escaped data) are masked in their line and from then on in
/// their unescaped form; the values to register with the runner come out where their
/// commands start, not while a `::stop-commands::` is in effect; all of it whatever the
/// chunking.
#[test]
fn add_mask_commands_as_the_runner_reads_them() {
    let input: &[u8] = b"early Xy7-secret-Q9\n\
        progress 3%\r  ::ADD-MASK::Xy7-secret-Q9\r\n\
        ::add-mask::pa%25ss-W0rd%0Asecond-L1ne\n\
        ::stop-commands::pause-token\n\
        ::add-mask::while-Stopped-1\n\
        ::pause-token::\n\
        log ##[add-mask]legacy-Value-2\n\
        late Xy7-secret-Q9 pa%ss-W0rd second-L1ne pa%25ss-W0rd%0Asecond-L1ne \
        while-Stopped-1 legacy-Value-2\n";
    let expected = "early Xy7-secret-Q9\n\
        progress 3%\r  <REG:Xy7-secret-Q9>::ADD-MASK::[REDACTED:add-mask]\r\n\
        <REG:pa%ss-W0rd\nsecond-L1ne>::add-mask::[REDACTED:add-mask]\n\
        ::stop-commands::pause-token\n\
        ::add-mask::[REDACTED:add-mask]\n\
        ::pause-token::\n\
        log <REG:legacy-Value-2>##[add-mask][REDACTED:add-mask]\n\
        late [REDACTED:known-secret] [REDACTED:known-secret] [REDACTED:known-secret] \
        [REDACTED:known-secret] [REDACTED:known-secret] [REDACTED:known-secret]\n";
    assert_eq!(
        String::from_utf8_lossy(&with_registrations(input, 0, false)),
        expected
    );
    for k in 0..=input.len() {
        for idle in [false, true] {
            let got = with_registrations(input, k, idle);
            assert!(
                got == expected.as_bytes(),
                "split at {k} (idle release: {idle}):\n{}",
                String::from_utf8_lossy(&got)
            );
        }
    }
}

/// An add-mask line longer than the redactor's look-ahead (`core.setSecret` of a certificate
/// bundle is one line, its line breaks escaped) that arrives in pieces is not cut before
/// its end: no piece of the value leaves, whatever the chunking.
#[test]
fn a_long_add_mask_line_is_not_released_before_it_ends() {
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let value: Vec<u8> = (0..120_000)
        .map(|i| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            if i % 65 == 64 {
                b'%'
            } else {
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                    [(rng % 62) as usize]
            }
        })
        .collect();
    let mut input = b"start\n::add-mask::".to_vec();
    input.extend_from_slice(&value);
    input.extend_from_slice(b"\nthen ");
    input.extend_from_slice(&value);
    input.extend_from_slice(b"\n");
    let expected = whole(&input);
    assert_eq!(
        expected,
        b"start\n::add-mask::[REDACTED:add-mask]\nthen [REDACTED:known-secret]\n"
    );
    for step in [8192, 65_536] {
        let cuts: Vec<usize> = (step..input.len()).step_by(step).collect();
        let idle = vec![true; cuts.len() + 1];
        let (got, _) = stream(&input, &cuts, &idle);
        assert!(got == expected, "{step}-byte chunks");
    }
}

#[test]
fn composite_rule_primary_is_masked_without_its_partner() {
    // `aws-secret-key-paired` needs an access key id within 4 lines to be *reported*; a
    // redactor cannot wait for context that may come later, so it masks the match anyway.
    let out = whole(b"secret_key = \"RKTP/6+NTYol7Fa1+4W9sgVIjUyAk//G7c3tbRFw\"\n");
    assert!(
        !contains(&out, b"RKTP/6+NTYol7Fa1+4W9sgVIjUyAk"),
        "{}",
        String::from_utf8_lossy(&out)
    );
}

#[test]
fn gated_rules_run_without_their_gate_keyword() {
    let toml = "[[rules]]\nid='tok'\nregex='''tok_[a-z]{10}'''\nkeywords=['mytool']\n";
    let rules = RuleSet::from_loaded(
        LoadedConfig::from_toml(toml, "t.toml", std::path::Path::new(".")).unwrap(),
    )
    .unwrap();
    let engine = Engine::new(rules, EngineOptions::default()).unwrap();
    let plan = Plan::new(&engine);
    let out = redact_all(&engine, &plan, opts(), b"x tok_abcdefghij y\n").unwrap();
    assert_eq!(out, b"x [REDACTED:tok] y\n");
}

#[test]
fn bytes_pass_through_unchanged() {
    let input = b"\x1b[1;31merror\x1b[0m\r\n\x00\x01\xff\xfe\xc3(\r\rprogress\r\n\n\n tail";
    assert_eq!(whole(input), input);
    let (got, _) = stream(input, &[1, 2, 3, 5, 8, 13, 21], &[true, true, true]);
    assert_eq!(got, input);
}

/// A custom multi-line rule whose match can go on past a newline after a complete match:
/// the match a line cut sees is not final while the rule's candidate is open, and the one
/// the whole input gives is masked whatever the chunking.
#[test]
fn a_greedy_multiline_match_is_not_cut_at_a_line() {
    let toml = "[[rules]]\nid='block'\nregex='''secret-block:([A-Za-z\\n]{8,200})'''\nkeywords=['secret-block:']\n";
    let rules = RuleSet::from_loaded(
        LoadedConfig::from_toml(toml, "t.toml", std::path::Path::new(".")).unwrap(),
    )
    .unwrap();
    let engine = Engine::new(rules, EngineOptions::default()).unwrap();
    let plan = Plan::new(&engine);
    let input = b"x\nsecret-block:abcdefgh\nijklmnop\nqrst\n1234\n";
    let whole = redact_all(&engine, &plan, opts(), input).unwrap();
    assert_eq!(whole, b"x\nsecret-block:[REDACTED:block]1234\n");
    for step in 1..input.len() {
        let mut r = Redactor::new(&engine, &plan, opts());
        let mut out = Vec::new();
        for piece in input.chunks(step) {
            r.push(piece, &mut out).unwrap();
            r.release_idle(&mut out).unwrap();
        }
        r.finish(&mut out).unwrap();
        assert_eq!(out, whole, "{step}-byte chunks");
    }
}

/// A match seen at a line cut while a preferred alternative is still open is not final:
/// here the cut sees the second alternative (secret `XXXXXXXYY`), the whole input the first
/// (secret `XXXXXXXX`). Applying the early one as well would mask `YY` too.
#[test]
fn an_open_candidate_defers_matches_of_its_rule() {
    let toml = "[[rules]]\nid='alt'\nregex='''(?:(XXXXXXXX)YY\\nZZ|X(XXXXXXXYY))'''\nkeywords=['xxxxxxxx']\n";
    let rules = RuleSet::from_loaded(
        LoadedConfig::from_toml(toml, "t.toml", std::path::Path::new(".")).unwrap(),
    )
    .unwrap();
    let engine = Engine::new(rules, EngineOptions::default()).unwrap();
    let plan = Plan::new(&engine);
    let input = b"a\nXXXXXXXXYY\nZZ\nb\n";
    let whole = redact_all(&engine, &plan, opts(), input).unwrap();
    assert_eq!(whole, b"a\n[REDACTED:alt]YY\nZZ\nb\n");
    let mut r = Redactor::new(&engine, &plan, opts());
    let mut out = Vec::new();
    for line in input.split_inclusive(|&b| b == b'\n') {
        r.push(line, &mut out).unwrap();
    }
    r.finish(&mut out).unwrap();
    assert_eq!(out, whole);
}

/// Many multi-line keyword hits over a few MB (the buffer is trimmed on the way), ending with
/// a newline so that the end of input owns nothing new: no stale hit may start a thread.
#[test]
fn many_multiline_keyword_hits_then_eof() {
    let input = b"  token: abcdefghij\nuser: x\npassword here\n".repeat(80_000);
    let (engine, plan) = engine();
    let mut r = Redactor::new(engine, plan, opts());
    let mut out = Vec::new();
    for piece in input.chunks(256 * 1024) {
        r.push(piece, &mut out).unwrap();
    }
    r.finish(&mut out).unwrap();
    assert_eq!(out, input);
}

/// A few MB (so the buffer is trimmed many times) with every plant scattered through log
/// lines, in pseudo-random chunk sizes with idle releases: equal to the whole-input output,
/// and no plant's secret survives.
#[test]
fn large_input_random_chunkings() {
    let filler =
        b"   Compiling serde v1.0.200\ntest parse::tests::token_3 ... ok\nprogress 45%\r\n"
            .repeat(100);
    let mut input = Vec::new();
    for p in plants() {
        input.extend_from_slice(&filler);
        input.push(b'\n');
        input.extend_from_slice(&p.text);
        input.push(b'\n');
    }
    assert!(input.len() > 4 << 20, "{} bytes", input.len());
    let expected = whole(&input);
    let all: Vec<&Plant> = plants().iter().collect();
    assert_no_leak(&expected, &filler, &all);
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for round in 0..3 {
        let mut cuts = Vec::new();
        let mut idle = Vec::new();
        let mut at = 0usize;
        loop {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let max = [300usize, 70_000, 400_000][round];
            at += 1 + (seed as usize) % max;
            if at >= input.len() {
                break;
            }
            cuts.push(at);
            idle.push(seed % 5 == 0);
        }
        let (got, _) = stream(&input, &cuts, &idle);
        assert!(got == expected, "round {round} differs");
    }
}

#[test]
fn utf16le_output_is_masked_in_utf16le_at_every_split_point() {
    // What `shush run -- pwsh …` sees when a script writes with `Out-File`-style encoding.
    let wide = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect() };
    let token = "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";
    let mut input = b"plain step\n".to_vec();
    input.extend_from_slice(&[0xff, 0xfe]);
    input.extend(wide(&format!(
        "PS> .\\deploy.ps1\r\n$env:GH = '{token}'\r\nDone.\r\n"
    )));
    let expected = whole(&input);
    assert!(
        !contains(&expected, &wide(token)[..24]),
        "wide token leaked"
    );
    // The mask is written in UTF-16LE too, and the text around it is intact.
    assert!(contains(&expected, &wide("[REDACTED:github-pat]")));
    assert!(contains(&expected, &wide("$env:GH = '")));
    assert!(contains(&expected, &wide("'\r\nDone.\r\n")));
    same_at_every_split_point(&input, &expected);
}
