/* The vLAPIC exits a timer cycle takes (a WRMSR to IA32_TSC_DEADLINE, the
 * x2APIC EOI, the interrupt window), handled for the backend's run loop
 * without its full path: one acquisition of the platform lock does the
 * write, fires a deadline already past at once, and picks the interrupt to
 * deliver (vm_platform_ops.apic_fast, vcpu/vm.h). Whatever else may need
 * the entry's full look (an NMI, INIT/SIPI, the vPIC's ExtINT) is left to
 * the full path. */
#include "arch/x86_64/cpu.h"
#include "vdev/lapic_apicv_window.h"
#include "vdev/platform.h"
#include "vcpu/vm.h"

/* Under p->lock: the write, a due deadline fired, and the checks for what
 * needs the full path. APIC_FAST_NO or APIC_FAST_FULL: the lock is
 * released; APIC_FAST_NONE: go on, the lock still held. */
static inline int apic_write_locked(struct vcpu *v, struct vm_platform *p, struct vlapic *a,
                                    uint32_t msr, uint64_t val, uint64_t *deadline)
{
    if (msr == MSR_X2APIC_EOI && (val || !vlapic_x2apic_mode(a))) {
        spin_unlock(&p->lock); /* #GP: the full path says why */
        return APIC_FAST_NO;
    }
    if (msr == MSR_IA32_TSC_DEADLINE) {
        vlapic_set_tsc_deadline(a, val);
        uint64_t dl = vlapic_next_deadline(a);
        if (dl != VTIME_NEVER) {
            uint64_t now = rdtsc();
            /* Already due: delivered at once, not at the next tick (and
             * without waking this vCPU, which looks below). */
            if (dl <= now)
                vlapic_tick_running(a, now);
        }
        *deadline = vlapic_next_deadline(a);
    } else if (msr == MSR_X2APIC_EOI) {
        vlapic_msr_write(a, msr, 0); /* a level-triggered vector reaches the vIOAPIC */
    }
    if (vlapic_waiting_sipi(a) || a->nmi_pending ||
        (v->id == 0 && vlapic_lint0_extint(a) && vpic_output(&p->pic))) {
        v->intr_news = true; /* the full path's business */
        spin_unlock(&p->lock);
        return APIC_FAST_FULL;
    }
    /* Everything the full path would look at for this vCPU is looked at
     * here, under the lock every change to it is made under: news so far
     * (our own timer's included) is seen, later news sets the flag again. */
    v->intr_news = false;
    return APIC_FAST_NONE;
}

int platform_apic_fast(struct vcpu *v, uint32_t msr, uint64_t val, bool can_take, int *vector,
                       uint64_t *deadline)
{
    struct vm_platform *p = v->vm->platform;
    struct vlapic *a = &p->lapic[v->id];
    *vector = -1;
    spin_lock(&p->lock);
    int r = apic_write_locked(v, p, a, msr, val, deadline);
    if (r != APIC_FAST_NONE)
        return r;
    int vec = vlapic_pending_vector(a);
    if (vec >= 0) {
        if (can_take) {
            vlapic_ack(a, (uint8_t)vec);
            *vector = vec;
            r = APIC_FAST_INJECT;
        } else {
            r = APIC_FAST_WINDOW;
        }
    }
    spin_unlock(&p->lock);
    return r;
}

/* The mode the backend virtualizes for this vCPU (hvm_apicv_state):
 * x2APIC (0), xAPIC with the VM's APIC-access page (its address), or none
 * (-1: an APIC disabled, or no page). Under p->lock, or on the vCPU's own
 * CPU: only its own WRMSRs change its mode. */
static int64_t apicv_mode(const struct vcpu *v, const struct vm_platform *p, const struct vlapic *a)
{
    if (vlapic_x2apic_mode(a))
        return 0;
    if (vlapic_hw_enabled(a) && v->apicv_xapic_possible && p->apic_access_hpa)
        return (int64_t)p->apic_access_hpa;
    return -1;
}

/* What the CPU did: the steps every mode has, then xAPIC mode's own. */
static void import_locked(struct vlapic *a, const struct hvm_apicv_delta *d)
{
    if (d->words)
        vlapic_apicv_import(a, d->words, d->delivered, d->eoied);
    /* xAPIC mode's own steps; an x2APIC delta has none (no TPR, nothing
     * raised): not called on the x2APIC timer cycle's exit. */
    if (d->raised_words || d->tpr >= 0)
        vlapic_apicv_import_xapic(a, d->raised_words, d->raised, d->tpr);
}

/* The same with virtual-interrupt delivery (vm_platform_ops.apicv_fast):
 * what the CPU did is applied first, and the CPU picks the vector itself
 * from the state handed back. */
int platform_apicv_fast(struct vcpu *v, uint32_t msr, uint64_t val, uint64_t *deadline,
                        const struct hvm_apicv_delta *seen, struct hvm_apicv_state *s)
{
    struct vm_platform *p = v->vm->platform;
    struct vlapic *a = &p->lapic[v->id];
    spin_lock(&p->lock);
    if (seen)
        import_locked(a, seen);
    int r = apic_write_locked(v, p, a, msr, val, deadline);
    if (r != APIC_FAST_NONE)
        return r;
    int64_t mode = apicv_mode(v, p, a);
    if (mode >= 0) {
        vlapic_apicv_export(a, s->irr, s->isr, s->tmr, &s->tpr);
        s->apic_access_hpa = (uint64_t)mode;
        r = APIC_FAST_APICV;
    } else {
        v->intr_news = true; /* no mode to virtualize: the full path stops it */
        r = APIC_FAST_FULL;
    }
    spin_unlock(&p->lock);
    return r;
}

/* Virtual-interrupt delivery (vm_platform_ops.apicv_export/import): the
 * vLAPIC's state out to the backend, and what the CPU did with it back. */
bool platform_apicv_export(struct vcpu *v, struct hvm_apicv_state *s)
{
    struct vm_platform *p = v->vm->platform;
    struct vlapic *a = &p->lapic[v->id];
    /* The mode changes only by this vCPU's own WRMSRs (an INIT keeps it):
     * a vCPU with a disabled APIC takes no lock for this. */
    int64_t mode = apicv_mode(v, p, a);
    if (mode < 0)
        return false;
    spin_lock(&p->lock);
    vlapic_apicv_export(a, s->irr, s->isr, s->tmr, &s->tpr);
    s->apic_access_hpa = (uint64_t)mode;
    /* Not mapped yet (the VM's first entries, a vCPU built late): looked
     * at again; a mapping added needs no flush. Removing one is only done
     * by platform_wrmsr, which flushes. */
    if (mode && !p->apic_access_mapped && !p->apic_access_broken)
        lapic_apicv_window_update(p);
    spin_unlock(&p->lock);
    return true;
}

void platform_apicv_import(struct vcpu *v, const struct hvm_apicv_delta *d)
{
    struct vm_platform *p = v->vm->platform;
    spin_lock(&p->lock);
    import_locked(&p->lapic[v->id], d);
    spin_unlock(&p->lock);
}
