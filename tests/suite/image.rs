//! Container images: docker save (legacy and OCI-in-docker) and OCI layouts built here with
//! secrets in layers, whiteouts and config history; the real tarballs of other tools
//! (`tests/fixtures/containers/`) with their layer counts; the layer cache; a cross-check
//! with umoci and skopeo when they are installed; parsers that never panic.

use crate::util::artifacts::*;
use crate::util::{ghp, shush};
use proptest::prelude::*;
use serde_json::{Value, json};
use sha2::Digest;
use shush::archive::ArtifactOptions;
use shush::image::store::Store;
use std::path::{Path, PathBuf};

fn sha(data: &[u8]) -> String {
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One layer: its files (`.wh.` names are whiteouts).
fn layer(files: &[(&str, &[u8])]) -> Vec<u8> {
    tar(files)
}

struct Legacy<'a> {
    tag: &'a str,
    layers: Vec<Vec<u8>>,
    /// (created_by, empty_layer)
    history: Vec<(String, bool)>,
    env: Vec<String>,
}

/// A legacy `docker save` archive (manifest.json, `<id>/layer.tar`, `<id>.json` configs).
fn docker_save(images: &[Legacy<'_>]) -> Vec<u8> {
    tar_of(&docker_save_files(images))
}

fn tar_of(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    tar(&refs)
}

/// The files of a legacy `docker save` archive, in archive order.
fn docker_save_files(images: &[Legacy<'_>]) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut manifest = Vec::new();
    for img in images {
        let diff_ids: Vec<String> = img
            .layers
            .iter()
            .map(|l| format!("sha256:{}", sha(l)))
            .collect();
        let config = json!({
            "architecture": "amd64", "os": "linux",
            "config": { "Env": img.env, "Cmd": ["/app/run"] },
            "history": img.history.iter().map(|(c, e)| {
                if *e { json!({"created_by": c, "empty_layer": true}) } else { json!({"created_by": c}) }
            }).collect::<Vec<_>>(),
            "rootfs": { "type": "layers", "diff_ids": diff_ids },
        });
        let config = serde_json::to_vec(&config).unwrap();
        let config_name = format!("{}.json", sha(&config));
        let mut layer_names = Vec::new();
        for l in &img.layers {
            let name = format!("{}/layer.tar", sha(l));
            if !files.iter().any(|(n, _)| *n == name) {
                files.push((name.clone(), l.clone()));
            }
            layer_names.push(name);
        }
        files.push((config_name.clone(), config));
        manifest.push(json!({"Config": config_name, "RepoTags": [img.tag], "Layers": layer_names}));
    }
    files.push((
        "manifest.json".into(),
        serde_json::to_vec(&manifest).unwrap(),
    ));
    files
}

/// Writes `img` as `img.tar` in `dir`; returns its path.
fn write_image(dir: &Path, img: &[u8]) -> String {
    let p = dir.join("img.tar");
    std::fs::write(&p, img).unwrap();
    p.to_string_lossy().into_owned()
}

fn run_image(path: &str, extra: &[&str]) -> (i32, Vec<Value>, String) {
    let mut args = vec![path];
    args.extend_from_slice(extra);
    image_json(&args)
}

fn find<'a>(findings: &'a [Value], token: &str, field: Option<&str>) -> Vec<&'a Value> {
    findings
        .iter()
        .filter(|f| f["secret"].as_str() == Some(token))
        .filter(|f| field.is_none_or(|x| f["source"]["field"].as_str() == Some(x)))
        .collect()
}

#[test]
fn docker_save_layers_whiteouts_and_history() {
    let base = layer(&[
        ("app/.env", secret_line(100).as_bytes()),
        ("app/keep.txt", secret_line(101).as_bytes()),
        ("etc/conf/app.ini", secret_line(102).as_bytes()),
        ("usr/share/doc.txt", b"docs"),
    ]);
    let rm = layer(&[("app/.wh..env", b"")]);
    let opaque = layer(&[("etc/.wh..wh..opq", b""), ("etc/hostname", b"box")]);
    let replace = layer(&[("app/keep.txt", b"nothing now")]);
    let app = layer(&[("srv/app.py", secret_line(103).as_bytes())]);
    let env_token = ghp(104);
    let img = docker_save(&[Legacy {
        tag: "acme/app:1.0",
        layers: vec![base.clone(), rm.clone(), opaque, replace, app],
        history: vec![
            ("/bin/sh -c #(nop) ADD file:base in /".into(), false),
            (
                format!("/bin/sh -c #(nop)  ENV API_TOKEN={env_token}"),
                true,
            ),
            ("/bin/sh -c rm app/.env".into(), false),
            (
                "/bin/sh -c rm -rf etc/* && echo box > etc/hostname".into(),
                false,
            ),
            ("/bin/sh -c echo nothing now > app/keep.txt".into(), false),
            ("COPY srv /srv # buildkit".into(), false),
        ],
        env: vec![format!("API_TOKEN={env_token}"), "PATH=/usr/bin".into()],
    }]);
    let dir = tempfile::tempdir().unwrap();
    let p = write_image(dir.path(), &img);
    let (code, findings, err) = run_image(&p, &["--show-secrets"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("image acme/app:1.0: 5 layers"), "{err}");
    assert_eq!(findings.len(), 6, "{findings:#?}");

    let base_id = sha(&base);
    let rm_digest = format!("sha256:{}", sha(&rm));
    let deleted = find(&findings, &ghp(100), None);
    assert_eq!(deleted.len(), 1);
    let f = deleted[0];
    assert_eq!(f["path"], format!("{p}!{base_id}/layer.tar!app/.env"));
    let s = &f["source"];
    assert_eq!(s["kind"], "image");
    assert_eq!(s["image"], "acme/app:1.0");
    assert_eq!(s["layer_index"], 0);
    assert_eq!(s["layer_digest"], format!("sha256:{base_id}"));
    assert_eq!(s["created_by"], "/bin/sh -c #(nop) ADD file:base in /");
    assert_eq!(s["path"], "app/.env");
    assert_eq!(
        s["hidden_by"],
        json!({"layer_index": 1, "layer_digest": rm_digest, "how": "whiteout"})
    );
    assert!(s["manifest_digest"].is_null());

    let replaced = find(&findings, &ghp(101), None);
    assert_eq!(replaced[0]["source"]["hidden_by"]["how"], "replaced");
    assert_eq!(replaced[0]["source"]["hidden_by"]["layer_index"], 3);
    let opaque = find(&findings, &ghp(102), None);
    assert_eq!(opaque[0]["source"]["hidden_by"]["how"], "opaque");
    assert_eq!(opaque[0]["source"]["hidden_by"]["layer_index"], 2);
    let live = find(&findings, &ghp(103), None);
    assert!(live[0]["source"]["hidden_by"].is_null());
    assert_eq!(live[0]["source"]["layer_index"], 4);
    assert_eq!(live[0]["source"]["created_by"], "COPY srv /srv # buildkit");

    let env = find(&findings, &env_token, Some("config.Env[0]"));
    assert_eq!(env.len(), 1);
    assert!(
        env[0]["path"]
            .as_str()
            .unwrap()
            .ends_with(".json!config.Env[0]")
    );
    let hist = find(&findings, &env_token, Some("history[1].created_by"));
    assert_eq!(hist.len(), 1);
    assert!(
        hist[0]["source"]["layer_index"].is_null(),
        "ENV makes no layer"
    );
    assert!(
        hist[0]["source"]["created_by"]
            .as_str()
            .unwrap()
            .contains("ENV API_TOKEN=")
    );

    // `shush scan` recognises the image by content, whatever its name.
    let renamed = dir.path().join("artifact.bin");
    std::fs::copy(&p, &renamed).unwrap();
    let (code, findings, _) = run_json(&["scan", &renamed.to_string_lossy()]);
    assert_eq!((code, findings.len()), (1, 6));
    assert!(findings.iter().all(|f| f["source"]["kind"] == "image"));
    // `docker save | gzip` and zstd: read in two streaming passes, the same findings.
    let summary = |fs: &[Value]| {
        let mut v: Vec<String> = fs
            .iter()
            .map(|f| {
                format!(
                    "{} {} {} {}",
                    f["fingerprint"],
                    f["source"]["layer_index"],
                    f["source"]["hidden_by"],
                    f["source"]["field"]
                )
            })
            .collect();
        v.sort();
        v
    };
    let (_, plain, _) = run_image(&p, &[]);
    for (name, data) in [("img.tar.gz", gz(&img)), ("img.tar.zst", zst(&img))] {
        let c = dir.path().join(name);
        std::fs::write(&c, data).unwrap();
        let c = c.to_string_lossy().into_owned();
        let (code, compressed, err) = run_image(&c, &[]);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("image acme/app:1.0: 5 layers"), "{err}");
        assert_eq!(summary(&compressed), summary(&plain));
        let (code, scanned, err) = run_json(&["scan", &c]);
        assert_eq!(code, 1, "{err}");
        assert_eq!(summary(&scanned), summary(&plain));
        assert!(scanned.iter().all(|f| f["source"]["kind"] == "image"));
    }
    // Masked by default, in every field.
    let text = serde_json::to_string(&findings).unwrap();
    for seed in 100..=104 {
        assert!(!text.contains(&ghp(seed)));
    }
}

#[test]
fn bundle_shares_layers_scans_them_once_reports_them_per_image() {
    let shared = layer(&[("opt/shared.env", secret_line(110).as_bytes())]);
    let a = layer(&[("a.txt", b"a")]);
    let b = layer(&[("b.env", secret_line(111).as_bytes())]);
    let img = docker_save(&[
        Legacy {
            tag: "one:1",
            layers: vec![shared.clone(), a],
            history: vec![],
            env: vec![],
        },
        Legacy {
            tag: "two:2",
            layers: vec![shared, b],
            history: vec![],
            env: vec![],
        },
    ]);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bundle.tar");
    std::fs::write(&p, &img).unwrap();
    let engine = shush::Engine::builtin().unwrap();
    let store = Store::index_tar(&p).unwrap();
    let out = shush::image::scan_store(
        &engine,
        &store,
        "bundle.tar",
        &ArtifactOptions::default(),
        false,
    );
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    assert_eq!(out.images.len(), 2);
    assert_eq!(out.layers_scanned, 3, "the shared layer once");
    let shared_hits: Vec<_> = out
        .findings
        .iter()
        .filter(|f| f.path.ends_with("opt/shared.env"))
        .collect();
    assert_eq!(
        shared_hits.len(),
        2,
        "reported for each image that ships it"
    );
    assert_eq!(out.findings.len(), 3);
}

/// An OCI layout: (name, bytes) files.
struct Oci {
    files: Vec<(String, Vec<u8>)>,
}

impl Oci {
    fn blob(&mut self, data: Vec<u8>) -> Value {
        let d = sha(&data);
        let v = json!({"digest": format!("sha256:{d}"), "size": data.len()});
        let name = format!("blobs/sha256/{d}");
        if !self.files.iter().any(|(n, _)| *n == name) {
            self.files.push((name, data));
        }
        v
    }

    fn manifest(&mut self, layers: Vec<(Vec<u8>, &str)>, history: Vec<&str>) -> Value {
        let layer_descs: Vec<Value> = layers
            .into_iter()
            .map(|(data, mt)| {
                let mut d = self.blob(data);
                d["mediaType"] = json!(mt);
                d
            })
            .collect();
        let config = json!({
            "architecture": "amd64", "os": "linux", "config": {"Labels": {"maintainer": "ops"}},
            "history": history.iter().map(|h| json!({"created_by": h})).collect::<Vec<_>>(),
        });
        let mut c = self.blob(serde_json::to_vec(&config).unwrap());
        c["mediaType"] = json!("application/vnd.oci.image.config.v1+json");
        let m = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": c, "layers": layer_descs});
        let mut d = self.blob(serde_json::to_vec(&m).unwrap());
        d["mediaType"] = json!("application/vnd.oci.image.manifest.v1+json");
        d
    }

    fn finish(mut self, manifests: Vec<Value>) -> Vec<(String, Vec<u8>)> {
        let index = json!({"schemaVersion": 2, "manifests": manifests});
        self.files
            .push(("index.json".into(), serde_json::to_vec(&index).unwrap()));
        self.files.push((
            "oci-layout".into(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        ));
        self.files
    }
}

fn multi_platform() -> Vec<(String, Vec<u8>)> {
    let mut oci = Oci { files: Vec::new() };
    let base = gz(&layer(&[("etc/base.env", secret_line(120).as_bytes())]));
    let amd = gz(&layer(&[("app/amd.txt", b"amd64 build")]));
    let arm = zst(&layer(&[("app/arm.env", secret_line(121).as_bytes())]));
    let gzip = "application/vnd.oci.image.layer.v1.tar+gzip";
    let zstd_mt = "application/vnd.oci.image.layer.v1.tar+zstd";
    let mut m_amd = oci.manifest(
        vec![(base.clone(), gzip), (amd, gzip)],
        vec!["ADD base", "RUN build amd64"],
    );
    m_amd["platform"] = json!({"os": "linux", "architecture": "amd64"});
    m_amd["annotations"] = json!({"io.containerd.image.name": "registry.example/acme/app:2.0"});
    let mut m_arm = oci.manifest(
        vec![(base, gzip), (arm, zstd_mt)],
        vec!["ADD base", "RUN build arm64"],
    );
    m_arm["platform"] = json!({"os": "linux", "architecture": "arm64", "variant": "v8"});
    m_arm["annotations"] = json!({"io.containerd.image.name": "registry.example/acme/app:2.0"});
    // An attestation manifest (skipped) and a manifest whose blob is not in the layout.
    let mut att = oci.manifest(vec![], vec![]);
    att["platform"] = json!({"os": "unknown", "architecture": "unknown"});
    att["annotations"] = json!({"vnd.docker.reference.type": "attestation-manifest"});
    let absent = json!({"mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": format!("sha256:{}", "0".repeat(64)), "size": 10,
        "platform": {"os": "linux", "architecture": "s390x"}});
    oci.finish(vec![m_amd, m_arm, att, absent])
}

fn write_dir(dir: &Path, files: &[(String, Vec<u8>)]) {
    for (n, d) in files {
        let p = dir.join(n);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, d).unwrap();
    }
}

#[test]
fn oci_layout_multi_platform_as_directory_and_tar() {
    let files = multi_platform();
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    write_dir(&layout, &files);
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let tarball = dir.path().join("layout.tar");
    std::fs::write(&tarball, tar(&refs)).unwrap();

    for target in [&layout, &tarball] {
        let t = target.to_string_lossy().into_owned();
        let (code, findings, err) = run_image(&t, &["--show-secrets"]);
        assert_eq!(code, 1, "{err}");
        assert!(
            err.contains("[linux/amd64]") && err.contains("[linux/arm64/v8]"),
            "{err}"
        );
        assert!(err.contains("attestation"), "{err}");
        assert!(err.contains("not in this archive"), "{err}");
        // The shared base layer's secret, once per platform; the arm64 zstd layer's once.
        let base = find(&findings, &ghp(120), None);
        assert_eq!(base.len(), 2, "{findings:#?}");
        let mut platforms: Vec<&str> = base
            .iter()
            .map(|f| f["source"]["platform"].as_str().unwrap())
            .collect();
        platforms.sort();
        assert_eq!(platforms, ["linux/amd64", "linux/arm64/v8"]);
        for f in &base {
            assert_eq!(f["source"]["image"], "registry.example/acme/app:2.0");
            assert!(
                f["source"]["manifest_digest"]
                    .as_str()
                    .unwrap()
                    .starts_with("sha256:")
            );
            assert_eq!(f["source"]["created_by"], "ADD base");
            assert!(f["path"].as_str().unwrap().contains("!blobs/sha256/"));
        }
        let arm = find(&findings, &ghp(121), None);
        assert_eq!(arm.len(), 1);
        assert_eq!(arm[0]["source"]["layer_index"], 1);
        assert_eq!(arm[0]["source"]["created_by"], "RUN build arm64");
    }
    // The library: three distinct layers for two images.
    let engine = shush::Engine::builtin().unwrap();
    let out = shush::image::scan_store(
        &engine,
        &Store::dir(&layout),
        "layout",
        &ArtifactOptions::default(),
        false,
    );
    assert_eq!(out.layers_scanned, 3);
    assert_eq!(
        out.images.iter().map(|i| i.layers).collect::<Vec<_>>(),
        [2, 2]
    );
    assert!(out.problems.is_empty());
    // `shush scan` on a tree holding the layout scans it as an image.
    let (code, findings, _) = run_json(&["scan", &dir.path().to_string_lossy()]);
    assert_eq!(code, 1);
    assert!(findings.iter().all(|f| f["source"]["kind"] == "image"));
    assert_eq!(
        findings.len(),
        6,
        "3 from the layout directory, 3 from the tar"
    );
}

#[test]
fn missing_and_corrupt_layers_are_errors() {
    let good = layer(&[("ok.env", secret_line(130).as_bytes())]);
    let img = docker_save(&[Legacy {
        tag: "broken:1",
        layers: vec![good.clone(), layer(&[("x", b"y")])],
        history: vec![],
        env: vec![],
    }]);
    // Drop the second layer's data by renaming its entry.
    let second = format!("{}/layer.tar", sha(&layer(&[("x", b"y")])));
    let mut bytes = img.clone();
    let at = bytes
        .windows(second.len())
        .position(|w| w == second.as_bytes())
        .unwrap();
    bytes[at] = if bytes[at] == b'z' { b'y' } else { b'z' };
    // Fix the header checksum after the rename.
    let hdr = at - at % 512;
    let mut h = [0u8; 512];
    h.copy_from_slice(&bytes[hdr..hdr + 512]);
    let mut th = tar::Header::new_old();
    th.as_mut_bytes().copy_from_slice(&h);
    th.set_cksum();
    bytes[hdr..hdr + 512].copy_from_slice(th.as_bytes());
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("missing.tar");
    std::fs::write(&p, &bytes).unwrap();
    let p = p.to_string_lossy().into_owned();
    let (code, findings, err) = run_image(&p, &[]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(findings.len(), 1, "the readable layer is still scanned");
    assert!(
        err.contains(&format!("{p}!{second}: ")) && err.contains("missing"),
        "{err}"
    );
    let (code, _, err) = run_image(&p, &["--skip-unreadable"]);
    assert_eq!(code, 1, "{err}");

    // A corrupt gzip layer in an OCI layout.
    let mut oci = Oci { files: Vec::new() };
    let mut bad = gz(&layer(&[("a", secret_line(131).as_bytes())]));
    let n = bad.len();
    for b in &mut bad[12..n - 8] {
        *b = !*b;
    }
    let m = oci.manifest(
        vec![(bad.clone(), "application/vnd.oci.image.layer.v1.tar+gzip")],
        vec![],
    );
    let layout = dir.path().join("bad-layout");
    write_dir(&layout, &oci.finish(vec![m]));
    let (code, _, err) = run_image(&layout.to_string_lossy(), &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!("!blobs/sha256/{}: ", sha(&bad))),
        "{err}"
    );
    // Not an image at all.
    let plain = dir.path().join("plain.tar");
    std::fs::write(&plain, tar(&[("a", b"b")])).unwrap();
    let (code, _, err) = run_image(&plain.to_string_lossy(), &[]);
    assert_eq!(code, 2);
    assert!(err.contains("not an image"), "{err}");
}

#[test]
fn an_image_audit_records_in_a_triage_store() {
    let img = docker_save(&[Legacy {
        tag: "app:1",
        layers: vec![layer(&[("app/.env", secret_line(150).as_bytes())])],
        history: vec![],
        env: vec![],
    }]);
    let dir = tempfile::tempdir().unwrap();
    let p = write_image(dir.path(), &img);
    let db = dir.path().join("triage.db").to_string_lossy().into_owned();
    let (code, findings, err) = run_image(&p, &["--store", &db]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("1 new secret, 1 new place"), "{err}");
    let id = findings[0]["secret_id"].as_str().unwrap();
    let set = shush()
        .args([
            "triage",
            "--store",
            &db,
            "set",
            id,
            "--status",
            "accepted-risk",
        ])
        .output()
        .unwrap();
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    // The accepted secret no longer fails the image, and the summary says why.
    let (code, findings, err) = run_image(&p, &["--store", &db]);
    assert_eq!((code, findings.len()), (0, 0), "{err}");
    assert!(
        err.contains("not reported, triaged: 1 accepted-risk") && err.contains(": 0 findings"),
        "{err}"
    );
}

#[test]
fn layer_cache_across_runs() {
    let img = docker_save(&[Legacy {
        tag: "cached:1",
        layers: vec![
            layer(&[("a.env", secret_line(140).as_bytes())]),
            layer(&[("b.txt", b"b")]),
        ],
        history: vec![],
        env: vec![],
    }]);
    let dir = tempfile::tempdir().unwrap();
    let p = write_image(dir.path(), &img);
    let cache = dir.path().join("cache");
    let c = cache.to_string_lossy().into_owned();
    let (code1, first, err1) = run_image(&p, &["--cache", &c]);
    assert!(err1.contains("2 layers (0 cached)"), "{err1}");
    let (code2, second, err2) = run_image(&p, &["--cache", &c]);
    assert!(err2.contains("2 layers (2 cached)"), "{err2}");
    assert_eq!((code1, code2), (1, 1));
    assert_eq!(first, second);
    let entries: Vec<PathBuf> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(entries.len(), 2);
    for e in &entries {
        let text = std::fs::read_to_string(e).unwrap();
        assert!(!text.contains(&ghp(140)), "no full secret in the cache");
    }
    // --show-secrets neither reads nor writes the cache.
    let (_, shown, err3) = run_image(&p, &["--cache", &c, "--show-secrets"]);
    assert!(err3.contains("(0 cached)"), "{err3}");
    assert_eq!(shown[0]["secret"], ghp(140));
    // Another rule set is another cache key.
    let rules = dir.path().join("rules.toml");
    std::fs::write(
        &rules,
        "[[rules]]\nid = 'gh'\nregex = '''ghp_[0-9A-Za-z]{36}'''\nkeywords = ['ghp_']\n",
    )
    .unwrap();
    let out = shush()
        .args([
            "image",
            &p,
            "--cache",
            &c,
            "--config",
            &rules.to_string_lossy(),
        ])
        .output()
        .unwrap();
    let err4 = String::from_utf8_lossy(&out.stderr);
    assert!(err4.contains("(0 cached)"), "{err4}");
    // Another fingerprint key is another cache key: cached findings carry the old key's
    // fingerprints, which must never come back under the new one.
    let out = shush()
        .args(["image", &p, "--cache", &c, "--format", "json"])
        .env(
            shush::fingerprint::KEY_ENV,
            "another team's fingerprint key",
        )
        .output()
        .unwrap();
    let err5 = String::from_utf8_lossy(&out.stderr);
    assert!(err5.contains("(0 cached)"), "{err5}");
    let other: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_ne!(other[0]["fingerprint"], first[0]["fingerprint"]);
    assert_eq!(other[0]["secret"], first[0]["secret"]);
}

/// Every real tarball: (file, [(image name, layers)]).
const REAL: &[(&str, &[(&str, usize)])] = &[
    (
        "dive/test-kaniko-image.tar",
        &[("dive-test:kaniko-latest", 14)],
    ),
    ("dive/test-oci-uncompressed-image.tar", &[("", 1)]),
    ("dive/test-oci-gzip-image.tar", &[("", 1)]),
    ("dive/test-oci-zstd-image.tar", &[("", 1)]),
    ("dive/test-oci-estargz-image.tar", &[("", 1)]),
    (
        "go-containerregistry/test_image_1.tar",
        &[("bazel/v1/tarball:test_image_1", 1)],
    ),
    (
        "go-containerregistry/test_image_2.tar",
        &[("bazel/v1/tarball:test_image_2", 1)],
    ),
    (
        "go-containerregistry/test_bundle.tar",
        &[("test_image_2", 1), ("test_image_1", 1)],
    ),
    (
        "go-containerregistry/test_link.tar",
        &[
            ("bazel/v1/tarball:test_image_1", 1),
            ("bazel/v1/tarball:test_image_3", 2),
        ],
    ),
    ("go-containerregistry/hello-world-v25.tar", &[("", 1)]),
    (
        "go-containerregistry/mutate-source_image.tar",
        &[("bazel/pkg/v1/mutate:source_image", 1)],
    ),
    (
        "go-containerregistry/mutate-whiteout_image.tar",
        &[("bazel/pkg/v1/mutate:whiteout_image", 3)],
    ),
    ("dive/test-docker-image.tar", &[("dive-test:latest", 14)]),
];

#[test]
fn real_tarballs_scan_with_the_right_layer_counts() {
    let engine = shush::Engine::builtin().unwrap();
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/containers");
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/containers");
    let mut scanned = 0;
    for (file, want) in REAL {
        let path = [&local, &shared]
            .iter()
            .map(|d| d.join(file))
            .find(|p| p.is_file());
        let Some(path) = path else {
            assert_eq!(
                *file, "dive/test-docker-image.tar",
                "{file} must be in tests/fixtures"
            );
            eprintln!("skipping {file}: not in tests/fixtures, no shared/ checkout");
            continue;
        };
        let store = Store::index_tar(&path).unwrap();
        assert!(store.is_image(), "{file}");
        let out =
            shush::image::scan_store(&engine, &store, file, &ArtifactOptions::default(), false);
        assert!(out.problems.is_empty(), "{file}: {:?}", out.problems);
        let got: Vec<(String, usize)> = out
            .images
            .iter()
            .map(|i| (i.name.clone().unwrap_or_default(), i.layers))
            .collect();
        let want: Vec<(String, usize)> = want.iter().map(|(n, l)| (n.to_string(), *l)).collect();
        assert_eq!(got, want, "{file}");
        assert!(out.scanned > 0, "{file}: files scanned");
        assert!(out.findings.is_empty(), "{file}: {:?}", out.findings);
        scanned += 1;
        // And through the CLI, as `shush scan` sees it.
        let (code, _, err) = run_json(&["scan", &path.to_string_lossy()]);
        assert_eq!(code, 0, "{file}: {err}");
    }
    assert!(scanned >= 12);
}

#[test]
fn whiteout_fixture_knows_the_deleted_file() {
    // go-containerregistry's mutate-whiteout image: layer 2 deletes foo.txt of layer 1 (the
    // test plants nothing; it checks the whiteout bookkeeping through a rule of its own).
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/containers/go-containerregistry/mutate-whiteout_image.tar");
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("r.toml");
    // foo.txt and bar.txt hold short words: match any 3+ letter word in them.
    std::fs::write(
        &rules,
        "[[rules]]\nid = 'word'\nregex = '''(?m)^[a-z]{3}$'''\npath = '''(foo|bar)\\.txt$'''\n",
    )
    .unwrap();
    let (_, findings, err) = run_image(
        &path.to_string_lossy(),
        &["--config", &rules.to_string_lossy()],
    );
    let foo: Vec<_> = findings
        .iter()
        .filter(|f| f["source"]["path"] == "foo.txt")
        .collect();
    let bar: Vec<_> = findings
        .iter()
        .filter(|f| f["source"]["path"] == "bar.txt")
        .collect();
    assert_eq!((foo.len(), bar.len()), (1, 1), "{err}\n{findings:#?}");
    assert_eq!(foo[0]["source"]["hidden_by"]["how"], "whiteout");
    assert_eq!(foo[0]["source"]["hidden_by"]["layer_index"], 1);
    assert!(bar[0]["source"]["hidden_by"].is_null());
}

fn have(tool: &str) -> bool {
    std::process::Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// umoci builds an OCI layout (a layer with a secret file, an env var in the config);
/// skopeo converts it to a docker-save archive; both scans find the same secrets.
#[test]
fn cross_check_with_umoci_and_skopeo() {
    if !have("umoci") {
        eprintln!("skipping: umoci not installed (apt-get install umoci skopeo)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("oci");
    let l = layout.to_string_lossy().into_owned();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(args[0])
            .args(&args[1..])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&["umoci", "init", "--layout", &l]);
    run(&["umoci", "new", "--image", &format!("{l}:v1")]);
    let bundle = dir.path().join("bundle");
    let b = bundle.to_string_lossy().into_owned();
    run(&[
        "umoci",
        "unpack",
        "--rootless",
        "--image",
        &format!("{l}:v1"),
        &b,
    ]);
    std::fs::create_dir_all(bundle.join("rootfs/app")).unwrap();
    std::fs::write(bundle.join("rootfs/app/.env"), secret_line(150)).unwrap();
    run(&["umoci", "repack", "--image", &format!("{l}:v1"), &b]);
    run(&[
        "umoci",
        "config",
        "--image",
        &format!("{l}:v1"),
        "--config.env",
        &format!("DEPLOY_TOKEN={}", ghp(151)),
    ]);
    let (code, findings, err) = run_image(&l, &["--show-secrets"]);
    assert_eq!(code, 1, "{err}");
    let mut got: Vec<(String, String)> = findings
        .iter()
        .map(|f| {
            let s = &f["source"];
            let loc = s["path"]
                .as_str()
                .or(s["field"].as_str())
                .unwrap()
                .to_string();
            (loc, f["secret"].as_str().unwrap().to_string())
        })
        .collect();
    got.sort();
    assert!(got.contains(&("app/.env".to_string(), ghp(150))), "{got:?}");
    assert!(
        got.contains(&("config.Env[1]".to_string(), ghp(151)))
            || got
                .iter()
                .any(|(l, t)| l.starts_with("config.Env") && *t == ghp(151)),
        "{got:?}"
    );
    assert!(findings.iter().all(|f| f["source"]["image"] == "v1"));
    if !have("skopeo") {
        eprintln!("skipping the skopeo half: skopeo not installed");
        return;
    }
    let archive = dir.path().join("img.tar");
    run(&[
        "skopeo",
        "--insecure-policy",
        "copy",
        &format!("oci:{l}:v1"),
        &format!("docker-archive:{}:acme/umoci:v1", archive.display()),
    ]);
    let (code, converted, err) = run_image(&archive.to_string_lossy(), &["--show-secrets"]);
    assert_eq!(code, 1, "{err}");
    let mut fps_a: Vec<&str> = findings
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    let mut fps_b: Vec<&str> = converted
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    fps_a.sort();
    fps_b.sort();
    // skopeo's docker archive keeps the config (env) and the layer: the same secrets.
    fps_a.dedup();
    fps_b.dedup();
    assert_eq!(fps_a, fps_b);
    assert!(
        converted
            .iter()
            .all(|f| f["source"]["image"] == "docker.io/acme/umoci:v1")
    );
}

fn json_value() -> impl Strategy<Value = Value> {
    let key = prop::sample::select(vec![
        "manifests",
        "layers",
        "config",
        "digest",
        "mediaType",
        "history",
        "created_by",
        "empty_layer",
        "Env",
        "Labels",
        "Cmd",
        "annotations",
        "platform",
        "os",
        "architecture",
        "rootfs",
        "diff_ids",
        "Config",
        "Layers",
        "RepoTags",
        "urls",
        "x",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        prop::sample::select(vec![
            "sha256:0123456789abcdef0123456789abcdef",
            "sha256:../../etc/passwd",
            "blobs/sha256/x",
            "manifest.json",
            "attestation-manifest",
            "",
        ])
        .prop_map(|s| json!(s)),
        ".*".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn manifests_and_configs_fail_closed_and_scan_consistently(index in json_value(), manifest in json_value(), blob in json_value()) {
        let _ = shush::image::manifest::config_fields(&blob);
        let _ = shush::image::manifest::layer_history(&blob);
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
        std::fs::write(d.join("manifest.json"), serde_json::to_vec(&manifest).unwrap()).unwrap();
        std::fs::write(d.join("oci-layout"), b"{}").unwrap();
        let hex = "0123456789abcdef0123456789abcdef";
        std::fs::create_dir_all(d.join("blobs/sha256")).unwrap();
        std::fs::write(d.join("blobs/sha256").join(hex), serde_json::to_vec(&blob).unwrap()).unwrap();
        let store = Store::dir(d);
        let scan = || shush::image::scan_store(engine(), &store, "fuzz", &ArtifactOptions::default(), false);
        check_scan_invariants(&scan(), &scan(), "fuzz")?;
    }

    #[test]
    fn arbitrary_image_tars_fail_closed_and_scan_consistently(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.tar");
        let mut t = tar(&[("manifest.json", &data[..data.len() / 2]), ("index.json", &data[data.len() / 2..])]);
        t.extend_from_slice(&data);
        std::fs::write(&p, &t).unwrap();
        if let Ok(store) = Store::index_tar(&p) {
            let scan = || shush::image::scan_store(engine(), &store, "x.tar", &ArtifactOptions::default(), false);
            check_scan_invariants(&scan(), &scan(), "x.tar")?;
        }
    }
}

/// What must hold for any scan of any store, however malformed: every problem is
/// attributed to the artifact (never to something outside it), a scan that found no
/// image says so as a problem (fails closed instead of reporting a clean result), and
/// scanning the same store again gives the same findings, problems and images.
fn check_scan_invariants(
    first: &shush::archive::ArtifactScan,
    again: &shush::archive::ArtifactScan,
    display: &str,
) -> Result<(), TestCaseError> {
    for p in &first.problems {
        let outermost = match &p.subject {
            shush::problem::Subject::Member(chain) => chain.first().map(String::as_str),
            _ => None,
        };
        prop_assert_eq!(outermost, Some(display), "{}", p);
    }
    prop_assert!(
        !first.images.is_empty() || !first.problems.is_empty(),
        "no image found and no problem reported: {:?}",
        first
    );
    let json = |s: &shush::archive::ArtifactScan| serde_json::to_value(&s.findings).unwrap();
    prop_assert_eq!(
        json(first),
        json(again),
        "findings differ between two scans"
    );
    prop_assert_eq!(
        &first.problems,
        &again.problems,
        "problems differ between two scans"
    );
    prop_assert_eq!(
        &first.images,
        &again.images,
        "images differ between two scans"
    );
    Ok(())
}

fn engine() -> &'static shush::Engine {
    static E: std::sync::OnceLock<shush::Engine> = std::sync::OnceLock::new();
    E.get_or_init(|| shush::Engine::builtin().unwrap())
}

/// A FIFO planted as a layer blob in a layout directory is refused, not read (it would
/// block forever).
#[cfg(unix)]
#[test]
fn fifo_blobs_in_a_layout_are_refused() {
    let mut oci = Oci { files: Vec::new() };
    let data = gz(&layer(&[("a", b"b")]));
    let m = oci.manifest(
        vec![(data.clone(), "application/vnd.oci.image.layer.v1.tar+gzip")],
        vec![],
    );
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    let files: Vec<(String, Vec<u8>)> = oci
        .finish(vec![m])
        .into_iter()
        .filter(|(n, _)| *n != format!("blobs/sha256/{}", sha(&data)))
        .collect();
    write_dir(&layout, &files);
    let fifo = layout.join(format!("blobs/sha256/{}", sha(&data)));
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipping: mkfifo unavailable");
        return;
    }
    let (code, _, err) = run_image(&layout.to_string_lossy(), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a regular file"), "{err}");
}

/// One image whose second layer's content is `second` while its config claims `claimed`
/// for it (what a tampered archive looks like).
fn tampered(first: Vec<u8>, claimed: Vec<u8>, second: Vec<u8>) -> Vec<(String, Vec<u8>)> {
    let mut files = docker_save_files(&[Legacy {
        tag: "tampered:1",
        layers: vec![first, claimed.clone()],
        history: vec![],
        env: vec![],
    }]);
    let name = format!("{}/layer.tar", sha(&claimed));
    for (n, d) in &mut files {
        if *n == name {
            *d = second.clone();
        }
    }
    files
}

#[test]
fn a_layer_that_does_not_match_its_digest_is_an_error_and_still_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let clean = layer(&[("ok.txt", b"nothing here")]);
    let bad = layer(&[("a.env", secret_line(150).as_bytes())]);
    let p = dir.path().join("t.tar");
    std::fs::write(&p, tar_of(&tampered(layer(&[("x", b"x")]), clean, bad))).unwrap();
    let (code, findings, err) = run_image(&p.to_string_lossy(), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("does not match its digest"), "{err}");
    assert_eq!(find(&findings, &ghp(150), None).len(), 0, "masked");
    assert_eq!(
        findings.len(),
        1,
        "the tampered layer is scanned: {findings:?}"
    );
}

#[test]
fn two_layers_claiming_one_digest_are_both_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let first = layer(&[("ok.txt", b"first layer")]);
    let bad = layer(&[("b.env", secret_line(151).as_bytes())]);
    let mut files = docker_save_files(&[Legacy {
        tag: "twins:1",
        layers: vec![first.clone(), bad.clone()],
        history: vec![],
        env: vec![],
    }]);
    // The config claims the first layer's digest for both.
    let digest = format!("sha256:{}", sha(&first));
    for (n, d) in &mut files {
        if n.ends_with(".json") && n != "manifest.json" {
            let mut cfg: Value = serde_json::from_slice(d).unwrap();
            cfg["rootfs"]["diff_ids"] = json!([digest, digest]);
            *d = serde_json::to_vec(&cfg).unwrap();
        }
    }
    let p = dir.path().join("twins.tar");
    std::fs::write(&p, tar_of(&files)).unwrap();
    let (code, findings, err) = run_image(&p.to_string_lossy(), &[]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(findings.len(), 1, "{err}");
    assert!(err.contains("does not match its digest"), "{err}");
}

#[test]
fn the_cache_is_used_only_for_layers_that_match_their_digest() {
    let dir = tempfile::tempdir().unwrap();
    let base = layer(&[("x", b"x")]);
    let clean = layer(&[("ok.txt", b"nothing here")]);
    let bad = layer(&[("a.env", secret_line(152).as_bytes())]);
    let c = dir.path().join("cache").to_string_lossy().into_owned();
    for (name, pack) in [("plain.tar", false), ("packed.tar.gz", true)] {
        let write = |files: &[(String, Vec<u8>)]| {
            let p = dir.path().join(name);
            let t = tar_of(files);
            std::fs::write(&p, if pack { gz(&t) } else { t }).unwrap();
            p.to_string_lossy().into_owned()
        };
        let honest = tampered(base.clone(), clean.clone(), clean.clone());
        let p = write(&honest);
        let (code, _, err) = run_image(&p, &["--cache", &c]);
        assert_eq!(code, 0, "{name}: {err}");
        let (_, _, err) = run_image(&p, &["--cache", &c]);
        assert!(err.contains("2 layers (2 cached)"), "{name}: {err}");
        // The same names and digests, another content: the clean cached result is not used.
        let p = write(&tampered(base.clone(), clean.clone(), bad.clone()));
        let (code, findings, err) = run_image(&p, &["--cache", &c]);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(err.contains("does not match its digest"), "{name}: {err}");
        if !pack {
            assert_eq!(findings.len(), 1, "{name}: scanned afresh: {err}");
        }
    }
}
