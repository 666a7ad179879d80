//! The triage store (`--store FILE`, `shush triage …`): a team's audit from the first run to
//! a nightly `--new-only`, driven through the binary over real directories and git history.
//! The store is a real SQLite file; the tests read it back only through the binary, except
//! where they check what the file itself holds.

use crate::util::git::{Repo, have_git};
use crate::util::{Dir, fixture_rules, fxt, ghp, password};
use serde_json::Value;

/// Runs shush in `dir` with the fixture rules (for scans) and returns the output.
fn shush(dir: &Dir, args: &[&str]) -> crate::util::Output {
    dir.cmd().args(args).run()
}

fn scan(dir: &Dir, extra: &[&str]) -> crate::util::Output {
    scan_into(dir, "triage.db", extra)
}

/// A scan of `src` with the fixture rules recorded in `store`, one line per finding.
fn scan_into(dir: &Dir, store: &str, extra: &[&str]) -> crate::util::Output {
    let rules = fixture_rules();
    let mut args = vec![
        "scan",
        "--config",
        rules.to_str().unwrap(),
        "--store",
        store,
        "--color",
        "never",
        "-f",
        "lines",
    ];
    args.extend_from_slice(extra);
    args.push("src");
    shush(dir, &args)
}

/// The secrets of the store, as `shush triage list --json` gives them.
fn list(dir: &Dir, args: &[&str]) -> Vec<Value> {
    list_of(dir, "triage.db", args)
}

fn list_of(dir: &Dir, store: &str, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["triage", "--store", store, "list", "--json"];
    all.extend_from_slice(args);
    let out = shush(dir, &all);
    out.code(0);
    serde_json::from_str::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn id_of(rows: &[Value], rule: &str) -> String {
    rows.iter()
        .find(|r| r["rule_id"] == rule)
        .unwrap_or_else(|| panic!("no {rule} in {rows:#?}"))["secret_id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn set(dir: &Dir, id: &str, status: &str, comment: &str) {
    shush(
        dir,
        &[
            "triage",
            "--store",
            "triage.db",
            "set",
            id,
            "--status",
            status,
            "-m",
            comment,
            "--by",
            "alice",
        ],
    )
    .code(0);
}

#[test]
fn from_first_audit_to_new_only() {
    let dir = Dir::new();
    let (tok, pw) = (fxt(1), password(2));
    dir.create(
        "src/app.env",
        format!("token: {tok}\npassword = \"{pw}\"\n"),
    );
    dir.create("src/copy.env", format!("token: {tok}\n"));
    // The first audit: everything is new and open.
    let first = scan(&dir, &[]);
    first
        .code(1)
        .stderr_has("2 new secrets, 3 new places, 0 gone");
    let rows = list(&dir, &[]);
    assert_eq!(rows.len(), 2, "{rows:#?}");
    assert!(rows.iter().all(|r| r["status"] == "open"));
    let token = rows
        .iter()
        .find(|r| r["rule_id"] == "fixture-token")
        .unwrap();
    assert_eq!(
        (token["locations"].as_u64(), token["present"].as_u64()),
        (Some(2), Some(2))
    );

    // Triage: the password is a false positive, the token an accepted risk.
    set(
        &dir,
        &id_of(&rows, "fixture-password"),
        "false-positive",
        "a sample in the docs",
    );
    let again = scan(&dir, &[]);
    again.code(1);
    assert!(
        !again.stdout.contains("fixture-password"),
        "{}",
        again.stdout
    );
    assert_eq!(again.stdout.lines().count(), 2, "{}", again.stdout);
    again.stderr_has("not reported, triaged: 1 false-positive");
    set(
        &dir,
        &id_of(&rows, "fixture-token"),
        "accepted-risk",
        "test tenant",
    );
    let clean = scan(&dir, &[]);
    clean.code(0);
    assert_eq!(clean.stdout, "");

    // A new secret, and the accepted token in a new file: --new-only reports the new secret
    // only (the token is triaged), then nothing once it has been seen.
    let fresh = fxt(3);
    dir.create("src/new.env", format!("token: {fresh}\ntoken: {tok}\n"));
    let nightly = scan(&dir, &["--new-only"]);
    nightly.code(1);
    let lines: Vec<&str> = nightly.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", nightly.stdout);
    assert!(
        lines[0].starts_with("src/new.env:1:8: fixture-token"),
        "{}",
        nightly.stdout
    );
    nightly.stderr_has("1 new secret, 2 new places");
    let next_night = scan(&dir, &["--new-only"]);
    next_night.code(0).stderr_has("seen before (--new-only)");
    assert_eq!(next_night.stdout, "");
    // Without --new-only the open secret is still reported: it is not dealt with.
    scan(&dir, &[]).code(1);
}

#[test]
fn places_that_are_gone_and_the_history_of_a_status() {
    let dir = Dir::new();
    let tok = fxt(4);
    dir.create("src/a.env", format!("token: {tok}\n"));
    dir.create("src/b.env", format!("token: {tok}\n"));
    scan(&dir, &[]).code(1);
    let id = id_of(&list(&dir, &[]), "fixture-token");
    std::fs::remove_file(dir.join("src/b.env")).unwrap();
    scan(&dir, &[]).code(1).stderr_has("0 new places, 1 gone");
    set(&dir, &id, "revoked", "rotated on 2026-12-01");
    let out = shush(
        &dir,
        &["triage", "--store", "triage.db", "show", &id[..6], "--json"],
    );
    out.code(0);
    let d: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(d["status"], "revoked");
    assert_eq!(d["status_by"], "alice");
    let places: Vec<(String, bool)> = d["places"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["path"].as_str().unwrap().to_string(),
                p["present"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        places,
        [
            ("src/a.env".to_string(), true),
            ("src/b.env".to_string(), false)
        ]
    );
    assert_eq!(d["history"][0]["comment"], "rotated on 2026-12-01");
    // Text form, by the id as reports print it.
    let text = shush(
        &dir,
        &["triage", "--store", "triage.db", "show", &format!("#{id}")],
    );
    text.code(0);
    assert!(
        text.stdout.contains("status: revoked (by alice at "),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("src/b.env:1:8 [gone]"),
        "{}",
        text.stdout
    );
    // An id that names nothing is an error that says so.
    shush(
        &dir,
        &["triage", "--store", "triage.db", "show", "ffffffff"],
    )
    .code(2)
    .stderr_has("no secret ffffffff");
}

#[test]
fn the_status_follows_a_secret_through_a_rebase() {
    if !have_git() {
        return;
    }
    let mut r = Repo::new();
    let tok = ghp(21);
    r.write("deploy.sh", format!("export GITHUB_TOKEN={tok}\n"));
    let old = r.commit("deploy script");
    let git = |r: &Repo, extra: &[&str]| {
        let mut cmd = r.shush();
        cmd.args([
            "git",
            "--no-config",
            "--store",
            "../triage.db",
            "-f",
            "jsonl",
        ])
        .args(extra);
        cmd.output().unwrap()
    };
    let first = git(&r, &[]);
    assert_eq!(first.status.code(), Some(1));
    let f: Value =
        serde_json::from_slice(first.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
    let id = f["secret_id"].as_str().unwrap().to_string();
    let triage = |args: &[&str]| {
        let mut cmd = crate::util::shush();
        cmd.current_dir(&r.path)
            .args(["triage", "--store", "../triage.db"])
            .args(args);
        cmd.output().unwrap()
    };
    assert!(
        triage(&["set", &id, "--status", "revoked", "--by", "bob"])
            .status
            .success()
    );
    // Rewrite the commit: a new commit id for the same secret.
    r.tick += 1;
    r.git(&["commit", "-q", "--amend", "-m", "deploy script (reworded)"]);
    let new = r.git(&["rev-parse", "HEAD"]);
    assert_ne!(old, new);
    let after = git(&r, &[]);
    assert_eq!(
        after.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&after.stderr)
    );
    let shown = triage(&["show", &id, "--json"]);
    let d: Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(d["status"], "revoked");
    let commits: Vec<(&str, bool)> = d["places"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["commit"].as_str().unwrap(),
                p["present"].as_bool().unwrap(),
            )
        })
        .collect();
    assert!(
        commits.contains(&(new.as_str(), true)) && commits.contains(&(old.as_str(), false)),
        "{commits:?}"
    );
}

#[test]
fn the_store_holds_no_secret_in_clear_unless_asked() {
    let dir = Dir::new();
    let (tok, pw) = (fxt(5), password(6));
    dir.create(
        "src/app.env",
        format!("token: {tok}\npassword = \"{pw}\"\n"),
    );
    scan(&dir, &[]).code(1);
    let bytes = std::fs::read(dir.join("triage.db")).unwrap();
    let db = String::from_utf8_lossy(&bytes);
    assert!(
        db.contains("fixture-token"),
        "the store is not where the test looks"
    );
    assert!(
        !db.contains(&tok[4..]) && !db.contains(&pw),
        "a secret is in the store in clear"
    );
    shush(&dir, &["triage", "--store", "triage.db", "list"])
        .code(0)
        .stderr_lacks("in clear");
    // --show-secrets writes them, and the store says so from then on.
    scan(&dir, &["--show-secrets"]).code(1);
    let db = String::from_utf8_lossy(&std::fs::read(dir.join("triage.db")).unwrap()).into_owned();
    assert!(db.contains(&tok), "--show-secrets did not reach the store");
    shush(&dir, &["triage", "--store", "triage.db", "list"])
        .code(0)
        .stderr_has("holds secrets in clear");
}

#[test]
fn a_store_refuses_another_key_a_broken_file_and_runs_it_cannot_record() {
    let dir = Dir::new();
    dir.create("src/app.env", format!("token: {}\n", fxt(7)));
    scan(&dir, &[]).code(1);
    let rules = fixture_rules();
    let other_key = dir
        .cmd()
        .env(shush::fingerprint::KEY_ENV, "another-team-key-0123456789")
        .args([
            "scan",
            "--config",
            rules.to_str().unwrap(),
            "--store",
            "triage.db",
            "src",
        ])
        .run();
    other_key
        .code(2)
        .stderr_has("was written under fingerprint key");
    dir.create(
        "broken.db",
        "this is not a database, it is a text file\n".repeat(100),
    );
    shush(&dir, &["scan", "--store", "broken.db", "src"])
        .code(2)
        .stderr_has("broken.db");
    shush(&dir, &["triage", "--store", "missing.db", "list"])
        .code(2)
        .stderr_has("no triage store at missing.db");
    shush(&dir, &["scan", "--new-only", "src"]).code(2);
}

#[test]
fn import_baselines_from_shush_gitleaks_and_detect_secrets_then_export() {
    let dir = Dir::new();
    let (t1, t2, t3) = (fxt(8), fxt(9), fxt(10));
    dir.create("src/a.env", format!("token: {t1}\n"));
    dir.create("src/b.env", format!("\ntoken: {t2}\n"));
    dir.create("src/c.env", format!("\n\ntoken: {t3}\n"));
    let rules = fixture_rules();
    // A shush baseline of a.env, written before the store existed.
    let baseline = shush(
        &dir,
        &[
            "scan",
            "--config",
            rules.to_str().unwrap(),
            "-f",
            "jsonl",
            "src/a.env",
        ],
    );
    dir.create("shush-baseline.jsonl", &baseline.stdout);
    // A gitleaks report naming b.env line 2, and a detect-secrets baseline whose audit
    // marked c.env line 3 as not a secret.
    dir.create(
        "gitleaks.json",
        r#"[{"RuleID": "generic-api-key", "File": "src/b.env", "StartLine": 2, "Commit": "", "Fingerprint": "src/b.env:generic-api-key:2"}]"#,
    );
    dir.create(
        ".secrets.baseline",
        r#"{"version": "1.5.0", "plugins_used": [], "results": {"src/c.env": [{"type": "Secret Keyword", "filename": "src/c.env", "hashed_secret": "0000000000000000000000000000000000000000", "is_verified": false, "line_number": 3, "is_secret": false}]}}"#,
    );
    // The store starts from a first run, then takes the imports.
    scan(&dir, &[]).code(1);
    for file in ["shush-baseline.jsonl", "gitleaks.json", ".secrets.baseline"] {
        shush(
            &dir,
            &[
                "triage",
                "--store",
                "triage.db",
                "import",
                file,
                "--by",
                "carol",
            ],
        )
        .code(0)
        .stderr_has("1 applied");
    }
    let rows = list(&dir, &[]);
    let status_of = |tok: &str| {
        let out = shush(
            &dir,
            &[
                "scan",
                "--config",
                rules.to_str().unwrap(),
                "-f",
                "json",
                "src",
            ],
        );
        let all: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
        let path = match tok {
            t if t == t1 => "src/a.env",
            t if t == t2 => "src/b.env",
            _ => "src/c.env",
        };
        let id = all.iter().find(|f| f["path"] == path).unwrap()["secret_id"].clone();
        rows.iter().find(|r| r["secret_id"] == id).unwrap()["status"].clone()
    };
    assert_eq!(status_of(&t1), "accepted-risk");
    assert_eq!(status_of(&t2), "accepted-risk");
    assert_eq!(status_of(&t3), "false-positive");
    scan(&dir, &[]).code(0);
    // No secret leaked from the imports: detect-secrets' unkeyed hash is not kept.
    let db = String::from_utf8_lossy(&std::fs::read(dir.join("triage.db")).unwrap()).into_owned();
    assert!(!db.contains("0000000000000000000000000000000000000000"));

    // Export what was triaged; a scan with that baseline and no store reports nothing.
    shush(
        &dir,
        &[
            "triage",
            "--store",
            "triage.db",
            "export",
            "-o",
            "exported.jsonl",
        ],
    )
    .code(0)
    .stderr_has("exported 3 secrets");
    shush(
        &dir,
        &[
            "scan",
            "--config",
            rules.to_str().unwrap(),
            "--baseline",
            "exported.jsonl",
            "src",
        ],
    )
    .code(0);
    // The control: without it, they are reported.
    shush(
        &dir,
        &[
            "scan",
            "--config",
            rules.to_str().unwrap(),
            "--no-baseline",
            "src",
        ],
    )
    .code(1);
}

#[test]
fn commands_that_cannot_record_refuse_a_store() {
    if !have_git() {
        return;
    }
    let r = Repo::new();
    let out = r
        .shush()
        .args(["git", "--staged", "--store", "../t.db"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("a hook's scan"));
}

#[cfg(unix)]
#[test]
fn a_new_store_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = Dir::new();
    dir.create("src/app.env", format!("token: {}\n", fxt(11)));
    scan(&dir, &[]).code(1);
    let mode = std::fs::metadata(dir.join("triage.db"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

/// The same audit as [`from_first_audit_to_new_only`], on a PostgreSQL store: one schema,
/// two databases, the same answers.
#[cfg(feature = "postgres")]
#[test]
fn a_postgres_store_triages_like_an_sqlite_one() {
    let Some(url) = crate::util::postgres_db("triage") else {
        return;
    };
    // A password in the URL (the test server trusts local connections, so any will do)
    // must appear in no message.
    let url = url.replacen("://shush@", "://shush:pw-not-to-print@", 1);
    let dir = Dir::new();
    let (tok, pw) = (fxt(21), password(22));
    dir.create(
        "src/app.env",
        format!("token: {tok}\npassword = \"{pw}\"\n"),
    );
    dir.create("src/copy.env", format!("token: {tok}\n"));
    scan_into(&dir, &url, &[])
        .code(1)
        .stderr_has("2 new secrets, 3 new places, 0 gone")
        .stderr_lacks("pw-not-to-print")
        .stderr_has("store postgres://shush:***@");
    let rows = list_of(&dir, &url, &[]);
    assert_eq!(rows.len(), 2, "{rows:#?}");
    for (rule, status) in [
        ("fixture-password", "false-positive"),
        ("fixture-token", "accepted-risk"),
    ] {
        let id = id_of(&rows, rule);
        shush(
            &dir,
            &[
                "triage", "--store", &url, "set", &id, "--status", status, "--by", "alice",
            ],
        )
        .code(0);
    }
    scan_into(&dir, &url, &[]).code(0);
    dir.create("src/new.env", format!("token: {}\n", fxt(23)));
    let nightly = scan_into(&dir, &url, &["--new-only"]);
    nightly.code(1);
    assert_eq!(nightly.stdout.lines().count(), 1, "{}", nightly.stdout);
    scan_into(&dir, &url, &["--new-only"]).code(0);
    // Another key cannot use it.
    let rules = fixture_rules();
    dir.cmd()
        .env(shush::fingerprint::KEY_ENV, "another-team-key-0123456789")
        .args([
            "scan",
            "--config",
            rules.to_str().unwrap(),
            "--store",
            &url,
            "src",
        ])
        .run()
        .code(2)
        .stderr_has("was written under fingerprint key");
}
