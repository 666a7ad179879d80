//! JUnit XML, the test report that CI test UIs read (GitLab's `artifacts:reports:junit`,
//! Jenkins, GitHub test-reporter actions): one `<testsuite name="shush">` in a
//! `<testsuites>`, where
//!
//! - each finding is a `<testcase classname="<rule id>" name="<path>:<line>:<col>">` with a
//!   `<failure>` saying what was found (the masked secret, its id, the commit for git);
//! - each error of the run (something not scanned) is a `<testcase>` with an `<error>`, so an
//!   incomplete scan is red in the UI too (fail closed);
//! - a run with neither has one passing `<testcase name="no secrets found">`, so the UI shows
//!   a green result rather than an empty one. A run with errors gets no such testcase: it
//!   does not know that nothing was found.
//!
//! Warnings go to the suite's `<system-err>`. Names and messages come from hostile input
//! (paths, commit messages): quick-xml escapes the markup, and characters that XML 1.0
//! forbids (and, in attributes, every control character) become U+FFFD ([`attr`], [`text`]).

use super::Notices;
use crate::finding::{Finding, Source};
use crate::problem::{Kind, Problem, Subject};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use std::borrow::Cow;
use std::io::{self, Write};

/// The passing testcase's name, in a run with no findings and no errors.
pub const NO_SECRETS: &str = "no secrets found";

/// Writes the JUnit XML document for `findings` and the run's `notices`.
pub fn write_junit(
    out: &mut dyn Write,
    findings: &[Finding],
    notices: Notices<'_>,
) -> io::Result<()> {
    let clean = findings.is_empty() && notices.errors.is_empty();
    let tests = (findings.len() + notices.errors.len() + usize::from(clean)).to_string();
    let failures = findings.len().to_string();
    let errors = notices.errors.len().to_string();
    let counts = [
        ("tests", tests.as_str()),
        ("failures", failures.as_str()),
        ("errors", errors.as_str()),
    ];
    let mut w = Writer::new_with_indent(out, b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element("testsuites")
        .with_attribute(("name", "shush"))
        .with_attributes(counts)
        .write_inner_content(|w| {
            w.create_element("testsuite")
                .with_attribute(("name", "shush"))
                .with_attributes(counts)
                .with_attribute(("skipped", "0"))
                .write_inner_content(|w| suite_body(w, findings, notices, clean))?;
            Ok(())
        })?;
    writeln!(w.into_inner())
}

/// The testcases: findings, then errors, or the one passing testcase; then warnings.
fn suite_body<W: Write>(
    w: &mut Writer<W>,
    findings: &[Finding],
    notices: Notices<'_>,
    clean: bool,
) -> io::Result<()> {
    for f in findings {
        failure_case(w, f)?;
    }
    for p in notices.errors {
        error_case(w, p)?;
    }
    if clean {
        w.create_element("testcase")
            .with_attributes([("classname", "shush"), ("name", NO_SECRETS)])
            .write_empty()?;
    }
    if !notices.warnings.is_empty() {
        let lines: Vec<String> = notices
            .warnings
            .iter()
            .map(|p| format!("warning: {p}"))
            .collect();
        w.create_element("system-err")
            .write_text_content(BytesText::new(&text(&lines.join("\n"))))?;
    }
    Ok(())
}

/// A finding's testcase, with its `<failure>`.
fn failure_case<W: Write>(w: &mut Writer<W>, f: &Finding) -> io::Result<()> {
    let name = format!("{}:{}:{}", f.path, f.line, f.column);
    let message = format!(
        "{} ({}): {} #{}",
        f.description, f.rule_id, f.secret, f.secret_id
    );
    w.create_element("testcase")
        .with_attribute(("classname", attr(&f.rule_id).as_ref()))
        .with_attribute(("name", attr(&name).as_ref()))
        .write_inner_content(|w| {
            w.create_element("failure")
                .with_attribute(("message", attr(&message).as_ref()))
                .with_attribute(("type", attr(&f.rule_id).as_ref()))
                .write_text_content(BytesText::new(&text(&details(f))))?;
            Ok(())
        })?;
    Ok(())
}

/// The failure's text: what was found, where, how sure, and the commit for git.
fn details(f: &Finding) -> String {
    let mut lines = vec![
        format!("found: {} ({})", f.description, f.rule_id),
        format!("secret: {} (secret id {})", f.secret, f.secret_id),
        format!("location: {}:{}:{}", f.path, f.line, f.column),
        format!(
            "confidence: {}, entropy: {}",
            f.confidence.as_str(),
            f.entropy
        ),
    ];
    if let Some(chain) = &f.decoded {
        let names: Vec<_> = chain.iter().map(|e| e.as_str()).collect();
        lines.push(format!("decoded: {}", names.join(" > ")));
    }
    if let Source::Git {
        commit,
        author_name,
        author_email,
        date,
        summary,
        unreachable,
        ..
    } = &f.source
    {
        let fields = [
            ("commit", commit.clone()),
            ("author", author_name.clone()),
            ("email", author_email.clone()),
            ("date", date.clone()),
            ("message", summary.clone()),
            ("unreachable", unreachable.then(|| "yes".to_string())),
        ];
        for (key, value) in fields {
            if let Some(v) = value {
                lines.push(format!("{key}: {v}"));
            }
        }
    }
    lines.push(format!("fingerprint: {}", f.fingerprint));
    lines.join("\n")
}

/// An error's testcase, with its `<error>`: the input it names was not scanned (or only in
/// part).
fn error_case<W: Write>(w: &mut Writer<W>, p: &Problem) -> io::Result<()> {
    let name = match &p.subject {
        Subject::Run => "run".to_string(),
        subject => subject.to_string(),
    };
    let kind = kind_name(p.kind);
    let message = p.to_string();
    let body = format!("{message}\nnot scanned, or only in part: the run is incomplete");
    w.create_element("testcase")
        .with_attribute(("classname", format!("shush.{kind}").as_str()))
        .with_attribute(("name", attr(&name).as_ref()))
        .write_inner_content(|w| {
            w.create_element("error")
                .with_attribute(("message", attr(&message).as_ref()))
                .with_attribute(("type", kind))
                .write_text_content(BytesText::new(&text(&body)))?;
            Ok(())
        })?;
    Ok(())
}

/// A short name for a problem's kind (the `<error>`'s `type`).
fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Unreadable => "unreadable",
        Kind::OverCap => "over-cap",
        Kind::Missing => "missing",
        Kind::Corrupt => "corrupt",
        Kind::Unsupported => "unsupported",
        Kind::Skipped => "skipped",
        Kind::Other => "other",
    }
}

/// An attribute value safe for XML 1.0: every control character (a parser would turn tabs
/// and line ends into spaces anyway) and the non-characters U+FFFE, U+FFFF become U+FFFD.
fn attr(s: &str) -> Cow<'_, str> {
    replace_forbidden(s, |_| false)
}

/// Text content safe for XML 1.0: as [`attr`], but line feeds and tabs are kept.
fn text(s: &str) -> Cow<'_, str> {
    replace_forbidden(s, |c| c == '\n' || c == '\t')
}

fn replace_forbidden(s: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    let bad = |c: char| (c.is_control() && !keep(c)) || c == '\u{FFFE}' || c == '\u{FFFF}';
    if s.contains(bad) {
        Cow::Owned(
            s.chars()
                .map(|c| if bad(c) { '\u{FFFD}' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing;

    fn junit(findings: &[Finding], notices: Notices<'_>) -> String {
        let mut out = Vec::new();
        write_junit(&mut out, findings, notices).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn forbidden_characters_are_replaced() {
        assert_eq!(
            attr("a\tb\nc\u{1}d\u{FFFF}"),
            "a\u{FFFD}b\u{FFFD}c\u{FFFD}d\u{FFFD}"
        );
        assert_eq!(text("a\tb\nc\rd\u{1b}"), "a\tb\nc\u{FFFD}d\u{FFFD}");
        assert!(matches!(attr("plain é <&>"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_clean_run_is_one_passing_testcase() {
        let xml = junit(&[], Notices::default());
        assert!(
            xml.contains(r#"<testsuite name="shush" tests="1" failures="0" errors="0""#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<testcase classname="shush" name="no secrets found"/>"#),
            "{xml}"
        );
    }

    #[test]
    fn findings_fail_and_errors_err_without_a_passing_case() {
        let f = testing::finding("a&b.env", testing::git_source("a&b.env", "add <key>"));
        let errors = [Problem::path("x.zip", Kind::Corrupt, "bad zip")];
        let warnings = [Problem::path("big.bin", Kind::Skipped, "too big\u{7}")];
        let notices = Notices {
            errors: &errors,
            warnings: &warnings,
        };
        let xml = junit(&[f], notices);
        assert!(
            xml.contains(r#"tests="2" failures="1" errors="1""#),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<testcase classname="github-pat" name="a&amp;b.env:3:7">"#),
            "{xml}"
        );
        assert!(xml.contains("message: add &lt;key&gt;"), "{xml}");
        assert!(
            xml.contains(r#"<error message="x.zip: bad zip" type="corrupt">"#),
            "{xml}"
        );
        assert!(!xml.contains(NO_SECRETS), "{xml}");
        assert!(
            xml.contains("<system-err>warning: big.bin: too big\u{FFFD}</system-err>"),
            "{xml}"
        );
    }
}
