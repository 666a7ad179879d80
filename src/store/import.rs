//! Importing the decisions of an existing baseline into a triage store: a shush baseline
//! (JSON, JSON Lines or SARIF: keyed fingerprints), a gitleaks JSON report or
//! `.gitleaksignore` (places: commit, file, rule, line), or a detect-secrets
//! `.secrets.baseline` (places: file and line, and whether an audit marked it a secret).
//! Secrets already in the store take the status at once; the others when a run first finds
//! them. detect-secrets' unkeyed SHA-1 of each secret is never copied into the store.

use super::{Result, Status, Store, StoreError};
use crate::baseline::{Baseline, normalise};
use crate::finding::Finding;
use std::path::Path;

/// The kind of baseline file to import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    /// Decided from the content.
    Auto,
    /// A shush report (JSON, JSON Lines, SARIF) or a gitleaks JSON report.
    Report,
    /// A `.gitleaksignore` file.
    GitleaksIgnore,
    /// A detect-secrets `.secrets.baseline`.
    DetectSecrets,
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Imported {
    /// Entries read (fingerprints and places).
    pub entries: usize,
    /// Secrets already in the store whose status changed.
    pub applied: usize,
    /// Entries kept for secrets no run has found yet.
    pub pending: usize,
    /// Old unkeyed fingerprints skipped (write the baseline again under a key first).
    pub legacy_skipped: usize,
    /// Fingerprints made under another key, skipped.
    pub other_key_skipped: usize,
}

impl Store {
    /// Imports the baseline at `path`. Entries take `status`, except detect-secrets entries
    /// an audit marked as not secrets (`is_secret: false`), which are false positives;
    /// `status: None` means accepted risk (a baseline lists what a team chose to live with).
    pub fn import(
        &mut self,
        path: &Path,
        format: ImportFormat,
        status: Option<Status>,
        by: &str,
    ) -> Result<Imported> {
        let fail = |message: String| StoreError::Import {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
        let format = match format {
            ImportFormat::Auto => sniff(path, &text),
            f => f,
        };
        let origin = path.display().to_string();
        let status = status.unwrap_or(Status::AcceptedRisk);
        let comment = format!("imported from {origin}");
        // Parsed before the transaction: a bad file leaves nothing open.
        let parsed = match format {
            ImportFormat::DetectSecrets => {
                Parsed::Places(detect_secrets_places(&text, status).map_err(fail)?)
            }
            ImportFormat::GitleaksIgnore => Parsed::Baseline(
                Baseline::parse_gitleaksignore(&text).map_err(|e| fail(e.to_string()))?,
            ),
            _ => Parsed::Baseline(Baseline::parse(&text).map_err(|e| fail(e.to_string()))?),
        };
        self.begin()?;
        let done = match &parsed {
            Parsed::Places(places) => self.import_places(places, &comment, &origin, by),
            Parsed::Baseline(b) => self.import_baseline(b, status, &comment, &origin, by),
        };
        match done {
            Ok(imported) => {
                self.batch("COMMIT")?;
                Ok(imported)
            }
            Err(e) => {
                self.abandon_run();
                Err(e)
            }
        }
    }

    fn import_baseline(
        &mut self,
        b: &Baseline,
        status: Status,
        comment: &str,
        origin: &str,
        by: &str,
    ) -> Result<Imported> {
        let key = self.meta("key_id")?;
        let mut done = Imported {
            legacy_skipped: b.legacy_count(),
            ..Imported::default()
        };
        for fp in b.keyed_fingerprints() {
            done.entries += 1;
            let key_of = crate::fingerprint::key_id_of(fp);
            if key.is_some() && key_of.is_some() && key_of != key.as_deref() {
                done.other_key_skipped += 1;
                continue;
            }
            if self.apply_to_fingerprint(fp, status, comment, by)? {
                done.applied += 1;
            } else {
                self.exec(
                    "INSERT INTO imported_fingerprints(fingerprint, status, comment, origin) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(fingerprint) DO UPDATE SET status = excluded.status, comment = excluded.comment, origin = excluded.origin",
                    &[fp.into(), status.as_str().into(), comment.into(), origin.into()],
                )?;
                done.pending += 1;
            }
        }
        let places: Vec<Place> = b
            .locations()
            .map(|l| Place {
                path: l.path.clone(),
                line: l.line,
                commit: l.commit.clone(),
                rule: Some(l.rule.clone()),
                status,
            })
            .collect();
        let more = self.import_places(&places, comment, origin, by)?;
        done.entries += more.entries;
        done.applied += more.applied;
        done.pending += more.pending;
        Ok(done)
    }

    fn import_places(
        &mut self,
        places: &[Place],
        comment: &str,
        origin: &str,
        by: &str,
    ) -> Result<Imported> {
        let mut done = Imported::default();
        for p in places {
            done.entries += 1;
            let fingerprints = self.fingerprints_at(p)?;
            let mut applied = false;
            for fp in &fingerprints {
                applied |= self.apply_to_fingerprint(fp, p.status, comment, by)?;
            }
            if applied {
                done.applied += 1;
            }
            self.exec(
                "INSERT INTO imported_places(path, line, commit_id, rule, status, comment, origin, used) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                &[
                    (&p.path).into(),
                    p.line.into(),
                    p.commit.clone().into(),
                    p.rule.clone().into(),
                    p.status.as_str().into(),
                    comment.into(),
                    origin.into(),
                    (!fingerprints.is_empty()).into(),
                ],
            )?;
            if fingerprints.is_empty() {
                done.pending += 1;
            }
        }
        Ok(done)
    }

    /// The secrets seen at a place.
    fn fingerprints_at(&mut self, p: &Place) -> Result<Vec<String>> {
        let rows = self.rows(
            "SELECT DISTINCT fingerprint, path, commit_id FROM locations WHERE line = ?1",
            &[p.line.into()],
        )?;
        Ok(rows
            .iter()
            .filter(|r| {
                normalise(&r[1].text()) == p.path
                    && commits_agree(p.commit.as_deref(), r[2].opt_text().as_deref())
            })
            .map(|r| r[0].text())
            .collect())
    }

    /// Sets the status of a stored secret that is still open; whether it did.
    fn apply_to_fingerprint(
        &mut self,
        fp: &str,
        status: Status,
        comment: &str,
        by: &str,
    ) -> Result<bool> {
        let current = self.row(
            "SELECT status FROM secrets WHERE fingerprint = ?1",
            &[fp.into()],
        )?;
        if current.map(|r| r[0].text()).as_deref() != Some(Status::Open.as_str()) {
            return Ok(false);
        }
        self.write_status(fp, status, Some(comment), by)?;
        Ok(true)
    }

    /// The status imported for a secret found for the first time, by its fingerprint or
    /// its place: (status, comment, origin).
    pub(super) fn imported_status(
        &mut self,
        f: &Finding,
    ) -> Result<Option<(Status, Option<String>, String)>> {
        let by_fingerprint = self.row(
            "SELECT status, comment, origin FROM imported_fingerprints WHERE fingerprint = ?1",
            &[(&f.fingerprint).into()],
        )?;
        if let Some(r) = by_fingerprint {
            return Ok(Status::parse(&r[0].text()).map(|s| (s, r[1].opt_text(), r[2].text())));
        }
        let commit = match &f.source {
            crate::finding::Source::Git { commit, .. } => commit.clone(),
            _ => None,
        };
        let rows = self.rows(
            "SELECT status, comment, origin, commit_id FROM imported_places WHERE path = ?1 AND line = ?2",
            &[normalise(&f.path).into(), f.line.into()],
        )?;
        for r in rows {
            if commits_agree(r[3].opt_text().as_deref(), commit.as_deref()) {
                return Ok(Status::parse(&r[0].text()).map(|s| (s, r[1].opt_text(), r[2].text())));
            }
        }
        Ok(None)
    }
}

/// A baseline file, parsed.
enum Parsed {
    /// Places (detect-secrets).
    Places(Vec<Place>),
    /// Fingerprints and places (shush, gitleaks).
    Baseline(Baseline),
}

/// A place another tool's baseline names, with the status it gets.
#[derive(Debug, Clone)]
struct Place {
    path: String,
    line: u64,
    commit: Option<String>,
    rule: Option<String>,
    status: Status,
}

/// Two commit ids agree when either is unknown or one is a prefix of the other.
fn commits_agree(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
            a.starts_with(&b) || b.starts_with(&a)
        }
        _ => true,
    }
}

/// What a baseline file is, from its name and content.
fn sniff(path: &Path, text: &str) -> ImportFormat {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name == ".gitleaksignore" {
        return ImportFormat::GitleaksIgnore;
    }
    let head = text.trim_start();
    if head.starts_with('{') && text.contains("\"plugins_used\"") && text.contains("\"results\"") {
        return ImportFormat::DetectSecrets;
    }
    if !head.starts_with('{') && !head.starts_with('[') && !head.is_empty() {
        return ImportFormat::GitleaksIgnore;
    }
    ImportFormat::Report
}

/// The places of a detect-secrets baseline: `results` maps each file to its entries, each
/// with a `line_number` and, once audited, `is_secret` (false: a false positive).
fn detect_secrets_places(text: &str, status: Status) -> std::result::Result<Vec<Place>, String> {
    let v: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| format!("not JSON (line {}, column {})", e.line(), e.column()))?;
    let results = v
        .get("results")
        .and_then(|r| r.as_object())
        .ok_or("not a detect-secrets baseline: no `results` object")?;
    let mut places = Vec::new();
    for (file, entries) in results {
        for e in entries.as_array().into_iter().flatten() {
            let line = e
                .get("line_number")
                .and_then(|l| l.as_u64())
                .ok_or_else(|| format!("{file}: an entry without line_number"))?;
            let status = match e.get("is_secret").and_then(|s| s.as_bool()) {
                Some(false) => Status::FalsePositive,
                _ => status,
            };
            places.push(Place {
                path: normalise(file).to_string(),
                line,
                commit: None,
                rule: e.get("type").and_then(|t| t.as_str()).map(str::to_string),
                status,
            });
        }
    }
    Ok(places)
}
