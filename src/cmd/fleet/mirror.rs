//! The fleet's mirrors: each repository cloned once (`git clone --mirror`, to a temporary
//! name first) into the cache and fetched on later runs, its ref tips read, and every git
//! error said in words that name the repository without its credentials.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The mirror of `url` in `cache`: cloned (`git clone --mirror`) the first time, fetched
/// after. A clone goes to a temporary name first, so that a worker killed mid-clone leaves
/// no half mirror behind.
pub(super) fn mirror(url: &str, cache: &Path) -> std::result::Result<PathBuf, String> {
    let dest = cache.join(mirror_name(url));
    if dest.join("HEAD").is_file() {
        git(
            &[
                "-C",
                &dest.to_string_lossy(),
                "fetch",
                "--quiet",
                "--prune",
                "origin",
            ],
            url,
        )?;
        return Ok(dest);
    }
    let partial = dest.with_extension(format!("partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    git(
        &[
            "clone",
            "--quiet",
            "--mirror",
            "--",
            url,
            &partial.to_string_lossy(),
        ],
        url,
    )?;
    std::fs::rename(&partial, &dest).map_err(|e| format!("keeping the mirror: {e}"))?;
    Ok(dest)
}

/// Runs git without a terminal to prompt on; its output, or its error in words: the
/// subcommand and the last lines git wrote, naming the repository without credentials.
fn git_output(args: &[&str], url: &str) -> std::result::Result<String, String> {
    let out = Command::new("git")
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("running git: {e}"))?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let stderr = String::from_utf8_lossy(&out.stderr).replace(url, &redact_url(url));
    let last: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = last[last.len().saturating_sub(2)..].join(" / ");
    Err(format!("git {}: {tail}", subcommand(args)))
}

/// Runs git as [`git_output`] does, for its effect only.
fn git(args: &[&str], url: &str) -> std::result::Result<(), String> {
    git_output(args, url).map(drop)
}

/// The git subcommand of `args` (`-C DIR` and options skipped).
fn subcommand<'a>(args: &[&'a str]) -> &'a str {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match *a {
            "-C" | "-c" => {
                it.next();
            }
            a if a.starts_with('-') => {}
            a => return a,
        }
    }
    "git"
}

/// A mirror's directory name: the repository's last path component and a hash of the URL.
fn mirror_name(url: &str) -> String {
    use sha2::Digest;
    let base: String = url
        .trim_end_matches('/')
        .trim_end_matches(".git")
        .rsplit(['/', ':'])
        .next()
        .unwrap_or("repo")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(40)
        .collect();
    let hash = sha2::Sha256::digest(url.as_bytes());
    let hex: String = hash[..6].iter().map(|b| format!("{b:02x}")).collect();
    format!("{base}-{hex}.git")
}

/// `url` without the credentials of its user-info part (`https://user:token@host/…`).
pub(super) fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((userinfo, host)) if !userinfo.contains('/') => format!("{scheme}://***@{host}"),
            _ => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// The commits every ref of `mirror` points at (tags peeled), sorted.
pub(super) fn ref_tips(mirror: &Path, url: &str) -> std::result::Result<Vec<String>, String> {
    let out = git_output(
        &[
            "-C",
            &mirror.to_string_lossy(),
            "for-each-ref",
            "--format=%(objectname) %(*objectname)",
        ],
        url,
    )?;
    let mut tips: Vec<String> = out
        .lines()
        .filter_map(|l| {
            let mut ids = l.split_whitespace();
            let (direct, peeled) = (ids.next(), ids.next());
            peeled.or(direct).map(str::to_string)
        })
        .collect();
    tips.sort();
    tips.dedup();
    Ok(tips)
}

/// Those of `commits` that `mirror` still has (a force-push may have dropped some).
pub(super) fn existing_commits(
    mirror: &Path,
    commits: &[String],
    url: &str,
) -> std::result::Result<Vec<String>, String> {
    if commits.is_empty() {
        return Ok(Vec::new());
    }
    let mut child = Command::new("git")
        .args(["-C", &mirror.to_string_lossy(), "cat-file", "--batch-check"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("running git: {e}"))?;
    let input = commits.iter().map(|c| format!("{c}\n")).collect::<String>();
    let mut stdin = child.stdin.take().ok_or("git cat-file: no stdin")?;
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child
        .wait_with_output()
        .map_err(|e| format!("git cat-file: {e}"))?;
    let _ = writer.join();
    if !out.status.success() {
        return Err(format!(
            "git cat-file failed on the mirror of {}",
            redact_url(url)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.ends_with(" commit") || l.contains(" commit "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_credentials_and_mirrors_get_stable_names() {
        assert_eq!(
            redact_url("https://x-access-token:secret@github.com/acme/app.git"),
            "https://***@github.com/acme/app.git"
        );
        assert_eq!(
            redact_url("git@github.com:acme/app.git"),
            "git@github.com:acme/app.git"
        );
        assert_eq!(redact_url("/srv/git/app"), "/srv/git/app");
        let a = mirror_name("https://github.com/acme/app.git");
        assert!(a.starts_with("app-") && a.ends_with(".git"), "{a}");
        assert_eq!(a, mirror_name("https://github.com/acme/app.git"));
        assert_ne!(a, mirror_name("https://github.com/other/app.git"));
        assert_eq!(
            subcommand(&["-C", "/srv/m.git", "fetch", "--quiet"]),
            "fetch"
        );
        assert_eq!(subcommand(&["clone", "--mirror", "--", "u", "d"]), "clone");
    }
}
