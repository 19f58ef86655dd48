/* VMX root operation on each physical CPU. */
#include "vmx/vmx.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/ipi.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/spec_ctrl.h"
#include "arch/x86_64/spec_guest.h"
#include "lib/log.h"
#include "lib/string.h"
#include "mm/pmm.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_caps.h"

static struct vmx_cpu vmx_cpus[MAX_CPUS];

static uint64_t apply_fixed(uint64_t v, uint64_t fixed0, uint64_t fixed1)
{
    return (v | fixed0) & fixed1;
}

int vmx_cpu_enable(void)
{
    struct percpu *pc = this_cpu();
    struct vmx_cpu *vc = &vmx_cpus[pc->cpu_id];

    if (!vmx_caps.available)
        return -1;
    if (vc->on)
        return 0;
    /* Firmware may leave FEATURE_CONTROL unlocked: enable VMX and lock it. */
    uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
    if (!(fc & FEATURE_CONTROL_LOCKED)) {
        fc |= FEATURE_CONTROL_VMXON_OUTSIDE | FEATURE_CONTROL_LOCKED;
        if (!wrmsr_safe(MSR_IA32_FEATURE_CONTROL, fc)) {
            pr_err("cpu %u: vmx: cannot lock IA32_FEATURE_CONTROL", pc->cpu_id);
            return -1;
        }
    } else if (!(fc & FEATURE_CONTROL_VMXON_OUTSIDE)) {
        pr_err("cpu %u: vmx: disabled by firmware", pc->cpu_id);
        return -1;
    }
    if (!vc->vmxon_phys) {
        vc->vmxon_phys = pmm_alloc(1, 1, "vmxon region");
        if (!vc->vmxon_phys)
            return -1;
    }
    uint32_t *region = (uint32_t *)vc->vmxon_phys;
    memset(region, 0, 4096);
    region[0] = vmx_caps.revision_id;

    write_cr0(apply_fixed(read_cr0() | CR0_NE, vmx_caps.cr0_fixed0, vmx_caps.cr0_fixed1));
    write_cr4(apply_fixed(read_cr4() | CR4_VMXE, vmx_caps.cr4_fixed0, vmx_caps.cr4_fixed1));
    if (!vmx_on(vc->vmxon_phys)) {
        write_cr4(read_cr4() & ~CR4_VMXE);
        pr_err("cpu %u: vmx: VMXON failed", pc->cpu_id);
        return -1;
    }
    /* IA32_SPEC_CTRL on every CPU that runs guests. Where guests set their
     * own, every exit loads root mode's value (vmx_spec.c): a CPU that
     * refuses it would take a VMX abort, so it runs no guests. */
    if (!spec_ctrl_init_cpu() && spec_guest_view.spec_ctrl_bits) {
        vmx_off();
        write_cr4(read_cr4() & ~CR4_VMXE);
        pr_err("cpu %u: vmx: IA32_SPEC_CTRL refuses root mode's value: no guests here", pc->cpu_id);
        return -1;
    }
    vc->on = true;
    pc->vcpu_state = vc;
    pr_debug("cpu %u: vmx: root operation on", pc->cpu_id);
    return 0;
}

void vmx_cpu_disable(void)
{
    struct percpu *pc = this_cpu();
    struct vmx_cpu *vc = &vmx_cpus[pc->cpu_id];
    if (!vc->on)
        return;
    if (vc->current) {
        struct vmx_vcpu *x = vc->current->arch;
        vmcs_clear(x->vmcs_phys);
        x->loaded_cpu = -1;
        x->launched = false;
        vc->current = NULL;
    }
    vmx_off();
    write_cr4(read_cr4() & ~CR4_VMXE);
    vc->on = false;
}

struct vmx_cpu *vmx_this_cpu(void)
{
    return &vmx_cpus[this_cpu()->cpu_id];
}

void vmx_disable_all_cpus(void)
{
    ipi_park_all_others(vmx_cpu_disable);
}

bool vmx_probe(const char **reason)
{
    vmx_caps_probe();
    *reason = vmx_caps.available ? NULL : vmx_caps.reason;
    return vmx_caps.available;
}

void vmx_describe(char *buf, unsigned len)
{
    vmx_caps_describe(buf, len);
}

void vmx_npt_page_sizes(bool *pg_2m, bool *pg_1g)
{
    *pg_2m = vmx_caps.ept_2m;
    *pg_1g = vmx_caps.ept_1g;
}

int vmx_set_option(const char *key, const char *value)
{
    if (!strcmp(key, "apicv")) {
        if (strcmp(value, "on") && strcmp(value, "off")) {
            pr_err("vmx.apicv=%s: expected on or off", value);
            return -1;
        }
        vmx_use_apicv = !strcmp(value, "on");
        return 1;
    }
    if (strcmp(key, "preemption_timer"))
        return 0;
    if (!strcmp(value, "off")) {
        vmx_use_preemption_timer = false;
        return 1;
    }
    if (!strcmp(value, "on")) {
        vmx_use_preemption_timer = true;
        return 1;
    }
    pr_err("vmx.preemption_timer=%s: expected on or off", value);
    return -1;
}
