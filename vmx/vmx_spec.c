/* The guest's IA32_SPEC_CTRL (arch/x86_64/spec_guest.c): while it differs from
 * root mode's, the CPU loads it with the VM-entry MSR-load list and loads
 * root mode's back with the VM-exit MSR-load list, so no instruction of
 * root mode runs with the guest's value, on the fast exit path neither.
 * The guest's writes exit (vcpu/msr.c checks them); its reads pass: the
 * MSR then holds its own value. Equal values need no list and cost
 * nothing. */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/spec_ctrl.h"
#include "arch/x86_64/spec_guest.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"

void vmx_spec_ctrl_load(struct vcpu *v)
{
    struct vmx_vcpu *x = v->arch;
    uint64_t root = spec_plan.spec_ctrl;
    /* A guest shown no IA32_SPEC_CTRL runs with root mode's value. */
    bool lists = spec_guest_view.spec_ctrl_bits && v->spec_ctrl != root;
    x->spec_msrs[0] = (struct vmx_msr_entry){MSR_IA32_SPEC_CTRL, 0, v->spec_ctrl};
    x->spec_msrs[1] = (struct vmx_msr_entry){MSR_IA32_SPEC_CTRL, 0, root};
    vmcs_write(VM_ENTRY_MSR_LOAD_ADDR, (uint64_t)&x->spec_msrs[0]);
    vmcs_write(VM_EXIT_MSR_LOAD_ADDR, (uint64_t)&x->spec_msrs[1]);
    vmcs_write(VM_ENTRY_MSR_LOAD_COUNT, lists);
    vmcs_write(VM_EXIT_MSR_LOAD_COUNT, lists);
}
