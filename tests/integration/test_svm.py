"""`scripts/run.sh --emu qemu-svm`: QEMU TCG with an AMD CPU (SVM, nested
paging), q35, at least two CPUs and the emulated Intel IOMMU, as README
"Running" documents it, and the SVM backend on it. The backend is not
plugged into the vCPU layer yet (docs/svm.md), so VMs do not run under SVM;
what runs is the boot-time self-test (svm/svm_selftest.c): a tiny guest
through the real world switch, VMCB, IOPM and nested page tables, each exit
checked, and a VMRUN that must fail with the broken rule named.
"""

import re
import subprocess

import pytest

from conftest import BASE_CMDLINE, ISO, RUN_SH, require, timeout_for

import emu_svm  # noqa: E402  (scripts/ is on sys.path through conftest)

pytestmark = pytest.mark.qemu_svm


def line(regex, text):
    m = re.search(regex, text, re.M)
    assert m, f"no line matching {regex!r} in:\n{text}"
    return m


def run_sh(*args, timeout):
    require("qemu-svm")
    if not ISO.is_file():
        pytest.fail(f"{ISO} not found: run `make iso` first")
    r = subprocess.run([str(RUN_SH), "--iso", str(ISO), *args], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       errors="replace", timeout=timeout)
    return r.returncode, r.stdout.replace("\r", "")


def test_machine_args():
    args = emu_svm.machine_args()
    assert args[args.index("-cpu") + 1] == "EPYC,+svm,+npt"
    assert args[args.index("-machine") + 1] == "q35"
    assert "intel-iommu" in args
    assert emu_svm.cpus_for(1) == 2
    assert emu_svm.cpus_for(4) == 4


def test_run_sh_qemu_svm_boots_amd_smp_with_iommu():
    status, out = run_sh("--emu", "qemu-svm", "--print-command", "--cmdline",
                         f'{BASE_CMDLINE} exec="poweroff 7"',
                         "--timeout", str(timeout_for("qemu-svm")), timeout=300)
    assert status == 7, out
    assert "bulkhead: panic" not in out, out
    cmd = line(r"^run\.sh: qemu-system-x86_64 .*$", out).group(0)
    assert "-cpu EPYC,+svm,+npt" in cmd and "-machine q35" in cmd, cmd
    assert "-device intel-iommu" in cmd and "-smp 2" in cmd, cmd
    # The emulated CPU is an AMD one, and --cpus auto still gets two.
    line(r"^cpu: AuthenticAMD .*\b2 cpus\b", out)
    line(r"^cpu 1: online", out)
    line(r"^iommu: vt-d, 1 units?\b", out)
    assert out.rstrip().endswith("bulkhead: poweroff 7"), out


SELFTEST_OK = (r"^svm: self-test passed: VMEXIT_CPUID, VMEXIT_VMMCALL, VMEXIT_IOIO, VMEXIT_NPF, "
               r"VMEXIT_HLT; VMRUN with ASID 0: VMEXIT_INVALID \(15\.5\.1: ASID is zero\)$")


def test_svm_detected_and_world_switch_self_test(boot):
    m = boot("qemu-svm", cmdline=f'{BASE_CMDLINE} exec="poweroff 0"')
    assert m.wait_exit() == 0, m.output
    out = m.output.replace("\r", "")
    assert "bulkhead: panic" not in out, out
    # QEMU TCG: nested paging and nothing else (platform-notes.md).
    line(r"^svm: npt \(revision 1, \d+ ASIDs\)$", out)
    line(SELFTEST_OK, out)
    assert "svm: self-test failed" not in out, out


@pytest.mark.parametrize("cpu,reason", [
    ("EPYC,-npt", "no nested paging"),
    ("EPYC,-svm", "no SVM in CPUID"),
])
def test_svm_unavailable_reasons(boot, cpu, reason):
    # A later -cpu replaces the runner's own.
    m = boot("qemu-svm", cmdline=f'{BASE_CMDLINE} exec="poweroff 0"', extra=[f"-cpu {cpu}"])
    assert m.wait_exit() == 0, m.output
    out = m.output.replace("\r", "")
    line(rf"^svm: unavailable \({re.escape(reason)}\)$", out)
    assert "svm: self-test" not in out, out
    assert "bulkhead: panic" not in out, out


def test_run_sh_qemu_svm_more_cpus():
    status, out = run_sh("--emu", "qemu-svm", "--cpus", "3", "--cmdline",
                         f'{BASE_CMDLINE} exec="poweroff 0"',
                         "--timeout", str(timeout_for("qemu-svm")), timeout=300)
    assert status == 0, out
    line(r"^cpu: AuthenticAMD .*\b3 cpus\b", out)
    line(r"^smp: 3 of 3 CPUs online", out)
