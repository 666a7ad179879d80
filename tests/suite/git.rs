//! `shush git` and the hooks, on fixture repositories built in temporary directories with
//! the `git` CLI. Every test skips (with a message) when `git` is not installed.

use crate::util::git::{Repo, git_env, have_git};
use assert_cmd::Command;
use serde_json::Value;
use std::process::Command as Std;

/// A fake GitHub token with a valid checksum, different for every seed.
fn token(seed: u64) -> String {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let random: String = (0..30)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ALNUM[((x >> 33) % 62) as usize] as char
        })
        .collect();
    format!(
        "ghp_{random}{}",
        shush::checksum::github_checksum(random.as_bytes())
    )
}

struct Run {
    code: i32,
    findings: Vec<Value>,
    stdout: String,
    stderr: String,
}

/// Runs `shush git ARGS --format json --no-config` in the repo.
fn scan(repo: &Repo, args: &[&str]) -> Run {
    let out = repo
        .shush()
        .arg("git")
        .args(args)
        .args(["--format", "json", "--no-config", "--no-progress"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let findings = match serde_json::from_str::<Value>(&stdout) {
        Ok(Value::Array(a)) => a,
        _ => panic!("not a JSON array: {stdout}\nstderr: {stderr}"),
    };
    Run {
        code: out.status.code().unwrap_or(-1),
        findings,
        stdout,
        stderr,
    }
}

fn src<'a>(f: &'a Value, key: &str) -> &'a Value {
    &f["source"][key]
}

fn commits_of(run: &Run) -> Vec<String> {
    run.findings
        .iter()
        .map(|f| src(f, "commit").as_str().unwrap_or("-").to_string())
        .collect()
}

#[test]
fn secret_added_then_deleted_is_attributed_to_the_commit_that_added_it() {
    if !have_git() {
        return;
    }
    let mut r = Repo::new();
    r.write("README", "hello\n");
    r.commit("init");
    let t = token(1);
    r.write("config/app.env", format!("GITHUB_TOKEN={t}\n"));
    let added = r.commit("add config");
    std::fs::remove_file(r.path.join("config/app.env")).unwrap();
    r.commit("remove config");
    let run = scan(&r, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.findings.len(), 1, "{}", run.stdout);
    let f = &run.findings[0];
    assert_eq!(f["source"]["kind"], "git");
    assert_eq!(src(f, "commit"), added.as_str());
    assert_eq!(src(f, "path"), "config/app.env");
    assert_eq!(f["path"], "config/app.env");
    assert_eq!(src(f, "author_name"), "Ada Lovelace");
    assert_eq!(src(f, "author_email"), "ada@example.com");
    assert_eq!(src(f, "summary"), "add config");
    assert_eq!(src(f, "date"), "2020-09-13T12:28:40+00:00");
    assert_eq!(src(f, "unreachable"), false);
    assert_eq!(f["line"], 1);
    assert_eq!(f["column"], 14);
    // Masked everywhere unless asked.
    assert!(!run.stdout.contains(&t) && !run.stderr.contains(&t));
    let shown = scan(&r, &["--show-secrets"]);
    assert!(shown.stdout.contains(&t));
}

#[test]
fn side_branch_only_and_branch_scope() {
    if !have_git() {
        return;
    }
    let mut r = Repo::new();
    r.write("a.txt", "a\n");
    r.commit("init");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write("b.txt", format!("token: {}\n", token(2)));
    let c = r.commit("feature work");
    r.git(&["checkout", "-q", "main"]);
    let run = scan(&r, &[]);
    assert_eq!(commits_of(&run), vec![c.clone()]);
    let main_only = scan(&r, &["--branch", "main"]);
    assert_eq!(main_only.code, 0, "{}", main_only.stderr);
    assert!(main_only.findings.is_empty());
    let feature = scan(&r, &["--branch", "feature"]);
    assert_eq!(commits_of(&feature), vec![c]);
}

#[test]
fn only_in_a_tag_and_a_tagged_blob() {
    if !have_git() {
        return;
    }
    let mut r = Repo::new();
    r.write("a.txt", "a\n");
    r.commit("init");
    r.git(&["checkout", "-q", "--detach"]);
    r.write("release.cfg", format!("key={}\n", token(3)));
    let c = r.commit("release");
    r.git(&["tag", "-a", "v1", "-m", "v1"]);
    r.git(&["checkout", "-q", "main"]);
    // A tag naming a blob directly, in no commit at all.
    let blob_file = r.path.join("../loose.txt");
    std::fs::write(&blob_file, format!("tok {}\n", token(4))).unwrap();
    let blob = r.git(&["hash-object", "-w", blob_file.to_str().unwrap()]);
    r.git(&["tag", "blobtag", &blob]);
    let run = scan(&r, &[]);
    assert_eq!(run.findings.len(), 2, "{}", run.stdout);
    let by_commit: Vec<_> = run
        .findings
        .iter()
        .filter(|f| src(f, "commit") == c.as_str())
        .collect();
    assert_eq!(by_commit.len(), 1);
    assert_eq!(src(by_commit[0], "path"), "release.cfg");
    let tagged = run
        .findings
        .iter()
        .find(|f| src(f, "blob") == blob.as_str())
        .expect("tagged blob found");
    assert!(src(tagged, "commit").is_null());
    assert_eq!(src(tagged, "unreachable"), false);
}

#[test]
fn secret_introduced_by_a_merge_commit() {
    if !have_git() {
        return;
    }
    let mut r = Repo::new();
    r.write("a.txt", "a\n");
    r.commit("init");
    r.git(&["checkout", "-q", "-b", "side"]);
    r.write("side.txt", "side\n");
    r.commit("side");
    r.git(&["checkout", "-q", "main"]);
    r.write("main.txt", "main\n");
    r.commit("main");
    r.tick += 1;
    r.git(&["merge", "-q", "--no-ff", "--no-commit", "side"]);
    r.write("merge.env", format!("T={}\n", token(5)));
    r.git(&["add", "merge.env"]);
    r.git(&["commit", "-q", "--no-verify", "-m", "merge side"]);
    let merge = r.git(&["rev-parse", "HEAD"]);
    let run = scan(&r, &[]);
    assert_eq!(commits_of(&run), vec![merge.clone()]);
    assert_eq!(src(&run.findings[0], "summary"), "merge side");
    // The range scan of the merge alone finds it too, and nothing from the side branch.
    let ranged = scan(&r, &["--range", "HEAD~1..HEAD"]);
    assert_eq!(commits_of(&ranged), vec![merge]);
}

#[test]
fn renamed_file_keeps_first_attribution() {
    if !have_git() {
        return;
    }
    let mut r = Repo::new();
    r.write("old/name.txt", format!("x = \"{}\"\n", token(6)));
    let first = r.commit("add");
    r.git(&["mv", "old/name.txt", "new.txt"]);
    let renamed = r.commit("rename");
    let run = scan(&r, &[]);
    assert_eq!(commits_of(&run), vec![first.clone()]);
    assert_eq!(src(&run.findings[0], "path"), "old/name.txt");
    let all = scan(&r, &["--all-occurrences"]);
    let mut got: Vec<(String, String)> = all
        .findings
        .iter()
        .map(|f| {
            (
                src(f, "commit").as_str().unwrap().to_string(),
                src(f, "path").as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    let mut want = vec![
        (first, "old/name.txt".to_string()),
        (renamed, "new.txt".to_string()),
    ];
    want.sort();
    assert_eq!(got, want);
    // Same secret, same fingerprint at both places.
    assert_eq!(
        all.findings[0]["fingerprint"],
        all.findings[1]["fingerprint"]
    );
}

#[test]
fn dangling_commits_and_blobs_only_with_all_objects() {
    if !have_git() {
        return;
    }
    for packed in [false, true] {
        let mut r = Repo::new();
        r.write("a.txt", "a\n");
        r.commit("init");
        r.git(&["checkout", "-q", "-b", "tmp"]);
        r.write("leak.txt", format!("{}\n", token(7)));
        let dangling = r.commit("oops");
        r.git(&["checkout", "-q", "main"]);
        if packed {
            r.git(&["repack", "-q", "-a", "-d"]);
        }
        r.git(&["branch", "-q", "-D", "tmp"]);
        let blob_file = r.path.join("../stray.txt");
        std::fs::write(&blob_file, format!("k {}\n", token(8))).unwrap();
        let stray = r.git(&["hash-object", "-w", blob_file.to_str().unwrap()]);
        let run = scan(&r, &[]);
        assert_eq!(run.code, 0, "packed={packed}: {}", run.stdout);
        assert!(run.findings.is_empty());
        assert!(
            run.stderr.contains("in unreachable objects not shown"),
            "{}",
            run.stderr
        );
        let all = scan(&r, &["--all-objects"]);
        assert_eq!(all.code, 1);
        assert_eq!(all.findings.len(), 2, "packed={packed}: {}", all.stdout);
        for f in &all.findings {
            assert_eq!(src(f, "unreachable"), true);
        }
        let c = all
            .findings
            .iter()
            .find(|f| src(f, "commit") == dangling.as_str())
            .expect("dangling commit attributed");
        assert_eq!(src(c, "path"), "leak.txt");
        assert_eq!(src(c, "summary"), "oops");
        let b = all
            .findings
            .iter()
            .find(|f| src(f, "blob") == stray.as_str())
            .expect("dangling blob found");
        assert!(src(b, "commit").is_null());
    }
}

/// Builds `n` commits with git fast-import: each changes `counter.txt`, and all carry the
/// same `secret.txt` blob (added by the first).
fn fast_import_same_blob(r: &Repo, n: usize, secret: &str) -> String {
    let mut s = String::new();
    let content = format!("password = \"{secret}\"\n");
    s.push_str(&format!(
        "blob\nmark :1\ndata {}\n{content}\n",
        content.len()
    ));
    for i in 0..n {
        let c = format!("{i}\n");
        s.push_str(&format!(
            "commit refs/heads/main\nmark :{}\ncommitter Ada <ada@example.com> {} +0000\ndata 3\nc{}\n",
            i + 10,
            1_600_000_000 + i,
            i % 10
        ));
        if i > 0 {
            s.push_str(&format!("from :{}\n", i + 9));
        } else {
            s.push_str("M 100644 :1 secret.txt\n");
        }
        s.push_str(&format!(
            "M 100644 inline counter.txt\ndata {}\n{c}\n",
            c.len()
        ));
    }
    let mut cmd = r.git_cmd(&["fast-import", "--quiet"]);
    cmd.stdin(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success());
    r.git(&["rev-list", "--max-parents=0", "main"])
}

#[test]
fn same_blob_in_a_thousand_commits_is_scanned_once() {
    if !have_git() {
        return;
    }
    let r = Repo::new();
    let first = fast_import_same_blob(&r, 1000, &token(9));
    assert_eq!(r.git(&["rev-list", "--count", "main"]), "1000");
    let run = scan(&r, &[]);
    assert_eq!(run.findings.len(), 1, "{}", run.stdout);
    assert_eq!(commits_of(&run), vec![first]);
    assert_eq!(src(&run.findings[0], "path"), "secret.txt");
    // 1 secret blob + 1000 distinct counter blobs, each decoded and scanned once.
    assert!(run.stderr.contains("shush: 1001 blobs,"), "{}", run.stderr);
}

#[test]
fn binary_blob_is_scanned() {
    if !have_git() {
        return;
    }
    let mut r = Repo::new();
    let mut bin = vec![0u8, 1, 2, 3, 0, 0xff];
    bin.extend_from_slice(format!("\0{}\0", token(10)).as_bytes());
    bin.extend_from_slice(&[0u8; 64]);
    r.write("app.bin", &bin);
    let c = r.commit("binary");
    let run = scan(&r, &[]);
    assert_eq!(commits_of(&run), vec![c]);
    assert_eq!(src(&run.findings[0], "path"), "app.bin");
}

#[test]
fn blob_over_the_cap_is_not_scanned_and_fails_closed() {
    if !have_git() {
        return;
    }
    let mut r = Repo::new();
    let mut big = "x".repeat(1 << 20);
    big.push_str(&format!("\ntoken={}\n", token(11)));
    big.push_str(&"y".repeat(1 << 20));
    r.write("big.txt", &big);
    r.write("small.txt", format!("token={}\n", token(12)));
    r.commit("big");
    let big_id = r.git(&["rev-parse", "HEAD:big.txt"]);
    // Not scanned is an error naming the blob, whether it is loose or packed; what was
    // scanned is still reported.
    for packed in [false, true] {
        if packed {
            r.git(&["gc", "-q"]);
        }
        let capped = scan(&r, &["--max-blob-size", "1M"]);
        assert_eq!(capped.code, 2, "{}", capped.stderr);
        assert_eq!(capped.findings.len(), 1, "{}", capped.stdout);
        assert_eq!(src(&capped.findings[0], "path"), "small.txt");
        let line = format!(
            "error: blob {big_id}: not scanned: {} bytes is over --max-blob-size (1048576 bytes)",
            big.len()
        );
        assert!(capped.stderr.contains(&line), "{}", capped.stderr);
        assert!(
            capped.stderr.contains("1 over the size cap skipped"),
            "{}",
            capped.stderr
        );
    }
    // A range names the path too.
    let capped = scan(&r, &["--range", "..HEAD", "--max-blob-size", "1M"]);
    assert_eq!(capped.code, 2, "{}", capped.stderr);
    assert!(
        capped
            .stderr
            .contains(&format!("error: big.txt (blob {big_id}): not scanned")),
        "{}",
        capped.stderr
    );
    // Told otherwise, it is a warning.
    let allowed = scan(&r, &["--max-blob-size", "1M", "--skip-unreadable"]);
    assert_eq!(allowed.code, 1, "{}", allowed.stderr);
    assert!(
        allowed
            .stderr
            .contains(&format!("warning: blob {big_id}: not scanned")),
        "{}",
        allowed.stderr
    );
    let full = scan(&r, &[]);
    assert_eq!(full.code, 1, "{}", full.stderr);
    assert_eq!(full.findings.len(), 2);
}

/// Runs `shush git ARGS` with `SHUSH_TIMING` set; returns the run and the highest peak
/// resident memory it reports (KiB: the process's own high-water mark).
#[cfg(target_os = "linux")]
fn scan_peak(repo: &Repo, args: &[&str]) -> (Run, u64) {
    let out = repo
        .shush()
        .arg("git")
        .args(args)
        .args(["--format", "json", "--no-config", "--no-progress"])
        .env("SHUSH_TIMING", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let peak = stderr
        .lines()
        .filter_map(|l| l.split(", peak ").nth(1))
        .filter_map(|p| p.trim_end_matches(" kB").parse().ok())
        .max()
        .unwrap_or_else(|| panic!("no timing line: {stderr}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let findings = serde_json::from_str::<Vec<Value>>(&stdout).unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        findings,
        stdout,
        stderr,
    };
    (run, peak)
}

#[cfg(target_os = "linux")]
#[test]
fn blob_over_the_cap_is_never_inflated() {
    if !have_git() {
        return;
    }
    let mut r = Repo::new();
    // 96 MiB that compress well (git is quick to store them), then an edit of it: in a pack
    // one version is a delta of the other.
    let line = |i: usize| format!("{i:>12} the quick brown fox jumps over the lazy dog\n");
    let mut big: String = (0..1_650_000).map(line).collect();
    r.write("big.txt", &big);
    r.write("small.txt", format!("token={}\n", token(13)));
    r.commit("big");
    big.replace_range(0..12, "      edited");
    r.write("big.txt", &big);
    r.commit("edit");
    for packed in [false, true] {
        if packed {
            r.git(&["gc", "-q"]);
        }
        let (run, kib) = scan_peak(&r, &["--max-blob-size", "1M"]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert_eq!(run.findings.len(), 1, "{}", run.stdout);
        assert_eq!(
            run.stderr.matches("not scanned").count(),
            2,
            "{}",
            run.stderr
        );
        // Inflating one version took 96 MiB.
        assert!(
            kib < 64 << 10,
            "packed: {packed}, peak {kib} KiB\n{}",
            run.stderr
        );
    }
}

#[test]
fn blobs_in_long_delta_chains_under_the_cap_are_scanned() {
    if !have_git() {
        return;
    }
    // Twelve versions of a 1,040,000-byte file, each changing another 2 KB block: in a pack
    // they form a delta chain whose sizes add up past the cap though no version is over it.
    // Each version is scanned (the secret is in all of them).
    let mut r = Repo::new();
    let mut text: Vec<u8> = format!("token={}\n", token(14)).into_bytes();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    while text.len() < 1_040_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        text.push(b"abcdefghijklmnopqrstuvwxyz0123456789\n"[(x % 37) as usize]);
    }
    for v in 0..12 {
        let at = 100_000 + v * 70_000;
        for b in &mut text[at..at + 2048] {
            *b = b'a' + (v as u8);
        }
        r.write("data.txt", &text);
        r.commit(&format!("v{v}"));
    }
    r.git(&["gc", "-q", "--aggressive"]);
    let run = scan(&r, &["--max-blob-size", "1040000", "--all-occurrences"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!run.stderr.contains("not scanned"), "{}", run.stderr);
    assert_eq!(run.findings.len(), 12, "{}", run.stderr);
}
#[test]
fn shallow_clone() {
    if !have_git() {
        return;
    }
    let mut origin = Repo::new();
    origin.write("a.txt", format!("{}\n", token(12)));
    origin.commit("one");
    origin.write("b.txt", "b\n");
    origin.commit("two");
    origin.write("c.txt", "c\n");
    let tip = origin.commit("three");
    let clone = origin.path.parent().unwrap().join("shallow");
    let url = format!("file://{}", origin.path.display());
    let mut cmd = Std::new("git");
    git_env(&mut cmd);
    let st = cmd
        .args(["clone", "-q", "--depth", "1", &url])
        .arg(&clone)
        .status()
        .unwrap();
    assert!(st.success());
    assert!(clone.join(".git/shallow").exists());
    // A history audit of a shallow clone would check only what the clone has: refused.
    let out = Command::cargo_bin("shush")
        .unwrap()
        .arg("git")
        .arg(&clone)
        .args(["--format", "json", "--no-config"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("shallow clone"), "{stderr}");
    assert!(stderr.contains("--unshallow"), "{stderr}");
    assert!(out.stdout.is_empty());
    let mut cmd = Command::cargo_bin("shush").unwrap();
    let out = cmd
        .arg("git")
        .arg(&clone)
        .args(["--format", "json", "--no-config", "--allow-shallow"])
        .output()
        .unwrap();
    let findings: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The secret came in before the cut: the boundary commit is the first we can see.
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["source"]["commit"], tip.as_str());
    assert!(!stderr.contains("error"), "{stderr}");
}

#[test]
fn corrupt_loose_object_is_reported_and_the_scan_goes_on() {
    if !have_git() {
        return;
    }
    let mut r = Repo::new();
    r.write("good.txt", format!("{}\n", token(13)));
    r.write("bad.txt", format!("{}\n", token(14)));
    let c = r.commit("two files");
    let bad = r.git(&["rev-parse", "HEAD:bad.txt"]);
    let obj = r.path.join(".git/objects").join(&bad[..2]).join(&bad[2..]);
    let mut perm = std::fs::metadata(&obj).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perm.set_readonly(false);
    std::fs::set_permissions(&obj, perm).unwrap();
    std::fs::write(&obj, b"this is not zlib data at all").unwrap();
    let run = scan(&r, &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains(&bad), "{}", run.stderr);
    assert_eq!(commits_of(&run), vec![c]);
    assert_eq!(src(&run.findings[0], "path"), "good.txt");
}

#[test]
fn since_and_range_scan_only_new_commits() {
    if !have_git() {
        return;
    }
    let mut r = Repo::new();
    r.write("old.txt", format!("{}\n", token(15)));
    let base = r.commit("old secret");
    r.write("new.txt", format!("{}\n", token(16)));
    let newer = r.commit("new secret");
    r.write("other.txt", "x\n");
    r.commit("clean");
    let since = scan(&r, &["--since", &base]);
    assert_eq!(commits_of(&since), vec![newer.clone()]);
    let range = scan(&r, &["--range", &format!("{newer}..HEAD")]);
    assert_eq!(range.code, 0);
    assert!(range.findings.is_empty());
    let all = scan(&r, &[]);
    assert_eq!(all.findings.len(), 2);
}

#[test]
fn baseline_survives_a_rewrite() {
    if !have_git() {
        return;
    }
    let mut r = Repo::new();
    r.write("k.txt", format!("{}\n", token(17)));
    r.commit("secret");
    let base = r.path.parent().unwrap().join("baseline.json");
    let out = r
        .shush()
        .args(["git", "--no-config", "--format", "json", "-o"])
        .arg(&base)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    // Rewrite: move the secret to a new path and reword the commit.
    r.git(&["mv", "k.txt", "moved.txt"]);
    r.tick += 1;
    r.git(&["commit", "-q", "--amend", "-m", "reworded"]);
    r.git(&["reflog", "expire", "--expire=now", "--all"]);
    r.git(&["gc", "-q", "--prune=now"]);
    let run = scan(&r, &["--baseline", base.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stderr.contains("1 suppressed by baseline"),
        "{}",
        run.stderr
    );
}

#[test]
fn formats_carry_the_git_source() {
    if !have_git() {
        return;
    }
    let mut r = Repo::new();
    r.write("s.txt", format!("{}\n", token(18)));
    let c = r.commit("s");
    let out = r
        .shush()
        .args(["git", "--no-config", "--format", "sarif"])
        .output()
        .unwrap();
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let res = &sarif["runs"][0]["results"][0];
    assert_eq!(res["properties"]["source"]["kind"], "git");
    assert_eq!(res["properties"]["source"]["commit"], c.as_str());
    let out = r
        .shush()
        .args(["git", "--no-config", "--format", "jsonl"])
        .output()
        .unwrap();
    let line: Value =
        serde_json::from_slice(out.stdout.split(|&b| b == b'\n').next().unwrap()).unwrap();
    assert_eq!(line["source"]["kind"], "git");
    let out = r
        .shush()
        .args(["git", "--no-config", "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\n  s.txt:1:1 in "), "{text}");
    let origin = format!(
        " in {} by Ada Lovelace <ada@example.com> 2020-09-13: s",
        &c[..10]
    );
    assert!(text.contains(&origin), "{text}");
}

#[test]
fn bare_repository_and_not_a_repository() {
    if !have_git() {
        return;
    }
    let mut r = Repo::new();
    r.write("s.txt", format!("{}\n", token(19)));
    let c = r.commit("s");
    let bare = r.path.parent().unwrap().join("bare.git");
    let mut cmd = Std::new("git");
    git_env(&mut cmd);
    assert!(
        cmd.args(["clone", "-q", "--bare"])
            .arg(&r.path)
            .arg(&bare)
            .status()
            .unwrap()
            .success()
    );
    let out = Command::cargo_bin("shush")
        .unwrap()
        .arg("git")
        .arg(&bare)
        .args(["--format", "json", "--no-config"])
        .output()
        .unwrap();
    let f: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(f[0]["source"]["commit"], c.as_str());
    let empty = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("shush")
        .unwrap()
        .arg("git")
        .arg(empty.path())
        .args(["--no-config"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a git repository"));
}

// ---------------------------------------------------------------------------------------
// Hooks

/// Installs shush's hooks into `r` with `shush hook install`.
fn install_hooks(r: &Repo, pre_push: bool) {
    let mut cmd = r.shush();
    cmd.args(["hook", "install"]);
    if pre_push {
        cmd.arg("--pre-push");
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `git commit` with the hooks enabled; returns (success, stderr).
fn try_commit(r: &mut Repo, args: &[&str]) -> (bool, String) {
    r.tick += 1;
    let mut full = vec!["commit", "-q"];
    full.extend_from_slice(args);
    let out = r.git_cmd(&full).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn pre_commit_hook_blocks_staged_secrets() {
    if !have_git() {
        return;
    }
    let mut r = Repo::new();
    r.write("app.py", "print('hi')\n");
    r.commit("init");
    install_hooks(&r, false);
    let t = token(20);
    r.write("app.py", format!("print('hi')\nTOKEN = '{t}'\n"));
    r.git(&["add", "app.py"]);
    let (ok, err) = try_commit(&mut r, &["-m", "add token"]);
    assert!(!ok, "commit went through");
    assert!(err.contains("commit blocked"), "{err}");
    assert!(err.contains("app.py:2:"), "{err}");
    assert!(err.contains("shush:allow"), "{err}");
    assert!(err.contains(".shush-baseline.jsonl"), "{err}");
    assert!(!err.contains(&t), "full secret printed: {err}");
    // Staged then cleaned in the working tree only: the index still has it.
    r.write("app.py", "print('hi')\n");
    let (ok, _) = try_commit(&mut r, &["-m", "still staged"]);
    assert!(!ok, "the staged secret slipped through");
    // Clean staged content, secret only in the working tree: fine.
    r.git(&["add", "app.py"]);
    r.write("app.py", format!("print('hi')\nTOKEN = '{t}'\n"));
    let (ok, err) = try_commit(&mut r, &["--allow-empty", "-m", "clean index"]);
    assert!(ok, "{err}");
    // `git commit -a` stages into a temporary index: it is scanned.
    let (ok, err) = try_commit(&mut r, &["-a", "-m", "commit -a"]);
    assert!(!ok, "commit -a slipped through");
    assert!(err.contains("commit blocked"), "{err}");
    // Marked as allowed: goes through.
    r.write(
        "app.py",
        format!("print('hi')\nTOKEN = '{t}'  # shush:allow\n"),
    );
    let (ok, err) = try_commit(&mut r, &["-a", "-m", "allowed"]);
    assert!(ok, "{err}");
}

#[test]
fn pre_commit_reports_only_added_lines_and_honours_the_baseline() {
    if !have_git() {
        return;
    }
    let mut r = Repo::new();
    let t = token(21);
    // An old secret, committed before the hook existed.
    r.write("settings.ini", format!("[a]\nkey={t}\n"));
    r.commit("old");
    install_hooks(&r, false);
    r.write("settings.ini", format!("[a]\nkey={t}\nname=x\n"));
    r.git(&["add", "settings.ini"]);
    let (ok, err) = try_commit(&mut r, &["-m", "edit other line"]);
    assert!(ok, "an untouched old line blocked the commit: {err}");
    // A new secret, accepted through the baseline.
    let t2 = token(22);
    r.write("new.ini", format!("key={t2}\n"));
    r.git(&["add", "new.ini"]);
    let (ok, _) = try_commit(&mut r, &["-m", "new secret"]);
    assert!(!ok);
    let out = r
        .shush()
        .args(["git", "--staged", "--no-config", "--format", "jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    std::fs::write(r.path.join(".shush-baseline.jsonl"), &out.stdout).unwrap();
    let (ok, err) = try_commit(&mut r, &["-m", "baselined"]);
    assert!(ok, "{err}");
}

#[test]
fn first_commit_scans_everything_staged() {
    if !have_git() {
        return;
    }
    let mut r = Repo::new();
    install_hooks(&r, false);
    r.write("a/b/c.txt", format!("{}\n", token(23)));
    r.git(&["add", "-A"]);
    let (ok, err) = try_commit(&mut r, &["-m", "first"]);
    assert!(!ok);
    assert!(err.contains("a/b/c.txt:1:1"), "{err}");
}

#[test]
fn hook_install_chains_and_uninstall_restores() {
    if !have_git() {
        return;
    }
    let mut r = Repo::new();
    r.write("a", "a\n");
    r.commit("init");
    let hooks = r.path.join(".git/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let mine = hooks.join("pre-commit");
    std::fs::write(
        &mine,
        "#!/bin/sh\necho ran >> \"$(git rev-parse --git-dir)/mine-ran\"\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&mine, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    install_hooks(&r, false);
    install_hooks(&r, false); // idempotent: does not chain itself
    assert!(hooks.join("pre-commit.shush-chained").exists());
    r.write("b", "b\n");
    r.git(&["add", "b"]);
    let (ok, err) = try_commit(&mut r, &["-m", "b"]);
    assert!(ok, "{err}");
    let ran = std::fs::read_to_string(r.path.join(".git/mine-ran")).unwrap();
    assert_eq!(ran.lines().count(), 1);
    let out = r.shush().args(["hook", "uninstall"]).output().unwrap();
    assert!(out.status.success());
    let restored = std::fs::read_to_string(&mine).unwrap();
    assert!(restored.contains("mine-ran") && !restored.contains("shush-hook"));
    assert!(!hooks.join("pre-commit.shush-chained").exists());
}

#[test]
fn hook_install_honours_core_hooks_path() {
    if !have_git() {
        return;
    }
    let r = Repo::new();
    r.git(&["config", "core.hooksPath", "my-hooks"]);
    install_hooks(&r, true);
    assert!(r.path.join("my-hooks/pre-commit").exists());
    assert!(r.path.join("my-hooks/pre-push").exists());
}

#[test]
fn pre_push_scans_only_pushed_commits() {
    if !have_git() {
        return;
    }
    let mut r = Repo::new();
    let remote = r.path.parent().unwrap().join("remote.git");
    let mut cmd = Std::new("git");
    git_env(&mut cmd);
    assert!(
        cmd.args(["init", "-q", "--bare"])
            .arg(&remote)
            .status()
            .unwrap()
            .success()
    );
    r.git(&["remote", "add", "origin", remote.to_str().unwrap()]);
    // An old secret already on the remote does not block later pushes.
    r.write("old.txt", format!("{}\n", token(24)));
    r.commit("old");
    r.git(&["push", "-q", "origin", "main"]);
    install_hooks(&r, true);
    r.write("clean.txt", "ok\n");
    r.commit("clean");
    let push = |r: &Repo| {
        let out = r
            .git_cmd(&["push", "-q", "origin", "main"])
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, err) = push(&r);
    assert!(ok, "{err}");
    let t = token(25);
    r.write("new.txt", format!("{t}\n"));
    let bad = r.commit("leak");
    let (ok, err) = push(&r);
    assert!(!ok, "push with a secret went through");
    assert!(err.contains("push blocked"), "{err}");
    assert!(err.contains(&bad[..10]), "{err}");
    assert!(!err.contains(&t));
    // The same, driven directly: a new branch whose only new commit is clean.
    let z = "0".repeat(40);
    let head = r.git(&["rev-parse", "HEAD~1"]);
    let out = r
        .shush()
        .args(["git", "--pre-push", "--remote", "origin", "--no-config"])
        .write_stdin(format!("refs/heads/x {head} refs/heads/x {z}\n"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Deleting a branch pushes nothing.
    let out = r
        .shush()
        .args(["git", "--pre-push", "--no-config"])
        .write_stdin(format!("(delete) {z} refs/heads/x {head}\n"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn pre_commit_framework_push_of_a_new_repository_scans_every_commit() {
    if !have_git() {
        return;
    }
    let mut r = Repo::new();
    let t = token(26);
    r.write("first.txt", format!("{t}\n"));
    let root = r.commit("root, with a secret");
    r.write("second.txt", "ok\n");
    r.commit("clean");
    // What pre-commit passes for a push that includes the root commit: no commit ids, only
    // the branches (it runs its hooks "on all files"); its hooks get no pre-push lines.
    let framework = |r: &Repo, from_to: Option<(&str, &str)>| {
        let mut cmd = r.shush();
        cmd.args(["git", "--pre-push", "--no-config", "--color", "never"])
            .env("PRE_COMMIT_LOCAL_BRANCH", "refs/heads/main")
            .env("PRE_COMMIT_REMOTE_BRANCH", "refs/heads/main")
            .env("PRE_COMMIT_REMOTE_NAME", "origin")
            .env("PRE_COMMIT_REMOTE_URL", "/nonexistent/remote.git")
            .env_remove("PRE_COMMIT_FROM_REF")
            .env_remove("PRE_COMMIT_TO_REF")
            .write_stdin("");
        if let Some((from, to)) = from_to {
            cmd.env("PRE_COMMIT_FROM_REF", from)
                .env("PRE_COMMIT_TO_REF", to);
        }
        cmd.output().unwrap()
    };
    let out = framework(&r, None);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("github-pat") && text.contains(&root[..10]),
        "{text}"
    );
    assert!(!text.contains(&t));
    // With commit ids, only the range: the clean commit on top of the root.
    let head = r.git(&["rev-parse", "HEAD"]);
    let out = framework(&r, Some((&root, &head)));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn path_rules_from_a_config_apply_to_history() {
    if !have_git() {
        return;
    }
    let mut r = Repo::new();
    r.write("a.txt", "a\n");
    r.commit("init");
    r.write("certs/client.p12", b"\x30\x82binary".as_slice());
    let added = r.commit("add cert");
    std::fs::remove_file(r.path.join("certs/client.p12")).unwrap();
    r.commit("remove cert");
    let cfg = r.path.parent().unwrap().join("rules.toml");
    std::fs::write(
        &cfg,
        "[[rules]]\nid = \"pkcs12-file\"\ndescription = \"PKCS#12 file\"\npath = '''\\.p12$'''\n",
    )
    .unwrap();
    let out = r
        .shush()
        .args(["git", "--format", "json", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    let f: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(f.len(), 1, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(f[0]["rule_id"], "pkcs12-file");
    assert_eq!(f[0]["source"]["commit"], added.as_str());
    assert_eq!(f[0]["path"], "certs/client.p12");
}

#[test]
fn stash_and_notes_are_refs_too() {
    if !have_git() {
        return;
    }
    let mut r = Repo::new();
    r.write("app.cfg", "user=me\n");
    r.commit("init");
    r.write("app.cfg", format!("user=me\ntoken={}\n", token(26)));
    r.tick += 1;
    r.git(&["stash", "-q"]);
    // An older stash stays reachable only through the stash reflog.
    r.write("app.cfg", format!("user=me\nother={}\n", token(27)));
    r.git(&["stash", "-q"]);
    r.git(&[
        "notes",
        "add",
        "-m",
        &format!("deploy key {}", token(28)),
        "HEAD",
    ]);
    let run = scan(&r, &[]);
    assert_eq!(run.findings.len(), 3, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.findings
            .iter()
            .all(|f| src(f, "unreachable") == false && !src(f, "commit").is_null())
    );
}

#[test]
fn linked_worktree_staged_and_history() {
    if !have_git() {
        return;
    }
    let mut r = Repo::new();
    r.write("a.txt", "a\n");
    r.commit("init");
    let wt = r.path.parent().unwrap().join("linked");
    r.git(&["worktree", "add", "-q", "-b", "wt", wt.to_str().unwrap()]);
    std::fs::write(wt.join("s.env"), format!("K={}\n", token(29))).unwrap();
    let mut cmd = Std::new("git");
    git_env(&mut cmd);
    assert!(
        cmd.current_dir(&wt)
            .args(["add", "s.env"])
            .status()
            .unwrap()
            .success()
    );
    let out = Command::cargo_bin("shush")
        .unwrap()
        .current_dir(&wt)
        .args(["git", "--staged", "--no-config", "--format", "json"])
        .output()
        .unwrap();
    let f: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(f.len(), 1, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(f[0]["path"], "s.env");
    // The main work tree has nothing staged.
    let main = scan(&r, &["--staged"]);
    assert_eq!(main.code, 0);
    assert!(main.findings.is_empty());
}

#[test]
fn partial_clone_missing_blobs_are_not_fatal() {
    if !have_git() {
        return;
    }
    let mut origin = Repo::new();
    origin.git(&["config", "uploadpack.allowFilter", "true"]);
    origin.write("old.txt", "old\n");
    origin.commit("old");
    std::fs::remove_file(origin.path.join("old.txt")).unwrap();
    origin.write("live.env", format!("T={}\n", token(30)));
    let c = origin.commit("live");
    let clone = origin.path.parent().unwrap().join("partial");
    let url = format!("file://{}", origin.path.display());
    let mut cmd = Std::new("git");
    git_env(&mut cmd);
    let st = cmd
        .args(["clone", "-q", "--filter=blob:none", &url])
        .arg(&clone)
        .status()
        .unwrap();
    assert!(st.success());
    let out = Command::cargo_bin("shush")
        .unwrap()
        .arg("git")
        .arg(&clone)
        .args(["--format", "json", "--no-config"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let f: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["source"]["commit"], c.as_str());
    assert!(!stderr.contains("error"), "{stderr}");
    assert!(stderr.contains("warning: partial clone"), "{stderr}");
}

#[test]
fn corrupt_pack_entry_is_reported_and_the_rest_is_scanned() {
    if !have_git() {
        return;
    }
    let mut r = Repo::new();
    r.write("secret.txt", format!("{}\n", token(31)));
    // Incompressible, so its pack entry is long and stored whole.
    let mut x = 7u64;
    let junk: Vec<u8> = (0..8192)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    r.write("junk.bin", &junk);
    let c = r.commit("two files");
    r.git(&["repack", "-q", "-a", "-d"]);
    let junk_id = r.git(&["rev-parse", "HEAD:junk.bin"]);
    let pack_dir = r.path.join(".git/objects/pack");
    let idx = std::fs::read_dir(&pack_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "idx"))
        .unwrap();
    let listing = r.git(&["verify-pack", "-v", idx.to_str().unwrap()]);
    // `<id> blob <size> <size-in-pack> <offset>`
    let line = listing
        .lines()
        .find(|l| l.starts_with(&junk_id))
        .expect("junk blob in the pack");
    let f: Vec<&str> = line.split_whitespace().collect();
    let (in_pack, offset): (usize, usize) = (f[3].parse().unwrap(), f[4].parse().unwrap());
    let pack = idx.with_extension("pack");
    let mut bytes = std::fs::read(&pack).unwrap();
    for b in &mut bytes[offset + in_pack / 2..offset + in_pack / 2 + 64] {
        *b ^= 0x5a;
    }
    let mut perm = std::fs::metadata(&pack).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perm.set_readonly(false);
    std::fs::set_permissions(&pack, perm).unwrap();
    std::fs::write(&pack, bytes).unwrap();
    let run = scan(&r, &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains(&junk_id), "{}", run.stderr);
    assert_eq!(commits_of(&run), vec![c]);
    assert_eq!(src(&run.findings[0], "path"), "secret.txt");
    // Each readable blob counted once, the damaged one not at all.
    assert!(run.stderr.contains("shush: 1 blobs,"), "{}", run.stderr);
}

#[test]
fn gitleaksignore_with_commits_applies_to_history() {
    if !have_git() {
        return;
    }
    let mut r = Repo::new();
    r.write("a.env", format!("T={}\n", token(40)));
    let first = r.commit("one");
    r.write("b.env", format!("\nT={}\n", token(41)));
    r.commit("two");
    assert_eq!(scan(&r, &[]).findings.len(), 2);
    // gitleaks' `commit:file:rule:line` form names the commit that introduced the secret.
    r.write(".gitleaksignore", format!("{first}:a.env:github-pat:1\n"));
    let run = scan(&r, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let paths: Vec<_> = run.findings.iter().map(|f| f["path"].clone()).collect();
    assert_eq!(paths, ["b.env"]);
    // Another commit's fingerprint does not match.
    let other = "f".repeat(40);
    r.write(".gitleaksignore", format!("{other}:a.env:github-pat:1\n"));
    assert_eq!(scan(&r, &[]).findings.len(), 2);
}

#[test]
fn the_hooks_honour_the_baseline_however_they_are_run() {
    if !have_git() {
        return;
    }
    let mut r = Repo::new();
    r.write("README.md", "hi\n");
    r.commit("init");
    let known = token(50);
    r.write("test/fixture.env", format!("T={known}\n"));
    r.git(&["add", "-A"]);
    // Accepted knowingly: the hook message's own advice, followed literally.
    let jsonl = r
        .shush()
        .args(["git", "--staged", "--no-config", "--format", "jsonl"])
        .output()
        .unwrap();
    assert_eq!(jsonl.status.code(), Some(1));
    std::fs::write(r.path.join(".shush-baseline.jsonl"), &jsonl.stdout).unwrap();
    // Plain `shush git --staged` (the pre-commit framework's entry) now passes…
    let out = r
        .shush()
        .args(["git", "--staged", "--no-config"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // …and so does the installed hook, through a real `git commit`.
    r.shush().args(["hook", "install"]).assert().success();
    let commit = r
        .git_cmd(&["commit", "-q", "-m", "fixture"])
        .output()
        .unwrap();
    assert!(
        commit.status.success(),
        "{}",
        String::from_utf8_lossy(&commit.stderr)
    );
    // A new secret is still blocked.
    r.write("app.env", format!("T={}\n", token(51)));
    r.git(&["add", "-A"]);
    let blocked = r.git_cmd(&["commit", "-q", "-m", "leak"]).output().unwrap();
    assert!(!blocked.status.success());
    assert!(String::from_utf8_lossy(&blocked.stderr).contains("commit blocked"));
}

#[test]
fn staged_files_given_by_the_pre_commit_framework() {
    if !have_git() {
        return;
    }
    let mut r = Repo::new();
    let old = token(60);
    r.write("old.env", format!("T={old}\n"));
    r.write("clean.txt", "nothing\n");
    r.commit("history");
    let new = token(61);
    r.write("new.env", format!("T={new}\n"));
    r.write("other.env", format!("T={}\n", token(62)));
    r.git(&["add", "-A"]);
    let staged = |files: &[&str]| {
        let mut args = vec!["--staged", "--files"];
        args.extend_from_slice(files);
        scan(&r, &args)
    };
    // An ordinary commit: the framework passes the staged files (here a subset of them).
    let run = staged(&["new.env"]);
    assert_eq!(run.code, 1);
    let paths: Vec<_> = run.findings.iter().map(|f| f["path"].clone()).collect();
    assert_eq!(paths, ["new.env"]);
    // `pre-commit run --all-files`: every tracked file, unchanged ones included, is
    // checked whole — the old secret too.
    let run = staged(&["./clean.txt", "new.env", "old.env", "other.env"]);
    assert_eq!(run.code, 1);
    let mut paths: Vec<_> = run
        .findings
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    paths.sort();
    assert_eq!(paths, ["new.env", "old.env", "other.env"]);
    // `--files` with only unchanged, clean files: clean.
    assert_eq!(staged(&["clean.txt"]).code, 0);
    // A file that is not in the index is named in a warning, not silently dropped.
    let run = staged(&["clean.txt", "missing.txt"]);
    assert!(
        run.stderr.contains("missing.txt: not in the index"),
        "{}",
        run.stderr
    );
}

/// Deletes the loose object `id` of `r` (what a damaged or hand-pruned repository looks like).
fn delete_loose(r: &Repo, id: &str) {
    let obj = r.path.join(".git/objects").join(&id[..2]).join(&id[2..]);
    std::fs::remove_file(&obj).unwrap_or_else(|e| panic!("{}: {e}", obj.display()));
}

#[test]
fn a_missing_blob_in_a_full_clone_fails_closed_in_every_mode() {
    if !have_git() {
        return;
    }
    let mut r = Repo::new();
    r.write("a.txt", format!("{}\n", token(40)));
    let first = r.commit("first");
    r.write("b.txt", "plain text that went missing\n");
    r.write("c.txt", format!("{}\n", token(41)));
    r.commit("second");
    let gone = r.git(&["rev-parse", "HEAD:b.txt"]);
    delete_loose(&r, &gone);
    let head = r.git(&["rev-parse", "HEAD"]);
    let z = "0".repeat(40);
    let modes: Vec<(Vec<String>, usize, Option<String>)> = vec![
        (vec![], 2, None),
        (vec!["--all-objects".into()], 2, None),
        (vec!["--range".into(), format!("{first}..HEAD")], 1, None),
        (
            vec!["--pre-push".into()],
            1,
            Some(format!("refs/heads/main {head} refs/heads/main {first}\n")),
        ),
        (
            vec!["--pre-push".into()],
            2,
            Some(format!("refs/heads/new {head} refs/heads/new {z}\n")),
        ),
    ];
    for (args, found, stdin) in modes {
        let mut cmd = r.shush();
        cmd.arg("git")
            .args(&args)
            .args(["--format", "json", "--no-config", "--no-progress"]);
        if let Some(s) = &stdin {
            cmd.write_stdin(s.clone());
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&gone),
            "{args:?} does not name {gone}: {stderr}"
        );
        assert!(stderr.contains("missing"), "{args:?}: {stderr}");
        if stdin.is_none() {
            let f: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(f.len(), found, "{args:?}: what was found is still reported");
        }
    }
}

#[test]
fn a_secret_under_a_missing_tree_is_reported_reachable_not_hidden() {
    if !have_git() {
        return;
    }
    let mut r = Repo::new();
    let t = token(42);
    r.write("dir/secret.txt", format!("{t}\n"));
    let first = r.commit("secret in a folder");
    let tree = r.git(&["rev-parse", &format!("{first}:dir")]);
    r.git(&["rm", "-q", "-r", "dir"]);
    r.write("x.txt", "x\n");
    r.commit("folder removed");
    delete_loose(&r, &tree);
    let run = scan(&r, &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains(&tree), "{}", run.stderr);
    assert_eq!(run.findings.len(), 1, "{}", run.stdout);
    let f = &run.findings[0];
    assert_eq!(src(f, "unreachable"), false, "{f}");
    assert!(
        src(f, "summary")
            .as_str()
            .unwrap_or("")
            .contains("not attributed"),
        "{f}"
    );
    assert!(!run.stdout.contains(&t) && !run.stderr.contains(&t));
}

#[test]
fn findings_past_a_blobs_cap_are_counted_and_still_fail_a_baselined_gate() {
    if !have_git() {
        return;
    }
    let mut r = Repo::new();
    let body: String = (0..10_500u64)
        .map(|i| format!("t {}\n", token(50_000 + i)))
        .collect();
    r.write("tokens.txt", body.as_bytes());
    r.commit("many tokens");
    let run = scan(&r, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.findings.len(), 10_000);
    assert!(
        run.stderr.contains("500 more findings were not listed"),
        "{}",
        run.stderr
    );
    // Every listed finding baselined: the 500 never compared with it still fail the gate.
    let base = r.path.join(".git").join("base.json");
    std::fs::write(&base, &run.stdout).unwrap();
    let out = r
        .shush()
        .arg("git")
        .args(["--no-config", "--no-progress", "--baseline"])
        .arg(&base)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("10000 suppressed by baseline"), "{stderr}");
}

#[test]
fn a_blob_larger_than_one_piece_is_scanned_in_chunks_and_finds_everything() {
    // Over the 8 MiB whole-input limit: scanned in chunks (bounded memory), with the same
    // findings and line numbers a whole scan gives.
    if !have_git() {
        return;
    }
    let mut r = Repo::new();
    let filler = "a line of ordinary build output with nothing secret in it at all\n";
    let mut body = String::new();
    let mut want_lines = Vec::new();
    let mut line = 1u64;
    for (i, stop) in [1_000usize, 70_000, 140_000].iter().enumerate() {
        while (line as usize) < *stop {
            body.push_str(filler);
            line += 1;
        }
        body.push_str(&format!(
            "export GITHUB_TOKEN={}\n",
            token(70_000 + i as u64)
        ));
        want_lines.push(line);
        line += 1;
    }
    assert!(body.len() > 8 << 20, "{}", body.len());
    r.write("big.log", body.as_bytes());
    r.commit("big log");
    let run = scan(&r, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let mut got: Vec<u64> = run
        .findings
        .iter()
        .map(|f| f["line"].as_u64().unwrap_or(0))
        .collect();
    got.sort();
    assert_eq!(got, want_lines, "{}", run.stdout);
}

// ---------------------------------------------------------------------------------------------
// Reports through sinks: JSON Lines streams in attribution order.

/// A linear history of `n` commits, each adding a file with its own token.
fn linear_history(n: u64) -> Repo {
    let mut r = Repo::new();
    for i in 0..n {
        r.write(
            &format!("f{i}.txt"),
            format!("token = {}\n", token(900 + i)),
        );
        r.commit(&format!("add f{i}"));
    }
    r
}

/// Runs `shush git --format jsonl ARGS` and parses each line.
fn scan_jsonl(repo: &Repo, args: &[&str]) -> (i32, Vec<Value>, String) {
    let out = repo
        .shush()
        .args(["git", "--format", "jsonl", "--no-config", "--no-progress"])
        .args(args)
        .output()
        .unwrap();
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap_or(-1), lines, stderr)
}

#[test]
fn jsonl_streams_the_same_findings_as_json_in_the_same_order() {
    if !have_git() {
        return;
    }
    let r = linear_history(4);
    let json = scan(&r, &[]);
    let (code, lines, stderr) = scan_jsonl(&r, &[]);
    assert_eq!((json.code, code), (1, 1), "{stderr}");
    assert_eq!(lines.len(), 4);
    // Oldest introduction first: the streamed order is the report order.
    assert_eq!(lines, json.findings);
}

#[test]
fn jsonl_streaming_applies_the_baseline_and_counts_what_it_suppressed() {
    if !have_git() {
        return;
    }
    let mut r = linear_history(3);
    let base = r.path.join(".git").join("base.json");
    std::fs::write(&base, scan(&r, &[]).stdout).unwrap();
    r.write("new.txt", format!("token = {}\n", token(999)));
    r.commit("one more");
    let base_arg = base.to_str().unwrap();
    let (code, lines, stderr) = scan_jsonl(&r, &["--baseline", base_arg]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(lines.len(), 1, "only the new secret is reported");
    assert_eq!(lines[0]["path"], "new.txt");
    assert!(stderr.contains("3 suppressed by baseline"), "{stderr}");
    assert!(stderr.contains(": 1 finding"), "{stderr}");
}

#[test]
fn a_reader_that_goes_away_stops_the_stream_but_not_the_verdict() {
    if !have_git() {
        return;
    }
    use std::io::{BufRead, BufReader};
    // More JSON than a pipe holds, so that shush is still writing when the reader goes.
    let mut r = Repo::new();
    let many: String = (0..400)
        .map(|i| format!("t = {}\n", token(5_000 + i)))
        .collect();
    r.write("many.txt", many);
    r.commit("many tokens");
    let mut child = Std::new(env!("CARGO_BIN_EXE_shush"))
        .current_dir(&r.path)
        .args(["git", "--format", "jsonl", "--no-config", "--no-progress"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader closed its end after one line (`shush git -f jsonl | head -1`).
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let v: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(v["rule_id"], "github-pat");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
}
