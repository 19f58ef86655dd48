#!/bin/bash
# bench.sh [cpuid|platform|rt|linux-bare|linux-bulkhead ...] (make bench): builds what the
# benchmarks boot and prints their figures (see scripts/bench.py).
set -euo pipefail
cd "$(dirname "$0")/.."
make --no-print-directory -j2 all test-iso linux-test-iso
exec /usr/bin/python3 scripts/bench.py "$@"
