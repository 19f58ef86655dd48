#!/bin/bash
# check-indirect.sh ELF (make check-indirect): fails when the hypervisor
# image holds an indirect JMP or CALL (through a register or memory) outside
# the retpoline thunks __x86_indirect_thunk_* (arch/x86_64/retpoline.asm).
# Root mode is built with retpolines; one indirect branch left by a new
# assembly file, a missing compiler flag or a jump table would be a branch a
# guest can steer (docs/security.md, "Speculative execution").
# Far jumps through memory (ljmp *) count too. Prints each offender with its
# function, then a one-line summary.
#
# check-indirect.sh --self-test proves the check can fail: C with a function
# pointer call and a switch built without retpolines, and an indirect jmp in
# assembly, must each be caught; the same C built with them must pass.
set -euo pipefail

self_test() {
    local d rc=0
    d=$(mktemp -d /tmp/check-indirect.XXXXXX)
    trap 'rm -rf "$d"' RETURN
    cat >"$d/t.c" <<'C'
void (*hook)(int);
int pick(int x, int y)
{
    switch (x) { /* dense enough for a jump table */
    case 0: return y + 3; case 1: return y * 7; case 2: return y ^ 9; case 3: return y - 1;
    case 4: return y << 2; case 5: return y | 16; case 6: return y & 5; case 7: return -y;
    default: return 0;
    }
}
void call_hook(int v) { hook(pick(v, v)); }
C
    printf 'bits 64\nsection .text\nglobal far_away\nfar_away:\n    jmp rax\n' >"$d/a.asm"
    local -a base=(gcc -O2 -c -fno-pic -fcf-protection=none)
    "${base[@]}" -o "$d/plain.o" "$d/t.c"
    "${base[@]}" -mindirect-branch=thunk-extern -mindirect-branch-register -fno-jump-tables \
        -o "$d/retp.o" "$d/t.c"
    nasm -f elf64 -o "$d/asm.o" "$d/a.asm"
    nasm -f elf64 -o "$d/thunks.o" "$(dirname "$0")/../arch/x86_64/retpoline.asm"
    ld -r -o "$d/bad-c.o" "$d/plain.o" "$d/thunks.o" 2>/dev/null
    ld -r -o "$d/bad-asm.o" "$d/retp.o" "$d/thunks.o" "$d/asm.o" 2>/dev/null
    ld -r -o "$d/good.o" "$d/retp.o" "$d/thunks.o" 2>/dev/null
    for bad in bad-c bad-asm; do
        if "$0" "$d/$bad.o" >"$d/out" 2>&1; then
            echo "check-indirect: self-test: $bad was not caught:"; cat "$d/out"; rc=1
        fi
    done
    if ! "$0" "$d/good.o" >"$d/out" 2>&1; then
        echo "check-indirect: self-test: a retpoline build was refused:"; cat "$d/out"; rc=1
    fi
    [ "$rc" -eq 0 ] && echo "check-indirect: self-test: C without retpolines and an asm jmp are caught; retpolines pass"
    return "$rc"
}

if [ "${1:-}" = --self-test ]; then
    self_test
    exit
fi
if [ $# -ne 1 ] || [ ! -f "$1" ]; then
    echo "usage: $0 ELF | --self-test" >&2
    exit 2
fi
elf=$1

# objdump -d prints "ADDR <symbol>:" before each symbol's code, then one
# instruction per line: "  ADDR:<tab>mnemonic operands".
objdump -d --no-show-raw-insn -M att "$elf" | awk -v elf="$elf" '
    /^[0-9a-f]+ <.*>:$/ {
        fn = $2; gsub(/[<>:]/, "", fn)
        thunk = fn ~ /^__x86_indirect_thunk_/
        next
    }
    /^ *[0-9a-f]+:\t/ {
        insn = $0; sub(/^ *[0-9a-f]+:\t/, "", insn)
        ninsn++
        # AT&T syntax marks every indirect target with "*": jmp *%rax,
        # call *0x8(%rax), notrack jmp *..., ljmp *(%rax), lcall *...
        if (insn ~ /^(notrack +|bnd +)?(jmp|call|ljmp|lcall)[lqw]? +\*/) {
            if (thunk) { inthunk++; next }
            bad++
            printf "check-indirect: %s: indirect branch in %s: %s\n", elf, fn, insn
        }
        if (fn ~ /^__x86_indirect_thunk_/) thunks[fn] = 1
    }
    END {
        n = 0; for (t in thunks) n++
        if (ninsn == 0) {
            printf "check-indirect: %s: no instructions disassembled\n", elf
            exit 1
        }
        if (bad) {
            printf "check-indirect: %s: %d indirect branch(es) outside the retpoline thunks\n", elf, bad
            exit 1
        }
        printf "check-indirect: %s: no indirect jmp/call outside %d retpoline thunks (%d instructions)\n", elf, n, ninsn
    }'
