//! `shush git --pre-push`: git's pre-push hook input turned into a range of commits — the
//! ones being pushed, and nothing the remote already has.
//!
//! git writes one line per ref being pushed: `<local ref> <local oid> <remote ref> <remote
//! oid>`; an all-zero local oid is a deletion, an all-zero remote oid a new branch.

use super::GitError;
use super::report::Scope;
use gix::ObjectId;

/// One line of pre-push input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushUpdate {
    /// The local ref being pushed (`refs/heads/main`), or `(delete)`.
    pub local_ref: String,
    /// The commit being pushed; all zeros for a deletion.
    pub local: ObjectId,
    /// The ref on the remote.
    pub remote_ref: String,
    /// What the remote has there now; all zeros for a new ref.
    pub remote: ObjectId,
}

/// Parses git's pre-push standard input. Blank lines are ignored.
pub fn parse(input: &str) -> Result<Vec<PushUpdate>, GitError> {
    let mut out = Vec::new();
    for (n, line) in input.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let err = |message: &str| GitError::PrePush {
            line: n + 1,
            message: message.to_string(),
        };
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() != 4 {
            return Err(err(
                "expected `<local ref> <local oid> <remote ref> <remote oid>`",
            ));
        }
        let oid = |s: &str| ObjectId::from_hex(s.as_bytes()).map_err(|_| err("bad object id"));
        out.push(PushUpdate {
            local_ref: f[0].to_string(),
            local: oid(f[1])?,
            remote_ref: f[2].to_string(),
            remote: oid(f[3])?,
        });
    }
    Ok(out)
}

/// The commits to scan for `updates`: each pushed commit's history, less what the remote
/// already has (the old remote commits, when known locally, and the remote-tracking refs of
/// `remote` — of every remote when it is not named).
pub fn scope(repo_path: &std::path::Path, updates: &[PushUpdate], remote: Option<&str>) -> Scope {
    let mut include = Vec::new();
    let mut exclude = Vec::new();
    for u in updates {
        if u.local.is_null() {
            continue; // deleting a remote ref pushes no content
        }
        include.push(u.local.to_string());
        if !u.remote.is_null() && present(repo_path, &u.remote) {
            exclude.push(u.remote.to_string());
        }
    }
    if !include.is_empty() {
        exclude.extend(remote_tracking_refs(repo_path, remote));
    }
    Scope::Range { include, exclude }
}

/// The push as the pre-commit framework describes it (`PRE_COMMIT_FROM_REF`,
/// `PRE_COMMIT_TO_REF`, commit ids), when its variables are set.
///
/// A push that includes the repository's root commit (the first push of a repository) is
/// described without commit ids — pre-commit then runs its hooks on all files and sets only
/// the branches — so the local branch's commit is what is pushed, and the remote has none of
/// it.
pub fn from_pre_commit_env(repo_path: &std::path::Path) -> Result<Vec<PushUpdate>, GitError> {
    let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let local_ref = get("PRE_COMMIT_LOCAL_BRANCH");
    let to = match (get("PRE_COMMIT_TO_REF"), &local_ref) {
        (Some(to), _) => to,
        (None, Some(branch)) => {
            let repo = super::odb::open(repo_path)?;
            super::report::resolve(&repo, &format!("{branch}^{{commit}}"))?.to_string()
        }
        (None, None) => return Ok(Vec::new()),
    };
    let null = "0".repeat(to.len());
    let from = get("PRE_COMMIT_FROM_REF").unwrap_or(null);
    let remote_ref = get("PRE_COMMIT_REMOTE_BRANCH").unwrap_or_else(|| "HEAD".into());
    let local_ref = local_ref.unwrap_or_else(|| "HEAD".into());
    parse(&format!("{local_ref} {to} {remote_ref} {from}\n"))
}

fn present(repo_path: &std::path::Path, id: &ObjectId) -> bool {
    super::odb::open(repo_path).is_ok_and(|r| r.has_object(id))
}

/// Full names of the remote-tracking refs (`refs/remotes/<remote>/…`).
fn remote_tracking_refs(repo_path: &std::path::Path, remote: Option<&str>) -> Vec<String> {
    let Ok(repo) = super::odb::open(repo_path) else {
        return Vec::new();
    };
    let prefix = match remote {
        Some(r) if !r.is_empty() && !r.contains('/') && !r.contains(':') => {
            format!("refs/remotes/{r}/")
        }
        _ => "refs/remotes/".to_string(),
    };
    let Ok(platform) = repo.references() else {
        return Vec::new();
    };
    let Ok(iter) = platform.prefixed(prefix.as_str()) else {
        return Vec::new();
    };
    iter.filter_map(Result::ok)
        .map(|r| r.name().as_bstr().to_string())
        .filter(|n| !n.ends_with("/HEAD"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines() {
        let z = "0".repeat(40);
        let a = "a".repeat(40);
        let input =
            format!("refs/heads/main {a} refs/heads/main {z}\n\n(delete) {z} refs/heads/old {a}\n");
        let u = parse(&input).unwrap();
        assert_eq!(u.len(), 2);
        assert!(u[0].remote.is_null() && !u[0].local.is_null());
        assert!(u[1].local.is_null());
        assert!(parse("refs/heads/x abc").is_err());
        assert!(parse(&format!("a {a} b zz{}", &a[2..])).is_err());
    }
}
