"""Bochs processes started at the same moment all come up (scripts/emu_rfb.py).

Bochs 2.7's rfb display races for its TCP port: of two processes started
together, one could die at instruction 0 with "RFB could not bind any port
between 5900 and 5949", which made a random Bochs test fail under
`pytest -n 2`. The runner now starts Bochs under a lock until its socket
listens, and retries a start the race killed anyway.
"""

import fcntl
import os
import subprocess
import sys
import threading
import time

import pytest

from conftest import ISO, require

import emu  # noqa: E402  (scripts/ is on sys.path through conftest)
import emu_rfb  # noqa: E402

PAIRS = 12  # without the lock, about 1 pair in 6 lost a Bochs here


def came_up(m, wait=10.0):
    """The Bochs of machine m listens on its rfb port (rather than died)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if emu_rfb.rfb_listening(m.proc.pid):
            return True
        if m.proc.poll() is not None:
            return False
        time.sleep(0.02)
    return False


@pytest.mark.bochs
def test_bochs_started_in_pairs_all_listen():
    require("bochs")
    lost = []
    for round_no in range(PAIRS):
        barrier = threading.Barrier(2)
        machines = [None, None]
        errors = []

        def start(i):
            barrier.wait()
            try:
                machines[i] = emu.Machine(emu="bochs", iso=ISO, timeout=30)
            except Exception as e:  # noqa: BLE001  (reported below)
                errors.append(e)

        threads = [threading.Thread(target=start, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        try:
            assert not errors, errors
            for i, m in enumerate(machines):
                if not came_up(m):
                    with open(m._emu_out.name, "rb") as f:
                        lost.append((round_no, i, f.read()[-300:]))
        finally:
            for m in machines:
                if m:
                    m.close()
    assert not lost, lost


def _fake_popen(outputs, out_path, calls):
    """A popen() for start_bochs: the nth call runs the nth shell snippet."""
    def popen():
        script = outputs[min(len(calls), len(outputs) - 1)]
        calls.append(script)
        out = open(out_path, "wb")
        return subprocess.Popen(["sh", "-c", script], stdout=out, stderr=subprocess.STDOUT)
    return popen


RACE_DEATH = ("echo 'Bochs is exiting with the following message:'; "
              "echo '[RFB   ] RFB could not bind any port between 5900 and 5949'; exit 1")


def test_a_start_the_port_race_killed_is_retried(tmp_path, monkeypatch):
    monkeypatch.setattr(emu_rfb, "LISTEN_WAIT", 0.3)
    monkeypatch.setattr(emu_rfb, "LOCK_PATH", str(tmp_path / "lock"))
    out, calls = tmp_path / "out", []
    proc = emu_rfb.start_bochs(_fake_popen([RACE_DEATH, "exec sleep 30"], out, calls), str(out))
    try:
        assert len(calls) == 2 and proc.poll() is None
    finally:
        proc.kill()
        proc.wait()
    # The lock is free again.
    with open(tmp_path / "lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_only_the_race_is_retried_and_not_forever(tmp_path, monkeypatch):
    monkeypatch.setattr(emu_rfb, "LISTEN_WAIT", 0.3)
    monkeypatch.setattr(emu_rfb, "LOCK_PATH", str(tmp_path / "lock"))
    out = tmp_path / "out"
    # Another death is the caller's to report: one start.
    calls = []
    proc = emu_rfb.start_bochs(_fake_popen(["echo 'bad bochsrc'; exit 1"], out, calls), str(out))
    assert len(calls) == 1 and proc.wait() == 1
    # The race every time: ATTEMPTS starts, then the last death is returned.
    calls = []
    proc = emu_rfb.start_bochs(_fake_popen([RACE_DEATH], out, calls), str(out))
    assert len(calls) == emu_rfb.ATTEMPTS and proc.wait() == 1
    assert emu_rfb.RACE_MESSAGE in out.read_bytes()


def test_listening_is_read_from_the_process_own_sockets():
    # A process with no socket on an rfb port is not listening; this one is.
    assert not emu_rfb.rfb_listening(os.getpid())
    code = ("import socket,sys,time\n"
            "for p in range(5949, 5899, -1):\n"
            "    s = socket.socket()\n"
            "    try:\n"
            "        s.bind(('127.0.0.1', p)); s.listen(1); break\n"
            "    except OSError:\n"
            "        s.close()\n"
            "print(p, flush=True)\n"
            "time.sleep(30)\n")
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        p.stdout.readline()
        assert emu_rfb.rfb_listening(p.pid)
    finally:
        p.kill()
        p.wait()
