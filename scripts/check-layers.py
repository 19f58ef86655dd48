#!/usr/bin/python3
"""check-layers.py [--list]: include arrows must point down the layers.

Layers (../shared/design.md, README "Source layout"), lowest first:
  0  lib/, include/           freestanding support, public ABI headers
  1  arch/, drivers/, mm/, boot/   CPU, devices and memory of the machine
  2  vmx/, svm/, ept/, npt/   vendor backends and second-level page tables
  3  guest/                   VMs, vCPUs, exit policy, device models, loaders
     vdev/                    device models moving out of guest/ (same layer for now)
  4  core/                    scheduler, console, configuration, boot sequence
     boot/efi/                the UEFI loader: a program of its own that reuses
                              the pure parsers (configuration, ELF) of any layer
A file may include headers of its own layer or of a lower one. On top of
that, only the vendor-neutral vCPU layer (guest/) may include a vendor
backend (vmx/, svm/): core/ reaches the CPU through guest/.

Known debts are listed in KNOWN_DEBT below, one "file -> header" per line;
the check fails on any upward include not in that list, and also when a
listed debt no longer exists (so the list only ever shrinks and stays true).
Exit status 0 when clean, 1 otherwise. --list prints every debt still open.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

RANK = {"lib": 0, "include": 0, "arch": 1, "drivers": 1, "mm": 1, "boot": 1,
        "vmx": 2, "svm": 2, "ept": 2, "npt": 2, "guest": 3, "vdev": 3, "core": 4, "boot/efi": 4}
VENDOR = {"vmx", "svm"}
VENDOR_CLIENTS = {"guest"}
SCANNED = sorted(RANK)

# Upward includes that exist today and are being removed (issue "One core,
# two vendors"): vmx/ calls exit handlers that live in guest/, and core/
# calls vmx/ directly. Remove a line when its include goes.
KNOWN_DEBT = """
core/banner.c -> vmx/vmx_caps.h
core/main.c -> vmx/vmx.h
core/main.c -> vmx/vmx_caps.h
core/sched.c -> vmx/vmx.h
vmx/vmcs_init.c -> guest/vm.h
vmx/vmx.h -> guest/vcpu.h
vmx/vmx_diag.c -> guest/vm.h
vmx/vmx_exit.c -> guest/cpuid.h
vmx/vmx_exit.c -> guest/hypercall.h
vmx/vmx_exit.c -> guest/virq.h
vmx/vmx_exit.c -> guest/vm.h
vmx/vmx_exit.h -> guest/cpuid.h
vmx/vmx_exit.h -> guest/vcpu.h
vmx/vmx_exit_cr.c -> guest/vm.h
vmx/vmx_exit_io.c -> guest/msr.h
vmx/vmx_exit_io.c -> guest/vm.h
vmx/vmx_run.c -> guest/msr.h
vmx/vmx_run.c -> guest/platform.h
vmx/vmx_run.c -> guest/virq.h
vmx/vmx_run.c -> guest/vm.h
"""

INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z0-9_]+)/([^"]+)"', re.M)


def top(path):
    return "boot/efi" if path.startswith("boot/efi/") else path.split("/", 1)[0]


def violations():
    found = set()
    for folder in SCANNED:
        base = ROOT / folder
        if not base.is_dir():
            continue
        for src in sorted(base.rglob("*.[ch]")):
            rel = src.relative_to(ROOT).as_posix()
            for m in INCLUDE.finditer(src.read_text(errors="replace")):
                target = m.group(1)
                if target not in RANK:
                    continue
                mine = top(rel)
                upward = RANK[target] > RANK[mine]
                vendor = target in VENDOR and mine not in VENDOR | VENDOR_CLIENTS
                if upward or vendor:
                    found.add(f"{rel} -> {target}/{m.group(2)}")
    return found


def main():
    debt = {line.strip() for line in KNOWN_DEBT.splitlines() if line.strip()}
    found = violations()
    new = sorted(found - debt)
    gone = sorted(debt - found)
    if "--list" in sys.argv:
        for v in sorted(found & debt):
            print(f"debt: {v}")
    for v in new:
        print(f"check-layers: {v}: include points up the layers "
              "(see scripts/check-layers.py for the order)")
    for v in gone:
        print(f"check-layers: {v}: listed as a known debt but no longer there; "
              "remove it from KNOWN_DEBT")
    if new or gone:
        return 1
    print(f"check-layers: ok ({len(found)} known upward includes left)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
