/* Virtual-interrupt delivery: the neutral half (vcpu/apicv.h). */
#include "vcpu/apicv.h"

#include <stddef.h>

#include "hvm/backend.h"
#include "vcpu/vm.h"

void vcpu_apicv_seen(struct vcpu *v, const struct hvm_apicv_delta *d)
{
    if ((d->words || d->tpr >= 0) && v->vm->platform && v->vm->platform_ops->apicv_import)
        v->vm->platform_ops->apicv_import(v, d);
}

bool vcpu_apicv_load(struct vcpu *v)
{
    const struct vcpu_backend *b = vcpu_backend;
    const struct vm *vm = v->vm;
    if (!v->apicv_possible || !b->apicv_load || !vm->platform || !vm->platform_ops->apicv_export) {
        v->apicv_on = false;
        return false;
    }
    struct hvm_apicv_state s;
    bool want = !v->vm_info.realtime && vm->platform_ops->apicv_export(v, &s);
    if (!want) {
        if (v->apicv_on)
            b->apicv_load(v, NULL);
        v->apicv_on = false;
        return false;
    }
    v->apicv_on = b->apicv_load(v, &s);
    return v->apicv_on;
}
