#!/usr/bin/env bash
# Runs the ctest suite (release build) with two CPU-bound processes beside it, as on a loaded
# 2-core CI machine, and prints ctest's summary. Exits with ctest's status.
#   scripts/load_test.sh              # build/ (IOTAD_BUILD_DIR), all tests
#   scripts/load_test.sh -R Crash     # extra arguments go to ctest
#   IOTAD_LOAD_HOGS=4 scripts/load_test.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${IOTAD_BUILD_DIR:-$here/build}"
hogs="${IOTAD_LOAD_HOGS:-2}"
[ -f "$build/CTestTestfile.cmake" ] || { echo "load_test: no ctest build in $build (run scripts/setup.sh)" >&2; exit 1; }

pids=()
stop_hogs() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap stop_hogs EXIT
for _ in $(seq "$hogs"); do
  sh -c 'while :; do :; done' &
  pids+=("$!")
done
echo "== ctest with $hogs CPU-bound processes beside it (pids ${pids[*]}), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
log="$build/load_test.log"  # kept: every test's time
start=$(date +%s)
set +e
(cd "$build" && ctest --output-on-failure -j2 --timeout 900 "$@") 2>&1 | tee "$log" >/dev/null
rc=${PIPESTATUS[0]}
set -e
echo "== $(($(date +%s) - start)) s, load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
# The summary: the pass line, any failed or skipped tests, and the total time.
sed -n '/tests passed/,$p' "$log"
grep -E '\*\*\*(Failed|Skipped|Timeout|Not Run)|\((Failed|Timeout|Skipped|Not Run)\)$' "$log" || true
echo "== slowest tests (full log: $log)"
grep -E 'Test +#[0-9]+:' "$log" | sed -E 's/.*Test +#[0-9]+: +([^ ]+) .* ([0-9.]+) sec/\2 \1/' | sort -rn | head -5
exit "$rc"
