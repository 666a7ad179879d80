//! Where the next page is: the `Link` header (RFC 8288) that GitHub and GitLab send with
//! every page, GitLab's `x-next-page` as a fallback, and the origin check that keeps a
//! server from sending the token's requests to another host.

use ureq::http::Uri;

/// The target of the first `rel="next"` link in one or more `Link` header values.
pub fn next(values: &[&str]) -> Option<String> {
    values
        .iter()
        .flat_map(|v| parse(v))
        .find(|(_, rels)| rels.iter().any(|r| r.eq_ignore_ascii_case("next")))
        .map(|(target, _)| target)
}

/// The links of one `Link` header value: each target with its `rel` values. A malformed
/// entry ends the parse (what came before it is kept).
fn parse(value: &str) -> Vec<(String, Vec<String>)> {
    let mut links = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        let Some(after) = rest.strip_prefix('<') else {
            return links;
        };
        let Some(end) = after.find('>') else {
            return links;
        };
        let target = after[..end].trim().to_string();
        let (params, tail) = params(&after[end + 1..]);
        let rels = params
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("rel"))
            .flat_map(|(_, v)| v.split_ascii_whitespace().map(str::to_string))
            .collect();
        links.push((target, rels));
        rest = tail;
    }
}

/// The `; name=value` parameters after a link's target, up to the `,` that ends the link
/// (outside quotes); returns them and what follows that comma.
fn params(mut s: &str) -> (Vec<(String, String)>, &str) {
    let mut out = Vec::new();
    loop {
        s = s.trim_start_matches([' ', '\t']);
        let Some(after) = s.strip_prefix(';') else {
            let tail = s.find(',').map_or("", |i| &s[i + 1..]);
            return (out, tail);
        };
        let after = after.trim_start_matches([' ', '\t']);
        let name_end = after.find(['=', ';', ',']).unwrap_or(after.len());
        let name = after[..name_end].trim().to_string();
        s = &after[name_end..];
        let Some(v) = s.strip_prefix('=') else {
            out.push((name, String::new()));
            continue;
        };
        let v = v.trim_start_matches([' ', '\t']);
        let (value, tail) = match v.strip_prefix('"') {
            Some(q) => match q.find('"') {
                Some(i) => (q[..i].to_string(), &q[i + 1..]),
                None => (q.to_string(), ""),
            },
            None => {
                let i = v.find([';', ',']).unwrap_or(v.len());
                (v[..i].trim().to_string(), &v[i..])
            }
        };
        out.push((name, value));
        s = tail;
    }
}

/// `url` with its `page` query parameter set to `page` (GitLab's `x-next-page`).
pub fn with_page(url: &str, page: u64) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut parts: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("page="))
        .map(str::to_string)
        .collect();
    parts.push(format!("page={page}"));
    format!("{base}?{}", parts.join("&"))
}

/// A URL's scheme, lower-case host and port (the scheme's default when it names none): two
/// URLs with equal origins reach the same server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// The origin of an absolute `http`/`https` URL; `None` for anything else.
    pub fn of(url: &str) -> Option<Origin> {
        let uri: Uri = url.parse().ok()?;
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let default = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            _ => return None,
        };
        let authority = uri.authority()?;
        if authority.as_str().contains('@') {
            return None;
        }
        Some(Origin {
            host: authority.host().to_ascii_lowercase(),
            port: authority.port_u16().unwrap_or(default),
            scheme,
        })
    }

    /// Whether this origin is `https`.
    pub fn is_https(&self) -> bool {
        self.scheme == "https"
    }

    /// Whether the host is this machine (`localhost`, `127.0.0.0/8`, `::1`).
    pub fn is_loopback(&self) -> bool {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// `target` made absolute against this origin when it is a path (`/api/…`).
    pub fn resolve(&self, target: &str) -> String {
        if target.starts_with('/') && !target.starts_with("//") {
            format!("{}://{}:{}{target}", self.scheme, self.host, self.port)
        } else {
            target.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_next_link_among_others() {
        let github = r#"<https://api.github.com/organizations/9/repos?per_page=100&page=2>; rel="next", <https://api.github.com/organizations/9/repos?per_page=100&page=7>; rel="last""#;
        assert_eq!(
            next(&[github]).as_deref(),
            Some("https://api.github.com/organizations/9/repos?per_page=100&page=2")
        );
        let last_page = r#"<https://h/x?page=1>; rel="first", <https://h/x?page=6>; rel="prev""#;
        assert_eq!(next(&[last_page]), None);
        assert_eq!(next(&[]), None);
        assert_eq!(next(&[""]), None);
    }

    #[test]
    fn reads_unquoted_several_valued_and_split_headers() {
        assert_eq!(
            next(&["<https://h/a>; rel=next"]).as_deref(),
            Some("https://h/a")
        );
        assert_eq!(
            next(&[r#"<https://h/b>; title="a, b; c"; rel="prev next""#]).as_deref(),
            Some("https://h/b")
        );
        assert_eq!(
            next(&[
                r#"<https://h/p>; rel="prev""#,
                r#"<https://h/n>; REL="Next""#
            ])
            .as_deref(),
            Some("https://h/n")
        );
        // A rel that merely contains "next" is not next.
        assert_eq!(next(&[r#"<https://h/c>; rel="nextish""#]), None);
        // Garbage ends the parse without a panic.
        assert_eq!(next(&["<https://h/d"]), None);
        assert_eq!(next(&["https://h/e; rel=next"]), None);
    }

    #[test]
    fn sets_the_page_parameter() {
        assert_eq!(
            with_page(
                "https://h/api/v4/groups/g/projects?per_page=100&page=1&x=y",
                2
            ),
            "https://h/api/v4/groups/g/projects?per_page=100&x=y&page=2"
        );
        assert_eq!(with_page("https://h/p", 3), "https://h/p?page=3");
        // `per_page` is not `page`.
        assert_eq!(
            with_page("https://h/p?per_page=5", 4),
            "https://h/p?per_page=5&page=4"
        );
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        let api = Origin::of("https://API.github.com/").unwrap();
        assert_eq!(
            Origin::of("https://api.github.com:443/orgs/x"),
            Some(api.clone())
        );
        assert_ne!(
            Origin::of("http://api.github.com/orgs/x"),
            Some(api.clone())
        );
        assert_ne!(
            Origin::of("https://api.github.com.evil.test/"),
            Some(api.clone())
        );
        assert_ne!(
            Origin::of("https://api.github.com:8443/"),
            Some(api.clone())
        );
        assert_eq!(Origin::of("https://user:pw@api.github.com/"), None);
        assert_eq!(Origin::of("ext::sh -c id"), None);
        assert_eq!(Origin::of("file:///etc/passwd"), None);
        assert_eq!(Origin::of("/relative"), None);
        assert!(api.is_https() && !api.is_loopback());
        assert!(Origin::of("http://127.0.0.1:9/").unwrap().is_loopback());
        assert!(Origin::of("http://[::1]:9/").unwrap().is_loopback());
        assert!(Origin::of("http://localhost/").unwrap().is_loopback());
        assert_eq!(
            api.resolve("/orgs/x/repos?page=2"),
            "https://api.github.com:443/orgs/x/repos?page=2"
        );
        assert_eq!(api.resolve("https://o/x"), "https://o/x");
    }
}
