//! How long to wait when an API refuses a request for its rate limits, from the headers
//! GitHub and GitLab document: `retry-after` (seconds) first; else, when no request is left
//! (`x-ratelimit-remaining: 0`, GitLab's `ratelimit-remaining: 0`), until the reset time
//! (`x-ratelimit-reset` / `ratelimit-reset`, UTC epoch seconds); else a minute, doubling on
//! each retry, for a 429 or a 403 that says it is a rate limit (GitHub's secondary limits).

use std::time::Duration;

/// The headers [`wait`] reads, already looked up (names are case-insensitive in HTTP).
#[derive(Debug, Default, Clone)]
pub struct Headers<'a> {
    /// `retry-after`.
    pub retry_after: Option<&'a str>,
    /// `x-ratelimit-remaining` or `ratelimit-remaining`.
    pub remaining: Option<&'a str>,
    /// `x-ratelimit-reset` or `ratelimit-reset`.
    pub reset: Option<&'a str>,
}

/// Why a wait was chosen, for the message shown while waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The server said how long (`retry-after`).
    RetryAfter,
    /// No request left until the limit's reset time.
    Reset,
    /// Limited without saying for how long: a minute, doubling on each retry.
    Backoff,
}

/// The wait before retrying a refused request (`status` 403 or 429), or `None` when the
/// refusal is not a rate limit (a 403 for want of access). `now` is the time in UTC epoch
/// seconds, `retry` how many times this request was retried already.
pub fn wait(
    status: u16,
    h: &Headers<'_>,
    message: &str,
    now: u64,
    retry: u32,
) -> Option<(Duration, Reason)> {
    if status != 403 && status != 429 {
        return None;
    }
    let number = |v: Option<&str>| v.and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(secs) = number(h.retry_after) {
        return Some((Duration::from_secs(secs.max(1)), Reason::RetryAfter));
    }
    if number(h.remaining) == Some(0) {
        if let Some(reset) = number(h.reset) {
            // One second more: the reset is whole seconds and clocks differ a little.
            let secs = reset.saturating_sub(now).saturating_add(1);
            return Some((Duration::from_secs(secs), Reason::Reset));
        }
    }
    if status == 429 || message.to_ascii_lowercase().contains("rate limit") {
        let secs = 60u64.saturating_mul(1 << retry.min(10));
        return Some((Duration::from_secs(secs), Reason::Backoff));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h<'a>(
        retry_after: Option<&'a str>,
        remaining: Option<&'a str>,
        reset: Option<&'a str>,
    ) -> Headers<'a> {
        Headers {
            retry_after,
            remaining,
            reset,
        }
    }

    #[test]
    fn primary_limit_waits_until_the_reset() {
        let w = wait(403, &h(None, Some("0"), Some("1000")), "", 998, 0);
        assert_eq!(w, Some((Duration::from_secs(3), Reason::Reset)));
        // A reset already past (clock skew) still waits a second.
        let w = wait(429, &h(None, Some("0"), Some("900")), "", 1000, 0);
        assert_eq!(w, Some((Duration::from_secs(1), Reason::Reset)));
    }

    #[test]
    fn retry_after_comes_first() {
        let w = wait(429, &h(Some("7"), Some("0"), Some("99999")), "", 0, 0);
        assert_eq!(w, Some((Duration::from_secs(7), Reason::RetryAfter)));
        let w = wait(403, &h(Some(" 0 "), None, None), "", 0, 0);
        assert_eq!(w, Some((Duration::from_secs(1), Reason::RetryAfter)));
    }

    #[test]
    fn secondary_limits_back_off_and_plain_403_is_no_limit() {
        let msg = "You have exceeded a secondary rate limit. Please wait a few minutes.";
        assert_eq!(
            wait(403, &h(None, Some("4000"), Some("5")), msg, 0, 0),
            Some((Duration::from_secs(60), Reason::Backoff))
        );
        assert_eq!(
            wait(429, &Headers::default(), "", 0, 2),
            Some((Duration::from_secs(240), Reason::Backoff))
        );
        // Access denied, requests left: not a rate limit.
        assert_eq!(
            wait(
                403,
                &h(None, Some("4000"), Some("5")),
                "Resource not accessible",
                0,
                0
            ),
            None
        );
        assert_eq!(wait(403, &Headers::default(), "Forbidden", 0, 0), None);
        assert_eq!(wait(404, &h(Some("5"), None, None), "", 0, 0), None);
        // An unparsable header is no number.
        assert_eq!(
            wait(403, &h(Some("soon"), Some("0"), Some("x")), "", 0, 0),
            None
        );
    }
}
