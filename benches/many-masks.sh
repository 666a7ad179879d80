#!/usr/bin/env bash
# `shush redact` and `shush run` with many known secrets: N `::add-mask::` lines in the
# stream (each value printed once later), and N values from --secrets-file. The time should
# grow linearly with N.
#
#   benches/many-masks.sh [SHUSH_BINARY] [N ...]     (default: target/release/shush 10000 40000 200000)
#
# Values are generated (random hex, 32 characters); nothing real.
set -euo pipefail
bin=${1:-target/release/shush}
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 40000 200000)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gen() { # N -> values, one a line
  python3 - "$1" <<'PY'
import random, sys
r = random.Random(1095)
for _ in range(int(sys.argv[1])):
    print("%032x" % r.getrandbits(128))
PY
}
secs() { # CMD... -> wall seconds
  local t0 t1
  t0=$(date +%s.%N)
  "$@"
  t1=$(date +%s.%N)
  python3 -c "print('%.2f' % ($t1 - $t0))"
}
printf "%-10s %-28s %s\n" N mode seconds
for n in "${sizes[@]}"; do
  gen "$n" > "$tmp/values"
  { sed 's/^/::add-mask::/' "$tmp/values"; sed 's/^/value: /' "$tmp/values"; } > "$tmp/addmask.log"
  sed 's/^/value: /' "$tmp/values" > "$tmp/plain.log"
  t=$(secs sh -c "'$bin' redact -q --register-masks off < '$tmp/addmask.log' > '$tmp/out1'")
  printf '%-10s %-28s %s\n' "$n" "redact, add-mask lines" "$t"
  t=$(secs sh -c "cat '$tmp/addmask.log' | '$bin' redact -q --register-masks off > '$tmp/out2'")
  printf '%-10s %-28s %s\n' "$n" "redact (pipe), add-mask" "$t"
  t=$(secs sh -c "'$bin' run -q --register-masks off -- cat '$tmp/addmask.log' > '$tmp/out3'")
  printf '%-10s %-28s %s\n' "$n" "run, add-mask lines" "$t"
  t=$(secs sh -c "'$bin' redact -q --register-masks off --secrets-file '$tmp/values' < '$tmp/plain.log' > '$tmp/out4'")
  printf '%-10s %-28s %s\n' "$n" "redact, --secrets-file" "$t"
  for o in out1 out2 out3 out4; do
    if grep -q -F -f "$tmp/values" "$tmp/$o"; then echo "LEAK in $o" >&2; exit 1; fi
  done
done
