"""Debian's Linux with several vCPUs (issue 13, SMP guests): it brings up
every vCPU (INIT-SIPI-SIPI through its vLAPIC), `nproc` matches, a
parallel workload runs on all of them (each CPU's /proc/stat counters
move), and `poweroff -f` ends in ACPI S5. The 2-vCPU case runs in `make
test`; the 4-vCPU one and CPU hotplug (a vCPU taken offline and online
again through /sys/devices/system/cpu/cpuN/online) take minutes more and
run in `make test-slow` (BULKHEAD_SLOW=1). Linux boots take 75+ s per CPU
count in Bochs: see docs/testing.md for the times measured."""

import os
import re
import subprocess
import time

import pytest

from conftest import REPO
from test_linux import BAD_DMESG, BOOT_TIMEOUT, READY, attach, shell, wait_for

pytestmark = pytest.mark.bochs

LINUX = REPO / "build" / "linux"
MKISO = REPO / "scripts" / "mkiso.sh"
# Slow (minutes): run by `make test-slow` (BULKHEAD_SLOW=1); elsewhere
# deselected by conftest.py, so `make test` neither runs nor counts it.
slow = pytest.mark.slow


def linux_smp_boot(boot, tmp_path, vcpus, cpus, machine_cpus=2):
    for f in ("bzImage", "initrd.gz"):
        if not (LINUX / f).is_file():
            pytest.fail(f"{LINUX / f} missing: run scripts/build-linux-guest.sh")
    cfg = tmp_path / "linux-smp.cfg"
    cfg.write_text(f"""[global]
loglevel = info
[vm linux]
protocol = linux
kernel = bzImage
initrd = initrd.gz
cmdline = "console=ttyS0 mitigations=off"
memory = 256M
vcpus = {vcpus}
cpus = {cpus}
autostart = true
""")
    iso = tmp_path / "linux-smp.iso"
    r = subprocess.run([str(MKISO), "--config", str(cfg), "--out", str(iso),
                        "--module", str(LINUX / "bzImage"), "--module", str(LINUX / "initrd.gz")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout
    m = boot("bochs", cpus=machine_cpus, iso=iso, mem=512, cmdline="console=com1 loglevel=info",
             timeout=2400)
    t0 = time.monotonic()
    wait_for(m, READY, BOOT_TIMEOUT * 2)
    took = time.monotonic() - t0
    print(f"linux-smp: {vcpus} vcpus on cpus {cpus} of {machine_cpus}: ready after {took:.0f} s")
    out = m.output
    assert re.search(rf"smp: Brought up 1 node, {vcpus} CPUs", out), out[-6000:]
    for bad in re.finditer(rf"^\[linux\] .*(?:{BAD_DMESG}).*$", out, re.M):
        pytest.fail(f"bad kernel message: {bad.group(0)}")
    time.sleep(3)
    attach(m)
    return m


def nproc(m):
    found = shell(m, "nproc; echo NPROC-DONE", r"^(\d+)\s*$\s*^NPROC-DONE", 180)
    return int(found.group(1))


def cpu_ticks(m):
    """Per-CPU busy ticks (user + nice + system) from /proc/stat."""
    found = shell(m, "grep '^cpu[0-9]' /proc/stat; echo STAT-DONE",
                  r"((?:^cpu\d+( \d+)+\s*$\s*)+)^STAT-DONE", 180)
    ticks = {}
    for row in found.group(1).strip().splitlines():
        f = row.split()
        ticks[int(f[0][3:])] = int(f[1]) + int(f[2]) + int(f[3])
    return ticks


def parallel_load(m, vcpus):
    """One busybox shell loop per vCPU (twice as many, so none idles): each
    CPU's busy ticks must move."""
    before = cpu_ticks(m)
    loops = 2 * vcpus
    shell(m, f"for i in $(seq {loops}); do (n=0; while [ $n -lt 4000 ]; do n=$((n+1)); done) & "
             "done; wait; echo LOAD-DONE", r"^LOAD-DONE", 900)
    after = cpu_ticks(m)
    assert sorted(after) == list(range(vcpus)), after
    moved = {c: after[c] - before.get(c, 0) for c in after}
    assert all(d >= 5 for d in moved.values()), (before, after)
    return moved


def dmesg_clean(m):
    found = shell(m, f"dmesg | grep -cE '{BAD_DMESG}'; echo DMESG-DONE",
                  r"^(\d+)\s*$\s*^DMESG-DONE", 180)
    assert found.group(1) == "0", m.output[-4000:]


def power_off(m):
    mark = len(m.output)
    m.send("poweroff -f\r")
    wait_for(m, r"^vm linux: powered off by the guest \(ACPI S5\)", 300, start=mark)
    assert "bulkhead: panic" not in m.output


def test_linux_two_vcpus(boot, tmp_path):
    # The BSP on CPU 1, the AP on CPU 0 (the console's CPU). The BSP on
    # CPU 0: test_linux_bsp_on_console_cpu (slow).
    m = linux_smp_boot(boot, tmp_path, 2, "[1, 0]")
    assert nproc(m) == 2
    print(f"linux-smp: busy ticks per cpu under load: {parallel_load(m, 2)}")
    dmesg_clean(m)
    power_off(m)


@slow
def test_linux_four_vcpus_and_hotplug(boot, tmp_path):
    # Four vCPUs on four CPUs (Bochs with 4). Two per CPU: the test below.
    m = linux_smp_boot(boot, tmp_path, 4, "[1, 2, 3, 0]", machine_cpus=4)
    assert nproc(m) == 4
    print(f"linux-smp: busy ticks per cpu under load: {parallel_load(m, 4)}")
    # CPU 3 offline (Linux parks it halted), then online (INIT-SIPI-SIPI to
    # a vCPU that is running its halt loop).
    shell(m, "echo 0 > /sys/devices/system/cpu/cpu3/online; cat /sys/devices/system/cpu/online;"
             " echo OFF-DONE", r"^0-2\s*$\s*^OFF-DONE", 300)
    assert nproc(m) == 3
    shell(m, "echo 1 > /sys/devices/system/cpu/cpu3/online; cat /sys/devices/system/cpu/online;"
             " echo ON-DONE", r"^0-3\s*$\s*^ON-DONE", 300)
    assert nproc(m) == 4
    parallel_load(m, 4)  # the returned CPU works again
    dmesg_clean(m)
    power_off(m)


@slow
def test_linux_four_vcpus_on_two_cpus(boot, tmp_path):
    # Two vCPUs per CPU (the BSP and vCPU 2 on CPU 1, vCPUs 1 and 3 on
    # CPU 0). Linux's TSC synchronisation check spins with interrupts off
    # on one vCPU for another that shares its CPU: PAUSE-loop exiting makes
    # the spinner give way at once, so the check passes and no clocksource
    # is marked unstable (linux_smp_boot fails on that line).
    m = linux_smp_boot(boot, tmp_path, 4, "[1, 0, 1, 0]")
    assert nproc(m) == 4
    print(f"linux-smp: busy ticks per cpu under load: {parallel_load(m, 4)}")
    dmesg_clean(m)
    power_off(m)


@slow
def test_linux_bsp_on_console_cpu(boot, tmp_path):
    # The BSP on CPU 0, which also drains every VM's console output to the
    # serial port, while the boot prints a lot: its ticks must still arrive
    # in time, so the clocksource watchdog keeps the TSC (linux_smp_boot
    # fails on any "clocksource ... unstable" line).
    m = linux_smp_boot(boot, tmp_path, 2, "[0, 1]")
    assert nproc(m) == 2
    dmesg_clean(m)
    power_off(m)
    # The cause, measured on the hypervisor's side: while the console waited
    # for the UART, a turn writing the boot's output held CPU 0 for up to
    # ~31,000 us (a tick is 4,000 us); queued, well under 2,000 us. Unlike
    # the watchdog's verdict (about one boot in three before), this fails
    # every time the console holds CPU 0 that long.
    wait_for(m, r"^console: the VM stopped; detached", 120)
    mark = len(m.output)
    m.send("cpus\r")
    found = wait_for(m, r"^console output: (\d+) bytes in \d+ turns on cpu 0, \d+ us, "
                        r"longest turn (\d+) us \((.*)\)$", 60, start=mark)
    print(f"linux-smp: {found.group(0)}")
    assert found.group(3) == "queued for the UART interrupt", found.group(0)
    assert int(found.group(1)) > 10000 and int(found.group(2)) < 2000, found.group(0)
