//! The HTML report's unit: one group per distinct secret (rule and `secret_id`), with every
//! location it was found at, when it was first and last seen (git history), and the order a
//! person should look at them in: most confident first, then most recently seen first.

use crate::finding::{Finding, Source};
use crate::rules::{Confidence, RuleSet};
use serde::Serialize;
use std::collections::HashMap;

/// One distinct secret and everywhere it was found.
#[derive(Debug, Serialize)]
pub struct Group<'a> {
    /// The short id every location of the secret shares.
    pub secret_id: &'a str,
    /// The rule that found it.
    pub rule_id: &'a str,
    /// The rule's description.
    pub description: &'a str,
    /// The secret as the findings have it (masked unless secrets are revealed).
    pub secret: &'a str,
    /// How sure the rule is.
    pub confidence: Confidence,
    /// The rule's reference links (provider documentation), for the reader to follow.
    pub references: &'a [String],
    /// The oldest commit that carries it, for git findings with a date.
    pub first_seen: Option<Seen<'a>>,
    /// The newest commit that carries it, for git findings with a date.
    pub last_seen: Option<Seen<'a>>,
    /// Every finding of the secret, in report order.
    pub locations: Vec<&'a Finding>,
    /// `first_seen` as seconds since the epoch (dates carry their own offsets).
    #[serde(skip)]
    first_seen_at: Option<i64>,
    /// `last_seen` as seconds since the epoch, for sorting.
    #[serde(skip)]
    last_seen_at: Option<i64>,
}

/// A commit a secret was seen in.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Seen<'a> {
    /// The commit id (full; the page shortens it), when the blob has one.
    pub commit: Option<&'a str>,
    /// The commit's author date, RFC 3339.
    pub date: &'a str,
}

/// Groups `findings` by secret (a rule's `secret_id`), keeping report order within a group,
/// and sorts the groups: confidence high first, then the most recent last-seen first, then
/// the order their first location came in.
pub fn group<'a>(findings: &'a [Finding], rules: &'a RuleSet) -> Vec<Group<'a>> {
    let mut index: HashMap<(&str, &str), usize> = HashMap::new();
    let mut groups: Vec<Group<'a>> = Vec::new();
    for f in findings {
        let key = (f.rule_id.as_str(), f.secret_id.as_str());
        let i = *index.entry(key).or_insert_with(|| {
            groups.push(Group::new(f, rules));
            groups.len() - 1
        });
        groups[i].add(f);
    }
    // Stable: groups that tie keep the order of their first location.
    groups.sort_by(|a, b| {
        b.confidence
            .cmp(&a.confidence)
            .then_with(|| b.last_seen_at.cmp(&a.last_seen_at))
    });
    groups
}

impl<'a> Group<'a> {
    fn new(f: &'a Finding, rules: &'a RuleSet) -> Self {
        Group {
            secret_id: &f.secret_id,
            rule_id: &f.rule_id,
            description: &f.description,
            secret: &f.secret,
            confidence: f.confidence,
            references: rules.get(&f.rule_id).map_or(&[], |r| &r.references),
            first_seen: None,
            last_seen: None,
            locations: Vec::new(),
            first_seen_at: None,
            last_seen_at: None,
        }
    }

    /// Adds a location, moving first and last seen to take in its commit date.
    fn add(&mut self, f: &'a Finding) {
        self.locations.push(f);
        let Some((seen, at)) = seen_in(f) else {
            return;
        };
        if self.first_seen_at.is_none_or(|t| at < t) {
            self.first_seen = Some(seen);
            self.first_seen_at = Some(at);
        }
        if self.last_seen_at.is_none_or(|t| at > t) {
            self.last_seen = Some(seen);
            self.last_seen_at = Some(at);
        }
    }
}

/// The commit and date of a git finding whose date can be read.
fn seen_in(f: &Finding) -> Option<(Seen<'_>, i64)> {
    let Source::Git { commit, date, .. } = &f.source else {
        return None;
    };
    let date = date.as_deref()?;
    let at = epoch(date)?;
    let seen = Seen {
        commit: commit.as_deref(),
        date,
    };
    Some((seen, at))
}

/// Seconds since the epoch of an RFC 3339 date (compared as instants, not as text: two
/// commits' dates may carry different offsets).
fn epoch(date: &str) -> Option<i64> {
    gix::date::parse(date, None).ok().map(|t| t.seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &str, id: &str, confidence: Confidence, source: Source) -> Finding {
        Finding {
            rule_id: rule.into(),
            description: format!("{rule} description"),
            path: "p".into(),
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 1,
            offset: 0,
            length: 1,
            secret: "…".into(),
            fingerprint: format!("v2:k:{id}"),
            secret_id: id.into(),
            legacy_fingerprint: String::new(),
            entropy: 0.0,
            confidence,
            decoded: None,
            tags: Vec::new(),
            remediation: std::sync::Arc::new(crate::remediation::Remediation::of_rule(None, &[])),
            source,
        }
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

    #[test]
    fn one_group_per_secret_of_a_rule() {
        let rules = RuleSet::builtin().unwrap();
        let fs = [
            finding("a", "111", Confidence::High, file()),
            finding("b", "222", Confidence::High, file()),
            finding("a", "111", Confidence::High, file()),
            // Another secret of the same rule.
            finding("a", "333", Confidence::High, file()),
            // The same id under another rule is another secret.
            finding("c", "111", Confidence::High, file()),
            finding("a", "111", Confidence::High, file()),
        ];
        let groups = group(&fs, &rules);
        let shape: Vec<_> = groups
            .iter()
            .map(|g| (g.rule_id, g.secret_id, g.locations.len()))
            .collect();
        assert_eq!(
            shape,
            [
                ("a", "111", 3),
                ("b", "222", 1),
                ("a", "333", 1),
                ("c", "111", 1)
            ]
        );
        assert!(groups[0].first_seen.is_none() && groups[0].last_seen.is_none());
    }

    #[test]
    fn confidence_first_then_most_recently_seen() {
        let rules = RuleSet::builtin().unwrap();
        let fs = [
            finding(
                "low",
                "1",
                Confidence::Low,
                git("c1", "2024-01-01T00:00:00+00:00"),
            ),
            finding(
                "old",
                "2",
                Confidence::High,
                git("c2", "2020-01-01T00:00:00+00:00"),
            ),
            finding(
                "new",
                "3",
                Confidence::High,
                git("c3", "2021-01-01T00:00:00+00:00"),
            ),
            finding(
                "mid",
                "4",
                Confidence::Medium,
                git("c4", "2022-01-01T00:00:00+00:00"),
            ),
        ];
        let order: Vec<_> = group(&fs, &rules).iter().map(|g| g.rule_id).collect();
        assert_eq!(order, ["new", "old", "mid", "low"]);
    }

    #[test]
    fn first_and_last_seen_compare_instants_across_offsets() {
        let rules = RuleSet::builtin().unwrap();
        let fs = [
            // 10:00 at +05:00 is 05:00 UTC: earlier than 06:00 UTC, though it sorts later as text.
            finding(
                "a",
                "1",
                Confidence::High,
                git("late", "2021-01-01T06:00:00+00:00"),
            ),
            finding(
                "a",
                "1",
                Confidence::High,
                git("early", "2021-01-01T10:00:00+05:00"),
            ),
            finding(
                "a",
                "1",
                Confidence::High,
                git("mid", "2021-01-01T05:30:00+00:00"),
            ),
        ];
        let g = &group(&fs, &rules)[0];
        assert_eq!(g.first_seen.unwrap().commit, Some("early"));
        assert_eq!(g.last_seen.unwrap().commit, Some("late"));
        assert_eq!(g.locations.len(), 3);
    }
}
