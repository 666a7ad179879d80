//! The ways shush is packaged stay in step with the crate: the pre-commit stub and the wheel
//! project name this version and this binary, the action and the GitLab template install this
//! version, the Dockerfile's builder copies every file the build reads, and the published
//! crate carries every file the code embeds. (ci/test-install.sh builds and installs the
//! wheel and drives pre-commit; tests/suite/ci_templates.rs runs the action's and template's
//! scripts.)

use crate::util::yaml::{self, Yaml};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const VERSION: &str = env!("CARGO_PKG_VERSION");
const PACKAGE: &str = env!("CARGO_PKG_NAME");

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn toml_file(rel: &str) -> toml::Table {
    read(rel)
        .parse::<toml::Table>()
        .unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn yaml_file(rel: &str) -> Yaml {
    yaml::parse(&read(rel))
}

fn str_at<'a>(t: &'a toml::Table, path: &[&str]) -> &'a str {
    let mut v: &toml::Value = t.get(path[0]).unwrap_or_else(|| panic!("no {}", path[0]));
    for (i, k) in path.iter().enumerate().skip(1) {
        v = v
            .get(k)
            .unwrap_or_else(|| panic!("no {}", path[..=i].join(".")));
    }
    v.as_str()
        .unwrap_or_else(|| panic!("{} is not a string", path.join(".")))
}

#[test]
fn package_is_shush_scanner_and_the_binary_and_library_are_shush() {
    let cargo = toml_file("Cargo.toml");
    assert_eq!(PACKAGE, "shush-scanner");
    assert_eq!(str_at(&cargo, &["lib", "name"]), "shush");
    let bins = cargo["bin"].as_array().unwrap();
    assert_eq!(bins.len(), 1);
    assert_eq!(bins[0]["name"].as_str(), Some("shush"));
    assert!(Path::new(env!("CARGO_BIN_EXE_shush")).exists());
    assert_eq!(
        str_at(&cargo, &["package", "repository"]),
        "https://github.com/shush-scanner/shush"
    );
    // The fuzz workspace (not built by CI) names the package too.
    let fuzz = toml_file("fuzz/Cargo.toml");
    assert_eq!(
        str_at(&fuzz, &["dependencies", "shush", "package"]),
        PACKAGE
    );
    assert_eq!(str_at(&fuzz, &["dependencies", "shush", "path"]), "..");
}

#[test]
fn pre_commit_stub_pins_the_wheel_of_this_exact_version() {
    let stub = toml_file("pyproject.toml");
    assert_eq!(
        str_at(&stub, &["project", "name"]),
        "shush-scanner-pre-commit"
    );
    assert_eq!(
        str_at(&stub, &["project", "version"]),
        VERSION,
        "pyproject.toml's version must follow Cargo.toml's"
    );
    let deps: Vec<&str> = stub["project"]["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert_eq!(
        deps,
        [format!("{PACKAGE}=={VERSION}")],
        "the stub must depend on exactly this version of the wheel, and on nothing else"
    );
    // A metadata-only wheel: `pip install .` builds nothing from the Rust sources.
    assert_eq!(
        str_at(&stub, &["build-system", "build-backend"]),
        "hatchling.build"
    );
    assert_eq!(
        stub["tool"]["hatch"]["build"]["targets"]["wheel"]["bypass-selection"].as_bool(),
        Some(true)
    );
}

#[test]
fn wheel_project_builds_the_shush_binary_of_this_crate() {
    let wheel = toml_file("packaging/pypi/pyproject.toml");
    assert_eq!(
        str_at(&wheel, &["build-system", "build-backend"]),
        "maturin"
    );
    assert_eq!(str_at(&wheel, &["project", "name"]), PACKAGE);
    // The version is Cargo.toml's, never written twice.
    assert!(wheel["project"].get("version").is_none());
    let dynamic = wheel["project"]["dynamic"].as_array().unwrap();
    assert!(dynamic.iter().any(|d| d.as_str() == Some("version")));
    let maturin = &wheel["tool"]["maturin"];
    assert_eq!(maturin["bindings"].as_str(), Some("bin"));
    assert_eq!(maturin["locked"].as_bool(), Some(true));
    let manifest = root()
        .join("packaging/pypi")
        .join(maturin["manifest-path"].as_str().unwrap());
    assert_eq!(
        manifest.canonicalize().unwrap(),
        root().join("Cargo.toml").canonicalize().unwrap()
    );
    assert!(root().join("packaging/pypi/README.md").exists());
}

#[test]
fn pre_commit_hooks_install_shush_from_the_wheel() {
    let hooks = yaml_file(".pre-commit-hooks.yaml");
    let mut seen = BTreeSet::new();
    for hook in hooks.seq() {
        let id = hook.at(&["id"]).str().unwrap();
        let language = hook.at(&["language"]).str().unwrap();
        let entry = hook.at(&["entry"]).str().unwrap();
        assert!(entry.starts_with("shush "), "{id}: {entry}");
        let want = if id.ends_with("-system") {
            "system"
        } else {
            "python"
        };
        assert_eq!(language, want, "hook {id}");
        seen.insert(id.to_string());
    }
    let want: BTreeSet<String> = [
        "shush",
        "shush-system",
        "shush-pre-push",
        "shush-pre-push-system",
    ]
    .map(String::from)
    .into();
    assert_eq!(seen, want);
}

/// Every `shush-scanner/shush@vX.Y.Z` and `shush/vX.Y.Z/` reference in `text`.
fn release_refs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for needle in ["shush-scanner/shush@v", "shush-scanner/shush/v"] {
        for (i, _) in text.match_indices(needle) {
            let rest = &text[i + needle.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
                .unwrap_or(rest.len());
            out.push(rest[..end].to_string());
        }
    }
    out
}

#[test]
fn action_template_and_readme_install_this_version() {
    let action = yaml_file("action.yml");
    assert_eq!(
        action.at(&["inputs", "version", "default"]).str(),
        Some(VERSION),
        "action.yml's default version must follow Cargo.toml's"
    );
    let gitlab = yaml_file("ci/gitlab/shush.gitlab-ci.yml");
    assert_eq!(
        gitlab.at(&["shush", "variables", "SHUSH_VERSION"]).str(),
        Some(VERSION),
        "the GitLab template's SHUSH_VERSION must follow Cargo.toml's"
    );
    for file in [
        "README.md",
        "action.yml",
        "ci/gitlab/shush.gitlab-ci.yml",
        ".pre-commit-hooks.yaml",
    ] {
        let refs = release_refs(&read(file));
        assert!(
            refs.iter().all(|r| r == VERSION),
            "{file} names releases {refs:?}; this is {VERSION}"
        );
    }
    assert!(!release_refs(&read("README.md")).is_empty());
}

/// Paths (relative to the repository root) that `cargo build --release --bin shush` reads:
/// the manifest and lockfile, the build script and the modules it includes by `#[path]`, the
/// directories it watches, every target Cargo.toml declares (cargo refuses a manifest whose
/// declared targets are missing), and every file `include_str!`/`include_bytes!` embeds.
fn build_inputs() -> BTreeSet<String> {
    let mut need: BTreeSet<String> = ["Cargo.toml", "Cargo.lock", "src"].map(String::from).into();
    let cargo = toml_file("Cargo.toml");
    let build = str_at(&cargo, &["package", "build"]).to_string();
    let build_rs = read(&build);
    need.insert(build.clone());
    for line in build_rs.lines() {
        let line = line.trim();
        if let Some(p) = line
            .strip_prefix("#[path = \"")
            .and_then(|r| r.split('"').next())
        {
            need.insert(p.to_string());
        }
        if let Some(r) = line.split("cargo:rerun-if-changed=").nth(1) {
            let p: String = r.chars().take_while(|c| *c != '"' && *c != '{').collect();
            if !p.is_empty() {
                need.insert(p);
            }
        }
    }
    for kind in ["bin", "bench", "example", "test"] {
        for t in cargo
            .get(kind)
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            let name = t["name"].as_str().unwrap();
            let default = match kind {
                "bin" => format!("src/bin/{name}.rs"),
                "bench" => format!("benches/{name}.rs"),
                "example" => format!("examples/{name}.rs"),
                _ => format!("tests/{name}.rs"),
            };
            let path = t.get("path").and_then(|p| p.as_str()).unwrap_or(&default);
            need.insert(path.to_string());
        }
    }
    for file in rust_files(&root().join("src")) {
        let text = std::fs::read_to_string(&file).unwrap();
        for mac in ["include_str!(\"", "include_bytes!(\""] {
            for (i, _) in text.match_indices(mac) {
                let lit = text[i + mac.len()..].split('"').next().unwrap();
                let target = file.parent().unwrap().join(lit);
                let target = normalize(&target);
                let rel = target
                    .strip_prefix(root())
                    .unwrap_or_else(|_| panic!("{}: {lit} is outside the crate", file.display()));
                need.insert(rel.to_string_lossy().into_owned());
            }
        }
    }
    for p in &need {
        assert!(
            root().join(p).exists(),
            "the build reads {p}, which is missing"
        );
    }
    need
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}

/// `a/b/../c` → `a/c`, without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

/// The sources of the `COPY` instructions of the stage named `stage` (not `COPY --from`).
fn dockerfile_copies(dockerfile: &str, stage: &str) -> Vec<String> {
    let joined = dockerfile.replace("\\\n", " ");
    let mut in_stage = false;
    let mut sources = Vec::new();
    for line in joined.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.first().map(|w| w.to_ascii_uppercase()) {
            Some(w) if w == "FROM" => {
                in_stage = words.len() >= 4
                    && words[words.len() - 2].eq_ignore_ascii_case("AS")
                    && words[words.len() - 1] == stage;
            }
            Some(w) if (w == "COPY" || w == "ADD") && in_stage => {
                let args: Vec<&str> = words[1..]
                    .iter()
                    .copied()
                    .filter(|a| !a.starts_with("--"))
                    .collect();
                assert!(
                    !words[1..].iter().any(|a| a.starts_with("--from")),
                    "the builder stage copies from another stage: {line}"
                );
                assert!(args.len() >= 2, "COPY without a destination: {line}");
                for src in &args[..args.len() - 1] {
                    let s = src.trim_start_matches("./").trim_end_matches('/');
                    sources.push(if s.is_empty() { ".".into() } else { s.into() });
                }
            }
            _ => {}
        }
    }
    sources
}

/// Whether .dockerignore keeps `path` out of the build context, the way Docker decides: the
/// last pattern that matches the path or one of its parent directories wins.
fn dockerignored(patterns: &[(bool, globset::GlobMatcher)], path: &str) -> bool {
    let mut excluded = false;
    let parts: Vec<&str> = path.split('/').collect();
    for (negated, glob) in patterns {
        let hit = (1..=parts.len()).any(|n| glob.is_match(parts[..n].join("/")));
        if hit {
            excluded = !negated;
        }
    }
    excluded
}

fn dockerignore_patterns() -> Vec<(bool, globset::GlobMatcher)> {
    read(".dockerignore")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (negated, p) = match l.strip_prefix('!') {
                Some(p) => (true, p.trim()),
                None => (false, l),
            };
            let p = p.trim_start_matches('/').trim_end_matches('/');
            let glob = globset::GlobBuilder::new(p)
                .literal_separator(true)
                .build()
                .unwrap_or_else(|e| panic!(".dockerignore: {l}: {e}"))
                .compile_matcher();
            (negated, glob)
        })
        .collect()
}

#[test]
fn dockerfile_builder_copies_everything_the_build_reads() {
    let dockerfile = read("Dockerfile");
    let copies = dockerfile_copies(&dockerfile, "build");
    assert!(
        !copies.is_empty(),
        "no COPY in the Dockerfile's `build` stage"
    );
    let need = build_inputs();
    for p in [
        "detectors",
        "hooks/pre-commit",
        "benches/engine.rs",
        "tests/suite/main.rs",
    ] {
        assert!(need.contains(p), "build_inputs() misses {p}: {need:?}");
    }
    let ignore = dockerignore_patterns();
    for p in &need {
        let covered = copies
            .iter()
            .any(|s| s == "." || s == p || p.starts_with(&format!("{s}/")));
        assert!(
            covered,
            "the Dockerfile's builder does not copy {p}, which the build reads"
        );
        // Everything under it must reach the daemon too.
        let files: Vec<String> = if root().join(p).is_dir() {
            walk(&root().join(p))
        } else {
            vec![p.clone()]
        };
        for f in files {
            assert!(
                !dockerignored(&ignore, &f),
                ".dockerignore keeps {f} out of the build context"
            );
        }
    }
    // What must stay out of the context does.
    for p in [
        "target/debug/shush",
        ".git/HEAD",
        "tests/suite/git.rs",
        "fuzz/Cargo.toml",
    ] {
        assert!(dockerignored(&ignore, p), ".dockerignore lets {p} in");
    }
    // The runtime stage is small and runs shush as a non-root user.
    let runtime = dockerfile.split("\nFROM ").last().expect("a runtime stage");
    let user = runtime
        .lines()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("the runtime stage sets USER");
    let uid = user.split(':').next().unwrap().trim();
    assert!(
        uid != "0" && uid != "root" && !uid.is_empty(),
        "runs as {uid}"
    );
    assert!(runtime.contains("ENTRYPOINT [\"shush\"]"), "{runtime}");
    assert!(runtime.contains("COPY --from=build"), "{runtime}");
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(
                p.strip_prefix(root())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    out
}

/// The builder's copy, taken literally: only what its COPY lines bring (and .dockerignore lets
/// through) is enough for cargo to load the manifest and every target it declares.
#[test]
fn the_builders_copy_is_a_loadable_crate() {
    let copies = dockerfile_copies(&read("Dockerfile"), "build");
    let ignore = dockerignore_patterns();
    let dir = tempfile::tempdir().unwrap();
    for src in &copies {
        let files = if root().join(src).is_dir() {
            walk(&root().join(src))
        } else {
            vec![src.clone()]
        };
        for f in files {
            if dockerignored(&ignore, &f) {
                continue;
            }
            let to = dir.path().join(&f);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(root().join(&f), &to).unwrap();
        }
    }
    // `cargo fetch` parses the manifest in full (a declared target whose file is missing is an
    // error, which `cargo metadata` lets through) and compiles nothing; offline, for this
    // host, it needs only what the test build already downloaded.
    let rustc = std::process::Command::new("rustc")
        .arg("-vV")
        .output()
        .unwrap();
    let host = String::from_utf8(rustc.stdout)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(String::from))
        .expect("rustc -vV names the host");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["fetch", "--offline", "--locked", "--target", &host])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo cannot load the Dockerfile builder's copy: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `cargo install shush-scanner` builds from the published crate: it must carry every file
/// the build reads (the `include` list in Cargo.toml once left hooks/ out).
#[test]
fn published_crate_carries_every_file_the_build_reads() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args([
            "package",
            "--list",
            "--allow-dirty",
            "--offline",
            "--locked",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo package --list: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: BTreeSet<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    for p in build_inputs() {
        if p.starts_with("benches/") || p.starts_with("tests/") {
            continue; // cargo package drops the declared benches and tests it does not ship
        }
        let ok = listed.contains(&p) || listed.iter().any(|l| l.starts_with(&format!("{p}/")));
        assert!(
            ok,
            "the published crate lacks {p} (Cargo.toml's `include`); it has {} files",
            listed.len()
        );
    }
    // Only the crate's own README, not every README.md in the tree.
    assert!(
        !listed
            .iter()
            .any(|l| l.ends_with("/README.md") && !l.starts_with("detectors/"))
    );
}

#[test]
fn yaml_subset_reader_reads_what_the_ci_files_use() {
    let y = yaml::parse(
        "# c\na: 1\nb:\n  - x\n  - k: \"v # not a comment\"\n    j: [p, q]\n  - |\n    l1\n\n    l2\nc: >-\n  f1\n  f2\nd:\n- e\nf: 'it''s' # c\ng:\n",
    );
    assert_eq!(y.at(&["a"]).str(), Some("1"));
    let b = y.at(&["b"]).seq();
    assert_eq!(b[0].str(), Some("x"));
    assert_eq!(b[1].at(&["k"]).str(), Some("v # not a comment"));
    assert_eq!(
        b[1].at(&["j"]),
        &Yaml::Seq(vec![Yaml::Str("p".into()), Yaml::Str("q".into())])
    );
    assert_eq!(b[2].str(), Some("l1\n\nl2\n"));
    assert_eq!(y.at(&["c"]).str(), Some("f1 f2"));
    assert_eq!(y.at(&["d"]).seq()[0].str(), Some("e"));
    assert_eq!(y.at(&["f"]).str(), Some("it's"));
    assert_eq!(y.at(&["g"]), &Yaml::Null);
    let bad = std::panic::catch_unwind(|| yaml::parse("a: 1\n  b: 2\n"));
    assert!(bad.is_err(), "misindented YAML must not be read silently");
}
