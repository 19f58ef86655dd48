#!/bin/bash
# test.sh (make test): build everything, run the host unit tests and the
# integration tests, and end with exactly one line "N passed, N failed"
# (unit + integration). Exit status is non-zero when anything failed or did
# not build.
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
log=$(mktemp -d /tmp/bulkhead-test.XXXXXX)
trap 'rm -rf "$log"' EXIT

section() { printf '\n=== %s ===\n' "$*"; }

# 1. Build the hypervisor and the ISO.
section "build"
kernel_ok=1
if ! "${MAKE[@]}" -j2 all test-iso || ! "${MAKE[@]}" linux-test-iso; then
    echo "test.sh: the hypervisor or its ISO did not build"
    kernel_ok=0
    failed=$((failed + 1))
fi

# 2. Host unit tests (run-unit.sh prints "unit: N passed, N failed" last).
section "unit tests"
"${MAKE[@]}" unit 2>&1 | tee "$log/unit.out"
unit_rc=${PIPESTATUS[0]}
summary=$(grep -E '^unit: [0-9]+ passed, [0-9]+ failed$' "$log/unit.out" | tail -n 1)
if [ -n "$summary" ]; then
    read -r up uf < <(sed -E 's/^unit: ([0-9]+) passed, ([0-9]+) failed$/\1 \2/' <<<"$summary")
    passed=$((passed + up))
    failed=$((failed + uf))
    if [ "$unit_rc" -ne 0 ] && [ "$uf" -eq 0 ]; then
        failed=$((failed + 1))
    fi
elif [ "$unit_rc" -ne 0 ]; then
    echo "test.sh: unit tests did not build"
    failed=$((failed + 1))
fi

# Static checks: the tree is formatted by .clang-format, the configuration
# fuzz target replays its corpus (about 30 s).
section "static checks"
for check in format-check fuzz-replay; do
    if "${MAKE[@]}" "$check"; then
        passed=$((passed + 1))
    else
        echo "test.sh: $check failed"
        failed=$((failed + 1))
    fi
done

# 3. Integration tests (emulators), at most $JOBS at once.
section "integration tests"
if [ "$kernel_ok" -eq 1 ]; then
    par=()
    if [ "$JOBS" -gt 1 ] && $PYTHON -c 'import xdist' 2>/dev/null; then
        par=(-n "$JOBS")
    fi
    # shellcheck disable=SC2086
    $PYTHON -m pytest -q -rfEs --durations=5 "${par[@]}" --junitxml="$log/junit.xml" \
        tests/integration ${PYTEST_ARGS:-}
    py_rc=$?
    counts=$($PYTHON - "$log/junit.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print("-1 -1")
    sys.exit()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
t = f = e = s = 0
for su in suites:
    t += int(su.get("tests", 0)); f += int(su.get("failures", 0))
    e += int(su.get("errors", 0)); s += int(su.get("skipped", 0))
print(t - f - e - s, f + e)
PY
)
    read -r ip if_ <<<"$counts"
    if [ "$ip" -lt 0 ]; then
        echo "test.sh: pytest produced no report (status $py_rc)"
        failed=$((failed + 1))
    else
        passed=$((passed + ip))
        failed=$((failed + if_))
        # pytest status 5 = nothing collected; anything else non-zero with no
        # counted failure (internal error, collection error) is a failure.
        if [ "$py_rc" -ne 0 ] && [ "$py_rc" -ne 5 ] && [ "$if_" -eq 0 ]; then
            failed=$((failed + 1))
        fi
    fi
else
    echo "test.sh: skipped (no hypervisor image)"
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
