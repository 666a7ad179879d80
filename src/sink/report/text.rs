//! The human format: ripgrep-like `path:line:col: rule-id masked-secret #secret-id`.

use crate::finding::Finding;
use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

/// Colours as ripgrep uses them: paths magenta, line numbers green, the match red.
const PATH: Style = AnsiColor::Magenta.on_default();
const LINE: Style = AnsiColor::Green.on_default();
const RULE: Style = Style::new().bold();
const SECRET: Style = AnsiColor::Red.on_default();
const ORIGIN: Style = Style::new().dimmed();

/// Writes one line per finding; with `color`, ANSI colours as ripgrep uses them.
pub fn write_text(out: &mut dyn Write, findings: &[Finding], color: bool) -> io::Result<()> {
    for f in findings {
        let decoded = match &f.decoded {
            Some(chain) => {
                let names: Vec<_> = chain.iter().map(|e| e.as_str()).collect();
                format!(" (decoded: {})", names.join(" > "))
            }
            None => String::new(),
        };
        let decoded = match &f.source {
            crate::finding::Source::Image(img) => match &img.hidden_by {
                Some(h) => format!(
                    "{decoded} (deleted in layer {} by {}, still shipped in layer {})",
                    h.layer_index,
                    h.how,
                    img.layer_index.unwrap_or_default()
                ),
                None => decoded,
            },
            _ => decoded,
        };
        let path = printable(&f.path);
        // The secret id tells apart two secrets that mask alike (`AKIA…(20)`).
        let secret = format!("{} #{}", printable(&f.secret), f.secret_id);
        let decoded = format!("{decoded}{}", printable(&git_origin(f)));
        if color {
            writeln!(
                out,
                "{PATH}{path}{PATH:#}:{LINE}{}{LINE:#}:{}: {RULE}{}{RULE:#} {SECRET}{secret}{SECRET:#}{ORIGIN}{decoded}{ORIGIN:#}",
                f.line, f.column, f.rule_id
            )?;
        } else {
            writeln!(
                out,
                "{path}:{}:{}: {} {secret}{decoded}",
                f.line, f.column, f.rule_id
            )?;
        }
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
