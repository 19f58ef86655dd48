"""`define`, `undefine` and `modules` (docs/configuration.md "Defining VMs
at run time") on the TCP console and on the serial console, with VMs
running: under QEMU with the SVM backend and under Bochs (VMX). One boot
of configs/net-test.cfg (the `echo` VM on CPU 1 and its module echo.elf)
per emulator for all of them.
"""

import re
import time

import pytest

from conftest import require
from test_net_console import VM_EMUS, NetMachine, PROMPT, net_iso, serial_command  # noqa: F401

import emu  # noqa: E402,F401  (conftest put scripts/ on the path)

DEFINE_PROMPT = b"define> "


def section(name, extra=""):
    return (f"[vm {name}]\nkernel = echo.elf\ncmdline = \"name={name}\"\nmemory = 4M\n"
            f"cpus = [1]\n{extra}")


@pytest.fixture(scope="module", params=VM_EMUS)
def vm_net(request, net_iso):
    require(request.param)
    nm = NetMachine(request.param, net_iso)
    yield nm
    nm.close()


def tcp_define(c, text, wait):
    """Types `define`, the section line by line, and the empty line; returns
    what came back up to the next command prompt."""
    c.send(b"define\r")
    c.read_until(rb"end it with an empty line or '\.' \(Ctrl-C cancels\)\r\n")
    for line in text.splitlines():
        c.read_until(re.escape(DEFINE_PROMPT))
        c.send(line.encode() + b"\r")
    c.read_until(re.escape(DEFINE_PROMPT))
    c.send(b"\r")
    out = c.read_until(re.escape(PROMPT), timeout=wait)
    return out.decode(errors="replace").replace("\r\n", "\n")


def undefine_when_stopped(run, name, wait):
    """undefine NAME, again while the VM is still stopping (scrub)."""
    end = time.monotonic() + wait
    while True:
        out = run(f"undefine {name}")
        if "still stopping" not in out or time.monotonic() > end:
            return out
        time.sleep(0.5)


def test_net_define_over_tcp(vm_net):
    net = vm_net
    c = net.client()
    c.login()
    mem_before = c.command("mem")
    out = tcp_define(c, section("echo2"), net.wait)
    assert "define: vm echo2 defined (until the next reboot)" in out, out
    out = c.command("list --all")
    assert re.search(r"^ *\d+ +echo2 +defined$", out, re.M), out
    out = c.command("modules")
    assert re.search(r"^ echo\.elf +\d+  boot +echo, echo2$", out, re.M), out
    assert re.search(r"^uploads: 0 of 67108864 bytes", out, re.M), out
    # It starts like a VM of the boot configuration and prints.
    assert "error" not in c.command("start echo2")
    net.m.expect(r"\[echo2\] echo ready", timeout=net.wait)
    out = c.command("undefine echo2")
    assert "error: undefine: vm echo2 is running; destroy or shut it down first" in out, out
    assert "error" not in c.command("destroy echo2", timeout=net.wait)
    out = undefine_when_stopped(c.command, "echo2", net.wait)
    assert "undefine: vm echo2 removed" in out, out  # (after the log line "vm echo2: undefined")
    out = c.command("list --all")
    assert "echo2" not in out, out
    assert "error: undefine: no VM named 'echo2'" in c.command("undefine echo2")
    # The same name can be defined again, in the freed slot.
    out = tcp_define(c, section("echo2"), net.wait)
    assert "define: vm echo2 defined" in out, out
    assert "undefine: vm echo2 removed" in c.command("undefine echo2")
    # Defined, run, stopped and undefined twice: every page is back.
    assert c.command("mem") == mem_before
    c.close()
    net.alive()


def test_net_define_errors(vm_net):
    net = vm_net
    c = net.client()
    c.login()
    # The checker's message, its line counted in the pasted text.
    out = tcp_define(c, "[vm bad]\nkernel = echo.elf\nmemory = lots\n", net.wait)
    assert "error: define:3: vm bad: memory: expected a size with a unit like 64M, got 'lots'" \
        in out, out
    # Against the VMs defined: echo runs on CPU 1, so it cannot be dedicated.
    out = tcp_define(c, section("bad2", "cpu_policy = dedicated\n"), net.wait)
    assert re.search(r"error: define:\d: vm bad2: cpus: CPU 1 cannot be dedicated: vm echo "
                     r"also runs on it", out), out
    assert "line 0" not in out, out
    # The name is taken; a module that is not there; [global]; two sections.
    out = tcp_define(c, section("echo"), net.wait)
    assert "error: define:1: vm echo: a VM of this name is already defined (undefine it first)" \
        in out, out
    out = tcp_define(c, "[vm m]\nkernel = nope.elf\n", net.wait)
    assert "error: define:2: vm m: kernel: module 'nope.elf' is not present" in out, out
    out = tcp_define(c, "[global]\nloglevel = debug\n", net.wait)
    assert "error: define:1: [global] cannot be changed at run time" in out, out
    # A line longer than the line editor takes ends the definition.
    c.send(b"define\r")
    c.read_until(re.escape(DEFINE_PROMPT))
    c.send(b"[vm long]\r")
    c.read_until(re.escape(DEFINE_PROMPT))
    c.send(b"cmdline = \"" + b"x" * 400 + b"\"\r")
    c.read_until(rb"error: define: line too long: nothing defined")
    c.read_until(re.escape(PROMPT))
    # Ctrl-C cancels; "." ends a section.
    c.send(b"define\r")
    c.read_until(re.escape(DEFINE_PROMPT))
    c.send(b"[vm cancelled]\r")
    c.read_until(re.escape(DEFINE_PROMPT))
    c.send(b"\x03")
    c.read_until(rb"error: define: cancelled: nothing defined")
    c.read_until(re.escape(PROMPT))
    out = c.command("list --all")
    for name in ("bad", "bad2", "m", "long", "cancelled"):
        assert not re.search(rf"^ *\d+ +{name} ", out, re.M), out
    # Refused while running: a VM of the boot configuration is no different.
    assert "is running" in c.command("undefine echo")
    c.close()
    net.alive()


def test_net_define_over_serial(vm_net):
    """The serial console: pasted all at once, ended by '.', and
    `autostart = true` starts the VM at once."""
    net = vm_net
    m = net.m
    m.send("define\r")
    m.expect(r"end it with an empty line or '\.' \(Ctrl-C cancels\)", timeout=net.wait)
    for line in section("echo3", "autostart = true\n").splitlines() + ["."]:
        m.expect(r"define> ", timeout=net.wait)
        m.send(line + "\r")
    m.expect(r"define: vm echo3 defined \(until the next reboot\)", timeout=net.wait)
    m.expect(r"\[echo3\] echo ready", timeout=net.wait)
    out = serial_command(m, "undefine echo3", net.wait)
    assert "error: undefine: vm echo3 is running" in out, out
    serial_command(m, "destroy echo3", net.wait)
    out = undefine_when_stopped(lambda cmd: serial_command(m, cmd, net.wait), "echo3", net.wait)
    assert "undefine: vm echo3 removed" in out, out
    # A bad section on the serial console: the same messages.
    m.send("define\r")
    for line in ["[vm s]", "kernel = echo.elf", "cpus = [7]", ""]:
        m.expect(r"define> ", timeout=net.wait)
        m.send(line + "\r")
    m.expect(r"error: define:3: vm s: cpus: CPU 7 does not exist \(the machine has 2\)",
             timeout=net.wait)
    out = serial_command(m, "list --all", net.wait)
    assert "echo3" not in out and not re.search(r"^ *\d+ +s ", out, re.M), out
    # The boot VM kept running throughout.
    assert re.search(r"^ *\d+ +echo +running$", out, re.M), out
    net.alive()
