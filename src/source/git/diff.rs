//! Tree-to-tree comparison that yields the blobs a tree adds or changes relative to another,
//! with their paths, skipping identical subtrees without reading them.

use super::odb::{self, Read};
use crate::problem::{Kind, Problem};
use gix::ObjectId;
use gix::objs::tree::EntryKind;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc as Rc;

/// Deepest directory nesting followed (hostile repositories can nest without bound; git
/// itself refuses trees deeper than 4096 by default).
const MAX_DEPTH: usize = 2048;

/// Tree reads between two releases of the packs' resident pages.
const PAGE_RELEASE_READS: u64 = 8192;

/// Parsed trees kept per reader: consecutive commits share most of their trees.
const TREE_CACHE: usize = 4096;
/// ... and at most this many bytes of them.
const TREE_CACHE_BYTES: usize = 4 << 20;

/// Reads trees through the repository's object cache; remembers what was missing or corrupt.
pub(crate) struct TreeReader {
    repo: gix::Repository,
    /// Packs read directly (bounded delta-base cache, pages released as reading goes).
    packs: Rc<Vec<gix::odb::pack::Bundle>>,
    inflate: gix::zlib::Inflate,
    pack_cache: gix::odb::pack::cache::lru::MemoryCappedHashmap,
    reads: u64,
    buf: Vec<u8>,
    /// Raw tree objects by id (empty when missing or unreadable).
    cache: HashMap<ObjectId, Rc<Vec<u8>>>,
    cached_bytes: usize,
    /// Trees (and, with `check_blobs`, blobs) named but absent: trees are treated as empty.
    pub missing: Vec<ObjectId>,
    /// Whether `diff` checks that each blob it yields is in the database (for walks that do
    /// not read the blobs themselves), recording absent ones in `missing`.
    pub check_blobs: bool,
    /// Trees present but unreadable: treated as empty, each an error.
    pub errors: Vec<Problem>,
}

impl TreeReader {
    pub fn new(repo: gix::Repository, packs: Rc<Vec<gix::odb::pack::Bundle>>) -> Self {
        TreeReader {
            repo,
            packs,
            inflate: Default::default(),
            pack_cache: gix::odb::pack::cache::lru::MemoryCappedHashmap::new(8 << 20),
            reads: 0,
            buf: Vec::new(),
            cache: HashMap::new(),
            cached_bytes: 0,
            missing: Vec::new(),
            check_blobs: false,
            errors: Vec::new(),
        }
    }

    /// Whether the object is in the database: a pack index lookup (no decoding), else the
    /// loose objects.
    fn present(&self, id: &gix::oid) -> bool {
        self.packs.iter().any(|b| b.index.lookup(id).is_some()) || self.repo.has_object(id)
    }

    fn tree(&mut self, id: &ObjectId) -> Rc<Vec<u8>> {
        if let Some(e) = self.cache.get(id) {
            return e.clone();
        }
        let parsed = Rc::new(self.read_tree(id));
        self.cached_bytes += parsed.len();
        if self.cache.len() >= TREE_CACHE || self.cached_bytes > TREE_CACHE_BYTES {
            self.cache.clear();
            self.cached_bytes = parsed.len();
        }
        self.cache.insert(*id, parsed.clone());
        parsed
    }

    fn read_tree(&mut self, id: &ObjectId) -> Vec<u8> {
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
                self.errors.push(e.problem("; tree skipped"));
                return Vec::new();
            }
        };
        if data.kind != gix::objs::Kind::Tree {
            self.errors.push(Problem::object(
                id,
                Kind::Corrupt,
                format!("expected a tree, found a {}", data.kind),
            ));
            return Vec::new();
        }
        data.data.to_vec()
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
        if prefix.iter().filter(|&&b| b == b'/').count() >= MAX_DEPTH {
            self.errors.push(Problem::object(
                new,
                Kind::OverCap,
                format!("tree nested deeper than {MAX_DEPTH} directories; not descended"),
            ));
            return;
        }
        let new_tree = self.tree(&new);
        let old_tree = match old {
            Some(o) => self.tree(&o),
            None => Rc::new(Vec::new()),
        };
        let hash = new.kind();
        let mut olds = gix::objs::TreeRefIter::from_bytes(&old_tree, hash);
        let mut news = gix::objs::TreeRefIter::from_bytes(&new_tree, hash);
        let mut a = self.next_entry(&mut olds, old);
        let mut b = self.next_entry(&mut news, Some(new));
        // Both trees are sorted in git's order: a merge join finds what `new` adds or changes.
        while let Some(nb) = b {
            let before = match a {
                Some(oa) => match git_order(
                    oa.filename,
                    oa.mode.is_tree(),
                    nb.filename,
                    nb.mode.is_tree(),
                ) {
                    Ordering::Less => {
                        a = self.next_entry(&mut olds, old);
                        continue;
                    }
                    Ordering::Greater => None,
                    Ordering::Equal => {
                        a = self.next_entry(&mut olds, old);
                        Some(oa)
                    }
                },
                None => None,
            };
            b = self.next_entry(&mut news, Some(new));
            let kind = nb.mode.kind();
            if before.is_some_and(|o| o.oid == nb.oid && same_class(o.mode.kind(), kind)) {
                continue;
            }
            let len = prefix.len();
            if !prefix.is_empty() {
                prefix.push(b'/');
            }
            prefix.extend_from_slice(nb.filename);
            match kind {
                EntryKind::Tree => {
                    let old_sub = before.and_then(|o| o.mode.is_tree().then(|| o.oid.to_owned()));
                    self.diff(old_sub, nb.oid.to_owned(), prefix, gitlinks, visit);
                }
                EntryKind::Commit => *gitlinks += 1,
                EntryKind::Blob | EntryKind::BlobExecutable | EntryKind::Link => {
                    if self.check_blobs && !self.present(nb.oid) {
                        self.missing.push(nb.oid.to_owned());
                    }
                    visit(prefix, nb.oid.to_owned())
                }
            }
            prefix.truncate(len);
        }
    }

    /// The next entry of a tree, recording a decoding error (and ending the tree) on one.
    fn next_entry<'t>(
        &mut self,
        iter: &mut gix::objs::TreeRefIter<'t>,
        id: Option<ObjectId>,
    ) -> Option<gix::objs::tree::EntryRef<'t>> {
        match iter.next()? {
            Ok(e) => Some(e),
            Err(err) => {
                if let Some(id) = id {
                    self.errors.push(Problem::object(
                        id,
                        Kind::Corrupt,
                        format!("corrupt tree ({err}); rest skipped"),
                    ));
                }
                *iter = gix::objs::TreeRefIter::from_bytes(
                    &[],
                    id.map_or(gix::hash::Kind::Sha1, |i| i.kind()),
                );
                None
            }
        }
    }
}

/// git's tree order: names compared bytewise, a tree's name as if it ended in `/`.
fn git_order(a: &[u8], a_tree: bool, b: &[u8], b_tree: bool) -> Ordering {
    let common = a.len().min(b.len());
    match a[..common].cmp(&b[..common]) {
        Ordering::Equal => {}
        o => return o,
    }
    let end = |name: &[u8], tree: bool| match name.get(common) {
        Some(&c) => c,
        None if tree => b'/',
        None => 0,
    };
    end(a, a_tree).cmp(&end(b, b_tree))
}

/// Blob and executable blob are the same content class (a mode change is not new content).
fn same_class(a: EntryKind, b: EntryKind) -> bool {
    let blobish = |k| matches!(k, EntryKind::Blob | EntryKind::BlobExecutable);
    a == b || (blobish(a) && blobish(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_tree_order() {
        // "a.txt" < "a" (tree, compared as "a/") < "a0"; a blob "a" sorts before "a.txt".
        assert_eq!(git_order(b"a.txt", false, b"a", true), Ordering::Less);
        assert_eq!(git_order(b"a", true, b"a0", false), Ordering::Less);
        assert_eq!(git_order(b"a", false, b"a.txt", false), Ordering::Less);
        assert_eq!(git_order(b"a", true, b"a", true), Ordering::Equal);
        assert_ne!(git_order(b"a", true, b"a", false), Ordering::Equal);
    }
}
