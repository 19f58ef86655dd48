#!/bin/bash
# check-image.sh ELF: sanity checks on the linked hypervisor image.
#  - the multiboot2 header (magic 0xE85250D6, checksum valid) lies in the
#    first 32 KiB of the file at an 8-byte aligned offset;
#  - prints the image size (text+data+bss) from `size`.
# Exits non-zero when the header is missing or broken.
set -euo pipefail

if [ $# -ne 1 ] || [ ! -f "$1" ]; then
    echo "usage: $0 ELF" >&2
    exit 2
fi
elf=$1

/usr/bin/python3 - "$elf" <<'PY'
import struct, sys
path = sys.argv[1]
with open(path, "rb") as f:
    head = f.read(32768)
for off in range(0, len(head) - 15, 8):
    magic, arch, length, csum = struct.unpack_from("<IIII", head, off)
    if magic != 0xE85250D6:
        continue
    if (magic + arch + length + csum) & 0xFFFFFFFF:
        print(f"check-image: {path}: multiboot2 magic at {off:#x} but bad checksum",
              file=sys.stderr)
        sys.exit(1)
    if arch != 0:
        print(f"check-image: {path}: multiboot2 header at {off:#x} has architecture "
              f"{arch}, expected 0 (i386)", file=sys.stderr)
        sys.exit(1)
    print(f"check-image: multiboot2 header at file offset {off:#x}, length {length}")
    sys.exit(0)
print(f"check-image: {path}: no 8-byte aligned multiboot2 header "
      f"(magic 0xE85250D6) in the first 32 KiB", file=sys.stderr)
sys.exit(1)
PY

# size(1) Berkeley format: text data bss dec hex filename
read -r text data bss dec _ < <(size "$elf" | tail -n 1)
printf 'check-image: %s: text %d, data %d, bss %d, total %d bytes (%d KiB)\n' \
    "$elf" "$text" "$data" "$bss" "$dec" $(((dec + 1023) / 1024))
