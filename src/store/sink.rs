//! [`Triaged`]: the sink that records every finding in a triage store and passes on only
//! what still needs a person: secrets whose status is open, and with `new_only` only the
//! places no earlier run saw.

use super::{Status, Store};
use crate::finding::Finding;
use crate::report::Notices;
use crate::sink::Sink;
use std::collections::BTreeMap;
use std::io;

/// What a run did to the store.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TriageStats {
    /// Findings recorded.
    pub recorded: u64,
    /// Secrets seen for the first time.
    pub new_secrets: u64,
    /// Places seen for the first time.
    pub new_locations: u64,
    /// Places of the run's scope no longer seen (complete runs only).
    pub gone_locations: u64,
    /// Findings held back because their secret is triaged, per status.
    pub suppressed: BTreeMap<Status, u64>,
    /// Findings of open secrets held back by `new_only` (places seen before).
    pub seen_before: u64,
}

/// Records findings in a store and filters them by triage status; a pass-through without a
/// store. The run is one transaction, committed at [`Sink::finish`] (complete when the run
/// has no errors).
pub struct Triaged<S> {
    store: Option<(Store, i64, String)>,
    recording: bool,
    new_only: bool,
    inner: S,
    stats: TriageStats,
}

impl<S> std::fmt::Debug for Triaged<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Triaged")
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl<S: Sink> Triaged<S> {
    /// Passes every finding to `inner`.
    pub fn pass_through(inner: S) -> Self {
        Triaged {
            store: None,
            recording: false,
            new_only: false,
            inner,
            stats: TriageStats::default(),
        }
    }

    /// Records findings in `store` as a run of `command` over `scope`; passes on open
    /// secrets' findings (only new places with `new_only`). `clear_secrets`: the findings
    /// hold secrets in clear (`--show-secrets`).
    pub fn recording(
        mut store: Store,
        command: &str,
        scope: &str,
        clear_secrets: bool,
        new_only: bool,
        inner: S,
    ) -> super::Result<Self> {
        let run = store.begin_run(command, scope, clear_secrets)?;
        Ok(Triaged {
            store: Some((store, run, scope.to_string())),
            recording: true,
            new_only,
            inner,
            stats: TriageStats::default(),
        })
    }

    /// What the run did to the store.
    pub fn stats(&self) -> &TriageStats {
        &self.stats
    }

    /// Whether it records in a store (before and after the run is committed).
    pub fn is_recording(&self) -> bool {
        self.recording
    }

    /// The sink it feeds.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S: Sink> Sink for Triaged<S> {
    fn finding(&mut self, finding: Finding) -> io::Result<()> {
        let Some((store, run, scope)) = &mut self.store else {
            return self.inner.finding(finding);
        };
        let recorded = store
            .record(*run, scope, &finding)
            .map_err(io::Error::other)?;
        self.stats.recorded += 1;
        self.stats.new_secrets += u64::from(recorded.new_secret);
        self.stats.new_locations += u64::from(recorded.new_location);
        if recorded.status != Status::Open {
            *self.stats.suppressed.entry(recorded.status).or_default() += 1;
            return Ok(());
        }
        if self.new_only && !recorded.new_location {
            self.stats.seen_before += 1;
            return Ok(());
        }
        self.inner.finding(finding)
    }

    fn finish(&mut self, notices: Notices<'_>) -> io::Result<()> {
        if let Some((mut store, run, scope)) = self.store.take() {
            let complete = notices.errors.is_empty();
            self.stats.gone_locations = store
                .finish_run(run, &scope, self.stats.recorded, complete)
                .map_err(io::Error::other)?;
        }
        self.inner.finish(notices)
    }

    fn unlisted(&self) -> u64 {
        self.inner.unlisted()
    }
}
