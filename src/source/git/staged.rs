//! `shush git --staged`: the content about to be committed, read from the index (never the
//! working tree), reporting only what is new relative to `HEAD`.
//!
//! Unchanged directories are skipped without reading them: when the index's cache-tree
//! extension says a directory still hashes to the same tree as `HEAD`'s, nothing under it
//! is staged. Only staged files whose blob differs from `HEAD`'s are read and scanned.

use super::GitError;
use super::odb::{self, Capped, Read};
use super::report::{GitOptions, GitReport};
use crate::engine::{Engine, InputMeta};
use crate::finding::{Finding, Source};
use crate::location::Located;
use crate::problem::{Kind, Problem, Subject};
use crate::scan::Stats;
use crate::scan::input::scan_bytes_capped;
use gix::ObjectId;
use gix::index::entry::{Mode, Stage};
use gix::index::extension::Tree as CacheTree;
use gix::objs::tree::EntryKind;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;

/// A staged file whose content differs from `HEAD`'s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedChange {
    /// Path in the repository.
    pub path: String,
    /// The staged blob.
    pub new: ObjectId,
    /// The blob at this path in `HEAD`, if it was a file there.
    pub old: Option<ObjectId>,
}

/// Scans the staged changes of the repository at `path`.
///
/// `files` (repository-relative paths, as the pre-commit framework passes them) narrows the
/// scan: when every one of them is a staged change — an ordinary commit — only those are
/// scanned, lines added relative to `HEAD` only. When some are not (`pre-commit run
/// --all-files`, `--files`), the caller asked about files rather than a change: every file
/// given is scanned whole, as staged. An empty `files` means every staged change.
pub fn scan_staged(
    path: &Path,
    engine: &Engine,
    opts: &GitOptions,
    stats: &Stats,
    files: &[String],
) -> Result<GitReport, GitError> {
    let repo = odb::open(path)?;
    let mut report = GitReport::default();
    let mut changes = staged_changes(&repo, &mut report.errors)?;
    if !files.is_empty() {
        changes = select_files(&repo, changes, files, &mut report)?;
    }
    let mut st = engine.new_state();
    let (mut new_buf, mut old_buf) = (Vec::new(), Vec::new());
    for ch in &changes {
        let new = match odb::read_capped(&repo, &ch.new, &mut new_buf, opts.max_blob_size) {
            Ok(Capped::Found(d)) => d.data,
            Ok(Capped::TooLarge(size)) => {
                stats.skipped_large.fetch_add(1, Relaxed);
                let why = format!(
                    "{size} bytes is over --max-blob-size ({} bytes)",
                    opts.max_blob_size
                );
                let what = Subject::Path(ch.path.clone());
                super::report::not_scanned(&mut report, opts, what, &why);
                continue;
            }
            Ok(Capped::Missing) => {
                report.errors.push(Problem::path(
                    &ch.path,
                    Kind::Missing,
                    format!("staged blob {} is missing from the object database", ch.new),
                ));
                continue;
            }
            Err(e) => {
                report
                    .errors
                    .push(Problem::path(&ch.path, Kind::Unreadable, e.to_string()));
                continue;
            }
        };
        stats.files.fetch_add(1, Relaxed);
        stats.bytes.fetch_add(new.len() as u64, Relaxed);
        let meta = InputMeta {
            path: Some(&ch.path),
            ..Default::default()
        };
        let (mut located, more) = scan_bytes_capped(engine, &mut st, new, meta);
        if located.is_empty() {
            continue;
        }
        report.unlisted += more;
        if let Some(old_id) = ch.old {
            if let Ok(Read::Found(d)) = odb::read(&repo, &old_id, &mut old_buf) {
                let added = added_lines(d.data, new);
                located.retain(|l| touches_added(l, &added));
            }
        }
        let source = Source::Git {
            commit: None,
            blob: ch.new.to_string(),
            path: Some(ch.path.clone()),
            author_name: None,
            author_email: None,
            date: None,
            summary: None,
            unreachable: false,
        };
        super::report::admit(&mut located, report.findings.len(), &mut report.unlisted);
        report.findings.extend(
            located
                .iter()
                .map(|l| Finding::new(engine, l, &ch.path, source.clone(), opts.reveal)),
        );
    }
    report.stats.blobs = stats.files.load(Relaxed);
    report.stats.bytes = stats.bytes.load(Relaxed);
    report.stats.skipped_large = stats.skipped_large.load(Relaxed);
    report.findings.sort_by(Finding::report_order);
    Ok(report)
}

/// The staged changes to scan for the files given (see [`scan_staged`]).
fn select_files(
    repo: &gix::Repository,
    changes: Vec<StagedChange>,
    files: &[String],
    report: &mut GitReport,
) -> Result<Vec<StagedChange>, GitError> {
    let wanted: Vec<&str> = files.iter().map(|f| normalise(f)).collect();
    let changed: HashMap<&str, &StagedChange> =
        changes.iter().map(|c| (c.path.as_str(), c)).collect();
    if wanted.iter().all(|f| changed.contains_key(f)) {
        let keep: std::collections::HashSet<&str> = wanted.into_iter().collect();
        return Ok(changes
            .iter()
            .filter(|c| keep.contains(c.path.as_str()))
            .cloned()
            .collect());
    }
    let Some(index) = load_index(repo)? else {
        return Ok(Vec::new());
    };
    let staged: HashMap<&[u8], ObjectId> = index
        .entries()
        .iter()
        .filter(|e| {
            e.stage() == Stage::Unconflicted
                && !e.mode.contains(Mode::COMMIT)
                && !e.mode.contains(Mode::DIR)
        })
        .map(|e| (e.path(&index).as_ref(), e.id))
        .collect();
    let mut out = Vec::new();
    for f in wanted {
        match staged.get(f.as_bytes()) {
            Some(&id) => out.push(StagedChange {
                path: f.to_string(),
                new: id,
                old: None,
            }),
            None => report.warnings.push(Problem::path(
                f,
                Kind::Skipped,
                "not in the index; not scanned",
            )),
        }
    }
    Ok(out)
}

/// A path as the pre-commit framework or a user writes it, as the index stores it.
fn normalise(path: &str) -> &str {
    let mut p = path;
    while let Some(rest) = p.strip_prefix("./") {
        p = rest;
    }
    p
}

/// The index git is committing, or `None` before anything was ever staged.
fn load_index(repo: &gix::Repository) -> Result<Option<gix::index::File>, GitError> {
    let path = index_path(repo);
    if !path.exists() {
        return Ok(None);
    }
    gix::index::File::at(&path, repo.object_hash(), true, Default::default())
        .map(Some)
        .map_err(|e| GitError::Io {
            path: path.display().to_string(),
            source: std::io::Error::other(odb::error_chain(&e)),
        })
}

/// The index git is committing: `$GIT_INDEX_FILE` inside a hook (`git commit -a` and
/// `git commit PATH` stage into a temporary index), else the repository's index.
fn index_path(repo: &gix::Repository) -> PathBuf {
    match std::env::var_os("GIT_INDEX_FILE") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => repo.index_path(),
    }
}

/// The staged files whose content differs from `HEAD`'s (every staged file before the
/// first commit).
pub fn staged_changes(
    repo: &gix::Repository,
    errors: &mut Vec<Problem>,
) -> Result<Vec<StagedChange>, GitError> {
    let Some(index) = load_index(repo)? else {
        // A fresh repository with nothing staged yet.
        return Ok(Vec::new());
    };
    let head_tree = match repo.head_id() {
        Ok(id) => {
            let mut buf = Vec::new();
            match odb::read(repo, &id, &mut buf)? {
                Read::Found(d) => gix::objs::CommitRefIter::from_bytes(d.data, id.kind())
                    .tree_id()
                    .ok(),
                Read::Missing => None,
            }
        }
        Err(_) => None, // unborn HEAD: the first commit
    };
    let entries: Vec<(&[u8], ObjectId, Mode)> = index
        .entries()
        .iter()
        .filter(|e| e.stage() == Stage::Unconflicted)
        .map(|e| (e.path(&index).as_ref(), e.id, e.mode))
        .collect();
    let mut walker = Walker {
        repo,
        buf: Vec::new(),
        out: Vec::new(),
        errors,
    };
    walker.walk(head_tree, index.tree(), &entries, 0);
    Ok(walker.out)
}

struct Walker<'a, 'e> {
    repo: &'a gix::Repository,
    buf: Vec<u8>,
    out: Vec<StagedChange>,
    errors: &'e mut Vec<Problem>,
}

impl Walker<'_, '_> {
    fn tree(&mut self, id: ObjectId) -> HashMap<Vec<u8>, (EntryKind, ObjectId)> {
        match odb::read(self.repo, &id, &mut self.buf) {
            Ok(Read::Found(d)) => gix::objs::TreeRefIter::from_bytes(d.data, id.kind())
                .filter_map(Result::ok)
                .map(|e| (e.filename.to_vec(), (e.mode.kind(), e.oid.to_owned())))
                .collect(),
            Ok(Read::Missing) => HashMap::new(),
            Err(e) => {
                self.errors.push(e.problem("; compared as empty"));
                HashMap::new()
            }
        }
    }

    /// Compares the index entries under one directory (`entries`, whose paths share a
    /// prefix of `plen` bytes) with `head`, that directory's tree in `HEAD`.
    fn walk(
        &mut self,
        head: Option<ObjectId>,
        cache: Option<&CacheTree>,
        entries: &[(&[u8], ObjectId, Mode)],
        plen: usize,
    ) {
        if let (Some(h), Some(ct)) = (head, cache) {
            if ct.num_entries.is_some() && ct.id == h {
                return; // the cache tree proves nothing changed below
            }
        }
        let head_map = head.map(|h| self.tree(h)).unwrap_or_default();
        let mut i = 0;
        while i < entries.len() {
            let (path, id, mode) = entries[i];
            let rel = &path[plen.min(path.len())..];
            match memchr::memchr(b'/', rel) {
                Some(slash) => {
                    let name = &rel[..slash];
                    let mut j = i + 1;
                    while j < entries.len() && {
                        let r = &entries[j].0[plen.min(entries[j].0.len())..];
                        r.len() > slash && &r[..slash] == name && r[slash] == b'/'
                    } {
                        j += 1;
                    }
                    let sub_head = head_map
                        .get(name)
                        .and_then(|&(k, id)| (k == EntryKind::Tree).then_some(id));
                    let sub_cache =
                        cache.and_then(|c| c.children.iter().find(|t| t.name.as_slice() == name));
                    self.walk(sub_head, sub_cache, &entries[i..j], plen + slash + 1);
                    i = j;
                }
                None => {
                    i += 1;
                    if mode.contains(Mode::COMMIT) || mode.contains(Mode::DIR) {
                        continue; // submodule, or a sparse-index directory (as in HEAD)
                    }
                    let before = head_map.get(rel).copied();
                    if before.is_some_and(|(_, old)| old == id) {
                        continue;
                    }
                    let old = before.and_then(|(k, id)| {
                        matches!(k, EntryKind::Blob | EntryKind::BlobExecutable).then_some(id)
                    });
                    self.out.push(StagedChange {
                        path: String::from_utf8_lossy(path).into_owned(),
                        new: id,
                        old,
                    });
                }
            }
        }
    }
}

/// The 1-based numbers of the lines of `new` that are not in `old`: each line of `old`
/// cancels one identical line of `new` (so moved or duplicated-from-before lines are not
/// new, and a line that now appears once more than before is).
pub fn added_lines(old: &[u8], new: &[u8]) -> Vec<bool> {
    let mut counts: HashMap<&[u8], u32> = HashMap::new();
    for line in old.split(|&b| b == b'\n') {
        *counts.entry(trim_cr(line)).or_default() += 1;
    }
    // Index 0 is unused so line numbers index directly.
    let mut added = vec![false];
    for line in new.split(|&b| b == b'\n') {
        let c = counts.entry(trim_cr(line)).or_default();
        if *c > 0 {
            *c -= 1;
            added.push(false);
        } else {
            added.push(true);
        }
    }
    added
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Whether a finding spans at least one added line.
fn touches_added(l: &Located, added: &[bool]) -> bool {
    (l.start.line..=l.end.line.max(l.start.line))
        .any(|n| added.get(n as usize).copied().unwrap_or(true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_lines_cancel_old_ones() {
        let old = b"a\nb\nc\n";
        let new = b"a\nx\nc\nb\nb\n";
        let added = added_lines(old, new);
        // lines: 1 a (old), 2 x (new), 3 c (old), 4 b (old), 5 b (new: one more than before)
        assert_eq!(&added[1..6], &[false, true, false, false, true]);
    }

    #[test]
    fn crlf_is_not_a_change() {
        let added = added_lines(b"k=v\r\n", b"k=v\n");
        assert!(!added[1]);
    }
}
