//! A git repository for tests: a temporary directory, isolated git configuration, and
//! deterministic author and commit dates.

use super::Dir;
use std::path::PathBuf;
use std::process::Command as Std;

/// Whether `git` can be run; prints why a test is skipped when not.
pub fn have_git() -> bool {
    let ok = Std::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipped: `git` is not installed (Debian package: git)");
    }
    ok
}

/// A repository in a temp dir, with isolated git config and deterministic dates.
pub struct Repo {
    _dir: Dir,
    /// The work tree.
    pub path: PathBuf,
    /// Commits made so far (each one a minute after the last).
    pub tick: u64,
}

/// Isolates a git command from the machine's configuration and identity.
pub fn git_env(cmd: &mut Std) {
    cmd.env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Ada Lovelace")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Ada Lovelace")
        .env("GIT_COMMITTER_EMAIL", "ada@example.com")
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        // Hooks run shush under the suite's key, like a team that shares one.
        .env(shush::fingerprint::KEY_ENV, super::TEST_FINGERPRINT_KEY);
}

impl Repo {
    pub fn new() -> Repo {
        let dir = Dir::new();
        let path = dir.join("repo");
        std::fs::create_dir(&path).unwrap();
        let r = Repo {
            _dir: dir,
            path,
            tick: 0,
        };
        r.git(&["init", "-q", "-b", "main"]);
        r.git(&["config", "commit.gpgsign", "false"]);
        r.git(&["config", "gc.auto", "0"]);
        r
    }

    pub fn git_cmd(&self, args: &[&str]) -> Std {
        let mut cmd = Std::new("git");
        cmd.current_dir(&self.path).args(args);
        git_env(&mut cmd);
        let date = format!("{} +0000", 1_600_000_000 + self.tick * 60);
        cmd.env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date);
        cmd
    }

    pub fn git(&self, args: &[&str]) -> String {
        let out = self.git_cmd(args).output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn write(&self, path: &str, content: impl AsRef<[u8]>) {
        let p = self.path.join(path);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(p, content).unwrap();
    }

    /// Stages everything and commits; returns the commit id.
    pub fn commit(&mut self, msg: &str) -> String {
        self.tick += 1;
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "--no-verify", "-m", msg]);
        self.git(&["rev-parse", "HEAD"])
    }

    pub fn shush(&self) -> assert_cmd::Command {
        let mut cmd = super::shush();
        cmd.current_dir(&self.path)
            .env_remove("GIT_DIR")
            .env_remove("GIT_INDEX_FILE");
        cmd
    }
}
