/* The vLAPIC's side of virtual-interrupt delivery (vdev/vlapic.h): its
 * state handed to a CPU that delivers its vectors and virtualizes their
 * EOIs, and the CPU's steps taken back, so that every other reader of the
 * vLAPIC (MSR reads, PPR, HLT wake-ups, the vIOAPIC's Remote IRR) sees what
 * the guest did. */
#include "vdev/vlapic_priv.h"

void vlapic_apicv_export(struct vlapic *a, uint32_t irr[8], uint32_t isr[8], uint32_t tmr[8],
                         uint8_t *tpr)
{
    /* A disabled APIC delivers nothing: its IRR stays the model's. Word
     * loops, not memcpy: this runs on every timer cycle's exit. */
    uint32_t on = vlapic_hw_enabled(a) && sw_enabled(a) ? ~0u : 0;
    for (unsigned i = 0; i < 8; i++) {
        irr[i] = a->irr[i] & on;
        isr[i] = a->isr[i];
        tmr[i] = a->tmr[i];
        a->irr_again[i] = 0;
    }
    *tpr = (uint8_t)a->tpr;
    a->apicv_resets = a->resets;
}

void vlapic_apicv_import(struct vlapic *a, unsigned words, const uint32_t delivered[8],
                         const uint32_t eoied[8])
{
    if (a->resets != a->apicv_resets)
        return; /* an INIT or a disable reset the APIC meanwhile */
    words &= 0xff;
    for (unsigned m = words; m; m &= m - 1) {
        unsigned i = (unsigned)__builtin_ctz(m);
        /* Accepted again meanwhile: the CPU may have delivered the first. */
        a->irr[i] &= ~(delivered[i] & ~a->irr_again[i]);
        a->isr[i] |= delivered[i];
        a->irr_again[i] &= ~delivered[i];
    }
    /* The CPU ends service of the highest vector first: the same order. */
    while (words) {
        unsigned w = 31 - (unsigned)__builtin_clz(words);
        words &= ~(1u << w);
        uint32_t m = eoied[w] & a->isr[w];
        while (m) {
            unsigned bit = 31 - (unsigned)__builtin_clz(m);
            unsigned v = w * 32 + bit;
            m &= ~(1u << bit);
            clear_vec(a->isr, v);
            if (test_vec(a->tmr, v) && a->ops.eoi_level)
                a->ops.eoi_level(a->ops.ctx, (uint8_t)v); /* it may deliver again */
        }
    }
}

void vlapic_apicv_import_xapic(struct vlapic *a, unsigned words, const uint32_t raised[8], int tpr)
{
    if (a->resets != a->apicv_resets)
        return;
    if (tpr >= 0)
        a->tpr = (uint32_t)tpr & 0xff;
    /* Self-IPIs the CPU accepted: fixed, edge-triggered. */
    for (unsigned m = words & 0xff; m; m &= m - 1) {
        unsigned i = (unsigned)__builtin_ctz(m);
        a->irr[i] |= raised[i];
        a->tmr[i] &= ~raised[i];
    }
}
