#!/usr/bin/env bash
# CPU that `shush redact` spends per line when lines arrive one at a time (a build printing
# as it goes), as opposed to throughput on a file: each line is one `write` into the pipe,
# at up to 5,000 lines/s, so the redactor wakes and scans for nearly every line.
#
#   benches/line-cost.sh LOG [SHUSH_BINARY ...]     (default binary: target/release/shush)
#
# LOG is any text log; its first 20,000 lines are used (e.g. the one `SHUSH_BENCH_LOG=/tmp/ci.log
# cargo bench --bench redact` keeps). Prints user + sys CPU seconds and microseconds per line
# for each binary, twice, alternating.
set -euo pipefail
log=${1:?usage: benches/line-cost.sh LOG [SHUSH_BINARY ...]}
shift
bins=("$@")
[ ${#bins[@]} -gt 0 ] || bins=(target/release/shush)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -n 20000 "$log" > "$tmp/lines"
cat > "$tmp/feed.py" <<'PY'
import os, sys, time
for line in open(sys.argv[1], "rb").read().splitlines():
    os.write(1, line + b"\n")
    time.sleep(0.0002)
PY
n=$(wc -l < "$tmp/lines")
for round in 1 2; do
  for bin in "${bins[@]}"; do
    python3 "$tmp/feed.py" "$tmp/lines" |
      /usr/bin/time -f "%U %S" -o "$tmp/t" "$bin" redact -q > /dev/null
    read -r user sys < "$tmp/t"
    awk -v b="$bin" -v u="$user" -v s="$sys" -v n="$n" -v r="$round" \
      'BEGIN { printf "%-45s round %d: %.2f s CPU, %.1f us/line\n", b, r, u + s, (u + s) * 1e6 / n }'
  done
done
