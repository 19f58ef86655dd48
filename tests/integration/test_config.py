"""The configuration file: every class of bad configuration gives its named
error, both in the host checker and at boot, while the valid VM `good` next
to the bad one still starts and runs (Bochs, 2 CPUs).

Each configs/bad/*.cfg holds a valid, autostarted VM `good` (hello.elf,
"name=good") and one bad VM. Its header says what to expect:

    # expect: LINE: vm NAME: MESSAGE          (the error after "FILE:")
    # check: build/bulkhead-check [...] FILE  (the checker command showing it)

The boot checks use Bochs: without VMX (QEMU TCG) the hypervisor does not
read its configuration at all (core/main.c), so no error would be printed.

build_config_iso() (also used by test_console.py) builds an ISO for a
configuration with the modules it names, once, under build/itest/.
"""

import hashlib
import os
import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import REPO, require

CHECK = REPO / "build" / "bulkhead-check"
ELF = REPO / "build" / "bulkhead.elf"
GUESTS = REPO / "build" / "guests"
MKISO = REPO / "scripts" / "mkiso.sh"
ITEST = REPO / "build" / "itest"
PROMPT = "bulkhead> "
BAD = sorted((REPO / "configs" / "bad").glob("*.cfg"))


# --------------------------------------------------------------------------
# ISOs built from a configuration (shared with test_console.py)


def _stamp(path):
    st = Path(path).stat()
    return f"{path}:{st.st_mtime_ns}:{st.st_size}\n".encode()


def build_config_iso(cfg, search=(GUESTS,)):
    """An ISO booting configuration `cfg` with the modules it names (those
    found in the first folder of `search` that has them, build/guests/ by
    default; a missing one stays missing, as with
    `make iso ALLOW_BAD_CONFIG=1`).
    Cached under build/itest/ by the configuration's text and the mtimes of
    the kernel, the modules and mkiso.sh; atomic, so parallel workers may
    race for it."""
    cfg = Path(cfg)
    if not CHECK.is_file() or not ELF.is_file():
        pytest.fail("build/bulkhead-check or build/bulkhead.elf missing: run `make iso` first")
    r = subprocess.run([str(CHECK), "--list-modules", str(cfg)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    assert r.returncode in (0, 1), f"bulkhead-check --list-modules {cfg}: {r.stderr}"
    modules = []
    for n in r.stdout.split():
        found = [Path(d) / n for d in search if (Path(d) / n).is_file()]
        if found:
            modules.append(found[0])
    h = hashlib.sha256(cfg.read_bytes())
    for p in [ELF, MKISO] + modules:
        h.update(_stamp(p))
    ITEST.mkdir(parents=True, exist_ok=True)
    out = ITEST / f"{cfg.stem}-{h.hexdigest()[:16]}.iso"
    if out.is_file():
        return out
    part = out.with_suffix(f".{os.getpid()}.part")
    cmd = [str(MKISO), "--config", str(cfg), "--out", str(part)]
    for m in modules:
        cmd += ["--module", str(m)]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, f"mkiso.sh failed:\n{r.stdout}"
    os.replace(part, out)
    for old in ITEST.glob(f"{cfg.stem}-*.iso"):
        if old != out:
            old.unlink(missing_ok=True)
    return out


@pytest.fixture(scope="session")
def config_iso():
    """config_iso(path) -> ISO for that configuration (built once)."""
    built = {}

    def get(cfg):
        key = str(cfg)
        if key not in built:
            built[key] = build_config_iso(cfg)
        return built[key]

    return get


# --------------------------------------------------------------------------
# Helpers


def header(cfg, key):
    m = re.search(rf"^# {key}: (.*)$", cfg.read_text(), re.M)
    assert m, f"{cfg} has no '# {key}:' line"
    return m.group(1).strip()


def bad_vm(expect):
    """'18: vm broken: ...' -> 'broken'."""
    m = re.match(r"\d+: vm ([^:]+): ", expect)
    assert m, expect
    return m.group(1)


def boot_pattern(expect):
    """The expected error as printed at boot, as a regex. The free RAM in
    the too-much-memory message is the machine's (the `# check:` line gives
    the checker --mem 512M), so its number is left open."""
    pat = re.escape(f"error: config: bulkhead.cfg:{expect}")
    pat = re.sub(r"the\\ free\\ RAM\\ \\\(\d+[KMG]\\\)", r"the\\ free\\ RAM\\ \\(\\d+[KMG]\\)", pat)
    return "^" + pat + "$"


def wait_for(m, regex, timeout):
    return wait_for_from(m, regex, timeout, 0)


def command(m, line, timeout=60):
    """Type `line` + Enter; its output (between the echo and the next prompt)."""
    out = m.output
    start = out.rfind(PROMPT) if out.endswith(PROMPT) else len(out)
    for i in range(0, len(line) + 1, 4):  # at a typist's pace (see test_console.py)
        m.send((line + "\r")[i:i + 4])
        time.sleep(0.05)
    found = wait_for_from(m, rf"^{re.escape(PROMPT + line)}\n((?:.*\n)*?){re.escape(PROMPT)}",
                          timeout, start)
    return found.group(1)


def wait_for_from(m, regex, timeout, start):
    pat = re.compile(regex, re.M)
    end = time.monotonic() + timeout
    while True:
        found = pat.search(m.output, start)
        if found:
            return found
        if not m.running or time.monotonic() >= end:
            break
        time.sleep(0.3)
    raise AssertionError(f"{regex!r} not seen within {timeout}s; output:\n{m.output[-4000:]}")


def ids(paths):
    return [p.stem for p in paths]


def test_bad_files_are_there():
    names = {p.stem for p in BAD}
    for want in ("syntax", "unknown-key", "misspelt-key", "bad-unit", "duplicate-name",
                 "too-much-memory", "overlapping-fixed", "reserved-memory", "dedicated-twice",
                 "absent-cpu", "pci", "missing-module", "ioports-owned", "ioports-twice"):
        assert want in names, f"configs/bad/{want}.cfg missing"


# --------------------------------------------------------------------------
# The host checker


@pytest.mark.parametrize("cfg", BAD, ids=ids(BAD))
def test_checker_names_the_error(cfg):
    expect = header(cfg, "expect")
    cmd = shlex.split(header(cfg, "check"))
    r = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = r.stdout + r.stderr
    assert r.returncode == 1, (cmd, r.returncode, out)
    rel = cfg.relative_to(REPO)
    errors = [line for line in r.stdout.splitlines() if line.strip()]
    # Exactly one error, and it is the expected one.
    assert errors == [f"{rel}:{expect}"], (cmd, out)


def test_checker_accepts_demo():
    r = subprocess.run([str(CHECK), "--cpus", "2", "--mem", "200M", "--modules",
                        "hello.elf,spin.elf,echo.elf,cpuid-bench.elf,hostile.elf",
                        "configs/demo.cfg"], cwd=REPO, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout
    assert r.stdout == "", r.stdout
    r = subprocess.run([str(CHECK), "configs/demo.cfg"], cwd=REPO, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout


def check(*args, cwd=REPO):
    return subprocess.run([str(CHECK), *map(str, args)], cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)


def test_checker_mem_is_mib_by_default(tmp_path):
    """--mem 256 means 256 MiB, as for scripts/run.sh; K, M and G are units."""
    cfg = tmp_path / "m.cfg"
    cfg.write_text("[vm a]\nkernel = hello.elf\nmemory = 128M\n")
    for ok in ("256", "256M", "1G", "131072K"):
        r = check("--mem", ok, cfg)
        assert (r.returncode, r.stdout) == (0, ""), (ok, r.stdout, r.stderr)
    for small, shown in (("64", "64M"), ("64M", "64M"), ("256K", "256K")):
        r = check("--mem", small, cfg)
        assert r.returncode == 1, (small, r.stdout)
        assert r.stdout == f"{cfg}:3: vm a: memory: 128M is more than the free RAM ({shown})\n"
    for bad in ("0", "lots", "12T", "-5", "16MB", ""):
        r = check("--mem", bad, cfg)
        assert r.returncode == 2, (bad, r.stdout, r.stderr)
        assert "--mem: expected a size in MiB like 512" in r.stderr, r.stderr


def test_checker_warns_about_no_vms(tmp_path):
    """An empty file (or one without VMs) is valid - the hypervisor comes up
    with its console alone - but the checker says it defines no VMs."""
    for name, text in (("empty.cfg", ""), ("global.cfg", "[global]\nloglevel = info\n")):
        cfg = tmp_path / name
        cfg.write_text(text)
        r = check(cfg)
        assert r.returncode == 0, r.stdout
        assert r.stdout == "", r.stdout
        assert r.stderr == f"{cfg}: warning: defines no VMs\n", r.stderr
    r = check(REPO / "configs" / "demo.cfg")
    assert "warning" not in r.stderr, r.stderr


def test_checker_pci_needs_platform(tmp_path):
    """Switched-off net.* keys are fine; `pci` needs the PC platform."""
    cfg = tmp_path / "f.cfg"
    cfg.write_text("[global]\nnet.enabled = false\nnet.address = dhcp\n"
                   "[vm a]\nkernel = hello.elf\nplatform = none\npci = [00:02.0]\n")
    r = check(cfg)
    assert r.returncode == 1, r.stdout
    assert r.stdout.splitlines() == [
        f"{cfg}:7: vm a: pci: passed-through devices need `platform = pc`",
    ], r.stdout


def test_checker_net_keys(tmp_path):
    """The network console's keys (docs/network.md) are checked with the
    rest, and bulkhead-check --hash-password makes the hash they need."""
    r = subprocess.run([str(CHECK), "--hash-password", "--iterations", "1000"],
                       input="s3cret\n", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert r.returncode == 0, r.stderr
    pw = r.stdout.strip()
    algo, iterations, salt, digest = pw.split("$")
    assert (algo, iterations, len(salt)) == ("pbkdf2-sha256", "1000", 32), pw
    assert digest == hashlib.pbkdf2_hmac("sha256", b"s3cret", bytes.fromhex(salt), 1000).hex()
    again = subprocess.run([str(CHECK), "--hash-password"], input="s3cret\n",
                           stdout=subprocess.PIPE, text=True).stdout.strip()
    assert again.split("$")[2] != salt, "the salt must differ each time"
    r = subprocess.run([str(CHECK), "--hash-password", "--iterations", "10"], input="x\n",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert r.returncode == 2 and "--iterations: expected 1000-1000000" in r.stderr, r.stderr
    r = subprocess.run([str(CHECK), "--hash-password"], input="\n",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert r.returncode == 2 and "the password is empty" in r.stderr, r.stderr

    cfg = tmp_path / "n.cfg"
    cfg.write_text("[global]\nnet.enabled = true\nnet.device = 00:03.0\n"
                   f"net.address = 192.168.1.10/24\nnet.gateway = 192.168.1.1\n"
                   f"net.console_port = 2424\nnet.password_hash = {pw}\n"
                   "[vm a]\nkernel = hello.elf\n")
    r = check(cfg)
    assert r.returncode == 0 and r.stdout == "", r.stdout
    cfg.write_text("[global]\nnet.enabled = true\nnet.address = 192.168.1.0/24\n"
                   "net.gateway = 10.0.0.1\nnet.console_port = 0\nnet.device = 0:1\n"
                   "net.password_hash = hunter2\n[vm a]\nkernel = hello.elf\n")
    r = check(cfg)
    assert r.returncode == 1, r.stdout
    assert r.stdout.splitlines() == [
        f"{cfg}:3: net.address: 192.168.1.0/24 is not a host address (network, broadcast, "
        "loopback or multicast)",
        f"{cfg}:5: net.console_port: expected a TCP port 1-65535, got '0'",
        f"{cfg}:6: net.device: expected auto or a PCI device like 00:03.0, got '0:1'",
        f"{cfg}:7: net.password_hash: expected a hash starting with 'pbkdf2-sha256$' "
        "(bulkhead-check --hash-password makes one)",
        f"{cfg}:2: net.enabled = true needs net.password_hash (make one with bulkhead-check "
        "--hash-password)",
        f"{cfg}:4: net.gateway: only with a static net.address (DHCP gives the gateway)",
    ], r.stdout


def test_checker_suggests_keys(tmp_path):
    cfg = tmp_path / "k.cfg"
    cfg.write_text("[global]\nloglvl = info\nkernel = x.elf\n"
                   "[vm a]\nkernel = hello.elf\nautostrat = true\ncpu = [0]\nbaud = 9600\n"
                   "wibble = 1\n")
    r = check(cfg)
    assert r.stdout.splitlines() == [
        f"{cfg}:2: unknown key 'loglvl' in [global] (did you mean 'loglevel'?)",
        f"{cfg}:3: key 'kernel' belongs in a [vm NAME] section, not in [global]",
        f"{cfg}:6: vm a: unknown key 'autostrat' (did you mean 'autostart'?)",
        f"{cfg}:7: vm a: unknown key 'cpu' (did you mean 'cpus'?)",
        f"{cfg}:8: vm a: key 'baud' belongs in [global], not in a VM's section",
        f"{cfg}:9: vm a: unknown key 'wibble'",
    ], r.stdout


def test_doc_examples_are_valid(tmp_path):
    """Every ```ini example of docs/configuration.md passes the checker."""
    text = (REPO / "docs" / "configuration.md").read_text()
    examples = re.findall(r"^```ini\n(.*?)^```$", text, re.M | re.S)
    assert len(examples) >= 2
    for i, example in enumerate(examples):
        cfg = tmp_path / f"example{i}.cfg"
        cfg.write_text(example)
        r = check(cfg)
        assert (r.returncode, r.stdout, r.stderr) == (0, "", ""), (example, r.stdout, r.stderr)


def test_checker_lists_modules_of_a_bad_file():
    cfg = REPO / "configs" / "bad" / "missing-module.cfg"
    r = subprocess.run([str(CHECK), "--list-modules", str(cfg)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    assert r.stdout.split() == ["hello.elf", "missing.elf"], (r.stdout, r.stderr)


# --------------------------------------------------------------------------
# make iso: every module found or a failed build; a broken file fails too


def make_iso(cfg, iso, **variables):
    cmd = ["make", "--no-print-directory", "iso", f"CONFIG={cfg}", f"ISO={iso}"]
    cmd += [f"{k}={v}" for k, v in variables.items()]
    return subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)


def iso_files(iso):
    r = subprocess.run(["xorriso", "-indev", str(iso), "-find", "/boot", "-maxdepth", "1",
                        "-type", "f"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       text=True, check=True)
    return sorted(line.strip("'").rsplit("/", 1)[-1] for line in r.stdout.split())


def test_make_iso_fails_on_a_missing_module(tmp_path):
    """A typo in a module name fails the build, names the module and every
    place looked in, and leaves the old ISO alone."""
    cfg = tmp_path / "cfg" / "typo.cfg"
    cfg.parent.mkdir()
    cfg.write_text("[vm echo]\nkernel = hello.elf\n[vm typo]\nkernel = ecco.elf\n"
                   "initrd = \"lost.img\"\n")
    iso = tmp_path / "out.iso"
    iso.write_bytes(b"the old ISO")
    r = make_iso(cfg, iso, MODULES=f"{tmp_path}/a:{tmp_path}/b")
    assert r.returncode != 0, r.stdout
    assert iso.read_bytes() == b"the old ISO"
    for name, line in (("ecco.elf", 4), ("lost.img", 5)):
        assert f"{cfg}:{line}: module '{name}' not found; looked in:" in r.stdout, r.stdout
        for d in (cfg.parent, tmp_path / "a", tmp_path / "b", REPO / "build" / "guests",
                  REPO / "build" / "linux"):
            assert f"    {d}/{name}\n" in r.stdout, (d, r.stdout)
    assert "2 module(s) missing" in r.stdout, r.stdout
    # A name close to a file that is there gets a suggestion.
    assert f"    did you mean 'echo.elf' ({REPO}/build/guests/echo.elf)?\n" in r.stdout, r.stdout
    assert not list(tmp_path.glob("*.part")), list(tmp_path.iterdir())


def test_make_iso_finds_the_users_modules(tmp_path):
    """Modules next to the configuration, in MODULES=dir:dir and in
    build/guests; the configuration's directory wins."""
    guests = REPO / "build" / "guests"
    (tmp_path / "cfg").mkdir()
    (tmp_path / "m1").mkdir()
    (tmp_path / "m2").mkdir()
    cfg = tmp_path / "cfg" / "mine.cfg"
    cfg.write_text("[vm a]\nkernel = mine.elf\n[vm b]\nkernel = other.elf\n"
                   "initrd = extra.img\n[vm c]\nkernel = hello.elf\n")
    (tmp_path / "cfg" / "mine.elf").write_bytes((guests / "hello.elf").read_bytes())
    (tmp_path / "m1" / "mine.elf").write_bytes(b"not this one")
    (tmp_path / "m1" / "other.elf").write_bytes((guests / "spin.elf").read_bytes())
    (tmp_path / "m2" / "extra.img").write_bytes(b"data")
    iso = tmp_path / "out.iso"
    r = make_iso(cfg, iso, MODULES=f"{tmp_path}/m1:{tmp_path}/m2")
    assert r.returncode == 0, r.stdout
    assert iso_files(iso) == ["bulkhead.cfg", "bulkhead.elf", "extra.img", "hello.elf",
                              "mine.elf", "other.elf"]
    r = subprocess.run([str(REPO / "scripts" / "resolve-modules.sh"), "--config", str(cfg),
                        "--search", f"{tmp_path}/m1:{tmp_path}/m2"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    assert r.stdout.split() == [str(tmp_path / "cfg" / "mine.elf"),
                                str(tmp_path / "m1" / "other.elf"),
                                str(tmp_path / "m2" / "extra.img"), str(guests / "hello.elf")]


def test_make_iso_fails_on_a_bad_config(tmp_path):
    """A configuration with errors fails `make iso` (no ISO); ALLOW_BAD_CONFIG=1
    builds it anyway, leaving out what is missing, to see the errors at boot."""
    iso = tmp_path / "bad.iso"
    for name in ("pci", "missing-module"):
        cfg = REPO / "configs" / "bad" / f"{name}.cfg"
        r = make_iso(cfg, iso)
        assert r.returncode != 0, r.stdout
        assert not iso.exists()
        r = make_iso(cfg, iso, ALLOW_BAD_CONFIG=1)
        assert r.returncode == 0, r.stdout
        assert iso.is_file()
        iso.unlink()
    r = make_iso(REPO / "configs" / "bad" / "pci.cfg", iso)
    assert "configs/bad/pci.cfg:21: vm dev: pci: passed-through devices need `platform = pc`" \
        in r.stdout, r.stdout
    assert "ALLOW_BAD_CONFIG=1" in r.stdout, r.stdout


def doc_blocks(path):
    return re.findall(r"^```sh\n(.*?)^```$", path.read_text(), re.M | re.S)


@pytest.mark.bochs
def test_own_kernel_example(tmp_path):
    """docs/own-kernel.md works as pasted: its shell blocks build the kernel
    and the configuration in a fresh HOME, `make iso` takes the kernel from
    next to the configuration, and the VM prints its line. (The ISO goes to
    a temporary file instead of build/bulkhead.iso; the interactive run is
    left out.)"""
    require("bochs")
    blocks = doc_blocks(REPO / "docs" / "own-kernel.md")
    iso = tmp_path / "own.iso"
    env = dict(os.environ, HOME=str(tmp_path), ISO=str(iso))
    ran = 0
    for block in blocks:
        if "--interactive" in block:
            continue
        in_tree = block.lstrip().startswith(("make ", "scripts/"))
        block = block.replace("build/bulkhead.iso", str(iso))
        r = subprocess.run(["bash", "-euo", "pipefail", "-c", block],
                           cwd=REPO if in_tree else tmp_path, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=600)
        assert r.returncode == 0, (block, r.stdout[-4000:])
        ran += 1
    assert ran == 6, ran
    assert (tmp_path / "mykernel" / "mykernel.elf").is_file()
    assert "mykernel.elf" in iso_files(iso)
    assert re.search(r"^\[mine\] hello from my kernel$", r.stdout, re.M), r.stdout
    assert re.search(r"^config: 1 VMs defined, 1 autostarted, 0 failed to start, 0 errors$",
                     r.stdout, re.M), r.stdout


# --------------------------------------------------------------------------
# At boot (Bochs): the named error, and `good` runs next to the bad VM


@pytest.mark.bochs
@pytest.mark.parametrize("cfg", BAD, ids=ids(BAD))
def test_boot_names_the_error_and_good_runs(boot, config_iso, cfg):
    expect = header(cfg, "expect")
    bad = bad_vm(expect)
    m = boot("bochs", cpus=2, iso=config_iso(cfg))
    wait_for(m, r"^config: \d+ VMs defined, \d+ autostarted, \d+ failed to start, \d+ errors$",
             150)
    # The valid VM starts and runs to its end next to the bad one.
    wait_for(m, r"^vm good: stopped itself \(code 0\)$", 120)
    out = m.output

    # Exactly the expected error, and nothing else from the configuration.
    config_errors = re.findall(r"^error: config: bulkhead\.cfg:.*$", out, re.M)
    assert len(config_errors) == 1, out
    assert re.search(boot_pattern(expect), out, re.M), (boot_pattern(expect), out)
    if "duplicate VM name" not in expect:
        # (The first VM of a duplicate name is valid; the second is dropped.)
        assert re.search(rf"^error: config: vm {re.escape(bad)} has errors and will not start$",
                         out, re.M), out
    summary = re.search(r"^config: (\d+) VMs defined, (\d+) autostarted, (\d+) failed to start, "
                        r"(\d+) errors$", out, re.M)
    assert summary.group(2, 3, 4) == ("1", "0", "1"), summary.group(0)
    assert re.search(r"^vm good: started \(4 MiB, 1 vcpu on cpu 0\)$", out, re.M), out
    assert re.search(r"^\[good\] hello from good$", out, re.M), out
    assert not re.search(rf"^vm {re.escape(bad)}: started", out, re.M), out
    assert "bulkhead: panic" not in out, out


@pytest.mark.bochs
def test_console_after_a_bad_config(boot, config_iso):
    """The console comes up next to a bad configuration: `list --all` shows
    `good`, the bad VM was never defined, and `poweroff` works. Typed after
    `good` (the only VM on CPU 0, the console's CPU) has stopped."""
    cfg = REPO / "configs" / "bad" / "dedicated-twice.cfg"
    m = boot("bochs", cpus=2, iso=config_iso(cfg))
    wait_for(m, r"^vm good: stopped itself \(code 0\)$", 150)
    time.sleep(2)
    table = command(m, "list --all")
    assert re.search(r"^ \d+\s+good\s+shut off$", table, re.M), table
    assert re.search(r"^ \d+\s+rt-a\s+defined$", table, re.M), table
    assert "rt-b" not in table, table
    reply = command(m, "start rt-b")
    assert reply.startswith("error: no VM named 'rt-b'"), reply
    m.send("poweroff 0\r")
    assert m.wait_exit() == 0, m.output


# --------------------------------------------------------------------------
# Bad input the checker cannot see: empty modules, RAM that is not there


def mkiso(cfg, out, modules):
    cmd = [str(MKISO), "--config", str(cfg), "--out", str(out)]
    for m in modules:
        cmd += ["--module", str(m)]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout
    return out


@pytest.mark.bochs
@pytest.mark.parametrize("text,said,errors", [
    ("", r"^error: config: module bulkhead\.cfg is empty: no VMs defined from it$", 1),
    ("[global]\nloglevel = info\n", r"^warning: config: bulkhead\.cfg defines no VMs$", 0),
], ids=["empty", "no-vms"])
def test_boot_empty_config(boot, tmp_path, text, said, errors):
    """An empty bulkhead.cfg (GRUB loads it as a 0-byte module) is an error
    naming the module, never a panic; a file without VMs is a warning. The
    console comes up with no VMs either way."""
    cfg = tmp_path / "empty.cfg"
    cfg.write_text(text)
    m = boot("bochs", iso=mkiso(cfg, tmp_path / "empty.iso", []))
    wait_for(m, said, 150)
    wait_for(m, rf"^config: 0 VMs defined, 0 autostarted, 0 failed to start, {errors} errors$", 30)
    wait_for(m, re.escape(PROMPT), 60)
    time.sleep(1)
    table = command(m, "list --all")
    assert not re.search(r"^ \d+\s+\S+\s+(running|shut off|defined)", table, re.M), table
    assert command(m, "version").startswith("bulkhead "), m.output
    m.send("poweroff 0\r")
    assert m.wait_exit() == 0, m.output
    assert "bulkhead: panic" not in m.output, m.output
    assert "multiboot2:" not in m.output, m.output


@pytest.mark.bochs
def test_boot_counts_vms_that_fail(boot, tmp_path):
    """What only the boot can find: an empty kernel module (an error naming
    it), and fixed RAM that is not there (the VM fails to start, and the
    summary counts it). A `pci` key in a `platform = none` VM is refused, and the console shows no
    device as a VM's. The console still answers."""
    cfg = tmp_path / "fail.cfg"
    cfg.write_text(
        "[vm good]\nkernel = hello.elf\ncmdline = \"name=good\"\nmemory = 4M\n"
        "autostart = true\n"                                            # 1-5
        "[vm hollow]\nkernel = empty.elf\nmemory = 4M\nautostart = true\n"  # 6-9
        "[vm far]\nkernel = hello.elf\ncmdline = \"name=far\"\nmemory = 4M\n"
        "memory_base = 0x40000000\nautostart = true\n"                  # 10-15
        "[vm dev]\nkernel = spin.elf\nplatform = none\npci = [00:00.0]\n"  # 16-19
        "[vm spare]\nkernel = spin.elf\ncmdline = \"name=spare\"\nmemory = 4M\n")
    r = check(cfg)
    assert r.stdout == f"{cfg}:19: vm dev: pci: passed-through devices need `platform = pc`\n"
    empty = tmp_path / "empty.elf"
    empty.write_bytes(b"")
    iso = mkiso(cfg, tmp_path / "fail.iso", [GUESTS / "hello.elf", GUESTS / "spin.elf", empty])
    m = boot("bochs", iso=iso)
    summary = wait_for(m, r"^config: \d+ VMs defined, \d+ autostarted, \d+ failed to start, "
                          r"\d+ errors$", 150)
    wait_for(m, r"^vm good: stopped itself \(code 0\)$", 120)
    out = m.output
    assert re.search(r"^error: config: bulkhead\.cfg:7: vm hollow: kernel: module 'empty\.elf' "
                     r"is empty \(0 bytes\)$", out, re.M), out
    assert re.search(r"^error: config: bulkhead\.cfg:19: vm dev: pci: passed-through devices "
                     r"need `platform = pc`$", out, re.M), out
    assert re.search(r"^error: vm far: not started: memory_base: 0x40000000-0x403fffff is not "
                     r"free: 0x40000000 is not usable RAM$", out, re.M), out
    # defined: good, far, spare; started: good; far failed; errors: hollow, dev.
    assert summary.group(0) == "config: 3 VMs defined, 1 autostarted, 1 failed to start, " \
                               "2 errors", summary.group(0)
    assert "bulkhead: panic" not in out, out
    time.sleep(1)
    table = command(m, "list --all")
    assert re.search(r"^ \d+\s+far\s+", table, re.M), table
    assert not re.search(r"^ \d+\s+(dev|hollow)\s", table, re.M), table
    pci = command(m, "pci")
    devices = [line for line in pci.splitlines() if line.startswith("  ")]
    assert devices and all(line.endswith(" hypervisor") for line in devices), pci
    info = command(m, "info spare")
    assert re.search(r"^devices:\s+uart 0x3f8 irq 4$", info, re.M), info
    m.send("poweroff 0\r")
    assert m.wait_exit() == 0, m.output


def grub_iso(tmp_path, cfg_text, entry_lines):
    """An ISO with a hand-written grub.cfg menu entry (as a user writes one
    for a real machine); mkiso.sh would always name the modules."""
    tree = tmp_path / "tree"
    (tree / "boot" / "grub").mkdir(parents=True)
    shutil.copy(ELF, tree / "boot" / "bulkhead.elf")
    (tree / "boot" / "bulkhead.cfg").write_text(cfg_text)
    shutil.copy(GUESTS / "hello.elf", tree / "boot" / "hello.elf")
    (tree / "boot" / "grub" / "grub.cfg").write_text(
        "serial --unit=0 --speed=115200\nterminal_input serial console\n"
        "terminal_output serial console\nset timeout=0\nset default=0\n"
        "menuentry 'Bulkhead' {\n"
        "    multiboot2 /boot/bulkhead.elf 'console=com1' 'loglevel=info' 'panic=poweroff'\n"
        # Text mode: GRUB's VBE mode setting crashes under Bochs' VGA BIOS (README).
        "    set gfxpayload=text\n"
        + "".join(f"    {line}\n" for line in entry_lines) + "    boot\n}\n")
    out = tmp_path / "grub.iso"
    r = subprocess.run(["grub-mkrescue", "--locales=", "--themes=", "-o", str(out), str(tree)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout
    return out


@pytest.mark.bochs
def test_boot_modules_without_names(boot, tmp_path):
    """`module2 /boot/bulkhead.cfg` without a name after the path (GRUB then
    passes an empty name): an error per nameless module saying what to
    write, a warning that no VMs come up, and the console still answers."""
    iso = grub_iso(tmp_path, "[vm h]\nkernel = hello.elf\nautostart = true\n",
                   ["module2 /boot/bulkhead.cfg", "module2 /boot/hello.elf"])
    m = boot("bochs", iso=iso, cmdline=None)
    wait_for(m, r"^error: boot: module 0 has no name; write it after the path in grub\.cfg, "
                r"e\.g\. module2 /boot/bulkhead\.cfg bulkhead\.cfg$", 150)
    wait_for(m, r"^error: boot: module 1 has no name; write it after the path in grub\.cfg, "
                r"e\.g\. module2 /boot/kernel\.elf kernel\.elf$", 30)
    wait_for(m, r"^warning: config: no bulkhead\.cfg module and no vm= options: no VMs$", 30)
    wait_for(m, re.escape(PROMPT), 60)
    time.sleep(1)
    assert command(m, "version").startswith("bulkhead "), m.output
    m.send("poweroff 0\r")
    assert m.wait_exit() == 0, m.output
    assert "bulkhead: panic" not in m.output, m.output
