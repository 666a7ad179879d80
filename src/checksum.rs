//! Offline format checks that confirm a candidate is structurally a real token: published
//! checksums (GitHub/npm CRC32, bech32) and structural checks (JWT, base64 payloads).
//!
//! A rule names its check with `checksum = "…"`; a candidate that fails it is not reported
//! as that rule.

use base64::Engine as _;

/// A named format check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    /// GitHub and npm token checksum: the last six characters are the base62-encoded CRC32
    /// of the random part (the characters between the last `_` and the checksum).
    GithubCrc32,
    /// A bech32 string with a valid checksum (age secret keys).
    Bech32,
    /// A JSON Web Token: base64url header and payload that decode to JSON objects, and a
    /// header that names an algorithm.
    Jwt,
    /// The secret is valid base64 (standard or URL-safe alphabet, padding optional).
    Base64,
    /// GitLab routable tokens: the last 7 characters are the base36 CRC32 (zero-padded) of
    /// everything before them.
    GitlabRoutableCrc32,
}

impl Checksum {
    /// Parses a check name as written in rule files.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "github-crc32" | "npm-crc32" => Some(Checksum::GithubCrc32),
            "bech32" => Some(Checksum::Bech32),
            "jwt" => Some(Checksum::Jwt),
            "base64" => Some(Checksum::Base64),
            "gitlab-routable-crc32" => Some(Checksum::GitlabRoutableCrc32),
            _ => None,
        }
    }

    /// All names `parse` accepts, for documentation and error messages.
    pub const NAMES: &'static [&'static str] =
        &["github-crc32", "npm-crc32", "bech32", "jwt", "base64"];

    /// Whether `secret` passes the check.
    pub fn verify(self, secret: &[u8]) -> bool {
        match self {
            Checksum::GithubCrc32 => github_crc32_ok(secret),
            Checksum::Bech32 => bech32_ok(secret),
            Checksum::Jwt => jwt_ok(secret),
            Checksum::Base64 => decode_base64_any(secret).is_some(),
            Checksum::GitlabRoutableCrc32 => gitlab_routable_ok(secret),
        }
    }
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Encodes `n` in base62 (GitHub's alphabet), left-padded with `0` to `width` characters.
pub fn base62_encode(mut n: u64, width: usize) -> String {
    let mut out = vec![b'0'; width];
    let mut i = width;
    while n > 0 && i > 0 {
        i -= 1;
        out[i] = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(out).expect("base62 alphabet is ASCII")
}

fn base62_decode(s: &[u8]) -> Option<u64> {
    let mut n: u64 = 0;
    for &c in s {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'A'..=b'Z' => c - b'A' + 10,
            b'a'..=b'z' => c - b'a' + 36,
            _ => return None,
        };
        n = n.checked_mul(62)?.checked_add(u64::from(d))?;
    }
    Some(n)
}

/// The checksum suffix GitHub would append to `random` (public format fact, used by tests and
/// the corpus generator to mint valid-looking fake tokens).
pub fn github_checksum(random: &[u8]) -> String {
    base62_encode(u64::from(crc32fast::hash(random)), 6)
}

fn github_crc32_ok(secret: &[u8]) -> bool {
    let body = match memchr::memrchr(b'_', secret) {
        Some(i) => &secret[i + 1..],
        None => secret,
    };
    if body.len() < 7 {
        return false;
    }
    let (random, check) = body.split_at(body.len() - 6);
    base62_decode(check) == Some(u64::from(crc32fast::hash(random)))
}

fn gitlab_routable_ok(secret: &[u8]) -> bool {
    if secret.len() < 8 {
        return false;
    }
    let (body, check) = secret.split_at(secret.len() - 7);
    let Ok(check) = std::str::from_utf8(check) else {
        return false;
    };
    // Base36 digits are lower case in GitLab's format.
    if !check
        .bytes()
        .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
    {
        return false;
    }
    u64::from_str_radix(check, 36) == Ok(u64::from(crc32fast::hash(body)))
}

/// The checksum suffix of a GitLab routable token whose text before the checksum is `body`
/// (public format fact, used by tests to mint valid fake tokens).
pub fn gitlab_routable_checksum(body: &[u8]) -> String {
    let mut n = u64::from(crc32fast::hash(body));
    let mut out = [b'0'; 7];
    for slot in out.iter_mut().rev() {
        let d = (n % 36) as u8;
        *slot = if d < 10 { b'0' + d } else { b'a' + d - 10 };
        n /= 36;
    }
    String::from_utf8(out.to_vec()).expect("base36 digits are ASCII")
}

fn bech32_ok(secret: &[u8]) -> bool {
    let Ok(s) = std::str::from_utf8(secret) else {
        return false;
    };
    bech32::primitives::decode::CheckedHrpstring::new::<bech32::Bech32>(s).is_ok()
}

/// Decodes standard or URL-safe base64, with or without padding.
pub fn decode_base64_any(s: &[u8]) -> Option<Vec<u8>> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const CFG: GeneralPurposeConfig = GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true);
    const STD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, CFG);
    const URL: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, CFG);
    if s.iter().any(|&b| b == b'-' || b == b'_') {
        URL.decode(s).ok()
    } else {
        STD.decode(s).ok()
    }
}

fn jwt_ok(secret: &[u8]) -> bool {
    // A JWT may sit behind a provider prefix (`glcbt-eyJ…`, `ghs_123_eyJ…`): the token proper
    // starts at its base64url-encoded `{"` header.
    let start = memchr::memmem::find(secret, b"eyJ").unwrap_or(0);
    let mut parts = secret[start..].split(|&b| b == b'.');
    let (Some(h), Some(p)) = (parts.next(), parts.next()) else {
        return false;
    };
    let json_object = |part: &[u8]| -> Option<serde_json::Map<String, serde_json::Value>> {
        let raw = decode_base64_any(part)?;
        match serde_json::from_slice(&raw).ok()? {
            serde_json::Value::Object(m) => Some(m),
            _ => None,
        }
    };
    match (json_object(h), json_object(p)) {
        (Some(header), Some(_)) => header.contains_key("alg") || header.contains_key("typ"),
        _ => false,
    }
}

/// Shannon entropy of `data` in bits per byte (0 for empty input).
pub fn shannon_entropy(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in data {
        counts[b as usize] += 1;
    }
    let n = data.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_checksum_roundtrip() {
        let random = b"zQWBuTSOoRi4A9spHcVY5ncnsDkxkJ";
        let token = format!(
            "ghp_{}{}",
            std::str::from_utf8(random).unwrap(),
            github_checksum(random)
        );
        assert_eq!(token.len(), 40);
        assert!(Checksum::GithubCrc32.verify(token.as_bytes()));
        let mut bad = token.into_bytes();
        bad[10] = if bad[10] == b'a' { b'b' } else { b'a' };
        assert!(!Checksum::GithubCrc32.verify(&bad));
    }

    #[test]
    fn base62_padding() {
        assert_eq!(base62_encode(0, 6), "000000");
        assert_eq!(base62_encode(61, 2), "0z");
        assert_eq!(base62_decode(b"0z"), Some(61));
    }

    #[test]
    fn jwt_structure() {
        // {"alg":"HS256","typ":"JWT"} . {"sub":"1"} . sig
        let jwt = b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
        assert!(Checksum::Jwt.verify(jwt));
        assert!(!Checksum::Jwt.verify(b"eyJub3QiOiJqd3QifQ.eyJzdWIiOiIxIn0.x"));
        assert!(!Checksum::Jwt.verify(b"abc.def.ghi"));
    }

    #[test]
    fn bech32_check() {
        // A bech32 string built from public test vectors of the format (BIP-173).
        assert!(Checksum::Bech32.verify(b"A12UEL5L"));
        assert!(!Checksum::Bech32.verify(b"A12UEL5M"));
    }

    #[test]
    fn gitlab_routable() {
        let body = b"glpat-Xo1lIoM2Gj2pkxZIweUqZ286NDY4cwp1OjFpdnUxDg.01.16";
        let token = format!(
            "{}{}",
            std::str::from_utf8(body).unwrap(),
            gitlab_routable_checksum(body)
        );
        assert!(Checksum::GitlabRoutableCrc32.verify(token.as_bytes()));
        let mut bad = token.clone().into_bytes();
        bad[8] ^= 1;
        assert!(!Checksum::GitlabRoutableCrc32.verify(&bad));
        assert!(!Checksum::GitlabRoutableCrc32.verify(b"short"));
    }

    #[test]
    fn prefixed_jwt() {
        let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
        assert!(Checksum::Jwt.verify(format!("glcbt-{jwt}").as_bytes()));
        assert!(Checksum::Jwt.verify(format!("ghs_123_{jwt}").as_bytes()));
    }

    #[test]
    fn entropy_values() {
        assert_eq!(shannon_entropy(b""), 0.0);
        assert_eq!(shannon_entropy(b"aaaa"), 0.0);
        assert!((shannon_entropy(b"abcd") - 2.0).abs() < 1e-9);
    }
}
