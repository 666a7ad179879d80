//! What can go wrong while listing an owner's repositories. No variant holds the token:
//! messages name the owner, the forge and the URL asked (the token travels in a header,
//! never in a URL), and text that came from the server is cut short and made printable.

use super::Forge;

/// An error of [`super::list`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API URL is not an absolute `http`/`https` URL without credentials.
    #[error("invalid API URL {url:?}: give an absolute http(s) URL without credentials")]
    BadApiUrl {
        /// The URL given.
        url: String,
    },
    /// A token would have gone over plain http to another machine.
    #[error("refusing to send the {forge} token over plain http to {url}: use an https API URL")]
    PlainHttpToken {
        /// The forge.
        forge: Forge,
        /// The API URL.
        url: String,
    },
    /// 404: the owner does not exist or is hidden from this token.
    #[error("{owner}: no such {kind}, or no access to it (404 Not Found)")]
    NotFound {
        /// The owner, as [`super::Owner`] displays it.
        owner: String,
        /// "organisation", "user" or "group".
        kind: &'static str,
    },
    /// 401: the token was refused, or one is needed.
    #[error("{forge} answered 401 Unauthorized: {}", if *had_token { "the token was refused (expired, revoked or mistyped?)" } else { "a token is needed" })]
    Unauthorized {
        /// The forge.
        forge: Forge,
        /// Whether a token was sent.
        had_token: bool,
    },
    /// 403 without the marks of a rate limit: the token lacks a permission.
    #[error("{owner}: access denied (403 Forbidden): {message}")]
    Forbidden {
        /// The owner.
        owner: String,
        /// The server's message, cut short and made printable.
        message: String,
    },
    /// The next request is allowed only after more than the longest wait allowed.
    #[error(
        "{forge} rate limit reached{}: requests are allowed again in {wait_s}s, more than the {max_s}s allowed to wait",
        if *had_token { "" } else { " (no token was sent: unauthenticated requests get a low limit)" }
    )]
    RateLimited {
        /// The forge.
        forge: Forge,
        /// Seconds until requests are allowed again.
        wait_s: u64,
        /// The longest wait allowed, in seconds.
        max_s: u64,
        /// Whether a token was sent.
        had_token: bool,
    },
    /// Still refused for rate limits after every retry.
    #[error("{forge} still refused the request for its rate limits after {retries} retries: {url}")]
    StillLimited {
        /// The forge.
        forge: Forge,
        /// Retries made.
        retries: u32,
        /// The URL asked.
        url: String,
    },
    /// Any other status.
    #[error("{url}: HTTP {status}: {message}")]
    Status {
        /// The URL asked.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The server's message, cut short and made printable.
        message: String,
    },
    /// The request could not be made or its answer not read.
    #[error("{url}: the request failed")]
    Transport {
        /// The URL asked.
        url: String,
        /// Why.
        #[source]
        source: Box<ureq::Error>,
    },
    /// A page over the size allowed.
    #[error("{url}: the answer is over {limit} bytes")]
    TooLarge {
        /// The URL asked.
        url: String,
        /// The largest page read.
        limit: u64,
    },
    /// A page that is not the JSON array expected.
    #[error("{url}: not the JSON list of repositories expected: {source}")]
    BadJson {
        /// The URL asked.
        url: String,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// More pages or repositories than any real owner has, or pages that loop.
    #[error("{url}: {what}; stopping")]
    Runaway {
        /// The URL asked last.
        url: String,
        /// What went past a bound.
        what: String,
    },
    /// The server pointed a next page or a redirect at another origin.
    #[error(
        "{url}: the server pointed to {to}, not the API's host; not following it with the token"
    )]
    ForeignUrl {
        /// The URL asked.
        url: String,
        /// Where it pointed, cut short and made printable.
        to: String,
    },
    /// A repository's clone URL is not an http(s) URL (a hostile or broken server).
    #[error("{owner}: the API listed a clone URL that is not an http(s) URL: {url}")]
    BadCloneUrl {
        /// The owner.
        owner: String,
        /// The URL, cut short and made printable.
        url: String,
    },
}

/// `text` from a server, made safe to print: control characters and bidirectional
/// overrides become spaces, runs of space collapse, and it is cut to `max` characters.
pub fn printable(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let bidi = matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        let c = if c.is_control() || bidi { ' ' } else { c };
        if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
            continue;
        }
        if out.chars().count() == max {
            out.push('…');
            break;
        }
        out.push(c);
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_text_is_printable_and_short() {
        assert_eq!(printable("Not\r\n\x1b[31mFound ", 50), "Not [31mFound");
        assert_eq!(printable("abcdef", 3), "abc…");
        assert_eq!(printable("a\u{202e}b", 9), "a b");
        assert_eq!(printable("", 3), "");
    }
}
