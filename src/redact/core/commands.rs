//! GitHub Actions workflow commands: `::add-mask::` values become masks and known values,
//! `::stop-commands::` and its resume token are followed.

use super::{Origin, RedactError, Redactor, Span};
use crate::redact::gha;
use crate::redact::known::KnownValue;

impl Redactor<'_> {
    /// Workflow commands on the lines that start in `[from, c)`: `::add-mask::` values are
    /// masked in their line and, as known values, from that line on; `::stop-commands::`
    /// and its resume token are followed, because a value the runner would not register
    /// then (it ignores commands) must not be forwarded to it either.
    pub(super) fn workflow_commands(
        &mut self,
        from: u64,
        c: u64,
        hay_end: u64,
        eof: bool,
    ) -> Result<(), RedactError> {
        let (a, b, ci) = (self.idx(from), self.idx(hay_end), self.idx(c));
        // Lines holding a command that matters to masking (a line as the runner splits them).
        let mut lines: Vec<(usize, usize)> = Vec::new();
        let hay = &self.buf[..b];
        let mut finder = gha::CommandFinder::new(hay, a);
        while let Some(m) = finder.next() {
            let pos = m.start;
            if pos >= ci {
                break;
            }
            let ls = memchr::memrchr2(b'\n', b'\r', &hay[..pos]).map_or(0, |j| j + 1);
            match memchr::memchr2(b'\n', b'\r', &hay[pos..]) {
                Some(j) => lines.push((ls, pos + j)),
                None if eof => lines.push((ls, b)),
                None => {}
            }
            finder.seek(lines.last().map_or(pos + 1, |l| l.1.max(pos + 1)));
        }
        let mut prev = a;
        for (ls, le) in lines {
            if ls >= prev {
                self.resume_between(prev, ls, b, eof);
            }
            self.command_line(ls, le)?;
            prev = prev.max(le);
        }
        if prev < ci {
            self.resume_between(prev, ci, b, eof);
        }
        Ok(())
    }

    /// While commands are stopped, looks for the resume token on the whole lines that start
    /// in `[x, y)` (buffer indices; lines end before `b`, or at it at the end of input).
    fn resume_between(&mut self, x: usize, y: usize, b: usize, eof: bool) {
        let Some(token) = self.stop_token() else {
            return;
        };
        let mut ls = if x == 0 || gha::is_line_end(self.buf[x - 1]) {
            x
        } else {
            match memchr::memchr2(b'\n', b'\r', &self.buf[x..y]) {
                Some(j) => x + j + 1,
                None => return,
            }
        };
        while ls < y {
            let le = match memchr::memchr2(b'\n', b'\r', &self.buf[ls..b]) {
                Some(j) => ls + j,
                None if eof => b,
                None => return,
            };
            let line = &self.buf[ls..le];
            if gha::commands(line)
                .iter()
                .any(|cmd| gha::is_named(line, cmd, &token))
            {
                self.registry().set_stop_token(None);
                return;
            }
            ls = le + 1;
        }
    }

    /// The commands of the line `[ls, le)` (buffer indices).
    fn command_line(&mut self, ls: usize, le: usize) -> Result<(), RedactError> {
        let line = self.buf[ls..le].to_vec();
        for cmd in gha::commands(&line) {
            let stopped = self.stop_token();
            if let Some(token) = &stopped {
                if gha::is_named(&line, &cmd, token) {
                    self.registry().set_stop_token(None);
                    continue;
                }
            }
            if gha::is_named(&line, &cmd, gha::ADD_MASK) {
                self.add_mask_command(ls, &line, &cmd, stopped.is_none())?;
            } else if stopped.is_none() && gha::is_named(&line, &cmd, gha::STOP_COMMANDS) {
                let token = gha::unescape(&line[cmd.data.clone()], cmd.legacy);
                if !token.is_empty() {
                    self.registry().set_stop_token(Some(token));
                }
            }
        }
        Ok(())
    }

    /// One add-mask command of the line starting at buffer index `ls`: its data is masked
    /// in the line whatever its length; its value (unescaped as the runner does) and, when
    /// they differ, the escaped text become known values from this line on; and it is
    /// queued for the runner unless commands are stopped.
    fn add_mask_command(
        &mut self,
        ls: usize,
        line: &[u8],
        cmd: &gha::Command,
        forward: bool,
    ) -> Result<(), RedactError> {
        let data = &line[cmd.data.clone()];
        let trimmed = data.trim_ascii_end();
        if trimmed.trim_ascii_start().is_empty() {
            return Ok(());
        }
        let value = gha::unescape(data, cmd.legacy);
        let line_start = self.base + ls as u64;
        match KnownValue::new("add-mask", &value) {
            Ok(kv) => {
                self.learn(kv, line_start);
                let escaped = trimmed.trim_ascii_start();
                if escaped != value.trim_ascii() {
                    if let Ok(kv) = KnownValue::new("add-mask", escaped) {
                        self.learn(kv, line_start);
                    }
                }
            }
            Err(w) => self.warnings.push(w.to_string()),
        }
        if forward && self.opts.registrations {
            // Where the command starts (`::` or `##[`): nothing from there on has been
            // released, whatever the chunking (see `idle_floor`).
            let prefix = if cmd.legacy { 3 } else { 2 };
            let p = line_start + (cmd.name.start - prefix) as u64;
            let at = self.pending.partition_point(|(q, _)| *q <= p);
            self.pending.insert(at, (p, value));
        }
        let vs = line_start + cmd.data.start as u64;
        self.add_mask(Span {
            start: vs,
            end: vs + trimmed.len() as u64,
            rank: (3, 0, usize::MAX),
            label: "add-mask".into(),
            origin: Origin::Known("add-mask".into()),
            secret: trimmed.to_vec(),
            decoded: Vec::new(),
            written: false,
        })
    }
}
