#!/usr/bin/python3
"""check-layers.py [--list] [--self-test] [--root DIR]: include arrows must
point down the layers.

Layers (README "Source layout", each folder's README.md), lowest first:
  0  lib/, include/                 freestanding support, public ABI headers
  1  arch/, drivers/, mm/, boot/    CPU, devices and memory of the machine
  2  hvm/                           the contract between the vendor-neutral
                                    layer and a vendor backend (headers only)
     ept/                           second-level page tables, guest page walker
     vmx/, svm/                     vendor backends
  3  vcpu/                          the vendor-neutral vCPU and exit layer
  4  vdev/, net/                    device models, the network stack
     loader/                        boot protocols
     vm/                            VM lifecycle, console output queues
  5  core/                          scheduler, console, configuration, boot
     boot/efi/                      the UEFI loader program
A file may include headers of its own folder, of a lower layer, or of
another folder of its own layer where SAME_LAYER below allows it. A vendor
backend (vmx/, svm/) is reached only through hvm/: nothing includes
vmx/ or svm/ headers but the backend itself. There are no known debts: the
check fails on any arrow pointing up (or sideways where not allowed).

--list prints every include between two folders with its verdict.
--self-test proves the check can fail: it builds a scratch tree with one
upward include, one vendor include from vcpu/ and one allowed include, and
expects exactly the two bad ones to be reported.
Exit status 0 when clean, 1 otherwise.
"""

import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

RANK = {
    "lib": 0, "include": 0,
    "arch": 1, "drivers": 1, "mm": 1, "boot": 1,
    "hvm": 2, "ept": 2, "vmx": 2, "svm": 2,
    "vcpu": 3,
    "vdev": 4, "net": 4, "loader": 4, "vm": 4,
    "core": 5, "boot/efi": 5,
}
VENDOR = {"vmx", "svm"}
# From layer 2 up, same-layer includes between different folders are
# allowed only as listed, (includer, included). Everything else in one
# layer stays apart: a device model never includes a loader or the VM
# lifecycle, the contract (hvm/) never includes a backend or the page
# tables, and one backend never includes another. Layers 0 and 1 (the
# machine) may include each other's folders freely.
SAME_LAYER = {
    ("vmx", "hvm"), ("svm", "hvm"),
    ("vmx", "ept"), ("svm", "ept"),
    ("ept", "hvm"),
    ("vm", "loader"), ("vm", "vdev"), ("loader", "vdev"), ("net", "vdev"), ("vdev", "net"),
    ("core", "boot/efi"), ("boot/efi", "core"),
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z0-9_]+)/([^"]+)"', re.M)


def top(path):
    return "boot/efi" if path.startswith("boot/efi/") else path.split("/", 1)[0]


def verdict(mine, target):
    """None when the include is allowed, else why not."""
    if target == mine:
        return None
    if target in VENDOR:
        return "a vendor backend is reached only through hvm/"
    if RANK[target] > RANK[mine]:
        return "include points up the layers"
    if RANK[target] == RANK[mine] >= 2 and (mine, target) not in SAME_LAYER:
        return "include between two folders of one layer that must stay apart"
    return None


def includes(root):
    for folder in sorted(RANK):
        base = root / folder
        if not base.is_dir():
            continue
        for src in sorted(base.rglob("*.[ch]")):
            rel = src.relative_to(root).as_posix()
            mine = top(rel)
            if mine != folder:
                continue  # boot/efi/ files are scanned as boot/efi, not boot
            for m in INCLUDE.finditer(src.read_text(errors="replace")):
                target = m.group(1)
                if target == "boot" and m.group(2).startswith("efi/"):
                    target = "boot/efi"
                if target in RANK:
                    yield rel, mine, target, f"{m.group(1)}/{m.group(2)}"


def violations(root):
    bad = []
    for rel, mine, target, header in includes(root):
        why = verdict(mine, target)
        if why:
            bad.append(f"{rel} -> {header}: {why}")
    return sorted(set(bad))


def self_test():
    cases = {
        "vmx/x.c": '#include "vcpu/vm.h"\n',           # upward: must fail
        "vcpu/y.c": '#include "vmx/vmx.h"\n#include "hvm/backend.h"\n',  # vendor: must fail
        "vdev/z.c": '#include "vcpu/vm.h"\n#include "lib/log.h"\n',  # allowed
        "vdev/w.c": '#include "loader/loader.h"\n',    # sideways: must fail
        "vm/v.c": '#include "vdev/vuart.h"\n',         # allowed sideways
    }
    expect = {
        "vmx/x.c -> vcpu/vm.h",
        "vcpu/y.c -> vmx/vmx.h",
        "vdev/w.c -> loader/loader.h",
    }
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        for rel, text in cases.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
        got = {v.split(":", 1)[0] for v in violations(root)}
    if got != expect:
        print(f"check-layers: self-test FAILED: expected {sorted(expect)}, got {sorted(got)}")
        return 1
    print(f"check-layers: self-test ok ({len(expect)} planted bad includes caught, "
          "allowed ones passed)")
    return 0


def main():
    if "--self-test" in sys.argv:
        return self_test()
    root = ROOT
    if "--root" in sys.argv:
        root = Path(sys.argv[sys.argv.index("--root") + 1]).resolve()
    if "--list" in sys.argv:
        for rel, mine, target, header in includes(root):
            if mine != target:
                print(f"{rel} -> {header}: {verdict(mine, target) or 'ok'}")
    bad = violations(root)
    for v in bad:
        print(f"check-layers: {v} (see scripts/check-layers.py for the order)")
    if bad:
        print(f"check-layers: {len(bad)} include(s) break the layering")
        return 1
    print("check-layers: ok (every include points down the layers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
