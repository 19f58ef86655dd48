"""Every boot protocol gets the whole PC platform; multiboot modules; the
boot information placed clear of the kernel (issue 13, docs/configuration.md).

One Bochs boot runs the platform test guest (tests/guests/platform) as:
  pc     multiboot2, default platform: finds its local APIC, takes periodic
         LAPIC timer interrupts, sees the ACPI RSDP;
  bare   the same with `platform = none`: no APIC in CPUID, the window reads
         all-ones, no ACPI;
  mods2  multiboot2 with an initrd and three `modules` (one named twice,
         one string with a comma);
  mods1  the v1-only build with the same modules (MB1 mods_addr/mods_count),
         and the platform too;
  low    the build linked at 0x8000, where the boot information used to be;
  full   a made-up ELF whose segments cover all of its 2 MiB of RAM: it
         must fail to start with a reason, and harm nothing else.
Each module line (string, size, FNV-1a of its bytes) is compared with the
files packed into the ISO; the guest itself checks that every module is
page-aligned, clear of the kernel and the boot information, and reserved in
its memory map (a "platform: FAIL" line otherwise).
"""

import os
import re
import struct
import subprocess

import pytest

from test_config import CHECK, GUESTS, mkiso, wait_for

MODULES = {"rd.img": 5000, "one.bin": 4096, "two.bin": 12345}

CONFIG = """\
[global]
loglevel = info

[vm pc]
kernel = platform.elf
cmdline = "apic"
memory = 4M
cpus = [1]
autostart = true

[vm bare]
kernel = platform.elf
cmdline = "apic"
memory = 4M
platform = none
autostart = true

[vm mods2]
kernel = platform.elf
initrd = rd.img
modules = [one.bin "first, with a comma", two.bin, rd.img "again"]
memory = 4M
autostart = true

[vm mods1]
kernel = platform-mb1.elf
cmdline = "apic"
initrd = rd.img
modules = [one.bin "first, with a comma", two.bin, rd.img "again"]
memory = 4M
cpus = [1]
autostart = true

[vm low]
kernel = platform-low.elf
cmdline = "apic"
modules = [two.bin]
memory = 4M
autostart = true

[vm full]
kernel = full.elf
memory = 2M
autostart = true
"""


def full_ram_elf():
    """A 32-bit ELF with PT_LOAD segments over 0-0x9ffff and 1-2 MiB: no
    room anywhere for the boot information of a 2 MiB VM."""
    code = b"\xf4\xeb\xfd"  # hlt; jmp back
    ehdr = struct.pack("<4s5B7xHHIIIIIHHHHHH", b"\x7fELF", 1, 1, 1, 0, 0, 2, 3, 1, 0x100000,
                       52, 0, 0, 52, 32, 2, 40, 0, 0)
    low = struct.pack("<8I", 1, 0x1000, 0, 0, 0, 0xa0000, 6, 0x1000)
    high = struct.pack("<8I", 1, 0x1000, 0x100000, 0x100000, len(code), 0x100000, 5, 0x1000)
    image = ehdr + low + high
    return image + b"\0" * (0x1000 - len(image)) + code


def fnv1a(data):
    h = 0x811c9dc5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xffffffff
    return h


def lines(regex, text):
    return re.findall(regex, text, re.M)


def module_lines(name, files, order):
    """The lines VM `name` must print for modules `order` [(file, string)]."""
    want = [f"[{name}] platform: {len(order)} modules"]
    for i, (f, s) in enumerate(order):
        data = files[f]
        want.append(f"[{name}] platform: module {i} '{s}' size {len(data)} "
                    f"fnv1a 0x{fnv1a(data):08x}")
    return want


def run(boot, tmp):
    """Boots the configuration; returns (output, module file bytes)."""
    files = {}
    for n, size in MODULES.items():
        files[n] = os.urandom(size)
        (tmp / n).write_bytes(files[n])
    (tmp / "full.elf").write_bytes(full_ram_elf())
    cfg = tmp / "platform.cfg"
    cfg.write_text(CONFIG)
    r = subprocess.run([str(CHECK), "--modules",
                        ",".join(["platform.elf", "platform-mb1.elf", "platform-low.elf",
                                  "full.elf"] + list(MODULES)), str(cfg)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    iso = mkiso(cfg, tmp / "platform.iso",
                [GUESTS / g for g in ("platform.elf", "platform-mb1.elf", "platform-low.elf")] +
                [tmp / n for n in MODULES] + [tmp / "full.elf"])
    m = boot("bochs", cpus=2, iso=iso)
    wait_for(m, r"^config: 6 VMs defined, 5 autostarted, 1 failed to start, 0 errors$", 150)
    for name in ("pc", "bare", "mods2", "mods1", "low"):
        wait_for(m, rf"^vm {name}: (stopped itself \(code \d+\)|.*crashed.*)$", 200)
    out = m.output
    assert "bulkhead: panic" not in out, out
    for name in ("pc", "bare", "mods2", "mods1", "low"):
        assert lines(rf"^vm {name}: stopped itself \(code 0\)$", out), (name, out)
        assert lines(rf"^\[{name}\] platform: done, 0 failures$", out), (name, out)
    assert not lines(r"platform: FAIL", out), out
    return out, files


@pytest.mark.bochs
def test_platform_modules_placement(boot, tmp_path):
    """One boot (the five VMs above) for all of these checks."""
    out, files = run(boot, tmp_path)
    multiboot_vm_gets_the_platform(out)
    platform_none_is_a_bare_partition(out)
    multiboot_modules(out, files, "mods2", "multiboot2")
    multiboot_modules(out, files, "mods1", "multiboot1")
    kernel_linked_at_0x8000_boots(out, files)
    # No room for the boot information: a clear reason, the others unharmed.
    assert lines(r"^error: vm full: not started: kernel 'full\.elf': no room for the boot "
                 r"information \(12 KiB\) in guest RAM below 4 GiB outside the kernel's "
                 r"segments$", out), out


def multiboot_vm_gets_the_platform(out):
    """A multiboot VM without a `platform` key has the whole PC: a local
    APIC (CPUID.1:EDX.APIC, x2APIC, TSC deadline), its version register,
    a periodic timer that interrupts it, and ACPI tables."""
    for name in ("pc", "mods1", "low"):
        assert lines(rf"^\[{name}\] platform: cpuid apic=1 x2apic=1 tsc-deadline=1$", out), out
        assert lines(rf"^\[{name}\] platform: acpi rsdp at 0x[0-9a-f]+$", out), out
        v = lines(rf"^\[{name}\] platform: local APIC id 0 version 0x([0-9a-f]+) max lvt (\d+)$",
                  out)
        assert v and int(v[0][0], 16) >= 0x10 and int(v[0][1]) >= 4, (name, out)
        assert lines(rf"^\[{name}\] platform: lapic timer: 5 periodic interrupts at vector "
                     r"0x40$", out), out


def platform_none_is_a_bare_partition(out):
    """`platform = none`: CPUID hides the APIC, its window reads all-ones
    (absent MMIO), no ACPI tables."""
    assert lines(r"^\[bare\] platform: cpuid apic=0 x2apic=0 tsc-deadline=0$", out), out
    assert lines(r"^\[bare\] platform: no acpi rsdp$", out), out
    assert lines(r"^\[bare\] platform: no local APIC; version register reads 0xffffffff$",
                 out), out
    assert not lines(r"^\[bare\] platform: (local APIC|lapic timer)", out), out
    assert lines(r"^warning: vm bare: lapic window access at 0xfee00030: absent "
                 r"\(platform = none\)$", out), out


def multiboot_modules(out, files, name, proto):
    """initrd first, then `modules` in order, each with its string (the
    module's name when none is given): same size and bytes as the files."""
    assert lines(rf"^\[{name}\] platform: {proto}, loaded at 0x100000, ", out), out
    order = [("rd.img", "rd.img"), ("one.bin", "first, with a comma"), ("two.bin", "two.bin"),
             ("rd.img", "again")]
    for want in module_lines(name, files, order):
        assert want in out.splitlines(), (want, out)
    # A VM without modules gets none.
    assert "[pc] platform: 0 modules" in out.splitlines(), out


def kernel_linked_at_0x8000_boots(out, files):
    """A kernel at 0x8000 (where the boot information always sat) boots:
    the information goes elsewhere, clear of its segments."""
    at = lines(r"^\[low\] platform: multiboot2, loaded at 0x8000, boot information at "
               r"0x([0-9a-f]+), cmdline 'apic'$", out)
    assert at and int(at[0], 16) != 0x8000, out
    for want in module_lines("low", files, [("two.bin", "two.bin")]):
        assert want in out.splitlines(), (want, out)
    assert not lines(r"overlaps the boot information", out), out


def test_checker_modules(tmp_path):
    """The checker names each missing or empty module of `modules`, and
    refuses bad lists and `platform = none` with several vCPUs."""
    cfg = tmp_path / "m.cfg"
    cfg.write_text("[vm a]\nkernel = platform.elf\ninitrd = rd.img\n"
                   "modules = [one.bin \"x\", gone.bin, two.bin]\n"
                   "[vm b]\nkernel = platform.elf\nmodules = [one.bin \"open]\n"
                   "[vm c]\nkernel = platform.elf\nvcpus = 2\nplatform = none\n")
    r = subprocess.run([str(CHECK), "--modules", "platform.elf,rd.img,one.bin", str(cfg)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert r.returncode == 1, r.stdout
    assert r.stdout.splitlines() == [
        f"{cfg}:7: vm b: modules: unterminated string (missing closing '\"')",
        f"{cfg}:11: vm c: platform: none leaves 1 of the 2 vCPUs unstartable (no local APIC "
        "for INIT-SIPI); use platform = pc or vcpus = 1",
        f"{cfg}:4: vm a: modules: module 'gone.bin' is not present",
        f"{cfg}:4: vm a: modules: module 'two.bin' is not present",
    ], r.stdout
    r = subprocess.run([str(CHECK), "--list-modules", str(cfg)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    assert r.stdout.split() == ["platform.elf", "rd.img", "one.bin", "gone.bin", "two.bin"], \
        r.stdout
