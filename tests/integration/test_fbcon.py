"""console=fb: the hypervisor's console on the boot loader's framebuffer.

QEMU's monitor takes a screendump; the test renders the expected banner line
with the same font (scripts/psffont.py reads the PSF font the build used)
and looks for it, cell by cell, on the screen. Covered: bulkhead.efi
(uefi-direct), and a GRUB boot, which passes no framebuffer (the kernel
does not ask GRUB for one: see docs/efi.md)."""

import re
import socket
import sys
import time

import pytest

from conftest import BASE_CMDLINE, REPO

sys.path.insert(0, str(REPO / "scripts"))
import psffont  # noqa: E402
from test_efi import esp  # noqa: E402,F401  (the ESP fixture: make test-esp)

FONT = psffont.Font()


def read_ppm(path):
    data = path.read_bytes()
    magic, dims, maxval, pixels = data.split(b"\n", 3)
    assert magic == b"P6" and maxval == b"255", data[:20]
    w, h = map(int, dims.split())
    return w, h, pixels


def ink_rows(shot, row):
    """The text row `row` as one string of '#'/'.' per pixel row."""
    w, h, px = shot
    out = []
    for y in range(row * FONT.height, (row + 1) * FONT.height):
        line = px[y * w * 3:(y + 1) * w * 3]
        out.append("".join("#" if line[x * 3:x * 3 + 3] != b"\0\0\0" else "."
                           for x in range(w)))
    return out


def rendered(text):
    rows = []
    for y in range(FONT.height):
        rows.append("".join("".join("#" if FONT.rows(c)[y] & (0x80 >> x) else "."
                                    for x in range(8)) for c in text))
    return rows


def screen_has(shot, text):
    want = rendered(text)
    w, h, _ = shot
    for row in range(h // FONT.height):
        got = ink_rows(shot, row)
        if all(g[:len(r)] == r for g, r in zip(got, want)):
            return True
    return False


def screendump(sock_path, out):
    s = socket.socket(socket.AF_UNIX)
    s.connect(str(sock_path))
    s.sendall(f"screendump {out}\n".encode())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if out.exists() and out.stat().st_size > 0:
            time.sleep(0.5)  # let QEMU finish writing
            s.close()
            return read_ppm(out)
        time.sleep(0.2)
    s.close()
    pytest.fail("QEMU wrote no screendump")


@pytest.mark.uefi
def test_banner_on_the_screen(boot, esp, tmp_path):
    emu_name = "uefi-direct"
    sock = tmp_path / "monitor.sock"
    iso = esp
    m = boot(emu_name, iso=iso, cmdline="console=com1,fb loglevel=info panic=poweroff",
             extra=[f"-monitor unix:{sock},server,nowait"])
    m.expect(r"^bulkhead> ")
    out = m.output
    fb = re.search(r"^fb: (\d+)x(\d+), (\d+) bpp at 0x[0-9a-f]+: the console is on the screen too$",
                   out, re.M)
    assert fb, out
    version = re.search(r"^bulkhead \d+\.\d+\.\d+ \(.*\)$", out, re.M).group(0)
    shot = screendump(sock, tmp_path / "screen.ppm")
    assert (shot[0], shot[1]) == (int(fb.group(1)), int(fb.group(2)))
    assert screen_has(shot, version), f"{version!r} is not on the screen"
    # Lines from before the console started (replayed from the log) too.
    assert screen_has(shot, "bulkhead: booting (loader ")
    # And the check can fail: text that was never printed is not found.
    assert not screen_has(shot, "bulkhead 9.9.9 (never printed)")


@pytest.mark.qemu
def test_console_fb_without_framebuffer_stays_on_serial(boot):
    m = boot("qemu", cmdline=f"{BASE_CMDLINE} console=com1,fb exec=\"poweroff 0\"")
    assert m.wait_exit() == 0, m.output
    assert re.search(r"console=fb: the boot loader gave no linear RGB framebuffer; serial only",
                     m.output), m.output
