#!/usr/bin/env bash
# peers.sh — time shush against peer secret scanners on one directory tree, warm cache.
#
#   benches/peers.sh                      # full run: /tmp/peer-big (~384 MB), best of 3
#   benches/peers.sh --tree DIR --runs 1  # any directory (smoke test: a small one)
#   benches/peers.sh --corpus             # also: recall / false positives of every tool on
#                                         # the synthetic corpus (gen-corpus), line-level
#
# Options:
#   --tree DIR      tree to scan (default /tmp/peer-big, built by make-bench-tree.sh if absent)
#   --runs N        timed runs per tool; the best wall time is reported (default 3)
#   --tools LIST    space-separated (default "shush kingfisher betterleaks gitleaks ripsecrets")
#                   also known: detect-secrets (slow: Python), credsweeper (very slow)
#   --out DIR       where reports and timings go (default /tmp/shush-peers)
#   --corpus        score each tool on the corpus from `cargo run --example gen-corpus`
#   --log FILE      also time the pipe jobs on FILE given as stdin: cat, one sed regex,
#                   `shush redact`, `shush scan -`, and the peers' stdin modes (gitleaks and
#                   Betterleaks `stdin`). Keep a generated CI log with
#                   `SHUSH_BENCH_MB=200 SHUSH_BENCH_LOG=/tmp/ci.log cargo bench --bench redact`
#   --scaling LIST  also time shush on the tree at each thread count (`-j N`), e.g. "1 2 4 8 16"
#   --no-install    do not run install-peers.sh (missing tools are skipped)
# Environment:
#   PEERS=/opt/peers            install prefix of the peers (install-peers.sh)
#   TOOLS=../shared/tools         where install-peers.sh and make-bench-tree.sh live
#   SHUSH_BIN=path              use this shush binary instead of `cargo build --release`
#   GEN_CORPUS_BIN=path         use this gen-corpus binary instead of `cargo run --release`
#
# Each tool runs with its defaults (all cores, built-in rules, no validation / network),
# one after another, never two at once. Before timing, the tree is read once (page cache)
# and each tool runs once untimed (its own caches, e.g. Kingfisher's compiled rules).
# Columns: wall seconds (best of N), MB/s = tree bytes / wall, peak RSS of that run, the
# number of findings in the tool's report (tools count differently: per match, per secret,
# per line…; compare with care). Timings are /usr/bin/time's: `%e` wall, `%M` max RSS.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PEERS=${PEERS:-/opt/peers}
TOOLS=${TOOLS:-$ROOT/../shared/tools}
TREE=/tmp/peer-big
RUNS=3
SEL="shush kingfisher betterleaks gitleaks ripsecrets"
OUT=/tmp/shush-peers
CORPUS=0
INSTALL=1
LOG=
SCALING=
while [ $# -gt 0 ]; do
  case $1 in
    --tree) TREE=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --tools) SEL=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --corpus) CORPUS=1; shift ;;
    --log) LOG=$2; shift 2 ;;
    --scaling) SCALING=$2; shift 2 ;;
    --no-install) INSTALL=0; shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
P=$PEERS/bin
mkdir -p "$OUT"
log() { printf '== %s\n' "$*" >&2; }
[ -x /usr/bin/time ] || { echo "needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 2; }

# --- peers ------------------------------------------------------------------------------------
missing=()
for t in $SEL; do
  [ "$t" = shush ] && continue
  [ -x "$P/$t" ] || missing+=("$t")
done
if [ ${#missing[@]} -gt 0 ] && [ $INSTALL = 1 ]; then
  log "installing peers (${missing[*]}) under $PEERS"
  skip_cargo=1
  [[ " ${missing[*]} " == *" ripsecrets "* ]] && skip_cargo=
  if [ -n "$skip_cargo" ]; then
    PEERS=$PEERS SKIP_NPM=1 SKIP_CARGO=1 bash "$TOOLS/install-peers.sh" >&2 || log "install-peers.sh failed; continuing with what is there"
  else
    PEERS=$PEERS SKIP_NPM=1 bash "$TOOLS/install-peers.sh" >&2 || log "install-peers.sh failed; continuing with what is there"
  fi
fi

# --- shush ------------------------------------------------------------------------------------
if [[ " $SEL " == *" shush "* ]] && [ -z "${SHUSH_BIN:-}" ]; then
  log "cargo build --release"
  (cd "$ROOT" && cargo build --release --locked --bin shush) >&2 || exit 2
  SHUSH_BIN=$ROOT/target/release/shush
fi

# --- tree -------------------------------------------------------------------------------------
if [ ! -d "$TREE" ]; then
  log "building $TREE"
  bash "$TOOLS/make-bench-tree.sh" "$TREE" >&2 || exit 2
fi
BYTES=$(du -sb --apparent-size "$TREE" | cut -f1)
NFILES=$(find "$TREE" -type f | wc -l)
log "warming the page cache: $TREE ($NFILES files, $BYTES bytes)"
find "$TREE" -type f -print0 | xargs -0 cat > /dev/null 2>&1

# --- commands ---------------------------------------------------------------------------------
# cmd TOOL TARGET REPORT: prints the command line (an array, one word per line).
cmd() {
  local tool=$1 target=$2 report=$3
  case $tool in
    shush) printf '%s\n' "$SHUSH_BIN" scan "$target" --no-config -f json -o "$report" -q --no-progress --exit-code 0 ;;
    kingfisher) printf '%s\n' "$P/kingfisher" scan "$target" --no-validate --no-update-check -q -f json -o "$report" ;;
    betterleaks) printf '%s\n' "$P/betterleaks" fs "$target" -o "$report" --no-banner --exit-code 0 --log-level error ;;
    gitleaks) printf '%s\n' "$P/gitleaks" dir "$target" -f json -r "$report" --no-banner --exit-code 0 --log-level error ;;
    ripsecrets) printf '%s\n' "$P/ripsecrets" "$target" ;;
    detect-secrets) printf '%s\n' "$P/detect-secrets" scan --all-files "$target" ;;
    credsweeper) printf '%s\n' "$P/credsweeper" --path "$target" --save-json "$report" --no-stdout ;;
    *) return 1 ;;
  esac
}
version() {
  case $1 in
    shush) "$SHUSH_BIN" --version ;;
    gitleaks|betterleaks) "$P/$1" version ;;
    *) "$P/$1" --version ;;
  esac 2>&1 | head -n1 | tr -d '\r'
}
# run TOOL TARGET TAG: runs once under /usr/bin/time; report → $OUT/TOOL.TAG.json (or .out).
run() {
  local tool=$1 target=$2 tag=$3
  local report=$OUT/$tool.$tag.json
  rm -f "$report"
  mapfile -t argv < <(cmd "$tool" "$target" "$report")
  /usr/bin/time -f "%e %M" -o "$OUT/$tool.$tag.time" "${argv[@]}" > "$OUT/$tool.$tag.out" 2> "$OUT/$tool.$tag.err"
  echo $? > "$OUT/$tool.$tag.rc"
  # Tools that print their report on stdout.
  [ -s "$report" ] || cp "$OUT/$tool.$tag.out" "$report"
}

# Findings → JSON Lines {"file","line"} (paths relative to the target), or a count.
convert() {  # TOOL REPORT TARGET MODE(count|lines)
  python3 - "$@" <<'PY'
import json, os, re, sys
tool, report, target, mode = sys.argv[1:5]
target = os.path.abspath(target).rstrip("/") + "/"
text = open(report, errors="replace").read()
out = []  # (file, line)
def rel(p):
    p = str(p)
    a = os.path.abspath(p) if not p.startswith("/") else p
    return a[len(target):] if a.startswith(target) else p
def walk(v):
    """Kingfisher and others: find objects that carry a path and a line."""
    if isinstance(v, dict):
        path = v.get("path") or v.get("file") or v.get("File") or v.get("file_path")
        line = v.get("line") or v.get("StartLine") or v.get("start_line") or v.get("line_num") or v.get("line_number")
        if path is not None and isinstance(line, int):
            out.append((rel(path), line)); return
        loc = v.get("location") or v.get("source_span")
        if isinstance(loc, dict) and path is None:
            pass
        for x in v.values():
            walk(x)
    elif isinstance(v, list):
        for x in v:
            walk(x)
data = None
try:
    data = json.loads(text)
except Exception:
    try:
        data = [json.loads(l) for l in text.splitlines() if l.strip().startswith("{")]
    except Exception:
        data = None
if tool == "detect-secrets" and isinstance(data, dict):
    for f, items in data.get("results", {}).items():
        for it in items:
            out.append((rel(f), it.get("line_number", 0)))
elif tool == "kingfisher" and data is not None:
    def kf(v):
        if isinstance(v, dict):
            fin = v.get("finding")
            if isinstance(fin, dict) and "path" in fin:
                out.append((rel(fin["path"]), int(fin.get("line", 0)))); return
            for x in v.values(): kf(x)
        elif isinstance(v, list):
            for x in v: kf(x)
    kf(data)
    if not out: walk(data)
elif data is not None and tool != "ripsecrets":
    walk(data)
else:
    # ripsecrets: "path:line:..." per finding.
    for l in text.splitlines():
        m = re.match(r"^(.*?):(\d+):", l)
        if m: out.append((rel(m.group(1)), int(m.group(2))))
if mode == "count":
    print(len(out))
else:
    for f, l in out:
        print(json.dumps({"file": f, "line": l}))
PY
}

# --- timing -----------------------------------------------------------------------------------
MB=$(python3 -c "print($BYTES/1e6)")
printf '\nTree: `%s` — %s files, %.1f MB; %s cores (%s); best of %s runs, warm cache.\n\n' \
  "$TREE" "$NFILES" "$MB" "$(nproc)" "$(uname -m)" "$RUNS"
echo "| tool | version | wall s | MB/s | peak RSS MB | findings | exit |"
echo "|---|---|---:|---:|---:|---:|---:|"
for t in $SEL; do
  if [ "$t" != shush ] && [ ! -x "$P/$t" ]; then
    echo "| $t | (not installed) | | | | | |"; continue
  fi
  log "$t: warm-up run"
  run "$t" "$TREE" warm
  best=""; best_rss=""; best_i=""
  for i in $(seq 1 "$RUNS"); do
    log "$t: run $i/$RUNS"
    run "$t" "$TREE" "$i"
    read -r wall rss < <(tail -n1 "$OUT/$t.$i.time")
    if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if $wall < $best else 1)"; then
      best=$wall; best_rss=$rss; best_i=$i
    fi
  done
  n=$(convert "$t" "$OUT/$t.$best_i.json" "$TREE" count 2>/dev/null || echo "?")
  rc=$(cat "$OUT/$t.$best_i.rc")
  python3 -c "
w=$best; print('| $t | $(version "$t" | sed 's/|/\\|/g') | %.2f | %.1f | %.0f | $n | $rc |' % (w, $MB/max(w,1e-9), $best_rss/1024))"
done

# --- thread scaling ---------------------------------------------------------------------------
# best_of LABEL CMD...: runs CMD $RUNS times under /usr/bin/time (stdin from $STDIN, default
# /dev/null); prints "wall cpu rss_kb" of the fastest run.
best_of() {
  local label=$1; shift
  local best="" line=""
  for i in $(seq 1 "$RUNS"); do
    log "$label: run $i/$RUNS"
    /usr/bin/time -f "%e %U %S %M" -o "$OUT/best.time" "$@" < "${STDIN:-/dev/null}" > /dev/null 2> "$OUT/best.err"
    read -r wall user sys rss < <(tail -n1 "$OUT/best.time")
    if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if $wall < $best else 1)"; then
      best=$wall; line="$wall $(python3 -c "print($user + $sys)") $rss"
    fi
  done
  echo "$line"
}
if [ -n "$SCALING" ] && [[ " $SEL " == *" shush "* ]]; then
  printf '\nshush on the tree by thread count (`-j N`; archives opened), best of %s:\n\n' "$RUNS"
  echo "| threads | wall s | CPU s | MB/s | speed-up | peak RSS MB |"
  echo "|---:|---:|---:|---:|---:|---:|"
  one=""
  for n in $SCALING; do
    read -r wall cpu rss < <(best_of "shush -j $n" "$SHUSH_BIN" scan "$TREE" --no-config -q --no-progress --exit-code 0 -j "$n")
    [ -z "$one" ] && one=$wall
    python3 -c "print('| $n | %.2f | %.2f | %.1f | %.2f | %.0f |' % ($wall, $cpu, $MB/max($wall,1e-9), $one/max($wall,1e-9), $rss/1024))"
  done
fi

# --- pipes: a log on stdin --------------------------------------------------------------------
if [ -n "$LOG" ]; then
  [ -f "$LOG" ] || { echo "--log $LOG: no such file" >&2; exit 2; }
  LOG_MB=$(python3 -c "import os, sys; print(os.path.getsize(sys.argv[1])/1e6)" "$LOG")
  cat "$LOG" > /dev/null
  printf '\nA log on stdin: `%s`, %.1f MB; output to /dev/null; best of %s runs.\n\n' "$LOG" "$LOG_MB" "$RUNS"
  echo "| command | wall s | MB/s (wall) | MB/s per core (CPU) | peak RSS MB |"
  echo "|---|---:|---:|---:|---:|"
  pipe_row() {  # LABEL CMD...
    local label=$1; shift
    read -r wall cpu rss < <(STDIN=$LOG best_of "$label" "$@")
    python3 - "$label" "$wall" "$cpu" "$rss" "$LOG_MB" <<'PY'
import sys
label, wall, cpu, rss, mb = sys.argv[1], *map(float, sys.argv[2:])
print(f"| `{label}` | {wall:.2f} | {mb / max(wall, 1e-9):.0f} | {mb / max(cpu, 1e-9):.0f} | {rss / 1024:.0f} |")
PY
  }
  pipe_row "cat" cat
  pipe_row "sed one regex" sed 's/ghp_[A-Za-z0-9]\{36\}/***/g'
  if [[ " $SEL " == *" shush "* ]]; then
    pipe_row "shush redact" "$SHUSH_BIN" redact -q
    pipe_row "shush scan -" "$SHUSH_BIN" scan - --no-config -q --no-progress --exit-code 0
  fi
  for t in gitleaks betterleaks; do
    if [[ " $SEL " == *" $t "* ]] && [ -x "$P/$t" ]; then
      pipe_row "$t stdin" "$P/$t" stdin --no-banner --exit-code 0 --log-level error
    fi
  done
fi

# --- corpus recall ----------------------------------------------------------------------------
if [ $CORPUS = 1 ]; then
  C=$OUT/corpus
  log "generating the corpus into $C"
  if [ -z "${GEN_CORPUS_BIN:-}" ]; then
    (cd "$ROOT" && cargo build --release --locked --quiet --example gen-corpus) >&2 || exit 2
    GEN_CORPUS_BIN=$ROOT/target/release/examples/gen-corpus
  fi
  "$GEN_CORPUS_BIN" "$C" >&2 || exit 2
  printf '\nSynthetic corpus (`gen-corpus`, %s files): a positive counts as found when the tool reports\n' \
    "$(find "$C/files" -type f | wc -l)"
  printf 'anything on its line (rule ids are not compared across tools); FP = findings on lines with\n'
  printf 'no planted positive. The corpus is minted from shush'"'"'s own rule examples: it favours shush.\n\n'
  echo "| tool | recall plain | recall base64 | recall percent | FP findings | findings |"
  echo "|---|---:|---:|---:|---:|---:|"
  for t in $SEL; do
    if [ "$t" != shush ] && [ ! -x "$P/$t" ]; then continue; fi
    log "$t: corpus"
    run "$t" "$C/files" corpus
    convert "$t" "$OUT/$t.corpus.json" "$C/files" lines > "$OUT/$t.corpus.hits.jsonl"
    "$GEN_CORPUS_BIN" "$OUT/$t.rescore" --hits "$OUT/$t.corpus.hits.jsonl" > "$OUT/$t.corpus.score" 2>&1
    python3 - "$t" "$OUT/$t.corpus.score" <<'PY'
import re, sys
tool, path = sys.argv[1:3]
s = open(path).read()
def rec(name):
    m = re.search(r"^\s+%s\s+(\d+)\s+(\d+)\s+([\d.]+)%%" % name, s, re.M)
    return m.group(3) + "%" if m else "?"
fp = re.search(r"false positives: (\d+) findings .*?; (\d+) findings in all", s)
print(f"| {tool} | {rec('plain')} | {rec('base64')} | {rec('percent')} | {fp.group(1) if fp else '?'} | {fp.group(2) if fp else '?'} |")
PY
  done
fi
log "reports and timings in $OUT"
