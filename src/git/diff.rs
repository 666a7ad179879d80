//! Tree-to-tree comparison that yields the blobs a tree adds or changes relative to another,
//! with their paths, skipping identical subtrees without reading them.

use super::odb::{self, Read};
use gix::ObjectId;
use gix::objs::tree::EntryKind;
use std::collections::HashMap;

/// One tree entry, owned.
struct Entry {
    name: Vec<u8>,
    kind: EntryKind,
    id: ObjectId,
}

/// Reads trees through the repository's object cache; remembers what was missing or corrupt.
pub(crate) struct TreeReader<'r> {
    repo: &'r gix::Repository,
    buf: Vec<u8>,
    /// Trees named but absent (partial clone): treated as empty.
    pub missing: Vec<ObjectId>,
    /// Trees present but unreadable: treated as empty, each an error.
    pub errors: Vec<String>,
}

impl<'r> TreeReader<'r> {
    pub fn new(repo: &'r gix::Repository) -> Self {
        TreeReader {
            repo,
            buf: Vec::new(),
            missing: Vec::new(),
            errors: Vec::new(),
        }
    }

    fn entries(&mut self, id: &ObjectId) -> Vec<Entry> {
        let data = match odb::read(self.repo, id, &mut self.buf) {
            Ok(Read::Found(d)) => d,
            Ok(Read::Missing) => {
                self.missing.push(*id);
                return Vec::new();
            }
            Err(e) => {
                self.errors.push(format!("{e}; tree skipped"));
                return Vec::new();
            }
        };
        if data.kind != gix::objs::Kind::Tree {
            self.errors.push(format!(
                "object {id}: expected a tree, found a {}",
                data.kind
            ));
            return Vec::new();
        }
        let mut out = Vec::new();
        for e in gix::objs::TreeRefIter::from_bytes(data.data, id.kind()) {
            match e {
                Ok(e) => out.push(Entry {
                    name: e.filename.to_vec(),
                    kind: e.mode.kind(),
                    id: e.oid.to_owned(),
                }),
                Err(err) => {
                    self.errors
                        .push(format!("object {id}: corrupt tree ({err}); rest skipped"));
                    break;
                }
            }
        }
        out
    }

    /// Calls `visit(path, blob)` for every blob (or symlink) in `new` whose path is absent
    /// from `old` or holds a different object there. Gitlinks are counted in `gitlinks`.
    pub fn diff(
        &mut self,
        old: Option<ObjectId>,
        new: ObjectId,
        prefix: &mut Vec<u8>,
        gitlinks: &mut u64,
        visit: &mut dyn FnMut(&[u8], ObjectId),
    ) {
        if old == Some(new) {
            return;
        }
        let new_entries = self.entries(&new);
        let old_entries = match old {
            Some(o) => self.entries(&o),
            None => Vec::new(),
        };
        let old_map: HashMap<&[u8], (EntryKind, ObjectId)> = old_entries
            .iter()
            .map(|e| (e.name.as_slice(), (e.kind, e.id)))
            .collect();
        for e in &new_entries {
            let before = old_map.get(e.name.as_slice()).copied();
            if before.is_some_and(|(k, id)| id == e.id && same_class(k, e.kind)) {
                continue;
            }
            let len = prefix.len();
            if !prefix.is_empty() {
                prefix.push(b'/');
            }
            prefix.extend_from_slice(&e.name);
            match e.kind {
                EntryKind::Tree => {
                    let old_sub = before.and_then(|(k, id)| (k == EntryKind::Tree).then_some(id));
                    self.diff(old_sub, e.id, prefix, gitlinks, visit);
                }
                EntryKind::Commit => *gitlinks += 1,
                EntryKind::Blob | EntryKind::BlobExecutable | EntryKind::Link => {
                    visit(prefix, e.id)
                }
            }
            prefix.truncate(len);
        }
    }
}

/// Blob and executable blob are the same content class (a mode change is not new content).
fn same_class(a: EntryKind, b: EntryKind) -> bool {
    let blobish = |k| matches!(k, EntryKind::Blob | EntryKind::BlobExecutable);
    a == b || (blobish(a) && blobish(b))
}
