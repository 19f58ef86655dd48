#!/usr/bin/python3
"""make bench: figures, never pass/fail (timings belong in benchmarks, not
tests). Bochs' TSC counts emulated instructions, so the exit-path figures
are instruction counts that repeat exactly from run to run.

  1. cpuid-bench under Bulkhead: TSC ticks per CPUID exit and per VMCALL
     (`bench.py cpuid` alone, or `bench.py cpuid:100000` for a quicker run).
  1b. cpuid-bench under SVM in QEMU TCG (`bench.py cpuid-svm`): CPUID and
     VMMCALL round trips in wall-clock nanoseconds next to a bare loop of
     the same run (QEMU's TSC is the host's clock, not an instruction count).
  2. platform-bench in a VM with the whole platform: CPUID, VMCALL, a
     PM-timer read and one TSC-deadline timer cycle, the last also on the
     bare machine and in a real-time partition (`bench.py platform` or
     `platform:N`).
     `bench.py rt`: the timer-interrupt latency of a real-time partition and
     of the same guest without `realtime`, while a spin VM loads CPU 0.
  3. Debian's Linux to its ready marker, bare in Bochs and under Bulkhead:
     wall seconds, the guest's uptime at the marker (time since its kernel
     started) in seconds and TSC ticks, and Bulkhead's exit counts by reason
     during that boot.
  4. http-api-rps and tcp-console-rtt under QEMU (scripts/bench_net.py).
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


def platform_iso(args="", name="bench-bare-platform"):
    """platform-bench.elf booted by GRUB on the bare (emulated) machine."""
    iso = BUILD / f"{name}.iso"
    with tempfile.TemporaryDirectory() as d:
        boot = Path(d) / "boot"
        (boot / "grub").mkdir(parents=True)
        shutil.copy(BUILD / "guests" / "platform-bench.elf", boot / "platform-bench.elf")
        (boot / "grub" / "grub.cfg").write_text(
            "serial --unit=0 --speed=115200\nterminal_input serial\nterminal_output serial\n"
            "set timeout=0\nmenuentry bench {\n"
            f"  multiboot2 /boot/platform-bench.elf iters=10000 {args}\n  boot\n}}\n")
        subprocess.run(["grub-mkrescue", "-o", str(iso), d], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return iso


def platform_bench(iters=100000):
    """Exit costs in a VM with the whole platform (platform-bench guest), and
    one TSC-deadline timer cycle on the bare machine for comparison."""
    cmd = (f"console=com1 loglevel=warn vm=p,platform-bench.elf,mem=4M,cpu=0,platform=pc,"
           f"cmdline=iters={iters}")
    pat = r"platform-bench: {} (\d+) cycles/exit"
    with emu.Machine(emu="bochs", cpus=1, iso=BUILD / "test.iso", cmdline=cmd, timeout=900) as m:
        got = {w: m.expect(pat.format(w), 600).group(1)
               for w in ("cpuid", "vmcall", "pmtimer", "tscdeadline")}
    with emu.Machine(emu="bochs", cpus=1, iso=platform_iso(), timeout=600) as m:
        bare = m.expect(pat.format("tscdeadline-bare"), 500).group(1)
    # The same cycle in a real-time partition (its own local APIC: no exit).
    cmd = (f"console=com1 loglevel=warn vm=p,platform-bench.elf,mem=4M,cpu=1,platform=pc,"
           f"realtime=1,cmdline=iters={iters}")
    with emu.Machine(emu="bochs", cpus=2, iso=BUILD / "test.iso", cmdline=cmd, timeout=900) as m:
        rt = m.expect(pat.format("tscdeadline"), 600).group(1)
    # The cycle in xAPIC mode (EOI by MMIO write: an APIC-access page with
    # vmx.apicv=on), beside the bare machine in xAPIC mode.
    cmd = (f'console=com1 loglevel=warn "vm=p,platform-bench.elf,mem=4M,cpu=0,platform=pc,'
           f'cmdline=iters={iters} apic=xapic"')
    with emu.Machine(emu="bochs", cpus=1, iso=BUILD / "test.iso", cmdline=cmd, timeout=900) as m:
        xapic = m.expect(pat.format("tscdeadline"), 600).group(1)
    with emu.Machine(emu="bochs", cpus=1, iso=platform_iso("apic=xapic", "bench-bare-xapic"),
                     timeout=600) as m:
        bare_xapic = m.expect(pat.format("tscdeadline-bare"), 500).group(1)
    say(f"bench: cpuid-exit-platform: {got['cpuid']}")
    say(f"bench: vmcall-exit-platform: {got['vmcall']}")
    say(f"bench: pmtimer-read-platform: {got['pmtimer']}")
    say(f"bench: tscdeadline-cycle-platform: {got['tscdeadline']} (bare: {bare}, "
        f"realtime: {rt})")
    say(f"bench: tscdeadline-cycle-platform-xapic: {xapic} (bare: {bare_xapic})")


def rt_latency():
    """Timer-interrupt latency (TSC at the handler minus the deadline) of the
    platform-bench rt guest on CPU 1, with and without `realtime`, while a
    spin VM loads CPU 0."""
    got = {}
    for rt in (1, 0):
        cmd = (f"console=com1 loglevel=warn vm=rt,platform-bench.elf,mem=4M,cpu=1,platform=pc,"
               f"realtime={rt},cmdline=mode=rt vm=load,spin.elf,mem=4M,cpu=0")
        with emu.Machine(emu="bochs", cpus=2, iso=BUILD / "test.iso", cmdline=cmd,
                         timeout=900) as m:
            r = m.expect(r"rt-bench: latency min (\d+) median (\d+) max (\d+)", 800)
        got[rt] = f"min {r.group(1)} median {r.group(2)} max {r.group(3)}"
    say(f"bench: rt-latency: {got[1]} (no realtime: {got[0]})")


def cpuid_bench_svm(iters=200000):
    """The same guest under SVM in QEMU TCG. QEMU's TSC is the host's wall
    clock (not an instruction count): ticks become nanoseconds with the
    hypervisor's own calibration (`tsc: N kHz`), and the bare loop from the
    same run shows what the loop costs without an exit."""
    cmd = f"console=com1 loglevel=info vm=b,cpuid-bench.elf,mem=4M,cpu=0,cmdline=iters={iters}"
    with emu.Machine(emu="qemu-svm", cpus=2, iso=BUILD / "test.iso", cmdline=cmd,
                     timeout=900) as m:
        khz = int(m.expect(r"^tsc: (\d+) kHz", 120).group(1))
        c = int(m.expect(r"cpuid-bench: cpuid (\d+) cycles/exit", 800).group(1))
        v = int(m.expect(r"cpuid-bench: vmmcall (\d+) cycles/exit", 300).group(1))
        b = int(m.expect(r"cpuid-bench: bare (\d+) cycles/iteration", 300).group(1))

    def ns(ticks):
        return f"{ticks * 1_000_000 / khz:.1f}"

    say(f"bench: cpuid-exit-svm: {ns(c)} ns (bare loop: {ns(b)} ns)")
    say(f"bench: vmmcall-exit-svm: {ns(v)} ns (bare loop: {ns(b)} ns)")
    say(f"bench: svm: QEMU TCG wall clock, TSC {khz} kHz, {iters} iterations each")


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
    which = sys.argv[1:] or ["cpuid", "cpuid-svm", "platform", "rt", "linux-bare", "linux-bulkhead",
                             "http-api-rps", "tcp-console-rtt"]
    for name in which:
        # `cpuid:N`: N iterations instead of a million (quicker; the figure
        # is the same to a tick or so, as Bochs' TSC counts instructions).
        name, _, n = name.partition(":")
        fn = {"cpuid": cpuid_bench, "cpuid-svm": cpuid_bench_svm, "platform": platform_bench,
              "rt": rt_latency, "linux-bare": linux_bare,
              "linux-bulkhead": linux_bulkhead, "http-api-rps": bench_net.http_api_rps,
              "tcp-console-rtt": bench_net.tcp_console_rtt}[name]
        fn(int(n)) if n else fn()


if __name__ == "__main__":
    main()
