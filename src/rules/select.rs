//! Choosing which rules run — `[extend] disabledRules`, `--disable-rule`, `--enable-rule`,
//! `--min-confidence` — and cleaning up what removing a rule leaves behind: allowlists
//! scoped to it (`targetRules`) and composite rules that need it (`[[rules.required]]`).

use super::compile::Confidence;
use super::load::LoadedConfig;
use super::spec::ConfigFile;
use crate::error::{Error, Result};
use std::collections::HashSet;

/// Which rules of a loaded configuration to keep, from the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleSelection {
    /// Rule ids to leave out.
    pub disable: Vec<String>,
    /// When not empty, only these rules run (with the rules they require).
    pub enable: Vec<String>,
    /// Leave out rules less sure than this.
    pub min_confidence: Option<Confidence>,
}

impl RuleSelection {
    /// Whether the selection keeps every rule.
    pub fn is_empty(&self) -> bool {
        self.disable.is_empty() && self.enable.is_empty() && self.min_confidence.is_none()
    }

    /// Removes the rules the selection leaves out. Naming a rule that does not exist is an
    /// error (a typo must not silently keep a rule on or off), and so is a selection that
    /// leaves no rule to run.
    pub fn apply(&self, loaded: &mut LoadedConfig) -> Result<()> {
        if self.is_empty() {
            return Ok(());
        }
        let cfg = &mut loaded.config;
        let known: HashSet<&str> = cfg.rules.iter().map(|r| r.id.as_str()).collect();
        let unknown: Vec<&str> = self
            .disable
            .iter()
            .chain(&self.enable)
            .map(String::as_str)
            .filter(|id| !known.contains(id))
            .collect();
        if !unknown.is_empty() {
            return Err(Error::Config {
                origin: loaded.origin.clone(),
                message: format!(
                    "no rule named {} (`shush rules list` shows the rules in effect)",
                    unknown
                        .iter()
                        .map(|id| format!("`{id}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        let removed = self.removed(cfg);
        cfg.rules.retain(|r| !removed.contains(&r.id));
        prune_references(cfg, &removed, &loaded.origin, &mut loaded.warnings);
        loaded.ensure_rules()
    }

    /// The ids this selection removes from `cfg`.
    fn removed(&self, cfg: &ConfigFile) -> HashSet<String> {
        let needed = if self.enable.is_empty() {
            None
        } else {
            Some(required_closure(cfg, &self.enable))
        };
        // A `skipReport` component is never reported, so its own confidence does not matter.
        let too_weak = |r: &super::spec::RuleSpec| {
            let conf = r
                .confidence
                .as_deref()
                .and_then(Confidence::parse)
                .unwrap_or(Confidence::Medium);
            !r.skip_report && self.min_confidence.is_some_and(|min| conf < min)
        };
        cfg.rules
            .iter()
            .filter(|r| {
                self.disable.contains(&r.id)
                    || needed.as_ref().is_some_and(|n| !n.contains(&r.id))
                    || too_weak(r)
            })
            .map(|r| r.id.clone())
            .collect()
    }
}

/// `roots` and every rule they require, transitively.
fn required_closure(cfg: &ConfigFile, roots: &[String]) -> HashSet<String> {
    let mut keep: HashSet<String> = roots.iter().cloned().collect();
    let mut todo: Vec<String> = roots.to_vec();
    while let Some(id) = todo.pop() {
        let Some(rule) = cfg.rules.iter().find(|r| r.id == id) else {
            continue;
        };
        for req in &rule.required {
            if keep.insert(req.id.clone()) {
                todo.push(req.id.clone());
            }
        }
    }
    keep
}

/// After the rules in `removed` were taken out of `cfg` (and not defined again): allowlists
/// scoped only to removed rules go too (left in place they would apply to every rule), the
/// removed ids leave the other allowlists' `targetRules`, and a composite rule that needs a
/// removed rule cannot match any more, so it is removed as well, with a warning.
pub(crate) fn prune_references(
    cfg: &mut ConfigFile,
    removed: &HashSet<String>,
    origin: &str,
    warnings: &mut Vec<String>,
) {
    let present: HashSet<String> = cfg.rules.iter().map(|r| r.id.clone()).collect();
    let mut gone: HashSet<String> = removed.difference(&present).cloned().collect();
    if gone.is_empty() {
        return;
    }
    loop {
        let orphans: Vec<(String, String)> = cfg
            .rules
            .iter()
            .filter_map(|r| {
                r.required
                    .iter()
                    .find(|q| gone.contains(&q.id))
                    .map(|q| (r.id.clone(), q.id.clone()))
            })
            .collect();
        if orphans.is_empty() {
            break;
        }
        for (id, needs) in orphans {
            warnings.push(format!(
                "{origin}: rule `{id}` needs `{needs}`, which is disabled; `{id}` is disabled too"
            ));
            gone.insert(id);
        }
        cfg.rules.retain(|r| !gone.contains(&r.id));
    }
    cfg.allowlists.retain_mut(|a| {
        if a.target_rules.is_empty() {
            return true;
        }
        a.target_rules.retain(|id| !gone.contains(id));
        !a.target_rules.is_empty()
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn loaded(toml: &str) -> LoadedConfig {
        LoadedConfig::from_toml(toml, "t.toml", Path::new(".")).unwrap()
    }

    const COMPOSITE: &str = r#"
        [[rules]]
        id = "user"
        regex = 'user_[a-z]{8}'
        skipReport = true
        confidence = "low"
        [[rules]]
        id = "pair"
        regex = 'pass_[a-z]{8}'
        confidence = "high"
        [[rules.required]]
        id = "user"
        [[rules]]
        id = "weak"
        regex = 'weak_[a-z]{8}'
        confidence = "low"
        [[allowlists]]
        targetRules = ["weak"]
        stopwords = ["x"]
        [[allowlists]]
        targetRules = ["weak", "pair"]
        stopwords = ["y"]
    "#;

    fn ids(l: &LoadedConfig) -> Vec<&str> {
        l.config.rules.iter().map(|r| r.id.as_str()).collect()
    }

    #[test]
    fn disabling_prunes_allowlists_and_dependents() {
        let mut l = loaded(COMPOSITE);
        let sel = RuleSelection {
            disable: vec!["weak".into(), "user".into()],
            ..Default::default()
        };
        // Disabling `user` takes `pair` with it: nothing reportable is left.
        assert!(sel.apply(&mut l).is_err());
        let mut l = loaded(COMPOSITE);
        let sel = RuleSelection {
            disable: vec!["weak".into()],
            ..Default::default()
        };
        sel.apply(&mut l).unwrap();
        assert_eq!(ids(&l), ["user", "pair"]);
        // The allowlist scoped only to `weak` is gone, not turned global.
        assert_eq!(l.config.allowlists.len(), 1);
        assert_eq!(l.config.allowlists[0].target_rules, ["pair"]);
    }

    #[test]
    fn enabling_keeps_required_components() {
        let mut l = loaded(COMPOSITE);
        let sel = RuleSelection {
            enable: vec!["pair".into()],
            ..Default::default()
        };
        sel.apply(&mut l).unwrap();
        assert_eq!(ids(&l), ["user", "pair"]);
    }

    #[test]
    fn min_confidence_spares_components() {
        let mut l = loaded(COMPOSITE);
        let sel = RuleSelection {
            min_confidence: Some(Confidence::Medium),
            ..Default::default()
        };
        sel.apply(&mut l).unwrap();
        assert_eq!(ids(&l), ["user", "pair"]);
    }

    #[test]
    fn unknown_ids_are_errors() {
        let mut l = loaded(COMPOSITE);
        let sel = RuleSelection {
            disable: vec!["wek".into()],
            ..Default::default()
        };
        let e = sel.apply(&mut l).unwrap_err().to_string();
        assert!(e.contains("`wek`"), "{e}");
    }
}
