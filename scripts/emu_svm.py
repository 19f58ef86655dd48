"""The `qemu-svm` emulator of scripts/emu.py: QEMU TCG emulating an AMD CPU
with SVM and nested paging, on the q35 chipset with an emulated Intel IOMMU,
so guests and an IOMMU run in one emulator (../shared/platform-notes.md).

QEMU 7.2's TCG implements SVM with nested paging only: no NRIPS, no
DecodeAssists, no VMCB clean bits, no FlushByAsid (it warns about the
features the CPU model lists but TCG drops; the warnings land in the
emulator's log, not on the console). The hypervisor's backend must decode
instruction lengths itself there (docs/svm.md).
"""

EMU = "qemu-svm"
# An AMD model: CPUID says AuthenticAMD, SVM and NPT; `max` works as well.
CPU_MODEL = "EPYC"
# SMP is part of what this emulator is for (AP start-up under SVM, IPIs).
MIN_CPUS = 2


def cpus_for(cpus):
    """The CPU count to run with: at least MIN_CPUS."""
    return max(int(cpus), MIN_CPUS)


def machine_args(cpu_model=CPU_MODEL):
    """QEMU arguments for the machine, CPU and IOMMU (the rest of the
    command line, media, serial and exit device, is emu.py's, shared with
    the `qemu` emulator)."""
    return ["-accel", "tcg",
            "-machine", "q35",
            "-cpu", f"{cpu_model},+svm,+npt",
            "-device", "intel-iommu"]
