#!/bin/bash
# Fuzz one libFuzzer target until its process has used CPU_SECONDS of CPU
# time, not wall time: on a machine shared with emulators (niced fuzzers
# get what the emulators leave), `make fuzz FUZZ_SECONDS=N` would count
# minutes in which the target hardly ran. docs/security.md records rounds
# measured this way.
#
#   make fuzz-build
#   scripts/fuzz-cpu.sh TARGET CPU_SECONDS [CORPUS_DIR]
#
# The target runs as `make fuzz` runs it (same options and dictionary, at
# nice 19), into CORPUS_DIR (default build/fuzz/corpus/TARGET) beside the
# committed seeds; crashes, leaks and timeouts go to build/fuzz/TARGET-*;
# the log is build/fuzz/TARGET-fuzz-cpu.log. At the budget it is sent
# SIGINT and prints its final statistics. Exit status: 0 when the budget
# was reached with no finding, 1 otherwise.
#
# To end a round early, send this script SIGTERM (or Ctrl-C when it runs in
# the foreground: a script started in the background with & ignores
# SIGINT): it stops the target the same way and prints what it did.
#
# Never stop a running fuzzer with SIGSTOP: libFuzzer's -timeout counts
# wall time, and the unit running at SIGSTOP is reported as a timeout
# after SIGCONT.
set -u
if [ $# -lt 2 ]; then
    echo "usage: $0 TARGET CPU_SECONDS [CORPUS_DIR]" >&2
    exit 2
fi
t=$1 budget=$2
corpus=${3:-build/fuzz/corpus/$t}
bin=build/fuzz/fuzz_$t
if [ ! -x "$bin" ]; then
    echo "fuzz-cpu: $bin missing: run make fuzz-build" >&2
    exit 2
fi
case $budget in '' | *[!0-9]*) echo "fuzz-cpu: CPU_SECONDS must be a number" >&2; exit 2 ;; esac
mkdir -p "$corpus"
log=build/fuzz/$t-fuzz-cpu.log
dict=""
[ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
nice -n 19 "$bin" -max_len=4096 -timeout=10 $dict -max_total_time=$((budget * 100 + 60)) \
    -print_final_stats=1 -artifact_prefix="build/fuzz/$t-" "$corpus" "tests/fuzz/corpus/$t" \
    >"$log" 2>&1 &
pid=$!
early=0
trap 'early=1; kill -INT $pid 2>/dev/null' INT TERM
hz=$(getconf CLK_TCK)
start=$(date +%s) cpu=0
while kill -0 $pid 2>/dev/null; do
    stat=$(cat /proc/$pid/stat 2>/dev/null) || break
    # utime and stime: fields 14 and 15 (the command name has no spaces here)
    cpu=$(echo "$stat" | awk -v hz="$hz" '{ print int(($14 + $15) / hz) }')
    if [ "$cpu" -ge "$budget" ]; then
        kill -INT $pid
        break
    fi
    sleep 5
done
wait $pid
rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+')
when=""
[ "$early" = 1 ] && when=" (stopped early, as asked)"
echo "fuzz-cpu: $t: ${cpu} s of CPU in $(($(date +%s) - start)) s${when}, ${execs:-?} executions, ${last:-no coverage line}, exit $rc (log: $log)"
# 72: libFuzzer's exit after SIGINT; anything else is a finding or an error.
[ "$rc" -eq 72 ] && { [ "$cpu" -ge "$budget" ] || [ "$early" = 1 ]; }
