//! GitHub's REST API: the first page of an organisation's or a user's repositories, and the
//! fields of a repository that matter here.

use super::{Repo, segment};
use serde::Deserialize;

/// `GET /orgs/{org}/repos`: every repository of the organisation (`type=all`; forks and
/// archived ones are left out or kept afterwards), oldest first so that a repository
/// created while the pages are read does not shift the ones not read yet.
pub fn org_url(api: &str, org: &str) -> String {
    format!(
        "{api}/orgs/{}/repos?per_page=100&type=all&sort=created&direction=asc",
        segment(org)
    )
}

/// `GET /users/{user}/repos`: the repositories the user owns (`type=owner`).
pub fn user_url(api: &str, user: &str) -> String {
    format!(
        "{api}/users/{}/repos?per_page=100&type=owner&sort=created&direction=asc",
        segment(user)
    )
}

/// One repository as the API lists it (other fields are ignored).
#[derive(Deserialize)]
struct GitHubRepo {
    clone_url: String,
    #[serde(default)]
    fork: bool,
    #[serde(default)]
    archived: bool,
}

/// The repositories of one page.
pub fn parse(body: &[u8]) -> serde_json::Result<Vec<Repo>> {
    let repos: Vec<GitHubRepo> = serde_json::from_slice(body)?;
    Ok(repos
        .into_iter()
        .map(|r| Repo {
            clone_url: r.clone_url,
            fork: r.fork,
            archived: r.archived,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_pages() {
        assert_eq!(
            org_url("https://api.github.com", "acme"),
            "https://api.github.com/orgs/acme/repos?per_page=100&type=all&sort=created&direction=asc"
        );
        assert_eq!(
            user_url("https://ghe.example/api/v3", "a b/../c"),
            "https://ghe.example/api/v3/users/a%20b%2F..%2Fc/repos?per_page=100&type=owner&sort=created&direction=asc"
        );
        let page = br#"[{"id":1,"clone_url":"https://github.com/acme/a.git","fork":true,"archived":false,"owner":{"login":"acme"}}]"#;
        let repos = parse(page).unwrap();
        assert_eq!(repos.len(), 1);
        assert_eq!(repos[0].clone_url, "https://github.com/acme/a.git");
        assert!(repos[0].fork && !repos[0].archived);
        assert!(parse(br#"{"message":"Not Found"}"#).is_err());
    }
}
