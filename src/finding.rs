//! The reported finding: what every output format serialises. A [`Finding`] never holds the
//! raw secret unless the user asked to see secrets: it is masked when the finding is built.

use crate::engine::{Encoding, Engine};
use crate::location::Located;
use crate::remediation::Remediation;
use crate::rules::Confidence;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Where a finding came from. Serialised with a `kind` tag (`file`, `stdin`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Source {
    /// A file on disk.
    File {
        /// The path as given or walked.
        path: String,
    },
    /// Standard input.
    Stdin,
    /// An entry inside an archive (at any depth).
    Archive {
        /// The archive's path, then each entry's path inside its container, outermost first.
        chain: Vec<String>,
    },
    /// A container image: a file in one of its layers, or a field of its config.
    Image(Box<ImageSource>),
    /// A blob in a git repository's history or index.
    Git {
        /// The commit that introduced the blob at `path` (the oldest one, unless every
        /// occurrence is listed); null for staged content and blobs no commit reaches.
        commit: Option<String>,
        /// The blob's object id.
        blob: String,
        /// The file's path in the commit's tree; null for a blob found without a path.
        path: Option<String>,
        /// The commit's author name.
        author_name: Option<String>,
        /// The commit's author email.
        author_email: Option<String>,
        /// The commit's author date, RFC 3339.
        date: Option<String>,
        /// The first line of the commit message.
        summary: Option<String>,
        /// Whether the object is unreachable from every ref (found with `--all-objects`).
        unreachable: bool,
    },
}

/// Where in a container image a finding sits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageSource {
    /// The image file or layout directory scanned.
    pub artifact: String,
    /// The image's name and tag, where the archive records one.
    pub image: Option<String>,
    /// Digest of the image manifest (OCI layouts; legacy `docker save` archives have none).
    pub manifest_digest: Option<String>,
    /// Platform of this manifest in a multi-platform index (`linux/arm64`).
    pub platform: Option<String>,
    /// Digest of the image config.
    pub config_digest: Option<String>,
    /// Index of the layer (0 = base), for a finding in a layer or in the history line that
    /// created one.
    pub layer_index: Option<usize>,
    /// The layer's digest.
    pub layer_digest: Option<String>,
    /// The build instruction that created the layer (the config's `history[].created_by`).
    pub created_by: Option<String>,
    /// The file's path inside the layer, for a finding in a layer.
    pub path: Option<String>,
    /// Entries inside that file, when it is itself an archive (a jar in a layer…).
    pub inner: Vec<String>,
    /// The config field, for a finding in the image config (`config.Env[2]`,
    /// `history[3].created_by`, `annotations.<key>`).
    pub field: Option<String>,
    /// Set when a later layer deletes or replaces the file: it is not in the running
    /// container's filesystem, but it still ships in the image.
    pub hidden_by: Option<HiddenBy>,
}

/// How a later layer hides a file that an earlier layer added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HiddenBy {
    /// Index of the hiding layer.
    pub layer_index: usize,
    /// Its digest.
    pub layer_digest: String,
    /// `whiteout` (the file or a parent deleted), `opaque` (a parent directory replaced
    /// whole) or `replaced` (the same path written again).
    pub how: String,
}

/// One reported secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    /// The rule that found it.
    pub rule_id: String,
    /// The rule's description.
    pub description: String,
    /// Display path of the input (`-` for stdin).
    pub path: String,
    /// 1-based line of the secret's first character.
    pub line: u64,
    /// 1-based column of the secret's first character.
    pub column: u64,
    /// 1-based line of the secret's last character.
    pub end_line: u64,
    /// 1-based column of the secret's last character (inclusive).
    pub end_column: u64,
    /// Byte offset of the secret in the input.
    pub offset: u64,
    /// Length of the secret's span in the input, in bytes.
    pub length: u64,
    /// The secret, masked unless secrets are revealed: the public prefix of its format and
    /// its length (`ghp_…(40)`), or `…` alone (see [`mask_public`]).
    pub secret: String,
    /// Keyed hash of rule id and secret (see [`crate::fingerprint`]): survives line moves,
    /// rebases and squashes, and confirms no guess to whoever lacks the key.
    pub fingerprint: String,
    /// A short name of the secret (12 hex digits of its fingerprint): equal for every
    /// location of one secret found by one rule, so reports can be grouped by it; different
    /// for two keys that mask alike (`AKIA…(20)`).
    pub secret_id: String,
    /// The first, unkeyed scheme's fingerprint: kept in memory only, to honour baselines
    /// written before keyed fingerprints for one release. Never serialised.
    #[serde(skip)]
    pub legacy_fingerprint: String,
    /// Shannon entropy of the secret, bits per byte.
    pub entropy: f64,
    /// How sure the rule is.
    pub confidence: Confidence,
    /// Encoding chain the secret was found through (outermost first), or null.
    pub decoded: Option<Vec<Encoding>>,
    /// The rule's tags.
    pub tags: Vec<String>,
    /// What to do about it: what the credential grants, where to revoke it.
    pub remediation: Arc<Remediation>,
    /// Where the input came from.
    pub source: Source,
}

impl Finding {
    /// Builds the finding for a located match. The raw secret is used for the fingerprint
    /// and then masked, unless `reveal` is set.
    pub fn new(
        engine: &Engine,
        located: &Located,
        path: &str,
        source: Source,
        reveal: bool,
    ) -> Self {
        let rule = engine.rule(located.rule);
        Finding {
            rule_id: rule.id.clone(),
            description: rule.description.clone(),
            path: path.to_string(),
            line: located.start.line,
            column: located.start.column,
            end_line: located.end.line,
            end_column: located.end.column,
            offset: located.secret_span.start,
            length: located.secret_span.end - located.secret_span.start,
            secret: if reveal {
                String::from_utf8_lossy(&located.secret).into_owned()
            } else {
                rule.mask(&located.secret)
            },
            fingerprint: String::new(),
            secret_id: String::new(),
            legacy_fingerprint: crate::fingerprint::legacy(&rule.id, &located.secret),
            entropy: (located.entropy * 1000.0).round() / 1000.0,
            confidence: rule.confidence,
            decoded: (!located.decoded.is_empty()).then(|| located.decoded.clone()),
            tags: rule.tags.clone(),
            remediation: Arc::clone(&rule.remediation),
            source,
        }
        .with_fingerprint(
            engine
                .fingerprint_key()
                .fingerprint(&rule.id, &located.secret),
        )
    }

    /// Sets the fingerprint and the secret id derived from it.
    fn with_fingerprint(mut self, fingerprint: String) -> Self {
        self.secret_id = secret_id_of(&fingerprint);
        self.fingerprint = fingerprint;
        self
    }

    /// The order of every report: git findings by reachability then commit date (oldest
    /// first), then everything by path, position, rule, offset and fingerprint. One order for
    /// every source and format, so that reports are deterministic whatever the threads did.
    pub fn report_order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
        a.order_key().cmp(&b.order_key())
    }

    fn order_key(&self) -> (bool, &str, &str, u64, u64, &str, u64, &str) {
        let (unreachable, date) = match &self.source {
            Source::Git {
                date, unreachable, ..
            } => (*unreachable, date.as_deref().unwrap_or("")),
            _ => (false, ""),
        };
        (
            unreachable,
            date,
            &self.path,
            self.line,
            self.column,
            &self.rule_id,
            self.offset,
            &self.fingerprint,
        )
    }
}

/// The secret id of a fingerprint: the first 12 hex digits of its hash part.
pub fn secret_id_of(fingerprint: &str) -> String {
    let hash = fingerprint.rsplit(':').next().unwrap_or(fingerprint);
    hash.chars().take(12).collect()
}

/// Masks a secret for display: its first `public` bytes (the fixed prefix of its format,
/// which says what it is and nothing an attacker does not know) and its length in characters,
/// `ghp_…(40)`; with no public prefix, `…` alone: neither a character nor the length of a
/// password.
pub fn mask_public(secret: &[u8], public: usize) -> String {
    if public == 0 || public > secret.len() {
        return "…".to_string();
    }
    let text = String::from_utf8_lossy(secret);
    let n = text.chars().count();
    let prefix: String = String::from_utf8_lossy(&secret[..public])
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    format!("{prefix}…({n})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_show_a_public_prefix_and_nothing_of_a_password() {
        let tok = b"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"; // shush:allow (synthetic)
        assert_eq!(mask_public(tok, 4), "ghp_…(40)");
        assert_eq!(mask_public(b"hunter22", 0), "…");
        assert_eq!(mask_public(b"a much longer password", 0), "…");
        assert_eq!(mask_public(b"\x01\x02abcdefghij", 2), "??…(12)");
    }
}
