"""bulkhead.efi: booting from UEFI firmware without GRUB (docs/efi.md).

QEMU + OVMF boots an ESP image built by `make efi` (scripts/mkesp.sh). The
firmware starts \\EFI\\BOOT\\BOOTX64.EFI (the loader) by itself; with a
command line, emu.py removes that file and writes a startup.nsh, so the
UEFI shell starts the loader with the command line as its load options.
QEMU's default CPU has neither VMX nor SVM: there the hypervisor comes up
to its console without running VMs, which is enough to show that the loader
handed over everything; test_uefi_paths_run_a_vm_and_power_off gives both
paths an AMD CPU with SVM and runs a VM."""

import re
import subprocess

import pytest

from conftest import BASE_CMDLINE, REPO
from test_boot import assert_common_banner, assert_no_panic, line

pytestmark = pytest.mark.uefi

MKESP = REPO / "scripts" / "mkesp.sh"
HELLO = REPO / "build" / "guests" / "hello.elf"
ONE_VM = "[vm h1]\nkernel = hello.elf\nmemory = 4M\n"


@pytest.fixture(scope="module")
def esp():
    r = subprocess.run(["make", "--no-print-directory", "test-esp"], cwd=REPO,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout
    return REPO / "build" / "test-esp.img"


def make_esp(tmp_path, config_text, modules=(HELLO,)):
    cfg = tmp_path / "bulkhead.cfg"
    cfg.write_text(config_text)
    out = tmp_path / "esp.img"
    cmd = [str(MKESP), "--config", str(cfg), "--out", str(out)]
    for m in modules:
        cmd += ["--module", str(m)]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout
    return out


def facts(out):
    """The banner lines that describe the machine, whoever loaded it."""
    return [line(rf"^{k}: .*$", out).group(0) for k in ("cpu", "acpi", "iommu", "pci")]


def test_uefi_direct_boot_matches_grub(boot, esp):
    direct = boot("uefi-direct", cpus=2, iso=esp,
                  cmdline=f'{BASE_CMDLINE} exec="version; poweroff 0"')
    assert direct.wait_exit() == 0, direct.output
    out = direct.output
    assert_no_panic(out)
    line(r"^bulkhead\.efi \d+\.\d+\.\d+ ", out)
    line(r"^bulkhead\.efi: loading from \\EFI\\bulkhead$", out)
    line(r"^bulkhead: booting \(loader bulkhead\.efi ", out)
    assert_common_banner(out, 2)
    # Every module the configuration names was loaded and found by name.
    for mod in ("hello.elf", "spin.elf", "echo.elf"):
        line(rf"^bulkhead\.efi: {re.escape(mod)}: \d+ KiB$", out)
    assert not re.search(r"module .* not found|no module named", out), out

    # The same machine (uefi-direct has no NIC), booted through GRUB.
    grub = boot("uefi", cpus=2, cmdline=f"{BASE_CMDLINE} exec=\"poweroff 0\"",
                extra=["-nic none"])
    assert grub.wait_exit() == 0, grub.output
    assert facts(out) == facts(grub.output)


def test_uefi_direct_load_options_reach_the_hypervisor(boot, esp):
    m = boot("uefi-direct", iso=esp, cmdline='console=com1 exec="version; poweroff 7"')
    assert m.wait_exit() == 7, m.output
    line(r'^bulkhead\.efi: command line: console=com1 exec="version; poweroff 7"$', m.output)


def test_uefi_direct_cmdline_from_configuration(boot, tmp_path):
    img = make_esp(tmp_path, '[global]\ncmdline = "console=com1 exec=\\"poweroff 5\\""\n' + ONE_VM)
    m = boot("uefi-direct", iso=img, cmdline=None)
    assert m.wait_exit() == 5, m.output
    line(r'^bulkhead\.efi: command line: console=com1 exec="poweroff 5"$', m.output)


def test_uefi_direct_missing_module_is_reported(boot, tmp_path):
    img = make_esp(tmp_path, ONE_VM + "[vm typo]\nkernel = ecco.elf\nmemory = 4M\n")
    m = boot("uefi-direct", iso=img, cmdline=None)
    m.expect(r"^bulkhead\.efi: error: vm typo: module ecco\.elf: \\EFI\\bulkhead\\ecco\.elf: "
             r"not found")
    m.expect(r"press a key to return to the firmware")
    assert "bulkhead: booting" not in m.output


def test_uefi_direct_broken_configuration_is_reported(boot, tmp_path):
    img = make_esp(tmp_path, ONE_VM + "memory = plenty\n")
    m = boot("uefi-direct", iso=img, cmdline=None)
    m.expect(r"^bulkhead\.cfg:4: vm h1: memory: .*$")
    m.expect(r"^bulkhead\.efi: error: \\EFI\\bulkhead\\bulkhead\.cfg has 1 error\(s\)")
    assert "bulkhead: booting" not in m.output


# QEMU's default CPU has no SVM; an AMD model with SVM and nested paging lets
# the hypervisor run VMs after either UEFI path (scripts/emu_svm.py's model).
SVM_CPU = "-cpu EPYC,+svm,+npt"


@pytest.mark.parametrize("path", ["uefi-direct", "uefi"])
def test_uefi_paths_run_a_vm_and_power_off(boot, esp, path):
    cmd = (f"{BASE_CMDLINE} vm=h1,hello.elf,mem=4M,cpu=1,cmdline=name=h1 "
           'exec="wait h1 stopped 60s; poweroff 0"')
    if path == "uefi-direct":
        m = boot(path, cpus=2, iso=esp, cmdline=cmd, extra=[SVM_CPU])
    else:
        m = boot(path, cpus=2, cmdline=cmd, extra=["-nic none", SVM_CPU])
    assert m.wait_exit() == 0, m.output
    out = m.output.replace("\r", "")
    assert_no_panic(out)
    line(r"^svm: npt \(revision 1, \d+ ASIDs\)$", out)
    line(r"^\[h1\] hello from h1$", out)
    line(r"^vm h1: stopped itself \(code 0\)$", out)
