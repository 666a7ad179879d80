//! Engine throughput with the full built-in rules, one thread (per-core numbers).
//!
//! ```text
//! cargo bench --bench engine                      # everything
//! cargo bench --bench engine -- throughput/code   # one input
//! SHUSH_BENCH_CODE=~/src cargo bench --bench engine -- throughput/code
//! ```
//!
//! Inputs (deterministic; sizes printed on stderr before measuring):
//! - `throughput/code`: realistic source and config files (the corpus generator's filler in
//!   ~20 formats) with sparse secrets (one minted secret line per ~64 KiB), scanned file by
//!   file as `shush scan` does. With `SHUSH_BENCH_CODE=DIR`, the text files under `DIR`
//!   instead (binary files and files over 8 MiB skipped; at most `SHUSH_BENCH_CODE_MAX`
//!   bytes, default 256 MiB, read in path order).
//! - `throughput/dense`: one file dense with keyword hits: `token`, `password`, `key`,
//!   `secret` assignments, placeholders, env references and base64 blobs (the decoder's and
//!   the generic rules' worst case).
//! - `throughput/logs`: a CI log (timestamped lines) mixed with access and JSON app logs,
//!   scanned whole, and `stream/logs`: the same through the chunked streaming API in 64 KiB
//!   writes, as a redactor sees it.
//! - `startup/engine+tiny`: building the engine from the embedded rules and scanning a tiny
//!   input (the per-process cost a pre-commit hook pays; the embedded JSON is parsed once per
//!   process, so later iterations measure rule compilation, the keyword automaton and the
//!   lazily compiled regexes the input triggers). `startup/tiny` scans the tiny input with a
//!   ready engine. `benches/startup.sh` measures whole-process start.

#[allow(dead_code)]
#[path = "../corpus/generator.rs"]
mod generator;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use generator::{Kind, Options, Rng, clean_files, generate};
use shush::engine::{Engine, InputMeta};
use shush::scan::input::scan_bytes;
use shush::stream::{DEFAULT_CHUNK, StreamScanner};
use std::hint::black_box;
use std::time::Duration;

const SEED: u64 = 0xBE_4C_11;
const CODE_BYTES: usize = 8 << 20;
const DENSE_BYTES: usize = 2 << 20;
const LOG_BYTES: usize = 4 << 20;
const TINY: &[u8] = b"# settings\nLOG_LEVEL=info\nDATABASE_HOST=db.internal\n";

/// Files to scan: (path, bytes).
type Files = Vec<(String, Vec<u8>)>;

fn total(files: &Files) -> u64 {
    files.iter().map(|(_, b)| b.len() as u64).sum()
}

/// Lines holding minted secrets, from the corpus generator.
fn secret_lines(engine: &Engine) -> Vec<String> {
    let corpus = generate(
        engine,
        &Options {
            seed: SEED,
            mints_per_example: 1,
            min_negatives_per_category: 0,
            negatives_per_rule: 0.0,
            ..Options::default()
        },
    );
    let mut lines = Vec::new();
    for l in corpus
        .labels
        .iter()
        .filter(|l| l.positive && l.first_line == l.last_line)
    {
        if let Some(f) = corpus.files.iter().find(|f| f.path == l.file) {
            if let Some(text) = f.content.lines().nth(l.line as usize - 1) {
                lines.push(text.to_string());
            }
        }
    }
    lines
}

fn code_files(engine: &Engine) -> Files {
    if let Ok(dir) = std::env::var("SHUSH_BENCH_CODE") {
        return real_files(&dir);
    }
    let kinds = [
        Kind::Python,
        Kind::JavaScript,
        Kind::TypeScript,
        Kind::Go,
        Kind::Java,
        Kind::Shell,
        Kind::K8sDeployment,
        Kind::K8sConfigMap,
        Kind::GithubActions,
        Kind::DockerCompose,
        Kind::DotEnv,
        Kind::Dockerfile,
        Kind::Xml,
        Kind::Ini,
        Kind::Properties,
        Kind::Toml,
        Kind::Markdown,
        Kind::Terraform,
        Kind::Lockfile,
        Kind::MinifiedJs,
    ];
    let mut files: Files = clean_files(SEED, &kinds, CODE_BYTES)
        .into_iter()
        .map(|f| (f.path, f.content.into_bytes()))
        .collect();
    // Sparse secrets: one line per ~64 KiB, appended to random files.
    let secrets = secret_lines(engine);
    let mut rng = Rng::new(SEED);
    let n = CODE_BYTES / (64 << 10);
    for _ in 0..n.min(secrets.len() * 4) {
        let line = rng.pick(&secrets).clone();
        let i = rng.below(files.len());
        files[i].1.extend_from_slice(line.as_bytes());
        files[i].1.push(b'\n');
    }
    files
}

fn real_files(dir: &str) -> Files {
    let max: u64 = std::env::var("SHUSH_BENCH_CODE_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256 << 20);
    let mut paths: Vec<std::path::PathBuf> = ignore::WalkBuilder::new(dir)
        .standard_filters(false)
        .hidden(false)
        .build()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .map(|e| e.into_path())
        .collect();
    paths.sort();
    let mut files = Files::new();
    let mut sum = 0u64;
    for p in paths {
        let Ok(bytes) = std::fs::read(&p) else {
            continue;
        };
        if bytes.len() > 8 << 20 || shush::scan::input::looks_binary(&bytes) {
            continue;
        }
        sum += bytes.len() as u64;
        if sum > max {
            break;
        }
        files.push((p.display().to_string(), bytes));
    }
    assert!(!files.is_empty(), "SHUSH_BENCH_CODE={dir}: no text files");
    files
}

/// A file dense with keyword hits and base64 blobs, nearly all of them harmless.
fn dense_file() -> Files {
    use base64::Engine as _;
    let b64 =
        |rng: &mut Rng, n: usize| base64::engine::general_purpose::STANDARD.encode(rng.bytes(n));
    let mut rng = Rng::new(SEED ^ 1);
    let keys = [
        "token",
        "password",
        "key",
        "secret",
        "api_key",
        "apiKey",
        "access_token",
        "secret_key",
        "private_key",
        "auth_token",
        "client_secret",
        "passwd",
        "credentials",
        "session_key",
    ];
    let mut s = String::with_capacity(DENSE_BYTES + 4096);
    while s.len() < DENSE_BYTES {
        let k = *rng.pick(&keys);
        let line = match rng.below(10) {
            0 => format!("{k} = get_{k}(user_id)"),
            1 => format!("{k}: ${{{}}}", k.to_ascii_uppercase()),
            2 => format!("{k} = os.environ[\"{}\"]", k.to_ascii_uppercase()),
            3 => format!("\"{k}\": \"{}\",", b64(&mut rng, 24)),
            4 => format!("{k}_hash = \"sha256:{}\"", rng.hex(64)),
            5 => format!("data: {}", b64(&mut rng, 600)),
            6 => format!("if not {k} or len({k}) < 12: raise ValueError(\"bad {k}\")"),
            7 => format!("cache_{k} = \"{}:{}\"", rng.hex(8), rng.hex(40)),
            8 => format!("{k}=changeme # TODO rotate {k} and {}", rng.pick(&keys)),
            _ => format!("<{k}>{}</{k}>", b64(&mut rng, 48)),
        };
        s.push_str(&line);
        s.push('\n');
    }
    vec![("dense/keywords.py".into(), s.into_bytes())]
}

/// CI output interleaved with access logs and JSON application logs.
fn log_file() -> Files {
    let mut rng = Rng::new(SEED ^ 2);
    let mut s = String::with_capacity(LOG_BYTES + 4096);
    let paths = [
        "/v1/orders",
        "/v1/users/me",
        "/healthz",
        "/v2/search",
        "/oauth/token",
        "/v1/invoices",
    ];
    while s.len() < LOG_BYTES {
        match rng.below(3) {
            0 => {
                let chunks = rng.range(5, 30);
                s.push_str(&Kind::CiLog.render_clean(&mut rng, chunks));
            }
            1 => {
                for _ in 0..rng.range(5, 40) {
                    s.push_str(&format!(
                        "10.{}.{}.{} - - [12/Mar/2024:10:{:02}:{:02} +0000] \"GET {}?page={}&session={} HTTP/1.1\" {} {} \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\"\n",
                        rng.below(256),
                        rng.below(256),
                        rng.below(256),
                        rng.below(60),
                        rng.below(60),
                        rng.pick(&paths),
                        rng.range(1, 50),
                        rng.hex(16),
                        rng.pick(&[200, 200, 200, 304, 401, 404, 500]),
                        rng.range(80, 40_000)
                    ));
                }
            }
            _ => {
                for _ in 0..rng.range(5, 40) {
                    s.push_str(&format!(
                        "{{\"ts\":\"2024-03-12T10:{:02}:{:02}.{:03}Z\",\"level\":\"{}\",\"msg\":\"request completed\",\"path\":\"{}\",\"status\":{},\"duration_ms\":{},\"request_id\":\"{}-{}-{}\",\"user\":\"u_{}\",\"token_present\":true}}\n",
                        rng.below(60),
                        rng.below(60),
                        rng.below(1000),
                        rng.pick(&["info", "info", "warn", "debug"]),
                        rng.pick(&paths),
                        rng.pick(&[200, 201, 400, 401, 500]),
                        rng.range(1, 900),
                        rng.hex(8),
                        rng.hex(4),
                        rng.hex(12),
                        rng.range(1000, 99_999)
                    ));
                }
            }
        }
    }
    vec![("logs/app.log".into(), s.into_bytes())]
}

fn scan_files(engine: &Engine, st: &mut shush::ScanState, files: &Files) -> usize {
    let mut n = 0;
    for (path, bytes) in files {
        let meta = InputMeta {
            path: Some(path),
            ..Default::default()
        };
        n += scan_bytes(engine, st, bytes, meta).len();
    }
    n
}

fn throughput(c: &mut Criterion) {
    let engine = Engine::builtin().expect("built-in rules");
    let mut st = engine.new_state();
    let inputs = [
        ("code", code_files(&engine)),
        ("dense", dense_file()),
        ("logs", log_file()),
    ];
    let mut g = c.benchmark_group("throughput");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    for (name, files) in &inputs {
        let found = scan_files(&engine, &mut st, files);
        eprintln!(
            "throughput/{name}: {} files, {:.2} MiB, {} rules, {found} findings",
            files.len(),
            total(files) as f64 / (1 << 20) as f64,
            engine.rules().rules.len()
        );
        g.throughput(Throughput::Bytes(total(files)));
        g.bench_function(*name, |b| {
            b.iter(|| black_box(scan_files(&engine, &mut st, files)))
        });
    }
    g.finish();

    let logs = &inputs[2].1[0].1;
    let mut g = c.benchmark_group("stream");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Bytes(logs.len() as u64));
    g.bench_function("logs", |b| {
        b.iter(|| {
            let meta = InputMeta::default();
            let mut out = Vec::new();
            let mut s = StreamScanner::new(&engine, &mut st, &meta, DEFAULT_CHUNK);
            for piece in logs.chunks(64 << 10) {
                s.feed(&mut st, &meta, piece, &mut out);
            }
            s.finish(&mut st, &meta, &mut out);
            black_box(out.len())
        })
    });
    g.finish();
}

fn startup(c: &mut Criterion) {
    let mut g = c.benchmark_group("startup");
    g.bench_function("engine+tiny", |b| {
        b.iter(|| {
            let engine = Engine::builtin().expect("built-in rules");
            let mut st = engine.new_state();
            black_box(scan_bytes(&engine, &mut st, TINY, InputMeta::default()).len())
        })
    });
    let engine = Engine::builtin().expect("built-in rules");
    let mut st = engine.new_state();
    g.bench_function("tiny", |b| {
        b.iter(|| black_box(scan_bytes(&engine, &mut st, TINY, InputMeta::default()).len()))
    });
    g.finish();
}

criterion_group!(benches, throughput, startup);
criterion_main!(benches);
