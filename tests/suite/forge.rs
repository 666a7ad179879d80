//! `shush fleet enqueue --github-org | --github-user | --gitlab-group`: the real binary
//! against a stub of the GitHub and GitLab REST APIs on 127.0.0.1 that answers a scripted
//! sequence in their documented shapes (JSON pages, `Link` and `x-next-page` pagination,
//! rate-limit headers, 401/403/404 errors) and records every request it gets.

use crate::util::{BASE62, Dir, Rng, TestCommand, ghp};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// One scripted answer.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    /// An answer with a JSON body.
    fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            headers: vec![(
                "Content-Type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body: body.to_string().into_bytes(),
        }
    }

    /// The same answer with one more header.
    fn header(mut self, name: &str, value: impl ToString) -> Reply {
        self.headers.push((name.into(), value.to_string()));
        self
    }
}

/// One request the stub received.
#[derive(Debug, Clone)]
struct Request {
    /// The request target: path and query.
    target: String,
    /// Headers, names lower-case.
    headers: HashMap<String, String>,
    /// When it arrived.
    at: Instant,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// An HTTP server on 127.0.0.1 that answers each request (one per connection) with the next
/// scripted reply, or a 500 when the script is spent; stopped when dropped.
struct Stub {
    addr: SocketAddr,
    replies: Arc<Mutex<VecDeque<Reply>>>,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
}

impl Stub {
    fn start() -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let stub = Stub {
            addr: listener.local_addr().unwrap(),
            replies: Arc::default(),
            requests: Arc::default(),
            stop: Arc::default(),
        };
        let (replies, requests, stop) = (
            stub.replies.clone(),
            stub.requests.clone(),
            stub.stop.clone(),
        );
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                if let Ok(conn) = conn {
                    serve(conn, &replies, &requests);
                }
            }
        });
        stub
    }

    /// `http://127.0.0.1:PORT`.
    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Replaces the script, and forgets the requests received so far.
    fn script(&self, replies: Vec<Reply>) {
        *self.replies.lock().unwrap() = replies.into();
        self.requests.lock().unwrap().clear();
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// Replies scripted and not asked for.
    fn left(&self) -> usize {
        self.replies.lock().unwrap().len()
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

/// Reads one request's head, records it, writes the next reply and closes.
fn serve(mut conn: TcpStream, replies: &Mutex<VecDeque<Reply>>, requests: &Mutex<Vec<Request>>) {
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 65536 {
        match conn.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.split("\r\n");
    let target = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or_default()
        .to_string();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    requests.lock().unwrap().push(Request {
        target,
        headers,
        at: Instant::now(),
    });
    let reply = replies.lock().unwrap().pop_front().unwrap_or_else(|| {
        Reply::json(
            500,
            json!({"message": "the stub's script has no more replies"}),
        )
    });
    let mut out = format!("HTTP/1.1 {} Stub\r\n", reply.status);
    for (k, v) in &reply.headers {
        out += &format!("{k}: {v}\r\n");
    }
    out += &format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        reply.body.len()
    );
    // A client that stops reading (a body over its limit) is not the stub's failure.
    let _ = conn.write_all(out.as_bytes());
    let _ = conn.write_all(&reply.body);
}

/// Now, in UTC epoch seconds.
fn epoch() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A repository as GitHub's REST API lists it (the fields shush reads, and a few more).
fn gh_repo(owner: &str, name: &str, fork: bool, archived: bool) -> Value {
    json!({
        "id": name.len() * 1000 + usize::from(fork) * 10 + usize::from(archived),
        "name": name,
        "full_name": format!("{owner}/{name}"),
        "private": false,
        "owner": {"login": owner, "type": "Organization"},
        "html_url": format!("https://github.example/{owner}/{name}"),
        "fork": fork,
        "archived": archived,
        "clone_url": format!("https://github.example/{owner}/{name}.git"),
        "ssh_url": format!("git@github.example:{owner}/{name}.git"),
        "default_branch": "main",
    })
}

/// A project as GitLab's REST API lists it.
fn gl_project(path: &str, fork: bool) -> Value {
    let mut p = json!({
        "id": path.len(),
        "path_with_namespace": path,
        "archived": false,
        "http_url_to_repo": format!("https://gitlab.example/{path}.git"),
        "ssh_url_to_repo": format!("git@gitlab.example:{path}.git"),
        "web_url": format!("https://gitlab.example/{path}"),
    });
    if fork {
        p["forked_from_project"] = json!({"id": 1, "path_with_namespace": "upstream/app"});
    }
    p
}

/// `shush fleet --store fleet.db ARGS…` in `dir`, with no token and no proxy from this
/// machine's environment.
fn fleet(dir: &Dir, args: &[&str]) -> TestCommand {
    let mut c = dir.cmd();
    c.args(["fleet", "--store", "fleet.db"]).args(args);
    for var in [
        "GH_TOKEN",
        "GITHUB_TOKEN",
        "GITLAB_TOKEN",
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        c.env_remove(var);
    }
    c
}

/// The URLs `fleet status --json` lists.
fn queued(dir: &Dir) -> BTreeSet<String> {
    queue_order(dir).into_iter().collect()
}

/// The queue's URLs in the order workers claim them.
fn queue_order(dir: &Dir) -> Vec<String> {
    let out = fleet(dir, &["status", "--json"]).run();
    out.code(0);
    out.json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["url"].as_str().unwrap().to_string())
        .collect()
}

fn set(urls: &[&str]) -> BTreeSet<String> {
    urls.iter().map(|u| u.to_string()).collect()
}

/// Asserts that `secret` appears in neither stream of `out`.
#[track_caller]
fn no_token(out: &crate::util::Output, secret: &str) {
    assert!(
        !out.stdout.contains(secret) && !out.stderr.contains(secret),
        "the token leaked:\n{}\n{}",
        out.stdout,
        out.stderr
    );
}

#[test]
fn github_org_pages_are_followed_through_a_rate_limit_and_forks_and_archived_left_out() {
    let stub = Stub::start();
    let b = stub.base();
    let token = ghp(71);
    let page = |n: u32| format!("{b}/organizations/9/repos?per_page=100&type=all&page={n}");
    let link = |prev: Option<u32>, next: Option<u32>| {
        let mut l = Vec::new();
        if let Some(n) = next {
            l.push(format!(r#"<{}>; rel="next""#, page(n)));
            l.push(format!(r#"<{}>; rel="last""#, page(3)));
        }
        if let Some(p) = prev {
            l.push(format!(r#"<{}>; rel="prev""#, page(p)));
            l.push(format!(r#"<{}>; rel="first""#, page(1)));
        }
        l.join(", ")
    };
    stub.script(vec![
        Reply::json(
            200,
            json!([
                gh_repo("acme", "app", false, false),
                gh_repo("acme", "upstream-fork", true, false)
            ]),
        )
        .header("Link", link(None, Some(2)))
        .header("x-ratelimit-remaining", "1"),
        // The primary rate limit, spent: no request until the reset, 2 s ahead.
        Reply::json(
            403,
            json!({
                "message": "API rate limit exceeded for user ID 1.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
            }),
        )
        .header("x-ratelimit-limit", "5000")
        .header("x-ratelimit-remaining", "0")
        .header("x-ratelimit-used", "5000")
        .header("x-ratelimit-reset", epoch() + 2)
        .header("x-ratelimit-resource", "core"),
        Reply::json(
            200,
            json!([
                gh_repo("acme", "lib", false, false),
                gh_repo("acme", "old", false, true)
            ]),
        )
        .header("Link", link(Some(1), Some(3))),
        Reply::json(200, json!([gh_repo("acme", "tools", false, false)]))
            .header("Link", link(Some(2), None)),
    ]);
    let dir = Dir::new();
    let out = fleet(&dir, &["enqueue", "--github-org", "acme", "--api-url", &b])
        .env("GITHUB_TOKEN", &token)
        .run();
    out.code(0)
        .stderr_has("GitHub rate limit: waiting")
        .stderr_has("GitHub organisation `acme`: 3 repositories (left out: 1 fork, 1 archived; --include-forks, --include-archived keep them)")
        .stderr_has("3 of 3 repositories queued");
    no_token(&out, &token);
    assert_eq!(stub.left(), 0);

    let reqs = stub.requests();
    let targets: Vec<&str> = reqs.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(
        targets,
        [
            "/orgs/acme/repos?per_page=100&type=all&sort=created&direction=asc",
            "/organizations/9/repos?per_page=100&type=all&page=2",
            "/organizations/9/repos?per_page=100&type=all&page=2",
            "/organizations/9/repos?per_page=100&type=all&page=3",
        ]
    );
    for r in &reqs {
        assert_eq!(r.header("authorization"), Some(&*format!("Bearer {token}")));
        assert_eq!(r.header("accept"), Some("application/vnd.github+json"));
        assert_eq!(r.header("x-github-api-version"), Some("2022-11-28"));
        assert!(
            r.header("user-agent").unwrap().starts_with("shush/"),
            "{r:?}"
        );
    }
    let waited = reqs[2].at - reqs[1].at;
    assert!(waited >= Duration::from_secs(1), "retried after {waited:?}");

    let status = fleet(&dir, &["status", "--json"]).run();
    no_token(&status, &token);
    assert_eq!(
        queued(&dir),
        set(&[
            "https://github.example/acme/app.git",
            "https://github.example/acme/lib.git",
            "https://github.example/acme/tools.git",
        ])
    );
}

#[test]
fn github_user_repositories_with_forks_and_archived_asked_for_and_no_token() {
    let stub = Stub::start();
    let b = stub.base();
    stub.script(vec![
        // A renamed user: GitHub redirects, here to a path on the same host.
        Reply::json(301, json!({"message": "Moved Permanently"}))
            .header("Location", "/user/77/repos?per_page=100&type=owner"),
        Reply::json(
            200,
            json!([
                gh_repo("alice", "a", true, false),
                gh_repo("alice", "b", false, true),
                gh_repo("alice", "c", false, false),
            ]),
        ),
    ]);
    let dir = Dir::new();
    dir.create("repos.txt", "# by hand\nhttps://git.example/x.git\n");
    let out = fleet(
        &dir,
        &[
            "enqueue",
            "-f",
            "repos.txt",
            "--github-user",
            "alice",
            "--include-forks",
            "--include-archived",
            "--api-url",
            &format!("{b}/"),
        ],
    )
    .run();
    out.code(0)
        .stderr_has("GitHub user `alice`: 3 repositories\n")
        .stderr_has("4 of 4 repositories queued");
    let reqs = stub.requests();
    let targets: Vec<&str> = reqs.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(
        targets,
        [
            "/users/alice/repos?per_page=100&type=owner&sort=created&direction=asc",
            "/user/77/repos?per_page=100&type=owner",
        ]
    );
    assert!(
        reqs.iter().all(|r| r.header("authorization").is_none()),
        "{reqs:?}"
    );
    assert_eq!(
        queued(&dir),
        set(&[
            "https://git.example/x.git",
            "https://github.example/alice/a.git",
            "https://github.example/alice/b.git",
            "https://github.example/alice/c.git",
        ])
    );
    // The fork is queued last, after the origins whose blobs it shares.
    assert_eq!(
        queue_order(&dir).last().unwrap(),
        "https://github.example/alice/a.git"
    );
}

#[test]
fn github_refusals_fail_closed_and_name_the_owner_not_the_token() {
    let stub = Stub::start();
    let b = stub.base();
    let token = ghp(72);
    let dir = Dir::new();
    let run = |args: &[&str]| {
        let mut all = vec!["enqueue"];
        all.extend_from_slice(args);
        if !args.contains(&"--api-url") {
            all.extend_from_slice(&["--api-url", &b]);
        }
        let out = fleet(&dir, &all).env("GITHUB_TOKEN", &token).run();
        no_token(&out, &token);
        assert!(!dir.join("fleet.db").exists(), "something was queued");
        out
    };

    stub.script(vec![Reply::json(
        404,
        json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest/repos/repos#list-organization-repositories", "status": "404"}),
    )]);
    run(&["--github-org", "nosuch"]).code(2).stderr_has(
        "GitHub organisation `nosuch`: no such organisation, or no access to it (404 Not Found)",
    );

    stub.script(vec![Reply::json(
        401,
        json!({"message": "Bad credentials", "status": "401"}),
    )]);
    run(&["--github-org", "acme"])
        .code(2)
        .stderr_has("GitHub answered 401 Unauthorized: the token was refused");

    // A permission refusal with requests left is no rate limit: no retry. The server
    // echoes the token: it is masked all the same.
    stub.script(vec![
        Reply::json(
            403,
            json!({"message": format!("Resource not accessible by personal access token {token}")}),
        )
        .header("x-ratelimit-remaining", "4999")
        .header("x-ratelimit-reset", epoch() + 3000),
    ]);
    run(&["--github-org", "acme"]).code(2).stderr_has(
        "access denied (403 Forbidden): Resource not accessible by personal access token ***",
    );
    assert_eq!(stub.requests().len(), 1);

    // A reset further away than --max-wait fails at once.
    stub.script(vec![
        Reply::json(403, json!({"message": "API rate limit exceeded"}))
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-reset", epoch() + 3600),
    ]);
    let started = Instant::now();
    run(&["--github-org", "acme", "--max-wait", "5"])
        .code(2)
        .stderr_has("GitHub rate limit reached: requests are allowed again in")
        .stderr_has("more than the 5s allowed to wait");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(stub.requests().len(), 1);

    // No token goes over plain http to another machine (nothing is even sent).
    run(&[
        "--github-org",
        "acme",
        "--api-url",
        "http://192.0.2.1/api/v3",
    ])
    .code(2)
    .stderr_has("refusing to send the GitHub token over plain http");
}

#[test]
fn a_hostile_api_is_not_followed_elsewhere_nor_trusted() {
    let stub = Stub::start();
    let b = stub.base();
    let token = ghp(73);
    let dir = Dir::new();
    let run = || {
        let out = fleet(&dir, &["enqueue", "--github-org", "acme", "--api-url", &b])
            .env("GITHUB_TOKEN", &token)
            .run();
        no_token(&out, &token);
        assert!(!dir.join("fleet.db").exists(), "something was queued");
        out
    };
    let app = || json!([gh_repo("acme", "app", false, false)]);

    // A next page on another host would get the token: refused, not asked.
    stub.script(vec![Reply::json(200, app()).header(
        "Link",
        r#"<https://evil.example/orgs/acme/repos?page=2>; rel="next""#,
    )]);
    run().code(2).stderr_has(
        "the server pointed to https://evil.example/orgs/acme/repos?page=2, not the API's host",
    );
    assert_eq!(stub.requests().len(), 1);

    // The same for a redirect.
    stub.script(vec![
        Reply::json(301, json!({"message": "Moved Permanently"}))
            .header("Location", "https://evil.example/orgs/acme/repos"),
    ]);
    run().code(2).stderr_has("not the API's host");
    assert_eq!(stub.requests().len(), 1);

    // A clone URL git would run a command for.
    let mut evil = gh_repo("acme", "evil", false, false);
    evil["clone_url"] = json!("ext::sh -c touch% /tmp/pwned");
    stub.script(vec![Reply::json(200, json!([evil]))]);
    run()
        .code(2)
        .stderr_has("the API listed a clone URL that is not an http(s) URL: ext::sh");

    // Pages that loop.
    stub.script(vec![
        Reply::json(200, app()).header("Link", format!(r#"<{b}/p?page=2>; rel="next""#)),
        Reply::json(200, app()).header("Link", format!(r#"<{b}/p?page=2>; rel="next""#)),
    ]);
    run().code(2).stderr_has("the pages loop");
    assert_eq!(stub.requests().len(), 2);

    // A page past the size bound is not read into memory whole.
    let mut huge = b"[".to_vec();
    huge.resize(17 << 20, b' ');
    stub.script(vec![Reply {
        status: 200,
        headers: vec![],
        body: huge,
    }]);
    run()
        .code(2)
        .stderr_has("the answer is over 16777216 bytes");
}

#[test]
fn gitlab_group_projects_with_subgroups_through_x_next_page_and_a_429() {
    let stub = Stub::start();
    let b = stub.base();
    let api = format!("{b}/api/v4");
    let token = format!("glpat-{}", Rng::new(74).string(BASE62, 20));
    let first = "/api/v4/groups/acme%2Fplatform/projects?include_subgroups=true&with_shared=false&per_page=100&order_by=id&sort=asc&archived=false";
    let pages = |page: &str, next: &str| {
        vec![
            ("x-page", page.to_string()),
            ("x-next-page", next.to_string()),
            ("x-per-page", "100".to_string()),
            ("x-total", "3".to_string()),
            ("x-total-pages", "2".to_string()),
        ]
    };
    let with = |mut r: Reply, headers: Vec<(&str, String)>| {
        for (k, v) in headers {
            r = r.header(k, v);
        }
        r
    };
    stub.script(vec![
        // No Link header: the next page is x-next-page's.
        with(
            Reply::json(
                200,
                json!([
                    gl_project("acme/platform/app", false),
                    gl_project("acme/platform/sub/app-fork", true)
                ]),
            ),
            pages("1", "2"),
        ),
        Reply::json(429, json!({"message": "Retry later"}))
            .header("Retry-After", "1")
            .header("RateLimit-Limit", "600")
            .header("RateLimit-Remaining", "0")
            .header("RateLimit-Reset", epoch() + 1),
        with(
            Reply::json(
                200,
                json!([gl_project("acme/platform/sub/deep/lib", false)]),
            ),
            pages("2", ""),
        ),
    ]);
    let dir = Dir::new();
    let out = fleet(
        &dir,
        &[
            "enqueue",
            "--gitlab-group",
            "acme/platform",
            "--api-url",
            &api,
        ],
    )
    .env("GITLAB_TOKEN", &token)
    .run();
    out.code(0)
        .stderr_has("GitLab rate limit: waiting 1s (as retry-after asks)")
        .stderr_has("GitLab group `acme/platform`: 2 repositories (left out: 1 fork; --include-forks keeps them)")
        .stderr_has("2 of 2 repositories queued");
    no_token(&out, &token);
    let reqs = stub.requests();
    let targets: Vec<&str> = reqs.iter().map(|r| r.target.as_str()).collect();
    let second = format!("{first}&page=2");
    assert_eq!(targets, [first, &second, &second]);
    for r in &reqs {
        assert_eq!(r.header("private-token"), Some(&*token));
        assert_eq!(r.header("authorization"), None);
    }
    let waited = reqs[2].at - reqs[1].at;
    assert!(waited >= Duration::from_secs(1), "retried after {waited:?}");
    assert_eq!(
        queued(&dir),
        set(&[
            "https://gitlab.example/acme/platform/app.git",
            "https://gitlab.example/acme/platform/sub/deep/lib.git",
        ])
    );

    // A group that is not there.
    stub.script(vec![Reply::json(
        404,
        json!({"message": "404 Group Not Found"}),
    )]);
    let out = fleet(
        &dir,
        &[
            "enqueue",
            "--gitlab-group",
            "acme/nosuch",
            "--api-url",
            &api,
        ],
    )
    .env("GITLAB_TOKEN", &token)
    .run();
    out.code(2).stderr_has(
        "GitLab group `acme/nosuch`: no such group, or no access to it (404 Not Found)",
    );
    no_token(&out, &token);
}
