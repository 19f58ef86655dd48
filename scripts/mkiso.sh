#!/bin/bash
# mkiso.sh --config FILE --out ISO [--cmdline STR] [--module PATH ...] [--elf ELF]
#          [--check] [--allow-bad-config] [--resolve] [--search DIR[:DIR...]]
#
# Builds a bootable ISO with grub-mkrescue holding both BIOS (i386-pc) and
# UEFI (x86_64-efi) GRUB, the hypervisor as /boot/bulkhead.elf, the
# configuration as /boot/bulkhead.cfg (always the first module, named
# bulkhead.cfg) and each --module as /boot/<basename>, named <basename>.
#
# The command line (default "console=com1 loglevel=info") is split into
# words like a POSIX shell would (so exec="version; poweroff 7" is one word)
# and each word is written single-quoted into grub.cfg: GRUB passes it intact
# (an unquoted ';' would end the GRUB command). GRUB then quotes any word that
# contains a space, so the kernel sees "exec=version; poweroff 7".
#
# The framebuffer (console=fb): the hypervisor's multiboot2 header asks for
# one (optional tag, any mode). Under UEFI, grub.cfg loads efi_gop so GRUB
# can describe the firmware's GOP screen. Under BIOS, grub.cfg sets
# gfxpayload=text after the multiboot2 line unless the command line's last
# console= names fb: GRUB's VBE mode setting crashes GRUB under Bochs' VGA
# BIOS, where the VMX tests run (docs/efi.md).
#
# --check runs build/bulkhead-check on the configuration first and stops on
# any error. --resolve adds every module the configuration names, found by
# scripts/resolve-modules.sh (next to the configuration, in the --search
# directories, in build/guests and build/linux); a module found nowhere stops
# the build. --allow-bad-config lets both through with their messages (an ISO
# that boots a broken file, to see its errors at boot). `make iso` uses all three. On any failure no ISO is
# written and an existing one is left as it was.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ELF="$ROOT/build/bulkhead.elf"
CONFIG=""
OUT=""
CMDLINE="console=com1 loglevel=info"
MODULES=()
CHECK=0
ALLOW_BAD=0
RESOLVE=0
SEARCH=""

die() { echo "mkiso.sh: $*" >&2; exit 1; }
usage() {
    sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
    --config) [ $# -ge 2 ] || usage; CONFIG=$2; shift 2 ;;
    --out) [ $# -ge 2 ] || usage; OUT=$2; shift 2 ;;
    --cmdline) [ $# -ge 2 ] || usage; CMDLINE=$2; shift 2 ;;
    --module) [ $# -ge 2 ] || usage; MODULES+=("$2"); shift 2 ;;
    --elf) [ $# -ge 2 ] || usage; ELF=$2; shift 2 ;;
    --check) CHECK=1; shift ;;
    --allow-bad-config) ALLOW_BAD=1; shift ;;
    --resolve) RESOLVE=1; shift ;;
    --search) [ $# -ge 2 ] || usage; SEARCH=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "mkiso.sh: unknown argument '$1'" >&2; usage ;;
    esac
done

[ -n "$CONFIG" ] || die "--config is required"
[ -n "$OUT" ] || die "--out is required"
[ -f "$ELF" ] || die "kernel image '$ELF' not found (run make first)"
[ -f "$CONFIG" ] || die "configuration '$CONFIG' not found"
CHECKER="$ROOT/build/bulkhead-check"
if [ "$CHECK" = 1 ]; then
    [ -x "$CHECKER" ] || die "$CHECKER not found (make build/bulkhead-check)"
    rc=0
    "$CHECKER" "$CONFIG" >&2 || rc=$?
    if [ "$rc" = 1 ] && [ "$ALLOW_BAD" = 1 ]; then
        echo "mkiso.sh: $CONFIG has errors (above); building anyway (--allow-bad-config):" \
            "the hypervisor reports them at boot" >&2
    elif [ "$rc" = 1 ]; then
        die "$CONFIG has errors (above); no ISO written. Fix them, or build it anyway with" \
            "ALLOW_BAD_CONFIG=1 (make iso) / --allow-bad-config to see them at boot"
    elif [ "$rc" != 0 ]; then
        die "$CHECKER $CONFIG failed (status $rc)"
    fi
fi
if [ "$RESOLVE" = 1 ]; then
    allow=()
    [ "$ALLOW_BAD" = 0 ] || allow=(--allow-missing)
    resolved=$("$ROOT/scripts/resolve-modules.sh" --config "$CONFIG" --search "$SEARCH" \
        --checker "$CHECKER" "${allow[@]}") || die "modules missing (above); no ISO written"
    # The configuration's modules first, then the --module ones.
    if [ -n "$resolved" ]; then
        mapfile -t from_config <<<"$resolved"
        MODULES=("${from_config[@]}" "${MODULES[@]}")
    fi
fi
for m in "${MODULES[@]}"; do
    [ -f "$m" ] || die "module '$m' not found"
    case "$(basename "$m")" in
    bulkhead.elf|bulkhead.cfg|grub) die "module name '$(basename "$m")' is reserved" ;;
    esac
done
command -v grub-mkrescue >/dev/null || die "grub-mkrescue not found (make deps)"
command -v xorriso >/dev/null || die "xorriso not found (make deps)"
for platform in i386-pc x86_64-efi; do
    [ -d "/usr/lib/grub/$platform" ] ||
        die "/usr/lib/grub/$platform missing (install grub-pc-bin and grub-efi-amd64-bin)"
done

tmp=$(mktemp -d /tmp/bulkhead-mkiso.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
tree="$tmp/iso"
mkdir -p "$tree/boot/grub"
cp "$ELF" "$tree/boot/bulkhead.elf"
cp "$CONFIG" "$tree/boot/bulkhead.cfg"
names=(bulkhead.cfg)
declare -A source=()
for m in "${MODULES[@]}"; do
    name=$(basename "$m")
    real=$(realpath "$m")
    if [ -n "${source[$name]:-}" ]; then
        # The same file twice (named by the configuration and by --module) is one module.
        [ "${source[$name]}" = "$real" ] && continue
        die "duplicate module name '$name': ${source[$name]} and $real"
    fi
    source[$name]=$real
    cp "$m" "$tree/boot/$name"
    names+=("$name")
done

# Quote the command line for grub.cfg (see the header comment); the second
# line says whether it asks for the screen (console=fb, console=com1,fb,
# console=fb,com2: the last console= counts, as in the hypervisor).
parsed=$(/usr/bin/python3 - "$CMDLINE" <<'PY'
import shlex, sys
q = "'"
try:
    words = shlex.split(sys.argv[1])
except ValueError as e:
    sys.exit("mkiso.sh: cannot parse --cmdline: %s" % e)
# 'word' with any ' written as '\'' (GRUB takes \' outside quotes literally).
print(" ".join(q + w.replace(q, q + "\\" + q + q) + q for w in words))
consoles = [w[len("console="):] for w in words if w.startswith("console=")]
v = consoles[-1] if consoles else ""
print("fb" if v == "fb" or v.endswith(",fb") or v.startswith("fb,") else "serial")
PY
) || die "bad --cmdline"
{ read -r args; read -r console_kind; } <<<"$parsed"

{
    echo "serial --unit=0 --speed=115200"
    echo "terminal_input serial console"
    echo "terminal_output serial console"
    echo "set timeout=0"
    echo "set default=0"
    echo ""
    echo "menuentry 'Bulkhead' {"
    echo "    # The multiboot2 header asks for a framebuffer (optional). UEFI:"
    echo "    # GRUB needs its GOP driver to describe one."
    echo "    if [ \"\$grub_platform\" = efi ]; then insmod efi_gop; fi"
    echo "    multiboot2 /boot/bulkhead.elf $args"
    if [ "$console_kind" != fb ]; then
        # BIOS: VGA text unless console=fb wants the screen (GRUB's VBE mode
        # setting crashes GRUB under Bochs' VGA BIOS: docs/efi.md).
        echo "    if [ \"\$grub_platform\" = pc ]; then set gfxpayload=text; fi"
    fi
    for n in "${names[@]}"; do
        echo "    module2 '/boot/$n' '$n'"
    done
    echo "    boot"
    echo "}"
} >"$tree/boot/grub/grub.cfg"

log="$tmp/grub-mkrescue.log"
if ! grub-mkrescue --locales= --themes= -o "$tmp/out.iso" "$tree" >"$log" 2>&1; then
    cat "$log" >&2
    die "grub-mkrescue failed"
fi

# Both firmware flavours must be in the image.
listing=$(xorriso -indev "$tmp/out.iso" -find / -type f 2>/dev/null) || die "cannot list $tmp/out.iso"
for want in "/boot/grub/i386-pc/eltorito.img" "/efi.img" "/boot/grub/x86_64-efi/" "/boot/bulkhead.elf" \
    "/boot/bulkhead.cfg" "/boot/grub/grub.cfg"; do
    grep -qF "'$want" <<<"$listing" || {
        echo "$listing" >&2
        die "$want missing from the image"
    }
done

mkdir -p "$(dirname "$OUT")"
mv -f "$tmp/out.iso" "$OUT"
echo "mkiso.sh: $OUT ($(du -h "$OUT" | cut -f1), cmdline: $CMDLINE)"
