#!/bin/bash
# run.sh --emu bochs|qemu|uefi|kvm|auto [--cpus N] [--mem MiB] [--iso PATH]
#        [--cmdline STR] [--timeout SEC] [--until REGEX] [--interactive]
#        [--log FILE] [--extra ARG]...
# Boots Bulkhead headless and copies its serial console to stdout.
# Exit status: N from the final "bulkhead: poweroff N" line; 0 when --until
# matched; 124 on timeout; 125 when the emulator ended without a poweroff line.
# See scripts/emu.py (and --help) for details.
exec /usr/bin/python3 "$(dirname "$0")/emu.py" "$@"
