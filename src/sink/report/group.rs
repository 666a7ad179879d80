//! Findings grouped by secret: one [`SecretGroup`] per distinct secret (rule and secret id),
//! with where and when it was seen, and a [`Summary`] of a whole report. What a person
//! triages is a secret, not a line: a token committed once and copied into five files is one
//! credential to revoke.

use crate::finding::{Finding, Source};
use crate::rules::Confidence;
use std::collections::{BTreeMap, HashMap};

/// A commit a secret was seen in, with its date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen<'a> {
    /// The commit id.
    pub commit: &'a str,
    /// Its author date, RFC 3339.
    pub date: &'a str,
}

/// Every location of one secret found by one rule.
#[derive(Debug)]
pub struct SecretGroup<'a> {
    /// The findings, in report order.
    pub findings: Vec<&'a Finding>,
    /// The oldest commit it was seen in (git findings with a commit only).
    pub first_seen: Option<Seen<'a>>,
    /// The newest commit it was seen in.
    pub last_seen: Option<Seen<'a>>,
}

impl<'a> SecretGroup<'a> {
    /// The group's first finding: rule, masked secret, secret id and remediation are the
    /// same for all of them.
    pub fn head(&self) -> &'a Finding {
        self.findings[0]
    }

    fn add(&mut self, f: &'a Finding) {
        if let Source::Git {
            commit: Some(commit),
            date: Some(date),
            ..
        } = &f.source
        {
            let seen = Seen { commit, date };
            if self.first_seen.is_none_or(|s| seen.date < s.date) {
                self.first_seen = Some(seen);
            }
            // Findings come oldest first: among commits of one date, the later one is newer.
            if self.last_seen.is_none_or(|s| seen.date >= s.date) {
                self.last_seen = Some(seen);
            }
        }
        self.findings.push(f);
    }

    /// The order of groups in a report: most confident first, then the most recently seen,
    /// then by rule and secret id (deterministic).
    fn order_key(
        &self,
    ) -> (
        std::cmp::Reverse<Confidence>,
        std::cmp::Reverse<&str>,
        &str,
        &str,
    ) {
        let head = self.head();
        (
            std::cmp::Reverse(head.confidence),
            std::cmp::Reverse(self.last_seen.map_or("", |s| s.date)),
            &head.rule_id,
            &head.secret_id,
        )
    }
}

/// Groups `findings` (in report order) by secret, in the order a person triages them.
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
        let mut confidence: BTreeMap<std::cmp::Reverse<Confidence>, usize> = BTreeMap::new();
        let mut rules: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        let mut paths: BTreeMap<String, usize> = BTreeMap::new();
        let mut findings = 0;
        for g in groups {
            let head = g.head();
            *confidence
                .entry(std::cmp::Reverse(head.confidence))
                .or_default() += 1;
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
    use super::*;

    #[test]
    fn top_components() {
        assert_eq!(top_of("src/a/b.rs"), "src/");
        assert_eq!(top_of("./docs/x.md"), "docs/");
        assert_eq!(top_of(".env"), ".env");
        assert_eq!(top_of("/etc/passwd"), "/etc/passwd");
    }
}
