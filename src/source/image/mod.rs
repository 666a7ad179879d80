//! Container images, without a Docker daemon: `docker save` tarballs (legacy
//! `manifest.json` + `<id>/layer.tar`, and Docker 25+'s OCI-in-docker layout), OCI image
//! layouts as a directory or a tar (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`),
//! multi-image bundles and multi-platform indexes; layers plain, gzip or zstd.
//!
//! What is scanned: the image config (environment, labels, entrypoint/cmd, health check,
//! `ONBUILD`, author, and every `history` line — where `ARG`/`ENV`/`RUN` secrets of the
//! Dockerfile end up), manifest annotations, and every file of every layer, including files
//! a later layer deletes (whiteouts) or replaces: those are still shipped, and their
//! findings say which layer hid them ([`crate::finding::HiddenBy`]).
//!
//! Layers are read straight from the archive at their offsets, in parallel, streamed
//! through decompression and the engine: memory stays flat however large the image.
//! Layers with the same digest are scanned once per run (and across runs with
//! [`cache::Cache`]); their findings are reported for every image that ships them.

pub mod cache;

pub mod manifest;
pub mod store;
pub mod verify;

use crate::archive::{self, ArtifactOptions, ArtifactScan, Budget, Problem, Walker, tar};
use crate::engine::{Engine, InputMeta};
use crate::finding::{Finding, HiddenBy, ImageSource, Source};
use crate::problem::Kind;
use crate::scan::input;
use crate::source::classify::InputKind;
use cache::Cache;
use manifest::{ImageRef, LayerRef};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use store::Store;

/// One image's summary line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSummary {
    /// Name and tag, if recorded.
    pub name: Option<String>,
    /// Manifest digest (OCI).
    pub manifest_digest: Option<String>,
    /// Platform (from a multi-platform index).
    pub platform: Option<String>,
    /// Number of layers.
    pub layers: usize,
}

/// A finding in a layer, before it is attributed to the images that ship the layer: made
/// by [`Finding::new`] like every finding (secret masked unless the user asked to reveal
/// it, and then nothing is cached); its path and source are set when it is attributed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LayerFinding {
    /// The file's path in the layer, then entries inside it if it is an archive.
    pub inner: Vec<String>,
    /// The finding, with no path or provenance yet.
    pub finding: Finding,
}

/// What scanning one layer found, and what it needs to know to tell which files later
/// layers hide.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LayerScan {
    /// Findings.
    pub findings: Vec<LayerFinding>,
    /// Paths this layer deletes (`.wh.<name>` markers).
    pub whiteouts: Vec<String>,
    /// Directories this layer makes opaque (`.wh..wh..opq`): lower layers' contents hidden.
    pub opaque: Vec<String>,
    /// Hashes of every path this layer writes, sorted (to tell replaced files).
    pub paths: Vec<u64>,
    /// Files scanned.
    pub scanned: u64,
    /// Bytes scanned.
    pub bytes: u64,
}

/// FNV-1a, 64 bits: a stable hash of a path (it is cached across runs).
fn path_hash(p: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in p.as_bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn split_dir(p: &str) -> (&str, &str) {
    match p.rfind('/') {
        Some(i) => (&p[..i], &p[i + 1..]),
        None => ("", p),
    }
}

fn join_dir(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

impl LayerScan {
    /// Records a layer entry's header; `false` for whiteout markers (not scanned).
    fn visit(&mut self, e: &tar::Entry) -> bool {
        let name = e.name();
        let (dir, base) = split_dir(&name);
        if base == ".wh..wh..opq" {
            self.opaque.push(dir.to_string());
            return false;
        }
        if let Some(hidden) = base.strip_prefix(".wh.") {
            self.whiteouts.push(join_dir(dir, hidden));
            return false;
        }
        if !name.is_empty() {
            self.paths.push(path_hash(&name));
        }
        true
    }

    /// How this layer hides `path` from lower layers, if it does.
    fn hides(&self, path: &str) -> Option<&'static str> {
        let under = |d: &str| d.is_empty() || path.starts_with(&format!("{d}/"));
        if self
            .whiteouts
            .iter()
            .any(|w| w == path || path.starts_with(&format!("{w}/")))
        {
            return Some("whiteout");
        }
        if self.opaque.iter().any(|d| under(d)) {
            return Some("opaque");
        }
        if self.paths.binary_search(&path_hash(path)).is_ok() {
            return Some("replaced");
        }
        None
    }
}

/// Scans the image(s) in `store`; `display` names the archive or directory in reports.
pub fn scan_store(
    engine: &Engine,
    store: &Store,
    display: &str,
    opts: &ArtifactOptions,
    reveal: bool,
) -> ArtifactScan {
    let plan = manifest::plan(store);
    let mut out = ArtifactScan::default();
    let top = || vec![display.to_string()];
    for p in plan.problems {
        out.problems.push(Problem::member(top(), Kind::Other, p));
    }
    out.notes
        .extend(plan.notes.into_iter().map(|n| format!("{display}: {n}")));
    if plan.images.is_empty() && out.problems.is_empty() {
        out.problems.push(Problem::member(
            top(),
            Kind::Other,
            "no image found (manifest.json / index.json list none)",
        ));
    }
    // Unique layer files, in first-seen order (by file, not by the digest they claim: two
    // files claiming one digest are both read, and each is checked against it).
    let mut unique: Vec<&LayerRef> = Vec::new();
    let mut slot: HashMap<String, usize> = HashMap::new();
    for img in &plan.images {
        for l in &img.layers {
            slot.entry(l.blob.clone()).or_insert_with(|| {
                unique.push(l);
                unique.len() - 1
            });
        }
    }
    let cache = match opts.cache.as_deref() {
        Some(dir) if !reveal => match Cache::open(dir, engine, &opts.limits) {
            Ok(c) => Some(c),
            Err(e) => {
                out.notes
                    .push(format!("{}: cache not usable: {e}", dir.display()));
                None
            }
        },
        _ => None,
    };
    let budget = Budget::new(opts.limits.clone());
    let results: Vec<(LayerScan, Vec<Problem>, bool)> = match store {
        Store::Stream { path, .. } => stream_layers(
            engine,
            store,
            path,
            display,
            &unique,
            &budget,
            cache.as_ref(),
            reveal,
        ),
        _ => unique
            .par_iter()
            .map_init(
                || (engine.new_state(), Vec::new()),
                |(st, buf), layer| {
                    let hit = cache
                        .as_ref()
                        .and_then(|c| verified_hit(c, layer, store.open(&layer.blob).ok()?));
                    if let Some(hit) = hit {
                        return (hit, Vec::new(), true);
                    }
                    let mut chain = vec![display.to_string(), layer.blob.clone()];
                    match store.open(&layer.blob) {
                        Ok(mut r) => scan_layer(
                            engine,
                            st,
                            buf,
                            &mut r,
                            &mut chain,
                            layer,
                            &budget,
                            cache.as_ref(),
                            reveal,
                        ),
                        Err(e) => (
                            LayerScan::default(),
                            vec![Problem::member(chain, Kind::Other, e.to_string())],
                            false,
                        ),
                    }
                },
            )
            .collect(),
    };
    for (scan, problems, cached) in &results {
        out.problems.extend(problems.iter().cloned());
        if *cached {
            out.layers_cached += 1;
        } else {
            out.scanned += scan.scanned;
            out.bytes += scan.bytes;
        }
    }
    out.layers_scanned += results.len() as u64;
    let mut st = engine.new_state();
    for img in &plan.images {
        let layer_scans: Vec<&LayerScan> = img
            .layers
            .iter()
            .map(|l| &results[slot[&l.blob]].0)
            .collect();
        image_findings(
            engine,
            store,
            display,
            img,
            &layer_scans,
            &mut st,
            reveal,
            &mut out,
        );
        out.images.push(ImageSummary {
            name: img.name.clone(),
            manifest_digest: img.manifest_digest.clone(),
            platform: img.platform.clone(),
            layers: img.layers.len(),
        });
    }
    out
}

/// Reads the layers of a compressed image archive in one streaming pass, in archive order.
#[allow(clippy::too_many_arguments)]
fn stream_layers(
    engine: &Engine,
    store: &Store,
    path: &Path,
    display: &str,
    unique: &[&LayerRef],
    budget: &Budget,
    cache: Option<&Cache>,
    reveal: bool,
) -> Vec<(LayerScan, Vec<Problem>, bool)> {
    let mut results: Vec<Option<(LayerScan, Vec<Problem>, bool)>> = vec![None; unique.len()];
    let mut wanted: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, layer) in unique.iter().enumerate() {
        if let Some(name) = store.resolve(&layer.blob) {
            wanted.entry(name).or_default().push(i);
        }
    }
    let mut st = engine.new_state();
    let mut buf = Vec::new();
    let mut outer: Vec<Problem> = Vec::new();
    if !wanted.is_empty() {
        let r = std::fs::File::open(path).and_then(|f| {
            archive::for_each_entry(
                &mut std::io::BufReader::with_capacity(256 << 10, f),
                budget,
                &mut |e, data| {
                    if e.kind == tar::Kind::File {
                        if let Some(idx) = wanted.remove(&e.name()) {
                            let layer = unique[idx[0]];
                            let mut chain = vec![display.to_string(), layer.blob.clone()];
                            let res = match cache.filter(|c| c.has(layer)) {
                                // A stream cannot be read twice: a cached layer is hashed, and
                                // used only when it proves to be what was cached.
                                Some(c) => stream_cached(c, layer, data, chain),
                                None => scan_layer(
                                    engine, &mut st, &mut buf, data, &mut chain, layer, budget,
                                    cache, reveal,
                                ),
                            };
                            for i in idx {
                                results[i] = Some(res.clone());
                            }
                        }
                    }
                    if wanted.is_empty() {
                        archive::Flow::Stop
                    } else {
                        archive::Flow::Continue
                    }
                },
            )
        });
        if let Err(e) = r {
            outer.push(Problem::member(
                vec![display.to_string()],
                if archive::is_cap(&e) {
                    Kind::OverCap
                } else {
                    Kind::Unreadable
                },
                e.to_string(),
            ));
        }
    }
    let mut out: Vec<(LayerScan, Vec<Problem>, bool)> = results
        .into_iter()
        .zip(unique)
        .map(|(r, layer)| {
            r.unwrap_or_else(|| {
                let problems = if outer.is_empty() {
                    vec![Problem::member(
                        vec![display.to_string(), layer.blob.clone()],
                        Kind::Missing,
                        "layer missing from the archive",
                    )]
                } else {
                    Vec::new()
                };
                (LayerScan::default(), problems, false)
            })
        })
        .collect();
    if let Some(first) = out.first_mut() {
        first.1.extend(outer);
    } else if !outer.is_empty() {
        out.push((LayerScan::default(), outer, false));
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn scan_layer(
    engine: &Engine,
    st: &mut crate::engine::ScanState,
    buf: &mut Vec<u8>,
    reader: &mut dyn std::io::Read,
    chain: &mut Vec<String>,
    layer: &LayerRef,
    budget: &Budget,
    cache: Option<&Cache>,
    reveal: bool,
) -> (LayerScan, Vec<Problem>, bool) {
    let mut scan = LayerScan::default();
    let mut walker = Walker::new(engine, st, buf, budget);
    let mut hashing = verify::Hashing::new(reader);
    let r = walker.scan_layer(&mut hashing, chain, 2, &mut |e| scan.visit(e));
    if let Err(e) = r {
        walker.problem(chain, &e);
    }
    let verdict = match (layer.digest.as_deref(), hashing.finish()) {
        (Some(claimed), Ok((actual, compressed))) => {
            verify::judge(claimed, layer.digest_of, &actual, compressed)
        }
        (_, Err(e)) => {
            walker.problem(chain, &e);
            verify::Verdict::Unverifiable
        }
        (None, Ok(_)) => verify::Verdict::Unverifiable,
    };
    if let (verify::Verdict::Mismatch { actual }, Some(claimed)) = (&verdict, &layer.digest) {
        let e = std::io::Error::other(verify::mismatch_message(claimed, actual));
        walker.problem(chain, &e);
    }
    scan.paths.sort_unstable();
    scan.paths.dedup();
    scan.scanned = walker.scanned;
    scan.bytes = walker.bytes;
    for h in &walker.hits {
        scan.findings.push(LayerFinding {
            inner: h.chain[2..].to_vec(),
            finding: Finding::new(engine, &h.located, "", Source::Stdin, reveal),
        });
    }
    let problems = walker.problems;
    if let (Some(c), Some(key)) = (cache, &layer.digest) {
        if verdict == verify::Verdict::Verified && problems.is_empty() && !budget.aborted() {
            // A cache that cannot be written costs speed, not correctness.
            let _ = c.store(key, &scan);
        }
    }
    (scan, problems, false)
}

/// The cached scan of `layer`, when there is one and the layer's content (read from
/// `reader`) proves to hash to the digest it was cached under.
fn verified_hit(cache: &Cache, layer: &LayerRef, reader: impl std::io::Read) -> Option<LayerScan> {
    let claimed = layer.digest.as_deref()?;
    let hit = cache.load(claimed)?;
    let verdict = verify::check(reader, claimed, layer.digest_of).ok()?;
    (verdict == verify::Verdict::Verified).then_some(hit)
}

/// A layer of a compressed image stream that has a cache entry: its content is hashed (the
/// stream cannot be read twice) and the cached scan used only when it matches; otherwise the
/// layer is a problem, not scanned.
fn stream_cached(
    cache: &Cache,
    layer: &LayerRef,
    data: &mut dyn std::io::Read,
    chain: Vec<String>,
) -> (LayerScan, Vec<Problem>, bool) {
    let claimed = layer.digest.as_deref().unwrap_or_default();
    let problem = |message: String| Problem::member(chain.clone(), Kind::Corrupt, message);
    match (
        verify::check(data, claimed, layer.digest_of),
        cache.load(claimed),
    ) {
        (Ok(verify::Verdict::Verified), Some(hit)) => (hit, Vec::new(), true),
        (Ok(verify::Verdict::Mismatch { actual }), _) => (
            LayerScan::default(),
            vec![problem(format!(
                "{}; not scanned (a stream is read once: rerun without --cache)",
                verify::mismatch_message(claimed, &actual)
            ))],
            false,
        ),
        (Err(e), _) => (LayerScan::default(), vec![problem(e.to_string())], false),
        _ => (
            LayerScan::default(),
            vec![problem(
                "cached layer could not be verified; not scanned (rerun without --cache)".into(),
            )],
            false,
        ),
    }
}

fn base_source(display: &str, img: &ImageRef) -> ImageSource {
    ImageSource {
        artifact: display.to_string(),
        image: img.name.clone(),
        manifest_digest: img.manifest_digest.clone(),
        platform: img.platform.clone(),
        config_digest: img.config_digest.clone(),
        layer_index: None,
        layer_digest: None,
        created_by: None,
        path: None,
        inner: Vec::new(),
        field: None,
        hidden_by: None,
    }
}

#[allow(clippy::too_many_arguments)]
fn image_findings(
    engine: &Engine,
    store: &Store,
    display: &str,
    img: &ImageRef,
    layers: &[&LayerScan],
    st: &mut crate::engine::ScanState,
    reveal: bool,
    out: &mut ArtifactScan,
) {
    // The config: fields scanned one by one, and the history that names each layer.
    let mut history: Vec<Option<String>> = Vec::new();
    if let Some(blob) = &img.config_blob {
        match store
            .read_json(blob)
            .map(|b| serde_json::from_slice::<serde_json::Value>(&b))
        {
            Ok(Ok(cfg)) => {
                history = manifest::layer_history(&cfg)
                    .into_iter()
                    .map(|h| h.map(|h| if reveal { h } else { redact(engine, st, &h) }))
                    .collect();
                for f in manifest::config_fields(&cfg) {
                    let found =
                        input::scan_bytes(engine, st, f.text.as_bytes(), InputMeta::default());
                    for l in &found {
                        let path = [display, blob.as_str(), f.field.as_str()]
                            .join(archive::CHAIN_SEPARATOR);
                        let mut src = base_source(display, img);
                        src.field = Some(f.field.clone());
                        src.layer_index = f.layer_index;
                        src.layer_digest = f
                            .layer_index
                            .and_then(|i| img.layers.get(i))
                            .and_then(|l| l.digest.clone());
                        if f.field.ends_with(".created_by") {
                            src.created_by = Some(if reveal {
                                f.text.clone()
                            } else {
                                redact(engine, st, &f.text)
                            });
                        }
                        out.findings.push(Finding::new(
                            engine,
                            l,
                            &path,
                            Source::Image(Box::new(src)),
                            reveal,
                        ));
                    }
                    out.scanned += 1;
                    out.bytes += f.text.len() as u64;
                }
            }
            Ok(Err(e)) => out.problems.push(Problem::member(
                vec![display.to_string(), blob.clone()],
                Kind::Corrupt,
                format!("image config is not JSON ({e})"),
            )),
            Err(e) => out.problems.push(Problem::member(
                vec![display.to_string(), blob.clone()],
                Kind::Unreadable,
                format!("image config unreadable ({e})"),
            )),
        }
    }
    for (k, v) in &img.annotations {
        let text = format!("{k}={v}");
        for l in input::scan_bytes(engine, st, text.as_bytes(), InputMeta::default()) {
            let field = format!("annotations.{k}");
            let blob = img
                .manifest_digest
                .as_deref()
                .and_then(manifest::blob_path)
                .unwrap_or_else(|| "manifest".into());
            let path = [display, blob.as_str(), field.as_str()].join(archive::CHAIN_SEPARATOR);
            let mut src = base_source(display, img);
            src.field = Some(field);
            out.findings.push(Finding::new(
                engine,
                &l,
                &path,
                Source::Image(Box::new(src)),
                reveal,
            ));
        }
    }
    // Layer files, attributed to this image.
    for (i, (layer, scan)) in img.layers.iter().zip(layers).enumerate() {
        for lf in &scan.findings {
            let file = lf.inner.first().cloned().unwrap_or_default();
            let hidden_by = layers
                .iter()
                .enumerate()
                .skip(i + 1)
                .find_map(|(j, later)| {
                    later.hides(&file).map(|how| HiddenBy {
                        layer_index: j,
                        layer_digest: img.layers[j].key(),
                        how: how.to_string(),
                    })
                });
            let mut src = base_source(display, img);
            src.layer_index = Some(i);
            src.layer_digest = layer.digest.clone();
            src.created_by = history.get(i).cloned().flatten();
            src.path = Some(file);
            src.inner = lf.inner.iter().skip(1).cloned().collect();
            src.hidden_by = hidden_by;
            let mut chain = vec![display.to_string(), layer.blob.clone()];
            chain.extend(lf.inner.iter().cloned());
            let mut f = lf.finding.clone();
            f.path = chain.join(archive::CHAIN_SEPARATOR);
            f.source = Source::Image(Box::new(src));
            out.findings.push(f);
        }
    }
}

/// `text` with every secret the engine finds in it masked (as reports mask secrets), for
/// context shown beside findings: a history line can hold the very secret it reports.
pub fn redact(engine: &Engine, st: &mut crate::engine::ScanState, text: &str) -> String {
    let found = input::scan_bytes(engine, st, text.as_bytes(), InputMeta::default());
    if found.is_empty() {
        return text.to_string();
    }
    let bytes = text.as_bytes();
    let mut spans: Vec<(usize, usize, usize)> = found
        .iter()
        .map(|l| {
            (
                l.secret_span.start as usize,
                l.secret_span.end as usize,
                l.rule,
            )
        })
        .filter(|&(a, b, _)| a <= b && b <= bytes.len())
        .collect();
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (a, b, rule) in spans {
        if a < at {
            continue; // overlapping spans: the first one masks
        }
        out.push_str(&String::from_utf8_lossy(&bytes[at..a]));
        out.push_str(&engine.rule(rule).mask(&bytes[a..b]));
        at = b;
    }
    out.push_str(&String::from_utf8_lossy(&bytes[at..]));
    out
}

/// Scans a file that may be an archive or an image: `None` when it is neither (the caller
/// scans it as a plain file). A tar holding `manifest.json`, or `index.json` with
/// `oci-layout`, is scanned as an image; other archives entry by entry.
/// `file` is `path` opened; when `None` is returned its position is anywhere (rewind it).
#[allow(clippy::too_many_arguments)]
pub fn scan_file(
    engine: &Engine,
    st: &mut crate::engine::ScanState,
    buf: &mut Vec<u8>,
    file: &mut std::fs::File,
    path: &Path,
    display: &str,
    opts: &ArtifactOptions,
    reveal: bool,
) -> std::io::Result<Option<ArtifactScan>> {
    if opts.limits.max_depth == 0 {
        return Ok(None);
    }
    let allowlisted = engine
        .rules()
        .global_allowlists
        .iter()
        .any(|a| a.allows_path(Some(display)));
    let mut head = Vec::new();
    let kind = if allowlisted {
        // Only the format is needed: a globally allowlisted path is skipped whole.
        crate::source::classify::classify_stream(file, &mut head)?
    } else {
        crate::source::classify::classify_file(file, path, &opts.limits, &mut head)?
    };
    match kind {
        InputKind::Plain => return Ok(None),
        _ if allowlisted => return Ok(Some(ArtifactScan::default())),
        InputKind::Image(store) => {
            return Ok(Some(scan_store(engine, &store, display, opts, reveal)));
        }
        InputKind::Archive(_) => {}
    }
    Ok(Some(archive::scan_file(
        engine,
        st,
        buf,
        file,
        display,
        &opts.limits,
        reveal,
    )))
}

/// Whether `dir` is an OCI image layout (or an extracted `docker save`).
pub fn is_layout_dir(dir: &Path) -> bool {
    dir.join("oci-layout").is_file()
        || (dir.join("manifest.json").is_file() && dir.join("repositories").is_file())
}
