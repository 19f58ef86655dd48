"""test_passthrough_e1000_linux: Bochs' e1000 (00:02.0, slirp) passed
through to Debian's Linux with `iommu = off-unsafe` (Bochs has no IOMMU)
and a fixed `memory_base`, so the VM's RAM is identity-mapped and the NIC's
DMA reaches it. Linux's own e1000 driver binds the device, gets a DHCP
lease from Bochs' slirp, and the test on the host talks to a server in the
guest through a forwarded port (loopback only).

The guest: Debian's standard kernel (the cloud kernel has no e1000) with
its e1000.ko added to the busybox initramfs of scripts/build-linux-guest.sh
(build/linux/initramfs); built here into build/linux-nic/ once. Linux boots
take minutes in Bochs: run this alone.

Run: /work/shared-tools/emu-slot /usr/bin/python3 -m pytest -q \
    tests/integration/test_passthrough_linux.py -p no:xdist
"""

import glob
import os
import re
import shutil
import socket
import subprocess
import time

import pytest

from conftest import REPO

pytestmark = pytest.mark.bochs

MKISO = REPO / "scripts" / "mkiso.sh"
NIC = REPO / "build" / "linux-nic"
BASE = REPO / "build" / "linux"
KPKG = "linux-image-6.1.0-57-amd64"
BOOT_TIMEOUT = 900
GUEST_PORT = 5555

INIT = """#!/bin/sh
# Bulkhead passthrough test guest: e1000, DHCP, a line server on port 5555.
export PATH=/bin:/sbin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
insmod /lib/modules/e1000.ko || echo "nic: insmod e1000 failed"
for i in 1 2 3 4 5 6 7 8 9 10; do [ -e /sys/class/net/eth0 ] && break; sleep 1; done
echo "nic: driver $(basename "$(readlink /sys/class/net/eth0/device/driver)")"
ip link set lo up
ip link set eth0 up
udhcpc -i eth0 -s /etc/udhcpc.script -t 20 -T 3 -n -q || echo "nic: no DHCP lease"
nc -ll -p 5555 -e /bin/nicsrv &
echo "BULKHEAD-NIC-READY"
while :; do sleep 3600; done
"""

UDHCPC = """#!/bin/sh
case "$1" in
bound|renew)
    ifconfig "$interface" "$ip" netmask "$subnet" up
    [ -n "$router" ] && route add default gw "$router" dev "$interface"
    echo "nic: lease $ip from $serverid"
    ;;
esac
exit 0
"""

SERVER = """#!/bin/sh
read line
echo "guest got: $line"
"""


def build_guest():
    """build/linux-nic/{bzImage,initrd.gz}: Debian's standard kernel and
    the busybox initramfs with e1000.ko and the init above."""
    if not (BASE / "initramfs" / "bin" / "busybox").is_file():
        pytest.fail("build/linux missing: cp -r /work/main/build/linux build/ "
                    "or run scripts/build-linux-guest.sh")
    kdir = NIC / "kernel"
    if not glob.glob(str(kdir / "boot" / "vmlinuz-*")):
        dl = NIC / "dl"
        dl.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(["apt-get", "download", "-q", KPKG], cwd=dl,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert r.returncode == 0, r.stdout
        deb = sorted(dl.glob(f"{KPKG}_*.deb"))[-1]
        subprocess.run(["dpkg", "-x", str(deb), str(kdir)], check=True)
    vmlinuz = glob.glob(str(kdir / "boot" / "vmlinuz-*"))[0]
    ko = glob.glob(str(kdir / "lib" / "modules" / "*" / "kernel" / "drivers" / "net" /
                       "ethernet" / "intel" / "e1000" / "e1000.ko"))
    assert ko, "no e1000.ko in the kernel package"
    ir = NIC / "initramfs"
    if ir.exists():
        shutil.rmtree(ir)
    # cp -a: the tree holds /dev/console, a device node (copytree would read it).
    subprocess.run(["cp", "-a", str(BASE / "initramfs"), str(ir)], check=True)
    shutil.copy(ko[0], ir / "lib" / "modules" / "e1000.ko")
    for path, text in (("init", INIT), ("etc/udhcpc.script", UDHCPC), ("bin/nicsrv", SERVER)):
        (ir / path).write_text(text)
        os.chmod(ir / path, 0o755)
    files = subprocess.run("find . -mindepth 1 | LC_ALL=C sort", shell=True, cwd=ir,
                           stdout=subprocess.PIPE, check=True).stdout
    tool = (["cpio", "--quiet", "-H", "newc", "-o", "-R", "0:0"] if shutil.which("cpio") else
            [str(BASE / "busybox" / "bin" / "busybox"), "cpio", "-H", "newc", "-o"])
    cpio = subprocess.run(tool, cwd=ir,
                          input=files, stdout=subprocess.PIPE, check=True).stdout
    gz = subprocess.run(["gzip", "-9", "-n"], input=cpio, stdout=subprocess.PIPE,
                        check=True).stdout
    (NIC / "initrd.gz").write_bytes(gz)
    shutil.copy(vmlinuz, NIC / "bzImage")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(m, regex, timeout, start=0):
    pat = re.compile(regex, re.M)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = pat.search(m.output, start)
        if found:
            return found
        if not m.running:
            break
        time.sleep(1)
    raise AssertionError(f"{regex!r} not seen within {timeout}s; output:\n{m.output[-6000:]}")


CFG = """[global]
loglevel = info
[vm linux]
protocol = linux
kernel = bzImage
initrd = initrd.gz
cmdline = "console=ttyS0 mitigations=off"
memory = 256M
memory_base = 0x20000000
cpus = [1]
pci = [00:02.0]
iommu = off-unsafe
autostart = true
"""


def test_passthrough_e1000_linux(boot, tmp_path):
    build_guest()
    cfg = tmp_path / "nic.cfg"
    cfg.write_text(CFG)
    iso = tmp_path / "nic.iso"
    r = subprocess.run([str(MKISO), "--config", str(cfg), "--out", str(iso),
                        "--module", str(NIC / "bzImage"), "--module", str(NIC / "initrd.gz")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout
    port = free_port()
    slirp = tmp_path / "slirp.conf"
    slirp.write_text(f"# slirp config\nhostfwd = tcp:127.0.0.1:{port}-:{GUEST_PORT}\n")
    m = boot("bochs", cpus=2, mem=1024, iso=iso, timeout=BOOT_TIMEOUT + 300,
             cmdline="console=com1 loglevel=info",
             extra=[f"e1000: enabled=1, mac=52:54:00:12:34:56, ethmod=slirp, script={slirp}"])
    wait_for(m, r"its RAM is identity-mapped, so their DMA reaches it", 200)
    wait_for(m, r"^\[linux\] BULKHEAD-NIC-READY$", BOOT_TIMEOUT)
    out = m.output
    assert re.search(r"^\[linux\] nic: driver e1000$", out, re.M), out[-6000:]
    assert re.search(r"^\[linux\] nic: lease 10\.0\.2\.15 from 10\.0\.2\.2$", out, re.M), \
        out[-6000:]
    assert "could not set up host forwarding rule" not in m.emulator_log(200)
    # The host talks to the guest's server through the forwarded port.
    reply = b""
    end = time.monotonic() + 120
    while time.monotonic() < end and b"guest got" not in reply:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
                s.sendall(b"hello from the host\n")
                s.settimeout(60)
                while b"\n" not in reply:
                    chunk = s.recv(256)
                    if not chunk:
                        break
                    reply += chunk
        except OSError:
            time.sleep(2)
    assert reply.startswith(b"guest got: hello from the host"), (reply, m.output[-4000:])
    assert "panic" not in m.output.lower()
