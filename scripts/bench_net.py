"""make bench, network part (QEMU only, scripts/bench.py calls these):

  http-api-rps    GET /api/vms over one keep-alive connection through the
                  forwarded port, for a few seconds: requests per second.
  tcp-console-rtt a console command (`version`) typed over the TCP console
                  and its answer back to the prompt: the median round trip.

Both boot configs/http-test.cfg under plain QEMU (TCG; no VMs run there, the
console and the API do) with --net-forward. Figures include QEMU's slirp and
TCG: compare runs on one machine, not across machines."""

import re
import socket
import statistics
import subprocess
import time
from pathlib import Path

import emu

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build"
TOKEN = "bulkhead-test-token"
PASSWORD = b"bulkhead-test"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _iso():
    out = BUILD / "bench-net.iso"
    subprocess.run([str(ROOT / "scripts" / "mkiso.sh"), "--config",
                    str(ROOT / "configs" / "http-test.cfg"), "--out", str(out),
                    "--module", str(BUILD / "guests" / "echo.elf")],
                   check=True, stdout=subprocess.DEVNULL)
    return out


def _machine():
    http, console = _free_port(), _free_port()
    m = emu.Machine(emu="qemu", cpus=2, mem=256, iso=_iso(), timeout=600,
                    cmdline="console=com1 loglevel=info",
                    net_forward=[f"{http}:8080", f"{console}:2323"])
    m.expect(r"net: http listening on TCP port 8080", 120)
    m.expect(r"net: address 10\.0\.2\.15/24 \(dhcp\)", 60)
    m.expect(r"bulkhead> ", 30)
    return m, http, console


def _read_answer(s, buf):
    while b"\r\n\r\n" not in buf:
        buf += s.recv(65536)
    head, rest = buf.split(b"\r\n\r\n", 1)
    n = int(re.search(rb"Content-Length: (\d+)", head).group(1))
    while len(rest) < n:
        rest += s.recv(65536)
    assert head.startswith(b"HTTP/1.1 200 "), head
    return rest[n:]


def http_api_rps(seconds=5):
    m, http, _ = _machine()
    with m:
        req = (f"GET /api/vms HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {TOKEN}"
               "\r\n\r\n").encode()
        with socket.create_connection(("127.0.0.1", http), timeout=30) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            buf, n, t0 = b"", 0, time.monotonic()
            while time.monotonic() - t0 < seconds:
                s.sendall(req)
                buf = _read_answer(s, buf)
                n += 1
            dt = time.monotonic() - t0
    print(f"bench: http-api-rps: {n / dt:.0f} req/s (qemu)", flush=True)


def tcp_console_rtt(rounds=50):
    m, _, console = _machine()
    with m:
        with socket.create_connection(("127.0.0.1", console), timeout=30) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def until(pat):
                data = b""
                while not re.search(pat, data):
                    data += s.recv(4096)
                return data

            until(rb"password: ")
            s.sendall(PASSWORD + b"\r\n")
            until(rb"bulkhead> ")
            times = []
            for _ in range(rounds):
                t0 = time.perf_counter()
                s.sendall(b"version\r")
                until(rb"bulkhead \S+.*\r\n(?:.*\r\n)*bulkhead> ")
                times.append(time.perf_counter() - t0)
    us = statistics.median(times) * 1e6
    print(f"bench: tcp-console-rtt: {us:.0f} us (qemu)", flush=True)  # the median of rounds
