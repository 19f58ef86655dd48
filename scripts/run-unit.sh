#!/bin/bash
# run-unit.sh BINARY...: runs host unit test binaries (cmocka) and totals them.
#
# Each binary's output is shown. Its cmocka summary lines
#   [  PASSED  ] N test(s).
#   [  FAILED  ] N test(s), listed below:
#   [  SKIPPED ] N test(s), listed below:
# are added up (several groups per binary are fine). A binary that exits
# non-zero without reporting a failure (crash, sanitizer report, missing
# summary) counts as one failed test. The last line is always
#   unit: N passed, N failed, N skipped
# and the exit status is non-zero when anything failed.
set -uo pipefail

export CMOCKA_MESSAGE_OUTPUT=stdout
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

total_pass=0
total_fail=0
total_skip=0
failed_bins=()

for bin in "$@"; do
    name=$(basename "$bin")
    if [ ! -x "$bin" ]; then
        echo "unit: $name: not built"
        total_fail=$((total_fail + 1))
        failed_bins+=("$name")
        continue
    fi
    out=$(timeout 120 "$bin" 2>&1)
    rc=$?
    printf '%s\n' "$out"
    pass=0
    fail=0
    skip=0
    while IFS= read -r n; do pass=$((pass + n)); done < <(
        sed -n 's/^\[  PASSED  \] \([0-9][0-9]*\) test(s)\..*/\1/p' <<<"$out")
    while IFS= read -r n; do fail=$((fail + n)); done < <(
        sed -n 's/^\[  FAILED  \] \([0-9][0-9]*\) test(s).*/\1/p' <<<"$out")
    while IFS= read -r n; do skip=$((skip + n)); done < <(
        sed -n 's/^\[  SKIPPED \] \([0-9][0-9]*\) test(s).*/\1/p' <<<"$out")
    seen=$(grep -c '^\[==========\] [0-9][0-9]* test(s) run\.' <<<"$out")
    note=""
    if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
        fail=1
        note=" (exit status $rc$([ "$rc" -eq 124 ] && echo ', timed out'))"
    elif [ "$seen" -eq 0 ]; then
        fail=$((fail + 1))
        note=" (no cmocka summary)"
    fi
    echo "unit: $name: $pass passed, $fail failed, $skip skipped$note"
    total_pass=$((total_pass + pass))
    total_fail=$((total_fail + fail))
    total_skip=$((total_skip + skip))
    [ "$fail" -eq 0 ] || failed_bins+=("$name")
done

if [ ${#failed_bins[@]} -gt 0 ]; then
    echo "unit: failing: ${failed_bins[*]}"
fi
echo "unit: $total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ]
