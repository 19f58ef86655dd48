"""`scripts/run.sh --emu qemu-svm`: QEMU TCG with an AMD CPU (SVM, nested
paging), q35, at least two CPUs and the emulated Intel IOMMU, as README
"Running" documents it. The SVM backend is not plugged into the vCPU layer
yet (docs/svm.md), so these tests show the machine the backend will run on:
an AMD CPU, both CPUs online, the IOMMU up, the console and power-off.
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


def test_run_sh_qemu_svm_more_cpus():
    status, out = run_sh("--emu", "qemu-svm", "--cpus", "3", "--cmdline",
                         f'{BASE_CMDLINE} exec="poweroff 0"',
                         "--timeout", str(timeout_for("qemu-svm")), timeout=300)
    assert status == 0, out
    line(r"^cpu: AuthenticAMD .*\b3 cpus\b", out)
    line(r"^smp: 3 of 3 CPUs online", out)
