"""Isolation attacks of the 64-bit hostile guest (tests/guests/hostile64):
FPU/SIMD state and CR8 across vCPU switches, and device models shared by
several vCPUs. Each fails on a BREACH line, a hypervisor panic, or a
neighbour VM that stopped making progress (see docs/test-guests.md)."""

import re
import time

import pytest

from conftest import BACKEND_EMU, BASE_CMDLINE, SCALE


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


def test_attack_xmm_leak(boot, backend):
    # The neighbour keeps XMM/YMM full of 0x5a5a5a5a on the same CPU; the
    # hostile VM, with XCR0 = 1 and then 7, must only ever see its own values.
    specs = [vm("fill", "hostile64.elf", 0, cmdline="attack=fill"),
             vm("leak", "hostile64.elf", 0, cmdline="attack=xmm-leak")]
    m = boot(BACKEND_EMU[backend], cpus=1, cmdline=" ".join([BASE_CMDLINE] + specs))
    wait_for(m, r"^vm leak: stopped itself \(code 0\)$", 150)
    out = m.output
    assert lines(r"^\[leak\] hostile: xmm-leak xmm0-15 kept over \d+ yields$", out), out
    assert lines(r"^\[leak\] hostile: xmm-leak ymm0-15 kept over \d+ yields$", out), out
    assert lines(r"^\[leak\] hostile: survived xmm-leak$", out), out
    assert lines(r"^\[fill\] hostile: fill with 0x5a5a5a5a in ymm0-15", out), out
    neighbour_progresses(m, "fill")
    no_breach(m.output)


def test_attack_xcr0_shrink(boot, backend):
    # XSETBV 7, dirty XMM, yield, XSETBV 1, yield: the next XRSTOR must not
    # fault in root mode, and the registers survive.
    specs = [vm("fill", "hostile64.elf", 0, cmdline="attack=fill"),
             vm("shrink", "hostile64.elf", 0, cmdline="attack=xcr0-shrink")]
    m = boot(BACKEND_EMU[backend], cpus=1, cmdline=" ".join([BASE_CMDLINE] + specs))
    wait_for(m, r"^vm shrink: stopped itself \(code 0\)$", 150)
    out = m.output
    assert lines(r"^\[shrink\] hostile: xcr0-shrink 0x7 -> 1, \d+ rounds$", out), out
    assert lines(r"^\[shrink\] hostile: xcr0-shrink \d+ rounds, registers intact$", out), out
    assert lines(r"^\[shrink\] hostile: survived xcr0-shrink$", out), out
    neighbour_progresses(m, "fill")
    no_breach(m.output)


def timed_command(m, command, answer):
    """Types `command`; seconds until `answer` appears after it."""
    start = len(m.output)
    t0 = time.monotonic()
    m.send(command + "\r")
    wait_for(m, answer, 30, start)
    return time.monotonic() - t0


def test_attack_cr8(boot, backend):
    # c8 shares CPU 0 (and the console) with `fill`, which writes CR8 = 9:
    # c8 must read back its own CR8 after every switch (before the fix it
    # read the physical TPR: 9), then it spins with CR8 = 15, which must
    # not mask the host's interrupts: destroy takes it off its CPU at once
    # and the console answers.
    specs = [vm("fill", "hostile64.elf", 0, cmdline="attack=fill"),
             vm("c8", "hostile64.elf", 0, cmdline="attack=cr8")]
    # loglevel=debug: "memory scrubbed and released" shows the vCPU really
    # left its CPU ("destroyed" is printed when the stop is requested).
    cmd = BASE_CMDLINE.replace("loglevel=info", "loglevel=debug")
    m = boot(BACKEND_EMU[backend], cpus=1, cmdline=" ".join([cmd] + specs))
    wait_for(m, r"^\[c8\] hostile: cr8 15 \(read back 15\), spinning$", 150)
    assert lines(r"^\[c8\] hostile: cr8 at start 0$", m.output), m.output
    time.sleep(1)  # let it spin with CR8 = 15 for a while
    took = timed_command(m, "destroy c8", r"^vm c8: memory scrubbed and released")
    assert took < 1.0 * SCALE, f"destroy c8 took {took:.2f}s"
    took = timed_command(m, "version", r"^bulkhead \d\S* \(")
    assert took < 1.0 * SCALE, f"the console took {took:.2f}s to answer"
    neighbour_progresses(m, "fill")
    no_breach(m.output)


VDEV_RACE_CFG = """\
# test_attack_vdev_race: four vCPUs of one VM on both CPUs hammer its
# vUART, vIOAPIC, CMOS and PIT at once; `fill` beside them shows progress.
[vm race]
kernel = hostile64.elf
cmdline = "attack=vdev-race vcpus=4"
memory = 8M
vcpus = 4
cpus = [0, 1, 0, 1]
platform = pc
autostart = true

[vm fill]
kernel = hostile64.elf
cmdline = "attack=fill"
memory = 4M
cpus = [1]
autostart = true
"""


def test_attack_vdev_race(boot, backend, tmp_path):
    from test_config import build_config_iso
    cfg = tmp_path / "vdev-race.cfg"
    cfg.write_text(VDEV_RACE_CFG)
    m = boot(BACKEND_EMU[backend], cpus=2, iso=build_config_iso(cfg))
    # Four vCPUs on two CPUs: about 60 s under QEMU TCG when the host is
    # idle, far longer when `make test` runs another emulator beside it.
    wait_for(m, r"^vm race: stopped itself \(code 0\)$", 170 if backend == "vmx" else 360)
    out = m.output
    assert lines(r"^\[race\] hostile: vdev-race 4 vcpus done, 20000 rounds each$", out), out
    assert lines(r"^\[race\] hostile: survived vdev-race$", out), out
    # Every line of the VM fits the vUART's 240-byte line buffer and holds
    # only bytes the vCPUs wrote (interleaved: they share one vUART).
    race = lines(r"^\[race\] (.*)$", out)
    assert len(race) > 100, out[-3000:]
    for text in race:
        assert len(text) <= 240, text
        assert re.fullmatch(r"[a-d]*|[a-dhypercl inefromu0-3:,-]*|hostile: .*", text), text
    neighbour_progresses(m, "fill")
    no_breach(m.output)


def test_lib64_cpl3_page_fault(boot, backend):
    # The 64-bit runtime's groundwork for page-permission attacks: ring 3
    # (enter_user) reading a page pt_set_flags made supervisor-only gets #PF
    # with error P|U and CR2 at the page, handled at CPL 0 on the TSS stack.
    m = boot(BACKEND_EMU[backend], cpus=1, cmdline=" ".join(
        [BASE_CMDLINE, vm("u", "hostile64.elf", 0, cmdline="attack=cpl3-pf")]))
    wait_for(m, r"^vm u: stopped itself \(code 0\)$", 150)
    out = m.output
    assert lines(r"^\[u\] hostile: cpl3 read of a supervisor page -> #PF error 0x5 cs 0x2b "
                 r"cr2 at the page$", out), out
    no_breach(out)
