//! `--format html`: the page a person opens from disk, checked where it matters — in a real
//! headless browser (Chromium). shush writes the report, Chromium loads it from `file://`,
//! runs its script and dumps the DOM it built (and a screenshot, for a person to look at);
//! the tests assert on that DOM: one block per secret, the locations of each, masks only,
//! hostile paths as text, and filtered views from the URL fragment.
//!
//! Without a browser these tests skip with a loud message, unless `SHUSH_REQUIRE_BROWSER=1`
//! (CI sets it): then a missing browser fails them.

use crate::util::git::{Repo, have_git};
use crate::util::{Dir, ghp, password};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Set (to anything but `0`) where a missing browser must fail the tests (CI).
const REQUIRE_ENV: &str = "SHUSH_REQUIRE_BROWSER";
/// Names the browser binary explicitly.
const BROWSER_ENV: &str = "SHUSH_BROWSER";
/// The file names a Chromium goes by on `PATH`.
const BROWSER_NAMES: [&str; 4] = [
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
];

/// The headless browser: `SHUSH_BROWSER`, else the first Chromium on `PATH`. When there is
/// none, the test is skipped with a message naming the package to install, or fails where
/// `SHUSH_REQUIRE_BROWSER` is set.
fn browser(test: &str) -> Option<PathBuf> {
    let found = std::env::var_os(BROWSER_ENV)
        .map(PathBuf::from)
        .or_else(|| {
            let path = std::env::var_os("PATH")?;
            std::env::split_paths(&path)
                .flat_map(|dir| BROWSER_NAMES.map(|n| dir.join(n)))
                .find(|p| p.is_file())
        });
    if found.is_none() {
        let required = std::env::var(REQUIRE_ENV).is_ok_and(|v| !v.is_empty() && v != "0");
        assert!(
            !required,
            "{REQUIRE_ENV} is set but no headless browser was found: install Chromium \
             (Debian package `chromium`) or set {BROWSER_ENV}"
        );
        eprintln!(
            "\n!!! SKIPPED {test}: no headless browser found. Install Chromium (Debian/Ubuntu: \
             `apt-get install chromium`) or set {BROWSER_ENV}; CI sets {REQUIRE_ENV}=1 so that \
             this fails there. !!!\n"
        );
    }
    found
}

/// Headless Chromium with a profile of its own in `scratch`, loading `url` with `args`
/// (`--dump-dom`, `--screenshot=…`) after the page's script has run.
fn chromium(bin: &Path, scratch: &Dir, args: &[&str], url: &str) -> String {
    let profile = scratch.join("browser-profile");
    let out = assert_cmd::Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--hide-scrollbars",
            // Let the page's script run (and settle) before the DOM is dumped.
            "--virtual-time-budget=2000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .env("HOME", scratch.path())
        .env("XDG_CONFIG_HOME", scratch.join("xdg-config"))
        .env("XDG_CACHE_HOME", scratch.join("xdg-cache"))
        .timeout(Duration::from_secs(90))
        .output()
        .expect("run the browser");
    assert!(
        out.status.success(),
        "{} {args:?} {url} failed ({:?}):\n{}",
        bin.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The DOM Chromium built from the report at `page`, opened with `fragment` (`#rule=…`).
fn dom(bin: &Path, scratch: &Dir, page: &Path, fragment: &str) -> String {
    let url = format!("file://{}{fragment}", page.display());
    let dom = chromium(bin, scratch, &["--dump-dom"], &url);
    assert!(dom.contains("id=\"groups\""), "not the report:\n{dom}");
    dom
}

/// One `<section class="secret …">` of the DOM: its opening tag and its contents.
struct Block<'a> {
    tag: &'a str,
    body: &'a str,
}

impl Block<'_> {
    fn hidden(&self) -> bool {
        self.tag.contains(" hidden=\"\"")
    }

    fn secret_id(&self) -> &str {
        attr(self.tag, "data-secret-id")
    }

    fn rule(&self) -> &str {
        attr(self.tag, "data-rule")
    }

    /// The rendered locations, with whether each is shown.
    fn locations(&self) -> Vec<(bool, &str)> {
        self.body
            .split("<li class=\"location\"")
            .skip(1)
            .map(|li| {
                let (tag, rest) = li.split_once('>').unwrap();
                (!tag.contains("hidden"), text_of(rest, "class=\"where\">"))
            })
            .collect()
    }

    fn location_count(&self) -> &str {
        text_of(self.body, "class=\"location-count\">")
    }
}

/// The secret blocks of a dumped DOM, in page order.
fn blocks(dom: &str) -> Vec<Block<'_>> {
    dom.split("<section class=\"secret ")
        .skip(1)
        .map(|s| {
            let (tag, rest) = s.split_once('>').unwrap();
            let body = rest.split("</section>").next().unwrap();
            Block { tag, body }
        })
        .collect()
}

/// The value of attribute `name` in an opening tag.
fn attr<'a>(tag: &'a str, name: &str) -> &'a str {
    let start = tag
        .find(&format!("{name}=\""))
        .unwrap_or_else(|| panic!("no {name} in <{tag}>"))
        + name.len()
        + 2;
    &tag[start..start + tag[start..].find('"').unwrap()]
}

/// The text right after `marker` up to the next tag.
fn text_of<'a>(html: &'a str, marker: &str) -> &'a str {
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in:\n{html}"))
        + marker.len();
    &html[start..start + html[start..].find('<').unwrap()]
}

/// The "N of M secrets shown" line.
fn shown(dom: &str) -> &str {
    text_of(dom, "id=\"shown\" class=\"shown\" aria-live=\"polite\">")
}

/// Every opening tag (`<name …>`) in `html`, as (name, whole tag).
fn tags(html: &str) -> Vec<(String, &str)> {
    html.match_indices('<')
        .filter_map(|(i, _)| {
            let tag = &html[i..i + html[i..].find('>')? + 1];
            let name: String = tag[1..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            (!name.is_empty()).then(|| (name.to_ascii_lowercase(), tag))
        })
        .collect()
}

/// The page loads nothing: no element but a plain link (`<a href>`, which the reader follows
/// or not) names a `src` or `href`, and no stylesheet imports or fetches anything.
fn assert_loads_nothing(html: &str, what: &str) {
    for (name, tag) in tags(html) {
        if name == "a" {
            continue;
        }
        let lower = tag.to_ascii_lowercase();
        for a in [" src=", " href=", " srcset=", " poster=", " data="] {
            assert!(!lower.contains(a), "{what}: {tag} loads something");
        }
    }
    for bad in ["url(", "@import", "//fonts.", "<link"] {
        assert!(!html.contains(bad), "{what}: has {bad:?}");
    }
}

/// Secrets planted in the fixture.
struct Planted {
    /// In three files.
    spread: String,
    /// In two files, one of them with a hostile name.
    other: String,
    /// A password, under a path that tries to close the data's `<script>` element.
    pw: String,
}

const IMG_NAME: &str = "<img src=x onerror=alert(1)>\"q.env";
const SCRIPT_PATH: &str = "a</script><script>alert(2)</script>.env";

/// A tree with two GitHub tokens (one in three places) and a password, two of the files under
/// hostile names.
fn fixture(dir: &Dir) -> Planted {
    let planted = Planted {
        spread: ghp(1),
        other: ghp(2),
        pw: password(1),
    };
    let Planted { spread, other, pw } = &planted;
    dir.create("config/app.env", format!("GITHUB_TOKEN={spread}\n"));
    dir.create("deploy/run.sh", format!("export GH_TOKEN={spread}\n"));
    dir.create(
        "src/settings.py",
        format!("TOKEN = \"{spread}\"\nBOT = \"{other}\"\n"),
    );
    dir.create(IMG_NAME, format!("GH={other}\n"));
    dir.create(SCRIPT_PATH, format!("password = \"{pw}\"\n"));
    planted
}

/// `shush scan --no-config --format html -o report.html .` in `dir` (expecting exit `code`),
/// the report written in `out`: its path and its text.
fn html_report(dir: &Dir, out: &Dir, code: i32) -> (PathBuf, String) {
    let page = out.join("report.html");
    let page_arg = page.to_str().unwrap();
    dir.scan(&["--no-config", "--format", "html", "-o", page_arg, "."])
        .code(code);
    let html = std::fs::read_to_string(&page).expect("the report was written");
    (page, html)
}

/// The secret id of the first finding at `path`.
fn id_at<'a>(findings: &'a [crate::util::Found], path: &str) -> &'a str {
    &findings
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("no finding at {path}: {findings:#?}"))
        .secret_id
}

#[test]
fn the_report_groups_secrets_and_renders_hostile_names_as_text() {
    let Some(bin) =
        browser("html_report::the_report_groups_secrets_and_renders_hostile_names_as_text")
    else {
        return;
    };
    let (dir, out) = (Dir::new(), Dir::new());
    let planted = fixture(&dir);
    let findings = dir.scan(&["--no-config", "-f", "json", "."]).findings();
    assert_eq!(findings.len(), 6, "{findings:#?}");
    let ids: BTreeSet<&str> = findings.iter().map(|f| f.secret_id.as_str()).collect();
    assert_eq!(ids.len(), 3, "{findings:#?}");

    let (page, html) = html_report(&dir, &out, 1);
    // The file: the data is escaped for its element, and nothing is loaded.
    assert!(
        html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';")
    );
    assert_eq!(html.matches("<script").count(), 2, "{html}");
    assert_eq!(html.matches("</script>").count(), 2, "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert_loads_nothing(&html, "report.html");

    let dom = dom(&bin, &out, &page, "");
    let blocks = blocks(&dom);
    assert_eq!(blocks.len(), 3, "{dom}");
    assert!(blocks.iter().all(|b| !b.hidden()), "{dom}");
    assert_eq!(shown(&dom), "3 of 3 secrets shown");
    // Tokens first (high confidence), the password (low) last.
    let rules: Vec<&str> = blocks.iter().map(|b| b.rule()).collect();
    assert_eq!(rules, ["github-pat", "github-pat", "generic-password"]);
    let block = |id: &str| blocks.iter().find(|b| b.secret_id() == id).unwrap();
    let spread = block(id_at(&findings, "config/app.env"));
    assert_eq!(spread.location_count(), "3 locations");
    let wheres: Vec<(bool, &str)> = spread.locations();
    assert_eq!(
        wheres,
        [
            (true, "config/app.env:1:14"),
            (true, "deploy/run.sh:1:17"),
            (true, "src/settings.py:1:10")
        ]
    );
    let other = block(id_at(&findings, IMG_NAME));
    assert_eq!(other.location_count(), "2 locations");
    // The hostile name is text: escaped in the serialised DOM.
    assert_eq!(
        other.locations(),
        [
            (true, "&lt;img src=x onerror=alert(1)&gt;\"q.env:1:4"),
            (true, "src/settings.py:2:8")
        ]
    );
    assert!(other.body.contains(">ghp_…(40)<"), "{}", other.body);
    let pw = block(id_at(&findings, SCRIPT_PATH));
    assert_eq!(
        pw.locations(),
        [(
            true,
            "a&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;.env:1:13"
        )]
    );
    // No element came of the data: the page's two scripts, no image.
    assert_eq!(dom.matches("<img").count(), 0, "{dom}");
    assert_eq!(dom.matches("<script").count(), 2, "{dom}");
    assert_loads_nothing(&dom, "the rendered page");

    // Masks only, in the file and on the page.
    for secret in [&planted.spread, &planted.other, &planted.pw] {
        for (what, text) in [("report.html", &html), ("the rendered page", &dom)] {
            assert!(!text.contains(secret.as_str()), "{what} leaks {secret}");
            assert!(
                !text.contains(&secret[4..]),
                "{what} leaks most of {secret}"
            );
        }
    }

    // A screenshot, for a person to look at.
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html-report");
    std::fs::create_dir_all(&shots).unwrap();
    let png = shots.join("report.png");
    let _ = std::fs::remove_file(&png);
    let url = format!("file://{}", page.display());
    let shot = format!("--screenshot={}", png.display());
    chromium(&bin, &out, &[&shot, "--window-size=1280,2000"], &url);
    eprintln!(
        "html_report: a screenshot of the report is at {}",
        png.display()
    );
    let bytes = std::fs::read(&png).expect("the screenshot was written");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert!(
        bytes.len() > 20_000,
        "a near-empty screenshot: {} bytes",
        bytes.len()
    );
}

#[test]
fn the_url_fragment_filters_the_view() {
    let Some(bin) = browser("html_report::the_url_fragment_filters_the_view") else {
        return;
    };
    let (dir, out) = (Dir::new(), Dir::new());
    fixture(&dir);
    let findings = dir.scan(&["--no-config", "-f", "json", "."]).findings();
    let spread_id = id_at(&findings, "config/app.env");
    let (page, _) = html_report(&dir, &out, 1);
    let visible = |dom: &str| -> Vec<String> {
        blocks(dom)
            .iter()
            .filter(|b| !b.hidden())
            .map(|b| b.rule().to_string())
            .collect()
    };

    let one_rule = dom(&bin, &out, &page, "#rule=generic-password");
    assert_eq!(visible(&one_rule), ["generic-password"]);
    assert_eq!(blocks(&one_rule).len(), 3);
    assert_eq!(shown(&one_rule), "1 of 3 secrets shown");

    let low = dom(&bin, &out, &page, "#confidence=low");
    assert_eq!(visible(&low), ["generic-password"]);

    // Every filter at once: the tokens found under src/, and of the token in three files only
    // its location there.
    let all = dom(
        &bin,
        &out,
        &page,
        "#rule=github-pat&confidence=high&status=open&path=src/",
    );
    assert_eq!(visible(&all), ["github-pat", "github-pat"]);
    assert_eq!(shown(&all), "2 of 3 secrets shown");
    let blocks_all = blocks(&all);
    let spread = blocks_all
        .iter()
        .find(|b| b.secret_id() == spread_id)
        .unwrap();
    assert_eq!(
        spread.location_count(),
        "1 of 3 locations match the filters"
    );
    let shown_locations: Vec<&str> = spread
        .locations()
        .into_iter()
        .filter(|l| l.0)
        .map(|l| l.1)
        .collect();
    assert_eq!(shown_locations, ["src/settings.py:1:10"]);

    let none = dom(&bin, &out, &page, "#status=revoked");
    assert!(visible(&none).is_empty(), "{none}");
    assert_eq!(shown(&none), "0 of 3 secrets shown");
    assert!(none.contains("No secret matches these filters."), "{none}");
}

#[test]
fn a_history_audit_shows_first_and_last_seen_newest_first() {
    if !have_git() {
        return;
    }
    let Some(bin) = browser("html_report::a_history_audit_shows_first_and_last_seen_newest_first")
    else {
        return;
    };
    let (old, new) = (ghp(11), ghp(12));
    let mut repo = Repo::new();
    repo.write("a.env", format!("TOKEN={old}\n"));
    let c1 = repo.commit("add <b>config</b>");
    repo.write("deploy.sh", format!("export TOKEN={old}\n"));
    let c2 = repo.commit("deploy script");
    repo.write("bot.env", format!("BOT={new}\n"));
    let c3 = repo.commit("bot");
    let out = Dir::new();
    let page = out.join("report.html");
    repo.shush()
        .args([
            "git",
            "--no-progress",
            "--no-config",
            "--format",
            "html",
            "-o",
        ])
        .arg(&page)
        .assert()
        .code(1);
    let dom = dom(&bin, &out, &page, "");
    let blocks = blocks(&dom);
    assert_eq!(blocks.len(), 2, "{dom}");
    // Both high: the one seen last (c3) comes first.
    let date = |tick: i64| shush::git::format_git_time(1_600_000_000 + tick * 60, 0);
    let seen =
        |b: &Block<'_>, what: &str| text_of(b.body, &format!("<dt>{what}</dt><dd>")).to_string();
    assert_eq!(
        seen(&blocks[0], "First seen"),
        format!("commit {} · {}", &c3[..10], date(3))
    );
    let (first, last) = (
        seen(&blocks[1], "First seen"),
        seen(&blocks[1], "Last seen"),
    );
    assert_eq!(first, format!("commit {} · {}", &c1[..10], date(1)));
    assert_eq!(last, format!("commit {} · {}", &c2[..10], date(2)));
    assert_eq!(blocks[1].location_count(), "2 locations");
    // Each location says which commit, who and when; the message is text.
    assert!(
        blocks[1].body.contains(&format!(
            "commit {} · Ada Lovelace &lt;ada@example.com&gt; · {} · “add &lt;b&gt;config&lt;/b&gt;”",
            &c1[..10],
            date(1)
        )),
        "{}",
        blocks[1].body
    );
    for secret in [&old, &new] {
        assert!(!dom.contains(&secret[4..]), "the page leaks {secret}");
    }
}

#[test]
fn an_incomplete_run_says_so_at_the_top() {
    let Some(bin) = browser("html_report::an_incomplete_run_says_so_at_the_top") else {
        return;
    };
    let (dir, out) = (Dir::new(), Dir::new());
    dir.create("a.env", format!("TOKEN={}\n", ghp(21)));
    let gz = crate::util::artifacts::gz("nothing secret here\n".repeat(64).as_bytes());
    dir.create("logs.gz", &gz[..gz.len() / 2]);
    let (page, _) = html_report(&dir, &out, 2);
    let dom = dom(&bin, &out, &page, "");
    let notice = dom
        .split("<section class=\"notice error\" id=\"incomplete\" role=\"alert\">")
        .nth(1)
        .unwrap_or_else(|| panic!("no error notice:\n{dom}"));
    assert!(
        notice.starts_with("<strong>Incomplete scan: 1 error. Some input was not scanned"),
        "{notice}"
    );
    let first = text_of(notice, "<li>");
    assert!(first.starts_with("logs.gz: "), "{first}");
    // The notice comes before the findings.
    assert!(dom.find("id=\"incomplete\"") < dom.find("<section class=\"secret "));
    assert_eq!(blocks(&dom).len(), 1);
}
