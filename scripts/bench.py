#!/usr/bin/python3
"""make bench: figures, never pass/fail (timings belong in benchmarks, not
tests). Bochs' TSC counts emulated instructions, so the exit-path figures
are instruction counts that repeat exactly from run to run.

  1. cpuid-bench under Bulkhead: TSC ticks per CPUID exit and per VMCALL
     (`bench.py cpuid` alone, or `bench.py cpuid:100000` for a quicker run).
  2. Debian's Linux to its ready marker, bare in Bochs and under Bulkhead:
     wall seconds, the guest's uptime at the marker (time since its kernel
     started) in seconds and TSC ticks, and Bulkhead's exit counts by reason
     during that boot.
  3. http-api-rps and tcp-console-rtt under QEMU (scripts/bench_net.py).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import emu  # noqa: E402
import bench_net  # noqa: E402  (http-api-rps, tcp-console-rtt: QEMU)

BUILD = ROOT / "build"
READY = r"BULKHEAD-LINUX-READY"
TSC_HZ = 100_000_000  # Bochs ips=100000000: one tick per emulated instruction


def say(msg):
    print(msg, flush=True)


def cpuid_bench(iters=1000000):
    cmd = f"console=com1 loglevel=warn vm=b,cpuid-bench.elf,mem=4M,cpu=0,platform=none,cmdline=iters={iters}"
    with emu.Machine(emu="bochs", cpus=1, iso=BUILD / "test.iso", cmdline=cmd, timeout=900) as m:
        c = m.expect(r"cpuid-bench: cpuid (\d+) cycles/exit over (\d+) iterations", 800)
        v = m.expect(r"cpuid-bench: vmcall (\d+) cycles/exit over (\d+) iterations", 300)
    say(f"bench: cpuid-exit: {c.group(1)} TSC ticks per CPUID exit round trip "
        f"(Bochs: emulated instructions; {c.group(2)} iterations)")
    say(f"bench: vmcall-exit: {v.group(1)} TSC ticks per VMCALL round trip")


def uptime_after_ready(m, attach):
    if attach:
        m.send("console linux\r")
        m.expect(r"attached to linux", 60)
        time.sleep(1)
    m.send("cat /proc/uptime\r")
    up = float(m.expect(r"^(?:\[linux\] )?(\d+\.\d+) \d+\.\d+", 120).group(1))
    if attach:
        m.send("\x1d")
        m.expect(r"console: detached", 60)
    return up


def bare_iso():
    iso = BUILD / "bench-bare-linux.iso"
    with tempfile.TemporaryDirectory() as d:
        boot = Path(d) / "boot"
        (boot / "grub").mkdir(parents=True)
        shutil.copy(BUILD / "linux" / "bzImage", boot / "bzImage")
        shutil.copy(BUILD / "linux" / "initrd.gz", boot / "initrd.gz")
        (boot / "grub" / "grub.cfg").write_text(
            "serial --unit=0 --speed=115200\nterminal_input serial\nterminal_output serial\n"
            "set timeout=0\nmenuentry Linux {\n"
            "  linux /boot/bzImage console=ttyS0 mitigations=off tsc_early_khz=100000\n"
            "  initrd /boot/initrd.gz\n}\n")
        subprocess.run(["grub-mkrescue", "-o", str(iso), d], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return iso


def linux_bare():
    # Bare Linux in Bochs needs ignore_bad_msrs=1 (platform notes: MSR 0x1a0)
    # and tsc_early_khz (it mis-calibrates against Bochs' CPUID otherwise).
    orig = emu.bochsrc_text
    emu.bochsrc_text = lambda *a, **k: orig(*a, **k).replace("ignore_bad_msrs=0",
                                                               "ignore_bad_msrs=1")
    try:
        with emu.Machine(emu="bochs", cpus=1, mem=512, iso=bare_iso(), timeout=1200) as m:
            t0 = time.monotonic()
            m.expect(READY, 1100)
            wall = time.monotonic() - t0
            time.sleep(1)
            up = uptime_after_ready(m, attach=False)
    finally:
        emu.bochsrc_text = orig
    say(f"bench: linux-bare: {wall:.1f} s wall to the ready marker; guest uptime {up:.2f} s "
        f"= {int(up * TSC_HZ)} TSC ticks since its kernel started")


def linux_bulkhead():
    with emu.Machine(emu="bochs", cpus=2, mem=512, iso=BUILD / "linux-test.iso",
                     cmdline="console=com1 loglevel=warn", timeout=1200) as m:
        t0 = time.monotonic()
        m.expect(r"\[linux\] " + READY, 1100)
        wall = time.monotonic() - t0
        m.send("stats linux\r")
        m.expect(r"exit reason\s+count\s+cycles/exit", 60)
        time.sleep(3)
        stats = m.output[m.output.rfind("vm linux: time in guest"):]
        up = uptime_after_ready(m, attach=True)
    say(f"bench: linux-bulkhead: {wall:.1f} s wall to the ready marker (hypervisor boot "
        f"included); guest uptime {up:.2f} s = {int(up * TSC_HZ)} TSC ticks since its "
        "kernel started")
    say("bench: linux-bulkhead: exits during the boot, by reason:")
    for line in stats.splitlines()[:40]:
        if re.match(r"\s+\S+\s+\d+\s+\d+$", line) or "time in guest" in line:
            say("  " + line.strip())


def main():
    which = sys.argv[1:] or ["cpuid", "linux-bare", "linux-bulkhead", "http-api-rps",
                             "tcp-console-rtt"]
    for name in which:
        # `cpuid:N`: N iterations instead of a million (quicker; the figure
        # is the same to a tick or so, as Bochs' TSC counts instructions).
        name, _, n = name.partition(":")
        fn = {"cpuid": cpuid_bench, "linux-bare": linux_bare, "linux-bulkhead": linux_bulkhead,
              "http-api-rps": bench_net.http_api_rps,
              "tcp-console-rtt": bench_net.tcp_console_rtt}[name]
        fn(int(n)) if n else fn()


if __name__ == "__main__":
    main()
