#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on 127.0.0.1 for the tests (the triage store and the fleet's
# queue on `postgres://`), from Debian's packages: `ci/postgres.sh start` prints the URL of a
# superuser connection; `ci/postgres.sh ca` the certificate authority of its TLS certificate
# (the role `shush_tls` may connect over TLS only); `ci/postgres.sh stop` stops the cluster
# and removes it. As root, the cluster runs as the `postgres` user (initdb refuses root).
set -euo pipefail
dir=${SHUSH_PG_DIR:-/tmp/shush-test-pg}
port=${SHUSH_PG_PORT:-55432}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "ci/postgres.sh: PostgreSQL is not installed (Debian package: postgresql)" >&2
  exit 3
fi
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
# A certificate authority and a server certificate for 127.0.0.1 and localhost, signed by it
# (EC P-256, valid two days), in $dir/tls: the server's key readable by its owner only.
make_certificates() {
  local t="$dir/tls"
  mkdir -p "$t"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=shush test CA" -keyout "$t/ca.key" -out "$t/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
    -keyout "$t/server.key" -out "$t/server.csr" 2>/dev/null
  printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=CA:FALSE" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >"$t/server.ext"
  openssl x509 -req -in "$t/server.csr" -CA "$t/ca.crt" -CAkey "$t/ca.key" -CAcreateserial \
    -days 2 -extfile "$t/server.ext" -out "$t/server.crt" 2>/dev/null
  chmod 600 "$t/server.key"
  if [ "$(id -u)" = 0 ]; then chown -R postgres "$t"; fi
}

case "${1:-start}" in
  start)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
    as_owner "$bin/initdb" -D "$dir/data" -A trust -U shush -E UTF8 >/dev/null
    tls=()
    if command -v openssl >/dev/null; then
      make_certificates
      # The role shush_tls may connect over TLS only (the tests of `sslmode=`).
      hba="$dir/data/pg_hba.conf"
      { printf 'hostssl all shush_tls 127.0.0.1/32 trust\nhostnossl all shush_tls 127.0.0.1/32 reject\n'
        cat "$hba"; } >"$dir/hba.new"
      as_owner cp "$dir/hba.new" "$hba"
      tls=(-c ssl=on -c "ssl_cert_file=$dir/tls/server.crt" -c "ssl_key_file=$dir/tls/server.key")
    fi
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200 ${tls[*]}" \
      start >/dev/null
    if [ ${#tls[@]} -gt 0 ]; then
      "$bin/psql" -qX -h 127.0.0.1 -p "$port" -U shush -d postgres \
        -c "CREATE ROLE shush_tls LOGIN SUPERUSER" >/dev/null
    fi
    echo "postgres://shush@127.0.0.1:$port/postgres"
    ;;
  ca)
    # The certificate authority of the cluster's TLS certificate (made by `start`).
    test -f "$dir/tls/ca.crt" || { echo "ci/postgres.sh: no TLS (openssl missing?)" >&2; exit 3; }
    echo "$dir/tls/ca.crt"
    ;;
  stop)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: ci/postgres.sh start|ca|stop" >&2
    exit 2
    ;;
esac
