"""Attacks of the hostile guest on guest-memory emulation and the VM
lifecycle (issue 10): each test fails on a BREACH line, a hypervisor panic,
or a neighbour VM that stopped making progress."""

import os
import random
import re
import time

import pytest

from conftest import BACKEND_EMU, BASE_CMDLINE
from test_vmx import lines, vm, wait_for


def no_breach(out):
    assert not lines(r"hostile: BREACH", out), out
    assert "bulkhead: panic" not in out, out


def neighbour_progresses(m, name, timeout=120):
    """The spin VM `name` prints two more lines from now."""
    done = [int(n) for n in lines(rf"^\[{name}\] spin {name}: (\d+)$", m.output)]
    wait_for(m, rf"^\[{name}\] spin {name}: {(done[-1] if done else 0) + 2}$", timeout)


def test_attack_ins_ro(boot, backend):
    """rep insb from an emulated port (the vUART's scratch register) into a
    read-only and a supervisor page: #PF with the CPU's error code and CR2,
    the page untouched; into a writable page: the data arrives."""
    specs = [vm("sp", "spin.elf", 1, cmdline="name=sp"),
             vm("x", "hostile.elf", 0, cmdline="attack=ins-ro")]
    m = boot(BACKEND_EMU[backend], cpus=2, cmdline=" ".join([BASE_CMDLINE] + specs))
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


def test_attack_reset_loop(boot, backend):
    """Three VMs reset themselves at once on every boot, by 0xCF9, 0x92 and
    a triple fault. Each reset counts toward the back-off (0 s, then 1 s,
    2 s, 4 s ...), `list` shows the wait, the console answers quickly, and
    the spin VMs on both CPUs (the console's included) keep printing."""
    from test_console import command, table

    def hostile(name, cpu, how, extra):
        # Quoted: the guest command line has a space.
        return f'"vm={name},hostile.elf,mem=4M,cpu={cpu},{extra},cmdline=attack=reset-loop how={how}"'

    specs = [vm("sp0", "spin.elf", 0, cmdline="name=sp0"),
             vm("sp1", "spin.elf", 1, cmdline="name=sp1"),
             hostile("rcf9", 0, "cf9", "platform=pc"),
             hostile("r92", 1, "92", "platform=pc"),
             hostile("rtf", 0, "triple", "on_crash=restart")]
    m = boot(BACKEND_EMU[backend], cpus=2, cmdline=" ".join([BASE_CMDLINE] + specs))
    for name in ("rcf9", "r92"):
        wait_for(m, rf"^vm {name}: restarting in 0 ms \(reset 1 in a row\)$", 150)
        wait_for(m, rf"^vm {name}: restarting in 1000 ms \(reset 2 in a row\)$", 120)
        wait_for(m, rf"^vm {name}: restarting in 2000 ms \(reset 3 in a row\)$", 120)
    wait_for(m, r"^vm rtf: restarting in 2000 ms \(crash 2 in a row; ", 120)
    wait_for(m, r"^vm rcf9: restarting in 4000 ms \(reset 4 in a row\)$", 120)
    # While it waits out the back-off, `list` shows it.
    listing = table(command(m, "list"))
    assert re.fullmatch(r"shut off \(restart in \d+ ms, reset 4 in a row\)",
                        listing.get("rcf9", "")), listing
    # The console answers at once, though every restart used to zero RAM
    # on its CPU.
    t0 = time.monotonic()
    out = command(m, "version")
    assert re.search(r"^bulkhead \d", out, re.M), out
    assert time.monotonic() - t0 < 5, "the console took too long to answer"
    neighbour_progresses(m, "sp0")
    neighbour_progresses(m, "sp1")
    out = m.output
    no_breach(out)
    assert not lines(r"did not reset the VM", out), out
    # Each reset was a reset: the guest printed its first line every time.
    assert len(lines(r"^\[rcf9\] hostile: reset-loop via cf9$", out)) >= 4, out
    assert len(lines(r"^\[r92\] hostile: reset-loop via 92$", out)) >= 4, out
    assert m.grub_boots() == 1, "the machine was reset"


STRESS_SECONDS = float(os.environ.get("BULKHEAD_STRESS_SECONDS", "60"))
STRESS_SEED = int(os.environ.get("BULKHEAD_STRESS_SEED", "10"))
STRESS_OPS = ["start"] * 3 + ["suspend", "resume"] * 2 + ["shutdown", "destroy", "reset",
                                                         "stats", "info", "list --all"]


def test_lifecycle_stress(boot, backend):
    """Console lifecycle commands in a random loop (seeded:
    BULKHEAD_STRESS_SEED) for BULKHEAD_STRESS_SECONDS (60 here, 600 in
    `make soak`) against four guests that stop themselves, reset, triple-
    fault or hang at random moments (attack=stop-random), on both CPUs. No
    hypervisor fault, every command answered, the spin VM keeps going."""
    from test_console import command, table

    def chaos(name, cpu, extra):
        return f"vm={name},hostile.elf,mem=4M,cpu={cpu},{extra},cmdline=attack=stop-random"

    names = ["c0", "c1", "c2", "c3"]
    specs = [vm("sp", "spin.elf", 1, cmdline="name=sp"),
             chaos("c0", 0, "platform=pc,on_crash=restart"),
             chaos("c1", 1, "platform=pc,on_crash=restart"),
             chaos("c2", 1, "platform=none,on_crash=restart"),  # a bare one in the mix
             chaos("c3", 0, "platform=pc")]
    m = boot(BACKEND_EMU[backend], cpus=2, cmdline=" ".join([BASE_CMDLINE] + specs),
             timeout=STRESS_SECONDS + 400)
    wait_for(m, r"^\[sp\] spin sp: 1$", 150)
    rng = random.Random(STRESS_SEED)
    end = time.monotonic() + STRESS_SECONDS
    done = 0
    while time.monotonic() < end:
        op = rng.choice(STRESS_OPS)
        line = op if op.startswith("list") else f"{op} {rng.choice(names)}"
        if op == "shutdown":
            line += f" {rng.choice(['200ms', '1s', '3s'])}"
        t0 = time.monotonic()
        out = command(m, line, timeout=30)
        assert time.monotonic() - t0 < 30, (line, out)
        assert "bulkhead: panic" not in m.output, m.output[-5000:]
        done += 1
    states = table(command(m, "list --all"))
    assert set(names) <= set(states), states
    neighbour_progresses(m, "sp")
    out = m.output
    no_breach(out)
    stops = len(lines(r"^vm c\d: (stopped itself|reset by the guest|destroyed)", out))
    crashes = len(lines(r"^error: vm c\d: crashed: triple fault", out))
    print(f"stress: {done} commands in {STRESS_SECONDS:.0f} s, {stops} stops, {crashes} crashes")
    # The loop really raced stops with commands.
    assert done >= STRESS_SECONDS / 10 and stops + crashes >= 4, (done, stops, crashes)
    assert m.grub_boots() == 1, "the machine was reset"


def test_attack_icebp(boot, backend):
    """ICEBP (INT1) at ring 0 and ring 3: one #DB each, the saved EIP past
    the instruction (a privileged software exception), no endless loop."""
    specs = [vm("sp", "spin.elf", 1, cmdline="name=sp"),
             vm("x", "hostile.elf", 0, cmdline="attack=icebp")]
    m = boot(BACKEND_EMU[backend], cpus=2, cmdline=" ".join([BASE_CMDLINE] + specs))
    if backend == "svm":
        # QEMU TCG (built without WANT_ICEBP) raises #UD for ICEBP, host
        # or guest alike: what is left to show is that the #UD intercept
        # hands the guest its #UD at the instruction and nothing else breaks.
        wait_for(m, r"^\[x\] guest: unexpected exception 6 #UD at eip 0x[0-9a-f]+ cs 0x8 ", 150)
        neighbour_progresses(m, "sp")
        no_breach(m.output)
        return
    wait_for(m, r"^vm x: stopped itself \(code 0\)$", 150)
    out = m.output
    no_breach(out)
    assert lines(r"^\[x\] hostile: icebp cpl0 -> #DB 1, eip (0x[0-9a-f]+) \(next instruction \1\), "
                 r"cs 0x8$", out), out
    assert lines(r"^\[x\] hostile: icebp cpl3 -> #DB 2, eip (0x[0-9a-f]+) \(next instruction \1\), "
                 r"cs 0x1b$", out), out
    assert lines(r"^\[x\] hostile: survived icebp$", out), out
    neighbour_progresses(m, "sp")


def test_attack_tsc_write(boot, backend):
    """WRMSR IA32_TSC moves the vLAPIC's TSC offset too: a TSC-deadline
    timer armed 20 million cycles after the moved TSC fires about then."""
    specs = [vm("sp", "spin.elf", 1, cmdline="name=sp"),
             "vm=x,hostile.elf,mem=4M,cpu=0,platform=pc,cmdline=attack=tsc-write"]
    m = boot(BACKEND_EMU[backend], cpus=2, cmdline=" ".join([BASE_CMDLINE] + specs))
    wait_for(m, r"^vm x: stopped itself \(code 0\)$", 150)
    out = m.output
    no_breach(out)
    # 2^40 plus the cycles between the write and the read back: a few
    # thousand in Bochs (its TSC counts instructions), some 100 000 of the
    # host's wall-clock TSC under QEMU TCG, and tens of millions when the
    # host preempts QEMU in between (seen: 2^24.5 in a full `make test`;
    # allowed: up to 2^28, about 0.1 s).
    moved = "0x1000000[0-9a-f]{4}" if backend == "vmx" else "0x1000[0-9a-f]{7}"
    assert lines(rf"^\[x\] hostile: tsc-write moved the TSC by {moved}$", out), out
    fired = lines(r"^\[x\] hostile: tsc-write deadline timer fired after (\d+) million cycles$",
                  out)
    assert fired and 10 <= int(fired[0]) <= 200, out
    neighbour_progresses(m, "sp")


def test_attack_idt_mmio(boot, backend):
    """#AC from ring 3 whose delivery reads the IDT from MMIO: the
    hypervisor must see the access belongs to event delivery (IDT-vectoring
    information) and stop the VM, not emulate the store at EIP into the
    IDT's page (losing the #AC)."""
    specs = [vm("sp", "spin.elf", 1, cmdline="name=sp"),
             vm("x", "hostile.elf", 0, cmdline="attack=idt-mmio")]
    m = boot(BACKEND_EMU[backend], cpus=2, cmdline=" ".join([BASE_CMDLINE] + specs))
    wait_for(m, r"^error: vm x: crashed: ", 150)
    out = m.output
    no_breach(out)
    # QEMU TCG does not raise #AC (it ignores EFLAGS.AC): the store goes
    # through and the guest's next event, its INT 0x80, reads the gate from
    # MMIO instead. The hypervisor must see event delivery all the same.
    vector, gate = ("17", "0xfee00088") if backend == "vmx" else ("128", "0xfee00400")
    assert lines(rf"^error: vm x: crashed: event delivery \(vector {vector}\) touched MMIO {gate}$",
                 out), out
    # Nothing was emulated into the IDT's page.
    assert not lines(r"^warning: vm x: lapic window access", out), out
    neighbour_progresses(m, "sp")
