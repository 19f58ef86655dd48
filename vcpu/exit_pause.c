/* PAUSE-loop exits (VMX "PAUSE-loop exiting", SVM's PAUSE filter): the
 * guest has spun for a while, most likely for a lock holder or an answer
 * (an IPI, an AP's TSC check) that another vCPU must give. When that vCPU
 * shares this physical CPU it cannot run while this one spins, so the
 * spinner yields, and the scheduler prefers a vCPU of the same VM for the
 * next turn (core/sched.c), as KVM's directed yield (kvm_vcpu_on_spin)
 * boosts a sibling. Alone on its CPU the vCPU is picked again at once.
 * Real-time vCPUs never get here: their PAUSE does not exit. */
#include "vcpu/exit_handlers.h"

enum exit_action vcpu_exit_pause(struct vcpu *v, struct exit_record *e)
{
    /* The PAUSE itself is done: the guest resumes after it. */
    if (!vcpu_complete(v, e))
        return EXIT_ACT_STOP;
    if (v->vm_info.realtime)
        return EXIT_ACT_CONTINUE; /* it owns its CPU: nobody to give way to */
    v->spin_yield = true;
    return EXIT_ACT_YIELD;
}
