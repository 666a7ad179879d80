//! Every built-in rule proves itself: its positive examples are reported by it with the
//! right secret, its negative examples are not, and it passes the structural lint (keywords
//! anchor every match, bounded length, enough examples).

use shush::Engine;
use shush::rules::Strategy;
use shush::rules::check::check;

#[test]
fn every_builtin_rule_passes_its_examples() {
    let engine = Engine::builtin().expect("built-in rules compile");
    engine.rules().validate().expect("every regex compiles");
    let report = check(&engine);
    let failures: Vec<String> = report
        .failures
        .iter()
        .map(|p| format!("{}: {}", p.rule, p.message))
        .collect();
    assert!(
        failures.is_empty(),
        "{} example failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let lints: Vec<String> = report
        .lints
        .iter()
        .map(|p| format!("{}: {}", p.rule, p.message))
        .collect();
    assert!(
        lints.is_empty(),
        "{} lint problems:\n{}",
        lints.len(),
        lints.join("\n")
    );
    assert!(
        report.examples >= 3 * report.rules,
        "{} examples for {} rules",
        report.examples,
        report.rules
    );
}

#[test]
fn every_builtin_rule_has_metadata() {
    let engine = Engine::builtin().unwrap();
    for rule in &engine.rules().rules {
        assert!(!rule.tags.is_empty(), "{}: no tags", rule.id);
        // A rule restricted to a kind of file may have nothing to anchor on (a `.pgpass`
        // line): it runs over those files whole. Every other rule is keyword-anchored.
        let file_rule = rule.path.is_some() && matches!(rule.strategy, Strategy::Full { .. });
        assert!(
            file_rule || !rule.keywords.is_empty(),
            "{}: no keywords",
            rule.id
        );
        assert!(rule.family.is_some(), "{}: no family", rule.id);
        assert!(
            rule.id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{}: ids are kebab-case",
            rule.id
        );
        assert!(
            file_rule || matches!(rule.strategy, Strategy::Window { .. }),
            "{}: not keyword-anchored",
            rule.id
        );
        assert!(rule.bounded, "{}: unbounded", rule.id);
    }
}

#[test]
fn builtin_single_line_rules_are_the_norm() {
    let engine = Engine::builtin().unwrap();
    for rule in &engine.rules().rules {
        if rule.multiline {
            assert!(
                rule.tags.iter().any(|t| t == "multiline"),
                "{}: can match across lines; tag it `multiline` if the format really is multi-line, else use [ \\t] instead of \\s",
                rule.id
            );
        }
    }
}

#[test]
fn generated_generic_regexes_are_up_to_date() {
    // detectors/generic.toml's long regexes and `follow` gates come from
    // tools/generic_regexes.py: a hand edit of one without the other drifts silently.
    let out = std::process::Command::new("python3")
        .args(["tools/generic_regexes.py", "--check"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("python3 runs the generator");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What one compiled rule regex may hold (NFAs, prefilters; per-thread caches come on top).
/// A counted repetition of thousands (`[A-Za-z0-9+/]{64,16384}`) compiles to megabytes,
/// paid by every scan that triggers the rule: write `{64}` and a free repetition, bounded by
/// the rule's `max_len`, instead.
const MAX_REGEX_BYTES: usize = 2 << 20;

#[test]
fn builtin_regexes_compile_small() {
    let engine = Engine::builtin().unwrap();
    let mut big = Vec::new();
    for rule in &engine.rules().rules {
        let Some(regex) = &rule.regex else { continue };
        let bytes = regex.get().expect("compiles").memory_usage();
        if bytes > MAX_REGEX_BYTES {
            big.push(format!("{}: {bytes} bytes", rule.id));
        }
    }
    assert!(
        big.is_empty(),
        "regexes over {MAX_REGEX_BYTES} bytes:\n{}",
        big.join("\n")
    );
}
