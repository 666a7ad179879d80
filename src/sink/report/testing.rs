//! Findings for the report formats' unit tests, built field by field (no engine needed).

use crate::finding::{Finding, Source};
use crate::rules::Confidence;

/// A masked GitHub token finding at `path`, line 3, column 7, from `source`.
pub fn finding(path: &str, source: Source) -> Finding {
    Finding {
        rule_id: "github-pat".into(),
        description: "GitHub personal access token".into(),
        path: path.into(),
        line: 3,
        column: 7,
        end_line: 3,
        end_column: 46,
        offset: 40,
        length: 40,
        secret: "ghp_…(40)".into(),
        fingerprint: "v2:k1:0123456789abcdef".into(),
        secret_id: "0123456789ab".into(),
        legacy_fingerprint: String::new(),
        entropy: 4.5,
        confidence: Confidence::High,
        decoded: None,
        tags: vec!["github".into(), "token".into()],
        source,
    }
}

/// A git source for commit `c0ffee`, by Ada on 2020-09-13, with `summary`.
pub fn git_source(path: &str, summary: &str) -> Source {
    Source::Git {
        commit: Some("c0ffee".into()),
        blob: "b10b".into(),
        path: Some(path.into()),
        author_name: Some("Ada Lovelace".into()),
        author_email: Some("ada@example.com".into()),
        date: Some("2020-09-13T12:28:40+00:00".into()),
        summary: Some(summary.into()),
        unreachable: false,
    }
}
