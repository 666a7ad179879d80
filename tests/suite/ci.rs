//! `shush ci` in simulated CI jobs: real git repositories, GitHub Actions and GitLab CI
//! environments (event files, variables), and the CI's own outputs read back as the CI
//! would read them. Every test skips (with a message) when `git` is not installed.

use crate::util::ghp;
use crate::util::git::{Repo, git_env, have_git};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// What a `shush ci` run left behind.
struct Job {
    code: i32,
    stdout: String,
    stderr: String,
    summary: String,
    outputs: String,
}

/// A CI job: a work directory for the runner's files and the variables of its event.
struct Ci {
    dir: tempfile::TempDir,
    vars: Vec<(String, String)>,
}

impl Ci {
    fn new(vars: &[(&str, &str)]) -> Ci {
        Ci {
            dir: tempfile::tempdir().unwrap(),
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// A GitHub Actions job for `event_name` with `event` as its event file.
    fn github(event_name: &str, event: Value) -> Ci {
        let mut ci = Ci::new(&[
            ("CI", "true"),
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_EVENT_NAME", event_name),
        ]);
        let path = ci.path("event.json");
        std::fs::write(&path, serde_json::to_vec(&event).unwrap()).unwrap();
        let summary = ci.path("summary.md");
        let outputs = ci.path("outputs.txt");
        for (k, v) in [
            ("GITHUB_EVENT_PATH", path),
            ("GITHUB_STEP_SUMMARY", summary),
            ("GITHUB_OUTPUT", outputs),
        ] {
            ci.vars.push((k.into(), v.display().to_string()));
        }
        ci
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn set(mut self, k: &str, v: &str) -> Ci {
        self.vars.push((k.into(), v.into()));
        self
    }

    /// Runs `shush ci ARGS` in `repo` with only this job's variables.
    fn run(&self, repo: &Path, args: &[&str]) -> Job {
        let out = assert_cmd::Command::cargo_bin("shush")
            .unwrap()
            .current_dir(repo)
            .env_clear()
            .env("HOME", self.dir.path())
            .env("SHUSH_CACHE_DIR", "")
            .envs(self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .arg("ci")
            .args(["--no-config"])
            .args(args)
            .timeout(std::time::Duration::from_secs(120))
            .output()
            .unwrap();
        let read = |name: &str| std::fs::read_to_string(self.path(name)).unwrap_or_default();
        Job {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            summary: read("summary.md"),
            outputs: read("outputs.txt"),
        }
    }
}

impl Job {
    /// Asserts the exit code, showing the run's output when it differs.
    #[track_caller]
    fn code(&self, want: i32) -> &Self {
        assert_eq!(
            self.code, want,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// The paths of the findings in the `::error` annotations (the runner's view).
    fn annotated_files(&self) -> Vec<String> {
        self.stderr
            .lines()
            .filter_map(|l| l.strip_prefix("::error file="))
            .map(|l| l.split(',').next().unwrap().to_string())
            .collect()
    }

    /// Asserts that no output of the job holds any of `secrets` in full.
    #[track_caller]
    fn never_shows(&self, secrets: &[&str]) {
        for s in secrets {
            for (name, text) in [
                ("stdout", &self.stdout),
                ("stderr", &self.stderr),
                ("step summary", &self.summary),
                ("step outputs", &self.outputs),
            ] {
                assert!(!text.contains(s), "{name} shows a secret:\n{text}");
            }
        }
    }
}

/// A repository with a secret on `main` from before the branch (already audited), and a
/// `feature` branch whose second commit adds a new one. Returns (repo, base, head, old, new).
fn branch_with_a_new_secret() -> (Repo, String, String, String, String) {
    let mut r = Repo::new();
    let old = ghp(1);
    r.write("config/old.env", format!("TOKEN={old}\n"));
    r.write("README.md", "hello\n");
    let base = r.commit("main: old secret");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write("src/app.py", "print('hi')\n");
    r.commit("feature: clean");
    let new = ghp(2);
    r.write("src/deploy.sh", format!("export GH_TOKEN={new}\n"));
    let head = r.commit("feature: adds a token");
    (r, base, head, old, new)
}

fn pull_request(base: &str, head: &str) -> Value {
    serde_json::json!({
        "action": "synchronize",
        "number": 12,
        "pull_request": {
            "number": 12,
            "base": { "sha": base, "ref": "main" },
            "head": { "sha": head, "ref": "feature" },
        },
        "repository": { "default_branch": "main" },
    })
}

fn push(before: &str, after: &str, git_ref: &str) -> Value {
    serde_json::json!({
        "ref": git_ref,
        "before": before,
        "after": after,
        "created": before.bytes().all(|b| b == b'0'),
        "deleted": false,
        "forced": false,
        "repository": { "default_branch": "main" },
    })
}

const NULL: &str = "0000000000000000000000000000000000000000";

#[test]
fn pull_request_scans_only_its_commits_with_annotations_and_summary() {
    if !have_git() {
        return;
    }
    let (r, base, head, old, new) = branch_with_a_new_secret();
    let ci = Ci::github("pull_request", pull_request(&base, &head));
    let job = ci.run(&r.path, &[]);
    job.code(1);
    assert_eq!(job.annotated_files(), ["src/deploy.sh"]);
    assert!(job.stderr.contains("pull request #12"), "{}", job.stderr);
    // The annotation is a well-formed workflow command with the position of the secret.
    let line = job
        .stderr
        .lines()
        .find(|l| l.starts_with("::error "))
        .unwrap();
    assert!(
        line.contains(",line=1,endLine=1,col=17,") && line.contains("title=Secret%3A github-pat::"),
        "{line}"
    );
    assert!(
        job.summary.contains("| `github-pat` | `src/deploy.sh:1` |"),
        "{}",
        job.summary
    );
    assert!(job.summary.contains(&head[..12]), "{}", job.summary);
    assert!(job.outputs.contains("findings=1\n") && job.outputs.contains("status=findings\n"));
    assert!(
        job.stdout.starts_with("github-pat ghp_…(40) #")
            && job.stdout.contains("\n  src/deploy.sh:1:17 in "),
        "{}",
        job.stdout
    );
    job.never_shows(&[&old, &new]);
    // A clean pull request passes and says so.
    let mut r = r;
    r.git(&["checkout", "-q", "-b", "clean", &base]);
    r.write("docs.md", "no secrets here\n");
    let clean = r.commit("docs");
    let ci = Ci::github("pull_request", pull_request(&base, &clean));
    let job = ci.run(&r.path, &[]);
    job.code(0);
    assert!(job.summary.contains("No secrets found"), "{}", job.summary);
    assert!(job.outputs.contains("findings=0\n") && job.outputs.contains("status=clean\n"));
    assert!(job.annotated_files().is_empty());
}

#[test]
fn push_to_an_existing_branch_scans_before_to_after() {
    if !have_git() {
        return;
    }
    let (mut r, _, head, _, new) = branch_with_a_new_secret();
    let third = ghp(3);
    r.write("src/more.env", format!("T={third}\n"));
    let after = r.commit("another token");
    let ci = Ci::github("push", push(&head, &after, "refs/heads/feature"));
    let job = ci.run(&r.path, &[]);
    job.code(1);
    // Only what the push brought: not the token of the earlier push.
    assert_eq!(job.annotated_files(), ["src/more.env"]);
    job.never_shows(&[&new, &third]);
}

#[test]
fn push_of_a_new_branch_scans_the_commits_not_on_the_default_branch() {
    if !have_git() {
        return;
    }
    let (r, _, head, _, _) = branch_with_a_new_secret();
    let ci = Ci::github("push", push(NULL, &head, "refs/heads/feature"));
    let job = ci.run(&r.path, &[]);
    job.code(1);
    assert_eq!(job.annotated_files(), ["src/deploy.sh"], "{}", job.stderr);
    assert!(job.stderr.contains("not on main"), "{}", job.stderr);
    // A clone without the default branch: the whole branch is scanned, and the job says
    // how to make it incremental.
    r.git(&["branch", "-q", "-m", "main", "trunk"]);
    let job = ci.run(&r.path, &[]);
    job.code(1);
    let mut files = job.annotated_files();
    files.sort();
    assert_eq!(files, ["config/old.env", "src/deploy.sh"]);
    assert!(
        job.stderr.contains("git fetch origin main"),
        "{}",
        job.stderr
    );
}

#[test]
fn force_push_scans_the_rewritten_branch() {
    if !have_git() {
        return;
    }
    let (r, _, head, _, _) = branch_with_a_new_secret();
    // The commit the branch pointed at before the force-push is gone from the clone.
    let gone = "1234567890abcdef1234567890abcdef12345678";
    let mut event = push(gone, &head, "refs/heads/feature");
    event["forced"] = Value::Bool(true);
    let job = Ci::github("push", event).run(&r.path, &[]);
    job.code(1);
    assert_eq!(job.annotated_files(), ["src/deploy.sh"]);
    assert!(job.stderr.contains("force-push"), "{}", job.stderr);
    assert!(job.stderr.contains("not in the clone"), "{}", job.stderr);
}

#[test]
fn tags_and_manual_runs_scan_the_tree_at_the_commit() {
    if !have_git() {
        return;
    }
    let (mut r, _, _, _, _) = branch_with_a_new_secret();
    // A secret that was committed and then removed is history, not part of the release.
    let removed = ghp(4);
    r.write("tmp.txt", format!("{removed}\n"));
    r.commit("oops");
    std::fs::remove_file(r.path.join("tmp.txt")).unwrap();
    let tip = r.commit("remove it");
    r.git(&["tag", "v1.0.0"]);
    let ci = Ci::github("push", push(NULL, &tip, "refs/tags/v1.0.0"));
    let job = ci.run(&r.path, &[]);
    job.code(1);
    let mut files = job.annotated_files();
    files.sort();
    assert_eq!(files, ["config/old.env", "src/deploy.sh"]);
    assert!(job.stderr.contains("the tree at"), "{}", job.stderr);
    job.never_shows(&[&removed]);
    let manual = Ci::github("workflow_dispatch", serde_json::json!({})).set("GITHUB_SHA", &tip);
    let job = manual.run(&r.path, &[]);
    job.code(1);
    assert_eq!(job.annotated_files().len(), 2);
}

#[test]
fn a_deleted_branch_has_nothing_to_scan() {
    if !have_git() {
        return;
    }
    let (r, _, head, _, _) = branch_with_a_new_secret();
    let mut event = push(&head, NULL, "refs/heads/feature");
    event["deleted"] = Value::Bool(true);
    let job = Ci::github("push", event).run(&r.path, &[]);
    job.code(0);
    assert!(job.stderr.contains("nothing to scan"), "{}", job.stderr);
}

/// A shallow clone (`--depth 1`, as actions/checkout and GitLab's GIT_DEPTH make by
/// default) of `r` at `branch`.
fn shallow_clone(r: &Repo, branch: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let clone = dir.path().join("clone");
    let mut cmd = std::process::Command::new("git");
    git_env(&mut cmd);
    let url = format!("file://{}", r.path.display());
    let st = cmd
        .args(["clone", "-q", "--depth", "1", "--branch", branch, &url])
        .arg(&clone)
        .status()
        .unwrap();
    assert!(st.success());
    (dir, clone)
}

#[test]
fn a_shallow_checkout_fails_closed_and_names_the_fix() {
    if !have_git() {
        return;
    }
    let (r, base, head, _, new) = branch_with_a_new_secret();
    let (_keep, clone) = shallow_clone(&r, "feature");
    let ci = Ci::github("pull_request", pull_request(&base, &head));
    let job = ci.run(&clone, &[]);
    job.code(2);
    assert!(job.stderr.contains("fetch-depth: 0"), "{}", job.stderr);
    assert!(
        job.stderr.contains("::error title=shush could not scan::"),
        "{}",
        job.stderr
    );
    assert!(
        job.summary.contains("could not complete"),
        "{}",
        job.summary
    );
    assert!(job.outputs.contains("status=error\n"));
    // --allow-shallow does not make a missing base appear: still an error.
    ci.run(&clone, &["--allow-shallow"]).code(2);
    // A push whose range reaches the boundary: refused, unless allowed.
    let job = Ci::github("push", push(&base, &head, "refs/heads/feature")).run(&clone, &[]);
    job.code(2);
    assert!(job.stderr.contains("shallow clone"), "{}", job.stderr);
    // GitLab names its own setting.
    let gl = Ci::new(&[
        ("GITLAB_CI", "true"),
        ("CI_PIPELINE_SOURCE", "merge_request_event"),
        ("CI_MERGE_REQUEST_DIFF_BASE_SHA", &base),
        ("CI_COMMIT_SHA", &head),
    ]);
    let job = gl.run(&clone, &[]);
    job.code(2);
    assert!(job.stderr.contains("GIT_DEPTH: 0"), "{}", job.stderr);
    job.never_shows(&[&new]);
    // The tree at a tag needs no history: a shallow clone is enough.
    let tag = Ci::github("push", push(NULL, &head, "refs/tags/v2"));
    tag.run(&clone, &[]).code(1);
}

fn gitlab_schema() -> jsonschema::Validator {
    let text = include_str!("../fixtures/gitlab/secret-detection-report-format.json");
    let schema: Value = serde_json::from_str(text).unwrap();
    jsonschema::draft7::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the GitLab schema compiles")
}

#[track_caller]
fn assert_valid_gitlab_report(doc: &Value) {
    let errors: Vec<String> = gitlab_schema()
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "schema violations:\n{}\n{doc:#}",
        errors.join("\n")
    );
}

#[test]
fn gitlab_merge_request_writes_a_valid_secret_detection_report() {
    if !have_git() {
        return;
    }
    let (r, base, head, old, new) = branch_with_a_new_secret();
    let ci = Ci::new(&[
        ("CI", "true"),
        ("GITLAB_CI", "true"),
        ("CI_PIPELINE_SOURCE", "merge_request_event"),
        ("CI_MERGE_REQUEST_IID", "5"),
        ("CI_MERGE_REQUEST_DIFF_BASE_SHA", &base),
        ("CI_COMMIT_SHA", &head),
    ]);
    let job = ci.run(&r.path, &[]);
    job.code(1);
    assert!(job.stderr.contains("merge request !5"), "{}", job.stderr);
    let text = std::fs::read_to_string(r.path.join("gl-secret-detection-report.json")).unwrap();
    assert!(!text.contains(&new) && !text.contains(&old));
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_valid_gitlab_report(&doc);
    let vulns = doc["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns.len(), 1);
    assert_eq!(vulns[0]["location"]["file"], "src/deploy.sh");
    assert_eq!(vulns[0]["location"]["start_line"], 1);
    assert_eq!(vulns[0]["location"]["commit"]["sha"], head.as_str());
    assert_eq!(vulns[0]["identifiers"][0]["value"], "github-pat");
    assert_eq!(doc["scan"]["status"], "success");
    // The validator is not a rubber stamp: a report without its commit is refused.
    let mut broken = doc.clone();
    broken["vulnerabilities"][0]["location"]
        .as_object_mut()
        .unwrap()
        .remove("commit");
    assert!(gitlab_schema().iter_errors(&broken).next().is_some());
    // A push pipeline: before..after, the report goes where it is asked.
    let ci = Ci::new(&[
        ("GITLAB_CI", "true"),
        ("CI_PIPELINE_SOURCE", "push"),
        ("CI_COMMIT_BEFORE_SHA", &base),
        ("CI_COMMIT_SHA", &head),
        ("CI_COMMIT_BRANCH", "feature"),
        ("CI_DEFAULT_BRANCH", "main"),
    ]);
    let out = ci.path("report.json");
    let job = ci.run(&r.path, &["--gitlab-report", out.to_str().unwrap()]);
    job.code(1);
    let doc: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_valid_gitlab_report(&doc);
    assert_eq!(doc["vulnerabilities"].as_array().unwrap().len(), 1);
}

#[test]
fn a_failed_gitlab_scan_reports_failure_in_a_valid_report() {
    if !have_git() {
        return;
    }
    let (r, _, head, _, _) = branch_with_a_new_secret();
    let ci = Ci::new(&[
        ("GITLAB_CI", "true"),
        ("CI_PIPELINE_SOURCE", "merge_request_event"),
        ("CI_MERGE_REQUEST_DIFF_BASE_SHA", "no-such-revision"),
        ("CI_COMMIT_SHA", &head),
    ]);
    ci.run(&r.path, &[]).code(2);
    let text = std::fs::read_to_string(r.path.join("gl-secret-detection-report.json")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_valid_gitlab_report(&doc);
    assert_eq!(doc["scan"]["status"], "failure");
    assert_eq!(doc["scan"]["messages"][0]["level"], "fatal");
}

#[test]
fn sarif_and_machine_formats_stay_clean_of_annotations() {
    if !have_git() {
        return;
    }
    let (r, base, head, old, new) = branch_with_a_new_secret();
    let ci = Ci::github("pull_request", pull_request(&base, &head));
    let sarif = ci.path("shush.sarif");
    let job = ci.run(
        &r.path,
        &["--format", "json", "--sarif", sarif.to_str().unwrap()],
    );
    job.code(1);
    // stdout is the JSON report alone: the annotations go to the other stream.
    let findings: Value = serde_json::from_str(&job.stdout).unwrap();
    assert_eq!(findings.as_array().unwrap().len(), 1);
    let text = std::fs::read_to_string(&sarif).unwrap();
    assert!(!text.contains(&new) && !text.contains(&old));
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["runs"][0]["results"].as_array().unwrap().len(), 1);
    assert!(job.outputs.contains("sarif="), "{}", job.outputs);
}

#[test]
fn outside_ci_and_generic_ci() {
    if !have_git() {
        return;
    }
    let (r, _, _, _, _) = branch_with_a_new_secret();
    let job = Ci::new(&[]).run(&r.path, &[]);
    job.code(2);
    assert!(
        job.stderr.contains("not running in a CI job"),
        "{}",
        job.stderr
    );
    // Any CI: the tree at HEAD (both secrets are in it); --since narrows it.
    let job = Ci::new(&[("CI", "true")]).run(&r.path, &[]);
    job.code(1);
    assert!(job.stdout.contains("config/old.env") && job.stdout.contains("src/deploy.sh"));
    let job = Ci::new(&[("CI", "true")]).run(&r.path, &["--since", "main"]);
    job.code(1);
    assert!(!job.stdout.contains("config/old.env") && job.stdout.contains("src/deploy.sh"));
}

#[test]
fn a_baseline_at_the_root_is_honoured() {
    if !have_git() {
        return;
    }
    let (r, base, head, _, _) = branch_with_a_new_secret();
    let ci = Ci::github("pull_request", pull_request(&base, &head));
    let jsonl = ci.run(&r.path, &["--format", "jsonl"]);
    jsonl.code(1);
    std::fs::write(r.path.join(".shush-baseline.jsonl"), &jsonl.stdout).unwrap();
    let job = ci.run(&r.path, &[]);
    job.code(0);
    assert!(
        job.stderr.contains("1 suppressed by baseline"),
        "{}",
        job.stderr
    );
    ci.run(&r.path, &["--no-baseline"]).code(1);
}
