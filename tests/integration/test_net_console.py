"""The console over TCP (docs/network.md), from Python on the host through
the emulator's user networking (`--net-forward`, scripts/emu_net.py),
with the echo VM running under both emulators: QEMU with the SVM backend
(`qemu-svm`, with each NIC model) and Bochs (VMX). QEMU without SVM (no
backend: the hypervisor still boots its console, no VM runs) is kept for
the tests about the network itself (timeouts, polling, no NIC).

Each emulator boots configs/net-test.cfg (password "bulkhead-test", DHCP,
port 2323) once for the tests that log in correctly, and once more for the
tests that fail logins on purpose (the rate limiter is per peer, and every
connection through slirp comes from the same address, 10.0.2.2).
"""

import re
import shutil
import socket
import subprocess
import time

import pytest

from conftest import BASE_CMDLINE, REPO, SCALE, require, timeout_for
from console_io import free_port, serial_command  # noqa: F401  (other test_net_* use them from here)
from test_config import build_config_iso

import emu  # noqa: E402  (conftest put scripts/ on the path)
import emu_net  # noqa: E402

PASSWORD = b"bulkhead-test"
PROMPT = b"bulkhead> "
NET_CFG = REPO / "configs" / "net-test.cfg"
# The machines the shared tests run on: QEMU with each NIC model the
# hypervisor drives (scripts/emu_net.py --net-nic), and Bochs (e1000 only).
NET_MACHINES = [
    pytest.param(("qemu-svm", "e1000"), marks=pytest.mark.qemu_svm, id="qemu-svm"),
    pytest.param(("qemu-svm", "virtio"), marks=pytest.mark.qemu_svm, id="qemu-svm-virtio"),
    pytest.param(("bochs", "e1000"), marks=pytest.mark.bochs, id="bochs"),
]
# The emulators that run VMs, for the other test_net_* modules' machines.
VM_EMUS = [pytest.param("qemu-svm", marks=pytest.mark.qemu_svm, id="qemu-svm"),
           pytest.param("bochs", marks=pytest.mark.bochs, id="bochs")]
# Bochs is slow under load; every wait scales with BULKHEAD_TIMEOUT_SCALE.
WAIT = {"qemu": 20, "qemu-svm": 30, "bochs": 90}


def strip_telnet(data):
    """Bytes as a terminal shows them: IAC sequences out."""
    return re.sub(rb"\xff[\xfb-\xfe].|\xff[^\xff]", b"", data)


class Client:
    """One TCP connection to the console."""

    def __init__(self, port, wait):
        self.wait = wait
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=wait)
        self.raw = b""
        self.closed = False

    def read_until(self, pattern, timeout=None):
        """Reads until the (bytes) regex matches what arrived since the last
        match; returns everything up to the end of the match."""
        end = time.monotonic() + (timeout or self.wait)
        pat = re.compile(pattern)
        while True:
            text = strip_telnet(self.raw)
            m = pat.search(text)
            if m:
                self.raw = text[m.end():]
                return text[:m.end()]
            left = end - time.monotonic()
            if left <= 0 or self.closed:
                raise AssertionError(f"no {pattern!r} from the console; got {text[-800:]!r}")
            self.sock.settimeout(min(left, 1.0))
            try:
                d = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                d = b""
            if not d:
                self.closed = True
            self.raw += d

    def read_all(self, timeout):
        """Everything until the peer closes (or timeout)."""
        end = time.monotonic() + timeout
        while not self.closed and time.monotonic() < end:
            self.sock.settimeout(max(0.1, min(1.0, end - time.monotonic())))
            try:
                d = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                d = b""
            if not d:
                self.closed = True
            self.raw += d
        return strip_telnet(self.raw)

    def send(self, data):
        self.sock.sendall(data)

    def login(self, password=PASSWORD):
        self.read_until(rb"password: ")
        self.send(password + b"\r\n")
        self.read_until(rb"logged in.*\r\n" + re.escape(PROMPT))

    def command(self, line, timeout=None):
        """Runs a command; its output (between the echo and the next prompt)."""
        self.send(line.encode() + b"\r")
        out = self.read_until(re.escape(line.encode()) + rb"\r\n((?:.*\r\n)*?)" +
                              re.escape(PROMPT), timeout)
        body = out[out.index(line.encode()) + len(line):]
        return body[:-len(PROMPT)].decode(errors="replace").replace("\r\n", "\n").strip("\n")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class NetMachine:
    def __init__(self, emu_name, iso, cmdline=BASE_CMDLINE, nic="e1000", extra=()):
        require(emu_name)
        self.emu = emu_name
        self.nic = nic
        self.port = free_port()
        self.wait = WAIT[emu_name] * SCALE
        self.m = emu.Machine(emu=emu_name, cpus=2, mem=256, iso=iso, cmdline=cmdline,
                             timeout=timeout_for(emu_name) + 600 * SCALE,
                             net_forward=[f"{self.port}:2323"], net_nic=nic, extra=extra)
        try:
            self.m.expect(r"net: console listening on TCP port 2323", timeout=timeout_for(emu_name))
            self.m.expect(r"net: address 10\.0\.2\.15/24 \(dhcp\)", timeout=self.wait * 2)
            self.m.expect(r"bulkhead> ", timeout=self.wait)
        except Exception:
            self.close()
            raise
        if emu_name == "bochs":
            err = emu_net.bochs_forward_error(self.m.workdir)
            assert err is None, err

    def client(self):
        return Client(self.port, self.wait)

    def alive(self):
        """The hypervisor and its serial console still answer."""
        assert "bulkhead: poweroff" not in self.m.output
        assert "PANIC" not in self.m.output.upper().replace("PANIC=POWEROFF", "")
        out = serial_command(self.m, "version", self.wait)
        assert out.startswith("bulkhead "), out

    def wait_no_connections(self):
        """Until the connections of earlier tests are closed on the
        hypervisor's side too (slow in Bochs); fails if one stays open."""
        deadline = time.monotonic() + self.wait
        while True:
            out = serial_command(self.m, "net", self.wait)
            m = re.search(r"^tcp: +(\d+) connections open", out, re.M)
            if m and m.group(1) == "0":
                return
            assert time.monotonic() < deadline, f"connections still open:\n{out}"
            time.sleep(1)

    def close(self):
        self.m.close()


@pytest.fixture(scope="module")
def net_iso():
    if not NET_CFG.is_file():
        pytest.fail(f"{NET_CFG} missing")
    return build_config_iso(NET_CFG)


def _machine_param(param):
    """A fixture parameter: an emulator (indirect parametrize) or (emu, nic)."""
    return (param, "e1000") if isinstance(param, str) else param


@pytest.fixture(scope="module", params=NET_MACHINES)
def net(request, net_iso):
    emu_name, nic = _machine_param(request.param)
    nm = NetMachine(emu_name, net_iso, nic=nic)
    yield nm
    nm.close()


@pytest.fixture(params=NET_MACHINES)
def fresh_net(request, net_iso):
    """A machine of the test's own (for tests that fail logins on purpose)."""
    emu_name, nic = _machine_param(request.param)
    nm = NetMachine(emu_name, net_iso, nic=nic)
    yield nm
    nm.close()


# --------------------------------------------------------------------------
# Logged in


def test_net_login_and_commands(net):
    c = net.client()
    c.login()
    out = c.command("net")
    if net.nic == "virtio":
        assert re.search(r"^nic: +00:0[23]\.0 virtio-net( \(transitional\))?, "
                         r"MAC 52:54:00:12:34:56$", out, re.M), out
        assert re.search(r"^link: +up \(\d+ changes\)$", out, re.M), out
    else:
        assert re.search(r"^nic: +00:0[23]\.0 Intel 82540EM, MAC 52:54:00:12:34:56$", out, re.M), out
        assert re.search(r"^link: +up, 1000 Mb/s full duplex", out, re.M), out
    assert re.search(r"^address: +10\.0\.2\.15/24 \(dhcp\)$", out, re.M), out
    assert re.search(r"^gateway: +10\.0\.2\.2$", out, re.M), out
    rx = re.search(r"^rx: +(\d+) packets", out, re.M)
    assert rx and int(rx.group(1)) > 0, out
    if net.nic == "virtio":
        # QEMU's virtio-net has MSI-X: entry 0 through a VT-d remapping entry
        # of its own (frames raised interrupts there, the legacy line is masked).
        assert re.search(MSIX_REMAPPED, out, re.M), out
    elif net.emu != "bochs":  # (the BIOS's interrupt line is right there): frames raised interrupts
        assert re.search(r"^receive: +interrupt \(GSI \d+, [1-9]\d* interrupts\) and polling$",
                         out, re.M), out
    assert re.search(r"^tcp: +[1-9]\d* connections open", out, re.M), out
    if net.emu != "bochs":
        # Under VT-d the NIC has its own DMA domain mapping exactly its rings and
        # buffers (e1000: 1 page of descriptors, 64 buffers of 2 KiB; virtio-net:
        # per queue a page each for descriptors, available and used ring, and
        # 32 buffers of 2 KiB), and it never faulted.
        out = c.command("iommu")
        size = 152 if net.nic == "virtio" else 132
        assert re.search(rf"domain \d+ net: owner net, {size} KiB mapped, 1 device:.*00:02\.0",
                         out), out
        assert "fault counts: none" in out, out
    out = c.command("list --all")
    assert re.search(r"Id +Name +State", out), out
    assert re.search(r"^ *\d+ +echo +running$", out, re.M), out
    out = c.command("version")
    assert out.startswith("bulkhead "), out
    out = c.command("nosuchcommand")
    assert "error: unknown command 'nosuchcommand'" in out, out
    # Two commands on one line, as on the serial console.
    out = c.command("version; help net")
    assert "usage: net" in out and out.startswith("bulkhead "), out
    # A session's command output is its own: the serial console did not show it.
    assert "usage: net" not in net.m.output
    c.send(b"exit\r")
    assert b"bye" in c.read_all(net.wait)
    assert c.closed
    net.alive()


def test_net_two_sessions(net):
    a, b = net.client(), net.client()
    a.login()
    b.login()
    assert "bulkhead " in a.command("version")
    assert "usage: list" in b.command("help list")
    # Each has its own history: Up then Enter repeats that session's last command.
    a.send(b"\x1b[A\r")
    assert a.read_until(rb"version\r\nbulkhead ")
    b.send(b"\x1b[A\r")
    assert b.read_until(rb"help list\r\nusage: list")
    a.read_until(re.escape(PROMPT))
    b.read_until(re.escape(PROMPT))
    # Output of one session's command does not reach the other.
    a.command("help mute")
    time.sleep(1)
    assert b"usage: mute" not in strip_telnet(b.raw)
    # A command that waits holds its own session only: the other session and
    # the serial console go on, and Ctrl-C ends the wait.
    a.send(b"sleep 600000\r")
    a.read_until(rb"sleep 600000\r\n")
    assert "bulkhead " in b.command("version")
    net.alive()
    # Both wait at once (for the echo VM), each for its own.
    b.send(b"wait echo shutoff 600s\r")
    b.read_until(rb"wait echo shutoff 600s\r\n")
    out = serial_command(net.m, "wait echo running 5s", net.wait)
    assert "error" not in out, out
    b.send(b"\x03")
    b.read_until(rb"\^C\r\n")
    a.send(b"\x03")
    a.read_until(rb"\^C\r\n")
    assert "bulkhead " in a.command("version")
    a.close()
    assert "bulkhead " in b.command("version")
    b.close()
    net.alive()


def test_net_console_attach(net):
    c = net.client()
    c.login()
    c.send(b"console echo\r")
    c.read_until(rb"console: attached to echo \(Ctrl-\] returns to the prompt\)\r\n")
    c.send(b"hello-net\r")
    c.read_until(rb"hello-net")
    # One attached console at a time, machine-wide: the serial one is refused,
    # and so is another session.
    out = serial_command(net.m, "console echo", net.wait)
    assert "error: a VM console is attached elsewhere (one at a time)" in out, out
    other = net.client()
    other.login()
    out = other.command("console echo")
    assert "error: a VM console is attached elsewhere (one at a time)" in out, out
    other.close()
    c.send(b"\x1d")
    c.read_until(rb"console: detached\r\n")
    c.read_until(re.escape(PROMPT))
    assert "bulkhead " in c.command("version")
    c.close()
    net.alive()


def test_net_garbage_and_long_line(net):
    c = net.client()
    c.login()
    # 64 KiB on one line: refused, not run, nothing else harmed.
    c.send(b"x" * 65536 + b"\r")
    c.read_until(rb"error: line longer than 255 characters: not run", timeout=net.wait * 2)
    c.read_until(re.escape(PROMPT))
    # Random bytes, telnet commands, escape sequences, NULs, Ctrl-C...
    import random
    rnd = random.Random(14)
    junk = bytes(rnd.randrange(256) for _ in range(8192))
    c.send(junk + b"\x03\r")
    time.sleep(2)
    c.send(b"\x03\r")
    assert "bulkhead " in c.command("version", timeout=net.wait * 2)
    c.close()
    net.alive()


def test_net_many_connections(net):
    """50 connections at once: those beyond the table are told so and
    closed, nothing breaks, and a login afterwards works."""
    mem_before = serial_command(net.m, "mem", net.wait)
    clients = []
    for _ in range(50):
        try:
            clients.append(Client(net.port, net.wait))
        except OSError:
            pass
    time.sleep(3 * (2 if net.emu == "bochs" else 1))
    texts = [cl.read_all(1) for cl in clients]
    for cl in clients:
        cl.close()
    prompts = sum(b"password: " in t for t in texts)
    refused = sum(b"too many connections" in t for t in texts)
    assert 0 < prompts <= 8, (prompts, refused)
    assert prompts + refused <= 50
    time.sleep(2)
    c = net.client()
    c.login()
    out = c.command("net")
    assert re.search(r"^tcp: +\d+ connections open, (\d+) accepted", out, re.M), out
    c.close()
    # Nothing was allocated for them: the memory map is the same.
    assert serial_command(net.m, "mem", net.wait) == mem_before
    net.alive()


def test_net_session_limit(net):
    net.wait_no_connections()
    sessions = []
    for _ in range(4):
        s = net.client()
        s.login()
        sessions.append(s)
    extra = net.client()
    extra.read_until(rb"password: ")
    extra.send(PASSWORD + b"\r\n")
    assert b"too many sessions: at most 4 at once" in extra.read_all(net.wait)
    assert extra.closed
    sessions[0].send(b"logout\r")
    sessions[0].read_all(net.wait)
    again = net.client()
    again.login()
    for s in sessions[1:] + [again]:
        s.close()
    net.alive()


def test_net_nc_and_telnet(net):
    """The clients people type: `nc` (no telnet negotiation; its input ends
    with EOF) and `telnet` (character mode after our WILL ECHO/SGA, the
    password not echoed, the line editor's Backspace)."""
    import pexpect
    for tool in ("nc", "telnet"):
        if not shutil.which(tool):
            pytest.fail(f"{tool} is not installed: run `make deps` (scripts/setup.sh)")
    net.wait_no_connections()
    try:
        r = subprocess.run(["nc", "-N", "127.0.0.1", str(net.port)],
                           input=PASSWORD + b"\r\nversion\r\nexit\r\n", stdout=subprocess.PIPE,
                           timeout=net.wait * 2)
    except subprocess.TimeoutExpired as e:  # what both sides saw, for the report
        pytest.fail(f"nc: no end of session; it got {e.output!r}; the console's view:\n"
                    f"{serial_command(net.m, 'net', net.wait)}\n{net.m.output[-2000:]}")
    out = strip_telnet(r.stdout).decode(errors="replace")
    assert "logged in" in out and "\nbulkhead 0.1" in out.replace("\r", "") and "bye" in out, out
    t = pexpect.spawn("telnet", ["127.0.0.1", str(net.port)], timeout=net.wait, encoding="utf-8",
                      codec_errors="replace")
    try:
        t.expect("password: ")
        t.send(PASSWORD.decode() + "\r")
        t.expect(r"logged in.*bulkhead> ")
        assert PASSWORD.decode() not in t.before, t.before
        t.send("helq\x7fp list\r")
        t.expect(r"usage: list")
        t.expect("bulkhead> ")
        t.send("exit\r")
        t.expect("bye")
        t.expect(pexpect.EOF)
    finally:
        t.close(force=True)
    net.alive()


def test_net_reconnect_from_the_same_port(net):
    """A client that connects again from the port of a connection the
    console closed first (slirp keeps the host client's port, as a NAT or a
    client bound to a fixed port do) meets the console's TIME_WAIT for that
    port pair: lwIP alone answered its SYN with a bare ACK for two minutes
    (the cause of `nc` hanging in test_net_nc_and_telnet now and then). The
    console ends that TIME_WAIT for a new connection request (RFC 6191)."""
    def session(sport):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", sport))
        s.settimeout(net.wait)
        s.connect(("127.0.0.1", net.port))
        s.sendall(PASSWORD + b"\r\nversion\r\nexit\r\n")
        data = b""
        try:
            while (d := s.recv(4096)):
                data += d
        except socket.timeout:
            data += b"<<no end of session>>"
        s.close()
        return strip_telnet(data).decode(errors="replace")

    sport = free_port()  # a port nobody else uses, twice
    before = int(re.search(r"^tcp time-wait: (\d+) ended early", serial_command(
        net.m, "net", net.wait), re.M).group(1))
    for _ in range(2):
        net.wait_no_connections()
        out = session(sport)
        assert "logged in" in out and "bye" in out, out
    after = serial_command(net.m, "net", net.wait)
    assert re.search(r"^tcp time-wait: (\d+) ended early", after, re.M).group(1) == str(before + 1), after
    net.alive()


# --------------------------------------------------------------------------
# Not logged in


def test_net_nothing_runs_before_login(fresh_net):
    net = fresh_net
    c = net.client()
    c.read_until(rb"password: ")
    # Commands typed as the password: none runs (poweroff would end the run).
    c.send(b"poweroff 3\r\n")
    out = c.read_until(rb"login incorrect\r\npassword: ", timeout=net.wait)
    assert b"bulkhead> " not in out
    time.sleep(2)
    assert "bulkhead: poweroff" not in net.m.output
    assert "net: failed console login from 10.0.2.2" in net.m.output
    c.close()
    net.alive()


def test_net_wrong_password_refused_and_delayed(fresh_net):
    net = fresh_net
    c = net.client()
    c.read_until(rb"password: ")
    c2 = net.client()  # a second connection, open before the failure
    c2.read_until(rb"password: ")
    t0 = time.monotonic()
    c.send(b"not-the-password\r\n")
    if net.emu != "bochs":  # (Bochs' clock runs ahead of the wall's when idle)
        # While the peer's delay runs, even the right password on its other
        # connection is not compared: refused.
        time.sleep(0.3)
        c2.send(PASSWORD + b"\r\n")
        c2.read_until(rb"login incorrect\r\npassword: ")
    c2.close()
    c.read_until(rb"login incorrect\r\npassword: ")
    took = time.monotonic() - t0
    if net.emu != "bochs":
        assert took >= 0.9, f"'login incorrect' after {took:.2f} s: not delayed"
    # While the delay runs, a new connection from the same peer is refused.
    c.send(b"wrong-again\r\n")
    time.sleep(0.3)
    other = net.client()
    text = other.read_all(net.wait)
    assert b"too many failed logins from your address: try again in" in text, text
    assert b"password: " not in text
    c.read_until(rb"login incorrect\r\npassword: ", timeout=net.wait * 2)
    # The third wrong password on one connection closes it.
    c.send(b"third\r\n")
    text = c.read_all(net.wait * 3)
    assert b"too many wrong passwords" in text and c.closed, text
    # The delay doubles each time (1, 2, 4 s): after it, the right password works.
    deadline = time.monotonic() + net.wait * 3
    while True:
        c = net.client()
        c.read_until(rb"password: |try again in", timeout=net.wait)
        if not c.closed and b"try again" not in c.raw:
            break
        c.close()
        assert time.monotonic() < deadline, "still locked out"
        time.sleep(1)
    c.send(PASSWORD + b"\r\n")
    c.read_until(rb"logged in")
    c.close()
    net.alive()


def test_net_idle_and_login_timeouts(tmp_path, net_iso):
    """net.login_timeout and net.idle_timeout close connections (QEMU: its
    clock is the wall's)."""
    require("qemu")
    cfg = tmp_path / "net-timeouts.cfg"
    cfg.write_text(NET_CFG.read_text()
                   .replace("net.login_timeout = 3600s", "net.login_timeout = 3s")
                   .replace("net.idle_timeout = 86400s", "net.idle_timeout = 4s"))
    nm = NetMachine("qemu", build_config_iso(cfg))
    try:
        slow = nm.client()
        slow.read_until(rb"password: ")
        text = slow.read_all(20)
        assert b"no password given in time" in text and slow.closed, text
        idle = nm.client()
        idle.login()
        t0 = time.monotonic()
        text = idle.read_all(20)
        assert b"idle for too long: session closed" in text and idle.closed, text
        assert time.monotonic() - t0 >= 3
        nm.alive()
    finally:
        nm.close()


@pytest.mark.parametrize("nic", ["e1000", "virtio"])
def test_net_polling_only(net_iso, nic):
    """net.irq=off: no receive interrupt, the console CPU's loop polls the
    NIC, and the console works the same."""
    nm = NetMachine("qemu", net_iso, cmdline=BASE_CMDLINE + " net.irq=off", nic=nic)
    try:
        assert "receive polled" in nm.m.output
        c = nm.client()
        c.login()
        out = c.command("net")
        assert re.search(r"^receive: +polling \(net\.irq=off\)$", out, re.M), out
        for _ in range(5):
            assert "bulkhead " in c.command("version")
        c.close()
        nm.alive()
    finally:
        nm.close()


MSIX_REMAPPED = (r"^receive: +interrupt \(MSI-X vector 0x[0-9a-f]+ through remapping entry \d+, "
                 r"[1-9]\d* interrupts\) and polling$")


@pytest.mark.parametrize("nic,cmdline,extra,lines", [
    # iommu.qi=off leaves interrupt remapping off: the MSI-X entry holds a
    # compatibility-format message.
    ("virtio", " iommu.qi=off", [],
     [r"^receive: +interrupt \(MSI-X vector 0x[0-9a-f]+, compatibility format, "
      r"[1-9]\d* interrupts\) and polling$"]),
    # No MSI-X on the device (vectors=0): its legacy interrupt line.
    ("virtio", "", ["-global virtio-net-pci.vectors=0"],
     [r"^receive: +interrupt \(GSI \d+, [1-9]\d* interrupts\) and polling$"]),
    # Its virtio 1.0 interface off (disable-modern=on): the legacy transport
    # in I/O BAR0, with MSI-X through interrupt remapping.
    ("virtio-legacy", "", [],
     [r"^nic: +00:0[23]\.0 virtio-net \(legacy transport\), MAC 52:54:00:12:34:56$",
      r"^link: +up \(\d+ changes\)$", MSIX_REMAPPED]),
], ids=["msix-compatibility-format", "intx-without-msix", "legacy-transport"])
def test_net_virtio_variants(net_iso, nic, cmdline, extra, lines):
    """How a virtio-net NIC is driven and interrupts; frames raised the
    interrupt (its count), the session works, and the NIC's DMA domain maps
    its rings and buffers only, without a fault."""
    nm = NetMachine("qemu", net_iso, cmdline=BASE_CMDLINE + cmdline, nic=nic, extra=extra)
    try:
        c = nm.client()
        c.login()
        for _ in range(3):
            assert "bulkhead " in c.command("version")
        out = c.command("net")
        for line in lines:
            assert re.search(line, out, re.M), (line, out)
        out = c.command("iommu")
        assert re.search(r"domain \d+ net: owner net, 152 KiB mapped, 1 device:.*00:02\.0",
                         out), out
        assert "fault counts: none" in out, out
        c.close()
        nm.alive()
    finally:
        nm.close()


def test_net_auto_skips_a_vms_nic(tmp_path):
    """net.device = auto takes the first supported NIC no VM names, whichever
    driver it needs: an e1000 at 00:02.0 given to a VM is skipped for the
    virtio-net NIC after it."""
    require("qemu")
    cfg = tmp_path / "net-auto.cfg"
    cfg.write_text(NET_CFG.read_text() + "\n[vm owner]\nkernel = echo.elf\nplatform = pc\n"
                   "pci = [00:02.0]\nmemory = 4M\ncpus = [1]\n")
    nm = NetMachine("qemu", build_config_iso(cfg), nic="virtio", extra=["-device e1000,addr=02.0"])
    try:
        c = nm.client()
        c.login()
        out = c.command("net")
        assert re.search(r"^nic: +00:03\.0 virtio-net", out, re.M), out
        c.close()
        nm.alive()
    finally:
        nm.close()


def test_net_off_when_disabled_or_without_a_nic(tmp_path, boot):
    """net.enabled = false, or no supported NIC (QEMU's q35 default is an
    e1000e, which this driver does not take): nothing of it runs, the
    console works as before, `net` says off."""
    cfg = tmp_path / "net-off.cfg"
    cfg.write_text(NET_CFG.read_text().replace("net.enabled = true", "net.enabled = false"))
    for iso, extra in ((build_config_iso(cfg), ["12399:2323"]), (build_config_iso(NET_CFG), [])):
        m = boot("qemu", iso=iso, net_forward=extra)
        m.expect(r"bulkhead> ", timeout=timeout_for("qemu"))
        time.sleep(1)
        booted = m.output
        out = serial_command(m, "net", 30)
        assert out.strip() == "net: off (net.enabled is not true, or no NIC)", out
        assert "net: console listening" not in booted
        if extra:  # disabled: no line about the network at all
            assert not re.search(r"^net: ", booted, re.M), booted
        else:
            assert "net: no supported NIC (Intel 8254x or virtio-net) that no VM owns: the " \
                   "network console is off" in booted, booted
        m.close()


# --------------------------------------------------------------------------
# run.sh --net-forward (no emulator needed for its errors)


@pytest.mark.parametrize("arg,msg", [
    ("2323", "expected HOSTPORT:GUESTPORT"),
    ("0:2323", "expected HOSTPORT:GUESTPORT"),
    ("70000:2323", "expected HOSTPORT:GUESTPORT"),
    ("a:b", "expected HOSTPORT:GUESTPORT"),
])
def test_net_forward_option_errors(arg, msg):
    r = subprocess.run([str(REPO / "scripts" / "run.sh"), "--emu", "qemu", "--net-forward", arg],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    assert r.returncode == 2, r
    assert msg in r.stderr, r.stderr


def test_net_forward_command_lines(tmp_path):
    assert emu_net.qemu_args([(2323, 23), (8080, 80)]) == [
        "-nic", "user,model=e1000,mac=52:54:00:12:34:56,hostfwd=tcp:127.0.0.1:2323-:23,"
                "hostfwd=tcp:127.0.0.1:8080-:80"]
    assert emu_net.qemu_args([(2323, 23)], "virtio") == [
        "-netdev", "user,id=net0,hostfwd=tcp:127.0.0.1:2323-:23",
        "-device", "virtio-net-pci,netdev=net0,mac=52:54:00:12:34:56"]
    with pytest.raises(emu_net.NetForwardError, match="Bochs has the e1000 only"):
        emu_net.check_nic("virtio", "bochs")
    assert emu_net.qemu_args([(2323, 23)], "virtio-legacy")[-1] == \
        "virtio-net-pci,disable-modern=on,netdev=net0,mac=52:54:00:12:34:56"
    with pytest.raises(emu_net.NetForwardError, match="expected one of e1000, virtio"):
        emu_net.check_nic("rtl8139", "qemu")
    lines = emu_net.bochs_lines([(2323, 23)], str(tmp_path))
    assert lines == [f"e1000: enabled=1, mac=52:54:00:12:34:56, ethmod=slirp, "
                     f"script={tmp_path}/slirp.conf"]
    assert (tmp_path / "slirp.conf").read_text() == \
        "# slirp config\nhostfwd = tcp:127.0.0.1:2323-10.0.2.15:23\n"
    with pytest.raises(emu_net.NetForwardError, match="at most 5"):
        emu_net.check_forwards([(i, 1) for i in range(1000, 1006)], "bochs")
    with pytest.raises(emu_net.NetForwardError, match="given twice"):
        emu_net.check_forwards([(1000, 1), (1000, 2)], "qemu")
    (tmp_path / "bochs.log").write_text(
        "00000i[SLIRP ] could not set up host forwarding rule 'tcp:127.0.0.1:2323-:23'\n")
    assert "could not set up" in emu_net.bochs_forward_error(str(tmp_path))


@pytest.mark.parametrize("arg", ["5555", "5555:5555", "0:5556", "70000:1", "a:b"])
def test_net_raw_option_errors(arg):
    r = subprocess.run([str(REPO / "scripts" / "run.sh"), "--emu", "qemu", "--net-raw", arg],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    assert r.returncode == 2, r
    assert "expected HOSTPORT:QEMUPORT" in r.stderr, r.stderr


def test_net_raw_command_line():
    assert emu_net.qemu_raw_args((5555, 5556)) == [
        "-netdev", "dgram,id=raw0,local.type=inet,local.host=127.0.0.1,local.port=5556,"
                   "remote.type=inet,remote.host=127.0.0.1,remote.port=5555",
        "-device", "e1000,netdev=raw0,mac=52:54:00:12:34:56"]
    assert emu_net.qemu_raw_args((5555, 5556), "virtio")[-1] == \
        "virtio-net-pci,netdev=raw0,mac=52:54:00:12:34:56"
    with pytest.raises(emu_net.NetForwardError, match="QEMU only"):
        emu_net.check_raw((5555, 5556), [], "bochs")
    with pytest.raises(emu_net.NetForwardError, match="one NIC at a time"):
        emu_net.check_raw((5555, 5556), [(2323, 2323)], "qemu")
    # (refused before any emulator starts)
    r = subprocess.run([str(REPO / "scripts" / "run.sh"), "--emu", "bochs", "--cpus", "1", "--mem",
                        "256", "--iso", str(REPO / "build" / "test.iso"), "--net-raw", "5555:5556"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    assert r.returncode == 2 and "--net-raw: QEMU only" in r.stderr, r
