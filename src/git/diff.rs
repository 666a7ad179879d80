//! Tree-to-tree comparison that yields the blobs a tree adds or changes relative to another,
//! with their paths, skipping identical subtrees without reading them.

use super::odb::{self, Read};
use gix::ObjectId;
use gix::objs::tree::EntryKind;
use std::collections::HashMap;
use std::sync::Arc as Rc;

/// Tree reads between two releases of the packs' resident pages.
const PAGE_RELEASE_READS: u64 = 8192;

/// Parsed trees kept per reader: consecutive commits share most of their trees.
const TREE_CACHE: usize = 2048;

/// One tree entry, owned.
struct Entry {
    name: Vec<u8>,
    kind: EntryKind,
    id: ObjectId,
}

/// Reads trees through the repository's object cache; remembers what was missing or corrupt.
pub(crate) struct TreeReader {
    repo: gix::Repository,
    /// Packs read directly (bounded delta-base cache, pages released as reading goes).
    packs: Rc<Vec<gix::odb::pack::Bundle>>,
    inflate: gix::zlib::Inflate,
    pack_cache: gix::odb::pack::cache::lru::StaticLinkedList<64>,
    reads: u64,
    buf: Vec<u8>,
    cache: HashMap<ObjectId, Rc<Vec<Entry>>>,
    /// Trees named but absent (partial clone): treated as empty.
    pub missing: Vec<ObjectId>,
    /// Trees present but unreadable: treated as empty, each an error.
    pub errors: Vec<String>,
}

impl TreeReader {
    pub fn new(repo: gix::Repository, packs: Rc<Vec<gix::odb::pack::Bundle>>) -> Self {
        TreeReader {
            repo,
            packs,
            inflate: Default::default(),
            pack_cache: gix::odb::pack::cache::lru::StaticLinkedList::new(8 << 20),
            reads: 0,
            buf: Vec::new(),
            cache: HashMap::new(),
            missing: Vec::new(),
            errors: Vec::new(),
        }
    }

    fn entries(&mut self, id: &ObjectId) -> Rc<Vec<Entry>> {
        if let Some(e) = self.cache.get(id) {
            return e.clone();
        }
        let parsed = Rc::new(self.read_entries(id));
        if self.cache.len() >= TREE_CACHE {
            self.cache.clear();
        }
        self.cache.insert(*id, parsed.clone());
        parsed
    }

    fn read_entries(&mut self, id: &ObjectId) -> Vec<Entry> {
        self.reads += 1;
        if self.reads % PAGE_RELEASE_READS == 0 {
            for b in self.packs.iter() {
                odb::release_pages(
                    b.pack
                        .entry_slice(0..b.pack.data_len() as u64)
                        .unwrap_or(&[]),
                );
            }
        }
        let mut in_pack = None;
        for b in self.packs.iter() {
            match b.find(id, &mut self.buf, &mut self.inflate, &mut self.pack_cache) {
                Ok(Some((d, _))) => {
                    in_pack = Some(Ok(d.kind));
                    break;
                }
                Ok(None) => {}
                Err(e) => {
                    in_pack = Some(Err(e.to_string()));
                    break;
                }
            }
        }
        let data = match in_pack {
            Some(Ok(kind)) => Ok(Read::Found(gix::objs::Data {
                kind,
                object_hash: id.kind(),
                data: &self.buf,
            })),
            Some(Err(e)) => Err(super::GitError::object(*id, e)),
            None => odb::read(&self.repo, id, &mut self.buf),
        };
        let data = match data {
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
            None => Rc::new(Vec::new()),
        };
        let old_map: HashMap<&[u8], (EntryKind, ObjectId)> = old_entries
            .iter()
            .map(|e| (e.name.as_slice(), (e.kind, e.id)))
            .collect();
        for e in new_entries.iter() {
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
