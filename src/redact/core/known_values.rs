//! The known values in use: the shared registry, and where each value applies from.

use super::Redactor;
use crate::redact::known::{KnownRegistry, KnownSet, KnownValue};
use std::sync::Arc;

impl Redactor<'_> {
    /// Takes up the registry's values if they changed since the last look.
    pub(super) fn refresh_known(&mut self) {
        let Some(reg) = &self.registry else { return };
        if reg.version() == self.known_version {
            return;
        }
        let (set, version) = reg.current();
        self.install_known(set, version, self.scanned);
    }

    /// Uses `set` (the registry's `version`); values new to it apply from `from` on.
    fn install_known(&mut self, set: Arc<KnownSet>, version: u64, from: u64) {
        let old = self.known_from.len();
        self.known_from.resize(set.len(), from);
        // Values another stream added apply from here on; earlier ones keep their start.
        let _ = old;
        self.h = self.h.max(set.max_len() as u64 + 1);
        self.known = set;
        self.known_version = version;
    }

    /// The token of the `::stop-commands::` in effect (commands are stopped), if any.
    pub(super) fn stop_token(&self) -> Option<Vec<u8>> {
        self.registry.as_ref()?.stop_token()
    }

    /// The shared registry, created (with the values known so far) on first use.
    pub(super) fn registry(&mut self) -> &Arc<KnownRegistry> {
        let known = &self.known;
        self.registry
            .get_or_insert_with(|| Arc::new(KnownRegistry::from_set(known.clone())))
    }

    /// Adds a known value that applies from `from` on.
    pub(super) fn learn(&mut self, kv: KnownValue, from: u64) {
        let (set, version) = self.registry().add(kv);
        let n = self.known_from.len();
        self.install_known(set, version, self.scanned);
        for f in self.known_from.iter_mut().skip(n) {
            *f = from;
        }
    }
}
