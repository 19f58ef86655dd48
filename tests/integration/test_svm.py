"""`scripts/run.sh --emu qemu-svm`: QEMU TCG with an AMD CPU (SVM, nested
paging), q35, at least two CPUs and the emulated Intel IOMMU, as README
"Running" documents it, and the SVM backend on it: the boot-time self-test
(svm/svm_selftest.c: a tiny guest through the real world switch, each
exit checked, and a VMRUN that must fail with the broken rule named), the
banner, and test guests running under svm/svm_backend.c.
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
    # The banner names the backend an AMD CPU would use, not VMX's reason.
    line(rf"^cpu: AuthenticAMD .*, svm: unavailable \({re.escape(reason)}\)$", out)
    assert "svm: self-test" not in out, out
    assert "bulkhead: panic" not in out, out


def test_run_sh_qemu_svm_more_cpus():
    status, out = run_sh("--emu", "qemu-svm", "--cpus", "3", "--cmdline",
                         f'{BASE_CMDLINE} exec="poweroff 0"',
                         "--timeout", str(timeout_for("qemu-svm")), timeout=300)
    assert status == 0, out
    line(r"^cpu: AuthenticAMD .*\b3 cpus\b", out)
    line(r"^smp: 3 of 3 CPUs online", out)


# --- Guests under the SVM backend (svm/svm_backend.c) ---------------------

def vm(name, module, cpu, mem="4M", cmdline=None):
    spec = f"vm={name},{module},mem={mem},cpu={cpu}"
    return spec + (f",cmdline={cmdline}" if cmdline else "")


def wait_for(m, regex, timeout):
    try:
        m.expect(regex, timeout=timeout)
    except AssertionError:
        raise AssertionError(f"{regex!r} not seen within {timeout}s; output:\n{m.output[-4000:]}")


def test_banner_names_svm(boot):
    m = boot("qemu-svm", cmdline=f'{BASE_CMDLINE} exec="poweroff 0"')
    assert m.wait_exit() == 0, m.output
    line(r"^cpu: AuthenticAMD .*\b2 cpus, svm: npt$", m.output.replace("\r", ""))


def test_hello_two_vms_on_two_cpus_under_svm(boot):
    # loglevel=debug: the "memory scrubbed and released" line.
    cmd = " ".join([BASE_CMDLINE.replace("loglevel=info", "loglevel=debug"),
                    vm("h0", "hello.elf", 0, cmdline="name=h0"),
                    vm("h1", "hello.elf", 1, cmdline="name=h1")])
    m = boot("qemu-svm", cpus=2, cmdline=cmd)
    for name in ("h0", "h1"):
        wait_for(m, rf"^vm {name}: memory scrubbed and released", 60)
    out = m.output.replace("\r", "")
    for name in ("h0", "h1"):
        line(rf"^\[{name}\] hello from {name}$", out)
        # The test guests call with VMCALL: #UD on AMD, taken as the hypercall.
        line(rf"^\[{name}\] hypercall version 0\.1$", out)
        line(rf"^vm {name}: isolation check passed \(\d+ EPT leaves, all inside its RAM\)", out)
        line(rf"^vm {name}: stopped itself \(code 0\)$", out)
    assert "bulkhead: panic" not in out, out


def test_spin_vms_share_one_cpu_under_svm(boot):
    # Time slices end by a host timer interrupt that makes the guest exit
    # (svm_enter with host interrupts on): both spinners make progress.
    cmd = " ".join([BASE_CMDLINE, vm("s1", "spin.elf", 1, cmdline="name=s1"),
                    vm("s2", "spin.elf", 1, cmdline="name=s2")])
    m = boot("qemu-svm", cpus=2, cmdline=cmd)
    wait_for(m, r"^\[s1\] spin s1: 3$", 60)
    wait_for(m, r"^\[s2\] spin s2: 3$", 60)
    assert "bulkhead: panic" not in m.output, m.output


def test_cr3_above_maxphyaddr_is_gp_under_svm(boot):
    # QEMU TCG ends an SVM guest with VMEXIT_INVALID at a MOV to CR3 with
    # bits above MAXPHYADDR (a CPU raises #GP): the backend sees the MOV at
    # RIP and injects the #GP (svm_exit.c invalid_from_mov_cr3). The exit
    # fuzzer's cr3mbz category alone: every operation is one such MOV,
    # each must fault, and the VM must neither crash nor stop its neighbour.
    others = "cpuid+msr+cr+dr+xsetbv+insn+port+mmio+hypercall+exception+user"
    cmd = " ".join([BASE_CMDLINE, vm("fill", "hostile64.elf", 1, cmdline="attack=fill"),
                    vm("fz", "exitfuzz.elf", 1, cmdline=f"fuzz=7:20000:10000,skip={others}")])
    m = boot("qemu-svm", cpus=2, cmdline=cmd)
    done = m.expect(r"^\[fz\] exitfuzz: done 20000 operations, seed 7, (\d+) faults|"
                    r"^error: vm fz: crashed.*|bulkhead: panic", timeout=120)
    assert done.group(1) == "20000", m.output[-3000:]
    wait_for(m, r"^vm fz: stopped itself \(code 0\)$", 30)
    wait_for(m, r"^\[fill\] hostile: fill round \d+$", 90)  # the neighbour runs on
    out = m.output.replace("\r", "")
    assert "hostile: BREACH" not in out and "vm fz: crashed" not in out, out[-3000:]
