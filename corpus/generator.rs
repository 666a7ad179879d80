//! A deterministic generator of a labelled secret-leak corpus, driven by the rules themselves.
//!
//! For every rule of an [`Engine`] (the built-in rules, or any rule set), the generator mints
//! fresh fake secrets from the rule's own positive examples: it keeps the rule's keyword and
//! prefix literals and separators, re-randomises the other characters within their class
//! (digit→digit, lower→lower, upper→upper, hex stays hex; falling back to the characters the
//! example uses, then to positions found by probing the rule), repairs formats that carry a
//! checksum (GitHub/npm CRC32, bech32, JWT), and keeps a minted secret only if the rule still
//! reports exactly it in the example's own context. Each minted secret is planted in realistic
//! files of many formats (see [`templates`]), plain and encoded (base64 `.env` blobs, Kubernetes
//! `Secret` data, Docker `auth` fields, percent-encoded query strings), next to hard negatives:
//! documented placeholders, environment references, the rules' own negative examples, broken
//! checksums, hashes, UUIDs, lockfile integrity strings, public keys and certificates, long
//! identifiers, minified JavaScript, and realistic filler code.
//!
//! Nothing is written to the repository: the test and the `gen-corpus` example call
//! [`generate`] and write the files where they want them. The same seed and rule set always
//! give the same bytes and labels.
//!
//! Scoring ([`score`]) matches findings to labels by file and line: a planted positive is
//! *found* when a finding on its line was reported by the expected rule, or, when the expected
//! rule is `generic`, by any non-generic rule (a more specific rule claimed the secret). A
//! finding is a *false positive* when its line holds no planted positive, except that a
//! finding by rule B on rule A's negative example (or broken checksum) is a cross-rule hit,
//! reported but not counted: those lines are near misses for A only.

#[path = "templates.rs"]
mod templates;

use base64::Engine as _;
use serde::Serialize;
use shush::checksum::{Checksum, github_checksum, gitlab_routable_checksum};
use shush::engine::{Engine, InputMeta, ScanState};
use shush::rules::{Rule, Strategy};
use shush::scan::input::scan_bytes;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::{self, Write as _};
use std::path::Path;
pub use templates::Kind;
use templates::{Shape, key_name};

// ---------------------------------------------------------------------------------------------
// Random numbers
// ---------------------------------------------------------------------------------------------

/// SplitMix64: tiny, fast, and good enough to make test data (not for cryptography).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x005E_ED0F_C0DE_5EED)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// `true` with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    /// A random element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    /// Shuffles in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.below(i + 1);
            xs.swap(i, j);
        }
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }

    /// `n` characters drawn from `alphabet`.
    pub fn string(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n).map(|_| *self.pick(alphabet) as char).collect()
    }

    /// `n` lower-case hex digits.
    pub fn hex(&mut self, n: usize) -> String {
        self.string(b"0123456789abcdef", n)
    }
}

const DIGITS: &[u8] = b"0123456789";
const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const HEX_LOWER: &[u8] = b"abcdef";
const HEX_UPPER: &[u8] = b"ABCDEF";

// ---------------------------------------------------------------------------------------------
// Options, labels, output
// ---------------------------------------------------------------------------------------------

/// How much to generate.
#[derive(Debug, Clone)]
pub struct Options {
    /// Seed of every random choice.
    pub seed: u64,
    /// Fresh secrets minted from each positive example and planted in plain text.
    pub mints_per_example: usize,
    /// Encoded plantings per rule (each of: base64 `.env` blob, Kubernetes `Secret` data,
    /// Docker `auth`, percent-encoded query), each from a fresh secret.
    pub encoded_per_rule: usize,
    /// Hard negatives of each generic category per rule (with a floor of
    /// [`Options::min_negatives_per_category`]).
    pub negatives_per_rule: f64,
    /// Floor on hard negatives of each generic category.
    pub min_negatives_per_category: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            seed: 0x5EED,
            mints_per_example: 2,
            encoded_per_rule: 1,
            negatives_per_rule: 0.4,
            min_negatives_per_category: 24,
        }
    }
}

/// How a planted item is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// As is.
    Plain,
    /// Inside base64 (a `.env` blob, a Kubernetes `Secret` value, a Docker `auth` field).
    Base64,
    /// Inside percent-encoded text (a URL query).
    Percent,
}

impl Encoding {
    /// The name used in labels and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Plain => "plain",
            Encoding::Base64 => "base64",
            Encoding::Percent => "percent",
        }
    }
}

/// One planted item: a positive (a minted secret some rule must report) or a hard negative.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Label {
    /// Path of the file, relative to the corpus root, with `/` separators.
    pub file: String,
    /// 1-based line of the secret (of the encoded text holding it, when encoded).
    pub line: u64,
    /// First line of the planted block (equal to `line` for single-line items).
    pub first_line: u64,
    /// Last line of the planted block (equal to `line` for single-line items).
    pub last_line: u64,
    /// The rule that must report it (positives), or whose near miss it is (negatives made
    /// from a rule); `None` for generic hard negatives.
    pub rule: Option<String>,
    /// Whether it must be reported.
    pub positive: bool,
    /// How it is written.
    pub encoding: Encoding,
    /// What was planted: `minted`, `original` (a rule's own example, when minting failed),
    /// or a negative category (`placeholder`, `rule-negative`, `git-sha`, …).
    pub kind: &'static str,
    /// Where: `<file format>/<how it is embedded>`, e.g. `python/value`, `k8s-secret/data`.
    pub context: String,
}

/// One generated file.
#[derive(Debug, Clone, PartialEq)]
pub struct GenFile {
    /// Path relative to the corpus root, with `/` separators.
    pub path: String,
    /// Contents.
    pub content: String,
}

/// What minting did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MintStats {
    /// Rules in the set.
    pub rules: usize,
    /// Rules with no regex (path-only) or no usable example: nothing to plant.
    pub unplantable: Vec<String>,
    /// Positive examples used as seeds.
    pub examples: usize,
    /// Examples skipped: not reported by their rule in isolation, or secret not found in text.
    pub examples_skipped: usize,
    /// Secrets minted and verified.
    pub minted: usize,
    /// Mint attempts that produced no verified secret (the rule's own example was planted
    /// instead, once per example).
    pub dropped: usize,
    /// Rule ids with at least one dropped mint, and how many.
    pub dropped_by_rule: BTreeMap<String, usize>,
    /// Minted secrets that needed probing of the rule to find its fixed characters.
    pub probed: usize,
}

/// A generated corpus.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// The files.
    pub files: Vec<GenFile>,
    /// One label per planted item, sorted by file and line.
    pub labels: Vec<Label>,
    /// Minting statistics.
    pub stats: MintStats,
    /// The seed it was generated with.
    pub seed: u64,
}

impl Corpus {
    /// Total size of the files in bytes.
    pub fn bytes(&self) -> usize {
        self.files.iter().map(|f| f.content.len()).sum()
    }

    /// Writes every file under `root` (creating directories).
    pub fn write_to(&self, root: &Path) -> std::io::Result<()> {
        for f in &self.files {
            let p = root.join(&f.path);
            if let Some(dir) = p.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(p, &f.content)?;
        }
        Ok(())
    }

    /// The labels as JSON Lines.
    pub fn labels_jsonl(&self) -> String {
        let mut out = String::new();
        for l in &self.labels {
            out.push_str(&serde_json::to_string(l).expect("labels serialise"));
            out.push('\n');
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Minting
// ---------------------------------------------------------------------------------------------

/// A verified fresh secret in its example context.
#[derive(Debug, Clone)]
struct Minted {
    rule: usize,
    /// The example text with the new secret.
    text: String,
    secret: String,
    /// Byte offset of the secret in `text`.
    offset: usize,
    /// Reported by the rule on its own (it identifies itself; it can go in any context).
    bare: bool,
    /// The rule's own example, used because minting failed.
    original: bool,
}

impl Minted {
    /// Line of the secret within `text` (0-based).
    fn secret_line(&self) -> usize {
        self.text[..self.offset].matches('\n').count()
    }
}

/// Per-rule facts the minting needs.
struct RuleCtx<'a> {
    index: usize,
    rule: &'a Rule,
    /// Literals that must survive mutation (keywords and anchors), lower-case.
    literals: Vec<String>,
    /// A path under which the rule applies (None when it applies everywhere).
    path: Option<String>,
}

/// Scans `text` and tells whether rule `r` reports exactly `secret` in it.
fn reports(
    engine: &Engine,
    st: &mut ScanState,
    r: usize,
    text: &str,
    secret: &str,
    path: Option<&str>,
) -> bool {
    let meta = InputMeta {
        path,
        ..Default::default()
    };
    scan_bytes(engine, st, text.as_bytes(), meta)
        .iter()
        .any(|f| f.rule == r && f.secret == secret.as_bytes() && f.decoded.is_empty())
}

/// Candidate file names for rules restricted to some paths.
const PATH_CANDIDATES: &[&str] = &[
    "config/app.env",
    ".env",
    ".npmrc",
    ".pypirc",
    ".netrc",
    ".git-credentials",
    ".docker/config.json",
    ".aws/credentials",
    ".s3cfg",
    ".pgpass",
    ".htpasswd",
    ".msmtprc",
    ".fetchmailrc",
    ".config/rclone/rclone.conf",
    "NuGet.Config",
    "id_rsa",
    "id_ed25519",
    "server.key",
    "settings.xml",
    "terraform.tfvars",
    "wp-config.php",
    "config/master.key",
    "application.properties",
    "application.yml",
    "config.json",
    "credentials.json",
    "secrets.yaml",
    "docker-compose.yml",
    "Dockerfile",
    ".github/workflows/ci.yml",
    ".gitlab-ci.yml",
    "config.toml",
    "settings.py",
    "main.go",
    "index.js",
    // package-configs.toml: path-restricted rules whose file names are not listed above.
    "gradle.properties",
    ".my.cnf",
    // tool-stores.toml
    "filezilla/sitemanager.xml",
    "WinSCP.ini",
    ".vscode/sftp.json",
    "robo3t.json",
    "ventrilo_srv.ini",
    ".mozilla/firefox/logins.json",
    "acme.postman_environment.json",
    "export.har",
];

fn rule_ctx(index: usize, rule: &Rule) -> RuleCtx<'_> {
    let mut literals: Vec<String> = rule.keywords.clone();
    if let Strategy::Window { anchors, .. } = &rule.strategy {
        literals.extend(anchors.iter().cloned());
    }
    literals.retain(|l| !l.is_empty());
    literals.sort();
    literals.dedup();
    let path = if rule.path.is_some() {
        PATH_CANDIDATES
            .iter()
            .map(|p| format!("pathrules/{}/{p}", rule.id))
            .find(|p| rule.applies_to_path(Some(p)))
    } else {
        None
    };
    RuleCtx {
        index,
        rule,
        literals,
        path,
    }
}

/// Which character classes mutation draws from.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Alphabet {
    /// The whole class (digits, lower, upper; hex letters when the secret is hex).
    Class,
    /// Only the characters the original uses in that class.
    Observed,
}

/// Longest letter-only segment taken for vocabulary (`BEGIN`, `live`, `automations`).
const MAX_WORD: usize = 16;

/// Positions a mutation must keep: rule literals, non-alphanumerics, escapes (`\n`, `%2F`),
/// and (optionally) letter-only words between kept characters (`sk`, `live`, `BEGIN`).
fn keep_mask(secret: &[u8], literals: &[String], words: bool) -> Vec<bool> {
    let mut keep: Vec<bool> = secret.iter().map(|b| !b.is_ascii_alphanumeric()).collect();
    for i in 0..secret.len() {
        if secret[i] == b'\\' && i + 1 < secret.len() {
            keep[i + 1] = true;
        }
        if secret[i] == b'%'
            && i + 2 < secret.len()
            && secret[i + 1].is_ascii_hexdigit()
            && secret[i + 2].is_ascii_hexdigit()
        {
            keep[i + 1] = true;
            keep[i + 2] = true;
        }
    }
    let lower = secret.to_ascii_lowercase();
    for lit in literals {
        let lit = lit.as_bytes();
        if lit.is_empty() || lit.len() > lower.len() {
            continue;
        }
        for i in 0..=lower.len() - lit.len() {
            if &lower[i..i + lit.len()] == lit {
                keep[i..i + lit.len()].iter_mut().for_each(|k| *k = true);
            }
        }
    }
    if words {
        let base = keep.clone();
        let mut i = 0;
        while i < secret.len() {
            if base[i] || !secret[i].is_ascii_alphabetic() {
                i += 1;
                continue;
            }
            let start = i;
            while i < secret.len() && !base[i] && secret[i].is_ascii_alphabetic() {
                i += 1;
            }
            let left = start == 0 || base[start - 1];
            let right = i == secret.len() || base[i];
            let free = base.iter().filter(|k| !**k).count();
            if left && right && i - start <= MAX_WORD && i - start < free {
                keep[start..i].iter_mut().for_each(|k| *k = true);
            }
        }
    }
    keep
}

/// Re-randomises the positions not kept, each within its class. Classes are decided per
/// alphanumeric segment, so a hex segment stays hex next to a base62 one (`CCIPAT_…_<hex>`).
fn mutate(rng: &mut Rng, secret: &str, keep: &[bool], alphabet: Alphabet) -> String {
    let bytes = secret.as_bytes();
    let mut out = bytes.to_vec();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
            i += 1;
        }
        let seg = start..i;
        let free: Vec<u8> = seg
            .clone()
            .filter(|&j| !keep[j])
            .map(|j| bytes[j])
            .collect();
        if free.is_empty() {
            continue;
        }
        let hex = free.iter().all(u8::is_ascii_hexdigit)
            && free.iter().any(u8::is_ascii_alphabetic)
            && free.len() >= 8;
        let observed = |pred: fn(&u8) -> bool| -> Vec<u8> {
            let mut v: Vec<u8> = free.iter().copied().filter(pred).collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let (digits, lower, upper) = match alphabet {
            Alphabet::Class if hex => (DIGITS.to_vec(), HEX_LOWER.to_vec(), HEX_UPPER.to_vec()),
            Alphabet::Class => (DIGITS.to_vec(), LOWER.to_vec(), UPPER.to_vec()),
            Alphabet::Observed => (
                observed(u8::is_ascii_digit),
                observed(u8::is_ascii_lowercase),
                observed(u8::is_ascii_uppercase),
            ),
        };
        for j in seg {
            if keep[j] {
                continue;
            }
            let pool = match bytes[j] {
                b'0'..=b'9' => &digits,
                b'a'..=b'z' => &lower,
                _ => &upper,
            };
            out[j] = *rng.pick(pool);
        }
    }
    String::from_utf8(out).expect("ASCII substitutions keep UTF-8")
}

/// Where a JWT (two or more dot-separated base64url parts, each of the first two starting
/// `eyJ`) starts in `s`, if `s` ends with one (`eyJ…`, `ghs_123_eyJ…`, `glcbt-eyJ…`).
fn jwt_start(s: &str) -> Option<usize> {
    let i = s.find("eyJ")?;
    let parts: Vec<&str> = s[i..].split('.').collect();
    (parts.len() >= 2
        && parts[1].starts_with("eyJ")
        && parts.iter().all(|p| {
            p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        }))
    .then_some(i)
}

/// A fresh JWT shaped like `orig`: the same header, a payload with the same claims and
/// re-randomised values, a re-randomised signature.
fn remint_jwt(rng: &mut Rng, orig: &str) -> Option<String> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = orig.split('.').collect();
    if parts.len() < 2 {
        return None;
    }
    let payload = shush::checksum::decode_base64_any(parts[1].as_bytes())?;
    let mut claims: serde_json::Value = serde_json::from_slice(&payload).ok()?;
    let obj = claims.as_object_mut()?;
    for v in obj.values_mut() {
        match v {
            serde_json::Value::String(s) => {
                let keep: Vec<bool> = s.bytes().map(|b| !b.is_ascii_alphanumeric()).collect();
                // Claims such as `role: anon` or `iss: supabase` are vocabulary, not data.
                if s.len() > 12 {
                    *s = mutate(rng, s, &keep, Alphabet::Class);
                }
            }
            serde_json::Value::Number(n) => {
                if let Some(x) = n.as_u64() {
                    let digits = x.to_string().len() as u32;
                    if digits >= 6 {
                        let lo = 10u64.pow(digits - 1);
                        let y = lo + rng.next_u64() % (9 * lo);
                        *v = serde_json::Value::from(y);
                    }
                }
            }
            _ => {}
        }
    }
    let mut out = vec![
        parts[0].to_string(),
        b64.encode(serde_json::to_vec(&claims).ok()?),
    ];
    for p in &parts[2..] {
        let keep: Vec<bool> = p.bytes().map(|b| b == b'-' || b == b'_').collect();
        out.push(mutate(rng, p, &keep, Alphabet::Class));
    }
    Some(out.join("."))
}

/// A fresh bech32 string with the same human-readable part, length and case as `orig`.
fn remint_bech32(rng: &mut Rng, orig: &str) -> Option<String> {
    let parsed = bech32::primitives::decode::CheckedHrpstring::new::<bech32::Bech32>(orig).ok()?;
    let n = parsed.byte_iter().count();
    let data = rng.bytes(n);
    let upper = orig.bytes().any(|b| b.is_ascii_uppercase());
    if upper {
        bech32::encode_upper::<bech32::Bech32>(parsed.hrp(), &data).ok()
    } else {
        bech32::encode::<bech32::Bech32>(parsed.hrp(), &data).ok()
    }
}

/// Makes a mutated secret pass its rule's format check again.
fn repair(rule: &Rule, secret: String) -> String {
    if rule.checksum == Some(Checksum::GithubCrc32) {
        let body_at = secret.rfind('_').map_or(0, |i| i + 1);
        let body = &secret[body_at..];
        if body.len() >= 7 && body.is_ascii() {
            let random = &body[..body.len() - 6];
            return format!(
                "{}{}{}",
                &secret[..body_at],
                random,
                github_checksum(random.as_bytes())
            );
        }
    }
    if rule.checksum == Some(Checksum::GitlabRoutableCrc32) && secret.len() > 7 && secret.is_ascii()
    {
        let body = &secret[..secret.len() - 7];
        return format!("{body}{}", gitlab_routable_checksum(body.as_bytes()));
    }
    secret
}

/// Fixed positions found by probing: changing the character there (to another of the same
/// class the example uses) stops the rule from reporting the changed secret.
#[allow(clippy::too_many_arguments)]
fn probe_fixed(
    engine: &Engine,
    st: &mut ScanState,
    rng: &mut Rng,
    ctx: &RuleCtx<'_>,
    text: &str,
    secret: &str,
    offset: usize,
    keep: &[bool],
) -> Vec<bool> {
    let bytes = secret.as_bytes();
    let mut fixed = keep.to_vec();
    let classes: [&[u8]; 3] = [DIGITS, LOWER, UPPER];
    for i in 0..bytes.len() {
        if keep[i] || !bytes[i].is_ascii_alphanumeric() {
            continue;
        }
        let class = classes
            .iter()
            .find(|c| c.contains(&bytes[i]))
            .expect("alphanumeric");
        // Free only if three different replacements all pass: one the secret already uses
        // elsewhere (stays inside narrow alphabets such as hex or base32), two random ones.
        let mut alts: Vec<u8> = bytes
            .iter()
            .copied()
            .filter(|b| class.contains(b) && *b != bytes[i])
            .take(1)
            .collect();
        while alts.len() < 3 {
            let b = *rng.pick(class);
            if b != bytes[i] && !alts.contains(&b) {
                alts.push(b);
            }
        }
        for alt in alts {
            let mut probe = bytes.to_vec();
            probe[i] = alt;
            let probe = repair(ctx.rule, String::from_utf8(probe).expect("ASCII"));
            let probe_text = format!(
                "{}{}{}",
                &text[..offset],
                probe,
                &text[offset + secret.len()..]
            );
            if !reports(
                engine,
                st,
                ctx.index,
                &probe_text,
                &probe,
                ctx.path.as_deref(),
            ) {
                fixed[i] = true;
                break;
            }
        }
    }
    fixed
}

/// Secrets longer than this are not probed character by character (PEM bodies and the like
/// mint fine without it, and probing them would be slow).
const MAX_PROBE_LEN: usize = 512;

/// A rule example that minting starts from, and what minting learnt about it.
#[derive(Debug, Clone)]
struct Seed {
    text: String,
    secret: String,
    /// Byte offset of the secret in `text`.
    offset: usize,
    /// The plan that last produced a verified secret: tried first next time.
    plan: usize,
    /// Fixed positions found by probing, once probed.
    fixed: Option<Vec<bool>>,
}

/// Ways to mint, in order of preference.
#[derive(Debug, Clone, Copy)]
enum Plan {
    /// Regenerate a bech32 string (rules with `checksum = "bech32"`).
    Bech32,
    /// Regenerate a JWT (and re-randomise what precedes it).
    Jwt,
    /// Class-preserving mutation; `true`: keep letter-only words.
    Mutate(bool, Alphabet),
    /// Mutation of the positions probing found free.
    Probed(Alphabet),
}

const PLANS: [Plan; 9] = [
    Plan::Bech32,
    Plan::Jwt,
    Plan::Mutate(true, Alphabet::Class),
    Plan::Mutate(true, Alphabet::Observed),
    Plan::Mutate(false, Alphabet::Class),
    Plan::Mutate(false, Alphabet::Observed),
    Plan::Probed(Alphabet::Class),
    Plan::Probed(Alphabet::Observed),
    Plan::Probed(Alphabet::Observed),
];

/// Tries to mint one fresh secret from a seed. Returns the new text, secret, offset, and
/// whether probing was needed.
fn mint_one(
    engine: &Engine,
    st: &mut ScanState,
    rng: &mut Rng,
    ctx: &RuleCtx<'_>,
    seed: &mut Seed,
    seen: &mut HashSet<String>,
) -> Option<(String, String, usize, bool)> {
    let (text, secret, offset) = (seed.text.clone(), seed.secret.clone(), seed.offset);
    let (text, secret) = (text.as_str(), secret.as_str());
    let try_candidate = |cand: String,
                         st: &mut ScanState,
                         seen: &mut HashSet<String>|
     -> Option<(String, String, usize)> {
        if cand == secret || seen.contains(&cand) {
            return None;
        }
        let new_text = text.replace(secret, &cand);
        // Occurrences before the secret's own shift it by the length difference each.
        let before = text[..offset].matches(secret).count() as isize;
        let delta = cand.len() as isize - secret.len() as isize;
        let new_off = (offset as isize + before * delta) as usize;
        if new_text.get(new_off..new_off + cand.len()) != Some(cand.as_str()) {
            return None;
        }
        if reports(engine, st, ctx.index, &new_text, &cand, ctx.path.as_deref()) {
            seen.insert(cand.clone());
            Some((new_text, cand, new_off))
        } else {
            None
        }
    };
    let bytes = secret.as_bytes();
    let jwt_at = jwt_start(secret);
    let order: Vec<usize> = (seed.plan..PLANS.len()).chain(0..seed.plan).collect();
    for i in order {
        let plan = PLANS[i];
        match plan {
            Plan::Bech32 if ctx.rule.checksum != Some(Checksum::Bech32) => continue,
            Plan::Jwt if jwt_at.is_none() => continue,
            Plan::Probed(_) if secret.len() > MAX_PROBE_LEN => continue,
            Plan::Probed(_) if seed.fixed.is_none() => {
                let keep = keep_mask(bytes, &ctx.literals, false);
                seed.fixed = Some(probe_fixed(
                    engine, st, rng, ctx, text, secret, offset, &keep,
                ));
            }
            _ => {}
        }
        let tries = if matches!(plan, Plan::Bech32 | Plan::Jwt) {
            3
        } else {
            1
        };
        for _ in 0..tries {
            let cand = match plan {
                Plan::Bech32 => remint_bech32(rng, secret),
                Plan::Jwt => {
                    let at = jwt_at.unwrap_or(0);
                    let prefix = &secret[..at];
                    let keep = keep_mask(prefix.as_bytes(), &ctx.literals, true);
                    let p = mutate(rng, prefix, &keep, Alphabet::Class);
                    remint_jwt(rng, &secret[at..]).map(|jwt| p + &jwt)
                }
                Plan::Mutate(words, alphabet) => {
                    let keep = keep_mask(bytes, &ctx.literals, words);
                    Some(repair(ctx.rule, mutate(rng, secret, &keep, alphabet)))
                }
                Plan::Probed(alphabet) => {
                    let fixed = seed.fixed.as_deref().unwrap_or_default();
                    Some(repair(ctx.rule, mutate(rng, secret, fixed, alphabet)))
                }
            };
            if let Some((t, s, o)) = cand.and_then(|c| try_candidate(c, st, seen)) {
                seed.plan = i;
                return Some((t, s, o, matches!(plan, Plan::Probed(_))));
            }
        }
    }
    None
}

/// Finds the example's secret and its offset: the named secret, else what the rule reports.
fn example_secret(
    engine: &Engine,
    st: &mut ScanState,
    ctx: &RuleCtx<'_>,
    text: &str,
    named: Option<&str>,
) -> Option<(String, usize)> {
    let meta = InputMeta {
        path: ctx.path.as_deref(),
        ..Default::default()
    };
    let found = scan_bytes(engine, st, text.as_bytes(), meta);
    let mine = found.iter().find(|f| {
        f.rule == ctx.index
            && f.decoded.is_empty()
            && named.is_none_or(|n| f.secret == n.as_bytes())
    })?;
    let secret = std::str::from_utf8(&mine.secret).ok()?.to_string();
    let offset = mine.secret_span.start as usize;
    (text.get(offset..offset + secret.len()) == Some(secret.as_str())).then_some((secret, offset))
}

/// Mints a verified secret from a seed; `None` when minting failed (counted).
fn mint_from(
    engine: &Engine,
    st: &mut ScanState,
    rng: &mut Rng,
    ctx: &RuleCtx<'_>,
    seed: &mut Seed,
    seen: &mut HashSet<String>,
    stats: &mut MintStats,
) -> Option<Minted> {
    match mint_one(engine, st, rng, ctx, seed, seen) {
        Some((text, secret, offset, probed)) => {
            stats.minted += 1;
            stats.probed += usize::from(probed);
            let bare = reports(engine, st, ctx.index, &secret, &secret, ctx.path.as_deref());
            Some(Minted {
                rule: ctx.index,
                text,
                secret,
                offset,
                bare,
                original: false,
            })
        }
        None => {
            stats.dropped += 1;
            *stats
                .dropped_by_rule
                .entry(ctx.rule.id.clone())
                .or_default() += 1;
            None
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Planting
// ---------------------------------------------------------------------------------------------

/// An item waiting to be placed in a file.
#[derive(Debug, Clone)]
struct Item {
    shape: Shape,
    /// Formats that may hold it (empty: any that accepts the shape).
    kinds: Vec<Kind>,
    rule: Option<usize>,
    positive: bool,
    encoding: Encoding,
    kind: &'static str,
    /// How it is embedded, for the label's context (`value`, `block`, `b64-env`, …).
    how: &'static str,
    /// A fixed path (rules restricted to some paths).
    path: Option<String>,
}

/// Characters that make a value unsafe to put inside quotes of any format.
fn value_safe(v: &str) -> bool {
    !v.is_empty()
        && !v
            .bytes()
            .any(|b| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'\\' | b'`'))
}

/// RFC 3986 percent-encoding: everything but unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
}

/// A little `.env` file around `text`, as a deployment would base64 it into a CI variable.
fn env_snippet(rng: &mut Rng, text: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for _ in 0..rng.range(1, 3) {
        lines.push(templates::env_filler_line(rng));
    }
    lines.push(text.to_string());
    for _ in 0..rng.range(0, 2) {
        lines.push(templates::env_filler_line(rng));
    }
    lines.join("\n") + "\n"
}

impl Item {
    fn positive(m: &Minted, shape: Shape, encoding: Encoding, how: &'static str) -> Item {
        Item {
            shape,
            kinds: Vec::new(),
            rule: Some(m.rule),
            positive: true,
            encoding,
            kind: if m.original { "original" } else { "minted" },
            how,
            path: None,
        }
    }

    fn negative(shape: Shape, kind: &'static str, how: &'static str) -> Item {
        Item {
            shape,
            kinds: Vec::new(),
            rule: None,
            positive: false,
            encoding: Encoding::Plain,
            kind,
            how,
            path: None,
        }
    }

    fn only(mut self, kinds: &[Kind]) -> Item {
        self.kinds = kinds.to_vec();
        self
    }
}

/// The plain plantings of a minted secret: its example text as a block, and (when the secret
/// identifies itself) the bare value assigned to a key.
fn plain_item(rng: &mut Rng, m: &Minted, rule: &Rule, as_value: bool) -> Item {
    if as_value && m.bare && value_safe(&m.secret) {
        let key = if rng.chance(0.6) {
            key_name(&rule.id)
        } else {
            rng.pick(templates::GENERIC_SECRET_KEYS).to_string()
        };
        Item::positive(
            m,
            Shape::Value {
                key,
                value: m.secret.clone(),
            },
            Encoding::Plain,
            "value",
        )
    } else {
        Item::positive(
            m,
            Shape::Block {
                text: m.text.clone(),
                secret_line: m.secret_line(),
            },
            Encoding::Plain,
            "block",
        )
    }
}

/// The encoded plantings of minted secrets (one per flavour, each from its own secret).
fn encoded_items(rng: &mut Rng, mints: &[Minted], rule: &Rule) -> Vec<Item> {
    let mut out = Vec::new();
    let mut it = mints.iter().cycle();
    let key = key_name(&rule.id);
    // A base64 `.env` blob in a CI variable, a Dockerfile, a script…
    if let Some(m) = it.next() {
        let value = b64(&env_snippet(rng, &m.text));
        let k = rng.pick(templates::BLOB_KEYS).to_string();
        out.push(Item::positive(
            m,
            Shape::Value { key: k, value },
            Encoding::Base64,
            "b64-env",
        ));
    }
    // A Kubernetes Secret `data:` value: the secret itself when it identifies itself, else
    // its whole context (a PEM file, a `.env` line).
    if let Some(m) = it.next() {
        let raw = if m.bare {
            m.secret.clone()
        } else {
            m.text.clone()
        };
        let item = Item::positive(
            m,
            Shape::Value {
                key: key.to_ascii_lowercase().replace('_', "-"),
                value: b64(&raw),
            },
            Encoding::Base64,
            "data",
        );
        out.push(item.only(&[Kind::K8sSecret]));
    }
    // A Docker config `auth` (base64 of user:secret), for self-identifying secrets.
    if let Some(m) = mints.iter().find(|m| m.bare && value_safe(&m.secret)) {
        let user = rng.pick(&[
            "ci-bot",
            "deploy",
            "github-actions",
            "robot$builder",
            "oauth2accesstoken",
        ]);
        let item = Item::positive(
            m,
            Shape::Value {
                key: "auth".into(),
                value: b64(&format!("{user}:{}", m.secret)),
            },
            Encoding::Base64,
            "docker-auth",
        );
        out.push(item.only(&[Kind::Json]));
    }
    // A percent-encoded query string carrying the example text.
    if let Some(m) = it.next() {
        let host = rng.pick(templates::HOSTS);
        let param = rng.pick(&["payload", "data", "state", "config", "q", "body"]);
        let value = format!(
            "https://{host}/{}/callback?{param}={}&v={}",
            rng.pick(templates::NOUNS),
            percent_encode(&m.text),
            rng.range(1, 9)
        );
        let k = rng.pick(&[
            "CALLBACK_URL",
            "REDIRECT_URI",
            "WEBHOOK_URL",
            "LAST_REQUEST",
        ]);
        out.push(Item::positive(
            m,
            Shape::Value {
                key: k.to_string(),
                value,
            },
            Encoding::Percent,
            "query",
        ));
    }
    out
}

/// Realistic files of the given formats with nothing planted, round-robin, until they add up
/// to at least `bytes` (benchmark input; the corpus test keeps such files clean).
pub fn clean_files(seed: u64, kinds: &[Kind], bytes: usize) -> Vec<GenFile> {
    let mut rng = Rng::new(seed);
    let mut files = Vec::new();
    let mut total = 0;
    let mut n = 0;
    while total < bytes && !kinds.is_empty() {
        let kind = kinds[n % kinds.len()];
        let path = kind.path(&mut rng, n);
        let chunks = rng.range(5, 40);
        let content = kind.render_clean(&mut rng, chunks);
        total += content.len();
        files.push(GenFile { path, content });
        n += 1;
    }
    files
}

/// Generates the corpus for `engine`'s rules.
pub fn generate(engine: &Engine, opts: &Options) -> Corpus {
    let mut rng = Rng::new(opts.seed);
    let mut st = engine.new_state();
    let mut stats = MintStats::default();
    let mut items: Vec<Item> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let rules = &engine.rules().rules;
    stats.rules = rules.len();

    for (index, rule) in rules.iter().enumerate() {
        let ctx = rule_ctx(index, rule);
        if rule.regex.is_none() || (rule.path.is_some() && ctx.path.is_none()) {
            stats.unplantable.push(rule.id.clone());
            continue;
        }
        let mut seeds: Vec<Seed> = Vec::new();
        for ex in rule.examples() {
            stats.examples += 1;
            match example_secret(engine, &mut st, &ctx, ex.text(), ex.secret()) {
                Some((secret, offset)) => seeds.push(Seed {
                    text: ex.text().to_string(),
                    secret,
                    offset,
                    plan: 0,
                    fixed: None,
                }),
                None => stats.examples_skipped += 1,
            }
        }
        if seeds.is_empty() {
            stats.unplantable.push(rule.id.clone());
            continue;
        }
        let mut rule_items: Vec<Item> = Vec::new();
        let mut mints: Vec<Minted> = Vec::new();
        for seed in &mut seeds {
            let mut planted = 0;
            for k in 0..opts.mints_per_example {
                if let Some(m) =
                    mint_from(engine, &mut st, &mut rng, &ctx, seed, &mut seen, &mut stats)
                {
                    rule_items.push(plain_item(&mut rng, &m, rule, k % 2 == 1));
                    mints.push(m);
                    planted += 1;
                }
            }
            if planted == 0 {
                // Keep the rule covered: plant its own example once.
                let (text, secret, offset) = (seed.text.clone(), seed.secret.clone(), seed.offset);
                let bare = reports(
                    engine,
                    &mut st,
                    index,
                    &secret,
                    &secret,
                    ctx.path.as_deref(),
                );
                let m = Minted {
                    rule: index,
                    text,
                    secret,
                    offset,
                    bare,
                    original: true,
                };
                rule_items.push(plain_item(&mut rng, &m, rule, false));
                // And encode it below when no fresh secret can be minted either.
                mints.push(m);
            }
        }
        for next_seed in 0..opts.encoded_per_rule {
            let mut fresh = Vec::new();
            for j in 0..3 {
                let n = seeds.len();
                let seed = &mut seeds[(next_seed * 3 + j) % n];
                if let Some(m) =
                    mint_from(engine, &mut st, &mut rng, &ctx, seed, &mut seen, &mut stats)
                {
                    fresh.push(m);
                }
            }
            if fresh.is_empty() {
                fresh = mints.iter().take(3).cloned().collect();
            }
            rule_items.extend(encoded_items(&mut rng, &fresh, rule));
        }
        // Near misses of this rule: its own negative examples, and broken checksums.
        for neg in rule.negative_examples() {
            // A negative that names a path where the rule does not apply proves the path
            // restriction; planted in the rule's own path it would stop being one.
            if neg.path().is_some_and(|p| !rule.applies_to_path(Some(p))) {
                continue;
            }
            let neg = neg.text().to_string();
            let mut item = Item::negative(
                Shape::Block {
                    text: neg.clone(),
                    secret_line: neg.lines().position(|l| !l.trim().is_empty()).unwrap_or(0),
                },
                "rule-negative",
                "block",
            );
            item.rule = Some(index);
            rule_items.push(item);
        }
        if rule.checksum.is_some() {
            if let Some(m) = mints.iter().find(|m| !m.original) {
                if let Some(item) = broken_checksum(engine, &mut st, &mut rng, &ctx, m) {
                    rule_items.push(item);
                }
            }
        }
        if let Some(p) = &ctx.path {
            for item in &mut rule_items {
                item.path = Some(p.clone());
            }
        }
        items.extend(rule_items);
    }

    let per_category = ((rules.len() as f64 * opts.negatives_per_rule).ceil() as usize)
        .max(opts.min_negatives_per_category);
    items.extend(templates::hard_negatives(&mut rng, per_category));

    let (files, labels) = plant(engine, &mut rng, items);
    Corpus {
        files,
        labels,
        stats,
        seed: opts.seed,
    }
}

/// The example text with one checksum character of the minted secret changed, if the rule
/// then rejects it in that very context.
fn broken_checksum(
    engine: &Engine,
    st: &mut ScanState,
    rng: &mut Rng,
    ctx: &RuleCtx<'_>,
    m: &Minted,
) -> Option<Item> {
    let mut bytes = m.secret.clone().into_bytes();
    let last = bytes.len().checked_sub(1 + rng.below(4.min(bytes.len())))?;
    let c = bytes[last];
    bytes[last] = match c {
        b'0'..=b'8' | b'a'..=b'y' | b'A'..=b'Y' => c + 1,
        b'9' => b'0',
        b'z' => b'a',
        b'Z' => b'A',
        _ => return None,
    };
    let bad = String::from_utf8(bytes).ok()?;
    let text = m.text.replace(&m.secret, &bad);
    let meta = InputMeta {
        path: ctx.path.as_deref(),
        ..Default::default()
    };
    let found = scan_bytes(engine, st, text.as_bytes(), meta);
    if found.iter().any(|f| f.rule == ctx.index) {
        return None;
    }
    let mut item = Item::negative(
        Shape::Block {
            secret_line: m.secret_line(),
            text,
        },
        "bad-checksum",
        "block",
    );
    item.rule = Some(ctx.index);
    Some(item)
}

/// Whether rule `r` applies to files at `path` (its path filter and path allowlists).
fn applies(engine: &Engine, r: usize, path: &str) -> bool {
    let rule = engine.rule(r);
    rule.applies_to_path(Some(path))
        && !rule.allowlists.iter().any(|a| a.allows_path(Some(path)))
        && !engine
            .rules()
            .global_allowlists
            .iter()
            .any(|a| a.allows_path(Some(path)))
}

/// Distributes items over files of the formats that accept them and renders the files.
fn plant(engine: &Engine, rng: &mut Rng, mut items: Vec<Item>) -> (Vec<GenFile>, Vec<Label>) {
    rng.shuffle(&mut items);
    // Group by destination: a fixed path, or a format.
    let mut by_path: BTreeMap<String, Vec<Item>> = BTreeMap::new();
    let mut by_kind: BTreeMap<Kind, Vec<Item>> = BTreeMap::new();
    let mut applies_cache: HashMap<(usize, Kind), bool> = HashMap::new();
    for item in items {
        if let Some(p) = &item.path {
            by_path.entry(p.clone()).or_default().push(item);
            continue;
        }
        let mut choices: Vec<Kind> = Kind::ALL
            .iter()
            .copied()
            .filter(|k| item.kinds.is_empty() || item.kinds.contains(k))
            .filter(|k| k.accepts(&item.shape, item.kinds.contains(k)))
            .collect();
        if item.positive {
            if let Some(r) = item.rule {
                choices.retain(|&k| {
                    *applies_cache
                        .entry((r, k))
                        .or_insert_with(|| applies(engine, r, &k.sample_path()))
                });
            }
        }
        if choices.is_empty() {
            // Nothing can hold it realistically: a plain text file takes anything.
            choices.push(Kind::Text);
        }
        let k = *rng.pick(&choices);
        by_kind.entry(k).or_default().push(item);
    }

    let mut files = Vec::new();
    let mut labels = Vec::new();
    let mut emit = |path: String,
                    kind: Kind,
                    rendered: templates::Rendered,
                    items: &[Item],
                    labels: &mut Vec<Label>| {
        for (item, &(first, line, last)) in items.iter().zip(&rendered.lines) {
            labels.push(Label {
                file: path.clone(),
                line,
                first_line: first,
                last_line: last,
                rule: item.rule.map(|r| engine.rule(r).id.clone()),
                positive: item.positive,
                encoding: item.encoding,
                kind: item.kind,
                context: format!("{}/{}", kind.name(), item.how),
            });
        }
        files.push(GenFile {
            path,
            content: rendered.content,
        });
    };
    for (path, items) in by_path {
        let rendered = Kind::Text.render(rng, &items.iter().map(|i| &i.shape).collect::<Vec<_>>());
        emit(path, Kind::Text, rendered, &items, &mut labels);
    }
    for (kind, items) in by_kind {
        let mut n = 0;
        let mut rest = &items[..];
        while !rest.is_empty() {
            let (lo, hi) = kind.items_per_file();
            let take = rng.range(lo, hi).min(rest.len());
            let (chunk, tail) = rest.split_at(take);
            rest = tail;
            let path = kind.path(rng, n);
            n += 1;
            let rendered = kind.render(rng, &chunk.iter().map(|i| &i.shape).collect::<Vec<_>>());
            emit(path, kind, rendered, chunk, &mut labels);
        }
    }
    // Files with no planted item at all: realistic clean code must stay clean.
    for kind in Kind::ALL {
        if kind.items_per_file().1 == 0 {
            continue;
        }
        for _ in 0..2 {
            let path = kind.path(rng, 1000 + files.len());
            let chunks = rng.range(5, 30);
            let content = kind.render_clean(rng, chunks);
            files.push(GenFile { path, content });
        }
    }
    labels.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    (files, labels)
}

// ---------------------------------------------------------------------------------------------
// Scoring
// ---------------------------------------------------------------------------------------------

/// One finding, as the scorer sees it.
#[derive(Debug, Clone)]
pub struct Hit {
    /// File, relative to the corpus root, `/`-separated.
    pub file: String,
    /// 1-based line.
    pub line: u64,
    /// Rule id (`None` for tools whose rule ids mean nothing here).
    pub rule: Option<String>,
}

/// Counts for one row of a table.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tally {
    /// Planted.
    pub planted: usize,
    /// Found by the expected rule (or a more specific one).
    pub found: usize,
    /// Missed by the expected rule, but some other rule reported the line.
    pub other_rule: usize,
}

impl Tally {
    /// found / planted (1 when nothing was planted).
    pub fn recall(&self) -> f64 {
        if self.planted == 0 {
            1.0
        } else {
            self.found as f64 / self.planted as f64
        }
    }
}

/// The scored corpus.
#[derive(Debug, Clone, Default)]
pub struct Score {
    /// Recall by encoding.
    pub by_encoding: BTreeMap<Encoding, Tally>,
    /// Recall by rule family (detectors file, else the id's first word).
    pub by_family: BTreeMap<String, Tally>,
    /// Recall by embedding context (`python/value`, `k8s-secret/data`, …).
    pub by_context: BTreeMap<String, Tally>,
    /// All positives.
    pub total: Tally,
    /// Negative items planted, by category.
    pub negatives: BTreeMap<&'static str, usize>,
    /// False positives (findings), by category of the line they are on (`filler` for
    /// unlabelled lines).
    pub false_positives: BTreeMap<&'static str, usize>,
    /// Findings by other rules on a rule's own near misses (not counted as false positives).
    pub cross_rule: usize,
    /// Total findings scored.
    pub findings: usize,
    /// Missed positives: (label, rule ids reported on its line).
    pub missed: Vec<(Label, Vec<String>)>,
    /// False positives: (file, line, rule, category).
    pub fp_list: Vec<(String, u64, String, &'static str)>,
}

impl Score {
    /// Total false positives.
    pub fn fp(&self) -> usize {
        self.false_positives.values().sum()
    }

    /// Total negative items.
    pub fn negative_items(&self) -> usize {
        self.negatives.values().sum()
    }

    /// Recall for one encoding.
    pub fn recall(&self, e: Encoding) -> f64 {
        self.by_encoding
            .get(&e)
            .copied()
            .unwrap_or_default()
            .recall()
    }
}

/// Scores findings against labels (see the module docs for the matching rule).
/// `generic(id)` tells whether a rule is tagged generic; `family(id)` names its family.
pub fn score(
    labels: &[Label],
    hits: &[Hit],
    generic: impl Fn(&str) -> bool,
    family: impl Fn(&str) -> String,
) -> Score {
    let mut s = Score {
        findings: hits.len(),
        ..Default::default()
    };
    let mut on_line: HashMap<(&str, u64), Vec<&Hit>> = HashMap::new();
    for h in hits {
        on_line
            .entry((h.file.as_str(), h.line))
            .or_default()
            .push(h);
    }
    // Lines covered by positives (whole planted blocks), and near-miss lines of rules.
    let mut positive_lines: HashSet<(&str, u64)> = HashSet::new();
    let mut negative_at: HashMap<(&str, u64), &Label> = HashMap::new();
    for l in labels {
        if l.positive {
            for line in l.first_line..=l.last_line {
                positive_lines.insert((l.file.as_str(), line));
            }
        } else {
            *s.negatives.entry(l.kind).or_default() += 1;
            for line in l.first_line..=l.last_line {
                negative_at.insert((l.file.as_str(), line), l);
            }
        }
    }
    for l in labels.iter().filter(|l| l.positive) {
        let want = l.rule.as_deref().unwrap_or("");
        let here = on_line.get(&(l.file.as_str(), l.line));
        let found = here.is_some_and(|hs| {
            hs.iter().any(|h| match &h.rule {
                None => true,
                Some(r) => r == want || (generic(want) && !generic(r)),
            })
        });
        let other = !found && here.is_some_and(|hs| !hs.is_empty());
        let fam = family(want);
        for t in [
            s.by_encoding.entry(l.encoding).or_default(),
            s.by_family.entry(fam).or_default(),
            s.by_context.entry(l.context.clone()).or_default(),
            &mut s.total,
        ] {
            t.planted += 1;
            t.found += usize::from(found);
            t.other_rule += usize::from(other);
        }
        if !found {
            let rules = here
                .map(|hs| hs.iter().filter_map(|h| h.rule.clone()).collect())
                .unwrap_or_default();
            s.missed.push((l.clone(), rules));
        }
    }
    for h in hits {
        let key = (h.file.as_str(), h.line);
        if positive_lines.contains(&key) {
            continue;
        }
        let category = match negative_at.get(&key) {
            Some(l) => {
                if let (Some(owner), Some(r)) = (&l.rule, &h.rule) {
                    if owner != r {
                        s.cross_rule += 1;
                        continue;
                    }
                }
                l.kind
            }
            None => "filler",
        };
        *s.false_positives.entry(category).or_default() += 1;
        s.fp_list.push((
            h.file.clone(),
            h.line,
            h.rule.clone().unwrap_or_default(),
            category,
        ));
    }
    s
}

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pct = |x: f64| format!("{:6.2}%", 100.0 * x);
        writeln!(
            f,
            "{:<28} {:>8} {:>8} {:>8} {:>11}",
            "recall", "planted", "found", "recall", "other-rule"
        )?;
        for (e, t) in &self.by_encoding {
            writeln!(
                f,
                "  {:<26} {:>8} {:>8} {:>8} {:>11}",
                e.as_str(),
                t.planted,
                t.found,
                pct(t.recall()),
                t.other_rule
            )?;
        }
        let t = self.total;
        writeln!(
            f,
            "  {:<26} {:>8} {:>8} {:>8} {:>11}",
            "all",
            t.planted,
            t.found,
            pct(t.recall()),
            t.other_rule
        )?;
        writeln!(
            f,
            "{:<28} {:>8} {:>8} {:>8}",
            "by family", "planted", "found", "recall"
        )?;
        for (fam, t) in &self.by_family {
            writeln!(
                f,
                "  {:<26} {:>8} {:>8} {:>8}",
                fam,
                t.planted,
                t.found,
                pct(t.recall())
            )?;
        }
        let weak: Vec<_> = self
            .by_context
            .iter()
            .filter(|(_, t)| t.found < t.planted)
            .collect();
        if !weak.is_empty() {
            writeln!(f, "contexts with misses:")?;
            for (c, t) in weak {
                writeln!(
                    f,
                    "  {:<26} {:>8} {:>8} {:>8}",
                    c,
                    t.planted,
                    t.found,
                    pct(t.recall())
                )?;
            }
        }
        let neg = self.negative_items();
        writeln!(
            f,
            "false positives: {} findings ({} negative items planted; {} findings in all; {} cross-rule hits on other rules' near misses, not counted)",
            self.fp(),
            neg,
            self.findings,
            self.cross_rule
        )?;
        writeln!(
            f,
            "{:<28} {:>8} {:>8}",
            "negatives by category", "planted", "FP"
        )?;
        let mut cats: Vec<&str> = self.negatives.keys().copied().collect();
        cats.extend(self.false_positives.keys().copied());
        cats.sort_unstable();
        cats.dedup();
        for c in cats {
            writeln!(
                f,
                "  {:<26} {:>8} {:>8}",
                c,
                self.negatives.get(c).copied().unwrap_or(0),
                self.false_positives.get(c).copied().unwrap_or(0)
            )?;
        }
        Ok(())
    }
}
