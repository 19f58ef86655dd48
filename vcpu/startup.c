/* Wait-for-SIPI (SDM Vol. 3A 9.4, 10.4.7.3) as the vCPU layer sees it.
 * The start-up state lives in the vLAPIC (vdev/vlapic.h), which latches
 * INIT and SIPI whenever they arrive; before each entry the vCPU acts on
 * that state: it does not run while waiting (the scheduler keeps it
 * blocked and only a latched SIPI wakes it, vcpu_wakeup_pending), and a
 * SIPI restarts it in real mode at CS = vector << 8, IP = 0. */
#include "lib/string.h"
#include "vcpu/exit_handlers.h"
#include "vcpu/vm.h"

/* An INIT discards what was pending for the old context. */
static void drop_events(struct vcpu *v)
{
    v->nmi_pending = false;
    v->exception_pending = false;
    v->reinject.valid = false;
}

bool vcpu_wait_for_sipi(struct vcpu *v)
{
    uint8_t vec = 0;
    if (!v->vm->platform)
        return v->waiting_sipi; /* no local APIC: nothing can start it */
    switch (v->vm->platform_ops->take_startup(v, &vec)) {
    case VCPU_STARTUP_WAIT:
        if (!v->waiting_sipi) {
            v->waiting_sipi = true;
            drop_events(v);
        }
        return true;
    case VCPU_STARTUP_RESET:
        /* An INIT to the BSP (vdev/vlapic_ipi.c says why a reset). The VM
         * restarts through its restart policy, as after a guest reset. */
        vm_request_reset(v->vm, VM_RESTART_GUEST, "INIT to the BSP: reset");
        return true;
    case VCPU_STARTUP_SIPI:
        v->waiting_sipi = false;
        drop_events(v);
        memset(&v->boot, 0, sizeof(v->boot));
        v->boot.mode = ENTRY_REAL_MODE;
        v->boot.rip = (uint64_t)vec << 12;
        if (vcpu_backend->reset(v)) {
            vm_crash(v, "cannot reset the vCPU for its SIPI");
            return true;
        }
        /* The rebuilt VMCS/VMCB requests no window. */
        v->nmi_window = v->irq_window = false;
        return false;
    default:
        v->waiting_sipi = false;
        return false;
    }
}
