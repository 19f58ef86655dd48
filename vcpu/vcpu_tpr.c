/* CR8 for the backends: the vLAPIC's TPR when the VM has one, else a
 * per-vCPU byte. Either way never the host's local APIC (a guest writing
 * CR8 = 15 to the physical TPR would mask the host's timer and IPIs). */
#include "vdev/platform.h"
#include "vcpu/vm.h"

bool vcpu_tpr_in_vlapic(struct vcpu *v)
{
    return v->vm->platform && v->id < 8;
}

uint64_t vcpu_cr8_read(struct vcpu *v)
{
    struct vm_platform *p = v->vm->platform;
    if (!vcpu_tpr_in_vlapic(v))
        return v->cr8;
    spin_lock(&p->lock);
    uint64_t cr8 = vlapic_get_cr8(&p->lapic[v->id]);
    spin_unlock(&p->lock);
    return cr8;
}

void vcpu_cr8_write(struct vcpu *v, uint64_t cr8)
{
    struct vm_platform *p = v->vm->platform;
    if (!vcpu_tpr_in_vlapic(v)) {
        v->cr8 = (uint8_t)(cr8 & 0xf);
        return;
    }
    spin_lock(&p->lock);
    vlapic_set_cr8(&p->lapic[v->id], cr8);
    spin_unlock(&p->lock);
}
