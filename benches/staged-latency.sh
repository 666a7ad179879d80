#!/usr/bin/env bash
# Latency of the pre-commit scan (`shush git --staged`) on a 10,000-file repository with a
# typical commit staged (two files edited, one added).
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
for _ in $(seq "$runs"); do "$shush" git --staged --no-config >/dev/null; done
end=$(date +%s%N)
echo "shush git --staged: $(( (end - start) / runs / 1000000 )) ms mean over $runs runs"
/usr/bin/time -f "one run: %e s wall, %U s user, %S s sys, %M KB peak" "$shush" git --staged --no-config >/dev/null
