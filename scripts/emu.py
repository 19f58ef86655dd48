#!/usr/bin/python3
"""Bulkhead emulator runner: boots an ISO headless in Bochs or QEMU and talks
to the hypervisor's serial console (COM1).

Used by scripts/run.sh (command line, see main()) and by the integration
tests (the Machine class):

    with emu.Machine(emu="bochs", cpus=2, cmdline="console=com1 exec=\\"poweroff 7\\"",
                     timeout=120) as m:
        m.expect(r"cpu 1: online")
        assert m.wait_exit() == 7

Serial transport: the runner creates a pseudo-terminal in raw mode and
attaches the emulator's COM1 to its slave side (Bochs `com1: mode=term`,
QEMU `-chardev tty`). A reader thread collects everything from the master
side, so output is captured and input can be sent for both emulators alike.

Resets: the hypervisor's `reboot` prints `bulkhead: reboot` and resets the
machine, which boots again (GRUB prints "Booting `Bulkhead'" once per boot).
A boot that no such line asked for (a triple fault: QEMU resets, Bochs runs
with reset_on_triple_fault=0 and stops) ends the run with status 125.

Exit status (run.sh and Machine.wait_exit()):
  N    the console printed `bulkhead: poweroff N` (the last such line counts;
       the emulator is given a few seconds to stop by itself, then killed)
  0    --until REGEX matched (the emulator is then stopped)
  124  timeout
  125  the emulator ended without printing a poweroff line, or the machine
       reset without a `bulkhead: reboot` line (it is then stopped)
  130  interrupted (Ctrl-C, or Ctrl-A x in interactive mode)
"""

import argparse
import atexit
import codecs
import os
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import termios
import threading
import time
import tty
from pathlib import Path

import emu_net
import emu_rfb
# Re-exported as emu.NAME for the tests and scripts/bench.py.
from emu_commands import (BOCHS_BIN, BOCHS_BIOS, BOCHS_VGABIOS, EMULATORS, OVMF_PAIRS,  # noqa: F401
                          QEMU_BIN, EmuError, bochsrc_text, emu_svm, emulator_binary,
                          esp_with_cmdline, have_emulator, kvm_available, ovmf_files,
                          qemu_command, resolve_emu)
from emu_iso import IsoError, iso_with_cmdline, machine_for_iso

REPO = Path(__file__).resolve().parent.parent
DEFAULT_ISO = REPO / "build" / "bulkhead.iso"
DEFAULT_ESP = REPO / "build" / "esp.img"

EXIT_UNTIL = 0
EXIT_TIMEOUT = 124
EXIT_NO_POWEROFF = 125
EXIT_INTERRUPTED = 130

# How long an emulator may take to stop by itself after the poweroff line.
POWEROFF_GRACE = 10.0

POWEROFF_RE = re.compile(r"^bulkhead: poweroff (\d+)[ \t]*$", re.M)
REBOOT_RE = re.compile(r"^bulkhead: reboot[ \t]*$")
# GRUB prints this once per boot; under OVMF twice on the same line (serial
# and the firmware console, which OVMF also sends to the serial port).
GRUB_BOOT_RE = re.compile(r"Booting `")
GRUB_BOOT_LINE_RE = re.compile(r"^.*Booting `.*$", re.M)



class ExpectTimeout(AssertionError):
    pass


class ExpectEOF(AssertionError):
    pass


# --------------------------------------------------------------------------
# Machine


class BootWatch:
    """Counts boots and requested reboots in the console output, a line at
    a time: a boot that no `bulkhead: reboot` line asked for is a reset the
    machine did by itself (QEMU resets on a triple fault)."""

    def __init__(self):
        self.boots = 0              # lines on which GRUB started a boot
        self.reboots_requested = 0  # `bulkhead: reboot` lines

    def feed_line(self, line):
        """True when `line` starts a boot nobody asked for."""
        if REBOOT_RE.fullmatch(line):
            self.reboots_requested += 1
        elif GRUB_BOOT_RE.search(line):
            self.boots += 1
            return self.boots > self.reboots_requested + 1
        return False


_live_machines = set()


@atexit.register
def _kill_all():
    for m in list(_live_machines):
        m.close()


class Machine:
    """One emulated machine booting a Bulkhead ISO, with its serial console.

    emu:      bochs | qemu | qemu-svm | uefi | uefi-direct | kvm | auto
    iso:      the ISO to boot (a relative path is taken from the current
              directory; the emulator runs there too, so relative paths in
              `extra` work the same way)
    cmdline:  replaces the hypervisor command line (ISO rebuilt and cached)
    timeout:  overall wall-clock budget in seconds, from start (None: none)
    echo:     a binary stream (e.g. sys.stdout.buffer) that receives the
              serial output as it arrives
    log:      a file path receiving the serial output
    extra:    extra QEMU arguments (each shell-split) or extra bochsrc lines
    net_forward, net_nic, net_raw: the NIC (scripts/emu_net.py)
    """

    def __init__(self, emu="bochs", cpus=1, mem=256, iso=None, cmdline=None, timeout=120,
                 echo=None, log=None, extra=(), keep_workdir=None, net_forward=(),
                 net_nic="e1000", net_raw=None):
        self.emu = resolve_emu(emu)
        self.cpus = int(cpus)
        self.mem = int(mem)
        self.timeout = timeout
        self.echo = echo
        self.extra = list(extra)
        self.net_forward = [emu_net.parse_forward(f) for f in net_forward]  # (scripts/emu_net.py)
        emu_net.check_forwards(self.net_forward, self.emu)
        emu_net.check_nic(net_nic, self.emu)
        self.net_raw = emu_net.parse_raw(net_raw) if net_raw else None
        emu_net.check_raw(self.net_raw, self.net_forward, self.emu)
        self.keep_workdir = (os.environ.get("BULKHEAD_KEEP_WORKDIR") == "1"
                             if keep_workdir is None else keep_workdir)
        if not have_emulator(self.emu):
            raise EmuError(f"emulator for '{self.emu}' is not installed")
        if self.emu == "uefi-direct":
            base = Path(iso).resolve() if iso else DEFAULT_ESP
            if not base.is_file():
                raise EmuError(f"ESP image {base} not found (run `make efi`)")
            self.iso = base
        else:
            base = Path(iso).resolve() if iso else DEFAULT_ISO
            if not base.is_file():
                raise EmuError(f"ISO {base} not found (run `make iso`)")
            try:
                self.iso = iso_with_cmdline(base, cmdline) if cmdline is not None else base
            except IsoError as e:
                raise EmuError(str(e)) from None

        self._cond = threading.Condition()
        self._chunks = []         # normalised text chunks ('\r' removed)
        self._line = ""           # the current incomplete line
        self._pos = 0             # expect() searches from here
        self._eof = False
        self.poweroff_status = None   # N from the last `bulkhead: poweroff N`
        self._poweroff_time = None
        self.boot_watch = BootWatch()
        self.unrequested_reset = False  # a boot no reboot line asked for
        self.user_quit = False        # Ctrl-A x in interact()
        self.emu_returncode = None    # the emulator process' own exit status
        self.stopped_by_runner = False
        self.status = None
        self._closed = False
        self._logf = open(os.path.abspath(log), "w") if log else None
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")

        self.workdir = tempfile.mkdtemp(prefix=f"bulkhead-{self.emu}.")
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        slave_name = os.ttyname(self._slave)
        self._emu_out = open(os.path.join(self.workdir, "emulator.out"), "wb")
        if self.emu == "uefi-direct" and cmdline is not None:
            self.iso = esp_with_cmdline(self.iso, cmdline, self.workdir)

        if self.net_forward:
            self.extra += (emu_net.bochs_lines(self.net_forward, self.workdir) if self.emu == "bochs"
                           else [" ".join(emu_net.qemu_args(self.net_forward, net_nic))])
        if self.net_raw:
            self.extra += [" ".join(emu_net.qemu_raw_args(self.net_raw, net_nic))]
        if self.emu == "bochs":
            rc = os.path.join(self.workdir, "bochs.rc")
            with open(rc, "w") as f:
                f.write("continue\nquit\n")
            bochsrc = os.path.join(self.workdir, "bochsrc")
            with open(bochsrc, "w") as f:
                f.write(bochsrc_text(self.iso, self.cpus, self.mem, slave_name, self.workdir,
                                     self.extra))
            self.command = [BOCHS_BIN, "-q", "-f", bochsrc, "-rc", rc]
        else:
            self.command = qemu_command(self.emu, self.iso, self.cpus, self.mem, slave_name,
                                        self.workdir, self.extra)

        self.start_time = time.monotonic()
        self.deadline = None if timeout is None else self.start_time + timeout
        # In the caller's directory: relative paths in `extra` mean what the
        # user meant (every file the runner makes has an absolute path).
        if self.emu == "bochs":
            # Bochs' rfb display races for its port (scripts/emu_rfb.py).
            self.proc = emu_rfb.start_bochs(self._popen_emulator, self._emu_out.name)
        else:
            self.proc = self._popen_emulator()
        _live_machines.add(self)
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()

    def _popen_emulator(self):
        self._emu_out.seek(0)
        self._emu_out.truncate()
        return subprocess.Popen(self.command, cwd=os.getcwd(), stdin=subprocess.DEVNULL,
                                stdout=self._emu_out, stderr=subprocess.STDOUT,
                                start_new_session=True)

    # -- context manager -------------------------------------------------
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- output collection -------------------------------------------------
    def _feed(self, data):
        if self.echo is not None:
            try:
                self.echo.write(data)
                self.echo.flush()
            except (OSError, ValueError):
                pass
        text = self._decoder.decode(data).replace("\r", "")
        if not text:
            return
        if self._logf:
            self._logf.write(text)
            self._logf.flush()
        with self._cond:
            self._chunks.append(text)
            lines = (self._line + text).split("\n")
            self._line = lines.pop()
            for line in lines:
                self._check_line(line)
            self._cond.notify_all()

    def _check_line(self, line):
        self._check_poweroff(line)
        if self.boot_watch.feed_line(line) and not self.unrequested_reset:
            # Stop here rather than boot again and again.
            self.unrequested_reset = True
            self.stopped_by_runner = True
            self._kill_group(signal.SIGKILL)

    def _check_poweroff(self, line):
        m = POWEROFF_RE.fullmatch(line)
        if m:
            self.poweroff_status = int(m.group(1))
            self._poweroff_time = time.monotonic()

    def _kill_group(self, sig):
        try:
            os.killpg(os.getpgid(self.proc.pid), sig)
        except (ProcessLookupError, PermissionError):
            pass

    def _joined_locked(self):
        if len(self._chunks) > 1:
            self._chunks = ["".join(self._chunks)]
        return self._chunks[0] if self._chunks else ""

    # How long a batch may hold output back. Without a bound, a steady
    # stream with no 10 ms gap (a guest flooding the console) was held
    # until 64 KiB had come, up to a second: tests timing an answer
    # (test_attack_console_flood) saw it that much late. Long enough that a
    # burst (a command's reply) still comes in one piece, as tests reading
    # the rest of a reply right after its first line expect.
    BATCH_HOLD = 0.25

    def _read_chunk(self):
        """Read what is available, batching bytes that trickle in (Bochs
        writes the UART one byte at a time) for at most BATCH_HOLD seconds.
        b"" = nothing, None = error."""
        try:
            data = os.read(self._master, 65536)
        except BlockingIOError:
            return b""
        except OSError:
            return None
        hold_until = time.monotonic() + self.BATCH_HOLD
        while data and len(data) < 65536 and time.monotonic() < hold_until:
            r, _, _ = select.select([self._master], [], [], 0.01)
            if not r:
                break
            try:
                more = os.read(self._master, 65536)
            except OSError:
                break
            if not more:
                break
            data += more
        return data

    def _read_loop(self):
        while True:
            try:
                r, _, _ = select.select([self._master], [], [], 0.1)
            except (OSError, ValueError):
                break
            if r:
                data = self._read_chunk()
                if data:
                    self._feed(data)
                    continue
                if data is None:
                    break
            if self.proc.poll() is not None:
                # Drain what the emulator wrote before it went away.
                while True:
                    data = self._read_chunk()
                    if not data:
                        break
                    self._feed(data)
                break
        tail = self._decoder.decode(b"", final=True)
        with self._cond:
            if tail:
                self._chunks.append(tail)
                self._line += tail
            # A last line without '\n' counts once the emulator is gone.
            self._check_poweroff(self._line)
            self.emu_returncode = self.proc.poll()
            self._eof = True
            self._cond.notify_all()

    @property
    def output(self):
        """All serial output so far ('\\r' removed)."""
        with self._cond:
            return self._joined_locked()

    @property
    def running(self):
        return self.proc.poll() is None

    @property
    def elapsed(self):
        return time.monotonic() - self.start_time

    def grub_boots(self):
        """How many times GRUB started a boot entry (2+ means a reboot)."""
        return len(GRUB_BOOT_LINE_RE.findall(self.output))

    def tail(self, n=40):
        return "\n".join(self.output.splitlines()[-n:])

    # -- interaction -------------------------------------------------------
    def _remaining(self, timeout):
        ends = []
        now = time.monotonic()
        if timeout is not None:
            ends.append(now + timeout)
        if self.deadline is not None:
            ends.append(self.deadline)
        return min(ends) if ends else None

    def expect(self, regex, timeout=None):
        """Wait until `regex` matches output after the previous match.

        Returns the re.Match. Raises ExpectTimeout, or ExpectEOF when the
        emulator ends first. `timeout` is capped by the machine's overall
        timeout.
        """
        pat = re.compile(regex, re.M) if isinstance(regex, str) else regex
        end = self._remaining(timeout)
        with self._cond:
            while True:
                joined = self._joined_locked()
                m = pat.search(joined, self._pos)
                if m:
                    self._pos = m.end()
                    return m
                if self._eof:
                    raise ExpectEOF(f"emulator ended (status {self.emu_returncode}) before "
                                    f"{pat.pattern!r} appeared; output tail:\n{self.tail()}")
                left = None if end is None else end - time.monotonic()
                if left is not None and left <= 0:
                    raise ExpectTimeout(f"{pat.pattern!r} did not appear within the timeout "
                                        f"({self.elapsed:.0f}s elapsed); output tail:\n"
                                        f"{self.tail()}")
                self._cond.wait(0.5 if left is None else min(left, 0.5))

    def send(self, text):
        data = text.encode() if isinstance(text, str) else text
        while data:
            try:
                n = os.write(self._master, data)
                data = data[n:]
            except BlockingIOError:
                time.sleep(0.01)

    def wait_exit(self, timeout=None):
        """Wait for the run to end and return its status (see module doc)."""
        if self.status is not None:
            return self.status
        end = self._remaining(timeout)
        with self._cond:
            while True:
                if self._eof:
                    break
                now = time.monotonic()
                if self._poweroff_time is not None and now - self._poweroff_time > POWEROFF_GRACE:
                    break
                if end is not None and now >= end:
                    break
                self._cond.wait(0.25)
            powered_off = self.poweroff_status is not None
            eof = self._eof
        if not eof:
            self.stopped_by_runner = True
        self._stop()
        if powered_off:
            self.status = self.poweroff_status
        elif eof:
            self.status = EXIT_NO_POWEROFF
        else:
            self.status = EXIT_TIMEOUT
        return self.status

    def interact(self, stdin_fd=0, stdout=None):
        """Bridge the terminal to the serial console until the run ends.

        Ctrl-A x stops the emulator, Ctrl-A Ctrl-A sends Ctrl-A. Returns the
        status like wait_exit(), or 130 when the user stopped it.
        """
        is_tty = os.isatty(stdin_fd)
        saved = termios.tcgetattr(stdin_fd) if is_tty else None
        if is_tty:
            tty.setraw(stdin_fd)
        escape = False
        stdin_open = True
        user_quit = False
        try:
            while True:
                with self._cond:
                    eof = self._eof
                    pt = self._poweroff_time
                now = time.monotonic()
                if eof or (pt is not None and now - pt > POWEROFF_GRACE):
                    break
                if self.deadline is not None and now >= self.deadline:
                    break
                fds = [stdin_fd] if stdin_open else []
                r, _, _ = select.select(fds, [], [], 0.2)
                if not r:
                    continue
                data = os.read(stdin_fd, 1024)
                if not data:
                    stdin_open = False
                    continue
                out = bytearray()
                for b in data:
                    if escape:
                        escape = False
                        if b in (ord("x"), ord("X")):
                            user_quit = True
                            break
                        if b == 0x01:
                            out.append(0x01)
                        continue
                    if b == 0x01:
                        escape = True
                        continue
                    out.append(b)
                if out:
                    self.send(bytes(out))
                if user_quit:
                    break
        finally:
            if saved is not None:
                termios.tcsetattr(stdin_fd, termios.TCSADRAIN, saved)
        if user_quit:
            self.user_quit = True
            self.stopped_by_runner = True
            self._stop()
            self.status = EXIT_INTERRUPTED
            return self.status
        return self.wait_exit(timeout=0)

    # -- teardown -----------------------------------------------------------
    def _stop(self):
        if self.proc.poll() is None:
            self.stopped_by_runner = True
            try:
                pgid = os.getpgid(self.proc.pid)
            except ProcessLookupError:
                pgid = None
            if pgid is not None:
                # Bochs may sit in its debugger: SIGKILL. QEMU: SIGTERM first.
                first = signal.SIGKILL if self.emu == "bochs" else signal.SIGTERM
                try:
                    os.killpg(pgid, first)
                except ProcessLookupError:
                    pass
                try:
                    self.proc.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    try:
                        os.killpg(pgid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            self.proc.wait()
        self._reader.join(timeout=5)
        if self.emu_returncode is None:
            self.emu_returncode = self.proc.returncode

    def close(self):
        if self._closed:
            return
        self._closed = True
        try:
            self._stop()
        finally:
            _live_machines.discard(self)
            for fd in (self._master, self._slave):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._emu_out.close()
            if self._logf:
                self._logf.close()
            if not self.keep_workdir:
                shutil.rmtree(self.workdir, ignore_errors=True)

    def emulator_log(self, n=60):
        """The tail of the emulator's own stdout/stderr (and Bochs' log)."""
        parts = []
        for name in ("emulator.out", "bochs.log"):
            p = os.path.join(self.workdir, name)
            try:
                with open(p, errors="replace") as f:
                    lines = f.read().splitlines()[-n:]
                parts.append(f"--- {name} ---\n" + "\n".join(lines))
            except OSError:
                pass
        return "\n".join(parts)


# --------------------------------------------------------------------------
# Command line (scripts/run.sh)


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="run.sh",
        description="Boot a Bulkhead ISO headless and copy COM1 to stdout. Exit status: N from "
                    "the final 'bulkhead: poweroff N' line; 0 when --until matches; 124 on "
                    "timeout; 125 when the emulator ends without a poweroff line.")
    ap.add_argument("--emu", default="auto", choices=("auto",) + EMULATORS)
    ap.add_argument("--cpus", type=auto_or_count, default="auto",
                    help="CPUs of the emulated machine, or 'auto' (default): as many as "
                         "the ISO's configuration names (its highest `cpus` + 1)")
    ap.add_argument("--mem", type=auto_or_count, default="auto",
                    help="RAM in MiB, or 'auto' (default): 256, or more when the ISO's "
                         "VMs need it (their `memory` + 128 MiB)")
    ap.add_argument("--iso", type=absolute_path, default=None,
                    help="the ISO to boot (default build/bulkhead.iso of this tree; with "
                         "--emu uefi-direct the ESP image, default build/esp.img)")
    ap.add_argument("--cmdline", default=None,
                    help="replace the hypervisor command line (builds a cached ISO)")
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds (default: none with --interactive, else 300; 0 = none)")
    ap.add_argument("--until", default=None, metavar="REGEX",
                    help="stop with status 0 as soon as the console output matches")
    ap.add_argument("--interactive", action="store_true",
                    help="attach the terminal to the serial console (Ctrl-A x quits)")
    ap.add_argument("--log", type=absolute_path, default=None,
                    help="also write the console output to FILE")
    ap.add_argument("--extra", action="append", default=[], metavar="ARG",
                    help="extra QEMU argument(s) / extra bochsrc line (repeatable)")
    ap.add_argument("--net-forward", action="append", default=[], metavar="HOSTPORT:GUESTPORT",
                    type=emu_net.forward_arg,
                    help="an e1000 NIC on user networking, TCP HOSTPORT on 127.0.0.1 forwarded "
                         "to GUESTPORT (repeatable)")
    ap.add_argument("--net-nic", default="e1000", choices=emu_net.NICS,
                    help="the NIC model for --net-forward or --net-raw under QEMU (default e1000)")
    ap.add_argument("--net-raw", default=None, metavar="HOSTPORT:QEMUPORT", type=emu_net.raw_arg,
                    help="QEMU: the NIC on a raw Ethernet link, each frame a UDP datagram between "
                         "127.0.0.1:QEMUPORT and a program on 127.0.0.1:HOSTPORT")
    ap.add_argument("--keep-workdir", action="store_true",
                    help="keep the emulator's temporary directory (bochsrc, logs)")
    ap.add_argument("--print-command", action="store_true",
                    help="print the emulator command line on stderr")
    args = ap.parse_args(argv)

    timeout = args.timeout
    if timeout is None:
        timeout = None if args.interactive else 300
    elif timeout <= 0:
        timeout = None

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    try:
        if args.emu == "uefi-direct":
            # An ESP image carries no ISO configuration to size from.
            args.cpus = 1 if args.cpus == "auto" else args.cpus
            args.mem = 256 if args.mem == "auto" else args.mem
        else:
            args.cpus, args.mem = machine_size(args.iso or str(DEFAULT_ISO), args.cpus,
                                               args.mem)
        m = Machine(emu=args.emu, cpus=args.cpus, mem=args.mem, iso=args.iso,
                    cmdline=args.cmdline, timeout=timeout, echo=sys.stdout.buffer,
                    log=args.log, extra=args.extra, keep_workdir=args.keep_workdir,
                    net_forward=args.net_forward, net_nic=args.net_nic, net_raw=args.net_raw)
    except (EmuError, emu_net.NetForwardError) as e:
        print(f"run.sh: {e}", file=sys.stderr)
        return 2
    if args.print_command or args.keep_workdir or args.interactive:
        print(f"run.sh: {m.emu}, {m.cpus} CPU(s), {m.mem} MiB, {m.iso}", file=sys.stderr)
    if args.print_command or args.keep_workdir:
        print(f"run.sh: {shlex.join(m.command)} (workdir {m.workdir})", file=sys.stderr)
    if args.interactive and sys.stdin.isatty():
        print(f"run.sh: {m.emu} console on this terminal; Ctrl-A x quits", file=sys.stderr)
    status = EXIT_INTERRUPTED
    why = {EXIT_TIMEOUT: "timeout", EXIT_NO_POWEROFF: "emulator ended without a poweroff line",
           EXIT_INTERRUPTED: "interrupted"}
    try:
        try:
            if args.interactive:
                status = m.interact()
            elif args.until:
                status = wait_until(m, args.until)
            else:
                status = m.wait_exit()
        except KeyboardInterrupt:
            m._stop()
            status = EXIT_INTERRUPTED
        sys.stdout.flush()
        if m.user_quit:
            why[EXIT_INTERRUPTED] = "left with Ctrl-A x; the emulator is stopped"
        if m.unrequested_reset:
            why[EXIT_NO_POWEROFF] = ("the machine reset without a `bulkhead: reboot` line "
                                     "(a triple fault?) and was stopped")
        if m.poweroff_status is None and status in why:
            print(f"\nrun.sh: {why[status]} (status {status})", file=sys.stderr)
            if status == EXIT_NO_POWEROFF:
                print(m.emulator_log(20), file=sys.stderr)
    finally:
        m.close()
    return status


def absolute_path(text):
    """Paths on the command line are relative to where the user stands; the
    emulator runs elsewhere, so make them absolute at once."""
    return os.path.abspath(os.path.expanduser(text))


def auto_or_count(text):
    if text == "auto":
        return text
    try:
        n = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'auto', got '{text}'")
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def machine_size(iso, cpus, mem):
    """Resolves 'auto' from the configuration inside the ISO."""
    if "auto" in (cpus, mem):
        if not Path(iso).is_file():
            raise EmuError(f"ISO {iso} not found (run `make iso`)")
        try:
            need_cpus, need_mem = machine_for_iso(iso)
        except IsoError as e:
            raise EmuError(str(e)) from None
        cpus = need_cpus if cpus == "auto" else cpus
        mem = need_mem if mem == "auto" else mem
    return cpus, mem


def wait_until(m, regex):
    """Status 0 as soon as `regex` matches; otherwise as wait_exit()."""
    pat = re.compile(regex, re.M)
    while True:
        try:
            m.expect(pat, timeout=0.5)
            m._stop()
            return EXIT_UNTIL
        except ExpectEOF:
            return m.wait_exit(timeout=0)
        except ExpectTimeout:
            now = time.monotonic()
            pt = m._poweroff_time
            if (m.deadline is not None and now >= m.deadline) or \
                    (pt is not None and now - pt > POWEROFF_GRACE):
                return m.wait_exit(timeout=0)


if __name__ == "__main__":
    sys.exit(main())
