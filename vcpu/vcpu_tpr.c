/* CR8 for the backends: the vLAPIC's TPR when the VM has one, else a
 * per-vCPU byte. Either way never the host's local APIC (a guest writing
 * CR8 = 15 to the physical TPR would mask the host's timer and IPIs). */
#include "vcpu/vcpu_tpr.h"

#include "vcpu/vm.h"

bool vcpu_tpr_in_vlapic(struct vcpu *v)
{
    return v->vm->platform && v->id < 8;
}

uint64_t vcpu_cr8_read(struct vcpu *v)
{
    if (!vcpu_tpr_in_vlapic(v))
        return v->cr8;
    return v->vm->platform_ops->get_cr8(v);
}

void vcpu_cr8_write(struct vcpu *v, uint64_t cr8)
{
    if (!vcpu_tpr_in_vlapic(v)) {
        v->cr8 = (uint8_t)(cr8 & 0xf);
        return;
    }
    v->vm->platform_ops->set_cr8(v, cr8);
}
