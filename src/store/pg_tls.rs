//! TLS to a PostgreSQL store, asked for in the URL as libpq asks for it:
//! `?sslmode=verify-full` (or `require`, `verify-ca`) and, for a private certificate
//! authority such as a managed database's, `sslrootcert=FILE`. Every mode that encrypts
//! also verifies: the server's certificate chain against `sslrootcert` (else the system's
//! trust store, or `sslrootcert=system`) and its host name, with rustls. That is stricter
//! than libpq's `require` and `verify-ca`, which accept a certificate they cannot verify,
//! and a store's password never goes to a server that could not prove who it is.
//! `prefer` and `allow` are refused: they fall back to plain text without a word.

use super::DbError;
use percent_encoding::percent_decode_str;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::sync::Arc;

/// How to connect: the URL the driver is given, and TLS settings when TLS is asked for.
pub(super) struct Connect {
    /// The URL with the parameters the driver does not know rewritten.
    pub url: String,
    /// The TLS configuration, when the URL asks for TLS.
    pub tls: Option<rustls::ClientConfig>,
}

/// Reads the TLS parameters of `url` (a `postgres://` URL).
pub(super) fn parse(url: &str) -> Result<Connect, DbError> {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, query),
        None => (url, ""),
    };
    let mut kept = Vec::new();
    let (mut mode, mut root) = (None, None);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode_str(value).decode_utf8_lossy().into_owned();
        match key {
            "sslmode" => mode = Some(value),
            "sslrootcert" => root = Some(value),
            _ => kept.push(pair.to_string()),
        }
    }
    let tls = match mode.as_deref() {
        None | Some("disable") => {
            if root.is_some() {
                return Err(tls_error(
                    "sslrootcert is given but TLS is not asked for: add sslmode=verify-full",
                ));
            }
            None
        }
        Some("require" | "verify-ca" | "verify-full") => {
            kept.push("sslmode=require".into());
            Some(client_config(root.as_deref())?)
        }
        Some("prefer" | "allow") => {
            return Err(tls_error(
                "sslmode=prefer and sslmode=allow fall back to plain text without a word; \
                 use sslmode=verify-full (TLS, the server verified) or sslmode=disable",
            ));
        }
        Some(other) => {
            return Err(tls_error(format!(
                "unknown sslmode `{}` (disable, require, verify-ca, verify-full)",
                crate::report::printable(other)
            )));
        }
    };
    let url = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok(Connect { url, tls })
}

/// A rustls client configuration trusting the certificates of `root` (a PEM file), or the
/// system's trust store without one (or with `system`).
fn client_config(root: Option<&str>) -> Result<rustls::ClientConfig, DbError> {
    // ring, as for the forges' APIs (no C toolchain for aws-lc); rustls deprecates it only
    // for its lack of post-quantum key exchange.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(e.to_string()))?;
    let config = match root {
        None | Some("system") => {
            use rustls_platform_verifier::BuilderVerifierExt;
            builder
                .with_platform_verifier()
                .map_err(|e| tls_error(format!("the system's trust store: {e}")))?
                .with_no_client_auth()
        }
        Some(file) => builder
            .with_root_certificates(roots_from(file)?)
            .with_no_client_auth(),
    };
    Ok(config)
}

/// The certificates of the PEM file `file`; an error names the file when it cannot be read
/// or holds none.
fn roots_from(file: &str) -> Result<rustls::RootCertStore, DbError> {
    let unreadable = |e: &dyn std::fmt::Display| tls_error(format!("sslrootcert {file}: {e}"));
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(file).map_err(|e| unreadable(&e))? {
        let cert = cert.map_err(|e| unreadable(&e))?;
        roots.add(cert).map_err(|e| unreadable(&e))?;
    }
    if roots.is_empty() {
        return Err(unreadable(&"no certificate in it"));
    }
    Ok(roots)
}

fn tls_error(message: impl Into<String>) -> DbError {
    DbError::Tls(message.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        let plain = parse("postgres://u@h/db?application_name=x").unwrap();
        assert!(plain.tls.is_none());
        assert_eq!(plain.url, "postgres://u@h/db?application_name=x");
        let off = parse("postgres://u@h/db?sslmode=disable").unwrap();
        assert!(off.tls.is_none() && off.url == "postgres://u@h/db");
        for mode in ["require", "verify-ca", "verify-full"] {
            let on = parse(&format!(
                "postgres://u@h/db?sslmode={mode}&connect_timeout=5"
            ));
            let on = on.unwrap();
            assert!(on.tls.is_some());
            assert_eq!(
                on.url,
                "postgres://u@h/db?connect_timeout=5&sslmode=require"
            );
        }
        for refused in ["prefer", "allow", "verify"] {
            let e = parse(&format!("postgres://u@h/db?sslmode={refused}"));
            assert!(matches!(e, Err(DbError::Tls(_))), "{refused}");
        }
        let e = parse("postgres://u@h/db?sslrootcert=/etc/ca.pem")
            .err()
            .unwrap();
        assert!(e.to_string().contains("sslmode=verify-full"), "{e}");
        let e = parse("postgres://u@h/db?sslmode=verify-full&sslrootcert=/nonexistent/ca%2Epem")
            .err()
            .unwrap();
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
    }
}
