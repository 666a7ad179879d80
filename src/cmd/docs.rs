//! `shush completions SHELL` and `shush man`: shell completions and man pages generated from
//! the command-line definitions, so they never drift from the flags shush really takes.

use crate::cmd::cli::Cli;
use anyhow::{Context, Result};
use clap::{Args, CommandFactory};
use std::io::Write;
use std::path::{Path, PathBuf};

/// `shush completions`.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell (bash, elvish, fish, powershell, zsh).
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `shush man`.
#[derive(Debug, Clone, Args)]
pub struct ManArgs {
    /// Write `shush.1` and one page per subcommand (`shush-scan.1`, …) into DIR instead of
    /// printing `shush.1`.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Prints the completion script for a shell.
pub fn completions(args: &CompletionsArgs) -> Result<u8> {
    let mut cmd = Cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(args.shell, &mut cmd, "shush", &mut out);
    out.flush()?;
    Ok(crate::cmd::app::EXIT_CLEAN)
}

/// Prints the man page, or writes every page into a directory.
pub fn man(args: &ManArgs) -> Result<u8> {
    let cmd = Cli::command();
    match &args.out {
        None => {
            let mut out = std::io::stdout().lock();
            clap_mangen::Man::new(cmd).render(&mut out)?;
            out.flush()?;
        }
        Some(dir) => write_pages(cmd, dir)?,
    }
    Ok(crate::cmd::app::EXIT_CLEAN)
}

/// `shush.1` and a page per subcommand (and nested subcommand), as `git` names its pages.
fn write_pages(cmd: clap::Command, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut cmd = cmd;
    cmd.build();
    write_page(&cmd, dir, "shush")
}

fn write_page(cmd: &clap::Command, dir: &Path, name: &str) -> Result<()> {
    let path = dir.join(format!("{name}.1"));
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .title(name.to_string())
        .render(&mut buf)?;
    std::fs::write(&path, buf).with_context(|| format!("writing {}", path.display()))?;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        write_page(sub, dir, &format!("{name}-{}", sub.get_name()))?;
    }
    Ok(())
}
