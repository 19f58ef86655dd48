/* PAUSE-loop exits (VMX "PAUSE-loop exiting", SVM's PAUSE filter): the
 * guest has spun for a while, most likely for a lock holder or an answer
 * (an IPI, an AP's TSC check) that another vCPU must give. When a vCPU of
 * the same VM is runnable on this physical CPU it cannot run while this
 * one spins, so the spinner yields and the scheduler gives the turn to
 * that sibling (core/sched.c), as KVM's directed yield (kvm_vcpu_on_spin)
 * does. Otherwise the spinner goes on: what it waits for runs elsewhere
 * (another CPU, a device), and giving its turn to another VM would only
 * delay it by a slice. Real-time vCPUs never get here: their PAUSE does
 * not exit. */
#include "vcpu/exit_handlers.h"
#include "vcpu/vm_sched.h"

enum exit_action vcpu_exit_pause(struct vcpu *v, struct exit_record *e)
{
    /* The PAUSE itself is done: the guest resumes after it. */
    if (!vcpu_complete(v, e))
        return EXIT_ACT_STOP;
    if (v->vm_info.realtime || !vm_sched_ops || !vm_sched_ops->sibling_runnable ||
        !vm_sched_ops->sibling_runnable(v))
        return EXIT_ACT_CONTINUE;
    v->spin_yield = true;
    return EXIT_ACT_YIELD;
}
