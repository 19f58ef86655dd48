"""Shared fixtures for the integration tests (emulated boots of the ISO).

The `boot` fixture starts an emu.Machine (scripts/emu.py) and closes it
after the test; when a test fails, its serial console and the emulator's
own log are attached to the report.

A test whose emulator (or firmware) is not installed fails: `make test`
installs them first (`make deps`). Outside CI, BULKHEAD_ALLOW_MISSING_EMULATOR=1
turns that into a skip, for a quick run on a machine that lacks one; with
CI=true a missing emulator always fails.

Every expected failure is strict: an xfail test that passes fails (XPASS).

Environment:
  BULKHEAD_ISO            ISO to boot (default build/test.iso)
  BULKHEAD_TIMEOUT_SCALE  multiply every boot timeout (slow machines)
  BULKHEAD_KEEP_WORKDIR=1 keep each emulator's temporary directory
  BULKHEAD_ALLOW_MISSING_EMULATOR=1  skip instead of fail (never in CI)
"""

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

import emu  # noqa: E402

ISO = Path(os.environ.get("BULKHEAD_ISO", REPO / "build" / "test.iso"))
RUN_SH = REPO / "scripts" / "run.sh"
SCALE = float(os.environ.get("BULKHEAD_TIMEOUT_SCALE", "1"))

# Wall-clock budgets per boot: Bochs boots in seconds when idle, much
# slower when the 2 cores are shared; QEMU TCG boots in about a second,
# OVMF adds about 4 s.
TIMEOUTS = {"bochs": 180, "qemu": 60, "uefi": 120, "uefi-direct": 120, "kvm": 60,
            "qemu-svm": 60}

BASE_CMDLINE = "console=com1 loglevel=info panic=poweroff"

# The vendor backend a parametrized test runs under, and the emulator that
# offers it: VMX in Bochs, SVM in QEMU TCG with an AMD CPU.
BACKEND_EMU = {"vmx": "bochs", "svm": "qemu-svm"}


def pytest_configure(config):
    for name in ("bochs", "qemu", "uefi", "uefi-direct", "kvm"):
        config.addinivalue_line("markers", f"{name}: boots under {name}")
    config.addinivalue_line("markers", "qemu_svm: boots under qemu-svm (QEMU TCG, AMD SVM)")
    config.addinivalue_line("markers", "soak: long run, only in `make soak` (BULKHEAD_SOAK=1)")
    config.addinivalue_line("markers", "slow: minutes, only in `make test-slow` (BULKHEAD_SLOW=1)")


def timeout_for(emu_name):
    return TIMEOUTS[emu_name] * SCALE


def missing_emulator_skips():
    """True when a missing emulator may skip a test instead of failing it."""
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        return False
    return os.environ.get("BULKHEAD_ALLOW_MISSING_EMULATOR") == "1"


def require(emu_name):
    if emu.have_emulator(emu_name):
        return
    if emu_name == "kvm":
        # Hardware, not software: nested VMX on an Intel host cannot be installed.
        pytest.skip("no KVM with nested VMX on this host")
    why = f"{emu.emulator_binary(emu_name)} (or its firmware) is not installed"
    if missing_emulator_skips():
        pytest.skip(f"{why} (BULKHEAD_ALLOW_MISSING_EMULATOR=1)")
    pytest.fail(f"{why}: run `make deps` (scripts/setup.sh)")


def pytest_collection_modifyitems(config, items):
    # Long runs belong to `make soak`, which sets BULKHEAD_SOAK=1: elsewhere
    # they are deselected (not counted), never skipped.
    # `make test-slow` (BULKHEAD_SLOW=1) the ones marked slow.
    for marker, env in (("soak", "BULKHEAD_SOAK"), ("slow", "BULKHEAD_SLOW")):
        if os.environ.get(env) == "1":
            continue
        long_runs = [item for item in items if item.get_closest_marker(marker)]
        if long_runs:
            config.hook.pytest_deselected(items=long_runs)
            items[:] = [item for item in items if not item.get_closest_marker(marker)]
    # An expected failure that passes is a failure, whatever its marker says:
    # the fix must remove the marker. The strict copy goes first, so it is
    # the one pytest evaluates.
    for item in items:
        for mark in list(item.iter_markers(name="xfail")):
            if not mark.kwargs.get("strict", False):
                item.add_marker(pytest.mark.xfail(*mark.args, **{**mark.kwargs, "strict": True}),
                                append=False)


@pytest.fixture(params=[pytest.param("vmx", marks=pytest.mark.bochs, id="vmx"),
                        pytest.param("svm", marks=pytest.mark.qemu_svm, id="svm")])
def backend(request):
    """"vmx" or "svm": a test that takes it runs once under each backend
    (ids test_NAME[vmx], test_NAME[svm]); boot(BACKEND_EMU[backend], ...)
    starts the emulator that offers it."""
    return request.param


@pytest.fixture
def boot(request):
    """boot(emu_name, cpus=1, cmdline=BASE_CMDLINE, timeout=None, iso=None) -> emu.Machine

    iso: the ISO to boot (default ISO, the test ISO); cmdline replaces its
    command line (emu.Machine rebuilds and caches it)."""
    machines = []
    request.node._bulkhead_machines = machines

    def _boot(emu_name, cpus=1, cmdline=BASE_CMDLINE, timeout=None, iso=None, **kw):
        require(emu_name)
        iso = Path(iso) if iso else ISO
        if not iso.is_file():
            pytest.fail(f"{iso} not found: run `make iso` first")
        m = emu.Machine(emu=emu_name, cpus=cpus, iso=iso, cmdline=cmdline,
                        timeout=timeout or timeout_for(emu_name), **kw)
        machines.append(m)
        return m

    yield _boot
    for m in machines:
        m.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    for i, m in enumerate(getattr(item, "_bulkhead_machines", [])):
        report.sections.append(
            (f"serial console {i} ({m.emu}, {m.cpus} cpu, {m.elapsed:.1f}s)", m.output))
        log = m.emulator_log(30)
        if log:
            report.sections.append((f"emulator log {i} ({m.emu})", log))
