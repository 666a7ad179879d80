//! `shush redact` throughput and per-line latency, through the real binary.
//!
//! ```text
//! cargo bench --bench redact                 # everything (real release profile: fat LTO)
//! CARGO_PROFILE_BENCH_LTO=false CARGO_PROFILE_BENCH_CODEGEN_UNITS=16 cargo bench --bench redact
//! SHUSH_BENCH_MB=512 cargo bench --bench redact      # a bigger log (default 256 MB)
//! SHUSH_BENCH_LOG=/tmp/ci.log cargo bench --bench redact   # also keep the generated log
//! SHUSH_BENCH_DENSE=1 cargo bench --bench redact     # a keyword-dense log (see below)
//! ```
//!
//! With `SHUSH_BENCH_DENSE=1` every line names a credential without holding one: `set -x`
//! traces of `export API_TOKEN=$API_TOKEN`, curl with an `Authorization` header from a
//! variable, JSON request logs with `token_type`/`session_id`/`password` fields masked,
//! Terraform plans (`password = (sensitive value)`), Helm `--set` of secret references and
//! kubectl output. It is the worst realistic case for the generic rules, whose keywords
//! (`token`, `key`, `pass`, `secret`, `auth`) open a window on every line.
//!
//! - **Throughput**: a generated CI log (compiler output, test output, docker build output
//!   with `\r` progress, npm, timestamps and ANSI colour, a few secrets: one minted secret
//!   line per ~4 MB plus a PEM key) is redacted from a file to `/dev/null`. CPU time (user +
//!   sys of the child, from `getrusage`) gives MB/s per core, which stays meaningful on a busy
//!   machine; wall time is printed too. `cat` and `sed` (one substitution) run on the same
//!   file for scale.
//! - **Latency**: lines are written into `shush redact`'s stdin at a moderate rate (1,000
//!   lines/s, each ~100 bytes) and timestamped when written and when read back from its
//!   stdout; median, p99 and max are printed, beside `cat -u` through the same harness (the
//!   floor: pipes, wake-ups and the machine's scheduling). Measuring starts once the process
//!   has answered 2,000 warm-up lines of the same kind (start-up, and each rule's regex
//!   compiled on first use, are not line latency).

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SEED: u64 = 0x5eed_1095;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, xs: &'a [&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
    fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| b"0123456789abcdef"[self.below(16)] as char)
            .collect()
    }
}

const CRATES: &[&str] = &[
    "serde",
    "tokio",
    "regex",
    "clap",
    "hyper",
    "rand",
    "syn",
    "quote",
    "libc",
    "memchr",
    "anyhow",
    "thiserror",
    "futures",
    "bytes",
    "tracing",
    "rayon",
    "itoa",
    "ryu",
];
const WORDS: &[&str] = &[
    "parse", "config", "handler", "request", "buffer", "session", "cache", "index", "worker",
    "client", "server", "encode", "decode", "stream", "schema", "token", "key", "user",
];

/// One line of a realistic CI log.
fn log_line(rng: &mut Rng, out: &mut String, t: &mut u64) {
    *t += rng.below(40) as u64;
    let ts = format!(
        "2026-11-22T03:{:02}:{:02}.{:07}Z ",
        (*t / 60_000) % 60,
        (*t / 1000) % 60,
        rng.below(10_000_000)
    );
    out.push_str(&ts);
    match rng.below(20) {
        0..=3 => {
            let c = rng.pick(CRATES);
            out.push_str(&format!(
                "   \x1b[1m\x1b[32mCompiling\x1b[0m {c} v1.{}.{}\n",
                rng.below(30),
                rng.below(200)
            ));
        }
        4 | 5 => {
            let w = rng.pick(WORDS);
            out.push_str(&format!(
                "\x1b[33mwarning\x1b[0m: unused variable: `{w}_{}`\n{ts}  --> src/{w}.rs:{}:{}\n{ts}   |\n{ts}{} |     let {w}_{} = {w}::new();\n",
                rng.below(99), rng.below(900), rng.below(80), rng.below(900), rng.below(99)
            ));
        }
        6..=9 => {
            let a = rng.pick(WORDS);
            let b = rng.pick(WORDS);
            let ok = rng.below(50) != 0;
            out.push_str(&format!(
                "test {a}::tests::{b}_{} ... {}\n",
                rng.below(1000),
                if ok { "\x1b[32mok\x1b[0m" } else { "\x1b[31mFAILED\x1b[0m" }
            ));
        }
        10 if rng.below(25) == 0 => out.push_str(&format!(
            "test result: ok. {} passed; 0 failed; {} ignored; 0 measured; 0 filtered out; finished in {}.{:02}s\n",
            rng.below(500), rng.below(5), rng.below(60), rng.below(100)
        )),
        11 | 12 => {
            let step = rng.below(20) + 1;
            out.push_str(&format!(
                "#{step} [builder {}/12] RUN apt-get update && apt-get install -y --no-install-recommends build-essential\n",
                rng.below(12) + 1
            ));
            out.push_str(&ts);
            out.push_str(&format!("#{step} sha256:{} ", rng.hex(64)));
            for p in [12, 37, 64, 88, 100] {
                out.push_str(&format!("{}MB / 48.2MB {p}%\r", p * 48 / 100));
            }
            out.push_str(&format!("\n{ts}#{step} DONE {}.{}s\n", rng.below(40), rng.below(10)));
        }
        13 => out.push_str(&format!(
            "npm WARN deprecated {}@{}.{}.{}: this package is no longer supported\n",
            rng.pick(WORDS),
            rng.below(9),
            rng.below(20),
            rng.below(20)
        )),
        14 => out.push_str(&format!(
            "Downloaded {} v{}.{}.{} (registry `crates-io`)\n",
            rng.pick(CRATES),
            rng.below(3),
            rng.below(40),
            rng.below(20)
        )),
        15 => out.push_str(&format!(
            "[INFO] GET /api/v1/{}/{} 200 {}ms request_id={}\n",
            rng.pick(WORDS),
            rng.below(100_000),
            rng.below(900),
            rng.hex(32)
        )),
        16 => out.push_str(&format!(
            "+ export {}_HOME=/opt/{}\n",
            rng.pick(WORDS).to_uppercase(),
            rng.pick(WORDS)
        )),
        _ => out.push_str(&format!(
            "    Finished `{}` profile [optimized] target(s) in {}.{:02}s\n",
            rng.pick(&["dev", "release", "test"]),
            rng.below(300),
            rng.below(100)
        )),
    }
}

/// Fake, generated secrets (formats only).
fn secret_line(rng: &mut Rng, i: usize) -> String {
    let alnum = |rng: &mut Rng, n: usize| -> String {
        (0..n)
            .map(|_| {
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"[rng.below(62)]
                    as char
            })
            .collect()
    };
    match i % 4 {
        0 => format!(
            "+ git clone https://x-access-token:ghp_{}@github.com/o/r\n",
            alnum(rng, 36)
        ),
        1 => format!("AWS_ACCESS_KEY_ID=AKIA{}\n", alnum(rng, 16).to_uppercase()),
        2 => format!(
            "Authorization: Bearer xoxb-{}-{}-{}\n",
            rng.below(1 << 30) + 1_000_000_000,
            rng.below(1 << 30) + 1_000_000_000,
            alnum(rng, 24)
        ),
        _ => format!(
            "npm config set //registry.npmjs.org/:_authToken=npm_{}\n",
            alnum(rng, 36)
        ),
    }
}

/// One line of a keyword-dense CI log: credential names on every line, no credential.
fn dense_line(rng: &mut Rng, out: &mut String, t: &mut u64) {
    *t += rng.below(40) as u64;
    out.push_str(&format!(
        "2026-11-22T03:{:02}:{:02}.{:07}Z ",
        (*t / 60_000) % 60,
        (*t / 1000) % 60,
        rng.below(10_000_000)
    ));
    let w = rng.pick(WORDS);
    let id = rng.hex(12);
    let line = match rng.below(10) {
        0 => format!(
            "+ export {}_API_TOKEN=\"${{{}_API_TOKEN}}\"\n",
            w.to_uppercase(),
            w.to_uppercase()
        ),
        1 => format!(
            "+ curl -sS -H \"Authorization: Bearer $GITHUB_TOKEN\" https://api.example.com/{w}/{id}\n"
        ),
        2 => format!(
            "{{\"level\":\"info\",\"msg\":\"token refreshed\",\"token_type\":\"bearer\",\"expires_in\":{},\"session_id\":\"{id}\",\"password\":\"********\"}}\n",
            rng.below(7200)
        ),
        3 => "      + password                = (sensitive value)\n".to_string(),
        4 => format!(
            "+ helm upgrade {w} ./chart --set auth.existingSecret={w}-secret --set {w}.apiKeyRef=vault:secret/{w}#key\n"
        ),
        5 => format!(
            "secret/{w}-credentials created   # kubectl apply: keys api_key, client_secret, db_password\n"
        ),
        6 => format!(
            "DEBUG {w}: loading secret_key from env SECRET_KEY (set: yes, length hidden) key_id={id}\n"
        ),
        7 => "Step 4/9 : ARG NPM_TOKEN\n".to_string(),
        8 => format!(
            "[{w}] GET /oauth/token?grant_type=client_credentials&client_id={id} 200 {}ms\n",
            rng.below(900)
        ),
        _ => format!(
            "  {w}_password: ${{{{ secrets.{}_PASSWORD }}}}   # passed to the {w} step\n",
            w.to_uppercase()
        ),
    };
    out.push_str(&line);
}

fn generate(bytes: usize) -> Vec<u8> {
    let dense = std::env::var_os("SHUSH_BENCH_DENSE").is_some();
    let mut rng = Rng(SEED);
    let mut out = String::with_capacity(bytes + 4096);
    let mut t = 0;
    let mut next_secret = 1 << 20;
    let mut i = 0;
    while out.len() < bytes {
        if dense {
            dense_line(&mut rng, &mut out, &mut t);
        } else {
            log_line(&mut rng, &mut out, &mut t);
        }
        if out.len() > next_secret {
            out.push_str(&secret_line(&mut rng, i));
            i += 1;
            next_secret += 4 << 20;
        }
    }
    out.push_str("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACDl2mq0x5Kcz3bq7rGdM2Wz0Jbq1lVw9kXw7vJ8Q7K6ZgAAAJhV3bRhVd20\nYQAAAAtzc2gtZWQyNTUxOQAAACDl2mq0x5Kcz3bq7rGdM2Wz0Jbq1lVw9kXw7vJ8Q7K6Zg\n-----END OPENSSH PRIVATE KEY-----\n");
    out.into_bytes()
}

fn child_cpu() -> f64 {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Runs `cmd` with `input` as stdin and stdout to /dev/null; returns (cpu s, wall s).
fn measure(mut cmd: Command, input: &std::path::Path) -> (f64, f64) {
    let before = child_cpu();
    let start = Instant::now();
    let status = cmd
        .stdin(std::fs::File::open(input).unwrap())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    let wall = start.elapsed().as_secs_f64();
    assert!(status.success() || status.code() == Some(1), "{status}");
    (child_cpu() - before, wall)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if std::env::var_os("SHUSH_BENCH_LATENCY_ONLY").is_some() {
        let shush =
            std::env::var("SHUSH_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_shush").into());
        latency(&shush);
        return;
    }
    let shush = std::env::var("SHUSH_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_shush").into());
    let mb: usize = std::env::var("SHUSH_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let log = generate(mb << 20);
    let path = match std::env::var("SHUSH_BENCH_LOG") {
        Ok(p) => std::path::PathBuf::from(p),
        Err(_) => std::env::temp_dir().join(format!("shush-bench-{}.log", std::process::id())),
    };
    std::fs::write(&path, &log).unwrap();
    let size = log.len() as f64 / 1e6;
    eprintln!(
        "log: {:.1} MB, {} lines, at {}",
        size,
        log.iter().filter(|&&b| b == b'\n').count(),
        path.display()
    );
    println!("| command | MB/s per core (CPU) | MB/s (wall) |");
    println!("|---|---|---|");
    let runs: Vec<(&str, Command)> = vec![
        ("cat", Command::new("cat")),
        ("sed 's/ghp_[A-Za-z0-9]\\{36\\}/***/g'", {
            let mut c = Command::new("sed");
            c.arg("s/ghp_[A-Za-z0-9]\\{36\\}/***/g");
            c
        }),
        ("shush redact", {
            let mut c = Command::new(&shush);
            c.args(["redact", "-q"]);
            c
        }),
    ];
    for (name, cmd) in runs {
        // Best of three (page cache warm after the first).
        let mut best = (f64::MAX, f64::MAX);
        for _ in 0..3 {
            let mut c = Command::new(cmd.get_program());
            c.args(cmd.get_args());
            let (cpu, wall) = measure(c, &path);
            best = (best.0.min(cpu), best.1.min(wall));
        }
        println!(
            "| `{name}` | {:.0} | {:.0} |",
            size / best.0.max(1e-9),
            size / best.1.max(1e-9)
        );
    }
    if std::env::var_os("SHUSH_BENCH_LOG").is_none() {
        let _ = std::fs::remove_file(&path);
    }
    latency(&shush);
}

fn latency(shush: &str) {
    println!();
    println!("| line latency, 3000 lines at 1000 lines/s | median µs | p99 µs | max µs |");
    println!("|---|---|---|---|");
    let mut cat = Command::new("cat");
    cat.arg("-u");
    latency_of("cat -u (the harness and pipes alone)", cat);
    let mut c = Command::new(shush);
    c.args(["redact", "-q"]);
    latency_of("shush redact", c);
}

fn latency_of(name: &str, mut cmd: Command) {
    const LINES: usize = 3000;
    const RATE: f64 = 1000.0;
    const WARMUP: usize = 2000;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    // Steady state: start measuring once the process answers (start-up is not line latency)
    // and has seen WARMUP lines of the same kind (first use of each rule's regex).
    let mut rng = Rng(SEED ^ 1);
    let mut warm = Vec::new();
    for i in 0..WARMUP {
        let mut line = String::new();
        let mut t = 0;
        log_line(&mut rng, &mut line, &mut t);
        let first = line
            .lines()
            .next()
            .unwrap_or("")
            .replace(['\r', '\x1b'], "");
        stdin
            .write_all(format!("warm {i} {first}\n").as_bytes())
            .unwrap();
        stdin.flush().unwrap();
        warm.clear();
        stdout.read_until(b'\n', &mut warm).unwrap();
    }
    std::thread::sleep(Duration::from_millis(300));
    let start = Instant::now();
    let reader = std::thread::spawn(move || {
        let mut seen = Vec::with_capacity(LINES);
        for line in stdout.split(b'\n') {
            let line = line.unwrap();
            seen.push((start.elapsed(), line));
        }
        seen
    });
    let mut rng = Rng(SEED);
    let mut sent = Vec::with_capacity(LINES);
    for i in 0..LINES {
        let due = Duration::from_secs_f64(i as f64 / RATE);
        // Sleep, not spin: a spinning writer would take a core from the process measured.
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
        let mut line = String::new();
        let mut t = 0;
        log_line(&mut rng, &mut line, &mut t);
        let first = line
            .lines()
            .next()
            .unwrap_or("")
            .replace(['\r', '\x1b'], "");
        let text = format!("#{i:05} {first}\n");
        sent.push(start.elapsed());
        stdin.write_all(text.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }
    drop(stdin);
    let seen = reader.join().unwrap();
    child.wait().unwrap();
    let mut lat: Vec<f64> = seen
        .iter()
        .filter_map(|(at, line)| {
            let s = std::str::from_utf8(line).ok()?;
            let i: usize = s.strip_prefix('#')?.get(..5)?.parse().ok()?;
            let us = (at.as_secs_f64() - sent[i].as_secs_f64()) * 1e6;
            if std::env::var_os("SHUSH_BENCH_SLOW").is_some() && us > 5000.0 {
                eprintln!("slow line ({us:.0} µs): {s}");
            }
            Some(us)
        })
        .collect();
    assert_eq!(lat.len(), LINES, "every line came back");
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "| `{name}` | {:.0} | {:.0} | {:.0} |",
        lat[lat.len() / 2],
        lat[lat.len() * 99 / 100],
        lat[lat.len() - 1]
    );
}
