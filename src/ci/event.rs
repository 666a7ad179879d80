//! Which CI a job runs in, and what its event asks to scan.
//!
//! | CI, event | scanned |
//! |---|---|
//! | GitHub `pull_request*`, `merge_group` | the commits of `base..head` |
//! | GitHub `push` to a branch | `before..after` |
//! | GitHub `push` creating a branch | the commits not on the default branch |
//! | GitHub `push` after a force-push (`before` gone) | as a new branch |
//! | GitHub `push` deleting a branch | nothing |
//! | GitHub tag push, `workflow_dispatch`, `schedule`, `release`, others | the tree at the commit |
//! | GitLab `merge_request_event` | `CI_MERGE_REQUEST_DIFF_BASE_SHA..CI_COMMIT_SHA` |
//! | GitLab `push` | `CI_COMMIT_BEFORE_SHA..CI_COMMIT_SHA`; a new branch as on GitHub |
//! | GitLab tag (`CI_COMMIT_TAG`), `schedule`, `web`, `api`, others | the tree at the commit |
//! | any CI (`CI=true`) | the tree at `HEAD` |
//!
//! `--since REV` overrides all of these with `REV..HEAD`.

use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;

/// A CI system shush knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// GitHub Actions (`GITHUB_ACTIONS=true`).
    GitHub,
    /// GitLab CI (`GITLAB_CI=true`).
    GitLab,
    /// Any other CI (`CI=true`): no event to read.
    Generic,
}

impl Provider {
    /// The CI's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Provider::GitHub => "GitHub Actions",
            Provider::GitLab => "GitLab CI",
            Provider::Generic => "CI",
        }
    }
}

/// Errors reading a CI's event.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CiError {
    /// No CI was detected.
    #[error(
        "not running in a CI job (none of GITHUB_ACTIONS, GITLAB_CI or CI is set): use \
         `shush git` to audit history, or --provider to name the CI"
    )]
    NotInCi,
    /// A variable the event needs is not set.
    #[error("{provider}: {var} is not set")]
    Missing {
        /// The CI.
        provider: &'static str,
        /// The variable.
        var: &'static str,
    },
    /// The event file could not be read.
    #[error("{}: {source}", path.display())]
    EventFile {
        /// The file (`GITHUB_EVENT_PATH`).
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The event file is not what the event name says.
    #[error("{}: {message}", path.display())]
    EventJson {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// The environment a CI job sees (a snapshot, so tests can build one).
#[derive(Debug, Clone, Default)]
pub struct Vars(HashMap<String, String>);

impl Vars {
    /// The process environment (variables that are not UTF-8 are left out).
    pub fn from_env() -> Self {
        Vars(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        )
    }

    /// A set of variables.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Vars(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    /// A variable's value; unset and empty are the same.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn is_true(&self, key: &str) -> bool {
        self.get(key)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }
}

/// The CI the environment describes, if any.
pub fn detect(vars: &Vars) -> Option<Provider> {
    if vars.is_true("GITHUB_ACTIONS") {
        Some(Provider::GitHub)
    } else if vars.is_true("GITLAB_CI") {
        Some(Provider::GitLab)
    } else if vars
        .get("CI")
        .is_some_and(|v| v != "0" && !v.eq_ignore_ascii_case("false"))
    {
        Some(Provider::Generic)
    } else {
        None
    }
}

/// What to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The blobs introduced by the commits reachable from `head` and not from `exclude`.
    Commits {
        /// The newest commit.
        head: String,
        /// Revisions whose history is already checked.
        exclude: Vec<String>,
    },
    /// Every file in the tree of `rev`.
    Tree {
        /// The commit.
        rev: String,
    },
    /// Nothing (a deleted branch).
    Nothing,
}

/// What a CI job scans, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The CI.
    pub provider: Provider,
    /// What to scan.
    pub target: Target,
    /// One line for people: the event and the range (`pull request #12: a1b2c3d..e4f5a6b`).
    pub describe: String,
    /// Things the user should know (a fallback taken, a ref missing).
    pub notes: Vec<String>,
}

/// Decides what to scan. `exists(rev)` says whether a revision resolves in the repository
/// (to take a new branch's default branch, or to notice a force-push).
pub fn plan(
    provider: Provider,
    vars: &Vars,
    since: Option<&str>,
    exists: &dyn Fn(&str) -> bool,
) -> Result<Plan, CiError> {
    if let Some(since) = since {
        let head = match provider {
            Provider::GitHub => vars.get("GITHUB_SHA"),
            Provider::GitLab => vars.get("CI_COMMIT_SHA"),
            Provider::Generic => None,
        }
        .unwrap_or("HEAD");
        return Ok(Plan {
            provider,
            target: Target::Commits {
                head: head.to_string(),
                exclude: vec![since.to_string()],
            },
            describe: format!("--since {since}: {since}..{}", short(head)),
            notes: Vec::new(),
        });
    }
    match provider {
        Provider::GitHub => github(vars, exists),
        Provider::GitLab => Ok(gitlab(vars, exists)),
        Provider::Generic => Ok(Plan {
            provider,
            target: Target::Tree { rev: "HEAD".into() },
            describe: "no CI event to read: the tree at HEAD".into(),
            notes: Vec::new(),
        }),
    }
}

/// An all-zero object id: "no commit" (a branch that did not exist before the push).
fn is_null(sha: &str) -> bool {
    !sha.is_empty() && sha.bytes().all(|b| b == b'0')
}

/// A commit id shortened for people.
fn short(rev: &str) -> &str {
    if rev.len() == 40 || rev.len() == 64 {
        &rev[..12]
    } else {
        rev
    }
}

fn github(vars: &Vars, exists: &dyn Fn(&str) -> bool) -> Result<Plan, CiError> {
    let event_name = vars.get("GITHUB_EVENT_NAME").unwrap_or("");
    let sha = vars.get("GITHUB_SHA").unwrap_or("HEAD").to_string();
    let needs_event = matches!(
        event_name,
        "pull_request"
            | "pull_request_target"
            | "pull_request_review"
            | "pull_request_review_comment"
            | "merge_group"
            | "push"
    );
    if !needs_event {
        let what = if event_name.is_empty() {
            "no event"
        } else {
            event_name
        };
        return Ok(tree(Provider::GitHub, &sha, what));
    }
    let (path, event) = read_event(vars)?;
    let text = |pointer: &str| {
        event
            .pointer(pointer)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let need = |pointer: &str| {
        text(pointer).ok_or_else(|| CiError::EventJson {
            path: path.clone(),
            message: format!("a `{event_name}` event without {pointer}"),
        })
    };
    match event_name {
        "merge_group" => {
            let (base, head) = (
                need("/merge_group/base_sha")?,
                need("/merge_group/head_sha")?,
            );
            Ok(commits(Provider::GitHub, &head, &base, "merge queue"))
        }
        "push" => {
            let after = need("/after")?;
            let git_ref = text("/ref").unwrap_or_default();
            let push = Push {
                provider: Provider::GitHub,
                after,
                before: text("/before"),
                git_ref,
                default_branch: text("/repository/default_branch"),
                deleted: event.pointer("/deleted").and_then(Value::as_bool) == Some(true),
                forced: event.pointer("/forced").and_then(Value::as_bool) == Some(true),
            };
            Ok(push.plan(exists))
        }
        _ => {
            let (base, head) = (
                need("/pull_request/base/sha")?,
                need("/pull_request/head/sha")?,
            );
            let number = event
                .pointer("/pull_request/number")
                .and_then(Value::as_u64)
                .map_or(String::new(), |n| format!(" #{n}"));
            Ok(commits(
                Provider::GitHub,
                &head,
                &base,
                &format!("pull request{number}"),
            ))
        }
    }
}

/// Reads `GITHUB_EVENT_PATH`.
fn read_event(vars: &Vars) -> Result<(PathBuf, Value), CiError> {
    let path = PathBuf::from(vars.get("GITHUB_EVENT_PATH").ok_or(CiError::Missing {
        provider: "GitHub Actions",
        var: "GITHUB_EVENT_PATH",
    })?);
    let text = std::fs::read_to_string(&path).map_err(|source| CiError::EventFile {
        path: path.clone(),
        source,
    })?;
    let event = serde_json::from_str(&text).map_err(|e| CiError::EventJson {
        path: path.clone(),
        message: format!("not JSON: {e}"),
    })?;
    Ok((path, event))
}

fn gitlab(vars: &Vars, exists: &dyn Fn(&str) -> bool) -> Plan {
    let sha = vars.get("CI_COMMIT_SHA").unwrap_or("HEAD").to_string();
    let source = vars.get("CI_PIPELINE_SOURCE").unwrap_or("");
    if vars.get("CI_COMMIT_TAG").is_some() {
        return tree(Provider::GitLab, &sha, "tag pipeline");
    }
    match source {
        "merge_request_event" => {
            let base = vars
                .get("CI_MERGE_REQUEST_DIFF_BASE_SHA")
                .map(str::to_string)
                .or_else(|| {
                    vars.get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME")
                        .map(|b| format!("refs/remotes/origin/{b}"))
                });
            let iid = vars
                .get("CI_MERGE_REQUEST_IID")
                .map_or(String::new(), |n| format!(" !{n}"));
            let what = format!("merge request{iid}");
            match base {
                Some(base) => commits(Provider::GitLab, &sha, &base, &what),
                None => tree(Provider::GitLab, &sha, &what),
            }
        }
        "push" => Push {
            provider: Provider::GitLab,
            after: sha,
            before: vars.get("CI_COMMIT_BEFORE_SHA").map(str::to_string),
            git_ref: vars
                .get("CI_COMMIT_BRANCH")
                .map(|b| format!("refs/heads/{b}"))
                .unwrap_or_default(),
            default_branch: vars.get("CI_DEFAULT_BRANCH").map(str::to_string),
            deleted: false,
            forced: false,
        }
        .plan(exists),
        "" => tree(Provider::GitLab, &sha, "pipeline"),
        other => tree(Provider::GitLab, &sha, &format!("{other} pipeline")),
    }
}

fn commits(provider: Provider, head: &str, base: &str, what: &str) -> Plan {
    Plan {
        provider,
        target: Target::Commits {
            head: head.to_string(),
            exclude: vec![base.to_string()],
        },
        describe: format!("{what}: commits {}..{}", short(base), short(head)),
        notes: Vec::new(),
    }
}

fn tree(provider: Provider, rev: &str, what: &str) -> Plan {
    Plan {
        provider,
        target: Target::Tree {
            rev: rev.to_string(),
        },
        describe: format!("{what}: the tree at {}", short(rev)),
        notes: Vec::new(),
    }
}

/// A push, as either CI describes it.
struct Push {
    provider: Provider,
    after: String,
    before: Option<String>,
    git_ref: String,
    default_branch: Option<String>,
    deleted: bool,
    forced: bool,
}

impl Push {
    fn plan(self, exists: &dyn Fn(&str) -> bool) -> Plan {
        let provider = self.provider;
        if self.deleted || is_null(&self.after) {
            return Plan {
                provider,
                target: Target::Nothing,
                describe: format!("push deleting {}: nothing to scan", self.git_ref),
                notes: Vec::new(),
            };
        }
        if self.git_ref.starts_with("refs/tags/") {
            return tree(provider, &self.after, "tag push");
        }
        match self.before.as_deref() {
            Some(before) if !is_null(before) && exists(before) => {
                commits(provider, &self.after, before, "push")
            }
            Some(before) if !is_null(before) => {
                let why = if self.forced { "force-push" } else { "push" };
                let mut plan = self.new_branch(exists, why);
                plan.notes.push(format!(
                    "the commit before the push ({}) is not in the clone (history rewritten, \
                     or a shallow clone): scanning the commits not on the default branch",
                    short(before)
                ));
                plan
            }
            _ => self.new_branch(exists, "push creating a branch"),
        }
    }

    /// The commits of a branch that the default branch does not have.
    fn new_branch(&self, exists: &dyn Fn(&str) -> bool, what: &str) -> Plan {
        let branch = self.git_ref.strip_prefix("refs/heads/").unwrap_or("");
        let Some(default) = self.default_branch.as_deref() else {
            return self.whole_history(what, "the default branch is not known".into());
        };
        if branch == default {
            return self.whole_history(what, format!("`{default}` is the default branch"));
        }
        let candidates = [
            format!("refs/remotes/origin/{default}"),
            format!("refs/heads/{default}"),
        ];
        match candidates.into_iter().find(|c| exists(c)) {
            Some(base) => {
                let mut plan = commits(self.provider, &self.after, &base, what);
                plan.describe = format!(
                    "{what}: commits of {} not on {default}",
                    if branch.is_empty() { "HEAD" } else { branch }
                );
                plan
            }
            None => self.whole_history(
                what,
                format!(
                    "the default branch `{default}` is not in the clone (fetch it, e.g. \
                     `git fetch origin {default}`, to scan only the new commits)"
                ),
            ),
        }
    }

    fn whole_history(&self, what: &str, why: String) -> Plan {
        Plan {
            provider: self.provider,
            target: Target::Commits {
                head: self.after.clone(),
                exclude: Vec::new(),
            },
            describe: format!("{what}: every commit of {}", short(&self.after)),
            notes: vec![format!("{why}: scanning the branch's whole history")],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_refs(_: &str) -> bool {
        false
    }

    #[test]
    fn detection_order_and_values() {
        let v = Vars::from_pairs([("GITHUB_ACTIONS", "true"), ("CI", "true")]);
        assert_eq!(detect(&v), Some(Provider::GitHub));
        let v = Vars::from_pairs([("GITLAB_CI", "true"), ("CI", "true")]);
        assert_eq!(detect(&v), Some(Provider::GitLab));
        assert_eq!(
            detect(&Vars::from_pairs([("CI", "1")])),
            Some(Provider::Generic)
        );
        assert_eq!(detect(&Vars::from_pairs([("CI", "false")])), None);
        assert_eq!(detect(&Vars::from_pairs([("CI", "")])), None);
        assert_eq!(detect(&Vars::default()), None);
    }

    #[test]
    fn gitlab_events() {
        let mr = Vars::from_pairs([
            ("CI_PIPELINE_SOURCE", "merge_request_event"),
            ("CI_MERGE_REQUEST_DIFF_BASE_SHA", "base"),
            ("CI_COMMIT_SHA", "head"),
        ]);
        let p = plan(Provider::GitLab, &mr, None, &no_refs).unwrap();
        assert_eq!(
            p.target,
            Target::Commits {
                head: "head".into(),
                exclude: vec!["base".into()]
            }
        );
        let tag = Vars::from_pairs([
            ("CI_PIPELINE_SOURCE", "push"),
            ("CI_COMMIT_TAG", "v1"),
            ("CI_COMMIT_SHA", "head"),
        ]);
        let p = plan(Provider::GitLab, &tag, None, &no_refs).unwrap();
        assert_eq!(p.target, Target::Tree { rev: "head".into() });
        let new_branch = Vars::from_pairs([
            ("CI_PIPELINE_SOURCE", "push"),
            ("CI_COMMIT_BEFORE_SHA", &"0".repeat(40)),
            ("CI_COMMIT_SHA", "head"),
            ("CI_COMMIT_BRANCH", "feature"),
            ("CI_DEFAULT_BRANCH", "main"),
        ]);
        let has_main = |r: &str| r == "refs/remotes/origin/main";
        let p = plan(Provider::GitLab, &new_branch, None, &has_main).unwrap();
        assert_eq!(
            p.target,
            Target::Commits {
                head: "head".into(),
                exclude: vec!["refs/remotes/origin/main".into()]
            }
        );
        // Without the default branch in the clone: the whole branch, with a note.
        let p = plan(Provider::GitLab, &new_branch, None, &no_refs).unwrap();
        assert_eq!(
            p.target,
            Target::Commits {
                head: "head".into(),
                exclude: vec![]
            }
        );
        assert!(
            p.notes[0].contains("git fetch origin main"),
            "{:?}",
            p.notes
        );
    }

    #[test]
    fn since_overrides_the_event() {
        let v = Vars::from_pairs([("GITHUB_SHA", "abc")]);
        let p = plan(Provider::GitHub, &v, Some("v1.0"), &no_refs).unwrap();
        assert_eq!(
            p.target,
            Target::Commits {
                head: "abc".into(),
                exclude: vec!["v1.0".into()]
            }
        );
        let p = plan(Provider::Generic, &Vars::default(), None, &no_refs).unwrap();
        assert_eq!(p.target, Target::Tree { rev: "HEAD".into() });
    }
}
