/* The exits of a timer cycle (program the deadline, the interrupt, EOI)
 * answered inside the backend's run loop, as CPUID is: the vLAPIC's part is
 * the platform's (vm_platform_ops.apic_fast), the event and window are
 * written here, and nothing else of the full path runs (device ticks, the
 * start-up check, the interrupt search of every source). With
 * virtual-interrupt delivery (vcpu/apicv.h) only the deadline write exits:
 * the vLAPIC's state goes back to the backend, whose CPU delivers. */
#include "arch/x86_64/cpu.h"
#include "hvm/backend.h"
#include "vcpu/vm.h"

static void note_deadline(struct vcpu *v, uint64_t dl)
{
    if (dl != UINT64_MAX) {
        v->fast_deadline = dl;
        v->deadline_moved = true;
    }
}

static int fast_apicv(struct vcpu *v, uint32_t msr, uint64_t val,
                      const struct hvm_apicv_delta *seen)
{
    const struct vcpu_backend *b = vcpu_backend;
    struct hvm_apicv_state s;
    uint64_t dl = UINT64_MAX;
    int r = v->vm->platform_ops->apicv_fast(v, msr, val, &dl, seen, &s);
    if (r == APIC_FAST_NO)
        return VCPU_FAST_NO;
    note_deadline(v, dl);
    if (r != APIC_FAST_APICV)
        return VCPU_FAST_FULL;
    /* The CPU delivers whatever is pending when the guest can take it. */
    b->apicv_load(v, &s);
    if (v->irq_window) {
        v->irq_window = false;
        b->set_windows(v, false, false);
    }
    return VCPU_FAST_DONE;
}

int vcpu_fast_apic(struct vcpu *v, uint32_t msr, uint64_t val, bool if_set,
                   const struct hvm_apicv_delta *seen)
{
    const struct vm *vm = v->vm;
    const struct vcpu_backend *b = vcpu_backend;
    /* An event already waiting has its order: the full path keeps it. */
    if (!vm->platform || !vm->platform_ops->apic_fast ||
        (v->reinject.valid | v->exception_pending | v->nmi_pending | v->nmi_window)) {
        if (seen)
            vcpu_apicv_seen(v, seen);
        return VCPU_FAST_NO;
    }
    if (v->apicv_on && vm->platform_ops->apicv_fast)
        return fast_apicv(v, msr, val, seen);
    if (seen)
        vcpu_apicv_seen(v, seen);
    /* At a WRMSR the instruction completes first, which ends STI/MOV-SS
     * blocking: RFLAGS.IF alone decides. An interrupt window exit comes
     * when the guest can take one. */
    bool can_take = !msr || if_set;
    int vec;
    uint64_t dl = UINT64_MAX;
    int r = vm->platform_ops->apic_fast(v, msr, val, can_take, &vec, &dl);
    if (r == APIC_FAST_NO)
        return VCPU_FAST_NO;
    note_deadline(v, dl);
    bool window = r == APIC_FAST_WINDOW;
    if (r == APIC_FAST_INJECT) {
        const struct vcpu_event e = {true, EVENT_EXT_INTR, (uint8_t)vec, false, 0, 0};
        b->inject_event(v, &e);
    }
    if (window != v->irq_window) {
        v->irq_window = window;
        b->set_windows(v, false, window);
    }
    return r == APIC_FAST_FULL ? VCPU_FAST_FULL : VCPU_FAST_DONE;
}
