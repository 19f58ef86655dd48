"""The HTTP API, /metrics and the status page (docs/api.md), from Python on
the host through the emulator's user networking. The VMs of
configs/http-test.cfg (echo, echo2) run under QEMU with the SVM backend and
under Bochs (VMX), so the API's lifecycle actions act on real VMs; the page
is driven in Debian's chromium (selenium)."""

import os
import time

import pytest

from conftest import REPO
from test_net_console import VM_EMUS
from http_machine import TOKEN, HttpMachine, read_response

ARTIFACTS = REPO / "build" / "test-artifacts"


@pytest.fixture(scope="module", params=VM_EMUS)
def web(request):
    hm = HttpMachine(request.param)
    yield hm
    hm.close()


def test_net_http_api_vms(web):
    r = web.request("GET", "/api/vms")
    assert r.status == 200, r
    assert r.headers["content-type"] == "application/json"
    vms = {v["name"]: v for v in r.json()}
    assert set(vms) == {"echo", "echo2"}, vms
    web.wait_state("echo", "running")
    v = web.vm("echo")
    assert v["vcpus"] == 1 and v["cpus"] == [1] and v["memory_mib"] == 4, v
    assert v["state_text"] == "running" and v["starts"] >= 1, v
    for key in ("uptime_ms", "exits", "guest_ms", "root_ms", "cpu_percent"):
        assert isinstance(v[key], int), (key, v)


def test_net_http_auth_refused(web):
    for token in (None, "", "wrong", TOKEN + "x", TOKEN[:-1]):
        for method, path in (("GET", "/api/vms"), ("POST", "/api/vms/echo/destroy"),
                             ("GET", "/api/vms/nosuchvm"), ("GET", "/api/log")):
            r = web.request(method, path, token=token)
            assert r.status == 401, (token, path, r)
            assert r.headers["www-authenticate"] == "Bearer"
            assert "token" in r.json()["error"]
    r = web.request("GET", "/api/vms", headers={"Authorization": f"Basic {TOKEN}"}, token=None)
    assert r.status == 401, r
    web.wait_state("echo", "running")  # nothing ran


def test_net_http_errors_use_the_console_words(web):
    r = web.request("GET", "/api/vms/nosuchvm")
    assert r.status == 404 and r.json() == {"error": "no VM named 'nosuchvm'"}, r
    r = web.request("POST", "/api/vms/nosuchvm/start")
    assert r.status == 404 and r.json() == {"error": "no VM named 'nosuchvm'"}, r
    r = web.request("POST", "/api/vms/echo/explode")
    assert r.status == 404 and "no such action" in r.json()["error"], r
    r = web.request("GET", "/api/vms/echo/start")
    assert r.status == 405 and r.headers["allow"] == "POST", r
    r = web.request("DELETE", "/api/vms")
    assert r.status == 405, r
    r = web.request("GET", "/api/nothing")
    assert r.status == 404, r
    r = web.request("GET", "/nothing", token=None)
    assert r.status == 404, r
    for path in ("/", "/metrics"):
        r = web.request("POST", path, token=None)
        assert r.status == 405 and r.headers["allow"] == "GET, HEAD", r
    # A wrong state: 409 with the words the console prints after "error: ".
    r = web.request("POST", "/api/vms/echo/resume")
    assert r.status == 409, r
    msg = r.json()["error"]
    assert msg and "echo" in msg, r
    web.m.send("resume echo\r")
    web.m.expect(r"error: " + msg.replace("(", r"\(").replace(")", r"\)"), timeout=web.wait)


def test_net_http_lifecycle(web):
    web.wait_state("echo2", "running")
    r = web.request("POST", "/api/vms/echo2/suspend")
    assert r.status == 200 and r.json()["state"] == "paused", r
    r = web.request("POST", "/api/vms/echo2/suspend")
    assert r.status == 409, r
    r = web.request("POST", "/api/vms/echo2/resume")
    assert r.status == 200 and r.json()["state"] == "running", r
    r = web.request("POST", "/api/vms/echo2/destroy")
    assert r.status == 200, r
    web.wait_state("echo2", "shutoff")
    r = web.request("POST", "/api/vms/echo2/start")
    assert r.status == 200, r
    web.wait_state("echo2", "running")
    r = web.request("POST", "/api/vms/echo2/reset")
    assert r.status == 200, r
    web.wait_state("echo2", "running")
    assert web.vm("echo2")["starts"] >= 3
    for bad in ("timeout=", "timeout=abc", "timeout=99999999s", "x=1"):
        r = web.request("POST", f"/api/vms/echo2/shutdown?{bad}")
        assert r.status == 400 and "usage: shutdown" in r.json()["error"], (bad, r)
    r = web.request("POST", "/api/vms/echo2/reset?timeout=1s")
    assert r.status == 400 and r.json()["error"] == "this action takes no query", r
    # The echo guest ignores the request: forced off after the timeout.
    r = web.request("POST", "/api/vms/echo2/shutdown?timeout=500ms")
    assert r.status == 202, r
    web.wait_state("echo2", "shutoff", timeout=60)
    r = web.request("POST", "/api/vms/echo2/start")
    assert r.status == 200, r
    web.wait_state("echo2", "running")
    web.m.expect(r"api: destroy echo2", timeout=web.wait)


def test_net_http_cpus_and_log(web):
    r = web.request("GET", "/api/cpus")
    assert r.status == 200, r
    cpus = r.json()
    assert [c["cpu"] for c in cpus] == [0, 1], cpus
    assert cpus[0]["console"] is True and 0 <= cpus[1]["load_percent"] <= 100
    r = web.request("GET", "/api/log")
    assert r.status == 200, r
    lines = r.json()["lines"]
    assert any("net: http listening on TCP port 8080" in line for line in lines), lines[-20:]


def test_net_http_keep_alive_and_pipelining(web):
    req = (f"GET /api/vms HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\r\n").encode()
    with web.connect() as s:
        s.sendall(req)
        r, rest = read_response(s, web.wait)
        assert r.status == 200 and r.headers["connection"] == "keep-alive", r
        s.sendall(req * 3)  # pipelined: answered in order on the same connection
        got = 0
        buf = rest
        while got < 3:
            if b"\r\n\r\n" not in buf:
                buf += s.recv(65536)
                continue
            s2 = _Replay(s, buf)
            r, buf = read_response(s2, web.wait)
            assert r.status == 200, r
            got += 1
    r = web.request("HEAD", "/api/vms")
    assert r.status == 200 and r.body == b"" and int(r.headers["content-length"]) > 0
    # Expect: 100-continue (curl's uploads): the go-ahead first, then the answer.
    with web.connect() as s:
        s.sendall((f"POST /api/vms/nosuchvm/start HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                   f"{TOKEN}\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n").encode())
        s.settimeout(web.wait)
        got = b""
        while b"\r\n\r\n" not in got:
            got += s.recv(100)
        assert got.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), got
        s.sendall(b"hello")
        r, _ = read_response(_Replay(s, got[len(b"HTTP/1.1 100 Continue\r\n\r\n"):]), web.wait)
        assert r.status == 404, r


class _Replay:
    """A socket whose first recv returns bytes already read."""

    def __init__(self, sock, data):
        self.sock, self.data = sock, data

    def settimeout(self, t):
        self.sock.settimeout(t)

    def recv(self, n):
        if self.data:
            d, self.data = self.data, b""
            return d
        return self.sock.recv(n)


def test_net_http_metrics(web):
    from prometheus_client.parser import text_string_to_metric_families
    r = web.request("GET", "/metrics", token=None)
    assert r.status == 200, r
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    fams = {f.name: f for f in text_string_to_metric_families(r.body.decode())}
    state = {(s.labels["vm"], s.labels["state"]): s.value for s in fams["bulkhead_vm_state"].samples}
    assert state[("echo", "running")] == 1 and state[("echo", "crashed")] == 0, state
    exits = [s for s in fams["bulkhead_vm_exits"].samples if s.labels["vm"] == "echo"]
    assert exits and all(s.value > 0 for s in exits), exits
    for name in ("bulkhead_vm_guest_seconds", "bulkhead_vm_root_seconds", "bulkhead_vm_starts",
                 "bulkhead_vm_restarts", "bulkhead_vm_output_dropped_lines",
                 "bulkhead_cpu_busy_seconds", "bulkhead_cpu_scheduling_seconds",
                 "bulkhead_nic_rx_packets", "bulkhead_nic_tx_bytes", "bulkhead_http_requests"):
        assert name in fams, (name, sorted(fams))
        assert fams[name].type == "counter", name
    rx = [s.value for s in fams["bulkhead_nic_rx_packets"].samples if s.name.endswith("_total")]
    assert rx and rx[0] > 0
    cpus = {s.labels["cpu"] for s in fams["bulkhead_cpu_busy_seconds"].samples}
    assert cpus == {"0", "1"}, cpus


def _browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("python3-selenium is not installed (make deps)")
    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1100,700"):
        opts.add_argument(a)
    opts.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def test_net_http_status_page(web):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    web.wait_state("echo", "running")
    web.wait_state("echo2", "running")
    r = web.request("GET", "/", token=None)
    assert r.status == 200 and r.headers["content-type"].startswith("text/html"), r
    assert b"http://" not in r.body and b"https://" not in r.body  # no external assets
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    b = _browser()
    try:
        b.get(f"http://127.0.0.1:{web.http_port}/")
        # The page redraws its table on every refresh (under QEMU often): an
        # element found just before a redraw is stale a moment later, so
        # every look at the table is retried until it holds.
        wait = WebDriverWait(b, web.wait, ignored_exceptions=(StaleElementReferenceException,))
        assert "Enter the API token" in b.find_element(By.ID, "status").text
        assert not b.find_elements(By.CSS_SELECTOR, "#vms tr")  # nothing without the token
        b.find_element(By.ID, "token").send_keys(TOKEN)
        b.find_element(By.ID, "savetoken").click()

        def row_state(name):
            rows = b.find_elements(By.CSS_SELECTOR, f'#vms tr[data-vm="{name}"] td[data-state]')
            return rows[0].get_attribute("data-state") if rows else None

        wait.until(lambda _: row_state("echo") == "running" and row_state("echo2") == "running")
        names = wait.until(lambda _: [e.get_attribute("data-vm")
                                      for e in b.find_elements(By.CSS_SELECTOR, "#vms tr")])
        assert names == ["echo", "echo2"], names

        def click_destroy(_):
            b.find_element(By.CSS_SELECTOR,
                           '#vms tr[data-vm="echo2"] button[data-action="destroy"]').click()
            return True

        wait.until(click_destroy)
        wait.until(lambda _: row_state("echo2") == "shutoff")  # refreshed by the page itself
        assert wait.until(lambda _: row_state("echo")) == "running"
        b.save_screenshot(str(ARTIFACTS / f"status-page-{web.emu}.png"))
    finally:
        b.quit()
    assert web.vm("echo2")["state"] == "shutoff"  # the click stopped the VM itself
    web.m.expect(r"api: destroy echo2", timeout=web.wait)
    assert os.path.getsize(ARTIFACTS / f"status-page-{web.emu}.png") > 1000
    r = web.request("POST", "/api/vms/echo2/start")
    assert r.status == 200, r


def test_net_http_console_still_works(web):
    web.alive()
    time.sleep(0.1)


def test_net_http_under_qemu():
    """The same service under QEMU without a virtualization backend (no VMX,
    no SVM: no VM runs, the API and the metrics still answer)."""
    from prometheus_client.parser import text_string_to_metric_families
    hm = HttpMachine("qemu")
    try:
        r = hm.request("GET", "/api/vms")
        assert r.status == 200 and isinstance(r.json(), list), r
        assert hm.request("GET", "/api/vms", token="nope").status == 401
        assert hm.request("POST", "/api/vms/echo/start", token=None).status == 401
        r = hm.request("GET", "/metrics", token=None)
        assert r.status == 200, r
        fams = {f.name: f for f in text_string_to_metric_families(r.body.decode())}
        assert "bulkhead_nic_rx_packets" in fams and "bulkhead_cpu_busy_seconds" in fams, fams
        r = hm.request("GET", "/", token=None)
        assert r.status == 200 and b"<title>Bulkhead</title>" in r.body, r
        hm.alive()
    finally:
        hm.close()
