//! `shush triage`: list, show and mark the secrets of a triage store (`--store` of `scan`,
//! `git`, `image`), import another tool's baseline into it and export it as a baseline.

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use shush::report::printable;
use shush::store::{ImportFormat, ListFilter, SecretDetail, SecretRow, Status, Store};
use std::io::Write;
use std::path::{Path, PathBuf};

/// `shush triage …`.
#[derive(Debug, Args)]
pub struct TriageArgs {
    /// The triage store (an SQLite file written by `--store` of `scan`, `git` or `image`).
    #[arg(long, value_name = "FILE", env = "SHUSH_STORE", global = true)]
    pub store: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: TriageCommand,
}

/// The triage subcommands.
#[derive(Debug, Subcommand)]
pub enum TriageCommand {
    /// List the secrets in the store, most recently seen first.
    List {
        /// Only secrets with this status (repeatable).
        #[arg(long, value_enum)]
        status: Vec<StatusArg>,
        /// Only secrets this rule found.
        #[arg(long, value_name = "ID")]
        rule: Option<String>,
        /// Only secrets still present somewhere.
        #[arg(long)]
        present: bool,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one secret: its places (present or gone) and the history of its status.
    Show {
        /// Its secret id (`#4444ea2ca561`, or at least 4 of its first digits) or fingerprint.
        id: String,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Set the status of secrets; it follows them through rescans and new locations.
    Set {
        /// Secret ids (or fingerprints).
        #[arg(required = true)]
        ids: Vec<String>,
        /// The new status.
        #[arg(long, value_enum)]
        status: StatusArg,
        /// Why (kept with the status and in its history).
        #[arg(long, short = 'm')]
        comment: Option<String>,
        /// Who (default: $SHUSH_TRIAGE_BY, else $USER).
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
    /// Import a baseline: shush (JSON, JSONL, SARIF), a gitleaks JSON report or
    /// .gitleaksignore, or a detect-secrets .secrets.baseline.
    Import {
        /// The baseline file.
        file: PathBuf,
        /// The status its entries get (default accepted-risk; detect-secrets entries audited
        /// as not secrets are false-positive).
        #[arg(long, value_enum)]
        status: Option<StatusArg>,
        /// What the file is (default: decided from its name and content).
        #[arg(long, value_enum, default_value_t = ImportArg::Auto)]
        kind: ImportArg,
        /// Who (default: $SHUSH_TRIAGE_BY, else $USER).
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
    /// Write a shush baseline (JSON Lines) of the triaged secrets, for `--baseline`.
    Export {
        /// Only these statuses (default: all but open).
        #[arg(long, value_enum)]
        status: Vec<StatusArg>,
        /// Write to FILE instead of standard output.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// A triage status on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusArg {
    /// Needs attention (the default of every new secret).
    Open,
    /// Not a secret.
    FalsePositive,
    /// A real secret the team accepts.
    AcceptedRisk,
    /// Revoked at the issuer.
    Revoked,
}

impl From<StatusArg> for Status {
    fn from(s: StatusArg) -> Status {
        match s {
            StatusArg::Open => Status::Open,
            StatusArg::FalsePositive => Status::FalsePositive,
            StatusArg::AcceptedRisk => Status::AcceptedRisk,
            StatusArg::Revoked => Status::Revoked,
        }
    }
}

/// `--kind` of `shush triage import`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportArg {
    /// From the file's name and content.
    Auto,
    /// A shush report, or a gitleaks JSON report.
    Report,
    /// A .gitleaksignore file.
    Gitleaksignore,
    /// A detect-secrets .secrets.baseline.
    DetectSecrets,
}

impl From<ImportArg> for ImportFormat {
    fn from(k: ImportArg) -> ImportFormat {
        match k {
            ImportArg::Auto => ImportFormat::Auto,
            ImportArg::Report => ImportFormat::Report,
            ImportArg::Gitleaksignore => ImportFormat::GitleaksIgnore,
            ImportArg::DetectSecrets => ImportFormat::DetectSecrets,
        }
    }
}

/// Runs `shush triage`.
pub fn run(args: TriageArgs) -> Result<u8> {
    let Some(path) = &args.store else {
        bail!("which triage store? give --store FILE (or set SHUSH_STORE)");
    };
    let mut store = open_existing(path)?;
    if store.holds_clear_secrets()? {
        eprintln!(
            "shush: warning: {} holds secrets in clear (a run wrote it with --show-secrets)",
            path.display()
        );
    }
    let mut out = std::io::stdout().lock();
    match args.command {
        TriageCommand::List {
            status,
            rule,
            present,
            json,
        } => {
            let filter = ListFilter {
                statuses: status.into_iter().map(Status::from).collect(),
                rule,
                present_only: present,
            };
            list(&mut store, &filter, json, &mut out)?;
        }
        TriageCommand::Show { id, json } => show(&mut store, &id, json, &mut out)?,
        TriageCommand::Set {
            ids,
            status,
            comment,
            by,
        } => set(
            &mut store,
            &ids,
            status.into(),
            comment.as_deref(),
            &who(by),
            &mut out,
        )?,
        TriageCommand::Import {
            file,
            status,
            kind,
            by,
        } => import(&mut store, &file, status, kind, &who(by))?,
        TriageCommand::Export { status, output } => export(&mut store, status, output.as_deref())?,
    }
    Ok(crate::cmd::EXIT_CLEAN)
}

fn list(store: &mut Store, filter: &ListFilter, json: bool, out: &mut dyn Write) -> Result<()> {
    let rows = store.list(filter)?;
    if json {
        serde_json::to_writer_pretty(&mut *out, &rows)?;
        writeln!(out)?;
    } else {
        write_table(out, &rows)?;
    }
    Ok(())
}

fn show(store: &mut Store, id: &str, json: bool, out: &mut dyn Write) -> Result<()> {
    let detail = store.show(id)?;
    if json {
        serde_json::to_writer_pretty(&mut *out, &detail)?;
        writeln!(out)?;
    } else {
        write_detail(out, &detail)?;
    }
    Ok(())
}

fn set(
    store: &mut Store,
    ids: &[String],
    status: Status,
    comment: Option<&str>,
    by: &str,
    out: &mut dyn Write,
) -> Result<()> {
    for id in ids {
        let row = store.set_status(id, status, comment, by)?;
        writeln!(
            out,
            "#{} {} {}: {}",
            row.secret_id,
            row.rule_id,
            printable(&row.secret),
            row.status.as_str()
        )?;
    }
    Ok(())
}

/// Opens a store that must exist already (a triage command never creates an empty one).
fn open_existing(path: &Path) -> Result<Store> {
    let location = path.to_string_lossy();
    if !shush::store::is_postgres_url(&location) && !path.is_file() {
        bail!(
            "no triage store at {} (write one with `shush git --store {}`)",
            path.display(),
            path.display()
        );
    }
    Ok(Store::open(&location, None)?)
}

/// Who is triaging: `--by`, else `$SHUSH_TRIAGE_BY`, else `$USER`.
fn who(by: Option<String>) -> String {
    by.or_else(|| std::env::var("SHUSH_TRIAGE_BY").ok())
        .or_else(|| std::env::var("USER").ok())
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

fn import(
    store: &mut Store,
    file: &Path,
    status: Option<StatusArg>,
    kind: ImportArg,
    by: &str,
) -> Result<()> {
    let done = store.import(file, kind.into(), status.map(Status::from), by)?;
    eprintln!(
        "shush: imported {} entr{} from {}: {} applied to secrets in the store, {} kept for secrets not found yet",
        done.entries,
        if done.entries == 1 { "y" } else { "ies" },
        file.display(),
        done.applied,
        done.pending
    );
    if done.legacy_skipped > 0 {
        eprintln!(
            "shush: warning: {} old unkeyed fingerprints skipped: write the baseline again under your key first (shush … --format jsonl -o FILE)",
            done.legacy_skipped
        );
    }
    if done.other_key_skipped > 0 {
        eprintln!(
            "shush: warning: {} fingerprints made under another key skipped: they can never match this store",
            done.other_key_skipped
        );
    }
    Ok(())
}

fn export(store: &mut Store, status: Vec<StatusArg>, output: Option<&Path>) -> Result<()> {
    let statuses: Vec<Status> = if status.is_empty() {
        (Status::ALL.into_iter())
            .filter(|s| *s != Status::Open)
            .collect()
    } else {
        status.into_iter().map(Status::from).collect()
    };
    let filter = ListFilter {
        statuses,
        ..ListFilter::default()
    };
    let mut out: Box<dyn Write> = match output {
        Some(p) => {
            Box::new(std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?)
        }
        None => Box::new(std::io::stdout().lock()),
    };
    let n = store.export_baseline(&filter, &mut out)?;
    out.flush()?;
    eprintln!(
        "shush: exported {n} secret{}",
        if n == 1 { "" } else { "s" }
    );
    Ok(())
}

fn write_table(out: &mut dyn Write, rows: &[SecretRow]) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<13} {:<14} {:<28} {:<12} {:>7}  {:<20}  COMMENT",
        "ID", "STATUS", "RULE", "SECRET", "PLACES", "LAST SEEN"
    )?;
    for r in rows {
        writeln!(
            out,
            "#{:<12} {:<14} {:<28} {:<12} {:>7}  {:<20}  {}",
            r.secret_id,
            r.status.as_str(),
            r.rule_id,
            printable(&r.secret),
            format!("{}/{}", r.present, r.locations),
            r.last_seen,
            printable(r.comment.as_deref().unwrap_or("")),
        )?;
    }
    writeln!(
        out,
        "{} secret{} (PLACES: still present / ever seen)",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    )
}

fn write_detail(out: &mut dyn Write, d: &SecretDetail) -> std::io::Result<()> {
    let s = &d.secret;
    writeln!(
        out,
        "#{} {} {} · {} confidence",
        s.secret_id,
        s.rule_id,
        printable(&s.secret),
        s.confidence
    )?;
    writeln!(out, "  {}", printable(&s.description))?;
    write!(out, "  status: {}", s.status.as_str())?;
    if let (Some(by), Some(at)) = (&s.status_by, &s.status_at) {
        write!(out, " (by {} at {at})", printable(by))?;
    }
    if let Some(c) = &s.comment {
        write!(out, ": {}", printable(c))?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "  first seen {}, last seen {}; fingerprint {}",
        s.first_seen, s.last_seen, s.fingerprint
    )?;
    writeln!(out, "  places ({} present of {}):", s.present, s.locations)?;
    // Places of several scopes (a fleet's repositories) are shown under each scope.
    let mut scopes: Vec<&str> = Vec::new();
    for p in &d.places {
        if !scopes.contains(&p.scope.as_str()) {
            scopes.push(&p.scope);
        }
    }
    let indent = if scopes.len() > 1 { "      " } else { "    " };
    for scope in &scopes {
        if scopes.len() > 1 {
            writeln!(out, "    {}:", printable(scope))?;
        }
        for p in d.places.iter().filter(|p| p.scope == *scope) {
            writeln!(out, "{indent}{}", place_line(p))?;
        }
    }
    if !d.history.is_empty() {
        writeln!(out, "  history:")?;
        for h in &d.history {
            writeln!(
                out,
                "    {} {} by {}{}",
                h.at,
                h.status.as_str(),
                printable(&h.by),
                h.comment
                    .as_deref()
                    .map(|c| format!(": {}", printable(c)))
                    .unwrap_or_default()
            )?;
        }
    }
    Ok(())
}

/// One place as `show` lists it: `path:line:col in COMMIT DATE [present]`.
fn place_line(p: &shush::store::StoredLocation) -> String {
    let commit = match (&p.commit, &p.commit_date) {
        (Some(c), Some(date)) => format!(
            " in {} {}",
            &c[..c.len().min(10)],
            &date[..date.len().min(10)]
        ),
        (Some(c), None) => format!(" in {}", &c[..c.len().min(10)]),
        _ => String::new(),
    };
    format!(
        "{}:{}:{}{commit} [{}]",
        printable(&p.path),
        p.line,
        p.column,
        if p.present { "present" } else { "gone" }
    )
}
