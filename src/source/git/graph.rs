//! The commit graph: tips from refs, commits loaded breadth-first, and the oldest-first
//! order (parents before children, ties by commit date) that attribution walks.

use super::GitError;
use super::odb::{self, Read};
use crate::problem::{Kind as ProblemKind, Problem, Subject};
use gix::ObjectId;
use gix::objs::Kind;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};

/// One commit, as attribution needs it.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub id: ObjectId,
    pub tree: ObjectId,
    /// Parents present in the graph (absent ones — shallow boundary, partial clone — are
    /// left out, so the commit is diffed against nothing there).
    pub parents: Vec<u32>,
    /// Committer time, seconds since the epoch.
    pub time: i64,
    /// Not reachable from any ref (a dangling commit, found with `--all-objects`).
    pub unreachable: bool,
}

/// Where a scan starts: commits, and the trees and blobs that refs (tags) point at directly.
#[derive(Debug, Default, Clone)]
pub(crate) struct Tips {
    pub commits: Vec<ObjectId>,
    pub trees: Vec<(ObjectId, String)>,
    pub blobs: Vec<(ObjectId, String)>,
}

/// Follows tags to the object they name. `None` when an object is missing.
pub(crate) fn peel(
    repo: &gix::Repository,
    mut id: ObjectId,
    buf: &mut Vec<u8>,
) -> Result<Option<(Kind, ObjectId)>, GitError> {
    for _ in 0..64 {
        match odb::read(repo, &id, buf)? {
            Read::Missing => return Ok(None),
            Read::Found(data) => {
                if data.kind != Kind::Tag {
                    return Ok(Some((data.kind, id)));
                }
                let target = gix::objs::TagRefIter::from_bytes(data.data, id.kind())
                    .target_id()
                    .map_err(|e| GitError::object(id, format!("corrupt tag: {e}")))?;
                id = target;
            }
        }
    }
    Err(GitError::object(id, "tag chain too long"))
}

/// Every ref (branches, tags, remotes, notes, stash and its reflog) and HEAD, peeled.
/// Refs that cannot be resolved are reported in `errors`.
pub(crate) fn all_ref_tips(repo: &gix::Repository, errors: &mut Vec<Problem>) -> Tips {
    let mut ids: Vec<(ObjectId, String)> = Vec::new();
    if let Ok(head) = repo.head_id() {
        ids.push((head.detach(), "HEAD".into()));
    }
    match repo.references() {
        Ok(platform) => match platform.all() {
            Ok(iter) => {
                for r in iter {
                    match r {
                        Ok(mut r) => {
                            let name = r.name().as_bstr().to_string();
                            match r.peel_to_id() {
                                Ok(id) => ids.push((id.detach(), name)),
                                Err(e) => errors.push(Problem::new(
                                    Subject::Ref(name),
                                    ProblemKind::Unreadable,
                                    format!("cannot be resolved: {}", odb::error_chain(&e)),
                                )),
                            }
                        }
                        Err(e) => errors.push(refs_unreadable(odb::error_chain(&*e))),
                    }
                }
            }
            Err(e) => errors.push(refs_unreadable(odb::error_chain(&e))),
        },
        Err(e) => errors.push(refs_unreadable(odb::error_chain(&e))),
    }
    // Older stashes live only in the stash reflog.
    let reflog = repo.common_dir().join("logs").join("refs").join("stash");
    if let Ok(text) = std::fs::read_to_string(reflog) {
        for line in text.lines() {
            if let Some(id) = line
                .split(' ')
                .nth(1)
                .and_then(|h| ObjectId::from_hex(h.as_bytes()).ok())
            {
                ids.push((id, "refs/stash".into()));
            }
        }
    }
    classify(repo, ids, errors)
}

/// Peels `ids` and sorts them into commit, tree and blob tips.
pub(crate) fn classify(
    repo: &gix::Repository,
    ids: Vec<(ObjectId, String)>,
    errors: &mut Vec<Problem>,
) -> Tips {
    let mut tips = Tips::default();
    let mut seen = HashSet::new();
    let mut buf = Vec::new();
    for (id, name) in ids {
        if !seen.insert(id) {
            continue;
        }
        match peel(repo, id, &mut buf) {
            Ok(Some((Kind::Commit, c))) => tips.commits.push(c),
            Ok(Some((Kind::Tree, t))) => tips.trees.push((t, name)),
            Ok(Some((Kind::Blob, b))) => tips.blobs.push((b, name)),
            Ok(Some(_)) => {}
            Ok(None) => errors.push(Problem::new(
                Subject::Ref(name),
                ProblemKind::Missing,
                format!("points at missing object {id}"),
            )),
            Err(e) => errors.push(Problem::new(
                Subject::Ref(name),
                ProblemKind::Unreadable,
                e.to_string(),
            )),
        }
    }
    tips.commits.sort();
    tips.commits.dedup();
    tips
}

/// Commits loaded from tips, with an index by id.
#[derive(Debug, Default)]
pub(crate) struct Graph {
    pub nodes: Vec<Node>,
    pub index: HashMap<ObjectId, u32>,
    /// Parents named by a commit but absent from the database, outside the shallow boundary.
    pub missing: Vec<ObjectId>,
}

impl Graph {
    /// Loads every commit reachable from `tips` not yet loaded and not in `hidden`, marking
    /// new ones `unreachable` as given. Unreadable commits are reported in `errors`.
    pub fn load(
        &mut self,
        repo: &gix::Repository,
        tips: &[ObjectId],
        hidden: &HashSet<ObjectId>,
        unreachable: bool,
        shallow: &HashSet<ObjectId>,
        errors: &mut Vec<Problem>,
    ) {
        let hash = repo.object_hash();
        let mut buf = Vec::new();
        let mut queue: Vec<ObjectId> = tips
            .iter()
            .filter(|t| !hidden.contains(*t) && !self.index.contains_key(*t))
            .copied()
            .collect();
        let mut parents_of: Vec<(u32, Vec<ObjectId>)> = Vec::new();
        let mut queued: HashSet<ObjectId> = queue.iter().copied().collect();
        while let Some(id) = queue.pop() {
            let data = match odb::read(repo, &id, &mut buf) {
                Ok(Read::Found(d)) if d.kind == Kind::Commit => d,
                Ok(Read::Found(d)) => {
                    errors.push(Problem::object(
                        id,
                        ProblemKind::Corrupt,
                        format!("expected a commit, found a {}", d.kind),
                    ));
                    continue;
                }
                Ok(Read::Missing) => {
                    self.missing.push(id);
                    continue;
                }
                Err(e) => {
                    errors.push(e.problem("; commit skipped"));
                    continue;
                }
            };
            let commit = match gix::objs::CommitRef::from_bytes(data.data, hash) {
                Ok(c) => c,
                Err(e) => {
                    errors.push(Problem::object(
                        id,
                        ProblemKind::Corrupt,
                        format!("corrupt commit ({e}); skipped"),
                    ));
                    continue;
                }
            };
            let time = commit.time().map(|t| t.seconds).unwrap_or(0);
            let parents: Vec<ObjectId> = commit.parents().collect();
            let idx = self.nodes.len() as u32;
            self.nodes.push(Node {
                id,
                tree: commit.tree(),
                parents: Vec::new(),
                time,
                unreachable,
            });
            self.index.insert(id, idx);
            let mut kept = Vec::new();
            if !shallow.contains(&id) {
                for p in parents {
                    if hidden.contains(&p) {
                        continue;
                    }
                    kept.push(p);
                    if !self.index.contains_key(&p) && queued.insert(p) {
                        queue.push(p);
                    }
                }
            }
            parents_of.push((idx, kept));
        }
        for (idx, parents) in parents_of {
            let ps = parents
                .iter()
                .filter_map(|p| self.index.get(p).copied())
                .collect();
            self.nodes[idx as usize].parents = ps;
        }
    }

    /// Node indexes, parents before children, among ready commits the oldest first.
    pub fn oldest_first(&self) -> Vec<u32> {
        let n = self.nodes.len();
        let mut children: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut pending = vec![0u32; n];
        for (i, node) in self.nodes.iter().enumerate() {
            let mut ps = node.parents.clone();
            ps.sort_unstable();
            ps.dedup();
            pending[i] = ps.len() as u32;
            for p in ps {
                children[p as usize].push(i as u32);
            }
        }
        let mut heap: BinaryHeap<Reverse<(i64, u32)>> = (0..n as u32)
            .filter(|&i| pending[i as usize] == 0)
            .map(|i| Reverse((self.nodes[i as usize].time, i)))
            .collect();
        let mut order = Vec::with_capacity(n);
        while let Some(Reverse((_, i))) = heap.pop() {
            order.push(i);
            for &c in &children[i as usize] {
                pending[c as usize] -= 1;
                if pending[c as usize] == 0 {
                    heap.push(Reverse((self.nodes[c as usize].time, c)));
                }
            }
        }
        order
    }
}

/// Every commit reachable from `tips` (for ranges: what the other side already has).
pub(crate) fn reachable(
    repo: &gix::Repository,
    tips: &[ObjectId],
    shallow: &HashSet<ObjectId>,
    errors: &mut Vec<Problem>,
) -> HashSet<ObjectId> {
    let mut g = Graph::default();
    g.load(repo, tips, &HashSet::new(), false, shallow, errors);
    g.index.into_keys().collect()
}

/// The shallow boundary: commits whose parents were cut off by a shallow clone.
pub(crate) fn shallow_commits(repo: &gix::Repository) -> HashSet<ObjectId> {
    match repo.shallow_commits() {
        Ok(Some(c)) => c.iter().copied().collect(),
        _ => HashSet::new(),
    }
}

/// The references could not be listed.
fn refs_unreadable(why: String) -> Problem {
    Problem::run(ProblemKind::Unreadable, format!("reading refs: {why}"))
}
