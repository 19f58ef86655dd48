/* Interrupt routing inside one VM (see guest/virq.h): device lines to the
 * vPIC and vIOAPIC, vIOAPIC and IPIs to vLAPICs, and what the backend
 * injects at entry. Runs under the platform lock. */
#include "vdev/virq.h"

#include "arch/x86_64/lapic.h"
#include "arch/x86_64/percpu.h"
#include "vdev/acpi_gen.h"
#include "vdev/platform.h"
#include "vcpu/vm.h"
#include "vcpu/vm_sched.h"
#include "vdev/virq_rt.h"
#include "vdev/vpci_pt.h"

/* A real-time VM (virq_rt.h): a physical fixed IPI to each target's CPU,
 * where the guest takes it without an exit (or, in an exit, at the next
 * entry: the run loop keeps interrupts off there). Nothing while the VM is
 * not running: the CPU may be the host's again. */
static void rt_deliver(struct vm *vm, uint32_t dest, bool logical, unsigned mode, uint8_t vector)
{
    uint32_t ids[32] = {0};
    unsigned n = vm->nr_vcpus < 32 ? vm->nr_vcpus : 32;
    if (vm->state != VM_RUNNING)
        return;
    for (unsigned i = 0; i < n; i++) {
        unsigned c = vm->vcpus[i] ? vm->vcpus[i]->pcpu : MAX_CPUS;
        ids[i] = c < MAX_CPUS && cpus[c] ? cpus[c]->apic_id : 0xffffffffu;
    }
    uint32_t targets = virq_rt_targets(ids, n, dest, logical, mode, vector);
    for (unsigned i = 0; i < n; i++)
        if ((targets >> i) & 1 && ids[i] != 0xffffffffu)
            lapic_send_ipi(ids[i], vector);
}

void virq_ioapic_deliver(void *ctx, uint32_t dest, bool logical, unsigned mode, uint8_t vector,
                         bool level)
{
    struct vm *vm = ctx;
    struct vm_platform *p = vm->platform;
    if (p->ioapic.eoi_unseen) {
        rt_deliver(vm, dest, logical, mode, vector);
        return;
    }
    for (unsigned i = 0; i < vm->nr_vcpus; i++) {
        uint32_t d = dest;
        /* An 8-bit broadcast reaches x2APIC-mode vLAPICs too. */
        if (!logical && dest == 0xff && vlapic_x2apic_mode(&p->lapic[i]))
            d = 0xffffffffU;
        if (vlapic_match_dest(&p->lapic[i], d, logical)) {
            vlapic_ipi_receive(&p->lapic[i], mode, vector, level);
            if (mode == 1)
                break;
        }
    }
}

void virq_send_ipi(void *ctx, uint32_t dest, bool logical, unsigned shorthand, unsigned mode,
                   uint8_t vector, bool level)
{
    struct lapic_ctx *lc = ctx;
    struct vm *vm = lc->vm;
    struct vm_platform *p = vm->platform;
    for (unsigned i = 0; i < vm->nr_vcpus; i++) {
        if (i == lc->vcpu)
            continue; /* the sender handled its own part */
        if (!vlapic_ipi_selects(&p->lapic[i], dest, logical, shorthand))
            continue;
        vlapic_ipi_receive(&p->lapic[i], mode, vector, level);
        if (mode == 1)
            break;
    }
}

void virq_eoi_level(void *ctx, uint8_t vector)
{
    struct lapic_ctx *lc = ctx;
    vpt_eoi(lc->vm, vector); /* passed-through INTx lines first go low */
    vioapic_eoi(&lc->vm->platform->ioapic, vector);
}

void virq_notify(void *ctx)
{
    struct lapic_ctx *lc = ctx;
    struct vm *vm = lc->vm;
    if (lc->vcpu < vm->nr_vcpus && vm->vcpus[lc->vcpu])
        vcpu_interrupt_notify(vm->vcpus[lc->vcpu]);
}

/* Called with the platform lock held by the device model that drives it. */
void vm_irq_set_level(struct vm *vm, unsigned gsi, bool high)
{
    struct vm_platform *p = vm->platform;
    if (!p || gsi >= VIRQ_NR_GSIS)
        return;
    if (gsi < 16) {
        vpic_set_irq(&p->pic, gsi, high);
        if (vpic_output(&p->pic) && vm->nr_vcpus && vm->vcpus[0] &&
            vlapic_lint0_extint(&p->lapic[0]))
            vcpu_interrupt_notify(vm->vcpus[0]);
    }
    /* IRQ 0 arrives at pin 2 (the MADT override); the SCI is active low. */
    unsigned pin = gsi == 0 ? 2 : gsi;
    bool level = gsi == ACPI_GEN_SCI_IRQ ? !high : high;
    vioapic_set_level(&p->ioapic, pin, level);
}

void vm_irq_pulse(struct vm *vm, unsigned gsi)
{
    vm_irq_set_level(vm, gsi, true);
    vm_irq_set_level(vm, gsi, false);
}

int vcpu_pending_interrupt(struct vcpu *v)
{
    struct vm_platform *p = v->vm->platform;
    /* A real-time vCPU's interrupts are its local APIC's (vIOAPIC pins
     * arrive there by IPI, rt_deliver): nothing is injected at an entry,
     * least of all the vPIC's ExtINT, which its LINT0 would take for the
     * software-disabled vLAPIC's (the guest enables its real one). */
    if (!p || p->ioapic.eoi_unseen)
        return -1;
    spin_lock(&p->lock);
    struct vlapic *a = &p->lapic[v->id];
    if (vlapic_waiting_sipi(a)) {
        spin_unlock(&p->lock);
        return -1; /* NMIs stay held, interrupts blocked, until the SIPI */
    }
    if (vlapic_take_nmi(a))
        v->nmi_pending = true;
    int vec = vlapic_pending_vector(a);
    if (vec < 0 && v->id == 0 && vlapic_lint0_extint(a) && vpic_output(&p->pic))
        vec = PLATFORM_PIC_VECTOR;
    spin_unlock(&p->lock);
    return vec;
}

bool vcpu_wakeup_pending(struct vcpu *v)
{
    struct vm_platform *p = v->vm->platform;
    if (!p)
        return false;
    spin_lock(&p->lock);
    struct vlapic *a = &p->lapic[v->id];
    bool wake = vlapic_wakeup_pending(a) || (!vlapic_waiting_sipi(a) && v->id == 0 &&
                                             vlapic_lint0_extint(a) && vpic_output(&p->pic));
    spin_unlock(&p->lock);
    return wake;
}

int vcpu_ack_interrupt(struct vcpu *v, int pending)
{
    struct vm_platform *p = v->vm->platform;
    int vec = pending;
    spin_lock(&p->lock);
    if (pending == PLATFORM_PIC_VECTOR)
        vec = vpic_ack(&p->pic);
    else
        vlapic_ack(&p->lapic[v->id], (uint8_t)pending);
    spin_unlock(&p->lock);
    return vec;
}

void vcpu_interrupt_notify(struct vcpu *v)
{
    v->intr_news = true; /* ends the run loop's fast re-entries */
    if (vm_sched_ops && vm_sched_ops->wake)
        vm_sched_ops->wake(v);
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

uint64_t vm_timers_tick(struct vm *vm, uint64_t now)
{
    struct vm_platform *p = vm->platform;
    uint64_t next = VTIME_NEVER;
    if (!p)
        return next;
    spin_lock(&p->lock);
    vpt_poll(vm); /* interrupts of passed-through devices */
    vpit_tick(&p->pit, now);
    vrtc_tick(&p->rtc, now);
    vpm_tick(&p->pm, now);
    next = earliest(next, vpit_next_deadline(&p->pit));
    next = earliest(next, vrtc_next_deadline(&p->rtc));
    next = earliest(next, vpm_next_deadline(&p->pm));
    for (unsigned i = 0; i < vm->nr_vcpus; i++) {
        vlapic_tick(&p->lapic[i], now);
        next = earliest(next, vlapic_next_deadline(&p->lapic[i]));
    }
    spin_unlock(&p->lock);
    return next;
}
