//! `shush hook install|uninstall`: puts the pre-commit (and pre-push) hook into the
//! repository's hooks directory (`core.hooksPath` when set), chaining a hook that is already
//! there instead of overwriting it.

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};

/// The plain pre-commit hook script.
pub const PRE_COMMIT: &str = include_str!("../../hooks/pre-commit");
/// The plain pre-push hook script.
pub const PRE_PUSH: &str = include_str!("../../hooks/pre-push");
/// The marker that identifies a hook installed by shush.
const MARKER: &str = "# shush-hook:";
/// Suffix of a pre-existing hook that shush's hook runs first.
const CHAINED: &str = ".shush-chained";

/// `shush hook …`.
#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Install the pre-commit hook (and, with --pre-push, the pre-push hook). An existing
    /// hook is kept and run first.
    Install(InstallArgs),
    /// Remove shush's hooks, restoring any hook they chained.
    Uninstall(UninstallArgs),
}

/// `shush hook install`.
#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Also install the pre-push hook.
    #[arg(long)]
    pub pre_push: bool,
    /// The repository (default: the one containing the current directory).
    #[arg(long, value_name = "REPO", default_value = ".")]
    pub repo: PathBuf,
}

/// `shush hook uninstall`.
#[derive(Debug, Args)]
pub struct UninstallArgs {
    /// The repository (default: the one containing the current directory).
    #[arg(long, value_name = "REPO", default_value = ".")]
    pub repo: PathBuf,
}

/// Runs `shush hook …`; returns the exit code.
pub fn run(cmd: HookCommand) -> Result<u8> {
    match cmd {
        HookCommand::Install(a) => {
            let dir = hooks_dir(&a.repo)?;
            let exe = std::env::current_exe().ok();
            install_one(&dir, "pre-commit", PRE_COMMIT, exe.as_deref())?;
            if a.pre_push {
                install_one(&dir, "pre-push", PRE_PUSH, exe.as_deref())?;
            }
        }
        HookCommand::Uninstall(a) => {
            let dir = hooks_dir(&a.repo)?;
            let mut any = false;
            for name in ["pre-commit", "pre-push"] {
                any |= uninstall_one(&dir, name)?;
            }
            if !any {
                eprintln!("shush: no shush hook installed in {}", dir.display());
            }
        }
    }
    Ok(crate::cmd::app::EXIT_CLEAN)
}

/// The hooks directory: `git rev-parse --git-path hooks` (honours `core.hooksPath` from
/// every config level and linked worktrees), else `<common dir>/hooks`.
pub fn hooks_dir(repo: &Path) -> Result<PathBuf> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["rev-parse", "--git-path", "hooks"])
        .output();
    if let Ok(out) = out {
        if out.status.success() {
            let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            return Ok(if p.is_absolute() { p } else { repo.join(p) });
        }
    }
    let r = shush::git::open(repo)?;
    let configured = r
        .config_snapshot()
        .string("core.hooksPath")
        .map(|s| PathBuf::from(s.to_string()));
    Ok(match configured {
        Some(p) if p.is_absolute() => p,
        Some(p) => r.workdir().unwrap_or(r.common_dir()).join(p),
        None => r.common_dir().join("hooks"),
    })
}

fn is_ours(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|t| t.contains(MARKER))
}

/// Installs one hook; the script calls this very binary unless `SHUSH` says otherwise.
fn install_one(dir: &Path, name: &str, script: &str, exe: Option<&Path>) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(name);
    let chained = dir.join(format!("{name}{CHAINED}"));
    if path.exists() && !is_ours(&path) {
        if chained.exists() {
            bail!(
                "{} exists and so does {}; move one of them away first",
                path.display(),
                chained.display()
            );
        }
        std::fs::rename(&path, &chained)
            .with_context(|| format!("moving {} aside", path.display()))?;
        eprintln!(
            "shush: kept the existing {name} hook as {} (it runs first)",
            chained.display()
        );
    }
    let text = match exe.and_then(|e| e.to_str()) {
        Some(e) if !e.contains('\'') => script.replace(
            "SHUSH_BIN=\"${SHUSH:-shush}\"",
            &format!("SHUSH_BIN=\"${{SHUSH:-shush}}\"\n[ -n \"$SHUSH\" ] || [ ! -x '{e}' ] || SHUSH_BIN='{e}'"),
        ),
        _ => script.to_string(),
    };
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    make_executable(&path)?;
    eprintln!("shush: installed {}", path.display());
    Ok(())
}

/// Removes one hook if it is ours and restores what it chained. Returns whether it was ours.
fn uninstall_one(dir: &Path, name: &str) -> Result<bool> {
    let path = dir.join(name);
    let chained = dir.join(format!("{name}{CHAINED}"));
    if !path.exists() {
        return Ok(false);
    }
    if !is_ours(&path) {
        eprintln!("shush: {} is not shush's; left alone", path.display());
        return Ok(false);
    }
    std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
    if chained.exists() {
        std::fs::rename(&chained, &path)
            .with_context(|| format!("restoring {}", chained.display()))?;
        eprintln!("shush: removed shush's {name} hook, restored the previous one");
    } else {
        eprintln!("shush: removed {}", path.display());
    }
    Ok(true)
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut perm = std::fs::metadata(path)?.permissions();
    perm.set_mode(0o755);
    std::fs::set_permissions(path, perm)?;
    Ok(())
}

#[cfg(not(unix))]
fn make_executable(_: &Path) -> Result<()> {
    Ok(())
}
