//! Blobs over `--max-blob-size` in packs, told from entry headers alone, so that they are
//! never inflated. A base object's size is in its entry header; a delta's result is at most
//! its base's size plus the delta's own decompressed size, so along a delta chain the bound
//! adds up. Entries whose bound is over the cap (the large objects, and the deltas built on
//! them) are left out of the pack traversal and looked at one by one: a large blob is
//! skipped by the exact size its headers give, anything else is read on its own.

use gix::ObjectId;
use gix::odb::pack;
use gix::odb::pack::data::entry::Header;
use std::sync::atomic::AtomicBool;

/// Longest delta chain followed when checking an object's bases (git writes at most 4095).
const MAX_CHAIN: usize = 10_000;

/// What one walk over a pack's entry headers tells before the pack is traversed.
#[derive(Debug, Default)]
pub(crate) struct Survey {
    /// The entries whose objects may be over the size cap, by pack offset (ascending), with
    /// their position in the index. Empty for almost every pack: it is then traversed whole.
    pub large: Vec<(u64, u32)>,
    /// The objects that are blobs, or may be (a delta whose base is not in the pack before
    /// it): what a blob ledger is asked about. Only when asked for.
    pub blobs: Vec<ObjectId>,
}

/// What an entry's header chain says of its object's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Blob,
    Other,
    Unknown,
}

/// Walks the headers of `bundle` in pack order: the entries that may be over `max` bytes
/// and, with `want_blobs`, the blobs (a delta has its base's kind).
pub(crate) fn survey(bundle: &pack::Bundle, max: u64, want_blobs: bool) -> Survey {
    let index = &bundle.index;
    let mut by_offset: Vec<(u64, u32)> = (0..index.num_objects())
        .map(|i| (index.pack_offset_at_index(i), i))
        .collect();
    by_offset.sort_unstable();
    let mut bounds = vec![0u64; by_offset.len()];
    let mut kinds = vec![Kind::Unknown; if want_blobs { by_offset.len() } else { 0 }];
    let mut out = Survey::default();
    for k in 0..by_offset.len() {
        let (offset, pos) = by_offset[k];
        let Ok(e) = bundle.pack.entry(offset) else {
            continue; // a damaged entry: the traversal reports it
        };
        let base = match e.header {
            Header::OfsDelta { base_distance } => offset.checked_sub(base_distance),
            Header::RefDelta { base_id } => {
                index.lookup(base_id).map(|i| index.pack_offset_at_index(i))
            }
            header => {
                bounds[k] = e.decompressed_size;
                if e.decompressed_size > max {
                    out.large.push((offset, pos));
                }
                if want_blobs {
                    kinds[k] = if header == Header::Blob {
                        Kind::Blob
                    } else {
                        Kind::Other
                    };
                }
                continue;
            }
        };
        // A base must come earlier to have its bound; one that does not is looked at alone.
        let base_at = base
            .filter(|&b| b < offset)
            .and_then(|b| by_offset[..k].binary_search_by_key(&b, |e| e.0).ok());
        bounds[k] = base_at
            .map_or(u64::MAX, |j| bounds[j])
            .saturating_add(e.decompressed_size);
        if bounds[k] > max {
            out.large.push((offset, pos));
        }
        if want_blobs {
            kinds[k] = base_at.map_or(Kind::Unknown, |j| kinds[j]);
        }
    }
    if want_blobs {
        // Blobs that may be over the cap are left out: they are not scanned, so no ledger
        // has (or should reserve) a verdict for them.
        out.blobs = (by_offset.iter().zip(&kinds).zip(&bounds))
            .filter(|((_, kind), bound)| **kind != Kind::Other && **bound <= max)
            .map(|((&(_, pos), _), _)| index.oid_at_index(pos).to_owned())
            .collect();
    }
    out
}

/// Traverses the pack's delta trees without the `left_out` entries (from [`find`]; every
/// delta built on one of them is among them), calling `process` with each object decoded.
pub(crate) fn traverse_without<P>(
    bundle: &pack::Bundle,
    left_out: &[(u64, u32)],
    threads: usize,
    interrupt: &AtomicBool,
    mut process: P,
) -> Result<(), String>
where
    P: FnMut(gix::objs::Kind, &[u8], &gix::oid) + Send + Clone,
{
    let index = &bundle.index;
    let hash = index.object_hash();
    let tree = pack::cache::delta::Tree::from_offsets_in_pack(
        bundle.pack.path(),
        entries_without(index, left_out).into_iter(),
        &|e: &pack::index::Entry| e.pack_offset,
        &|id| index.lookup(id).map(|i| index.pack_offset_at_index(i)),
        &mut gix::progress::Discard,
        interrupt,
        hash,
    )
    .map_err(|e| super::odb::error_chain(&e))?;
    let starts: Vec<u64> = left_out.iter().map(|e| e.0).collect();
    let inspect = move |e: &mut pack::index::Entry,
                        _: &dyn gix::progress::Progress,
                        ctx: pack::cache::delta::traverse::Context<'_>| {
        if let Some(kind) = ctx.entry.header.as_kind() {
            process(kind, ctx.decompressed, &e.oid);
        }
        Ok::<(), std::convert::Infallible>(())
    };
    tree.traverse(
        clipped(&starts),
        &bundle.pack,
        bundle.pack.pack_end() as u64,
        inspect,
        pack::cache::delta::traverse::Options {
            object_progress: Box::new(gix::progress::Discard),
            size_progress: &mut gix::progress::Discard,
            thread_limit: Some(threads),
            should_interrupt: interrupt,
            object_hash: hash,
            alloc_limit_bytes: None,
        },
    )
    .map(|_| ())
    .map_err(|e| super::odb::error_chain(&e))
}

/// The index's entries but `left_out`, by pack offset.
fn entries_without(index: &pack::index::File, left_out: &[(u64, u32)]) -> Vec<pack::index::Entry> {
    let skip: std::collections::HashSet<u32> = left_out.iter().map(|e| e.1).collect();
    let mut entries: Vec<pack::index::Entry> = (0..index.num_objects())
        .filter(|i| !skip.contains(i))
        .map(|i| pack::index::Entry {
            oid: index.oid_at_index(i).to_owned(),
            pack_offset: index.pack_offset_at_index(i),
            crc32: None,
        })
        .collect();
    entries.sort_unstable_by_key(|e| e.pack_offset);
    entries
}

/// Resolves an entry's bytes in the pack: they end where the next entry starts, left out of
/// the tree (`starts`, sorted) or not.
fn clipped(
    starts: &[u64],
) -> impl for<'r> Fn(pack::data::EntryRange, &'r pack::data::File) -> Option<&'r [u8]> + Send + Clone + '_
{
    move |range, pack| {
        let next = starts.partition_point(|&s| s <= range.start);
        let end = starts.get(next).map_or(range.end, |&s| s.min(range.end));
        pack.entry_slice(range.start..end)
    }
}

/// Whether decoding the object at `offset` needs a base object over `max` bytes (its delta
/// chain is followed through the entry headers; nothing is inflated but delta headers).
pub(crate) fn needs_large_base(bundle: &pack::Bundle, mut offset: u64, max: u64) -> bool {
    let index = &bundle.index;
    let mut inflate = gix::zlib::Inflate::default();
    let in_pack = |id: &gix::oid| {
        let at = index.pack_offset_at_index(index.lookup(id)?);
        let e = bundle.pack.entry(at).ok()?;
        Some(pack::data::decode::header::ResolvedBase::InPack(e))
    };
    for _ in 0..MAX_CHAIN {
        let Ok(e) = bundle.pack.entry(offset) else {
            return false;
        };
        let base = match e.header {
            Header::OfsDelta { base_distance } => offset.checked_sub(base_distance),
            Header::RefDelta { base_id } => {
                index.lookup(base_id).map(|i| index.pack_offset_at_index(i))
            }
            _ => return false,
        };
        let Some(base) = base else { return false };
        let Ok(b) = bundle.pack.entry(base) else {
            return false;
        };
        let size = if b.header.is_delta() {
            match bundle.pack.decode_header(b, &mut inflate, &in_pack) {
                Ok(h) => h.object_size,
                Err(_) => return false,
            }
        } else {
            b.decompressed_size
        };
        if size > max {
            return true;
        }
        offset = base;
    }
    false
}

/// The id of the object at index position `pos`.
pub(crate) fn id_at(bundle: &pack::Bundle, pos: u32) -> ObjectId {
    bundle.index.oid_at_index(pos).to_owned()
}
