//! The human format: ripgrep-like `path:line:col: rule-id masked-secret`.

use crate::finding::Finding;
use std::io::{self, Write};

const MAGENTA: &str = "\x1b[35m";
const GREEN: &str = "\x1b[32m";
const BOLD: &str = "\x1b[1m";
const RED: &str = "\x1b[31m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

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
        let path = sanitize(&f.path);
        let secret = sanitize(&f.secret);
        let decoded = format!("{decoded}{}", sanitize(&git_origin(f)));
        if color {
            writeln!(
                out,
                "{MAGENTA}{path}{RESET}:{GREEN}{}{RESET}:{}: {BOLD}{}{RESET} {RED}{secret}{RESET}{DIM}{decoded}{RESET}",
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

/// Replaces control characters so a hostile path or secret cannot drive the terminal.
fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}
