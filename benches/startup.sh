#!/usr/bin/env bash
# startup.sh — whole-process start-up: `shush scan` on a tiny file (what a pre-commit hook or
# a CI step pays per call), with hyperfine when installed, else a timed loop.
#
#   benches/startup.sh               # shush only, 50 runs
#   benches/startup.sh --runs 200 --peers   # also gitleaks, betterleaks, kingfisher (if installed)
#
# Environment: SHUSH_BIN=path (default: `cargo build --release`, target/release/shush),
# PEERS=/opt/peers.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PEERS=${PEERS:-/opt/peers}
RUNS=50
WITH_PEERS=0
while [ $# -gt 0 ]; do
  case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --peers) WITH_PEERS=1; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if [ -z "${SHUSH_BIN:-}" ]; then
  (cd "$ROOT" && cargo build --release --locked --bin shush) >&2
  SHUSH_BIN=$ROOT/target/release/shush
fi
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
TINY=$DIR/tiny.env
printf '# app settings\nLOG_LEVEL=info\nDATABASE_HOST=db.internal\nPORT=8080\n' > "$TINY"

names=(shush)
cmds=("$SHUSH_BIN scan $TINY --no-config -q --no-progress --exit-code 0")
if [ $WITH_PEERS = 1 ]; then
  P=$PEERS/bin
  if [ -x "$P/gitleaks" ]; then
    names+=(gitleaks); cmds+=("$P/gitleaks dir $TINY --no-banner --exit-code 0 --log-level error")
  fi
  if [ -x "$P/betterleaks" ]; then
    names+=(betterleaks); cmds+=("$P/betterleaks fs $TINY --no-banner --exit-code 0 --log-level error")
  fi
  if [ -x "$P/kingfisher" ]; then
    names+=(kingfisher); cmds+=("$P/kingfisher scan $TINY --no-validate --no-update-check -q")
  fi
fi

if command -v hyperfine > /dev/null; then
  args=()
  for i in "${!cmds[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
  hyperfine -N --warmup 5 --runs "$RUNS" --export-markdown "$DIR/startup.md" "${args[@]}" >&2
  cat "$DIR/startup.md"
  exit 0
fi

# No hyperfine: a loop of runs per command, timed one by one (ns clock).
echo "| command | runs | mean ms | min ms | max ms |"
echo "|---|---:|---:|---:|---:|"
for i in "${!cmds[@]}"; do
  read -r -a argv <<< "${cmds[$i]}"
  for _ in 1 2 3; do "${argv[@]}" > /dev/null 2>&1 || true; done
  times=()
  for _ in $(seq 1 "$RUNS"); do
    t0=$(date +%s%N)
    "${argv[@]}" > /dev/null 2>&1 || true
    t1=$(date +%s%N)
    times+=($(( t1 - t0 )))
  done
  printf '%s\n' "${times[@]}" | python3 -c "
import sys
t = [int(x) / 1e6 for x in sys.stdin.read().split()]
print('| ${names[$i]} | %d | %.2f | %.2f | %.2f |' % (len(t), sum(t) / len(t), min(t), max(t)))"
done
