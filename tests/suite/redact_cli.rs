//! `shush redact` and `shush run` through the real binary, with real pipes and real child
//! processes: byte-exact pass-through, mask styles, reports and exit codes, fail-closed
//! errors, a quiet stop on a broken pipe, lines delivered while the writer is still open,
//! and `run` with a shell that prints secrets to both streams, slowly, in partial lines,
//! exits non-zero, is killed by a signal, or gets SIGINT/SIGTERM forwarded.
//!
//! No timing is asserted: waits use generous watchdogs that only turn a hang into a failure.

use assert_cmd::Command;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command as Std, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const TOKEN: &str = "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";
const MASKED: &str = "[REDACTED:github-pat]";
/// A watchdog for things that must happen, not a timing assertion.
const WATCHDOG: Duration = Duration::from_secs(60);

/// Set by the test runner's own CI, these would change what shush does (registration with
/// the runner, CI credentials masked): `tests/suite/redact_ci.rs` sets them on purpose.
const AMBIENT: &[&str] = &[
    "SHUSH_MASK_KEY",
    "SHUSH_REDACT_FAULT",
    "GITHUB_ACTIONS",
    "GITLAB_CI",
];

fn shush() -> Command {
    let mut c = Command::cargo_bin("shush").unwrap();
    for v in AMBIENT {
        c.env_remove(v);
    }
    c
}

fn bin() -> Std {
    let mut c = Std::new(env!("CARGO_BIN_EXE_shush"));
    for v in AMBIENT {
        c.env_remove(v);
    }
    c
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn redact_passes_bytes_through_and_masks() {
    let mut input =
        b"\x1b[31mred\x1b[0m\r\n\x00\xff\xfe bin\nprogress 1%\rprogress 2%\r\n".to_vec();
    input.extend_from_slice(format!("export GH={TOKEN}\n").as_bytes());
    input.extend_from_slice(b"no newline at the end");
    let mut expected =
        b"\x1b[31mred\x1b[0m\r\n\x00\xff\xfe bin\nprogress 1%\rprogress 2%\r\n".to_vec();
    expected.extend_from_slice(format!("export GH={MASKED}\n").as_bytes());
    expected.extend_from_slice(b"no newline at the end");
    let out = shush().arg("redact").write_stdin(input).assert().success();
    let o = out.get_output();
    assert_eq!(o.stdout, expected);
    assert_eq!(
        String::from_utf8_lossy(&o.stderr).trim(),
        "shush: redacted 1 secret (rules: github-pat)"
    );
}

#[test]
fn mask_styles() {
    let input = format!("a {TOKEN}\nb {TOKEN}\n");
    let run = |style: &str, key: Option<&str>| {
        let mut c = shush();
        c.args(["redact", "-q", "--mask", style]);
        if let Some(k) = key {
            c.env("SHUSH_MASK_KEY", k);
        }
        String::from_utf8(
            c.write_stdin(input.clone())
                .assert()
                .success()
                .get_output()
                .stdout
                .clone(),
        )
        .unwrap()
    };
    assert_eq!(run("stars", None), "a ***\nb ***\n");
    assert_eq!(run("prefix", None), "a ghp_***\nb ghp_***\n");
    let h1 = run("hash", Some("k1"));
    let lines: Vec<&str> = h1.lines().collect();
    assert!(lines[0].starts_with("a [REDACTED:github-pat:") && !h1.contains(TOKEN));
    assert_eq!(lines[0][2..], lines[1][2..], "equal secrets correlate");
    assert_eq!(
        h1,
        run("hash", Some("k1")),
        "a fixed key gives stable hashes"
    );
    assert_ne!(h1, run("hash", Some("k2")));
}

#[test]
fn report_and_fail_on_secret() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.jsonl");
    let out = shush()
        .args(["redact", "--fail-on-secret", "--report"])
        .arg(&report)
        .write_stdin(format!("line\ntoken {TOKEN}\n"))
        .assert()
        .code(1);
    assert_eq!(
        out.get_output().stdout,
        format!("line\ntoken {MASKED}\n").as_bytes()
    );
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(!text.contains(TOKEN));
    let v: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(v["rule_id"], "github-pat");
    assert_eq!(v["line"], 2);
    assert_eq!(v["column"], 7);
    assert_eq!(v["offset"], 11);
    assert_eq!(v["length"], 40);
    assert_eq!(text.lines().count(), 1);
    // Nothing to redact: success even with --fail-on-secret.
    shush()
        .args(["redact", "--fail-on-secret"])
        .write_stdin("clean\n")
        .assert()
        .success()
        .stdout("clean\n");
}

#[test]
fn bad_rules_or_secrets_file_fail_closed_before_any_output() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[rules]]\nid='x'\nregex='''(unclosed'''\n").unwrap();
    let out = shush()
        .args(["redact", "--config"])
        .arg(&bad)
        .write_stdin(format!("{TOKEN}\n"))
        .assert()
        .code(2);
    assert!(out.get_output().stdout.is_empty());
    let out = shush()
        .args(["redact", "--secrets-file"])
        .arg(dir.path().join("missing.txt"))
        .write_stdin("hello\n")
        .assert()
        .code(2);
    assert!(out.get_output().stdout.is_empty());
}

#[test]
fn secrets_files_are_bounded_regular_files_or_pipes() {
    let dir = tempfile::tempdir().unwrap();
    // A device or a directory is refused before any output; nothing is read from it.
    for target in [Path::new("/dev/zero"), dir.path()] {
        let out = shush()
            .args(["redact", "--secrets-file"])
            .arg(target)
            .write_stdin("hello\n")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", target.display());
        assert!(out.stdout.is_empty());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("not a regular file or a pipe"), "{err}");
    }
    // Past the size cap: an error, not memory exhaustion.
    let big = dir.path().join("big.txt");
    std::fs::write(&big, "x".repeat((16 << 20) + 1)).unwrap();
    let out = shush()
        .args(["redact", "--secrets-file"])
        .arg(&big)
        .write_stdin("hello\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("larger than 16 MiB"));
    // A pipe (what `--secrets-file <(vault kv get …)` passes) is read.
    let value = "pipe-delivered-value-7Qx2";
    let script = format!(
        "printf '%s\\n' {value} > \"$1\" & exec {bin} redact --secrets-file \"$1\"",
        bin = env!("CARGO_BIN_EXE_shush")
    );
    let fifo = dir.path().join("fifo");
    assert!(Std::new("mkfifo").arg(&fifo).status().unwrap().success());
    let out = Std::new("sh")
        .args(["-c", &script, "sh"])
        .arg(&fifo)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin
                .take()
                .unwrap()
                .write_all(format!("got {value}\n").as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("got ") && !stdout.contains(value),
        "{stdout}"
    );
}

#[test]
fn internal_error_stops_output_and_exits_2() {
    // The test hook fails on purpose once more than N bytes have been pushed (any build).
    let first = "first line is fine\n".repeat(10);
    let mut child = bin()
        .args(["redact", "--hold-ms", "10000"])
        .env("SHUSH_REDACT_FAULT", first.len().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdin.write_all(first.as_bytes()).unwrap();
    stdin.flush().unwrap();
    let mut got = String::new();
    while got.len() < first.len() {
        stdout.read_line(&mut got).unwrap();
    }
    stdin
        .write_all(format!("then a secret {TOKEN}\nand more\n").as_bytes())
        .unwrap();
    drop(stdin);
    let mut rest = Vec::new();
    stdout.read_to_end(&mut rest).unwrap();
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(got, first);
    assert!(rest.is_empty(), "nothing after the failure: {rest:?}");
    assert_eq!(status.code(), Some(2));
    assert!(err.contains("fail closed"), "{err}");
    assert!(!err.contains(TOKEN));
}

#[test]
fn broken_downstream_pipe_ends_quietly() {
    let mut child = bin()
        .arg("redact")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let writer = std::thread::spawn(move || {
        let line = b"a fairly ordinary log line that goes on for a while\n".repeat(1000);
        for _ in 0..2000 {
            if stdin.write_all(&line).is_err() {
                return;
            }
        }
    });
    let mut first = [0u8; 100];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    writer.join().unwrap();
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(err.is_empty(), "quiet: {err}");
}

#[test]
fn known_secrets_from_env_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secrets.txt");
    std::fs::write(&file, "file-secret-value-1\n\nabc\n").unwrap();
    let input =
        "db=Db-Pa55word!x url=Db-Pa55word%21x f=file-secret-value-1 t=zz-api-tok-123 short=hunt\n";
    let out = shush()
        .args([
            "redact",
            "--secret-env",
            "DB_PASSWORD",
            "--secret-env",
            "UNSET_VAR_X",
        ])
        .args(["--secret-env-match", "*_token*,NOPE"])
        .arg("--secrets-file")
        .arg(&file)
        .env("DB_PASSWORD", "Db-Pa55word!x")
        .env("MY_API_TOKEN", "zz-api-tok-123")
        .env("SHORT_TOKEN", "hunt")
        .write_stdin(input)
        .assert()
        .success();
    let o = out.get_output();
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        stdout,
        "db=[REDACTED:known-secret] url=[REDACTED:known-secret] f=[REDACTED:known-secret] \
         t=[REDACTED:known-secret] short=hunt\n"
    );
    assert!(
        stderr.contains("env:SHORT_TOKEN") && stderr.contains("too short"),
        "{stderr}"
    );
    assert!(
        stderr.contains("env:UNSET_VAR_X") && stderr.contains("not set"),
        "{stderr}"
    );
    assert!(stderr.contains("secrets.txt:3"), "{stderr}");
    assert!(
        !stderr.contains("hunt") && !stderr.contains("abc\n"),
        "{stderr}"
    );
}

#[test]
fn add_mask_in_the_stream() {
    shush()
        .args(["redact", "-q"])
        .write_stdin("::add-mask::My-Deploy-Key-42\nusing My-Deploy-Key-42\n")
        .assert()
        .success()
        .stdout("::add-mask::[REDACTED:add-mask]\nusing [REDACTED:known-secret]\n");
}

/// Reads from `r` in a thread until `want` has been seen; fails after the watchdog.
fn expect_output(rx: &mpsc::Receiver<Vec<u8>>, acc: &mut Vec<u8>, want: &[u8]) {
    while !contains(acc, want) {
        match rx.recv_timeout(WATCHDOG) {
            Ok(chunk) => acc.extend_from_slice(&chunk),
            Err(_) => panic!(
                "never saw {:?}; got {:?}",
                String::from_utf8_lossy(want),
                String::from_utf8_lossy(acc)
            ),
        }
    }
}

fn reader<R: Read + Send + 'static>(mut r: R) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            match r.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if tx.send(buf[..n].to_vec()).is_err() {
                        return;
                    }
                }
            }
        }
    });
    rx
}

#[test]
fn a_line_is_delivered_while_the_writer_is_still_open() {
    let mut child = bin()
        .args(["redact", "--hold-ms", "50"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let rx = reader(child.stdout.take().unwrap());
    let mut acc = Vec::new();
    stdin
        .write_all(format!("hello {TOKEN}\n").as_bytes())
        .unwrap();
    stdin.flush().unwrap();
    expect_output(&rx, &mut acc, format!("hello {MASKED}\n").as_bytes());
    // A prompt without a newline goes out after --hold-ms, the writer still open.
    stdin.write_all(b"Proceed? [y/N] ").unwrap();
    stdin.flush().unwrap();
    expect_output(&rx, &mut acc, b"Proceed? [y/N] ");
    // A partial token is held, even after the idle time.
    stdin.write_all(b"token ghp_Ky9Pf34").unwrap();
    stdin.flush().unwrap();
    stdin.write_all(b"qY6Nb3wWD25RQ4F5ZR3qa7y3gm1IL\n").unwrap();
    drop(stdin);
    let status = child.wait().unwrap();
    while let Ok(c) = rx.recv_timeout(WATCHDOG) {
        acc.extend_from_slice(&c);
    }
    assert!(status.success());
    assert_eq!(
        String::from_utf8_lossy(&acc),
        format!("hello {MASKED}\nProceed? [y/N] token {MASKED}\n")
    );
}

const SCRIPT: &str = r#"
printf 'out1 %s\n' "$T"
printf 'err1 %s\n' "$T" >&2
sleep 0.2
printf 'partial '
sleep 0.3
printf '%s\n' "$T"
printf 'err2 ' >&2
sleep 0.2
printf '%s tail\n' "$T" >&2
printf 'last line without newline'
exit 5
"#;

#[test]
fn run_redacts_both_streams_and_returns_the_exit_code() {
    let out = shush()
        .args(["run", "--", "sh", "-c", SCRIPT])
        .env("T", TOKEN)
        .assert()
        .code(5);
    let o = out.get_output();
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        stdout,
        format!("out1 {MASKED}\npartial {MASKED}\nlast line without newline")
    );
    assert!(
        stderr.starts_with(&format!("err1 {MASKED}\nerr2 {MASKED} tail\n")),
        "{stderr}"
    );
    assert!(
        stderr.contains("shush: redacted 4 secrets (rules: github-pat x4)"),
        "{stderr}"
    );
    assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN));
}

#[test]
fn run_passes_stdin_through_and_knows_env_secrets() {
    shush()
        .args(["run", "-q", "--secret-env", "DEPLOY_PW", "--", "cat"])
        .env("DEPLOY_PW", "correct-horse-battery")
        .write_stdin(format!("{TOKEN}\npw=correct-horse-battery\n"))
        .assert()
        .success()
        .stdout(format!("{MASKED}\npw=[REDACTED:known-secret]\n"));
}

#[test]
fn run_reports_death_by_signal() {
    let out = shush()
        .args(["run", "--", "sh", "-c", "echo before; kill -KILL $$"])
        .assert()
        .code(128 + 9);
    let o = out.get_output();
    assert_eq!(o.stdout, b"before\n");
    assert!(String::from_utf8_lossy(&o.stderr).contains("killed by signal 9 (SIGKILL)"));
    shush()
        .args(["run", "-q", "--", "sh", "-c", "kill -TERM $$"])
        .assert()
        .code(128 + 15)
        .stderr(predicates::str::contains("signal 15 (SIGTERM)"));
}

#[test]
fn run_fail_on_secret_and_missing_command() {
    shush()
        .args(["run", "-q", "--fail-on-secret", "--", "sh", "-c"])
        .arg(format!("echo {TOKEN}"))
        .assert()
        .code(1)
        .stdout(format!("{MASKED}\n"));
    // The command's own failure wins.
    shush()
        .args(["run", "-q", "--fail-on-secret", "--", "sh", "-c"])
        .arg(format!("echo {TOKEN}; exit 4"))
        .assert()
        .code(4);
    shush()
        .args(["run", "--", "definitely-not-a-command-xyz"])
        .assert()
        .code(127);
}

fn forwarded(sig: i32, name: &str) {
    let script =
        format!("trap 'echo got-{name}; exit 7' {name}; echo ready; while :; do sleep 0.05; done");
    let mut child = bin()
        .args(["run", "-q", "--", "sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = reader(child.stdout.take().unwrap());
    let mut acc = Vec::new();
    expect_output(&rx, &mut acc, b"ready\n");
    // Signal shush alone; it forwards to the command's process group.
    unsafe {
        libc::kill(child.id() as i32, sig);
    }
    let (tx, done) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let status = done
        .recv_timeout(WATCHDOG)
        .expect("shush exits after the command does")
        .unwrap();
    while let Ok(c) = rx.recv_timeout(WATCHDOG) {
        acc.extend_from_slice(&c);
    }
    assert_eq!(
        String::from_utf8_lossy(&acc),
        format!("ready\ngot-{name}\n")
    );
    assert_eq!(status.code(), Some(7));
}

#[test]
fn run_forwards_sigterm() {
    forwarded(libc::SIGTERM, "TERM");
}

#[test]
fn run_forwards_sigint() {
    forwarded(libc::SIGINT, "INT");
}
