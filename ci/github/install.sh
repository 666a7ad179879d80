#!/usr/bin/env bash
# Puts `shush` on PATH for the GitHub Action (action.yml); runnable by hand too.
#
#   SHUSH_INSTALL  pypi (default): the prebuilt wheel `shush-scanner==$SHUSH_VERSION` from
#                  PyPI, unpacked with pip into a directory of its own (no virtualenv, no Rust,
#                  a few seconds; pip's --target leaves the system Python alone);
#                  cargo: build the tagged source with `cargo install` (minutes; needs Rust);
#                  none: use the `shush` already on PATH.
#   SHUSH_VERSION  the shush-scanner version, or `latest`.
#   RUNNER_TEMP    where to install (default: $TMPDIR or /tmp).
#   GITHUB_PATH    the install directory is appended to it, so later steps find `shush`.
#   SHUSH_GIT_URL  the repository `install: cargo` builds from (default: the project's GitHub).
#
# Exit status: 0 installed (the version is printed), 2 could not install.
set -euo pipefail

mode=${SHUSH_INSTALL:-pypi}
version=${SHUSH_VERSION:-latest}
repo_url=${SHUSH_GIT_URL:-https://github.com/shush-scanner/shush}
temp=${RUNNER_TEMP:-${TMPDIR:-/tmp}}

fail() {
    echo "::error title=shush install::$*" >&2
    exit 2
}

case "$version" in
    latest) ;;
    [0-9]*.[0-9]*.[0-9]*)
        [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-.+][0-9A-Za-z.]+)?$ ]] ||
            fail "version '$version' is not a release version (such as 0.1.0) or 'latest'"
        ;;
    *) fail "version '$version' is not a release version (such as 0.1.0) or 'latest'" ;;
esac

bindir=
case "$mode" in
    none)
        command -v shush >/dev/null 2>&1 ||
            fail "install: none, but there is no shush on PATH (install it first, or use install: pypi)"
        ;;
    pypi)
        py=$(command -v python3 || command -v python) ||
            fail "install: pypi needs Python 3 with pip on the runner (or use install: cargo)"
        spec=shush-scanner
        [ "$version" = latest ] || spec="shush-scanner==$version"
        dir="$temp/shush-scanner-$version"
        echo "shush: installing $spec from PyPI into $dir"
        PIP_ROOT_USER_ACTION=ignore "$py" -m pip install --disable-pip-version-check --no-input \
            --quiet --upgrade --only-binary=:all: --target "$dir" "$spec" ||
            fail "pip could not install $spec (no wheel for this platform? use install: cargo)"
        bindir="$dir/bin"
        ;;
    cargo)
        command -v cargo >/dev/null 2>&1 ||
            fail "install: cargo needs a Rust toolchain on the runner (or use install: pypi)"
        root="$temp/shush-cargo-$version"
        tag=()
        [ "$version" = latest ] || tag=(--tag "v$version")
        echo "shush: building shush-scanner $version from $repo_url with cargo"
        cargo install --locked --git "$repo_url" ${tag[@]+"${tag[@]}"} --root "$root" shush-scanner ||
            fail "cargo install of shush-scanner failed"
        bindir="$root/bin"
        ;;
    *) fail "install must be pypi, cargo or none, not '$mode'" ;;
esac

if [ -n "$bindir" ]; then
    [ -x "$bindir/shush" ] || fail "no shush binary in $bindir after installing"
    if [ -n "${GITHUB_PATH:-}" ]; then
        echo "$bindir" >>"$GITHUB_PATH"
    else
        echo "shush: installed in $bindir (add it to PATH)"
    fi
    export PATH="$bindir:$PATH"
fi
shush --version
