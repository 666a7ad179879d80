//! The baseline as a sink: findings a baseline suppresses stop here, the rest go on.

use super::Sink;
use crate::baseline::Baseline;
use crate::finding::Finding;
use crate::report::Notices;
use crate::rules::RuleSet;
use std::io;

/// Drops the findings `baseline` suppresses and counts them; passes the rest to the sink it
/// wraps. Without a baseline it passes everything.
#[derive(Debug)]
pub struct Baselined<'a, S> {
    baseline: Option<&'a Baseline>,
    rules: &'a RuleSet,
    inner: S,
    suppressed: u64,
}

impl<'a, S: Sink> Baselined<'a, S> {
    /// Filters what goes to `inner` through `baseline`; `rules` says which rule ids exist
    /// (a gitleaks baseline's entries for rules shush does not have match any rule).
    pub fn new(baseline: Option<&'a Baseline>, rules: &'a RuleSet, inner: S) -> Self {
        Baselined {
            baseline,
            rules,
            inner,
            suppressed: 0,
        }
    }

    /// Findings dropped so far.
    pub fn suppressed(&self) -> u64 {
        self.suppressed
    }

    /// The sink it feeds.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The sink it feeds, given back.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Sink> Sink for Baselined<'_, S> {
    fn finding(&mut self, finding: Finding) -> io::Result<()> {
        if let Some(b) = self.baseline {
            let rules = self.rules;
            if b.suppresses(&finding, &|id: &str| rules.get(id).is_some()) {
                self.suppressed += 1;
                return Ok(());
            }
        }
        self.inner.finding(finding)
    }

    fn finish(&mut self, notices: Notices<'_>) -> io::Result<()> {
        self.inner.finish(notices)
    }

    fn unlisted(&self) -> u64 {
        self.inner.unlisted()
    }
}
