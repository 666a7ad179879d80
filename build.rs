//! Compiles `detectors/*.toml` into what the binary embeds:
//! - `builtin_rules.json`: the rules (without examples) and their regex analysis;
//! - `builtin_examples.json`: every rule's examples, parsed only when needed;
//! - `builtin_prefilter.bin`: the keyword automaton, precomputed.
//!
//! Parsing TOML, analysing 300 regexes and building the automaton at every start would cost
//! tens of milliseconds; doing it here costs nothing at run time and turns a malformed rule
//! file into a build error that names the file and the rule.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

#[allow(dead_code)]
#[path = "src/rules/spec.rs"]
mod spec;

#[allow(dead_code)]
#[path = "src/rules/analysis.rs"]
mod analysis;

#[path = "src/rules/guard.rs"]
mod guard;

#[allow(dead_code)]
#[path = "src/engine/patterns.rs"]
mod patterns;

#[allow(dead_code)]
#[path = "src/engine/kwscan.rs"]
mod kwscan;

/// Must equal `rules::compile::MIN_DERIVED_KEYWORD_LEN`.
const MIN_DERIVED_KEYWORD_LEN: usize = 3;
/// The engine's default decode depth, for which the automaton is precomputed.
const DEFAULT_DECODE_DEPTH: usize = 1;

#[derive(serde::Serialize)]
struct Embedded {
    config: spec::ConfigFile,
    analysis: BTreeMap<String, analysis::RegexAnalysis>,
    families: BTreeMap<String, String>,
}

/// A rule's examples, kept apart from the rules so startup does not parse them.
#[derive(serde::Serialize)]
struct RuleExamples {
    examples: Vec<spec::ExampleSpec>,
    negative_examples: Vec<spec::NegativeSpec>,
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
        let mut cfg = cfg;
        for r in &cfg.remediation {
            let unknown: Vec<_> = r.unknown.keys().cloned().collect();
            assert!(
                unknown.is_empty(),
                "{}: [[remediation]]: unknown keys {unknown:?}",
                file.display()
            );
            for url in r.revoke_url.iter().chain(&r.docs) {
                assert!(
                    url.starts_with("https://"),
                    "{}: [[remediation]]: {url:?} is not an https URL",
                    file.display()
                );
            }
        }
        cfg.attach_remediation()
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
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

    let prefilter = precompute_prefilter(&merged, &analysis);
    let mut examples = BTreeMap::new();
    for rule in &mut merged.rules {
        examples.insert(
            rule.id.clone(),
            RuleExamples {
                examples: std::mem::take(&mut rule.examples),
                negative_examples: std::mem::take(&mut rule.negative_examples),
            },
        );
    }
    let json = serde_json::to_string(&Embedded {
        config: merged,
        analysis,
        families,
    })
    .unwrap();
    let examples_json = serde_json::to_string(&examples).unwrap();
    // FNV-1a: a stable version of the rule set, used to key caches of scan results.
    let mut h: u64 = 0xcbf29ce484222325;
    for b in json.bytes().chain(examples_json.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    println!("cargo:rustc-env=SHUSH_RULES_HASH={h:016x}");
    let out = std::env::var("OUT_DIR").unwrap();
    let out = Path::new(&out);
    std::fs::write(out.join("builtin_rules.json"), json).unwrap();
    std::fs::write(out.join("builtin_examples.json"), examples_json).unwrap();
    std::fs::write(out.join("builtin_prefilter.bin"), prefilter).unwrap();
}

/// The keyword automaton of the built-in rules at the default decode depth, built exactly as
/// the engine builds it at run time (same analysis, anchor choice and pattern table), with the
/// fingerprint the engine checks before using it.
fn precompute_prefilter(
    cfg: &spec::ConfigFile,
    analyses: &BTreeMap<String, analysis::RegexAnalysis>,
) -> Vec<u8> {
    let mut anchors: Vec<Vec<String>> = Vec::new();
    let mut gates: Vec<Vec<String>> = Vec::new();
    for rule in &cfg.rules {
        let keywords = analysis::normalize_keywords(&rule.keywords);
        match rule.regex.as_deref().filter(|r| !r.is_empty()) {
            None => {
                anchors.push(Vec::new());
                gates.push(Vec::new());
            }
            Some(re) => {
                let (a, g) =
                    analysis::choose_anchors(&analyses[re], &keywords, MIN_DERIVED_KEYWORD_LEN);
                anchors.push(a.unwrap_or_default());
                gates.push(g);
            }
        }
    }
    let keys: Vec<patterns::RuleKeys<'_>> = cfg
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| patterns::RuleKeys {
            id: &r.id,
            anchors: &anchors[i],
            gate: &gates[i],
        })
        .collect();
    let table = patterns::build_table(&keys, DEFAULT_DECODE_DEPTH, |ri, anchor| {
        let texts = cfg.rules[ri].examples.iter().map(|ex| ex.text());
        patterns::spellings_of(texts, anchor)
    });
    let mut bytes = b"SHKW2".to_vec();
    bytes.extend_from_slice(&patterns::fingerprint(&keys, DEFAULT_DECODE_DEPTH).to_le_bytes());
    patterns::encode_infos(&table, &mut bytes);
    patterns::encode_strings(&table.strings, &mut bytes);
    let scanner = kwscan::KeywordScanner::new(&table.strings).expect("keyword automaton builds");
    scanner.to_bytes(&mut bytes);
    bytes
}
