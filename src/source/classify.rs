//! What an input is — the one decision every file and stream goes through before anything
//! reads it: plain bytes for the engine, an archive or compressed stream whose members are
//! inputs in turn, or a container image. Formats are recognised from the first bytes
//! ([`crate::archive::sniff`]); a tar, or a compressed stream, is an image when it holds an
//! image's manifest.

use crate::archive::sniff::Format;
use crate::archive::{Budget, Limits, sniff_reader};
use crate::image::store::Store;
use std::io::{self, Read};
use std::path::Path;

/// What an input is.
#[derive(Debug)]
pub enum InputKind {
    /// Plain bytes, for the engine.
    Plain,
    /// An archive or a compressed stream, of this format.
    Archive(Format),
    /// A container image (`docker save`, an OCI layout as a tar, either compressed).
    Image(Store),
}

/// Classifies the file at `path` (opened as `file`), reading its first bytes into `head`;
/// `file`'s position is then anywhere. A tar or compressed file is probed for an image
/// manifest within `limits`.
pub fn classify_file(
    file: &mut std::fs::File,
    path: &Path,
    limits: &Limits,
    head: &mut Vec<u8>,
) -> io::Result<InputKind> {
    let Some(format) = sniff_reader(file, head)? else {
        return Ok(InputKind::Plain);
    };
    let store = if format == Format::Tar {
        Store::probe_tar(path).ok().flatten()
    } else if format.is_compression() {
        // `docker save | gzip`: a first pass reads the names and the small documents.
        let budget = Budget::new(limits.clone());
        Store::probe_stream(path, &budget).ok().flatten()
    } else {
        None
    };
    Ok(match store.filter(Store::is_image) {
        Some(store) => InputKind::Image(store),
        None => InputKind::Archive(format),
    })
}

/// Classifies a stream that can be read only once (standard input) from its first bytes,
/// which it leaves in `head` for the reader of the rest: plain, or an archive (an image in
/// a stream is read as the tar it is).
pub fn classify_stream<R: Read + ?Sized>(r: &mut R, head: &mut Vec<u8>) -> io::Result<InputKind> {
    Ok(match sniff_reader(r, head)? {
        Some(format) => InputKind::Archive(format),
        None => InputKind::Plain,
    })
}
