#!/usr/bin/env bash
# Builds a deterministic synthetic git history (a bare repository) for history-scan benchmarks.
#
#   benches/git-history.sh [DIR] [FILES] [COMMITS] [SECRET_EVERY]
#
# Defaults: DIR=/tmp/shush-synthetic, 3000 files, 12000 commits, a fake AWS key every 400
# commits. Needs rustc (std only) and git. The same arguments give the same object ids.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-/tmp/shush-synthetic}
files=${2:-3000}
commits=${3:-12000}
every=${4:-400}
mkdir -p "$dir"
rustc -O --edition 2021 "$here/git-history/make_history.rs" -o "$dir/make_history"
repo="$dir/repo.git"
rm -rf "$repo"
git init -q --bare "$repo"
"$dir/make_history" "$files" "$commits" "$every" \
    | git --git-dir="$repo" -c gc.auto=0 fast-import --quiet
# fast-import writes loosely deltified packs; repack as a server would.
git --git-dir="$repo" -c gc.auto=0 repack -q -a -d -f --window=10 --depth=50
git --git-dir="$repo" count-objects -v | grep -E '^(count|size-pack|in-pack)'
git --git-dir="$repo" cat-file --batch-all-objects --batch-check='%(objecttype) %(objectsize)' \
    | awk '$1=="blob"{n++; s+=$2} END {printf "blobs=%d bytes=%.0f\n", n, s}'
echo "$repo"
