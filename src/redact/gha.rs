//! GitHub Actions workflow commands, read the way the runner reads them, and the
//! `::add-mask::` lines shush writes for it.
//!
//! Facts of the runner (actions/runner, `ActionCommand.cs`, `ActionCommandManager.cs`,
//! `ProcessInvoker.cs`) this module follows:
//!
//! - each of the step's standard output and standard error is read line by line with .NET's
//!   `ReadLine`: a line ends at `\n`, `\r` or `\r\n`;
//! - a line is a command when, after leading white space, it starts with
//!   `::NAME[ PROPERTIES]::DATA` (NAME compared without case); failing that, the legacy form
//!   `##[NAME[ PROPERTIES]]DATA` anywhere in the line;
//! - DATA is unescaped by replacing, in this order, `%0D` by CR, `%0A` by LF and `%25` by `%`
//!   (the legacy form also `%3B` by `;` and `%5D` by `]`), case-sensitively; the toolkit's
//!   `core.setSecret` escapes the same way (`%` first);
//! - `add-mask` registers DATA and each of its lines (trimmed) as secrets;
//!   `::stop-commands::TOKEN` makes the runner ignore every command, `add-mask` included,
//!   until a line whose command name is TOKEN.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder};
use std::ops::Range;
use std::sync::OnceLock;

/// The command that registers a secret.
pub(crate) const ADD_MASK: &[u8] = b"add-mask";
/// The command that pauses command processing.
pub(crate) const STOP_COMMANDS: &[u8] = b"stop-commands";

/// One workflow command found on a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Command {
    /// The command name's range in the line.
    pub name: Range<usize>,
    /// The (escaped) data's range in the line: everything after the command, to the end of
    /// the line.
    pub data: Range<usize>,
    /// The legacy `##[name]data` form.
    pub legacy: bool,
}

/// Whether `b` ends a line for the runner.
pub(crate) fn is_line_end(b: u8) -> bool {
    b == b'\n' || b == b'\r'
}

/// Length of the white space the runner trims from the start of `line` (`String.TrimStart`:
/// Unicode white space; a byte-order mark is skipped too, as the runner's reader drops one
/// at the start of a stream).
fn leading_space(line: &[u8]) -> usize {
    let mut i = 0;
    while i < line.len() {
        let b = line[i];
        if b.is_ascii() {
            if !(b == b' ' || (b'\t'..=b'\r').contains(&b)) {
                break;
            }
            i += 1;
            continue;
        }
        let len = match b {
            0xc0..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf7 => 4,
            _ => break,
        };
        let Some(c) = line
            .get(i..i + len)
            .and_then(|s| std::str::from_utf8(s).ok())
            .and_then(|s| s.chars().next())
        else {
            break;
        };
        if !(c.is_whitespace() || c == '\u{feff}') {
            break;
        }
        i += len;
    }
    i
}

/// The `::name::data` command that starts `line` (after white space), if any.
fn parse_v2(line: &[u8]) -> Option<Command> {
    let s = leading_space(line);
    let rest = &line[s..];
    if !rest.starts_with(b"::") {
        return None;
    }
    let end = 2 + memchr::memmem::find(&rest[2..], b"::")?;
    let info = &rest[2..end];
    let name_len = memchr::memchr(b' ', info).unwrap_or(info.len());
    (name_len > 0).then(|| Command {
        name: s + 2..s + 2 + name_len,
        data: s + end + 2..line.len(),
        legacy: false,
    })
}

/// The legacy `##[name]data` command in `line`, if any.
fn parse_legacy(line: &[u8]) -> Option<Command> {
    let p = memchr::memmem::find(line, b"##[")?;
    let info_start = p + 3;
    let rb = info_start + memchr::memchr(b']', &line[info_start..])?;
    let info = &line[info_start..rb];
    let name_len = memchr::memchr(b' ', info).unwrap_or(info.len());
    (name_len > 0).then(|| Command {
        name: info_start..info_start + name_len,
        data: rb + 1..line.len(),
        legacy: true,
    })
}

/// The commands the runner could see in `line` (a line without its terminator): the
/// `::name::` form and the legacy `##[name]` form. Both are returned when both are present:
/// the runner takes the first only when its name is one it knows, and reading a command
/// where the runner would not only ever masks more.
pub(crate) fn commands(line: &[u8]) -> Vec<Command> {
    parse_v2(line)
        .into_iter()
        .chain(parse_legacy(line))
        .collect()
}

/// Whether `cmd` in `line` is named `name` (case ignored, as the runner does).
pub(crate) fn is_named(line: &[u8], cmd: &Command, name: &[u8]) -> bool {
    line[cmd.name.clone()].eq_ignore_ascii_case(name)
}

/// Unescapes a command's data as the runner does.
pub(crate) fn unescape(data: &[u8], legacy: bool) -> Vec<u8> {
    let mut v = data.to_vec();
    let steps: &[(&[u8], &[u8])] = if legacy {
        &[
            (b"%3B", b";"),
            (b"%0D", b"\r"),
            (b"%0A", b"\n"),
            (b"%5D", b"]"),
            (b"%25", b"%"),
        ]
    } else {
        &[(b"%0D", b"\r"), (b"%0A", b"\n"), (b"%25", b"%")]
    };
    for (from, to) in steps {
        if memchr::memmem::find(&v, from).is_some() {
            v = replace_all(&v, from, to);
        }
    }
    v
}

fn replace_all(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len());
    let mut last = 0;
    for i in memchr::memmem::find_iter(hay, from) {
        out.extend_from_slice(&hay[last..i]);
        out.extend_from_slice(to);
        last = i + from.len();
    }
    out.extend_from_slice(&hay[last..]);
    out
}

/// Escapes `value` as command data, as the toolkit does (`%` first, then CR and LF).
pub(crate) fn escape(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 8);
    for &b in value {
        match b {
            b'%' => out.extend_from_slice(b"%25"),
            b'\r' => out.extend_from_slice(b"%0D"),
            b'\n' => out.extend_from_slice(b"%0A"),
            _ => out.push(b),
        }
    }
    out
}

/// The line that registers `value` with the runner: `::add-mask::ESCAPED\n`.
pub(crate) fn add_mask_line(value: &[u8]) -> Vec<u8> {
    let mut line = b"::add-mask::".to_vec();
    line.extend_from_slice(&escape(value));
    line.push(b'\n');
    line
}

/// Finds the places where a command that matters to masking may be: `::add-mask`,
/// `##[add-mask`, `::stop-commands` and `##[stop-commands`, case ignored.
pub(crate) fn finder() -> &'static AhoCorasick {
    static F: OnceLock<AhoCorasick> = OnceLock::new();
    F.get_or_init(|| {
        AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .build([
                "::add-mask",
                "##[add-mask",
                "::stop-commands",
                "##[stop-commands",
            ])
            .expect("literal patterns always compile")
    })
}

/// The longest suffix of `tail` that is a proper prefix of a pattern of [`finder`] (case
/// ignored): the start of a command that may still be arriving.
pub(crate) fn partial_command(tail: &[u8]) -> usize {
    const PATTERNS: [&[u8]; 2] = [b"::add-mask", b"##[add-mask"];
    let mut best = 0;
    for p in PATTERNS {
        for k in (best + 1..p.len()).rev() {
            if tail.len() >= k && tail[tail.len() - k..].eq_ignore_ascii_case(&p[..k]) {
                best = k;
                break;
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data<'a>(line: &'a [u8], c: &Command) -> &'a [u8] {
        &line[c.data.clone()]
    }

    #[test]
    fn v2_commands() {
        let line = b"  ::add-mask::abc::def ";
        let c = &commands(line)[0];
        assert!(is_named(line, c, ADD_MASK) && !c.legacy);
        assert_eq!(data(line, c), b"abc::def ");
        let line = b"::ADD-MASK prop=1,x=2::value";
        let c = &commands(line)[0];
        assert!(is_named(line, c, ADD_MASK));
        assert_eq!(data(line, c), b"value");
        // Unicode white space before the command, as .NET's TrimStart.
        let line = "\u{a0}\u{2003}::add-mask::v".as_bytes();
        assert_eq!(data(line, &commands(line)[0]), b"v");
        assert!(commands(b"echo ::add-mask::x").is_empty());
        assert!(commands(b"::add-mask").is_empty());
        assert!(commands(b":: add-mask::x").is_empty());
    }

    #[test]
    fn legacy_commands_anywhere() {
        let line = b"echo ##[add-mask]s3cr3t";
        let c = &commands(line)[0];
        assert!(c.legacy && is_named(line, c, ADD_MASK));
        assert_eq!(data(line, c), b"s3cr3t");
        let line = b"::debug::x ##[add-mask k=v]y";
        let cs = commands(line);
        assert_eq!(cs.len(), 2);
        assert!(is_named(line, &cs[0], b"debug") && is_named(line, &cs[1], ADD_MASK));
    }

    #[test]
    fn unescape_follows_the_runner_order() {
        assert_eq!(unescape(b"a%25b%0Ac%0Dd", false), b"a%b\nc\rd");
        // `%250A` is a literal `%0A`: `%25` is replaced last.
        assert_eq!(unescape(b"x%250Ay", false), b"x%0Ay");
        // Case-sensitive, and `%3B` only in the legacy form.
        assert_eq!(unescape(b"a%0ab%3B", false), b"a%0ab%3B");
        assert_eq!(unescape(b"a%3Bb%5Dc%25", true), b"a;b]c%");
    }

    #[test]
    fn escape_round_trips() {
        for v in [&b"plain"[..], b"a%b\nc\rd", b"%0A%25", b"100%\r\n"] {
            assert_eq!(unescape(&escape(v), false), v);
        }
        assert_eq!(add_mask_line(b"a%b\nc"), b"::add-mask::a%25b%0Ac\n");
    }

    #[test]
    fn partial_commands() {
        assert_eq!(partial_command(b"x ::ADD-m"), 7);
        assert_eq!(partial_command(b"text ##"), 2);
        assert_eq!(partial_command(b"done."), 0);
    }
}
