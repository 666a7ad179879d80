//! Proving rules against their own examples, and linting them: what `shush rules check` and
//! the test suite run over every rule.

use crate::engine::{Engine, InputMeta};
use crate::location::Located;
use crate::rules::Strategy;
use crate::scan::input::scan_bytes;

/// Scans an example. A `skipReport` rule's own matches are dropped by finalization, so for
/// such a rule the raw (unfinalized) matches are examined instead.
fn examine(
    engine: &Engine,
    st: &mut crate::engine::ScanState,
    text: &[u8],
    meta: InputMeta<'_>,
    raw: bool,
) -> Vec<Located> {
    if raw {
        crate::stream::scan_slice(engine, st, text, &meta)
    } else {
        scan_bytes(engine, st, text, meta)
    }
}

/// One way a rule failed its examples or its lint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The rule id.
    pub rule: String,
    /// What is wrong (never includes more of an example than the rule's own file does).
    pub message: String,
}

/// The result of checking a rule set.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// Rules checked.
    pub rules: usize,
    /// Positive and negative examples run.
    pub examples: usize,
    /// Examples that did not behave (a positive not found, a wrong secret, a negative found).
    pub failures: Vec<Problem>,
    /// Structural problems: no keywords, unbounded length, too few examples.
    pub lints: Vec<Problem>,
}

/// Runs every rule's examples through the whole engine (prefilter, regex, filters, overlap
/// resolution) and lints each rule.
pub fn check(engine: &Engine) -> CheckReport {
    let mut report = CheckReport::default();
    let mut st = engine.new_state();
    for rule in &engine.rules().rules {
        report.rules += 1;
        let lint = |msg: String| Problem {
            rule: rule.id.clone(),
            message: msg,
        };
        match &rule.strategy {
            Strategy::Window { gate, .. } if gate.is_empty() => {}
            Strategy::Window { .. } => report.lints.push(lint("its keywords are not all inside every match: windows come from literals derived from the regex, with the keywords as a whole-input gate".into())),
            // A rule restricted to a kind of file (`.pgpass`, `config/master.key`) may have
            // nothing to anchor on: its regex runs over whole inputs, but only those files'.
            Strategy::Full { .. } if rule.path.is_some() => {}
            Strategy::Full { .. } => report.lints.push(lint("no keyword or literal anchors its matches: the regex runs over whole inputs (give it keywords, or restrict it to a `path`)".into())),
            Strategy::PathOnly => {}
        }
        if rule.strategy != Strategy::PathOnly && !rule.bounded {
            report.lints.push(lint(format!(
                "the regex has no maximum match length; matches are cut at {} bytes (set max_len)",
                rule.max_len
            )));
        }
        if rule.examples().len() < 2 {
            report.lints.push(lint(format!(
                "has {} positive example(s); at least 2 are expected",
                rule.examples().len()
            )));
        }
        if rule.negative_examples().is_empty() {
            report.lints.push(lint("has no negative example".into()));
        }
        if rule.description.is_empty() {
            report.lints.push(lint("has no description".into()));
        }
        for (i, ex) in rule.examples().iter().enumerate() {
            report.examples += 1;
            if ex.secret().is_none() {
                report.lints.push(lint(format!(
                    "example #{} does not name the secret it must capture",
                    i + 1
                )));
            }
            let meta = InputMeta {
                path: ex.path(),
                ..Default::default()
            };
            let found = examine(
                engine,
                &mut st,
                ex.text().as_bytes(),
                meta,
                rule.skip_report,
            );
            let mine: Vec<_> = found
                .iter()
                .filter(|f| engine.rule(f.rule).id == rule.id)
                .collect();
            match (mine.is_empty(), ex.secret()) {
                (true, _) => {
                    let others: Vec<_> = found
                        .iter()
                        .map(|f| engine.rule(f.rule).id.as_str())
                        .collect();
                    let by = if others.is_empty() {
                        String::new()
                    } else {
                        format!(" (reported by: {})", others.join(", "))
                    };
                    report
                        .failures
                        .push(lint(format!("example #{} is not reported{by}", i + 1)));
                }
                (false, Some(want)) => {
                    if !mine.iter().any(|f| f.secret == want.as_bytes()) {
                        report.failures.push(lint(format!(
                            "example #{} captures a different secret ({} bytes) than expected ({} bytes)",
                            i + 1,
                            mine[0].secret.len(),
                            want.len()
                        )));
                    }
                }
                (false, None) => {}
            }
        }
        for (i, neg) in rule.negative_examples().iter().enumerate() {
            report.examples += 1;
            let meta = InputMeta {
                path: neg.path(),
                ..Default::default()
            };
            let found = examine(
                engine,
                &mut st,
                neg.text().as_bytes(),
                meta,
                rule.skip_report,
            );
            if found.iter().any(|f| engine.rule(f.rule).id == rule.id) {
                report
                    .failures
                    .push(lint(format!("negative example #{} is reported", i + 1)));
            }
        }
    }
    report
}
