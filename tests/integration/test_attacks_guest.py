"""Attacks of the hostile guest on guest-memory emulation and the VM
lifecycle (issue 10): each test fails on a BREACH line, a hypervisor panic,
or a neighbour VM that stopped making progress."""

import re
import time

import pytest

from conftest import BASE_CMDLINE
from test_vmx import lines, vm, wait_for

pytestmark = pytest.mark.bochs


def no_breach(out):
    assert not lines(r"hostile: BREACH", out), out
    assert "bulkhead: panic" not in out, out


def neighbour_progresses(m, name, timeout=120):
    """The spin VM `name` prints two more lines from now."""
    done = [int(n) for n in lines(rf"^\[{name}\] spin {name}: (\d+)$", m.output)]
    wait_for(m, rf"^\[{name}\] spin {name}: {(done[-1] if done else 0) + 2}$", timeout)


def test_attack_ins_ro(boot):
    """rep insb from an emulated port (the vUART's scratch register) into a
    read-only and a supervisor page: #PF with the CPU's error code and CR2,
    the page untouched; into a writable page: the data arrives."""
    specs = [vm("sp", "spin.elf", 1, cmdline="name=sp"),
             vm("x", "hostile.elf", 0, cmdline="attack=ins-ro")]
    m = boot("bochs", cpus=2, cmdline=" ".join([BASE_CMDLINE] + specs))
    wait_for(m, r"^vm x: stopped itself \(code 0\)$", 150)
    out = m.output
    no_breach(out)
    assert lines(r"^\[x\] hostile: survived ins-ro$", out), out
    assert lines(r"^\[x\] hostile: ins-ro 0 breaches$", out), out
    # The allowed case works (the test could not pass with INS refused).
    assert lines(r"^\[x\] hostile: ins-ro user rw page -> ok, ecx 0, 16 bytes written$", out), out
    for case, err, written in (("cpl0 read-only page with WP", "0x3", 0),
                               ("cpl3 read-only page", "0x7", 0),
                               ("cpl3 supervisor page", "0x7", 0),
                               ("cpl3 rw->read-only straddle", "0x7", 8)):
        assert lines(rf"^\[x\] hostile: ins-ro {re.escape(case)} -> #PF error {err} "
                     rf"cr2 0x[0-9a-f]+, ecx \d+, {written} bytes written$", out), (case, out)
    assert lines(r"^\[x\] hostile: ins-ro supervisor page intact: 4096 of 4096 bytes$", out), out
    assert lines(r"^\[x\] hostile: ins-ro cpl3 outsb from supervisor page -> #PF error 0x5", out)
    neighbour_progresses(m, "sp")
    no_breach(m.output)
