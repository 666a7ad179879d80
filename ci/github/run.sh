#!/usr/bin/env bash
# Runs `shush ci` for the GitHub Action (action.yml) in the current directory and passes its
# exit status through (0 clean, 1 findings, 2 could not scan); runnable by hand too.
#
#   SHUSH_ARGS          extra arguments for `shush ci`, separated by whitespace (no quoting,
#                       no globbing), e.g. `--baseline .shush-baseline.jsonl`.
#   SHUSH_SARIF         also write a SARIF report to this path.
#   SHUSH_UPLOAD_SARIF  `true`: the SARIF report is wanted for upload; written to
#                       $RUNNER_TEMP/shush.sarif when SHUSH_SARIF is empty.
#
# `shush ci` reads the event from GITHUB_EVENT_NAME/GITHUB_EVENT_PATH and writes annotations,
# the step summary and `findings=N` itself. This script adds the step outputs `exit-code`
# and `sarif` (the report's absolute path, when one was written).
set -uo pipefail

extra=()
if [ -n "${SHUSH_ARGS:-}" ]; then
    read -r -d '' -a extra <<<"$SHUSH_ARGS" || true
fi

sarif=${SHUSH_SARIF:-}
if [ -z "$sarif" ] && [ "${SHUSH_UPLOAD_SARIF:-false}" = true ]; then
    sarif="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/shush.sarif"
fi
args=()
[ -z "$sarif" ] || args+=(--sarif "$sarif")

shush ci ${args[@]+"${args[@]}"} ${extra[@]+"${extra[@]}"}
rc=$?

if [ -n "${GITHUB_OUTPUT:-}" ]; then
    echo "exit-code=$rc" >>"$GITHUB_OUTPUT"
    if [ -n "$sarif" ] && [ -f "$sarif" ]; then
        abs="$(cd "$(dirname "$sarif")" && pwd)/$(basename "$sarif")"
        echo "sarif=$abs" >>"$GITHUB_OUTPUT"
    fi
fi
exit "$rc"
