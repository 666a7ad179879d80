//! Compiles `detectors/*.toml` into one JSON document embedded in the binary.
//!
//! Parsing TOML and analysing 200+ regexes at every start would cost milliseconds; doing it
//! here costs nothing at run time and turns a malformed rule file into a build error that
//! names the file and the rule.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

#[allow(dead_code)]
#[path = "src/rules/spec.rs"]
mod spec;

#[allow(dead_code)]
#[path = "src/rules/analysis.rs"]
mod analysis;

#[derive(serde::Serialize)]
struct Embedded {
    config: spec::ConfigFile,
    analysis: BTreeMap<String, analysis::RegexAnalysis>,
    families: BTreeMap<String, String>,
}

fn main() {
    let dir = Path::new("detectors");
    println!("cargo:rerun-if-changed=detectors");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("detectors/ must exist")
        .map(|e| e.expect("readable detectors/ entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();

    let mut merged = spec::ConfigFile {
        title: Some("shush built-in rules".into()),
        ..Default::default()
    };
    let mut analysis = BTreeMap::new();
    let mut families = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let text =
            std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let cfg: spec::ConfigFile =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let unknown: Vec<_> = cfg.unknown.keys().cloned().collect();
        assert!(
            unknown.is_empty(),
            "{}: unknown keys {unknown:?}",
            file.display()
        );
        let family = file.file_stem().unwrap().to_string_lossy().into_owned();
        for rule in cfg.rules {
            let unknown: Vec<_> = rule.unknown.keys().cloned().collect();
            assert!(
                unknown.is_empty(),
                "{}: rule {}: unknown keys {unknown:?}",
                file.display(),
                rule.id
            );
            assert!(
                seen.insert(rule.id.clone()),
                "{}: duplicate rule id {}",
                file.display(),
                rule.id
            );
            if let Some(re) = &rule.regex {
                let a = analysis::analyse(re).unwrap_or_else(|e| {
                    panic!("{}: rule {}: bad regex: {e}", file.display(), rule.id)
                });
                analysis.insert(re.clone(), a);
            }
            families.insert(rule.id.clone(), family.clone());
            merged.rules.push(rule);
        }
        merged.allowlists.extend(cfg.allowlists);
        if let Some(a) = cfg.allowlist {
            merged.allowlists.push(a);
        }
    }

    let json = serde_json::to_string(&Embedded {
        config: merged,
        analysis,
        families,
    })
    .unwrap();
    // FNV-1a: a stable version of the rule set, used to key caches of scan results.
    let mut h: u64 = 0xcbf29ce484222325;
    for b in json.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    println!("cargo:rustc-env=SHUSH_RULES_HASH={h:016x}");
    let out = std::env::var("OUT_DIR").unwrap();
    std::fs::write(Path::new(&out).join("builtin_rules.json"), json).unwrap();
}
