"""Isolation attacks of the 64-bit hostile guest (tests/guests/hostile64):
FPU/SIMD state and CR8 across vCPU switches, and device models shared by
several vCPUs. Each fails on a BREACH line, a hypervisor panic, or a
neighbour VM that stopped making progress (see docs/test-guests.md)."""

import re
import time

import pytest

from conftest import BASE_CMDLINE, SCALE

pytestmark = pytest.mark.bochs


def vm(name, module, cpu, mem="4M", cmdline=None):
    spec = f"vm={name},{module},mem={mem},cpu={cpu}"
    return spec + (f",cmdline={cmdline}" if cmdline else "")


def lines(regex, text):
    return re.findall(regex, text, re.M)


def wait_for(m, regex, timeout, start=0):
    pat = re.compile(regex, re.M)
    end = time.monotonic() + timeout * SCALE
    while time.monotonic() < end:
        found = pat.search(m.output, start)
        if found:
            return found
        if not m.running:
            break
        time.sleep(0.2)
    raise AssertionError(f"{regex!r} not seen within {timeout}s; output:\n{m.output[-4000:]}")


def no_breach(out):
    assert not lines(r"hostile: BREACH", out), out
    assert "bulkhead: panic" not in out, out


def fill_rounds(out, name):
    return [int(n) for n in lines(rf"^\[{name}\] hostile: fill round (\d+)$", out)]


def neighbour_progresses(m, name, timeout=120):
    """The fill VM prints a round count every 2000 rounds: two more after now."""
    done = fill_rounds(m.output, name)
    last = done[-1] if done else 0
    wait_for(m, rf"^\[{name}\] hostile: fill round {last + 4000}$", timeout)


def test_attack_xmm_leak(boot):
    # The neighbour keeps XMM/YMM full of 0x5a5a5a5a on the same CPU; the
    # hostile VM, with XCR0 = 1 and then 7, must only ever see its own values.
    specs = [vm("fill", "hostile64.elf", 0, cmdline="attack=fill"),
             vm("leak", "hostile64.elf", 0, cmdline="attack=xmm-leak")]
    m = boot("bochs", cpus=1, cmdline=" ".join([BASE_CMDLINE] + specs))
    wait_for(m, r"^vm leak: stopped itself \(code 0\)$", 150)
    out = m.output
    assert lines(r"^\[leak\] hostile: xmm-leak xmm0-15 kept over \d+ yields$", out), out
    assert lines(r"^\[leak\] hostile: xmm-leak ymm0-15 kept over \d+ yields$", out), out
    assert lines(r"^\[leak\] hostile: survived xmm-leak$", out), out
    assert lines(r"^\[fill\] hostile: fill with 0x5a5a5a5a in ymm0-15", out), out
    neighbour_progresses(m, "fill")
    no_breach(m.output)


def test_attack_xcr0_shrink(boot):
    # XSETBV 7, dirty XMM, yield, XSETBV 1, yield: the next XRSTOR must not
    # fault in root mode, and the registers survive.
    specs = [vm("fill", "hostile64.elf", 0, cmdline="attack=fill"),
             vm("shrink", "hostile64.elf", 0, cmdline="attack=xcr0-shrink")]
    m = boot("bochs", cpus=1, cmdline=" ".join([BASE_CMDLINE] + specs))
    wait_for(m, r"^vm shrink: stopped itself \(code 0\)$", 150)
    out = m.output
    assert lines(r"^\[shrink\] hostile: xcr0-shrink 0x7 -> 1, \d+ rounds$", out), out
    assert lines(r"^\[shrink\] hostile: xcr0-shrink \d+ rounds, registers intact$", out), out
    assert lines(r"^\[shrink\] hostile: survived xcr0-shrink$", out), out
    neighbour_progresses(m, "fill")
    no_breach(m.output)
