//! Findings grouped by secret: one [`SecretGroup`] per distinct secret (rule and secret id),
//! with where and when it was seen, and a [`Summary`] of a whole report. What a person
//! triages is a secret, not a line: a token committed once and copied into five files is one
//! credential to revoke. The text and HTML reports both group with [`group_by_secret`].

use crate::finding::{Finding, Source};
use crate::rules::Confidence;
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};

/// A commit a secret was seen in, with its date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Seen<'a> {
    /// The commit id (full), when the blob has one.
    pub commit: Option<&'a str>,
    /// Its author date, RFC 3339.
    pub date: &'a str,
    /// `date` as seconds since the epoch: dates carry their own offsets, so they are
    /// compared as instants, never as text.
    #[serde(skip)]
    pub at: i64,
}

impl<'a> Seen<'a> {
    /// The commit and date of a git finding whose date can be read.
    fn of(f: &'a Finding) -> Option<Self> {
        let Source::Git { commit, date, .. } = &f.source else {
            return None;
        };
        let date = date.as_deref()?;
        Some(Seen {
            commit: commit.as_deref(),
            date,
            at: epoch(date)?,
        })
    }
}

/// Seconds since the epoch of an RFC 3339 date.
fn epoch(date: &str) -> Option<i64> {
    gix::date::parse(date, None).ok().map(|t| t.seconds)
}

/// Every location of one secret found by one rule.
#[derive(Debug)]
pub struct SecretGroup<'a> {
    /// The findings, in report order.
    pub findings: Vec<&'a Finding>,
    /// The oldest commit it was seen in (git findings with a readable date only); of
    /// commits of one instant, the first in report order.
    pub first_seen: Option<Seen<'a>>,
    /// The newest commit it was seen in; of commits of one instant, the last in report
    /// order.
    pub last_seen: Option<Seen<'a>>,
}

impl<'a> SecretGroup<'a> {
    /// The group's first finding: rule, masked secret, secret id and remediation are the
    /// same for all of them.
    pub fn head(&self) -> &'a Finding {
        self.findings[0]
    }

    fn add(&mut self, f: &'a Finding) {
        if let Some(seen) = Seen::of(f) {
            if self.first_seen.is_none_or(|s| seen.at < s.at) {
                self.first_seen = Some(seen);
            }
            // Findings come oldest first: among commits of one instant, the later one is newer.
            if self.last_seen.is_none_or(|s| seen.at >= s.at) {
                self.last_seen = Some(seen);
            }
        }
        self.findings.push(f);
    }

    /// The order of groups in a report: most confident first, then the most recently seen
    /// (never seen last), then by rule and secret id (deterministic).
    fn order_key(&self) -> (Reverse<Confidence>, Reverse<Option<i64>>, &str, &str) {
        let head = self.head();
        (
            Reverse(head.confidence),
            Reverse(self.last_seen.map(|s| s.at)),
            &head.rule_id,
            &head.secret_id,
        )
    }
}

/// Groups `findings` (in report order) by secret, keeping report order within a group, in
/// the order a person triages them (see [`SecretGroup`]'s order).
pub fn group_by_secret(findings: &[Finding]) -> Vec<SecretGroup<'_>> {
    let mut index: HashMap<(&str, &str), usize> = HashMap::new();
    let mut groups: Vec<SecretGroup<'_>> = Vec::new();
    for f in findings {
        let key = (f.rule_id.as_str(), f.secret_id.as_str());
        let i = *index.entry(key).or_insert_with(|| {
            groups.push(SecretGroup {
                findings: Vec::new(),
                first_seen: None,
                last_seen: None,
            });
            groups.len() - 1
        });
        groups[i].add(f);
    }
    groups.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
    groups
}

/// Counts over a whole report: what the one-screen summary at its end shows.
#[derive(Debug, Default)]
pub struct Summary {
    /// Findings (locations).
    pub findings: usize,
    /// Distinct secrets.
    pub secrets: usize,
    /// Distinct secrets per confidence, most confident first.
    pub by_confidence: Vec<(Confidence, usize)>,
    /// Distinct secrets and findings per rule, most secrets first.
    pub by_rule: Vec<(String, usize, usize)>,
    /// Findings per top-level directory (or file), most first.
    pub by_path: Vec<(String, usize)>,
}

impl Summary {
    /// The summary of `groups`.
    pub fn of(groups: &[SecretGroup<'_>]) -> Summary {
        let mut confidence: BTreeMap<Reverse<Confidence>, usize> = BTreeMap::new();
        let mut rules: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        let mut paths: BTreeMap<String, usize> = BTreeMap::new();
        let mut findings = 0;
        for g in groups {
            let head = g.head();
            *confidence.entry(Reverse(head.confidence)).or_default() += 1;
            let rule = rules.entry(&head.rule_id).or_default();
            rule.0 += 1;
            rule.1 += g.findings.len();
            findings += g.findings.len();
            for f in &g.findings {
                *paths.entry(top_of(&f.path)).or_default() += 1;
            }
        }
        let mut by_rule: Vec<_> = rules
            .into_iter()
            .map(|(r, (s, f))| (r.to_string(), s, f))
            .collect();
        by_rule.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
        let mut by_path: Vec<_> = paths.into_iter().collect();
        by_path.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        Summary {
            findings,
            secrets: groups.len(),
            by_confidence: confidence.into_iter().map(|(c, n)| (c.0, n)).collect(),
            by_rule,
            by_path,
        }
    }
}

/// The first component of a path, with its `/` when it is a directory (`src/`), or the path
/// itself (a file at the root, `-` for standard input).
fn top_of(path: &str) -> String {
    let path = path.strip_prefix("./").unwrap_or(path);
    match path.split_once(['/', '\\']) {
        Some((dir, _)) if !dir.is_empty() => format!("{dir}/"),
        _ => path.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing;
    use super::*;

    fn finding(rule: &str, id: &str, confidence: Confidence, source: Source) -> Finding {
        let mut f = testing::finding("p", source);
        f.rule_id = rule.into();
        f.secret_id = id.into();
        f.confidence = confidence;
        f
    }

    fn git(commit: &str, date: &str) -> Source {
        Source::Git {
            commit: Some(commit.into()),
            blob: "b".into(),
            path: Some("p".into()),
            author_name: None,
            author_email: None,
            date: Some(date.into()),
            summary: None,
            unreachable: false,
        }
    }

    fn file() -> Source {
        Source::File { path: "p".into() }
    }

    fn high(rule: &str, id: &str, source: Source) -> Finding {
        finding(rule, id, Confidence::High, source)
    }

    fn rules_of<'a>(groups: &[SecretGroup<'a>]) -> Vec<&'a str> {
        groups.iter().map(|g| g.head().rule_id.as_str()).collect()
    }

    #[test]
    fn one_group_per_secret_of_a_rule_ties_by_rule_then_secret_id() {
        let fs = [
            high("b", "222", file()),
            high("a", "333", file()),
            high("a", "111", file()),
            // The same id under another rule is another secret.
            high("c", "111", file()),
            high("a", "111", file()),
        ];
        let groups = group_by_secret(&fs);
        let shape: Vec<_> = (groups.iter())
            .map(|g| {
                (
                    g.head().rule_id.as_str(),
                    g.head().secret_id.as_str(),
                    g.findings.len(),
                )
            })
            .collect();
        assert_eq!(
            shape,
            [
                ("a", "111", 2),
                ("a", "333", 1),
                ("b", "222", 1),
                ("c", "111", 1)
            ]
        );
        // Report order within a group.
        assert!(std::ptr::eq(groups[0].findings[0], &fs[2]));
        assert!(std::ptr::eq(groups[0].findings[1], &fs[4]));
        assert!(groups[0].first_seen.is_none() && groups[0].last_seen.is_none());
    }

    #[test]
    fn confidence_first_then_most_recently_seen_as_instants() {
        let fs = [
            finding(
                "low",
                "1",
                Confidence::Low,
                git("c1", "2024-01-01T00:00:00+00:00"),
            ),
            // 10:00 at +05:00 is 05:00 UTC: older than 06:00 UTC, though later as text.
            high("older", "2", git("c2", "2021-01-01T10:00:00+05:00")),
            high("newer", "3", git("c3", "2021-01-01T06:00:00+00:00")),
            // Never seen in a commit: after every seen secret of its confidence.
            high("file", "5", file()),
            finding(
                "mid",
                "4",
                Confidence::Medium,
                git("c4", "2022-01-01T00:00:00+00:00"),
            ),
        ];
        let groups = group_by_secret(&fs);
        assert_eq!(rules_of(&groups), ["newer", "older", "file", "mid", "low"]);
    }

    /// The first and last seen commits of one secret found in `commits` (commit and date),
    /// in report order.
    fn first_and_last(commits: &[(&str, &str)]) -> (Option<String>, Option<String>) {
        let fs: Vec<_> = (commits.iter())
            .map(|(c, d)| high("a", "1", git(c, d)))
            .collect();
        let g = &group_by_secret(&fs)[0];
        let commit = |s: Option<Seen<'_>>| s.and_then(|s| s.commit).map(str::to_string);
        (commit(g.first_seen), commit(g.last_seen))
    }

    #[test]
    fn first_and_last_seen_are_instants_and_ties_go_by_report_order() {
        let cases = [
            // 10:00 at +05:00 is 05:00 UTC: the earliest, though not as text.
            (
                &[
                    ("late", "2021-01-01T06:00:00+00:00"),
                    ("early", "2021-01-01T10:00:00+05:00"),
                    ("mid", "2021-01-01T05:30:00+00:00"),
                ],
                "early",
                "late",
            ),
            // One instant in two offsets (as text the middle one would be the latest): the
            // first in report order is the oldest, the last the newest.
            (
                &[
                    ("one", "2021-01-01T05:00:00+00:00"),
                    ("two", "2021-01-01T10:00:00+05:00"),
                    ("three", "2021-01-01T05:00:00+00:00"),
                ],
                "one",
                "three",
            ),
        ];
        for (commits, first, last) in cases {
            let seen = first_and_last(commits);
            assert_eq!(seen, (Some(first.into()), Some(last.into())), "{commits:?}");
        }
    }

    #[test]
    fn an_unreadable_date_is_not_a_sighting() {
        assert_eq!(first_and_last(&[("c", "not a date")]), (None, None));
    }

    #[test]
    fn summary_counts_secrets_locations_and_rules() {
        let fs = [
            high("a", "1", file()),
            high("a", "1", file()),
            high("a", "2", file()),
            finding("b", "1", Confidence::Low, file()),
        ];
        let s = Summary::of(&group_by_secret(&fs));
        assert_eq!((s.findings, s.secrets), (4, 3));
        assert_eq!(
            s.by_confidence,
            [(Confidence::High, 2), (Confidence::Low, 1)]
        );
        assert_eq!(s.by_rule, [("a".into(), 2, 3), ("b".into(), 1, 1)]);
        assert_eq!(s.by_path, [("p".into(), 4)]);
    }

    #[test]
    fn top_components() {
        assert_eq!(top_of("src/a/b.rs"), "src/");
        assert_eq!(top_of("./docs/x.md"), "docs/");
        assert_eq!(top_of(".env"), ".env");
        assert_eq!(top_of("/etc/passwd"), "/etc/passwd");
    }
}
