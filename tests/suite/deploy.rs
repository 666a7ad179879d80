//! The Kubernetes deployment of `shush fleet` (deploy/kubernetes/) holds together: every
//! manifest is a known kind, the kustomization lists the workloads, every variable taken from
//! the Secret is in the example Secret, every pod is locked down (non-root with the image's
//! UID, read-only root, no capabilities) and sized, the cache is a volume mounted where
//! `--cache` points, the worker Job is a work queue whose failures fail the Job, and the
//! CronJob's schedule is five valid fields. Then the commands themselves: the workers' command
//! line, with the manifests' environment, audits a queued repository into a store and its
//! cache; the git credential helpers answer with the tokens; the example Secret's key is
//! refused. ci/test-deploy.sh validates the same files against Kubernetes' JSON schemas.

use crate::util::git::{Repo, git_env, have_git};
use crate::util::yaml::{self, Yaml};
use crate::util::{Dir, TEST_FINGERPRINT_KEY, ghp};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};

const DIR: &str = "deploy/kubernetes";
const SECRET: &str = "secret.example.yaml";
const WORKER: &str = "worker-job.yaml";
const NIGHTLY: &str = "nightly-cronjob.yaml";
const ENQUEUE: &str = "enqueue-job.yaml";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn manifest(name: &str) -> Yaml {
    yaml::parse(&read(&format!("{DIR}/{name}")))
}

/// Every `.yaml` file of deploy/kubernetes/, by name.
fn manifest_names() -> BTreeSet<String> {
    std::fs::read_dir(root().join(DIR))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml") || n.ends_with(".yml"))
        .collect()
}

/// The workloads: every manifest that runs pods.
fn workloads() -> Vec<(String, Yaml)> {
    manifest_names()
        .into_iter()
        .map(|n| {
            let doc = manifest(&n);
            (n, doc)
        })
        .filter(|(_, d)| matches!(kind(d), "Job" | "CronJob"))
        .collect()
}

fn kind(doc: &Yaml) -> &str {
    doc.at(&["kind"]).str().unwrap()
}

fn text<'a>(node: &'a Yaml, path: &[&str]) -> &'a str {
    node.at(path)
        .str()
        .unwrap_or_else(|| panic!("`{}` is not a scalar", path.join(".")))
}

/// The Job spec of a Job or of a CronJob's template.
fn job_spec(doc: &Yaml) -> &Yaml {
    match kind(doc) {
        "Job" => doc.at(&["spec"]),
        "CronJob" => doc.at(&["spec", "jobTemplate", "spec"]),
        k => panic!("{k} runs no pods"),
    }
}

fn pod_spec(doc: &Yaml) -> &Yaml {
    job_spec(doc).at(&["template", "spec"])
}

/// The init containers, then the containers.
fn containers(pod: &Yaml) -> Vec<&Yaml> {
    let init = pod.get("initContainers").map(Yaml::seq).unwrap_or(&[]);
    init.iter().chain(pod.at(&["containers"]).seq()).collect()
}

/// `command` then `args`, as the container runs them.
fn argv(container: &Yaml) -> Vec<String> {
    ["command", "args"]
        .iter()
        .filter_map(|k| container.get(k))
        .flat_map(|v| v.seq().iter().map(|a| a.str().unwrap().to_string()))
        .collect()
}

/// The value after `flag` in `argv`.
fn flag<'a>(argv: &'a [String], flag: &str) -> Option<&'a str> {
    let i = argv.iter().position(|a| a == flag)?;
    Some(argv.get(i + 1).expect("a flag without its value"))
}

/// Every container that runs `shush fleet work`, with its file's name and document.
fn work_containers() -> Vec<(String, Yaml, Yaml)> {
    let mut out = Vec::new();
    for (name, doc) in workloads() {
        for c in containers(pod_spec(&doc)) {
            if argv(c).starts_with(&["shush".into(), "fleet".into(), "work".into()]) {
                out.push((name.clone(), doc.clone(), c.clone()));
            }
        }
    }
    out
}

fn secret_keys() -> BTreeSet<String> {
    let secret = manifest(SECRET);
    assert_eq!(kind(&secret), "Secret");
    secret
        .at(&["stringData"])
        .map()
        .iter()
        .map(|(k, _)| k.clone())
        .collect()
}

/// A CPU quantity in millicores or a memory one in bytes (`100m`, `2`, `64Mi`, `1Gi`).
fn quantity(q: &str) -> u64 {
    let units = [
        ("m", 1),
        ("Ki", 1 << 10),
        ("Mi", 1 << 20),
        ("Gi", 1 << 30),
        ("Ti", 1 << 40),
    ];
    for (suffix, scale) in units {
        if let Some(n) = q.strip_suffix(suffix) {
            return n.parse::<u64>().unwrap_or_else(|_| panic!("quantity {q}")) * scale;
        }
    }
    q.parse::<u64>().unwrap_or_else(|_| panic!("quantity {q}")) * 1000
}

#[test]
fn manifests_are_known_kinds_and_the_kustomization_lists_the_workloads() {
    let known = [
        ("v1", "Secret"),
        ("batch/v1", "Job"),
        ("batch/v1", "CronJob"),
        ("kustomize.config.k8s.io/v1beta1", "Kustomization"),
    ];
    let names = manifest_names();
    for n in [SECRET, WORKER, NIGHTLY, ENQUEUE, "kustomization.yaml"] {
        assert!(names.contains(n), "{DIR}/{n} is missing: {names:?}");
    }
    let mut listed_ok = BTreeSet::new();
    for n in &names {
        let doc = manifest(n);
        let pair = (text(&doc, &["apiVersion"]), kind(&doc));
        assert!(known.contains(&pair), "{n}: {pair:?}");
        if pair.1 != "Kustomization" {
            let name = text(&doc, &["metadata", "name"]);
            let dns = name.len() <= 52 // a CronJob's name leaves room for its Jobs' suffix
                && name.starts_with(|c: char| c.is_ascii_lowercase())
                && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            assert!(dns, "{n}: name {name:?}");
        }
        if n != SECRET && n != "kustomization.yaml" {
            listed_ok.insert(n.clone());
        }
    }
    let kz = manifest("kustomization.yaml");
    let listed: BTreeSet<String> = kz
        .at(&["resources"])
        .seq()
        .iter()
        .map(|r| r.str().unwrap().to_string())
        .collect();
    // Every workload, and never the example Secret (its placeholders would replace the
    // real values on every apply).
    assert_eq!(listed, listed_ok);
    // The one `images:` entry retags every container.
    let images = kz.at(&["images"]).seq();
    assert_eq!(images.len(), 1);
    let image = text(&images[0], &["name"]);
    for (n, doc) in workloads() {
        for c in containers(pod_spec(&doc)) {
            let img = text(c, &["image"]);
            assert_eq!(img.rsplit_once(':').map(|(i, _)| i), Some(image), "{n}");
        }
    }
}

#[test]
fn the_worker_job_is_a_work_queue_of_shush_fleet_work() {
    let doc = manifest(WORKER);
    assert_eq!(kind(&doc), "Job");
    let spec = job_spec(&doc);
    assert_eq!(text(spec, &["parallelism"]), "4");
    // A work queue: no completion count; the pods end when the queue is empty.
    assert!(
        spec.get("completions").is_none(),
        "{WORKER}: completions set"
    );
    assert!(spec.get("completionMode").is_none());
    // Started once the queue is filled.
    assert_eq!(text(spec, &["suspend"]), "true");
    let work = work_containers();
    let names: BTreeSet<&str> = work.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(names, BTreeSet::from([WORKER, NIGHTLY]));
    for (n, doc, c) in &work {
        let spec = job_spec(doc);
        // A pod failure policy needs restartPolicy Never; OnFailure would also rerun a
        // worker that exited 2, which then finds nothing left and hides the failure.
        assert_eq!(text(pod_spec(doc), &["restartPolicy"]), "Never", "{n}");
        let args = argv(c);
        // Open findings are the audit's result, not a failed pod (a retry of a single pod
        // that enqueues would queue everything again).
        assert_eq!(flag(&args, "--exit-code"), Some("0"), "{n}: {args:?}");
        let fails_on_2 = spec
            .at(&["podFailurePolicy", "rules"])
            .seq()
            .iter()
            .any(|r| {
                r.get("action").and_then(Yaml::str) == Some("FailJob")
                    && r.get("onExitCodes").is_some_and(|e| {
                        text(e, &["operator"]) == "In"
                            && e.at(&["values"]).seq().iter().any(|v| v.str() == Some("2"))
                    })
            });
        assert!(
            fails_on_2,
            "{n}: exit 2 (a failed repository) must fail the Job"
        );
        let deadline: u64 = text(spec, &["activeDeadlineSeconds"]).parse().unwrap();
        assert!(
            (3600..=86400).contains(&deadline),
            "{n}: deadline {deadline}"
        );
    }
}

#[test]
fn the_nightly_cronjob_enqueues_then_works_on_a_valid_schedule() {
    let doc = manifest(NIGHTLY);
    assert_eq!(kind(&doc), "CronJob");
    assert_eq!(text(&doc, &["spec", "concurrencyPolicy"]), "Forbid");
    check_cron(text(&doc, &["spec", "schedule"])).unwrap();
    let pod = pod_spec(&doc);
    // One pod: each pod's enqueue would queue again what the others had audited.
    let parallelism = job_spec(&doc).get("parallelism").and_then(Yaml::str);
    assert!(matches!(parallelism, None | Some("1")), "{parallelism:?}");
    let init = pod.at(&["initContainers"]).seq();
    assert_eq!(init.len(), 1);
    let enqueue_job = manifest(ENQUEUE);
    let enqueue = argv(&pod_spec(&enqueue_job).at(&["containers"]).seq()[0]);
    assert_eq!(enqueue[..3], ["shush", "fleet", "enqueue"]);
    assert_eq!(
        argv(&init[0]),
        enqueue,
        "the nightly enqueues what enqueue-job.yaml does"
    );
    let main = pod.at(&["containers"]).seq();
    assert_eq!(main.len(), 1);
    assert_eq!(argv(&main[0])[..3], ["shush", "fleet", "work"]);
}

/// Checks a five-field cron schedule: every field is `*`, a value, a range, a step of
/// those, or a list of them, within the field's bounds. The error says what is wrong.
fn check_cron(schedule: &str) -> Result<(), String> {
    let bounds = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)];
    let fields: Vec<&str> = schedule.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!("{schedule:?}: {} fields, not 5", fields.len()));
    }
    for (field, (lo, hi)) in fields.iter().zip(bounds) {
        let num = |s: &str, lo: u32| match s.parse::<u32>() {
            Ok(n) if (lo..=hi).contains(&n) => Ok(n),
            _ => Err(format!(
                "{schedule:?}: {s:?} in {field:?} is not in {lo}-{hi}"
            )),
        };
        for part in field.split(',') {
            let (range, step) = match part.split_once('/') {
                Some((r, s)) => (r, Some(s)),
                None => (part, None),
            };
            if let Some(s) = step {
                num(s, 1)?;
            }
            if range == "*" {
                continue;
            }
            let (a, b) = range.split_once('-').unwrap_or((range, range));
            if num(a, lo)? > num(b, lo)? {
                return Err(format!("{schedule:?}: the range {range} is empty"));
            }
        }
    }
    Ok(())
}

#[test]
fn the_cron_check_refuses_what_kubernetes_would() {
    for good in ["17 2 * * *", "*/15 0-6,22 1 1-12/2 0-7"] {
        assert_eq!(check_cron(good), Ok(()));
    }
    for bad in [
        "17 2 * *",
        "60 2 * * *",
        "17 24 * * *",
        "17 2 0 * *",
        "17 2 * * 8",
        "*/0 2 * * *",
        "6-5 2 * * *",
        "@daily",
        "a 2 * * *",
    ] {
        assert!(check_cron(bad).is_err(), "{bad:?} passed");
    }
}

#[test]
fn every_variable_from_the_secret_is_in_the_example_secret() {
    let keys = secret_keys();
    let secret_name = text(&manifest(SECRET), &["metadata", "name"]).to_string();
    let mut used = BTreeSet::new();
    for (n, doc) in workloads() {
        for c in containers(pod_spec(&doc)) {
            let cname = text(c, &["name"]);
            let mut from_secret = BTreeSet::new();
            for e in c.at(&["env"]).seq() {
                let var = text(e, &["name"]);
                let Some(r) = e.get("valueFrom").and_then(|v| v.get("secretKeyRef")) else {
                    // Credentials never sit in a manifest.
                    assert!(
                        !var.starts_with("SHUSH_") && !var.ends_with("_TOKEN"),
                        "{n}/{cname}: {var} is not taken from the Secret"
                    );
                    continue;
                };
                assert_eq!(text(r, &["name"]), secret_name, "{n}/{cname}: {var}");
                let key = text(r, &["key"]);
                assert!(keys.contains(key), "{n}/{cname}: {key} is not in {SECRET}");
                assert_eq!(var, key, "{n}/{cname}: the variable is named as its key");
                // The store and the key are required; a token only where its forge is used.
                let optional = r.get("optional").and_then(Yaml::str) == Some("true");
                assert_eq!(
                    optional,
                    key.ends_with("_TOKEN"),
                    "{n}/{cname}: {key} optional"
                );
                from_secret.insert(key.to_string());
                used.insert(key.to_string());
            }
            assert!(
                from_secret.contains("SHUSH_FLEET_STORE"),
                "{n}/{cname}: no store"
            );
            if argv(c).get(2).map(String::as_str) == Some("work") {
                assert!(
                    from_secret.contains("SHUSH_FINGERPRINT_KEY"),
                    "{n}/{cname}: every worker must share the team's key"
                );
            }
        }
    }
    assert_eq!(used, keys, "{SECRET} holds keys no pod reads");
}

/// `ARG UID=…` of the Dockerfile's runtime stage: the user the image runs as.
fn image_uid() -> String {
    let dockerfile = read("Dockerfile");
    let runtime = dockerfile.split("\nFROM ").last().unwrap();
    runtime
        .lines()
        .find_map(|l| l.strip_prefix("ARG UID="))
        .expect("the runtime stage's ARG UID")
        .trim()
        .to_string()
}

#[test]
fn pods_run_locked_down_as_the_images_user() {
    let uid = image_uid();
    for (n, doc) in workloads() {
        let pod = pod_spec(&doc);
        let sc = pod.at(&["securityContext"]);
        assert_eq!(text(sc, &["runAsNonRoot"]), "true", "{n}");
        assert_eq!(text(sc, &["runAsUser"]), uid, "{n}: the Dockerfile's UID");
        assert_eq!(text(sc, &["runAsGroup"]), uid, "{n}");
        assert_eq!(
            text(sc, &["seccompProfile", "type"]),
            "RuntimeDefault",
            "{n}"
        );
        assert_eq!(text(pod, &["automountServiceAccountToken"]), "false", "{n}");
        for c in containers(pod) {
            let cname = text(c, &["name"]);
            let sc = c.at(&["securityContext"]);
            assert_eq!(
                text(sc, &["allowPrivilegeEscalation"]),
                "false",
                "{n}/{cname}"
            );
            assert_eq!(text(sc, &["readOnlyRootFilesystem"]), "true", "{n}/{cname}");
            let drop: Vec<_> = sc.at(&["capabilities", "drop"]).seq().iter().collect();
            assert_eq!(drop, [&Yaml::Str("ALL".into())], "{n}/{cname}");
            // With a read-only root, /tmp is the one writable place a tool may assume.
            assert_eq!(volume_at(pod, c, "/tmp").0, "emptyDir", "{n}/{cname}: /tmp");
        }
    }
}

/// The kind (`emptyDir`, …) and name of the volume mounted at `path` in `container`.
fn volume_at(pod: &Yaml, container: &Yaml, path: &str) -> (String, String) {
    let mount = container
        .at(&["volumeMounts"])
        .seq()
        .iter()
        .find(|m| text(m, &["mountPath"]) == path)
        .unwrap_or_else(|| panic!("nothing is mounted at {path}"));
    assert!(
        mount.get("readOnly").and_then(Yaml::str) != Some("true"),
        "{path} is read-only"
    );
    let name = text(mount, &["name"]);
    let volume = pod
        .at(&["volumes"])
        .seq()
        .iter()
        .find(|v| text(v, &["name"]) == name)
        .unwrap_or_else(|| panic!("no volume {name}"));
    let kind = volume
        .map()
        .iter()
        .find(|(k, _)| k != "name")
        .expect("a volume source");
    (kind.0.clone(), name.to_string())
}

#[test]
fn workers_cache_their_mirrors_on_a_volume_and_are_sized() {
    let per_worker = |what: &str, res: &str, c: &Yaml| quantity(text(c, &["resources", what, res]));
    let (_, _, worker) = work_containers()
        .into_iter()
        .find(|(n, _, _)| n == WORKER)
        .unwrap();
    assert!(flag(&argv(&worker), "--workers").is_none_or(|w| w == "1"));
    for (n, doc, c) in work_containers() {
        let args = argv(&c);
        let cache = flag(&args, "--cache").unwrap_or_else(|| panic!("{n}: no --cache"));
        let (kind, _) = volume_at(pod_spec(&doc), &c, cache);
        assert!(
            kind == "emptyDir" || kind == "persistentVolumeClaim",
            "{n}: the cache is a {kind}"
        );
        // Sized per worker: the nightly's one pod has --workers times a worker pod's share.
        let workers: u64 = flag(&args, "--workers").unwrap_or("1").parse().unwrap();
        for (what, res) in [
            ("requests", "cpu"),
            ("requests", "memory"),
            ("limits", "cpu"),
            ("limits", "memory"),
        ] {
            assert_eq!(
                per_worker(what, res, &c),
                workers * per_worker(what, res, &worker),
                "{n}: {what}.{res} for {workers} worker(s)"
            );
        }
    }
    for (n, doc) in workloads() {
        for c in containers(pod_spec(&doc)) {
            for res in ["cpu", "memory"] {
                let req = quantity(text(c, &["resources", "requests", res]));
                let lim = quantity(text(c, &["resources", "limits", res]));
                assert!(0 < req && req <= lim, "{n}: {res} {req} > {lim}");
            }
        }
    }
    // The measured peak of the largest history audit (README, Performance: git/git, 540 MiB)
    // fits a worker's request.
    assert!(per_worker("requests", "memory", &worker) >= 540 << 20);
}

#[test]
fn the_image_has_git_for_the_fleets_mirrors() {
    let dockerfile = read("Dockerfile").replace("\\\n", " ");
    let runtime = dockerfile.split("\nFROM ").last().unwrap();
    let install = runtime
        .lines()
        .find(|l| l.contains("apt-get install"))
        .expect("the runtime installs packages");
    let words: BTreeSet<&str> = install.split_whitespace().collect();
    for p in [
        "git",
        "ca-certificates",
        "openssh-client",
        "--no-install-recommends",
    ] {
        assert!(words.contains(p), "the runtime lacks {p}: {install}");
    }
    assert!(install.contains("rm -rf /var/lib/apt/lists/*"), "{install}");
    let uid = image_uid();
    assert!(
        uid.parse::<u32>().is_ok_and(|u| u > 0),
        "a numeric non-root UID: {uid}"
    );
}

/// The environment a container gets: its literal values, and each Secret reference
/// replaced by `secrets[key]`.
fn container_env(c: &Yaml, secrets: &[(&str, String)]) -> Vec<(String, String)> {
    c.at(&["env"])
        .seq()
        .iter()
        .map(|e| {
            let var = text(e, &["name"]).to_string();
            let value = match e.get("value") {
                Some(v) => v.str().unwrap().to_string(),
                None => {
                    let key = text(e, &["valueFrom", "secretKeyRef", "key"]);
                    let found = secrets.iter().find(|(k, _)| *k == key);
                    found
                        .unwrap_or_else(|| panic!("no test value for {key}"))
                        .1
                        .clone()
                }
            };
            (var, value)
        })
        .collect()
}

/// Runs a work container's command line as written, with its environment, the store and
/// the cache redirected into `dir`; `drop_flag` leaves one flag and its value out.
fn run_worker(dir: &Dir, c: &Yaml, drop_flag: Option<&str>) -> crate::util::Output {
    let cache = dir.join("cache");
    let mut args = argv(c);
    assert_eq!(args.remove(0), "shush");
    let i = args.iter().position(|a| a == "--cache").unwrap();
    args[i + 1] = cache.to_string_lossy().into_owned();
    if let Some(f) = drop_flag {
        let i = args.iter().position(|a| a == f).unwrap();
        args.drain(i..=i + 1);
    }
    let secrets = [
        (
            "SHUSH_FLEET_STORE",
            dir.join("fleet.db").to_string_lossy().into_owned(),
        ),
        ("SHUSH_FINGERPRINT_KEY", TEST_FINGERPRINT_KEY.to_string()),
        ("GITHUB_TOKEN", ghp(901)),
        ("GITLAB_TOKEN", format!("glpat-{}", &ghp(902)[4..24])),
    ];
    let mut cmd = dir.cmd();
    for (k, v) in container_env(c, &secrets) {
        cmd.env(&k, v);
    }
    cmd.env("GIT_CONFIG_NOSYSTEM", "1").args(&args).run()
}

fn enqueue(dir: &Dir, repo: &str) {
    dir.cmd()
        .args(["fleet", "--store", "fleet.db", "enqueue", repo])
        .run()
        .code(0);
}

#[test]
fn the_workers_command_as_written_audits_the_queue_into_the_store_and_cache() {
    if !have_git() {
        return;
    }
    for (n, _, c) in work_containers() {
        let mut repo = Repo::new();
        repo.write("deploy.env", format!("GITHUB_TOKEN={}\n", ghp(77)));
        repo.commit("a token");
        let url = repo.path.to_string_lossy().into_owned();
        let dir = Dir::new();
        enqueue(&dir, &url);
        // Open findings, recorded: exit 0, as the Job needs.
        run_worker(&dir, &c, None)
            .code(0)
            .stderr_has("1 done, 0 failed")
            .stderr_has("1 open findings");
        let status = dir
            .cmd()
            .args(["fleet", "--store", "fleet.db", "status", "--json"])
            .run();
        status.code(0);
        let rows = status.json();
        assert_eq!(rows[0]["state"], "done", "{n}: {rows}");
        assert_eq!(rows[0]["findings"], 1, "{n}: {rows}");
        let mirrors = std::fs::read_dir(dir.join("cache")).unwrap().count();
        assert_eq!(mirrors, 1, "{n}: the mirror is where --cache points");
        // Without `--exit-code 0` a run with open findings (a new commit's token: a later run
        // audits what is new) exits 1: the flag is what the Job relies on.
        repo.write("more.env", format!("GITHUB_TOKEN={}\n", ghp(78)));
        repo.commit("another token");
        enqueue(&dir, &url);
        run_worker(&dir, &c, Some("--exit-code")).code(1);
        // A repository that cannot be read still fails the run (exit 2: FailJob).
        enqueue(&dir, &dir.join("no-such-repo").to_string_lossy());
        run_worker(&dir, &c, None)
            .code(2)
            .stderr_has("failed: git clone");
    }
}

/// `git credential fill` for `host` with a container's environment; its output and status.
fn credential_fill(c: &Yaml, host: &str, secrets: &[(&str, String)]) -> (String, bool) {
    let mut cmd = Command::new("git");
    git_env(&mut cmd);
    for (k, v) in container_env(c, secrets) {
        cmd.env(k, v);
    }
    let mut child = cmd
        .args(["credential", "fill"])
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_ASKPASS")
        .env_remove("SSH_ASKPASS")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let query = format!("protocol=https\nhost={host}\npath=acme/app.git\n\n");
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), query.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.success(),
    )
}

#[test]
fn the_workers_git_credentials_are_the_tokens_of_the_secret() {
    if !have_git() {
        return;
    }
    let (github, gitlab) = (ghp(903), format!("glpat-{}", &ghp(904)[4..24]));
    let secrets = [
        ("SHUSH_FLEET_STORE", "unused".to_string()),
        ("SHUSH_FINGERPRINT_KEY", "unused".to_string()),
        ("GITHUB_TOKEN", github.clone()),
        ("GITLAB_TOKEN", gitlab.clone()),
    ];
    for (n, _, c) in work_containers() {
        let (out, ok) = credential_fill(&c, "github.com", &secrets);
        assert!(ok, "{n}: no GitHub credentials");
        assert!(out.contains("username=x-access-token\n"), "{n}");
        assert!(
            out.contains(&format!("password={github}\n")),
            "{n}: the GitHub token"
        );
        let (out, ok) = credential_fill(&c, "gitlab.com", &secrets);
        assert!(ok, "{n}: no GitLab credentials");
        assert!(out.contains("username=oauth2\n"), "{n}");
        assert!(
            out.contains(&format!("password={gitlab}\n")),
            "{n}: the GitLab token"
        );
        // Another host gets neither token.
        let (out, ok) = credential_fill(&c, "git.example.com", &secrets);
        assert!(
            !ok && !out.contains(&github) && !out.contains(&gitlab),
            "{n}: {out}"
        );
    }
}

#[test]
fn the_example_secret_fails_closed() {
    let secret = manifest(SECRET);
    let data = secret.at(&["stringData"]);
    for (k, v) in data.map() {
        assert!(
            v.str().unwrap().contains("CHANGE-ME"),
            "{k} is not a placeholder"
        );
    }
    let store = text(data, &["SHUSH_FLEET_STORE"]);
    assert!(store.starts_with("postgres://"), "{store}");
    let host = store
        .rsplit_once('@')
        .unwrap()
        .1
        .split([':', '/'])
        .next()
        .unwrap();
    assert!(
        host.ends_with(".invalid"),
        "a host that never resolves: {host}"
    );
    // Applied unedited, its key stops every worker instead of fingerprinting under a key
    // that this repository publishes.
    let dir = Dir::new();
    dir.create("a.txt", "hello\n");
    dir.cmd()
        .env(
            "SHUSH_FINGERPRINT_KEY",
            text(data, &["SHUSH_FINGERPRINT_KEY"]),
        )
        .args(["scan", "--no-progress", "a.txt"])
        .run()
        .code(2)
        .stderr_has("at least 16 bytes");
}
