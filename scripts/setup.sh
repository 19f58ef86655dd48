#!/bin/bash
# Install the host packages Bulkhead needs to build and test (Debian/Ubuntu).
# Idempotent and non-interactive: when every package is already installed it
# only runs dpkg-query and returns; otherwise it runs apt-get update and
# installs the missing packages (with sudo when not root).
set -euo pipefail

PACKAGES=(
    gcc make nasm binutils
    grub-pc-bin grub-efi-amd64-bin grub-common xorriso mtools console-setup-linux
    bochs bochsbios vgabios
    qemu-system-x86 ovmf
    gnu-efi libcmocka-dev
    python3-pytest python3-pytest-xdist python3-pexpect
    netcat-openbsd telnet
    acpica-tools clang-format git
    clang libclang-rt-14-dev
    python3-prometheus-client chromium chromium-driver python3-selenium
)

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "setup.sh: dpkg-query not found; install these packages by hand:" >&2
    echo "  ${PACKAGES[*]}" >&2
    exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = installed ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "setup.sh: installing ${missing[*]}"
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "setup.sh: not root and sudo is not available" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends "${missing[@]}"
echo "setup.sh: done"
