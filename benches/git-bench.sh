#!/usr/bin/env bash
# Times a full-history scan of one repository by shush and the peer scanners, one after
# another (never two at once), with wall, user and system time and peak RSS.
#
#   benches/git-bench.sh REPO [OUT_DIR]
#
# shush is target/release/shush (build it first: cargo build --release); peers are taken from
# PEERS (default /opt/peers/bin) when installed. Run it on a quiet machine.
set -u
repo=$1
out=${2:-/tmp/shush-git-bench}
peers=${PEERS:-/opt/peers/bin}
shush=${SHUSH:-target/release/shush}
mkdir -p "$out"
t() {
    local name=$1
    shift
    /usr/bin/time -f "%e s wall, %U s user, %S s sys, %M KB peak" -o "$out/$name.time" \
        "$@" >"$out/$name.out" 2>"$out/$name.err"
    echo "$name rc=$? $(tail -1 "$out/$name.time")"
}
git --git-dir="$repo" cat-file --batch-all-objects --batch-check='%(objecttype) %(objectsize)' \
    | awk '$1=="blob"{n++; s+=$2} END {printf "blobs=%d bytes=%.0f\n", n, s}'
t shush "$shush" git "$repo" --no-config --format json -o "$out/shush.json"
[ -x "$peers/betterleaks" ] && t betterleaks "$peers/betterleaks" git "$repo" -o "$out/betterleaks.json" -s --no-banner --exit-code 0 --log-level error
[ -x "$peers/kingfisher" ] && t kingfisher "$peers/kingfisher" scan "$repo" --no-validate --no-update-check -q -f json -o "$out/kingfisher.json"
[ -x "$peers/gitleaks" ] && t gitleaks "$peers/gitleaks" git "$repo" --no-banner -f json -r "$out/gitleaks.json" --exit-code 0 --log-level error
t shush-again "$shush" git "$repo" --no-config --format json -o "$out/shush2.json"
