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

use aho_corasick::{AhoCorasick, MatchKind};
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
pub fn is_line_end(b: u8) -> bool {
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
pub fn add_mask_line(value: &[u8]) -> Vec<u8> {
    let mut line = b"::add-mask::".to_vec();
    line.extend_from_slice(&escape(value));
    line.push(b'\n');
    line
}

/// A place where a command that matters to masking may be: `::add-mask`, `##[add-mask`,
/// `::stop-commands` or `##[stop-commands`, name case ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CommandHit {
    /// Offset of the command's first byte (`:` or `#`).
    pub start: usize,
    /// Whether it is an `add-mask` (else a `stop-commands`).
    pub add_mask: bool,
}

/// Finds [`CommandHit`]s in order. A `::` command counts only at the start of a line (after
/// blanks), as the runner reads it, so what is searched is a line end or blank followed by
/// `::` (plus the search's own first line), and `##[` anywhere: three-byte literals the
/// `aho-corasick` crate's packed SIMD searcher (Teddy) skips ordinary text with, where the
/// many `::` of paths in compiler output and the colons of timestamps never stop it. Each
/// marker is then checked for one of the two names.
#[derive(Debug)]
pub(crate) struct CommandFinder<'h> {
    hay: &'h [u8],
    at: usize,
    /// Whether the position `at` was set to still needs its own line-start check.
    check_at: bool,
}

impl<'h> CommandFinder<'h> {
    /// Searches `hay[from..]`.
    pub fn new(hay: &'h [u8], from: usize) -> Self {
        CommandFinder {
            hay,
            at: from.min(hay.len()),
            check_at: true,
        }
    }

    /// Continues the search at `at` (forward only; earlier offsets are ignored).
    pub fn seek(&mut self, at: usize) {
        let at = at.min(self.hay.len());
        if at > self.at {
            self.at = at;
            self.check_at = true;
        }
    }

    /// A `::` command opening the line that `self.at` lies in (only blanks between the line
    /// start and it), if the search starts there: the literals only see it after a line end.
    fn first_line(&self) -> Option<usize> {
        if !self.opens_line(self.at) {
            return None;
        }
        let pos = self.at
            + self.hay[self.at..]
                .iter()
                .take_while(|b| is_blank(b))
                .count();
        self.hay[pos..].starts_with(b"::").then_some(pos)
    }

    /// Whether only blanks stand between the start of `pos`'s line and `pos`.
    fn opens_line(&self, pos: usize) -> bool {
        let before = &self.hay[..pos];
        before
            .iter()
            .rposition(|b| !is_blank(b))
            .is_none_or(|i| is_line_end(before[i]))
    }

    /// The command whose marker starts at `pos`, if its name is one that matters.
    fn command_at(&self, pos: usize) -> Option<CommandHit> {
        let marker = if self.hay[pos] == b'#' { 3 } else { 2 };
        let rest = &self.hay[pos + marker..];
        let starts =
            |name: &[u8]| rest.len() >= name.len() && rest[..name.len()].eq_ignore_ascii_case(name);
        if starts(ADD_MASK) {
            Some(CommandHit {
                start: pos,
                add_mask: true,
            })
        } else if starts(STOP_COMMANDS) {
            Some(CommandHit {
                start: pos,
                add_mask: false,
            })
        } else {
            None
        }
    }
}

impl Iterator for CommandFinder<'_> {
    type Item = CommandHit;

    fn next(&mut self) -> Option<CommandHit> {
        if std::mem::take(&mut self.check_at) {
            if let Some(pos) = self.first_line() {
                self.at = pos + 1;
                if let Some(hit) = self.command_at(pos) {
                    return Some(hit);
                }
            }
        }
        while self.at < self.hay.len() {
            let Some(mut pos) = markers().find(self.hay, self.at) else {
                self.at = self.hay.len();
                return None;
            };
            // `\n::`, ` ::`: the marker starts after the first byte; blanks may come before.
            if self.hay[pos] != b'#' {
                pos += 1;
                if !self.opens_line(pos) {
                    self.at = pos;
                    continue;
                }
            }
            self.at = pos + 1;
            if let Some(hit) = self.command_at(pos) {
                return Some(hit);
            }
        }
        None
    }
}

/// A blank before a command: the runner trims spaces and tabs.
fn is_blank(b: &u8) -> bool {
    *b == b' ' || *b == b'\t'
}

/// The searcher for the command markers, built once: a packed (Teddy) searcher where the
/// CPU has one, else a plain automaton.
fn markers() -> &'static Markers {
    static M: OnceLock<Markers> = OnceLock::new();
    M.get_or_init(|| {
        const PATTERNS: [&str; 5] = ["\n::", "\r::", " ::", "\t::", "##["];
        let packed = aho_corasick::packed::Config::new()
            .match_kind(aho_corasick::packed::MatchKind::LeftmostFirst)
            .builder()
            .extend(PATTERNS)
            .build();
        match packed {
            Some(s) => Markers::Packed(s),
            None => Markers::Automaton(
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostFirst)
                    .build(PATTERNS)
                    .expect("literal patterns always compile"),
            ),
        }
    })
}

/// See [`markers`].
#[derive(Debug)]
enum Markers {
    Packed(aho_corasick::packed::Searcher),
    Automaton(AhoCorasick),
}

impl Markers {
    /// The first marker's start in `hay[from..]`.
    fn find(&self, hay: &[u8], from: usize) -> Option<usize> {
        match self {
            Markers::Packed(s) => s.find_in(hay, aho_corasick::Span::from(from..hay.len())),
            Markers::Automaton(a) => a.find(aho_corasick::Input::new(hay).span(from..hay.len())),
        }
        .map(|m| m.start())
    }
}

/// The first `add-mask` command (or legacy form) in `hay`, if any.
pub(crate) fn first_add_mask(hay: &[u8]) -> Option<usize> {
    CommandFinder::new(hay, 0)
        .find(|h| h.add_mask)
        .map(|h| h.start)
}

/// The longest suffix of `tail` that is a proper prefix of an add-mask marker of [`CommandFinder`] (case
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

    fn found(hay: &[u8], from: usize) -> Vec<(usize, bool)> {
        CommandFinder::new(hay, from)
            .map(|h| (h.start, h.add_mask))
            .collect()
    }

    #[test]
    fn finder_sees_commands_where_the_runner_does() {
        let hay = b"::add-mask::a\n  \t::ADD-MASK::b\rx ##[add-mask]c\n::Stop-Commands::t\n";
        let starts: Vec<usize> = [b"::add".as_slice(), b"::ADD", b"##[", b"::Stop"]
            .iter()
            .map(|m| hay.windows(m.len()).position(|w| w == *m).unwrap())
            .collect();
        assert_eq!(
            found(hay, 0),
            vec![
                (starts[0], true),
                (starts[1], true),
                (starts[2], true),
                (starts[3], false)
            ]
        );
        // Mid-line `::` is not a command (compiler paths, `x ::add-mask::`); other names and
        // a marker cut short at the end are not either.
        assert!(
            found(
                b"std::add_mask::x\nx ::add-mask::v\n::warning::w\n::add-ma",
                0
            )
            .is_empty()
        );
        // A search that starts inside a line's leading blanks, or at its `::`, still sees it;
        // one that starts past the marker does not.
        let hay = b"x\n   ::add-mask::v";
        assert_eq!(found(hay, 3), vec![(5, true)]);
        assert_eq!(found(hay, 5), vec![(5, true)]);
        assert!(found(hay, 6).is_empty());
    }

    #[test]
    fn finder_seek_only_moves_forward() {
        let hay = b"::add-mask::a\n::add-mask::b\n";
        let mut f = CommandFinder::new(hay, 0);
        assert_eq!(f.next().map(|h| h.start), Some(0));
        f.seek(0);
        assert_eq!(f.next().map(|h| h.start), Some(14));
        assert_eq!(f.next(), None);
        assert_eq!(first_add_mask(b"t 10:00:00 ok\n##[add-mask]v"), Some(14));
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
