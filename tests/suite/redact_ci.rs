//! `shush redact` and `shush run` inside simulated CI jobs, through the real binary.
//!
//! GitHub Actions: a process named `Runner.Worker` (a link to `/bin/sh`, so the kernel names
//! it so) holds the step's standard output and standard error, two separate pipes, and runs
//! the step script, as the runner does; `GITHUB_ACTIONS=true`. What the test reads from the
//! two pipes goes through [`runner_view`], a small model of how the runner reads them
//! (lines end at `\n`, `\r` or `\r\n`; `::add-mask::DATA` registers the unescaped DATA and
//! is not logged; `::stop-commands::TOKEN` pauses commands until `::TOKEN::`). Every test
//! checks both that the runner registered what the job asked to mask and that no logged
//! line, file or report got the value.
//!
//! GitLab CI: `GITLAB_CI=true` and the predefined credential variables.
//!
//! All values are fake and generated here.

#![cfg_attr(not(target_os = "linux"), allow(dead_code))]

use crate::util;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Variables of real CI jobs that must not leak into the tests from the machine running them.
const CI_VARS: &[&str] = &[
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "GITHUB_TOKEN",
    "ACTIONS_RUNTIME_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "CI_JOB_TOKEN",
    "CI_REGISTRY_PASSWORD",
    "CI_DEPENDENCY_PROXY_PASSWORD",
    "CI_DEPLOY_PASSWORD",
    "CI_JOB_JWT",
    "CI_JOB_JWT_V1",
    "CI_JOB_JWT_V2",
    "CI_REPOSITORY_URL",
    "SHUSH_MASK_KEY",
    "SHUSH_REDACT_FAULT",
];

fn clean(c: &mut Command) -> &mut Command {
    for v in CI_VARS {
        c.env_remove(v);
    }
    c
}

fn shush() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_shush"));
    clean(&mut c);
    c
}

/// A generated secret-looking value: `prefix` and 20 random characters.
fn value(prefix: &str, seed: u64) -> String {
    format!(
        "{prefix}{}",
        util::Rng::new(seed).string(
            b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789",
            20
        )
    )
}

/// Escapes a value as the Actions toolkit does for command data.
fn escape(v: &str) -> String {
    v.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A simulated GitHub Actions job: a `Runner.Worker` process that runs step scripts with
/// the step's standard output and standard error on two pipes the test reads.
struct Job {
    dir: util::Dir,
    worker: PathBuf,
}

impl Job {
    fn new() -> Job {
        let dir = util::Dir::new();
        let worker = dir.join("Runner.Worker");
        std::os::unix::fs::symlink("/bin/sh", &worker).unwrap();
        Job { dir, worker }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Runs `script` as a step (`sh -c`, a child of the worker) with `env` set.
    fn step(&self, script: &str, env: &[(&str, &str)]) -> Output {
        let mut c = Command::new(&self.worker);
        clean(&mut c)
            .arg("-c")
            .arg(r#"sh -c "$STEP"; exit $?"#)
            .env("STEP", script)
            .env("SHUSH", env!("CARGO_BIN_EXE_shush"))
            .env("GITHUB_ACTIONS", "true")
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    }
}

/// What the runner makes of one of the step's streams.
#[derive(Debug, Default)]
struct RunnerView {
    /// Values registered with `add-mask`, and each line of them trimmed (as the runner).
    masks: Vec<String>,
    /// The lines the runner logs (before its own masking).
    log: Vec<String>,
}

fn runner_view(stream: &[u8]) -> RunnerView {
    let text = String::from_utf8_lossy(stream)
        .replace("\r\n", "\n")
        .replace('\r', "\n");
    let mut view = RunnerView::default();
    let mut stopped: Option<String> = None;
    let lines: Vec<&str> = text.split('\n').collect();
    for (i, line) in lines.iter().enumerate() {
        if i + 1 == lines.len() && line.is_empty() {
            break;
        }
        let command = line.trim_start().strip_prefix("::").and_then(|rest| {
            let end = rest.find("::")?;
            let name = rest[..end].split(' ').next().unwrap_or("");
            Some((name.to_ascii_lowercase(), &rest[end + 2..]))
        });
        match (command, &stopped) {
            (Some((name, _)), Some(token)) if name == token.to_ascii_lowercase() => stopped = None,
            (Some((name, data)), None) if name == "add-mask" => {
                let v = data
                    .replace("%0D", "\r")
                    .replace("%0A", "\n")
                    .replace("%25", "%");
                view.masks.extend(
                    v.split(['\r', '\n'])
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(String::from),
                );
                view.masks.push(v);
            }
            (Some((name, data)), None) if name == "stop-commands" => {
                stopped = Some(data.to_string());
                view.log.push(line.to_string());
            }
            _ => view.log.push(line.to_string()),
        }
    }
    view
}

/// Fails if `text` holds `secret` or one of its lines of 6 bytes or more.
#[track_caller]
fn assert_lacks(what: &str, text: &str, secret: &str) {
    for piece in std::iter::once(secret).chain(secret.split(['\r', '\n'])) {
        let piece = piece.trim();
        if piece.len() >= 6 {
            assert!(!text.contains(piece), "{what} holds {piece:?}:\n{text}");
        }
    }
}

fn s(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn read(p: &Path) -> String {
    s(&std::fs::read(p).unwrap())
}

// `auto` proves the runner's pipes through /proc.
#[cfg(target_os = "linux")]
#[test]
fn run_registers_add_mask_values_escaped_and_masks_them_unescaped() {
    let job = Job::new();
    // A two-line value with a `%`, as `core.setSecret` escapes it.
    let secret = format!("{}%x\n{}", value("pw-", 1), value("line2-", 2));
    let other = value("on-stderr-", 19);
    let report = job.path("report.jsonl");
    // (A value announced on one stream and printed on the other at once may race between
    // them, for shush as for the runner; each stream here uses its own.)
    let out = job.step(
        r#""$SHUSH" run --report report.jsonl -- sh -c '
            printf "::add-mask::%s\n" "$ESCAPED"
            printf "%s\n" "$SECRET"
            printf "::add-mask::%s\nto stderr: %s\n" "$OTHER" "$OTHER" >&2'"#,
        &[
            ("SECRET", &secret),
            ("ESCAPED", &escape(&secret)),
            ("OTHER", &other),
        ],
    );
    assert!(out.status.success(), "{}", s(&out.stderr));
    let stdout = runner_view(&out.stdout);
    let stderr = runner_view(&out.stderr);
    // (a) The runner's standard output got the registration, escaped as the toolkit does.
    let line = format!("::add-mask::{}\n", escape(&secret));
    assert!(s(&out.stdout).contains(&line), "{}", s(&out.stdout));
    assert!(stdout.masks.contains(&secret), "{stdout:?}");
    // (d) Later output, both streams: the unescaped value and each line of it are masked.
    assert!(stderr.masks.contains(&other), "{stderr:?}");
    for view in [&stdout, &stderr] {
        for v in [&secret, &escape(&secret), &other] {
            assert_lacks("the runner's log", &view.log.join("\n"), v);
        }
    }
    assert!(
        stdout.log.iter().any(|l| l == "[REDACTED:known-secret]"),
        "{stdout:?}"
    );
    assert!(
        stderr
            .log
            .iter()
            .any(|l| l == "to stderr: [REDACTED:known-secret]"),
        "{stderr:?}"
    );
    // (b) The report never holds the values.
    let report = read(&report);
    assert_lacks("the report", &report, &secret);
    assert_lacks("the report", &report, &other);
}

// `auto` proves the runner's pipes through /proc.
#[cfg(target_os = "linux")]
#[test]
fn redact_into_a_tee_registers_on_stderr_only() {
    let job = Job::new();
    let secret = value("Tee-Secret-", 3);
    let out = job.step(
        r#"printf '::add-mask::%s\nbuild used %s\n' "$SECRET" "$SECRET" |
           "$SHUSH" redact --report report.jsonl | tee build.log"#,
        &[("SECRET", &secret)],
    );
    assert!(out.status.success(), "{}", s(&out.stderr));
    // (b) The sink after shush (tee's file) and the report never get the value...
    let log = read(&job.path("build.log"));
    assert_lacks("build.log", &log, &secret);
    assert!(log.contains("build used [REDACTED:known-secret]"), "{log}");
    assert_lacks("the report", &read(&job.path("report.jsonl")), &secret);
    // ... the runner gets it on the step's standard error, where shush's own goes.
    let stderr = runner_view(&out.stderr);
    assert!(stderr.masks.contains(&secret), "{stderr:?}");
    assert_lacks("the runner's stderr log", &stderr.log.join("\n"), &secret);
    let stdout = runner_view(&out.stdout);
    assert!(stdout.masks.iter().all(|m| m != &secret), "{stdout:?}");
    assert_lacks("the runner's stdout log", &stdout.log.join("\n"), &secret);
}

// `auto` proves the runner's pipes through /proc.
#[cfg(target_os = "linux")]
#[test]
fn redact_into_a_file_or_a_pipe_the_runner_does_not_read_registers_nothing_there() {
    let job = Job::new();
    let secret = value("File-Secret-", 4);
    // Standard output a regular file: registration on standard error.
    let out = job.step(
        r#"printf '::add-mask::%s\n%s\n' "$SECRET" "$SECRET" | "$SHUSH" redact -q > out.txt"#,
        &[("SECRET", &secret)],
    );
    assert!(out.status.success(), "{}", s(&out.stderr));
    assert_lacks("out.txt", &read(&job.path("out.txt")), &secret);
    assert!(runner_view(&out.stderr).masks.contains(&secret));
    // Both streams into a pipe after shush (`2>&1 | tee`): nowhere is the runner's, so
    // nothing is registered, and shush says so (without the value).
    let out = job.step(
        r#"printf '::add-mask::%s\n%s\n' "$SECRET" "$SECRET" | "$SHUSH" redact 2>&1 | tee all.log"#,
        &[("SECRET", &secret)],
    );
    assert!(out.status.success(), "{}", s(&out.stderr));
    let all = read(&job.path("all.log"));
    assert_lacks("all.log", &all, &secret);
    assert!(all.contains("1 add-mask value not registered"), "{all}");
    assert!(!s(&out.stdout).contains("::add-mask::Fil"));
    assert!(!s(&out.stderr).contains("::add-mask::"));
    // `run` piped into tee: standard error is still the runner's.
    let out = job.step(
        r#""$SHUSH" run -- sh -c 'printf "::add-mask::%s\n%s\n" "$SECRET" "$SECRET"' | tee run.log"#,
        &[("SECRET", &secret)],
    );
    assert!(out.status.success(), "{}", s(&out.stderr));
    assert_lacks("run.log", &read(&job.path("run.log")), &secret);
    assert!(runner_view(&out.stderr).masks.contains(&secret));
}

// `auto` proves the runner's pipes through /proc.
#[cfg(target_os = "linux")]
#[test]
fn known_secrets_are_registered_at_start() {
    let job = Job::new();
    let one = value("Deploy-Pw-", 5);
    let pem = format!(
        "-----BEGIN KEY-----\n{}\n{}\n-----END KEY-----\n",
        value("", 6),
        value("", 7)
    );
    let out = job.step(
        r#""$SHUSH" run -q --secret-env DEPLOY_PW --secret-env-match 'TLS_*' -- sh -c '
            echo "pw=$DEPLOY_PW"; printf "%s" "$TLS_KEY"'"#,
        &[("DEPLOY_PW", &one), ("TLS_KEY", &pem)],
    );
    assert!(out.status.success(), "{}", s(&out.stderr));
    let view = runner_view(&out.stdout);
    // (c) The one-line value as it is; the multi-line one line by line.
    assert!(view.masks.contains(&one), "{view:?}");
    for line in pem.lines() {
        assert!(view.masks.iter().any(|m| m == line), "{line} in {view:?}");
    }
    let log = view.log.join("\n");
    assert_lacks("the runner's log", &log, &one);
    assert_lacks("the runner's log", &log, &pem);
    assert!(log.contains("pw=[REDACTED:known-secret]"), "{log}");
}

// `auto` proves the runner's pipes through /proc.
#[cfg(target_os = "linux")]
#[test]
fn a_stopped_runner_is_not_sent_values() {
    let job = Job::new();
    let while_stopped = value("Stopped-", 8);
    let after = value("Resumed-", 9);
    // The resume line and the next command in one write (one read for shush, most likely):
    // the registration must go after the resume line, not before what shush read with it.
    let out = job.step(
        r#""$SHUSH" run -q -- sh -c '
            printf "::stop-commands::pause-token-42\n::add-mask::%s\n" "$A"
            sleep 0.2
            printf "::pause-token-42::\n::add-mask::%s\n%s %s\n" "$B" "$A" "$B"'"#,
        &[("A", &while_stopped), ("B", &after)],
    );
    assert!(out.status.success(), "{}", s(&out.stderr));
    let view = runner_view(&out.stdout);
    // The runner ignores commands while stopped: a registration then would be logged raw.
    assert!(!view.masks.contains(&while_stopped), "{view:?}");
    assert!(view.masks.contains(&after), "{view:?}");
    let log = view.log.join("\n");
    assert_lacks("the runner's log", &log, &while_stopped);
    assert_lacks("the runner's log", &log, &after);
}

// `auto` proves the runner's pipes through /proc.
#[cfg(target_os = "linux")]
#[test]
fn legacy_and_case_variants_are_commands_too() {
    let job = Job::new();
    let a = value("Legacy-", 10);
    let b = value("Upper-", 11);
    let out = job.step(
        r#"printf 'x ##[add-mask]%s\n  ::ADD-MASK::%s\rprogress %s %s\n' "$A" "$B" "$A" "$B" |
           "$SHUSH" redact -q | tee out.log"#,
        &[("A", &a), ("B", &b)],
    );
    assert!(out.status.success(), "{}", s(&out.stderr));
    let log = read(&job.path("out.log"));
    assert_lacks("out.log", &log, &a);
    assert_lacks("out.log", &log, &b);
    let view = runner_view(&out.stderr);
    assert!(
        view.masks.contains(&a) && view.masks.contains(&b),
        "{view:?}"
    );
}

#[test]
fn an_explicit_stream_that_is_a_file_is_refused() {
    let job = Job::new();
    let out = job.step(
        r#"echo '::add-mask::some-value-123' | "$SHUSH" redact --register-masks stdout > out.txt"#,
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", s(&out.stderr));
    assert!(
        s(&out.stderr).contains("regular file"),
        "{}",
        s(&out.stderr)
    );
    assert_eq!(
        read(&job.path("out.txt")),
        "",
        "nothing passes a refused setup"
    );
    // Off: nothing registered anywhere, the value still masked.
    let out = job.step(
        r#"echo '::add-mask::some-value-123' | "$SHUSH" redact -q --register-masks off"#,
        &[],
    );
    assert!(out.status.success());
    assert_eq!(s(&out.stdout), "::add-mask::[REDACTED:add-mask]\n");
    assert_eq!(s(&out.stderr), "");
}

#[test]
fn outside_ci_nothing_changes() {
    let secret = value("Local-", 12);
    let out = shush()
        .args(["redact", "-q"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin
                .take()
                .unwrap()
                .write_all(format!("::add-mask::{secret}\nx {secret}\n").as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    assert_eq!(
        s(&out.stdout),
        "::add-mask::[REDACTED:add-mask]\nx [REDACTED:known-secret]\n"
    );
    assert_eq!(s(&out.stderr), "", "no registration, no warning");
}

#[test]
fn github_actions_without_a_runner_in_sight_registers_nothing() {
    let secret = value("NoRunner-", 13);
    let out = shush()
        .args(["redact", "--secret-env", "PW"])
        .env("GITHUB_ACTIONS", "true")
        .env("PW", &secret)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = s(&out.stderr);
    assert!(err.contains("1 known secret not registered"), "{err}");
    assert_lacks("stderr", &err, &secret);
    assert_lacks("stdout", &s(&out.stdout), &secret);
}

/// Runs `shush redact ARGS` on `input` with `env`.
fn redact(args: &[&str], env: &[(&str, &str)], input: &str) -> String {
    let mut c = shush();
    c.arg("redact").arg("-q").args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    s(&out.stdout)
}

#[test]
fn gitlab_credentials_are_masked_by_default() {
    // Values no built-in rule recognises: only the known values can mask them.
    let job_token = value("jt", 14);
    let deploy = value("dp", 15);
    let env = [
        ("GITLAB_CI", "true"),
        ("CI_JOB_TOKEN", job_token.as_str()),
        ("CI_DEPLOY_PASSWORD", deploy.as_str()),
    ];
    let input = format!("job {job_token}\ndeploy {deploy}\n");
    // (e) Masked by default...
    let out = redact(&[], &env, &input);
    assert_eq!(
        out,
        "job [REDACTED:known-secret]\ndeploy [REDACTED:known-secret]\n"
    );
    // ... not with the opt-out, nor outside GitLab CI.
    assert_eq!(redact(&["--no-ci-secrets"], &env, &input), input);
    assert_eq!(redact(&[], &env[1..], &input), input);
    // The token inside CI_REPOSITORY_URL alone.
    let other = value("rt", 16);
    let url = format!("https://gitlab-ci-token:{other}@gitlab.example.com/g/p.git");
    let out = redact(
        &[],
        &[("GITLAB_CI", "true"), ("CI_REPOSITORY_URL", url.as_str())],
        &format!("x {other}\n"),
    );
    assert_eq!(out, "x [REDACTED:known-secret]\n");
}

#[test]
fn github_credentials_are_masked_by_default() {
    let id_token = value("idreq-", 17);
    let env = [
        ("GITHUB_ACTIONS", "true"),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", id_token.as_str()),
    ];
    let input = format!("requested with {id_token}\n");
    let out = redact(&["--register-masks", "off"], &env, &input);
    assert_eq!(out, "requested with [REDACTED:known-secret]\n");
    let out = redact(
        &["--register-masks", "off", "--no-ci-secrets"],
        &env,
        &input,
    );
    assert_eq!(out, input);
}

#[test]
fn run_merge_keeps_the_true_order() {
    let token = util::ghp(18);
    let script = r#"
        for i in 1 2 3 4 5 6 7 8; do
            echo "out $i"
            echo "err $i $T" >&2
        done
        printf 'last without newline' >&2"#;
    let out = shush()
        .args(["run", "-q", "--merge", "--", "sh", "-c", script])
        .env("T", &token)
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut want = String::new();
    for i in 1..=8 {
        want.push_str(&format!("out {i}\nerr {i} [REDACTED:github-pat]\n"));
    }
    want.push_str("last without newline");
    assert_eq!(s(&out.stdout), want);
    assert_eq!(s(&out.stderr), "");
    // Without --merge the streams stay apart.
    let out = shush()
        .args(["run", "-q", "--", "sh", "-c", script])
        .env("T", &token)
        .output()
        .unwrap();
    assert!(!s(&out.stdout).contains("err"));
    assert!(s(&out.stderr).starts_with("err 1 [REDACTED:github-pat]\n"));
}
