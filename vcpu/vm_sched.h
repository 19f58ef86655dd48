/* What the VM layer needs from the scheduler (set by core/sched.c), so
 * the include arrows keep pointing down. */
#ifndef VCPU_VM_SCHED_H
#define VCPU_VM_SCHED_H

#include <stdbool.h>

struct vcpu;

struct vm_sched_ops {
    int (*add)(struct vcpu *v);   /* queue on v->pcpu */
    void (*kick)(struct vcpu *v); /* make its CPU look at it now */
    void (*wake)(struct vcpu *v); /* an interrupt is pending: unblock it */
    /* Another vCPU of v's VM is runnable on v's CPU (called on that CPU,
     * by the vCPU running there: a PAUSE-loop exit's directed yield). */
    bool (*sibling_runnable)(struct vcpu *v);
};

extern const struct vm_sched_ops *vm_sched_ops;

/* Called by the scheduler on the vCPU's own CPU once it has left the
 * guest for good; the last vCPU out finishes the VM's stop. */
void vm_vcpu_stopped(struct vcpu *v);

#endif
