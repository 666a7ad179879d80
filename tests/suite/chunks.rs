//! The chunk-boundary tester: any source that reads a stream must find the same secrets
//! however the bytes arrive — one read, single bytes, or the odd sizes a pipe, a
//! decompressor or a socket hands out, across every internal buffer boundary. Each source
//! is run through [`assert_same_for_any_reads`].

use crate::util::fxt;
use shush::Engine;
use shush::scan::{ScanOptions, Stats, scan_stdin};
use std::io::{self, Read, Write};

/// A reader that hands out its bytes in reads of the sizes it cycles through.
struct ShortReads<'a> {
    data: &'a [u8],
    sizes: &'a [usize],
    turn: usize,
}

impl Read for ShortReads<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let size = self.sizes[self.turn % self.sizes.len()];
        self.turn += 1;
        let n = size.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// Read patterns: single bytes, primes that straddle every power-of-two buffer, a pipe's
/// page, and one large read.
const PATTERNS: [&[usize]; 5] = [&[1], &[7, 13, 1], &[4093, 17], &[65536], &[usize::MAX]];

/// What a finding is, for comparison across runs: where, which rule, which secret.
type Key = (String, u64, u64, String, String);

/// Runs `source` over `input` delivered in every read pattern (a few `patterns` for large
/// inputs) and asserts that each run finds what the first finds, and at least `expect`.
fn assert_same_for_any_reads(
    input: &[u8],
    patterns: &[&[usize]],
    expect: usize,
    source: impl Fn(&mut dyn Read) -> Vec<Key>,
) {
    let mut first: Option<Vec<Key>> = None;
    for sizes in patterns {
        let mut r = ShortReads {
            data: input,
            sizes,
            turn: 0,
        };
        let found = source(&mut r);
        match &first {
            None => {
                assert!(
                    found.len() >= expect,
                    "{} < {expect}: {found:?}",
                    found.len()
                );
                first = Some(found);
            }
            Some(f) => assert_eq!(&found, f, "reads of {sizes:?}"),
        }
    }
}

/// `shush scan -`'s source over `r`, with the fixture rules' engine.
fn stdin_source(engine: &Engine) -> impl Fn(&mut dyn Read) -> Vec<Key> + '_ {
    move |r| {
        let mut r = r;
        let outcome = scan_stdin(engine, &mut r, &ScanOptions::default(), &Stats::default());
        assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
        outcome
            .findings
            .into_iter()
            .map(|f| (f.path, f.line, f.column, f.rule_id, f.fingerprint))
            .collect()
    }
}

fn engine() -> Engine {
    let loaded = shush::rules::LoadedConfig::from_path(&crate::util::fixture_rules()).unwrap();
    Engine::new(
        shush::rules::RuleSet::from_loaded(loaded).unwrap(),
        Default::default(),
    )
    .unwrap()
}

/// Lines of text with a token every few lines, `n` tokens in all.
fn log_with_tokens(n: u64) -> Vec<u8> {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!("step {i}: fetching dependencies, please wait\n"));
        s.push_str(&format!("  auth token {} accepted\n", fxt(40 + i)));
        s.push_str(&format!("{{\"service\": \"{}\"}}\n", fxt(700 + i)));
    }
    s.into_bytes()
}

#[test]
fn standard_input_finds_the_same_however_it_arrives() {
    let engine = engine();
    assert_same_for_any_reads(&log_with_tokens(30), &PATTERNS, 60, stdin_source(&engine));
}

#[test]
fn standard_input_past_the_whole_input_limit_streams_in_chunks_alike() {
    // Over 8 MiB: scanned in chunks with overlap, not read whole.
    let engine = engine();
    let mut input = log_with_tokens(20);
    let filler = b"an ordinary line of a long build log, nothing secret in it\n";
    while input.len() < (9 << 20) {
        input.extend_from_slice(filler);
    }
    input.extend(log_with_tokens(20));
    let patterns: [&[usize]; 3] = [&[4093, 17], &[65536], &[usize::MAX]];
    assert_same_for_any_reads(&input, &patterns, 80, stdin_source(&engine));
}

#[test]
fn a_compressed_stream_finds_the_same_however_it_arrives() {
    let engine = engine();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&log_with_tokens(30)).unwrap();
    let input = gz.finish().unwrap();
    assert_same_for_any_reads(&input, &PATTERNS, 60, stdin_source(&engine));
}

#[test]
fn a_tar_stream_finds_the_same_however_it_arrives() {
    let engine = engine();
    let mut builder = tar::Builder::new(Vec::new());
    for (i, name) in ["a.env", "dir/b.log", "c.txt"].iter().enumerate() {
        let body = log_with_tokens(5 + i as u64);
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        builder.append_data(&mut h, name, &body[..]).unwrap();
    }
    let input = builder.into_inner().unwrap();
    assert_same_for_any_reads(&input, &PATTERNS, 36, stdin_source(&engine));
}

/// A 12 MiB build log (past the whole-input limit, so it is cut into pieces) with GitHub
/// tokens every few hundred kilobytes and on either side of each 2 MiB piece boundary.
fn long_log_with_ghp_tokens() -> (Vec<u8>, usize) {
    let line = b"[build] compiling module, nothing secret on this line at all\n";
    let mut log = Vec::with_capacity(13 << 20);
    let mut planted = 0;
    let mut seed = 0;
    while log.len() < (12 << 20) {
        let boundary = log.len() % (2 << 20);
        if boundary < line.len() || log.len() % (300 << 10) < line.len() {
            seed += 1;
            log.extend_from_slice(
                format!("export GITHUB_TOKEN={}\n", crate::util::ghp(seed)).as_bytes(),
            );
            planted += 1;
        }
        log.extend_from_slice(line);
    }
    (log, planted)
}

#[test]
fn a_long_pipe_on_several_threads_reports_what_one_thread_reports() {
    let (log, planted) = long_log_with_ghp_tokens();
    let run = |threads: &str| {
        let out = crate::util::shush()
            .args([
                "scan",
                "--no-config",
                "--format",
                "jsonl",
                "--threads",
                threads,
                "-",
            ])
            .write_stdin(log.clone())
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let one = run("1");
    assert_eq!(one.lines().count(), planted, "{one}");
    assert!(one.contains("\"line\":"), "{one}");
    assert_eq!(run("3"), one);
}
