/* Console commands about the machine: CPUs, memory, PCI, IOMMU, log, sleep. */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/spec_ctrl.h"
#include "arch/x86_64/spec_guest.h"
#include "arch/x86_64/tsc.h"
#include "core/command.h"
#include "core/console.h"
#include "core/sched.h"
#include "core/time_share.h"
#include "drivers/acpi.h"
#include "drivers/pci.h"
#include "drivers/vtd.h"
#include "drivers/vtd_dmar.h"
#include "vm/vm.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/string.h"
#include "mm/pmm.h"
#include "vdev/vpci_pt.h"

/* Each CPU's load is measured from the previous `cpus` on (the first time:
 * from when the CPU started scheduling). */
static struct share_window cpu_windows[MAX_CPUS];

static void print_vcpus_on(unsigned c)
{
    bool first = true;
    for (unsigned i = 0; i < nr_vms; i++) {
        struct vm *vm = vms[i];
        if (!vm)
            continue;
        /* A suspended VM holds its place in the queue but does not run. */
        if (vm->state != VM_RUNNING && vm->state != VM_PAUSED)
            continue;
        for (unsigned v = 0; v < vm->cfg.nr_vcpus; v++)
            if (vm->cfg.pcpu[v] == c) {
                cprintf("%s%s/%u%s", first ? " " : ", ", vm->cfg.name, v,
                        vm->state == VM_PAUSED ? " (paused)" : "");
                first = false;
            }
    }
    cprintf("%s", first ? " -" : "");
}

static int cmd_cpus(int argc, char **argv)
{
    cprintf(" %-4s %-8s %-6s %-5s %s\n", "CPU", "APIC-ID", "Load", "vCPUs", "Running");
    for (unsigned c = 0; c < MAX_CPUS; c++) {
        struct percpu *pc = cpus[c];
        if (!pc)
            continue;
        uint64_t busy, since, now;
        sched_cpu_time(c, &busy, &since, &now);
        struct share_window *w = &cpu_windows[c];
        if (!w->at)
            w->at = since;
        unsigned load = since ? share_window_take(w, busy, now) : 0;
        cprintf(" %-4u %-8u %3u%%   %-5u", c, pc->apic_id, load, sched_queue_length(c));
        print_vcpus_on(c);
        cprintf("%s\n", c == 0 ? " (+console)" : "");
    }
    struct console_drain_stats d;
    console_drain_stats(&d);
    uint64_t khz = tsc_khz() ? tsc_khz() : 1;
    cprintf("console output: %llu bytes in %llu turns on cpu 0, %llu us, longest turn %llu us "
            "(%s)\n",
            (unsigned long long)d.bytes, (unsigned long long)d.turns,
            (unsigned long long)(d.cycles * 1000 / khz),
            (unsigned long long)(d.longest * 1000 / khz),
            d.queued ? "queued for the UART interrupt" : "waiting for the UART");
    return 0;
}
COMMAND("cpus", "", "physical CPUs, their load since the previous cpus, the vCPUs on each",
        cmd_cpus);

static void mem_range(uint64_t base, uint64_t len, const char *owner, void *ctx)
{
    uint64_t kib = len >> 10;
    if (kib >= 4096)
        cprintf("  %016llx-%016llx %8llu MiB  %s\n", (unsigned long long)base,
                (unsigned long long)(base + len - 1), (unsigned long long)(kib >> 10),
                owner ? owner : "free");
    else
        cprintf("  %016llx-%016llx %8llu KiB  %s\n", (unsigned long long)base,
                (unsigned long long)(base + len - 1), (unsigned long long)kib,
                owner ? owner : "free");
}

static int cmd_mem(int argc, char **argv)
{
    cprintf("physical memory: %llu MiB usable, %llu MiB free\n",
            (unsigned long long)(pmm_total_pages() >> 8),
            (unsigned long long)(pmm_free_pages() >> 8));
    pmm_for_each_range(mem_range, NULL);
    return 0;
}
COMMAND("mem", "", "the physical memory map and who owns each range", cmd_mem);

/* spec: the mitigations root mode runs with (the boot's "spec:" line), what
 * guests are shown (arch/x86_64/spec_guest.c), and IA32_SPEC_CTRL as this
 * CPU holds it now, in root mode, whatever the guests that ran here set. */
static int cmd_spec(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    char line[160];
    const struct spec_guest *g = &spec_guest_view;
    spec_ctrl_describe(&spec_plan, line, sizeof(line));
    cprintf("spec: root mode: %s\n", line);
    char caps[24] = "none";
    if (g->arch_caps_msr)
        fmt_snprintf(caps, sizeof(caps), "0x%llx", (unsigned long long)g->arch_caps);
    cprintf("spec: guests see CPUID.7.0:EDX 0x%x, CPUID.80000008H:EBX 0x%x; IA32_SPEC_CTRL "
            "bits 0x%llx, IBPB %s, L1D flush %s, IA32_ARCH_CAPABILITIES %s\n",
            g->cpuid7_edx, g->ext8_ebx, (unsigned long long)g->spec_ctrl_bits,
            g->pred_cmd ? "yes" : "no", g->flush_cmd ? "yes" : "no", caps);
    uint64_t now;
    if (rdmsr_safe(MSR_IA32_SPEC_CTRL, &now))
        cprintf("spec: IA32_SPEC_CTRL on cpu %u now 0x%llx (root mode's 0x%llx)\n", this_cpu_id(),
                (unsigned long long)now, (unsigned long long)spec_plan.spec_ctrl);
    else
        cprintf("spec: this CPU has no IA32_SPEC_CTRL\n");
    /* Last: tests wait for the IA32_SPEC_CTRL line above, then read this. */
    cprintf("spec: IBPB on a VM switch:");
    for (unsigned c = 0; c < MAX_CPUS; c++)
        if (cpus[c])
            cprintf(" cpu %u %llu", c, spec_vm_switch_ibpbs(c));
    cprintf("\n");
    return 0;
}
COMMAND("spec", "", "speculation mitigations: root mode's, guests' view, IA32_SPEC_CTRL now",
        cmd_spec);

static int cmd_pci(int argc, char **argv)
{
    for (unsigned i = 0; i < pci_count(); i++) {
        const struct pci_dev *d = pci_get(i);
        /* A running VM's own devices (passthrough), else the hypervisor's. */
        const char *vm = vpt_owner(d->seg, PCI_BDF(d->bus, d->dev, d->fn));
        cprintf("  %04x:%02x:%02x.%u %04x:%04x %-24s %s%s\n", d->seg, d->bus, d->dev, d->fn,
                d->vendor, d->device, pci_class_name(d->class_code, d->subclass),
                vm ? "vm " : "hypervisor", vm ? vm : "");
    }
    cprintf("%u devices\n", pci_count());
    return 0;
}
COMMAND("pci", "", "PCI devices and who owns each (the hypervisor or a VM)", cmd_pci);

static int cmd_iommu(int argc, char **argv)
{
    uint16_t seg, bdf;
    if (argc == 1) {
        vtd_show(cprintf);
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "selftest") && vtd_parse_bdf(argv[2], &seg, &bdf))
        return vtd_selftest(seg, bdf, cprintf);
    cprintf("error: usage: iommu [selftest BB:DD.F]\n");
    return -1;
}
COMMAND("iommu", "[selftest BB:DD.F]", "IOMMU units, domains and faults; a DMA/interrupt self-test",
        cmd_iommu);

static int cmd_log(int argc, char **argv)
{
    char buf[256];
    unsigned long long pos = 0;
    size_t n;
    bool follow = argc == 2 && !strcmp(argv[1], "-f");
    if (argc > 2 || (argc == 2 && !follow)) {
        cprintf("error: usage: log [-f]\n");
        return -1;
    }
    while ((n = log_ring_read(&pos, buf, sizeof(buf))) > 0)
        command_write(buf, n);
    if (follow) {
        cprintf("-- following the log; Ctrl-C stops --\n");
        console_follow_log();
    }
    return 0;
}
COMMAND("log", "[-f]", "show the log ring (-f: keep following it)", cmd_log);

static bool never(void *ctx)
{
    return false;
}

static int cmd_sleep(int argc, char **argv)
{
    unsigned long long ms;
    if (argc != 2 || str_to_u64(argv[1], strlen(argv[1]), &ms, 0) || ms > 86400000ULL) {
        cprintf("error: usage: sleep <milliseconds>\n");
        return -1;
    }
    console_wait(never, NULL, NULL, rdtsc() + tsc_khz() * ms);
    return 0;
}
COMMAND("sleep", "<ms>", "pause the console (scripts) for some milliseconds", cmd_sleep);

static int cmd_loglevel(int argc, char **argv)
{
    if (argc == 1) {
        cprintf("loglevel: %s\n", log_level_name(log_get_level()));
        return 0;
    }
    int l = argc == 2 ? log_level_from_name(argv[1], strlen(argv[1])) : -1;
    if (l < 0) {
        cprintf("error: usage: loglevel [err|warn|info|debug|trace]\n");
        return -1;
    }
    log_set_level(l);
    return 0;
}
COMMAND("loglevel", "[level]", "show or set the console log level", cmd_loglevel);
