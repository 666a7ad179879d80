#!/usr/bin/env bash
# artifacts.sh — time shush against Kingfisher and Betterleaks on container images and
# release archives (built by make-artifacts.py), warm cache, one tool at a time.
#
#   benches/artifacts.sh                        # /tmp/shush-art (built if absent), best of 3
#   benches/artifacts.sh --dir DIR --runs 1
# Options:
#   --dir DIR     artifacts (default /tmp/shush-art; `make-artifacts.py DIR` if absent)
#   --runs N      timed runs per tool and artifact; the best wall time is reported (default 3)
#   --scale S     --scale for make-artifacts.py when building (default 1: ~600 MB image)
#   --out DIR     reports and timings (default /tmp/shush-art-peers)
#   --tools LIST  space-separated subset of "shush kingfisher betterleaks" (default: all)
# Environment: PEERS=/opt/peers, SHUSH_BIN=path (default: target/release/shush, built with
# `cargo build --release` if absent).
#
# Commands (each tool's own way of reading the artifact, defaults otherwise, no validation,
# no network):
#   shush        shush scan ART --show-secrets -q -f json -o REPORT   (images auto-detected)
#   kingfisher   image: kingfisher scan docker --archive ART …; archive: kingfisher scan ART …
#                (--no-limits --no-validate --no-update-check -q -f json -o REPORT;
#                under its default content limits it skips a 600 MB image whole)
#   betterleaks  betterleaks fs ART --max-archive-depth 8 -o REPORT --no-banner --exit-code 0
#                --log-level error
# Columns: wall s (best of N), user and sys CPU s of that run, peak RSS (GNU time %M), and
# how many of the planted secrets (PLANTED) the report holds.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PEERS=${PEERS:-/opt/peers}
DIR=/tmp/shush-art
RUNS=3
SCALE=1
OUT=/tmp/shush-art-peers
TOOLS="shush kingfisher betterleaks"
while [ $# -gt 0 ]; do
  case $1 in
    --dir) DIR=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --tools) TOOLS=$2; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ -x /usr/bin/time ] || { echo "needs GNU time at /usr/bin/time" >&2; exit 2; }
[ -f "$DIR/PLANTED" ] || python3 "$ROOT/benches/make-artifacts.py" "$DIR" --scale "$SCALE" || exit 2
if [ -z "${SHUSH_BIN:-}" ]; then
  SHUSH_BIN=$ROOT/target/release/shush
  [ -x "$SHUSH_BIN" ] || (cd "$ROOT" && cargo build --release --locked --bin shush) >&2 || exit 2
fi
mkdir -p "$OUT"
P=$PEERS/bin

cmd() { # tool artifact report
  local kind=archive
  case $2 in *image*) kind=image ;; esac
  case $1 in
    shush) echo "$SHUSH_BIN" scan "$2" --show-secrets -q -f json -o "$3" ;;
    kingfisher)
      if [ $kind = image ]; then
        echo "$P/kingfisher" scan docker --archive "$2" --no-limits --no-validate --no-update-check -q -f json -o "$3"
      else
        echo "$P/kingfisher" scan "$2" --no-limits --no-validate --no-update-check -q -f json -o "$3"
      fi ;;
    betterleaks) echo "$P/betterleaks" fs "$2" --max-archive-depth 8 -o "$3" --no-banner --exit-code 0 --log-level error ;;
  esac
}

recall() { # report
  python3 - "$1" "$DIR/PLANTED" <<'EOF'
import sys
try:
    text = open(sys.argv[1]).read()
except OSError:
    text = ""
planted = [l.rstrip("\n").split("\t")[2] for l in open(sys.argv[2]) if l.strip()]
print(f"{sum(1 for s in planted if s in text)}/{len(planted)}")
EOF
}

printf '%-16s %-12s %8s %8s %8s %10s %8s\n' artifact tool wall_s user_s sys_s peak_MB planted
for art in image.tar image-oci.tar release.tar.gz; do
  for tool in $TOOLS; do
    if [ $tool != shush ] && [ ! -x "$P/$tool" ]; then continue; fi
    report=$OUT/$tool-$art.json
    read -r -a c <<<"$(cmd $tool "$DIR/$art" "$report")"
    cat "$DIR/$art" >/dev/null
    "${c[@]}" >/dev/null 2>&1 # untimed warm-up
    best=
    for _ in $(seq "$RUNS"); do
      rm -f "$report"
      /usr/bin/time -f '%e %U %S %M' -o "$OUT/time" "${c[@]}" >/dev/null 2>&1
      read -r w u s m < <(tail -n 1 "$OUT/time")
      if [ -z "$best" ] || awk "BEGIN{exit !($w < ${best%% *})}"; then best="$w $u $s $m"; fi
    done
    read -r w u s m <<<"$best"
    printf '%-16s %-12s %8s %8s %8s %10.0f %8s\n' "$art" "$tool" "$w" "$u" "$s" "$((m / 1024))" "$(recall "$report")"
  done
done
