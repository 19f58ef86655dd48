"""A peer on a raw Ethernet link to the hypervisor's NIC (`run.sh --net-raw`,
scripts/emu_net.py): QEMU sends every frame the NIC transmits as one UDP
datagram to 127.0.0.1:HOSTPORT and puts every datagram it receives on its
QEMUPORT onto the wire. No root, no scapy: the frames are built here.

RawPeer plays the LAN: it answers ARP for the addresses it owns (the
gateway), counts what the hypervisor sends, sends crafted TCP SYNs from any
address and port (syn()), and has a minimal TCP client (TcpConn) for one
real connection over the same link: enough to read the console's prompt,
log in and run a command. Numbers are big-endian (network order).
"""

import queue
import socket
import struct
import threading
import time

ETH_IP, ETH_ARP = 0x0800, 0x0806
TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def mac_bytes(text):
    return bytes(int(x, 16) for x in text.split(":"))


def ip_bytes(text):
    return socket.inet_aton(text)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def eth(dst, src, ethertype, payload):
    frame = dst + src + struct.pack("!H", ethertype) + payload
    return frame + b"\0" * max(0, 60 - len(frame))  # the minimum frame (no FCS)


def arp(op, sha, spa, tha, tpa):
    return struct.pack("!HHBBH", 1, ETH_IP, 6, 4, op) + sha + spa + tha + tpa


def ipv4(src, dst, proto, payload, ident=0):
    head = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000, 64, proto, 0,
                       src, dst)
    return head[:10] + struct.pack("!H", checksum(head)) + head[12:] + payload


def tcp(src, dst, sport, dport, seq, ack, flags, data=b"", window=8192, mss=None):
    opts = struct.pack("!BBH", 2, 4, mss) if mss else b""
    off = (20 + len(opts)) // 4
    head = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, window, 0, 0) + opts
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(head) + len(data))
    csum = checksum(pseudo + head + data)
    return head[:16] + struct.pack("!H", csum) + head[18:] + data


def parse_tcp(frame):
    """(src ip, dst ip, sport, dport, seq, ack, flags, payload) of an IPv4 TCP
    frame, or None."""
    if len(frame) < 34 or struct.unpack("!H", frame[12:14])[0] != ETH_IP:
        return None
    ip = frame[14:]
    ihl = (ip[0] & 15) * 4
    total = struct.unpack("!H", ip[2:4])[0]
    if ip[9] != 6 or total > len(ip):
        return None
    t = ip[ihl:total]
    sport, dport, seq, ack, off, flags = struct.unpack("!HHIIBB", t[:14])
    return (socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20]), sport, dport, seq, ack,
            flags, t[(off >> 4) * 4:])


class RawPeer:
    """The host end of the raw link. `owned` are the IPv4 addresses it
    answers ARP for (with its own MAC)."""

    def __init__(self, host_port, qemu_port, guest_ip, owned, mac="52:54:00:aa:bb:01"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind(("127.0.0.1", host_port))
        self.port = self.sock.getsockname()[1]
        self.qemu = ("127.0.0.1", qemu_port)
        self.mac = mac_bytes(mac)
        self.guest_ip = guest_ip
        self.owned = {ip_bytes(a) for a in owned}
        self.guest_mac = None
        self.frames = 0            # frames received from the NIC
        self.arp_requests = 0      # ARP requests the hypervisor sent
        self.synacks = 0           # SYN+ACK segments (answers to SYNs)
        self.conns = {}            # (local port) -> queue of parsed segments for TcpConn
        self._stop = False
        self._t = threading.Thread(target=self._loop, daemon=True)
        self._t.start()

    def close(self):
        self._stop = True
        self.sock.close()

    def send_frame(self, frame):
        self.sock.sendto(frame, self.qemu)

    def _loop(self):
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                frame, _ = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            self.frames += 1
            etype = struct.unpack("!H", frame[12:14])[0] if len(frame) >= 14 else 0
            if etype == ETH_ARP and len(frame) >= 42:
                op = struct.unpack("!H", frame[20:22])[0]
                sha, spa, tpa = frame[22:28], frame[28:32], frame[38:42]
                self.guest_mac = self.guest_mac or sha
                if op == 1:
                    self.arp_requests += 1
                    if tpa in self.owned:
                        self.send_frame(eth(sha, self.mac, ETH_ARP,
                                            arp(2, self.mac, tpa, sha, spa)))
                continue
            seg = parse_tcp(frame)
            if seg is None:
                continue
            self.guest_mac = self.guest_mac or frame[6:12]
            flags = seg[6]
            if flags & TCP_SYN and flags & TCP_ACK:
                self.synacks += 1
            q = self.conns.get(seg[3])
            if q is not None:
                q.put(seg)

    def guest_mac_or_broadcast(self):
        return self.guest_mac or b"\xff" * 6

    def send_tcp(self, src_ip, sport, dport, seq, ack, flags, data=b"", mss=None):
        seg = tcp(ip_bytes(src_ip), ip_bytes(self.guest_ip), sport, dport, seq, ack, flags, data,
                  mss=mss)
        self.send_frame(eth(self.guest_mac_or_broadcast(), self.mac, ETH_IP,
                            ipv4(ip_bytes(src_ip), ip_bytes(self.guest_ip), 6, seg)))

    def syn(self, src_ip, sport, dport, seq):
        self.send_tcp(src_ip, sport, dport, seq, 0, TCP_SYN, mss=1460)


class TcpConn:
    """One TCP connection from `src_ip` through the peer: handshake, in-order
    receive (anything out of order is dropped and re-ACKed), send, RST."""

    def __init__(self, peer, src_ip, sport, dport, timeout):
        self.peer, self.src, self.sport, self.dport = peer, src_ip, sport, dport
        self.timeout = timeout
        self.q = queue.Queue()
        peer.conns[sport] = self.q
        self.seq = 1000
        self.rcv = None
        self.data = b""
        self.pos = 0  # read_until() searches from here
        end = time.monotonic() + timeout
        while self.rcv is None:  # SYN again until SYN+ACK (the listener may be full)
            peer.syn(src_ip, sport, dport, self.seq)
            try:
                seg = self.q.get(timeout=1.0)
            except queue.Empty:
                if time.monotonic() > end:
                    raise AssertionError(f"no SYN+ACK to {src_ip}:{sport} in {timeout} s")
                continue
            if seg[6] & TCP_SYN and seg[6] & TCP_ACK and seg[5] == self.seq + 1:
                self.seq += 1
                self.rcv = (seg[4] + 1) & 0xFFFFFFFF
        self._send(TCP_ACK)

    def _send(self, flags, data=b""):
        self.peer.send_tcp(self.src, self.sport, self.dport, self.seq, self.rcv, flags, data)

    def send(self, data):
        self._send(TCP_ACK | TCP_PSH, data)
        self.seq = (self.seq + len(data)) & 0xFFFFFFFF

    def read_until(self, marker, timeout=None):
        """Reads until `marker` (bytes) arrived after the previous match;
        returns what arrived since then, up to the end of the marker."""
        end = time.monotonic() + (timeout or self.timeout)
        while True:
            i = self.data.find(marker, self.pos)
            if i >= 0:
                out, self.pos = self.data[self.pos:i + len(marker)], i + len(marker)
                return out
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {marker!r} over the raw link; got {self.data[-400:]!r}")
            try:
                seg = self.q.get(timeout=min(left, 1.0))
            except queue.Empty:
                continue
            flags, payload = seg[6], seg[7]
            if flags & TCP_RST:
                raise AssertionError(f"connection reset; got {self.data[-400:]!r}")
            if payload and seg[4] == self.rcv:
                self.data += payload
                self.rcv = (self.rcv + len(payload)) & 0xFFFFFFFF
            if payload or flags & TCP_FIN:
                self._send(TCP_ACK)

    def reset(self):
        self._send(TCP_RST | TCP_ACK)
        self.peer.conns.pop(self.sport, None)
