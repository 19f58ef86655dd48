"""Run-time definitions over HTTP (docs/api.md "Defining VMs"): PUT and
DELETE /api/vms/NAME, PUT, GET and DELETE /api/modules with the console's
`define`/`undefine`/`modules` behind them (core/vm_define.h). Under QEMU
with the SVM backend and under Bochs (VMX), so a VM defined over HTTP from
an uploaded kernel really runs."""

import time

import pytest

from conftest import REPO
from test_net_console import VM_EMUS
from http_machine import HttpMachine

ECHO = REPO / "build" / "guests" / "echo.elf"


def section(name, kernel="echo.elf", extra=""):
    return (f"[vm {name}]\nkernel = {kernel}\ncmdline = \"name={name}\"\nmemory = 4M\n"
            f"cpus = [1]\n{extra}").encode()


@pytest.fixture(scope="module", params=VM_EMUS)
def web(request):
    hm = HttpMachine(request.param)
    yield hm
    hm.close()


def test_net_http_define_and_undefine(web):
    r = web.request("PUT", "/api/vms/web3", body=section("web3", extra="autostart = true\n"))
    assert r.status == 201 and r.json()["name"] == "web3", r
    web.wait_state("web3", "running")
    web.m.expect(r"\[web3\] echo ready", timeout=web.wait)
    # The console's words: a running VM is not removed.
    r = web.request("DELETE", "/api/vms/web3")
    assert r.status == 409 and "web3 is running" in r.json()["error"], r
    assert web.request("POST", "/api/vms/web3/destroy").status == 200
    web.wait_state("web3", "shutoff")
    end = time.monotonic() + web.wait
    while True:  # its memory is scrubbed after the stop: "still stopping" meanwhile
        r = web.request("DELETE", "/api/vms/web3")
        if r.status != 409 or "still stopping" not in r.json()["error"] or \
                time.monotonic() > end:
            break
        time.sleep(0.5)
    assert r.status == 200 and r.json() == {"undefined": "web3"}, r
    r = web.request("GET", "/api/vms/web3")
    assert r.status == 404, r
    r = web.request("DELETE", "/api/vms/web3")
    assert r.status == 404 and r.json()["error"] == "no VM named 'web3'", r


def test_net_http_define_errors(web):
    r = web.request("PUT", "/api/vms/bad", body=b"[vm bad]\nkernel = echo.elf\nmemory = lots\n")
    assert r.status == 400, r
    assert r.json()["error"] == ("define:3: vm bad: memory: expected a size with a unit like 64M, "
                                 "got 'lots'"), r
    r = web.request("PUT", "/api/vms/echo", body=section("echo"))
    assert r.status == 409 and "already defined" in r.json()["error"], r
    r = web.request("PUT", "/api/vms/other", body=section("named"))
    assert r.status == 400, r  # the URL names the VM
    r = web.request("PUT", "/api/vms/m", body=b"[vm m]\nkernel = nope.elf\n")
    assert r.status == 400 and "module 'nope.elf' is not present" in r.json()["error"], r
    r = web.request("PUT", "/api/vms/x", body=b"\x00\xff{not a section" * 10)
    assert r.status == 400, r
    r = web.request("PUT", "/api/vms/x", body=b"x" * 9000)
    assert r.status == 413, r
    r = web.request("PUT", "/api/vms/x", token="wrong", body=section("x"))
    assert r.status == 401, r
    names = [v["name"] for v in web.request("GET", "/api/vms").json()]
    assert names == ["echo", "echo2"], names
    web.alive()


def test_net_http_upload_module(web):
    data = ECHO.read_bytes()
    assert len(data) > 8192  # over HTTP_BODY_MAX: streamed in pieces
    r = web.request("PUT", "/api/modules/up.elf", token="wrong", body=data)
    assert r.status == 401, r
    r = web.request("PUT", "/api/modules/up.elf", body=data)
    assert r.status == 201 and r.json() == {"name": "up.elf", "size": len(data)}, r
    r = web.request("PUT", "/api/modules/small.bin", body=b"tiny")
    assert r.status == 201 and r.json()["size"] == 4, r
    mods = {m["name"]: m for m in web.request("GET", "/api/modules").json()["modules"]}
    assert mods["up.elf"]["uploaded"] and mods["up.elf"]["size"] == len(data), mods
    assert not mods["echo.elf"]["uploaded"], mods
    # A VM from the uploaded kernel runs.
    r = web.request("PUT", "/api/vms/up", body=section("up", kernel="up.elf",
                                                      extra="autostart = true\n"))
    assert r.status == 201, r
    web.m.expect(r"\[up\] echo ready", timeout=web.wait)
    # A module in use is not deleted; a boot module's name is not taken.
    assert web.request("DELETE", "/api/modules/up.elf").status == 409
    r = web.request("PUT", "/api/modules/echo.elf", body=b"x" * 10)
    assert r.status == 409, r
    # Over modules.upload_limit (64M by default): refused before any byte.
    r = web.request("PUT", "/api/modules/huge", body=b"",
                    headers={"Content-Length": str(100 << 20)})
    assert r.status == 413, r
    assert web.request("DELETE", "/api/modules/small.bin").status == 200
    web.alive()
