//! gitleaks configuration compatibility: `tests/fixtures/config-all-fields.toml` (and its base,
//! `config-all-fields-base.toml`) use every gitleaks field and every shush extension; each test
//! here shows one field having its effect. A Betterleaks-style file loads with its extra
//! fields ignored and named in warnings.

use crate::util::{self, Dir, Found, Rng, fixture, ghp};
use shush::engine::{Engine, EngineOptions, InputMeta};
use shush::rules::{LoadedConfig, RuleSet};

const LOWER36: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

fn all_fields() -> String {
    fixture("config-all-fields.toml")
        .to_str()
        .unwrap()
        .to_string()
}

/// Scans `dir` (all of it) with the all-fields config and returns the findings, secrets shown.
fn scan(dir: &Dir) -> Vec<Found> {
    let out = dir.scan(&[
        "--config",
        &all_fields(),
        "-f",
        "json",
        "--show-secrets",
        ".",
    ]);
    assert!(
        matches!(out.code, Some(0 | 1)),
        "scan failed:\n{}",
        out.stderr
    );
    out.findings()
}

/// (path, rule, secret) of each finding.
fn triples(found: &[Found]) -> Vec<(String, String, String)> {
    found
        .iter()
        .map(|f| (f.path.clone(), f.rule.clone(), f.secret.clone()))
        .collect()
}

fn has(found: &[Found], rule: &str, secret: &str) -> bool {
    found.iter().any(|f| f.rule == rule && f.secret == secret)
}

fn rand36(seed: u64, n: usize) -> String {
    Rng::new(seed).string(LOWER36, n)
}

/// A `cct_` token (rule `cc-token`) starting with `1`, so no allowlist applies by accident.
fn cct(seed: u64) -> String {
    format!("cct_1{}", rand36(seed, 15))
}

fn engine() -> Engine {
    let loaded = LoadedConfig::from_path(&fixture("config-all-fields.toml")).unwrap();
    let rules = RuleSet::from_loaded(loaded).unwrap();
    rules.validate().unwrap();
    Engine::new(rules, EngineOptions::default()).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Loading.

#[test]
fn every_field_is_understood_no_warning() {
    let dir = Dir::new();
    let out = dir
        .cmd()
        .args(["rules", "list", "--json", "--config", &all_fields()])
        .run();
    out.code(0);
    assert_eq!(out.stderr, "", "a field of the file is not supported");
    let ids: Vec<String> = out
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    for want in [
        "github-pat", // [extend] useDefault in the base
        "cc-base",    // [extend] path
        "cc-token",
        "cc-pair",
        "cc-entropy",
        "cc-gated",
        "cc-path",
        "cc-keystore",
        "cc-checked",
        "cc-unbounded",
        "cc-composite",
        "cc-secret-part",
    ] {
        assert!(ids.iter().any(|i| i == want), "{want} missing from {ids:?}");
    }
    // [extend] disabledRules: a built-in rule and a rule of the extended file.
    for gone in ["github-oauth", "cc-base-disabled"] {
        assert!(!ids.iter().any(|i| i == gone), "{gone} still in {ids:?}");
    }
}

#[test]
fn top_level_metadata_is_kept() {
    let loaded = LoadedConfig::from_path(&fixture("config-all-fields.toml")).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(loaded.config.title.as_deref(), Some("config-all-fields"));
    assert_eq!(
        loaded.config.description.as_deref(),
        Some("Every gitleaks field and every shush extension")
    );
    assert_eq!(loaded.config.min_version.as_deref(), Some("v8.25.0"));
}

#[test]
fn examples_and_negative_examples_are_checked() {
    let dir = Dir::new();
    let out = dir.cmd().args(["rules", "check", &all_fields()]).run();
    out.code(0);
    assert!(out.stdout.contains(" 0 failures"), "{}", out.stdout);
    // The file's own examples ran: 2 + 2 negatives for cc-token, 2 + 1 for four others.
    let report = shush::rules::check::check(&engine());
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let own: usize = engine()
        .rules()
        .rules
        .iter()
        .filter(|r| r.id.starts_with("cc-"))
        .map(|r| r.examples().len() + r.negative_examples().len())
        .sum();
    assert_eq!(own, 4 + 4 * 3);
    // And a wrong example makes the check fail.
    let text = std::fs::read_to_string(fixture("config-all-fields.toml"))
        .unwrap()
        .replace("secret = '4zdmen2khvdgaj8g'", "secret = 'cck_d39zzzzg'");
    dir.create(
        "config-all-fields-base.toml",
        std::fs::read(fixture("config-all-fields-base.toml")).unwrap(),
    );
    dir.create("broken.toml", text);
    let out = dir.cmd().args(["rules", "check", "broken.toml"]).run();
    out.code(1);
    assert!(
        out.stdout
            .contains("FAIL cc-pair: example #1 captures a different secret"),
        "{}",
        out.stdout
    );
}

// ---------------------------------------------------------------------------------------------
// [extend]

#[test]
fn extend_use_default_path_and_disabled_rules() {
    let dir = Dir::new();
    let gho = {
        let random = Rng::new(5).string(util::BASE62, 30);
        format!(
            "gho_{random}{}",
            shush::checksum::github_checksum(random.as_bytes())
        )
    };
    let ccb = format!("ccb_{}", rand36(1, 12));
    let ccd = format!("ccd_{}", rand36(2, 12));
    dir.create("a.txt", format!("{}\n{gho}\n{ccb}\n{ccd}\n", ghp(1)));
    let found = scan(&dir);
    assert!(has(&found, "github-pat", &ghp(1)), "useDefault: {found:?}");
    assert!(has(&found, "cc-base", &ccb[4..]), "path: {found:?}");
    assert_eq!(found.len(), 2, "disabledRules: {found:?}");
    // Without the extension, the built-in github-oauth rule reports the gho_ token.
    let out = dir.scan(&["--no-config", "-f", "json", "a.txt"]);
    assert!(out.findings().iter().any(|f| f.rule == "github-oauth"));
}

// ---------------------------------------------------------------------------------------------
// Deprecated single allowlists (in the base file).

#[test]
fn deprecated_global_allowlist_applies_to_every_rule() {
    let dir = Dir::new();
    let dummy = format!("cct_dummy{}", rand36(3, 11));
    let kept = cct(4);
    dir.create("a.txt", format!("{dummy}\n{kept}\n"));
    assert_eq!(
        triples(&scan(&dir)),
        vec![("a.txt".into(), "cc-token".into(), kept)]
    );
}

#[test]
fn deprecated_rule_allowlist_applies_to_its_rule() {
    let dir = Dir::new();
    let example = "ccb_example12345".to_string();
    let kept = format!("ccb_{}", rand36(5, 12));
    dir.create("a.txt", format!("{example}\n{kept}\n"));
    let found = scan(&dir);
    assert!(!has(&found, "cc-base", "example12345"), "{found:?}");
    assert!(has(&found, "cc-base", &kept[4..]), "{found:?}");
}

// ---------------------------------------------------------------------------------------------
// [[rules.allowlists]] fields.

#[test]
fn stopwords_suppress_secrets_containing_them() {
    let dir = Dir::new();
    let test_tok = format!("cct_1test{}", rand36(6, 11));
    dir.create("a.txt", format!("{test_tok}\n{}\n", cct(7)));
    assert_eq!(
        triples(&scan(&dir)),
        vec![("a.txt".into(), "cc-token".into(), cct(7))]
    );
}

#[test]
fn regex_target_line_tests_the_whole_line() {
    let dir = Dir::new();
    dir.create(
        "a.txt",
        format!("x = {}  # fake, for docs\ny = {}\n", cct(8), cct(9)),
    );
    assert_eq!(
        triples(&scan(&dir)),
        vec![("a.txt".into(), "cc-token".into(), cct(9))]
    );
}

#[test]
fn condition_and_needs_every_criterion() {
    let dir = Dir::new();
    let zero = format!("cct_0{}", rand36(10, 15));
    let one = cct(11);
    dir.create("fixtures/a.txt", format!("{zero}\n{one}\n"));
    dir.create("src/a.txt", format!("{zero}\n"));
    // Allowed only where the path AND the secret regex both match.
    assert_eq!(
        triples(&scan(&dir)),
        vec![
            ("fixtures/a.txt".into(), "cc-token".into(), one),
            ("src/a.txt".into(), "cc-token".into(), zero)
        ]
    );
}

#[test]
fn commits_allow_findings_from_a_known_commit() {
    let engine = engine();
    let mut st = engine.new_state();
    let input = format!("t = {}\n", cct(12));
    let scan = |st: &mut _, commit: Option<&str>| {
        shush::scan::input::scan_bytes(
            &engine,
            st,
            input.as_bytes(),
            InputMeta {
                commit,
                ..Default::default()
            },
        )
        .len()
    };
    assert_eq!(scan(&mut st, None), 1);
    assert_eq!(
        scan(&mut st, Some("1111111111111111111111111111111111111111")),
        1
    );
    assert_eq!(
        scan(&mut st, Some("0123456789abcdef0123456789abcdef01234567")),
        0
    );
    assert_eq!(
        scan(&mut st, Some("0123456789ABCDEF0123456789ABCDEF01234567")),
        0,
        "commit ids compare case-insensitively"
    );
}

#[test]
fn secret_group_selects_the_reported_group() {
    let dir = Dir::new();
    let (id, secret) = (rand36(13, 8), rand36(14, 16));
    dir.create("a.txt", format!("pair = cck_{id}:{secret}\n"));
    let found = scan(&dir);
    assert_eq!(
        triples(&found),
        vec![("a.txt".into(), "cc-pair".into(), secret)]
    );
}

#[test]
fn secret_group_beyond_the_regex_groups_is_an_error() {
    // gitleaks refuses such a rule; shush used to report the whole match instead.
    let dir = Dir::new();
    dir.create(
        "sg.toml",
        r#"
[[rules]]
id = "sg"
regex = '''\bx_([a-z]{4})\b'''
secretGroup = 2
"#,
    );
    dir.create("a.txt", "x_abcd\n");
    dir.scan(&["--config", "sg.toml", "a.txt"])
        .code(2)
        .stderr_has("sg.toml")
        .stderr_has("secretGroup = 2 but the regex has 1 capture group(s)");
    // The group it has is fine, named or not, beside non-capturing groups.
    dir.create(
        "sg.toml",
        r#"
[[rules]]
id = "sg"
regex = '''\b(?:x_)(?P<s>[a-z]{4})\b'''
secretGroup = 1
"#,
    );
    let found = dir
        .scan(&[
            "--config",
            "sg.toml",
            "-f",
            "json",
            "--show-secrets",
            "a.txt",
        ])
        .code(1)
        .findings();
    assert_eq!(found[0].secret, "abcd");
}

#[test]
fn regex_target_match_tests_the_whole_match() {
    let dir = Dir::new();
    let secret = rand36(15, 16);
    // The same secret: allowed with the all-zero key id, which only the match contains.
    dir.create(
        "a.txt",
        format!("cck_00000000:{secret}\ncck_00000001:{secret}\n"),
    );
    let found = scan(&dir);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].line, 2);
}

// ---------------------------------------------------------------------------------------------
// [[rules]] fields.

#[test]
fn entropy_rejects_low_entropy_secrets() {
    let dir = Dir::new();
    let random = "pft75v2seh60kvj5";
    assert!(shush::checksum::shannon_entropy(random.as_bytes()) > 3.5);
    let flat = "aaaaaaaabbbbbbbb";
    assert!(shush::checksum::shannon_entropy(flat.as_bytes()) <= 3.5);
    dir.create("a.txt", format!("cce_{flat}\ncce_{random}\n"));
    assert_eq!(
        triples(&scan(&dir)),
        vec![("a.txt".into(), "cc-entropy".into(), random.into())]
    );
}

#[test]
fn keywords_gate_a_rule_to_inputs_that_contain_them() {
    let dir = Dir::new();
    let id = "QWZX482915730264";
    dir.create("without.txt", format!("id: {id}\n"));
    dir.create("with.txt", format!("# GateKW config\n\nid: {id}\n"));
    assert_eq!(
        triples(&scan(&dir)),
        vec![("with.txt".into(), "cc-gated".into(), id.into())]
    );
}

#[test]
fn path_restricts_a_rule_to_matching_files() {
    let dir = Dir::new();
    let tok = format!("ccp_{}", rand36(16, 12));
    dir.create("app.properties", format!("key={tok}\n"));
    dir.create("APP.PROPERTIES", format!("key={tok}\n"));
    dir.create("app.txt", format!("key={tok}\n"));
    dir.create("app.properties.bak", format!("key={tok}\n"));
    let paths: Vec<_> = scan(&dir).into_iter().map(|f| f.path).collect();
    assert_eq!(paths, vec!["APP.PROPERTIES", "app.properties"]);
    // Standard input has no path: a path rule never applies there.
    let out = dir
        .cmd()
        .args(["scan", "--config", &all_fields(), "-"])
        .stdin(format!("key={tok}\n"))
        .run();
    out.code(0);
}

#[test]
fn a_path_only_rule_reports_the_file() {
    let dir = Dir::new();
    dir.create("keys/prod.cckeystore", [0u8, 1, 2, 3]);
    dir.create("keys/prod.txt", "x");
    let found = scan(&dir);
    assert_eq!(
        triples(&found),
        vec![(
            "keys/prod.cckeystore".into(),
            "cc-keystore".into(),
            String::new()
        )]
    );
}

#[test]
fn checksum_rejects_tokens_that_fail_it() {
    let dir = Dir::new();
    let random = Rng::new(17).string(util::BASE62, 30);
    let good = format!(
        "ccg_{random}{}",
        shush::checksum::github_checksum(random.as_bytes())
    );
    let mut bad = good.clone().into_bytes();
    bad[5] = if bad[5] == b'a' { b'b' } else { b'a' };
    let bad = String::from_utf8(bad).unwrap();
    dir.create("a.txt", format!("{bad}\n{good}\n"));
    assert_eq!(
        triples(&scan(&dir)),
        vec![("a.txt".into(), "cc-checked".into(), good)]
    );
}

#[test]
fn max_len_caps_an_unbounded_match() {
    let dir = Dir::new();
    dir.create("a.txt", format!("ccu_{}\n", "q".repeat(40)));
    assert_eq!(
        triples(&scan(&dir)),
        vec![(
            "a.txt".into(),
            "cc-unbounded".into(),
            format!("ccu_{}", "q".repeat(8))
        )]
    );
    let v = Dir::new()
        .cmd()
        .args(["rules", "list", "--json", "--config", &all_fields()])
        .run()
        .json();
    let rule = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "cc-unbounded")
        .unwrap()
        .clone();
    assert_eq!(rule["max_len"], 12);
}

#[test]
fn tags_confidence_and_references_reach_the_reports() {
    let dir = Dir::new();
    dir.create("a.txt", format!("{}\ncce_pft75v2seh60kvj5\n", cct(18)));
    let json = dir
        .scan(&["--config", &all_fields(), "-f", "json", "a.txt"])
        .json();
    assert_eq!(json[0]["rule_id"], "cc-token");
    assert_eq!(json[0]["tags"], serde_json::json!(["compat", "token"]));
    assert_eq!(json[0]["confidence"], "high");
    assert_eq!(json[1]["rule_id"], "cc-entropy");
    assert_eq!(json[1]["confidence"], "low");
    let sarif = dir
        .scan(&["--config", &all_fields(), "-f", "sarif", "a.txt"])
        .json();
    let run = &sarif["runs"][0];
    assert_eq!(
        run["tool"]["driver"]["rules"][0]["helpUri"],
        "https://example.invalid/docs/cc-token"
    );
    assert_eq!(run["results"][0]["level"], "error");
    assert_eq!(run["results"][1]["level"], "warning");
}

// ---------------------------------------------------------------------------------------------
// Composite rules: [[rules.required]] and skipReport.

#[test]
fn required_reports_only_when_the_other_rule_matched_close_enough() {
    let dir = Dir::new();
    let id = format!("cc_id_{}", rand36(19, 10));
    let secret = format!("cc_secret_{}", rand36(20, 20));
    // Within 2 lines and 30 columns: reported, as the primary rule only.
    dir.create("near.txt", format!("{id}\n\n{secret}\n"));
    // 4 lines apart.
    dir.create("far-lines.txt", format!("{id}\n\n\n\n{secret}\n"));
    // Next line, but 40 columns apart.
    dir.create(
        "far-columns.txt",
        format!("{id}\n{}{secret}\n", " ".repeat(40)),
    );
    // The primary alone, the component alone.
    dir.create("id-only.txt", format!("{id}\n"));
    dir.create("secret-only.txt", format!("{secret}\n"));
    assert_eq!(
        triples(&scan(&dir)),
        vec![(
            "near.txt".into(),
            "cc-composite".into(),
            id[6..].to_string()
        )]
    );
}

// ---------------------------------------------------------------------------------------------
// Global [[allowlists]].

#[test]
fn global_allowlist_with_target_rules_applies_to_those_rules_only() {
    let dir = Dir::new();
    let cce = "cce_0ce9uvw53efr4edt";
    let tok = cct(21);
    dir.create("vendor/lib.txt", format!("{cce}\n{tok}\n"));
    dir.create("src/lib.txt", format!("{cce}\n"));
    assert_eq!(
        triples(&scan(&dir)),
        vec![
            (
                "src/lib.txt".into(),
                "cc-entropy".into(),
                cce[4..].to_string()
            ),
            ("vendor/lib.txt".into(), "cc-token".into(), tok)
        ]
    );
}

#[test]
fn global_allowlist_without_target_rules_applies_to_every_rule() {
    let dir = Dir::new();
    dir.create("deps.lock", format!("{}\n{}\n", cct(22), ghp(3)));
    dir.create("deps.txt", format!("{}\n", cct(22)));
    assert_eq!(
        triples(&scan(&dir)),
        vec![("deps.txt".into(), "cc-token".into(), cct(22))]
    );
}

// ---------------------------------------------------------------------------------------------
// Betterleaks-style configuration.

#[test]
fn betterleaks_style_config_loads_unchanged_and_behaves() {
    let dir = Dir::new();
    let config = fixture("betterleaks-style.toml");
    let blt = format!("blt_{}", rand36(23, 20));
    let blk = "blk_Q4ZP0XK7N2C9W1TB";
    dir.create(
        "a.txt",
        format!(
            "{blt}\n{blk}\nblt_aaaaaaaaaaaaaaaaaaaa\nexample: blt_{}\n",
            rand36(29, 20)
        ),
    );
    dir.create("node_modules/pkg/b.txt", format!("{blt}\n"));
    let out = dir.scan(&[
        "--config",
        config.to_str().unwrap(),
        "-f",
        "json",
        "--show-secrets",
        ".",
    ]);
    out.code(1);
    let found = triples(&out.findings());
    // The filter drops the low-entropy token and the one on an `example` line; the
    // prefilter skips node_modules; `bl-key`'s filter is not evaluable, so it is ignored.
    assert_eq!(
        found,
        vec![
            ("a.txt".into(), "bl-token".into(), blt.clone()),
            ("a.txt".into(), "bl-key".into(), blk.into())
        ]
    );
    let warnings: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("warning"))
        .collect();
    let named = |needle: &str| warnings.iter().filter(|w| w.contains(needle)).count();
    assert_eq!(named("`validate`"), 1, "{warnings:#?}");
    assert_eq!(named("`tokenEfficiency`"), 1, "{warnings:#?}");
    assert_eq!(named("failsTokenEfficiency"), 1, "{warnings:#?}");
    assert!(
        out.stderr.contains("never calls providers"),
        "{}",
        out.stderr
    );
    // Evaluated filters and the version requirement raise no warning.
    assert_eq!(named("`prefilter`"), 0, "{warnings:#?}");
    assert_eq!(named("betterleaksMinVersion"), 0, "{warnings:#?}");
    // bl-token's filter is evaluated: no warning about it.
    assert!(
        !warnings
            .iter()
            .any(|w| w.contains("filter") && w.contains("bl-token")),
        "{warnings:#?}"
    );

    // "Unchanged": the rules are those of the file without Betterleaks' own fields.
    let stripped: String = std::fs::read_to_string(&config)
        .unwrap()
        .lines()
        .filter(|l| {
            ![
                "filter",
                "validate",
                "prefilter",
                "tokenEfficiency",
                "betterleaksMinVersion",
            ]
            .iter()
            .any(|k| l.starts_with(&format!("{k} =")))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    dir.create("stripped.toml", stripped);
    let list = |cfg: &str| {
        let out = dir
            .cmd()
            .args(["rules", "list", "--json", "--config", cfg])
            .run();
        out.code(0);
        out.json()
    };
    let stripped_list = list("stripped.toml");
    assert_eq!(list(config.to_str().unwrap()), stripped_list);
    assert_eq!(stripped_list.as_array().unwrap().len(), 2);
}

// ---------------------------------------------------------------------------------------------
// Hostile configs.

#[cfg(unix)]
#[test]
fn extend_path_to_a_device_or_fifo_is_refused_not_read_forever() {
    // A `.gitleaks.toml` in a scanned repository chooses its `[extend] path`.
    let dir = Dir::new();
    dir.create("a.txt", "x\n");
    for target in ["/dev/zero", "/dev/stdin"] {
        dir.create(".gitleaks.toml", format!("[extend]\npath = \"{target}\"\n"));
        dir.scan(&["a.txt"])
            .code(2)
            .stderr_has(target)
            .stderr_has("not a regular file");
    }
    let fifo = dir.join("rules.fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    dir.create(".gitleaks.toml", "[extend]\npath = \"rules.fifo\"\n");
    dir.scan(&["a.txt"])
        .code(2)
        .stderr_has("not a regular file");
    // --config naming a directory is refused the same way.
    dir.create_dir("conf.d");
    dir.scan(&["--config", "conf.d", "a.txt"])
        .code(2)
        .stderr_has("conf.d");
}

// ---------------------------------------------------------------------------------------------
// Defaults that do what users mean: shush's own file extends the built-in rules, a file that
// leaves no rules is an error, and rules can be picked from the command line.

/// A synthetic quoted password assignment the built-in `generic-password` rule reports.
fn generic_password_line(seed: u64) -> (String, String) {
    let pw = format!("Q{}x", rand36(seed, 14));
    (format!("db_password = \"{pw}\"\n"), pw)
}

fn rules_of(out: &util::Output) -> Vec<String> {
    let mut r: Vec<String> = out.findings().into_iter().map(|f| f.rule).collect();
    r.sort();
    r.dedup();
    r
}

#[test]
fn an_allowlist_only_shush_toml_keeps_the_built_in_rules() {
    let dir = Dir::new();
    dir.create(
        ".shush.toml",
        "[[allowlists]]\ndescription = 'vendored'\npaths = ['''^vendor/''']\n",
    );
    dir.create("app.txt", format!("token = {}\n", ghp(1)));
    dir.create("vendor/lib.txt", format!("token = {}\n", ghp(2)));
    let out = dir.scan(&["-f", "json", "."]);
    out.code(1);
    let paths: Vec<_> = out.findings().into_iter().map(|f| f.path).collect();
    assert_eq!(
        paths,
        ["app.txt"],
        "built-in rules run, the allowlist applies"
    );
}

#[test]
fn a_gitleaks_file_that_leaves_no_rules_fails_closed() {
    let dir = Dir::new();
    dir.create(
        ".gitleaks.toml",
        "[[allowlists]]\npaths = ['''^vendor/''']\n",
    );
    dir.create("app.txt", format!("token = {}\n", ghp(1)));
    dir.scan(&["."])
        .code(2)
        .stderr_has("defines no rules")
        .stderr_has("useDefault = true");
    // The fix the message names works.
    dir.create(
        ".gitleaks.toml",
        "[extend]\nuseDefault = true\n[[allowlists]]\npaths = ['''^vendor/''']\n",
    );
    dir.scan(&["."]).code(1);
    // A shush file that opts out of the defaults and defines nothing is refused too.
    let dir = Dir::new();
    dir.create(
        ".shush.toml",
        "[extend]\nuseDefault = false\n[[allowlists]]\npaths = ['x']\n",
    );
    dir.create("app.txt", format!("token = {}\n", ghp(1)));
    dir.scan(&["."]).code(2).stderr_has("no rules");
}

#[test]
fn a_config_that_extends_itself_is_an_error() {
    let dir = Dir::new();
    dir.create("app.txt", format!("token = {}\n", ghp(1)));
    dir.create(".gitleaks.toml", "[extend]\npath = '.gitleaks.toml'\n");
    dir.scan(&["."]).code(2).stderr_has("cannot extend itself");
    // Two files extending each other.
    dir.create(".gitleaks.toml", "[extend]\npath = 'b.toml'\n");
    dir.create("b.toml", "[extend]\npath = '.gitleaks.toml'\n");
    dir.scan(&["."]).code(2).stderr_has("cannot extend itself");
}

#[test]
fn disabling_a_generic_rule_works_with_its_allowlists() {
    let dir = Dir::new();
    let (line, _) = generic_password_line(1);
    dir.create("a.py", format!("{line}token = {}\n", ghp(1)));
    let all = dir.scan(&["--no-config", "-f", "json", "."]);
    assert_eq!(rules_of(&all), ["generic-password", "github-pat"]);
    // The built-in allowlists that target generic-password must not make this an error.
    dir.create(
        ".gitleaks.toml",
        "[extend]\nuseDefault = true\ndisabledRules = ['generic-password']\n",
    );
    let out = dir.scan(&["-f", "json", "."]);
    out.code(1);
    assert_eq!(rules_of(&out), ["github-pat"]);
    // The same from the command line, on the built-in rules.
    let out = dir.scan(&[
        "--no-config",
        "--disable-rule",
        "generic-password",
        "-f",
        "json",
        ".",
    ]);
    assert_eq!(rules_of(&out), ["github-pat"]);
}

#[test]
fn rules_are_picked_from_the_command_line() {
    let dir = Dir::new();
    let (line, _) = generic_password_line(2);
    dir.create("a.py", format!("{line}token = {}\n", ghp(3)));
    let only = dir.scan(&[
        "--no-config",
        "--enable-rule",
        "generic-password",
        "-f",
        "json",
        ".",
    ]);
    assert_eq!(rules_of(&only), ["generic-password"]);
    // generic-password is `low`: a medium floor leaves it out.
    let sure = dir.scan(&[
        "--no-config",
        "--min-confidence",
        "medium",
        "-f",
        "json",
        ".",
    ]);
    assert_eq!(rules_of(&sure), ["github-pat"]);
    dir.scan(&["--no-config", "--min-confidence", "certain", "."])
        .code(2);
    // A misspelt id is an error, never a silent no-op.
    dir.scan(&["--no-config", "--disable-rule", "github-pta", "."])
        .code(2)
        .stderr_has("`github-pta`");
    // Disabling the only rule that matches: clean.
    dir.create("b.txt", format!("{}\n", ghp(4)));
    dir.scan(&["--no-config", "--disable-rule", "github-pat", "b.txt"])
        .code(0);
}

/// A config extending the built-in rules with one rule of its own, which needs a keyword the
/// built-in automaton does not have (so its automaton is built, then cached).
const EXTENDED: &str = "[extend]\nuseDefault = true\n\n[[rules]]\nid = 'acme-key'\nregex = '''acme_[a-z0-9]{20}'''\nkeywords = ['acme_']\n";

#[test]
fn the_automaton_cache_is_used_and_never_trusted_blindly() {
    let dir = Dir::new();
    let cache = Dir::new();
    dir.create(".gitleaks.toml", EXTENDED);
    let acme = format!("acme_{}", rand36(7, 20));
    dir.create("a.txt", format!("k = {acme}\ntoken = {}\n", ghp(5)));
    let run = || {
        let out = dir
            .cmd()
            .env("SHUSH_CACHE_DIR", cache.path())
            .args(["scan", "--no-progress", "-f", "json", "a.txt"])
            .run();
        out.code(1);
        rules_of(&out)
    };
    let want = ["acme-key", "github-pat"];
    assert_eq!(run(), want);
    let files: Vec<_> = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "one automaton cached: {files:?}");
    let cached = std::fs::read(&files[0]).unwrap();
    assert!(cached.len() > 1000);
    assert_eq!(run(), want, "read back from the cache");
    // A corrupt file is ignored (and replaced by a sound one).
    std::fs::write(&files[0], b"SHKC1 garbage").unwrap();
    assert_eq!(run(), want);
    assert_eq!(std::fs::read(&files[0]).unwrap(), cached);
    // A well-formed automaton for other keywords under this name is refused too.
    let other = Dir::new();
    let other_cache = Dir::new();
    other.create(
        ".gitleaks.toml",
        EXTENDED
            .replace("acme_", "zeta_")
            .replace("acme-key", "zeta-key"),
    );
    other
        .cmd()
        .env("SHUSH_CACHE_DIR", other_cache.path())
        .args(["scan", "--no-progress", "."])
        .run()
        .code(0);
    let foreign = std::fs::read_dir(other_cache.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::copy(foreign, &files[0]).unwrap();
    assert_eq!(run(), want);
    assert_eq!(std::fs::read(&files[0]).unwrap(), cached);
}
