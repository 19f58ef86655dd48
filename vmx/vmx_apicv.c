/* Virtual-interrupt delivery and EOI virtualization in x2APIC mode (SDM
 * Vol. 3C ch. 30): the vLAPIC's IRR, ISR and TPR go into the virtual-APIC
 * page (VIRR at 0x200, VISR at 0x100, VTPR at 0x80) and the guest interrupt
 * status (RVI, SVI); the CPU delivers the highest vector above the PPR when
 * the guest can take it and virtualizes the guest's WRMSR to the x2APIC EOI
 * without an exit, except for the vectors of the EOI-exit bitmap (the
 * level-triggered ones: the vIOAPIC must see their EOI). MSR reads, the TPR
 * (CR8 and MSR 0x808) and self-IPIs still exit to the vLAPIC, which stays
 * the one truth (vcpu/apicv.h): at the first exit after the CPU changed
 * RVI or SVI, the VIRR/VISR are compared with what was written and the
 * vLAPIC takes the same steps. */
#include "arch/x86_64/cpu.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_caps.h"

#define VAPIC_VTPR 0x80
#define VAPIC_VISR 0x100
#define VAPIC_VIRR 0x200

#define APICV_CTLS (SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE | SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY)

bool vmx_use_apicv = true;

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

static void apicv_start(struct vmx_vcpu *x)
{
    x->proc2 |= APICV_CTLS;
    vmcs_write(SECONDARY_VM_EXEC_CONTROL, x->proc2);
    vmx_apicv_msr_bitmap(x, true);
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
    x->apicv_on = false;
}

bool vmx_apicv_load(struct vcpu *v, const struct hvm_apicv_state *s)
{
    struct vmx_vcpu *x = v->arch;
    if (!s) {
        if (x->apicv_on)
            apicv_stop(x);
        return false;
    }
    if (!x->apicv_usable)
        return false;
    if (!x->apicv_on)
        apicv_start(x);
    /* What the CPU did since the last look is the vLAPIC's already (s was
     * taken after it), and the page holds apicv_irr/isr: only the words
     * that differ are written. Word loops, not memcpy: this runs at every
     * exit of a timer cycle. */
    *vapic_reg(x, VAPIC_VTPR) = s->tpr;
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
    uint16_t status = (uint16_t)(rvi | (svi << 8));
    if (status != x->apicv_status) {
        vmcs_write(GUEST_INTR_STATUS, status);
        x->apicv_status = status;
    }
    return true;
}

bool vmx_apicv_delta(struct vcpu *v, struct hvm_apicv_delta *d)
{
    struct vmx_vcpu *x = v->arch;
    d->words = 0;
    if (!x->apicv_on)
        return false;
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
