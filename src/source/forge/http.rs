//! One forge's API client: GETs a page with the forge's headers and the token, follows
//! redirects and next pages only to the API's own origin (the token never goes elsewhere),
//! waits out rate limits within a bound, reads at most [`MAX_PAGE_BYTES`] of an answer and
//! turns every refusal into an [`Error`] that names no secret.

use super::error::{Error, printable};
use super::link::{self, Origin};
use super::ratelimit;
use super::{Forge, Options, Owner, Token, Wait};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use ureq::Body;
use ureq::http::Response;

/// The largest page read: a page of 100 repositories is well under 1 MiB.
pub const MAX_PAGE_BYTES: u64 = 16 << 20;
/// The most of an error answer read for its message.
const MAX_ERROR_BYTES: u64 = 64 << 10;
/// Redirects followed for one page.
const MAX_REDIRECTS: u32 = 5;
/// Retries of one page refused for rate limits.
const MAX_RETRIES: u32 = 8;

/// One page of a listing: its body and the absolute URL of the next page, if any.
pub struct Page {
    /// The JSON body.
    pub body: Vec<u8>,
    /// The next page (same origin as the API).
    pub next: Option<String>,
}

/// A refused request: its status, the rate-limit headers and the server's message.
struct Refusal {
    status: u16,
    retry_after: Option<String>,
    remaining: Option<String>,
    reset: Option<String>,
    message: String,
}

/// A client for one forge's API at one origin.
pub struct Client<'a> {
    agent: ureq::Agent,
    forge: Forge,
    origin: Origin,
    token: Option<&'a Token>,
    max_wait: Duration,
}

impl<'a> Client<'a> {
    /// A client for the API at `api`; refuses an API URL that is not absolute http(s), and
    /// a token over plain http to another machine.
    pub fn new(forge: Forge, api: &str, opts: &'a Options) -> Result<Client<'a>, Error> {
        let origin = Origin::of(api).ok_or_else(|| Error::BadApiUrl {
            url: printable(api, 200),
        })?;
        if opts.token.is_some() && !origin.is_https() && !origin.is_loopback() {
            return Err(Error::PlainHttpToken {
                forge,
                url: api.to_string(),
            });
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // Redirects are followed here, only to the API's origin: ureq would carry
            // GitLab's PRIVATE-TOKEN header to any host.
            .max_redirects(0)
            .timeout_global(Some(opts.timeout))
            .timeout_connect(Some(opts.timeout.min(Duration::from_secs(30))))
            .user_agent(concat!("shush/", env!("CARGO_PKG_VERSION")))
            // The system's trust store (and SSL_CERT_FILE): GitHub Enterprise and GitLab
            // servers behind a company's own CA, and TLS-inspecting proxies, work as with git.
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                    .build(),
            )
            .build();
        Ok(Client {
            agent: ureq::Agent::new_with_config(config),
            forge,
            origin,
            token: opts.token.as_ref(),
            max_wait: opts.max_wait,
        })
    }

    /// GETs the page at `url`, waiting out rate limits (each wait told to `on_wait`).
    pub fn page(
        &self,
        url: &str,
        owner: &Owner,
        on_wait: &mut dyn FnMut(&Wait),
    ) -> Result<Page, Error> {
        let mut url = url.to_string();
        let (mut redirects, mut retries) = (0, 0);
        loop {
            let resp = self.send(&url)?;
            if resp.status().is_success() {
                return self.read_page(&url, resp);
            }
            if resp.status().is_redirection() && redirects < MAX_REDIRECTS {
                let to = header(&resp, "location").unwrap_or_default();
                url = self.same_origin(&url, &to)?;
                redirects += 1;
                continue;
            }
            let refusal = self.refusal(resp);
            let h = ratelimit::Headers {
                retry_after: refusal.retry_after.as_deref(),
                remaining: refusal.remaining.as_deref(),
                reset: refusal.reset.as_deref(),
            };
            match ratelimit::wait(refusal.status, &h, &refusal.message, now(), retries) {
                Some(_) if retries == MAX_RETRIES => {
                    return Err(Error::StillLimited {
                        forge: self.forge,
                        retries,
                        url,
                    });
                }
                Some((duration, reason)) => {
                    self.wait(duration, reason, on_wait)?;
                    retries += 1;
                }
                None => return Err(self.refused(&url, owner, refusal)),
            }
        }
    }

    /// Sends one GET with the forge's headers and the token.
    fn send(&self, url: &str) -> Result<Response<Body>, Error> {
        let mut req = self.agent.get(url);
        req = match self.forge {
            Forge::GitHub => req
                .header("Accept", "application/vnd.github+json")
                .header("X-GitHub-Api-Version", "2022-11-28"),
            Forge::GitLab => req.header("Accept", "application/json"),
        };
        if let Some(token) = self.token {
            req = match self.forge {
                Forge::GitHub => req.header("Authorization", format!("Bearer {}", token.expose())),
                Forge::GitLab => req.header("PRIVATE-TOKEN", token.expose()),
            };
        }
        req.call().map_err(|e| Error::Transport {
            url: url.to_string(),
            source: Box::new(e),
        })
    }

    /// Reads a page's body (bounded) and where its next page is.
    fn read_page(&self, url: &str, resp: Response<Body>) -> Result<Page, Error> {
        let links: Vec<&str> = resp
            .headers()
            .get_all("link")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let next = match link::next(&links) {
            Some(target) => Some(target),
            // GitLab: the next page's number, empty on the last page.
            None => header(&resp, "x-next-page")
                .and_then(|n| n.trim().parse::<u64>().ok())
                .map(|n| link::with_page(url, n)),
        };
        let next = next.map(|t| self.same_origin(url, &t)).transpose()?;
        let body = resp
            .into_body()
            .with_config()
            .limit(MAX_PAGE_BYTES)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(limit) => Error::TooLarge {
                    url: url.to_string(),
                    limit,
                },
                e => Error::Transport {
                    url: url.to_string(),
                    source: Box::new(e),
                },
            })?;
        Ok(Page { body, next })
    }

    /// `target` (absolute, or a path on the API's host) when it is on the API's origin.
    fn same_origin(&self, url: &str, target: &str) -> Result<String, Error> {
        let absolute = self.origin.resolve(target);
        if Origin::of(&absolute).as_ref() == Some(&self.origin) {
            return Ok(absolute);
        }
        Err(Error::ForeignUrl {
            url: url.to_string(),
            to: printable(target, 200),
        })
    }

    /// Waits `duration` when it is within the bound, else fails.
    fn wait(
        &self,
        duration: Duration,
        reason: ratelimit::Reason,
        on_wait: &mut dyn FnMut(&Wait),
    ) -> Result<(), Error> {
        if duration > self.max_wait {
            return Err(Error::RateLimited {
                forge: self.forge,
                wait_s: duration.as_secs(),
                max_s: self.max_wait.as_secs(),
                had_token: self.token.is_some(),
            });
        }
        on_wait(&Wait {
            forge: self.forge,
            duration,
            reason,
        });
        std::thread::sleep(duration);
        Ok(())
    }

    /// The status, rate-limit headers and message of a refused request.
    fn refusal(&self, resp: Response<Body>) -> Refusal {
        let owned = |name: &str| header(&resp, name);
        let mut refusal = Refusal {
            status: resp.status().as_u16(),
            retry_after: owned("retry-after"),
            remaining: owned("x-ratelimit-remaining").or_else(|| owned("ratelimit-remaining")),
            reset: owned("x-ratelimit-reset").or_else(|| owned("ratelimit-reset")),
            message: String::new(),
        };
        let body = resp
            .into_body()
            .with_config()
            .limit(MAX_ERROR_BYTES)
            .read_to_vec()
            .unwrap_or_default();
        refusal.message = self.message(&body);
        refusal
    }

    /// The server's message in an error body (`message` or `error` of a JSON object, else
    /// the text), short, printable and without the token should a server echo it.
    fn message(&self, body: &[u8]) -> String {
        let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let text = json
            .as_ref()
            .and_then(|v| v.get("message").or_else(|| v.get("error")))
            .map(|m| m.as_str().map_or_else(|| m.to_string(), str::to_string))
            .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
        let text = match self.token {
            Some(t) => text.replace(t.expose(), "***"),
            None => text,
        };
        printable(&text, 200)
    }

    /// The error for a refusal that is not a rate limit.
    fn refused(&self, url: &str, owner: &Owner, r: Refusal) -> Error {
        match r.status {
            401 => Error::Unauthorized {
                forge: self.forge,
                had_token: self.token.is_some(),
            },
            404 => Error::NotFound {
                owner: owner.to_string(),
                kind: owner.kind(),
            },
            403 => Error::Forbidden {
                owner: owner.to_string(),
                message: r.message,
            },
            status => Error::Status {
                url: url.to_string(),
                status,
                message: r.message,
            },
        }
    }
}

/// The value of the header `name`, when it is text.
fn header(resp: &Response<Body>, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Now, in UTC epoch seconds.
fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
