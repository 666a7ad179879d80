//! A PostgreSQL store over TLS, against the throwaway cluster of `ci/postgres.sh`, whose
//! certificate a test authority signed and whose role `shush_tls` may connect over TLS
//! only: `sslmode=verify-full` with `sslrootcert` connects and works; without TLS the
//! server refuses; a certificate the trust store does not know, `sslmode=prefer` and a
//! missing CA file each fail closed (exit 2), naming the cause and never the password.

use crate::util::Dir;

/// The URL of a fresh database for the TLS-only role (with a password the server ignores,
/// which must appear in no message), and the test authority's certificate.
fn tls_database() -> Option<(String, String)> {
    let url = crate::util::postgres_db("tls")?;
    let Ok(ca) = std::env::var("SHUSH_TEST_POSTGRES_CA") else {
        assert!(
            std::env::var_os("SHUSH_REQUIRE_POSTGRES").is_none(),
            "SHUSH_REQUIRE_POSTGRES is set but SHUSH_TEST_POSTGRES_CA is not (ci/postgres.sh ca)"
        );
        eprintln!("SKIPPED postgres_tls: no SHUSH_TEST_POSTGRES_CA (`ci/postgres.sh ca`)");
        return None;
    };
    let (_, rest) = url.split_once('@').expect("a URL with a user");
    Some((format!("postgres://shush_tls:{PASSWORD}@{rest}"), ca))
}

const PASSWORD: &str = "tls-test-password-7731"; // shush:allow (synthetic)

fn fleet_status(dir: &Dir, store: &str) -> crate::util::Output {
    dir.cmd()
        .args(["fleet", "--store", store, "status", "--json"])
        .run()
}

#[test]
fn a_store_over_tls_is_verified_and_never_falls_back_to_plain_text() {
    let Some((url, ca)) = tls_database() else {
        return;
    };
    let dir = Dir::new();
    let verified = format!("{url}?sslmode=verify-full&sslrootcert={ca}");
    dir.cmd()
        .args([
            "fleet",
            "--store",
            &verified,
            "enqueue",
            "https://git.example/a.git",
        ])
        .run()
        .code(0);
    let rows = fleet_status(&dir, &verified);
    rows.code(0);
    assert_eq!(rows.json()[0]["url"], "https://git.example/a.git");
    // `require` verifies too.
    fleet_status(&dir, &format!("{url}?sslmode=require&sslrootcert={ca}")).code(0);

    let refused = [
        // No TLS asked for: the server turns the role away.
        (url.clone(), "no encryption"),
        // TLS, but the test authority is not in the system's trust store.
        (format!("{url}?sslmode=verify-full"), "certificate"),
        // A silent fall back to plain text is never offered.
        (format!("{url}?sslmode=prefer"), "sslmode=prefer"),
        (
            format!("{url}?sslmode=verify-full&sslrootcert={ca}.missing"),
            "ca.crt.missing",
        ),
    ];
    for (store, cause) in refused {
        let out = fleet_status(&dir, &store);
        out.code(2).stderr_has(cause);
        assert!(
            !out.stderr.contains(PASSWORD) && !out.stdout.contains(PASSWORD),
            "{}",
            out.stderr
        );
    }
}
