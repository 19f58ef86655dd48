/* Virtual-interrupt delivery and EOI virtualization (SDM Vol. 3C ch. 30):
 * the vLAPIC's IRR, ISR and TPR go into the virtual-APIC page (VIRR at
 * 0x200, VISR at 0x100, VTPR at 0x80) and the guest interrupt status (RVI,
 * SVI); the CPU delivers the highest vector above the PPR when the guest
 * can take it and virtualizes the guest's EOI without an exit, except for
 * the vectors of the EOI-exit bitmap (the level-triggered ones: the
 * vIOAPIC must see their EOI). The vLAPIC stays the one truth
 * (vcpu/apicv.h): at the first exit after the CPU changed the page or the
 * status, the VIRR/VISR are compared with what was written and the vLAPIC
 * takes the same steps.
 *
 * x2APIC mode ("virtualize x2APIC mode"): the WRMSR to the EOI is
 * virtualized; MSR reads, the TPR (CR8 and MSR 0x808) and self-IPIs still
 * exit to the vLAPIC.
 *
 * xAPIC mode ("virtualize APIC accesses", the VM's APIC-access page mapped
 * at 0xFEE00000 by vdev/lapic_apicv_window.c): writes to the EOI and the
 * TPR are virtualized, and reads of the TPR; a fixed self-IPI written to
 * the ICR is raised in the VIRR by the CPU; any other ICR write completes
 * into the page and exits (APIC write, reason 56) for the vLAPIC; every
 * other access exits (APIC access, reason 44) into the same MMIO emulation
 * as an EPT violation in the window. So in this mode the exit-side look
 * also reads the VTPR and every VIRR word, whatever the status says. */
#include "arch/x86_64/cpu.h"
#include "hvm/exit.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_caps.h"

#define VAPIC_VTPR 0x80
#define VAPIC_VISR 0x100
#define VAPIC_VIRR 0x200

#define APICV_MODES                                                                                \
    (SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE | SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES)
#define APICV_CTLS (APICV_MODES | SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY)

bool vmx_use_apicv = true;

/* A VM gets an APIC-access page only where xAPIC-mode delivery can use it. */
bool vmx_apicv_uses_access_page(void)
{
    return vmx_use_apicv && vmx_caps.apicv_xapic;
}

static inline uint32_t *vapic_reg(struct vmx_vcpu *x, unsigned off)
{
    return (uint32_t *)(x->vapic_phys + off);
}

/* The guest's WRMSR to the x2APIC EOI: virtualized (no exit) only while
 * virtualize-x2APIC-mode is on; otherwise it must exit, never reach the
 * physical APIC. */
void vmx_apicv_msr_bitmap(struct vmx_vcpu *x, bool eoi_passes)
{
    uint8_t *w = (uint8_t *)x->msr_bitmap_phys + 2048 + MSR_X2APIC_EOI / 8;
    uint8_t bit = (uint8_t)(1U << (MSR_X2APIC_EOI % 8));
    if (eoi_passes)
        *w &= (uint8_t)~bit;
    else
        *w |= bit;
}

/* The two modes exclude each other (a VM-entry check): an xAPIC-mode
 * vCPU's x2APIC MSRs all exit (its WRMSR to 0x80b gets #GP from the
 * vLAPIC), an x2APIC-mode vCPU has no APIC-access page. */
static void apicv_start(struct vmx_vcpu *x, uint64_t access_hpa)
{
    bool xapic = access_hpa != 0;
    x->proc2 &= ~APICV_CTLS;
    x->proc2 |=
        SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY |
        (xapic ? SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES : SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE);
    if (xapic)
        vmcs_write(APIC_ACCESS_ADDR, access_hpa);
    vmcs_write(SECONDARY_VM_EXEC_CONTROL, x->proc2);
    vmx_apicv_msr_bitmap(x, !xapic);
    x->apicv_xapic = xapic;
    x->apic_access_hpa = access_hpa;
    *vapic_reg(x, VAPIC_VTPR) = x->apicv_tpr = 0;
    x->apicv_eoi_stale = true; /* the first load writes the EOI-exit bitmap */
    /* The page and the status as vmx_apicv_load will assume them. */
    for (unsigned i = 0; i < 8; i++) {
        *vapic_reg(x, VAPIC_VIRR + 16 * i) = x->apicv_irr[i] = 0;
        *vapic_reg(x, VAPIC_VISR + 16 * i) = x->apicv_isr[i] = 0;
    }
    x->apicv_words = 0;
    vmcs_write(GUEST_INTR_STATUS, 0);
    x->apicv_status = 0;
    x->apicv_on = true;
}

static void apicv_stop(struct vmx_vcpu *x)
{
    x->proc2 &= ~APICV_CTLS;
    vmcs_write(SECONDARY_VM_EXEC_CONTROL, x->proc2);
    vmx_apicv_msr_bitmap(x, false);
    vmcs_write(GUEST_INTR_STATUS, 0);
    x->apicv_status = 0;
    x->apicv_xapic = false;
    x->apic_access_hpa = 0;
    x->apicv_on = false;
}

/* Bochs 2.7 delivers a pending virtual interrupt whenever a host
 * interrupt arrives in VMX non-root operation, even with the guest's
 * RFLAGS.IF = 0 (cpu/event.cc, InterruptAcknowledge tests the virtual
 * interrupt before the external-interrupt exit): a guest that keeps IF
 * clear with a vector pending would take it inside its critical section.
 * So at an entry through the full path with IF = 0, a vector that could
 * be delivered is held back (RVI 0, the VIRR unchanged) and an
 * interrupt-window exit shows it once the guest sets IF. A real CPU needs
 * none of it; it costs one window exit only when an interrupt waits while
 * the guest has interrupts off at an exit. Not after a fast WRMSR (the
 * deadline of a timer cycle, written with IF clear just before the STI
 * that takes it): there the window would double the cycle's exits. */
static bool hold_while_if_clear(struct vcpu *v, struct vmx_vcpu *x, int rvi, int svi, uint8_t tpr)
{
    unsigned ppr = (tpr >> 4) >= ((unsigned)svi >> 4) ? tpr : ((unsigned)svi & 0xf0);
    bool hold = !x->apicv_fast && ((unsigned)rvi >> 4) > (ppr >> 4) &&
                !(vmcs_read(GUEST_RFLAGS) & RFLAGS_IF);
    if (hold != x->apicv_window) {
        x->apicv_window = hold;
        vmx_set_windows(v, x->proc & CPU_BASED_NMI_WINDOW_EXITING, v->irq_window);
    }
    return hold;
}

/* Stopped: a window kept for a held-back vector goes with it. */
static void apicv_stop_vcpu(struct vcpu *v, struct vmx_vcpu *x)
{
    apicv_stop(x);
    if (x->apicv_window) {
        x->apicv_window = false;
        vmx_set_windows(v, x->proc & CPU_BASED_NMI_WINDOW_EXITING, v->irq_window);
    }
}

bool vmx_apicv_load(struct vcpu *v, const struct hvm_apicv_state *s)
{
    struct vmx_vcpu *x = v->arch;
    if (!s) {
        if (x->apicv_on)
            apicv_stop_vcpu(v, x);
        return false;
    }
    if (!(s->apic_access_hpa ? x->apicv_xapic_ok : x->apicv_x2apic_ok)) {
        if (x->apicv_on)
            apicv_stop_vcpu(v, x);
        return false;
    }
    /* A mode change (through the disabled state: the vLAPIC has reset). */
    if (x->apicv_on && x->apic_access_hpa != s->apic_access_hpa)
        apicv_stop_vcpu(v, x);
    if (!x->apicv_on)
        apicv_start(x, s->apic_access_hpa);
    /* What the CPU did since the last look is the vLAPIC's already (s was
     * taken after it), and the page holds apicv_irr/isr: only the words
     * that differ are written. Word loops, not memcpy: this runs at every
     * exit of a timer cycle. */
    *vapic_reg(x, VAPIC_VTPR) = x->apicv_tpr = s->tpr;
    uint32_t tmr_changed = x->apicv_eoi_stale;
    unsigned words = 0;
    int rvi = 0, svi = 0;
    for (unsigned i = 0; i < 8; i++) {
        uint32_t irr = s->irr[i], isr = s->isr[i];
        if (irr != x->apicv_irr[i])
            *vapic_reg(x, VAPIC_VIRR + 16 * i) = x->apicv_irr[i] = irr;
        if (isr != x->apicv_isr[i])
            *vapic_reg(x, VAPIC_VISR + 16 * i) = x->apicv_isr[i] = isr;
        if (irr | isr)
            words |= 1U << i;
        if (irr)
            rvi = (int)i * 32 + 31 - __builtin_clz(irr);
        if (isr)
            svi = (int)i * 32 + 31 - __builtin_clz(isr);
        tmr_changed |= x->apicv_eoi_exit[i] ^ s->tmr[i];
        x->apicv_eoi_exit[i] = s->tmr[i];
    }
    if (tmr_changed) {
        x->apicv_eoi_stale = false;
        for (unsigned i = 0; i < 4; i++)
            vmcs_write((enum vmcs_field)(EOI_EXIT_BITMAP0 + 2 * i),
                       ((uint64_t)s->tmr[2 * i + 1] << 32) | s->tmr[2 * i]);
    }
    x->apicv_words = (uint8_t)words;
    if (hold_while_if_clear(v, x, rvi, svi, s->tpr))
        rvi = 0;
    uint16_t status = (uint16_t)(rvi | (svi << 8));
    if (status != x->apicv_status) {
        vmcs_write(GUEST_INTR_STATUS, status);
        x->apicv_status = status;
    }
    return true;
}

/* xAPIC mode: the guest wrote the TPR and raised self-IPIs without an
 * exit, so the status says nothing: every word is compared. */
static bool delta_xapic(struct vmx_vcpu *x, struct hvm_apicv_delta *d)
{
    x->apicv_status = (uint16_t)vmcs_read(GUEST_INTR_STATUS);
    uint8_t tpr = (uint8_t)*vapic_reg(x, VAPIC_VTPR);
    d->tpr = -1;
    if (tpr != x->apicv_tpr) {
        d->tpr = tpr;
        x->apicv_tpr = tpr;
    }
    unsigned words = 0;
    for (unsigned i = 0; i < 8; i++) {
        uint32_t irr = *vapic_reg(x, VAPIC_VIRR + 16 * i);
        uint32_t isr = *vapic_reg(x, VAPIC_VISR + 16 * i);
        d->delivered[i] = d->eoied[i] = d->raised[i] = 0;
        if (irr == x->apicv_irr[i] && isr == x->apicv_isr[i])
            continue;
        hvm_apicv_word_delta_xapic(x->apicv_irr[i], x->apicv_isr[i], irr, isr, &d->delivered[i],
                                   &d->eoied[i], &d->raised[i]);
        x->apicv_irr[i] = irr;
        x->apicv_isr[i] = isr;
        if (irr | isr)
            x->apicv_words |= (uint8_t)(1U << i);
        if (d->delivered[i] | d->eoied[i] | d->raised[i])
            words |= 1U << i;
        if (d->raised[i])
            d->raised_words |= (uint8_t)(1U << i);
    }
    d->words = (uint8_t)words;
    return words != 0 || d->tpr >= 0;
}

bool vmx_apicv_delta(struct vcpu *v, struct hvm_apicv_delta *d)
{
    struct vmx_vcpu *x = v->arch;
    d->words = 0;
    d->raised_words = 0;
    d->tpr = -1;
    if (!x->apicv_on)
        return false;
    if (x->apicv_xapic)
        return delta_xapic(x, d);
    /* RVI only falls (a delivery) and SVI only falls without one (an
     * EOI): the same status means the CPU did nothing. */
    uint16_t status = (uint16_t)vmcs_read(GUEST_INTR_STATUS);
    if (status == x->apicv_status)
        return false;
    x->apicv_status = status;
    /* Only the words given non-empty can change: the VIRR only loses
     * bits, and the VISR gains only what left the VIRR. */
    for (unsigned m = x->apicv_words; m; m &= m - 1) {
        unsigned i = (unsigned)__builtin_ctz(m);
        uint32_t irr = *vapic_reg(x, VAPIC_VIRR + 16 * i);
        uint32_t isr = *vapic_reg(x, VAPIC_VISR + 16 * i);
        hvm_apicv_word_delta(x->apicv_irr[i], x->apicv_isr[i], irr, isr, &d->delivered[i],
                             &d->eoied[i]);
        x->apicv_irr[i] = irr;
        x->apicv_isr[i] = isr;
        if (d->delivered[i] | d->eoied[i])
            d->words |= (uint8_t)(1U << i);
    }
    return d->words != 0;
}

void vmx_apicv_seen(struct vcpu *v)
{
    struct hvm_apicv_delta d;
    if (vmx_apicv_delta(v, &d))
        vcpu_apicv_seen(v, &d);
}

/* An APIC access the CPU did not virtualize (qualification: offset 11:0,
 * access type 15:12). A linear read or write by an instruction goes to the
 * xAPIC MMIO emulation exactly as an EPT violation in the window does (the
 * instruction decoded, the vLAPIC's checks); an instruction fetch from the
 * page is a fetch from MMIO (the VM stops, as before); an access by event
 * delivery (an IDT, stack or TSS in the page) stops the VM with the
 * event's vector named (the MMIO path sees the event in v->reinject).
 * Guest-physical accesses (the guest's page tables or a PDPTE load in the
 * page: types 10 and 15) and anything else are left untranslated: the VM
 * stops with "unhandled VM exit 44 (APIC_ACCESS)". None reaches the
 * page's memory. */
void vmx_apicv_translate_access(struct vcpu *v, uint64_t qual, struct exit_record *e)
{
    struct vmx_vcpu *x = v->arch;
    unsigned type = (qual >> 12) & 0xf;
    if (!x->apicv_xapic || type > 3 || (type == 3 && !v->reinject.valid)) {
        e->kind = EXIT_UNKNOWN;
        return;
    }
    e->kind = EXIT_NPF;
    e->npf.gpa = HVM_APIC_ACCESS_GPA + (qual & 0xfff);
    e->npf.read = type == 0 || type == 3;
    e->npf.write = type == 1;
    e->npf.fetch = type == 2;
}

/* Trap-like: the write is done (the instruction completed) and its dword
 * sits in the virtual-APIC page at the offset. */
void vmx_apicv_translate_write(struct vcpu *v, uint64_t qual, struct exit_record *e)
{
    struct vmx_vcpu *x = v->arch;
    if (!x->apicv_xapic) {
        e->kind = EXIT_UNKNOWN;
        return;
    }
    e->kind = EXIT_APIC_WRITE;
    e->apic_write.offset = (uint16_t)(qual & 0xfff);
    e->apic_write.value = *vapic_reg(x, (unsigned)(qual & 0xffc));
}
