#!/bin/bash
# mkesp.sh --config FILE --out IMG [--module PATH ...] [--elf ELF] [--efi EFI]
#          [--shell-cmdline STR] [--no-removable]
#
# Builds a FAT EFI system partition image (mtools: no root, no loop device)
# for booting Bulkhead with its own loader, no GRUB:
#   \EFI\bulkhead\bulkhead.efi   the loader
#   \EFI\bulkhead\bulkhead.elf   the hypervisor
#   \EFI\bulkhead\bulkhead.cfg   the configuration (FILE)
#   \EFI\bulkhead\<module>       each --module, by its base name
#   \EFI\BOOT\BOOTX64.EFI        a copy of the loader, so firmware boots the
#                                image as removable media (not with
#                                --no-removable)
# --shell-cmdline STR writes \startup.nsh, which the UEFI shell runs:
# `\EFI\bulkhead\bulkhead.efi STR` (the loader's load options; use with
# --no-removable so the firmware falls through to its shell).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ELF="$ROOT/build/bulkhead.elf"
EFI="$ROOT/build/bulkhead.efi"
CONFIG=""
OUT=""
SHELL_CMDLINE=""
REMOVABLE=1
MODULES=()

die() { echo "mkesp.sh: $*" >&2; exit 1; }
usage() {
    sed -n '2,3p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
    --config) [ $# -ge 2 ] || usage; CONFIG=$2; shift 2 ;;
    --out) [ $# -ge 2 ] || usage; OUT=$2; shift 2 ;;
    --module) [ $# -ge 2 ] || usage; MODULES+=("$2"); shift 2 ;;
    --elf) [ $# -ge 2 ] || usage; ELF=$2; shift 2 ;;
    --efi) [ $# -ge 2 ] || usage; EFI=$2; shift 2 ;;
    --shell-cmdline) [ $# -ge 2 ] || usage; SHELL_CMDLINE=$2; shift 2 ;;
    --no-removable) REMOVABLE=0; shift ;;
    -h|--help) usage ;;
    *) echo "mkesp.sh: unknown argument '$1'" >&2; usage ;;
    esac
done
[ -n "$CONFIG" ] && [ -n "$OUT" ] || usage
for f in "$ELF" "$EFI" "$CONFIG" "${MODULES[@]}"; do
    [ -f "$f" ] || die "$f: no such file"
done
command -v mformat >/dev/null || die "mtools is not installed (make deps)"

# Size: the files plus 25% and 1 MiB of FAT overhead, at least 8 MiB.
bytes=$(cat "$ELF" "$EFI" "$CONFIG" "${MODULES[@]}" | wc -c)
mib=$(( (bytes * 5 / 4 + (1 << 20)) / (1 << 20) + 2 ))
[ "$REMOVABLE" -eq 1 ] && mib=$(( mib + $(stat -c %s "$EFI") / (1 << 20) + 1 ))
[ "$mib" -lt 8 ] && mib=8

tmp="$OUT.tmp"
rm -f "$tmp"
mkdir -p "$(dirname "$OUT")"
dd if=/dev/zero of="$tmp" bs=1M count="$mib" status=none
mformat -i "$tmp" -v BULKHEAD ::
mmd -i "$tmp" ::/EFI ::/EFI/bulkhead
mcopy -i "$tmp" "$EFI" ::/EFI/bulkhead/bulkhead.efi
mcopy -i "$tmp" "$ELF" ::/EFI/bulkhead/bulkhead.elf
mcopy -i "$tmp" "$CONFIG" ::/EFI/bulkhead/bulkhead.cfg
for m in "${MODULES[@]}"; do
    mcopy -o -i "$tmp" "$m" "::/EFI/bulkhead/$(basename "$m")"
done
if [ "$REMOVABLE" -eq 1 ]; then
    mmd -i "$tmp" ::/EFI/BOOT
    mcopy -i "$tmp" "$EFI" ::/EFI/BOOT/BOOTX64.EFI
fi
if [ -n "$SHELL_CMDLINE" ]; then
    printf '\\EFI\\bulkhead\\bulkhead.efi %s\r\n' "$SHELL_CMDLINE" >"$tmp.nsh"
    mcopy -i "$tmp" "$tmp.nsh" ::/startup.nsh
    rm -f "$tmp.nsh"
fi
mv "$tmp" "$OUT"
echo "mkesp.sh: $OUT (${mib} MiB): $(mdir -i "$OUT" -/ -b ::/EFI | wc -l) files"
