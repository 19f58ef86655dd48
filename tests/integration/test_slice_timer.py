"""Time slices on a shared CPU end by the VMX preemption timer (default) or,
with `vmx.preemption_timer=off`, by a host LAPIC timer whose interrupt makes
the guest exit (vcpu_arm_slice_timer, the same one SVM uses). Two spin VMs
share CPU 1 in 10 ms slices; spin prints a line only every ~0.3 s (Bochs),
so a slice timer that never fired would leave each VM running to its next
print (an exit that ends the over-long slice): a few slices per line instead
of some thirty. spin runs with interrupts on (sti=1): Bochs 2.7 takes no
external-interrupt exit from a guest with RFLAGS.IF=0 (test_lone_vcpu.py)."""

import re

import pytest

from conftest import BASE_CMDLINE
from test_attacks_isolation import wait_for
from test_console import command

pytestmark = pytest.mark.bochs

CFG = """\
[vm spinA]
kernel = spin.elf
cmdline = "name=spinA sti=1"
memory = 4M
cpus = [1]
cpu_policy = shared
slice = 10ms
autostart = true

[vm spinB]
kernel = spin.elf
cmdline = "name=spinB sti=1"
memory = 4M
cpus = [1]
slice = 10ms
autostart = true
"""


def exit_count(stats, reason):
    found = re.search(rf"^  {reason}\s+(\d+)\s+\d+$", stats, re.M)
    return int(found.group(1)) if found else 0


@pytest.mark.parametrize("knob", ["on", "off"])
def test_slices_end_on_time(boot, tmp_path, knob):
    from test_config import build_config_iso
    cfg = tmp_path / "slices.cfg"
    cfg.write_text(CFG)
    m = boot("bochs", cpus=2, iso=build_config_iso(cfg),
             cmdline=f"{BASE_CMDLINE} vmx.preemption_timer={knob}")
    for vm in ("spinA", "spinB"):
        wait_for(m, rf"^\[{vm}\] spin {vm}: 4$", 180)
    for vm in ("spinA", "spinB"):
        stats = command(m, f"stats {vm}")
        printed = len(re.findall(rf"^\[{vm}\] spin {vm}: \d+$", m.output, re.M))
        preempt = exit_count(stats, "PREEMPTION_TIMER")
        extint = exit_count(stats, "EXTERNAL_INTERRUPT")
        if knob == "on":
            ends = preempt
        else:
            assert preempt == 0, stats  # the preemption timer stays off
            ends = extint
        # About 30 slices per line; at least 8 leaves room for slow starts.
        assert ends >= 8 * printed, f"{vm}: {ends} slice ends for {printed} lines\n{stats}"
