//! Reading and triaging the store: list secrets, show one with its places and history, set
//! a status, export a baseline.

use super::{Result, Status, Store, StoreError, Val};
use serde::Serialize;

/// Which secrets [`Store::list`] returns.
#[derive(Debug, Default, Clone)]
pub struct ListFilter {
    /// Only these statuses (empty: all).
    pub statuses: Vec<Status>,
    /// Only this rule.
    pub rule: Option<String>,
    /// Only secrets with a place still present.
    pub present_only: bool,
}

/// One secret as lists show it.
#[derive(Debug, Clone, Serialize)]
pub struct SecretRow {
    /// The short id reports show (`#4444ea2ca561`).
    pub secret_id: String,
    /// The keyed fingerprint.
    pub fingerprint: String,
    /// The rule that found it.
    pub rule_id: String,
    /// The rule's description.
    pub description: String,
    /// How sure the rule is.
    pub confidence: String,
    /// The secret as reports show it (masked unless a run revealed it).
    pub secret: String,
    /// Its triage status.
    pub status: Status,
    /// Why, as the person who set it wrote.
    pub comment: Option<String>,
    /// Who set the status.
    pub status_by: Option<String>,
    /// When, RFC 3339.
    pub status_at: Option<String>,
    /// Places seen, ever.
    pub locations: u64,
    /// Places still present at the last complete run of their scope.
    pub present: u64,
    /// When the first run that found it started.
    pub first_seen: String,
    /// When the last run that found it started.
    pub last_seen: String,
}

/// One place of a secret.
#[derive(Debug, Clone, Serialize)]
pub struct StoredLocation {
    /// What was audited (the run's scope).
    pub scope: String,
    /// The path reports show.
    pub path: String,
    /// 1-based line.
    pub line: u64,
    /// 1-based column.
    pub column: u64,
    /// The commit, for git findings.
    pub commit: Option<String>,
    /// The commit's date.
    pub commit_date: Option<String>,
    /// Still there at the last complete run of its scope.
    pub present: bool,
    /// When first seen.
    pub first_seen: String,
    /// When last seen.
    pub last_seen: String,
}

/// One change of status.
#[derive(Debug, Clone, Serialize)]
pub struct StatusChange {
    /// The new status.
    pub status: Status,
    /// The comment given.
    pub comment: Option<String>,
    /// Who.
    pub by: String,
    /// When.
    pub at: String,
}

/// A secret with its places and the history of its status.
#[derive(Debug, Clone, Serialize)]
pub struct SecretDetail {
    /// The secret.
    #[serde(flatten)]
    pub secret: SecretRow,
    /// Every place it was seen.
    pub places: Vec<StoredLocation>,
    /// Every status it had, oldest first.
    pub history: Vec<StatusChange>,
}

const ROW_SELECT: &str =
    "SELECT s.secret_id, s.fingerprint, s.rule_id, s.description, s.confidence, s.secret,
        s.status, s.comment, s.status_by, s.status_at,
        (SELECT COUNT(*) FROM locations l WHERE l.fingerprint = s.fingerprint),
        (SELECT COUNT(*) FROM locations l WHERE l.fingerprint = s.fingerprint AND l.present = 1),
        (SELECT started_at FROM runs WHERE id = s.first_seen_run),
        (SELECT started_at FROM runs WHERE id = s.last_seen_run)
    FROM secrets s";

fn row(r: &[Val]) -> SecretRow {
    SecretRow {
        secret_id: r[0].text(),
        fingerprint: r[1].text(),
        rule_id: r[2].text(),
        description: r[3].text(),
        confidence: r[4].text(),
        secret: r[5].text(),
        status: Status::parse(&r[6].text()).unwrap_or(Status::Open),
        comment: r[7].opt_text(),
        status_by: r[8].opt_text(),
        status_at: r[9].opt_text(),
        locations: r[10].int() as u64,
        present: r[11].int() as u64,
        first_seen: r[12].text(),
        last_seen: r[13].text(),
    }
}

impl Store {
    /// The secrets `filter` selects: most recently seen first, then by rule and id.
    pub fn list(&mut self, filter: &ListFilter) -> Result<Vec<SecretRow>> {
        let sql = format!("{ROW_SELECT} ORDER BY s.last_seen_run DESC, s.rule_id, s.secret_id");
        let mut out = Vec::new();
        for r in self.rows(&sql, &[])? {
            let r = row(&r);
            let keep = (filter.statuses.is_empty() || filter.statuses.contains(&r.status))
                && filter.rule.as_ref().is_none_or(|rule| *rule == r.rule_id)
                && (!filter.present_only || r.present > 0);
            if keep {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// The fingerprint of the one secret `id` names: a secret id, a prefix of one (at least
    /// 4 hex digits), or a whole fingerprint.
    pub fn resolve(&mut self, id: &str) -> Result<String> {
        let id = id.trim().trim_start_matches('#');
        if id.len() < 4 {
            return Err(StoreError::NotFound(id.to_string()));
        }
        let pattern = format!("{}%", id.replace(['%', '_'], ""));
        let found = self.rows(
            "SELECT fingerprint FROM secrets WHERE fingerprint = ?1 OR secret_id LIKE ?2",
            &[id.into(), pattern.into()],
        )?;
        match found.len() {
            0 => Err(StoreError::NotFound(id.to_string())),
            1 => Ok(found[0][0].text()),
            count => Err(StoreError::Ambiguous {
                id: id.to_string(),
                count,
            }),
        }
    }

    /// The secret `id` names ([`Store::resolve`]), with its places and history.
    pub fn show(&mut self, id: &str) -> Result<SecretDetail> {
        let fp = self.resolve(id)?;
        let sql = format!("{ROW_SELECT} WHERE s.fingerprint = ?1");
        let secret = self
            .row(&sql, &[(&fp).into()])?
            .map(|r| row(&r))
            .ok_or_else(|| StoreError::NotFound(id.to_string()))?;
        Ok(SecretDetail {
            secret,
            places: self.places(&fp)?,
            history: self.history(&fp)?,
        })
    }

    fn places(&mut self, fp: &str) -> Result<Vec<StoredLocation>> {
        let rows = self.rows(
            "SELECT l.scope, l.path, l.line, l.col, l.commit_id, l.commit_date, l.present,
                    (SELECT started_at FROM runs WHERE id = l.first_seen_run),
                    (SELECT started_at FROM runs WHERE id = l.last_seen_run)
             FROM locations l WHERE l.fingerprint = ?1
             ORDER BY l.present DESC, l.commit_date, l.path, l.line",
            &[fp.into()],
        )?;
        Ok(rows
            .iter()
            .map(|r| StoredLocation {
                scope: r[0].text(),
                path: r[1].text(),
                line: r[2].int() as u64,
                column: r[3].int() as u64,
                commit: r[4].opt_text(),
                commit_date: r[5].opt_text(),
                present: r[6].int() != 0,
                first_seen: r[7].text(),
                last_seen: r[8].text(),
            })
            .collect())
    }

    fn history(&mut self, fp: &str) -> Result<Vec<StatusChange>> {
        let rows = self.rows(
            "SELECT status, comment, by_whom, at FROM status_history WHERE fingerprint = ?1 ORDER BY id",
            &[fp.into()],
        )?;
        Ok(rows
            .iter()
            .map(|r| StatusChange {
                status: Status::parse(&r[0].text()).unwrap_or(Status::Open),
                comment: r[1].opt_text(),
                by: r[2].text(),
                at: r[3].text(),
            })
            .collect())
    }

    /// Sets the status of the secret `id` names, with a comment, as `by`; returns it.
    pub fn set_status(
        &mut self,
        id: &str,
        status: Status,
        comment: Option<&str>,
        by: &str,
    ) -> Result<SecretRow> {
        let fp = self.resolve(id)?;
        self.write_status(&fp, status, comment, by)?;
        Ok(self.show(&fp)?.secret)
    }

    /// A shush baseline of the secrets `filter` selects: one JSON line per secret, with its
    /// keyed fingerprint (what suppresses it), masked secret, status and comment, and its
    /// first place. `shush … --baseline FILE` reads it.
    pub fn export_baseline(
        &mut self,
        filter: &ListFilter,
        out: &mut dyn std::io::Write,
    ) -> std::io::Result<usize> {
        let rows = self.list(filter).map_err(std::io::Error::other)?;
        for r in &rows {
            let place = self.places(&r.fingerprint).map_err(std::io::Error::other)?;
            let first = place.first();
            let line = serde_json::json!({
                "rule_id": r.rule_id,
                "secret": r.secret,
                "secret_id": r.secret_id,
                "fingerprint": r.fingerprint,
                "status": r.status,
                "comment": r.comment,
                "path": first.map(|p| p.path.as_str()),
                "line": first.map(|p| p.line),
            });
            serde_json::to_writer(&mut *out, &line)?;
            out.write_all(b"\n")?;
        }
        Ok(rows.len())
    }
}
