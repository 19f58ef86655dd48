/* The run loop's fast path for the exits of a guest's timer cycle: WRMSR
 * IA32_TSC_DEADLINE, WRMSR x2APIC EOI and the interrupt window
 * (vcpu_fast_apic has the policy). Out of line: the inlined vmx_take_exit
 * stays small for CPUID. */
#include <stddef.h>

#include "arch/x86_64/cpu.h"
#include "vmx/vmx_exit.h"

enum exit_action vmx_fast_apic_exit(struct vcpu *v, uint32_t raw, uint64_t exit_tsc,
                                    uint64_t *end_tsc)
{
    int r;
    /* What the CPU did with the vLAPIC's vectors: applied by the fast path
     * under the lock it takes anyway, or by vmx_handle_exit. */
    struct hvm_apicv_delta d;
    const struct hvm_apicv_delta *seen = NULL;
    if (((struct vmx_vcpu *)v->arch)->apicv_on && vmx_apicv_delta(v, &d))
        seen = &d;
    if (raw == EXIT_REASON_MSR_WRITE) {
        uint32_t msr = (uint32_t)v->gprs[GPR_RCX];
        if (msr != MSR_IA32_TSC_DEADLINE && msr != MSR_X2APIC_EOI) {
            if (seen)
                vcpu_apicv_seen(v, seen);
            return vmx_handle_exit(v, raw, exit_tsc, end_tsc);
        }
        uint64_t val = (v->gprs[GPR_RDX] << 32) | (uint32_t)v->gprs[GPR_RAX];
        struct vmx_vcpu *x = v->arch;
        x->apicv_fast = true; /* see vmx_apicv.c, hold_while_if_clear */
        r = vcpu_fast_apic(v, msr, val, vmcs_read(GUEST_RFLAGS) & RFLAGS_IF, seen);
        x->apicv_fast = false;
        if (r == VCPU_FAST_NO)
            return vmx_handle_exit(v, raw, exit_tsc, end_tsc);
        vmx_skip_instruction_inline();
    } else {
        /* A window exit at the first instruction of an injected event's
         * handler has nothing in flight; anything else is the full path's. */
        if (vmcs_read(IDT_VECTORING_INFO_FIELD) & INTR_INFO_VALID) {
            if (seen)
                vcpu_apicv_seen(v, seen);
            return vmx_handle_exit(v, raw, exit_tsc, end_tsc);
        }
        r = vcpu_fast_apic(v, 0, 0, true, seen);
        if (r == VCPU_FAST_NO)
            return vmx_handle_exit(v, raw, exit_tsc, end_tsc);
    }
    uint64_t t = rdtsc();
    *end_tsc = t;
    v->exits[raw].count++;
    v->exits[raw].cycles += t - exit_tsc;
    if (r != VCPU_FAST_DONE)
        return EXIT_ACT_CONTINUE;
    v->root_cycles += t - exit_tsc;
    return EXIT_ACT_FAST;
}
