# Sourced by scripts/test.sh (and tests/run_ctest_check.sh, its own test).
# run_ctest DIR [ctest arguments...]: runs ctest in build folder DIR (log in DIR/ctest.log) and
# fails on a failed test, and also on what ctest alone lets pass: a test reported as skipped or
# not run, "No tests were found", a *_NOT_BUILT placeholder, and a ctest test count that differs
# from what the *_test binaries list (a gtest discovery that failed or went stale).
run_ctest() {
  local dir="$1"; shift
  local log="$dir/ctest.log" rc=0
  (cd "$dir" && ctest --output-on-failure -j2 "$@") 2>&1 | tee "$log" || rc=1
  local bad='No tests were found|\*\*\*Skipped|\*\*\*Not Run|The following tests did not run|_NOT_BUILT'
  if grep -qE "$bad" "$log"; then
    echo "test.sh: ctest in $dir reports skipped, not-run or missing tests; none may be:" >&2
    grep -E -A20 "$bad" "$log" | grep -E "$bad|\(Skipped\)|\(Not Run\)" >&2 || true
    rc=1
  fi
  local listed=0 n bin
  while IFS= read -r bin; do
    n=$("$bin" --gtest_list_tests | grep -c '^  ' || true)
    [ "$n" -gt 0 ] || { echo "test.sh: $bin lists no tests" >&2; rc=1; }
    listed=$((listed + n))
  done < <(find "$dir" -path '*/CMakeFiles' -prune -o -type f -perm -u+x -name '*_test' -print)
  # Tests not from a gtest binary carry the label "script".
  local known scripts
  known=$(cd "$dir" && ctest -N | sed -n 's/^Total Tests: *//p')
  scripts=$(cd "$dir" && ctest -N -L '^script$' | sed -n 's/^Total Tests: *//p')
  known=$((${known:-0} - ${scripts:-0}))
  if [ "$listed" -eq 0 ] || [ "$known" != "$listed" ]; then
    echo "test.sh: ctest in $dir knows $known tests but the test binaries list $listed (a test discovery failed?)" >&2
    rc=1
  else
    echo "== ctest in $dir: $known gtest tests registered, as many as the test binaries list"
  fi
  return $rc
}

