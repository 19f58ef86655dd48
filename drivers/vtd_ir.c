/* Interrupt remapping entries and posted-interrupt descriptors; see
 * vtd_ir.h. */
#include "drivers/vtd_ir.h"

#include "lib/string.h"

#define MSI_ADDR_BASE 0xfee00000u /* bits 31:20 of every MSI address */

/* No libgcc in root mode: count bits by hand. */
static unsigned popcount64(uint64_t v)
{
    unsigned n = 0;
    for (; v; v &= v - 1)
        n++;
    return n;
}

bool vtd_irte_remapped(const struct vtd_irte_spec *s, struct vtd_entry128 *out)
{
    if (s->vector < 16 || s->svt > VTD_SVT_BUS || (!s->x2apic && s->dest > 0xff))
        return false;
    /* xAPIC mode takes the 8-bit APIC ID in DST[15:8] (bits 47:40). */
    uint64_t dst = s->x2apic ? s->dest : (uint64_t)(s->dest & 0xff) << 8;
    out->lo = VTD_IRTE_P | VTD_IRTE_DLM(0) | (s->level ? VTD_IRTE_TM : 0) |
              VTD_IRTE_VECTOR(s->vector) | (dst << 32);
    out->hi = VTD_IRTE_SID(s->sid) | VTD_IRTE_SQ(s->sq) | VTD_IRTE_SVT(s->svt);
    return true;
}

bool vtd_irte_posted(uint8_t vector, uint64_t pd_phys, uint16_t sid, bool urgent,
                     struct vtd_entry128 *out)
{
    if (!pd_phys || (pd_phys & 63))
        return false;
    /* PDA[31:6] in bits 63:38, PDA[63:32] in bits 127:96. */
    out->lo = VTD_IRTE_P | VTD_IRTE_IM_POSTED | (urgent ? VTD_IRTE_URG : 0) |
              VTD_IRTE_VECTOR(vector) | ((pd_phys & 0xffffffc0ULL) << 32);
    out->hi = VTD_IRTE_SID(sid) | VTD_IRTE_SQ(0) | VTD_IRTE_SVT(VTD_SVT_SID) |
              (pd_phys & 0xffffffff00000000ULL);
    return true;
}

void vtd_msi_remappable(unsigned index, uint32_t *addr_lo, uint32_t *data)
{
    /* 0xFEE, handle[14:0] in 19:5, interrupt format bit 4, SHV bit 3 clear,
     * handle[15] in bit 2. */
    *addr_lo = MSI_ADDR_BASE | ((index & 0x7fffu) << 5) | (1u << 4) | (((index >> 15) & 1u) << 2);
    *data = 0;
}

uint64_t vtd_ioapic_rte_remappable(unsigned index, uint8_t vector, bool level, bool active_low,
                                   bool masked)
{
    /* Delivery and destination mode bits (10:8) stay 0: the IRTE decides. */
    return (uint64_t)vector | ((uint64_t)((index >> 15) & 1u) << 11) |
           (active_low ? IOAPIC_RTE_ACTIVE_LOW : 0) | (level ? IOAPIC_RTE_LEVEL : 0) |
           (masked ? IOAPIC_RTE_MASKED : 0) | IOAPIC_RTE_REMAPPABLE |
           ((uint64_t)(index & 0x7fffu) << 49);
}

bool vtd_ioapic_rte_index(uint64_t rte, unsigned *index)
{
    if (!(rte & IOAPIC_RTE_REMAPPABLE))
        return false;
    *index = (unsigned)((rte >> 49) & 0x7fffu) | (unsigned)((rte >> 11) & 1u) << 15;
    return true;
}

uint32_t vtd_msi_compat(uint8_t dest)
{
    return MSI_ADDR_BASE | ((uint32_t)dest << 12);
}

bool vtd_irte_ioapic(uint8_t vector, uint32_t dest, bool x2apic, uint16_t ioapic_sid, bool level,
                     struct vtd_entry128 *out)
{
    struct vtd_irte_spec s = {vector, dest, x2apic, ioapic_sid, VTD_SVT_SID, 0, level};
    return vtd_irte_remapped(&s, out);
}

int vtd_irt_alloc(struct vtd_irt *t)
{
    for (unsigned i = 0; i < VTD_IRT_ENTRIES; i++)
        if (!(t->used[i / 64] & (1ULL << (i % 64)))) {
            t->used[i / 64] |= 1ULL << (i % 64);
            return (int)i;
        }
    return -1;
}

void vtd_irt_write(struct vtd_irt *t, unsigned index, struct vtd_entry128 e)
{
    if (index >= VTD_IRT_ENTRIES || !t->entries)
        return;
    struct vtd_entry128 *p = &t->entries[index];
    if (e.lo & VTD_IRTE_P) {
        __atomic_store_n(&p->lo, 0, __ATOMIC_RELEASE);
        __atomic_store_n(&p->hi, e.hi, __ATOMIC_RELEASE);
        __atomic_store_n(&p->lo, e.lo, __ATOMIC_RELEASE);
    } else {
        __atomic_store_n(&p->lo, e.lo, __ATOMIC_RELEASE);
        __atomic_store_n(&p->hi, e.hi, __ATOMIC_RELEASE);
    }
}

void vtd_irt_free(struct vtd_irt *t, unsigned index)
{
    if (index >= VTD_IRT_ENTRIES)
        return;
    vtd_irt_write(t, index, (struct vtd_entry128){0, 0});
    t->used[index / 64] &= ~(1ULL << (index % 64));
}

unsigned vtd_irt_count(const struct vtd_irt *t)
{
    unsigned n = 0;
    for (unsigned i = 0; i < VTD_IRT_ENTRIES / 64; i++)
        n += popcount64(t->used[i]);
    return n;
}

void vtd_pi_init(struct vtd_pi_desc *d, uint8_t nv, uint32_t ndst, bool x2apic)
{
    memset(d, 0, sizeof(*d));
    uint64_t dst = x2apic ? ndst : (uint64_t)(ndst & 0xff) << 8;
    d->control = ((uint64_t)nv << 16) | (dst << 32);
}

bool vtd_pi_post(struct vtd_pi_desc *d, uint8_t vector)
{
    __atomic_fetch_or(&d->pir[vector / 64], 1ULL << (vector % 64), __ATOMIC_SEQ_CST);
    uint64_t c = __atomic_load_n(&d->control, __ATOMIC_SEQ_CST);
    for (;;) {
        if (c & (VTD_PI_ON | VTD_PI_SN))
            return false;
        if (__atomic_compare_exchange_n(&d->control, &c, c | VTD_PI_ON, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST))
            return true;
    }
}

unsigned vtd_pi_drain(struct vtd_pi_desc *d, uint64_t pending[4])
{
    unsigned n = 0;
    __atomic_fetch_and(&d->control, ~VTD_PI_ON, __ATOMIC_SEQ_CST);
    for (unsigned i = 0; i < 4; i++) {
        pending[i] = __atomic_exchange_n(&d->pir[i], 0, __ATOMIC_SEQ_CST);
        n += popcount64(pending[i]);
    }
    return n;
}

void vtd_pi_suppress(struct vtd_pi_desc *d, bool sn)
{
    if (sn)
        __atomic_fetch_or(&d->control, VTD_PI_SN, __ATOMIC_SEQ_CST);
    else
        __atomic_fetch_and(&d->control, ~VTD_PI_SN, __ATOMIC_SEQ_CST);
}
