//! Sources: everything that yields inputs for the engine, each with its provenance. A
//! directory walk and standard input ([`scan`]), the members of archives ([`archive`]), the
//! layers and config of container images ([`image`]), the blobs of a git history, the staged
//! index and a pushed range ([`git`]). [`stream`] scans one input of any size in bounded
//! memory ([`parallel_stream`] on several threads) and [`scan::input`] hands plain bytes to the engine; [`classify`] is the one place
//! that decides what an input is (plain, an archive, an image), and [`image::scan_file`] (a
//! file) or [`archive::scan_stream`] (a pipe) opens what it says. Findings go to a
//! [`crate::sink::Sink`]. `forge` (with the `forge` feature) lists the repositories of a
//! GitHub organisation or user, or of a GitLab group, for `shush fleet`.

pub mod archive;
pub mod classify;
#[cfg(feature = "forge")]
pub mod forge;
pub mod git;
pub mod image;
pub mod parallel_stream;
pub mod scan;
pub mod stream;
