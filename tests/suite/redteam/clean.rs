//! Clean logs: what CI jobs print when nothing leaks, generated. Redaction must leave them
//! byte for byte and the scanner must report nothing, whatever the red team's fixes add.
//!
//! - [`realistic`]: a build and test job (git, apt, npm, cargo, pytest, docker build, kubectl,
//!   terraform, helm), timestamps, ANSI colour, progress lines, GitHub's `***` masks.
//! - [`tricky`]: the shapes that look like secrets and are not: certificates and public keys,
//!   PGP signatures, SSH host keys, digests, UUIDs, commit ids, integrity hashes, test names
//!   and messages about passwords and tokens, placeholders and references.

use super::harness::pick;
use crate::util::Rng;

/// Hex digits.
const HEX: &[u8] = b"0123456789abcdef";
/// Base64's alphabet.
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/// Lower-case letters and digits.
const LOWER36: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

fn below(rng: &mut Rng, n: u64) -> u64 {
    rng.next_u64() % n
}

/// A timestamp as runners print them (`2026-12-06T10:11:12.1234567Z`).
fn stamp(t: u64) -> String {
    let (h, m, s) = (10 + t / 3600 % 10, t / 60 % 60, t % 60);
    format!(
        "2026-12-06T{h:02}:{m:02}:{s:02}.{:07}Z",
        (t * 7919) % 10_000_000
    )
}

fn uuid(rng: &mut Rng) -> String {
    let h = rng.string(HEX, 32);
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..]
    )
}

/// One line of an ordinary build and test job.
fn realistic_line(rng: &mut Rng, t: u64) -> String {
    let sha = rng.string(HEX, 40);
    let n = below(rng, 900) + 10;
    let pkg = pick(
        rng,
        &[
            "serde", "tokio", "react", "lodash", "express", "requests", "numpy", "left-pad",
            "webpack", "clap", "regex", "hyper", "pytest", "django", "flask",
        ],
    );
    let body = match below(rng, 24) {
        0 => format!("remote: Counting objects: {n}% ({n}/{n}), done."),
        1 => format!(
            "HEAD is now at {} Merge pull request #{n} from org/feature-{n}",
            &sha[..7]
        ),
        2 => format!(
            "Get:{n} http://deb.debian.org/debian bookworm/main amd64 lib{pkg} amd64 1.{n}-2 [{n} kB]"
        ),
        3 => format!("npm warn deprecated {pkg}@1.{n}.0: this version is no longer supported"),
        4 => format!(
            "added {n} packages, and audited {} packages in {}s",
            n + 17,
            n % 40
        ),
        5 => format!("   Compiling {pkg} v0.{}.{}", n % 20, n % 7),
        6 => format!(
            "    Finished `release` profile [optimized] target(s) in {}.{}s",
            n % 90,
            n % 10
        ),
        7 => format!("test tests::{pkg}_roundtrip_{n} ... ok"),
        8 => format!(
            "tests/test_{pkg}.py::test_parses_{n} PASSED                  [{:>3}%]",
            n % 100
        ),
        9 => format!(
            "#{} [build {}/{}] RUN pip install --no-cache-dir -r requirements.txt",
            n % 30,
            n % 9,
            9
        ),
        10 => format!(
            "#{} sha256:{} {}.{}MB / {}.{}MB {}.{}s done",
            n % 30,
            rng.string(HEX, 64),
            n % 50,
            n % 10,
            n % 50 + 1,
            n % 10,
            n % 9,
            n % 10
        ),
        11 => format!("deployment.apps/{pkg}-api configured"),
        12 => format!(
            "pod/{pkg}-api-{}-{} condition met",
            rng.string(LOWER36, 10),
            rng.string(LOWER36, 5)
        ),
        13 => format!("aws_s3_bucket.{pkg}: Refreshing state... [id={pkg}-artifacts-{n}]"),
        14 => format!("Plan: {} to add, {} to change, 0 to destroy.", n % 5, n % 3),
        15 => format!(
            "\u{1b}[32m✓\u{1b}[0m {pkg} › renders the {n}th item \u{1b}[2m({} ms)\u{1b}[22m",
            n % 300
        ),
        16 => format!(
            "\u{1b}[1m\u{1b}[33mwarning\u{1b}[0m\u{1b}[1m: unused variable: `{pkg}_{n}`\u{1b}[0m"
        ),
        17 => format!(
            "Run actions/cache@v4 with key: {}-cargo-{}",
            pick(rng, &["Linux", "macOS"]),
            rng.string(HEX, 64)
        ),
        18 => "  GITHUB_TOKEN: ***".to_string(),
        19 => format!("  DATABASE_URL: ***  # set for job {n}"),
        20 => format!(
            "Downloading https://files.pythonhosted.org/packages/{}/{}/{pkg}-2.{n}.0-py3-none-any.whl ({}.{} MB)",
            rng.string(HEX, 2),
            rng.string(HEX, 2),
            n % 9,
            n % 10
        ),
        21 => format!(
            "Release \"{pkg}\" has been upgraded. Happy Helming! REVISION: {}",
            n % 40
        ),
        22 => format!(
            "Successfully built {}  Successfully tagged registry.example.com/{pkg}:{}",
            rng.string(HEX, 12),
            &sha[..12]
        ),
        _ => format!("[{}/{}] Linking CXX executable bin/{pkg}_{n}", n % 200, 200),
    };
    match below(rng, 3) {
        0 => format!("{} {body}", stamp(t)),
        1 => format!("{pkg}-1  | {body}"),
        _ => body,
    }
}

/// About `bytes` of an ordinary CI job's log.
pub fn realistic(seed: u64, bytes: usize) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut out = String::with_capacity(bytes + 256);
    let mut t = 0u64;
    while out.len() < bytes {
        t += below(&mut rng, 3);
        out.push_str(&realistic_line(&mut rng, t));
        out.push_str(if below(&mut rng, 50) == 0 {
            "\r\n"
        } else {
            "\n"
        });
        if below(&mut rng, 200) == 0 {
            // A progress bar redrawn with carriage returns.
            for p in (0..=100).step_by(25) {
                out.push_str(&format!(
                    "\rDownloading layer {p:>3}% [{:<20}]",
                    "=".repeat(p / 5)
                ));
            }
            out.push('\n');
        }
    }
    out.into_bytes()
}

/// A base64 body wrapped at 64 columns, between armour lines.
fn armoured(rng: &mut Rng, kind: &str, lines: usize) -> String {
    let mut s = format!("-----BEGIN {kind}-----\n");
    if kind.starts_with("PGP") {
        s.push('\n');
    }
    for _ in 0..lines {
        s.push_str(&rng.string(B64, 64));
        s.push('\n');
    }
    s.push_str(&format!(
        "{}==\n-----END {kind}-----\n",
        rng.string(B64, 20)
    ));
    s
}

/// One block of tricky text.
fn tricky_block(rng: &mut Rng, i: u64) -> String {
    let n = below(rng, 9000) + 100;
    match i % 22 {
        0 => armoured(rng, "CERTIFICATE", 12),
        1 => armoured(rng, "PUBLIC KEY", 6),
        2 => armoured(rng, "PGP SIGNATURE", 5),
        3 => armoured(rng, "PGP PUBLIC KEY BLOCK", 10),
        4 => format!(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{} deploy@ci-runner-{n}\n",
            rng.string(B64, 43)
        ),
        5 => format!(
            "github.com ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQ{}\n",
            rng.string(B64, 200)
        ),
        6 => format!(
            "Digest: sha256:{}\nStatus: Downloaded newer image for node:20-alpine\n",
            rng.string(HEX, 64)
        ),
        7 => format!(
            "request_id={} trace_id={} span_id={}\n",
            uuid(rng),
            rng.string(HEX, 32),
            rng.string(HEX, 16)
        ),
        8 => format!(
            "commit {}\nMerge: {} {}\n",
            rng.string(HEX, 40),
            rng.string(HEX, 7),
            rng.string(HEX, 7)
        ),
        9 => format!("    \"integrity\": \"sha512-{}==\",\n", rng.string(B64, 86)),
        10 => "test_password_reset_sends_email ... ok\ntest_token_expiry_is_enforced ... ok\n\
               test_api_key_rotation ... ok\ntest auth::tests::rejects_bad_password ... ok\n"
            .to_string(),
        11 => "WARNING: password reset email sent to user 42\n\
               INFO  token expired, refreshing\n\
               ERROR Authorization header missing\n\
               The password must be at least 12 characters long.\n"
            .to_string(),
        12 => "  env:\n    API_TOKEN: ${{ secrets.API_TOKEN }}\n    \
               DB_PASSWORD: ${DB_PASSWORD}\n    AWS_SECRET_ACCESS_KEY: $(cat /run/secrets/aws)\n"
            .to_string(),
        13 => "password: <your-password-here>\napi_key: YOUR_API_KEY\ntoken: changeme\n\
               export SECRET_KEY=\"${SECRET_KEY:?must be set}\"\n"
            .to_string(),
        14 => format!(
            "  sha1sum: {}  dist/app-{n}.tar.gz\n  md5: {}\n",
            rng.string(HEX, 40),
            rng.string(HEX, 32)
        ),
        15 => format!(
            "Successfully installed cryptography-{n}.0.1 pyjwt-2.{}.0 passlib-1.7.4\n",
            n % 10
        ),
        16 => format!(
            "+ echo 'Using token from secret store' \n+ vault read -field=token secret/ci/{n}\n"
        ),
        17 => format!(
            "[{}] GET /api/v1/users/{n}?page=2&per_page=50 200 {}ms\n",
            stamp(n),
            n % 800
        ),
        18 => format!(
            "Running with gitlab-runner 17.{}.0 ({})\n  on docker-auto-scale {}, system ID: s_{}\n",
            n % 10,
            rng.string(HEX, 8),
            rng.string(LOWER36, 8),
            rng.string(HEX, 12)
        ),
        19 => format!(
            "GITHUB_SHA={}\nRUNNER_TRACKING_ID=github_{}\n",
            rng.string(HEX, 40),
            uuid(rng)
        ),
        20 => format!(
            "id: {}\nkey_fingerprint: SHA256:{}\n",
            uuid(rng),
            rng.string(B64, 43)
        ),
        _ => format!("data:image/png;base64,{}\n", rng.string(B64, 120)),
    }
}

/// About `bytes` of text made of shapes that look like secrets and are not.
pub fn tricky(seed: u64, bytes: usize) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut out = String::with_capacity(bytes + 4096);
    let mut i = 0u64;
    while out.len() < bytes {
        out.push_str(&tricky_block(&mut rng, i));
        i += 1;
    }
    out.into_bytes()
}
