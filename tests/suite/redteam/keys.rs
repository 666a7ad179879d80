//! Category 3: private keys whose lines carry prefixes, keys cut off, long PGP blocks, stray BEGIN lines; and part of category 11 (CR-only lines, UTF-16LE, half a token at the end, `--mask prefix` of a multi-line secret).
//!
//! Every key is generated here: random bytes behind the real DER (or OpenSSH, OpenPGP)
//! header bytes of its format, base64'd into lines of the format's width; a PGP block has a
//! valid CRC-24 line. Each block is printed the way CI tools print it: every line behind a
//! `docker compose` service prefix (plain and coloured), a `kubectl logs --prefix` tag,
//! timestamps (GitHub's, ISO, syslog), `git diff`'s `+`/`-` (also inside an indented YAML
//! hunk), Python logging, `> ` quoting, a YAML block scalar, or as one JSON string with `\n`
//! escapes. The secrets are the body lines: none of them, nor any 12-byte piece, may reach
//! the output; the log lines around the block must. The scanner had the same gap, so every
//! prefixed block is `.scanned()`.
//!
//! Keys cut off before their END line mask what was printed of the body and keep the log
//! lines after it; PGP blocks of 20–40 KB mask whole under every chunking; a stray BEGIN line
//! followed by 3,000 ordinary lines swallows none of them (and the redactor says so).

use super::harness::{self, Case, Category};
use crate::util::{self, Rng};
use shush::redact::{MaskStyle, Masker, RedactOptions, Redactor};

/// A private-key format.
#[derive(Debug, Clone, Copy)]
struct Kind {
    /// Short name, for case names.
    name: &'static str,
    /// The PEM label between `BEGIN ` and `-----`.
    label: &'static str,
    /// The bytes a real key of the format starts with (DER header, OpenSSH magic, OpenPGP
    /// packet header).
    head: &'static [u8],
    /// Length of the binary key.
    len: usize,
    /// Base64 characters per line.
    width: usize,
    /// Armor or encryption header lines after BEGIN (then a blank line).
    headers: &'static [&'static str],
    /// An OpenPGP armored block (has a CRC-24 line).
    pgp: bool,
}

const KINDS: &[Kind] = &[
    Kind {
        name: "rsa",
        label: "RSA PRIVATE KEY",
        head: &[
            0x30, 0x82, 0x04, 0xa4, 0x02, 0x01, 0x00, 0x02, 0x82, 0x01, 0x01, 0x00,
        ],
        len: 1192,
        width: 64,
        headers: &[],
        pgp: false,
    },
    Kind {
        name: "rsa-encrypted",
        label: "RSA PRIVATE KEY",
        head: &[
            0x30, 0x82, 0x04, 0xa4, 0x02, 0x01, 0x00, 0x02, 0x82, 0x01, 0x01, 0x00,
        ],
        len: 1192,
        width: 64,
        headers: &[
            "Proc-Type: 4,ENCRYPTED",
            "DEK-Info: AES-128-CBC,7F2D49E0B1C35A8866E4D0F9A2B7C315",
        ],
        pgp: false,
    },
    Kind {
        name: "ec",
        label: "EC PRIVATE KEY",
        head: &[0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20],
        len: 121,
        width: 64,
        headers: &[],
        pgp: false,
    },
    Kind {
        name: "openssh",
        label: "OPENSSH PRIVATE KEY",
        head: b"openssh-key-v1\0\0\0\0\x04none\0\0\0\x04none\0\0\0\0\0\0\0\x01",
        len: 400,
        width: 70,
        headers: &[],
        pgp: false,
    },
    Kind {
        name: "pkcs8",
        label: "PRIVATE KEY",
        head: &[
            0x30, 0x82, 0x04, 0xbe, 0x02, 0x01, 0x00, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48,
            0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
        ],
        len: 1218,
        width: 64,
        headers: &[],
        pgp: false,
    },
    Kind {
        name: "pkcs8-encrypted",
        label: "ENCRYPTED PRIVATE KEY",
        head: &[
            0x30, 0x82, 0x05, 0x0e, 0x30, 0x40, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
            0x01, 0x05, 0x0d,
        ],
        len: 1298,
        width: 64,
        headers: &[],
        pgp: false,
    },
    Kind {
        name: "pgp",
        label: "PGP PRIVATE KEY BLOCK",
        head: &[
            0x95, 0x03, 0xc6, 0x04, 0x67, 0x52, 0xa1, 0x30, 0x01, 0x0c, 0x00,
        ],
        len: 1900,
        width: 64,
        headers: &["Comment: ci deploy signing key"],
        pgp: true,
    },
];

/// A generated key block as printed: its lines, and the body lines that are the secrets.
#[derive(Debug, Clone)]
struct Block {
    lines: Vec<String>,
    secrets: Vec<String>,
}

/// OpenPGP's CRC-24 (RFC 4880, 6.1).
fn crc24(data: &[u8]) -> u32 {
    let mut crc: u32 = 0x00b7_04ce;
    for &b in data {
        crc ^= u32::from(b) << 16;
        for _ in 0..8 {
            crc <<= 1;
            if crc & 0x0100_0000 != 0 {
                crc ^= 0x0186_4cfb;
            }
        }
    }
    crc & 0x00ff_ffff
}

/// A key of `kind` with `len` bytes of key material (the kind's own length for 0).
fn block(kind: &Kind, seed: u64, len: usize) -> Block {
    let len = if len == 0 { kind.len } else { len };
    let mut rng = Rng::new(seed ^ 0x6b65_7973);
    let mut bytes = kind.head.to_vec();
    while bytes.len() < len {
        bytes.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    bytes.truncate(len);
    let b64 = util::base64(&bytes);
    let body: Vec<String> = b64
        .as_bytes()
        .chunks(kind.width)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let mut lines = vec![format!("-----BEGIN {}-----", kind.label)];
    if !kind.headers.is_empty() {
        lines.extend(kind.headers.iter().map(|h| h.to_string()));
        lines.push(String::new());
    } else if kind.pgp {
        lines.push(String::new());
    }
    lines.extend(body.iter().cloned());
    if kind.pgp {
        let c = crc24(&bytes).to_be_bytes();
        lines.push(format!("={}", util::base64(&c[1..])));
    }
    lines.push(format!("-----END {}-----", kind.label));
    let secrets = body.into_iter().filter(|l| l.len() >= 16).collect();
    Block { lines, secrets }
}

/// What a tool prints in front of every line of its output: a name and the prefix of line
/// `i`.
type Prefix = (&'static str, fn(usize) -> String);

const PREFIXES: &[Prefix] = &[
    ("compose", |_| "web-1  | ".into()),
    ("compose-ansi", |_| "\x1b[36mweb-1  |\x1b[0m ".into()),
    ("kubectl", |_| "[pod/api-7d9f/app] ".into()),
    ("github-timestamp", |i| {
        format!(
            "2026-12-06T10:00:{:02}.{:07}Z ",
            i / 10 % 60,
            i * 7919 % 10_000_000
        )
    }),
    ("iso-timestamp", |i| {
        format!("2026-12-06T10:00:00.{:03}+00:00 ", i % 1000)
    }),
    ("syslog", |i| {
        format!("Dec  6 10:00:{:02} ci-runner-3 app[4242]: ", i % 60)
    }),
    ("diff-plus", |_| "+".into()),
    ("diff-minus", |_| "-".into()),
    ("diff-yaml-hunk", |_| "+    ".into()),
    ("python-logging", |_| "INFO:root:".into()),
    ("quote", |_| "> ".into()),
    ("yaml-block", |_| "    ".into()),
];

/// Ordinary log lines before a block.
const BEFORE: &[&str] = &["Step 4/9 : RUN ./scripts/deploy.sh", "loading deploy key"];
/// Ordinary log lines after a block.
const AFTER: &[&str] = &[
    "deploy key loaded (2048 bits)",
    "Error: signal: killed",
    "##[error]Process completed with exit code 137.",
];

/// The lines of `lines`, each behind its prefix, with the ordinary lines around them.
fn printed(prefix: &Prefix, lines: &[String], after: &[&str]) -> (String, Vec<String>) {
    let p = prefix.1;
    let mut out = String::new();
    let mut keep = Vec::new();
    let mut i = 0;
    let mut line = |text: &str, out: &mut String| {
        let l = format!("{}{text}", p(i));
        i += 1;
        out.push_str(&l);
        out.push('\n');
        l
    };
    if prefix.0 == "diff-yaml-hunk" {
        out.push_str("@@ -12,3 +12,34 @@ spec:\n   tls:\n+  tls.key: |\n");
        keep.push(" tls:".to_string());
    } else if prefix.0 == "yaml-block" {
        out.push_str("data:\n  tls.key: |\n");
        keep.push("  tls.key: |".to_string());
    } else {
        for b in BEFORE {
            keep.push(line(b, &mut out));
        }
    }
    for l in lines {
        line(l, &mut out);
    }
    let p_after = if prefix.0 == "yaml-block" || prefix.0 == "diff-yaml-hunk" {
        "  "
    } else {
        ""
    };
    for a in after {
        keep.push(line(&format!("{p_after}{a}"), &mut out));
    }
    (out, keep)
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Every key format behind every prefix, and as one JSON string with `\n` escapes.
fn prefixed_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (k, kind) in KINDS.iter().enumerate() {
        for (j, prefix) in PREFIXES.iter().enumerate() {
            let b = block(kind, (k * 100 + j) as u64, 0);
            let (input, keep) = printed(prefix, &b.lines, AFTER);
            cases.push(
                Case::new(
                    Category::PrivateKey,
                    format!("{}/{}", prefix.0, kind.name),
                    input,
                    &strs(&b.secrets),
                )
                .keep(&strs(&keep))
                .scanned(),
            );
        }
        // Python logging of the whole key as one message: only the first line has the prefix.
        let b = block(kind, (k * 100 + 50) as u64, 0);
        let input = format!(
            "INFO:deploy:loading key\nINFO:deploy:key is {}\nINFO:deploy:done\n",
            b.lines.join("\n")
        );
        cases.push(
            Case::new(
                Category::PrivateKey,
                format!("python-message/{}", kind.name),
                input,
                &strs(&b.secrets),
            )
            .keep(&["INFO:deploy:loading key\n", "\nINFO:deploy:done"])
            .scanned(),
        );
        // One JSON log line, the key a string with `\n` escapes.
        let b = block(kind, (k * 100 + 60) as u64, 0);
        let input = format!(
            "{{\"time\":\"2026-12-06T10:00:00Z\",\"level\":\"debug\",\"msg\":\"secret\",\"key\":\"{}\\n\"}}\n{{\"level\":\"info\",\"msg\":\"done\"}}\n",
            b.lines.join("\\n")
        );
        cases.push(
            Case::new(
                Category::PrivateKey,
                format!("json-escaped/{}", kind.name),
                input,
                &strs(&b.secrets),
            )
            .keep(&[
                "{\"time\":\"2026-12-06T10:00:00Z\",\"level\":\"debug\"",
                "{\"level\":\"info\",\"msg\":\"done\"}",
            ])
            .scanned(),
        );
    }
    cases
}

#[test]
fn prefixed_keys_are_masked_whole() {
    harness::check(&prefixed_cases());
}

/// Keys cut off before their END line (the command died), then ordinary lines: at a line
/// boundary and in the middle of a line, plain and behind prefixes.
fn cut_off_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let prefixes: &[Prefix] = &[("plain", |_| String::new()), PREFIXES[0], PREFIXES[3]];
    for (k, kind) in KINDS.iter().enumerate() {
        for (j, prefix) in prefixes.iter().enumerate() {
            for mid_line in [false, true] {
                let b = block(kind, (k * 100 + j + 70) as u64, 0);
                let body_from = b.lines.len() - b.secrets.len() - 1 - usize::from(kind.pgp);
                let n = (b.secrets.len() / 2).max(1);
                let mut lines: Vec<String> = b.lines[..body_from + n].to_vec();
                let mut secrets: Vec<String> = b.secrets[..n].to_vec();
                if mid_line {
                    let half = b.secrets[n][..b.secrets[n].len() / 2].to_string();
                    if half.len() >= 16 {
                        secrets.push(half.clone());
                    }
                    lines.push(half);
                }
                let (input, keep) = printed(prefix, &lines, AFTER);
                cases.push(
                    Case::new(
                        Category::PrivateKey,
                        format!(
                            "cut-off{}/{}/{}",
                            if mid_line { "-mid-line" } else { "" },
                            prefix.0,
                            kind.name
                        ),
                        input,
                        &strs(&secrets),
                    )
                    .keep(&strs(&keep))
                    .scanned(),
                );
            }
        }
    }
    cases
}

#[test]
fn keys_cut_off_mask_their_body_and_keep_what_follows() {
    harness::check(&cut_off_cases());
}

/// Ordinary CI log lines, numbered.
fn ordinary(i: usize) -> String {
    match i % 6 {
        0 => format!("   Compiling crate-{i} v0.{}.{}", i % 17, i % 5),
        1 => format!("test tests::case_{i} ... ok"),
        2 => format!("npm notice {i} packages are looking for funding"),
        3 => format!("Step {i}/3000 : COPY src/ /app/src/"),
        4 => format!("[{i:04}] GET /health 200 1.{}ms", i % 10),
        _ => format!("##[debug]Evaluating condition for step {i}"),
    }
}

/// PGP private key blocks of 20–40 KB (an RSA-4096 key with subkeys), plain and behind a
/// compose prefix: masked whole, the same under every chunking.
fn long_pgp_cases() -> Vec<Case> {
    let pgp = KINDS.iter().find(|k| k.pgp).copied().expect("the PGP kind");
    let mut cases = Vec::new();
    for (i, kb) in [15usize, 20, 28].into_iter().enumerate() {
        for prefix in [
            ("plain", (|_| String::new()) as fn(usize) -> String),
            PREFIXES[0],
        ] {
            let b = block(&pgp, 900 + i as u64, kb << 10);
            let (input, keep) = printed(&prefix, &b.lines, AFTER);
            cases.push(
                Case::new(
                    Category::PrivateKey,
                    format!(
                        "long-pgp-{}k/{}",
                        b.lines.iter().map(String::len).sum::<usize>() >> 10,
                        prefix.0
                    ),
                    input,
                    &strs(&b.secrets),
                )
                .keep(&strs(&keep))
                .scanned(),
            );
        }
    }
    cases
}

#[test]
fn long_pgp_blocks_are_masked_whole_under_every_chunking() {
    harness::check(&long_pgp_cases());
}

/// A PGP block past the rule's 48 KiB bound (an exported key with photo IDs): the redactor
/// masks it whole, fail closed, through its END line, and the lines after it survive.
fn overlong_pgp_cases() -> Vec<Case> {
    let pgp = KINDS.iter().find(|k| k.pgp).copied().expect("the PGP kind");
    let mut cases = Vec::new();
    for prefix in [
        ("plain", (|_| String::new()) as fn(usize) -> String),
        PREFIXES[0],
    ] {
        let b = block(&pgp, 990, 60 << 10);
        let (input, keep) = printed(&prefix, &b.lines, AFTER);
        cases.push(
            Case::new(
                Category::PrivateKey,
                format!("overlong-pgp/{}", prefix.0),
                input,
                &strs(&b.secrets),
            )
            .keep(&strs(&keep)),
        );
    }
    cases
}

#[test]
fn pgp_blocks_past_the_bound_are_masked_through_their_end_line() {
    harness::check(&overlong_pgp_cases());
}

/// A stray BEGIN line of every format, then 3,000 ordinary lines with a token near the end:
/// the token is masked and the lines survive.
fn stray_begin_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (k, kind) in KINDS.iter().enumerate() {
        let token = util::ghp(3000 + k as u64);
        let mut log = String::new();
        for i in 0..20 {
            log.push_str(&ordinary(i));
            log.push('\n');
        }
        log.push_str(&format!("-----BEGIN {}-----\n", kind.label));
        let mut keep = Vec::new();
        for i in 20..3020 {
            let l = if i == 2900 {
                format!("export GH_TOKEN={token}")
            } else {
                ordinary(i)
            };
            if i == 20 || i == 21 || i % 500 == 0 || i == 3019 {
                keep.push(format!("\n{l}\n"));
            }
            log.push_str(&l);
            log.push('\n');
        }
        keep.push("export GH_TOKEN=".into());
        cases.push(
            Case::new(
                Category::PrivateKey,
                format!("stray-begin/{}", kind.name),
                log,
                &[&token],
            )
            .keep(&strs(&keep))
            .scanned(),
        );
    }
    cases
}

#[test]
fn a_stray_begin_line_swallows_nothing() {
    harness::check(&stray_begin_cases());
}

/// Redacts `input` whole with the harness's rules; returns the output and the warnings.
fn redact_with(input: &[u8], style: MaskStyle) -> (Vec<u8>, Vec<String>) {
    let (engine, plan) = harness::engine();
    let mut r = Redactor::new(
        engine,
        plan,
        RedactOptions::new(Masker::with_key(style, [7; 32])),
    );
    let mut out = Vec::new();
    r.push(input, &mut out).expect("redaction");
    r.finish(&mut out).expect("redaction");
    (out, r.take_warnings())
}

#[test]
fn a_cut_off_key_and_a_stray_begin_are_reported_as_warnings() {
    let mut problems = Vec::new();
    for case in cut_off_cases()
        .into_iter()
        .filter(|c| c.name.contains("/plain/"))
        .chain(stray_begin_cases())
    {
        let (_, warnings) = redact_with(&case.input, MaskStyle::Label);
        let said = warnings
            .iter()
            .any(|w| w.contains("private key block") && w.contains("no END line"));
        if !said {
            problems.push(format!("{}: warnings {warnings:?}", case.name));
        }
        for w in &warnings {
            for s in &case.secrets {
                if w.contains(&*String::from_utf8_lossy(&s[..12])) {
                    problems.push(format!("{}: a warning shows key material", case.name));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn mask_prefix_shows_at_most_four_characters_of_a_multi_line_key() {
    let mut problems = Vec::new();
    for case in prefixed_cases()
        .iter()
        .filter(|c| c.name.starts_with("compose/"))
    {
        let (out, _) = redact_with(&case.input, MaskStyle::Prefix);
        let out = String::from_utf8_lossy(&out);
        let masks = out.matches("***").count();
        if masks != 1 {
            problems.push(format!("{}: {masks} masks, not one: {out:?}", case.name));
        }
        for s in &case.secrets {
            if out.contains(&*String::from_utf8_lossy(&s[..8])) {
                problems.push(format!("{}: a body line shows its start", case.name));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ------------------------------------------------------------------------------ category 11

/// A strong password (letters, digits, punctuation; never a word).
fn strong(seed: u64) -> String {
    format!("Q{}7/", util::password(seed))
}

fn utf16le(s: &str) -> String {
    s.chars().flat_map(|c| [c, '\0']).collect()
}

/// CR-only line endings, UTF-16LE output of Windows tools, half a token at the end of input.
fn smaller_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (i, (name, line)) in [
        (
            "cr-progress",
            "Downloading 10%\rDownloading 100%\rpassword={V}\rDone\n",
        ),
        ("cr-only-lines", "step 1\rstep 2\rDB_PASSWORD={V}\rstep 3\r"),
        ("cr-then-lf", "progress\rapi_key: {V}\nnext line\n"),
    ]
    .into_iter()
    .enumerate()
    {
        let v = strong(40 + i as u64);
        let input = line.replace("{V}", &v);
        let keep: Vec<&str> = input.split(&v).collect();
        cases.push(
            Case::new(
                Category::Smaller,
                format!("{name}/password"),
                input.clone(),
                &[&v],
            )
            .keep(&keep)
            .scanned(),
        );
        let t = util::ghp(50 + i as u64);
        let input = line.replace("{V}", &t);
        let keep: Vec<&str> = input.split(&t).collect();
        cases.push(
            Case::new(
                Category::Smaller,
                format!("{name}/github-pat"),
                input.clone(),
                &[&t],
            )
            .keep(&keep)
            .scanned(),
        );
    }
    for (i, line) in [
        "GITHUB_TOKEN={V}\r\n",
        "Set-Variable -Name token -Value {V}\r\n",
        "password={V}\r\n",
    ]
    .into_iter()
    .enumerate()
    {
        let v = if line.starts_with("password") {
            strong(60 + i as u64)
        } else {
            util::ghp(60 + i as u64)
        };
        // What PowerShell's `Out-File` writes: the byte order mark `FF FE`, then UTF-16LE.
        let mut input = vec![0xff, 0xfe];
        input.extend(
            utf16le(&format!(
                "PS C:\\build> .\\deploy.ps1\r\n{}Done.\r\n",
                line.replace("{V}", &v)
            ))
            .bytes(),
        );
        cases.push(
            Case::new(
                Category::Smaller,
                format!("utf16le/{}", line.split(['=', ' ']).next().unwrap_or("")),
                input,
                &[&utf16le(&v)],
            )
            .keep(&[&utf16le("Done."), &utf16le("PS C:\\build>")])
            .scanned(),
        );
    }
    // No byte order mark, and the text at odd offsets (a stray byte before it, as when
    // UTF-16LE output is appended to an ASCII log).
    let t = util::ghp(66);
    let mut input = b"step 3 of 4\n\x07".to_vec();
    input.extend(utf16le(&format!("$env:GH_TOKEN = '{t}'\r\nexit 0\r\n")).bytes());
    cases.push(
        Case::new(
            Category::Smaller,
            "utf16le/odd-offset-no-bom",
            input,
            &[&utf16le(&t)],
        )
        .keep(&["step 3 of 4\n", &utf16le("exit 0")]),
    );
    for (i, (name, head)) in [
        ("github-pat", "ghp_"),
        ("aws-key-id", "AKIA"),
        ("slack-bot", "xoxb-"),
    ]
    .into_iter()
    .enumerate()
    {
        let half = format!("{head}{}", Rng::new(70 + i as u64).string(util::BASE62, 18));
        let input = format!("Run ./publish.sh\nexport TOKEN={half}");
        cases.push(
            Case::new(
                Category::Smaller,
                format!("half-token-at-end/{name}"),
                input,
                &[&half],
            )
            .keep(&["Run ./publish.sh\nexport TOKEN="]),
        );
    }
    cases
}

#[test]
fn cr_lines_and_half_tokens() {
    let cases: Vec<Case> = smaller_cases()
        .into_iter()
        .filter(|c| !c.name.starts_with("utf16le/"))
        .collect();
    harness::check(&cases);
}

#[test]
fn utf16le_output() {
    let cases: Vec<Case> = smaller_cases()
        .into_iter()
        .filter(|c| c.name.starts_with("utf16le/"))
        .collect();
    harness::check(&cases);
}
