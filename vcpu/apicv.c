/* Virtual-interrupt delivery: the neutral half (vcpu/apicv.h). */
#include "vcpu/apicv.h"

#include <stddef.h>

#include "hvm/backend.h"
#include "vcpu/vm.h"

bool vcpu_apicv_allowed = true;

void vcpu_apicv_delta(const uint32_t entry_irr[8], const uint32_t entry_isr[8],
                      const uint32_t now_irr[8], const uint32_t now_isr[8], uint32_t delivered[8],
                      uint32_t eoied[8])
{
    for (unsigned i = 0; i < 8; i++) {
        delivered[i] = entry_irr[i] & ~now_irr[i];
        eoied[i] = (entry_isr[i] | delivered[i]) & ~now_isr[i];
    }
}

void vcpu_apicv_seen(struct vcpu *v, const uint32_t entry_irr[8], const uint32_t entry_isr[8],
                     const uint32_t now_irr[8], const uint32_t now_isr[8])
{
    uint32_t delivered[8], eoied[8], any = 0;
    vcpu_apicv_delta(entry_irr, entry_isr, now_irr, now_isr, delivered, eoied);
    for (unsigned i = 0; i < 8; i++)
        any |= delivered[i] | eoied[i];
    if (any && v->vm->platform && v->vm->platform_ops->apicv_import)
        v->vm->platform_ops->apicv_import(v, delivered, eoied);
}

bool vcpu_apicv_load(struct vcpu *v)
{
    const struct vcpu_backend *b = vcpu_backend;
    const struct vm *vm = v->vm;
    if (!b->apicv_load || !vm->platform || !vm->platform_ops->apicv_export)
        return false;
    struct hvm_apicv_state s;
    bool want = vcpu_apicv_allowed && !v->vm_info.realtime && vm->platform_ops->apicv_export(v, &s);
    if (!want) {
        if (v->apicv_on)
            b->apicv_load(v, NULL);
        v->apicv_on = false;
        return false;
    }
    v->apicv_on = b->apicv_load(v, &s);
    return v->apicv_on;
}
