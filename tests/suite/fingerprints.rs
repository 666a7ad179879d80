//! Reports never help an attacker: a word list recovers no secret from any output (text,
//! JSON, JSONL, SARIF, HTML, a baseline file, the redaction report), masks show nothing of a
//! password, fingerprints are keyed, and baselines say when they were made under another key.

use crate::util::{Dir, Output, TEST_FINGERPRINT_KEY};
use sha2::Digest;

/// Candidate passwords an attacker would try: words, years and symbols in the shapes people
/// choose (generated, not a real list). The planted secrets are among them.
fn word_list() -> Vec<String> {
    let words = [
        "Sunflower",
        "Marble",
        "Copper",
        "Harbor",
        "Falcon",
        "Winter",
        "Maple",
    ];
    let mut out = Vec::new();
    for w in words {
        for year in ["2023", "2024", "77", "91"] {
            for sep in ["", "!", "#", ".", "!Falcon", ".Harbor."] {
                out.push(format!("{w}{sep}{year}"));
            }
        }
    }
    out
}

/// The planted passwords (each is in the word list), and the files that hold them.
const PLANTED: [(&str, &str, &str); 3] = [
    ("app.env", "DB_PASSWORD=", "Sunflower#2024"),
    (
        "db.yml",
        "database:\n  user: app\n  password: \"",
        "Marble!Falcon77",
    ),
    (
        "application.properties",
        "spring.datasource.password=",
        "Copper.Harbor.91",
    ),
];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What an attacker holding `report` and `words` can confirm: every candidate whose text,
/// unkeyed fingerprint (any rule id in the report) or unkeyed hash shows up in it.
fn recovered(report: &str, words: &[String], rule_ids: &[String]) -> Vec<String> {
    words
        .iter()
        .filter(|w| {
            let sha = hex(&sha2::Sha256::digest(w.as_bytes()));
            report.contains(w.as_str())
                || report.contains(&sha[..16])
                || rule_ids
                    .iter()
                    .any(|r| report.contains(&shush::fingerprint::legacy(r, w.as_bytes())))
        })
        .cloned()
        .collect()
}

fn planted_dir() -> Dir {
    let dir = Dir::new();
    for (file, before, secret) in PLANTED {
        let close = if before.ends_with('"') { "\"" } else { "" };
        dir.create(file, format!("{before}{secret}{close}\n"));
    }
    dir
}

/// `shush scan` of `dir` with its `baseline.jsonl`, to be given an environment and run.
fn against_baseline(dir: &Dir) -> crate::util::TestCommand {
    let mut cmd = dir.cmd();
    cmd.args([
        "scan",
        "--no-progress",
        "--no-config",
        "--baseline",
        "baseline.jsonl",
        ".",
    ]);
    cmd
}

fn scan(dir: &Dir, format: &str) -> Output {
    let out = dir.scan(&["--no-config", "-f", format, "."]);
    out.code(1);
    out
}

#[test]
fn a_word_list_recovers_no_secret_from_any_report() {
    let dir = planted_dir();
    let words = word_list();
    for (_, _, secret) in PLANTED {
        assert!(
            words.iter().any(|w| w == secret),
            "{secret} not in the list"
        );
    }
    let jsonl = scan(&dir, "jsonl").stdout;
    let findings: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(findings.len(), PLANTED.len(), "{jsonl}");
    let rule_ids: Vec<String> = findings
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap().to_string())
        .collect();
    // Masks show nothing of a password, not even its length.
    for f in &findings {
        assert_eq!(f["secret"], "…", "{f}");
    }
    let mut reports = vec![("jsonl", jsonl.clone())];
    for format in ["text", "lines", "json", "sarif", "csv", "junit", "html"] {
        reports.push((format, scan(&dir, format).stdout));
    }
    // A baseline file, written as users write one.
    dir.scan(&["--no-config", "-f", "jsonl", "-o", "baseline.jsonl", "."]);
    reports.push((
        "baseline",
        std::fs::read_to_string(dir.join("baseline.jsonl")).unwrap(),
    ));
    // The redaction report of a log that prints the same files.
    let log: String = PLANTED
        .iter()
        .map(|(file, _, _)| std::fs::read_to_string(dir.join(file)).unwrap())
        .collect();
    let redacted = dir
        .cmd()
        .args(["redact", "--report", "redactions.jsonl"])
        .stdin(log)
        .run();
    reports.push(("redacted log", redacted.stdout.clone()));
    reports.push((
        "redaction report",
        std::fs::read_to_string(dir.join("redactions.jsonl")).unwrap(),
    ));
    assert_eq!(
        redacted.stdout.matches("[REDACTED:").count(),
        PLANTED.len(),
        "{}",
        redacted.stdout
    );
    for (name, report) in &reports {
        assert!(!report.is_empty(), "{name} is empty");
        let got = recovered(report, &words, &rule_ids);
        assert!(
            got.is_empty(),
            "{name} lets a word list confirm {got:?}:\n{report}"
        );
    }
    // The attack works where fingerprints are unkeyed, as they were (so this test can fail).
    let unkeyed = jsonl.replace(
        findings[0]["fingerprint"].as_str().unwrap(),
        &shush::fingerprint::legacy(&rule_ids[0], PLANTED[0].2.as_bytes()),
    );
    assert_eq!(recovered(&unkeyed, &words, &rule_ids), [PLANTED[0].2]);
}

#[test]
fn token_masks_keep_the_public_prefix_and_tell_two_keys_apart() {
    let dir = Dir::new();
    let (a, b) = (crate::util::ghp(1), crate::util::ghp(2));
    dir.create("ci.sh", format!("GITHUB_TOKEN={a}\nOTHER_TOKEN={b}\n"));
    let out = scan(&dir, "jsonl");
    let f: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(f.len(), 2, "{}", out.stdout);
    assert_eq!(f[0]["secret"], "ghp_…(40)");
    assert_eq!(f[1]["secret"], "ghp_…(40)");
    assert_ne!(f[0]["secret_id"], f[1]["secret_id"]);
    let text = scan(&dir, "text").stdout;
    for finding in &f {
        let id = finding["secret_id"].as_str().unwrap();
        assert_eq!(id.len(), 12);
        assert!(text.contains(&format!("ghp_…(40) #{id}")), "{text}");
    }
    assert!(
        !text.contains(&a[4..10]) && !text.contains(&b[4..10]),
        "{text}"
    );
}

#[test]
fn machines_sharing_the_key_share_fingerprints_and_others_do_not() {
    let dir = planted_dir();
    let with_key = |key: &str| {
        let out = dir
            .cmd()
            .args(["scan", "--no-progress", "--no-config", "-f", "jsonl", "."])
            .env(shush::fingerprint::KEY_ENV, key)
            .run();
        out.code(1);
        out.stdout
    };
    let team = with_key(TEST_FINGERPRINT_KEY);
    assert_eq!(with_key(TEST_FINGERPRINT_KEY), team);
    let other = with_key("another team's fingerprint key");
    assert_ne!(other, team);
    assert_eq!(other.lines().count(), team.lines().count());
}

#[test]
fn a_baseline_made_under_another_key_is_named_not_silently_ignored() {
    let dir = planted_dir();
    dir.scan(&["--no-config", "-f", "jsonl", "-o", "baseline.jsonl", "."]);
    // Same key: everything is suppressed.
    dir.scan(&["--no-config", "--baseline", "baseline.jsonl", "."])
        .code(0);
    // Another key: nothing can match, and the run says why.
    let out = against_baseline(&dir)
        .env(
            shush::fingerprint::KEY_ENV,
            "another team's fingerprint key",
        )
        .run();
    out.code(1)
        .stderr_has("3 baseline entries were made under fingerprint key")
        .stderr_has(shush::fingerprint::KEY_ENV);
}

#[test]
fn old_unkeyed_baselines_still_suppress_for_a_release_with_a_warning() {
    let dir = planted_dir();
    let jsonl = scan(&dir, "jsonl").stdout;
    // Rewrite each entry's fingerprint the way the first scheme made it.
    let old: String = jsonl
        .lines()
        .map(|line| {
            let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
            let rule = v["rule_id"].as_str().unwrap().to_string();
            let (_, _, secret) = PLANTED.iter().find(|p| v["path"] == p.0).unwrap();
            v["fingerprint"] = shush::fingerprint::legacy(&rule, secret.as_bytes()).into();
            format!("{v}\n")
        })
        .collect();
    dir.create("old-baseline.jsonl", old);
    dir.scan(&["--no-config", "--baseline", "old-baseline.jsonl", "."])
        .code(0)
        .stderr_has("3 baseline entries have old unkeyed fingerprints");
}

#[test]
fn without_a_key_a_private_per_user_key_is_made_once_and_kept() {
    let dir = planted_dir();
    let config = dir.join("config-home");
    let run = || {
        let out = dir
            .cmd()
            .args(["scan", "--no-progress", "--no-config", "-f", "jsonl", "."])
            .env_remove(shush::fingerprint::KEY_ENV)
            .env("XDG_CONFIG_HOME", &config)
            .run();
        out.code(1);
        out.stdout
    };
    let first = run();
    let key_file = config.join("shush/fingerprint.key");
    assert!(key_file.is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{mode:o}");
    }
    assert_eq!(run(), first);
}

#[test]
fn an_unusable_key_stops_the_run_without_echoing_it() {
    let dir = planted_dir();
    let out = dir
        .cmd()
        .args(["scan", "--no-progress", "--no-config", "."])
        .env(shush::fingerprint::KEY_ENV, "tooshort")
        .run();
    out.code(2)
        .stderr_has(shush::fingerprint::KEY_ENV)
        .stderr_lacks("tooshort");
    let out = dir
        .cmd()
        .args(["scan", "--no-progress", "--no-config", "."])
        .env_remove(shush::fingerprint::KEY_ENV)
        .env(shush::fingerprint::KEY_FILE_ENV, dir.join("no-such.key"))
        .run();
    out.code(2).stderr_has("no-such.key");
}

#[test]
fn with_nowhere_to_keep_a_key_the_scan_still_runs_and_a_baseline_says_why_it_cannot_match() {
    let dir = planted_dir();
    dir.scan(&["--no-config", "-f", "jsonl", "-o", "baseline.jsonl", "."]);
    // A configuration home that cannot hold a directory (a read-only home in a container).
    dir.create("not-a-dir", "");
    let out = against_baseline(&dir)
        .env_remove(shush::fingerprint::KEY_ENV)
        .env("XDG_CONFIG_HOME", dir.join("not-a-dir"))
        .run();
    out.code(1).stderr_has("a random key for this run only");
}
