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
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_caps.h"

#define VAPIC_VTPR 0x80
#define VAPIC_VISR 0x100
#define VAPIC_VIRR 0x200

#define MSR_X2APIC_EOI 0x80b

#define APICV_CTLS (SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE | SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY)

bool vmx_use_apicv = true;

static inline uint32_t *vapic_reg(struct vmx_vcpu *x, unsigned off)
{
    return (uint32_t *)(x->vapic_phys + off);
}

static int highest(const uint32_t bm[8])
{
    for (int w = 7; w >= 0; w--)
        if (bm[w])
            return w * 32 + 31 - __builtin_clz(bm[w]);
    return 0;
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
     * taken after it); from here the CPU works on s. */
    *vapic_reg(x, VAPIC_VTPR) = s->tpr;
    uint32_t tmr_changed = 0;
    for (unsigned i = 0; i < 8; i++) {
        *vapic_reg(x, VAPIC_VIRR + 16 * i) = x->apicv_irr[i] = s->irr[i];
        *vapic_reg(x, VAPIC_VISR + 16 * i) = x->apicv_isr[i] = s->isr[i];
        tmr_changed |= x->apicv_eoi_exit[i] ^ s->tmr[i];
        x->apicv_eoi_exit[i] = s->tmr[i];
    }
    if (tmr_changed | x->apicv_eoi_stale) {
        x->apicv_eoi_stale = false;
        for (unsigned i = 0; i < 4; i++)
            vmcs_write((enum vmcs_field)(EOI_EXIT_BITMAP0 + 2 * i),
                       ((uint64_t)s->tmr[2 * i + 1] << 32) | s->tmr[2 * i]);
    }
    uint16_t status = (uint16_t)(highest(s->irr) | (highest(s->isr) << 8));
    vmcs_write(GUEST_INTR_STATUS, status);
    x->apicv_status = status;
    return true;
}

void vmx_apicv_seen(struct vcpu *v)
{
    struct vmx_vcpu *x = v->arch;
    if (!x->apicv_on)
        return;
    /* RVI only falls (a delivery) and SVI only falls without one (an
     * EOI): the same status means the CPU did nothing. */
    uint16_t status = (uint16_t)vmcs_read(GUEST_INTR_STATUS);
    if (status == x->apicv_status)
        return;
    uint32_t irr[8], isr[8];
    for (unsigned i = 0; i < 8; i++) {
        irr[i] = *vapic_reg(x, VAPIC_VIRR + 16 * i);
        isr[i] = *vapic_reg(x, VAPIC_VISR + 16 * i);
    }
    vcpu_apicv_seen(v, x->apicv_irr, x->apicv_isr, irr, isr);
    for (unsigned i = 0; i < 8; i++) {
        x->apicv_irr[i] = irr[i];
        x->apicv_isr[i] = isr[i];
    }
    x->apicv_status = status;
}
