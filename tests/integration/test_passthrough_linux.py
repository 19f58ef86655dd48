"""An e1000 passed through to Debian's Linux: Linux's own e1000 driver binds
the device, gets a DHCP lease from the emulator's slirp, and the test on the
host talks to a server in the guest through a forwarded port (loopback
only).

- test_passthrough_e1000_linux: Bochs' e1000 (00:02.0) with
  `iommu = off-unsafe` (Bochs has no IOMMU) and a fixed `memory_base`, so
  the VM's RAM is identity-mapped and the NIC's DMA reaches it.
- test_passthrough_e1000_linux_iommu: the end-to-end proof under SVM in
  QEMU (`qemu-svm`: q35, intel-iommu with interrupt remapping) with an
  e1000 at 00:03.0: its DMA goes through the VM's IOMMU domain (no identity
  map), and a DMA the guest points outside its memory is blocked and
  logged (`iommu: fault 00:03.0 read addr 0x7f000000 ...`). It skips
  itself while VMs cannot run under SVM (`vms: none can run`).

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

from conftest import REPO, SCALE
from console_io import free_port


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
# Ready once the server listens (nc starts in the background).
for i in $(seq 1 60); do netstat -ltn | grep -q ':5555 ' && break; sleep 1; done
echo "nic: listening on $(netstat -ltn | grep -c ':5555 ') socket(s)"
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
case "$line" in
dma-outside*)
    # Unbinding the driver ends the network: answer first, act a bit later.
    echo "nic: DMA outside the VM's memory in 2 s"
    (sleep 2; /bin/dmaout) </dev/null >/dev/console 2>&1 &
    ;;
*) echo "guest got: $line" ;;
esac
"""

# Points the NIC's transmit ring outside the VM's RAM (256 MiB) and starts
# it: the device then reads a descriptor from 0x7f000000, which the IOMMU
# must block. The driver is unbound first so /dev/mem may reach the BAR
# (IO_STRICT_DEVMEM); unbinding turns bus mastering off, so it is turned on
# again through the configuration space (Bulkhead allows it: the device's
# DMA domain exists).
DMA_OUTSIDE = """#!/bin/sh
dev=$(readlink -f /sys/class/net/eth0/device)
echo -n "${dev##*/}" > /sys/bus/pci/drivers/e1000/unbind
printf '\\007\\001' | dd of="$dev/config" bs=1 seek=4 count=2 conv=notrunc 2>/dev/null
bar=$(( $(head -1 "$dev/resource" | cut -d' ' -f1) ))
w() { devmem $((bar + $1)) 32 $2; }
w 0x3800 0x7f000000; w 0x3804 0; w 0x3808 4096; w 0x3810 0; w 0x3818 0
w 0x400 2
w 0x3818 1
echo "nic: transmit ring at 0x7f000000"
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
    for path, text in (("init", INIT), ("etc/udhcpc.script", UDHCPC), ("bin/nicsrv", SERVER),
                       ("bin/dmaout", DMA_OUTSIDE)):
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
{placement}cpus = [1]
pci = [{bdf}]
{iommu}autostart = true
"""

# Bochs: no IOMMU, so identity-mapped RAM and `iommu = off-unsafe`.
CFG_UNSAFE = CFG.format(placement="memory_base = 0x20000000\n", bdf="00:02.0",
                        iommu="iommu = off-unsafe\n")
# QEMU with intel-iommu: RAM anywhere, DMA through the VM's domain.
CFG_IOMMU = CFG.format(placement="", bdf="00:03.0", iommu="")
INTREMAP = "-global intel-iommu.intremap=on"


def nic_iso(tmp_path, cfg_text):
    """An ISO with the configuration and the NIC guest (built once)."""
    build_guest()
    cfg = tmp_path / "nic.cfg"
    cfg.write_text(cfg_text)
    iso = tmp_path / "nic.iso"
    r = subprocess.run([str(MKISO), "--config", str(cfg), "--out", str(iso),
                        "--module", str(NIC / "bzImage"), "--module", str(NIC / "initrd.gz")],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout
    return iso


def talk(port, line, expect, timeout=300):
    """Sends one line to the guest's server through the forwarded port and
    returns its reply once it contains `expect`. Retries (every 2 s) while
    slirp accepts and then closes the connection (the guest not listening,
    or slow under load) or the reply does not come within 90 s; the budget
    is scaled by BULKHEAD_TIMEOUT_SCALE. Each attempt is logged in
    talk.attempts, for the assertion message when no reply came."""
    talk.attempts = []
    end = time.monotonic() + timeout * SCALE
    while time.monotonic() < end:
        reply = b""
        t0 = time.monotonic()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
                s.sendall(line)
                s.settimeout(90)
                while b"\n" not in reply:
                    chunk = s.recv(256)
                    if not chunk:
                        break
                    reply += chunk
            what = repr(reply) if reply else "closed without a reply"
        except OSError as e:
            what = f"{type(e).__name__}: {e}"
        talk.attempts.append(f"{t0 - end + timeout * SCALE:6.1f}s: {what}")
        if expect in reply:
            return reply
        time.sleep(2)
    return b""


talk.attempts = []


def check_nic_works(m, port):
    """The guest's driver bound the NIC, got a lease, and serves the host."""
    wait_for(m, r"^\[linux\] BULKHEAD-NIC-READY$", BOOT_TIMEOUT)
    out = m.output
    assert re.search(r"^\[linux\] nic: driver e1000$", out, re.M), out[-6000:]
    assert re.search(r"^\[linux\] nic: lease 10\.0\.2\.15 from 10\.0\.2\.2$", out, re.M), \
        out[-6000:]
    assert re.search(r"^\[linux\] nic: listening on [1-9]\d* socket\(s\)$", out, re.M), out[-6000:]
    reply = talk(port, b"hello from the host\n", b"guest got")
    assert reply.startswith(b"guest got: hello from the host"), \
        (reply, talk.attempts, m.output[-4000:])


@pytest.mark.bochs
def test_passthrough_e1000_linux(boot, tmp_path):
    iso = nic_iso(tmp_path, CFG_UNSAFE)
    port = free_port()
    slirp = tmp_path / "slirp.conf"
    slirp.write_text(f"# slirp config\nhostfwd = tcp:127.0.0.1:{port}-:{GUEST_PORT}\n")
    m = boot("bochs", cpus=2, mem=1024, iso=iso, timeout=BOOT_TIMEOUT + 300,
             cmdline="console=com1 loglevel=info",
             extra=[f"e1000: enabled=1, mac=52:54:00:12:34:56, ethmod=slirp, script={slirp}"])
    wait_for(m, r"its RAM is identity-mapped, so their DMA reaches it", 200)
    check_nic_works(m, port)
    assert "could not set up host forwarding rule" not in m.emulator_log(200)
    assert "panic" not in m.output.lower()


def qemu_nic_args(port):
    """The QEMU command line of the end-to-end test: interrupt remapping on,
    an e1000 at 00:03.0 on user networking with the guest's port forwarded
    (loopback only). q35's own NIC is not created once -netdev is given."""
    return [INTREMAP,
            f"-netdev user,id=n0,hostfwd=tcp:127.0.0.1:{port}-:{GUEST_PORT}",
            "-device e1000,netdev=n0,addr=03.0,mac=52:54:00:12:34:56"]


def test_qemu_nic_command_line():
    """The machine the end-to-end test boots (no emulator needed)."""
    import emu  # scripts/ is on sys.path through conftest
    cmd = emu.qemu_command("qemu-svm", "x.iso", 2, 1024, "/dev/null", "/tmp",
                           extra=qemu_nic_args(4444))
    text = " ".join(cmd)
    assert "-machine q35" in text and "-device intel-iommu" in text, text
    assert "+svm" in text and "intel-iommu.intremap=on" in text, text
    assert "hostfwd=tcp:127.0.0.1:4444-:5555" in text, text
    assert "e1000,netdev=n0,addr=03.0" in text, text
    # The device the VM gets is the one on the command line, behind the IOMMU.
    assert "pci = [00:03.0]" in CFG_IOMMU and "off-unsafe" not in CFG_IOMMU
    assert "memory_base" not in CFG_IOMMU


@pytest.mark.qemu_svm
def test_passthrough_e1000_linux_iommu(boot, tmp_path):
    """The end-to-end proof: under SVM with VT-d, Linux drives a passed-
    through e1000 whose DMA is confined to the VM's memory by the IOMMU, and
    a DMA pointed outside that memory is blocked and logged."""
    iso = nic_iso(tmp_path, CFG_IOMMU)
    port = free_port()
    m = boot("qemu-svm", cpus=2, mem=1024, iso=iso, timeout=BOOT_TIMEOUT + 300,
             cmdline="console=com1 loglevel=info", extra=qemu_nic_args(port))
    first = wait_for(m, r"DMA confined to the VM's memory by the IOMMU|vms: none can run.*", 300)
    if first.group(0).startswith("vms: none can run"):
        pytest.skip(f"VMs do not run under SVM yet ({first.group(0)})")
    assert re.search(r"vm linux: pci 00:03\.0 \(8086:100e\) at guest 00:01\.0", m.output), \
        m.output[-4000:]
    check_nic_works(m, port)
    # The 82540EM has no MSI: Linux's driver runs on its INTx, whose host
    # I/O APIC pin goes through an interrupt remapping entry.
    intx = re.search(r"vm linux: pci 00:03\.0 INTA: host GSI (\d+) \(remapping entry (\d+)\) "
                     r"-> guest GSI", m.output)
    assert intx, m.output[-6000:]
    # The console shows the VM's domain and the remapped pin.
    start = len(m.output)
    m.send("iommu\r")
    wait_for(m, r"^  fault counts", 60, start)
    report = m.output[start:]
    assert re.search(r"^    domain \d+ vm linux: owner linux, \d+ KiB mapped, 1 device: "
                     r"0000:00:03\.0", report, re.M), report
    assert re.search(rf"^    i/o apic pin gsi {intx.group(1)} \(passthrough\): remapping entry "
                     rf"{intx.group(2)}, vector 0x[0-9a-f]+, source-id ff:00\.0, pin in "
                     r"remappable format, [1-9]\d* interrupts$", report, re.M), report
    # A DMA outside the VM's memory: blocked, and logged with the device.
    reply = talk(port, b"dma-outside\n", b"DMA outside")
    assert b"nic: DMA outside the VM's memory in 2 s" in reply, \
        (reply, talk.attempts, m.output[-4000:])
    wait_for(m, r"^\[linux\] nic: transmit ring at 0x7f000000$", 120)
    wait_for(m, r"iommu: fault 00:03\.0 read addr 0x7f000000 reason 0x0[26] ", 120)
    assert "panic" not in m.output.lower()
