"""Guests' own speculation controls (arch/x86_64/spec_guest.c, vmx/vmx_spec.c).

Bochs' Tiger Lake model enumerates IBRS/IBPB, STIBP, SSBD, the L1D flush,
MD_CLEAR and IA32_ARCH_CAPABILITIES (enhanced IBRS among them), so root
mode runs with IA32_SPEC_CTRL.IBRS set. Two hostile64 VMs share its CPU,
each with its own IA32_SPEC_CTRL (attack=spec-ctrl): each starts at 0 and
reads its own value back after every yield (its reads reach the MSR, so the
CPU ran it with that value), the bits it was not shown fault, IBPB and the
L1D flush are write-only commands, IA32_ARCH_CAPABILITIES is read-only.
While one of them keeps running with a value of its own, the console's
`spec` reads root mode's value on that CPU: the VM-exit MSR-load list put
it back. On the default model (nothing enumerated) and under SVM (QEMU TCG
has none) the guest is shown nothing and the MSRs fault."""

import re

import pytest

from conftest import BACKEND_EMU, REPO
from console_io import serial_command
from test_attacks_isolation import no_breach, wait_for
from test_config import GUESTS, build_config_iso
from test_linux import BAD_DMESG, BOOT_TIMEOUT, READY, attach, shell

TIGERLAKE = ["cpu: model=tigerlake"]

SWITCH_CFG = """\
# test_spec_ctrl_is_the_guests_own: two VMs with their own IA32_SPEC_CTRL on CPU 0.
[vm sa]
kernel = hostile64.elf
cmdline = "attack=spec-ctrl value=6 hold=1"
memory = 4M
cpus = [0]
autostart = true

[vm sb]
kernel = hostile64.elf
cmdline = "attack=spec-ctrl value=1"
memory = 4M
cpus = [0]
autostart = true
"""

# Tiger Lake: CPUID.7.0:EDX 0xfc100510 on the host; a guest is shown
# MD_CLEAR (10), IBRS/IBPB (26), STIBP (27), L1D_FLUSH (28), ARCH_CAPS
# (29) and SSBD (31), not CORE_CAPABILITIES (30) nor the others.
GUEST_EDX = (1 << 10) | (1 << 26) | (1 << 27) | (1 << 28) | (1 << 29) | (1 << 31)


def spec_lines(m):
    start = len(m.output)
    m.send("spec\r")
    wait_for(m, r"^spec: IBPB on a VM switch:.*$", 60, start)
    return m.output[start:]


IBPB_CFG = """\
# test_ibpb_for_a_vm_in_a_freed_slot: a VM that ends itself on CPU 0.
[vm first]
kernel = hello.elf
memory = 4M
cpus = [0]
autostart = true
"""


def vm_switch_ibpbs(m):
    lines = spec_lines(m)
    found = re.search(r"^spec: IBPB on a VM switch: cpu 0 (\d+)$", lines, re.M)
    assert found, lines
    return int(found.group(1))


def vm_object_pages(m):
    out = serial_command(m, "mem", 60)
    return re.findall(r"^ +([0-9a-f]+)-[0-9a-f]+ +\d+ KiB +vm objects$", out, re.M)


@pytest.mark.bochs
def test_ibpb_for_a_vm_in_a_freed_slot(boot, tmp_path):
    """A VM undefined frees its VM object, and the next VM defined may get
    the same page: the IBPB on a VM switch must still tell them apart (the
    backends compared object addresses until they compared serial numbers,
    and a VM defined in a freed slot then skipped the IBPB). The test checks
    the page was in fact reused, so that it proves something. The VM's
    output slot is reused too: the new VM is not muted as the old one was."""
    cfg = tmp_path / "ibpb.cfg"
    cfg.write_text(IBPB_CFG)
    m = boot("bochs", cpus=1, iso=build_config_iso(cfg), extra=TIGERLAKE)
    wait_for(m, r"^vm first: stopped itself \(code 0\)$", 120)
    assert vm_switch_ibpbs(m) == 1  # the first VM on CPU 0
    before = vm_object_pages(m)
    assert len(before) == 1, before
    # Its output slot goes to the next VM too, which must not inherit this.
    assert "output of first muted" in serial_command(m, "mute first", 60)
    wait_for(m, r"^vm first: (stopped|scrubbed)", 60)
    for _ in range(20):
        out = serial_command(m, "undefine first", 60)
        if "still stopping" not in out:
            break
    assert "undefine: vm first removed" in out, out
    m.send("define\r")
    for line in ["[vm second]", "kernel = hello.elf", "memory = 4M", "cpus = [0]",
                 "autostart = true", ""]:
        wait_for(m, r"define> $", 60, len(m.output) - 8)
        m.send(line + "\r")
    wait_for(m, r"^vm second: stopped itself \(code 0\)$", 120)
    assert vm_object_pages(m) == before, "the VM object was not reused: the test proves nothing"
    assert re.search(r"^\[second\] ", m.output, re.M), m.output[-3000:]  # not muted
    assert "muted: none" in serial_command(m, "mute", 60)
    assert vm_switch_ibpbs(m) == 2, m.output[-3000:]
    assert "panic" not in m.output


@pytest.mark.bochs
def test_spec_ctrl_is_the_guests_own(boot, tmp_path):
    cfg = tmp_path / "spec.cfg"
    cfg.write_text(SWITCH_CFG)
    m = boot("bochs", cpus=1, iso=build_config_iso(cfg), extra=TIGERLAKE)
    wait_for(m, r"^\[sb\] hostile: spec-ctrl 0x1 kept over 200 yields$", 200)
    wait_for(m, r"^\[sa\] hostile: spec-ctrl 0x6 kept over 200 yields$", 200)
    wait_for(m, r"^vm sb: stopped itself \(code 0\)$", 60)
    out = m.output
    assert re.search(r"^spec: .*eibrs", out, re.M), out  # root mode sets IBRS
    for vm in ("sa", "sb"):
        assert re.search(rf"^\[{vm}\] hostile: spec-ctrl: CPUID.7.0:EDX 0x{GUEST_EDX:x}$", out,
                         re.M), out
        # RDCL_NO IBRS_ALL RSBA SKIP_L1DFL_VMENTRY SSB_NO, as the host's.
        assert re.search(rf"^\[{vm}\] hostile: spec-ctrl: IA32_ARCH_CAPABILITIES 0x1f$", out,
                         re.M), out
    # sa still runs with 0x6 on CPU 0, taking an exit per yield; the console
    # runs on CPU 0 between them.
    lines = spec_lines(m)
    now = re.search(r"^spec: IA32_SPEC_CTRL on cpu 0 now 0x(\w+) \(root mode's 0x(\w+)\)$",
                    lines, re.M)
    assert now and now.group(1) == now.group(2) == "1", lines
    assert re.search(rf"^spec: guests see CPUID.7.0:EDX 0x{GUEST_EDX:x}, .*IA32_SPEC_CTRL "
                     r"bits 0x7, IBPB yes, L1D flush yes, IA32_ARCH_CAPABILITIES 0x1f$",
                     lines, re.M), lines
    start = len(m.output)
    m.send("destroy sa\r")
    wait_for(m, r"^vm sa: (destroyed|stopped)", 60, start)
    no_breach(m.output)
    assert "panic" not in m.output


def test_spec_ctrl_not_offered_without_the_cpus(boot, backend):
    cmd = "console=com1 loglevel=info panic=poweroff vm=s,hostile64.elf,mem=4M,cpu=1," \
          "cmdline=attack=spec-ctrl"
    m = boot(BACKEND_EMU[backend], cpus=2, cmdline=cmd)
    wait_for(m, r"^vm s: (stopped|crashed)", 150)
    out = m.output
    assert re.search(r"^\[s\] hostile: spec-ctrl: no IBRS/IBPB in CPUID.7.0:EDX$", out, re.M), out
    assert re.search(r"^\[s\] hostile: survived spec-ctrl$", out, re.M), out
    no_breach(out)
    lines = spec_lines(m)
    assert re.search(r"^spec: guests see CPUID.7.0:EDX 0x0, CPUID.80000008H:EBX 0x0; "
                     r"IA32_SPEC_CTRL bits 0x0, IBPB no, L1D flush no, "
                     r"IA32_ARCH_CAPABILITIES none$", lines, re.M), lines
    # Bochs' Skylake-X has no such MSR; QEMU TCG reads it as 0 without
    # enumerating it (nothing written it there: not enumerated).
    assert re.search(r"^spec: (this CPU has no IA32_SPEC_CTRL|IA32_SPEC_CTRL on cpu 0 now 0x0 "
                     r"\(root mode's 0x0\))$", lines, re.M), lines


LINUX_CFG = """\
# test_linux_uses_its_own_controls: Debian's Linux with its mitigations on.
[vm linux]
protocol = linux
kernel = bzImage
initrd = initrd.gz
cmdline = "console=ttyS0"
memory = 256M
cpus = [1]
autostart = true
"""


@pytest.mark.bochs
def test_linux_uses_its_own_controls(boot, tmp_path):
    """Debian's Linux on the Tiger Lake model (mitigations on, unlike the
    other Linux tests) picks enhanced IBRS and conditional IBPB from what it
    is shown, and its dmesg stays clean: no XSAVE warning either (Bochs
    describes PKRU with an empty CPUID.(0xD,9), which the guest is given
    with the architectural layout: vcpu/cpuid.c)."""
    linux = REPO / "build" / "linux"
    if not (linux / "bzImage").is_file():
        pytest.fail(f"{linux}/bzImage missing: run scripts/build-linux-guest.sh")
    cfg = tmp_path / "linux-spec.cfg"
    cfg.write_text(LINUX_CFG)
    m = boot("bochs", cpus=2, mem=512, iso=build_config_iso(cfg, search=(GUESTS, linux)),
             extra=TIGERLAKE, timeout=1500)
    wait_for(m, READY, BOOT_TIMEOUT)
    attach(m)
    found = shell(m, "cat /sys/devices/system/cpu/vulnerabilities/spectre_v2; echo V2-DONE",
                  r"^(.*)\s*^V2-DONE", 120)
    assert "Mitigation: Enhanced / Automatic IBRS; IBPB: conditional" in found.group(1), \
        m.output[-3000:]
    found = shell(m, "dmesg | grep -o 'context size is [0-9]* bytes'; echo FPU-DONE",
                  r"^(context size is \d+ bytes)\s*^FPU-DONE", 120)
    assert found.group(1) == "context size is 2696 bytes", m.output[-3000:]  # with PKRU
    found = shell(m, f"dmesg | grep -cE '{BAD_DMESG}|misordered xstate|XSAVE consistency'; echo DMESG-DONE",
                  r"^(\d+)\s*$\s*^DMESG-DONE", 120)
    assert found.group(1) == "0", m.output[-3000:]
    m.send("\x1d")
    wait_for(m, r"console: detached", 60)
    lines = spec_lines(m)
    assert re.search(r"^spec: IA32_SPEC_CTRL on cpu 0 now 0x1 \(root mode's 0x1\)$", lines,
                     re.M), lines
    assert "panic" not in m.output
