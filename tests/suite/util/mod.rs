//! Helpers for shush's integration tests, in ripgrep's style: a [`Dir`] is a fresh temporary
//! directory to build inputs in, and [`Dir::cmd`] is a `shush` command that runs inside it.
//! Every secret planted by a test is synthetic and generated here ([`ghp`], [`fxt`]).
//!
//! [`git`] builds repositories, [`artifacts`] archives and container images, and [`yaml`]
//! reads the project's CI files.

pub mod artifacts;
pub mod git;
pub mod yaml;

use std::path::{Path, PathBuf};
use std::time::Duration;

/// The fixed rule file every exact-output test uses (the built-in set keeps growing).
pub fn fixture_rules() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules.toml")
}

/// A path under `tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The `shush` binary this test build made, colour off.
/// The fingerprint key every command of the suite runs with.
pub const TEST_FINGERPRINT_KEY: &str = "the shush test suite's fingerprint key";

pub fn shush() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::new(env!("CARGO_BIN_EXE_shush"));
    c.env("NO_COLOR", "1");
    // One team key for the whole suite: fingerprints are stable across its runs, and no test
    // writes a per-user key file into the home directory.
    c.env(shush::fingerprint::KEY_ENV, TEST_FINGERPRINT_KEY);
    c
}

/// A temporary directory that is removed when dropped.
pub struct Dir {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Default for Dir {
    fn default() -> Self {
        Self::new()
    }
}

impl Dir {
    /// A new, empty directory.
    pub fn new() -> Dir {
        let tmp = tempfile::Builder::new()
            .prefix("shush-test-")
            .tempdir()
            .expect("create a temporary directory");
        // Canonical, so paths printed by shush compare equal to ours.
        let root = tmp.path().canonicalize().expect("canonical temp dir");
        Dir { _tmp: tmp, root }
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// `rel` inside the directory.
    pub fn join(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.root.join(rel)
    }

    /// Writes `contents` to `rel`, creating parent directories.
    pub fn create(&self, rel: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent directories");
        }
        std::fs::write(&path, contents).expect("write test file");
        path
    }

    /// Creates the directory `rel` (and its parents).
    pub fn create_dir(&self, rel: impl AsRef<Path>) -> PathBuf {
        let path = self.join(rel);
        std::fs::create_dir_all(&path).expect("create directory");
        path
    }

    /// Creates a symbolic link at `link` pointing to `target` (as written, possibly relative).
    #[cfg(unix)]
    pub fn symlink(&self, target: impl AsRef<Path>, link: impl AsRef<Path>) {
        let link = self.join(link);
        if let Some(parent) = link.parent() {
            std::fs::create_dir_all(parent).expect("create parent directories");
        }
        std::os::unix::fs::symlink(target, link).expect("create symlink");
    }

    /// A `shush` command running in this directory, with a clean environment.
    pub fn cmd(&self) -> TestCommand {
        let mut cmd = shush();
        cmd.current_dir(&self.root)
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("GIT_DIR")
            // Keep the user's global git excludes out of `--gitignore` tests.
            .env("HOME", &self.root)
            .env("XDG_CONFIG_HOME", self.root.join(".no-xdg"))
            // No automaton cache unless a test asks for one: files written under HOME would
            // show up in the scanned directory.
            .env("SHUSH_CACHE_DIR", "")
            // A hang is a failure, not a stuck CI job.
            .timeout(Duration::from_secs(120));
        TestCommand { cmd }
    }

    /// `shush scan --no-progress ARGS…` in this directory.
    pub fn scan(&self, args: &[&str]) -> Output {
        let mut c = self.cmd();
        c.arg("scan").arg("--no-progress").args(args);
        c.run()
    }

    /// `shush scan --config tests/fixtures/rules.toml --no-progress ARGS…`.
    pub fn scan_fixture_rules(&self, args: &[&str]) -> Output {
        let mut c = self.cmd();
        c.arg("scan")
            .arg("--no-progress")
            .arg("--config")
            .arg(fixture_rules())
            .args(args);
        c.run()
    }
}

/// A `shush` invocation being built.
pub struct TestCommand {
    cmd: assert_cmd::Command,
}

impl TestCommand {
    /// Adds one argument.
    pub fn arg(&mut self, a: impl AsRef<std::ffi::OsStr>) -> &mut Self {
        self.cmd.arg(a);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd.args(args);
        self
    }

    /// Sets an environment variable.
    pub fn env(&mut self, k: &str, v: impl AsRef<std::ffi::OsStr>) -> &mut Self {
        self.cmd.env(k, v);
        self
    }

    /// Removes an environment variable.
    pub fn env_remove(&mut self, k: &str) -> &mut Self {
        self.cmd.env_remove(k);
        self
    }

    /// Feeds `bytes` on standard input.
    pub fn stdin(&mut self, bytes: impl Into<Vec<u8>>) -> &mut Self {
        self.cmd.write_stdin(bytes.into());
        self
    }

    /// Runs the command to completion.
    pub fn run(&mut self) -> Output {
        let out = self.cmd.output().expect("run shush");
        Output {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// What a run produced.
#[derive(Debug)]
pub struct Output {
    /// The exit code (`None` when killed by a signal or the timeout).
    pub code: Option<i32>,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

impl Output {
    /// Asserts the exit code, showing both streams when it differs.
    #[track_caller]
    pub fn code(&self, want: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(want),
            "unexpected exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts that standard error contains `needle`.
    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n--- stderr\n{}\n--- stdout\n{}",
            self.stderr,
            self.stdout
        );
        self
    }

    /// Asserts that standard error does not contain `needle`.
    #[track_caller]
    pub fn stderr_lacks(&self, needle: &str) -> &Self {
        assert!(
            !self.stderr.contains(needle),
            "stderr has {needle:?}\n--- stderr\n{}",
            self.stderr
        );
        self
    }

    /// Standard output parsed as one JSON document.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// The findings of a `--format json` run.
    #[track_caller]
    pub fn findings(&self) -> Vec<Found> {
        let v = self.json();
        v.as_array()
            .unwrap_or_else(|| panic!("not a JSON array:\n{}", self.stdout))
            .iter()
            .map(Found::from_json)
            .collect()
    }
}

/// The parts of a finding most tests look at.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Found {
    /// Display path.
    pub path: String,
    /// 1-based line.
    pub line: u64,
    /// Rule id.
    pub rule: String,
    /// The secret as reported (masked unless `--show-secrets`).
    pub secret: String,
    /// The fingerprint.
    pub fingerprint: String,
    /// The short id of the secret.
    pub secret_id: String,
}

impl Found {
    fn from_json(v: &serde_json::Value) -> Found {
        let s = |k: &str| {
            v[k].as_str()
                .unwrap_or_else(|| panic!("finding without string `{k}`: {v}"))
                .to_string()
        };
        Found {
            path: s("path"),
            line: v["line"].as_u64().expect("line"),
            rule: s("rule_id"),
            secret: s("secret"),
            fingerprint: s("fingerprint"),
            secret_id: s("secret_id"),
        }
    }
}

/// A small deterministic generator (SplitMix64): test data is random-looking but the same on
/// every run, so snapshots are stable.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// `n` characters drawn from `alphabet`.
    pub fn string(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| alphabet[(self.next_u64() % alphabet.len() as u64) as usize] as char)
            .collect()
    }
}

/// GitHub's base62 alphabet.
pub const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A synthetic GitHub personal access token with a valid checksum: `ghp_`, 30 random base62
/// characters, then base62(CRC32) of them.
pub fn ghp(seed: u64) -> String {
    let random = Rng::new(seed ^ 0x6768_705f).string(BASE62, 30);
    format!(
        "ghp_{random}{}",
        shush::checksum::github_checksum(random.as_bytes())
    )
}

/// A synthetic token for the fixture rule `fixture-token`.
pub fn fxt(seed: u64) -> String {
    format!("fxt_{}", Rng::new(seed ^ 0x6678_745f).string(BASE62, 24))
}

/// A synthetic key id for the fixture rule `fixture-key-id`.
pub fn fxkey(seed: u64) -> String {
    format!(
        "FXKEY{}",
        Rng::new(seed ^ 0x464b).string(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", 16)
    )
}

/// A synthetic high-entropy password for the fixture rule `fixture-password`.
pub fn password(seed: u64) -> String {
    Rng::new(seed ^ 0x7077).string(
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#%&*+-.@^",
        20,
    )
}

/// Percent-encodes every byte that is not an ASCII letter or digit (`%XX`, upper-case hex).
pub fn percent(bytes: impl AsRef<[u8]>) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for &b in bytes.as_ref() {
        if b.is_ascii_alphanumeric() {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Standard base64 of `bytes` (padded).
pub fn base64(bytes: impl AsRef<[u8]>) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A fresh PostgreSQL database for one test, on the server `SHUSH_TEST_POSTGRES_URL` names
/// (`.ci/run` starts one with `ci/postgres.sh`): its URL. `None`, with a loud message, when
/// no server is given, unless `SHUSH_REQUIRE_POSTGRES` is set (CI), where that fails.
#[cfg(feature = "postgres")]
pub fn postgres_db(test: &str) -> Option<String> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let Ok(admin) = std::env::var("SHUSH_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var_os("SHUSH_REQUIRE_POSTGRES").is_none(),
            "SHUSH_REQUIRE_POSTGRES is set but SHUSH_TEST_POSTGRES_URL is not"
        );
        eprintln!(
            "SKIPPED {test}: no PostgreSQL server; start one with \
             `export SHUSH_TEST_POSTGRES_URL=$(ci/postgres.sh start)` (Debian package: postgresql)"
        );
        return None;
    };
    let db = format!(
        "shush_{test}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let mut client = postgres::Client::connect(&admin, postgres::NoTls)
        .unwrap_or_else(|e| panic!("SHUSH_TEST_POSTGRES_URL: cannot connect: {e}"));
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS {db}"))
        .unwrap();
    client
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .unwrap();
    let (server, _) = admin.rsplit_once('/').expect("a URL ending in /DATABASE");
    Some(format!("{server}/{db}"))
}
