#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs unit + end-to-end tests (ctest),
# the interop tests (pyarrow reads our lake), the browser tests (headless Chromium against a real
# `iotad serve`), then the same ctest suite again on an ASan+UBSan build, then each libFuzzer
# target for a bounded time. Exits non-zero if anything fails, including a test ctest reports as
# skipped or not run, or a test binary whose tests ctest does not all know (a discovery that went
# wrong).
#   IOTAD_SANITIZERS=0 scripts/test.sh   # skip the sanitizer build and the fuzzing (quicker local runs)
#   IOTAD_FUZZ_SECONDS=60                # seconds per fuzz target (0: no fuzzing)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deps="${IOTAD_DEPS:-$HOME/.cache/iotad}"
build="${IOTAD_BUILD_DIR:-$here/build}"
IOTAD_BUILD_DIR="$build" bash "$here/scripts/setup.sh"
started=$(date +%s)

# run_ctest DIR [ctest args]: ctest that also fails on skipped, not-run or undiscovered tests.
source "$here/scripts/run_ctest.sh"

status=0
echo "== unit and end-to-end tests (ctest, release build)"
run_ctest "$build" --timeout 900 || status=1

echo "== interop tests (pytest: pyarrow reads the lake)"
IOTAD_BIN="$build/src/iotad/iotad" "$deps/venv/bin/python" -m pytest -q "$here/tests/interop" || status=1

echo "== browser tests (node --test: Debian's chromium + playwright-core against a real iotad serve)"
# A browser or server that cannot start fails its test (the harness throws; nothing is skipped).
IOTAD_BIN="$build/src/iotad/iotad" IOTAD_CHROMIUM="${IOTAD_CHROMIUM:-/usr/bin/chromium}" \
  node --test --test-concurrency=1 "$here/tests/browser/" || status=1

if [ "${IOTAD_SANITIZERS:-1}" = "1" ]; then
  echo "== unit and end-to-end tests again, on an ASan + UBSan build"
  san="${IOTAD_SANITIZE_BUILD_DIR:-$here/build-debug}"
  IOTAD_SKIP_BUILD=1 bash "$here/scripts/setup.sh"
  cmake -S "$here" -B "$san" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DIOTAD_SANITIZE=ON \
    -DDUCKDB_ROOT="$deps/duckdb-1.4.4" >/dev/null
  cmake --build "$san" -j"$(nproc)"
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 run_ctest "$san" --timeout 3000 || status=1

  fuzz_seconds="${IOTAD_FUZZ_SECONDS:-60}"
  if [ "$fuzz_seconds" != "0" ]; then
    echo "== fuzzing: each libFuzzer target for ${fuzz_seconds}s (clang, ASan + UBSan)"
    bash "$here/scripts/fuzz.sh" "$fuzz_seconds" || status=1
  fi
fi
echo "== test.sh: $(($(date +%s) - started)) s after setup, status $status"
exit $status
