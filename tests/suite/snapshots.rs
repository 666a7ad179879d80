//! Output snapshots: text, JSON, JSON Lines, SARIF, CSV and JUnit XML for a small fixture tree scanned with
//! the fixed rule file `tests/fixtures/rules.toml`. Secrets are generated deterministically,
//! so the reports (fingerprints included) are stable; the tool version is the only redacted
//! field. Update with `INSTA_UPDATE=always cargo test --test suite snapshots::` and review the
//! diff.

use crate::util::{Dir, base64, fixture_rules, fxkey, fxt, password, percent};

/// A small tree exercising every kind of finding: plain, allowlisted, inline-allowed,
/// Unicode columns, base64- and percent-decoded, and a skipped `.git/`.
fn fixture_tree() -> Dir {
    let dir = Dir::new();
    dir.create(
        "config/app.env",
        format!(
            "# service settings\n\
             FXT_TOKEN={}\n\
             password = \"{}\"\n\
             password = \"changeme-changeme\"\n",
            fxt(101),
            password(102)
        ),
    );
    dir.create(
        "src/main.rs",
        format!(
            "fn main() {{\n    let t = \"{}\"; // shush:allow\n    const KEY: &str = \"{}\";\n}}\n",
            fxt(103),
            fxkey(104)
        ),
    );
    let pw = format!("{}#/", password(107));
    let pct = percent(&pw);
    dir.create(
        "docs/notes.md",
        format!(
            "# Notes\n\nnaïve café ☕ token: {}\nblob: {}\nlogin: https://h/?password=%22{pct}%22\n",
            fxt(105),
            base64(format!("export FXT={}\n", fxt(106)))
        ),
    );
    dir.create(".git/config", fxt(108));
    dir.create("README", "nothing to see here\n");
    dir
}

fn report(format: &str) -> String {
    let dir = fixture_tree();
    let out = dir
        .cmd()
        .args(["scan", "--no-progress", "--color", "never", "-f", format])
        .arg("--config")
        .arg(fixture_rules())
        .arg(".")
        .run();
    out.code(1);
    // Nothing volatile but the tool's own version.
    out.stdout.replace(
        &format!("\"semanticVersion\": \"{}\"", env!("CARGO_PKG_VERSION")),
        "\"semanticVersion\": \"[version]\"",
    )
}

#[test]
fn text_report() {
    insta::assert_snapshot!("scan_text", report("text"));
}

#[test]
fn lines_report() {
    insta::assert_snapshot!("scan_lines", report("lines"));
}

#[test]
fn json_report() {
    insta::assert_snapshot!("scan_json", report("json"));
}

#[test]
fn jsonl_report() {
    insta::assert_snapshot!("scan_jsonl", report("jsonl"));
}

#[test]
fn sarif_report() {
    let sarif = report("sarif");
    assert!(sarif.contains("\"semanticVersion\": \"[version]\""));
    insta::assert_snapshot!("scan_sarif", sarif);
}

#[test]
fn csv_report() {
    let csv = report("csv");
    // RFC 4180 line ends; the snapshot shows plain ones.
    assert_eq!(csv.matches("\r\n").count(), csv.lines().count(), "{csv}");
    insta::assert_snapshot!("scan_csv", csv.replace("\r\n", "\n"));
}

#[test]
fn junit_report() {
    insta::assert_snapshot!("scan_junit", report("junit"));
}

#[test]
fn reports_are_deterministic() {
    // Same tree, several threads: byte-identical reports, in every format.
    for format in ["text", "json", "jsonl", "sarif", "csv", "junit"] {
        let a = report(format);
        let b = report(format);
        assert_eq!(a, b, "{format}");
    }
}

#[test]
fn rules_list_report() {
    let dir = Dir::new();
    let out = dir
        .cmd()
        .args(["rules", "list", "--config"])
        .arg(fixture_rules())
        .run();
    out.code(0);
    insta::assert_snapshot!("rules_list", out.stdout);
}

#[test]
fn empty_reports() {
    let dir = Dir::new();
    dir.create("clean.txt", "nothing\n");
    let mut all = String::new();
    for format in ["text", "json", "jsonl", "sarif"] {
        let out = dir
            .cmd()
            .args(["scan", "--no-progress", "-f", format, "--config"])
            .arg(fixture_rules())
            .arg("clean.txt")
            .run();
        out.code(0);
        all.push_str(&format!("--- {format}\n{}", out.stdout));
    }
    let all = all.replace(
        &format!("\"semanticVersion\": \"{}\"", env!("CARGO_PKG_VERSION")),
        "\"semanticVersion\": \"[version]\"",
    );
    insta::assert_snapshot!("empty_reports", all);
}
