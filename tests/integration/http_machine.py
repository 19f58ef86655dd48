"""Helpers of the HTTP tests (test_net_http*.py): a machine booting
configs/http-test.cfg with its HTTP port (8080) and console port (2323)
forwarded to free host ports, and a small HTTP client on raw sockets (the
tests need to send what no library would: oversized and broken requests).
"""

import json
import re
import socket
import time

from conftest import BASE_CMDLINE, REPO, SCALE, require, timeout_for
from test_config import build_config_iso
from test_net_console import free_port, serial_command

import emu  # noqa: E402

TOKEN = "bulkhead-test-token"
HTTP_CFG = REPO / "configs" / "http-test.cfg"
WAIT = {"qemu": 20, "qemu-svm": 30, "bochs": 90}


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<HTTP {self.status} {self.body[:300]!r}>"


def read_response(sock, timeout):
    """One HTTP/1.1 response from sock (Content-Length framed)."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        d = sock.recv(65536)
        if not d:
            raise ConnectionError(f"closed before a response head; got {data!r}")
        data += d
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.1 (\d{3}) ", lines[0])
    assert m, lines[0]
    headers = {}
    for line in lines[1:]:
        k, v = line.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0"))
    while len(rest) < n:
        d = sock.recv(65536)
        if not d:
            break
        rest += d
    return Response(int(m.group(1)), headers, rest[:n]), rest[n:]


class HttpMachine:
    def __init__(self, emu_name, cmdline=BASE_CMDLINE):
        require(emu_name)
        self.emu = emu_name
        self.http_port = free_port()
        self.console_port = free_port()
        self.wait = WAIT[emu_name] * SCALE
        iso = build_config_iso(HTTP_CFG)
        self.m = emu.Machine(emu=emu_name, cpus=2, mem=256, iso=iso, cmdline=cmdline,
                             timeout=timeout_for(emu_name) + 900 * SCALE,
                             net_forward=[f"{self.http_port}:8080", f"{self.console_port}:2323"])
        try:
            self.m.expect(r"net: http listening on TCP port 8080", timeout=timeout_for(emu_name))
            self.m.expect(r"net: address 10\.0\.2\.15/24 \(dhcp\)", timeout=self.wait * 2)
            self.m.expect(r"bulkhead> ", timeout=self.wait)
        except Exception:
            self.close()
            raise

    def connect(self):
        return socket.create_connection(("127.0.0.1", self.http_port), timeout=self.wait)

    def request(self, method, path, token=TOKEN, body=b"", headers=None, raw=None):
        """One request on a new connection (Connection: close). A connection
        that fails says what the machine was doing: CI shows a failing
        test's traceback, not always the serial console attached to it."""
        try:
            return self._request(method, path, token, body, headers, raw)
        except OSError as e:
            raise ConnectionError(f"{method} {path}: {e}\n{self.state()}") from e

    def state(self, lines=40):
        """The emulator's status and the tails of its serial console and log."""
        alive = "running" if self.m.running else f"ended, status {self.m.proc.poll()}"
        return (f"--- {self.emu} after {self.m.elapsed:.1f}s: {alive}; serial tail ---\n"
                f"{self.m.tail(lines)}\n{self.m.emulator_log(15)}")

    def _request(self, method, path, token, body, headers, raw):
        with self.connect() as s:
            if raw is None:
                h = {"Host": "bulkhead", "Connection": "close"}
                if token is not None:
                    h["Authorization"] = f"Bearer {token}"
                if body or method in ("POST", "PUT"):
                    h["Content-Length"] = str(len(body))
                h.update(headers or {})
                raw = (f"{method} {path} HTTP/1.1\r\n" +
                       "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n").encode() + body
            s.sendall(raw)
            r, _ = read_response(s, self.wait)
            return r

    def vm(self, name):
        r = self.request("GET", f"/api/vms/{name}")
        assert r.status == 200, r
        return r.json()

    def wait_state(self, name, state, timeout=None):
        end = time.monotonic() + (timeout or self.wait)
        while True:
            got = self.vm(name)["state"]
            if got == state:
                return
            if time.monotonic() > end:
                raise AssertionError(f"{name} is {got}, not {state}")
            time.sleep(0.3)

    def alive(self):
        """The hypervisor and its serial console still answer; no panic."""
        assert "bulkhead: poweroff" not in self.m.output
        assert "PANIC" not in self.m.output.upper().replace("PANIC=POWEROFF", "")
        out = serial_command(self.m, "version", self.wait)
        assert out.startswith("bulkhead "), out

    def close(self):
        self.m.close()
