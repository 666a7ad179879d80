//! Categories 4, 9 and 11: `::add-mask::` escaping, known-secret encodings, CR-only lines, UTF-16LE, half a token at the end, multi-line masks.
//!
//! Every value is generated: random base62 around the characters that encodings change
//! (`%`, `&`, `<`, quotes, `\`, non-ASCII, white space, `/`, `+`) and PEM-like multi-line
//! values. Each value is planted in the forms a tool prints it in, written here from the
//! formats' definitions (XML, SQL, Go's JSON, POSIX shell, Python's `repr` and `quote`,
//! JavaScript's `encodeURIComponent`, `base64` wrapped at 76 columns), and `Case.secrets` is
//! the encoded text as it appears in the log. Known values are only known to the redactor
//! (`--secret-env`, `--secrets-file`, `::add-mask::`), so no case is `.scanned()`.

use super::harness::{self, Case, Category};
use crate::util::{BASE62, Dir, Rng};
use shush::redact::{KnownRegistry, KnownValue, MaskStyle, Masker, RedactOptions, Redactor};
use std::sync::Arc;

/// A GitHub Actions log timestamp, as the runner prefixes every line.
const TS: &str = "2026-03-14T10:22:31.4816305Z";

fn rand(rng: &mut Rng, n: usize) -> String {
    rng.string(BASE62, n)
}

/// Single-line values, each around characters that some encoding changes.
fn values(seed: u64) -> Vec<(&'static str, String)> {
    let mut r = Rng::new(seed);
    let mut v = Vec::new();
    let mut add = |name, f: &dyn Fn(&str, &str, &str) -> String, r: &mut Rng| {
        let (a, b, c) = (rand(r, 8), rand(r, 8), rand(r, 6));
        v.push((name, f(&a, &b, &c)));
    };
    add("percent", &|a, b, c| format!("{a}%{b}%41{c}"), &mut r);
    add("ampersand", &|a, b, c| format!("{a}&{b}<{c}>"), &mut r);
    add("quotes", &|a, b, c| format!("{a}'{b}\"{c}"), &mut r);
    add("apostrophe", &|a, b, _| format!("{a}'{b}"), &mut r);
    add("backslash", &|a, b, c| format!("{a}\\{b}\\n{c}"), &mut r);
    add("unicode", &|a, b, _| format!("{a}é€{b}"), &mut r);
    add("space-punct", &|a, b, c| format!("{a} {b}!*(){c}"), &mut r);
    add("slash-plus", &|a, b, c| format!("{a}/{b}+{c}="), &mut r);
    add(
        "semicolon-bracket",
        &|a, b, c| format!("{a};{b}]{c}"),
        &mut r,
    );
    v
}

/// A PEM-like multi-line value (not a private key: no rule may find it on its own), lines
/// joined by `eol`.
fn pem(seed: u64, eol: &str) -> (String, Vec<String>) {
    let mut r = Rng::new(seed ^ 0x9e3);
    let b64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut body: Vec<String> = (0..5).map(|_| r.string(b64, 64)).collect();
    body.push(format!("{}==", r.string(b64, 22)));
    let mut lines = vec!["-----BEGIN SIGNING DATA-----".to_string()];
    lines.extend(body.iter().cloned());
    lines.push("-----END SIGNING DATA-----".into());
    (lines.join(eol), body)
}

// ------------------------------------------------------------------ encoders (from the specs)

/// `core.setSecret` / `::add-mask::` escaping: `%` first, then CR and LF.
fn gha_escape(v: &str) -> String {
    v.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// The legacy `##[add-mask]` escaping: also `;` and `]`.
fn gha_escape_legacy(v: &str) -> String {
    gha_escape(v).replace(';', "%3B").replace(']', "%5D")
}

/// XML character data and attributes: the five predefined entities.
fn xml(v: &str) -> String {
    v.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// Python's `html.escape` (`&#x27;` for the apostrophe).
fn html_py(v: &str) -> String {
    xml(v).replace("&apos;", "&#x27;")
}

/// Go's `html.EscapeString` / `html/template` (`&#39;`, `&#34;`).
fn html_go(v: &str) -> String {
    xml(v).replace("&apos;", "&#39;").replace("&quot;", "&#34;")
}

/// An SQL string literal's body: `'` doubled.
fn sql(v: &str) -> String {
    v.replace('\'', "''")
}

/// Go's `encoding/json` string body: `\"`, `\\`, control characters, and `&`, `<`, `>` as
/// `\u0026`, `\u003c`, `\u003e` (HTML-safe by default).
fn go_json(v: &str) -> String {
    let mut out = String::new();
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '&' | '<' | '>' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// The body of a POSIX shell single-quoted word: `'` written as `'\''`.
fn sh_single(v: &str) -> String {
    v.replace('\'', "'\\''")
}

/// The body of a shell double-quoted word: `\`, `"`, `$` and backquote escaped.
fn sh_double(v: &str) -> String {
    let mut out = String::new();
    for c in v.chars() {
        if matches!(c, '\\' | '"' | '$' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The body of Python 3's `repr(str)`: `'` quoted unless the value has `'` and no `"`;
/// `\\`, the chosen quote, `\n`, `\r`, `\t` and other control characters escaped; printable
/// non-ASCII kept.
fn py_repr(v: &str) -> String {
    let quote = if v.contains('\'') && !v.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::new();
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c)
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// The body of Python 3's `repr(bytes)`: as for `str`, but every non-ASCII byte as `\xNN`.
fn py_bytes_repr(v: &str) -> String {
    let quote = if v.contains('\'') && !v.contains('"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = String::new();
    for &b in v.as_bytes() {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b if b == quote => {
                out.push('\\');
                out.push(b as char)
            }
            0x20..=0x7e => out.push(b as char),
            b => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

/// Percent-encoding of UTF-8 bytes, keeping ASCII letters, digits and `keep`.
fn pct(v: &str, keep: &str) -> String {
    let mut out = String::new();
    for &b in v.as_bytes() {
        if b.is_ascii_alphanumeric() || keep.as_bytes().contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Python's `urllib.parse.quote` (default `safe='/'`).
fn py_quote(v: &str) -> String {
    pct(v, "_.-~/")
}

/// JavaScript's `encodeURIComponent`.
fn encode_uri_component(v: &str) -> String {
    pct(v, "-_.!~*'()")
}

/// What `base64` (coreutils) prints by default: lines of 76 characters.
fn base64_wrapped(v: &[u8]) -> Vec<String> {
    let enc = crate::util::base64(v);
    enc.as_bytes()
        .chunks(76)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect()
}

/// UTF-16LE bytes (what Windows PowerShell 5 writes to a redirected stream).
fn utf16le(v: &str) -> Vec<u8> {
    v.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

// ------------------------------------------------------------------ cases

/// A case planting the known value `known` (given with `--secret-env`) as `encoded` in `line`
/// (`{}` marks the spot), the encoded text being the secret.
fn known_case(name: String, known: &[u8], line: &str, encoded: &str, keep: &[&str]) -> Case {
    let text = line.replace("{}", encoded);
    let input = format!("{TS} ##[group]Run ./deploy.sh\n{TS} {text}\n{TS} ##[endgroup]\n");
    Case::new(Category::KnownEncoding, name, input, &[encoded])
        .keep(keep)
        .keep(&["Run ./deploy.sh"])
        .known(&[known])
}

/// Cases for every single-line value whose encoding by `enc` differs from the value.
fn encoded_cases(what: &str, line: &str, keep: &[&str], enc: fn(&str) -> String) -> Vec<Case> {
    let mut cases = Vec::new();
    for seed in 0..3u64 {
        for (name, v) in values(0x4b4e_0000 + seed) {
            let e = enc(&v);
            if e == v {
                continue;
            }
            let n = format!("{what}/{name}/{seed}");
            cases.push(known_case(n, v.as_bytes(), line, &e, keep));
        }
    }
    cases
}

#[test]
fn add_mask_values_with_escapes_are_masked_when_printed() {
    let mut cases = Vec::new();
    for seed in 0..3u64 {
        for (name, v) in values(0x4144_0000 + seed) {
            let (esc, legacy) = (gha_escape(&v), gha_escape_legacy(&v));
            for (form, cmd, escaped) in [
                ("v2", "::add-mask::", &esc),
                ("v2-indented-upper", "  ::ADD-MASK::", &esc),
                ("legacy", "##[add-mask]", &legacy),
                ("legacy-mid-line", "echo ##[add-mask]", &legacy),
            ] {
                let input = format!(
                    "{TS} Run ./mint-token.sh\n{cmd}{escaped}\n{TS} using credential {v} for upload\n\
                     {TS} curl -H 'X-Token: {v}' https://artifacts.example.test/upload\n"
                );
                cases.push(
                    Case::new(
                        Category::AddMask,
                        format!("{form}/{name}/{seed}"),
                        input,
                        &[&v, escaped.as_str()],
                    )
                    .keep(&[
                        "using credential",
                        "for upload",
                        "Run ./mint-token.sh",
                    ]),
                );
            }
        }
    }
    harness::check(&cases);
}

#[test]
fn add_mask_multi_line_values_are_masked_line_by_line() {
    let mut cases = Vec::new();
    for seed in 0..4u64 {
        for (eol_name, eol) in [("lf", "\n"), ("crlf", "\r\n")] {
            let (value, body) = pem(seed, eol);
            for (form, cmd) in [
                ("v2", format!("::add-mask::{}", gha_escape(&value))),
                (
                    "legacy",
                    format!("##[add-mask]{}", gha_escape_legacy(&value)),
                ),
            ] {
                // The value printed as a file's content, each line behind the timestamp.
                let mut input = format!("{TS} Run cat signing.pem\n{cmd}\n");
                for l in value.split(eol) {
                    input.push_str(&format!("{TS} {l}\n"));
                }
                input.push_str(&format!("{TS} done\n"));
                let secrets: Vec<&str> = body.iter().map(String::as_str).collect();
                cases.push(
                    Case::new(
                        Category::AddMask,
                        format!("{form}/pem-{eol_name}/{seed}"),
                        input,
                        &secrets,
                    )
                    .keep(&["Run cat signing.pem", "done"]),
                );
            }
        }
    }
    harness::check(&cases);
}

#[test]
fn add_mask_values_are_masked_in_their_encodings() {
    let mut cases = Vec::new();
    for seed in 0..3u64 {
        for (name, v) in values(0x4145_0000 + seed) {
            let forms: [(&str, String); 4] = [
                ("xml", xml(&v)),
                ("go-json", go_json(&v)),
                ("sh-single", sh_single(&v)),
                ("py-repr", py_repr(&v)),
            ];
            for (enc, e) in forms {
                if e == v {
                    continue;
                }
                let input = format!(
                    "::add-mask::{}\n{TS} request body: <auth value=\"{e}\"/>\n",
                    gha_escape(&v)
                );
                cases.push(
                    Case::new(
                        Category::AddMask,
                        format!("encoded-{enc}/{name}/{seed}"),
                        input,
                        &[&e],
                    )
                    .keep(&["request body: <auth value="]),
                );
            }
        }
    }
    harness::check(&cases);
}

#[test]
fn known_values_xml_and_html_escaped() {
    let keep = &["<password>", "</password>"];
    let mut cases = encoded_cases("xml", "<password>{}</password>", keep, xml);
    cases.extend(encoded_cases(
        "html-py",
        "<password>{}</password>",
        keep,
        html_py,
    ));
    cases.extend(encoded_cases(
        "html-go",
        "<password>{}</password>",
        keep,
        html_go,
    ));
    harness::check(&cases);
}

#[test]
fn known_values_in_sql_literals() {
    let line = "psql: INSERT INTO users (name, pw) VALUES ('admin', '{}');";
    let cases = encoded_cases(
        "sql",
        line,
        &["INSERT INTO users", "VALUES ('admin', '"],
        sql,
    );
    harness::check(&cases);
}

#[test]
fn known_values_in_go_json() {
    let line = "level=debug msg=\"config\" json={\"token\":\"{}\",\"region\":\"eu-west-1\"}";
    let cases = encoded_cases("go-json", line, &["\"region\":\"eu-west-1\""], go_json);
    harness::check(&cases);
}

#[test]
fn known_values_in_shell_quoting() {
    let line = "+ curl -sS -u 'deploy:{}' https://registry.example.test/v2/";
    let mut cases = encoded_cases("sh-single", line, &["+ curl -sS -u 'deploy:"], sh_single);
    let line = "+ export DEPLOY_PASSWORD=\"{}\"";
    cases.extend(encoded_cases(
        "sh-double",
        line,
        &["+ export DEPLOY_PASSWORD"],
        sh_double,
    ));
    harness::check(&cases);
}

#[test]
fn known_values_in_python_reprs() {
    let line = "DEBUG:app.settings:loaded {'user': 'deploy', 'password': '{}'}";
    let mut cases = encoded_cases("py-repr", line, &["'user': 'deploy'"], py_repr);
    let line = "DEBUG:urllib3:send: b'{}'";
    cases.extend(encoded_cases(
        "py-bytes-repr",
        line,
        &["DEBUG:urllib3:send: b'"],
        py_bytes_repr,
    ));
    harness::check(&cases);
}

#[test]
fn known_values_url_quoted() {
    let line = "GET https://api.example.test/v1/login?user=deploy&pw={}&next=%2F HTTP/1.1";
    let keep = &["user=deploy&pw=", "&next=%2F HTTP/1.1"];
    let mut cases = encoded_cases("py-quote", line, keep, py_quote);
    cases.extend(encoded_cases(
        "encodeURIComponent",
        line,
        keep,
        encode_uri_component,
    ));
    harness::check(&cases);
}

#[test]
fn known_values_base64_wrapped_at_76_columns() {
    let mut cases = Vec::new();
    for seed in 0..4u64 {
        let mut r = Rng::new(0x4236_0000 + seed);
        let long = format!("{}&{}", rand(&mut r, 50), rand(&mut r, 70));
        let (pem_lf, _) = pem(seed, "\n");
        for (name, v) in [("long", long), ("pem", pem_lf)] {
            for (nl, value) in [("", v.clone()), ("-echo", format!("{v}\n"))] {
                let lines = base64_wrapped(value.as_bytes());
                let mut input = format!("{TS} + echo \"$SIGNING\" | base64\n");
                for l in &lines {
                    input.push_str(&format!("{TS} {l}\n"));
                }
                input.push_str(&format!("{TS} + base64 done\n"));
                // The last line may be a few characters: too short to mask on its own.
                let secrets: Vec<&str> = lines
                    .iter()
                    .map(String::as_str)
                    .filter(|l| l.len() >= 12)
                    .collect();
                cases.push(
                    Case::new(
                        Category::KnownEncoding,
                        format!("base64-76/{name}{nl}/{seed}"),
                        input,
                        &secrets,
                    )
                    .keep(&["+ base64 done"])
                    .known(&[v.as_bytes()]),
                );
            }
        }
    }
    harness::check(&cases);
}

#[test]
fn known_values_with_a_trailing_newline_or_stored_quoted() {
    let mut cases = Vec::new();
    for seed in 0..3u64 {
        for (name, v) in values(0x5154_0000 + seed) {
            let stored: [(&str, String); 4] = [
                ("trailing-lf", format!("{v}\n")),
                ("trailing-crlf", format!("{v}\r\n")),
                ("double-quoted", format!("\"{v}\"")),
                ("single-quoted", format!("'{v}'")),
            ];
            for (how, known) in stored {
                let shown: [(&str, String); 3] = [
                    ("verbatim", v.clone()),
                    ("base64", crate::util::base64(&v)),
                    ("url", pct(&v, "-._~")),
                ];
                for (enc, e) in shown {
                    let line = format!("{TS} Authorization: {}", "{}");
                    cases.push(known_case(
                        format!("{how}/{enc}/{name}/{seed}"),
                        known.as_bytes(),
                        &line,
                        &e,
                        &["Authorization: "],
                    ));
                }
            }
        }
    }
    harness::check(&cases);
}

#[test]
fn known_values_on_cr_only_lines_and_in_utf16le() {
    let mut cases = Vec::new();
    for seed in 0..3u64 {
        for (name, v) in values(0x4352_0000 + seed) {
            let input =
                format!("Downloading 10%\rDownloading 55%\rtoken={v}\rDownloading 100%\r\nok\n");
            cases.push(
                Case::new(
                    Category::Smaller,
                    format!("cr-only/{name}/{seed}"),
                    input,
                    &[&v],
                )
                .keep(&["Downloading 55%", "Downloading 100%"])
                .known(&[v.as_bytes()]),
            );
            let mut input = utf16le("PS> Write-Output $env:DEPLOY_TOKEN\r\n");
            let enc = utf16le(&v);
            input.extend_from_slice(&enc);
            input.extend_from_slice(&utf16le("\r\nPS> exit\r\n"));
            let mut case = Case::new(
                Category::Smaller,
                format!("utf16le/{name}/{seed}"),
                input,
                &[],
            )
            .known(&[v.as_bytes()]);
            case.secrets.push(enc);
            case.keep.push(utf16le("PS> exit"));
            cases.push(case);
        }
    }
    harness::check(&cases);
}

/// A redactor with `style` masks and `known` as known values.
fn redact_with(style: MaskStyle, known: &[&[u8]], input: &[u8]) -> Vec<u8> {
    let (engine, plan) = harness::engine();
    let values = known
        .iter()
        .enumerate()
        .map(|(i, v)| KnownValue::new(format!("case:{i}"), v).expect("a known value"))
        .collect();
    let opts = RedactOptions::new(Masker::with_key(style, [7; 32]));
    let mut r = Redactor::new(engine, plan, opts).with_known(Arc::new(KnownRegistry::new(values)));
    let mut out = Vec::new();
    r.push(input, &mut out).expect("redaction");
    r.finish(&mut out).expect("redaction");
    out
}

#[test]
fn prefix_masks_show_nothing_of_a_multi_line_known_value() {
    let mut problems = Vec::new();
    for seed in 0..4u64 {
        let (value, body) = pem(seed, "\n");
        let mut input = String::from("+ cat signing.pem\n");
        for l in value.lines() {
            input.push_str(&format!("{TS} {l}\n"));
        }
        // And an add-mask value, which the runner masks with `***` whole.
        let (other, other_body) = pem(seed + 100, "\n");
        input.push_str(&format!("::add-mask::{}\n", gha_escape(&other)));
        for l in other.lines() {
            input.push_str(&format!("{l}\n"));
        }
        let out = redact_with(MaskStyle::Prefix, &[value.as_bytes()], input.as_bytes());
        let out = String::from_utf8_lossy(&out);
        for l in body.iter().chain(&other_body) {
            for k in 1..=4 {
                if out.contains(&format!("{}***", &l[..k])) {
                    problems.push(format!("seed {seed}: shows {k} characters of a line"));
                }
            }
            if out.contains(&l[..12]) {
                problems.push(format!("seed {seed}: leaks a line"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn run_merge_masks_a_token_split_between_stdout_and_stderr() {
    let dir = Dir::new();
    for seed in 0..3u64 {
        let token = crate::util::ghp(0x5350 + seed);
        let (a, b) = token.split_at(token.len() / 2);
        let script = format!("printf 'push token {a}'; printf '{b} ok\\n' >&2");
        let out = dir
            .cmd()
            .args([
                "run",
                "--merge",
                "--register-masks",
                "off",
                "--",
                "sh",
                "-c",
            ])
            .arg(&script)
            .run();
        out.code(0);
        let all = format!("{}{}", out.stdout, out.stderr);
        assert!(out.stdout.contains("push token "), "{all}");
        for w in token.as_bytes().windows(12) {
            let w = std::str::from_utf8(w).expect("ascii");
            assert!(!all.contains(w), "seed {seed}: {w:?} leaked:\n{all}");
        }
    }
}

#[test]
fn an_unset_secret_env_is_a_loud_warning_and_an_error_with_strict() {
    let dir = Dir::new();
    let var = "SHUSH_REDTEAM_NO_SUCH_VARIABLE";
    let out = dir
        .cmd()
        .args(["redact", "--register-masks", "off", "--secret-env", var])
        .env_remove(var)
        .stdin("build ok\n")
        .run();
    out.code(0)
        .stderr_has("warning")
        .stderr_has(var)
        .stderr_has("not set");
    assert_eq!(out.stdout, "build ok\n");
    // Even with --quiet: a secret that will not be masked is not noise.
    let out = dir
        .cmd()
        .args([
            "redact",
            "-q",
            "--register-masks",
            "off",
            "--secret-env",
            var,
        ])
        .env_remove(var)
        .stdin("build ok\n")
        .run();
    out.code(0).stderr_has(var);
    // --strict: an error before any input passes.
    let out = dir
        .cmd()
        .args([
            "redact",
            "--strict",
            "--register-masks",
            "off",
            "--secret-env",
            var,
        ])
        .env_remove(var)
        .stdin("build ok\n")
        .run();
    out.code(2).stderr_has("error").stderr_has(var);
    assert_eq!(out.stdout, "");
    // --strict with the variable set is fine.
    let out = dir
        .cmd()
        .args([
            "redact",
            "--strict",
            "--register-masks",
            "off",
            "--secret-env",
            var,
        ])
        .env(var, "Tr0ub4dor&3-horse")
        .stdin("pw Tr0ub4dor&3-horse\n")
        .run();
    out.code(0);
    assert!(!out.stdout.contains("Tr0ub4dor"), "{}", out.stdout);
    // `shush run` the same.
    let out = dir
        .cmd()
        .args([
            "run",
            "--strict",
            "--register-masks",
            "off",
            "--secret-env",
            var,
        ])
        .args(["--", "true"])
        .env_remove(var)
        .run();
    out.code(2).stderr_has(var);
}

#[test]
fn the_report_holds_no_unkeyed_digest_of_a_secret() {
    let dir = Dir::new();
    // Weak values: a guess is confirmed in microseconds against an unkeyed digest.
    let secrets = ["hunter2hunter2", "Summer2026!", "password123"];
    let mut input = String::new();
    for s in secrets {
        input.push_str(&format!("login with {s}\n::add-mask::{s}x\n"));
    }
    let report = dir.join("report.jsonl");
    let run = |key: Option<&str>| {
        let mut c = dir.cmd();
        c.args(["redact", "-q", "--register-masks", "off", "--report"])
            .arg(&report)
            .env("PW0", secrets[0])
            .env("PW1", secrets[1])
            .env("PW2", secrets[2])
            .args([
                "--secret-env",
                "PW0",
                "--secret-env",
                "PW1",
                "--secret-env",
                "PW2",
            ])
            .stdin(input.clone());
        match key {
            Some(k) => c.env("SHUSH_MASK_KEY", k),
            None => c.env_remove("SHUSH_MASK_KEY"),
        };
        c.run().code(0);
        std::fs::read_to_string(&report).expect("report")
    };
    let first = run(None);
    assert!(first.lines().count() >= 6, "{first}");
    let mut labels: Vec<String> = Vec::new();
    for line in first.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        labels.push(v["rule_id"].as_str().unwrap_or_default().to_string());
        assert!(
            v["fingerprint"].as_str().is_some_and(|f| f.len() >= 16),
            "{line}"
        );
    }
    labels.sort();
    labels.dedup();
    for s in secrets {
        for v in [s.to_string(), format!("{s}x")] {
            let mut msgs = vec![v.as_bytes().to_vec()];
            for l in &labels {
                msgs.push(format!("{l}\0{v}").into_bytes());
            }
            for m in &msgs {
                for d in digests(m) {
                    let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
                    let b64 = crate::util::base64(&d);
                    for probe in [&hex[..16], &hex.to_uppercase()[..16], &b64[..12]] {
                        assert!(!first.contains(probe), "an unkeyed digest in the report");
                    }
                }
            }
            assert!(!first.contains(&v), "a secret in the report");
        }
    }
    // A random key per run: two runs cannot be correlated; SHUSH_MASK_KEY makes them agree.
    assert_ne!(fingerprints(&first), fingerprints(&run(None)));
    let keyed = fingerprints(&run(Some("project-key-1")));
    assert_eq!(keyed, fingerprints(&run(Some("project-key-1"))));
    assert_ne!(keyed, fingerprints(&run(Some("project-key-2"))));
}

fn fingerprints(report: &str) -> Vec<String> {
    report
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
            v["fingerprint"].as_str().unwrap_or_default().to_string()
        })
        .collect()
}

/// SHA-256, SHA-512, SHA-1 and MD5 of `m`.
fn digests(m: &[u8]) -> Vec<Vec<u8>> {
    use sha2::Digest;
    vec![
        sha2::Sha256::digest(m).to_vec(),
        sha2::Sha512::digest(m).to_vec(),
        sha1(m).to_vec(),
        md5(m).to_vec(),
    ]
}

/// Message padding shared by MD5 (little-endian length) and SHA-1 (big-endian).
fn md_pad(m: &[u8], big_endian: bool) -> Vec<u8> {
    let mut p = m.to_vec();
    p.push(0x80);
    while p.len() % 64 != 56 {
        p.push(0);
    }
    let bits = (m.len() as u64).wrapping_mul(8);
    p.extend_from_slice(&if big_endian {
        bits.to_be_bytes()
    } else {
        bits.to_le_bytes()
    });
    p
}

/// SHA-1 (FIPS 180-4), for the test only.
fn sha1(m: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    for block in md_pad(m, true).chunks(64) {
        let mut w = [0u32; 80];
        for i in 0..16 {
            w[i] = u32::from_be_bytes(block[4 * i..4 * i + 4].try_into().expect("4 bytes"));
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            (e, d, c, b, a) = (d, c, b.rotate_left(30), a, t);
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (i, x) in h.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&x.to_be_bytes());
    }
    out
}

/// MD5 (RFC 1321), for the test only.
fn md5(m: &[u8]) -> [u8; 16] {
    const S: [u32; 16] = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
    let k: Vec<u32> = (0..64)
        .map(|i| ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32)
        .collect();
    let mut h: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
    for block in md_pad(m, false).chunks(64) {
        let w: Vec<u32> = block
            .chunks(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        let [mut a, mut b, mut c, mut d] = h;
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f = f.wrapping_add(a).wrapping_add(k[i]).wrapping_add(w[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f.rotate_left(S[(i / 16) * 4 + i % 4]));
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 16];
    for (i, x) in h.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&x.to_le_bytes());
    }
    out
}

#[test]
fn the_test_digests_are_right() {
    let hex = |d: &[u8]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
    assert_eq!(
        hex(&sha1(b"abc")),
        "a9993e364706816aba3e25717850c26c9cd0d89d"
    );
    assert_eq!(hex(&md5(b"abc")), "900150983cd24fb0d6963f7d28e17f72");
    assert_eq!(hex(&md5(b"")), "d41d8cd98f00b204e9800998ecf8427e");
}
