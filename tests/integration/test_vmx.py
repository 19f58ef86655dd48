"""VMX core in Bochs: guests run in their own EPT, every exit is handled,
vCPUs share CPUs, and every hostile guest is contained while the others
and the hypervisor keep going."""

import re
import time

import pytest

from conftest import BACKEND_EMU, BASE_CMDLINE


# Attacks run together in one boot (test_hostile_guests_are_contained); the
# others have a test_attack_NAME of their own.
ATTACKS = ["outside-ram", "hv-memory", "io-ports", "vmx", "vmx-noidt", "hc-cpl3",
           "triple-fault"]


def vm(name, module, cpu, mem="4M", cmdline=None, platform=None):
    spec = f"vm={name},{module},mem={mem},cpu={cpu}"
    spec += f",platform={platform}" if platform else ""
    return spec + (f",cmdline={cmdline}" if cmdline else "")


def lines(regex, text):
    return re.findall(regex, text, re.M)


def wait_for(m, regex, timeout):
    """Wait until `regex` matches anywhere in the output (VMs on different
    CPUs print in any order, so no cursor is kept)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = re.search(regex, m.output, re.M)
        if found:
            return found
        if not m.running:
            break
        time.sleep(0.5)
    raise AssertionError(f"{regex!r} not seen within {timeout}s; output:\n{m.output[-4000:]}")


def test_hello_two_vms_on_two_cpus(boot, backend):
    cmd = " ".join([BASE_CMDLINE.replace("loglevel=info", "loglevel=debug"),
                    vm("h0", "hello.elf", 0, cmdline="name=h0"),
                    vm("h1", "hello.elf", 1, cmdline="name=h1")])
    m = boot(BACKEND_EMU[backend], cpus=2, cmdline=cmd)
    for name in ("h0", "h1"):
        wait_for(m, rf"^vm {name}: started \(4 MiB, 1 vcpu on cpu {name[1]}\)", 150)
    for name in ("h0", "h1"):
        wait_for(m, rf"^vm {name}: memory scrubbed and released", 120)
    out = m.output
    for name in ("h0", "h1"):
        # Guest output arrives prefixed with the VM name, a whole line at a time.
        assert lines(rf"^\[{name}\] hello from {name}$", out), out
        assert lines(rf"^\[{name}\] hypercall version 0\.1$", out), out
        # The start-time check that no EPT leaf maps anything but its own RAM.
        assert lines(rf"^vm {name}: isolation check passed \(\d+ EPT leaves", out), out
        assert lines(rf"^vm {name}: stopped itself \(code 0\)$", out), out
    assert "bulkhead: panic" not in out


def test_four_spin_vms_share_one_cpu(boot, backend):
    names = [f"s{i}" for i in range(4)]
    cmd = " ".join([BASE_CMDLINE] + [vm(n, "spin.elf", 0, cmdline=f"name={n}") for n in names])
    m = boot(BACKEND_EMU[backend], cpus=1, cmdline=cmd)
    # Round-robin slices: by the time the first VM prints its 4th line, every
    # other one has printed its 2nd (none starved, none far behind).
    wait_for(m, r"^\[s\d\] spin s\d: 4$", 150)
    out = m.output
    for n in names:
        counts = [int(c) for c in lines(rf"^\[{n}\] spin {n}: (\d+)$", out)]
        assert counts and max(counts) >= 2, (n, out)
    for n in names:
        wait_for(m, rf"^\[{n}\] spin {n}: 4$", 150)


def ended(name):
    """The line that ends VM `name`'s run: it stopped itself or crashed."""
    return rf"^(vm {name}: stopped itself \(code \d+\)|error: vm {name}: crashed: .*)$"


def test_hostile_guests_are_contained(boot, backend):
    specs = [vm("sp", "spin.elf", 0, cmdline="name=sp")]
    for i, a in enumerate(ATTACKS):
        # io-ports checks what a bare partition sees: no PC devices at all.
        specs.append(vm(f"x{i}", "hostile.elf", 1, cmdline=f"attack={a}",
                        platform="none" if a == "io-ports" else None))
    m = boot(BACKEND_EMU[backend], cpus=2, cmdline=" ".join([BASE_CMDLINE] + specs))
    x = {a: f"x{i}" for i, a in enumerate(ATTACKS)}
    # Every attack VM ends one way or the other; how is checked below.
    for name in x.values():
        wait_for(m, ended(name), 150)
    # The spin VM beside them keeps printing afterwards.
    done = [int(n) for n in lines(r"^\[sp\] spin sp: (\d+)$", m.output)]
    wait_for(m, rf"^\[sp\] spin sp: {(done[-1] if done else 0) + 2}$", 120)
    out = m.output

    # No attack saw anything it must not (its own verdict), and each VM
    # ended exactly once.
    for attack, name in x.items():
        assert not lines(rf"^\[{name}\] hostile: BREACH", out), (attack, out)
        assert len(lines(ended(name), out)) == 1, (attack, out)

    def said(attack, text):
        assert lines(rf"^\[{x[attack]}\] hostile: {text}$", out), (attack, text, out)

    def crashed(attack, why):
        assert lines(rf"^error: vm {x[attack]}: crashed: {why}", out), (attack, out)
        # Stopped where it attacked: the guest never reached its end.
        assert not lines(rf"^\[{x[attack]}\] hostile: survived", out), (attack, out)

    def survived(attack):
        said(attack, f"survived {attack}")
        assert lines(rf"^vm {x[attack]}: stopped itself \(code 0\)$", out), (attack, out)

    crashed("outside-ram", r"memory violation: write at guest-physical 0x40000000 outside")
    crashed("hv-memory", r"memory violation: read at guest-physical 0x1000000 outside")
    crashed("vmx-noidt", r"triple fault")
    crashed("triple-fault", r"triple fault")
    # Unassigned ports behave as absent hardware; resets never reach the machine.
    survived("io-ports")
    said("io-ports", r"inb 0x60 -> 0xff")
    said("io-ports", r"inl 0xcfc -> 0xffffffff")
    assert lines(rf"^warning: vm {x['io-ports']}: unassigned I/O port 0x60 read", out), out
    assert out.count("Booting `Bulkhead'") <= 1, "the machine was reset"
    # Every VMX instruction: #UD, the guest's own summary says so.
    survived("vmx")
    said("vmx", r"vmxon -> #UD")
    said("vmx", r"vmx instruction -> #UD")
    if backend == "vmx":
        # VMX exits on each; the hypervisor says so and injects #UD.
        assert lines(rf"^warning: vm {x['vmx']}: VMX instruction", out), out
    else:
        # On AMD the CPU itself raises #UD (no exit): the #UD intercept
        # hands it back, nothing to report.
        assert not lines(rf"^warning: vm {x['vmx']}: ", out), out
    survived("hc-cpl3")
    said("hc-cpl3", r"vmcall from cpl3 -> #UD")
    assert lines(rf"^warning: vm {x['hc-cpl3']}: vmcall from CPL 3 refused", out), out
    assert "bulkhead: panic" not in out


def attack(boot, backend, name, cmdline=""):
    """Runs hostile attack `name` (with guest `cmdline` words) in VM "x" on
    CPU 1 beside a spin VM "sp" on CPU 0 and waits until x has ended. Fails on a BREACH line, a second end,
    a hypervisor panic, or a neighbour that stopped making progress; returns
    the output and a checker for x's own lines."""
    guest = f"attack={name} {cmdline}".strip()
    specs = [vm("sp", "spin.elf", 0, cmdline="name=sp"),
             vm("x", "hostile.elf", 1, cmdline=f'"{guest}"' if " " in guest else guest)]
    m = boot(BACKEND_EMU[backend], cpus=2, cmdline=" ".join([BASE_CMDLINE] + specs))
    wait_for(m, ended("x"), 150)
    done = [int(n) for n in lines(r"^\[sp\] spin sp: (\d+)$", m.output)]
    wait_for(m, rf"^\[sp\] spin sp: {(done[-1] if done else 0) + 2}$", 120)
    out = m.output
    assert lines(rf"^\[x\] hostile: attack {name}$", out), out
    assert not lines(r"^\[x\] hostile: BREACH", out), out
    assert len(lines(ended("x"), out)) == 1, out
    assert "bulkhead: panic" not in out

    def said(text):
        assert lines(rf"^\[x\] hostile: {text}$", out), (text, out)

    return out, said


def test_attack_hc_badptr(boot, backend):
    """Bad hypercall arguments: an error code for each, and the VM goes on."""
    out, said = attack(boot, backend, "hc-badptr")
    said("survived hc-badptr")
    assert lines(r"^vm x: stopped itself \(code 0\)$", out), out
    said(r"hc-badptr valid -> 33")
    said(r"hc-badptr console write")
    said(r"hc-badptr outside 0xfffff000\+64 -> -14")
    said(r"hc-badptr huge length 0x7fffffff -> -22")
    said(r"hc-badptr straddle 0x[0-9a-f]+\+64 \(ram ends 0x[0-9a-f]+\) -> -14")
    said(r"hc-badptr wrap 0xffffffc0\+0x80 -> -14")
    said(r"hc-badptr unknown call 0x7fffffff -> -38")
    # The whole buffer is checked first: no byte of a bad one is printed.
    assert "straddle-the-end" not in out, out
    assert lines(r"^warning: vm x: hypercall console-write buffer 0xfffff000\+0x40 lies "
                 r"outside the VM's RAM \(-EFAULT\)$", out), out


def test_attack_msr(boot, backend):
    """Dangerous MSRs: #GP as on hardware, or absorbed into the VM's own
    state (MTRRs read back as written, its own TSC restarts); never written
    for real."""
    out, said = attack(boot, backend, "msr")
    said("survived msr")
    assert lines(r"^vm x: stopped itself \(code 0\)$", out), out
    said(r"wrmsr 0x3a -> #GP")
    said(r"wrmsr 0x12345678 -> #GP")
    said(r"rdmsr 0x12345678 -> #GP")
    assert lines(r"^warning: vm x: wrmsr 0x79 \(microcode update\) dropped", out), out
    said(r"wrmsr 0x2ff -> ok")
    said(r"rdmsr 0x2ff after the write -> ok 0x0 \(as written\)")
    said(r"wrmsr 0x200 -> ok")
    said(r"rdmsr 0x200 after the write -> ok 0x6 \(as written\)")
    said(r"wrmsr 0x10 -> ok")
    said(r"tsc 0x[0-9a-f]+ before the write, 0x[0-9a-f]+ after \(restarted\)")
    said(r"msr #GP count 3")


def test_exception_storm_costs_only_its_vm(boot, backend):
    specs = [vm("sp", "spin.elf", 0, cmdline="name=sp"),
             vm("storm", "hostile.elf", 0, cmdline="attack=ex-storm"),
             vm("h", "hello.elf", 1, cmdline="name=h")]
    m = boot(BACKEND_EMU[backend], cpus=2, cmdline=" ".join([BASE_CMDLINE] + specs))
    wait_for(m, r"^\[storm\] hostile: ex-storm 200000 exceptions \(#DB \d+, #AC \d+\)", 150)
    wait_for(m, r"^\[sp\] spin sp: 2$", 120)
    wait_for(m, r"^vm h: stopped itself \(code 0\)", 60)
    # The console still answers while the storm shares its CPU.
    banners = len(lines(r"^bulkhead \d\S* \(", m.output))
    m.send("version\r")
    end = time.monotonic() + 60
    while len(lines(r"^bulkhead \d\S* \(", m.output)) == banners and time.monotonic() < end:
        time.sleep(0.5)
    assert len(lines(r"^bulkhead \d\S* \(", m.output)) > banners, m.output[-3000:]
    wait_for(m, r"^\[sp\] spin sp: 3$", 120)
    assert "bulkhead: panic" not in m.output


@pytest.mark.bochs
def test_bad_vm_options_leave_the_others_running(boot):
    specs = [vm("ok", "hello.elf", 0, cmdline="name=ok"),
             "vm=nomod,missing.elf,mem=4M,cpu=0",
             "vm=badmem,hello.elf,mem=3M,cpu=0",
             "vm=nocpu,hello.elf,mem=4M,cpu=7",
             vm("ok", "hello.elf", 0)]
    m = boot("bochs", cpus=1, cmdline=" ".join([BASE_CMDLINE] + specs))
    wait_for(m, r"^vm ok: stopped itself \(code 0\)", 150)
    out = m.output
    assert lines(r"vm nomod: not defined: module 'missing\.elf' for 'nomod' was not loaded", out), out
    assert lines(r"vm=badmem: mem must be a size like 16M, a multiple of 2M", out), out
    assert lines(r"vm=nocpu: cpu 7 does not exist", out), out
    assert lines(r"vm ok: not defined: a VM named 'ok' already exists", out), out
    assert lines(r"^\[ok\] hello from ok$", out), out


def test_cpuid_bench_reports_figures(boot, backend):
    cmd = f"{BASE_CMDLINE} " + vm("b", "cpuid-bench.elf", 0, cmdline="iters=2000")
    m = boot(BACKEND_EMU[backend], cpus=1, cmdline=cmd)
    wait_for(m, r"^vm b: stopped itself \(code 0\)", 150)
    out = m.output
    assert lines(r"^\[b\] cpuid-bench: cpuid \d+ cycles/exit over 2000 iterations$", out), out
    assert lines(r"^\[b\] cpuid-bench: vmcall \d+ cycles/exit over 2000 iterations$", out), out
    assert lines(r"^\[b\] cpuid-bench: bare \d+ cycles/iteration over 2000 iterations$", out), out
    # VMMCALL, AMD's own hypercall instruction, only on AMD.
    vmmcall = lines(r"^\[b\] cpuid-bench: vmmcall \d+ cycles/exit over 2000 iterations$", out)
    assert bool(vmmcall) == (backend == "svm"), out


@pytest.mark.bochs
def test_cpu_accounting_matches_known_loads(boot):
    """`cpus` and `stats` against loads whose truth is known: a VM that only
    spins alone on CPU 1, a VM halted for good and a suspended one on CPU 0."""
    specs = [vm("busy", "spin.elf", 1, cmdline="name=busy"),
             vm("idle", "spin.elf", 0, cmdline='"name=idle count=1 every=1 halt=1"'),
             vm("sus", "spin.elf", 0, cmdline="name=sus")]
    # The first `cpus` starts the measured interval; the second shows it.
    script = ("sleep 2000; suspend sus; sleep 500; cpus; sleep 3000; cpus; "
              "stats busy; stats idle; poweroff 0")
    m = boot("bochs", cpus=2, cmdline=" ".join([BASE_CMDLINE] + specs + [f'exec="{script}"']))
    assert m.wait_exit() == 0, m.output
    out = m.output
    assert lines(r"^\[idle\] spin idle: halted$", out), out
    assert lines(r"^vm sus: paused$", out), out

    rows = {}
    for cpu, load, queued, running in lines(
            r"^ (\d+)\s+\d+\s+(\d+)%\s+(\d+)\s+(.*?)(?: \(\+console\))?$", out):
        rows.setdefault(int(cpu), []).append((int(load), int(queued), running))
    assert len(rows.get(0, [])) == 2 and len(rows.get(1, [])) == 2, out
    # Over the measured interval: CPU 1 ran its spinning VM all the time
    # (the VM runs alone, without a slice: its one long turn counts).
    load1, queued1, running1 = rows[1][1]
    assert load1 >= 90, rows[1]
    assert (queued1, running1) == (1, "busy/0"), rows[1]
    # CPU 0 only held a halted VM and a suspended one; the suspended VM is
    # shown as such, not as running.
    load0, queued0, running0 = rows[0][1]
    assert load0 <= 10, rows[0]
    assert (queued0, running0) == (2, "idle/0, sus/0 (paused)"), rows[0]

    def shares(name):
        # Its `stats` line, then the next share line (a guest's output
        # lines may come in between).
        head = re.search(rf"^vm {name}: time in guest \d+ ms, in root \d+ ms$", out, re.M)
        assert head, (name, out)
        found = re.compile(r"^  share of the (\d+) ms since its start: guest (\d+)%, "
                           r"root (\d+)%, not running (\d+)%$", re.M).search(out, head.end())
        assert found, (name, out)
        return [int(n) for n in found.groups()]

    # The spinning VM: nearly all its time in the guest (counted at its
    # exits, so the last fraction of a line's loop may be missing).
    up, guest, root, idle = shares("busy")
    assert up >= 3000 and guest >= 85 and root <= 5, (up, guest, root, idle)
    # The halted VM: its halted time is neither guest nor root time.
    up, guest, root, idle = shares("idle")
    assert up >= 3000 and guest <= 5 and root <= 5 and idle >= 90, (up, guest, root, idle)
    assert "bulkhead: panic" not in out
