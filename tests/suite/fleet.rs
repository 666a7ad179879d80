//! `shush fleet`: repositories served by a real `git daemon` on 127.0.0.1 (the `git://`
//! protocol) and as local paths, audited by workers that share one store, one of them
//! killed in the middle of a repository.

use crate::util::git::{Repo, git_env, have_git};
use crate::util::{Dir, ghp};
use serde_json::Value;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `git daemon` serving every repository under a directory; killed when dropped.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server on a port of its own that accepts and never answers (bound at once, so that
/// no other test takes its port in between), and the port.
fn mute_server() -> (TcpListener, u16) {
    let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

/// Starts `git daemon` for `base` on `port` and waits until it accepts connections; `None`
/// (with a message) where this git has no daemon.
fn daemon(base: &Path, port: u16) -> Option<Daemon> {
    let mut cmd = Command::new("git");
    git_env(&mut cmd);
    let child = cmd
        .args([
            "daemon",
            "--reuseaddr",
            "--export-all",
            "--listen=127.0.0.1",
        ])
        .arg(format!("--port={port}"))
        .arg(format!("--base-path={}", base.display()))
        .arg(base)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let Ok(child) = child else {
        eprintln!("skipped: `git daemon` cannot run here (Debian package: git)");
        return None;
    };
    let d = Daemon(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "git daemon did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(d)
}

/// A repository at `dir/name` with `files`, committed.
fn repo_at(dir: &Path, name: &str, files: &[(&str, String)]) -> std::path::PathBuf {
    let mut r = Repo::new();
    for (path, content) in files {
        r.write(path, content);
    }
    r.commit("init");
    let dest = dir.join(name);
    let out = Command::new("git")
        .args(["clone", "-q", "--bare"])
        .arg(&r.path)
        .arg(&dest)
        .output()
        .unwrap();
    assert!(out.status.success());
    dest
}

/// A bare repository at `dir/name`, many times the others' size, written with `git
/// fast-import`: `commits` commits of `files` small files each, then one with `extra`.
fn big_repo_at(
    dir: &Path,
    name: &str,
    (commits, files): (usize, usize),
    extra: &[(&str, Vec<u8>)],
) -> std::path::PathBuf {
    let dest = dir.join(name);
    let mut cmd = Command::new("git");
    git_env(&mut cmd);
    assert!(
        cmd.arg("init")
            .arg("-q")
            .arg("--bare")
            .arg(&dest)
            .status()
            .unwrap()
            .success()
    );
    let mut stream = Vec::new();
    let commit = |stream: &mut Vec<u8>, n: usize, entries: &[(String, Vec<u8>)]| {
        let msg = format!("commit {n}");
        stream.extend(format!(
            "commit refs/heads/main\ncommitter Ada <ada@example.com> {} +0000\ndata {}\n{msg}\n",
            1_600_000_000 + n * 60,
            msg.len()
        ).as_bytes());
        for (path, content) in entries {
            stream.extend(format!("M 100644 inline {path}\ndata {}\n", content.len()).as_bytes());
            stream.extend(content);
            stream.push(b'\n');
        }
    };
    for c in 0..commits {
        let entries: Vec<(String, Vec<u8>)> = (0..files)
            .map(|f| {
                let text = format!(
                    "module {c}/{f}: nothing secret here, line {}\n",
                    c * files + f
                );
                (format!("src/m{c}/f{f}.txt"), text.into_bytes())
            })
            .collect();
        commit(&mut stream, c, &entries);
    }
    let extra: Vec<(String, Vec<u8>)> = extra
        .iter()
        .map(|(p, c)| (p.to_string(), c.clone()))
        .collect();
    commit(&mut stream, commits, &extra);
    let mut cmd = Command::new("git");
    git_env(&mut cmd);
    let mut child = cmd
        .arg("-C")
        .arg(&dest)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&stream).unwrap();
    assert!(child.wait().unwrap().success());
    dest
}

fn fleet(dir: &Dir, args: &[&str]) -> crate::util::Output {
    let mut all = vec!["fleet", "--store", "fleet.db"];
    all.extend_from_slice(args);
    dir.cmd().args(all).run()
}

fn status(dir: &Dir) -> Vec<Value> {
    status_of(dir, "fleet.db")
}

/// The secret ids and finding count of a one-process audit of `repo`.
fn single_audit(repo: &Path) -> (std::collections::BTreeSet<String>, usize) {
    let out = crate::util::shush()
        .args(["git", "--no-config", "-f", "jsonl"])
        .arg(repo)
        .output()
        .unwrap();
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids = lines
        .iter()
        .map(|f| f["secret_id"].as_str().unwrap().to_string())
        .collect();
    (ids, lines.len())
}

#[test]
fn workers_audit_git_daemon_and_local_repositories_into_one_store() {
    if !have_git() {
        return;
    }
    let dir = Dir::new();
    let srv = dir.create_dir("srv");
    let (t1, t2, t3) = (ghp(31), ghp(32), ghp(33));
    let origin = repo_at(
        &srv,
        "origin.git",
        &[("deploy.env", format!("GITHUB_TOKEN={t1}\n"))],
    );
    // A fork: the origin's history plus a commit of its own.
    let fork = repo_at(
        &srv,
        "fork.git",
        &[
            ("deploy.env", format!("GITHUB_TOKEN={t1}\n")),
            ("ci.env", format!("TOKEN={t2}\n")),
        ],
    );
    let other = repo_at(
        dir.path(),
        "other.git",
        &[("app.env", format!("GH={t3}\n"))],
    );
    let port = free_port();
    let Some(_daemon) = daemon(&srv, port) else {
        return;
    };
    let list = format!(
        "# the organisation\ngit://127.0.0.1:{port}/origin.git\ngit://127.0.0.1:{port}/fork.git\n{}\ngit://127.0.0.1:{port}/missing.git\n",
        other.display()
    );
    dir.create("repos.txt", list);
    fleet(&dir, &["enqueue", "-f", "repos.txt"])
        .code(0)
        .stderr_has("4 of 4 repositories queued");
    let cache = dir.join("cache");
    let work = fleet(
        &dir,
        &["work", "--workers", "2", "--cache", cache.to_str().unwrap()],
    );
    // A repository failed: the run says so and fails closed.
    work.code(2).stderr_has("missing.git: failed: git clone");
    let rows = status(&dir);
    let state = |url_end: &str| {
        let r = rows
            .iter()
            .find(|r| r["url"].as_str().unwrap().ends_with(url_end))
            .unwrap();
        (r["state"].as_str().unwrap().to_string(), r["error"].clone())
    };
    for done in ["origin.git", "fork.git", "other.git"] {
        assert_eq!(state(done).0, "done", "{rows:#?}");
    }
    let (failed, error) = state("missing.git");
    assert_eq!(failed, "failed");
    assert!(error.as_str().unwrap().contains("not exported"), "{error}");
    let text = fleet(&dir, &["status"]);
    assert!(
        text.stdout
            .starts_with("4 repositories: 3 done, 0 running, 0 queued, 1 failed"),
        "{}",
        text.stdout
    );

    // The union of the fleet's findings is what one process finds repository by repository;
    // the token the fork shares with its origin is one secret with a place in each.
    let mut expected = std::collections::BTreeSet::new();
    let mut locations = 0;
    for r in [&origin, &fork, &other] {
        let (ids, n) = single_audit(r);
        expected.extend(ids);
        locations += n;
    }
    let listed = dir
        .cmd()
        .args(["triage", "--store", "fleet.db", "list", "--json"])
        .run();
    listed.code(0);
    let secrets: Vec<Value> = serde_json::from_str(&listed.stdout).unwrap();
    let got: std::collections::BTreeSet<String> = secrets
        .iter()
        .map(|s| s["secret_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, expected);
    let places: u64 = secrets
        .iter()
        .map(|s| s["locations"].as_u64().unwrap())
        .sum();
    assert_eq!(places as usize, locations);
    let shared = secrets
        .iter()
        .find(|s| s["locations"] == 2)
        .expect("the shared token");
    assert_eq!(shared["present"], 2);

    // The next night: nothing new is queued twice, the mirrors are fetched, not cloned.
    fleet(&dir, &["enqueue", "-f", "repos.txt"])
        .code(0)
        .stderr_has("4 of 4 repositories queued");
    let again = fleet(&dir, &["work", "--cache", cache.to_str().unwrap()]);
    again.code(2);
    let mirrors = std::fs::read_dir(&cache).unwrap().count();
    assert_eq!(mirrors, 3, "one mirror per repository that exists");
}

#[test]
fn a_killed_workers_repository_is_finished_by_another() {
    if !have_git() {
        return;
    }
    let dir = Dir::new();
    let srv = dir.create_dir("srv");
    let tok = ghp(41);
    repo_at(&srv, "slow.git", &[("a.env", format!("T={tok}\n"))]);
    // A server that accepts and never answers: the first worker hangs in its clone.
    let (mute, port) = mute_server();
    fleet(
        &dir,
        &["enqueue", &format!("git://127.0.0.1:{port}/slow.git")],
    )
    .code(0);
    let cache = dir.join("cache");
    let mut first = spawn_worker(&dir, "fleet.db", &cache, "3");
    holder_of(&dir, "fleet.db", "/slow.git");
    first.kill().unwrap();
    first.wait().unwrap();
    drop(mute);
    // The repository is served for real now; another worker waits out the dead one's lease
    // and finishes it.
    let Some(_daemon) = daemon(&srv, port) else {
        return;
    };
    let second = fleet(
        &dir,
        &["work", "--lease", "3", "--cache", cache.to_str().unwrap()],
    );
    second
        .code(1)
        .stderr_has("slow.git: full audit: 1 blobs scanned, 0 scanned before, 1 findings (1 open)");
    let rows = status(&dir);
    assert_eq!(rows[0]["state"], "done", "{rows:#?}");
    assert_eq!(rows[0]["attempts"], 2);
    assert_ne!(rows[0]["worker"].as_str(), None);
}

/// Starts `shush fleet work` as a process of its own on `store`.
fn spawn_worker(dir: &Dir, store: &str, cache: &Path, lease: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_shush"))
        .current_dir(dir.path())
        .env(
            shush::fingerprint::KEY_ENV,
            crate::util::TEST_FINGERPRINT_KEY,
        )
        .args([
            "fleet",
            "--store",
            store,
            "work",
            "--no-config",
            "--lease",
            lease,
            // The big repository's 2 MiB blob is left out with a warning.
            "--max-blob-size",
            "1M",
            "--skip-unreadable",
        ])
        .arg("--cache")
        .arg(cache)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn status_of(dir: &Dir, store: &str) -> Vec<Value> {
    let out = dir
        .cmd()
        .args(["fleet", "--store", store, "status", "--json"])
        .run();
    out.code(0);
    out.json().as_array().unwrap().clone()
}

/// Waits until a worker claims the repository whose URL ends with `url_end`; its name.
fn holder_of(dir: &Dir, store: &str, url_end: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let rows = status_of(dir, store);
        let row = rows
            .iter()
            .find(|r| r["url"].as_str().unwrap().ends_with(url_end))
            .unwrap_or_else(|| panic!("{url_end} is not queued: {rows:#?}"));
        if row["state"] == "running" {
            return row["worker"].as_str().unwrap().to_string();
        }
        assert!(Instant::now() < deadline, "nobody claimed {url_end}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Four worker processes on one PostgreSQL queue: twelve repositories (four origins, four
/// forks of them, one of its own, a big one of 20,000 blobs and one over the size cap, one
/// that does not exist, one served by a server that hangs until its worker is killed). The
/// union of what they record equals what one process finds repository by repository, with
/// no duplicate; each repository's blobs are scanned or taken from the ledger, none left
/// out; the broken repository is failed with its error; the dead worker's repository is
/// finished by another.
#[cfg(feature = "postgres")]
#[test]
fn four_worker_processes_share_one_postgres_queue() {
    if !have_git() {
        return;
    }
    let Some(url) = crate::util::postgres_db("fleet") else {
        return;
    };
    let dir = Dir::new();
    let srv = dir.create_dir("srv");
    let mut repos = Vec::new();
    for i in 0..4u64 {
        let origin = format!("origin{i}.git");
        let base = format!("T{i}={}\n", ghp(100 + i));
        repos.push(repo_at(&srv, &origin, &[("a.env", base.clone())]));
        let fork_extra = format!("F{i}={}\n", ghp(200 + i));
        repos.push(repo_at(
            &srv,
            &format!("fork{i}.git"),
            &[("a.env", base), ("b.env", fork_extra)],
        ));
    }
    repos.push(repo_at(
        dir.path(),
        "own0.git",
        &[("c.env", format!("O={}\n", ghp(300)))],
    ));
    // Twenty thousand blobs, one of them over the workers' --max-blob-size.
    repos.push(big_repo_at(
        dir.path(),
        "big.git",
        (200, 100),
        &[
            ("c.env", format!("O={}\n", ghp(301)).into_bytes()),
            ("assets/blob.bin", vec![b'x'; 2 << 20]),
        ],
    ));
    let slow = repo_at(&srv, "slow.git", &[("d.env", format!("S={}\n", ghp(400)))]);
    let daemon_port = free_port();
    let Some(_daemon) = daemon(&srv, daemon_port) else {
        return;
    };
    let (mute, mute_port) = mute_server();
    let mut urls: Vec<String> = Vec::new();
    urls.push(format!("git://127.0.0.1:{mute_port}/slow.git"));
    for r in &repos {
        let name = r.file_name().unwrap().to_str().unwrap();
        if r.starts_with(&srv) {
            urls.push(format!("git://127.0.0.1:{daemon_port}/{name}"));
        } else {
            urls.push(r.display().to_string());
        }
    }
    urls.push(format!("git://127.0.0.1:{daemon_port}/missing.git"));
    assert_eq!(urls.len(), 12);
    dir.create("repos.txt", urls.join("\n"));
    dir.cmd()
        .args(["fleet", "--store", &url, "enqueue", "-f", "repos.txt"])
        .run()
        .code(0);

    let cache = dir.join("cache");
    let mut workers: Vec<Child> = (0..4)
        .map(|_| spawn_worker(&dir, &url, &cache, "3"))
        .collect();
    // Whoever claims the hanging repository is killed mid-clone.
    let holder = holder_of(&dir, &url, "/slow.git");
    let pid: u32 = holder.split(':').nth(1).unwrap().parse().unwrap();
    let victim = workers
        .iter()
        .position(|w| w.id() == pid)
        .expect("the holder is one of ours");
    let mut dead = workers.remove(victim);
    dead.kill().unwrap();
    dead.wait().unwrap();
    drop(mute);
    // The repository is served for real from now on; a live worker takes it after the lease.
    let Some(_slow_daemon) = daemon(slow.parent().unwrap(), mute_port) else {
        return;
    };
    let mut codes = Vec::new();
    let mut said = String::new();
    for w in workers {
        let out = w.wait_with_output().unwrap();
        codes.push(out.status.code());
        said.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    assert!(
        said.contains("/big.git: 1 warning, the first: ") && said.contains("--max-blob-size"),
        "{said}"
    );
    // Each live worker exits when the queue is empty; any that met the broken repository
    // exits 2, the others 1 (open findings) or 0.
    assert!(codes.iter().all(|c| matches!(c, Some(0..=2))), "{codes:?}");
    assert!(
        codes.contains(&Some(2)),
        "the broken repository failed no worker: {codes:?}"
    );

    let rows = status_of(&dir, &url);
    let by_end = |end: &str| {
        rows.iter()
            .find(|r| r["url"].as_str().unwrap().ends_with(end))
            .unwrap()
            .clone()
    };
    let slow_row = by_end("/slow.git");
    assert_eq!(slow_row["state"], "done", "{slow_row}");
    assert_eq!(slow_row["attempts"], 2);
    assert_ne!(slow_row["worker"].as_str().unwrap(), holder);
    let missing = by_end("/missing.git");
    assert_eq!(missing["state"], "failed");
    assert!(
        missing["error"].as_str().unwrap().contains("not exported"),
        "{missing}"
    );
    assert_eq!(
        rows.iter().filter(|r| r["state"] == "done").count(),
        11,
        "{rows:#?}"
    );
    // Every blob of every repository was scanned by its worker or taken from the ledger
    // (scanned in another repository, before or at the same moment): none left out, none
    // counted twice.
    let mut union = std::collections::BTreeSet::new();
    let mut scanned = 0;
    for r in repos.iter().chain([&slow]) {
        let name = format!("/{}", r.file_name().unwrap().to_str().unwrap());
        let row = by_end(&name);
        // The workers leave out blobs over --max-blob-size 1M.
        let blobs = blob_ids(r, 1 << 20);
        let (own, known) = (
            row["blobs"].as_u64().unwrap(),
            row["known_blobs"].as_u64().unwrap(),
        );
        assert_eq!(own + known, blobs.len() as u64, "{row}");
        scanned += own;
        union.extend(blobs);
    }
    // And each blob was scanned once across the fleet, forks and origins audited at the
    // same moment included.
    assert_eq!(scanned, union.len() as u64);

    let mut expected = std::collections::BTreeSet::new();
    let mut places = 0;
    for r in repos.iter().chain([&slow]) {
        let (ids, n) = single_audit(r);
        expected.extend(ids);
        places += n;
    }
    let listed = dir
        .cmd()
        .args(["triage", "--store", &url, "list", "--json"])
        .run();
    listed.code(0);
    let secrets: Vec<Value> = serde_json::from_str(&listed.stdout).unwrap();
    let ids: Vec<String> = secrets
        .iter()
        .map(|s| s["secret_id"].as_str().unwrap().to_string())
        .collect();
    let unique: std::collections::BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(ids.len(), unique.len(), "a secret recorded twice");
    assert_eq!(unique, expected);
    let recorded: u64 = secrets
        .iter()
        .map(|s| s["locations"].as_u64().unwrap())
        .sum();
    assert_eq!(
        recorded as usize, places,
        "places recorded twice or missing"
    );
}

/// The ids of the blobs of at most `max` bytes in the object database of the repository
/// at `path`.
fn blob_ids(path: &Path, max: u64) -> std::collections::BTreeSet<String> {
    let mut cmd = Command::new("git");
    git_env(&mut cmd);
    let out = cmd
        .arg("-C")
        .arg(path)
        .args([
            "cat-file",
            "--batch-all-objects",
            "--batch-check=%(objecttype) %(objectname) %(objectsize)",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("blob "))
        .filter_map(|l| l.split_once(' '))
        .filter(|(_, size)| size.parse::<u64>().unwrap() <= max)
        .map(|(id, _)| id.to_string())
        .collect()
}

/// The places one process records auditing `repo` with `config`: (secret id, path, commit).
fn single_places(repo: &Path, config: &Path) -> Vec<(String, String, String)> {
    let out = crate::util::shush()
        .args(["git", "-f", "jsonl", "--config"])
        .arg(config)
        .arg(repo)
        .output()
        .unwrap();
    let mut places: Vec<(String, String, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let f: Value = serde_json::from_str(l).unwrap();
            let text = |v: &Value| v.as_str().unwrap().to_string();
            (
                text(&f["secret_id"]),
                text(&f["path"]),
                text(&f["source"]["commit"]),
            )
        })
        .collect();
    places.sort();
    places
}

/// The places the fleet's store holds for the repository enqueued as `url`: (secret id,
/// path, commit).
fn stored_places(dir: &Dir, url: &str) -> Vec<(String, String, String)> {
    let listed = dir
        .cmd()
        .args(["triage", "--store", "fleet.db", "list", "--json"])
        .run();
    let mut places = Vec::new();
    for secret in listed.json().as_array().unwrap() {
        let id = secret["secret_id"].as_str().unwrap();
        let shown = dir
            .cmd()
            .args(["triage", "--store", "fleet.db", "show", "--json", id])
            .run();
        for p in shown.json()["places"].as_array().unwrap() {
            if p["scope"] == format!("fleet:{url}").as_str() {
                let field = |k: &str| p[k].as_str().unwrap_or_default().to_string();
                places.push((id.to_string(), field("path"), field("commit")));
            }
        }
    }
    places.sort();
    places
}

/// Each blob once across the fleet: after their origin, a fork and a vendored copy scan only
/// the blobs the repositories before them lacked and take the rest from the store's ledger,
/// yet record exactly what a one-process audit of each finds: the shared secrets at the
/// fork's own commits, and none in the vendored copy, whose path the config allowlists (a
/// known blob with findings is read again at each place, so path allowlists still apply).
#[test]
fn a_fork_scans_only_the_blobs_its_origin_lacked() {
    if !have_git() {
        return;
    }
    let dir = Dir::new();
    let config = dir.create(
        "shush.toml",
        "[extend]\nuseDefault = true\n[allowlist]\npaths = ['''(^|/)third_party/''']\n",
    );
    let shared = format!("A={}\n", ghp(71));
    let mut origin = Repo::new();
    origin.write("a.env", &shared);
    origin.write("README", "hello\n");
    origin.commit("first");
    origin.write("b.env", format!("B={}\n", ghp(72)));
    origin.commit("second");
    let mut fork = Repo::new();
    fork.git(&["pull", "-q", origin.path.to_str().unwrap(), "main"]);
    fork.write("f.env", format!("F={}\n", ghp(73)));
    fork.commit("the fork's own");
    let mut vendored = Repo::new();
    vendored.write("third_party/a.env", &shared);
    vendored.write("main.c", "int main(void) { return 0; }\n");
    vendored.commit("vendor a.env");

    let urls: Vec<String> = [&origin, &fork, &vendored]
        .iter()
        .map(|r| r.path.display().to_string())
        .collect();
    let mut args = vec!["enqueue"];
    args.extend(urls.iter().map(String::as_str));
    fleet(&dir, &args).code(0);
    let cache = dir.join("cache");
    fleet(
        &dir,
        &[
            "work",
            "--config",
            "shush.toml",
            "--cache",
            cache.to_str().unwrap(),
        ],
    )
    .code(1);

    let (o, f, v) = (
        blob_ids(&origin.path, u64::MAX),
        blob_ids(&fork.path, u64::MAX),
        blob_ids(&vendored.path, u64::MAX),
    );
    let before_vendored: std::collections::BTreeSet<String> = o.union(&f).cloned().collect();
    let expected = [
        (o.len(), 0),
        (f.difference(&o).count(), f.intersection(&o).count()),
        (
            v.difference(&before_vendored).count(),
            v.intersection(&before_vendored).count(),
        ),
    ];
    assert_eq!(expected[1], (1, o.len()), "the fork adds one blob");
    assert_eq!(expected[2].1, 1, "the vendored copy shares a.env");
    let rows = status(&dir);
    for (row, (scanned, known)) in rows.iter().zip(expected) {
        assert_eq!(row["state"], "done", "{row}");
        assert_eq!(row["blobs"], scanned as u64, "{row}");
        assert_eq!(row["known_blobs"], known as u64, "{row}");
    }
    for (url, repo) in urls.iter().zip([&origin, &fork, &vendored]) {
        assert_eq!(
            stored_places(&dir, url),
            single_places(&repo.path, &config),
            "{url}"
        );
    }
    assert_eq!(stored_places(&dir, &urls[1]).len(), 3);
    assert!(stored_places(&dir, &urls[2]).is_empty());
    // The shared secret's places are shown under each repository.
    let origin_places = stored_places(&dir, &urls[0]);
    let shared_id = &origin_places.iter().find(|p| p.1 == "a.env").unwrap().0;
    let shown = dir
        .cmd()
        .args(["triage", "--store", "fleet.db", "show", shared_id])
        .run();
    shown.code(0);
    for url in &urls[..2] {
        let block = format!("\n    fleet:{url}:\n      a.env:1:");
        assert!(shown.stdout.contains(&block), "{}", shown.stdout);
    }
}

/// Two worker processes start at the same moment on a big repository and its fork: each
/// blob they share is scanned by one of them (the other waits for its verdict), and each
/// records what a one-process audit of its repository finds.
#[test]
fn an_origin_and_its_fork_audited_at_once_scan_each_blob_once() {
    if !have_git() {
        return;
    }
    let dir = Dir::new();
    let origin = big_repo_at(
        dir.path(),
        "origin.git",
        (100, 100),
        &[("a.env", format!("A={}\n", ghp(81)).into_bytes())],
    );
    let mut fork = Repo::new();
    fork.git(&["pull", "-q", origin.to_str().unwrap(), "main"]);
    fork.write("f.env", format!("F={}\n", ghp(82)));
    fork.commit("the fork's own");
    let urls = [
        origin.display().to_string(),
        fork.path.display().to_string(),
    ];
    fleet(&dir, &["enqueue", &urls[0], &urls[1]]).code(0);
    let cache = dir.join("cache");
    let workers: Vec<Child> = (0..2)
        .map(|_| spawn_worker(&dir, "fleet.db", &cache, "30"))
        .collect();
    let mut said = String::new();
    for w in workers {
        let out = w.wait_with_output().unwrap();
        said.push_str(&String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(1), "{said}");
    }
    let (o, f) = (blob_ids(&origin, u64::MAX), blob_ids(&fork.path, u64::MAX));
    let rows = status(&dir);
    let count = |key: &str| rows.iter().map(|r| r[key].as_u64().unwrap()).sum::<u64>();
    assert_eq!(
        count("blobs"),
        o.union(&f).count() as u64,
        "{rows:#?}\n{said}"
    );
    assert_eq!(
        count("known_blobs"),
        o.intersection(&f).count() as u64,
        "{rows:#?}"
    );
    let config = dir.create("empty.toml", "[extend]\nuseDefault = true\n");
    for (url, path) in urls.iter().zip([&origin, &fork.path]) {
        assert_eq!(
            stored_places(&dir, url),
            single_places(path, &config),
            "{url}"
        );
    }
}

/// A nightly run audits only what is new since the last completed audit (and scans only
/// the blobs never scanned before); `--full` audits the whole history again.
#[test]
fn a_later_run_audits_only_the_new_commits() {
    if !have_git() {
        return;
    }
    let dir = Dir::new();
    let mut r = Repo::new();
    r.write("a.env", format!("A={}\n", ghp(51)));
    r.commit("first");
    let url = r.path.display().to_string();
    let cache = dir.join("cache");
    let cache = cache.to_str().unwrap();
    fleet(&dir, &["enqueue", &url]).code(0);
    fleet(&dir, &["work", "--cache", cache])
        .code(1)
        .stderr_has(": full audit: 1 blobs scanned, 0 scanned before, 1 findings (1 open)");
    r.write("b.env", format!("B={}\n", ghp(52)));
    r.commit("second");
    fleet(&dir, &["enqueue", &url]).code(0);
    fleet(&dir, &["work", "--cache", cache]).code(1).stderr_has(
        ": new since the last audit: 1 blobs scanned, 0 scanned before, 1 findings (1 open)",
    );
    // Nothing new: nothing audited, nothing open that is new.
    fleet(&dir, &["enqueue", &url]).code(0);
    fleet(&dir, &["work", "--cache", cache]).code(0).stderr_has(
        ": new since the last audit: 0 blobs scanned, 0 scanned before, 0 findings (0 open)",
    );
    // A copy of a file scanned before: its blob is known, so nothing is scanned, and the
    // copy is still found at its new place.
    r.write("copy.env", format!("A={}\n", ghp(51)));
    r.commit("third");
    fleet(&dir, &["enqueue", &url]).code(0);
    fleet(&dir, &["work", "--cache", cache]).code(1).stderr_has(
        ": new since the last audit: 0 blobs scanned, 1 scanned before, 1 findings (1 open)",
    );
    // --full scans every blob again (and, as `shush git` does, reports each blob where
    // it was first introduced).
    fleet(&dir, &["enqueue", &url]).code(0);
    fleet(&dir, &["work", "--cache", cache, "--full"])
        .code(1)
        .stderr_has(": full audit: 2 blobs scanned, 0 scanned before, 2 findings (2 open)");
    // Other rules (here a deeper decoding) cannot use those verdicts: they are dropped.
    fleet(&dir, &["enqueue", &url]).code(0);
    fleet(&dir, &["work", "--cache", cache, "--decode-depth", "2"])
        .code(0)
        .stderr_has("shush: fleet: 2 blobs scanned under other rules dropped from the ledger");
    let listed = dir
        .cmd()
        .args(["triage", "--store", "fleet.db", "list", "--json"])
        .run();
    let secrets: Vec<Value> = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(secrets.len(), 2);
}

/// A repository whose worker dies every time (one that exhausts memory, say) is failed after
/// `--max-attempts` claims instead of taking down every worker in turn.
#[test]
fn a_repository_that_kills_its_workers_is_given_up() {
    if !have_git() {
        return;
    }
    let dir = Dir::new();
    let (mute, port) = mute_server();
    fleet(
        &dir,
        &["enqueue", &format!("git://127.0.0.1:{port}/doomed.git")],
    )
    .code(0);
    let cache = dir.join("cache");
    let mut first = spawn_worker(&dir, "fleet.db", &cache, "3");
    holder_of(&dir, "fleet.db", "/doomed.git");
    first.kill().unwrap();
    first.wait().unwrap();
    drop(mute);
    let second = fleet(
        &dir,
        &[
            "work",
            "--no-config",
            "--lease",
            "3",
            "--max-attempts",
            "1",
            "--cache",
            cache.to_str().unwrap(),
        ],
    );
    second
        .code(2)
        .stderr_has("gave up 1 repository whose worker died 1 times");
    let rows = status(&dir);
    assert_eq!(rows[0]["state"], "failed", "{rows:#?}");
    assert!(
        rows[0]["error"]
            .as_str()
            .unwrap()
            .starts_with("gave up after 1 attempts"),
        "{rows:#?}"
    );
}
