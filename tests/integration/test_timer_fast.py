"""A guest's TSC-deadline timer cycle (WRMSR IA32_TSC_DEADLINE, the
interrupt, the x2APIC EOI) in a VM with the platform: the run loop's fast
path for those exits (vcpu/exit_fast.c) keeps the local APIC's behaviour and
costs less than the full path. Bochs' TSC counts emulated instructions, so
the cost bound is an instruction count that repeats exactly, not a time."""

import re

import pytest

from conftest import BASE_CMDLINE
from test_realtime import wait_for

pytestmark = pytest.mark.bochs

CHECKS = ("past-deadline", "future-deadline", "eoi-next", "masked-window")


def test_timer_fast_path_keeps_the_lapic_behaviour(boot):
    # CPU 1: no console bound on the guest's run, no other VM; only the
    # hypervisor's own timer for the deadline can make the vCPU exit.
    cmd = (f"{BASE_CMDLINE} vm=chk,platform-bench.elf,mem=4M,cpu=1,platform=pc,"
           "cmdline=mode=check")
    m = boot("bochs", cpus=2, cmdline=cmd)
    wait_for(m, r"^\[chk\] platform-bench: done", 200)
    out = m.output
    assert "FAIL" not in out, out[-3000:]
    for name in CHECKS:
        assert re.search(rf"^\[chk\] platform-bench: check {name}: PASS", out, re.M), out[-3000:]
    assert "panic" not in out


def test_timer_cycle_takes_the_fast_path(boot):
    cmd = (f"{BASE_CMDLINE} vm=p,platform-bench.elf,mem=4M,cpu=0,platform=pc,"
           "cmdline=iters=2000")
    m = boot("bochs", cpus=1, cmdline=cmd)
    r = wait_for(m, r"^\[p\] platform-bench: tscdeadline (\d+) cycles/exit", 200)
    # Through the full run loop a cycle costs about 3,100 instructions;
    # the fast path about 1,800.
    assert int(r.group(1)) < 2500, m.output[-3000:]
