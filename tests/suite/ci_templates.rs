//! The GitHub Action (action.yml + ci/github/*.sh) and the GitLab CI template
//! (ci/gitlab/shush.gitlab-ci.yml), run the way the CI services run them, against simulated
//! CI environments: real git repositories with real commits, generated event files, and the
//! variables, output files and working directories the runners provide. The shush they run is
//! the one this test build made, first on PATH (the install step's `none`), never a stand-in.
//!
//! The action is read from action.yml: each step's `env:` (its inputs), `working-directory:`
//! and `run:` line are taken from the file and the `run:` line is executed with bash as
//! GitHub's `shell: bash` does. The template's job is read from the YAML: its `variables:`
//! become the environment and its `before_script:` and `script:` run in one POSIX shell.
//!
//! Every secret here is generated (util::ghp); no report, annotation or summary may show one.

use crate::util::ghp;
use crate::util::yaml::{self, Yaml};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const ZEROS: &str = "0000000000000000000000000000000000000000";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn yaml_file(rel: &str) -> Yaml {
    let text = std::fs::read_to_string(root().join(rel)).unwrap();
    yaml::parse(&text)
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A temporary directory holding the runner's workspace (`workspace`, GITHUB_WORKSPACE) with a
/// git repository in it (`repo`: the workspace itself, or a checkout below it), a directory
/// with the test build's `shush` (`bin`), and scratch space for the runner (`runner`).
struct Workspace {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    workspace: PathBuf,
    repo: PathBuf,
    bin: PathBuf,
    tick: u64,
}

impl Workspace {
    /// A workspace that is the repository, as `actions/checkout` leaves it by default.
    fn new() -> Workspace {
        Workspace::with_repo_at("")
    }

    /// A workspace whose repository sits at `rel` inside it (`actions/checkout` with `path:`).
    fn with_repo_at(rel: &str) -> Workspace {
        let tmp = tempfile::Builder::new()
            .prefix("shush-ci-")
            .tempdir()
            .unwrap();
        let dir = tmp.path().canonicalize().unwrap();
        let workspace = dir.join("workspace");
        let repo = if rel.is_empty() {
            workspace.clone()
        } else {
            workspace.join(rel)
        };
        let bin = dir.join("bin");
        for d in [&repo, &bin, &dir.join("runner"), &dir.join("home")] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_shush"), bin.join("shush")).unwrap();
        let w = Workspace {
            _tmp: tmp,
            dir,
            workspace,
            repo,
            bin,
            tick: 0,
        };
        w.git(&["init", "-q", "-b", "main"]);
        w.git(&["config", "commit.gpgsign", "false"]);
        w
    }

    /// A command with only the environment a bare runner has: PATH (the test build's shush
    /// first), HOME, TMPDIR, and an isolated git configuration.
    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        let path = std::env::var("PATH").unwrap_or_default();
        cmd.env_clear()
            .env("PATH", format!("{}:{path}", self.bin.display()))
            .env("HOME", self.dir.join("home"))
            .env("TMPDIR", self.dir.join("runner"))
            .env("LANG", "C.UTF-8")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1");
        cmd
    }

    fn git_in(&self, dir: &Path, args: &[&str]) -> String {
        let date = format!("{} +0000", 1_700_000_000 + self.tick * 60);
        let out = self
            .command("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "Ada Lovelace")
            .env("GIT_AUTHOR_EMAIL", "ada@example.com")
            .env("GIT_COMMITTER_NAME", "Ada Lovelace")
            .env("GIT_COMMITTER_EMAIL", "ada@example.com")
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn git(&self, args: &[&str]) -> String {
        self.git_in(&self.repo, args)
    }

    /// Writes `files`, commits them, and returns the commit id.
    fn commit(&mut self, msg: &str, files: &[(&str, String)]) -> String {
        for (path, content) in files {
            let p = self.repo.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, content).unwrap();
        }
        self.tick += 1;
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", msg]);
        self.git(&["rev-parse", "HEAD"])
    }

    fn runner(&self, rel: &str) -> PathBuf {
        self.dir.join("runner").join(rel)
    }
}

/// A repository whose main branch already holds a secret (`old`), and a feature branch that
/// adds another (`new`, line 2 of config.env) on top of a clean commit.
struct History {
    w: Workspace,
    base: String,
    clean: String,
    head: String,
    old: String,
    new: String,
}

fn history() -> History {
    history_in(Workspace::new())
}

fn history_in(mut w: Workspace) -> History {
    let old = ghp(901);
    let new = ghp(902);
    w.commit("old", &[("old.env", format!("TOKEN={old}\n"))]);
    let base = w.commit("readme", &[("README.md", "# app\n".into())]);
    w.git(&["checkout", "-q", "-b", "feature"]);
    let clean = w.commit("docs", &[("docs.md", "nothing to see\n".into())]);
    let head = w.commit(
        "config",
        &[("config.env", format!("NAME=app\nGITHUB_TOKEN={new}\n"))],
    );
    History {
        w,
        base,
        clean,
        head,
        old,
        new,
    }
}

// ---------------------------------------------------------------------------------------
// GitHub Actions

/// One step of the composite action, as action.yml declares it.
struct Step {
    id: Option<String>,
    run: Option<String>,
    uses: Option<String>,
    condition: Option<String>,
    env: Vec<(String, String)>,
    working_directory: Option<String>,
    with: Vec<(String, String)>,
}

struct Action {
    defaults: BTreeMap<String, String>,
    outputs: Vec<(String, String)>,
    steps: Vec<Step>,
}

fn action() -> Action {
    let y = yaml_file("action.yml");
    let defaults = y
        .at(&["inputs"])
        .map()
        .iter()
        .map(|(k, v)| {
            let d = v.get("default").and_then(Yaml::str).unwrap_or("");
            (k.clone(), d.to_string())
        })
        .collect();
    let outputs = y
        .at(&["outputs"])
        .map()
        .iter()
        .map(|(k, v)| (k.clone(), v.at(&["value"]).str().unwrap().to_string()))
        .collect();
    assert_eq!(y.at(&["runs", "using"]).str(), Some("composite"));
    let s = |v: &Yaml, k: &str| v.get(k).and_then(Yaml::str).map(String::from);
    let pairs = |v: &Yaml, k: &str| {
        v.get(k)
            .map(|m| {
                m.map()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.str().unwrap().to_string()))
                    .collect()
            })
            .unwrap_or_default()
    };
    let steps = y
        .at(&["runs", "steps"])
        .seq()
        .iter()
        .map(|st| {
            if st.get("run").is_some() {
                assert_eq!(
                    s(st, "shell").as_deref(),
                    Some("bash"),
                    "run steps use bash"
                );
            }
            Step {
                id: s(st, "id"),
                run: s(st, "run"),
                uses: s(st, "uses"),
                condition: s(st, "if"),
                env: pairs(st, "env"),
                working_directory: s(st, "working-directory"),
                with: pairs(st, "with"),
            }
        })
        .collect();
    Action {
        defaults,
        outputs,
        steps,
    }
}

/// `${{ inputs.NAME }}` and `${{ steps.ID.outputs.NAME }}` in `value`.
fn expand(
    value: &str,
    inputs: &BTreeMap<String, String>,
    steps: &BTreeMap<String, BTreeMap<String, String>>,
) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(i) = rest.find("${{") {
        out.push_str(&rest[..i]);
        let end = rest[i..].find("}}").expect("unterminated ${{") + i;
        let expr = rest[i + 3..end].trim();
        let v = if let Some(name) = expr.strip_prefix("inputs.") {
            inputs
                .get(name)
                .unwrap_or_else(|| panic!("action.yml uses the undeclared input {name}"))
                .clone()
        } else if let Some(r) = expr.strip_prefix("steps.") {
            let (id, name) = r.split_once(".outputs.").expect("steps.ID.outputs.NAME");
            steps
                .get(id)
                .and_then(|o| o.get(name))
                .cloned()
                .unwrap_or_default()
        } else {
            panic!("expression outside what this runner emulates: {expr}")
        };
        out.push_str(&v);
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

fn read_kv(path: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// What a run of the action left behind.
struct GithubRun {
    /// The exit status of the first failing step (0 when every step passed).
    code: i32,
    /// Everything the steps printed.
    log: String,
    /// Each step's outputs, by step id.
    steps: BTreeMap<String, BTreeMap<String, String>>,
    /// The action's outputs, evaluated from `outputs:`.
    outputs: BTreeMap<String, String>,
    /// Every step's job summary, concatenated.
    summary: String,
    /// The `uses:` steps that would run, with their `with:` inputs evaluated.
    uses: Vec<(String, BTreeMap<String, String>)>,
}

/// Runs the action's steps in the workspace under the event `event_name` (payload `event`),
/// with `inputs` over the defaults; `install` defaults to `none` (the test build on PATH).
fn run_action(
    w: &Workspace,
    event_name: &str,
    event: serde_json::Value,
    sha: &str,
    inputs: &[(&str, &str)],
) -> GithubRun {
    let a = action();
    let mut values = a.defaults.clone();
    values.insert("install".into(), "none".into());
    for (k, v) in inputs {
        assert!(a.defaults.contains_key(*k), "action.yml has no input {k}");
        values.insert(k.to_string(), v.to_string());
    }
    let event_path = w.runner("event.json");
    std::fs::write(&event_path, serde_json::to_vec_pretty(&event).unwrap()).unwrap();
    let workspace = &w.workspace;
    let mut steps: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut code = 0;
    let mut log = String::new();
    let mut summary = String::new();
    let mut uses = Vec::new();
    let mut extra_path: Vec<String> = Vec::new();
    for (n, step) in a.steps.iter().enumerate() {
        if let Some(cond) = &step.condition {
            // The conditions this action uses: !cancelled() (run after a failure too), and
            // input/output comparisons.
            let cond = expand_condition(cond, &values, &steps);
            if !cond {
                continue;
            }
        } else if code != 0 {
            continue; // success() is the default condition
        }
        if let Some(u) = &step.uses {
            let with = step
                .with
                .iter()
                .map(|(k, v)| (k.clone(), expand(v, &values, &steps)))
                .collect();
            uses.push((u.clone(), with));
            continue;
        }
        let run = step.run.as_ref().expect("a step runs or uses");
        let script = w.runner(&format!("step{n}.sh"));
        std::fs::write(&script, run).unwrap();
        let output = w.runner(&format!("output{n}"));
        let step_summary = w.runner(&format!("summary{n}"));
        let path_file = w.runner(&format!("path{n}"));
        for f in [&output, &step_summary, &path_file] {
            std::fs::write(f, "").unwrap();
        }
        let cwd = match &step.working_directory {
            Some(d) => workspace.join(expand(d, &values, &steps)),
            None => workspace.to_path_buf(),
        };
        let mut cmd = w.command("bash");
        // GitHub's `shell: bash`.
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script)
            .current_dir(&cwd)
            .env("CI", "true")
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_ACTION_PATH", root())
            .env("GITHUB_WORKSPACE", workspace)
            .env("GITHUB_EVENT_NAME", event_name)
            .env("GITHUB_EVENT_PATH", &event_path)
            .env("GITHUB_SHA", sha)
            .env("GITHUB_REPOSITORY", "acme/app")
            .env("GITHUB_SERVER_URL", "https://github.com")
            .env("GITHUB_RUN_ID", "4242")
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_TEMP", w.runner(""))
            .env("GITHUB_OUTPUT", &output)
            .env("GITHUB_STEP_SUMMARY", &step_summary)
            .env("GITHUB_PATH", &path_file);
        if !extra_path.is_empty() {
            let path = std::env::var("PATH").unwrap_or_default();
            cmd.env(
                "PATH",
                format!("{}:{}:{path}", extra_path.join(":"), w.bin.display()),
            );
        }
        if event_name == "pull_request" {
            cmd.env("GITHUB_REF", "refs/pull/7/merge")
                .env("GITHUB_BASE_REF", "main")
                .env("GITHUB_HEAD_REF", "feature");
        } else {
            cmd.env("GITHUB_REF", "refs/heads/main");
        }
        for (k, v) in &step.env {
            cmd.env(k, expand(v, &values, &steps));
        }
        let out = cmd.output().unwrap();
        log.push_str(&text(&out));
        summary.push_str(&std::fs::read_to_string(&step_summary).unwrap());
        for line in std::fs::read_to_string(&path_file).unwrap().lines() {
            extra_path.insert(0, line.to_string());
        }
        if let Some(id) = &step.id {
            steps.insert(id.clone(), read_kv(&output));
        }
        if code == 0 && !out.status.success() {
            code = out.status.code().unwrap_or(-1);
        }
    }
    let outputs = a
        .outputs
        .iter()
        .map(|(k, v)| (k.clone(), expand(v, &values, &steps)))
        .collect();
    GithubRun {
        code,
        log,
        steps,
        outputs,
        summary,
        uses,
    }
}

/// Evaluates the `if:` of the upload step: `!cancelled()` is true here; `&&`-joined
/// comparisons `X == 'v'` / `X != 'v'` of inputs and step outputs.
fn expand_condition(
    cond: &str,
    inputs: &BTreeMap<String, String>,
    steps: &BTreeMap<String, BTreeMap<String, String>>,
) -> bool {
    let inner = cond
        .trim()
        .strip_prefix("${{")
        .and_then(|c| c.strip_suffix("}}"))
        .unwrap_or(cond)
        .trim();
    inner.split("&&").all(|term| {
        let term = term.trim();
        if term == "!cancelled()" || term == "always()" {
            return true;
        }
        let (lhs, rhs, eq) = if let Some((l, r)) = term.split_once("==") {
            (l, r, true)
        } else if let Some((l, r)) = term.split_once("!=") {
            (l, r, false)
        } else {
            panic!("condition outside what this runner emulates: {term}")
        };
        let lhs = expand(&format!("${{{{ {} }}}}", lhs.trim()), inputs, steps);
        let rhs = rhs.trim().trim_matches('\'');
        (lhs == rhs) == eq
    })
}

fn pull_request(h: &History) -> serde_json::Value {
    serde_json::json!({
        "action": "synchronize",
        "number": 7,
        "pull_request": {
            "number": 7,
            "base": { "ref": "main", "sha": h.base },
            "head": { "ref": "feature", "sha": h.head },
        },
        "repository": { "full_name": "acme/app", "default_branch": "main" },
    })
}

fn push(before: &str, after: &str) -> serde_json::Value {
    serde_json::json!({
        "ref": "refs/heads/main",
        "before": before,
        "after": after,
        "created": before == ZEROS,
        "repository": { "full_name": "acme/app", "default_branch": "main" },
    })
}

fn assert_no_secret(run: &str, h: &History) {
    assert!(!run.contains(&h.old) && !run.contains(&h.new), "{run}");
}

#[test]
fn github_pull_request_reports_what_it_adds_and_uploads_sarif() {
    // Needs `shush ci`.
    let h = history();
    let run = run_action(
        &h.w,
        "pull_request",
        pull_request(&h),
        &h.head,
        &[("sarif", "shush.sarif"), ("upload-sarif", "true")],
    );
    assert_eq!(run.code, 1, "{}", run.log);
    assert!(
        run.log.contains("::error file=config.env,line=2"),
        "no annotation on config.env line 2:\n{}",
        run.log
    );
    assert!(
        !run.log.contains("old.env"),
        "the base branch's secret is not this pull request's:\n{}",
        run.log
    );
    assert_eq!(run.outputs["findings"], "1", "{:?}", run.steps);
    assert_eq!(run.outputs["exit-code"], "1");
    assert!(run.summary.contains("github-pat"), "{}", run.summary);
    let sarif = PathBuf::from(&run.outputs["sarif"]);
    assert_eq!(sarif, h.w.repo.join("shush.sarif"));
    let sarif_text = std::fs::read_to_string(&sarif).unwrap();
    let log: serde_json::Value = serde_json::from_str(&sarif_text).unwrap();
    assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 1);
    // The upload step runs even though the scan step failed, with that file.
    assert_eq!(run.uses.len(), 1, "the SARIF upload step did not run");
    assert!(
        run.uses[0]
            .0
            .starts_with("github/codeql-action/upload-sarif@")
    );
    assert_eq!(run.uses[0].1["sarif_file"], sarif.to_string_lossy());
    for t in [&run.log, &run.summary, &sarif_text] {
        assert_no_secret(t, &h);
    }
}

#[test]
fn github_pull_request_without_secrets_passes() {
    // Needs `shush ci`.
    let mut h = history();
    // The feature branch without its last commit: only a clean commit on top of main.
    h.head = h.clean.clone();
    h.w.git(&["checkout", "-q", &h.clean]);
    let run = run_action(&h.w, "pull_request", pull_request(&h), &h.head, &[]);
    assert_eq!(run.code, 0, "{}", run.log);
    assert_eq!(run.outputs["findings"], "0", "{:?}", run.steps);
    assert_eq!(run.outputs["exit-code"], "0");
    assert_eq!(run.outputs["sarif"], "", "no SARIF unless asked");
    assert!(run.uses.is_empty(), "no upload unless asked");
}

#[test]
fn github_push_scans_before_to_after() {
    // Needs `shush ci`.
    let h = history();
    h.w.git(&["checkout", "-q", "main"]);
    h.w.git(&["merge", "-q", "--ff-only", &h.clean]);
    // Pushing the clean commit: main's old secret is not in the range.
    let run = run_action(&h.w, "push", push(&h.base, &h.clean), &h.clean, &[]);
    assert_eq!(run.code, 0, "{}", run.log);
    assert_eq!(run.outputs["findings"], "0");
    // Pushing the commit that adds a token.
    h.w.git(&["merge", "-q", "--ff-only", &h.head]);
    let run = run_action(&h.w, "push", push(&h.clean, &h.head), &h.head, &[]);
    assert_eq!(run.code, 1, "{}", run.log);
    assert_eq!(run.outputs["findings"], "1");
    assert!(
        run.log.contains("::error file=config.env,line=2"),
        "{}",
        run.log
    );
    assert!(!run.log.contains("old.env"), "{}", run.log);
    assert_no_secret(&run.log, &h);
    assert_no_secret(&run.summary, &h);
}

#[test]
fn github_args_and_working_directory_reach_shush_ci() {
    // Needs `shush ci`.
    let h = history_in(Workspace::with_repo_at("services/app"));
    let run = run_action(
        &h.w,
        "pull_request",
        pull_request(&h),
        &h.head,
        &[
            ("working-directory", "services/app"),
            ("args", "--exit-code 7\n  --sarif  custom.sarif"),
        ],
    );
    assert_eq!(run.code, 7, "{}", run.log);
    assert_eq!(run.outputs["exit-code"], "7");
    assert!(h.w.repo.join("custom.sarif").exists(), "{}", run.log);
}

#[test]
fn github_shallow_checkout_fails_closed_and_names_the_fix() {
    // Needs `shush ci`.
    let h = history();
    let clone = h.w.dir.join("shallow");
    let url = format!("file://{}", h.w.repo.display());
    h.w.git_in(
        &h.w.dir,
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            "--branch",
            "feature",
            &url,
            clone.to_str().unwrap(),
        ],
    );
    let w = Workspace::new();
    // Run in the shallow clone, as actions/checkout leaves it by default.
    std::fs::remove_dir_all(&w.repo).unwrap();
    std::fs::rename(&clone, &w.repo).unwrap();
    let run = run_action(&w, "pull_request", pull_request(&h), &h.head, &[]);
    assert_eq!(run.code, 2, "{}", run.log);
    assert!(run.log.contains("fetch-depth: 0"), "{}", run.log);
    assert_eq!(run.outputs["exit-code"], "2");
}

#[test]
fn github_install_none_uses_the_shush_on_path_and_fails_without_one() {
    let w = Workspace::new();
    let a = action();
    let install = &a.steps[0];
    let run_install = |path: String, inputs: &[(&str, &str)]| {
        let mut values = a.defaults.clone();
        for (k, v) in inputs {
            values.insert(k.to_string(), v.to_string());
        }
        let mut cmd = w.command("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c"])
            .arg(install.run.as_ref().unwrap())
            .current_dir(&w.repo)
            .env("PATH", path)
            .env("GITHUB_ACTION_PATH", root())
            .env("RUNNER_TEMP", w.runner(""))
            .env("GITHUB_PATH", w.runner("path"));
        for (k, v) in &install.env {
            cmd.env(k, expand(v, &values, &BTreeMap::new()));
        }
        cmd.output().unwrap()
    };
    let with_shush = format!("{}:/usr/bin:/bin", w.bin.display());
    let out = run_install(with_shush.clone(), &[("install", "none")]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("shush {}", env!("CARGO_PKG_VERSION"))),
        "{}",
        text(&out)
    );
    let out = run_install("/usr/bin:/bin".into(), &[("install", "none")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("::error") && text(&out).contains("no shush on PATH"),
        "{}",
        text(&out)
    );
    let out = run_install(with_shush.clone(), &[("install", "brew")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("pypi, cargo or none"), "{}", text(&out));
    for bad in [
        "1.0",
        "0.1.0 --index-url http://example.com",
        "v0.1.0",
        ">=0",
    ] {
        let out = run_install(with_shush.clone(), &[("install", "pypi"), ("version", bad)]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "version {bad:?}: {}",
            text(&out)
        );
        assert!(
            text(&out).contains("not a release version"),
            "{}",
            text(&out)
        );
    }
}

#[test]
fn action_declares_the_inputs_outputs_and_upload_step_it_documents() {
    let a = action();
    for input in [
        "version",
        "install",
        "args",
        "sarif",
        "upload-sarif",
        "working-directory",
    ] {
        assert!(a.defaults.contains_key(input), "no input {input}");
    }
    assert_eq!(a.defaults["install"], "pypi");
    assert_eq!(a.defaults["upload-sarif"], "false");
    let names: Vec<&str> = a.outputs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["findings", "exit-code", "sarif"]);
    let upload = a
        .steps
        .iter()
        .find(|s| s.uses.is_some())
        .expect("an upload step");
    assert!(
        upload
            .uses
            .as_deref()
            .unwrap()
            .starts_with("github/codeql-action/upload-sarif@v")
    );
    let cond = upload.condition.as_deref().unwrap();
    assert!(cond.contains("!cancelled()"), "{cond}");
    // Not asked for: the upload step stays off even with a report.
    let inputs: BTreeMap<String, String> = a.defaults.clone();
    let mut steps = BTreeMap::new();
    steps.insert(
        "run".to_string(),
        BTreeMap::from([("sarif".to_string(), "/tmp/x.sarif".to_string())]),
    );
    assert!(!expand_condition(cond, &inputs, &steps));
    let mut asked = inputs.clone();
    asked.insert("upload-sarif".into(), "true".into());
    assert!(expand_condition(cond, &asked, &steps));
    // Scripts exist where the steps call them.
    for s in &a.steps {
        if let Some(run) = &s.run {
            let rel = run
                .split("$GITHUB_ACTION_PATH/")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .expect("steps run scripts of the action's own checkout");
            assert!(root().join(rel).exists(), "{rel}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// GitLab CI

/// The template's `shush` job.
fn gitlab_job() -> Yaml {
    yaml_file("ci/gitlab/shush.gitlab-ci.yml")
        .at(&["shush"])
        .clone()
}

/// Runs the job's `before_script` and `script` in one POSIX shell, in the project directory,
/// with the job's variables (`overrides` on top) and the predefined variables `ci`.
fn run_gitlab(w: &Workspace, ci: &[(&str, &str)], overrides: &[(&str, &str)]) -> Output {
    let job = gitlab_job();
    let mut script = String::new();
    for key in ["before_script", "script"] {
        for line in job.at(&[key]).seq() {
            script.push_str(line.str().unwrap());
            script.push('\n');
        }
    }
    let file = w.runner("gitlab-job.sh");
    std::fs::write(&file, script).unwrap();
    let mut cmd = w.command("sh");
    cmd.arg("-e").arg(&file).current_dir(&w.repo);
    for (k, v) in job.at(&["variables"]).map() {
        cmd.env(k, v.str().unwrap());
    }
    cmd.env("SHUSH_INSTALL", "none")
        .env("CI", "true")
        .env("GITLAB_CI", "true")
        .env("CI_PROJECT_DIR", &w.repo)
        .env("CI_DEFAULT_BRANCH", "main")
        .env("CI_SERVER_URL", "https://gitlab.example.com")
        .env("CI_PROJECT_PATH", "acme/app");
    for (k, v) in ci.iter().chain(overrides) {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn gitlab_report(w: &Workspace) -> (String, serde_json::Value) {
    let path = w.repo.join("gl-secret-detection-report.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let json = serde_json::from_str(&text).unwrap();
    (text, json)
}

#[test]
fn gitlab_merge_request_pipeline_reports_what_it_adds() {
    // Needs `shush ci`.
    let h = history();
    let out = run_gitlab(
        &h.w,
        &[
            ("CI_PIPELINE_SOURCE", "merge_request_event"),
            ("CI_MERGE_REQUEST_DIFF_BASE_SHA", &h.base),
            ("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "main"),
            ("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "feature"),
            ("CI_MERGE_REQUEST_IID", "7"),
            ("CI_COMMIT_SHA", &h.head),
            ("CI_COMMIT_BEFORE_SHA", ZEROS),
            ("CI_COMMIT_REF_NAME", "feature"),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let (report, json) = gitlab_report(&h.w);
    let vulns = json["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns.len(), 1, "{report}");
    assert!(
        report.contains("config.env") && report.contains("github-pat"),
        "{report}"
    );
    assert!(!report.contains("old.env"), "{report}");
    assert_no_secret(&report, &h);
    assert_no_secret(&text(&out), &h);
}

#[test]
fn gitlab_push_pipeline_scans_before_to_after_and_passes_args() {
    // Needs `shush ci`.
    let h = history();
    fn push<'a>(before: &'a str, after: &'a str) -> [(&'static str, &'a str); 5] {
        [
            ("CI_PIPELINE_SOURCE", "push"),
            ("CI_COMMIT_BEFORE_SHA", before),
            ("CI_COMMIT_SHA", after),
            ("CI_COMMIT_BRANCH", "feature"),
            ("CI_COMMIT_REF_NAME", "feature"),
        ]
    }
    h.w.git(&["checkout", "-q", &h.clean]);
    let out = run_gitlab(&h.w, &push(&h.base, &h.clean), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let (_, json) = gitlab_report(&h.w);
    assert_eq!(json["vulnerabilities"].as_array().unwrap().len(), 0);
    // The next push adds a token; SHUSH_ARGS reaches shush ci (word-split, not globbed).
    // A literal `*.json` also proves the arguments are not globbed (the first report matches).
    h.w.git(&["checkout", "-q", &h.head]);
    let out = run_gitlab(
        &h.w,
        &push(&h.clean, &h.head),
        &[("SHUSH_ARGS", "--exit-code 5 --gitlab-report *.json")],
    );
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    let (report, json) = {
        let p = h.w.repo.join("*.json");
        let t = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let j: serde_json::Value = serde_json::from_str(&t).unwrap();
        (t, j)
    };
    assert_eq!(
        json["vulnerabilities"].as_array().unwrap().len(),
        1,
        "{report}"
    );
    assert_no_secret(&report, &h);
}

#[test]
fn gitlab_shallow_clone_fails_closed_and_names_the_fix() {
    // Needs `shush ci`.
    let h = history();
    let w = Workspace::new();
    std::fs::remove_dir_all(&w.repo).unwrap();
    let url = format!("file://{}", h.w.repo.display());
    w.git_in(
        &w.dir,
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            "--branch",
            "feature",
            &url,
            w.repo.to_str().unwrap(),
        ],
    );
    let out = run_gitlab(
        &w,
        &[
            ("CI_PIPELINE_SOURCE", "merge_request_event"),
            ("CI_MERGE_REQUEST_DIFF_BASE_SHA", &h.base),
            ("CI_COMMIT_SHA", &h.head),
            ("CI_COMMIT_BEFORE_SHA", ZEROS),
        ],
        &[("GIT_DEPTH", "1")],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("GIT_DEPTH"), "{}", text(&out));
}

#[test]
fn gitlab_template_fetches_history_keeps_the_report_and_runs_on_mrs_and_branches() {
    let job = gitlab_job();
    assert_eq!(job.at(&["variables", "GIT_DEPTH"]).str(), Some("0"));
    assert_eq!(job.at(&["variables", "SHUSH_INSTALL"]).str(), Some("pypi"));
    assert_eq!(
        job.at(&["artifacts", "reports", "secret_detection"]).str(),
        Some("gl-secret-detection-report.json")
    );
    assert_eq!(job.at(&["artifacts", "when"]).str(), Some("always"));
    let rules: Vec<String> = job
        .at(&["rules"])
        .seq()
        .iter()
        .map(|r| r.at(&["if"]).str().unwrap().to_string())
        .collect();
    assert!(
        rules
            .iter()
            .any(|r| r.contains("$CI_PIPELINE_SOURCE == \"merge_request_event\"")),
        "{rules:?}"
    );
    assert!(rules.iter().any(|r| r == "$CI_COMMIT_BRANCH"), "{rules:?}");
    let script: Vec<&str> = job
        .at(&["script"])
        .seq()
        .iter()
        .filter_map(Yaml::str)
        .collect();
    assert!(
        script.iter().any(|s| s.contains("shush ci $SHUSH_ARGS")),
        "{script:?}"
    );
}

#[test]
fn gitlab_install_none_without_shush_fails_the_job() {
    let w = Workspace::new();
    let job = gitlab_job();
    let before: String = job
        .at(&["before_script"])
        .seq()
        .iter()
        .map(|l| format!("{}\n", l.str().unwrap()))
        .collect();
    let out = w
        .command("sh")
        .arg("-ec")
        .arg(&before)
        .current_dir(&w.repo)
        .env("PATH", "/usr/bin:/bin")
        .env("SHUSH_INSTALL", "none")
        .output()
        .unwrap();
    assert!(!out.status.success(), "{}", text(&out));
    let out = w
        .command("sh")
        .arg("-ec")
        .arg(&before)
        .current_dir(&w.repo)
        .env("SHUSH_INSTALL", "none")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("shush {}", env!("CARGO_PKG_VERSION"))),
        "{}",
        text(&out)
    );
}
