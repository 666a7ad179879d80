//! One line of the redaction report (`--report FILE`): what was masked where, as JSON Lines.
//! A typed record, serialised by serde, so that the report's schema lives in one place.

use super::core::{Origin, Redaction};
use crate::engine::{Encoding, Engine};
use serde::Serialize;

/// A redaction as the report writes it: never the secret, only its preview and keyed
/// fingerprint.
#[derive(Debug, Clone, Serialize)]
pub struct RedactionRecord<'a> {
    /// The label the mask carries (a rule id, `known-secret`, …).
    pub rule_id: &'a str,
    /// What produced it: `rule`, `known` or `fail-closed`.
    pub kind: &'static str,
    /// The rule's description, or what the known value or held block was.
    pub description: String,
    /// The stream it was in (`stdout`, `stderr`, `stdin`).
    pub stream: &'a str,
    /// 1-based line.
    pub line: u64,
    /// 1-based column.
    pub column: u64,
    /// Byte offset in the stream.
    pub offset: u64,
    /// Length in bytes of what was masked.
    pub length: u64,
    /// A short preview of the secret (as scan reports show it).
    pub secret: &'a str,
    /// Keyed fingerprint of label and secret.
    pub fingerprint: &'a str,
    /// The rule's confidence (`high` for a known value, `low` for a held block).
    pub confidence: &'static str,
    /// Encodings the secret was found through, outermost first; `null` when none.
    pub decoded: Option<&'a [Encoding]>,
    /// The rule's tags.
    pub tags: Vec<String>,
}

impl<'a> RedactionRecord<'a> {
    /// The record of `r`, masked in `stream`; `engine` supplies the rule's metadata.
    pub fn new(engine: &Engine, stream: &'a str, r: &'a Redaction) -> Self {
        let (kind, description, confidence, tags) = match &r.origin {
            Origin::Rule(i) => {
                let rule = engine.rule(*i);
                (
                    "rule",
                    rule.description.clone(),
                    rule.confidence.as_str(),
                    rule.tags.clone(),
                )
            }
            Origin::Known(src) => ("known", format!("known value ({src})"), "high", vec![]),
            Origin::FailClosed(_) => (
                "fail-closed",
                "possible secret that never completed, masked whole".to_string(),
                "low",
                vec![],
            ),
        };
        RedactionRecord {
            rule_id: &r.label,
            kind,
            description,
            stream,
            line: r.line,
            column: r.column,
            offset: r.offset,
            length: r.length,
            secret: &r.preview,
            fingerprint: &r.fingerprint,
            confidence,
            decoded: (!r.decoded.is_empty()).then_some(&r.decoded[..]),
            tags,
        }
    }
}
