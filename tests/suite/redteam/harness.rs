//! The red-team harness: a [`Case`] is a piece of real tool output with secrets planted in it;
//! [`check`] proves, for every case, that redaction masks every planted secret (whole input
//! and every chunking agree), that the text around it survives, and — where the gap is the
//! scanner's too — that `shush scan` reports it. Failures are collected over all cases and
//! reported together, one line each, so a run shows the whole picture.

use crate::util::Rng;
use shush::Engine;
use shush::engine::{EngineOptions, InputMeta};
use shush::redact::{KnownRegistry, KnownValue, MaskStyle, Masker, Plan, RedactOptions, Redactor};
use shush::rules::RuleSet;
use std::sync::{Arc, OnceLock};

/// The built-in rules, as `shush redact` and `shush scan` load them.
pub fn engine() -> &'static (Engine, Plan) {
    static E: OnceLock<(Engine, Plan)> = OnceLock::new();
    E.get_or_init(|| {
        let engine = Engine::new(
            RuleSet::builtin().expect("built-in rules"),
            EngineOptions {
                decode_depth: 1,
                inline_allow: false,
            },
        )
        .expect("engine");
        let plan = Plan::new(&engine);
        (engine, plan)
    })
}

/// The categories, for the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    /// 1: a word character right before a token (ANSI colour, JSON/repr escapes).
    WordBefore,
    /// 2: generic assignments behind prefixes (`set -x`, compose, timestamps, `ENV`…).
    PrefixedAssignment,
    /// 3: private keys with prefixed lines, cut off, long PGP blocks, stray BEGIN lines.
    PrivateKey,
    /// 4: GitHub's `::add-mask::` escaping and legacy form.
    AddMask,
    /// 5: `$` anchors at the end of a line.
    EndOfLine,
    /// 6: Terraform plans and diffs.
    TerraformDiff,
    /// 7: Docker registry credentials.
    DockerAuth,
    /// 8: credentials in command lines, headers and dumps.
    CommandLine,
    /// 9: known-secret encodings.
    KnownEncoding,
    /// 10: weak but real passwords in assignments, URL credentials to localhost.
    WeakPassword,
    /// 11: CR-only lines, UTF-16LE, half a token at the end, multi-line masks.
    Smaller,
}

/// One red-team case.
#[derive(Debug, Clone)]
pub struct Case {
    /// Which gap it probes.
    pub category: Category,
    /// What it is, for the report (`ansi/github-pat`, `compose-prefix/generic-password`).
    pub name: String,
    /// The log bytes.
    pub input: Vec<u8>,
    /// Every planted secret: none may reach the output, nor any 12-byte piece of one.
    pub secrets: Vec<Vec<u8>>,
    /// Text that must reach the output unchanged (so a fix cannot mask everything).
    pub keep: Vec<Vec<u8>>,
    /// Values the pipeline knows (`--secret-env`, `--secrets-file`), masked as such.
    pub known: Vec<Vec<u8>>,
    /// Whether `shush scan` must report each secret too (the gap is the scanner's as well).
    pub scan: bool,
}

impl Case {
    /// A case planting `secrets` in `input`.
    pub fn new(
        category: Category,
        name: impl Into<String>,
        input: impl Into<Vec<u8>>,
        secrets: &[&str],
    ) -> Case {
        Case {
            category,
            name: name.into(),
            input: input.into(),
            secrets: secrets.iter().map(|s| s.as_bytes().to_vec()).collect(),
            keep: Vec::new(),
            known: Vec::new(),
            scan: false,
        }
    }

    /// Text around the secrets that must survive.
    pub fn keep(mut self, texts: &[&str]) -> Case {
        self.keep
            .extend(texts.iter().map(|t| t.as_bytes().to_vec()));
        self
    }

    /// Values given as known secrets.
    pub fn known(mut self, values: &[&[u8]]) -> Case {
        self.known.extend(values.iter().map(|v| v.to_vec()));
        self
    }

    /// `shush scan` must report every secret as well.
    pub fn scanned(mut self) -> Case {
        self.scan = true;
        self
    }
}

fn redactor(case: &Case) -> Redactor<'static> {
    let (engine, plan) = engine();
    let opts = RedactOptions::new(Masker::with_key(MaskStyle::Label, [7; 32]));
    let mut r = Redactor::new(engine, plan, opts);
    if !case.known.is_empty() {
        let values = case
            .known
            .iter()
            .enumerate()
            .map(|(i, v)| KnownValue::new(format!("case:{i}"), v).expect("a known value"))
            .collect();
        r = r.with_known(Arc::new(KnownRegistry::new(values)));
    }
    r
}

/// Redacts `input` fed in pieces of `chunk` bytes (the whole input at once for 0).
pub fn redact(case: &Case, chunk: usize) -> Result<Vec<u8>, String> {
    let mut r = redactor(case);
    let mut out = Vec::new();
    let pieces: Vec<&[u8]> = if chunk == 0 {
        vec![&case.input[..]]
    } else {
        case.input.chunks(chunk).collect()
    };
    for p in pieces {
        r.push(p, &mut out).map_err(|e| e.to_string())?;
    }
    r.finish(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && memchr::memmem::find(hay, needle).is_some()
}

/// What survives of a secret in `out`: the secret itself, or a 12-byte piece of it.
fn leaked(out: &[u8], secret: &[u8]) -> Option<String> {
    if contains(out, secret) {
        return Some("the whole secret".into());
    }
    const PIECE: usize = 12;
    if secret.len() > PIECE {
        for w in secret.windows(PIECE) {
            if contains(out, w) {
                return Some(format!("the piece {:?}", String::from_utf8_lossy(w)));
            }
        }
    }
    None
}

/// Everything wrong with one case, one line each.
pub fn problems(case: &Case) -> Vec<String> {
    let mut out = Vec::new();
    let whole = match redact(case, 0) {
        Ok(o) => o,
        Err(e) => return vec![format!("redaction failed: {e}")],
    };
    for s in &case.secrets {
        if let Some(what) = leaked(&whole, s) {
            out.push(format!(
                "leaks {what} of {:?}; output: {:?}",
                String::from_utf8_lossy(s),
                excerpt(&whole, s)
            ));
        }
    }
    for k in &case.keep {
        if !contains(&whole, k) {
            out.push(format!(
                "over-masks: {:?} did not survive; output: {:?}",
                String::from_utf8_lossy(k),
                String::from_utf8_lossy(&whole[..whole.len().min(400)])
            ));
        }
    }
    let chunks: &[usize] = if case.input.len() <= 4096 {
        &[1, 7, 64]
    } else {
        &[7, 4096, 65536]
    };
    for &c in chunks {
        match redact(case, c) {
            Ok(o) if o == whole => {}
            Ok(_) => out.push(format!(
                "{c}-byte chunks give another output than the whole input"
            )),
            Err(e) => out.push(format!("{c}-byte chunks: redaction failed: {e}")),
        }
    }
    if case.scan {
        out.extend(scan_problems(case));
    }
    out
}

/// The secrets `shush scan` does not report (a finding must cover the secret's first byte).
fn scan_problems(case: &Case) -> Vec<String> {
    let (engine, _) = engine();
    let mut st = engine.new_state();
    let found = shush::scan::input::scan_bytes(engine, &mut st, &case.input, InputMeta::default());
    let mut out = Vec::new();
    for s in &case.secrets {
        let Some(at) = memchr::memmem::find(&case.input, s) else {
            out.push("a planted secret is not in the input (bad case)".into());
            continue;
        };
        let at = at as u64;
        let covered = found.iter().any(|f| {
            f.secret_span.start <= at && at < f.secret_span.end.max(f.secret_span.start + 1)
        });
        if !covered {
            out.push(format!(
                "scan does not report {:?}",
                String::from_utf8_lossy(s)
            ));
        }
    }
    out
}

fn excerpt(out: &[u8], secret: &[u8]) -> String {
    let probe = &secret[..secret.len().min(12)];
    let at = memchr::memmem::find(out, probe).unwrap_or(0);
    let from = at.saturating_sub(60);
    String::from_utf8_lossy(&out[from..(at + 120).min(out.len())]).into_owned()
}

/// Checks every case; panics with one line per problem, grouped by category.
pub fn check(cases: &[Case]) {
    assert!(!cases.is_empty(), "no cases");
    let mut report = Vec::new();
    for c in cases {
        for p in problems(c) {
            report.push(format!("[{:?}] {}: {p}", c.category, c.name));
        }
    }
    assert!(
        report.is_empty(),
        "{} problem(s) in {} case(s):\n{}",
        report.len(),
        cases.len(),
        report.join("\n")
    );
}

/// A log that must come out unchanged (no mask) and give no finding.
pub fn check_clean(name: &str, log: &[u8]) {
    let case = Case::new(Category::Smaller, name, log.to_vec(), &[]);
    let out = redact(&case, 0).expect("redaction");
    if out != log {
        let at = out
            .iter()
            .zip(log)
            .position(|(a, b)| a != b)
            .unwrap_or(out.len().min(log.len()));
        let from = at.saturating_sub(100);
        panic!(
            "{name}: a clean log was changed at byte {at}:\n{}",
            String::from_utf8_lossy(&out[from..(at + 200).min(out.len())])
        );
    }
    let (engine, _) = engine();
    let mut st = engine.new_state();
    let found = shush::scan::input::scan_bytes(engine, &mut st, log, InputMeta::default());
    let lines: Vec<String> = found
        .iter()
        .take(10)
        .map(|f| {
            let s = f.secret_span.start as usize;
            let line_start = log[..s]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1);
            let line_end = log[s..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(log.len(), |p| s + p);
            format!(
                "{}: {}",
                engine.rule(f.rule).id,
                String::from_utf8_lossy(&log[line_start..line_end])
            )
        })
        .collect();
    assert!(
        found.is_empty(),
        "{name}: {} finding(s) in a clean log:\n{}",
        found.len(),
        lines.join("\n")
    );
}

/// One of `xs`, drawn with `rng`.
pub fn pick<'a>(rng: &mut Rng, xs: &[&'a str]) -> &'a str {
    xs[(rng.next_u64() % xs.len() as u64) as usize]
}

/// `w` with its first letter in upper case.
pub fn capital(w: &str) -> String {
    format!("{}{}", w[..1].to_ascii_uppercase(), &w[1..])
}
