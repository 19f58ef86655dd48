"""Virtual-interrupt delivery and EOI virtualization on VMX (vmx/vmx_apicv.c):
the same TSC-deadline timer guest with `vmx.apicv=on` (the default) and
`vmx.apicv=off`, its local APIC in x2APIC mode (MSRs) or in xAPIC mode (the
MMIO page at 0xFEE00000, apic=xapic). With it, a timer cycle exits only for
its WRMSR IA32_TSC_DEADLINE: the interrupt is delivered by the CPU when the
guest sets IF (no interrupt-window exit) and the EOI is virtualized (no
WRMSR exit in x2APIC mode; in xAPIC mode no EPT violation, the window being
an APIC-access page); without it, each cycle takes all three exits. The
guest's own local APIC checks (mode=check, with a level-triggered vIOAPIC
pin whose EOIs must reach the vIOAPIC) pass either way, and in xAPIC mode
the window follows the APIC's mode, enable bit and base (mode=window)."""

import re

import pytest

from conftest import BACKEND_EMU, BASE_CMDLINE
from test_realtime import wait_for

ITERS = 2000


def exit_counts(m, vm):
    start = len(m.output)
    m.send(f"stats {vm}\r")
    wait_for(m, r"^  exit reason\s+count", 60, start)
    wait_for(m, r"^bulkhead> ", 30, start + 1)
    counts = {}
    for name, count in re.findall(r"^  ([A-Z_]+)\s+(\d+)\s+\d+\s*$", m.output[start:], re.M):
        counts[name] = int(count)
    return counts


@pytest.mark.bochs
@pytest.mark.parametrize("apic", ["x2apic", "xapic"])
@pytest.mark.parametrize("apicv", ["on", "off"])
def test_apicv_timer_cycle_exits(boot, apicv, apic):
    cmd = (f'{BASE_CMDLINE} vmx.apicv={apicv} "vm=p,platform-bench.elf,mem=4M,cpu=0,'
           f'platform=pc,cmdline=iters={ITERS} apic={apic}"')
    m = boot("bochs", cpus=1, cmdline=cmd)
    wait_for(m, r"^\[p\] platform-bench: tscdeadline (\d+) cycles/exit", 300)
    wait_for(m, r"^bulkhead> ", 60)
    c = exit_counts(m, "p")
    out = m.output
    assert "panic" not in out
    msr, window = c.get("MSR_WRITE", 0), c.get("INTERRUPT_WINDOW", 0)
    ept = c.get("EPT_VIOLATION", 0)
    if apicv == "on":
        # One WRMSR exit per cycle (the deadline); neither window nor EOI.
        assert ITERS <= msr < ITERS + 100, c
        assert window < 10, c
        assert ept < 50, c  # the xAPIC EOI is virtualized too
        assert c.get("APIC_ACCESS", 0) < 50, c
    elif apic == "x2apic":
        assert msr >= 2 * ITERS, c
        assert window >= ITERS, c
    else:
        # The EOI is an MMIO write: an EPT violation in the window.
        assert msr >= ITERS, c
        assert window >= ITERS, c
        assert ept >= ITERS, c


@pytest.mark.bochs
@pytest.mark.parametrize("apic", ["x2apic", "xapic"])
@pytest.mark.parametrize("apicv", ["on", "off"])
def test_apicv_keeps_the_lapic_behaviour(boot, apicv, apic):
    cmd = (f'{BASE_CMDLINE} vmx.apicv={apicv} "vm=chk,platform-bench.elf,mem=4M,cpu=1,'
           f'platform=pc,cmdline=mode=check apic={apic}"')
    m = boot("bochs", cpus=2, cmdline=cmd)
    wait_for(m, r"^\[chk\] platform-bench: done", 200)
    out = m.output
    assert "FAIL" not in out, out[-3000:]
    for name in ("past-deadline", "future-deadline", "eoi-next", "masked-window", "tpr-masks",
                 "level-eoi"):
        assert re.search(rf"^\[chk\] platform-bench: check {name}: PASS", out, re.M), out[-3000:]
    assert "panic" not in out
    # The level-triggered vector's EOIs exit (EOI-exit bitmap), the edge
    # ones do not; without the feature no such exit exists.
    wait_for(m, r"^bulkhead> ", 60)
    eoi_exits = exit_counts(m, "chk").get("EOI_INDUCED", 0)
    if apicv == "on":
        assert eoi_exits == 2, eoi_exits
    else:
        assert eoi_exits == 0, eoi_exits


@pytest.mark.bochs
@pytest.mark.parametrize("apicv", ["on", "off"])
def test_apicv_xapic_window_follows_the_apic(boot, apicv):
    """The bad cases: the guest switches to x2APIC mode and back, disables
    its APIC and moves its base while its window is an APIC-access page;
    the window must read as the vLAPIC says at every step (no stale
    mapping of the page, no stale virtualization)."""
    cmd = (f'{BASE_CMDLINE} vmx.apicv={apicv} "vm=win,platform-bench.elf,mem=4M,cpu=1,'
           'platform=pc,cmdline=mode=window apic=xapic"')
    m = boot("bochs", cpus=2, cmdline=cmd)
    wait_for(m, r"^\[win\] platform-bench: done", 200)
    out = m.output
    assert "FAIL" not in out, out[-3000:]
    for name in ("xapic", "x2apic-hides-window", "disabled-hides-window", "xapic-again",
                 "moved-window"):
        assert re.search(rf"^\[win\] platform-bench: check {name}: PASS", out, re.M), out[-3000:]
    assert "panic" not in out
    wait_for(m, r"^bulkhead> ", 60)
    c = exit_counts(m, "win")
    if apicv == "on":
        # The TPR writes and reads at 0xFEE00080 in xAPIC mode were
        # virtualized: only the other accesses exit, as APIC accesses.
        assert c.get("APIC_ACCESS", 0) > 0, c
    else:
        assert c.get("APIC_ACCESS", 0) == 0, c


@pytest.mark.bochs
@pytest.mark.parametrize("apicv", ["on", "off"])
def test_apicv_xapic_event_delivery_stops_the_vm(boot, apicv):
    """The hostile guest's IDT at 0xFEE00000 in a VM with the platform: the
    #AC's delivery reads its gate from the xAPIC window. With the window an
    APIC-access page that read is an APIC-access exit during event delivery
    (not an EPT violation): the VM stops with the same message as before,
    nothing is emulated into the page, the hypervisor goes on."""
    cmd = (f"{BASE_CMDLINE} vmx.apicv={apicv} vm=sp,spin.elf,mem=4M,cpu=1,cmdline=name=sp "
           "vm=x,hostile.elf,mem=4M,cpu=0,platform=pc,cmdline=attack=idt-mmio")
    m = boot("bochs", cpus=2, cmdline=cmd)
    wait_for(m, r"^error: vm x: crashed: event delivery \(vector 17\) touched MMIO 0xfee00088$",
             150)
    wait_for(m, r"^bulkhead> ", 60)
    c = exit_counts(m, "x")
    if apicv == "on":
        assert c.get("APIC_ACCESS", 0) == 1 and c.get("EPT_VIOLATION", 0) == 0, c
    else:
        assert c.get("APIC_ACCESS", 0) == 0 and c.get("EPT_VIOLATION", 0) == 1, c
    assert "lapic window access" not in m.output
    mark = len(m.output)
    wait_for(m, r"^\[sp\] spin sp: \d+$", 120, mark)
    assert "panic" not in m.output


@pytest.mark.parametrize("case", [pytest.param("vmx-on", marks=pytest.mark.bochs),
                                  pytest.param("vmx-off", marks=pytest.mark.bochs),
                                  pytest.param("svm", marks=pytest.mark.qemu_svm)])
def test_apic_access_page_only_where_delivery_uses_it(boot, case):
    """A VM with the platform gets its 4 KiB APIC-access page (`mem` names
    its owner) only where xAPIC-mode delivery can use it: VMX with
    vmx.apicv=on, not with it off and not under SVM."""
    opt = {"vmx-on": " vmx.apicv=on", "vmx-off": " vmx.apicv=off", "svm": ""}[case]
    cmd = f"{BASE_CMDLINE}{opt} vm=p,spin.elf,mem=4M,cpu=1,platform=pc,cmdline=name=p"
    m = boot(BACKEND_EMU["svm" if case == "svm" else "vmx"], cpus=2, cmdline=cmd)
    wait_for(m, r"^\[p\] spin p: \d+$", 150)
    start = len(m.output)
    m.send("mem\r")
    wait_for(m, r"^physical memory: ", 60, start)
    wait_for(m, r"^bulkhead> ", 30, start + 1)
    owners = re.findall(r"^  [0-9a-f]{16}-[0-9a-f]{16} +\d+ [KM]iB  (.+)$", m.output[start:], re.M)
    assert owners, m.output[start:]
    assert ("apic-access page" in owners) == (case == "vmx-on"), owners
    assert "panic" not in m.output
