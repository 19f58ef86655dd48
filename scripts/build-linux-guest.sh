#!/bin/bash
# Builds the Linux test guest from Debian packages, without installing them:
#   build/linux/bzImage    the kernel of linux-image-cloud-amd64
#   build/linux/initrd.gz  a busybox-static initramfs (see docs/linux-guests.md)
# Nothing here is committed. Idempotent: does nothing when both outputs exist
# and are newer than this script (--force rebuilds). Needs network access to
# the Debian mirror and a package list (runs apt-get update if one is missing).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${LINUX_GUEST_OUT:-$ROOT/build/linux}
SELF="$ROOT/scripts/build-linux-guest.sh"
META=linux-image-cloud-amd64
READY_MARKER=BULKHEAD-LINUX-READY

die() {
    echo "build-linux-guest: $*" >&2
    exit 1
}
note() { echo "build-linux-guest: $*"; }

# Header fields of a bzImage, little-endian, for the summary.
hdr() { od -An -t "u$2" -j "$1" -N "$2" "$OUT/bzImage" | tr -d ' '; }

summary() {
    local proto
    proto=$(hdr 0x206 2)
    note "kernel $(cat "$OUT/kernel-version")"
    note "bzImage $(stat -c %s "$OUT/bzImage") bytes, boot protocol $((proto >> 8)).$(printf %02d $((proto & 0xff)))," \
        "pref_address 0x$(printf %x "$(hdr 0x258 8)"), init_size $(hdr 0x260 4) bytes"
    note "initrd.gz $(stat -c %s "$OUT/initrd.gz") bytes; ACPI button: $(cat "$OUT/acpi-button")"
}

if [ "${1:-}" != --force ] && [ "$OUT/bzImage" -nt "$SELF" ] && [ "$OUT/initrd.gz" -nt "$SELF" ] &&
    [ -f "$OUT/kernel-version" ] && [ -f "$OUT/acpi-button" ]; then
    note "up to date (--force rebuilds)"
    summary
    exit 0
fi

for tool in apt-get dpkg dpkg-deb gzip od; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found (a Debian host is needed)"
done

DL="$OUT/dl"
mkdir -p "$DL"
updated=0
# apt-get download into $DL; one apt-get update on a missing package list.
fetch() {
    if (cd "$DL" && apt-get download -q "$1") >"$DL/apt.log" 2>&1; then
        return 0
    fi
    if [ $updated -eq 0 ]; then
        note "apt-get download $1 failed; running apt-get update"
        updated=1
        if [ "$(id -u)" -eq 0 ]; then
            apt-get update -q >/dev/null
        else
            sudo -n apt-get update -q >/dev/null
        fi
        (cd "$DL" && apt-get download -q "$1") >"$DL/apt.log" 2>&1 && return 0
    fi
    cat "$DL/apt.log" >&2
    die "apt-get download $1 failed"
}

# Newest .deb of a package in $DL (apt escapes ':' in epochs as %3a).
deb_of() {
    ls -t "$DL/$1"_*.deb 2>/dev/null | head -n 1
}

rm -f "$DL"/*.deb
note "downloading $META"
fetch "$META"
meta_deb=$(deb_of "$META")
[ -n "$meta_deb" ] || die "$META: no .deb after download"
# "linux-image-6.1.0-NN-cloud-amd64 (= 6.1.x-y)": the versioned kernel package.
dep=$(dpkg-deb -f "$meta_deb" Depends | tr ',' '\n' | sed 's/^ *//' |
    grep -E '^linux-image-[0-9][^ ]*-cloud-amd64' | head -n 1) ||
    die "$META does not depend on a versioned linux-image-*-cloud-amd64 package"
kpkg=${dep%% *}
kver=$(echo "$dep" | sed -n 's/.*(= *\([^)]*\)).*/\1/p')
note "downloading $kpkg${kver:+ $kver}"
fetch "$kpkg${kver:+=$kver}"
kdeb=$(deb_of "$kpkg")
[ -n "$kdeb" ] || die "$kpkg: no .deb after download"

note "downloading busybox-static"
fetch busybox-static
bdeb=$(deb_of busybox-static)
[ -n "$bdeb" ] || die "busybox-static: no .deb after download"

rm -rf "$OUT/kernel" "$OUT/busybox" "$OUT/initramfs"
dpkg -x "$kdeb" "$OUT/kernel"
dpkg -x "$bdeb" "$OUT/busybox"

vmlinuz=$(ls "$OUT"/kernel/boot/vmlinuz-* 2>/dev/null | head -n 1)
[ -n "$vmlinuz" ] || die "$kpkg has no boot/vmlinuz-*"
release=${vmlinuz##*/vmlinuz-}
config="$OUT/kernel/boot/config-$release"
[ -f "$config" ] || die "$kpkg has no boot/config-$release"
busybox="$OUT/busybox/bin/busybox"
[ -x "$busybox" ] || die "busybox-static has no bin/busybox"

# ---- initramfs tree ----
IR="$OUT/initramfs"
mkdir -p "$IR"/{bin,dev,proc,sys,tmp,run,root,etc/acpi/PWRF,lib/modules,var/log,var/run}
ln -s bin "$IR/sbin"
cp "$busybox" "$IR/bin/busybox"
for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$IR/bin/$applet"
done
# The kernel's built-in initramfs already has /dev/console; add it when we can.
if [ "$(id -u)" -eq 0 ]; then
    mknod -m 600 "$IR/dev/console" c 5 1 2>/dev/null || true
fi

# Power button: button.ko turns the ACPI fixed power button into an input
# device and evdev exposes it as /dev/input/event*, where busybox acpid
# listens. Either may be built in (=y) or a module (=m) in this kernel.
modules=()
button=builtin
for opt in ACPI_BUTTON:drivers/acpi/button INPUT_EVDEV:drivers/input/evdev; do
    sym=${opt%%:*}
    path=${opt#*:}
    val=$(sed -n "s/^CONFIG_$sym=//p" "$config")
    case "$val" in
    y) ;;
    m)
        ko=$(ls "$OUT/kernel/lib/modules/$release/kernel/$path".ko* 2>/dev/null | head -n 1)
        [ -n "$ko" ] || die "CONFIG_$sym=m but $path.ko is not in $kpkg"
        case "$ko" in
        *.ko) ;;
        *) die "$ko is compressed; busybox insmod needs a plain .ko" ;;
        esac
        # Modules with dependencies would need those too: refuse rather than fail at boot.
        deps=$(tr '\0' '\n' <"$ko" | sed -n 's/^depends=//p' | head -n 1)
        [ -z "$deps" ] || die "$ko depends on '$deps'; the initramfs does not carry those"
        cp "$ko" "$IR/lib/modules/"
        modules+=("/lib/modules/${ko##*/}")
        [ "$sym" != ACPI_BUTTON ] || button=module
        ;;
    *) die "CONFIG_$sym is '${val:-unset}' in $kpkg: no power button support" ;;
    esac
done

cat >"$IR/etc/acpi/PWRF/00000080" <<'EOF'
#!/bin/sh
# busybox acpid runs this on a power-button press (event PWRF/00000080).
echo "power button: powering off"
sync
poweroff -f
EOF
chmod 755 "$IR/etc/acpi/PWRF/00000080"

cat >"$IR/init" <<EOF
#!/bin/sh
# Bulkhead Linux test guest (built by scripts/build-linux-guest.sh).
export PATH=/bin:/sbin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts
for m in ${modules[*]}; do
    insmod "\$m" || echo "init: insmod \$m failed"
done
acpid -c /etc/acpi || echo "init: acpid failed"
echo "$READY_MARKER"
# A session leader opening ttyS0 gets it as controlling tty: job control.
while :; do
    setsid sh -c 'exec sh </dev/ttyS0 >/dev/ttyS0 2>&1'
    echo "init: shell exited, starting another"
done
EOF
chmod 755 "$IR/init"

# ---- outputs ----
if command -v cpio >/dev/null 2>&1; then
    CPIO=(cpio --quiet -H newc -o -R 0:0)
else
    CPIO=("$busybox" cpio -H newc -o) # busybox's own cpio writes newc too
fi
(cd "$IR" && find . -mindepth 1 | LC_ALL=C sort | "${CPIO[@]}") | gzip -9 -n >"$OUT/initrd.gz.tmp"
mv "$OUT/initrd.gz.tmp" "$OUT/initrd.gz"
cp "$vmlinuz" "$OUT/bzImage.tmp"
mv "$OUT/bzImage.tmp" "$OUT/bzImage"
cp "$config" "$OUT/config"
echo "$release ($kpkg ${kver:-?})" >"$OUT/kernel-version"
echo "CONFIG_ACPI_BUTTON=$([ $button = module ] && echo m || echo y)${modules[*]:+, modules: ${modules[*]##*/}}" \
    >"$OUT/acpi-button"
touch "$OUT/bzImage" "$OUT/initrd.gz"
summary
