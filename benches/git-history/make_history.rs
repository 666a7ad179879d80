//! Deterministic synthetic git history, as a `git fast-import` stream on standard output.
//! Standard library only: `rustc -O benches/git-history/make_history.rs -o make_history`.
//!
//! `make_history [FILES] [COMMITS] [SECRET_EVERY]` (defaults 3000, 12000, 400): source-like
//! files in nested directories; each commit edits a few of them (line replacements,
//! insertions, deletions), so packs are mostly deltas as in real repositories. Every
//! SECRET_EVERY commits a fake AWS access key is added to a random file (and removed again
//! some commits later), every 500 commits a side branch of three commits is merged back,
//! and every 2000 commits an annotated tag is made. The same arguments always produce the
//! same repository, object ids included.

use std::io::{self, BufWriter, Write};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const WORDS: &[&str] = &[
    "config",
    "value",
    "result",
    "buffer",
    "handler",
    "request",
    "response",
    "parse",
    "render",
    "token_count",
    "index",
    "offset",
    "length",
    "builder",
    "context",
    "session",
    "manifest",
    "package",
    "version",
    "resolve",
    "registry",
    "source",
    "target",
    "profile",
    "feature",
    "dependency",
    "workspace",
    "compile",
    "unit",
    "layout",
    "metadata",
    "lock",
];

/// Renders one line of "code" from its seed (the seed changes when the line is edited).
fn line(seed: u64, out: &mut Vec<u8>) {
    let mut r = Rng(seed | 1);
    let indent = (r.below(4) * 4) as usize;
    out.extend(std::iter::repeat_n(b' ', indent));
    match r.below(6) {
        0 => {
            let w = WORDS[r.below(WORDS.len() as u64) as usize];
            let _ = write!(
                out,
                "// {} the {} before {}",
                w,
                WORDS[r.below(32) as usize],
                w
            );
        }
        1 => {
            let _ = write!(
                out,
                "let {}_{} = {}({}, \"{}\");",
                WORDS[r.below(32) as usize],
                r.below(1000),
                WORDS[r.below(32) as usize],
                r.below(100_000),
                WORDS[r.below(32) as usize]
            );
        }
        2 => {
            let _ = write!(
                out,
                "if {}.{}() > {} {{ return Err(Error::{}); }}",
                WORDS[r.below(32) as usize],
                WORDS[r.below(32) as usize],
                r.below(4096),
                WORDS[r.below(32) as usize]
            );
        }
        3 => {
            let _ = write!(
                out,
                "fn {}_{}(&mut self, {}: usize) -> Result<(), Error> {{",
                WORDS[r.below(32) as usize],
                WORDS[r.below(32) as usize],
                WORDS[r.below(32) as usize]
            );
        }
        4 => {
            let _ = write!(
                out,
                "self.{}.insert(\"{}-{}\", {});",
                WORDS[r.below(32) as usize],
                WORDS[r.below(32) as usize],
                r.below(10_000),
                r.below(10)
            );
        }
        _ => out.extend_from_slice(b"}"),
    }
    out.push(b'\n');
}

/// A fake AWS access key id (documentation-style fake: never a real key).
fn fake_key(r: &mut Rng) -> String {
    const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let body: String = (0..16).map(|_| B32[r.below(32) as usize] as char).collect();
    format!("AKIA{body}")
}

struct File {
    path: String,
    lines: Vec<u64>,
}

fn render(f: &File, secrets: &[(usize, String)], out: &mut Vec<u8>) {
    out.clear();
    for (i, &s) in f.lines.iter().enumerate() {
        line(s, out);
        for (at, key) in secrets {
            if *at == i {
                let _ = writeln!(out, "aws_access_key_id = \"{key}\"");
            }
        }
    }
}

fn main() -> io::Result<()> {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numeric arguments"))
        .collect();
    let nfiles = *args.first().unwrap_or(&3000) as usize;
    let ncommits = *args.get(1).unwrap_or(&12_000) as usize;
    let secret_every = *args.get(2).unwrap_or(&400) as usize;
    let mut r = Rng(0x005e_ed0f_5b05_u64);
    let mut files: Vec<File> = (0..nfiles)
        .map(|i| {
            let depth = r.below(3) + 1;
            let mut path = String::new();
            for d in 0..depth {
                let _ = std::fmt::Write::write_fmt(
                    &mut path,
                    format_args!("{}{}/", WORDS[r.below(32) as usize], d),
                );
            }
            let _ = std::fmt::Write::write_fmt(&mut path, format_args!("file_{i}.rs"));
            let n = 20 + r.below(700) as usize;
            File {
                path,
                lines: (0..n).map(|_| r.next()).collect(),
            }
        })
        .collect();
    // Secrets currently in files: (file, line, key, commit that removes it).
    let mut live: Vec<(usize, usize, String, usize)> = Vec::new();
    let out = io::stdout();
    let mut w = BufWriter::with_capacity(1 << 20, out.lock());
    let mut buf = Vec::new();
    let mut mark = 0usize;
    let time0 = 1_500_000_000u64;
    let mut emit_commit = |w: &mut BufWriter<_>,
                           branch: &str,
                           msg: &str,
                           t: u64,
                           from: Option<usize>,
                           merge: Option<usize>,
                           changed: &[usize],
                           files: &[File],
                           live: &[(usize, usize, String, usize)],
                           buf: &mut Vec<u8>|
     -> io::Result<usize> {
        mark += 1;
        writeln!(w, "commit refs/heads/{branch}\nmark :{mark}")?;
        writeln!(w, "author Dev {0} <dev{0}@example.com> {t} +0000", t % 7)?;
        writeln!(w, "committer Dev {0} <dev{0}@example.com> {t} +0000", t % 7)?;
        writeln!(w, "data {}\n{msg}", msg.len())?;
        if let Some(f) = from {
            writeln!(w, "from :{f}")?;
        }
        if let Some(m) = merge {
            writeln!(w, "merge :{m}")?;
        }
        for &fi in changed {
            let secrets: Vec<(usize, String)> = live
                .iter()
                .filter(|s| s.0 == fi)
                .map(|s| (s.1, s.2.clone()))
                .collect();
            render(&files[fi], &secrets, buf);
            writeln!(w, "M 100644 inline {}\ndata {}", files[fi].path, buf.len())?;
            w.write_all(buf)?;
            writeln!(w)?;
        }
        Ok(mark)
    };
    // The first commit adds every file.
    let all: Vec<usize> = (0..nfiles).collect();
    let mut head = emit_commit(
        &mut w,
        "main",
        "initial import",
        time0,
        None,
        None,
        &all,
        &files,
        &live,
        &mut buf,
    )?;
    let mut c = 1usize;
    while c < ncommits {
        let t = time0 + c as u64 * 600;
        let k = 1 + r.below(5) as usize;
        let mut changed: Vec<usize> = (0..k).map(|_| r.below(nfiles as u64) as usize).collect();
        changed.sort_unstable();
        changed.dedup();
        for &fi in &changed {
            let f = &mut files[fi];
            for _ in 0..1 + r.below(4) {
                let n = f.lines.len() as u64;
                match r.below(3) {
                    0 => {
                        let at = r.below(n) as usize;
                        f.lines[at] = r.next();
                    }
                    1 => {
                        let at = r.below(n + 1) as usize;
                        let s = r.next();
                        f.lines.insert(at, s);
                    }
                    _ if n > 10 => {
                        f.lines.remove(r.below(n) as usize);
                    }
                    _ => {}
                }
            }
        }
        if secret_every > 0 && c % secret_every == 0 {
            let fi = r.below(nfiles as u64) as usize;
            let at = r.below(files[fi].lines.len() as u64) as usize;
            let key = fake_key(&mut r);
            live.push((fi, at, key, c + 1 + r.below(50) as usize));
            changed.push(fi);
        }
        let removed: Vec<usize> = live.iter().filter(|s| s.3 == c).map(|s| s.0).collect();
        live.retain(|s| s.3 != c);
        for s in &mut live {
            s.1 = s.1.min(files[s.0].lines.len().saturating_sub(1));
        }
        changed.extend(removed);
        changed.sort_unstable();
        changed.dedup();
        let msg = format!("change {c}: {}", WORDS[r.below(32) as usize]);
        head = emit_commit(
            &mut w,
            "main",
            &msg,
            t,
            Some(head),
            None,
            &changed,
            &files,
            &live,
            &mut buf,
        )?;
        if c % 500 == 0 {
            // A side branch of three commits, merged back.
            let mut side = head;
            for s in 0..3 {
                let fi = r.below(nfiles as u64) as usize;
                let at = r.below(files[fi].lines.len() as u64) as usize;
                files[fi].lines[at] = r.next();
                let msg = format!("side {c}.{s}");
                side = emit_commit(
                    &mut w,
                    "side",
                    &msg,
                    t + 60 * (s + 1),
                    Some(side),
                    None,
                    &[fi],
                    &files,
                    &live,
                    &mut buf,
                )?;
            }
            let msg = format!("merge side {c}");
            head = emit_commit(
                &mut w,
                "main",
                &msg,
                t + 300,
                Some(head),
                Some(side),
                &[],
                &files,
                &live,
                &mut buf,
            )?;
        }
        if c % 2000 == 0 {
            writeln!(
                w,
                "tag v{}\nfrom :{head}\ntagger Dev <dev@example.com> {t} +0000\ndata 7\nrelease",
                c / 2000
            )?;
        }
        c += 1;
    }
    writeln!(w, "reset refs/heads/side\nfrom :{head}")?;
    w.flush()
}
