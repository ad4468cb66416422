#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs unit + end-to-end tests (ctest)
# and the interop tests (pyarrow reads our lake). Exits non-zero if anything fails.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deps="${IOTAD_DEPS:-$HOME/.cache/iotad}"
build="${IOTAD_BUILD_DIR:-$here/build}"
IOTAD_BUILD_DIR="$build" bash "$here/scripts/setup.sh"

status=0
echo "== unit and end-to-end tests (ctest)"
(cd "$build" && ctest --output-on-failure -j2 --timeout 900) || status=1

echo "== interop tests (pytest: pyarrow and DuckDB read the lake)"
IOTAD_BIN="$build/src/iotad/iotad" "$deps/venv/bin/python" -m pytest -q "$here/tests/interop" || status=1
exit $status
