//! `--format sarif` is valid SARIF 2.1.0: every report validates against the official OASIS
//! JSON schema (the copy in `tests/fixtures/sarif/`, with its provenance and terms beside it)
//! and deserialises into `serde_sarif`'s typed model.

use crate::util::{Dir, base64, fixture_rules, fxkey, fxt, ghp, password};
use serde_json::Value;
use std::sync::OnceLock;

/// The official SARIF 2.1.0 schema, kept in the repository so that no test depends on what a
/// machine's cargo cache holds.
fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let text = include_str!("../fixtures/sarif/sarif-schema-2.1.0.json");
        let schema: Value = serde_json::from_str(text).expect("schema is JSON");
        assert_eq!(
            schema["$id"],
            "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json",
            "not the SARIF 2.1.0 schema"
        );
        schema
    })
}

fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        // The official schema's `language` patterns have a stray `]`
        // (`^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$`), which the meta-schema's `regex`
        // format check refuses; shush never writes a `language`, so those patterns are
        // replaced by the intended one before compiling. Everything else is used as shipped.
        let mut schema = schema().clone();
        let fixed = fix_language_patterns(&mut schema);
        assert!(
            fixed >= 1,
            "the schema's language pattern changed: revisit this fix-up"
        );
        jsonschema::draft7::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("the SARIF schema compiles")
    })
}

/// Replaces the broken `language` pattern wherever it occurs; returns how many it replaced.
fn fix_language_patterns(v: &mut Value) -> usize {
    const BROKEN: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";
    match v {
        Value::Object(map) => {
            let mut n = 0;
            for (k, child) in map.iter_mut() {
                if k == "pattern" && child == BROKEN {
                    *child = "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$".into();
                    n += 1;
                } else {
                    n += fix_language_patterns(child);
                }
            }
            n
        }
        Value::Array(items) => items.iter_mut().map(fix_language_patterns).sum(),
        _ => 0,
    }
}

/// Validation errors of `doc`, as readable lines.
fn schema_errors(doc: &Value) -> Vec<String> {
    validator()
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Asserts that `text` is valid SARIF 2.1.0 in both checks; returns the parsed document.
#[track_caller]
fn assert_valid_sarif(text: &str) -> Value {
    let doc: Value =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"));
    let errors = schema_errors(&doc);
    assert!(
        errors.is_empty(),
        "SARIF schema violations:\n{}\n--- document\n{text}",
        errors.join("\n")
    );
    let typed: serde_sarif::sarif::Sarif = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("serde_sarif rejects the log ({e}):\n{text}"));
    assert_eq!(typed.runs.len(), 1);
    let problems = code_scanning_problems(&doc);
    assert!(
        problems.is_empty(),
        "GitHub code scanning requirements not met:\n{}\n--- document\n{text}",
        problems.join("\n")
    );
    doc
}

/// What GitHub code scanning requires of an uploaded SARIF file beyond the schema
/// (docs.github.com, "SARIF support for code scanning" and "SARIF results exceed limits"):
/// at most 20 runs, 25,000 results and 25,000 rules per run, 1,000 locations per result, 20
/// tags per rule; a tool name; rules with an id, short and full descriptions, help text, a
/// `security-severity` between 0 and 10 (read only with the `security` tag) and a
/// `precision`; results with a known rule, a message and a location whose URI is relative to
/// the repository (no scheme, no leading `/`, no `..`, no percent-encoded `!` of an archive
/// path) with a region starting at line 1 or later; fingerprints; an automation id with a
/// category.
fn code_scanning_problems(doc: &Value) -> Vec<String> {
    let mut p = Vec::new();
    let mut need = |ok: bool, what: String| {
        if !ok {
            p.push(what);
        }
    };
    let runs = doc["runs"].as_array().cloned().unwrap_or_default();
    need(doc["version"] == "2.1.0", "version is not 2.1.0".into());
    need(
        (1..=20).contains(&runs.len()),
        format!("{} runs", runs.len()),
    );
    for run in &runs {
        let driver = &run["tool"]["driver"];
        need(driver["name"].is_string(), "no tool.driver.name".into());
        let rules = driver["rules"].as_array().cloned().unwrap_or_default();
        need(rules.len() <= 25_000, format!("{} rules", rules.len()));
        for r in &rules {
            let id = r["id"].as_str().unwrap_or("?");
            for field in ["shortDescription", "fullDescription", "help"] {
                need(
                    r[field]["text"].as_str().is_some_and(|t| !t.is_empty()),
                    format!("rule {id}: no {field}.text"),
                );
            }
            let props = &r["properties"];
            let tags = props["tags"].as_array().cloned().unwrap_or_default();
            need(tags.len() <= 20, format!("rule {id}: {} tags", tags.len()));
            need(
                tags.iter().any(|t| t == "security"),
                format!("rule {id}: no `security` tag"),
            );
            let severity = props["security-severity"]
                .as_str()
                .and_then(|s| s.parse::<f64>().ok());
            need(
                severity.is_some_and(|s| (0.0..=10.0).contains(&s)),
                format!(
                    "rule {id}: security-severity {:?}",
                    props["security-severity"]
                ),
            );
            let precisions = ["very-high", "high", "medium", "low"];
            need(
                props["precision"]
                    .as_str()
                    .is_some_and(|v| precisions.contains(&v)),
                format!("rule {id}: precision {:?}", props["precision"]),
            );
        }
        let ids: Vec<&str> = rules.iter().filter_map(|r| r["id"].as_str()).collect();
        let results = run["results"].as_array().cloned().unwrap_or_default();
        need(
            results.len() <= 25_000,
            format!("{} results", results.len()),
        );
        for (i, res) in results.iter().enumerate() {
            need(
                res["ruleId"].as_str().is_some_and(|r| ids.contains(&r)),
                format!("result {i}: unknown rule"),
            );
            need(
                res["message"]["text"]
                    .as_str()
                    .is_some_and(|t| !t.is_empty()),
                format!("result {i}: no message"),
            );
            let locations = res["locations"].as_array().cloned().unwrap_or_default();
            need(
                (1..=1000).contains(&locations.len()),
                format!("result {i}: {} locations", locations.len()),
            );
            for l in &locations {
                let phys = &l["physicalLocation"];
                let uri = phys["artifactLocation"]["uri"].as_str().unwrap_or("");
                let relative = !uri.is_empty()
                    && !uri.contains(':')
                    && !uri.starts_with('/')
                    && !uri.split('/').any(|c| c == "..");
                need(
                    relative,
                    format!("result {i}: URI {uri:?} is not relative to the repository"),
                );
                need(
                    !uri.contains("%21"),
                    format!("result {i}: URI {uri:?} names a path inside an archive"),
                );
                if !phys["region"].is_null() {
                    need(
                        phys["region"]["startLine"].as_u64().is_some_and(|l| l >= 1),
                        format!("result {i}: region without startLine"),
                    );
                }
            }
            need(
                res["partialFingerprints"]
                    .as_object()
                    .is_some_and(|f| !f.is_empty()),
                format!("result {i}: no partialFingerprints"),
            );
        }
        let automation = run["automationDetails"]["id"].as_str().unwrap_or("");
        need(
            automation.contains('/') && !automation.starts_with('/'),
            format!("automationDetails.id {automation:?}"),
        );
    }
    p
}

#[test]
fn the_code_scanning_check_can_fail() {
    let dir = Dir::new();
    dir.create("a.txt", fxt(1));
    let text = sarif_of(
        &dir,
        &["--config", fixture_rules().to_str().unwrap(), "a.txt"],
    );
    let good: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(code_scanning_problems(&good), Vec::<String>::new());
    /// What is broken, and how.
    type Breakage = (&'static str, fn(&mut Value));
    let breakages: [Breakage; 5] = [
        ("absolute URI", |d| {
            d["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
                "file:///a.txt".into()
        }),
        ("archive URI", |d| {
            d["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
                "a.zip%21b.txt".into()
        }),
        ("severity", |d| {
            d["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["security-severity"] =
                "high".into()
        }),
        ("help", |d| {
            d["runs"][0]["tool"]["driver"]["rules"][0]["help"] = Value::Null
        }),
        ("automation", |d| {
            d["runs"][0]["automationDetails"] = Value::Null
        }),
    ];
    for (what, break_it) in breakages {
        let mut bad = good.clone();
        break_it(&mut bad);
        assert!(
            !code_scanning_problems(&bad).is_empty(),
            "{what} not caught"
        );
    }
}

#[test]
fn archive_members_and_absolute_paths_point_at_files_of_the_repository() {
    let dir = Dir::new();
    let tok = fxt(7);
    let zip =
        crate::util::artifacts::zip(&[("conf/app.env", format!("token: {tok}\n").as_bytes())]);
    dir.create("dist/bundle.zip", zip);
    dir.create("src/main.env", format!("token: {}\n", fxt(8)));
    // An absolute path under the directory shush runs in is made relative to it.
    let abs = dir.path().canonicalize().unwrap();
    let rules = fixture_rules();
    let out = dir.scan(&[
        "-f",
        "sarif",
        "--config",
        rules.to_str().unwrap(),
        abs.to_str().unwrap(),
    ]);
    out.code(1);
    let doc = assert_valid_sarif(&out.stdout);
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let location = |r: &Value| r["locations"][0]["physicalLocation"].clone();
    let zipped = results
        .iter()
        .find(|r| {
            r["message"]["text"]
                .as_str()
                .unwrap()
                .contains(" in conf/app.env")
        })
        .expect("the zip member's result");
    assert_eq!(
        location(zipped)["artifactLocation"],
        serde_json::json!({"uri": "dist/bundle.zip", "uriBaseId": "%SRCROOT%"})
    );
    // A line of the member is not a line of the zip.
    assert!(location(zipped)["region"].is_null(), "{zipped}");
    let plain = results
        .iter()
        .find(|r| location(r)["artifactLocation"]["uri"] == "src/main.env")
        .expect("the plain file's result");
    assert_eq!(location(plain)["region"]["startLine"], 1);
}

#[test]
fn a_run_over_the_code_scanning_limit_keeps_the_most_confident_and_says_so() {
    let dir = Dir::new();
    // 25,010 low-confidence passwords (in files under the per-input cap of 10,000) and one
    // high-confidence token, in the file that sorts last.
    for (file, n) in [("a.txt", 9_000u64), ("b.txt", 9_000), ("c.txt", 7_010)] {
        let mut text = String::new();
        for i in 0..n {
            text.push_str(&format!("password = \"{}\"\n", password(n * 100_000 + i)));
        }
        dir.create(file, text);
    }
    dir.create("z.txt", format!("token: {}\n", fxt(1)));
    let doc = fixture_sarif(&dir, ".");
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 25_000);
    assert!(
        results.iter().any(|r| r["ruleId"] == "fixture-token"),
        "the most confident finding was dropped"
    );
    let notes = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert!(
        notes.iter().any(|n| n["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("11 less confident findings are not listed")),
        "{notes:?}"
    );
}

/// A SARIF scan of `path` in `dir` with the fixture rules that finds something: checked
/// valid, parsed.
fn fixture_sarif(dir: &Dir, path: &str) -> Value {
    let rules = fixture_rules();
    let out = dir.scan(&["-f", "sarif", "--config", rules.to_str().unwrap(), path]);
    out.code(1);
    assert_valid_sarif(&out.stdout)
}

fn sarif_of(dir: &Dir, args: &[&str]) -> String {
    let mut all = vec!["-f", "sarif"];
    all.extend_from_slice(args);
    dir.scan(&all).stdout
}

#[test]
fn the_validator_rejects_invalid_sarif() {
    // The check can fail: a log without `version`, or with a bad level, is refused.
    let good = serde_json::json!({
        "version": "2.1.0",
        "runs": [{ "tool": { "driver": { "name": "x" } }, "results": [] }]
    });
    assert!(schema_errors(&good).is_empty());
    let mut no_version = good.clone();
    no_version.as_object_mut().unwrap().remove("version");
    assert!(!schema_errors(&no_version).is_empty());
    let mut bad_level = good.clone();
    bad_level["runs"][0]["results"] = serde_json::json!([
        { "message": { "text": "m" }, "level": "catastrophic" }
    ]);
    assert!(!schema_errors(&bad_level).is_empty());
    let mut bad_uri = good.clone();
    bad_uri["runs"][0]["tool"]["driver"]["informationUri"] = "not a uri".into();
    assert!(!schema_errors(&bad_uri).is_empty(), "formats are checked");
    let mut dup_tags = good;
    dup_tags["runs"][0]["tool"]["driver"]["rules"] =
        serde_json::json!([{ "id": "a", "properties": { "tags": ["x", "x"] } }]);
    assert!(!schema_errors(&dup_tags).is_empty(), "tags must be unique");
}

#[test]
fn a_report_with_every_kind_of_finding_is_valid() {
    let dir = Dir::new();
    dir.create(
        "plain.txt",
        format!(
            "{}\nid {}\npassword = \"{}\"\n",
            fxt(1),
            fxkey(2),
            password(3)
        ),
    );
    dir.create(
        "enc.txt",
        format!("b: {}\n", base64(format!("x={}", fxt(4)))),
    );
    dir.create("url.txt", format!("u?password=%22{}%21%22\n", password(5)));
    dir.create("uni/naïve café #1 50%.txt", format!("☕ {}\n", fxt(6)));
    let doc = fixture_sarif(&dir, ".");
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 6, "{doc}");
    let uris: Vec<_> = results
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(
        uris.contains(&"uni/na%C3%AFve%20caf%C3%A9%20%231%2050%25.txt"),
        "{uris:?}"
    );
    // Every result points at a rule descriptor with its id.
    let rules = doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    for r in results {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], r["ruleId"]);
    }
}

#[test]
fn an_empty_report_is_valid() {
    let dir = Dir::new();
    dir.create("a.txt", "clean\n");
    let doc = assert_valid_sarif(&sarif_of(&dir, &["--no-config", "a.txt"]));
    assert_eq!(doc["runs"][0]["results"], serde_json::json!([]));
}

#[test]
fn a_report_of_builtin_rules_on_stdin_is_valid() {
    let dir = Dir::new();
    let out = dir
        .cmd()
        .args(["scan", "--no-config", "-f", "sarif", "-"])
        .stdin(format!(
            "t={}\n{}\n",
            ghp(1),
            base64(format!("GH={}", ghp(2)))
        ))
        .run();
    out.code(1);
    let doc = assert_valid_sarif(&out.stdout);
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["ruleId"] == "github-pat"));
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "-"
    );
}

#[test]
fn a_path_only_rule_finding_is_valid() {
    // A rule with only `path`: the finding has no line or column of its own.
    let dir = Dir::new();
    dir.create(
        "rules.toml",
        "[[rules]]\nid = \"key-file\"\ndescription = \"Private key file\"\npath = '''\\.pem$'''\n",
    );
    dir.create("certs/server.pem", "whatever\n");
    let out = dir.scan(&["-f", "sarif", "--config", "rules.toml", "."]);
    out.code(1);
    let doc = assert_valid_sarif(&out.stdout);
    assert_eq!(doc["runs"][0]["results"][0]["ruleId"], "key-file");
}

#[test]
fn rules_extending_the_defaults_with_the_same_tags_are_valid() {
    // Extending a built-in rule with tags it already has must not duplicate them (SARIF
    // requires unique tags).
    let dir = Dir::new();
    dir.create(
        "rules.toml",
        "[extend]\nuseDefault = true\n[[rules]]\nid = \"github-pat\"\ntags = [\"github\", \"ci\", \"ci\"]\n",
    );
    dir.create("a.txt", ghp(1));
    let out = dir.scan(&["-f", "sarif", "--config", "rules.toml", "a.txt"]);
    out.code(1);
    let doc = assert_valid_sarif(&out.stdout);
    let tags = &doc["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["tags"];
    assert_eq!(
        tags,
        &serde_json::json!(["security", "secret", "github", "token", "ci"])
    );
}

#[test]
fn what_was_not_scanned_is_a_tool_execution_notification() {
    let dir = Dir::new();
    dir.create("big.txt", format!("{}\n{}", "x".repeat(4096), fxt(1)));
    dir.create("small.txt", fxt(2));
    let out = dir.scan_fixture_rules(&["-f", "sarif", "--max-file-size", "2K", "."]);
    out.code(2);
    let doc = assert_valid_sarif(&out.stdout);
    let run = &doc["runs"][0];
    assert_eq!(run["results"].as_array().unwrap().len(), 1);
    let inv = &run["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    let notes = inv["toolExecutionNotifications"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0]["level"], "error");
    let text = notes[0]["message"]["text"].as_str().unwrap();
    assert!(text.starts_with("big.txt: not scanned:"), "{text}");
    // Downgraded, it is a warning and the run is complete.
    let out = dir.scan_fixture_rules(&[
        "-f",
        "sarif",
        "--max-file-size",
        "2K",
        "--skip-unreadable",
        ".",
    ]);
    out.code(1);
    let doc = assert_valid_sarif(&out.stdout);
    let inv = &doc["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], true);
    assert_eq!(inv["toolExecutionNotifications"][0]["level"], "warning");
    // A complete run has no invocation to report.
    let out = dir.scan_fixture_rules(&["-f", "sarif", "."]);
    let doc = assert_valid_sarif(&out.stdout);
    assert!(doc["runs"][0].get("invocations").is_none());
}
