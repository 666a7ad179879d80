//! `shush scan` and `shush rules` end to end: inputs, walking, exit codes, baselines, inline
//! allows, masking, config discovery and errors.
//!
//! Tests whose expected output is exact use the fixed rule file `tests/fixtures/rules.toml`
//! (the built-in set keeps growing); tests of the built-in set only rely on `github-pat`.

use crate::util::{self, Dir, base64, fixture_rules, fxkey, fxt, ghp, password, percent};
use std::path::Path;

// ---------------------------------------------------------------------------------------------
// Inputs: files, directories, standard input.

#[test]
fn scan_file_reports_path_line_column_rule_and_masked_secret() {
    let dir = Dir::new();
    let tok = fxt(1);
    dir.create("a.txt", format!("first line\n  token: {tok}\n"));
    let out = dir.scan_fixture_rules(&["--color", "never", "a.txt"]);
    out.code(1);
    let id = &dir.scan_fixture_rules(&["-f", "json", "a.txt"]).findings()[0].secret_id;
    // Grouped by secret: a header, the description, the location, what to do, a summary.
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines[..3],
        [
            format!("fixture-token fxt_…(28) #{id} · high confidence · 1 location").as_str(),
            "  Fixture service token",
            "  a.txt:2:10",
        ],
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("\nsummary: 1 distinct secret in 1 location\n"),
        "{}",
        out.stdout
    );
    out.stderr_has("1 finding");
    // One line per finding, for editors and grep.
    let out = dir.scan_fixture_rules(&["--color", "never", "-f", "lines", "a.txt"]);
    assert_eq!(
        out.stdout,
        format!("a.txt:2:10: fixture-token fxt_…(28) #{id}\n")
    );
}

#[test]
fn scan_directory_walks_recursively_in_sorted_order() {
    let dir = Dir::new();
    dir.create("b/deep/er/z.txt", format!("{}\n", fxt(1)));
    dir.create("a.txt", format!("x\n\n{}\n", fxt(2)));
    dir.create("b/c.cfg", format!("key {}\n", fxkey(3)));
    dir.create("clean.txt", "nothing to see here\n");
    let found = dir
        .scan_fixture_rules(&["-f", "json", "."])
        .code(1)
        .findings();
    let got: Vec<_> = found
        .iter()
        .map(|f| (f.path.as_str(), f.line, f.rule.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("a.txt", 3, "fixture-token"),
            ("b/c.cfg", 1, "fixture-key-id"),
            ("b/deep/er/z.txt", 1, "fixture-token"),
        ]
    );
}

#[test]
fn scan_defaults_to_the_current_directory() {
    let dir = Dir::new();
    dir.create("sub/a.txt", fxt(1));
    let found = dir.scan_fixture_rules(&["-f", "json"]).code(1).findings();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].path, "sub/a.txt");
}

#[test]
fn scan_several_paths_at_once() {
    let dir = Dir::new();
    dir.create("one/a.txt", fxt(1));
    dir.create("two/b.txt", fxt(2));
    dir.create("three/c.txt", fxt(3));
    let found = dir
        .scan_fixture_rules(&["-f", "json", "one", "two/b.txt"])
        .code(1)
        .findings();
    let paths: Vec<_> = found.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, vec!["one/a.txt", "two/b.txt"]);
}

#[test]
fn scan_stdin_with_dash() {
    let dir = Dir::new();
    let tok = fxt(7);
    let out = dir
        .cmd()
        .args(["scan", "--config"])
        .arg(fixture_rules())
        .args(["-f", "json", "-"])
        .stdin(format!("hello\nworld {tok}\n"))
        .run();
    out.code(1);
    let v = out.json();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["path"], "-");
    assert_eq!(v[0]["line"], 2);
    assert_eq!(v[0]["column"], 7);
    assert_eq!(v[0]["source"]["kind"], "stdin");
}

#[test]
fn scan_stdin_and_files_together() {
    let dir = Dir::new();
    dir.create("f.txt", fxt(1));
    let out = dir
        .cmd()
        .args(["scan", "--no-progress", "--config"])
        .arg(fixture_rules())
        .args(["-f", "json", "f.txt", "-"])
        .stdin(fxkey(2))
        .run();
    let mut paths: Vec<_> = out
        .code(1)
        .findings()
        .into_iter()
        .map(|f| (f.path, f.rule))
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        vec![
            ("-".to_string(), "fixture-key-id".to_string()),
            ("f.txt".to_string(), "fixture-token".to_string())
        ]
    );
}

#[test]
fn empty_stdin_and_empty_files_are_clean() {
    let dir = Dir::new();
    dir.create("empty.txt", "");
    let out = dir
        .cmd()
        .args(["scan", "--no-progress", "empty.txt", "-"])
        .stdin("")
        .run();
    out.code(0);
    assert_eq!(out.stdout, "");
}

#[test]
fn builtin_rules_find_a_github_token() {
    let dir = Dir::new();
    let tok = ghp(1);
    dir.create("env", format!("GITHUB_TOKEN={tok}\n"));
    let found = dir
        .scan(&["--no-config", "-f", "json", "env"])
        .code(1)
        .findings();
    assert!(
        found
            .iter()
            .any(|f| f.rule == "github-pat" && f.line == 1 && f.path == "env"),
        "{found:?}"
    );
    // A token with a broken checksum is not a GitHub token.
    let mut bad = tok.clone().into_bytes();
    let last = bad.len() - 1;
    bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
    dir.create("env", [b"GITHUB_TOKEN=".as_slice(), &bad, b"\n"].concat());
    let found = dir.scan(&["--no-config", "-f", "json", "env"]).findings();
    assert!(!found.iter().any(|f| f.rule == "github-pat"), "{found:?}");
}

// ---------------------------------------------------------------------------------------------
// Walking: .git, symlinks, ignore files, size cap, special files.

#[test]
fn dot_git_directories_are_skipped() {
    let dir = Dir::new();
    dir.create(".git/config", format!("url = https://x:{}@h\n", fxt(1)));
    dir.create("sub/.git/packed-refs", fxt(2));
    dir.create(".github/workflows/ci.yml", format!("t: {}\n", fxt(3)));
    dir.create(".gitconfig", fxt(4));
    let found = dir
        .scan_fixture_rules(&["-f", "json", "."])
        .code(1)
        .findings();
    let paths: Vec<_> = found.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, vec![".gitconfig", ".github/workflows/ci.yml"]);
}

#[cfg(unix)]
#[test]
fn symlinks_are_not_followed_by_default() {
    let dir = Dir::new();
    dir.create("outside/secret.txt", fxt(1));
    dir.create("root/plain.txt", fxt(2));
    dir.symlink("../outside/secret.txt", "root/file-link.txt");
    dir.symlink("../outside", "root/dir-link");
    let out = dir.scan_fixture_rules(&["-f", "json", "root"]);
    let paths: Vec<_> = out.code(1).findings().into_iter().map(|f| f.path).collect();
    assert_eq!(paths, vec!["root/plain.txt"]);
    out.stderr_has("2 symlinks not followed");
}

#[cfg(unix)]
#[test]
fn follow_flag_follows_symlinks() {
    let dir = Dir::new();
    dir.create("outside/secret.txt", fxt(1));
    dir.create("root/plain.txt", fxt(2));
    dir.symlink("../outside/secret.txt", "root/file-link.txt");
    dir.symlink("../outside", "root/dir-link");
    let found = dir
        .scan_fixture_rules(&["-L", "-f", "json", "root"])
        .code(1)
        .findings();
    let paths: Vec<_> = found.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "root/dir-link/secret.txt",
            "root/file-link.txt",
            "root/plain.txt"
        ]
    );
}

#[cfg(unix)]
#[test]
fn a_symlink_named_on_the_command_line_is_scanned() {
    let dir = Dir::new();
    dir.create("real.txt", fxt(1));
    dir.symlink("real.txt", "link.txt");
    let found = dir
        .scan_fixture_rules(&["-f", "json", "link.txt"])
        .code(1)
        .findings();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].path, "link.txt");
}

#[cfg(unix)]
#[test]
fn symlink_loop_is_a_clear_error_and_does_not_hang() {
    let dir = Dir::new();
    dir.create("tree/a/secret.txt", fxt(1));
    dir.symlink("..", "tree/a/loop");
    // Not following: the loop is just a symlink that is not followed.
    dir.scan_fixture_rules(&["tree"]).code(1);
    // Following: a clear error naming the loop, exit 2, and the rest still scanned.
    let out = dir.scan_fixture_rules(&["-L", "-f", "json", "tree"]);
    out.code(2).stderr_has("symbolic link loop");
    out.stderr_has("tree/a/loop");
    let found = out.findings();
    assert!(
        found.iter().any(|f| f.path == "tree/a/secret.txt"),
        "{found:?}"
    );
}

#[test]
fn ignored_files_are_scanned_by_default_and_skipped_with_gitignore() {
    let dir = Dir::new();
    dir.create(".gitignore", "*.log\n/build/\n");
    dir.create("app.log", fxt(1));
    dir.create("build/out.txt", fxt(2));
    dir.create("src/.gitignore", "local.env\n");
    dir.create("src/local.env", fxt(3));
    dir.create("src/main.txt", fxt(4));
    dir.create(".ignore", "vendor/\n");
    dir.create("vendor/lib.txt", fxt(5));

    let all: Vec<_> = dir
        .scan_fixture_rules(&["-f", "json", "."])
        .code(1)
        .findings()
        .into_iter()
        .map(|f| f.path)
        .collect();
    assert_eq!(
        all,
        vec![
            "app.log",
            "build/out.txt",
            "src/local.env",
            "src/main.txt",
            "vendor/lib.txt"
        ]
    );

    let honoured: Vec<_> = dir
        .scan_fixture_rules(&["--gitignore", "-f", "json", "."])
        .code(1)
        .findings()
        .into_iter()
        .map(|f| f.path)
        .collect();
    assert_eq!(honoured, vec!["src/main.txt"]);
}

#[test]
fn max_file_size_leaves_files_unscanned_and_fails_closed() {
    let dir = Dir::new();
    let big = format!("{}\n{}", "x".repeat(4096), fxt(1));
    dir.create("big.txt", &big);
    dir.create("small.txt", fxt(2));
    // What was not scanned is an error naming it; what was scanned is still reported.
    let out = dir.scan_fixture_rules(&["--max-file-size", "2K", "-f", "json", "."]);
    let paths: Vec<_> = out.code(2).findings().into_iter().map(|f| f.path).collect();
    assert_eq!(paths, vec!["small.txt"]);
    out.stderr_has(&format!(
        "error: big.txt: not scanned: {} bytes is over --max-file-size (2048 bytes)",
        big.len()
    ))
    .stderr_has("1 over size cap skipped");
    // Under the cap it is scanned.
    let paths: Vec<_> = dir
        .scan_fixture_rules(&["--max-file-size", "1M", "-f", "json", "."])
        .code(1)
        .findings()
        .into_iter()
        .map(|f| f.path)
        .collect();
    assert_eq!(paths, vec!["big.txt", "small.txt"]);
    // Told otherwise, the size cap is a warning: nothing found means exit 0.
    dir.create("small.txt", "clean");
    dir.scan_fixture_rules(&["--max-file-size", "2K", "."])
        .code(2)
        .stderr_has("not scanned");
    dir.scan_fixture_rules(&["--max-file-size", "2K", "--skip-unreadable", "."])
        .code(0)
        .stderr_has("warning: big.txt: not scanned")
        .stderr_has("(skipped: --skip-unreadable)");
    // Quiet mode silences the warning, never the error.
    let out = dir.scan_fixture_rules(&["-q", "--max-file-size", "2K", "--skip-unreadable", "."]);
    out.code(0);
    assert_eq!(out.stderr, "");
    let out = dir.scan_fixture_rules(&["-q", "--max-file-size", "2K", "."]);
    out.code(2).stderr_has("error: big.txt: not scanned");
}

#[test]
fn bad_size_argument_is_a_usage_error() {
    let dir = Dir::new();
    dir.scan(&["--max-file-size", "12X", "."])
        .code(2)
        .stderr_has("unknown size suffix");
}

#[cfg(unix)]
#[test]
fn fifos_met_while_walking_do_not_hang_the_scan() {
    let dir = Dir::new();
    dir.create("a.txt", fxt(1));
    let fifo = dir.join("pipe");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(status.success());
    let found = dir
        .scan_fixture_rules(&["-f", "json", "."])
        .code(1)
        .findings();
    assert_eq!(found.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Hostile content: binary, invalid UTF-8, NULs, huge lines.

#[test]
fn binary_files_are_scanned_but_not_decoded() {
    let dir = Dir::new();
    let plain = fxt(1);
    let hidden = fxt(2);
    let encoded = base64(format!("token={hidden}\n"));
    dir.create(
        "blob.bin",
        [
            b"\x00\x01\x02binary ",
            plain.as_bytes(),
            b" \x00 ",
            encoded.as_bytes(),
        ]
        .concat(),
    );
    dir.create("text.txt", format!("encoded: {encoded}\n"));
    let out = dir.scan_fixture_rules(&["-f", "json", "--show-secrets", "."]);
    let got: Vec<_> = out
        .code(1)
        .findings()
        .into_iter()
        .map(|f| (f.path, f.secret))
        .collect();
    assert_eq!(
        got,
        vec![
            ("blob.bin".to_string(), plain),
            ("text.txt".to_string(), hidden.clone())
        ]
    );
    // The decoded finding says how it was found.
    let v = dir.scan_fixture_rules(&["-f", "json", "text.txt"]).json();
    assert_eq!(v[0]["decoded"], serde_json::json!(["base64"]));
}

#[test]
fn a_base64_blob_with_several_tokens_reports_each() {
    // A base64-encoded env file, as in a Kubernetes secret or a CI variable.
    let dir = Dir::new();
    let tokens: Vec<String> = (1..=3).map(ghp).collect();
    let env: String = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| format!("TOKEN_{i}={t}\n"))
        .collect();
    dir.create("secret.yaml", format!("data:\n  env: {}\n", base64(env)));
    let found: Vec<_> = dir
        .scan(&["--no-config", "-f", "json", "--show-secrets", "secret.yaml"])
        .code(1)
        .findings()
        .into_iter()
        .filter(|f| f.rule == "github-pat")
        .map(|f| f.secret)
        .collect();
    assert_eq!(found, tokens);
}

#[test]
fn invalid_utf8_and_nul_bytes_never_panic() {
    let dir = Dir::new();
    let tok = fxt(1);
    let mut content = Vec::new();
    content.extend_from_slice(b"\xff\xfe\xc3\x28 invalid \xe2\x82 utf8\n");
    content.extend_from_slice(b"\xf0\x9f\x92\x96 ");
    content.extend_from_slice(tok.as_bytes());
    content.extend_from_slice(b" \x80\x80\x00\x00\xc0\n");
    dir.create("weird.txt", &content);
    let out = dir.scan_fixture_rules(&["-f", "json", "weird.txt"]);
    out.code(1).stderr_lacks("panicked");
    let v = out.json();
    assert_eq!(v[0]["line"], 2);
    // One emoji (4 bytes, 1 column) and a space precede the token.
    assert_eq!(v[0]["column"], 3);
    assert_eq!(v[0]["offset"], 26);
    // Text output of a file name that is not UTF-8 is still one line per finding.
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let name = std::ffi::OsStr::from_bytes(b"bad\xffname\n.txt");
        std::fs::write(dir.join(name), &tok).unwrap();
        let out = dir.scan_fixture_rules(&["--color", "never", "-f", "lines", "."]);
        out.code(1).stderr_lacks("panicked");
        assert_eq!(out.stdout.lines().count(), 2, "{}", out.stdout);
    }
}

#[test]
fn a_single_20_mb_line_is_scanned_without_panicking() {
    let dir = Dir::new();
    let tok = fxt(1);
    let mut content = vec![b'A'; 20 << 20];
    content.push(b' ');
    content.extend_from_slice(tok.as_bytes());
    content.extend_from_slice(b"= ");
    content.extend(std::iter::repeat_n(b'z', 1 << 20));
    dir.create("huge.txt", &content);
    let out = dir.scan_fixture_rules(&["-f", "json", "huge.txt"]);
    out.code(1).stderr_lacks("panicked");
    let v = out.json();
    assert_eq!(v.as_array().unwrap().len(), 1, "{}", out.stdout);
    assert_eq!(v[0]["line"], 1);
    assert_eq!(v[0]["column"], (20u64 << 20) + 2);
    assert_eq!(v[0]["offset"], (20u64 << 20) + 1);
}

#[test]
fn huge_input_on_stdin_is_streamed() {
    let dir = Dir::new();
    let tok = fxt(9);
    // Past the whole-input limit, so standard input is scanned in chunks.
    let mut content = Vec::with_capacity(12 << 20);
    for i in 0..(12 << 20) / 64 {
        content.extend_from_slice(format!("{i:063}\n").as_bytes());
    }
    content.extend_from_slice(format!("last {tok}\n").as_bytes());
    let out = dir
        .cmd()
        .args(["scan", "--config"])
        .arg(fixture_rules())
        .args(["-f", "json", "-"])
        .stdin(content)
        .run();
    out.code(1);
    let v = out.json();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["line"], (12u64 << 20) / 64 + 1);
    assert_eq!(v[0]["column"], 6);
}

// ---------------------------------------------------------------------------------------------
// Errors and exit codes.

#[test]
fn exit_codes_clean_found_custom() {
    let dir = Dir::new();
    dir.create("clean.txt", "nothing\n");
    dir.create("dirty.txt", fxt(1));
    dir.scan_fixture_rules(&["clean.txt"]).code(0);
    dir.scan_fixture_rules(&["dirty.txt"]).code(1);
    dir.scan_fixture_rules(&["--exit-code", "42", "dirty.txt"])
        .code(42);
    dir.scan_fixture_rules(&["--exit-code", "42", "clean.txt"])
        .code(0);
    dir.scan_fixture_rules(&["--exit-code", "0", "dirty.txt"])
        .code(0);
}

#[test]
fn a_missing_path_is_reported_and_exits_2_while_the_rest_is_scanned() {
    let dir = Dir::new();
    dir.create("good.txt", fxt(1));
    let out = dir.scan_fixture_rules(&["-f", "json", "does-not-exist.txt", "good.txt"]);
    out.code(2)
        .stderr_has("does-not-exist.txt")
        .stderr_has("1 error");
    assert_eq!(out.findings().len(), 1);
    // Errors beat --exit-code, even when nothing was found.
    dir.create("good.txt", "clean");
    dir.scan_fixture_rules(&["--exit-code", "0", "nope", "good.txt"])
        .code(2);
}

#[test]
fn a_path_through_a_file_is_reported_with_the_real_reason() {
    let dir = Dir::new();
    dir.create("file.txt", fxt(1));
    let out = dir.scan_fixture_rules(&["file.txt/child", "file.txt"]);
    out.code(2).stderr_has("file.txt/child");
    // Not "no such file": the OS said "not a directory".
    out.stderr_has("ot a directory");
}

#[cfg(unix)]
#[test]
fn dangling_symlinks_are_errors_when_named_or_followed() {
    let dir = Dir::new();
    dir.create("tree/good.txt", fxt(1));
    dir.symlink("missing-target", "tree/dangling");
    // Named on the command line: an error.
    let out = dir.scan_fixture_rules(&["-f", "json", "tree/dangling", "tree/good.txt"]);
    out.code(2).stderr_has("tree/dangling");
    assert_eq!(out.findings().len(), 1);
    // Met while walking without -L: a symlink not followed, not an error.
    dir.scan_fixture_rules(&["tree"]).code(1);
    // Met while walking with -L: an error, and the other file is still scanned.
    let out = dir.scan_fixture_rules(&["-L", "-f", "json", "tree"]);
    out.code(2).stderr_has("tree/dangling");
    assert_eq!(out.findings().len(), 1);
}

#[test]
fn usage_errors_exit_2() {
    let dir = Dir::new();
    dir.cmd().args(["scan", "--no-such-flag"]).run().code(2);
    dir.cmd().args(["frobnicate"]).run().code(2);
    dir.cmd()
        .args(["scan", "--config", "a.toml", "--no-config"])
        .run()
        .code(2)
        .stderr_has("cannot be used with");
}

#[test]
fn output_file_receives_the_report() {
    let dir = Dir::new();
    dir.create("a.txt", fxt(1));
    let out = dir.scan_fixture_rules(&["-f", "json", "-o", "report.json", "a.txt"]);
    out.code(1);
    assert_eq!(out.stdout, "");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report[0]["rule_id"], "fixture-token");
    // An output file that cannot be created is an error.
    dir.scan_fixture_rules(&["-o", "no/such/dir/report.json", "a.txt"])
        .code(2)
        .stderr_has("no/such/dir/report.json");
}

#[test]
fn quiet_prints_no_summary() {
    let dir = Dir::new();
    dir.create("a.txt", fxt(1));
    let out = dir.scan_fixture_rules(&["-q", "-f", "lines", "a.txt"]);
    out.code(1);
    assert_eq!(out.stderr, "");
    assert_eq!(out.stdout.lines().count(), 1);
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let dir = Dir::new();
    dir.create("a.txt", fxt(1));
    let plain = dir.scan_fixture_rules(&["a.txt"]);
    assert!(!plain.stdout.contains('\x1b'), "{:?}", plain.stdout);
    let always = dir.scan_fixture_rules(&["--color", "always", "a.txt"]);
    assert!(always.stdout.contains("\x1b["), "{:?}", always.stdout);
    let never = dir.scan_fixture_rules(&["--color", "never", "a.txt"]);
    assert!(!never.stdout.contains('\x1b'));
}

// ---------------------------------------------------------------------------------------------
// Baselines.

fn baseline_roundtrip(format: &str) {
    let dir = Dir::new();
    dir.create("a.txt", format!("{}\n{}\n", fxt(1), fxkey(2)));
    dir.scan_fixture_rules(&["-f", format, "-o", "baseline.out", "a.txt"])
        .code(1);
    // Everything known: clean, and the summary says what was suppressed.
    let out = dir.scan_fixture_rules(&["--baseline", "baseline.out", "-f", "json", "a.txt"]);
    out.code(0).stderr_has("2 suppressed by baseline");
    assert_eq!(out.findings(), vec![]);
    // A new secret is still reported, the old ones are not, even after moving lines.
    dir.create(
        "a.txt",
        format!("moved\n\n{}\n{}\n{}\n", fxkey(2), fxt(3), fxt(1)),
    );
    let out = dir.scan_fixture_rules(&[
        "--baseline",
        "baseline.out",
        "-f",
        "json",
        "--show-secrets",
        "a.txt",
    ]);
    let found = out.code(1).findings();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].secret, fxt(3));
    out.stderr_has("2 suppressed by baseline");
}

#[test]
fn baseline_from_a_json_report() {
    baseline_roundtrip("json");
}

#[test]
fn baseline_from_a_jsonl_report() {
    baseline_roundtrip("jsonl");
}

#[test]
fn baseline_from_a_sarif_report() {
    baseline_roundtrip("sarif");
}

#[test]
fn baseline_from_an_empty_report_suppresses_nothing() {
    let dir = Dir::new();
    dir.create("clean.txt", "clean");
    dir.create("a.txt", fxt(1));
    for format in ["json", "jsonl", "sarif"] {
        dir.scan_fixture_rules(&["-f", format, "-o", "empty.out", "clean.txt"])
            .code(0);
        dir.scan_fixture_rules(&["--baseline", "empty.out", "a.txt"])
            .code(1);
    }
}

#[test]
fn a_baseline_that_is_not_a_report_is_an_error() {
    let dir = Dir::new();
    dir.create("a.txt", fxt(1));
    dir.scan_fixture_rules(&["-o", "report.txt", "a.txt"])
        .code(1);
    dir.scan_fixture_rules(&["--baseline", "report.txt", "a.txt"])
        .code(2)
        .stderr_has("report.txt");
    dir.scan_fixture_rules(&["--baseline", "missing.json", "a.txt"])
        .code(2)
        .stderr_has("missing.json");
}

// ---------------------------------------------------------------------------------------------
// Inline allow comments.

#[test]
fn inline_allow_markers_suppress_their_line_only() {
    let dir = Dir::new();
    let (a, b, c, d) = (fxt(1), fxt(2), fxt(3), fxt(4));
    dir.create(
        "a.rs",
        format!(
            "let a = \"{a}\"; // shush:allow\n\
             let b = \"{b}\"; // gitleaks:allow\n\
             // shush:allow (on the line before does not count)\n\
             let c = \"{c}\";\n\
             let d = \"{d}\";\n"
        ),
    );
    let secrets = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["-f", "json", "--show-secrets"];
        all.extend_from_slice(args);
        all.push("a.rs");
        dir.scan_fixture_rules(&all)
            .findings()
            .into_iter()
            .map(|f| f.secret)
            .collect()
    };
    assert_eq!(secrets(&[]), vec![c.clone(), d.clone()]);
    assert_eq!(secrets(&["--no-inline-allow"]), vec![a, b, c, d]);
}

#[test]
fn inline_allow_applies_to_decoded_secrets() {
    let dir = Dir::new();
    let enc = base64(format!("t={}", fxt(1)));
    dir.create("a.txt", format!("x = {enc} # shush:allow\ny = {enc}\n"));
    let found = dir.scan_fixture_rules(&["-f", "json", "a.txt"]).findings();
    let lines: Vec<_> = found.iter().map(|f| f.line).collect();
    assert_eq!(lines, vec![2]);
}

// ---------------------------------------------------------------------------------------------
// Masking.

/// Inputs holding the same planted secrets plain, base64- and percent-encoded.
fn masking_fixture(dir: &Dir) -> Vec<String> {
    let (t1, t2, pw, key) = (fxt(11), fxt(12), password(13), fxkey(14));
    dir.create("plain.txt", format!("token {t1}\nid {key}\n"));
    dir.create("enc.txt", format!("blob: {}\n", base64(format!("x={t2}"))));
    let pct = percent(&pw);
    dir.create("url.txt", format!("https://h/login?password=%22{pct}%22\n"));
    vec![t1, t2, pw, key]
}

#[test]
fn secrets_are_masked_in_every_format_unless_show_secrets() {
    let dir = Dir::new();
    let secrets = masking_fixture(&dir);
    for format in [
        "text", "lines", "json", "jsonl", "sarif", "csv", "junit", "html",
    ] {
        let out = dir.scan_fixture_rules(&["-f", format, "--color", "always", "."]);
        out.code(1);
        // Every planted secret is found (the fixture is not vacuous)…
        assert!(
            out.stdout.matches("fixture-").count() >= secrets.len(),
            "{format}: {}",
            out.stdout
        );
        for s in &secrets {
            // …but neither it nor its tail past the mask's prefix is ever printed.
            let tail = &s[6..];
            for (name, stream) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
                assert!(
                    !stream.contains(tail),
                    "{format}: {name} leaks a secret:\n{stream}"
                );
            }
        }
        // Same for a report written to a file (outside the scanned tree).
        let elsewhere = Dir::new();
        let report = elsewhere.join("report.out");
        dir.scan_fixture_rules(&["-f", format, "-o", report.to_str().unwrap(), "."])
            .code(1);
        let written = std::fs::read_to_string(&report).unwrap();
        assert!(written.contains("fixture-token"), "{format}: {written}");
        for s in &secrets {
            assert!(!written.contains(&s[6..]), "{format}: -o file leaks");
        }
        // With --show-secrets every secret is there in full.
        let shown = dir.scan_fixture_rules(&["-f", format, "--show-secrets", "."]);
        for s in &secrets {
            assert!(
                shown.stdout.contains(s.as_str()),
                "{format}: --show-secrets lacks {s}:\n{}",
                shown.stdout
            );
        }
    }
}

#[test]
fn masked_secrets_keep_only_the_public_prefix_and_the_length() {
    let dir = Dir::new();
    let tok = fxt(1);
    dir.create("a.txt", &tok);
    let found = dir.scan_fixture_rules(&["-f", "json", "a.txt"]).findings();
    assert_eq!(found[0].secret, "fxt_…(28)");
    assert_eq!(found[0].secret_id.len(), 12);
    assert!(found[0].fingerprint.contains(&found[0].secret_id));
}

#[test]
fn stdin_secrets_are_masked_too() {
    let dir = Dir::new();
    let tok = ghp(5);
    let out = dir
        .cmd()
        .args(["scan", "--no-config", "-"])
        .stdin(format!("GITHUB_TOKEN={tok}\n"))
        .run();
    out.code(1);
    assert!(out.stdout.contains("github-pat"), "{}", out.stdout);
    assert!(!out.stdout.contains(&tok[6..]) && !out.stderr.contains(&tok[6..]));
}

// ---------------------------------------------------------------------------------------------
// Configuration: discovery, --no-config, errors and warnings.

const CUSTOM_RULE: &str = r#"
[[rules]]
id = "custom-widget"
description = "Widget key"
regex = '''\b(wdg_[a-z0-9]{12})\b'''
keywords = ["wdg_"]
"#;

#[test]
fn dot_shush_toml_at_the_scan_root_is_used() {
    let dir = Dir::new();
    dir.create(".shush.toml", CUSTOM_RULE);
    dir.create("a.txt", format!("w = wdg_0a1b2c3d4e5f\ng = {}\n", ghp(1)));
    let out = dir.scan(&["-f", "json", "."]);
    out.code(1).stderr_has("using rules from ./.shush.toml");
    let rules: Vec<_> = out.findings().into_iter().map(|f| f.rule).collect();
    // shush's own file extends the built-in rules unless it says otherwise.
    assert_eq!(rules, vec!["custom-widget", "github-pat"]);
    // Scanning a directory argument discovers the config there, not in the cwd.
    let parent = Dir::new();
    let out = parent
        .cmd()
        .args(["scan", "--no-progress", "-f", "json"])
        .arg(dir.path())
        .run();
    out.code(1).stderr_has(".shush.toml");
    assert_eq!(out.findings()[0].rule, "custom-widget");
}

#[test]
fn dot_gitleaks_toml_is_used_when_there_is_no_dot_shush_toml() {
    let dir = Dir::new();
    dir.create(".gitleaks.toml", CUSTOM_RULE);
    dir.create("a.txt", "w = wdg_0a1b2c3d4e5f\n");
    let out = dir.scan(&["-f", "json", "."]);
    out.code(1).stderr_has(".gitleaks.toml");
    assert_eq!(out.findings()[0].rule, "custom-widget");
    // .shush.toml wins over .gitleaks.toml.
    dir.create(
        ".shush.toml",
        CUSTOM_RULE.replace("custom-widget", "preferred-widget"),
    );
    let out = dir.scan(&["-f", "json", "."]);
    out.stderr_has(".shush.toml").stderr_lacks(".gitleaks.toml");
    assert_eq!(out.findings()[0].rule, "preferred-widget");
}

#[test]
fn no_config_ignores_discovered_files() {
    let dir = Dir::new();
    dir.create(".shush.toml", CUSTOM_RULE);
    let tok = ghp(2);
    dir.create("a.txt", format!("w = wdg_0a1b2c3d4e5f\ng = {tok}\n"));
    let out = dir.scan(&["--no-config", "-f", "json", "."]);
    out.code(1).stderr_lacks("using rules from");
    let rules: Vec<_> = out.findings().into_iter().map(|f| f.rule).collect();
    assert!(rules.contains(&"github-pat".to_string()), "{rules:?}");
    assert!(!rules.contains(&"custom-widget".to_string()), "{rules:?}");
}

#[test]
fn explicit_config_beats_discovery() {
    let dir = Dir::new();
    dir.create(".shush.toml", CUSTOM_RULE);
    dir.create("a.txt", format!("w = wdg_0a1b2c3d4e5f\n{}\n", fxt(1)));
    let out = dir.scan_fixture_rules(&["-f", "json", "."]);
    out.stderr_lacks("using rules from");
    let rules: Vec<_> = out.findings().into_iter().map(|f| f.rule).collect();
    assert_eq!(rules, vec!["fixture-token"]);
}

#[test]
fn a_config_in_a_subdirectory_is_not_discovered() {
    let dir = Dir::new();
    dir.create("sub/.shush.toml", CUSTOM_RULE);
    dir.create("sub/a.txt", "w = wdg_0a1b2c3d4e5f\n");
    let out = dir.scan(&["-f", "json", "."]);
    out.stderr_lacks("using rules from");
    // Discovered, its rule would report the widget and exit 1.
    assert!(out.findings().is_empty(), "{:?}", out.findings());
    out.code(0);
}

#[test]
fn a_bad_regex_is_a_clear_error() {
    let dir = Dir::new();
    dir.create(
        "bad.toml",
        "[[rules]]\nid = \"broken\"\nregex = '''(unclosed[a-z'''\nkeywords = [\"x\"]\n",
    );
    dir.create("a.txt", "x");
    let out = dir.scan(&["--config", "bad.toml", "a.txt"]);
    out.code(2)
        .stderr_has("broken")
        .stderr_has("regex")
        .stderr_lacks("panicked");
    assert_eq!(out.stdout, "");
    // A bad regex in an allowlist too.
    dir.create(
        "bad2.toml",
        "[[rules]]\nid = \"ok\"\nregex = 'ok_[a-z]{4}'\n[[rules.allowlists]]\nregexes = ['(oops']\n",
    );
    dir.scan(&["--config", "bad2.toml", "a.txt"])
        .code(2)
        .stderr_has("ok")
        .stderr_has("regex");
    // And a discovered config is just as strict.
    dir.create(".shush.toml", "[[rules]]\nid = \"d\"\nregex = '[z-a]'\n");
    dir.scan(&["a.txt"]).code(2).stderr_has(".shush.toml");
}

/// A regex that fails to compile is reported by rule id (or allowlist), error kind and
/// column, never quoted: a literal token in it may be a real secret, and stderr ends up in
/// CI logs.
#[test]
fn a_bad_regex_error_names_the_rule_but_never_echoes_the_pattern() {
    let dir = Dir::new();
    dir.create("a.txt", "x");
    let tok = ghp(77);
    let rule = |extra: &str| format!("[[rules]]\nid = \"leaky-rule\"\n{extra}\n");
    let bad = format!("'''({tok}'''");
    let cases = [
        rule(&format!("regex = {bad}")),
        rule(&format!("regex = 'ok_[a-z]{{4}}'\nfollow = {bad}")),
        rule(&format!(
            "regex = 'ok_[a-z]{{4}}'\n[[rules.allowlists]]\nregexes = [{bad}]"
        )),
        format!(
            "{}[[allowlists]]\ndescription = \"global\"\nregexes = [{bad}]\n",
            rule("regex = 'ok_[a-z]{4}'")
        ),
    ];
    for (i, toml) in cases.iter().enumerate() {
        assert!(toml.contains(&tok));
        dir.create("bad.toml", toml);
        let out = dir.scan(&["--config", "bad.toml", "a.txt"]);
        out.code(2)
            .stderr_has("unclosed group")
            .stderr_has("column")
            .stderr_lacks(&tok[..12])
            .stderr_lacks("panicked");
        out.stderr_has(if i < 3 { "leaky-rule" } else { "allowlist" });
        assert!(!out.stdout.contains(&tok[..12]), "{}", out.stdout);
    }
}

#[test]
fn malformed_configs_are_clear_errors() {
    let dir = Dir::new();
    dir.create("a.txt", "x");
    let cases = [
        ("not toml at all [[[", "bad.toml"),
        ("[[rules]]\nid = 'a'\nregex = 7\n", "bad.toml"),
        ("[[rules]]\nid = 'a'\n", "a regex, a path, or both"),
        ("[[rules]]\nregex = 'a_[0-9]{4}'\n", "no id"),
        (
            "[[rules]]\nid = 'a'\nregex = 'a_[0-9]{4}'\n[[rules]]\nid = 'a'\nregex = 'b_[0-9]{4}'\n",
            "duplicate rule id",
        ),
        (
            "[[rules]]\nid = 'a'\nregex = 'a_[0-9]{4}'\n[[rules.required]]\nid = 'zzz'\n",
            "zzz",
        ),
        (
            "[[rules]]\nid = 'a'\nregex = 'a_[0-9]{4}'\nconfidence = 'sure'\n",
            "confidence",
        ),
        (
            "[[rules]]\nid = 'a'\nregex = 'a_[0-9]{4}'\nchecksum = 'md5'\n",
            "checksum",
        ),
        (
            "[[rules]]\nid = 'a'\nregex = 'a_[0-9]{4}'\n[[rules.allowlists]]\ncondition = 'XOR'\nstopwords = ['x']\n",
            "condition",
        ),
        (
            "[[rules]]\nid = 'a'\nregex = 'a_[0-9]{4}'\n[[rules.allowlists]]\ndescription = 'empty'\n",
            "at least one of",
        ),
        ("[extend]\npath = 'missing.toml'\n", "missing.toml"),
    ];
    for (text, needle) in cases {
        dir.create("bad.toml", text);
        let out = dir.scan(&["--config", "bad.toml", "a.txt"]);
        assert_eq!(out.code, Some(2), "{text}\n{}", out.stderr);
        assert!(
            out.stderr.contains(needle) && !out.stderr.contains("panicked"),
            "{text}: stderr lacks {needle:?}:\n{}",
            out.stderr
        );
    }
    dir.scan(&["--config", "missing.toml", "a.txt"])
        .code(2)
        .stderr_has("missing.toml");
}

#[test]
fn unsupported_config_fields_warn_by_name() {
    let dir = Dir::new();
    dir.create(
        "cfg.toml",
        format!("{CUSTOM_RULE}frobnicate = true\n[[rules.allowlists]]\nstopwords = ['x']\nwhen = 'always'\n"),
    );
    dir.create("a.txt", "w = wdg_0a1b2c3d4e5f\n");
    let out = dir.scan(&["--config", "cfg.toml", "-f", "json", "a.txt"]);
    // Still scans with the supported fields.
    out.code(1)
        .stderr_has("warning")
        .stderr_has("`frobnicate`")
        .stderr_has("custom-widget")
        .stderr_has("`when`");
    assert_eq!(out.findings().len(), 1);
    // Quiet mode keeps warnings off stderr.
    let out = dir.scan(&["-q", "--config", "cfg.toml", "a.txt"]);
    assert_eq!(out.stderr, "");
}

// ---------------------------------------------------------------------------------------------
// `shush rules`.

#[test]
fn rules_list_shows_the_rules_in_effect() {
    let dir = Dir::new();
    let out = dir
        .cmd()
        .args(["rules", "list", "--config"])
        .arg(fixture_rules())
        .run();
    out.code(0);
    let lines: Vec<_> = out.stdout.lines().collect();
    assert!(lines[0].starts_with("ID"), "{}", out.stdout);
    assert!(lines[1].starts_with("fixture-token "));
    assert!(lines[2].starts_with("fixture-key-id "));
    assert!(lines[3].starts_with("fixture-password "));
    assert!(lines[3].contains("low") && lines[3].contains("password"));
    assert_eq!(lines.last(), Some(&"3 rules"));

    let out = dir
        .cmd()
        .args(["rules", "list", "--json", "--config"])
        .arg(fixture_rules())
        .run();
    out.code(0);
    let v = out.json();
    let ids: Vec<_> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec!["fixture-token", "fixture-key-id", "fixture-password"]
    );
    assert_eq!(v[0]["keywords"], serde_json::json!(["fxt_"]));
    assert_eq!(v[0]["max_len"], 28);

    // The built-in set includes github-pat, with its family.
    let v = dir
        .cmd()
        .args(["rules", "list", "--json", "--no-config"])
        .run()
        .json();
    let gh = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "github-pat")
        .expect("github-pat is built in");
    assert_eq!(gh["family"], "github");
    assert_eq!(gh["confidence"], "high");
}

#[test]
fn rules_list_discovers_the_config_in_the_current_directory() {
    let dir = Dir::new();
    dir.create(".shush.toml", CUSTOM_RULE);
    let out = dir.cmd().args(["rules", "list"]).run();
    out.code(0);
    assert!(out.stdout.contains("custom-widget"));
    assert!(
        out.stdout.contains("github-pat"),
        "extends the built-in rules"
    );
    // With `useDefault = false` the file is the whole rule set.
    dir.create(
        ".shush.toml",
        format!("[extend]\nuseDefault = false\n{CUSTOM_RULE}"),
    );
    let out = dir.cmd().args(["rules", "list"]).run();
    out.code(0);
    assert!(out.stdout.ends_with("1 rules\n"), "{}", out.stdout);
}

#[test]
fn rules_check_passes_a_good_file() {
    let dir = Dir::new();
    let out = dir
        .cmd()
        .args(["rules", "check", "--strict"])
        .arg(fixture_rules())
        .run();
    out.code(0);
    assert!(
        out.stdout
            .contains("3 rules, 11 examples, 0 failures, 0 lint problems"),
        "{}",
        out.stdout
    );
}

#[test]
fn rules_check_passes_the_builtin_rules() {
    let dir = Dir::new();
    let out = dir.cmd().args(["rules", "check", "--strict"]).run();
    out.code(0);
    assert!(
        out.stdout.contains("built-in: ") && out.stdout.contains(" 0 failures, 0 lint"),
        "{}",
        out.stdout
    );
}

#[test]
fn rules_check_fails_a_bad_file() {
    let dir = Dir::new();
    dir.create(
        "rules.toml",
        r#"
[[rules]]
id = "widget"
description = "Widget key"
regex = '''\b(wdg_[a-z0-9]{12})\b'''
keywords = ["wdg_"]
examples = [
  { text = "w = wdg_0a1b2c3d4e5f", secret = "wdg_0a1b2c3d4e5f" },
  { text = "w = wdg_TOOSHORT", secret = "wdg_TOOSHORT" },
  { text = "w = wdg_0a1b2c3d4e5fff", secret = "wdg_0a1b2c3d4e5f" },
]
negative_examples = ["wdg_aaaabbbbcccc"]
"#,
    );
    let out = dir.cmd().args(["rules", "check", "rules.toml"]).run();
    out.code(1);
    assert!(
        out.stdout
            .contains("FAIL widget: example #2 is not reported"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("FAIL widget: example #3 is not reported")
    );
    assert!(
        out.stdout
            .contains("FAIL widget: negative example #1 is reported")
    );
    assert!(out.stdout.contains("3 failures"));
    // The check never prints an example's secret.
    assert!(!out.stdout.contains("0a1b2c3d4e5f"), "{}", out.stdout);
}

#[test]
fn rules_check_strict_fails_on_lint() {
    let dir = Dir::new();
    dir.create(
        "rules.toml",
        r#"
[[rules]]
id = "loose"
regex = '''wdg_[a-z0-9]+'''
examples = [{ text = "wdg_abc", secret = "wdg_abc" }]
"#,
    );
    let out = dir.cmd().args(["rules", "check", "rules.toml"]).run();
    out.code(0);
    assert!(out.stdout.contains("lint loose: "), "{}", out.stdout);
    let out = dir
        .cmd()
        .args(["rules", "check", "--strict", "rules.toml"])
        .run();
    out.code(1);
    assert!(
        out.stdout
            .contains("FAIL loose: the regex has no maximum match length")
    );
    assert!(out.stdout.contains("FAIL loose: has no negative example"));
    assert!(out.stdout.contains("FAIL loose: has no description"));
}

#[test]
fn rules_check_rejects_a_bad_regex_with_exit_2() {
    let dir = Dir::new();
    dir.create("rules.toml", "[[rules]]\nid = 'x'\nregex = '''a{2,1}'''\n");
    dir.cmd()
        .args(["rules", "check", "rules.toml"])
        .run()
        .code(2)
        .stderr_has("rules.toml");
}

#[test]
fn rules_list_shortens_long_non_ascii_keywords_without_panicking() {
    let dir = Dir::new();
    dir.create(
        "rules.toml",
        "[[rules]]\nid = 'u'\nregex = '''clé_aaaaaaaaaaaaaaaé_more[0-9]{4}'''\nkeywords = ['clé_aaaaaaaaaaaaaaaé_more']\n",
    );
    let out = dir
        .cmd()
        .args(["rules", "list", "--config", "rules.toml"])
        .run();
    out.code(0).stderr_lacks("panicked");
    assert!(
        out.stdout.contains("  clé_aaaaaaaaaaaaaaaé_...  "),
        "{}",
        out.stdout
    );
}

#[test]
fn a_closed_stdout_does_not_turn_findings_into_a_clean_exit() {
    // `set -o pipefail; shush scan . | head -1` must still fail the gate. The report is
    // larger than a pipe buffer, so shush meets the closed pipe whatever the timing.
    let dir = Dir::new();
    let tokens: String = (0..4000).map(|i| format!("{}\n", fxt(i))).collect();
    dir.create("many.txt", tokens);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_shush"))
        .current_dir(dir.path())
        .arg("scan")
        .arg("--config")
        .arg(fixture_rules())
        .arg("many.txt")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn pipes_named_on_the_command_line_are_read() {
    // `shush scan <(git diff)` and `shush scan /dev/stdin` used to report a clean scan.
    let dir = Dir::new();
    let tok = fxt(31);
    let out = dir
        .cmd()
        .args(["scan", "--config"])
        .arg(fixture_rules())
        .args(["-f", "json", "/dev/stdin"])
        .stdin(format!("x = {tok}\n"))
        .run();
    out.code(1);
    let v = out.json();
    assert_eq!(v[0]["rule_id"], "fixture-token");
    assert_eq!(v[0]["path"], "/dev/stdin");

    // A named FIFO with a writer on the other end.
    let fifo = dir.join("diff.fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let writer = {
        let fifo = fifo.clone();
        let tok = tok.clone();
        std::thread::spawn(move || std::fs::write(fifo, format!("+ token = {tok}\n")).unwrap())
    };
    let found = dir
        .scan_fixture_rules(&["-f", "json", "diff.fifo"])
        .code(1)
        .findings();
    writer.join().unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].path, "diff.fifo");
}

#[cfg(unix)]
#[test]
fn a_stream_past_the_size_cap_is_scanned_up_to_it_and_fails_closed() {
    let dir = Dir::new();
    let early = fxt(32);
    let late = fxt(33);
    let input = format!("{early}\n{}\n{late}\n", "z".repeat(4096));
    let out = dir
        .cmd()
        .args([
            "scan",
            "--max-file-size",
            "1K",
            "--show-secrets",
            "--config",
        ])
        .arg(fixture_rules())
        .args(["-f", "json", "/dev/stdin"])
        .stdin(input)
        .run();
    out.code(2)
        .stderr_has("error: /dev/stdin: only the first 1024 bytes were scanned");
    let secrets: Vec<_> = out.findings().into_iter().map(|f| f.secret).collect();
    assert_eq!(secrets, vec![early.clone()]);
    // Told otherwise, it is a warning and the findings decide.
    let out = dir
        .cmd()
        .args([
            "scan",
            "--max-file-size",
            "1K",
            "--skip-unreadable",
            "--config",
        ])
        .arg(fixture_rules())
        .args(["-f", "json", "/dev/stdin"])
        .stdin(format!("{early}\n{}\n{late}\n", "z".repeat(4096)))
        .run();
    out.code(1)
        .stderr_has("warning: /dev/stdin: only the first 1024 bytes were scanned");
    // Exactly at the cap is not truncated.
    let out = dir
        .cmd()
        .args(["scan", "--max-file-size", "1K", "--config"])
        .arg(fixture_rules())
        .arg("/dev/stdin")
        .stdin("y".repeat(1024))
        .run();
    out.code(0).stderr_lacks("only the first");
}

#[test]
fn decode_depth_controls_how_deep_encodings_are_followed() {
    let dir = Dir::new();
    let (once, twice, pct) = (fxt(41), fxt(42), password(43));
    dir.create("once.txt", format!("v: {}\n", base64(format!("t={once}"))));
    dir.create(
        "twice.txt",
        format!(
            "v: {}\n",
            base64(format!("inner: {}", base64(format!("t={twice}"))))
        ),
    );
    dir.create("pct.txt", format!("u?password=%22{}%21%22\n", pct));
    let secrets = |depth: &str| -> Vec<String> {
        dir.scan_fixture_rules(&["--decode-depth", depth, "-f", "json", "--show-secrets", "."])
            .findings()
            .into_iter()
            .map(|f| f.secret)
            .collect()
    };
    assert_eq!(secrets("0"), Vec::<String>::new());
    assert_eq!(secrets("1"), vec![once.clone(), format!("{pct}!")]);
    assert_eq!(secrets("2"), vec![once, format!("{pct}!"), twice]);
    // The chain is reported outermost first.
    let v = dir
        .scan_fixture_rules(&["--decode-depth", "2", "-f", "json", "twice.txt"])
        .json();
    assert_eq!(v[0]["decoded"], serde_json::json!(["base64", "base64"]));
}

#[test]
fn a_report_may_overwrite_its_own_baseline() {
    let dir = Dir::new();
    dir.create("a.txt", format!("{}\n", fxt(51)));
    dir.scan_fixture_rules(&["-f", "json", "-o", "baseline.json", "a.txt"])
        .code(1);
    dir.create("a.txt", format!("{}\n{}\n", fxt(51), fxt(52)));
    // The baseline is read before the report is written over it; like every report, the
    // new one lists only the findings the baseline did not suppress.
    let out = dir.scan_fixture_rules(&[
        "--baseline",
        "baseline.json",
        "-f",
        "json",
        "-o",
        "baseline.json",
        "a.txt",
    ]);
    out.code(1).stderr_has("1 suppressed by baseline");
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("baseline.json")).unwrap()).unwrap();
    assert_eq!(
        written.as_array().unwrap().len(),
        1,
        "only the new finding is written"
    );
    dir.scan_fixture_rules(&["--baseline", "baseline.json", "a.txt"])
        .code(1);
}

#[test]
fn gitignore_rules_of_parent_directories_and_git_exclude_apply() {
    let dir = Dir::new();
    dir.create(".git/HEAD", "ref: refs/heads/main\n");
    dir.create(".git/info/exclude", "*.local\n");
    dir.create(".gitignore", "*.secret\n");
    dir.create("sub/a.secret", fxt(61));
    dir.create("sub/b.local", fxt(62));
    dir.create("sub/c.txt", fxt(63));
    let paths = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["-f", "json"];
        all.extend_from_slice(args);
        dir.scan_fixture_rules(&all)
            .findings()
            .into_iter()
            .map(|f| f.path)
            .collect()
    };
    assert_eq!(
        paths(&["sub"]),
        vec!["sub/a.secret", "sub/b.local", "sub/c.txt"]
    );
    assert_eq!(paths(&["--gitignore", "sub"]), vec!["sub/c.txt"]);
    assert_eq!(paths(&["--gitignore", "."]), vec!["sub/c.txt"]);
}

#[test]
fn overlapping_path_arguments_report_each_finding_once() {
    let dir = Dir::new();
    dir.create("sub/a.txt", format!("{}\n{}\n", fxt(71), fxt(72)));
    dir.create("b.txt", fxt(73));
    let found = dir
        .scan_fixture_rules(&["-f", "json", ".", "sub", "sub/a.txt", "./sub/a.txt"])
        .code(1)
        .findings();
    let got: Vec<_> = found.iter().map(|f| (f.path.as_str(), f.line)).collect();
    assert_eq!(got, vec![("b.txt", 1), ("sub/a.txt", 1), ("sub/a.txt", 2)]);
}

// ---------------------------------------------------------------------------------------------
// Coming from gitleaks: .gitleaksignore, gitleaks reports as baselines, gitleaks' flags, and
// the colour conventions.

#[test]
fn gitleaksignore_fingerprints_suppress_findings() {
    let dir = Dir::new();
    dir.create("src/a.txt", format!("x\n{}\n", fxt(1)));
    dir.create("src/b.txt", format!("{}\n", fxt(2)));
    let all = dir.scan_fixture_rules(&["-f", "json", "."]);
    assert_eq!(all.code(1).findings().len(), 2);
    // gitleaks' `file:rule:line` form, with a comment and a blank line.
    dir.create(
        ".gitleaksignore",
        "# reviewed: test data\n\nsrc/a.txt:fixture-token:2\n",
    );
    let out = dir.scan_fixture_rules(&["-f", "json", "."]);
    let paths: Vec<_> = out.code(1).findings().into_iter().map(|f| f.path).collect();
    assert_eq!(paths, ["src/b.txt"]);
    out.stderr_has("using ./.gitleaksignore")
        .stderr_has("1 suppressed by baseline");
    // The wrong line or the wrong rule (one shush has) suppresses nothing.
    dir.create(
        ".gitleaksignore",
        "src/a.txt:fixture-token:1\nsrc/b.txt:fixture-key-id:1\n",
    );
    dir.scan_fixture_rules(&["-f", "json", "."])
        .code(1)
        .stderr_has("2 findings");
    // A gitleaks rule id shush does not have: the location decides.
    dir.create(
        ".gitleaksignore",
        "src/a.txt:generic-api-key:2\nsrc/b.txt:generic-api-key:1\n",
    );
    dir.scan_fixture_rules(&["."]).code(0);
    dir.scan_fixture_rules(&["--no-baseline", "."]).code(1);
    // A malformed file is an error, not an empty one.
    dir.create(".gitleaksignore", "src/a.txt\n");
    dir.scan_fixture_rules(&["."])
        .code(2)
        .stderr_has(".gitleaksignore");
}

#[test]
fn a_gitleaks_json_report_is_a_baseline() {
    let dir = Dir::new();
    dir.create("a.txt", format!("{}\n\n{}\n", fxt(1), fxt(2)));
    // What `gitleaks dir --report-format json` writes (secret redacted), for one of the two.
    let report = serde_json::json!([{
        "RuleID": "fixture-token",
        "Description": "Fixture service token",
        "StartLine": 3, "EndLine": 3, "StartColumn": 1, "EndColumn": 28,
        "Match": "REDACTED", "Secret": "REDACTED",
        "File": "a.txt", "SymlinkFile": "", "Commit": "",
        "Entropy": 4.5, "Author": "", "Email": "", "Date": "", "Message": "",
        "Tags": [], "Fingerprint": "a.txt:fixture-token:3"
    }]);
    dir.create("gitleaks.json", report.to_string());
    let out = dir.scan_fixture_rules(&["--baseline-path", "gitleaks.json", "-f", "json", "a.txt"]);
    let lines: Vec<_> = out.code(1).findings().into_iter().map(|f| f.line).collect();
    assert_eq!(lines, [1]);
}

#[test]
fn gitleaks_flags_are_accepted_where_they_mean_the_same() {
    let dir = Dir::new();
    dir.create("a.txt", fxt(1));
    let out = dir.scan_fixture_rules(&[
        "--report-format",
        "json",
        "--report-path",
        "leaks.json",
        "--redact",
        "--no-banner",
        "-v",
        "--exit-code",
        "7",
        "a.txt",
    ]);
    out.code(7);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("leaks.json")).unwrap()).unwrap();
    assert_eq!(report[0]["rule_id"], "fixture-token");
    assert!(
        !report.to_string().contains(&fxt(1)),
        "--redact keeps it masked"
    );
    // --redact=PERCENT parses too; it cannot be combined with --show-secrets.
    dir.scan_fixture_rules(&["--redact=50", "a.txt"]).code(1);
    dir.scan_fixture_rules(&["--redact", "--show-secrets", "a.txt"])
        .code(2);
    // --log-level error is quiet; info is not.
    let quiet = dir.scan_fixture_rules(&["--log-level", "error", "a.txt"]);
    assert_eq!(quiet.code(1).stderr, "");
    let info = dir.scan_fixture_rules(&["--log-level", "info", "a.txt"]);
    info.code(1).stderr_has("1 finding");
    // --no-color beats CLICOLOR_FORCE.
    let mut c = dir.cmd();
    c.env("CLICOLOR_FORCE", "1");
    let forced = c
        .args(["scan", "--no-progress", "--config"])
        .arg(util::fixture_rules())
        .args(["a.txt"])
        .run();
    assert!(forced.stdout.contains("\x1b["), "{:?}", forced.stdout);
    let mut c = dir.cmd();
    c.env("CLICOLOR_FORCE", "1");
    let plain = c
        .args(["scan", "--no-progress", "--no-color", "--config"])
        .arg(util::fixture_rules())
        .args(["a.txt"])
        .run();
    assert!(!plain.stdout.contains('\x1b'), "{:?}", plain.stdout);
}

#[test]
fn no_color_is_respected() {
    let dir = Dir::new();
    dir.create("a.txt", fxt(1));
    let run = |vars: &[(&str, &str)], args: &[&str]| {
        let mut c = dir.cmd();
        for (k, v) in vars {
            c.env(k, v);
        }
        c.args(["scan", "--no-progress", "--config"])
            .arg(util::fixture_rules())
            .args(args)
            .arg("a.txt")
            .run()
            .stdout
    };
    assert!(run(&[("CLICOLOR_FORCE", "1")], &[]).contains("\x1b["));
    // NO_COLOR wins over CLICOLOR_FORCE; an empty NO_COLOR does not count.
    assert!(!run(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")], &[]).contains('\x1b'));
    assert!(run(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "")], &[]).contains("\x1b["));
    // An explicit flag beats the environment.
    assert!(run(&[("NO_COLOR", "1")], &["--color", "always"]).contains("\x1b["));
}

#[test]
fn completions_and_man_pages_come_from_the_cli() {
    let dir = Dir::new();
    let bash = dir.cmd().args(["completions", "bash"]).run();
    bash.code(0);
    assert!(bash.stdout.contains("_shush()"), "{}", &bash.stdout[..200]);
    for flag in [
        "--allow-shallow",
        "--disable-rule",
        "--min-confidence",
        "--gitlab-report",
    ] {
        assert!(bash.stdout.contains(flag), "bash completion lacks {flag}");
    }
    // The script is valid bash.
    let script = dir.create("shush.bash", &bash.stdout);
    let st = std::process::Command::new("bash")
        .arg("-n")
        .arg(script)
        .status()
        .unwrap();
    assert!(st.success());
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let out = dir.cmd().args(["completions", shell]).run();
        assert!(out.code(0).stdout.contains("shush"), "{shell}");
    }
    dir.cmd().args(["completions", "tcsh"]).run().code(2);
    let man = dir.cmd().args(["man"]).run();
    assert!(man.code(0).stdout.contains(".TH shush 1"), "{}", man.stdout);
    dir.cmd().args(["man", "--out", "man"]).run().code(0);
    let ci = std::fs::read_to_string(dir.join("man/shush-ci.1")).unwrap();
    assert!(
        ci.contains(".TH shush-ci 1") && ci.contains("allow\\-shallow"),
        "{ci}"
    );
    assert!(dir.join("man/shush-hook-install.1").is_file());
}

// ---------------------------------------------------------------------------------------------
// The first command shows the truth: allowlisted paths are not even read, and shush's own
// repository passes its own gate.

#[test]
fn allowlisted_paths_are_not_read() {
    let dir = Dir::new();
    // A corrupt archive is an error (exit 2) wherever it is scanned…
    dir.create(
        "fixtures/broken.tar.gz",
        b"\x1f\x8b\x08\x00garbage, not deflate",
    );
    dir.create("src/app.txt", "clean\n");
    dir.scan(&["."])
        .code(2)
        .stderr_has("fixtures/broken.tar.gz");
    // …unless a committed allowlist says the path holds test data: then it is not opened.
    dir.create(
        ".shush.toml",
        "[[allowlists]]\ndescription = 'test data'\npaths = ['''^fixtures/''']\n",
    );
    dir.scan(&["."])
        .code(0)
        .stderr_has("1 allowlisted paths skipped");
    // The rest is still scanned.
    dir.create("src/app.txt", format!("token = {}\n", ghp(9)));
    dir.scan(&["."]).code(1);
}

#[test]
fn the_repository_passes_its_own_gate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = assert_cmd::Command::cargo_bin("shush")
        .unwrap()
        .current_dir(root)
        .env("SHUSH_CACHE_DIR", "")
        .args(["scan", "--no-progress", "."])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "shush scan . on shush's own repository must be clean (see .shush.toml):\n{stdout}\n{stderr}"
    );
    assert!(
        stderr.contains("using rules from ./.shush.toml"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------------------------
// Bounded memory for any number of findings.

/// `n` lines each holding a distinct fixture token, then filler up to at least `pad` bytes.
fn token_lines(n: u64, pad: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!("t {}\n", fxt(10_000 + i)));
    }
    while s.len() < pad {
        s.push_str("filler line without anything in it, just to make the input long\n");
    }
    s
}

#[test]
fn findings_past_an_inputs_cap_are_counted_not_kept() {
    // One input with more findings than it may keep, read whole (a file) and streamed
    // (standard input past the whole-input limit): 10,000 listed, the rest counted.
    let dir = Dir::new();
    dir.create("many.txt", token_lines(12_000, 0));
    let out = dir.scan_fixture_rules(&["-f", "jsonl", "many.txt"]);
    out.code(1).stderr_has("2000 more findings were not listed");
    assert_eq!(out.stdout.lines().count(), 10_000);
    let mut c = dir.cmd();
    c.args(["scan", "--no-progress", "--config"])
        .arg(fixture_rules())
        .args(["-f", "jsonl", "-"])
        .stdin(token_lines(12_000, 9 << 20));
    let out = c.run();
    out.code(1).stderr_has("2000 more findings were not listed");
    assert_eq!(out.stdout.lines().count(), 10_000);
}

#[test]
fn findings_nobody_listed_still_fail_a_baselined_gate() {
    // Every listed finding is in the baseline; the ones past the cap were never compared
    // with it, so the gate must not pass.
    let dir = Dir::new();
    dir.create("many.txt", token_lines(10_500, 0));
    dir.scan_fixture_rules(&["-f", "json", "-o", "baseline.json", "many.txt"])
        .code(1);
    let out = dir.scan_fixture_rules(&["--baseline", "baseline.json", "many.txt"]);
    out.code(1)
        .stderr_has("10000 suppressed by baseline")
        .stderr_has("500 more findings were not listed");
}

#[test]
fn findings_in_a_compressed_bomb_of_tokens_are_bounded() {
    // A gzip of many token lines (compressed well under the ratio cap): one artifact.
    use std::io::Write;
    let dir = Dir::new();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(token_lines(11_000, 0).as_bytes()).unwrap();
    dir.create("tokens.txt.gz", gz.finish().unwrap());
    let out = dir.scan_fixture_rules(&["-f", "jsonl", "tokens.txt.gz"]);
    out.code(1).stderr_has("1000 more findings were not listed");
    assert_eq!(out.stdout.lines().count(), 10_000);
}
