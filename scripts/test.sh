#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs unit + end-to-end tests (ctest),
# the interop tests (pyarrow reads our lake), then the same ctest suite again on an ASan+UBSan
# build. Exits non-zero if anything fails.
#   IOTAD_SANITIZERS=0 scripts/test.sh   # skip the sanitizer build (quicker local runs)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deps="${IOTAD_DEPS:-$HOME/.cache/iotad}"
build="${IOTAD_BUILD_DIR:-$here/build}"
IOTAD_BUILD_DIR="$build" bash "$here/scripts/setup.sh"

status=0
echo "== unit and end-to-end tests (ctest, release build)"
(cd "$build" && ctest --output-on-failure -j2 --timeout 900) || status=1

echo "== interop tests (pytest: pyarrow reads the lake)"
IOTAD_BIN="$build/src/iotad/iotad" "$deps/venv/bin/python" -m pytest -q "$here/tests/interop" || status=1

if [ "${IOTAD_SANITIZERS:-1}" = "1" ]; then
  echo "== unit and end-to-end tests again, on an ASan + UBSan build"
  san="${IOTAD_SANITIZE_BUILD_DIR:-$here/build-debug}"
  IOTAD_SKIP_BUILD=1 bash "$here/scripts/setup.sh"
  cmake -S "$here" -B "$san" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DIOTAD_SANITIZE=ON \
    -DDUCKDB_ROOT="$deps/duckdb-1.4.4" >/dev/null
  cmake --build "$san" -j"$(nproc)"
  (cd "$san" && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ctest --output-on-failure -j2 --timeout 1800) || status=1
fi
exit $status
