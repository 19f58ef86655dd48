"""Small helpers the integration tests share for talking to a running
hypervisor: a free TCP port on the host, and a command on the serial
console with its output."""

import re
import socket
import time

PROMPT = "bulkhead> "


def free_port():
    """A TCP port on 127.0.0.1 nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def type_text(m, text, per_step=4):
    """Send keys at a typist's pace: per_step bytes every 50 ms."""
    for i in range(0, len(text), per_step):
        m.send(text[i:i + per_step])
        time.sleep(0.05)


def serial_command(m, line, timeout, typed=False, tail=1500):
    """A command on the serial console; its output (between the echo of the
    line and the next prompt). typed=True sends it 4 characters every 50 ms,
    a typist's pace, for consoles busy enough to lose a burst."""
    start = len(m.output)
    if typed:
        type_text(m, line)
        m.send("\r")
    else:
        m.send(line + "\r")
    pat = re.compile(rf"{re.escape(line)}\n((?:.*\n)*?){re.escape(PROMPT)}", re.M)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = pat.search(m.output, start)
        if found:
            return found.group(1)
        time.sleep(0.2)
    raise AssertionError(f"serial console: no answer to {line!r}; tail:\n{m.output[-tail:]}")
