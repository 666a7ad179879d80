//! Fixture builders for the `archive` and `image` tests: archives and images written in
//! memory with the tar/flate2/zstd/zip crates, holding fake, generated secrets.

use super::{ghp, shush};
use std::io::Write;

/// A line that the built-in GitHub rule reports.
pub fn secret_line(seed: u64) -> String {
    format!("GITHUB_TOKEN={}\n", ghp(seed))
}

/// A tar of regular files (names written raw: `../x` and absolute names are kept as is).
pub fn tar(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in entries {
        let mut h = tar::Header::new_gnu();
        let bytes = name.as_bytes();
        if bytes.len() < 100 {
            h.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
        } else {
            h.set_path(name).unwrap();
        }
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// gzip.
pub fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// bzip2.
pub fn bz2(data: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// xz.
pub fn xz(data: &[u8]) -> Vec<u8> {
    let mut e = liblzma::write::XzEncoder::new(Vec::new(), 1);
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// zstd.
pub fn zst(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).unwrap()
}

/// A zip (deflated entries).
pub fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Sets the "encrypted" flag on every entry of a zip (local and central headers), as a
/// ZipCrypto-encrypted archive has it.
pub fn mark_zip_encrypted(mut z: Vec<u8>) -> Vec<u8> {
    let mut i = 0;
    while i + 4 <= z.len() {
        if &z[i..i + 4] == b"PK\x03\x04" {
            z[i + 6] |= 1;
        } else if &z[i..i + 4] == b"PK\x01\x02" {
            z[i + 8] |= 1;
        }
        i += 1;
    }
    z
}

/// Runs `shush ARGS… --format json --no-config`, returning (exit code, findings, stderr).
pub fn run_json(args: &[&str]) -> (i32, Vec<serde_json::Value>, String) {
    let out = shush()
        .args(args)
        .args(["--format", "json", "--no-progress"])
        .args(no_config(args))
        .output()
        .unwrap();
    let findings: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    (
        out.status.code().unwrap_or(-1),
        findings,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Like [`run_json`] for `shush image` (which has no `--no-progress`).
pub fn image_json(args: &[&str]) -> (i32, Vec<serde_json::Value>, String) {
    let out = shush()
        .arg("image")
        .args(args)
        .args(["--format", "json"])
        .args(no_config(args))
        .output()
        .unwrap();
    let findings: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    (
        out.status.code().unwrap_or(-1),
        findings,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `--no-config`, unless the arguments name a config.
fn no_config(args: &[&str]) -> Vec<&'static str> {
    if args.contains(&"--config") {
        vec![]
    } else {
        vec!["--no-config"]
    }
}

/// The `path` of each finding, sorted.
pub fn paths(findings: &[serde_json::Value]) -> Vec<String> {
    let mut v: Vec<String> = findings
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}
