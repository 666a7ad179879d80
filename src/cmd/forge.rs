//! `shush fleet enqueue --github-org ORG | --github-user USER | --gitlab-group GROUP`: the
//! repositories of organisations, users and groups, listed through the forges' APIs
//! ([`shush::source::forge`]) with a token from the environment, for the queue.

use anyhow::{Result, bail};
use clap::Args;
use clap::builder::NonEmptyStringValueParser;
use shush::source::forge::{self, Forge, Options, Owner, Token, WaitReason};
use std::time::Duration;

/// Environment variables read for a GitHub token, the first set wins (the `gh` CLI's order).
const GITHUB_TOKEN_VARS: [&str; 2] = ["GH_TOKEN", "GITHUB_TOKEN"];
/// Environment variable read for a GitLab token.
const GITLAB_TOKEN_VAR: &str = "GITLAB_TOKEN";

/// Organisations, users and groups whose repositories to queue.
#[derive(Debug, Args)]
#[command(next_help_heading = "Organisations (GH_TOKEN or GITHUB_TOKEN, GITLAB_TOKEN)")]
pub struct ForgeArgs {
    /// Queue every repository of a GitHub organisation (repeatable).
    #[arg(long, value_name = "ORG", value_parser = NonEmptyStringValueParser::new())]
    pub github_org: Vec<String>,
    /// Queue the repositories a GitHub user owns (repeatable).
    #[arg(long, value_name = "USER", value_parser = NonEmptyStringValueParser::new())]
    pub github_user: Vec<String>,
    /// Queue every project of a GitLab group and its subgroups, by path (repeatable).
    #[arg(long, value_name = "GROUP", value_parser = NonEmptyStringValueParser::new())]
    pub gitlab_group: Vec<String>,
    /// Queue forks too (left out by default).
    #[arg(long)]
    pub include_forks: bool,
    /// Queue archived repositories too (left out by default).
    #[arg(long)]
    pub include_archived: bool,
    /// The API's base URL, for GitHub Enterprise Server (`https://HOST/api/v3`) or a
    /// self-managed GitLab (`https://HOST/api/v4`); default: github.com's or gitlab.com's.
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// The longest wait for a rate limit to reset, in seconds; a longer one fails.
    #[arg(long, value_name = "SECONDS", default_value_t = 900)]
    pub max_wait: u64,
}

impl ForgeArgs {
    /// The owners named, in the order of the flags.
    fn owners(&self) -> Vec<Owner> {
        let orgs = self.github_org.iter().cloned().map(Owner::GitHubOrg);
        let users = self.github_user.iter().cloned().map(Owner::GitHubUser);
        let groups = self.gitlab_group.iter().cloned().map(Owner::GitLabGroup);
        orgs.chain(users).chain(groups).collect()
    }
}

/// The clone URLs of every owner named (none when none is); each owner's count, and what
/// was left out, goes to standard error. Any failure fails the whole: nothing half listed
/// is queued.
pub fn enumerate(args: &ForgeArgs) -> Result<Vec<String>> {
    let owners = args.owners();
    if owners.is_empty() {
        if args.api_url.is_some() {
            bail!("--api-url needs --github-org, --github-user or --gitlab-group");
        }
        return Ok(Vec::new());
    }
    let both = [Forge::GitHub, Forge::GitLab]
        .iter()
        .all(|f| owners.iter().any(|o| o.forge() == *f));
    if args.api_url.is_some() && both {
        bail!("--api-url names one forge's API: list GitHub and GitLab owners in separate runs");
    }
    let mut urls = Vec::new();
    for owner in &owners {
        let opts = options(args, owner.forge());
        let listing = forge::list(owner, &opts, &mut |w| {
            let why = match w.reason {
                WaitReason::RetryAfter => "as retry-after asks",
                WaitReason::Reset => "until the rate limit resets",
                WaitReason::Backoff => "backing off",
            };
            eprintln!(
                "shush: fleet: {} rate limit: waiting {}s ({why})",
                w.forge,
                w.duration.as_secs()
            );
        })?;
        eprintln!("shush: fleet: {owner}: {}", summary(&listing));
        urls.extend(listing.urls);
    }
    Ok(urls)
}

/// The listing options for `forge`, its token read from the environment.
fn options(args: &ForgeArgs, forge: Forge) -> Options {
    let vars: &[&str] = match forge {
        Forge::GitHub => &GITHUB_TOKEN_VARS,
        Forge::GitLab => &[GITLAB_TOKEN_VAR],
    };
    Options {
        api_url: args.api_url.clone(),
        token: vars
            .iter()
            .find_map(|v| std::env::var(v).ok().and_then(Token::new)),
        include_forks: args.include_forks,
        include_archived: args.include_archived,
        max_wait: Duration::from_secs(args.max_wait),
        ..Options::default()
    }
}

/// "3 repositories (left out: 1 fork, 2 archived; --include-forks, --include-archived
/// keep them)".
fn summary(l: &forge::Listing) -> String {
    let n = l.urls.len();
    let mut s = format!("{n} repositor{}", if n == 1 { "y" } else { "ies" });
    let mut out = Vec::new();
    let mut flags = Vec::new();
    if l.forks_left_out > 0 {
        let f = l.forks_left_out;
        out.push(format!("{f} fork{}", if f == 1 { "" } else { "s" }));
        flags.push("--include-forks");
    }
    if l.archived_left_out > 0 {
        out.push(format!("{} archived", l.archived_left_out));
        flags.push("--include-archived");
    }
    if !out.is_empty() {
        s += &format!(
            " (left out: {}; {} keep{} them)",
            out.join(", "),
            flags.join(", "),
            if flags.len() == 1 { "s" } else { "" }
        );
    }
    s
}
