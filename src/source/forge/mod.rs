//! The repositories of a GitHub organisation or user, or of a GitLab group and its
//! subgroups, listed through the forge's REST API: their https clone URLs, for `shush fleet
//! enqueue`. Forks and archived repositories are left out unless asked for. Pages are
//! followed (`Link: rel="next"`, GitLab's `x-next-page`) only on the API's own host, rate
//! limits are waited out within [`Options::max_wait`], answers are read up to a size bound,
//! and the token is sent in a header and appears in no error.
//!
//! ```no_run
//! use shush::source::forge::{list, Options, Owner, Token};
//! let opts = Options {
//!     token: std::env::var("GITHUB_TOKEN").ok().and_then(Token::new),
//!     ..Options::default()
//! };
//! let listing = list(&Owner::GitHubOrg("acme".into()), &opts, &mut |w| {
//!     eprintln!("rate limited: waiting {}s", w.duration.as_secs())
//! })?;
//! println!("{} repositories", listing.urls.len());
//! # Ok::<(), shush::source::forge::Error>(())
//! ```

mod error;
mod github;
mod gitlab;
mod http;
mod link;
mod ratelimit;

pub use error::Error;
pub use ratelimit::Reason as WaitReason;

use link::Origin;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use std::collections::HashSet;
use std::fmt;
use std::time::Duration;

/// Pages read for one owner at most (10,000 repositories of 100 a page would need 100).
pub const MAX_PAGES: usize = 5_000;
/// Repositories listed for one owner at most.
pub const MAX_REPOSITORIES: usize = 100_000;
/// The longest clone URL accepted.
const MAX_URL_LEN: usize = 1024;

/// A forge whose API lists repositories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forge {
    /// GitHub (github.com, or GitHub Enterprise Server with its own API URL).
    GitHub,
    /// GitLab (gitlab.com, or a self-managed instance with its own API URL).
    GitLab,
}

impl Forge {
    /// The public service's API URL.
    pub fn default_api_url(self) -> &'static str {
        match self {
            Forge::GitHub => "https://api.github.com",
            Forge::GitLab => "https://gitlab.com/api/v4",
        }
    }
}

impl fmt::Display for Forge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Forge::GitHub => "GitHub",
            Forge::GitLab => "GitLab",
        })
    }
}

/// Whose repositories to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// A GitHub organisation (`GET /orgs/{org}/repos`).
    GitHubOrg(String),
    /// A GitHub user's own repositories (`GET /users/{user}/repos`).
    GitHubUser(String),
    /// A GitLab group by its path (`acme` or `acme/platform`), subgroups included.
    GitLabGroup(String),
}

impl Owner {
    /// The forge that holds it.
    pub fn forge(&self) -> Forge {
        match self {
            Owner::GitHubOrg(_) | Owner::GitHubUser(_) => Forge::GitHub,
            Owner::GitLabGroup(_) => Forge::GitLab,
        }
    }

    /// What it is, in a word: "organisation", "user" or "group".
    pub fn kind(&self) -> &'static str {
        match self {
            Owner::GitHubOrg(_) => "organisation",
            Owner::GitHubUser(_) => "user",
            Owner::GitLabGroup(_) => "group",
        }
    }

    fn name(&self) -> &str {
        match self {
            Owner::GitHubOrg(n) | Owner::GitHubUser(n) | Owner::GitLabGroup(n) => n,
        }
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = error::printable(self.name(), 100);
        write!(f, "{} {} `{name}`", self.forge(), self.kind())
    }
}

/// An API token. It is sent in a header and nowhere else: neither `Debug` nor any error
/// shows it.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// A token from its text (surrounding white space removed); `None` when empty.
    pub fn new(secret: impl Into<String>) -> Option<Token> {
        let s = secret.into();
        let t = s.trim();
        (!t.is_empty()).then(|| Token(t.to_string()))
    }

    /// The token itself, for the request header.
    fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

/// How to list.
#[derive(Debug, Clone)]
pub struct Options {
    /// The API's base URL; `None` for the forge's public service.
    pub api_url: Option<String>,
    /// The token, if any (without one only public repositories are listed, and GitHub
    /// allows 60 requests an hour).
    pub token: Option<Token>,
    /// Keep forks.
    pub include_forks: bool,
    /// Keep archived repositories.
    pub include_archived: bool,
    /// The longest rate-limit wait accepted; a longer one is an [`Error::RateLimited`].
    pub max_wait: Duration,
    /// The longest one request may take.
    pub timeout: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            api_url: None,
            token: None,
            include_forks: false,
            include_archived: false,
            max_wait: Duration::from_secs(15 * 60),
            timeout: Duration::from_secs(60),
        }
    }
}

/// A rate-limit wait about to happen, told to the caller of [`list`] (to say why it is
/// quiet).
#[derive(Debug, Clone)]
pub struct Wait {
    /// The forge that limited.
    pub forge: Forge,
    /// How long.
    pub duration: Duration,
    /// Which header said so.
    pub reason: WaitReason,
}

/// What [`list`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// The clone URLs kept, in the API's order but forks last (a fleet's workers then meet
    /// most forks after their origin, whose blobs they need not scan again), without
    /// duplicates.
    pub urls: Vec<String>,
    /// Forks left out (none with [`Options::include_forks`]).
    pub forks_left_out: usize,
    /// Archived repositories left out (none with [`Options::include_archived`]).
    pub archived_left_out: usize,
}

/// One repository of a page, whichever the forge.
struct Repo {
    clone_url: String,
    fork: bool,
    archived: bool,
}

/// Lists the repositories of `owner`, every page; `on_wait` hears of each rate-limit wait.
pub fn list(
    owner: &Owner,
    opts: &Options,
    on_wait: &mut dyn FnMut(&Wait),
) -> Result<Listing, Error> {
    let forge = owner.forge();
    let api = opts
        .api_url
        .as_deref()
        .unwrap_or(forge.default_api_url())
        .trim_end_matches('/');
    let client = http::Client::new(forge, api, opts)?;
    let mut next = Some(match owner {
        Owner::GitHubOrg(org) => github::org_url(api, org),
        Owner::GitHubUser(user) => github::user_url(api, user),
        Owner::GitLabGroup(group) => gitlab::group_url(api, group, opts.include_archived),
    });
    let mut listing = Listing::default();
    let (mut asked, mut kept, mut forks) = (HashSet::new(), HashSet::new(), HashSet::new());
    while let Some(url) = next.take() {
        if !asked.insert(url.clone()) || asked.len() > MAX_PAGES {
            return Err(Error::Runaway {
                url,
                what: format!("the pages loop or go past {MAX_PAGES}"),
            });
        }
        let page = client.page(&url, owner, on_wait)?;
        let repos = match forge {
            Forge::GitHub => github::parse(&page.body),
            Forge::GitLab => gitlab::parse(&page.body),
        }
        .map_err(|source| Error::BadJson {
            url: url.clone(),
            source,
        })?;
        for repo in repos {
            if repo.fork {
                forks.insert(repo.clone_url.clone());
            }
            listing.add(repo, owner, opts, &mut kept)?;
        }
        if listing.urls.len() > MAX_REPOSITORIES {
            return Err(Error::Runaway {
                url,
                what: format!("more than {MAX_REPOSITORIES} repositories"),
            });
        }
        next = page.next;
    }
    listing.urls.sort_by_key(|url| forks.contains(url));
    Ok(listing)
}

impl Listing {
    /// Keeps `repo`, or counts it as left out; a clone URL that is not http(s) fails.
    fn add(
        &mut self,
        repo: Repo,
        owner: &Owner,
        opts: &Options,
        kept: &mut HashSet<String>,
    ) -> Result<(), Error> {
        let url = repo.clone_url;
        let clean =
            url.len() <= MAX_URL_LEN && !url.chars().any(|c| c.is_whitespace() || c.is_control());
        if !clean || Origin::of(&url).is_none() {
            return Err(Error::BadCloneUrl {
                owner: owner.to_string(),
                url: error::printable(&url, 200),
            });
        }
        if repo.fork && !opts.include_forks {
            self.forks_left_out += 1;
        } else if repo.archived && !opts.include_archived {
            self.archived_left_out += 1;
        } else if kept.insert(url.clone()) {
            self.urls.push(url);
        }
        Ok(())
    }
}

/// `name` as one URL path segment: every byte but letters, digits and `-._~` escaped (a
/// GitLab group path's `/` becomes `%2F`, as its API wants).
fn segment(name: &str) -> String {
    const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    utf8_percent_encode(name, SEGMENT).to_string()
}
