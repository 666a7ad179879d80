//! Category 1: a word character right before a token (ANSI colour sequences, JSON and Python-repr escapes).
//!
//! The tokens come from the rules themselves: every example secret of a built-in rule whose
//! secret begins with one of the rule's keywords (its own prefix, `ghp_`, `AKIA`, `xoxb-` …)
//! and that the rule reports at the start of a line. A rule added later is covered without
//! touching this file. Each token is planted in the contexts real tools print right before a
//! value: colour sequences (`\x1b[32m`, `grep --color`, coloured `docker compose` prefixes),
//! escapes inside JSON strings and Python reprs, Windows paths. Every case is `.scanned()`:
//! `shush scan` and the redactor share the gap and the fix.

use super::harness::{self, Case, Category};
use shush::engine::InputMeta;

/// One example secret of one rule.
#[derive(Debug, Clone, Copy)]
struct Token {
    /// The rule's id.
    rule: &'static str,
    /// The rule's index in the engine.
    index: usize,
    /// The example secret.
    secret: &'static str,
}

/// Whether the engine's rule `index` reports a secret starting at byte `at` of `text`.
fn reports_at(index: usize, text: &[u8], at: u64) -> bool {
    let (engine, _) = harness::engine();
    let mut st = engine.new_state();
    let found = shush::scan::input::scan_bytes(engine, &mut st, text, InputMeta::default());
    found
        .iter()
        .any(|f| f.rule == index && f.secret_span.start == at)
}

/// Every example secret that starts with its rule's keyword (three bytes or more), split into
/// those the rule reports at the start of a line and those it does not (a rule that wants a
/// delimiter before its token, such as `=` or a quote).
fn prefixed_tokens() -> (Vec<Token>, Vec<Token>) {
    let (engine, _) = harness::engine();
    let (mut tokens, mut delimited) = (Vec::new(), Vec::new());
    for (index, rule) in engine.rules().rules.iter().enumerate() {
        if rule.regex.is_none()
            || rule.path.is_some()
            || rule.skip_report
            || rule.generic
            || rule.multiline
        {
            continue;
        }
        for ex in rule.examples() {
            let (Some(secret), None) = (ex.secret(), ex.path()) else {
                continue;
            };
            let lower = secret.to_ascii_lowercase();
            let prefixed = secret
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric())
                && rule
                    .keywords
                    .iter()
                    .any(|k| k.len() >= 3 && lower.starts_with(k.as_str()));
            if !prefixed {
                continue;
            }
            let token = Token {
                rule: &rule.id,
                index,
                secret,
            };
            if reports_at(index, format!("{secret}\n").as_bytes(), 0) {
                tokens.push(token);
            } else {
                delimited.push(token);
            }
        }
    }
    (tokens, delimited)
}

/// A context a tool prints around a value: `{}` stands for the token.
struct Context {
    /// Short name for the report.
    name: &'static str,
    /// The line(s), with `{}` where the token goes.
    template: &'static str,
    /// Parts of the template that must survive redaction.
    keep: &'static [&'static str],
}

/// Every token of the rules planted in each context: one case per (rule example, context).
fn cases(contexts: &[Context]) -> Vec<Case> {
    let (tokens, _) = prefixed_tokens();
    assert!(tokens.len() > 100, "only {} prefixed tokens", tokens.len());
    let mut out = Vec::new();
    for t in &tokens {
        for c in contexts {
            let input = c.template.replacen("{}", t.secret, 1);
            out.push(
                Case::new(
                    Category::WordBefore,
                    format!("{}/{}", c.name, t.rule),
                    input,
                    &[t.secret],
                )
                .keep(c.keep)
                .scanned(),
            );
        }
    }
    out
}

#[test]
fn tokens_after_an_ansi_colour_sequence() {
    harness::check(&cases(&[
        Context {
            name: "ansi-green",
            template: "deploy token \x1b[32m{}\x1b[0m\n",
            keep: &["deploy token \x1b[32m", "\x1b[0m\n"],
        },
        Context {
            name: "ansi-bold-red",
            template: "\x1b[1;31merror\x1b[0m: rejected \x1b[1;31m{}\x1b[0m (expired)\n",
            keep: &[
                "\x1b[1;31merror\x1b[0m: rejected \x1b[1;31m",
                "\x1b[0m (expired)\n",
            ],
        },
        Context {
            name: "ansi-256-line-start",
            template: "\x1b[38;5;208m{}\x1b[39m\n",
            keep: &["\x1b[38;5;208m", "\x1b[39m\n"],
        },
    ]));
}

#[test]
fn tokens_in_grep_color_output() {
    // `grep --color=always -rnE 'token pattern' ci/`: file name, line number and match
    // coloured, each colour followed by `\x1b[K` (erase to end of line).
    harness::check(&cases(&[Context {
        name: "grep-color",
        template: "\x1b[35m\x1b[Kci/deploy.env\x1b[m\x1b[K\x1b[36m\x1b[K:\x1b[m\x1b[K\
                   \x1b[32m\x1b[K3\x1b[m\x1b[K\x1b[36m\x1b[K:\x1b[m\x1b[K\
                   \x1b[01;31m\x1b[K{}\x1b[m\x1b[K\n",
        keep: &["ci/deploy.env", "\x1b[01;31m\x1b[K", "\x1b[m\x1b[K\n"],
    }]));
}

#[test]
fn tokens_after_a_coloured_compose_prefix() {
    harness::check(&cases(&[
        Context {
            name: "compose-prefix",
            template: "\x1b[36mapi-1  |\x1b[0m {}\n",
            keep: &["\x1b[36mapi-1  |\x1b[0m "],
        },
        Context {
            name: "compose-prefix-coloured-value",
            template: "\x1b[36mapi-1  |\x1b[0m token: \x1b[33m{}\x1b[39m\n",
            keep: &["\x1b[36mapi-1  |\x1b[0m token: \x1b[33m", "\x1b[39m\n"],
        },
    ]));
}

#[test]
fn tokens_after_a_json_escape() {
    harness::check(&cases(&[
        Context {
            name: "json-newline",
            template: "{\"level\":\"info\",\"msg\":\"line one\\n{}\"}\n",
            keep: &["{\"level\":\"info\",\"msg\":\"line one\\n", "\"}\n"],
        },
        Context {
            name: "json-tab",
            template: "{\"msg\":\"token:\\t{}\\r\\n\"}\n",
            keep: &["{\"msg\":\"token:\\t", "\\r\\n\"}\n"],
        },
        Context {
            name: "json-quote",
            template: "{\"msg\":\"token \\\"{}\\\" rejected\"}\n",
            keep: &["{\"msg\":\"token \\\"", "\\\" rejected\"}\n"],
        },
        Context {
            // Docker's json-file log driver: the colour escape written as `\u001b`.
            name: "json-unicode-ansi",
            template: "{\"log\":\"\\u001b[32m{}\\u001b[0m\\n\",\"stream\":\"stdout\"}\n",
            keep: &[
                "{\"log\":\"\\u001b[32m",
                "\\u001b[0m\\n\",\"stream\":\"stdout\"}\n",
            ],
        },
        Context {
            // Go's encoding/json escapes `<` and `>` as `\u003c` and `\u003e`.
            name: "json-go-html-escape",
            template: "{\"msg\":\"token \\u003c{}\\u003e\"}\n",
            keep: &["{\"msg\":\"token \\u003c", "\\u003e\"}\n"],
        },
        Context {
            // A JSON string inside a JSON string: the escape's backslash is escaped too.
            name: "json-double-escaped",
            template: "{\"body\":\"{\\\"msg\\\":\\\"a\\\\n{}\\\"}\"}\n",
            keep: &["{\"body\":\"{\\\"msg\\\":\\\"a\\\\n", "\\\"}\"}\n"],
        },
    ]));
}

#[test]
fn tokens_after_a_python_repr_escape() {
    harness::check(&cases(&[
        Context {
            name: "python-repr",
            template: "['token:\\n{}', 'done']\n",
            keep: &["['token:\\n", "', 'done']\n"],
        },
        Context {
            name: "python-repr-bytes",
            template: "b'HTTP/1.1 200 OK\\r\\n\\r\\n{}'\n",
            keep: &["b'HTTP/1.1 200 OK\\r\\n\\r\\n", "'\n"],
        },
        Context {
            // A coloured string's repr: the escape byte written as `\x1b`.
            name: "python-repr-ansi",
            template: "'\\x1b[32m{}\\x1b[0m'\n",
            keep: &["'\\x1b[32m", "\\x1b[0m'\n"],
        },
        Context {
            // `cat -v` writes the escape byte as `^[`.
            name: "cat-v-ansi",
            template: "^[[1m{}^[[0m\n",
            keep: &["^[[1m", "^[[0m\n"],
        },
    ]));
}

#[test]
fn tokens_after_a_windows_path_separator() {
    // A backslash is a separator: a token used as a file or directory name is a token.
    harness::check(&cases(&[
        Context {
            name: "windows-path",
            template: "Writing C:\\tmp\\{}\\creds.json\n",
            keep: &["Writing C:\\tmp\\", "\\creds.json\n"],
        },
        Context {
            name: "windows-path-json",
            template: "{\"path\":\"C:\\\\tmp\\\\{}\"}\n",
            keep: &["{\"path\":\"C:\\\\tmp\\\\", "\"}\n"],
        },
    ]));
}

/// The rules whose examples start with their keyword but that report them only after some
/// context, not at the start of a line: Square's `EAAA` also starts ordinary base64 lines,
/// so the rule wants an assignment or a quote before it; a Cloudflare tunnel token is a
/// base64 JSON blob recognised only after `tunnel_token` or `cloudflared … --token`; a
/// PostgreSQL `md5…` role hash is told from any md5-prefixed hex only by `PASSWORD '` before
/// it. Listed so that a new rule joins the families above unless someone decides otherwise
/// here.
const DELIMITED: &[&str] = &[
    "cloudflare-tunnel-token",
    "postgres-md5-hash",
    "square-access-token",
];

#[test]
fn only_the_listed_rules_want_a_delimiter_before_their_token() {
    let (tokens, delimited) = prefixed_tokens();
    let mut ids: Vec<&str> = delimited.iter().map(|t| t.rule).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids, DELIMITED, "rules not reported at the start of a line");
    for id in DELIMITED {
        assert!(
            !tokens.iter().any(|t| t.rule == *id),
            "{id}: some examples start a line, some do not"
        );
    }
}

#[test]
fn a_prefix_glued_to_a_word_is_still_not_a_token() {
    // What the leading `\b` protects against: the prefix inside a longer identifier or a
    // base64 / hex run. Escapes end in a letter or digit too; these glues are no escapes (an
    // ANSI sequence needs its escape byte). `_` is left out: some rules' own guards admit it
    // (`aws-sts-session-token` follows `[^A-Za-z0-9+/%]`).
    let (tokens, _) = prefixed_tokens();
    let mut wrong = Vec::new();
    for t in &tokens {
        for glue in ["x", "Q", "7", "[32m", "\\q"] {
            let text = format!("value {glue}{}\n", t.secret);
            let at = ("value ".len() + glue.len()) as u64;
            if reports_at(t.index, text.as_bytes(), at) {
                wrong.push(format!("{}: {text:?}", t.rule));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} glued prefix(es) reported:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
