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
  libtomlplusplus-dev libsimdjson-dev libfast-float-dev zlib1g-dev libcurl4-openssl-dev libcpp-httplib-dev time
  clang libclang-rt-14-dev)  # clang + its libFuzzer and sanitizer runtimes: scripts/fuzz.sh
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

# --- Python for interop tests (pyarrow reads our lake; Prometheus's parser reads our metrics) ----
venv="$deps/venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import pyarrow, pytest, prometheus_client' 2>/dev/null; then
  log "creating Python venv with pyarrow, pytest and prometheus-client"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check pyarrow==18.1.0 pytest==8.3.4 prometheus-client==0.26.0
fi

# --- Build ----------------------------------------------------------------------------------
if [ "${IOTAD_SKIP_BUILD:-0}" != "1" ]; then
  build="${IOTAD_BUILD_DIR:-$here/build}"
  cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="${IOTAD_BUILD_TYPE:-Release}" \
    -DDUCKDB_ROOT="$duck" ${IOTAD_CMAKE_ARGS:-} >/dev/null
  cmake --build "$build" -j"$(nproc)"
fi
