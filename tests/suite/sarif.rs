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
    doc
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
    let out = dir.scan(&[
        "-f",
        "sarif",
        "--config",
        fixture_rules().to_str().unwrap(),
        ".",
    ]);
    out.code(1);
    let doc = assert_valid_sarif(&out.stdout);
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 6, "{}", out.stdout);
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
    assert_eq!(tags, &serde_json::json!(["github", "token", "ci"]));
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
