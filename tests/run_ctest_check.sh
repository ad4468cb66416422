#!/usr/bin/env bash
# Test of scripts/run_ctest.sh (what scripts/test.sh runs ctest with): on fake build folders, a
# skipped test, an empty suite, and a test binary whose tests ctest does not all know must each
# fail the run; a clean folder must pass. Usage: run_ctest_check.sh path/to/run_ctest.sh
set -uo pipefail
source "$1"
work="$(mktemp -d)"
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
fails=0

# fake DIR TESTS_LISTED CTEST_LINES...: a build folder with a fake gtest binary listing
# TESTS_LISTED tests, and a CTestTestfile.cmake with the given lines.
fake() {
  local dir="$work/$1" listed="$2"; shift 2
  mkdir -p "$dir"
  { echo '#!/bin/sh'; echo 'echo Suite.'; for i in $(seq "$listed"); do echo "echo '  T$i'"; done; } > "$dir/fake_test"
  chmod +x "$dir/fake_test"
  printf '%s\n' "$@" > "$dir/CTestTestfile.cmake"
  echo "$dir"
}
expect() {  # expect pass|fail DIR
  local want="$1" dir="$2" got=pass
  run_ctest "$dir" >"$dir/out.txt" 2>&1 || got=fail
  if [ "$got" != "$want" ]; then
    echo "FAILED: $(basename "$dir"): expected $want, got $got"; cat "$dir/out.txt"; fails=1
  else
    echo "ok: $(basename "$dir") -> $got"
  fi
}

expect pass "$(fake clean 1 'add_test(Suite.T1 sh -c "echo [  PASSED  ]")')"
expect fail "$(fake failing 1 'add_test(Suite.T1 sh -c "exit 1")')"
# What a failure in SetUpTestSuite looked like: gtest prints [  SKIPPED ], exit code 1, and the
# property gtest_discover_tests sets makes ctest call it Skipped and pass the run ("100% tests
# passed"). ctest cannot be told otherwise: SKIP_REGULAR_EXPRESSION values add up, so the one
# gtest_discover_tests sets cannot be replaced; run_ctest is what catches it.
expect fail "$(fake skipped 2 'add_test(Suite.T1 sh -c "exit 0")' 'add_test(Suite.T2 sh -c [=[echo "[  SKIPPED ] Suite.T2"; exit 1]=])' \
  'set_tests_properties(Suite.T2 PROPERTIES SKIP_REGULAR_EXPRESSION [=[\[  SKIPPED \]]=])')"
expect fail "$(fake no-tests 0 '')"
expect fail "$(fake undiscovered 3 'add_test(Suite.T1 sh -c "exit 0")')"
expect fail "$(fake not-built 1 'add_test(fake_test_NOT_BUILT sh -c "exit 1")')"
exit $fails
