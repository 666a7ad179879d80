//! Where an image's files live: a tar on disk (indexed once, then read at offsets, so layers
//! can be read in parallel) or an OCI layout directory.

use crate::archive::tar::{Kind, Seekable, TarReader, normalize};
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

/// JSON documents (manifests, indexes, configs) larger than this are refused.
pub const MAX_JSON: u64 = 16 << 20;

/// Links followed in a row before giving up (a loop).
const MAX_LINKS: usize = 16;

/// Where a tar entry's data is.
#[derive(Debug, Clone)]
pub enum Item {
    /// A file's data.
    File {
        /// Offset of the data in the tar.
        offset: u64,
        /// Its size.
        size: u64,
    },
    /// A link, to this (normalised) entry name.
    Link(String),
}

/// The files of an image archive or layout.
#[derive(Debug)]
pub enum Store {
    /// An OCI layout (or an extracted `docker save`) directory.
    Dir(PathBuf),
    /// A tar file: entry name → where its data is.
    Tar {
        /// The tar file.
        path: PathBuf,
        /// Entries by normalised name.
        items: HashMap<String, Item>,
    },
    /// A compressed tar file (`docker save | gzip`): no offsets to seek to, so layers are
    /// read in a second streaming pass; the small documents were kept from the first.
    Stream {
        /// The compressed tar file.
        path: PathBuf,
        /// Entries by normalised name (offsets are meaningless here).
        items: HashMap<String, Item>,
        /// Small entries that may be JSON documents, by name.
        kept: HashMap<String, Vec<u8>>,
    },
}

/// Entries of a compressed image archive kept in memory by the first pass: at most this
/// large each…
pub const KEEP_ENTRY: u64 = 4 << 20;
/// …and this large in all.
pub const KEEP_TOTAL: u64 = 64 << 20;

/// Whether an archive entry's name fits the layout of an image archive (`manifest.json`,
/// `index.json`, `oci-layout`, `repositories`, `blobs/…`, `<64 hex>/layer.tar`,
/// `<64 hex>.json`, kaniko's `sha256:<hex>` and `<hex>.tar.gz`). Probing stops at the first
/// name that does not, so telling a release tarball from an image costs one header.
pub fn image_shaped(name: &str) -> bool {
    let first = name.split('/').next().unwrap_or("");
    if matches!(
        first,
        "manifest.json" | "index.json" | "oci-layout" | "repositories" | "blobs" | ""
    ) {
        return true;
    }
    let stem = first.strip_prefix("sha256:").unwrap_or(first);
    let stem = stem
        .strip_suffix(".json")
        .or_else(|| stem.strip_suffix(".tar.gz"))
        .or_else(|| stem.strip_suffix(".tar"))
        .unwrap_or(stem);
    stem.len() == 64 && stem.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Store {
    /// A directory store.
    pub fn dir(path: &Path) -> Store {
        Store::Dir(path.to_path_buf())
    }

    /// Indexes a tar file on disk: reads headers only, seeking over data.
    pub fn index_tar(path: &Path) -> io::Result<Store> {
        Self::index_tar_probe(path, false)?
            .ok_or_else(|| io::Error::other("tar index: unreachable probe result"))
    }

    /// Like [`Store::index_tar`], but gives up (`None`) at the first entry whose name does
    /// not fit an image archive ([`image_shaped`]).
    pub fn probe_tar(path: &Path) -> io::Result<Option<Store>> {
        Self::index_tar_probe(path, true)
    }

    fn index_tar_probe(path: &Path, probe: bool) -> io::Result<Option<Store>> {
        let file = File::open(path)?;
        let mut tar = TarReader::new(Seekable(BufReader::with_capacity(16 << 10, file)));
        let mut items = HashMap::new();
        while let Some(e) = tar.next_entry()? {
            let name = e.name();
            if probe && !image_shaped(&name) {
                return Ok(None);
            }
            let item = match e.kind {
                Kind::File => Item::File {
                    offset: e.data_offset,
                    size: e.size,
                },
                Kind::Hardlink => Item::Link(normalize(&String::from_utf8_lossy(&e.link))),
                Kind::Symlink => {
                    Item::Link(resolve_relative(&name, &String::from_utf8_lossy(&e.link)))
                }
                Kind::Dir | Kind::Other => continue,
            };
            items.insert(name, item);
        }
        Ok(Some(Store::Tar {
            path: path.to_path_buf(),
            items,
        }))
    }

    /// First pass over a compressed tar file: indexes names, keeps small entries that may
    /// be JSON documents. `None` when it is not a tar, or not shaped like an image archive.
    pub fn probe_stream(path: &Path, budget: &crate::archive::Budget) -> io::Result<Option<Store>> {
        use crate::archive::{Flow, for_each_entry};
        let file = File::open(path)?;
        let mut items = HashMap::new();
        let mut kept = HashMap::new();
        let mut kept_total = 0u64;
        let mut shaped = true;
        let is_tar = for_each_entry(
            &mut BufReader::with_capacity(256 << 10, file),
            budget,
            &mut |e, data| {
                let name = e.name();
                if !image_shaped(&name) || !budget.add_entry() {
                    shaped = false;
                    return Flow::Stop;
                }
                let item = match e.kind {
                    Kind::File => Item::File {
                        offset: 0,
                        size: e.size,
                    },
                    Kind::Hardlink => Item::Link(normalize(&String::from_utf8_lossy(&e.link))),
                    Kind::Symlink => {
                        Item::Link(resolve_relative(&name, &String::from_utf8_lossy(&e.link)))
                    }
                    Kind::Dir | Kind::Other => return Flow::Continue,
                };
                if e.kind == Kind::File && e.size <= KEEP_ENTRY && kept_total + e.size <= KEEP_TOTAL
                {
                    let mut v = Vec::with_capacity(e.size as usize);
                    if data.take(KEEP_ENTRY).read_to_end(&mut v).is_ok()
                        && matches!(
                            v.iter().find(|b| !b.is_ascii_whitespace()),
                            Some(b'{' | b'[')
                        )
                    {
                        kept_total += v.len() as u64;
                        kept.insert(name.clone(), v);
                    }
                }
                items.insert(name, item);
                Flow::Continue
            },
        )?;
        if !is_tar || !shaped {
            return Ok(None);
        }
        let store = Store::Stream {
            path: path.to_path_buf(),
            items,
            kept,
        };
        Ok(store.is_image().then_some(store))
    }

    /// The name of the file `name` leads to, following links.
    pub fn resolve(&self, name: &str) -> Option<String> {
        let items = match self {
            Store::Dir(_) => return Some(name.to_string()),
            Store::Tar { items, .. } | Store::Stream { items, .. } => items,
        };
        let mut name = normalize(name);
        for _ in 0..MAX_LINKS {
            match items.get(&name)? {
                Item::File { .. } => return Some(name),
                Item::Link(target) => name = target.clone(),
            }
        }
        None
    }

    /// Whether this looks like an image: a `docker save` `manifest.json`, or an OCI
    /// `index.json` with `oci-layout`.
    pub fn is_image(&self) -> bool {
        self.has("manifest.json") || (self.has("index.json") && self.has("oci-layout"))
    }

    /// Whether `name` exists (following links).
    pub fn has(&self, name: &str) -> bool {
        match self {
            Store::Dir(root) => safe_join(root, name).is_some_and(|p| p.is_file()),
            Store::Tar { .. } | Store::Stream { .. } => self.locate(name).is_some(),
        }
    }

    fn locate(&self, name: &str) -> Option<(u64, u64)> {
        let (Store::Tar { items, .. } | Store::Stream { items, .. }) = self else {
            return None;
        };
        match items.get(&self.resolve(name)?)? {
            Item::File { offset, size } => Some((*offset, *size)),
            Item::Link(_) => None,
        }
    }

    /// Size of `name` in bytes, if it exists.
    pub fn size(&self, name: &str) -> Option<u64> {
        match self {
            Store::Dir(root) => safe_join(root, name)
                .and_then(|p| std::fs::metadata(p).ok())
                .filter(|m| m.is_file())
                .map(|m| m.len()),
            Store::Tar { .. } | Store::Stream { .. } => self.locate(name).map(|(_, s)| s),
        }
    }

    /// Reads a small file (a JSON document) whole.
    pub fn read_json(&self, name: &str) -> io::Result<Vec<u8>> {
        let size = self
            .size(name)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("{name}: missing")))?;
        if size > MAX_JSON {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{name}: {size} bytes is too large for an image document"),
            ));
        }
        if let Store::Stream { kept, .. } = self {
            let resolved = self.resolve(name).unwrap_or_default();
            return kept.get(&resolved).cloned().ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{name}: not a JSON document, or too large to keep from a compressed archive"),
                )
            });
        }
        let mut v = Vec::with_capacity(size as usize);
        self.open(name)?.take(MAX_JSON).read_to_end(&mut v)?;
        Ok(v)
    }

    /// Opens `name` for streaming.
    pub fn open(&self, name: &str) -> io::Result<Box<dyn Read + Send>> {
        let missing = || io::Error::new(io::ErrorKind::NotFound, format!("{name}: missing"));
        match self {
            Store::Dir(root) => {
                let p = safe_join(root, name).ok_or_else(missing)?;
                // Only regular files: a FIFO or device planted in a layout must not block or
                // stream forever.
                if !std::fs::metadata(&p)?.is_file() {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("{name}: not a regular file"),
                    ));
                }
                Ok(Box::new(BufReader::with_capacity(
                    256 << 10,
                    File::open(p)?,
                )))
            }
            Store::Stream { .. } => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("{name}: a compressed archive is read in order, not opened at offsets"),
            )),
            Store::Tar { path, .. } => {
                let (offset, size) = self.locate(name).ok_or_else(missing)?;
                let mut f = File::open(path)?;
                f.seek(SeekFrom::Start(offset))?;
                Ok(Box::new(BufReader::with_capacity(
                    256 << 10,
                    Exact {
                        inner: f.take(size),
                        left: size,
                    },
                )))
            }
        }
    }
}

/// A reader that must deliver exactly its length (a tar truncated mid-blob is an error).
struct Exact<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && self.left > 0 && !buf.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "image archive truncated",
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Joins a name from an (untrusted) manifest to `root`, refusing anything but plain
/// relative components: no `..`, no absolute paths, no drive prefixes.
pub fn safe_join(root: &Path, name: &str) -> Option<PathBuf> {
    let rel = Path::new(name);
    if name.is_empty() || rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    Some(root.join(rel))
}

/// The archive path a symlink at `link` pointing to `target` names: `..` and `.` resolved
/// lexically, never above the archive root.
pub fn resolve_relative(link: &str, target: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    if !target.starts_with('/') {
        parts.extend(link.split('/').filter(|s| !s.is_empty()));
        parts.pop();
    }
    for c in target.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_links() {
        assert_eq!(
            resolve_relative("b/layer.tar", "../a/layer.tar"),
            "a/layer.tar"
        );
        assert_eq!(resolve_relative("x", "/../../etc/passwd"), "etc/passwd");
        assert_eq!(resolve_relative("a/b/c", "./d"), "a/b/d");
    }

    #[test]
    fn image_shapes() {
        let hex = "ab".repeat(32);
        for n in [
            "manifest.json".to_string(),
            "blobs/sha256/x".into(),
            format!("{hex}/layer.tar"),
            format!("{hex}.json"),
            format!("sha256:{hex}"),
            format!("{hex}.tar.gz"),
            "oci-layout".into(),
        ] {
            assert!(image_shaped(&n), "{n}");
        }
        for n in ["app/README", "etc/passwd", "abc.json", "release"] {
            assert!(!image_shaped(n), "{n}");
        }
    }

    #[test]
    fn joins_only_plain_names() {
        let root = Path::new("/r");
        assert!(safe_join(root, "blobs/sha256/ab").is_some());
        assert!(safe_join(root, "../x").is_none());
        assert!(safe_join(root, "/etc/passwd").is_none());
        assert!(safe_join(root, "a/../../x").is_none());
        assert!(safe_join(root, "").is_none());
    }
}
