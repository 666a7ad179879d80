//! `--format html`: one self-contained page for a person auditing a whole repository —
//! findings grouped by secret, with filters — that opens from disk and loads nothing.
//!
//! The page is a fixed template (`html/report.html`, with its stylesheet and script inline)
//! and the report's data as JSON in a `<script type="application/json">` element; the script
//! builds the page from it with `textContent` alone, so no path, commit message or rule text
//! is ever parsed as markup. The JSON is escaped for its element ([`script_json`]), and a
//! Content Security Policy allows only the template's own style and script (by hash): no
//! network, no other script, even if something slipped through.

use super::Notices;
use super::group::{SecretGroup, Seen, Summary, group_by_secret};
use crate::finding::Finding;
use crate::rules::{Confidence, RuleSet};
use base64::Engine as _;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::{self, Write};

/// The page, with `{{NAME}}` placeholders ([`fill`]).
const TEMPLATE: &str = include_str!("html/report.html");
/// The page's stylesheet, inlined.
const STYLE: &str = include_str!("html/report.css");
/// The page's script, inlined: it renders and filters the groups.
const SCRIPT: &str = include_str!("html/report.js");

/// Everything the page's script renders.
#[derive(Debug, Serialize)]
struct Page<'a> {
    tool: &'static str,
    version: &'static str,
    /// When the report was written, RFC 3339 UTC.
    generated: String,
    totals: Totals,
    /// The run's errors: what was not scanned (the report is incomplete).
    errors: Vec<String>,
    /// The run's warnings.
    warnings: Vec<String>,
    groups: Vec<GroupView<'a>>,
}

/// One distinct secret as the page's script reads it: a [`SecretGroup`] with the rule's
/// metadata beside it.
#[derive(Debug, Serialize)]
struct GroupView<'a> {
    /// The short id every location of the secret shares.
    secret_id: &'a str,
    /// The rule that found it.
    rule_id: &'a str,
    /// The rule's description.
    description: &'a str,
    /// The secret as the findings have it (masked unless secrets are revealed).
    secret: &'a str,
    /// How sure the rule is.
    confidence: Confidence,
    /// The rule's reference links (provider documentation), for the reader to follow.
    references: &'a [String],
    /// The oldest commit that carries it, for git findings with a date.
    first_seen: Option<Seen<'a>>,
    /// The newest commit that carries it, for git findings with a date.
    last_seen: Option<Seen<'a>>,
    /// Every finding of the secret, in report order.
    locations: &'a [&'a Finding],
}

impl<'a> GroupView<'a> {
    /// The page's view of `g`, with `rules`' reference links for its rule.
    fn of(g: &'a SecretGroup<'a>, rules: &'a RuleSet) -> Self {
        let head = g.head();
        GroupView {
            secret_id: &head.secret_id,
            rule_id: &head.rule_id,
            description: &head.description,
            secret: &head.secret,
            confidence: head.confidence,
            references: rules.get(&head.rule_id).map_or(&[], |r| &r.references),
            first_seen: g.first_seen,
            last_seen: g.last_seen,
            locations: &g.findings,
        }
    }
}

/// The header's counts.
#[derive(Debug, Serialize)]
struct Totals {
    findings: usize,
    secrets: usize,
    rules: usize,
}

/// Writes the HTML report of `findings` (in report order): grouped by secret, with the
/// run's `notices` at the top, and `rules`' reference links.
pub fn write_html(
    out: &mut dyn Write,
    findings: &[Finding],
    rules: &RuleSet,
    notices: Notices<'_>,
) -> io::Result<()> {
    let groups = group_by_secret(findings);
    let summary = Summary::of(&groups);
    let page = Page {
        tool: "shush",
        version: env!("CARGO_PKG_VERSION"),
        generated: now_utc(),
        totals: Totals {
            findings: summary.findings,
            secrets: summary.secrets,
            rules: summary.by_rule.len(),
        },
        errors: notices.errors.iter().map(|p| p.to_string()).collect(),
        warnings: notices.warnings.iter().map(|p| p.to_string()).collect(),
        groups: groups.iter().map(|g| GroupView::of(g, rules)).collect(),
    };
    let data = script_json(&page)?;
    let noscript = noscript(&page);
    let csp = content_security_policy();
    fill(out, TEMPLATE, |name| match name {
        "CSP" => Some(csp.as_str()),
        "STYLE" => Some(STYLE),
        "NOSCRIPT" => Some(noscript.as_str()),
        "DATA" => Some(data.as_str()),
        "SCRIPT" => Some(SCRIPT),
        _ => None,
    })
}

/// `value` as JSON that can sit inside an HTML `<script>` element: `<`, `>` and `&` are
/// written `\u003c`, `\u003e`, `\u0026` (so no `</script>` or `<!--` can end or change the
/// element), and U+2028/U+2029 as `\u2028`/`\u2029` (line terminators to older JavaScript).
/// Those characters only ever occur inside JSON strings, where the escapes mean the same.
pub fn script_json<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let json = serde_json::to_string(value)?;
    let mut out = String::with_capacity(json.len() + json.len() / 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// The page's policy: nothing may load or run but the inline style and script of the
/// template, named by their SHA-256 (an injected `<script>` or `<img>` would do nothing).
fn content_security_policy() -> String {
    format!(
        "default-src 'none'; style-src {}; script-src {}; base-uri 'none'; form-action 'none'",
        csp_hash(STYLE),
        csp_hash(SCRIPT)
    )
}

/// `'sha256-…'`: a CSP source that allows exactly the inline element whose text is `text`.
fn csp_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// What the page says where JavaScript is off: the totals (numbers only: nothing here needs
/// escaping) and where the data is.
fn noscript(page: &Page<'_>) -> String {
    let mut s = format!(
        "{} {} found {} findings of {} distinct secrets. This page lists them with \
         JavaScript, which is off; they are also in this file as JSON (the shush-data \
         element), and --format json writes them alone.",
        page.tool, page.version, page.totals.findings, page.totals.secrets
    );
    if !page.errors.is_empty() {
        s.push_str(&format!(
            " The run had {} errors: it is incomplete, some input was not scanned.",
            page.errors.len()
        ));
    }
    s
}

/// Writes `template`, each `{{NAME}}` replaced by `value(NAME)`, in one pass: a value is
/// never searched for placeholders, so data cannot add any. An unknown name is an error.
fn fill<'v>(
    out: &mut dyn Write,
    template: &str,
    value: impl Fn(&str) -> Option<&'v str>,
) -> io::Result<()> {
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let len = rest[start..]
            .find("}}")
            .ok_or_else(|| io::Error::other("unclosed placeholder in the HTML template"))?;
        let name = &rest[start + 2..start + len];
        let v =
            value(name).ok_or_else(|| io::Error::other(format!("unknown placeholder {name:?}")))?;
        out.write_all(&rest.as_bytes()[..start])?;
        out.write_all(v.as_bytes())?;
        rest = &rest[start + len + 2..];
    }
    out.write_all(rest.as_bytes())
}

/// Now, RFC 3339 in UTC.
fn now_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    crate::source::git::format_git_time(secs, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_view_of_a_group_names_the_rule_and_when_it_was_seen() {
        use crate::finding::Source;
        use crate::sink::report::testing;
        let rules = RuleSet::builtin().unwrap();
        let fs = [
            testing::finding("a.env", testing::git_source("a.env", "add")),
            testing::finding(
                "b.env",
                Source::File {
                    path: "b.env".into(),
                },
            ),
        ];
        let groups = group_by_secret(&fs);
        let view = serde_json::to_value(GroupView::of(&groups[0], &rules)).unwrap();
        let references = &rules.get("github-pat").unwrap().references;
        assert!(!references.is_empty());
        assert_eq!(view["references"], serde_json::json!(references));
        assert_eq!(
            (&view["secret_id"], &view["rule_id"], &view["confidence"]),
            (&"0123456789ab".into(), &"github-pat".into(), &"high".into())
        );
        assert_eq!(view["description"], "GitHub personal access token");
        assert_eq!(view["secret"], "ghp_…(40)");
        // The instant the groups are sorted by stays out of the page.
        let seen = serde_json::json!({"commit": "c0ffee", "date": "2020-09-13T12:28:40+00:00"});
        assert_eq!((&view["first_seen"], &view["last_seen"]), (&seen, &seen));
        let paths: Vec<_> = (view["locations"].as_array().unwrap().iter())
            .map(|f| f["path"].as_str().unwrap())
            .collect();
        assert_eq!(paths, ["a.env", "b.env"]);
    }

    #[test]
    fn script_json_escapes_what_could_end_or_change_the_element() {
        let hostile = "</script><script>alert(1)</script><!-- & \u{2028}\u{2029} \"q\" é";
        let json = script_json(&hostile).unwrap();
        assert_eq!(
            json,
            "\"\\u003c/script\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e\\u003c!-- \
             \\u0026 \\u2028\\u2029 \\\"q\\\" é\""
        );
        // The same value comes back.
        assert_eq!(serde_json::from_str::<String>(&json).unwrap(), hostile);
    }

    #[test]
    fn script_json_leaves_structure_alone() {
        let v = serde_json::json!({"a": [1, "x>y"], "b": null});
        assert_eq!(script_json(&v).unwrap(), r#"{"a":[1,"x\u003ey"],"b":null}"#);
    }

    proptest! {
        #[test]
        fn script_json_round_trips_and_holds_no_markup(s in any::<String>()) {
            let json = script_json(&s).unwrap();
            for bad in ['<', '>', '&', '\u{2028}', '\u{2029}'] {
                prop_assert!(!json.contains(bad), "{bad:?} in {json}");
            }
            prop_assert_eq!(serde_json::from_str::<String>(&json).unwrap(), s);
        }
    }

    #[test]
    fn fill_replaces_each_placeholder_once_and_never_inside_values() {
        let mut out = Vec::new();
        fill(&mut out, "a{{X}}b{{Y}}c", |n| match n {
            "X" => Some("{{Y}}"),
            "Y" => Some("y"),
            _ => None,
        })
        .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "a{{Y}}byc");
        assert!(fill(&mut Vec::new(), "{{Z}}", |_| None).is_err());
        assert!(fill(&mut Vec::new(), "{{Z", |_| Some("")).is_err());
    }

    #[test]
    fn template_has_each_placeholder_once_and_the_policy_first() {
        for name in ["CSP", "STYLE", "NOSCRIPT", "DATA", "SCRIPT"] {
            assert_eq!(
                TEMPLATE.matches(&format!("{{{{{name}}}}}")).count(),
                1,
                "{name}"
            );
        }
        assert_eq!(TEMPLATE.matches("{{").count(), 5);
        // The inlined style and script cannot end their own elements.
        assert!(!STYLE.to_ascii_lowercase().contains("</style"));
        assert!(!SCRIPT.to_ascii_lowercase().contains("</script"));
        // The policy must come before the first style or script it governs.
        let csp = TEMPLATE.find("{{CSP}}").unwrap();
        assert!(csp < TEMPLATE.find("<style").unwrap());
        assert!(csp < TEMPLATE.find("<script").unwrap());
    }

    #[test]
    fn policy_names_the_inlined_style_and_script() {
        let csp = content_security_policy();
        assert!(csp.starts_with("default-src 'none'; "));
        assert!(csp.contains(&csp_hash(STYLE)) && csp.contains(&csp_hash(SCRIPT)));
        // The well-known SHA-256 of the empty string, base64.
        assert_eq!(
            csp_hash(""),
            "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
        );
    }
}
