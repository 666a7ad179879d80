//! `shush image PATH…`: the command, wired from the library (errors are `anyhow`, the edge).

use crate::cmd::app::{EXIT_ERROR, emit, exit_code, load_engine};
use crate::cmd::cli::ImageArgs;
use anyhow::Result;
use shush::archive::{self, ArtifactScan, sniff::Format};
use shush::image::store::Store;
use shush::problem::{Kind, Problem};
use std::path::Path;
use std::time::Instant;

/// Opens what `path` names as an image store, or says why it is not one.
pub fn open_store(path: &Path) -> Result<Store, String> {
    let md = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if md.is_dir() {
        let store = Store::dir(path);
        if store.is_image() {
            return Ok(store);
        }
        return Err("not an OCI image layout (no oci-layout + index.json) nor a docker save directory (no manifest.json)".into());
    }
    let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut head = Vec::new();
    match archive::sniff_reader(&mut file, &mut head).map_err(|e| e.to_string())? {
        Some(Format::Tar) => {
            let store = Store::index_tar(path).map_err(|e| format!("unreadable tar: {e}"))?;
            if store.is_image() {
                Ok(store)
            } else {
                Err(
                    "a tar, but not an image (no manifest.json, nor index.json + oci-layout)"
                        .into(),
                )
            }
        }
        Some(f) if f.is_compression() => {
            let budget = shush::archive::Budget::new(shush::archive::Limits::default());
            match Store::probe_stream(path, &budget) {
                Ok(Some(store)) => Ok(store),
                Ok(None) => Err(format!(
                    "a {} stream, but not of an image archive (no manifest.json, nor index.json + oci-layout)",
                    f.as_str()
                )),
                Err(e) => Err(format!("unreadable {} stream: {e}", f.as_str())),
            }
        }
        _ => Err("not an image tarball or layout directory".into()),
    }
}

/// Runs `shush image`.
pub fn run(args: ImageArgs) -> Result<u8> {
    let started = Instant::now();
    let out_args = &args.output;
    let engine = load_engine(&args.rules, Path::new("."), out_args.quiet)?;
    let baseline = crate::cmd::app::load_baseline(&engine, out_args, Path::new("."))?;
    let opts = args.artifacts.options();
    let mut total = ArtifactScan::default();
    let mut errors: Vec<Problem> = Vec::new();
    let mut warnings: Vec<Problem> = Vec::new();
    for path in &args.paths {
        let display = shush::scan::display_path(path);
        let store = match open_store(path) {
            Ok(s) => s,
            Err(e) => {
                errors.push(Problem::path(&display, Kind::Unreadable, e));
                continue;
            }
        };
        let a = shush::image::scan_store(&engine, &store, &display, &opts, out_args.show_secrets);
        if !out_args.quiet {
            for img in &a.images {
                let mut what = img.name.clone().unwrap_or_else(|| "(untagged)".into());
                if let Some(p) = &img.platform {
                    what.push_str(&format!(" [{p}]"));
                }
                if let Some(d) = &img.manifest_digest {
                    what.push_str(&format!(" {d}"));
                }
                eprintln!(
                    "shush: {display}: image {what}: {} layer{}",
                    img.layers,
                    if img.layers == 1 { "" } else { "s" }
                );
            }
        }
        for p in a.problems {
            if opts.skip_unreadable {
                warnings.push(p.skipped());
            } else {
                errors.push(p);
            }
        }
        warnings.extend(a.notes.into_iter().map(|n| Problem::run(Kind::Other, n)));
        total.findings.extend(a.findings);
        total.images.extend(a.images);
        total.layers_scanned += a.layers_scanned;
        total.layers_cached += a.layers_cached;
        total.scanned += a.scanned;
        total.bytes += a.bytes;
    }
    let mut findings = total.findings;
    findings.sort_by(shush::finding::Finding::report_order);
    let suppressed = crate::cmd::app::apply_baseline(&engine, &mut findings, baseline.as_ref());
    let notices = shush::report::Notices {
        errors: &errors,
        warnings: &warnings,
    };
    let scope = crate::cmd::app::StoreScope::of("image", &args.paths, "");
    let found = emit(&engine, &findings, notices, out_args, Some(&scope))?;
    if !out_args.quiet {
        for w in &warnings {
            eprintln!("shush: warning: {w}");
        }
    }
    for e in &errors {
        eprintln!("shush: error: {e}");
    }
    if !out_args.quiet {
        let secs = started.elapsed().as_secs_f64();
        let mut line = format!(
            "shush: {} image{}, {} layer{} ({} cached), {} files, {:.1} MB in {:.2}s: {} finding{}",
            total.images.len(),
            if total.images.len() == 1 { "" } else { "s" },
            total.layers_scanned,
            if total.layers_scanned == 1 { "" } else { "s" },
            total.layers_cached,
            total.scanned,
            total.bytes as f64 / 1e6,
            secs,
            found,
            if found == 1 { "" } else { "s" },
        );
        if suppressed > 0 {
            line.push_str(&format!(", {suppressed} suppressed by baseline"));
        }
        if !errors.is_empty() {
            line.push_str(&format!(
                ", {} error{}",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            ));
        }
        eprintln!("{line}");
    }
    let code = exit_code(found, errors.len(), out_args);
    debug_assert!(errors.is_empty() || code == EXIT_ERROR);
    Ok(code)
}
