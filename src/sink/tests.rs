use super::*;
use crate::baseline::Baseline;
use crate::engine::{Engine, InputMeta};
use crate::finding::{Finding, Source};
use crate::scan::input::scan_bytes;

/// Findings of the built-in rules in `text`, reported at `path`.
fn findings_at(engine: &Engine, path: &str, text: &str) -> Vec<Finding> {
    let mut st = engine.new_state();
    let meta = InputMeta {
        path: Some(path),
        ..Default::default()
    };
    scan_bytes(engine, &mut st, text.as_bytes(), meta)
        .iter()
        .map(|l| {
            let source = Source::File { path: path.into() };
            Finding::new(engine, l, path, source, false)
        })
        .collect()
}

const TOKEN_LINE: &str = "token = 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\n";

/// A line with a GitHub token of `random` (30 base62 characters) and its valid checksum.
fn token_line(random: &str) -> String {
    let sum = crate::checksum::github_checksum(random.as_bytes());
    format!("token = ghp_{random}{sum}\n")
}

#[test]
fn jsonl_writes_each_finding_as_it_arrives() {
    let engine = Engine::builtin().unwrap();
    let found = findings_at(&engine, "b.txt", TOKEN_LINE);
    assert_eq!(found.len(), 1);
    let mut out = Vec::new();
    Jsonl::new(&mut out).finding(found[0].clone()).unwrap();
    // Written before `finish`: a long audit shows results at once.
    let line = String::from_utf8(out).unwrap();
    assert_eq!(line.lines().count(), 1);
    let v: serde_json::Value = serde_json::from_str(line.trim_end()).unwrap();
    assert_eq!(v["path"], "b.txt");
    assert_eq!(v["rule_id"], "github-pat");
}

#[test]
fn held_writes_nothing_until_finish_then_in_report_order() {
    let engine = Engine::builtin().unwrap();
    let mut out = Vec::new();
    let mut sink = Held::new(Format::Json, &mut out, engine.rules(), false);
    for path in ["c.txt", "a.txt", "b.txt"] {
        for f in findings_at(&engine, path, TOKEN_LINE) {
            sink.finding(f).unwrap();
        }
    }
    sink.finish(Notices::default()).unwrap();
    drop(sink);
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let paths: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["a.txt", "b.txt", "c.txt"]);
}

#[test]
fn held_lists_at_most_its_cap_and_counts_the_rest() {
    let engine = Engine::builtin().unwrap();
    let one = findings_at(&engine, "a.txt", TOKEN_LINE).remove(0);
    let mut out = Vec::new();
    let mut sink = Held::new(Format::Lines, &mut out, engine.rules(), false);
    for _ in 0..MAX_LISTED_FINDINGS + 7 {
        sink.finding(one.clone()).unwrap();
    }
    assert_eq!(sink.unlisted(), 7);
    sink.finish(Notices::default()).unwrap();
    drop(sink);
    assert_eq!(
        out.iter().filter(|&&b| b == b'\n').count(),
        MAX_LISTED_FINDINGS
    );
}

#[test]
fn baselined_drops_what_the_baseline_holds_and_counts_it() {
    let engine = Engine::builtin().unwrap();
    let known = findings_at(&engine, "old.txt", TOKEN_LINE);
    let fresh = findings_at(
        &engine,
        "new.txt",
        &token_line("Ab3Pf34qY6Nb3wWD25RQ4F5ZR3qa7y"),
    );
    assert_eq!((known.len(), fresh.len()), (1, 1));
    let baseline = Baseline::parse(&serde_json::to_string(&known).unwrap()).unwrap();
    let mut sink = Baselined::new(Some(&baseline), engine.rules(), Tally::new(Vec::new()));
    sink.finding(known[0].clone()).unwrap();
    sink.finding(fresh[0].clone()).unwrap();
    assert_eq!(sink.suppressed(), 1);
    assert_eq!(sink.inner().count(), 1);
    let kept = sink.into_inner().into_inner();
    assert_eq!(kept[0].path, "new.txt");
}

#[test]
fn without_a_baseline_everything_passes() {
    let engine = Engine::builtin().unwrap();
    let mut sink = Baselined::new(None, engine.rules(), Tally::new(Vec::new()));
    for f in findings_at(&engine, "a.txt", TOKEN_LINE) {
        sink.finding(f).unwrap();
    }
    assert_eq!((sink.suppressed(), sink.inner().count()), (0, 1));
}

#[test]
fn for_format_streams_jsonl_as_found_and_holds_the_rest() {
    let engine = Engine::builtin().unwrap();
    let f = findings_at(&engine, "a.txt", TOKEN_LINE).remove(0);
    for (format, order, streams) in [
        (Format::Jsonl, Order::AsFound, true),
        (Format::Jsonl, Order::Sorted, false),
        (Format::Json, Order::AsFound, false),
        (Format::Text, Order::AsFound, false),
        (Format::Sarif, Order::AsFound, false),
        (Format::Csv, Order::AsFound, false),
        (Format::Junit, Order::AsFound, false),
    ] {
        let out = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let buf = SharedBuf(out.clone());
        let mut sink = for_format(format, order, buf, engine.rules(), false);
        sink.finding(f.clone()).unwrap();
        let before = out.lock().unwrap().len();
        assert_eq!(before > 0, streams, "{format:?}");
        sink.finish(Notices::default()).unwrap();
        // A held format writes at the end; a streamed one has nothing left to write.
        assert_eq!(out.lock().unwrap().len() > before, !streams, "{format:?}");
    }
}

/// A writer whose bytes the test can read while the sink still owns it.
struct SharedBuf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for SharedBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A sink that fails every call with `kind`, counting the findings it was offered.
struct Failing(
    std::io::ErrorKind,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
);

impl Sink for Failing {
    fn finding(&mut self, _: Finding) -> std::io::Result<()> {
        self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Err(self.0.into())
    }

    fn finish(&mut self, _: Notices<'_>) -> std::io::Result<()> {
        Err(self.0.into())
    }
}

#[test]
fn tee_feeds_every_sink_and_fails_for_a_file_not_for_a_closed_pipe() {
    use std::io::ErrorKind;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let engine = Engine::builtin().unwrap();
    let found = findings_at(&engine, "a.txt", &format!("{TOKEN_LINE}{TOKEN_LINE}"));
    assert_eq!(found.len(), 2);
    let run = |kinds: &[ErrorKind]| {
        let offered = std::sync::Arc::new(AtomicUsize::new(0));
        let kept = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut tee = Tee::new();
        for &k in kinds {
            tee.push(Box::new(Failing(k, offered.clone())));
        }
        tee.push(Box::new(SharedBuf(kept.clone())).into_jsonl());
        for f in &found {
            tee.finding(f.clone()).unwrap();
        }
        let end = tee.finish(Notices::default());
        let lines = kept.lock().unwrap().iter().filter(|&&b| b == b'\n').count();
        (
            end.err().map(|e| e.kind()),
            offered.load(Ordering::Relaxed),
            lines,
        )
    };
    // A failed sink is offered one finding and no more; the healthy one gets them all.
    assert_eq!(
        run(&[ErrorKind::BrokenPipe]),
        (Some(ErrorKind::BrokenPipe), 1, 2)
    );
    // A file that could not be written is the error, even after a closed pipe.
    let both = run(&[ErrorKind::BrokenPipe, ErrorKind::StorageFull]);
    assert_eq!(both, (Some(ErrorKind::StorageFull), 2, 2));
    assert_eq!(run(&[]), (None, 0, 2));
}

impl SharedBuf {
    fn into_jsonl(self) -> Box<dyn Sink> {
        Box::new(Jsonl::new(self))
    }
}
