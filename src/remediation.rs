//! What to do about a finding: every report says what the credential grants, where it is
//! revoked, and the command that does it where the provider documents one. The facts come
//! from the rule files (`[[remediation]]` in `detectors/*.toml`, or a user's own rules);
//! a rule without them gets the one piece of advice that is always right: rotate at the
//! issuer.

use crate::rules::spec::RemediationSpec;
use serde::{Deserialize, Serialize};

/// The advice of every finding whose rule has no remediation of its own.
pub const ROTATE_AT_THE_ISSUER: &str = "Rotate at the issuer: revoke this credential where it was issued and replace it where it is used. Deleting it from the code or the history does not disable it.";

/// The advice of a finding whose rule names the page where its credential is revoked.
const REVOKE_AT_THE_URL: &str = "Revoke it at the issuer and replace it where it is used. Deleting it from the code or the history does not disable it.";

/// What to do about a finding, as reports show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remediation {
    /// One sentence for people: revoke at the issuer, or rotate at the issuer.
    pub summary: String,
    /// What whoever holds the credential can do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grants: Option<String>,
    /// The page where the credential is revoked or rotated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoke_url: Option<String>,
    /// A documented command that revokes or rotates it (`<placeholders>` to fill in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Documentation: the provider's page on revoking it, else the rule's first reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs: Option<String>,
}

impl Remediation {
    /// The remediation of a rule: its spec where it has one, with `references` as the
    /// documentation when the spec names none.
    pub fn of_rule(spec: Option<&RemediationSpec>, references: &[String]) -> Remediation {
        let spec = spec.cloned().unwrap_or_default();
        let summary = match spec.revoke_url {
            Some(_) => REVOKE_AT_THE_URL,
            None => ROTATE_AT_THE_ISSUER,
        };
        Remediation {
            summary: summary.to_string(),
            grants: spec.grants,
            revoke_url: spec.revoke_url,
            command: spec.command,
            docs: spec.docs.or_else(|| references.first().cloned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_without_remediation_says_rotate_at_the_issuer() {
        let r = Remediation::of_rule(None, &["https://example.com/format".to_string()]);
        assert_eq!(r.summary, ROTATE_AT_THE_ISSUER);
        assert_eq!((r.grants, r.revoke_url), (None, None));
        assert_eq!(r.docs.as_deref(), Some("https://example.com/format"));
    }

    #[test]
    fn a_rule_with_a_revoke_page_says_revoke_there() {
        let spec = RemediationSpec {
            grants: Some("everything".into()),
            revoke_url: Some("https://issuer.example/tokens".into()),
            ..Default::default()
        };
        let r = Remediation::of_rule(Some(&spec), &[]);
        assert!(r.summary.starts_with("Revoke it at the issuer"));
        assert_eq!(
            r.revoke_url.as_deref(),
            Some("https://issuer.example/tokens")
        );
        assert_eq!(r.docs, None);
    }
}
