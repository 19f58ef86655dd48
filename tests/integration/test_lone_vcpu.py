"""A vCPU alone on its CPU runs without a time slice: only an interrupt
ends its turn. In Bochs 2.7 a guest running with RFLAGS.IF=0 takes no
external-interrupt exit, so the reschedule IPI of `destroy` never reached
such a vCPU and the VM stayed `stopping` (README "Known issues" until
then). The scheduler now also sends an NMI, on which every VM exits
(core/sched.c resched_cpu)."""

import re

import pytest

from conftest import BASE_CMDLINE
from test_attacks_isolation import no_breach, wait_for

pytestmark = pytest.mark.bochs


def test_destroy_takes_lone_vcpu_spinning_with_interrupts_off(boot):
    # hostile64's cr8 attack ends in a `pause` loop with IF=0 (spin=plain:
    # an empty loop behaves the same); CR8 0, so no task priority masks
    # anything. Alone on CPU 1, it makes no exit at all.
    spec = '"vm=lone,hostile64.elf,mem=4M,cpu=1,cmdline=attack=cr8 rounds=1 final=0 spin=pause"'
    cmd = BASE_CMDLINE.replace("loglevel=info", "loglevel=debug")
    m = boot("bochs", cpus=2, cmdline=f"{cmd} {spec}")
    wait_for(m, r"^\[lone\] hostile: cr8 0 \(read back 0\), spinning$", 150)
    mark = len(m.output)
    m.send("destroy lone\r")
    # "memory scrubbed and released": the vCPU really left its CPU.
    wait_for(m, r"^vm lone: memory scrubbed and released", 60, mark)
    m.send("list --all\r")
    wait_for(m, r"^\s*\d+\s+lone\s+shut off", 30, mark)
    assert not re.search(r"nmi: unexpected NMI", m.output), m.output[-3000:]
    no_breach(m.output)
