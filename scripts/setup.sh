#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks for building and testing iotad, then builds it.
# Idempotent: every step checks first, so a second run takes seconds.
#   scripts/setup.sh            # deps + release build into build/
#   IOTAD_SKIP_BUILD=1 ...      # deps only
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deps="${IOTAD_DEPS:-$HOME/.cache/iotad}"
mkdir -p "$deps"

log() { printf '[setup] %s\n' "$*" >&2; }

# --- Debian packages ------------------------------------------------------------------------
apt_pkgs=(build-essential cmake ninja-build pkg-config git curl ca-certificates python3 python3-venv
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev libfmt-dev libspdlog-dev
  libtomlplusplus-dev libsimdjson-dev libfast-float-dev zlib1g-dev libzstd-dev libsnappy-dev libcurl4-openssl-dev libcpp-httplib-dev time
  clang libclang-rt-14-dev  # clang + its libFuzzer and sanitizer runtimes: scripts/fuzz.sh
  chromium)  # the browser tests (tests/browser) drive Debian's headless Chromium
# npm fetches DuckDB; a machine whose Node.js already bundles npm must not get Debian's npm.
command -v npm >/dev/null 2>&1 || apt_pkgs+=(nodejs npm)
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- DuckDB (C API) from the npm registry, pinned and integrity-checked ------------------------
# Debian has no DuckDB. @duckdb/node-bindings-linux-x64 ships libduckdb.so; the header comes from
# the same release's `duckdb` package.
DUCKDB_VERSION=1.4.4
LIB_PKG="@duckdb/node-bindings-linux-x64@1.4.4-r.4"
LIB_SHA512="jBTL/WvfwxLToFa/pVHfT6elMtltJGnc3wSuxZD9OfMltit9YUdVFS37vBFQzXMT1Z8OWjtSjMh+zPKxOwHLHA=="
HDR_PKG="duckdb@1.4.4"
HDR_SHA512="hEJJ5hyVF0VLj3dmOLpsWrQR0b3d4Ykqtygm6iUXjHJDDnSqg/USKxcb5qvNrOhFYPgktayU6dXCtgPqcmmpog=="
duck="$deps/duckdb-$DUCKDB_VERSION"
if [ ! -f "$duck/lib/libduckdb.so" ] || [ ! -f "$duck/include/duckdb.h" ]; then
  log "fetching DuckDB $DUCKDB_VERSION (library and header) from the npm registry"
  tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$LIB_PKG" "$HDR_PKG" >/dev/null 2>&1)
  check() { # file expected-base64-sha512
    local got
    got="$(python3 -c 'import base64,hashlib,sys; print(base64.b64encode(hashlib.sha512(open(sys.argv[1],"rb").read()).digest()).decode())' "$1")"
    [ "$got" = "$2" ] || { echo "setup: integrity check failed for $(basename "$1") (got sha512-$got)" >&2; exit 1; }
  }
  lib_tgz="$(ls "$tmp"/duckdb-node-bindings-linux-x64-*.tgz)"; hdr_tgz="$(ls "$tmp"/duckdb-$DUCKDB_VERSION.tgz)"
  check "$lib_tgz" "$LIB_SHA512"; check "$hdr_tgz" "$HDR_SHA512"
  mkdir -p "$tmp/lib" "$tmp/hdr" "$duck.new/lib" "$duck.new/include"
  tar -xzf "$lib_tgz" -C "$tmp/lib" package/libduckdb.so
  tar -xzf "$hdr_tgz" -C "$tmp/hdr" package/src/duckdb/src/include/duckdb.h
  cp "$tmp/lib/package/libduckdb.so" "$duck.new/lib/"
  cp "$tmp/hdr/package/src/duckdb/src/include/duckdb.h" "$duck.new/include/"
  rm -rf "$duck"; mv "$duck.new" "$duck"
fi

# --- npm packages: the dashboard's front end (web/: ECharts, esbuild; bundled into the binary at
# build time) and the browser tests (tests/browser/: playwright-core). Pinned by each folder's
# package-lock.json; `npm ci` runs again only when the lock file changed since the last install. --
npm_cache="$deps/npm"
for dir in "$here/web" "$here/tests/browser"; do
  [ -f "$dir/package-lock.json" ] || continue
  lock_sum="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  stamp="$dir/node_modules/.iotad-lock-sha256"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_sum" ]; then
    log "npm ci in ${dir#"$here"/} (pinned by its package-lock.json)"
    (cd "$dir" && npm ci --cache "$npm_cache" --prefer-offline --no-audit --no-fund --loglevel=error >/dev/null)
    printf '%s\n' "$lock_sum" >"$stamp"
  fi
done

# --- Python for interop tests (pyarrow reads our lake; Prometheus's parser reads our metrics;
# the alert receivers: moto's SNS/SQS server, aiosmtpd's SMTP server, boto3 to read SNS back) ----
venv="$deps/venv"
if [ ! -x "$venv/bin/python" ] ||
   ! "$venv/bin/python" -c 'import pyarrow, pytest, prometheus_client, jsonschema, moto.server, aiosmtpd, boto3, flask_cors' 2>/dev/null; then
  log "creating Python venv with pyarrow, pytest, prometheus-client, jsonschema, moto[server], aiosmtpd and boto3"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check pyarrow==18.1.0 pytest==8.3.4 prometheus-client==0.26.0 jsonschema==4.26.0 \
    'moto[server]==5.2.5' aiosmtpd==1.4.6 boto3==1.44.5
fi

# --- Prometheus Alertmanager (a real receiver of the alertmanager sink: tests/receivers) ---------
# Built from source with `go install` (Go >= 1.22), pinned. A machine whose Go is missing or older
# (Debian 12's golang-go is 1.19) gets a Go toolchain the way the go command itself fetches one
# (GOTOOLCHAIN): the module golang.org/toolchain@v0.0.1-go<ver>.linux-amd64 from the Go module
# proxy, a zip of the Go distribution. The proxy is the one Go is configured with: $GOPROXY, else
# what `go env GOPROXY` says (its first entry that is a URL); Debian's golang-go is installed
# first when there is no Go at all, to learn it.
ALERTMANAGER_VERSION=v0.28.1
GO_TOOLCHAIN_VERSION=1.23.12
go_ok() { # go binary -> is it >= 1.22?
  local v; v="$("$1" env GOVERSION 2>/dev/null)" || return 1
  v="${v#go}"; local major="${v%%.*}" rest="${v#*.}"; local minor="${rest%%.*}"
  [ "$major" -gt 1 ] || { [ "$major" -eq 1 ] && [ "${minor%%[!0-9]*}" -ge 22 ]; }
}
am_has() { # is $deps/bin/alertmanager the pinned version? (no pipe into grep -q: pipefail + SIGPIPE)
  local out; out="$("$deps/bin/alertmanager" --version 2>&1)" || return 1
  [[ "$out" == *"version ${ALERTMANAGER_VERSION#v} "* ]]
}
if [ ! -x "$deps/bin/alertmanager" ] || ! am_has; then
  gobin=""
  for g in "$(command -v go || true)" /usr/local/go/bin/go /usr/lib/go/bin/go "$deps/go-toolchain/go/bin/go"; do
    if [ -n "$g" ] && [ -x "$g" ] && go_ok "$g"; then gobin="$g"; break; fi
  done
  if [ -z "$gobin" ]; then
    if ! command -v go >/dev/null 2>&1; then
      log "installing Debian's golang-go (to learn its module proxy)"
      SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
      $SUDO apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends golang-go >/dev/null
    fi
    proxy_list="${GOPROXY:-$(go env GOPROXY)}"
    proxy=""
    for p in $(printf '%s' "$proxy_list" | tr ',|' '  '); do
      case "$p" in http://*|https://*) proxy="${p%/}"; break ;; esac
    done
    [ -n "$proxy" ] || { echo "setup: no Go module proxy URL in GOPROXY ($proxy_list) to fetch Go $GO_TOOLCHAIN_VERSION from" >&2; exit 1; }
    mod="v0.0.1-go${GO_TOOLCHAIN_VERSION}.linux-amd64"
    log "fetching Go $GO_TOOLCHAIN_VERSION (module golang.org/toolchain@$mod) from the Go module proxy"
    tmpgo="$(mktemp -d)"
    curl -fsSL -o "$tmpgo/go.zip" "$proxy/golang.org/toolchain/@v/$mod.zip"
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$tmpgo/go.zip" "$tmpgo/x"
    chmod -R u+x "$tmpgo/x/golang.org/toolchain@$mod/bin" "$tmpgo/x/golang.org/toolchain@$mod/pkg/tool"
    rm -rf "$deps/go-toolchain"; mkdir -p "$deps/go-toolchain"
    mv "$tmpgo/x/golang.org/toolchain@$mod" "$deps/go-toolchain/go"; rm -rf "$tmpgo"
    gobin="$deps/go-toolchain/go/bin/go"
    go_ok "$gobin" || { echo "setup: the fetched Go toolchain does not run" >&2; exit 1; }
  fi
  # The version goes in by -ldflags as the project's release builds (promu) put it, so --version tells.
  log "building Prometheus Alertmanager $ALERTMANAGER_VERSION with $("$gobin" env GOVERSION)"
  mkdir -p "$deps/bin"
  GOBIN="$deps/bin" GOPATH="$deps/go" GOMODCACHE="$deps/go/mod" GOFLAGS=-modcacherw GOTOOLCHAIN=local \
    "$gobin" install -ldflags "-X github.com/prometheus/common/version.Version=${ALERTMANAGER_VERSION#v}" \
    "github.com/prometheus/alertmanager/cmd/alertmanager@$ALERTMANAGER_VERSION"
  am_has || { echo "setup: $deps/bin/alertmanager does not report version $ALERTMANAGER_VERSION" >&2; exit 1; }
fi

# --- Build ----------------------------------------------------------------------------------
if [ "${IOTAD_SKIP_BUILD:-0}" != "1" ]; then
  build="${IOTAD_BUILD_DIR:-$here/build}"
  cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="${IOTAD_BUILD_TYPE:-Release}" \
    -DDUCKDB_ROOT="$duck" ${IOTAD_CMAKE_ARGS:-} >/dev/null
  cmake --build "$build" -j"$(nproc)"
fi
