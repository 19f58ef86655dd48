"""Boot tests: banner facts under Bochs (VMX) and QEMU (VT-d), UEFI boot,
deliberate faults, exec= commands, power-off paths and the runner's exit
statuses."""

import re
import subprocess

import pytest

from conftest import BASE_CMDLINE, ISO, RUN_SH, require, timeout_for

VERSION_RE = r"^bulkhead \d\S* \(.+\)$"
POWEROFF_0 = 'exec="poweroff 0"'


def count(regex, text):
    return len(re.findall(regex, text, re.M))


def line(regex, text):
    """The first line matching `regex` (re.M), or fail showing the output."""
    m = re.search(regex, text, re.M)
    assert m, f"no line matching {regex!r} in:\n{text}"
    return m


def assert_no_panic(out):
    assert "bulkhead: panic" not in out, out


def assert_common_banner(out, cpus):
    line(VERSION_RE, out)
    cpu = line(rf"^cpu: .*\b{cpus} cpus?\b.*(?:vmx|svm): (.*)$", out)
    line(r"^mem: \d+ MiB usable in \d+ regions?\b", out)
    line(r"^acpi: ", out)
    line(r"^pci: \d+ devices?\b", out)
    return cpu.group(1)


# --------------------------------------------------------------------------
# Banner


@pytest.mark.bochs
@pytest.mark.parametrize("cpus", [1, 2])
def test_bochs_banner(boot, cpus):
    m = boot("bochs", cpus=cpus, cmdline=f"{BASE_CMDLINE} {POWEROFF_0}")
    status = m.wait_exit()
    out = m.output
    assert status == 0, out
    assert_no_panic(out)
    vmx = assert_common_banner(out, cpus)
    assert not vmx.startswith("unavailable"), vmx
    for feature in ("ept", "vpid", "unrestricted-guest"):
        assert re.search(rf"(?<![\w-]){feature}(?![\w-])", vmx), f"{feature} missing: {vmx}"
    line(r"^iommu: none\b", out)
    for n in range(1, cpus):
        line(rf"^cpu {n}: online\b", out)
    if cpus == 1:
        assert "cpu 1: online" not in out


@pytest.mark.qemu
def test_qemu_banner_vtd(boot):
    m = boot("qemu", cmdline=f"{BASE_CMDLINE} {POWEROFF_0}")
    status = m.wait_exit()
    out = m.output
    assert status == 0, out
    assert_no_panic(out)
    vmx = assert_common_banner(out, 1)
    assert vmx.startswith("unavailable ("), vmx
    line(r"^iommu: vt-d, 1 units?\b", out)


@pytest.mark.uefi
def test_uefi_banner(boot):
    m = boot("uefi", cmdline=f"{BASE_CMDLINE} {POWEROFF_0}")
    status = m.wait_exit()
    out = m.output
    assert status == 0, out
    assert_no_panic(out)
    assert_common_banner(out, 1)
    line(r"^iommu: vt-d, 1 units?\b", out)


# --------------------------------------------------------------------------
# Deliberate faults

# The exception's name and vector as the panic line gives them:
# "bulkhead: panic on cpu N: exception #UD invalid opcode (vector 6) error code 0x0".
# (Matched on that line only: a stack-trace frame "#6" or an address holding
# "6" elsewhere in the dump must not pass for the vector.)
FAULTS = {
    "pf": (r"#PF page fault", 14),
    "gp": (r"#GP general protection", 13),
    "ud": (r"#UD invalid opcode", 6),
}
GENERAL_REGS = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
                "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15")


@pytest.mark.parametrize("emu_name,fault", [
    pytest.param("qemu", "pf", marks=pytest.mark.qemu),
    pytest.param("qemu", "gp", marks=pytest.mark.qemu),
    pytest.param("qemu", "ud", marks=pytest.mark.qemu),
    pytest.param("bochs", "pf", marks=pytest.mark.bochs),
])
def test_fault_panics_and_powers_off(boot, emu_name, fault):
    m = boot(emu_name, cmdline=f"console=com1 loglevel=info panic=poweroff test.fault={fault}")
    status = m.wait_exit()
    out = m.output
    assert status == 3, out
    name_re, vector = FAULTS[fault]
    panic = line(r"^bulkhead: panic on cpu \d+: exception (.*) \(vector (\d+)\) "
                 r"error code 0x[0-9a-f]+$", out)
    assert re.fullmatch(name_re, panic.group(1)), f"exception name: {panic.group(0)}"
    assert int(panic.group(2)) == vector, f"vector: {panic.group(0)}"
    dump = out[panic.start():]
    # Each register with its value, not just its name somewhere.
    regs = ("rip",) + GENERAL_REGS + (("cr2",) if fault == "pf" else ())
    for reg in regs:
        assert re.search(rf"\b{reg}\s+0x[0-9a-f]{{16}}\b", dump), f"{reg} missing:\n{dump}"
    line(r"^bulkhead: poweroff 3$", dump)
    # No reboot: one GRUB boot, one banner.
    assert m.grub_boots() == 1, out
    assert count(VERSION_RE, out) == 1, out


# --------------------------------------------------------------------------
# exec= and power-off paths


@pytest.mark.qemu
def test_exec_version_then_poweroff_status(boot):
    m = boot("qemu", cmdline=f'{BASE_CMDLINE} exec="version; poweroff 7"')
    status = m.wait_exit()
    out = m.output
    assert status == 7, out
    assert count(VERSION_RE, out) == 2, out
    assert_no_panic(out)


@pytest.mark.bochs
def test_bochs_exec_poweroff_status(boot):
    m = boot("bochs", cmdline=f'{BASE_CMDLINE} exec="version; poweroff 5"')
    assert m.wait_exit() == 5, m.output
    assert count(VERSION_RE, m.output) == 2, m.output
    # The magic breakpoint stops Bochs by itself.
    assert not m.stopped_by_runner, m.emulator_log()


@pytest.mark.qemu
def test_acpi_s5_poweroff(boot):
    m = boot("qemu", cmdline=f'{BASE_CMDLINE} poweroff=acpi exec="poweroff 0"')
    status = m.wait_exit()
    out = m.output
    assert status == 0, out
    line(r"^bulkhead: poweroff 0$", out)
    # QEMU stopped by itself, through ACPI S5 rather than isa-debug-exit
    # (which would exit with an odd status).
    assert not m.stopped_by_runner, out
    assert m.emu_returncode == 0, f"QEMU exit status {m.emu_returncode}"


# --------------------------------------------------------------------------
# The runner itself (scripts/run.sh)


def run_sh(*args, timeout):
    require("qemu")
    if not ISO.is_file():
        pytest.fail(f"{ISO} not found: run `make iso` first")
    return subprocess.run([str(RUN_SH), "--iso", str(ISO), *args], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          errors="replace", timeout=timeout)


@pytest.mark.qemu
def test_run_sh_timeout_is_124():
    r = run_sh("--emu", "qemu", "--cmdline", BASE_CMDLINE, "--timeout", "20", timeout=120)
    assert r.returncode == 124, r.stdout
    line(VERSION_RE, r.stdout.replace("\r", ""))
    assert "bulkhead: poweroff" not in r.stdout


@pytest.mark.qemu
def test_run_sh_until_is_0():
    r = run_sh("--emu", "qemu", "--cmdline", BASE_CMDLINE, "--until", r"^cpu: ",
               "--timeout", str(timeout_for("qemu")), timeout=300)
    assert r.returncode == 0, r.stdout


@pytest.mark.qemu
def test_run_sh_poweroff_status():
    r = run_sh("--emu", "qemu", "--cmdline", f'{BASE_CMDLINE} exec="poweroff 9"',
               "--timeout", str(timeout_for("qemu")), timeout=300)
    assert r.returncode == 9, r.stdout
    assert r.stdout.replace("\r", "").rstrip().endswith("bulkhead: poweroff 9"), r.stdout
