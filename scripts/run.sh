#!/bin/bash
# run.sh --emu bochs|qemu|qemu-svm|uefi|uefi-direct|kvm|auto [--cpus N|auto] [--mem MiB|auto]
#        [--iso PATH] [--cmdline STR] [--timeout SEC] [--until REGEX]
#        [--interactive] [--log FILE] [--extra ARG]...
#        [--net-forward HOSTPORT:GUESTPORT]... [--net-raw HOSTPORT:QEMUPORT] [--net-nic e1000|virtio|virtio-legacy]
# Boots Bulkhead headless and copies its serial console to stdout. Paths
# are relative to the current directory; --cpus/--mem auto (the default)
# size the machine for the configuration inside the ISO.
# Exit status: N from the final "bulkhead: poweroff N" line; 0 when --until
# matched; 124 on timeout; 125 when the emulator ended without a poweroff
# line (or the machine reset without a reboot request); 130 after Ctrl-A x.
# See scripts/emu.py (and --help) for details.
exec /usr/bin/python3 "$(dirname "$0")/emu.py" "$@"
