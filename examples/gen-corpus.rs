//! Writes the synthetic labelled corpus to a directory, and optionally scores a scan of it.
//!
//! ```text
//! cargo run --release --example gen-corpus -- OUT [--seed N] [--mints N] [--scale X]
//!     [--rules FILE_OR_DIR]... [--score] [--misses N]
//! ```
//!
//! - `OUT/files/**` — the corpus; `OUT/labels.jsonl` — one label per planted item (paths are
//!   relative to `OUT/files`); `OUT/summary.txt` — minting statistics (and the score).
//! - `--rules` builds the corpus (and scores it) from other rule files instead of the built-in
//!   rules: every `*.toml` of a directory, or one file; repeatable.
//! - `--score` scans `OUT/files` with the same rules through the library and prints recall
//!   and false positives (as `tests/suite/corpus.rs` does). `--misses N` lists N misses and FPs.
//! - `--scale X` multiplies the number of mints and negatives (bigger corpora for benches).
//! - `--hits FILE` scores findings of another tool instead: a JSON Lines file of
//!   `{"file": …, "line": …}` objects (paths relative to `OUT/files`), rule ids ignored.

#[allow(dead_code)]
#[path = "../corpus/generator.rs"]
mod generator;

use anyhow::{Context, Result, bail};
use generator::{Hit, Options, generate, score};
use shush::engine::{Engine, EngineOptions};
use shush::rules::{LoadedConfig, RuleSet};
use shush::scan::{ScanOptions, Stats, scan_paths};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let mut out: Option<PathBuf> = None;
    let mut opts = Options::default();
    let mut rules: Vec<PathBuf> = Vec::new();
    let mut do_score = false;
    let mut misses = 0usize;
    let mut scale = 1.0f64;
    let mut hits_file: Option<PathBuf> = None;
    while let Some(a) = args.next() {
        let mut val = |name: &str| args.next().with_context(|| format!("{name} needs a value"));
        match a.as_str() {
            "--seed" => {
                let v = val("--seed")?;
                opts.seed = match v.strip_prefix("0x") {
                    Some(h) => u64::from_str_radix(h, 16)?,
                    None => v.parse()?,
                }
            }
            "--mints" => opts.mints_per_example = val("--mints")?.parse()?,
            "--scale" => scale = val("--scale")?.parse()?,
            "--rules" => rules.push(val("--rules")?.into()),
            "--score" => do_score = true,
            "--misses" => misses = val("--misses")?.parse()?,
            "--hits" => hits_file = Some(val("--hits")?.into()),
            "-h" | "--help" => {
                println!(
                    "usage: gen-corpus OUT [--seed N] [--mints N] [--scale X] [--rules PATH]... [--score] [--misses N] [--hits FILE]"
                );
                return Ok(());
            }
            s if s.starts_with('-') => bail!("unknown option {s}"),
            s => out = Some(s.into()),
        }
    }
    let out = out.context("usage: gen-corpus OUT [options] (see --help)")?;
    if scale != 1.0 {
        opts.mints_per_example = ((opts.mints_per_example as f64 * scale).round() as usize).max(1);
        opts.encoded_per_rule = ((opts.encoded_per_rule as f64 * scale).round() as usize).max(1);
        opts.negatives_per_rule *= scale;
        opts.min_negatives_per_category =
            (opts.min_negatives_per_category as f64 * scale).round() as usize;
    }

    let engine = if rules.is_empty() {
        Engine::builtin()?
    } else {
        load_rules(&rules)?
    };
    let t = std::time::Instant::now();
    let corpus = generate(&engine, &opts);
    let gen_time = t.elapsed();
    let files = out.join("files");
    if files.exists() {
        std::fs::remove_dir_all(&files).with_context(|| format!("clearing {}", files.display()))?;
    }
    corpus.write_to(&files)?;
    std::fs::write(out.join("labels.jsonl"), corpus.labels_jsonl())?;
    let st = &corpus.stats;
    let positives = corpus.labels.iter().filter(|l| l.positive).count();
    let mut summary = format!(
        "seed {:#x}: {} files, {} bytes, {} positives, {} negatives, generated in {:.2?}\n\
         rules {} ({} unplantable), examples {} ({} skipped), minted {} (probed {}), dropped {}\n",
        corpus.seed,
        corpus.files.len(),
        corpus.bytes(),
        positives,
        corpus.labels.len() - positives,
        gen_time,
        st.rules,
        st.unplantable.len(),
        st.examples,
        st.examples_skipped,
        st.minted,
        st.probed,
        st.dropped,
    );
    if !st.unplantable.is_empty() {
        summary.push_str(&format!("unplantable: {}\n", st.unplantable.join(", ")));
    }
    if !st.dropped_by_rule.is_empty() {
        let d: Vec<String> = st
            .dropped_by_rule
            .iter()
            .map(|(r, n)| format!("{r}×{n}"))
            .collect();
        summary.push_str(&format!("dropped by rule: {}\n", d.join(", ")));
    }

    if do_score || hits_file.is_some() {
        let (hits, label) = match &hits_file {
            Some(f) => (read_hits(f)?, format!("findings from {}", f.display())),
            None => {
                let t = std::time::Instant::now();
                let outcome = scan_paths(
                    &engine,
                    std::slice::from_ref(&files),
                    &ScanOptions::default(),
                    &Stats::default(),
                );
                let root = format!("{}/", files.display());
                let hits = outcome
                    .findings
                    .iter()
                    .map(|f| Hit {
                        file: f.path.strip_prefix(&root).unwrap_or(&f.path).to_string(),
                        line: f.line,
                        rule: Some(f.rule_id.clone()),
                    })
                    .collect();
                (hits, format!("shush scan in {:.2?}", t.elapsed()))
            }
        };
        let s = score(
            &corpus.labels,
            &hits,
            |id| engine.rules().get(id).is_some_and(|r| r.generic),
            |id| family(&engine, id),
        );
        summary.push_str(&format!("{label}\n{s}"));
        for (l, others) in s.missed.iter().take(misses) {
            summary.push_str(&format!(
                "MISS {}:{} {} ({}, {}) reported there: {:?}\n",
                l.file,
                l.line,
                l.rule.as_deref().unwrap_or("-"),
                l.context,
                l.kind,
                others
            ));
        }
        for (file, line, rule, cat) in s.fp_list.iter().take(misses) {
            summary.push_str(&format!("FP   {file}:{line} {rule} ({cat})\n"));
        }
    }
    print!("{summary}");
    std::fs::write(out.join("summary.txt"), summary)?;
    Ok(())
}

/// The family of a rule: its detectors file, else its id's first word.
fn family(engine: &Engine, id: &str) -> String {
    engine
        .rules()
        .get(id)
        .and_then(|r| r.family.clone())
        .unwrap_or_else(|| id.split('-').next().unwrap_or(id).to_string())
}

/// Builds an engine from rule files (every `*.toml` of a directory, or single files).
fn load_rules(paths: &[PathBuf]) -> Result<Engine> {
    let mut files: Vec<PathBuf> = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(p)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                .collect();
            v.sort();
            files.extend(v);
        } else {
            files.push(p.clone());
        }
    }
    let mut merged: Option<LoadedConfig> = None;
    let mut families: BTreeMap<String, String> = BTreeMap::new();
    for f in &files {
        let loaded = LoadedConfig::from_path(f).with_context(|| f.display().to_string())?;
        let stem = f
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        for r in &loaded.config.rules {
            families.insert(r.id.clone(), stem.clone());
        }
        match &mut merged {
            None => merged = Some(loaded),
            Some(m) => {
                // Later files win on duplicate ids (the same file in two trees).
                let ids: Vec<String> = loaded.config.rules.iter().map(|r| r.id.clone()).collect();
                m.config.rules.retain(|r| !ids.contains(&r.id));
                m.config.rules.extend(loaded.config.rules);
                m.config.allowlists.extend(loaded.config.allowlists);
                m.warnings.extend(loaded.warnings);
            }
        }
    }
    let mut loaded = merged.context("no rule files found")?;
    loaded.origin = "corpus rules".into();
    let mut set = RuleSet::from_loaded(loaded)?;
    for r in &mut set.rules {
        r.family = families.get(&r.id).cloned();
    }
    Ok(Engine::new(set, EngineOptions::default())?)
}

/// Findings of another tool: JSON Lines of `{"file": …, "line": …}`.
fn read_hits(path: &Path) -> Result<Vec<Hit>> {
    let text = std::fs::read_to_string(path)?;
    let mut hits = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(line).with_context(|| format!("{}:{}", path.display(), i + 1))?;
        let file = v["file"].as_str().context("hit without file")?.to_string();
        let line = v["line"].as_u64().context("hit without line")?;
        hits.push(Hit {
            file,
            line,
            rule: None,
        });
    }
    Ok(hits)
}
