//! Sources: everything that yields inputs for the engine, each with its provenance. A
//! directory walk and standard input ([`scan`]), the members of archives ([`archive`]), the
//! layers and config of container images ([`image`]), the blobs of a git history, the staged
//! index and a pushed range ([`git`]). [`stream`] scans one input of any size in bounded
//! memory and [`scan::input`] hands plain bytes to the engine; [`archive::sniff`] recognises
//! containers from their first bytes, and [`image::scan_file`] (a file) or
//! [`archive::scan_stream`] (a pipe) opens them. Findings go to a [`crate::sink::Sink`].

pub mod archive;
pub mod git;
pub mod image;
pub mod scan;
pub mod stream;
