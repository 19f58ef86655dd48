#!/bin/bash
# resolve-modules.sh --config FILE [--search DIR[:DIR...]] [--checker BIN]
#                    [--allow-missing]
#
# Prints the path of every module (kernel, initrd) the configuration names,
# one per line, in file order, each once. A module name N is looked up in
#   1. the configuration file's own directory (a kernel next to its config),
#   2. each DIR of --search, in order (`make iso MODULES=dir:dir`),
#   3. build/guests and build/linux of this tree (the test guests, Linux),
# and the first file found wins. When any module is found nowhere, prints
# for each one its name and every path tried, and exits 1 (nothing on
# stdout); with --allow-missing it still reports them but prints the modules
# it found and exits 0 (an ISO meant to show the error at boot). Exit status
# 2: bad usage, or the checker could not read the file.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CONFIG=""
SEARCH=""
CHECKER="$ROOT/build/bulkhead-check"
ALLOW_MISSING=0

usage() {
    sed -n '2,3p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
    --config) [ $# -ge 2 ] || usage; CONFIG=$2; shift 2 ;;
    --search) [ $# -ge 2 ] || usage; SEARCH=$2; shift 2 ;;
    --checker) [ $# -ge 2 ] || usage; CHECKER=$2; shift 2 ;;
    --allow-missing) ALLOW_MISSING=1; shift ;;
    -h|--help) usage ;;
    *) echo "resolve-modules.sh: unknown argument '$1'" >&2; usage ;;
    esac
done
[ -n "$CONFIG" ] || usage
[ -f "$CONFIG" ] || { echo "resolve-modules.sh: configuration '$CONFIG' not found" >&2; exit 2; }
[ -x "$CHECKER" ] || { echo "resolve-modules.sh: $CHECKER not found (make $CHECKER)" >&2; exit 2; }

# The places to look, in order.
dirs=("$(dirname "$CONFIG")")
if [ -n "$SEARCH" ]; then
    IFS=: read -r -a extra <<<"$SEARCH"
    for d in "${extra[@]}"; do
        [ -n "$d" ] && dirs+=("$d")
    done
fi
dirs+=("$ROOT/build/guests" "$ROOT/build/linux")

# The checker lists names even for a file with errors (it says so on stderr).
names=$("$CHECKER" --list-modules "$CONFIG" 2>/dev/null) || {
    echo "resolve-modules.sh: $CHECKER --list-modules $CONFIG failed" >&2
    exit 2
}

# The file in the search directories whose name is closest to $1 (a typo
# such as ecco.elf for echo.elf), or nothing.
suggest() {
    /usr/bin/python3 - "$1" "${dirs[@]}" <<'PY'
import difflib, os, sys
name, dirs = sys.argv[1], sys.argv[2:]
files = {}
for d in dirs:
    if os.path.isdir(d):
        for f in sorted(os.listdir(d)):
            if os.path.isfile(os.path.join(d, f)):
                files.setdefault(f, os.path.join(d, f))
best = difflib.get_close_matches(name, list(files), n=1, cutoff=0.75)
if best:
    print(files[best[0]])
PY
}

found=()
missing=0
while IFS= read -r name; do
    [ -n "$name" ] || continue
    path=""
    tried=()
    for d in "${dirs[@]}"; do
        tried+=("$d/$name")
        if [ -f "$d/$name" ]; then
            path="$d/$name"
            break
        fi
    done
    if [ -z "$path" ]; then
        line=$(grep -nE "^[[:space:]]*(kernel|initrd)[[:space:]]*=[[:space:]]*\"?$(printf '%s' "$name" | sed 's/[.+]/\\&/g')\"?([[:space:]#]|$)" \
            "$CONFIG" | head -n 1 | cut -d: -f1 || true)
        echo "resolve-modules.sh: $CONFIG${line:+:$line}: module '$name' not found; looked in:" >&2
        printf '    %s\n' "${tried[@]}" >&2
        near=$(suggest "$name")
        [ -z "$near" ] || echo "    did you mean '$(basename "$near")' ($near)?" >&2
        missing=$((missing + 1))
    else
        found+=("$path")
    fi
done <<<"$names"

if [ "$missing" -gt 0 ] && [ "$ALLOW_MISSING" = 1 ]; then
    echo "resolve-modules.sh: $missing module(s) missing: left out (--allow-missing)" >&2
elif [ "$missing" -gt 0 ]; then
    echo "resolve-modules.sh: $missing module(s) missing: put them next to $CONFIG," \
        "or name their directory with MODULES=dir[:dir] (make iso) / --search" >&2
    exit 1
fi
[ ${#found[@]} -eq 0 ] || printf '%s\n' "${found[@]}"
