//! `--format csv` and `--format junit`, read back with real parsers (the `csv` crate,
//! `roxmltree`): the columns and counts their consumers rely on, masked secrets, and
//! hostile file names and commit messages that must neither inject a spreadsheet formula
//! nor break the XML.

use crate::util::git::{Repo, have_git};
use crate::util::{Dir, ghp};

/// The header a gitleaks user's sheet expects (gitleaks' columns, in its order), then shush's.
const HEADER: [&str; 22] = [
    "RuleID",
    "Commit",
    "File",
    "SymlinkFile",
    "Secret",
    "Match",
    "StartLine",
    "EndLine",
    "StartColumn",
    "EndColumn",
    "Author",
    "Message",
    "Date",
    "Email",
    "Fingerprint",
    "Tags",
    "SecretID",
    "Description",
    "Confidence",
    "Entropy",
    "Decoded",
    "SourceKind",
];

/// A file name a spreadsheet would run as a formula, were the cell not neutralised (no `//`:
/// a file name cannot hold a `/`).
const FORMULA_NAME: &str = "=HYPERLINK(\"http:x\",\"y\").env";

/// A CSV report parsed: the header and each row as (column, value) lookups.
struct Csv {
    header: Vec<String>,
    rows: Vec<csv::StringRecord>,
}

impl Csv {
    #[track_caller]
    fn parse(text: &str) -> Csv {
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let header = r.headers().expect("a header row").iter().map(String::from);
        let header = header.collect();
        let rows = r.records().collect::<Result<_, _>>();
        let rows = rows.unwrap_or_else(|e| panic!("not CSV ({e}):\n{text}"));
        Csv { header, rows }
    }

    /// `column` of `row`.
    fn get<'a>(&self, row: &'a csv::StringRecord, column: &str) -> &'a str {
        let i = self.header.iter().position(|h| h == column).unwrap();
        &row[i]
    }

    /// The row whose `File` is `file`.
    #[track_caller]
    fn row(&self, file: &str) -> &csv::StringRecord {
        let found = self.rows.iter().find(|r| self.get(r, "File") == file);
        found.unwrap_or_else(|| panic!("no row for {file:?}: {:?}", self.rows))
    }
}

/// The text of the report written to `report` in `out` (a directory outside the scanned one).
fn report(out: &Dir) -> String {
    std::fs::read_to_string(out.join("report")).expect("the report was written")
}

#[test]
fn csv_has_gitleaks_columns_masked_secrets_and_no_formula_cells() {
    let dir = Dir::new();
    let (plain, hostile) = (ghp(1), ghp(2));
    dir.create("a.env", format!("GITHUB_TOKEN={plain}\n"));
    dir.create(FORMULA_NAME, format!("x\ntoken: {hostile}\n"));
    let out = dir.scan(&["--no-config", "-f", "csv", "."]);
    out.code(1);
    assert!(out.stdout.contains("\r\n"), "RFC 4180 line ends");
    for token in [&plain, &hostile] {
        assert!(!out.stdout.contains(token.as_str()), "{}", out.stdout);
    }
    let csv = Csv::parse(&out.stdout);
    assert_eq!(csv.header, HEADER);
    assert_eq!(csv.rows.len(), 2, "{}", out.stdout);
    let a = csv.row("a.env");
    let cells: Vec<_> = HEADER.iter().map(|c| csv.get(a, c)).collect();
    assert_eq!(cells[..4], ["github-pat", "", "a.env", ""]);
    assert_eq!(
        cells[4..10],
        ["ghp_…(40)", "ghp_…(40)", "1", "1", "14", "53"]
    );
    assert_eq!(cells[10..14], ["", "", "", ""], "no git columns for a file");
    assert!(cells[14].starts_with("v2:"), "fingerprint {}", cells[14]);
    assert_eq!(cells[16].len(), 12, "secret id {}", cells[16]);
    assert_eq!((cells[18], cells[20], cells[21]), ("high", "", "file"));
    // The hostile name reads as text: a leading `'` and nothing else changed.
    let h = csv.row(&format!("'{FORMULA_NAME}"));
    assert_eq!(
        (csv.get(h, "StartLine"), csv.get(h, "StartColumn")),
        ("2", "8")
    );
    assert_ne!(csv.get(h, "SecretID"), csv.get(a, "SecretID"));
    for row in &csv.rows {
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?}"
            );
        }
    }
}

#[test]
fn csv_of_a_git_history_fills_commit_author_date_and_message() {
    if !have_git() {
        return;
    }
    let mut r = Repo::new();
    let t = ghp(3);
    r.write("conf/app.env", format!("TOKEN={t}\n"));
    // A commit message is hostile input too.
    let c = r.commit("@SUM(1+1) add config");
    let out = r
        .shush()
        .args(["git", "--no-config", "--no-progress", "-f", "csv"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains(&t), "{text}");
    let csv = Csv::parse(&text);
    assert_eq!(csv.rows.len(), 1, "{text}");
    let row = csv.row("conf/app.env");
    let git: Vec<_> = ["Commit", "Author", "Email", "Date", "Message", "SourceKind"]
        .iter()
        .map(|c| csv.get(row, c))
        .collect();
    assert_eq!(
        git,
        [
            c.as_str(),
            "Ada Lovelace",
            "ada@example.com",
            "2020-09-13T12:27:40+00:00",
            "'@SUM(1+1) add config",
            "git",
        ]
    );
}

/// A JUnit report parsed; panics with the text when it is not well-formed XML.
#[track_caller]
fn parse_xml(text: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(text).unwrap_or_else(|e| panic!("not XML ({e}):\n{text}"))
}

/// The one `<testsuite>` under `<testsuites>`, after checking both carry the same counts.
#[track_caller]
fn suite<'a>(doc: &'a roxmltree::Document<'a>, counts: [&str; 3]) -> roxmltree::Node<'a, 'a> {
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root.children().filter(|n| n.is_element()).collect();
    assert_eq!(suites.len(), 1);
    let suite = suites[0];
    assert_eq!(suite.tag_name().name(), "testsuite");
    assert_eq!(suite.attribute("name"), Some("shush"));
    for node in [root, suite] {
        let got = ["tests", "failures", "errors"].map(|a| node.attribute(a).unwrap_or("-"));
        assert_eq!(got, counts, "<{}>", node.tag_name().name());
    }
    suite
}

/// The testcases of a suite, each with its one child (`failure`, `error`) if any.
fn cases<'a>(
    suite: roxmltree::Node<'a, 'a>,
) -> Vec<(roxmltree::Node<'a, 'a>, Option<roxmltree::Node<'a, 'a>>)> {
    let cases = suite.children().filter(|n| n.has_tag_name("testcase"));
    cases
        .map(|c| (c, c.children().find(|n| n.is_element())))
        .collect()
}

#[test]
fn junit_has_a_failing_testcase_per_finding_and_escapes_hostile_paths() {
    let dir = Dir::new();
    let (plain, hostile) = (ghp(4), ghp(5));
    let name = "a<b&c\"d\u{1}e.env";
    dir.create("a.env", format!("GITHUB_TOKEN={plain}\n"));
    dir.create(name, format!("{hostile}\n"));
    let out = Dir::new();
    let report_path = out.join("report");
    // Written to a file, as a CI job hands it to its test UI.
    let mut cmd = dir.cmd();
    cmd.args(["scan", "--no-progress", "--no-config", "-f", "junit", "."]);
    cmd.arg("-o").arg(&report_path).run().code(1);
    let text = report(&out);
    for token in [&plain, &hostile] {
        assert!(!text.contains(token.as_str()), "{text}");
    }
    let doc = parse_xml(&text);
    let cases = cases(suite(&doc, ["2", "2", "0"]));
    let names: Vec<_> = cases
        .iter()
        .map(|(c, _)| c.attribute("name").unwrap())
        .collect();
    // The control character, which XML 1.0 cannot hold, is replaced; the rest is intact.
    assert_eq!(names, ["a.env:1:14", "a<b&c\"d\u{FFFD}e.env:1:1"]);
    for (case, failure) in &cases {
        assert_eq!(case.attribute("classname"), Some("github-pat"));
        let failure = failure.expect("a <failure>");
        assert_eq!(failure.tag_name().name(), "failure");
        assert_eq!(failure.attribute("type"), Some("github-pat"));
        let message = failure.attribute("message").unwrap();
        assert!(message.contains("(github-pat): ghp_…(40) #"), "{message}");
        let body = failure.text().unwrap_or_default();
        assert!(body.contains("secret: ghp_…(40) (secret id "), "{body}");
        assert!(body.contains("confidence: high"), "{body}");
    }
    let body = cases[1].1.unwrap().text().unwrap();
    assert!(
        body.contains("location: a<b&c\"d\u{FFFD}e.env:1:1"),
        "{body}"
    );
}

#[test]
fn junit_of_a_clean_run_is_one_passing_testcase() {
    let dir = Dir::new();
    dir.create("readme.txt", "nothing to see\n");
    let out = dir.scan(&["--no-config", "-f", "junit", "."]);
    out.code(0);
    let doc = parse_xml(&out.stdout);
    let cases = cases(suite(&doc, ["1", "0", "0"]));
    assert_eq!(cases.len(), 1, "{}", out.stdout);
    let (case, child) = cases[0];
    assert_eq!(case.attribute("name"), Some("no secrets found"));
    assert!(child.is_none(), "a passing testcase: {}", out.stdout);
}

#[test]
fn junit_reports_an_unscannable_input_as_an_error_and_exits_2() {
    let dir = Dir::new();
    dir.create("junk.zip", b"PK\x03\x04 this is no zip at all");
    let out = dir.scan(&["--no-config", "-f", "junit", "junk.zip"]);
    out.code(2);
    let doc = parse_xml(&out.stdout);
    let cases = cases(suite(&doc, ["1", "0", "1"]));
    assert_eq!(cases.len(), 1, "no passing testcase: {}", out.stdout);
    let (case, error) = cases[0];
    assert_eq!(case.attribute("classname"), Some("shush.corrupt"));
    assert_eq!(case.attribute("name"), Some("junk.zip"));
    let error = error.expect("an <error>");
    assert_eq!(error.tag_name().name(), "error");
    assert_eq!(error.attribute("type"), Some("corrupt"));
    let message = error.attribute("message").unwrap();
    assert!(message.starts_with("junk.zip: "), "{message}");
    assert!(error.text().unwrap().contains("the run is incomplete"));
}

#[test]
fn junit_of_a_git_history_names_the_commit() {
    if !have_git() {
        return;
    }
    let mut r = Repo::new();
    let t = ghp(6);
    r.write("k.txt", format!("{t}\n"));
    let c = r.commit("add <k> & \"more\"");
    let out = r
        .shush()
        .args(["git", "--no-config", "--no-progress", "-f", "junit"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains(&t), "{text}");
    let doc = parse_xml(&text);
    let cases = cases(suite(&doc, ["1", "1", "0"]));
    let body = cases[0].1.expect("a <failure>").text().unwrap();
    for line in [
        format!("commit: {c}"),
        "author: Ada Lovelace".into(),
        "email: ada@example.com".into(),
        "message: add <k> & \"more\"".into(),
    ] {
        assert!(body.lines().any(|l| l == line), "{line:?} in\n{body}");
    }
}
