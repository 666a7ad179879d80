//! The human formats: grouped by secret ([`write_text`]: one block per secret with its
//! locations, what it grants and how to revoke it, then a summary), and ripgrep-like lines
//! ([`write_lines`]: `path:line:col: rule-id masked-secret #secret-id`, one finding a line,
//! for editors and `grep`).

use super::group::{SecretGroup, Seen, Summary, group_by_secret};
use crate::finding::Finding;
use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

/// Colours as ripgrep uses them: paths magenta, line numbers green, the match red.
const PATH: Style = AnsiColor::Magenta.on_default();
const LINE: Style = AnsiColor::Green.on_default();
const RULE: Style = Style::new().bold();
const SECRET: Style = AnsiColor::Red.on_default();
const ORIGIN: Style = Style::new().dimmed();
const FIX: Style = AnsiColor::Cyan.on_default();

/// How many secrets the summary's per-rule and per-path lists name before "… N more".
const SUMMARY_TOP: usize = 8;

/// Writes the findings grouped by secret, most confident and most recent first: per secret,
/// a header (rule, masked secret, secret id, confidence, locations), the rule's description,
/// first and last seen commit, every location, what the credential grants and how to revoke
/// it; then a summary by confidence, rule and path. Nothing at all when there are no
/// findings. With `color`, ANSI colours as ripgrep uses them.
pub fn write_text(out: &mut dyn Write, findings: &[Finding], color: bool) -> io::Result<()> {
    if findings.is_empty() {
        return Ok(());
    }
    let paint = Paint(color);
    let groups = group_by_secret(findings);
    for g in &groups {
        write_group(out, g, paint)?;
        writeln!(out)?;
    }
    write_summary(out, &Summary::of(&groups), paint)
}

/// ANSI styling when colour is on; plain text otherwise.
#[derive(Clone, Copy)]
struct Paint(bool);

impl Paint {
    fn style(self, style: Style, text: &str) -> String {
        if self.0 {
            format!("{style}{text}{style:#}")
        } else {
            text.to_string()
        }
    }
}

fn write_group(out: &mut dyn Write, g: &SecretGroup<'_>, paint: Paint) -> io::Result<()> {
    let head = g.head();
    let n = g.findings.len();
    writeln!(
        out,
        "{} {} #{} · {} confidence · {n} location{}",
        paint.style(RULE, &head.rule_id),
        paint.style(SECRET, &printable(&head.secret)),
        head.secret_id,
        head.confidence.as_str(),
        if n == 1 { "" } else { "s" },
    )?;
    if !head.description.is_empty() {
        writeln!(out, "  {}", printable(&head.description))?;
    }
    if let (Some(first), Some(last)) = (g.first_seen, g.last_seen) {
        let when = |s: Seen<'_>| {
            let date = &s.date[..s.date.len().min(10)];
            match s.commit {
                Some(c) => format!("{date} in {}", &c[..c.len().min(10)]),
                None => date.to_string(),
            }
        };
        if first == last {
            writeln!(out, "  seen {}", when(first))?;
        } else {
            writeln!(
                out,
                "  first seen {}, last seen {}",
                when(first),
                when(last)
            )?;
        }
    }
    for f in &g.findings {
        writeln!(
            out,
            "  {}:{}:{}{}",
            paint.style(PATH, &printable(&f.path)),
            paint.style(LINE, &f.line.to_string()),
            f.column,
            paint.style(ORIGIN, &printable(&origin(f))),
        )?;
    }
    write_remediation(out, &head.remediation, paint)
}

fn write_remediation(
    out: &mut dyn Write,
    r: &crate::remediation::Remediation,
    paint: Paint,
) -> io::Result<()> {
    if let Some(grants) = &r.grants {
        writeln!(out, "  grants: {}", printable(grants))?;
    }
    match &r.revoke_url {
        Some(url) => writeln!(out, "  revoke: {}", paint.style(FIX, &printable(url)))?,
        None => writeln!(
            out,
            "  fix: rotate at the issuer: revoke it where it was issued, replace it where it is used"
        )?,
    }
    if let Some(command) = &r.command {
        writeln!(out, "  run: {}", paint.style(FIX, &printable(command)))?;
    }
    if let Some(docs) = &r.docs {
        writeln!(out, "  docs: {}", printable(docs))?;
    }
    Ok(())
}

fn write_summary(out: &mut dyn Write, s: &Summary, paint: Paint) -> io::Result<()> {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    writeln!(
        out,
        "{}: {} in {}",
        paint.style(RULE, "summary"),
        plural(s.secrets, "distinct secret", "distinct secrets"),
        plural(s.findings, "location", "locations"),
    )?;
    let confidence: Vec<_> = (s.by_confidence.iter())
        .map(|(c, n)| format!("{} {n}", c.as_str()))
        .collect();
    writeln!(out, "  by confidence: {}", confidence.join(", "))?;
    let rules: Vec<_> = (s.by_rule.iter())
        .map(|(r, secrets, findings)| format!("{r} {secrets} ({findings})"))
        .collect();
    writeln!(out, "  by rule, secrets (locations): {}", top(&rules))?;
    let paths: Vec<_> = (s.by_path.iter())
        .map(|(p, n)| format!("{} {n}", printable(p)))
        .collect();
    writeln!(out, "  by path, locations: {}", top(&paths))?;
    writeln!(
        out,
        "Deleting a secret from the code or the history does not disable it: revoke it."
    )
}

/// The first [`SUMMARY_TOP`] items, then how many more.
fn top(items: &[String]) -> String {
    let mut s = items[..items.len().min(SUMMARY_TOP)].join(", ");
    if items.len() > SUMMARY_TOP {
        s.push_str(&format!(", … {} more", items.len() - SUMMARY_TOP));
    }
    s
}

/// What a location line says after `path:line:col`: the encodings the secret was found
/// through, where in an image it ships, and the git commit.
fn origin(f: &Finding) -> String {
    let mut s = String::new();
    if let Some(chain) = &f.decoded {
        let names: Vec<_> = chain.iter().map(|e| e.as_str()).collect();
        s.push_str(&format!(" (decoded: {})", names.join(" > ")));
    }
    if let crate::finding::Source::Image(img) = &f.source {
        if let Some(h) = &img.hidden_by {
            s.push_str(&format!(
                " (deleted in layer {} by {}, still shipped in layer {})",
                h.layer_index,
                h.how,
                img.layer_index.unwrap_or_default()
            ));
        }
    }
    s.push_str(&git_origin(f));
    s
}

/// Writes one line per finding; with `color`, ANSI colours as ripgrep uses them.
pub fn write_lines(out: &mut dyn Write, findings: &[Finding], color: bool) -> io::Result<()> {
    let paint = Paint(color);
    for f in findings {
        // The secret id tells apart two secrets that mask alike (`AKIA…(20)`).
        let secret = format!("{} #{}", printable(&f.secret), f.secret_id);
        writeln!(
            out,
            "{}:{}:{}: {} {}{}",
            paint.style(PATH, &printable(&f.path)),
            paint.style(LINE, &f.line.to_string()),
            f.column,
            paint.style(RULE, &f.rule_id),
            paint.style(SECRET, &secret),
            paint.style(ORIGIN, &printable(&origin(f))),
        )?;
    }
    Ok(())
}

/// ` in abc1234567 by Name <email> 2021-01-02: summary` for a git finding.
fn git_origin(f: &Finding) -> String {
    let crate::finding::Source::Git {
        commit,
        author_name,
        author_email,
        date,
        summary,
        unreachable,
        blob,
        ..
    } = &f.source
    else {
        return String::new();
    };
    let mut s = match commit {
        Some(c) => format!(" in {}", &c[..c.len().min(10)]),
        None if *unreachable => format!(" in dangling blob {}", &blob[..blob.len().min(10)]),
        None => String::new(),
    };
    if let (Some(n), Some(e)) = (author_name, author_email) {
        s.push_str(&format!(" by {n} <{e}>"));
    }
    if let Some(d) = date {
        s.push_str(&format!(" {}", &d[..d.len().min(10)]));
    }
    if let Some(m) = summary {
        s.push_str(&format!(": {m}"));
    }
    if *unreachable {
        s.push_str(" [unreachable]");
    }
    s
}

/// Replaces control characters (with U+FFFD) so that a hostile path or secret cannot drive
/// the terminal it is printed on.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}
