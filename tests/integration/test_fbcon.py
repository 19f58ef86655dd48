"""console=fb: the hypervisor's console on the boot loader's framebuffer.

QEMU's monitor takes a screendump; the test renders the expected banner line
with the same font (scripts/psffont.py reads the PSF font the build used)
and looks for it, cell by cell, on the screen. Covered: bulkhead.efi
(uefi-direct), GRUB under UEFI (OVMF's GOP) and GRUB under BIOS (SeaBIOS'
VBE): the multiboot2 header asks for a framebuffer and the grub.cfg that
mkiso.sh writes lets GRUB set one up when the command line says console=fb
(docs/efi.md). And a machine without any display: serial only."""

import re
import socket
import subprocess
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


# Where each loader's framebuffer comes from: bulkhead.efi (GOP), GRUB under
# UEFI (efi_gop), GRUB under BIOS (VBE).
SCREENS = [pytest.param("uefi-direct", marks=pytest.mark.uefi, id="uefi-direct"),
           pytest.param("uefi", marks=pytest.mark.uefi, id="grub-uefi"),
           pytest.param("qemu", marks=pytest.mark.qemu, id="grub-bios")]
LOADER = {"uefi-direct": "bulkhead.efi", "uefi": "GRUB", "qemu": "GRUB"}


@pytest.mark.parametrize("emu_name", SCREENS)
def test_banner_on_the_screen(boot, request, tmp_path, emu_name):
    sock = tmp_path / "monitor.sock"
    iso = request.getfixturevalue("esp") if emu_name == "uefi-direct" else None
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
    # Lines from before the console started (replayed from the log) too,
    # naming the loader that described the framebuffer.
    assert screen_has(shot, f"bulkhead: booting (loader {LOADER[emu_name]}")
    # And the check can fail: text that was never printed is not found.
    assert not screen_has(shot, "bulkhead 9.9.9 (never printed)")


@pytest.mark.qemu
def test_console_fb_without_framebuffer_stays_on_serial(boot):
    # No display adapter at all: GRUB finds no video mode to give.
    m = boot("qemu", cmdline=f"{BASE_CMDLINE} console=com1,fb exec=\"version; poweroff 0\"",
             extra=["-vga none"])
    assert m.wait_exit() == 0, m.output
    out = m.output
    warn = re.search(r"console=fb: the boot loader gave no linear RGB framebuffer; serial only",
                     out)
    assert warn, out
    assert not re.search(r"^fb: ", out, re.M), out
    # It kept running: the console answered after the warning.
    assert re.search(r"^bulkhead \d+\.\d+\.\d+ \(.*\)$", out[warn.end():], re.M), out


def grub_cfg(tmp_path, cmdline):
    """The grub.cfg scripts/mkiso.sh writes for `cmdline`."""
    iso = tmp_path / "t.iso"
    r = subprocess.run([str(REPO / "scripts" / "mkiso.sh"), "--config", str(REPO / "configs" / "test.cfg"),
                        "--out", str(iso), "--cmdline", cmdline],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout
    cfg = tmp_path / "grub.cfg"
    r = subprocess.run(["xorriso", "-osirrox", "on", "-indev", str(iso),
                        "-extract", "/boot/grub/grub.cfg", str(cfg)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout
    return cfg.read_text()


TEXT_ON_BIOS = 'if [ "$grub_platform" = pc ]; then set gfxpayload=text; fi'


@pytest.mark.parametrize("cmdline, screen", [
    ("console=com1,fb", True),
    ("console=fb", True),
    ("console=fb,com2 loglevel=info", True),
    ("console=com1 loglevel=info", False),
    # The last console= counts, as in the hypervisor; "fbx" is no screen.
    ("console=fb console=com1", False),
    ("console=fbx", False),
])
def test_grub_sets_a_graphics_mode_only_for_console_fb(tmp_path, cmdline, screen):
    """BIOS GRUB stays in VGA text unless the command line wants the screen
    (its VBE mode setting crashes under Bochs' VGA BIOS); UEFI GRUB always
    loads its GOP driver (the firmware's screen is graphical anyway)."""
    cfg = grub_cfg(tmp_path, cmdline)
    assert 'if [ "$grub_platform" = efi ]; then insmod efi_gop; fi' in cfg, cfg
    assert (TEXT_ON_BIOS in cfg) != screen, cfg
    # gfxpayload is read when GRUB boots, after multiboot2 set its default.
    if not screen:
        assert cfg.index("multiboot2 ") < cfg.index(TEXT_ON_BIOS), cfg
