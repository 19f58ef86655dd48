/* Before each entry: device timers, and the choice of the one
 * event to deliver. The priority is the neutral layer's (an event the exit
 * interrupted, then an exception, an NMI, an interrupt); the backend only
 * writes its event fields and window controls. */
#include "arch/x86_64/cpu.h"
#include "lib/string.h"
#include "vcpu/apicv.h"
#include "vcpu/cr_rules.h"
#include "vcpu/exit_handlers.h"
#include "vcpu/vm.h"

uint64_t vcpu_device_deadline(struct vcpu *v, uint64_t now_tsc)
{
    if (!v->vm->platform)
        return UINT64_MAX;
    return v->vm->platform_ops->timers_tick(v->vm, now_tsc);
}

static bool error_code_allowed(uint8_t vector)
{
    return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21;
}

/* A fault pushes RFLAGS.RF = 1 (vcpu/cr_rules.h): an injected one gets it
 * in the guest's RFLAGS, which the delivery pushes. */
static void set_rf_for_fault(struct vcpu *v, const struct vcpu_event *e)
{
    if (e->type != EVENT_HW_EXCEPTION || !exception_pushes_rf(e->vector))
        return;
    uint64_t rflags = vcpu_backend->get_reg(v, HVM_REG_RFLAGS);
    if (!(rflags & X86_RFLAGS_RF))
        vcpu_backend->set_reg(v, HVM_REG_RFLAGS, rflags | X86_RFLAGS_RF);
}

static void set_windows(struct vcpu *v, bool nmi, bool irq)
{
    if (nmi == v->nmi_window && irq == v->irq_window)
        return;
    v->nmi_window = nmi;
    v->irq_window = irq;
    vcpu_backend->set_windows(v, nmi, irq);
}

/* One event is injected per entry: when an NMI or an interrupt waits
 * behind it, exit as soon as the guest can take it (after the injected
 * event's handler is entered), instead of at some later unrelated exit. */
static void request_windows(struct vcpu *v, int irq)
{
    set_windows(v, v->nmi_window || v->nmi_pending, v->irq_window || irq >= 0);
}

void vcpu_inject_pending(struct vcpu *v)
{
    const struct vcpu_backend *b = vcpu_backend;
    int irq = v->vm->platform ? v->vm->platform_ops->pending_interrupt(v) : -1;
    /* With virtual-interrupt delivery the vLAPIC's vectors (below 256)
     * are the CPU's to deliver: no injection, no window for them. */
    if (v->vm->platform && vcpu_apicv_load(v) && irq < 256)
        irq = -1;
    if (!(v->reinject.valid | v->exception_pending | v->nmi_pending) && irq < 0) {
        if (v->irq_window)
            set_windows(v, v->nmi_window, false);
        return; /* the common case: nothing to deliver */
    }
    if (v->reinject.valid) {
        /* An event interrupted by the exit is delivered again first. */
        set_rf_for_fault(v, &v->reinject);
        b->inject_event(v, &v->reinject);
        v->reinject.valid = false;
        request_windows(v, irq);
        return;
    }
    if (v->exception_pending) {
        struct vcpu_event e = {true, EVENT_HW_EXCEPTION, v->exception_vector, false, 0, 0};
        /* No error code in real mode (the entry would fail). */
        if (v->exception_has_error && (b->get_reg(v, HVM_REG_CR0) & CR0_PE) &&
            error_code_allowed(v->exception_vector)) {
            e.has_error = true;
            e.error = v->exception_error;
        }
        set_rf_for_fault(v, &e);
        b->inject_event(v, &e);
        v->exception_pending = false;
        request_windows(v, irq);
        return;
    }
    uint32_t blocked = b->event_blocking(v);
    if (v->nmi_pending) {
        if (!(blocked & (HVM_BLOCK_SHADOW | HVM_BLOCK_NMI))) {
            const struct vcpu_event nmi = {true, EVENT_NMI, 2, false, 0, 0};
            b->inject_event(v, &nmi);
            v->nmi_pending = false;
            set_windows(v, false, v->irq_window);
        } else {
            set_windows(v, true, v->irq_window);
        }
        return;
    }
    if (irq >= 0) {
        if (!(blocked & (HVM_BLOCK_SHADOW | HVM_BLOCK_IF))) {
            int vec = v->vm->platform_ops->ack_interrupt(v, irq);
            const struct vcpu_event intr = {true, EVENT_EXT_INTR, (uint8_t)(vec & 0xff), false, 0,
                                            0};
            b->inject_event(v, &intr);
            set_windows(v, v->nmi_window, false);
        } else {
            /* Blocked now: exit as soon as the guest can take it. */
            set_windows(v, v->nmi_window, true);
        }
    }
}
