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
}

impl Store {
    /// A directory store.
    pub fn dir(path: &Path) -> Store {
        Store::Dir(path.to_path_buf())
    }

    /// Indexes a tar file on disk: reads headers only, seeking over data.
    pub fn index_tar(path: &Path) -> io::Result<Store> {
        let file = File::open(path)?;
        let mut tar = TarReader::new(Seekable(BufReader::with_capacity(16 << 10, file)));
        let mut items = HashMap::new();
        while let Some(e) = tar.next_entry()? {
            let name = e.name();
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
        Ok(Store::Tar {
            path: path.to_path_buf(),
            items,
        })
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
            Store::Tar { .. } => self.locate(name).is_some(),
        }
    }

    fn locate(&self, name: &str) -> Option<(u64, u64)> {
        let Store::Tar { items, .. } = self else {
            return None;
        };
        let mut name = normalize(name);
        for _ in 0..MAX_LINKS {
            match items.get(&name)? {
                Item::File { offset, size } => return Some((*offset, *size)),
                Item::Link(target) => name = target.clone(),
            }
        }
        None
    }

    /// Size of `name` in bytes, if it exists.
    pub fn size(&self, name: &str) -> Option<u64> {
        match self {
            Store::Dir(root) => safe_join(root, name)
                .and_then(|p| std::fs::metadata(p).ok())
                .filter(|m| m.is_file())
                .map(|m| m.len()),
            Store::Tar { .. } => self.locate(name).map(|(_, s)| s),
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
                Ok(Box::new(BufReader::with_capacity(
                    256 << 10,
                    File::open(p)?,
                )))
            }
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
    fn joins_only_plain_names() {
        let root = Path::new("/r");
        assert!(safe_join(root, "blobs/sha256/ab").is_some());
        assert!(safe_join(root, "../x").is_none());
        assert!(safe_join(root, "/etc/passwd").is_none());
        assert!(safe_join(root, "a/../../x").is_none());
        assert!(safe_join(root, "").is_none());
    }
}
