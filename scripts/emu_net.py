"""Networking for the emulated machine: `--net-forward HOSTPORT:GUESTPORT`.

Both emulators get the same 82540EM (e1000) NIC on user-mode networking
(slirp: network 10.0.2.0/24, gateway 10.0.2.2, DHCP gives 10.0.2.15) with
TCP host forwarding on 127.0.0.1 only, so a test on the host reaches a
server inside the hypervisor through loopback (platform-notes.md):

* QEMU: `-nic user,model=e1000,hostfwd=tcp:127.0.0.1:HP-:GP,...`
  (QEMU refuses to start when a host port is busy), or with `--net-nic
  virtio` a virtio-net NIC instead: `-netdev user,id=net0,hostfwd=...
  -device virtio-net-pci,netdev=net0,mac=...`.
* Bochs: `e1000: enabled=1, mac=..., ethmod=slirp, script=slirp.conf`, the
  file holding `hostfwd = tcp:127.0.0.1:HP-:GP` lines (at most 5). Bochs
  only logs a busy port and runs on: bochs_forward_error() finds that.

`--net-raw HOSTPORT:QEMUPORT` (QEMU only) instead gives the NIC a raw
Ethernet link: `-netdev dgram` carries each frame as one UDP datagram
between QEMU's 127.0.0.1:QEMUPORT and a peer program on 127.0.0.1:HOSTPORT,
so a test can send any frame (ARP replies, crafted TCP SYNs from forged
addresses) without root. No DHCP server is there: configure a static
address (tests/integration/rawnet.py is such a peer).
"""

import os
import re

BOCHS_MAX_FORWARDS = 5
MAC = "52:54:00:12:34:56"
GUEST = "10.0.2.15"  # what both slirps hand out by DHCP


# --net-nic; Bochs has the e1000 only. virtio-legacy: a transitional
# virtio-net with its virtio 1.0 interface off (the legacy transport only).
NICS = ("e1000", "virtio", "virtio-legacy")
QEMU_NIC_DEVICE = {"e1000": "e1000", "virtio": "virtio-net-pci",
                   "virtio-legacy": "virtio-net-pci,disable-modern=on"}


class NetForwardError(ValueError):
    pass


def parse_forward(text):
    """'HOSTPORT:GUESTPORT' -> (hostport, guestport); ValueError otherwise."""
    m = re.fullmatch(r"(\d{1,5}):(\d{1,5})", text.strip())
    if not m or not all(0 < int(p) < 65536 for p in m.groups()):
        raise NetForwardError(f"--net-forward: expected HOSTPORT:GUESTPORT (1-65535), got '{text}'")
    return int(m.group(1)), int(m.group(2))


def _arg_type(parse, option):
    """An argparse type for `option`: the text, once parse() takes it."""
    def check(text):
        import argparse
        try:
            parse(text)
        except NetForwardError as e:
            raise argparse.ArgumentTypeError(str(e).replace(f"{option}: ", "")) from None
        return text
    return check


forward_arg = _arg_type(parse_forward, "--net-forward")


def check_nic(nic, emu):
    if nic not in NICS:
        raise NetForwardError(f"--net-nic: expected one of {', '.join(NICS)}, got '{nic}'")
    if emu == "bochs" and nic != "e1000":
        raise NetForwardError("--net-nic: Bochs has the e1000 only")


def check_forwards(forwards, emu):
    hosts = [h for h, _ in forwards]
    if len(set(hosts)) != len(hosts):
        raise NetForwardError("--net-forward: a host port is given twice")
    if emu == "bochs" and len(forwards) > BOCHS_MAX_FORWARDS:
        raise NetForwardError(f"--net-forward: Bochs' slirp takes at most {BOCHS_MAX_FORWARDS} "
                              "forwarding rules")


def parse_raw(text):
    """'HOSTPORT:QEMUPORT' -> (hostport, qemuport); NetForwardError otherwise."""
    m = re.fullmatch(r"(\d{1,5}):(\d{1,5})", text.strip())
    if not m or not all(0 < int(p) < 65536 for p in m.groups()) or m.group(1) == m.group(2):
        raise NetForwardError(f"--net-raw: expected HOSTPORT:QEMUPORT (two different UDP ports "
                              f"1-65535), got '{text}'")
    return int(m.group(1)), int(m.group(2))


raw_arg = _arg_type(parse_raw, "--net-raw")


def check_raw(raw, forwards, emu):
    if raw is None:
        return
    if emu == "bochs":
        raise NetForwardError("--net-raw: QEMU only (Bochs' e1000 has no raw UDP link)")
    if forwards:
        raise NetForwardError("--net-raw and --net-forward: one NIC at a time")


def qemu_raw_args(raw, nic="e1000"):
    """The NIC on a raw link: frames as UDP datagrams to and from the peer."""
    host, qemu = raw
    return ["-netdev", f"dgram,id=raw0,local.type=inet,local.host=127.0.0.1,local.port={qemu},"
                       f"remote.type=inet,remote.host=127.0.0.1,remote.port={host}",
            "-device", f"{QEMU_NIC_DEVICE[nic]},netdev=raw0,mac={MAC}"]


def qemu_args(forwards, nic="e1000"):
    rules = "".join(f",hostfwd=tcp:127.0.0.1:{h}-:{g}" for h, g in forwards)
    if nic != "e1000":
        return ["-netdev", f"user,id=net0{rules}",
                "-device", f"{QEMU_NIC_DEVICE[nic]},netdev=net0,mac={MAC}"]
    return ["-nic", f"user,model=e1000,mac={MAC}{rules}"]


def bochs_lines(forwards, workdir):
    conf = os.path.join(workdir, "slirp.conf")
    with open(conf, "w") as f:
        f.write("# slirp config\n")
        for h, g in forwards:
            f.write(f"hostfwd = tcp:127.0.0.1:{h}-{GUEST}:{g}\n")
    return [f"e1000: enabled=1, mac={MAC}, ethmod=slirp, script={conf}"]


def bochs_forward_error(workdir):
    """The Bochs log's complaint about a forwarding rule, or None."""
    try:
        with open(os.path.join(workdir, "bochs.log"), errors="replace") as f:
            for line in f:
                if "could not set up host forwarding rule" in line:
                    return line.strip()
    except OSError:
        pass
    return None
