//! Reading what an image archive holds: `docker save`'s `manifest.json` (legacy and
//! OCI-in-docker), OCI `index.json` (nested indexes, multi-platform, attestations skipped),
//! manifests and configs. Every document is untrusted: parsed leniently as JSON values,
//! with digests checked before they become file names.

use super::store::Store;
use serde_json::Value;

/// Indexes nested inside indexes beyond this are ignored.
const MAX_INDEX_DEPTH: usize = 4;

/// One image found in an archive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageRef {
    /// Name and tag (`repo:tag`), where recorded.
    pub name: Option<String>,
    /// Manifest digest (OCI layouts).
    pub manifest_digest: Option<String>,
    /// `os/arch[/variant]` from the index.
    pub platform: Option<String>,
    /// The config's file in the store.
    pub config_blob: Option<String>,
    /// The config's digest.
    pub config_digest: Option<String>,
    /// Layers, base first.
    pub layers: Vec<LayerRef>,
    /// Manifest annotations, scanned like config fields.
    pub annotations: Vec<(String, String)>,
}

/// One layer of an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerRef {
    /// The layer's file in the store.
    pub blob: String,
    /// The layer's digest (its identity for de-duplication and caching): the descriptor's
    /// digest, or for legacy archives the config's `rootfs.diff_ids` entry.
    pub digest: Option<String>,
    /// What `digest` is a hash of (checked as the layer is read).
    pub digest_of: super::verify::DigestOf,
}

impl LayerRef {
    /// The key that identifies this layer's content.
    pub fn key(&self) -> String {
        self.digest
            .clone()
            .unwrap_or_else(|| format!("file:{}", self.blob))
    }
}

/// Whether `d` is a well-formed digest (`algorithm:hex`), safe to use as a file name.
pub fn valid_digest(d: &str) -> bool {
    let Some((alg, hex)) = d.split_once(':') else {
        return false;
    };
    !alg.is_empty()
        && alg.len() <= 32
        && alg
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b))
        && hex.len() >= 16
        && hex.len() <= 128
        && hex
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"=_-".contains(&b))
}

/// The store path of a blob: `blobs/<alg>/<hex>`.
pub fn blob_path(digest: &str) -> Option<String> {
    if !valid_digest(digest) {
        return None;
    }
    let (alg, hex) = digest.split_once(':')?;
    Some(format!("blobs/{alg}/{hex}"))
}

/// The digest a `blobs/<alg>/<hex>` path names.
fn digest_of_path(p: &str) -> Option<String> {
    let rest = p.strip_prefix("blobs/")?;
    let (alg, hex) = rest.split_once('/')?;
    let d = format!("{alg}:{hex}");
    valid_digest(&d).then_some(d)
}

fn str_of(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

fn annotations(v: &Value) -> Vec<(String, String)> {
    v.get("annotations")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn platform(v: &Value) -> Option<String> {
    let p = v.get("platform")?;
    let os = str_of(p, "os")?;
    let arch = str_of(p, "architecture")?;
    Some(match str_of(p, "variant") {
        Some(var) => format!("{os}/{arch}/{var}"),
        None => format!("{os}/{arch}"),
    })
}

/// What reading an archive's manifests gave.
#[derive(Debug, Default)]
pub struct Plan {
    /// The images, in archive order.
    pub images: Vec<ImageRef>,
    /// Problems that make the scan incomplete (a referenced layer or config missing,
    /// unparsable documents).
    pub problems: Vec<String>,
    /// Notes that do not (manifests of other platforms absent from a partial layout,
    /// attestation manifests skipped).
    pub notes: Vec<String>,
}

/// Reads the images a store holds.
pub fn plan(store: &Store) -> Plan {
    let mut plan = Plan::default();
    if store.has("index.json") {
        match store
            .read_json("index.json")
            .map(|b| serde_json::from_slice::<Value>(&b))
        {
            Ok(Ok(v)) => walk_index(store, &v, None, 0, &mut plan),
            Ok(Err(e)) => plan.problems.push(format!("index.json: not JSON ({e})")),
            Err(e) => plan.problems.push(format!("index.json: {e}")),
        }
    }
    if store.has("manifest.json") {
        match store
            .read_json("manifest.json")
            .map(|b| serde_json::from_slice::<Value>(&b))
        {
            Ok(Ok(v)) => docker_manifest(store, &v, &mut plan),
            Ok(Err(e)) => plan.problems.push(format!("manifest.json: not JSON ({e})")),
            Err(e) => plan.problems.push(format!("manifest.json: {e}")),
        }
    }
    plan
}

fn walk_index(store: &Store, index: &Value, name: Option<String>, depth: usize, plan: &mut Plan) {
    let Some(list) = index.get("manifests").and_then(Value::as_array) else {
        return;
    };
    for d in list {
        let Some(digest) = str_of(d, "digest") else {
            plan.problems
                .push("index: a descriptor without a digest".into());
            continue;
        };
        let ann = annotations(d);
        let get = |k: &str| ann.iter().find(|(a, _)| a == k).map(|(_, v)| v.clone());
        if get("vnd.docker.reference.type").as_deref() == Some("attestation-manifest") {
            plan.notes.push(format!(
                "{digest}: attestation manifest, not an image; skipped"
            ));
            continue;
        }
        let image_name = get("io.containerd.image.name")
            .or_else(|| get("org.opencontainers.image.ref.name").filter(|n| n.contains([':', '/'])))
            .or_else(|| name.clone())
            .or_else(|| get("org.opencontainers.image.ref.name"));
        let Some(path) = blob_path(&digest) else {
            plan.problems
                .push(format!("index: invalid digest {digest:?}"));
            continue;
        };
        if !store.has(&path) {
            plan.notes.push(format!(
                "{digest}{}: manifest not in this archive (another platform?); skipped",
                platform(d).map(|p| format!(" ({p})")).unwrap_or_default()
            ));
            continue;
        }
        let doc = match store
            .read_json(&path)
            .map(|b| serde_json::from_slice::<Value>(&b))
        {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => {
                plan.problems.push(format!("{path}: not JSON ({e})"));
                continue;
            }
            Err(e) => {
                plan.problems.push(format!("{path}: {e}"));
                continue;
            }
        };
        if doc.get("manifests").is_some() {
            if depth < MAX_INDEX_DEPTH {
                walk_index(store, &doc, image_name, depth + 1, plan);
            }
            continue;
        }
        let mut img = oci_manifest(&doc, plan, &path);
        img.name = image_name;
        img.manifest_digest = Some(digest);
        img.platform = platform(d);
        if img.platform.as_deref() == Some("unknown/unknown") {
            plan.notes.push(format!(
                "{path}: platform unknown/unknown (attestation); skipped"
            ));
            continue;
        }
        plan.images.push(img);
    }
}

fn oci_manifest(doc: &Value, plan: &mut Plan, path: &str) -> ImageRef {
    let mut img = ImageRef {
        annotations: annotations(doc),
        ..Default::default()
    };
    if let Some(c) = doc.get("config") {
        if let Some(d) = str_of(c, "digest") {
            img.config_blob = blob_path(&d);
            img.config_digest = Some(d);
        }
    }
    for l in doc
        .get("layers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(d) = str_of(l, "digest") else {
            plan.problems
                .push(format!("{path}: a layer without a digest"));
            continue;
        };
        if l.get("urls").is_some_and(|u| u.is_array()) {
            // A foreign (non-distributable) layer: not in the archive by design.
            plan.notes.push(format!(
                "{d}: foreign layer, not shipped in the archive; skipped"
            ));
            continue;
        }
        match blob_path(&d) {
            Some(blob) => img.layers.push(LayerRef {
                blob,
                digest: Some(d),
                digest_of: super::verify::DigestOf::Stored,
            }),
            None => plan
                .problems
                .push(format!("{path}: invalid layer digest {d:?}")),
        }
    }
    img
}

fn docker_manifest(store: &Store, v: &Value, plan: &mut Plan) {
    let Some(list) = v.as_array() else {
        plan.problems.push("manifest.json: not a list".into());
        return;
    };
    for entry in list {
        let config = str_of(entry, "Config").map(|c| crate::archive::tar::normalize(&c));
        let tags: Vec<String> = entry
            .get("RepoTags")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let config_digest = config.as_deref().and_then(|c| {
            digest_of_path(c).or_else(|| {
                // `<hex>.json` (legacy) or `sha256:<hex>` (kaniko).
                let stem = c.strip_suffix(".json").unwrap_or(c);
                if valid_digest(stem) {
                    Some(stem.to_string())
                } else {
                    let d = format!("sha256:{stem}");
                    valid_digest(&d).then_some(d)
                }
            })
        });
        // Already found through index.json (Docker 25+ writes both): add the tag only.
        if let Some(existing) = plan
            .images
            .iter_mut()
            .find(|i| i.config_digest.is_some() && i.config_digest == config_digest)
        {
            if existing.name.is_none() || !existing.name.as_deref().unwrap_or("").contains(':') {
                if let Some(t) = tags.first() {
                    existing.name = Some(t.clone());
                }
            }
            continue;
        }
        let layers: Vec<String> = entry
            .get("Layers")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(crate::archive::tar::normalize))
                    .collect()
            })
            .unwrap_or_default();
        let diff_ids: Vec<String> = config
            .as_deref()
            .and_then(|c| store.read_json(c).ok())
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|cfg| {
                cfg.get("rootfs")
                    .and_then(|r| r.get("diff_ids"))
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|d| d.as_str().map(str::to_string))
                            .collect()
                    })
            })
            .unwrap_or_default();
        let layers = layers
            .into_iter()
            .enumerate()
            .map(|(i, blob)| {
                let (digest, digest_of) = match digest_of_path(&blob) {
                    Some(d) => (Some(d), super::verify::DigestOf::Stored),
                    None => (
                        diff_ids.get(i).filter(|d| valid_digest(d)).cloned(),
                        super::verify::DigestOf::Uncompressed,
                    ),
                };
                LayerRef {
                    blob,
                    digest,
                    digest_of,
                }
            })
            .collect();
        plan.images.push(ImageRef {
            name: tags.first().cloned(),
            manifest_digest: None,
            platform: None,
            config_blob: config,
            config_digest,
            layers,
            annotations: Vec::new(),
        });
    }
}

/// A text field of an image config worth scanning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigField {
    /// Where: `config.Env[2]`, `config.Labels.<key>`, `history[3].created_by`…
    pub field: String,
    /// The text.
    pub text: String,
    /// For history lines that created a layer: that layer's index.
    pub layer_index: Option<usize>,
}

/// The fields of an image config where build secrets end up: environment, labels,
/// entrypoint and command, health check, `ONBUILD` triggers, author, and each history
/// line (`ARG`/`ENV`/`RUN` of the Dockerfile).
pub fn config_fields(cfg: &Value) -> Vec<ConfigField> {
    let mut out = Vec::new();
    let mut push = |field: String, text: String, layer_index: Option<usize>| {
        if !text.is_empty() {
            out.push(ConfigField {
                field,
                text,
                layer_index,
            });
        }
    };
    let joined = |v: &Value| -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Array(a) => Some(
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            _ => None,
        }
    };
    if let Some(c) = cfg.get("config").filter(|c| c.is_object()) {
        for (i, e) in c
            .get("Env")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if let Some(s) = e.as_str() {
                push(format!("config.Env[{i}]"), s.to_string(), None);
            }
        }
        if let Some(m) = c.get("Labels").and_then(Value::as_object) {
            for (k, v) in m {
                if let Some(s) = v.as_str() {
                    push(format!("config.Labels.{k}"), format!("{k}={s}"), None);
                }
            }
        }
        for k in ["Entrypoint", "Cmd", "User", "WorkingDir"] {
            if let Some(s) = c.get(k).and_then(joined) {
                push(format!("config.{k}"), s, None);
            }
        }
        if let Some(s) = c
            .get("Healthcheck")
            .and_then(|h| h.get("Test"))
            .and_then(joined)
        {
            push("config.Healthcheck.Test".into(), s, None);
        }
        for (i, s) in c
            .get("OnBuild")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if let Some(s) = s.as_str() {
                push(format!("config.OnBuild[{i}]"), s.to_string(), None);
            }
        }
    }
    if let Some(a) = str_of(cfg, "author") {
        push("author".into(), a, None);
    }
    let mut layer = 0usize;
    for (i, h) in cfg
        .get("history")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let empty = h
            .get("empty_layer")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let idx = (!empty).then_some(layer);
        if let Some(s) = str_of(h, "created_by") {
            push(format!("history[{i}].created_by"), s, idx);
        }
        if let Some(s) = str_of(h, "comment") {
            push(format!("history[{i}].comment"), s, idx);
        }
        if !empty {
            layer += 1;
        }
    }
    out
}

/// The `created_by` line of each layer, by layer index (history lines with `empty_layer`
/// create none).
pub fn layer_history(cfg: &Value) -> Vec<Option<String>> {
    let mut out = Vec::new();
    for h in cfg
        .get("history")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if !h
            .get("empty_layer")
            .and_then(Value::as_bool)
            .unwrap_or(false)
        {
            out.push(str_of(h, "created_by"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests() {
        let hex = "a".repeat(64);
        assert!(valid_digest(&format!("sha256:{hex}")));
        assert!(!valid_digest("sha256:../../etc"));
        assert!(!valid_digest("sha256"));
        assert_eq!(
            blob_path(&format!("sha256:{hex}")),
            Some(format!("blobs/sha256/{hex}"))
        );
        assert_eq!(blob_path("sha256:../../../../etc/passwd"), None);
    }

    #[test]
    fn history_maps_to_layers() {
        let cfg: Value = serde_json::from_str(
            r#"{"config":{"Env":["A=1"],"Labels":{"k":"v"},"Cmd":["sh","-c","x"]},
                "history":[{"created_by":"ADD base"},{"created_by":"ENV X=1","empty_layer":true},
                           {"created_by":"RUN make"}]}"#,
        )
        .unwrap();
        assert_eq!(
            layer_history(&cfg),
            vec![Some("ADD base".to_string()), Some("RUN make".to_string())]
        );
        let f = config_fields(&cfg);
        let names: Vec<_> = f.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            names,
            [
                "config.Env[0]",
                "config.Labels.k",
                "config.Cmd",
                "history[0].created_by",
                "history[1].created_by",
                "history[2].created_by"
            ]
        );
        assert_eq!(f[4].layer_index, None);
        assert_eq!(f[5].layer_index, Some(1));
    }
}
