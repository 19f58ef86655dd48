"""A real SYN flood (issue 14, "Hostile network input is harmless"): the
hypervisor's NIC sits on a raw Ethernet link (`run.sh --net-raw`, QEMU
`-netdev dgram`) whose other end is this test (tests/integration/rawnet.py),
so it can send what user networking never would: thousands of TCP SYNs
from forged source addresses and ports that never complete the handshake.

Under QEMU with the SVM backend, so a VM (spin) runs beside it. During the
flood the serial console answers and the VM keeps printing. Afterwards
lwIP's pool of TCP control blocks (the `net` command's `tcp pcbs:` line)
is bounded by its fixed size and refused what did not fit, the half-open
connections time out, the memory map is what it was, and a real TCP
connection over the same raw link gets the console's prompt, logs in and
runs `net`: the listener recovered by itself.
"""

import random
import re
import socket
import threading
import time

import pytest

from conftest import BASE_CMDLINE, SCALE, require, timeout_for
from rawnet import TcpConn, RawPeer
from test_config import build_config_iso
from test_net_console import NET_CFG, PASSWORD, serial_command
import test_net_hostile
from test_net_hostile import SPIN_RE

import emu  # noqa: E402

pytestmark = pytest.mark.qemu_svm

# A VM that prints a few lines a second (fewer than test_net_hostile's: the
# serial console's answers must not drown).
SPIN_VM = test_net_hostile.SPIN_VM.replace("every=20000000", "every=200000000")
GUEST_IP = "10.0.3.15"
GATEWAY_IP = "10.0.3.2"  # the raw peer: it answers ARP for it
LEGIT_IP = "10.0.3.2"
SYNS = 4000
PCB_POOL = 24  # MEMP_NUM_TCP_PCB in net/lwip/lwipopts.h
BACKLOG = 16  # TCP_DEFAULT_LISTEN_BACKLOG there: half-open connections per listener
WAIT = 30 * SCALE


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pcbs(net_out):
    m = re.search(r"^tcp pcbs: (\d+) of (\d+) in use, (\d+) half-open, peak (\d+), "
                  r"(\d+) allocations refused$", net_out, re.M)
    assert m, net_out
    return dict(zip(("used", "size", "half_open", "peak", "refused"), map(int, m.groups())))


def serial(m, line):
    """A serial console command's output without the VM's lines."""
    out = serial_command(m, line, WAIT)
    return "\n".join(x for x in out.splitlines() if not x.startswith("[spin]"))


def spins(m):
    found = SPIN_RE.findall(m.output)
    return int(found[-1]) if found else 0


@pytest.fixture
def raw_machine(tmp_path):
    require("qemu-svm")
    cfg = tmp_path / "net-raw.cfg"
    cfg.write_text(NET_CFG.read_text().replace(
        "net.address = dhcp", f"net.address = {GUEST_IP}/24\nnet.gateway = {GATEWAY_IP}")
        + SPIN_VM)
    peer = RawPeer(0, free_udp_port(), GUEST_IP, owned=[GATEWAY_IP])
    m = emu.Machine(emu="qemu-svm", cpus=2, mem=256, iso=build_config_iso(cfg),
                    cmdline=BASE_CMDLINE, timeout=timeout_for("qemu-svm") + 600 * SCALE,
                    net_raw=f"{peer.port}:{peer.qemu[1]}")
    try:
        m.expect(r"net: console listening on TCP port 2323", timeout=timeout_for("qemu-svm"))
        m.expect(r"\[spin\] spin spin: 2", timeout=WAIT)
        assert re.search(rf"^net: address {re.escape(GUEST_IP)}/24, gateway {GATEWAY_IP}",
                         m.output, re.M), m.output
        yield m, peer
    finally:
        m.close()
        peer.close()


def alive(m):
    assert "bulkhead: poweroff" not in m.output
    assert "PANIC" not in m.output.upper().replace("PANIC=POWEROFF", "")
    out = serial(m, "version")
    assert out.startswith("bulkhead "), out


def test_net_syn_flood(raw_machine):
    m, peer = raw_machine
    mem_before = serial(m, "mem")
    before = pcbs(serial(m, "net"))
    assert before["size"] == PCB_POOL and before["half_open"] == 0, before

    # The raw link works: a real connection gets the prompt (and the
    # hypervisor learnt the peer's MAC by ARP).
    c = TcpConn(peer, LEGIT_IP, 40000, 2323, WAIT)
    c.read_until(b"password: ")
    c.reset()

    rnd = random.Random(14)
    sent = []

    def flood():
        for i in range(SYNS):
            # Forged sources: mostly off-link (answered through the gateway),
            # some on this link where nobody answers ARP.
            if i % 8:
                src = f"198.18.{rnd.randrange(256)}.{rnd.randrange(1, 255)}"
            else:
                src = f"10.0.3.{rnd.randrange(100, 200)}"
            peer.syn(src, rnd.randrange(1024, 65536), 2323, rnd.getrandbits(32))
            sent.append(1)
            if i % 200 == 199:
                time.sleep(0.05)  # about 4,000 a second: the UDP socket keeps up

    synacks_before = peer.synacks
    t = threading.Thread(target=flood, daemon=True)
    t.start()
    checks = 0
    while t.is_alive() or checks < 2:
        s0 = spins(m)
        alive(m)  # the serial console answers during the flood
        deadline = time.monotonic() + WAIT
        while spins(m) <= s0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert spins(m) > s0, f"the VM stopped printing at {s0} during the flood"
        checks += 1
        t.join(timeout=0.5)
    assert len(sent) == SYNS
    flood_end = time.monotonic()

    during = pcbs(serial(m, "net"))
    print(f"after {SYNS} SYNs: {during}, {peer.synacks - synacks_before} SYN+ACKs, "
          f"{peer.arp_requests} ARP requests")
    # The flood reached lwIP (half-open connections, answered with SYN+ACKs)
    # and was bounded: at most the listener's backlog half-open (the peak
    # counts the one real connection before too), never more control
    # blocks than the fixed pool; the other SYNs were dropped. (The peak,
    # not the count now: a slow serial answer must not see them expire.)
    assert peer.synacks > synacks_before, (peer.synacks, during)
    assert 1 < during["peak"] <= BACKLOG + 1, during
    assert during["half_open"] <= BACKLOG and during["used"] <= PCB_POOL, during

    # The half-open connections time out (lwIP drops a connection that
    # stays in SYN-RCVD for 20 s) and the listener accepts a real client.
    deadline = time.monotonic() + 120 * SCALE
    while True:
        after = pcbs(serial(m, "net"))
        if after["half_open"] == 0:
            print(f"{time.monotonic() - flood_end:.1f} s after the flood: {after}")
            break
        assert time.monotonic() < deadline, f"half-open connections never timed out: {after}"
        time.sleep(2)
    c = TcpConn(peer, LEGIT_IP, 40001, 2323, WAIT)
    c.read_until(b"password: ")
    c.send(PASSWORD + b"\r\n")
    c.read_until(b"bulkhead> ")
    c.send(b"net\r")
    out = c.read_until(b"tcp pcbs:").decode(errors="replace")
    c.read_until(b"bulkhead> ")
    assert "address:  10.0.3.15/24 (static)" in out, out
    c.send(b"exit\r")
    c.read_until(b"bye")
    c.reset()

    s0 = spins(m)
    alive(m)
    deadline = time.monotonic() + WAIT
    while spins(m) <= s0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert spins(m) > s0, "the VM stopped printing after the flood"
    # Nothing the flood did took hypervisor memory for good.
    assert serial(m, "mem") == mem_before
