# syntax=docker/dockerfile:1
# The shush container image: a release build of the binary on a small Debian runtime, run as
# a non-root user.
#
#   docker build -t shush .
#   docker run --rm -v "$PWD:/work" shush scan .
#   docker run --rm -v "$PWD:/work" shush git .          # history (needs the .git directory)
#   some-build 2>&1 | docker run --rm -i shush redact    # a CI log through the redactor
#   docker run --rm -e SHUSH_FLEET_STORE=… shush fleet work --cache /cache   # deploy/kubernetes/
#
# The builder copies only what the build reads (tests/suite/packaging.rs checks the list against
# Cargo.toml, build.rs and every include_str!/include_bytes! in src/, and against
# .dockerignore). shush reads repositories in-process (gix); the runtime has git only for
# `shush fleet work`, which mirrors the repositories it audits with `git clone --mirror` and
# `git fetch`.

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
# benches/ and the test suite's root: Cargo.toml declares the benchmarks and the test target, and
# cargo refuses a manifest whose targets are missing.
COPY benches/ benches/
COPY tests/suite/main.rs tests/suite/main.rs
COPY detectors/ detectors/
COPY hooks/ hooks/
COPY src/ src/
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked --bin shush \
    && install -D -m 0755 target/release/shush /out/shush

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
ARG UID=10001
# git, with ca-certificates for https and openssh-client for ssh remotes: `shush fleet work`
# fetches with the git binary. Unpinned on purpose: the versions are the Debian release's, and
# a rebuild picks up its security updates.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates git openssh-client \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid "${UID}" shush \
    && useradd --system --uid "${UID}" --gid shush --home-dir /home/shush --create-home \
        --shell /usr/sbin/nologin shush \
    && mkdir -p /work && chown shush:shush /work
COPY --from=build /out/shush /usr/local/bin/shush
# Numeric, so a runtime that enforces non-root (Kubernetes runAsNonRoot) can verify it.
USER ${UID}:${UID}
WORKDIR /work
ENTRYPOINT ["shush"]
CMD ["--help"]
