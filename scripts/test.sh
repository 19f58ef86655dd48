#!/bin/bash
# test.sh (make test): build everything, run the host unit tests, the static
# checks and the integration tests, and end with exactly one line
#   N passed, N failed, N skipped
# that counts every check: the build (one check), each unit test, each static
# check, each integration test. An expected failure (xfail) counts as
# skipped, an unexpected pass (XPASS) as failed; a missing emulator is a
# failure (tests/integration/conftest.py). Exit status is non-zero when
# anything failed or did not build.
#
# Environment:
#   PYTEST_ARGS   extra pytest arguments (e.g. "-k bochs" or "-x")
#   JOBS          parallel emulator instances for pytest-xdist (default 2)
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
PYTHON=/usr/bin/python3
BUILD=${BUILD:-build}
JOBS=${JOBS:-2}
MAKE=(make --no-print-directory)

passed=0
failed=0
skipped=0
log=$(mktemp -d /tmp/bulkhead-test.XXXXXX)
trap 'rm -rf "$log"' EXIT

section() { printf '\n=== %s ===\n' "$*"; }

# check NAME COMMAND...: one check that passes when COMMAND succeeds.
check() {
    local name=$1
    shift
    if "$@"; then
        passed=$((passed + 1))
    else
        echo "test.sh: $name failed"
        failed=$((failed + 1))
    fi
}

# 1. Build the hypervisor and the test ISO (one check), and the Linux
# guest's ISO (another: without it only the Linux tests fail).
section "build"
kernel_ok=1
if "${MAKE[@]}" -j2 all test-iso; then
    passed=$((passed + 1))
else
    echo "test.sh: the hypervisor or its ISO did not build"
    kernel_ok=0
    failed=$((failed + 1))
fi
check linux-test-iso "${MAKE[@]}" linux-test-iso

# 2. Host unit tests (run-unit.sh prints "unit: N passed, N failed, N skipped"
# last).
section "unit tests"
"${MAKE[@]}" unit 2>&1 | tee "$log/unit.out"
unit_rc=${PIPESTATUS[0]}
unit_re='^unit: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$'
summary=$(grep -E "$unit_re" "$log/unit.out" | tail -n 1)
if [ -n "$summary" ]; then
    read -r up uf us < <(sed -E "s/$unit_re/\\1 \\2 \\3/" <<<"$summary")
    passed=$((passed + up))
    failed=$((failed + uf))
    skipped=$((skipped + us))
    if [ "$unit_rc" -ne 0 ] && [ "$uf" -eq 0 ]; then
        failed=$((failed + 1))
    fi
elif [ "$unit_rc" -ne 0 ]; then
    echo "test.sh: unit tests did not build"
    failed=$((failed + 1))
fi

# Static checks: the tree is formatted by .clang-format, include arrows
# point down the layers, no indirect branch escapes the retpoline thunks,
# every fuzz target replays its committed corpus.
section "static checks"
for target in format-check check-layers check-indirect fuzz-replay; do
    check "$target" "${MAKE[@]}" "$target"
done

# 3. Integration tests (emulators), at most $JOBS at once.
section "integration tests"
if [ "$kernel_ok" -eq 1 ]; then
    par=()
    if [ "$JOBS" -gt 1 ] && $PYTHON -c 'import xdist' 2>/dev/null; then
        par=(-n "$JOBS")
    fi
    # xfail_strict: an expected failure that passes fails the run.
    # shellcheck disable=SC2086
    $PYTHON -m pytest -q -rfEsxX -o xfail_strict=true --durations=5 "${par[@]}" \
        --junitxml="$log/junit.xml" tests/integration ${PYTEST_ARGS:-}
    py_rc=$?
    read -r ip if_ is_ < <($PYTHON scripts/junit-counts.py "$log/junit.xml")
    if [ "${ip:--1}" -lt 0 ]; then
        echo "test.sh: pytest produced no report (status $py_rc)"
        failed=$((failed + 1))
    else
        passed=$((passed + ip))
        failed=$((failed + if_))
        skipped=$((skipped + is_))
        # pytest status 5 = nothing collected; anything else non-zero with no
        # counted failure (internal error, collection error) is a failure.
        if [ "$py_rc" -ne 0 ] && [ "$py_rc" -ne 5 ] && [ "$if_" -eq 0 ]; then
            failed=$((failed + 1))
        fi
    fi
else
    # Nothing to boot: every integration test counts as skipped (the build
    # failure above already counts as a failure).
    # shellcheck disable=SC2086
    n=$($PYTHON -m pytest -q --collect-only tests/integration ${PYTEST_ARGS:-} 2>/dev/null |
        grep -c '::')
    echo "test.sh: $n integration tests not run (no hypervisor image)"
    skipped=$((skipped + n))
fi

echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
