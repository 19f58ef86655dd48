/* A real-time vCPU writes its physical local APIC's x2APIC registers
 * directly (docs/realtime.md), except the ICR: every IPI it sends is checked
 * here so that it can only reach its own VM's CPUs. */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "vcpu/exit_handlers.h"
#include "vcpu/vm.h"

#define MSR_X2APIC_ICR 0x830

/* The physical CPU the x2APIC ID belongs to is one of this VM's. */
static bool own_cpu(const struct vm *vm, uint32_t apic_id)
{
    for (unsigned i = 0; i < vm->nr_vcpus; i++) {
        unsigned c = vm->cfg.pcpu[i];
        if (c < MAX_CPUS && cpus[c] && cpus[c]->apic_id == apic_id)
            return true;
    }
    return false;
}

/* An ICR value a real-time vCPU may send: fixed (vector 16 or above) or
 * NMI, to itself or one physical destination among its VM's CPUs. INIT,
 * SIPI, SMI, logical destinations and broadcasts could reach CPUs that
 * are not the VM's. */
bool vcpu_rt_icr_allowed(const struct vm *vm, uint64_t icr)
{
    unsigned mode = (icr >> 8) & 7, shorthand = (icr >> 18) & 3;
    uint8_t vector = icr & 0xff;
    if (icr & ~0xffffffff000ccfffULL)
        return false; /* reserved bits (and the read-only delivery status) */
    if (mode != 0 && mode != 4)
        return false;
    if (mode == 0 && vector < 16)
        return false;
    if (shorthand == 1)
        return true; /* self */
    if (shorthand != 0 || (icr & (1ULL << 11)))
        return false; /* broadcasts and logical destinations */
    return own_cpu(vm, (uint32_t)(icr >> 32));
}

enum exit_action vcpu_rt_icr_write(struct vcpu *v, struct exit_record *e)
{
    uint64_t icr = (v->gprs[GPR_RDX] << 32) | (uint32_t)v->gprs[GPR_RAX];
    if (vcpu_rt_icr_allowed(v->vm, icr))
        wrmsr(MSR_X2APIC_ICR, icr);
    else
        vm_log_violation(v->vm, "real-time vCPU %u: IPI 0x%llx outside its VM refused", v->id,
                         (unsigned long long)icr);
    return vcpu_complete(v, e) ? EXIT_ACT_CONTINUE : EXIT_ACT_STOP;
}
