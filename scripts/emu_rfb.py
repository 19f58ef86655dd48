"""Starting Bochs beside other Bochs processes (scripts/emu.py).

Debian's Bochs 2.7 has only the rfb display, and its port search has a race:
two processes that start at once can both bind port 5900 (SO_REUSEADDR),
the second one's listen() then fails, and because it keeps that bound socket
every later bind() fails too: "RFB could not bind any port between 5900 and
5949", a panic at instruction 0. Measured here: 4 of 24 pairs started
together died so (a test failed at random under `pytest -n 2`).

So a Bochs start holds a machine-wide lock until its rfb socket listens
(read from /proc, not from its buffered log), and a start that died of the
race anyway (a Bochs not started by this module took the port) is retried.
"""

import fcntl
import os
import time

LOCK_PATH = "/tmp/bulkhead-bochs-rfb.lock"
RFB_PORTS = range(5900, 5950)
RACE_MESSAGE = b"RFB could not bind any port"
LISTEN_WAIT = 10.0   # seconds; Bochs listens within 0.2 s of its start here
ATTEMPTS = 3


def _socket_inodes(pid):
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    except OSError:
        pass
    return inodes


def rfb_listening(pid):
    """True when process `pid` has a TCP socket listening on an rfb port."""
    inodes = _socket_inodes(pid)
    if not inodes:
        return False
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.readlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            # local address "ADDR:PORT" (hex), state 0A = LISTEN, inode
            if len(fields) < 10 or fields[3] != "0A":
                continue
            port = int(fields[1].rsplit(":", 1)[1], 16)
            if port in RFB_PORTS and fields[9] in inodes:
                return True
    return False


def died_of_race(proc, out_path):
    """The process has ended and its output names the rfb port panic."""
    if proc.poll() is None:
        return False
    try:
        with open(out_path, "rb") as f:
            return RACE_MESSAGE in f.read()
    except OSError:
        return False


def start_bochs(popen, out_path):
    """Start Bochs with `popen()` (which returns a subprocess.Popen writing
    its output to out_path, truncating it) under the rfb lock; retry a
    start the port race killed. Returns the Popen of the last start."""
    for attempt in range(ATTEMPTS):
        with open(LOCK_PATH, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            proc = popen()
            deadline = time.monotonic() + LISTEN_WAIT
            while (proc.poll() is None and not rfb_listening(proc.pid)
                   and time.monotonic() < deadline):
                time.sleep(0.02)
        if not died_of_race(proc, out_path) or attempt == ATTEMPTS - 1:
            return proc
        time.sleep(0.2)
    return proc
