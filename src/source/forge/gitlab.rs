//! GitLab's REST API (v4): the first page of a group's projects, its subgroups' included,
//! and the fields of a project that matter here.

use super::{Repo, segment};
use serde::Deserialize;
use serde::de::IgnoredAny;

/// `GET /groups/{path}/projects`: the projects of the group and of every subgroup
/// (`include_subgroups=true`), not those merely shared with it (`with_shared=false`),
/// archived ones only when asked, oldest first (`order_by=id`) so that a project created
/// while the pages are read does not shift the ones not read yet.
pub fn group_url(api: &str, group: &str, include_archived: bool) -> String {
    let group = group.trim_matches('/');
    format!(
        "{api}/groups/{}/projects?include_subgroups=true&with_shared=false&per_page=100&order_by=id&sort=asc{}",
        segment(group),
        if include_archived {
            ""
        } else {
            "&archived=false"
        }
    )
}

/// One project as the API lists it (other fields are ignored).
#[derive(Deserialize)]
struct GitLabProject {
    http_url_to_repo: String,
    #[serde(default)]
    archived: bool,
    /// Present (an object) when the project is a fork.
    #[serde(default)]
    forked_from_project: Option<IgnoredAny>,
}

/// The projects of one page.
pub fn parse(body: &[u8]) -> serde_json::Result<Vec<Repo>> {
    let projects: Vec<GitLabProject> = serde_json::from_slice(body)?;
    Ok(projects
        .into_iter()
        .map(|p| Repo {
            clone_url: p.http_url_to_repo,
            fork: p.forked_from_project.is_some(),
            archived: p.archived,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_pages() {
        assert_eq!(
            group_url("https://gitlab.com/api/v4", "/acme/platform/", false),
            "https://gitlab.com/api/v4/groups/acme%2Fplatform/projects?include_subgroups=true&with_shared=false&per_page=100&order_by=id&sort=asc&archived=false"
        );
        assert!(!group_url("https://h/api/v4", "g", true).contains("archived"));
        let page = br#"[
            {"id":1,"http_url_to_repo":"https://gitlab.com/acme/a.git","archived":false,"forked_from_project":{"id":9}},
            {"id":2,"http_url_to_repo":"https://gitlab.com/acme/b.git","archived":true,"forked_from_project":null},
            {"id":3,"http_url_to_repo":"https://gitlab.com/acme/c.git"}
        ]"#;
        let repos = parse(page).unwrap();
        let flags: Vec<(bool, bool)> = repos.iter().map(|r| (r.fork, r.archived)).collect();
        assert_eq!(flags, [(true, false), (false, true), (false, false)]);
    }
}
