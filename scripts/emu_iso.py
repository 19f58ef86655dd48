"""What the emulator runner (scripts/emu.py) needs to know about an ISO:

* iso_with_cmdline(): the same ISO booting with another hypervisor command
  line (rebuilt with mkiso.sh and cached under build/iso-cache/);
* machine_for_iso(): how many CPUs and how much RAM the emulated machine
  needs for the configuration inside the ISO (`run.sh --cpus auto --mem
  auto`, what `make run` uses).
"""

import hashlib
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MKISO = REPO / "scripts" / "mkiso.sh"
ISO_CACHE = REPO / "build" / "iso-cache"
ISO_CACHE_KEEP = 32

# Machine sizes for `--cpus auto` / `--mem auto`.
DEFAULT_CPUS = 1
MAX_AUTO_CPUS = 16
DEFAULT_MEM_MIB = 256
# Room for the hypervisor itself (image, page tables, VMCS, allocator)
# next to the VMs' RAM; the firmware and the MMIO hole take the rest.
HYPERVISOR_MEM_MIB = 128
MAX_AUTO_MEM_MIB = 8192


class IsoError(Exception):
    """The ISO is missing or cannot be read or rebuilt."""


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
        raise IsoError(f"ISO {iso} not found (run `make iso`)")
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
        xorriso_extract(iso, tmp, ["bulkhead.elf", "bulkhead.cfg", "grub/grub.cfg"])
        modules = []
        for line in (tmp / "grub" / "grub.cfg").read_text().splitlines():
            words = shlex.split(line)
            if len(words) >= 2 and words[0] == "module2":
                name = os.path.basename(words[1])
                if name != "bulkhead.cfg":
                    modules.append(name)
        if modules:
            (tmp / "mods").mkdir()
            xorriso_extract(iso, tmp / "mods", modules)
        cmd = [str(MKISO), "--elf", str(tmp / "bulkhead.elf"), "--config",
               str(tmp / "bulkhead.cfg"), "--out", str(tmp / "out.iso"), "--cmdline", cmdline]
        for m in modules:
            cmd += ["--module", str(tmp / "mods" / m)]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            raise IsoError(f"mkiso.sh failed:\n{r.stdout}")
        # Atomic: parallel test workers may build the same entry.
        part = out.with_suffix(f".{os.getpid()}.part")
        shutil.copyfile(tmp / "out.iso", part)
        os.replace(part, out)
    _prune_cache()
    return out


def xorriso_extract(iso, dest, names):
    """Copies /boot/NAME for each name out of `iso` into `dest`."""
    cmd = ["xorriso", "-osirrox", "on", "-indev", str(iso)]
    for n in names:
        target = Path(dest) / n
        target.parent.mkdir(parents=True, exist_ok=True)
        cmd += ["-extract", f"/boot/{n}", str(target)]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0 or not all((Path(dest) / n).is_file() for n in names):
        raise IsoError(f"cannot extract {names} from {iso}:\n{r.stdout}")
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
# Machine size from the configuration

_KEY_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$")
_SECTION_RE = re.compile(r"^\s*\[\s*(\w+)")
_SIZE_RE = re.compile(r"^\s*(\d+)\s*([KkMmGg])\b")
_SIZE_UNIT_MIB = {"k": 1 / 1024, "m": 1, "g": 1024}


def _value(raw):
    """The value of a `key = value` line without its trailing comment."""
    return raw.split("#", 1)[0].strip()


def config_machine_needs(text):
    """(cpus, mem_mib) a machine needs to run the configuration `text`.

    cpus: one more than the highest physical CPU any `cpus =` names
    (`[1]`, `[0, 1]`, `1-3`), at least 1. mem_mib: the `memory` of every
    VM plus room for the hypervisor, rounded up to 128 MiB, at least 256.
    Values the hypervisor would reject count as absent: it reports them
    itself at boot. Both are capped (MAX_AUTO_CPUS, MAX_AUTO_MEM_MIB).
    """
    highest_cpu = -1
    vm_mib = 0.0
    section = None
    for line in text.splitlines():
        m = _SECTION_RE.match(line)
        if m:
            section = m.group(1).lower()
            continue
        m = _KEY_RE.match(line)
        if not m or section != "vm":
            continue
        key, value = m.group(1), _value(m.group(2))
        if key == "cpus":
            for n in re.findall(r"\d+", value):
                if int(n) < MAX_AUTO_CPUS:
                    highest_cpu = max(highest_cpu, int(n))
        elif key == "memory":
            s = _SIZE_RE.match(value)
            if s:
                vm_mib += int(s.group(1)) * _SIZE_UNIT_MIB[s.group(2).lower()]
    cpus = max(DEFAULT_CPUS, highest_cpu + 1)
    mem = HYPERVISOR_MEM_MIB + int(vm_mib + 0.999)
    mem = max(DEFAULT_MEM_MIB, -(-mem // 128) * 128)
    return cpus, min(mem, MAX_AUTO_MEM_MIB)


def machine_for_iso(iso):
    """config_machine_needs() of the bulkhead.cfg inside `iso`; the defaults
    (1 CPU, 256 MiB) when the ISO carries no configuration."""
    with tempfile.TemporaryDirectory(prefix="bulkhead-isocfg.") as tmp:
        try:
            xorriso_extract(iso, tmp, ["bulkhead.cfg"])
        except IsoError:
            return DEFAULT_CPUS, DEFAULT_MEM_MIB
        text = (Path(tmp) / "bulkhead.cfg").read_text(errors="replace")
    return config_machine_needs(text)
