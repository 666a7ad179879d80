#!/usr/bin/env bash
# Latency of the pre-commit scan (`shush git --staged`) on a 10,000-file repository with a
# typical commit staged (two files edited, one added): with the built-in rules, and with the
# gitleaks-style configs people commit (`[extend] useDefault = true` plus allowlists and
# disabled rules; plus a custom rule with its own keyword, the first run without the
# automaton cache and then with it).
#
#   benches/staged-latency.sh [DIR] [FILES] [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-/tmp/shush-staged}
files=${2:-10000}
runs=${3:-20}
shush=$(cd "$here/.." && pwd)/target/release/shush
mkdir -p "$dir"
rustc -O --edition 2021 "$here/git-history/make_history.rs" -o "$dir/make_history"
repo="$dir/repo"
rm -rf "$repo"
git init -q -b main "$repo"
"$dir/make_history" "$files" 1 0 | git -C "$repo" fast-import --quiet
git -C "$repo" checkout -q -f main
git -C "$repo" ls-files | wc -l | xargs echo "files in HEAD:"
# A typical commit: two files edited, one new file.
f1=$(git -C "$repo" ls-files | sed -n 100p)
f2=$(git -C "$repo" ls-files | sed -n 5000p)
echo "let edited = compute(1, \"x\");" >>"$repo/$f1"
echo "let edited = compute(2, \"y\");" >>"$repo/$f2"
printf 'fn new_module() {}\n' >"$repo/new_module.rs"
git -C "$repo" add -A
git -C "$repo" diff --cached --stat | tail -1
cd "$repo"
"$shush" git --staged --no-config >/dev/null  # warm the page cache
start=$(date +%s%N)
for _ in $(seq "$runs"); do "$shush" git --staged -q --no-config >/dev/null; done
end=$(date +%s%N)
echo "shush git --staged: $(( (end - start) / runs / 1000000 )) ms mean over $runs runs"
/usr/bin/time -f "one run: %e s wall, %U s user, %S s sys, %M KB peak" "$shush" git --staged --no-config >/dev/null

# gitleaks-style configs.
mean_ms() { # mean wall time of N runs of `shush git --staged ARGS`
  local n=$1 start end
  shift
  start=$(date +%s%N)
  for _ in $(seq "$n"); do "$shush" git --staged -q "$@" >/dev/null || true; done
  end=$(date +%s%N)
  echo $(((end - start) / n / 1000000))
}
cat >"$dir/allowlist.toml" <<'TOML'
[extend]
useDefault = true
disabledRules = ["generic-password"]
[[allowlists]]
description = "vendored code"
paths = ['''^vendor/''']
TOML
cat >"$dir/custom.toml" <<'TOML'
[extend]
useDefault = true
[[rules]]
id = "acme-api-key"
description = "ACME API key"
regex = '''acme_[a-z0-9]{32}'''
keywords = ["acme_"]
TOML
export SHUSH_CACHE_DIR="$dir/cache"
rm -rf "$SHUSH_CACHE_DIR"
echo "built-in rules: $(mean_ms "$runs" --no-config) ms mean over $runs runs"
echo "useDefault + disabledRules + allowlist: $(mean_ms "$runs" --config "$dir/allowlist.toml") ms mean over $runs runs"
echo "useDefault + custom rule, first run (no cache): $(mean_ms 1 --config "$dir/custom.toml") ms"
echo "useDefault + custom rule, cached: $(mean_ms "$runs" --config "$dir/custom.toml") ms mean over $runs runs"
