"""Real-time partitions (docs/realtime.md): a realtime VM owns its CPU and
local APIC, takes no VM exit once started, and can still be destroyed."""

import re
import time

import pytest

from conftest import BASE_CMDLINE
from console_io import type_text

pytestmark = pytest.mark.bochs

RT = "vm=rt,platform-bench.elf,mem=4M,cpu=1,platform=pc,realtime=1,cmdline=mode=rt"
LOAD = "vm=load,spin.elf,mem=4M,cpu=0"


def guest_lines(m):
    """The guest's own lines and the hypervisor's complaints, for messages."""
    return "\n".join(re.findall(r"^.*(?:rt-bench: |rt-ticks: |device ticks|warning|error|ipi: ).*$",
                                m.output, re.M))


def wait_for(m, regex, timeout, start=0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = re.search(regex, m.output[start:], re.M)
        if found:
            return found
        if not m.running:
            break
        time.sleep(0.2)
    rt = guest_lines(m)
    raise AssertionError(f"{regex!r} not seen within {timeout}s; the guest's lines:\n{rt}\n"
                         f"output:\n{m.output[-4000:]}")


def rt_exits(m):
    start = len(m.output)
    m.send("stats rt\r")
    return int(wait_for(m, r"^\s*vcpu0 on cpu 1: (\d+) exits", 60, start).group(1))


RT_INPUT_CFG = """\
[vm rt]
kernel = platform-bench.elf
cmdline = "mode=rt input=1"
memory = 4M
cpus = [1]
cpu_policy = dedicated
realtime = true
platform = pc
autostart = true

[vm load]
kernel = spin.elf
memory = 4M
cpus = [0]
autostart = true
"""


def test_realtime_partition_takes_no_exits(boot, tmp_path):
    # First a line typed on its console: the vUART's receive interrupt
    # (vIOAPIC pin 4) reaches the guest as a physical IPI to the local APIC
    # it owns (vdev/virq.c rt_deliver); then its timer phase, exit-free.
    cfg = tmp_path / "rt.cfg"
    cfg.write_text(RT_INPUT_CFG)
    from test_config import build_config_iso
    m = boot("bochs", cpus=2, iso=build_config_iso(cfg))
    wait_for(m, r"^\[rt\] rt-bench: type a line", 150)
    start = len(m.output)
    m.send("console rt\r")
    wait_for(m, r"attached to rt", 60, start)
    time.sleep(1)
    type_text(m, "hello rt\r", per_step=1)
    r = wait_for(m, r"rt-bench: got line '(.*)' \((\d+) interrupts\)", 120, start)
    assert r.group(1) == "hello rt", m.output[start:]
    assert 1 <= int(r.group(2)) <= 20, m.output[start:]
    m.send("\x1d")
    wait_for(m, r"console: detached", 60, start)
    # Raw (no "[rt] ") when it came while still attached.
    wait_for(m, r"rt-bench: measuring", 150, start)
    time.sleep(1)  # the start-up line's own exits are over
    before = rt_exits(m)
    time.sleep(3)
    after = rt_exits(m)
    out = m.output
    # Both looks fell inside the silent 10 s period.
    assert not re.search(r"^\[rt\] rt-bench: latency", out, re.M), out[-3000:]
    assert after == before, f"{after - before} exits while measuring"
    r = wait_for(m, r"^\[rt\] rt-bench: latency min (\d+) median (\d+) max (\d+) "
                    r"over (\d+) interrupts", 200)
    assert int(r.group(4)) == 10000
    assert "panic" not in m.output


def test_realtime_partition_can_be_destroyed(boot):
    m = boot("bochs", cpus=2, cmdline=f"{BASE_CMDLINE} {RT}")
    wait_for(m, r"^\[rt\] rt-bench: measuring", 150)
    time.sleep(1)
    # Pausing would leave the guest's own timer firing into the host.
    start = len(m.output)
    m.send("suspend rt\r")
    wait_for(m, r"rt is a real-time VM and cannot be paused \(use destroy\)", 60, start)
    start = len(m.output)
    m.send("destroy rt\r")
    wait_for(m, r"^vm rt: destroyed", 60, start)
    # The vCPU left its CPU (the NMI made it exit) and the LAPIC is the
    # host's again: the VM starts anew on it and runs its timer again.
    start = len(m.output)
    m.send("start rt\r")
    wait_for(m, r"^\[rt\] rt-bench: measuring", 120, start)
    wait_for(m, r"^\[rt\] rt-bench: latency min \d+ median \d+ max \d+ over 10000", 200, start)
    assert "panic" not in m.output


def test_realtime_refused_on_cpu0(boot):
    bad = RT.replace("cpu=1", "cpu=0")
    m = boot("bochs", cpus=2, cmdline=f"{BASE_CMDLINE} {bad}")
    wait_for(m, r"realtime: CPU 0 runs the console", 150)
    assert "rt-bench: measuring" not in m.output


RT_TICKS_CFG = RT_INPUT_CFG.replace('cmdline = "mode=rt input=1"', 'cmdline = "mode=ticks"')


def rt_stats(m):
    """(exits of vcpu0, the device-ticks line's numbers) from `stats rt`."""
    start = len(m.output)
    m.send("stats rt\r")
    exits = int(wait_for(m, r"^\s*vcpu0 on cpu 1: (\d+) exits", 60, start).group(1))
    t = wait_for(m, r"device ticks on cpu 0: (\d+) timer runs \((\d+) retried, "
                    r"(\d+) armed by IPI, (\d+) deferred\); "
                    r"pit irq0 (\d+), (\d+) periods coalesced; "
                    r"rtc irq8 (\d+), (\d+) periods coalesced", 60, start)
    return exits, [int(x) for x in t.groups()]


def test_realtime_partition_gets_pit_and_rtc_ticks(boot, tmp_path):
    # The vPIT and RTC of a real-time VM are ticked by a host timer on
    # CPU 0 and reach the guest as IPIs (vdev/rt_ticks.c): rates counted
    # by the guest against the TSC, the PIT phase without a single exit.
    cfg = tmp_path / "rt.cfg"
    cfg.write_text(RT_TICKS_CFG)
    from test_config import build_config_iso
    m = boot("bochs", cpus=2, iso=build_config_iso(cfg))
    khz = int(wait_for(m, r"^\[rt\] rt-ticks: pit measuring \(tsc (\d+) kHz\)", 150).group(1))
    time.sleep(1)  # the start-up line's own exits are over
    before, t0 = rt_stats(m)
    time.sleep(3)
    after, t1 = rt_stats(m)
    assert not re.search(r"rt-ticks: pit \d+ irqs", m.output), m.output[-3000:]
    assert after == before, f"{after - before} exits while the PIT ticked"
    assert t1[4] > t0[4], (t0, t1)  # IRQ 0 was raised meanwhile, from CPU 0

    r = wait_for(m, r"^\[rt\] rt-ticks: pit (\d+) irqs in (\d+) tsc \((\d+) Hz\)", 120)
    assert int(r.group(1)) > 100 and 900 <= int(r.group(3)) <= 1100, r.group(0)
    r = wait_for(m, r"^\[rt\] rt-ticks: rtc (\d+) irqs in (\d+) tsc \((\d+) Hz\)", 120)
    assert int(r.group(1)) > 10 and 58 <= int(r.group(3)) <= 70, r.group(0)
    r = wait_for(m, r"^\[rt\] rt-ticks: pit one-shot after (\d+) tsc, (\d+) irqs", 60)
    ten_ms = khz * 10
    assert 0.9 * ten_ms <= int(r.group(1)) <= 1.5 * ten_ms, (r.group(0), khz)
    assert int(r.group(2)) == 1, r.group(0)  # mode 0: one edge, the output stays high
    r = wait_for(m, r"^\[rt\] rt-ticks: rtc update-ended (\d+) irqs, (\d+) tsc apart", 60)
    assert int(r.group(1)) == 2 and 0.95 * khz * 1000 <= int(r.group(2)) <= 1.05 * khz * 1000
    r = wait_for(m, r"^\[rt\] rt-ticks: rtc alarm after (\d+) tsc", 60)
    assert 0.9 * khz * 1000 <= int(r.group(1)) <= 2.2 * khz * 1000, r.group(0)

    # The bad case: a reload of 1 asks for 1.19 MHz. The console still
    # answers, and the guest gets ticks at the bounded rate, the rest
    # counted as coalesced.
    wait_for(m, r"^\[rt\] rt-ticks: pit divisor 1 running", 60)
    time.sleep(1)
    _, t2 = rt_stats(m)
    time.sleep(1)
    _, t3 = rt_stats(m)
    assert not re.search(r"rt-ticks: pit divisor 1: \d+", m.output), m.output[-3000:]
    assert t3[4] > t2[4] and t3[5] > t2[5] + 100 * (t3[4] - t2[4]), (t2, t3)
    r = wait_for(m, r"^\[rt\] rt-ticks: pit divisor 1: (\d+) irqs in (\d+) tsc \((\d+) Hz\)", 120)
    assert int(r.group(1)) > 100 and 200 <= int(r.group(3)) <= 5100, r.group(0)
    # The hostile case: each PIT write due earlier than the last. CPU 0 is
    # asked to arm its timer at most once per 100 us (the rest deferred to
    # that timer), and the console keeps answering.
    wait_for(m, r"^\[rt\] rt-ticks: storm in 2 s", 60)
    _, s0 = rt_stats(m)
    r = wait_for(m, r"^\[rt\] rt-ticks: storm (\d+) writes in (\d+) tsc", 120)
    _, s1 = rt_stats(m)
    writes, span = int(r.group(1)), int(r.group(2))
    arm_calls, deferred = s1[2] - s0[2], s1[3] - s0[3]
    print(f"storm: {writes} writes in {span} tsc: {arm_calls} arm calls, {deferred} deferred")
    assert deferred > 0 and arm_calls <= span // (khz // 10) + 20, (writes, span, s0, s1)
    # Nothing programmed any more: CPU 0 runs no timer for the VM.
    wait_for(m, r"^\[rt\] rt-ticks: idle", 60)
    time.sleep(1)
    _, t4 = rt_stats(m)
    time.sleep(1)
    _, t5 = rt_stats(m)
    assert not re.search(r"rt-ticks: done", m.output), m.output[-3000:]
    assert t5[0] == t4[0], (t4, t5)
    # The RTC handler's reads of C found the timer armed: far fewer IPI
    # calls to CPU 0 than RTC interrupts (only programming needs them).
    assert t5[6] > 250 and t5[2] < 60 + arm_calls, t5
    wait_for(m, r"^\[rt\] rt-ticks: done", 60)
    print(guest_lines(m))
    assert "rt-ticks: FAIL" not in m.output
    assert "panic" not in m.output
