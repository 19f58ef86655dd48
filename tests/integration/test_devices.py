"""Per-VM devices from the configuration file (configs/devices-test.cfg, Bochs,
2 CPUs): `memory_base` puts a VM's RAM at a fixed host address, `uarts`
moves, doubles or removes the vUARTs, and `ioports` passes a host port
through without exits."""

import re

import pytest

from conftest import REPO
from test_config import build_config_iso, command, wait_for

CFG = REPO / "configs" / "devices-test.cfg"


def has(regex, text):
    return re.search(regex, text, re.M)


@pytest.mark.bochs
def test_devices_from_config(boot):
    m = boot("bochs", cpus=2, iso=build_config_iso(CFG))
    wait_for(m, r"^config: \d+ VMs defined, \d+ autostarted, 0 failed to start, 0 errors$", 150)
    for vm in ("com2", "two", "nouart", "post", "nopost"):
        wait_for(m, rf"^vm {vm}: stopped itself \(code 0\)$", 150)
    wait_for(m, r"^\[fixed\] spin fixed: 1$", 150)
    out = m.output
    assert "bulkhead: panic" not in out, out
    assert not has(r"^error: config:", out), out

    # uarts = [0x2f8:3]: the guest's COM2 output is its console output.
    assert has(r"^\[com2\] hello from com2$", out), out
    assert not has(r"^warning: vm com2: unassigned I/O port", out), out
    # Two vUARTs: the second one's lines carry its tty.
    assert has(r"^\[two:ttyS1\] hello from two$", out), out
    assert not has(r"^\[two\] hello", out), out
    # uarts = []: no output; COM1 is absent hardware.
    assert not has(r"^\[nouart", out), out
    assert has(r"^warning: vm nouart: unassigned I/O port 0x3f[8d] (read|write) \(size 1\): "
               r"absent hardware$", out), out

    # ioports = [0x80]: the write reaches Bochs' POST port and reads back;
    # without passthrough (in a bare partition) the port is absent hardware.
    assert has(r"^\[post\] ioport 0x80: wrote 0x5a, read 0x5a$", out), out
    assert not has(r"^warning: vm post: unassigned I/O port 0x80", out), out
    assert has(r"^\[nopost\] ioport 0x80: wrote 0x5a, read 0xff$", out), out
    assert has(r"^warning: vm nopost: unassigned I/O port 0x80 write \(size 1\): "
               r"absent hardware$", out), out

    info = command(m, "info fixed")
    assert has(r"^memory:\s+4 MiB at host 0xa000000$", info), info
    assert has(r"^devices:\s+uart 0x3f8 irq 4$", info), info
    info = command(m, "info two")
    assert has(r"^devices:\s+uart 0x3f8 irq 4, uart 0x2f8 irq 3$", info), info
    info = command(m, "info post")
    assert has(r"^devices:\s+uart 0x3f8 irq 4, ioports 0x80-0x80$", info), info
    reply = command(m, "console nouart")
    assert reply.startswith("error: nouart has no virtual UART"), reply
    # The fixed range goes back to the allocator when the VM stops.
    command(m, "destroy fixed")
    wait_for(m, r"^vm fixed: destroyed", 60)
    command(m, "start fixed")
    wait_for(m, r"^vm fixed: started", 60)
    info = command(m, "info fixed")
    assert has(r"^memory:\s+4 MiB at host 0xa000000$", info), info
    assert not has(r"^error: pmm", m.output), m.output
    m.send("poweroff 0\r")
    assert m.wait_exit() == 0, m.output
