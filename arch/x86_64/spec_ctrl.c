/* Probing the CPU's speculation controls and applying the plan; the
 * decision itself is spec_ctrl_decide (spec_ctrl_plan.c). */
#include "arch/x86_64/spec_ctrl.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "lib/log.h"

struct spec_plan spec_plan;
struct spec_cpu spec_host;
uint32_t spec_host_ext8_ebx;
uint8_t spec_entry_flags = SPEC_ENTRY_FLAG_NO_VERW, spec_bhb_clear;
unsigned spec_force;
static bool probed;

void spec_ctrl_probe(void)
{
    struct spec_cpu c = {0, 0, 0, 0};
    struct cpuid_regs r = {0, 0, 0, 0};
    if (probed)
        return;
    if (cpuid(0).eax >= 7) {
        cpuid_count(7, 0, &r);
        c.cpuid7_ebx = r.ebx;
        c.cpuid7_edx = r.edx;
        if (r.eax >= 2) {
            cpuid_count(7, 2, &r);
            c.cpuid7_2_edx = r.edx;
        }
    }
    if ((c.cpuid7_edx & CPUID7_EDX_ARCH_CAPS) && !rdmsr_safe(MSR_IA32_ARCH_CAPS, &c.arch_caps))
        c.arch_caps = 0;
    if (cpuid(0x80000000).eax >= 0x80000008)
        spec_host_ext8_ebx = cpuid(0x80000008).ebx;
    spec_host = c;
    spec_ctrl_decide(&c, &spec_plan);
    if (spec_force && !spec_ctrl_apply_force(&c, spec_force, &spec_plan))
        pr_warn("spec.force: l1d_flush needs IA32_FLUSH_CMD, which this CPU lacks: ignored");
    spec_entry_flags = spec_plan.entry == SPEC_ENTRY_L1D
                           ? SPEC_ENTRY_FLAG_L1D | SPEC_ENTRY_FLAG_NO_VERW
                       : spec_plan.entry == SPEC_ENTRY_VERW ? 0
                                                            : SPEC_ENTRY_FLAG_NO_VERW;
    spec_bhb_clear = spec_plan.bhi == SPEC_BHI_CLEAR_LOOP;
    probed = true;

    char line[160];
    spec_ctrl_describe(&spec_plan, line, sizeof(line));
    pr_info("spec: %s%s (cpuid7 edx 0x%x, arch_caps 0x%llx)", line,
            spec_force ? " (spec.force)" : "", c.cpuid7_edx, (unsigned long long)c.arch_caps);
    if (spec_plan.l1tf_unmitigated || spec_plan.mds_unmitigated)
        pr_warn("spec: this CPU leaks guest data across VM switches (%s%s): no microcode "
                "support to flush it; update the microcode",
                spec_plan.l1tf_unmitigated ? "L1TF " : "", spec_plan.mds_unmitigated ? "MDS" : "");
}

/* IA32_SPEC_CTRL exists: Intel's IBRS, STIBP or SSBD, or AMD's. */
static bool host_has_spec_ctrl(void)
{
    return (spec_host.cpuid7_edx & (CPUID7_EDX_IBRS_IBPB | CPUID7_EDX_STIBP | CPUID7_EDX_SSBD)) ||
           (spec_host_ext8_ebx & (EXT8_EBX_IBRS | EXT8_EBX_STIBP | EXT8_EBX_SSBD));
}

bool spec_ctrl_init_cpu(void)
{
    spec_ctrl_probe();
    /* Where the MSR exists it is written even when the plan wants 0:
     * guests that set their own value (arch/x86_64/spec_guest.c) get root
     * mode's back at every exit, so root mode's must be known on every
     * CPU. */
    if ((spec_plan.spec_ctrl_write || host_has_spec_ctrl()) &&
        !wrmsr_safe(MSR_IA32_SPEC_CTRL, spec_plan.spec_ctrl)) {
        pr_warn("spec: IA32_SPEC_CTRL refused 0x%llx on this CPU",
                (unsigned long long)spec_plan.spec_ctrl);
        return false;
    }
    return true;
}

static uint64_t last_vm_serial[MAX_CPUS]; /* 0: no VM has run here */
static unsigned long long vm_switch_ibpbs[MAX_CPUS];

void spec_vm_switch(uint64_t vm_serial)
{
    unsigned c = this_cpu_id();
    if (c >= MAX_CPUS || last_vm_serial[c] == vm_serial)
        return;
    if (spec_plan.ibpb) { /* the first VM too: firmware's and boot's history */
        wrmsr(MSR_IA32_PRED_CMD, 1);
        vm_switch_ibpbs[c]++;
    }
    last_vm_serial[c] = vm_serial;
}

unsigned long long spec_vm_switch_ibpbs(unsigned cpu)
{
    return cpu < MAX_CPUS ? vm_switch_ibpbs[cpu] : 0;
}
