"""Speculative-execution mitigations in Bochs (docs/security.md). Bochs
models no caches or predictors and enumerates none of the controls, so
these tests check what can be checked there: the boot reports the plan it
chose from CPUID (and, for a CPU that enumerates nothing, says it is
exposed), and the entry/exit sequences that real CPUs run - VERW as the
last instruction before VM entry, the branch-history clearing loop after
every exit - keep guests running when forced on with `spec.force=`."""

import re

import pytest

from conftest import BASE_CMDLINE
from test_vmx import vm, wait_for

pytestmark = pytest.mark.bochs


def test_spec_plan_reported_for_a_cpu_without_controls(boot):
    cmd = f"{BASE_CMDLINE} " + vm("h", "hello.elf", 0, cmdline="name=h")
    m = boot("bochs", cpus=1, cmdline=cmd)
    wait_for(m, r"^vm h: stopped itself \(code 0\)", 150)
    out = m.output
    plans = re.findall(r"^spec: (.*)$", out, re.M)
    assert len(plans) == 1, out
    # Bochs' CPUID.(7,0):EDX is 0: no IBPB, no flush, no VERW; retpolines and
    # the RSB fill are unconditional; the exposure is said, not hidden.
    assert plans[0] == ("retpoline rsb_fill L1TF-UNMITIGATED MDS-UNMITIGATED "
                        "rsb-underflow-exposed (cpuid7 edx 0x0, arch_caps 0x0)"), out
    assert re.search(r"^warning: spec: this CPU leaks guest data across VM switches "
                     r"\(L1TF MDS\)", out, re.M), out
    assert "bulkhead: panic" not in out


def test_forced_verw_and_bhb_clear_keep_guests_running(boot):
    # Two VMs on two CPUs, thousands of exits each (cpuid-bench), with VERW
    # on every entry and the clearing loop after every exit.
    cmd = " ".join([BASE_CMDLINE, "spec.force=verw,bhb_clear",
                    vm("h", "hello.elf", 1, cmdline="name=h"),
                    vm("b", "cpuid-bench.elf", 0, cmdline="iters=5000")])
    m = boot("bochs", cpus=2, cmdline=cmd)
    wait_for(m, r"^vm b: stopped itself \(code 0\)", 150)
    wait_for(m, r"^vm h: stopped itself \(code 0\)", 60)
    out = m.output
    assert re.search(r"^spec: retpoline rsb_fill bhb_clear_loop verw .*\(spec\.force\)", out,
                     re.M), out
    assert re.search(r"^\[b\] cpuid-bench: cpuid \d+ cycles/exit over 5000 iterations$", out,
                     re.M), out
    assert re.search(r"^\[h\] hello from h$", out, re.M), out
    assert "bulkhead: panic" not in out


def test_spec_force_rejects_unknown_names(boot):
    cmd = f"{BASE_CMDLINE} spec.force=verw,ibrs " + vm("h", "hello.elf", 0, cmdline="name=h")
    m = boot("bochs", cpus=1, cmdline=cmd)
    wait_for(m, r"^vm h: stopped itself \(code 0\)", 150)
    out = m.output
    assert re.search(r"spec\.force=verw,ibrs: expected a comma-separated list of verw, "
                     r"bhb_clear, l1d_flush", out), out
    # Nothing is forced by a list with an error in it.
    assert not re.search(r"^spec: .*\(spec\.force\)", out, re.M), out
