//! Findings for the report formats' unit tests: a real finding of the built-in rules, with
//! the fields a test compares set to fixed values (the fingerprint key differs by machine).

use crate::engine::{Engine, InputMeta};
use crate::finding::{Finding, Source};
use crate::scan::input::scan_bytes;

/// A masked GitHub token finding at `path`, line 3, column 7, from `source`.
pub fn finding(path: &str, source: Source) -> Finding {
    let engine = Engine::builtin().unwrap();
    let mut st = engine.new_state();
    let text = "a\nb\ntoken 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\n"; // shush:allow (synthetic)
    let located = scan_bytes(&engine, &mut st, text.as_bytes(), InputMeta::default());
    assert_eq!(located.len(), 1);
    let mut f = Finding::new(&engine, &located[0], path, source, false);
    assert_eq!((f.rule_id.as_str(), f.line, f.column), ("github-pat", 3, 7));
    f.description = "GitHub personal access token".into();
    f.fingerprint = "v2:k1:0123456789abcdef".into();
    f.secret_id = "0123456789ab".into();
    f.entropy = 4.5;
    f.tags = vec!["github".into(), "token".into()];
    f
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
