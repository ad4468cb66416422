#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang, ASan + UBSan) and runs each for a bounded time.
#   scripts/fuzz.sh [SECONDS]      # SECONDS per target, default 60 (IOTAD_FUZZ_SECONDS)
#   IOTAD_FUZZ_TARGETS="csv jsonl" scripts/fuzz.sh 30
#   IOTAD_FUZZ_STRICT=0 ...        # skip the checks of issue 7's parser promises (UTF-8, line counts)
# Prints executions and crashes per target; crashing inputs are saved under
# build-fuzz/crashes/<target>/crash-<sha1>. Exits non-zero if any target crashed.
# Inputs under fuzz/regressions/<target>/ (past findings) are replayed first, each must pass.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deps="${IOTAD_DEPS:-$HOME/.cache/iotad}"
seconds="${1:-${IOTAD_FUZZ_SECONDS:-60}}"
out="${IOTAD_FUZZ_BUILD_DIR:-$here/build-fuzz}"
# Every target fuzz/CMakeLists.txt defines (its IOTAD_FUZZ_TARGETS list), unless told otherwise.
targets="${IOTAD_FUZZ_TARGETS:-$(sed -n 's/^set(IOTAD_FUZZ_TARGETS \(.*\))$/\1/p' "$here/fuzz/CMakeLists.txt")}"
[ -n "$targets" ] || { echo "fuzz: no targets found in fuzz/CMakeLists.txt" >&2; exit 1; }
command -v clang++ >/dev/null || { echo "fuzz: clang++ is missing (scripts/setup.sh installs it)" >&2; exit 1; }

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
CC=clang CXX=clang++ cmake -S "$here" -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS=-O1 \
  -DIOTAD_FUZZ=ON -DIOTAD_WERROR=OFF -DIOTAD_FUZZ_STRICT="$([ "${IOTAD_FUZZ_STRICT:-1}" = 1 ] && echo ON || echo OFF)" \
  -DDUCKDB_ROOT="$deps/duckdb-1.4.4" "${launcher[@]}" >/dev/null
build_targets=()
for t in $targets; do build_targets+=("fuzz_$t"); done
cmake --build "$out" -j"$(nproc)" --target "${build_targets[@]}"

mkdir -p "$out/crashes"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
# fuzz_one TARGET: replays its past findings, fuzzes it, writes its summary line to
# $out/fuzz_TARGET.result; returns non-zero on a crash.
fuzz_one() {
  local t="$1" bin="$out/fuzz/fuzz_$1" log="$out/fuzz_$1.log" rc=0 reg="$here/fuzz/regressions/$1"
  # Past findings first: each input runs once and must not crash.
  if [ -d "$reg" ] && [ -n "$(ls -A "$reg")" ]; then
    if ! "$bin" "$reg"/* >"$out/fuzz_${t}_regressions.log" 2>&1; then
      echo "fuzz: $t: a past finding under fuzz/regressions/$t crashes again (see $out/fuzz_${t}_regressions.log)" >&2
      grep -E 'invariant|Assertion|runtime error|SUMMARY|Running:' "$out/fuzz_${t}_regressions.log" | tail -4 >&2 || true
      rc=1
    fi
  fi
  # The working corpus grows between runs; the seeds in fuzz/corpus/ are only read.
  mkdir -p "$out/corpus/$t" "$out/crashes/$t"
  local frc=0
  "$bin" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
    -artifact_prefix="$out/crashes/$t/" "$out/corpus/$t" "$here/fuzz/corpus/$t" >"$log" 2>&1 || frc=$?
  local execs crashes
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  crashes=$(find "$out/crashes/$t" -newer "$out/fuzz_$t.start" -type f | wc -l)
  if [ "$frc" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes=1; fi  # died without an artifact
  printf '%-10s %10s executions  %d crash(es)  corpus %s\n' "$t" "${execs:-?}" "$crashes" \
    "$(ls "$out/corpus/$t" | wc -l)" > "$out/fuzz_$t.result"
  if [ "$frc" -ne 0 ]; then
    rc=1
    echo "fuzz: $t crashed (exit $frc); input saved under $out/crashes/$t/, log $log:" >&2
    grep -E 'ERROR|invariant|Assertion|runtime error|does not parse|SUMMARY|Test unit written' "$log" | head -12 >&2 || true
  fi
  return $rc
}

# Up to IOTAD_FUZZ_JOBS targets at a time (default: the number of cores).
jobs="${IOTAD_FUZZ_JOBS:-$(nproc)}"
status=0
pids=()
for t in $targets; do
  touch "$out/fuzz_$t.start"
  fuzz_one "$t" &
  pids+=("$!")
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do sleep 1; done
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
echo "== fuzz summary (${seconds}s per target, $jobs at a time)"
for t in $targets; do cat "$out/fuzz_$t.result" 2>/dev/null || echo "$t: no result"; done
exit $status
