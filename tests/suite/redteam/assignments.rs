//! Categories 2, 5, 6 and 10: generic assignments behind prefixes, `$` anchors at the end of a line, Terraform plans and diffs, weak but real passwords.
//!
//! - 2: `KEY=value` behind what tools print in front of a line: `set -x` (`+ export`, `++`),
//!   `docker compose` service prefixes (plain and coloured), timestamps (ISO, GitHub's, syslog),
//!   buildkit steps, Dockerfile `ENV`/`ARG` (both `ENV K=v` and `ENV K v`), `kubectl logs
//!   --prefix`, `> ` quoting, YAML `- K=v` lists, logfmt. The scanner had the same gap.
//! - 5: a value that ends its line: `?api_key=…`, `curl -u user:pass`; and, for every built-in
//!   rule, an example cut right after its secret must match as well before a line feed as at
//!   the end of the input.
//! - 6: Terraform plans (`~ password = "old" -> "new"`, `-/+` replacements) and unified diffs
//!   (`-password=old` / `+password=new`): both values masked, `(sensitive value)` left.
//! - 10: weak but real passwords, passphrases, values with `test`/`1234`, URL credentials to
//!   `localhost`: redaction masks them (scanning may rank them out); references
//!   (`${X}`, `$(…)`, `${{ secrets.X }}`) and explicit placeholders (`<password>`,
//!   `changeme`, `***`, `REDACTED`, `(sensitive value)`) stay, and so do metadata keys.
//!
//! Every value is generated here; none is a real credential.

use super::harness::{self, Case, Category, capital, pick};
use crate::util::Rng;

const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Characters `set -x` prints without quoting the word.
const PLAIN: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/._-";
/// Characters `set -x` quotes a word for.
const SHELL_META: &[u8] = b"!#&*^%";

/// Password-like and secret-like names as tools print them.
const PASSWORD_NAMES: &[&str] = &[
    "DB_PASSWORD",
    "password",
    "MYSQL_ROOT_PASSWORD",
    "REDIS_PASS",
    "smtp_pwd",
    "passphrase",
];
const SECRET_NAMES: &[&str] = &["client_secret", "API_TOKEN", "api_key", "SECRET_KEY"];

fn names() -> impl Iterator<Item = &'static str> {
    PASSWORD_NAMES.iter().chain(SECRET_NAMES).copied()
}

/// A random high-entropy value of `n` bytes: a letter, then characters `set -x` prints
/// unquoted, with at least one digit and one `+` or `/` (so it cannot look like a word).
fn strong(rng: &mut Rng, n: usize) -> String {
    loop {
        let s = format!("{}{}", rng.string(LETTERS, 1), rng.string(PLAIN, n - 1));
        let digit = s.bytes().any(|b| b.is_ascii_digit());
        if digit && s.bytes().any(|b| b == b'+' || b == b'/') {
            return s;
        }
    }
}

/// A strong value that may stand in a URL's user-info unencoded (no `/`, which ends it).
fn url_safe(rng: &mut Rng, n: usize) -> String {
    strong(rng, n).replace('/', "~")
}

/// A strong value with a character that makes `set -x` quote the whole word.
fn strong_meta(rng: &mut Rng, n: usize) -> String {
    let mut s = strong(rng, n - 1);
    let at = 1 + (rng.next_u64() % (s.len() as u64 - 1)) as usize;
    s.insert_str(at, &rng.string(SHELL_META, 1));
    s
}

/// Ordinary words, for weak passwords and passphrases.
const WORDS: &[&str] = &[
    "tulip", "maple", "river", "copper", "falcon", "meadow", "harbor", "violet", "summit", "ember",
    "willow", "orbit", "cactus", "lantern", "pebble", "thunder",
];
const SEASONS: &[&str] = &["Summer", "Winter", "Spring", "Autumn"];

/// A weak but real password of shape `i`: season and year, leetspeak, a word and `1234`, a
/// value with `test`, a word and digits, a passphrase of words (joined by `-`, `.`, `_` or
/// capitals), or digits only.
fn weak(rng: &mut Rng, i: usize) -> String {
    let year = 2020 + rng.next_u64() % 7;
    let nn = 10 + rng.next_u64() % 90;
    let (a, b, c, d) = (
        pick(rng, WORDS),
        pick(rng, WORDS),
        pick(rng, WORDS),
        pick(rng, WORDS),
    );
    match i % 10 {
        0 => format!("{}{year}!", pick(rng, SEASONS)),
        1 => format!("P@ssw0rd{year}{}", ["!", "#", "$"][(nn % 3) as usize]),
        2 => format!("{}1234", capital(a)),
        3 => format!("{a}test{nn}"),
        4 => format!("{a}{nn}{b}"),
        5 => format!("{a}-{b}-{c}-{d}"),
        6 => format!("{}{}{}{}", capital(a), capital(b), capital(c), capital(d)),
        7 => format!("{a}.{b}.{c}"),
        8 => format!("{a}_{b}_{c}{nn}"),
        _ => format!(
            "{}{}",
            1000 + rng.next_u64() % 9000,
            1000 + rng.next_u64() % 9000
        ),
    }
}

/// What tools print in front of a `KEY=value` line: the template (`{K}` the name, `{V}` the
/// value), and what of it must survive.
const PREFIXES: &[(&str, &str)] = &[
    ("+ export {K}={V}", "+ export {K}="),
    ("++ {K}={V}", "++ {K}="),
    ("+ {K}={V}", "+ {K}="),
    ("web-1  | {K}={V}", "web-1  | {K}="),
    (
        "\x1b[36mweb-1  |\x1b[0m {K}={V}",
        "\x1b[36mweb-1  |\x1b[0m {K}=",
    ),
    ("api-1  | {K}: {V}", "api-1  | {K}: "),
    // A whole line in colour (a warning in yellow).
    ("\x1b[33m{K}={V}\x1b[0m", "\x1b[33m{K}="),
    (
        "2026-12-06T10:11:12.3456789Z {K}={V}",
        "2026-12-06T10:11:12.3456789Z {K}=",
    ),
    (
        "2026-12-06T10:11:12.3456789Z   {K}: {V}",
        "2026-12-06T10:11:12.3456789Z   {K}: ",
    ),
    (
        "2026-12-06T10:11:12.345+00:00 {K}={V}",
        "2026-12-06T10:11:12.345+00:00 {K}=",
    ),
    (
        "Dec  6 10:11:12 ci-runner-3 app[4242]: {K}={V}",
        "app[4242]: {K}=",
    ),
    ("#12 0.345 {K}={V}", "#12 0.345 {K}="),
    ("Step 4/9 : ENV {K}={V}", "Step 4/9 : ENV {K}="),
    ("ENV {K}={V}", "ENV {K}="),
    ("ENV {K} {V}", "ENV {K} "),
    ("ARG {K}={V}", "ARG {K}="),
    (
        "[pod/api-7d9fbc-x2x9k/web] {K}={V}",
        "[pod/api-7d9fbc-x2x9k/web] {K}=",
    ),
    (
        "[pod/api-7d9fbc-x2x9k/web] {K}: {V}",
        "[pod/api-7d9fbc-x2x9k/web] {K}: ",
    ),
    ("> {K}={V}", "> {K}="),
    ("- {K}={V}", "- {K}="),
    ("      - {K}={V}", "      - {K}="),
    (
        "level=info msg=\"starting\" {K}={V}",
        "msg=\"starting\" {K}=",
    ),
    // `docker inspect`: the container's environment as a JSON list.
    ("            \"{K}={V}\",", "            \"{K}="),
    (
        "\"Env\":[\"PATH=/usr/bin\",\"{K}={V}\"]",
        "\"Env\":[\"PATH=/usr/bin\",\"{K}=",
    ),
];

fn fill(template: &str, key: &str, value: &str) -> String {
    template.replace("{K}", key).replace("{V}", value)
}

/// A few lines of ordinary output around `line`, so a case is a piece of a log.
fn in_log(line: &str) -> String {
    format!("Step 3/9 : WORKDIR /app\n ---> Running in 4f2a9c1b7e3d\n{line}\nDone in 0.42s\n")
}

#[test]
fn assignments_behind_log_prefixes_are_masked() {
    let mut rng = Rng::new(0x2a55);
    let mut cases = Vec::new();
    for (template, keep) in PREFIXES {
        for name in names() {
            let v = strong(&mut rng, 20);
            let line = fill(template, name, &v);
            let short = template.split(' ').next().unwrap_or("");
            cases.push(
                Case::new(
                    Category::PrefixedAssignment,
                    format!("{short:?}/{name}"),
                    in_log(&line),
                    &[&v],
                )
                .keep(&[&fill(keep, name, ""), "Done in 0.42s"])
                .scanned(),
            );
        }
    }
    // `set -x` quotes a word with shell metacharacters: `+ export 'K=v!'`, `+ K='v!'`.
    for name in names() {
        let v = strong_meta(&mut rng, 20);
        for (line, keep) in [
            (
                format!("+ export '{name}={v}'"),
                format!("+ export '{name}="),
            ),
            (format!("++ {name}='{v}'"), format!("++ {name}='")),
        ] {
            cases.push(
                Case::new(
                    Category::PrefixedAssignment,
                    format!("xtrace-quoted/{name}"),
                    in_log(&line),
                    &[&v],
                )
                .keep(&[&keep])
                .scanned(),
            );
        }
    }
    harness::check(&cases);
}

#[test]
fn crackable_password_hashes_are_masked() {
    // A bcrypt hash (22 bytes of salt, 31 of digest) is not the password, but a weak password
    // comes back from it offline: the crackable-hash rules mask it whole, behind any prefix.
    let hash = Rng::new(0xb0c7).string(
        b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        53,
    );
    let secret = format!("$2b$12${hash}");
    let mut cases = Vec::new();
    for p in [
        "",
        "web-1  | ",
        "2026-12-06T10:11:12.3456789Z ",
        "+ export ",
    ] {
        let line = format!("{p}password_hash: {secret}");
        cases.push(Case::new(
            Category::WeakPassword,
            format!("crackable/{line:?}"),
            in_log(&line),
            &[&secret],
        ));
    }
    harness::check(&cases);
}

#[test]
fn values_at_the_end_of_a_line_are_masked() {
    let mut rng = Rng::new(0x5e01);
    let mut cases = Vec::new();
    let lines: &[(&str, &str)] = &[
        (
            "GET https://api.example.net/v1/items?api_key={V}",
            "GET https://api.example.net/v1/items?api_key=",
        ),
        (
            "+ curl -sS https://hooks.example.net/deploy?token={V}",
            "+ curl -sS https://hooks.example.net/deploy?token=",
        ),
        (
            "Fetching https://cdn.example.net/feed.xml?limit=5&access_token={V}",
            "?limit=5&access_token=",
        ),
        (
            "redirect: /callback?state=af01&client_secret={V}",
            "redirect: /callback?state=af01&client_secret=",
        ),
        (
            "+ curl -sS -X POST https://ci.example.net/job/build -u deploy:{V}",
            "-u deploy:",
        ),
        ("curl --user admin:{V}", "curl --user admin:"),
        ("+ curl -fsSL -u 'ci-bot:{V}'", "-u 'ci-bot:"),
    ];
    for (template, keep) in lines {
        for end in ["\n", "\r\n"] {
            let v = strong(&mut rng, 24);
            let input = format!("{}{end}HTTP/1.1 200 OK{end}", fill(template, "", &v));
            cases.push(
                Case::new(
                    Category::EndOfLine,
                    format!("{template:?}{end:?}"),
                    input,
                    &[&v],
                )
                .keep(&[keep, "HTTP/1.1 200 OK"])
                .scanned(),
            );
        }
    }
    harness::check(&cases);
}

/// The example cut right after its secret (and its closing quote): the text a rule matches
/// at the end of a line.
fn cut_after_secret(text: &str, secret: &str) -> Option<String> {
    let at = text.find(secret)? + secret.len();
    let close = text[at..]
        .chars()
        .next()
        .filter(|c| matches!(c, '"' | '\'' | '`'));
    Some(format!(
        "{}{}",
        &text[..at],
        close.map(String::from).unwrap_or_default()
    ))
}

/// Whether a 12-byte piece of `secret` occurs in `text` outside it (then the harness cannot
/// tell a leak from the context: `access_token=\"access_token$…\"`, two base64 PEM blocks).
fn repeats_a_piece(text: &str, secret: &str) -> bool {
    let rest = text.replacen(secret, "\0", 1);
    secret.len() > 12
        && (0..=secret.len() - 12).any(|i| {
            secret.is_char_boundary(i)
                && secret.is_char_boundary(i + 12)
                && rest.contains(&secret[i..i + 12])
        })
}

/// Whether `rule`'s scan of `text` reports `secret`.
fn reports(rule: usize, text: &str, secret: &str) -> bool {
    let (engine, _) = harness::engine();
    let mut st = engine.new_state();
    let found = engine.scan_bytes(&mut st, text.as_bytes(), &Default::default());
    found
        .iter()
        .any(|m| m.rule == rule && m.secret == secret.as_bytes())
}

#[test]
fn every_rule_matches_before_a_line_feed_as_at_the_end() {
    let (engine, _) = harness::engine();
    let mut cases = Vec::new();
    for (r, rule) in engine.rules().rules.iter().enumerate() {
        for ex in rule.examples() {
            let (Some(secret), None) = (ex.secret(), ex.path()) else {
                continue;
            };
            let Some(cut) = cut_after_secret(ex.text(), secret) else {
                continue;
            };
            if secret.contains('\n') || repeats_a_piece(&cut, secret) || !reports(r, &cut, secret) {
                continue;
            }
            cases.push(
                Case::new(
                    Category::EndOfLine,
                    format!("{}: {cut:?}", rule.id),
                    format!("{cut}\nnext line\n"),
                    &[secret],
                )
                .keep(&["\nnext line\n"])
                .scanned(),
            );
        }
    }
    assert!(cases.len() > 300, "only {} examples", cases.len());
    harness::check(&cases);
}

/// Names Terraform resources give credentials.
const TF_NAMES: &[&str] = &[
    "password",
    "master_password",
    "admin_password",
    "api_key",
    "client_secret",
    "token",
];

/// A Terraform plan that changes `name` from `old` to `new`, around a sensitive attribute
/// that must stay as printed.
fn terraform_plan(name: &str, old: &str, new: &str, replace: bool) -> String {
    let (head, tail) = if replace {
        (
            "  # aws_db_instance.main must be replaced\n-/+ resource \"aws_db_instance\" \"main\" {",
            " # forces replacement",
        )
    } else {
        (
            "  # aws_db_instance.main will be updated in-place\n  ~ resource \"aws_db_instance\" \"main\" {",
            "",
        )
    };
    format!(
        "{head}\n        id                   = \"main-db\"\n      ~ {name} = \"{old}\" -> \"{new}\"{tail}\n      \
         ~ master_user_secret  = (sensitive value)\n      + kms_key_id          = (known after apply)\n        \
         # (12 unchanged attributes hidden)\n    }}\n\nPlan: 0 to add, 1 to change, 0 to destroy.\n"
    )
}

#[test]
fn terraform_plans_mask_the_old_and_the_new_value() {
    let mut rng = Rng::new(0x7f6);
    let mut cases = Vec::new();
    for name in TF_NAMES {
        for replace in [false, true] {
            let (old, new) = (strong(&mut rng, 18), strong(&mut rng, 18));
            cases.push(
                Case::new(
                    Category::TerraformDiff,
                    format!("plan/{name}/replace={replace}"),
                    terraform_plan(name, &old, &new, replace),
                    &[&old, &new],
                )
                .keep(&[
                    "master_user_secret  = (sensitive value)",
                    "(known after apply)",
                    "\" -> \"",
                ])
                .scanned(),
            );
        }
        let (old, new) = (strong(&mut rng, 18), strong(&mut rng, 18));
        let coloured =
            format!("      \x1b[33m~\x1b[0m {name} = \"{old}\" \x1b[33m->\x1b[0m \"{new}\"\n");
        cases.push(
            Case::new(
                Category::TerraformDiff,
                format!("plan-ansi/{name}"),
                coloured,
                &[&old, &new],
            )
            .scanned(),
        );
        let (old, new) = (strong(&mut rng, 18), strong(&mut rng, 18));
        let aligned = format!(
            "      ~ {name:<28} = \"{old}\" -> \"{new}\"\n      ~ environment {{\n          ~ variables = {{\n              \
             ~ \"DB_{up}\" = \"{new}x\" -> \"{old}y\"\n            }}\n        }}\n",
            up = name.to_ascii_uppercase()
        );
        let (old_x, new_y) = (format!("{new}x"), format!("{old}y"));
        cases.push(
            Case::new(
                Category::TerraformDiff,
                format!("plan-aligned-and-map/{name}"),
                aligned,
                &[&old, &new, &old_x, &new_y],
            )
            .scanned(),
        );
        let created = format!("      + {name} = \"{new}\"\n      - {name} = \"{old}\" -> null\n");
        cases.push(
            Case::new(
                Category::TerraformDiff,
                format!("plan-create-destroy/{name}"),
                created,
                &[&old, &new],
            )
            .scanned(),
        );
    }
    let sensitive = "      ~ password = (sensitive value)\n      + master_password = (sensitive value)\n      \
                     ~ token = (sensitive value) -> (known after apply)\n";
    cases.push(
        Case::new(Category::TerraformDiff, "plan/sensitive", sensitive, &[])
            .keep(&[sensitive])
            .scanned(),
    );
    harness::check(&cases);
}

/// Diff lines removing `old` and adding `new` for `name`, in the file formats that hold them.
fn diff_pairs(name: &str, old: &str, new: &str) -> Vec<(String, String, String)> {
    vec![
        (
            "env".into(),
            format!("-{name}={old}"),
            format!("+{name}={new}"),
        ),
        (
            "yaml".into(),
            format!("-  {name}: {old}"),
            format!("+  {name}: {new}"),
        ),
        (
            "properties".into(),
            format!("-spring.datasource.{name}={old}"),
            format!("+spring.datasource.{name}={new}"),
        ),
        (
            "json".into(),
            format!("-  \"{name}\": \"{old}\","),
            format!("+  \"{name}\": \"{new}\","),
        ),
        (
            "shell".into(),
            format!("-export {name}={old}"),
            format!("+export {name}={new}"),
        ),
    ]
}

#[test]
fn diffs_mask_the_removed_and_the_added_value() {
    let mut rng = Rng::new(0xd1ff);
    let mut cases = Vec::new();
    for name in names() {
        let (old, new) = (strong(&mut rng, 18), strong(&mut rng, 18));
        for (format, minus, plus) in diff_pairs(name, &old, &new) {
            let input = format!(
                "diff --git a/config.{format} b/config.{format}\n--- a/config.{format}\n+++ b/config.{format}\n\
                 @@ -1,3 +1,3 @@\n APP_ENV=production\n{minus}\n{plus}\n LOG_LEVEL=info\n"
            );
            let plus_key = &plus[..plus.find(&new).unwrap_or(0)];
            cases.push(
                Case::new(
                    Category::TerraformDiff,
                    format!("diff-{format}/{name}"),
                    input,
                    &[&old, &new],
                )
                .keep(&[
                    "@@ -1,3 +1,3 @@\n APP_ENV=production\n",
                    plus_key,
                    "\n LOG_LEVEL=info\n",
                ])
                .scanned(),
            );
        }
    }
    harness::check(&cases);
}

/// How config files and logs assign a value: unquoted, YAML, quoted, JSON.
const FORMS: &[(&str, &str)] = &[
    ("{K}={V}", "{K}="),
    ("  {K}: {V}", "  {K}: "),
    ("{K}=\"{V}\"", "{K}=\""),
    ("  \"{K}\": \"{V}\",", "  \"{K}\": \""),
    ("web-1  | {K}={V}", "web-1  | {K}="),
];

#[test]
fn weak_passwords_in_assignments_are_masked() {
    let mut rng = Rng::new(0x3ea6);
    let mut cases = Vec::new();
    let mut i = 0;
    for (template, keep) in FORMS {
        for name in names() {
            for _ in 0..2 {
                // A number is a PIN under a password name; under a token or secret name it is
                // far more often an id, a count or a timestamp, and stays (see README).
                let shape = if SECRET_NAMES.contains(&name) {
                    i % 9
                } else {
                    i
                };
                let v = weak(&mut rng, shape);
                i += 1;
                let line = fill(template, name, &v);
                cases.push(
                    Case::new(
                        Category::WeakPassword,
                        format!("{template:?}/{name}/{v}"),
                        in_log(&line),
                        &[&v],
                    )
                    .keep(&[&fill(keep, name, ""), "Done in 0.42s"]),
                );
            }
        }
    }
    harness::check(&cases);
}

#[test]
fn url_credentials_to_localhost_are_masked() {
    let mut rng = Rng::new(0x10ca1);
    let mut cases = Vec::new();
    let urls = [
        ("postgres://app:{V}@localhost:5432/app", "postgres://app:"),
        (
            "DATABASE_URL=mysql://root:{V}@127.0.0.1:3306/test_db",
            "DATABASE_URL=mysql://root:",
        ),
        ("redis://:{V}@localhost:6379/0", "redis://:"),
        ("amqp://ci:{V}@0.0.0.0:5672/", "amqp://ci:"),
        (
            "  url: postgresql://deploy:{V}@localhost/deploy",
            "  url: postgresql://deploy:",
        ),
    ];
    for (n, (template, keep)) in urls.iter().enumerate() {
        for v in [weak(&mut rng, n), url_safe(&mut rng, 16)] {
            let host_keep = if template.contains("127.0.0.1") {
                "@127.0.0.1"
            } else {
                "@"
            };
            cases.push(
                Case::new(
                    Category::WeakPassword,
                    format!("{template:?}/{v}"),
                    in_log(&fill(template, "", &v)),
                    &[&v],
                )
                .keep(&[keep, host_keep]),
            );
        }
    }
    harness::check(&cases);
}

/// Values that say where a secret is, or that there is none here: never masked.
const REFERENCES: &[&str] = &[
    "${DB_PASSWORD}",
    "$DB_PASSWORD",
    "$(cat /run/secrets/db_password)",
    "${{ secrets.DB_PASSWORD }}",
    "{{ .Values.db.password }}",
    "<password>",
    "changeme",
    "***",
    "********",
    "REDACTED",
    "[REDACTED]",
    "(sensitive value)",
];

/// Keys that hold metadata about a credential, with values a relaxed rule could take for one.
const METADATA: &[&str] = &[
    "password_file=/run/secrets/db_password",
    "PASSWORD_MIN_LENGTH=12",
    "  token_type: Bearer",
    "  expires_in: 3600",
    "max_tokens: 4096",
    "  secretName: production-database-credentials",
    "token_url=https://login.example.org/oauth2/token",
    "next_page_token=CiAKGjBpNDd2Nmp2Zml2cXRwYjBp",
];

#[test]
fn references_placeholders_and_metadata_stay() {
    let mut cases = Vec::new();
    for (template, _) in FORMS.iter().chain(PREFIXES) {
        for name in ["DB_PASSWORD", "password", "client_secret", "API_TOKEN"] {
            for r in REFERENCES {
                let line = fill(template, name, r);
                cases.push(
                    Case::new(
                        Category::WeakPassword,
                        format!("reference/{line:?}"),
                        in_log(&line),
                        &[],
                    )
                    .keep(&[&line]),
                );
            }
        }
    }
    for m in METADATA {
        for p in [
            "",
            "web-1  | ",
            "2026-12-06T10:11:12.3456789Z ",
            "+ export ",
        ] {
            let line = format!("{p}{m}");
            cases.push(
                Case::new(
                    Category::WeakPassword,
                    format!("metadata/{line:?}"),
                    in_log(&line),
                    &[],
                )
                .keep(&[&line]),
            );
        }
    }
    harness::check(&cases);
}
