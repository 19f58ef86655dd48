#!/bin/bash
# bench.sh [--list] [NAME...] (make bench): runs Bulkhead's benchmarks.
#
# A benchmark is a shell function bench_NAME registered in BENCHMARKS below.
# It boots the ISO through scripts/run.sh (usually under Bochs, whose TSC
# counts emulated instructions and so gives deterministic path lengths) and
# prints lines "bench: NAME: METRIC VALUE UNIT". With no NAME every
# benchmark runs. Exit status is non-zero when a benchmark fails.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
ISO=${ISO:-build/bulkhead.iso}
# shellcheck disable=SC2034 # for the bench_* functions
RUN=(scripts/run.sh --iso "$ISO")

# Registered benchmarks: name -> description. None yet; the first ones
# (VM-exit round trip, EPT violation, vCPU switch) come with the VMX core.
declare -A BENCHMARKS=()

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; }

list=0
selected=()
while [ $# -gt 0 ]; do
    case "$1" in
    --list) list=1 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "bench.sh: unknown option $1" >&2; exit 2 ;;
    *) selected+=("$1") ;;
    esac
    shift
done

if [ "$list" -eq 1 ]; then
    for name in "${!BENCHMARKS[@]}"; do
        printf '%-24s %s\n' "$name" "${BENCHMARKS[$name]}"
    done
    exit 0
fi

if [ ${#BENCHMARKS[@]} -eq 0 ]; then
    echo "bench.sh: no benchmarks yet"
    exit 0
fi

[ -f "$ISO" ] || { echo "bench.sh: $ISO not found (run make iso)" >&2; exit 1; }
[ ${#selected[@]} -gt 0 ] || selected=("${!BENCHMARKS[@]}")

failed=0
for name in "${selected[@]}"; do
    if [ -z "${BENCHMARKS[$name]+x}" ]; then
        echo "bench.sh: unknown benchmark '$name'" >&2
        failed=$((failed + 1))
        continue
    fi
    echo "bench: $name: ${BENCHMARKS[$name]}"
    if ! "bench_$name"; then
        echo "bench: $name: FAILED"
        failed=$((failed + 1))
    fi
done
[ "$failed" -eq 0 ]
