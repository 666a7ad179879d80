//! The text report groups findings by secret: one block per distinct secret (most confident,
//! then most recently seen, first) with its locations, first and last commit, what it grants
//! and where to revoke it, then a summary. Driven over a real git history.

use crate::util::git::{Repo, have_git};
use crate::util::{ghp, password};
use serde_json::Value;

/// A history where one token is committed three times (in three files, three commits),
/// another once, and a password last.
fn history() -> (Repo, Vec<String>) {
    let mut r = Repo::new();
    let (t1, t2) = (ghp(11), ghp(12));
    r.write("config/app.env", format!("GITHUB_TOKEN={t1}\n"));
    let c1 = r.commit("add config");
    r.write("deploy/ci.yml", format!("env:\n  TOKEN: {t1}\n"));
    r.write("src/tool.py", format!("token = \"{t2}\"\n"));
    let c2 = r.commit("deploy");
    r.write("docs/setup.md", format!("Use `{t1}` to log in.\n"));
    let c3 = r.commit("docs");
    r.write(".env", format!("DB_PASSWORD={}\n", password(13)));
    let c4 = r.commit("local settings");
    (r, vec![c1, c2, c3, c4])
}

fn run(r: &Repo, args: &[&str]) -> (i32, String) {
    let out = r
        .shush()
        .args(["git", "--no-config", "--color", "never"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
    )
}

/// The blocks of a grouped report (before the summary), each as its lines.
fn blocks(text: &str) -> Vec<Vec<&str>> {
    let body = text.split("\nsummary: ").next().unwrap();
    body.split("\n\n")
        .filter(|b| !b.trim().is_empty())
        .map(|b| b.lines().collect())
        .collect()
}

#[test]
fn one_block_per_secret_with_its_locations_history_and_remediation() {
    if !have_git() {
        return;
    }
    let (r, commits) = history();
    let (code, text) = run(&r, &[]);
    assert_eq!(code, 1, "{text}");
    let (code, jsonl) = run(&r, &["--format", "jsonl"]);
    assert_eq!(code, 1);
    let findings: Vec<Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let id_of = |path: &str| {
        let f = findings.iter().find(|f| f["path"] == path).unwrap();
        f["secret_id"].as_str().unwrap().to_string()
    };
    let (id1, id2) = (id_of("config/app.env"), id_of("src/tool.py"));
    assert_ne!(id1, id2);

    let blocks = blocks(&text);
    let headers: Vec<&str> = blocks.iter().map(|b| b[0]).collect();
    // The token seen three times, most recently in commit 3, comes before the token last
    // seen in commit 2; both (high confidence) before anything less sure, however recent.
    assert!(
        headers[0].starts_with(&format!(
            "github-pat ghp_…(40) #{id1} · high confidence · 3 locations"
        )),
        "{text}"
    );
    assert!(
        headers[1].starts_with(&format!(
            "github-pat ghp_…(40) #{id2} · high confidence · 1 location"
        )),
        "{text}"
    );
    let rank = |h: &str| {
        ["high", "medium", "low"]
            .iter()
            .position(|c| h.contains(&format!(" · {c} confidence")))
            .unwrap()
    };
    let ranks: Vec<usize> = headers.iter().map(|h| rank(h)).collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{headers:#?}");

    let first = &blocks[0];
    let short = |c: &String| c[..10].to_string();
    let seen = first
        .iter()
        .find(|l| l.starts_with("  first seen "))
        .unwrap();
    assert!(
        seen.contains(&format!(" in {}, last seen ", short(&commits[0])))
            && seen.ends_with(&format!(" in {}", short(&commits[2]))),
        "{seen}"
    );
    let locations: Vec<&&str> = first
        .iter()
        .filter(|l| l.starts_with("  ") && l.contains(" in ") && l.contains(" by Ada"))
        .collect();
    assert_eq!(locations.len(), 3, "{first:#?}");
    for (path, commit) in [
        ("config/app.env", 0),
        ("deploy/ci.yml", 1),
        ("docs/setup.md", 2),
    ] {
        assert!(
            locations
                .iter()
                .any(|l| l.starts_with(&format!("  {path}:"))
                    && l.contains(&short(&commits[commit]))),
            "{path} in {first:#?}"
        );
    }
    // What to do, from detectors/github.toml.
    assert!(
        first.contains(&"  revoke: https://github.com/settings/tokens"),
        "{first:#?}"
    );
    assert!(
        first.iter().any(|l| l.starts_with("  grants: ")),
        "{first:#?}"
    );

    // The summary counts secrets and locations.
    let summary = text.split("\nsummary: ").nth(1).unwrap();
    assert!(
        summary.starts_with(&format!(
            "{} distinct secrets in {} locations\n",
            blocks.len(),
            findings.len()
        )),
        "{summary}"
    );
    assert!(summary.contains("github-pat 2 (4)"), "{summary}");
    assert!(summary.contains("  by confidence: high 2"), "{summary}");

    // Nothing of either token beyond its public prefix.
    for t in [ghp(11), ghp(12)] {
        assert!(!text.contains(&t[4..12]), "{text}");
    }
}

#[test]
fn a_rule_without_remediation_says_rotate_at_the_issuer() {
    let dir = crate::util::Dir::new();
    dir.create("a.txt", format!("token: {}\n", crate::util::fxt(5)));
    let out = dir.scan_fixture_rules(&["--color", "never", "a.txt"]);
    out.code(1);
    assert!(
        out.stdout.contains("\n  fix: rotate at the issuer: revoke it where it was issued, replace it where it is used\n"),
        "{}",
        out.stdout
    );
    let json = dir.scan_fixture_rules(&["-f", "json", "a.txt"]);
    let v: Value = serde_json::from_str(&json.stdout).unwrap();
    assert!(
        v[0]["remediation"]["summary"]
            .as_str()
            .unwrap()
            .starts_with("Rotate at the issuer"),
        "{}",
        json.stdout
    );
}
