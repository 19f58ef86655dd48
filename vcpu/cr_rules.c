/* Control-register and EFER write rules (vcpu/cr_rules.h). */
#include "vcpu/cr_rules.h"

#define BIT(n) (1ULL << (n))

#define CR0_PE   BIT(0)
#define CR0_WP   BIT(16)
#define CR0_NW   BIT(29)
#define CR0_CD   BIT(30)
#define CR0_PG   BIT(31)
#define CR4_PAE  BIT(5)
#define CR4_LA57 BIT(12)
#define CR4_PCID BIT(17)
#define CR4_CET  BIT(23)
#define EFER_SCE BIT(0)
#define EFER_LME BIT(8)
#define EFER_LMA BIT(10)
#define EFER_NXE BIT(11)

/* CR4 bit -> the CPUID feature that makes it writable. */
static const struct {
    uint8_t cr4_bit;
    uint8_t word; /* 0 leaf1 ECX, 1 leaf1 EDX, 2 leaf7 EBX, 3 leaf7 ECX */
    uint8_t bit;
} cr4_feature[] = {
    {0, 1, 1},   /* VME */
    {1, 1, 1},   /* PVI (with VME) */
    {2, 1, 4},   /* TSD: TSC */
    {3, 1, 2},   /* DE */
    {4, 1, 3},   /* PSE */
    {5, 1, 6},   /* PAE */
    {6, 1, 7},   /* MCE */
    {7, 1, 13},  /* PGE */
    {9, 1, 24},  /* OSFXSR: FXSR */
    {10, 1, 25}, /* OSXMMEXCPT: SSE */
    {11, 3, 2},  /* UMIP */
    {12, 3, 16}, /* LA57 */
    {16, 2, 0},  /* FSGSBASE */
    {17, 0, 17}, /* PCIDE */
    {18, 0, 26}, /* OSXSAVE: XSAVE */
    {20, 2, 7},  /* SMEP */
    {21, 2, 20}, /* SMAP */
    {22, 3, 3},  /* PKE */
    {23, 3, 7},  /* CET: CET_SS */
};

uint64_t cr4_allowed_bits(const struct cr_features *f)
{
    const uint32_t words[4] = {f->leaf1_ecx, f->leaf1_edx, f->leaf7_ebx, f->leaf7_ecx};
    uint64_t allowed = BIT(8); /* PCE: RDPMC at CPL > 0 is architectural */
    for (unsigned i = 0; i < sizeof(cr4_feature) / sizeof(cr4_feature[0]); i++)
        if ((words[cr4_feature[i].word] >> cr4_feature[i].bit) & 1)
            allowed |= BIT(cr4_feature[i].cr4_bit);
    return allowed;
}

uint64_t efer_allowed_bits(const struct cr_features *f)
{
    uint64_t allowed = 0;
    if (f->ext1_edx & BIT(11))
        allowed |= EFER_SCE;
    if (f->ext1_edx & BIT(29))
        allowed |= EFER_LME | EFER_LMA;
    if (f->ext1_edx & BIT(20))
        allowed |= EFER_NXE;
    return allowed;
}

bool cr0_write_ok(const struct cr_state *s, uint64_t val)
{
    bool lma = s->efer & EFER_LMA;
    if (val >> 32) /* bits 63:32 are reserved */
        return false;
    if ((val & CR0_PG) && !(val & CR0_PE))
        return false;
    if ((val & CR0_NW) && !(val & CR0_CD))
        return false;
    /* Paging on with EFER.LME enters IA-32e mode, which needs PAE (and a
     * 64-bit CS cannot be running yet). */
    if ((val & CR0_PG) && !(s->cr0 & CR0_PG) && (s->efer & EFER_LME) && !(s->cr4 & CR4_PAE))
        return false;
    /* Paging off: IA-32e mode is left only from compatibility mode, and
     * never with PCIDs on. */
    if (!(val & CR0_PG) && (s->cr0 & CR0_PG) && ((lma && s->cs_l) || (s->cr4 & CR4_PCID)))
        return false;
    /* CET needs write protection. */
    if (!(val & CR0_WP) && (s->cr4 & CR4_CET))
        return false;
    return true;
}

uint64_t lmsw_cr0(uint64_t cr0, uint16_t src)
{
    return (cr0 & ~0xfULL) | (src & 0xfU) | (cr0 & CR0_PE);
}

bool cr4_write_ok(const struct cr_state *s, uint64_t val, uint64_t allowed)
{
    bool lma = s->efer & EFER_LMA;
    if (val & ~allowed)
        return false;
    if (lma && !(val & CR4_PAE)) /* IA-32e mode cannot be left this way */
        return false;
    if (lma && ((val ^ s->cr4) & CR4_LA57)) /* paging depth is fixed while in it */
        return false;
    /* PCIDs exist only in IA-32e mode and start from PCID 0. */
    if ((val & CR4_PCID) && !(s->cr4 & CR4_PCID) && (!lma || (s->cr3 & 0xfff)))
        return false;
    if ((val & CR4_CET) && !(s->cr0 & CR0_WP))
        return false;
    return true;
}

bool efer_write_ok(const struct cr_state *s, uint64_t val, uint64_t allowed)
{
    if (val & ~allowed)
        return false;
    /* LME changes only with paging off. */
    if ((s->cr0 & CR0_PG) && ((val ^ s->efer) & EFER_LME))
        return false;
    return true;
}

uint64_t efer_after_write(const struct cr_state *s, uint64_t val)
{
    return (val & ~EFER_LMA) | (s->efer & EFER_LMA);
}

bool cr_write_loads_pdptes(const struct cr_state *s, unsigned cr, uint64_t val)
{
    uint64_t cr0 = cr == 0 ? val : s->cr0, cr4 = cr == 4 ? val : s->cr4;
    bool pae_paging = (cr0 & CR0_PG) && (cr4 & CR4_PAE) && !(s->efer & EFER_LME);
    bool was = (s->cr0 & CR0_PG) && (s->cr4 & CR4_PAE);
    return pae_paging && !was;
}

bool pae_pdptes_ok(const uint64_t pdpte[4], unsigned maxphyaddr)
{
    uint64_t rsvd = 0x1e6ULL; /* bits 2:1 and 8:5 */
    if (maxphyaddr < 64)
        rsvd |= ~0ULL << maxphyaddr;
    for (unsigned i = 0; i < 4; i++)
        if ((pdpte[i] & 1) && (pdpte[i] & rsvd))
            return false;
    return true;
}

bool exception_pushes_rf(uint8_t vector)
{
    switch (vector) {
    case 1:  /* #DB: traps, and instruction-breakpoint faults push RF = 0 */
    case 2:  /* NMI */
    case 3:  /* #BP: trap */
    case 4:  /* #OF: trap */
    case 8:  /* #DF: abort */
    case 9:  /* coprocessor segment overrun: abort */
    case 18: /* #MC: abort */
        return false;
    default:
        return vector < 32;
    }
}
