//! CSV (RFC 4180: CRLF line ends, quoted where needed), one finding a row after a header
//! row. The first columns are gitleaks' CSV columns, in its order, so that a sheet or a
//! script made for gitleaks' report reads this one; shush's own columns follow.
//!
//! `Secret` and `Match` both hold the secret as the report has it (masked unless
//! `--show-secrets`): shush never keeps the text around a match, and a consumer that reads
//! gitleaks' `Match` still finds what was matched. `SymlinkFile` is always empty.
//!
//! Paths and commit messages come from the scanned repository: a cell that a spreadsheet
//! would evaluate as a formula is neutralised ([`neutralise`]).

use crate::finding::{Finding, Source};
use std::borrow::Cow;
use std::io::{self, Write};

/// The header row: gitleaks' columns, then shush's.
const CSV_HEADER: [&str; 22] = [
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

/// Writes the header row and one row per finding.
pub fn write_csv(out: &mut dyn Write, findings: &[Finding]) -> io::Result<()> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    w.write_record(CSV_HEADER)?;
    for f in findings {
        w.write_record(row(f).iter().map(|cell| neutralise(cell).into_owned()))?;
    }
    w.flush()
}

/// A finding's cells, in [`CSV_HEADER`]'s order, before neutralising.
fn row(f: &Finding) -> [String; CSV_HEADER.len()] {
    let git = GitColumns::of(&f.source);
    let decoded = f.decoded.as_ref().map_or_else(String::new, |chain| {
        let names: Vec<_> = chain.iter().map(|e| e.as_str()).collect();
        names.join(" > ")
    });
    [
        f.rule_id.clone(),
        git.commit,
        f.path.clone(),
        String::new(),
        f.secret.clone(),
        f.secret.clone(),
        f.line.to_string(),
        f.end_line.to_string(),
        f.column.to_string(),
        f.end_column.to_string(),
        git.author,
        git.message,
        git.date,
        git.email,
        f.fingerprint.clone(),
        f.tags.join(" "),
        f.secret_id.clone(),
        f.description.clone(),
        f.confidence.as_str().to_string(),
        f.entropy.to_string(),
        decoded,
        source_kind(&f.source).to_string(),
    ]
}

/// The columns a git finding fills (empty for every other source).
#[derive(Debug, Default)]
struct GitColumns {
    commit: String,
    author: String,
    email: String,
    date: String,
    message: String,
}

impl GitColumns {
    fn of(source: &Source) -> Self {
        let Source::Git {
            commit,
            author_name,
            author_email,
            date,
            summary,
            ..
        } = source
        else {
            return GitColumns::default();
        };
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        GitColumns {
            commit: text(commit),
            author: text(author_name),
            email: text(author_email),
            date: text(date),
            message: text(summary),
        }
    }
}

/// The `kind` a JSON report gives the source (`file`, `stdin`, `archive`, `image`, `git`).
fn source_kind(source: &Source) -> &'static str {
    match source {
        Source::File { .. } => "file",
        Source::Stdin => "stdin",
        Source::Archive { .. } => "archive",
        Source::Image(_) => "image",
        Source::Git { .. } => "git",
    }
}

/// A cell a spreadsheet would take for a formula (one starting with `=`, `+`, `-`, `@`, a tab
/// or a carriage return: OWASP's list for CSV injection) gets a leading `'`, which makes the
/// spreadsheet show it as text. Every other cell is unchanged.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing;

    #[test]
    fn formula_cells_are_neutralised_and_others_kept() {
        for hostile in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralise(hostile), format!("'{hostile}"));
        }
        for plain in ["a=1", "src/x.env", "", "'quoted", " =1"] {
            assert!(matches!(neutralise(plain), Cow::Borrowed(_)), "{plain:?}");
        }
    }

    #[test]
    fn rows_follow_the_header_and_quote_what_needs_it() {
        let path = "a,\"b\".env";
        let file = testing::finding(path, Source::File { path: path.into() });
        let git = testing::finding("=x.env", testing::git_source("=x.env", "-rm -rf"));
        let mut out = Vec::new();
        write_csv(&mut out, &[file, git]).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.split_terminator("\r\n").collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert_eq!(lines[0], CSV_HEADER.join(","));
        assert_eq!(
            lines[1],
            "github-pat,,\"a,\"\"b\"\".env\",,ghp_…(40),ghp_…(40),3,3,7,46,,,,,\
             v2:k1:0123456789abcdef,github token,0123456789ab,GitHub personal access token,\
             high,4.5,,file"
        );
        assert_eq!(
            lines[2],
            "github-pat,c0ffee,'=x.env,,ghp_…(40),ghp_…(40),3,3,7,46,Ada Lovelace,'-rm -rf,\
             2020-09-13T12:28:40+00:00,ada@example.com,v2:k1:0123456789abcdef,github token,\
             0123456789ab,GitHub personal access token,high,4.5,,git"
        );
    }
}
