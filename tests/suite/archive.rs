//! Archive scanning: formats recognised by content, nesting and the `a!b!c` chain, caps on
//! hostile input, corrupt and encrypted members, and parsers that never panic.

use crate::util::artifacts::*;
use crate::util::{ghp, shush};
use proptest::prelude::*;
use shush::archive::{Budget, Limits, Walker};
use std::path::Path;

fn write(dir: &Path, name: &str, data: &[u8]) -> String {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, data).unwrap();
    p.to_string_lossy().into_owned()
}

/// A jar inside a war inside a tar.gz, secrets at every level.
fn release() -> Vec<u8> {
    let props = format!("db.user=app\n{}", secret_line(1));
    let jar = zip(&[
        ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
        ("com/acme/Config.properties", props.as_bytes()),
    ]);
    let war = zip(&[
        ("WEB-INF/web.xml", b"<web-app/>"),
        ("WEB-INF/lib/core.jar", &jar),
        ("WEB-INF/classes/app.env", secret_line(2).as_bytes()),
    ]);
    gz(&tar(&[
        ("app/README", b"nothing here"),
        ("app/app.war", &war),
        ("app/.env", secret_line(3).as_bytes()),
    ]))
}

#[test]
fn nested_archives_name_the_whole_chain() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "release.tar.gz", &release());
    let (code, findings, _) = run_json(&["scan", &p]);
    assert_eq!(code, 1);
    assert_eq!(
        paths(&findings),
        [
            format!("{p}!app/.env"),
            format!("{p}!app/app.war!WEB-INF/classes/app.env"),
            format!("{p}!app/app.war!WEB-INF/lib/core.jar!com/acme/Config.properties"),
        ]
    );
    let deep = findings
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("Config.properties"))
        .unwrap();
    assert_eq!(deep["source"]["kind"], "archive");
    assert_eq!(
        deep["source"]["chain"],
        serde_json::json!([
            p,
            "app/app.war",
            "WEB-INF/lib/core.jar",
            "com/acme/Config.properties"
        ])
    );
    assert_eq!(deep["line"], 2);
    assert_eq!(deep["rule_id"], "github-pat");
    // Masked unless --show-secrets.
    let full = ghp(1);
    assert!(!serde_json::to_string(&findings).unwrap().contains(&full));
    let (_, shown, _) = run_json(&["scan", "--show-secrets", &p]);
    assert!(serde_json::to_string(&shown).unwrap().contains(&full));
}

#[test]
fn formats_are_recognised_by_content_not_name() {
    let dir = tempfile::tempdir().unwrap();
    let inner = tar(&[("conf/app.env", secret_line(10).as_bytes())]);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("a.bin", gz(&inner)),
        ("b.data", bz2(&inner)),
        ("c", xz(&inner)),
        ("d.txt", zst(&inner)),
        (
            "e.docx",
            zip(&[("word/document.xml", secret_line(11).as_bytes())]),
        ),
        (
            "f.whl",
            zip(&[("pkg/settings.py", secret_line(12).as_bytes())]),
        ),
        (
            "g.nupkg",
            zip(&[("content/app.config", secret_line(13).as_bytes())]),
        ),
        ("h.tar", inner.clone()),
    ];
    for (name, data) in &cases {
        write(dir.path(), name, data);
    }
    // A compressed single file (not an archive): the file itself is the chain.
    write(
        dir.path(),
        "logs/build.log.gz",
        &gz(secret_line(14).as_bytes()),
    );
    let root = dir.path().to_string_lossy().into_owned();
    let (code, findings, err) = run_json(&["scan", &root]);
    assert_eq!(code, 1, "{err}");
    let got = paths(&findings);
    let want: Vec<String> = {
        let mut w = vec![
            format!("{root}/a.bin!conf/app.env"),
            format!("{root}/b.data!conf/app.env"),
            format!("{root}/c!conf/app.env"),
            format!("{root}/d.txt!conf/app.env"),
            format!("{root}/e.docx!word/document.xml"),
            format!("{root}/f.whl!pkg/settings.py"),
            format!("{root}/g.nupkg!content/app.config"),
            format!("{root}/h.tar!conf/app.env"),
            format!("{root}/logs/build.log.gz"),
        ];
        w.sort();
        w
    };
    assert_eq!(got, want);
}

/// An `ar` archive (the container of a Debian package).
fn ar(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = b"!<arch>\n".to_vec();
    for (name, data) in members {
        let h = format!(
            "{:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
            format!("{name}/"),
            0,
            0,
            0,
            "100644",
            data.len()
        );
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(data);
        if data.len() % 2 == 1 {
            out.push(b'\n');
        }
    }
    out
}

#[test]
fn debian_packages_are_opened() {
    let dir = tempfile::tempdir().unwrap();
    let deb = ar(&[
        ("debian-binary", b"2.0\n"),
        (
            "control.tar.gz",
            &gz(&tar(&[("./control", b"Package: app\n")])),
        ),
        (
            "data.tar.xz",
            &xz(&tar(&[("./etc/app/app.env", secret_line(15).as_bytes())])),
        ),
    ]);
    let p = write(dir.path(), "app_1.0_amd64.deb", &deb);
    let (code, findings, err) = run_json(&["scan", &p]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        paths(&findings),
        [format!("{p}!data.tar.xz!etc/app/app.env")]
    );
    // Truncated: the package is at fault.
    let p = write(dir.path(), "cut.deb", &deb[..deb.len() - 10]);
    let (code, _, err) = run_json(&["scan", &p]);
    assert_eq!(code, 2);
    assert!(err.contains(&format!("{p}: ")), "{err}");
}

#[test]
fn traversal_names_never_touch_the_filesystem() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("scan");
    std::fs::create_dir(&sub).unwrap();
    let t = tar(&[
        ("../../evil.env", secret_line(20).as_bytes()),
        ("/etc/cron.d/evil", secret_line(21).as_bytes()),
    ]);
    let z = zip(&[("../../../zipslip.env", secret_line(22).as_bytes())]);
    let a = write(&sub, "t.tar", &t);
    let b = write(&sub, "z.zip", &z);
    let (code, findings, _) = run_json(&["scan", &a, &b]);
    assert_eq!(code, 1);
    assert_eq!(findings.len(), 3);
    // Names are reported, normalised, never resolved against the disk.
    let got = paths(&findings);
    assert!(got.contains(&format!("{a}!../../evil.env")), "{got:?}");
    assert!(got.contains(&format!("{a}!etc/cron.d/evil")), "{got:?}");
    assert!(
        got.contains(&format!("{b}!../../../zipslip.env")),
        "{got:?}"
    );
    assert!(!dir.path().join("evil.env").exists());
    assert!(!dir.path().parent().unwrap().join("evil.env").exists());
    assert!(!Path::new("/etc/cron.d/evil").exists());
    let entries: Vec<_> = std::fs::read_dir(&sub).unwrap().collect();
    assert_eq!(entries.len(), 2, "nothing extracted next to the archives");
}

#[test]
fn archives_ignore_max_file_size_but_entries_have_their_own_cap() {
    let dir = tempfile::tempdir().unwrap();
    let big = format!("{}{}", "x".repeat(4096), secret_line(30));
    let p = write(
        dir.path(),
        "a.tar.gz",
        &gz(&tar(&[("big.txt", big.as_bytes())])),
    );
    // --max-file-size skips plain files, not archives (bounded by the archive caps).
    let (code, findings, _) = run_json(&["scan", "--max-file-size", "100", &p]);
    assert_eq!((code, findings.len()), (1, 1));
    let (code, findings, err) = run_json(&["scan", "--max-entry-size", "1K", &p]);
    assert_eq!(code, 2, "{err}");
    assert!(findings.is_empty());
    assert!(
        err.contains(&format!("{p}!big.txt: entry larger than --max-entry-size")),
        "{err}"
    );
    // Downgraded to a warning.
    let (code, _, err) = run_json(&["scan", "--max-entry-size", "1K", "--skip-unreadable", &p]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning:") && err.contains("--skip-unreadable"),
        "{err}"
    );
}

#[test]
fn decompression_bomb_hits_the_ratio_cap() {
    let dir = tempfile::tempdir().unwrap();
    let zeros = vec![0u8; 40 << 20];
    let bomb = gz(&tar(&[
        ("zeros.bin", &zeros),
        ("after.env", secret_line(31).as_bytes()),
    ]));
    assert!(bomb.len() < (1 << 20));
    let p = write(dir.path(), "bomb.tar.gz", &bomb);
    let (code, _, err) = run_json(&["scan", "--max-ratio", "100", &p]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!("{p}: compression ratio over --max-ratio 100:1")),
        "{err}"
    );
    // The same bomb under a total cap.
    let (code, _, err) = run_json(&["scan", "--max-total-size", "8M", &p]);
    assert_eq!(code, 2);
    assert!(err.contains("inflates past --max-total-size"), "{err}");
    // A zip entry bomb.
    let z = write(dir.path(), "bomb.zip", &zip(&[("zeros.bin", &zeros)]));
    let (code, _, err) = run_json(&["scan", "--max-ratio", "100", &z]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!("{z}!zeros.bin: compression ratio")),
        "{err}"
    );
    // Under the default caps it is scanned in full, and what follows is found.
    let (code, findings, err) = run_json(&["scan", &p]);
    assert_eq!((code, findings.len()), (1, 1), "{err}");
}

#[test]
fn deep_nesting_hits_the_depth_cap() {
    let dir = tempfile::tempdir().unwrap();
    let mut data = tar(&[("deep.env", secret_line(40).as_bytes())]);
    for i in 0..11 {
        data = gz(&tar(&[(format!("level{i}.tar.gz").as_str(), &data)]));
    }
    let p = write(dir.path(), "nest.tar.gz", &data);
    let (code, findings, err) = run_json(&["scan", &p]);
    assert_eq!(code, 2);
    assert!(findings.is_empty());
    assert!(err.contains("nested deeper than --max-depth 8"), "{err}");
    let (code, findings, err) = run_json(&["scan", "--max-depth", "20", &p]);
    assert_eq!((code, findings.len()), (1, 1), "{err}");
    assert_eq!(
        findings[0]["source"]["chain"].as_array().unwrap().len(),
        13,
        "file, 11 nested tars, the secret file"
    );
}

#[test]
fn nesting_is_bounded_whatever_max_depth_asks() {
    let dir = tempfile::tempdir().unwrap();
    let mut data = tar(&[("deep.env", secret_line(41).as_bytes())]);
    for i in 0..150 {
        data = gz(&tar(&[(format!("l{i}.tar.gz").as_str(), &data)]));
    }
    let p = write(dir.path(), "bomb.tar.gz", &data);
    // Asking for more than the bound is refused before anything is read.
    let out = shush()
        .args(["scan", "--max-depth", "1500", "--no-config", &p])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("at most 64"), "{err}");
    // At the bound, 64 levels are opened without exhausting the stack; the rest is a cap.
    let (code, findings, err) = run_json(&["scan", "--max-depth", "64", &p]);
    assert_eq!(code, 2, "{err}");
    assert!(findings.is_empty());
    assert!(err.contains("nested deeper than --max-depth 64"), "{err}");
    // A secret 60 levels down is found.
    let mut data = tar(&[("deep.env", secret_line(42).as_bytes())]);
    for i in 0..60 {
        data = gz(&tar(&[(format!("l{i}.tar.gz").as_str(), &data)]));
    }
    let p = write(dir.path(), "deep.tar.gz", &data);
    let (code, findings, err) = run_json(&["scan", "--max-depth", "64", &p]);
    assert_eq!((code, findings.len()), (1, 1), "{err}");
}

#[test]
fn archives_on_standard_input() {
    let (code, findings, err) = {
        let out = shush()
            .args(["scan", "-", "--format", "json", "--no-config"])
            .write_stdin(release())
            .output()
            .unwrap();
        let f: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        (
            out.status.code(),
            f,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(
        paths(&findings),
        [
            "-!app/.env",
            "-!app/app.war!WEB-INF/classes/app.env",
            "-!app/app.war!WEB-INF/lib/core.jar!com/acme/Config.properties",
        ]
    );
    // Plain text on stdin is unchanged.
    let out = shush()
        .args(["scan", "-", "--format", "json", "--no-config"])
        .write_stdin(secret_line(5))
        .output()
        .unwrap();
    let f: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["source"]["kind"], "stdin");
}

#[test]
fn path_allowlists_apply_to_archives_and_to_their_entries() {
    let dir = tempfile::tempdir().unwrap();
    let data = gz(&tar(&[
        ("vendor/lib.env", secret_line(80).as_bytes()),
        ("app/app.env", secret_line(81).as_bytes()),
    ]));
    let allowed = write(dir.path(), "fixtures/x.tar.gz", &data);
    let other = write(dir.path(), "dist/x.tar.gz", &data);
    let cfg = write(
        dir.path(),
        "rules.toml",
        b"[extend]\nuseDefault = true\n[allowlist]\npaths = ['''(^|/)fixtures/''', '''(^|/)vendor/''']\n",
    );
    let (code, findings, err) = run_json(&["scan", "--config", &cfg, &allowed, &other]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(paths(&findings), [format!("{other}!app/app.env")]);
}

#[test]
fn max_depth_zero_scans_archives_as_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "plain.tar",
        &tar(&[("x.env", secret_line(41).as_bytes())]),
    );
    let (code, findings, _) = run_json(&["scan", "--max-depth", "0", &p]);
    assert_eq!(code, 1);
    assert_eq!(paths(&findings), [p]);
    assert_eq!(findings[0]["source"]["kind"], "file");
}

#[test]
fn entry_count_cap() {
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..10).map(|i| format!("f{i}")).collect();
    let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
    let p = write(dir.path(), "many.tar", &tar(&entries));
    let (code, _, err) = run_json(&["scan", "--max-entries", "3", &p]);
    assert_eq!(code, 2);
    assert!(err.contains("more than --max-entries (3) entries"), "{err}");
    assert_eq!(err.matches("error:").count(), 1, "reported once: {err}");
}

#[test]
fn truncated_and_corrupt_members_are_errors_with_their_chain() {
    let dir = tempfile::tempdir().unwrap();
    // A truncated tar.gz: the archive itself is at fault.
    let full = release();
    let p = write(dir.path(), "cut.tar.gz", &full[..full.len() / 2]);
    let (code, _, err) = run_json(&["scan", &p]);
    assert_eq!(code, 2);
    assert!(err.contains(&format!("{p}: ")), "{err}");
    // A corrupt member inside a sound archive: reported at the member, the rest scanned.
    let mut bad = gz(secret_line(50).as_bytes());
    let mid = bad.len() / 2;
    for b in &mut bad[12..mid] {
        *b ^= 0x5a;
    }
    let p = write(
        dir.path(),
        "mixed.tar",
        &tar(&[("bad.gz", &bad), ("good.env", secret_line(51).as_bytes())]),
    );
    let (code, findings, err) = run_json(&["scan", &p]);
    assert_eq!(code, 2);
    assert_eq!(paths(&findings), [format!("{p}!good.env")]);
    assert!(err.contains(&format!("{p}!bad.gz: ")), "{err}");
    // Garbage after a zip signature.
    let p = write(dir.path(), "junk.zip", b"PK\x03\x04 this is no zip at all");
    let (code, _, err) = run_json(&["scan", &p]);
    assert_eq!(code, 2);
    assert!(err.contains(&format!("{p}: ")), "{err}");
    let (code, _, _) = run_json(&["scan", "--skip-unreadable", &p]);
    assert_eq!(code, 0);
}

#[test]
fn findings_before_a_member_breaks_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    // A member cut off by a truncated stream: the secret before the cut is reported.
    let mut x = 0x2545f4914f6cdd1du64;
    let noise: String = (0..200_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from(b"0123456789abcdef"[(x % 16) as usize])
        })
        .collect();
    let member = format!("{}{noise}\n", secret_line(70));
    let full = gz(&tar(&[("a.env", member.as_bytes())]));
    let p = write(dir.path(), "cut.tar.gz", &full[..full.len() * 3 / 5]);
    let (code, findings, err) = run_json(&["scan", &p]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(paths(&findings), [format!("{p}!a.env")], "{err}");
    // Downgraded, the error no longer hides what was found: exit 1, not 0.
    let (code, findings, err) = run_json(&["scan", "--skip-unreadable", &p]);
    assert_eq!((code, findings.len()), (1, 1), "{err}");
    // A member over --max-entry-size: its first bytes were read and scanned.
    let big = format!("{}{}", secret_line(71), "x".repeat(4096));
    let p = write(dir.path(), "big.tar", &tar(&[("big.txt", big.as_bytes())]));
    let (code, findings, err) = run_json(&["scan", "--max-entry-size", "1K", &p]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(paths(&findings), [format!("{p}!big.txt")], "{err}");
}

#[test]
fn encrypted_zip_entries_are_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let z = mark_zip_encrypted(zip(&[("secret.env", secret_line(60).as_bytes())]));
    let outer = zip(&[("inner.zip", &z), ("open.env", secret_line(61).as_bytes())]);
    let p = write(dir.path(), "outer.zip", &outer);
    let (code, findings, err) = run_json(&["scan", &p]);
    assert_eq!(code, 2);
    assert_eq!(paths(&findings), [format!("{p}!open.env")]);
    assert!(
        err.contains(&format!("{p}!inner.zip!secret.env: encrypted entry")),
        "{err}"
    );
}

#[test]
fn library_walker_reports_chains() {
    let engine = shush::Engine::builtin().unwrap();
    let mut st = engine.new_state();
    let mut buf = Vec::new();
    let budget = Budget::new(Limits::default());
    let mut w = Walker::new(&engine, &mut st, &mut buf, &budget);
    let data = release();
    let mut chain = vec!["release.tar.gz".to_string()];
    w.scan(&mut &data[..], &mut chain, 0).unwrap();
    assert!(w.problems.is_empty(), "{:?}", w.problems);
    let mut chains: Vec<String> = w.hits.iter().map(|h| h.chain.join("!")).collect();
    chains.sort();
    assert_eq!(
        chains,
        [
            "release.tar.gz!app/.env",
            "release.tar.gz!app/app.war!WEB-INF/classes/app.env",
            "release.tar.gz!app/app.war!WEB-INF/lib/core.jar!com/acme/Config.properties",
        ]
    );
    assert_eq!(w.scanned, 6);
}

/// Scans arbitrary bytes with tight caps; must never panic, and must stay in budget.
fn walk(data: &[u8]) {
    let engine = engine();
    let mut st = engine.new_state();
    let mut buf = Vec::new();
    let budget = Budget::new(Limits {
        max_entry_size: 1 << 20,
        max_total_size: 4 << 20,
        max_entries: 1000,
        max_ratio: 50,
        ..Limits::default()
    });
    let mut w = Walker::new(engine, &mut st, &mut buf, &budget);
    let mut chain = vec!["fuzz".to_string()];
    let _ = w.scan(&mut &data[..], &mut chain, 0);
    assert!(budget.inflated() <= (4 << 20) + (64 << 10));
}

fn engine() -> &'static shush::Engine {
    static E: std::sync::OnceLock<shush::Engine> = std::sync::OnceLock::new();
    E.get_or_init(|| shush::Engine::builtin().unwrap())
}

fn seeds() -> Vec<Vec<u8>> {
    let t = tar(&[("a/b.env", secret_line(70).as_bytes()), ("c", b"hello")]);
    vec![
        t.clone(),
        gz(&t),
        zst(&t),
        bz2(&t),
        xz(&t),
        zip(&[("x.env", secret_line(71).as_bytes()), ("t.tar", &t)]),
        release(),
        ar(&[("a.tar.gz", &gz(&t)), ("b", b"x")]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        walk(&data);
    }

    #[test]
    fn mutated_archives_never_panic(
        which in 0usize..8,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut data = seeds().swap_remove(which);
        for (i, b) in flips {
            let at = i.index(data.len());
            data[at] ^= b;
        }
        if truncate {
            let n = cut.index(data.len());
            data.truncate(n);
        }
        walk(&data);
    }

    #[test]
    fn tar_reader_never_panics(data in proptest::collection::vec(any::<u8>(), 0..8192)) {
        use std::io::Read;
        let mut r = shush::archive::tar::TarReader::new(shush::archive::tar::Stream(&data[..]));
        let mut n = 0;
        while let Ok(Some(_)) = r.next_entry() {
            let mut v = Vec::new();
            let _ = r.data().read_to_end(&mut v);
            n += 1;
            prop_assert!(n <= data.len() / 512 + 1);
        }
    }
}

/// Bytes from a seeded xorshift generator: incompressible, fast to make.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A zip of `entries`, each stored (`false`) or deflated (`true`).
fn zip_with(entries: &[(&str, &[u8], bool)]) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data, deflate) in entries {
        let method = if *deflate {
            zip::CompressionMethod::Deflated
        } else {
            zip::CompressionMethod::Stored
        };
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(method)
            .large_file(data.len() > u32::MAX as usize / 2);
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// The central directory of a zip without an archive comment: (records, offset of the
/// end-of-central-directory record).
fn central_directory(z: &[u8]) -> (std::ops::Range<usize>, usize) {
    let eocd = z.len() - 22;
    assert_eq!(&z[eocd..eocd + 4], b"PK\x05\x06");
    let le32 = |at: usize| u32::from_le_bytes(z[at..at + 4].try_into().unwrap()) as usize;
    let (size, offset) = (le32(eocd + 12), le32(eocd + 16));
    (offset..offset + size, eocd)
}

/// Adds `copies` directory records that point at the first entry's local data (names of
/// the same length as its own), as zip bombs built on overlapping entries do.
fn with_overlapping_copies(z: &[u8], copies: usize) -> Vec<u8> {
    let (cd, eocd) = central_directory(z);
    let rec = &z[cd.start..];
    let le16 = |at: usize| u16::from_le_bytes([rec[at], rec[at + 1]]) as usize;
    let rec_len = 46 + le16(28) + le16(30) + le16(32);
    let name_len = le16(28);
    let mut out = z[..cd.end].to_vec();
    for i in 0..copies {
        let mut r = rec[..rec_len].to_vec();
        let name = format!("{i:0>width$}", width = name_len);
        r[46..46 + name_len].copy_from_slice(name.as_bytes());
        out.extend_from_slice(&r);
    }
    let mut end = z[eocd..].to_vec();
    let entries = u16::from_le_bytes([end[10], end[11]]) as usize + copies;
    end[8..10].copy_from_slice(&(entries as u16).to_le_bytes());
    end[10..12].copy_from_slice(&(entries as u16).to_le_bytes());
    let size = (cd.len() + copies * rec_len) as u32;
    end[12..16].copy_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&end);
    out
}

/// The megabytes the summary line says were scanned.
fn scanned_mb(stderr: &str) -> f64 {
    let line = stderr.lines().find(|l| l.contains(" files, ")).unwrap();
    let mb = line
        .split(" files, ")
        .nth(1)
        .unwrap()
        .split(" MB")
        .next()
        .unwrap();
    mb.parse().unwrap()
}

#[test]
fn zip_entry_ratio_is_checked_while_inflating() {
    // 200 MiB of zeros deflate about 1030:1, just over the default cap; the directory lies
    // about the size, so only the bytes inflated can tell.
    let dir = tempfile::tempdir().unwrap();
    let zeros = vec![0u8; 200 << 20];
    let mut z = zip_with(&[("zeros.bin", &zeros, true)]);
    drop(zeros);
    let (cd, _) = central_directory(&z);
    z[cd.start + 24..cd.start + 28].copy_from_slice(&4096u32.to_le_bytes());
    let p = write(dir.path(), "liar.zip", &z);
    let (code, _, err) = run_json(&["scan", &p]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!(
            "{p}!zeros.bin: compression ratio over --max-ratio 1000:1"
        )),
        "{err}"
    );
    // Stopped soon after the 16 MiB grace, not at the end of the entry.
    assert!(scanned_mb(&err) < 40.0, "{err}");
}

#[test]
fn overlapping_zip_entries_are_refused_at_once() {
    // A kernel that inflates 150:1 under every cap, and 3,000 directory records pointing at
    // it: inflating each in turn would take minutes, up to --max-total-size.
    let dir = tempfile::tempdir().unwrap();
    let block = noise(7, 4096);
    let kernel: Vec<u8> = block.iter().copied().cycle().take(64 << 20).collect();
    let z = zip_with(&[("kernel.bin", &kernel, true)]);
    drop(kernel);
    let p = write(
        dir.path(),
        "overlap.zip",
        &with_overlapping_copies(&z, 3000),
    );
    let started = std::time::Instant::now();
    let out = shush()
        .args([
            "scan",
            "--no-config",
            "--no-progress",
            "--format",
            "json",
            &p,
        ])
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "{p}: entries `kernel.bin` and `0000000000` overlap"
        )),
        "{err}"
    );
    assert!(err.contains("archive refused, not scanned"), "{err}");
    assert_eq!(err.matches("error:").count(), 1, "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // The same archive nested in a tar is refused where it sits.
    let t = write(
        dir.path(),
        "outer.tar",
        &tar(&[("in/overlap.zip", &std::fs::read(&p).unwrap())]),
    );
    let (code, _, err) = run_json(&["scan", &t]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!("{t}!in/overlap.zip: entries `kernel.bin`")),
        "{err}"
    );
}

#[test]
fn entries_after_a_total_cap_are_reported_not_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let block = noise(8, 4096);
    let big: Vec<u8> = block.iter().copied().cycle().take(24 << 20).collect();
    let secret = secret_line(90);
    let entries: Vec<(String, Vec<u8>)> = (0..14)
        .map(|i| (format!("later/{i:02}.env"), secret.clone().into_bytes()))
        .collect();
    let mut all: Vec<(&str, &[u8], bool)> = vec![("big.bin", &big, true)];
    all.extend(
        entries
            .iter()
            .map(|(n, d)| (n.as_str(), d.as_slice(), true)),
    );
    let z = write(dir.path(), "capped.zip", &zip_with(&all));
    let (code, findings, err) = run_json(&["scan", "--max-total-size", "8M", &z]);
    assert_eq!(code, 2, "{err}");
    assert!(findings.is_empty());
    assert!(
        err.contains(&format!("{z}!big.bin: inflates past --max-total-size")),
        "{err}"
    );
    for i in 0..10 {
        let line = format!(
            "{z}!later/{i:02}.env: not scanned: scanning of this artifact stopped at a cap"
        );
        assert!(err.contains(&line), "{line}\n{err}");
    }
    assert!(
        err.contains(&format!("{z}: 4 more entries not scanned")),
        "{err}"
    );
    // In a tar stream the rest cannot be listed without reading it: it is named from where
    // scanning stopped.
    let mut t: Vec<(&str, &[u8])> = vec![("big.bin", &big)];
    t.extend(entries.iter().map(|(n, d)| (n.as_str(), d.as_slice())));
    let p = write(dir.path(), "capped.tar.gz", &gz(&tar(&t)));
    let (code, _, err) = run_json(&["scan", "--max-total-size", "8M", &p]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!("{p}: entries after `big.bin` not scanned")),
        "{err}"
    );
    // Downgraded with --skip-unreadable, the verdict is a warning.
    let (code, _, err) = run_json(&["scan", "--skip-unreadable", "--max-total-size", "8M", &z]);
    assert_eq!(code, 0, "{err}");
}

/// Runs `shush ARGS` with `SHUSH_TIMING` set and returns (exit code, stderr, the peak
/// resident memory it reports, in KiB: the process's own high-water mark).
#[cfg(target_os = "linux")]
fn peak_rss(args: &[&str], env: &[(&str, &Path)]) -> (i32, String, u64) {
    let mut cmd = shush();
    cmd.args(args).env("SHUSH_TIMING", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let peak = err
        .lines()
        .filter(|l| l.starts_with("shush: timing:"))
        .filter_map(|l| l.split(", peak ").nth(1))
        .filter_map(|p| p.trim_end_matches(" kB").parse().ok())
        .max()
        .unwrap_or_else(|| panic!("no timing line: {err}"));
    (out.status.code().unwrap_or(-1), err, peak)
}

#[cfg(target_os = "linux")]
#[test]
fn nested_zips_are_held_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    // 40 MiB of noise with a secret at its end, in six stored zips nested in one another.
    let mut data = noise(9, 40 << 20);
    data.extend_from_slice(format!("\n{}", secret_line(91)).as_bytes());
    let mut z = zip_with(&[("blob.bin", &data, false)]);
    for i in 0..5 {
        z = zip_with(&[(&format!("l{i}.zip"), &z, false)]);
    }
    let stored = write(dir.path(), "stored.zip", &z);
    // The same chain deflated at the top: the outer entry must be inflated to be opened.
    let deflated = write(
        dir.path(),
        "deflated.zip",
        &zip_with(&[("l5.zip", &z, true)]),
    );
    drop((data, z));
    for p in [&stored, &deflated] {
        let args = [
            "scan",
            "--no-config",
            "--no-progress",
            "-j",
            "1",
            p.as_str(),
        ];
        let (code, err, kib) = peak_rss(&args, &[("TMPDIR", &tmp)]);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("1 finding"), "{err}");
        // Holding each level in memory took 40 MiB a level (over 200 MiB).
        assert!(kib < 120 << 10, "{p}: peak {kib} KiB\n{err}");
        // Nothing is left in the temporary directory.
        assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
    }
    // Temporary space has its own cap.
    let (code, _, err) = run_json(&["scan", "--max-temp-size", "16M", &deflated]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!(
            "{deflated}!l5.zip: nested zip needs more than --max-temp-size"
        )),
        "{err}"
    );
}

#[test]
fn zips_behind_a_stub_are_reported_not_opened() {
    // A self-extracting archive: an executable stub, then a zip whose entries are deflated
    // (their secrets are not visible as plain bytes).
    let dir = tempfile::tempdir().unwrap();
    let z = zip_with(&[("conf/app.env", secret_line(92).as_bytes(), true)]);
    for (name, stub_len) in [("small.exe", 4096usize), ("large.exe", 9 << 20)] {
        let mut sfx = b"MZ".to_vec();
        sfx.extend_from_slice(&noise(10, stub_len - 2));
        sfx.extend_from_slice(&z);
        let p = write(dir.path(), name, &sfx);
        let (code, findings, err) = run_json(&["scan", &p]);
        assert_eq!(code, 2, "{err}");
        assert!(findings.is_empty());
        let line = format!("error: {p}: a zip behind a {stub_len}-byte stub (self-extracting");
        assert!(err.contains(&line), "{line}\n{err}");
        let (code, _, err) = run_json(&["scan", "--skip-unreadable", &p]);
        assert_eq!(code, 0, "{err}");
        assert!(
            err.contains("warning:") && err.contains("self-extracting"),
            "{err}"
        );
        // Inside another archive, it is reported at its chain.
        let t = write(dir.path(), &format!("{name}.tar"), &tar(&[(name, &sfx)]));
        let (code, _, err) = run_json(&["scan", &t]);
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains(&format!("error: {t}!{name}: a zip behind a")),
            "{err}"
        );
    }
    // A plain zip, and a binary that merely holds the end-of-directory signature, are not.
    let plain = write(dir.path(), "plain.zip", &z);
    let mut bin = noise(11, 10_000);
    bin.extend_from_slice(b"PK\x05\x06 and more bytes after it");
    let bin = write(dir.path(), "tool.bin", &bin);
    let (code, _, err) = run_json(&["scan", &plain, &bin]);
    assert_eq!(code, 1, "{err}");
    assert!(!err.contains("stub"), "{err}");
}
