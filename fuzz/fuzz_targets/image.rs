//! Image manifests and configs: the bytes are split into `index.json`, `manifest.json` and
//! one blob of an image tar; the tar is indexed, planned and scanned. Never panics, and
//! every problem stays within the archive.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shush::archive::ArtifactOptions;
use shush::image::{manifest, scan_store, store::Store};
use std::io::Write;
use std::sync::OnceLock;

fn engine() -> &'static shush::Engine {
    static E: OnceLock<shush::Engine> = OnceLock::new();
    E.get_or_init(|| shush::Engine::builtin().expect("built-in rules"))
}

fn entry(out: &mut Vec<u8>, name: &str, data: &[u8]) {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..107].copy_from_slice(b"0000644");
    h[124..135].copy_from_slice(format!("{:011o}", data.len()).as_bytes());
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
}

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = manifest::config_fields(&v);
        let _ = manifest::layer_history(&v);
    }
    let (a, rest) = data.split_at(data.len() / 3);
    let (b, c) = rest.split_at(rest.len() / 2);
    let mut t = Vec::new();
    entry(&mut t, "oci-layout", b"{}");
    entry(&mut t, "index.json", a);
    entry(&mut t, "manifest.json", b);
    entry(&mut t, "blobs/sha256/0123456789abcdef0123456789abcdef", c);
    t.extend_from_slice(&[0u8; 1024]);
    let Ok((path, mut file)) = tempfile_like() else {
        return;
    };
    if file.write_all(&t).is_err() {
        return;
    }
    drop(file);
    if let Ok(store) = Store::index_tar(&path) {
        let out = scan_store(engine(), &store, "fuzz.tar", &ArtifactOptions::default(), false);
        for p in &out.problems {
            assert_eq!(p.chain[0], "fuzz.tar");
        }
    }
    let _ = std::fs::remove_file(&path);
});

fn tempfile_like() -> std::io::Result<(std::path::PathBuf, std::fs::File)> {
    let p = std::env::temp_dir().join(format!("shush-fuzz-image-{}.tar", std::process::id()));
    let f = std::fs::File::create(&p)?;
    Ok((p, f))
}
