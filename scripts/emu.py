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

Exit status (run.sh and Machine.wait_exit()):
  N    the console printed `bulkhead: poweroff N` (the last such line counts;
       the emulator is given a few seconds to stop by itself, then killed)
  0    --until REGEX matched (the emulator is then stopped)
  124  timeout
  125  the emulator ended without printing a poweroff line
  130  interrupted (Ctrl-C, or Ctrl-A x in interactive mode)
"""

import argparse
import atexit
import codecs
import hashlib
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

REPO = Path(__file__).resolve().parent.parent
MKISO = REPO / "scripts" / "mkiso.sh"
DEFAULT_ISO = REPO / "build" / "bulkhead.iso"
DEFAULT_ESP = REPO / "build" / "esp.img"
ISO_CACHE = REPO / "build" / "iso-cache"
ISO_CACHE_KEEP = 32

EXIT_UNTIL = 0
EXIT_TIMEOUT = 124
EXIT_NO_POWEROFF = 125
EXIT_INTERRUPTED = 130

# How long an emulator may take to stop by itself after the poweroff line.
POWEROFF_GRACE = 10.0

POWEROFF_RE = re.compile(r"^bulkhead: poweroff (\d+)[ \t]*$", re.M)
GRUB_BOOT_RE = re.compile(r"Booting `")

BOCHS_BIN = "bochs-bin"
QEMU_BIN = "qemu-system-x86_64"
BOCHS_BIOS = "/usr/share/bochs/BIOS-bochs-latest"
BOCHS_VGABIOS = "/usr/share/bochs/VGABIOS-lgpl-latest"
OVMF_PAIRS = [
    ("/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"),
    ("/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd"),
]

EMULATORS = ("bochs", "qemu", "uefi", "uefi-direct", "kvm")


class EmuError(Exception):
    """The emulator could not be started (missing binary, ISO, ...)."""


class ExpectTimeout(AssertionError):
    pass


class ExpectEOF(AssertionError):
    pass


# --------------------------------------------------------------------------
# Environment probes


def emulator_binary(emu):
    return BOCHS_BIN if emu == "bochs" else QEMU_BIN


def have_emulator(emu):
    """True when the binary (and firmware) for `emu` is installed."""
    if emu == "auto":
        emu = resolve_emu("auto")
    if shutil.which(emulator_binary(emu)) is None:
        return False
    if emu == "bochs":
        return os.path.exists(BOCHS_BIOS) and os.path.exists(BOCHS_VGABIOS)
    if emu in ("uefi", "uefi-direct"):
        return ovmf_files() is not None
    if emu == "kvm":
        return kvm_available()
    return True


def ovmf_files():
    for code, vars_ in OVMF_PAIRS:
        if os.path.exists(code) and os.path.exists(vars_):
            return code, vars_
    return None


def kvm_available():
    """/dev/kvm usable and the host CPU has VMX (needed for nested VMX)."""
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
        os.close(fd)
    except OSError:
        return False
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags") and " vmx" in line:
                    return shutil.which(QEMU_BIN) is not None
    except OSError:
        pass
    return False


def resolve_emu(emu):
    if emu == "auto":
        return "kvm" if kvm_available() else "bochs"
    if emu not in EMULATORS:
        raise EmuError(f"unknown emulator '{emu}' (choose from auto, {', '.join(EMULATORS)})")
    return emu


# --------------------------------------------------------------------------
# ISO with a different command line (cached)


def _sha256_file(path, h=None):
    h = h or hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h


def iso_with_cmdline(iso, cmdline):
    """Return an ISO identical to `iso` but booting with `cmdline`.

    The kernel, configuration and modules are taken from `iso` itself and
    the result is cached under build/iso-cache/ by a hash of the base ISO,
    the command line and mkiso.sh.
    """
    iso = Path(iso)
    if not iso.is_file():
        raise EmuError(f"ISO {iso} not found (run `make iso`)")
    h = _sha256_file(iso)
    h.update(b"\0cmdline\0" + cmdline.encode())
    h = _sha256_file(MKISO, h)
    key = h.hexdigest()[:24]
    ISO_CACHE.mkdir(parents=True, exist_ok=True)
    out = ISO_CACHE / f"{key}.iso"
    if out.is_file():
        os.utime(out)
        return out

    with tempfile.TemporaryDirectory(prefix="bulkhead-isoprep.") as tmp:
        tmp = Path(tmp)
        _xorriso_extract(iso, tmp, ["bulkhead.elf", "bulkhead.cfg", "grub/grub.cfg"])
        modules = []
        for line in (tmp / "grub" / "grub.cfg").read_text().splitlines():
            words = shlex.split(line)
            if len(words) >= 2 and words[0] == "module2":
                name = os.path.basename(words[1])
                if name != "bulkhead.cfg":
                    modules.append(name)
        if modules:
            (tmp / "mods").mkdir()
            _xorriso_extract(iso, tmp / "mods", modules)
        cmd = [str(MKISO), "--elf", str(tmp / "bulkhead.elf"), "--config",
               str(tmp / "bulkhead.cfg"), "--out", str(tmp / "out.iso"), "--cmdline", cmdline]
        for m in modules:
            cmd += ["--module", str(tmp / "mods" / m)]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            raise EmuError(f"mkiso.sh failed:\n{r.stdout}")
        # Atomic: parallel test workers may build the same entry.
        part = out.with_suffix(f".{os.getpid()}.part")
        shutil.copyfile(tmp / "out.iso", part)
        os.replace(part, out)
    _prune_cache()
    return out


def esp_with_cmdline(esp, cmdline, workdir):
    """A copy of the ESP image `esp` in workdir whose firmware boots the UEFI
    shell, whose startup.nsh starts bulkhead.efi with `cmdline` as its load
    options (the removable-media loader \\EFI\\BOOT\\BOOTX64.EFI is removed)."""
    out = Path(workdir) / "esp.img"
    shutil.copyfile(esp, out)
    nsh = Path(workdir) / "startup.nsh"
    nsh.write_bytes(f"\\EFI\\bulkhead\\bulkhead.efi {cmdline}\r\n".encode())
    for cmd in (["mdel", "-i", str(out), "::/EFI/BOOT/BOOTX64.EFI"],
                ["mcopy", "-o", "-i", str(out), str(nsh), "::/startup.nsh"]):
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0 and cmd[0] != "mdel":
            raise EmuError(f"{' '.join(cmd)} failed:\n{r.stdout}")
    return out


def _xorriso_extract(iso, dest, names):
    cmd = ["xorriso", "-osirrox", "on", "-indev", str(iso)]
    for n in names:
        target = Path(dest) / n
        target.parent.mkdir(parents=True, exist_ok=True)
        cmd += ["-extract", f"/boot/{n}", str(target)]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0 or not all((Path(dest) / n).is_file() for n in names):
        raise EmuError(f"cannot extract {names} from {iso}:\n{r.stdout}")
    for n in names:
        os.chmod(Path(dest) / n, 0o644)


def _prune_cache():
    try:
        entries = sorted(ISO_CACHE.glob("*.iso"), key=lambda p: p.stat().st_mtime, reverse=True)
        for p in entries[ISO_CACHE_KEEP:]:
            p.unlink()
    except OSError:
        pass


# --------------------------------------------------------------------------
# Emulator command lines


def bochsrc_text(iso, cpus, mem, serial_dev, workdir, extra=()):
    lines = [
        "# generated by scripts/emu.py",
        'display_library: rfb, options="timeout=0"',
        f"cpu: model=corei7_skylake_x, count={cpus}, ips=100000000, "
        "reset_on_triple_fault=0, ignore_bad_msrs=0",
        f"memory: guest={mem}, host={mem}",
        f"romimage: file={BOCHS_BIOS}",
        f"vgaromimage: file={BOCHS_VGABIOS}",
        "pci: enabled=1, chipset=i440fx",
        f"ata0-master: type=cdrom, path={iso}, status=inserted",
        "boot: cdrom",
        "clock: sync=none",
        "magic_break: enabled=1",
        "port_e9_hack: enabled=1",
        # Debian's Bochs loads its ALSA sound driver for the PC speaker; on a
        # machine without a sound card its mixer thread aborts Bochs
        # ("buffer overflow detected") at a random moment.
        "sound: driver=dummy",
        f"log: {workdir}/bochs.log",
        "panic: action=fatal",
        "error: action=report",
        f"com1: enabled=1, mode=term, dev={serial_dev}",
    ]
    lines += list(extra)
    return "\n".join(lines) + "\n"


def qemu_command(emu, iso, cpus, mem, serial_dev, workdir, extra=()):
    cmd = [QEMU_BIN]
    if emu == "kvm":
        cmd += ["-accel", "kvm", "-cpu", "host,+vmx", "-machine", "q35,kernel-irqchip=split",
                "-device", "intel-iommu,intremap=on"]
    else:
        cmd += ["-machine", "q35", "-device", "intel-iommu"]
    if emu == "uefi-direct":
        # An ESP image from `make efi`, booted by bulkhead.efi without GRUB;
        # snapshot=on: the firmware may write to it, the file stays as built.
        # No NIC: the firmware would try PXE for a minute before its shell.
        boot = ["-drive", f"format=raw,snapshot=on,file={iso}", "-nic", "none"]
    else:
        boot = ["-cdrom", str(iso), "-boot", "d"]
    cmd += ["-smp", str(cpus), "-m", str(mem)] + boot + [
            "-display", "none", "-no-reboot",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
            "-chardev", f"tty,id=com1,path={serial_dev}", "-serial", "chardev:com1",
            "-debugcon", f"file:{workdir}/debugcon.log"]
    if emu in ("uefi", "uefi-direct"):
        fw = ovmf_files()
        if fw is None:
            raise EmuError("OVMF firmware not found (install the ovmf package)")
        code, vars_ = fw
        vars_copy = Path(workdir) / "OVMF_VARS.fd"
        shutil.copyfile(vars_, vars_copy)
        cmd += ["-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={code}",
                "-drive", f"if=pflash,format=raw,unit=1,file={vars_copy}"]
    for e in extra:
        cmd += shlex.split(e)
    return cmd


# --------------------------------------------------------------------------
# Machine


_live_machines = set()


@atexit.register
def _kill_all():
    for m in list(_live_machines):
        m.close()


class Machine:
    """One emulated machine booting a Bulkhead ISO, with its serial console.

    emu:      bochs | qemu | uefi | kvm | auto
    cmdline:  replaces the hypervisor command line (ISO rebuilt and cached)
    timeout:  overall wall-clock budget in seconds, from start (None: none)
    echo:     a binary stream (e.g. sys.stdout.buffer) that receives the
              serial output as it arrives
    log:      a file path receiving the serial output
    extra:    extra QEMU arguments (each shell-split) or extra bochsrc lines
    """

    def __init__(self, emu="bochs", cpus=1, mem=256, iso=None, cmdline=None, timeout=120,
                 echo=None, log=None, extra=(), keep_workdir=None):
        self.emu = resolve_emu(emu)
        self.cpus = int(cpus)
        self.mem = int(mem)
        self.timeout = timeout
        self.echo = echo
        self.extra = list(extra)
        self.keep_workdir = (os.environ.get("BULKHEAD_KEEP_WORKDIR") == "1"
                             if keep_workdir is None else keep_workdir)
        if not have_emulator(self.emu):
            raise EmuError(f"emulator for '{self.emu}' is not installed")
        if self.emu == "uefi-direct":
            base = Path(iso) if iso else DEFAULT_ESP
            if not base.is_file():
                raise EmuError(f"ESP image {base} not found (run `make efi`)")
            self.iso = base
        else:
            base = Path(iso) if iso else DEFAULT_ISO
            if not base.is_file():
                raise EmuError(f"ISO {base} not found (run `make iso`)")
            self.iso = iso_with_cmdline(base, cmdline) if cmdline is not None else base

        self._cond = threading.Condition()
        self._chunks = []         # normalised text chunks ('\r' removed)
        self._line = ""           # the current incomplete line
        self._pos = 0             # expect() searches from here
        self._eof = False
        self.poweroff_status = None   # N from the last `bulkhead: poweroff N`
        self._poweroff_time = None
        self.emu_returncode = None    # the emulator process' own exit status
        self.stopped_by_runner = False
        self.status = None
        self._closed = False
        self._logf = open(log, "w") if log else None
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")

        self.workdir = tempfile.mkdtemp(prefix=f"bulkhead-{self.emu}.")
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        slave_name = os.ttyname(self._slave)
        self._emu_out = open(os.path.join(self.workdir, "emulator.out"), "wb")
        if self.emu == "uefi-direct" and cmdline is not None:
            self.iso = esp_with_cmdline(self.iso, cmdline, self.workdir)

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
        self.proc = subprocess.Popen(self.command, cwd=self.workdir, stdin=subprocess.DEVNULL,
                                     stdout=self._emu_out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        _live_machines.add(self)
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()

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
                self._check_poweroff(line)
            self._cond.notify_all()

    def _check_poweroff(self, line):
        m = POWEROFF_RE.fullmatch(line)
        if m:
            self.poweroff_status = int(m.group(1))
            self._poweroff_time = time.monotonic()

    def _joined_locked(self):
        if len(self._chunks) > 1:
            self._chunks = ["".join(self._chunks)]
        return self._chunks[0] if self._chunks else ""

    def _read_chunk(self):
        """Read what is available, batching bytes that trickle in (Bochs
        writes the UART one byte at a time). b"" = nothing, None = error."""
        try:
            data = os.read(self._master, 65536)
        except BlockingIOError:
            return b""
        except OSError:
            return None
        while data and len(data) < 65536:
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
        return len(GRUB_BOOT_RE.findall(self.output))

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
    ap.add_argument("--cpus", type=int, default=1)
    ap.add_argument("--mem", type=int, default=256, help="guest RAM in MiB (default 256)")
    ap.add_argument("--iso", default=None,
                    help="the ISO to boot (default build/bulkhead.iso; with --emu uefi-direct "
                         "the ESP image, default build/esp.img)")
    ap.add_argument("--cmdline", default=None,
                    help="replace the hypervisor command line (builds a cached ISO)")
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds (default: none with --interactive, else 300; 0 = none)")
    ap.add_argument("--until", default=None, metavar="REGEX",
                    help="stop with status 0 as soon as the console output matches")
    ap.add_argument("--interactive", action="store_true",
                    help="attach the terminal to the serial console (Ctrl-A x quits)")
    ap.add_argument("--log", default=None, help="also write the console output to FILE")
    ap.add_argument("--extra", action="append", default=[], metavar="ARG",
                    help="extra QEMU argument(s) / extra bochsrc line (repeatable)")
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
        m = Machine(emu=args.emu, cpus=args.cpus, mem=args.mem, iso=args.iso,
                    cmdline=args.cmdline, timeout=timeout, echo=sys.stdout.buffer,
                    log=args.log, extra=args.extra, keep_workdir=args.keep_workdir)
    except EmuError as e:
        print(f"run.sh: {e}", file=sys.stderr)
        return 2
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
        if m.poweroff_status is None and status in why:
            print(f"\nrun.sh: {why[status]} (status {status})", file=sys.stderr)
            if status == EXIT_NO_POWEROFF:
                print(m.emulator_log(20), file=sys.stderr)
    finally:
        m.close()
    return status


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
