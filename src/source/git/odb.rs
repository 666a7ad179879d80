//! Opening a repository and finding its object stores: packs (with alternates) and loose
//! objects.

use super::GitError;
use crate::problem::{Kind, Problem};
use gix::ObjectId;
use gix::odb::pack;
use std::path::{Path, PathBuf};

/// Opens the repository at (or above) `path`. Inside a git hook, `GIT_DIR` names it.
pub fn open(path: &Path) -> Result<gix::Repository, GitError> {
    let opts = gix::open::Options::isolated();
    let env_dir = std::env::var_os("GIT_DIR").filter(|_| path == Path::new("."));
    let result = match env_dir {
        Some(dir) => gix::open_opts(PathBuf::from(dir), opts).map_err(|e| e.to_string()),
        None => gix::discover_opts(path, Default::default(), opts).map_err(|e| e.to_string()),
    };
    let mut repo = result.map_err(|message| GitError::Open {
        path: path.display().to_string(),
        message,
    })?;
    tune(&mut repo);
    Ok(repo)
}

/// Bounds the object-reading caches of a handle: a 16 MiB delta-base cache (gix's default
/// is 96 MiB per handle) and no whole-object cache (trees are cached parsed, by the diff).
pub(crate) fn tune(repo: &mut gix::Repository) {
    repo.objects.unset_object_cache();
    repo.objects
        .set_pack_cache(|| Box::new(pack::cache::lru::StaticLinkedList::<64>::new(16 << 20)));
}

/// A handle for another thread, with the same cache bounds.
pub(crate) fn thread_local(sync: &gix::ThreadSafeRepository) -> gix::Repository {
    let mut r = sync.to_thread_local();
    tune(&mut r);
    r
}

/// Every object directory of the repository: its own, then alternates (recursively).
pub(crate) fn object_dirs(repo: &gix::Repository) -> Vec<PathBuf> {
    let mut dirs = vec![repo.objects.store_ref().path().to_path_buf()];
    let mut i = 0;
    while i < dirs.len() && dirs.len() < 64 {
        let alternates = dirs[i].join("info").join("alternates");
        if let Ok(text) = std::fs::read_to_string(&alternates) {
            for line in text.lines() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let p = dirs[i].join(line);
                let p = p.canonicalize().unwrap_or(p);
                if !dirs.contains(&p) {
                    dirs.push(p);
                }
            }
        }
        i += 1;
    }
    dirs
}

/// Opens every pack of every object directory, in a stable order (by path).
pub(crate) fn open_packs(
    dirs: &[PathBuf],
    hash: gix::hash::Kind,
    errors: &mut Vec<Problem>,
) -> Vec<pack::Bundle> {
    let mut bundles = Vec::new();
    for dir in dirs {
        let Ok(read) = std::fs::read_dir(dir.join("pack")) else {
            continue;
        };
        let mut idx: Vec<PathBuf> = read
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "idx"))
            .collect();
        idx.sort();
        for p in idx {
            match pack::Bundle::at(&p, hash) {
                Ok(b) => bundles.push(b),
                Err(e) => errors.push(Problem::path(
                    p.display().to_string(),
                    Kind::Unreadable,
                    format!("cannot open pack: {e}"),
                )),
            }
        }
    }
    bundles
}

/// Whether the repository is a partial clone: one of its packs came from a promisor remote.
pub(crate) fn is_partial(dirs: &[PathBuf]) -> bool {
    dirs.iter().any(|d| {
        std::fs::read_dir(d.join("pack")).is_ok_and(|mut it| {
            it.any(|e| e.is_ok_and(|e| e.path().extension().is_some_and(|x| x == "promisor")))
        })
    })
}

/// Whether `id` is in one of `packs`.
pub(crate) fn in_packs(packs: &[pack::Bundle], id: &gix::oid) -> bool {
    packs.iter().any(|b| b.index.lookup(id).is_some())
}

/// What reading an object found.
pub(crate) enum Read<'a> {
    /// The object.
    Found(gix::objs::Data<'a>),
    /// The object is not in the database (partial clone, shallow boundary, corruption).
    Missing,
}

/// Reads an object into `buf`: `Missing` when absent, an error when present but unreadable.
pub(crate) fn read<'a>(
    repo: &gix::Repository,
    id: &gix::oid,
    buf: &'a mut Vec<u8>,
) -> Result<Read<'a>, GitError> {
    use gix::objs::Find;
    match repo.objects.try_find(id, buf) {
        Ok(Some(data)) => Ok(Read::Found(data)),
        Ok(None) => Ok(Read::Missing),
        Err(e) => Err(GitError::object(id.to_owned(), error_chain(&*e))),
    }
}

/// What reading a blob under a size cap found.
pub(crate) enum Capped<'a> {
    /// The object (a blob under the cap, or any other kind of object).
    Found(gix::objs::Data<'a>),
    /// A blob over the cap, left compressed: its size, from its header.
    TooLarge(u64),
    /// The object is not in the database.
    Missing,
}

/// Reads an object into `buf` unless it is a blob over `max` bytes: the size is read from
/// the object's header (a loose object's first bytes, a pack entry's header and the headers
/// of its delta chain), so a blob over the cap is never inflated.
pub(crate) fn read_capped<'a>(
    repo: &gix::Repository,
    id: &gix::oid,
    buf: &'a mut Vec<u8>,
    max: u64,
) -> Result<Capped<'a>, GitError> {
    use gix::objs::FindHeader;
    match repo.objects.try_header(id) {
        Ok(Some(h)) if h.kind == gix::objs::Kind::Blob && h.size > max => {
            Ok(Capped::TooLarge(h.size))
        }
        Ok(None) => Ok(Capped::Missing),
        Err(e) => Err(GitError::object(id.to_owned(), error_chain(&*e))),
        Ok(Some(_)) => Ok(match read(repo, id, buf)? {
            Read::Found(d) => Capped::Found(d),
            Read::Missing => Capped::Missing,
        }),
    }
}

/// An error and its sources, joined with `: ` (gix errors nest the useful part).
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

/// The object ids of the loose objects in `dir` (`xx/yyyy…` files), sorted.
pub(crate) fn loose_ids(dir: &Path, hash: gix::hash::Kind) -> Vec<ObjectId> {
    let mut ids = Vec::new();
    let Ok(read) = std::fs::read_dir(dir) else {
        return ids;
    };
    let hex_len = hash.len_in_hex();
    for sub in read.flatten() {
        let name = sub.file_name();
        let Some(prefix) = name.to_str() else {
            continue;
        };
        if prefix.len() != 2 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
            continue;
        }
        let Ok(files) = std::fs::read_dir(sub.path()) else {
            continue;
        };
        for f in files.flatten() {
            let fname = f.file_name();
            let Some(rest) = fname.to_str() else { continue };
            if rest.len() + 2 != hex_len {
                continue;
            }
            if let Ok(id) = ObjectId::from_hex(format!("{prefix}{rest}").as_bytes()) {
                ids.push(id);
            }
        }
    }
    ids.sort();
    ids
}

/// Lets the kernel drop the resident pages of a mapped pack, so that RSS does not grow to
/// the whole pack during a traversal: pages the traversal still needs fault back in from the
/// page cache (a minor fault, no I/O). Peak memory is one of the audit's targets.
#[cfg(target_os = "linux")]
pub(crate) fn release_pages(mapped: &[u8]) {
    if mapped.is_empty() {
        return;
    }
    // SAFETY: `mapped` is the whole of a pack file's mapping, which gix-pack creates with
    // `map_copy_read_only` (MAP_PRIVATE, PROT_READ: page-aligned, never written). It stays
    // mapped for the call. MADV_DONTNEED on such a mapping only discards resident pages;
    // any later read repopulates them with the same bytes from the file, which git never
    // modifies in place. No Rust reference observes a change in content.
    unsafe {
        libc::madvise(
            mapped.as_ptr() as *mut libc::c_void,
            mapped.len(),
            libc::MADV_DONTNEED,
        );
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn release_pages(_: &[u8]) {}

/// Hands memory freed by the blob pass's worker threads back to the system (glibc keeps it
/// in per-thread arenas otherwise), so attribution starts from a small footprint.
pub(crate) fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free heap memory; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}
