//! The CI platform shush runs under, and the CI's own credentials that a job's environment
//! holds: masked by default as known secrets (`--no-ci-secrets` turns this off), because a
//! sink after shush (`| tee build.log`, an artifact) gets what the platform only masks in
//! its own log.
//!
//! GitHub Actions (`GITHUB_ACTIONS=true`): `GITHUB_TOKEN` is not set by the runner (a
//! workflow passes it, often under that name); `ACTIONS_ID_TOKEN_REQUEST_TOKEN` is set for
//! `run` steps of jobs allowed `id-token: write`; `ACTIONS_RUNTIME_TOKEN` for JavaScript and
//! container actions (actions/runner `ScriptHandler.cs`, `NodeScriptActionHandler.cs`).
//!
//! GitLab CI (`GITLAB_CI=true`, predefined variables): `CI_JOB_TOKEN`,
//! `CI_REGISTRY_PASSWORD` (when the registry is enabled), `CI_DEPENDENCY_PROXY_PASSWORD`,
//! `CI_DEPLOY_PASSWORD` (with a `gitlab-deploy-token`), `CI_JOB_JWT`, `CI_JOB_JWT_V1` and
//! `CI_JOB_JWT_V2` (removed in GitLab 17.0, still set by older instances), and the job token
//! in the userinfo of `CI_REPOSITORY_URL` (`https://gitlab-ci-token:TOKEN@host/…`).

use shush::redact::KnownValue;

/// The CI platforms detected from the environment.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Ci {
    /// GitHub Actions.
    pub github: bool,
    /// GitLab CI.
    pub gitlab: bool,
}

impl Ci {
    /// From `GITHUB_ACTIONS` and `GITLAB_CI`.
    pub fn detect() -> Ci {
        let is_true = |name: &str| std::env::var_os(name).is_some_and(|v| v == "true");
        Ci {
            github: is_true("GITHUB_ACTIONS"),
            gitlab: is_true("GITLAB_CI"),
        }
    }
}

const GITHUB: &[&str] = &[
    "GITHUB_TOKEN",
    "ACTIONS_RUNTIME_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
];

const GITLAB: &[&str] = &[
    "CI_JOB_TOKEN",
    "CI_REGISTRY_PASSWORD",
    "CI_DEPENDENCY_PROXY_PASSWORD",
    "CI_DEPLOY_PASSWORD",
    "CI_JOB_JWT",
    "CI_JOB_JWT_V1",
    "CI_JOB_JWT_V2",
];

/// The CI's credentials present in the environment, except the variables in `skip`
/// (already given as known secrets). A value too short to mask is a warning that names the
/// variable, never the value.
pub(crate) fn credentials(ci: Ci, skip: &[String], warnings: &mut Vec<String>) -> Vec<KnownValue> {
    let mut names: Vec<&str> = Vec::new();
    if ci.github {
        names.extend(GITHUB);
    }
    if ci.gitlab {
        names.extend(GITLAB);
    }
    let mut out = Vec::new();
    let mut push = |r: Result<KnownValue, shush::error::KnownValueError>| match r {
        Ok(v) => out.push(v),
        Err(w) => warnings.push(w.to_string()),
    };
    for name in names {
        if skip.iter().any(|s| s == name) {
            continue;
        }
        if let Some(v) = std::env::var_os(name).filter(|v| !v.is_empty()) {
            push(KnownValue::new(format!("env:{name}"), v.as_encoded_bytes()));
        }
    }
    if ci.gitlab && !skip.iter().any(|s| s == "CI_REPOSITORY_URL") {
        let url = std::env::var_os("CI_REPOSITORY_URL").unwrap_or_default();
        if let Some(pw) = url_password(url.as_encoded_bytes()) {
            push(KnownValue::new("env:CI_REPOSITORY_URL (password)", pw));
        }
    }
    out
}

/// The password in a URL's userinfo (`scheme://user:PASSWORD@host/…`), if any.
fn url_password(url: &[u8]) -> Option<&[u8]> {
    let after = memchr::memmem::find(url, b"://")? + 3;
    let rest = &url[after..];
    let authority = &rest[..memchr::memchr3(b'/', b'?', b'#', rest).unwrap_or(rest.len())];
    let userinfo = &authority[..memchr::memrchr(b'@', authority)?];
    let colon = memchr::memchr(b':', userinfo)?;
    Some(&userinfo[colon + 1..]).filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_of_a_repository_url() {
        assert_eq!(
            url_password(b"https://gitlab-ci-token:glcbt-64_AbC@gitlab.example.com/g/p.git"), // shush:allow
            Some(&b"glcbt-64_AbC"[..])
        );
        assert_eq!(url_password(b"https://gitlab.example.com/g/p.git"), None);
        assert_eq!(url_password(b"https://user@host/p"), None);
        assert_eq!(url_password(b"https://user:@host/p"), None);
        // An `@` in the path is not userinfo.
        assert_eq!(url_password(b"https://host/a:b@c"), None);
    }
}
