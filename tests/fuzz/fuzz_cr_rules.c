/* libFuzzer target: a guest's writes to CR0, CR4 and IA32_EFER (MOV to CR,
 * LMSW, CLTS, WRMSR) as the vendor-neutral layer checks them
 * (vcpu/cr_rules.c), from the reset state, with random CPUID features.
 * Input: 20 bytes of CPUID words, then operations. Each write the rules
 * accept is applied as the CPU would (CR0.PG with EFER.LME sets EFER.LMA,
 * paging off clears it; a far jump may load a 64-bit CS only in IA-32e
 * mode). After every step the state must pass what a VM entry checks of
 * it and the architecture keeps invariant (SDM vol. 3 2.5, 4.1, 26.3.1.1):
 * PG needs PE, NW needs CD, CR0 bits 63:32 clear; IA-32e mode exactly when
 * PG and LME, and then PAE on; PCIDE only in IA-32e mode; CET only with
 * WP; CR4 and EFER within what CPUID shows; LA57 fixed while in IA-32e
 * mode; and whenever an accepted write turns PAE paging on outside IA-32e
 * mode, cr_write_loads_pdptes said so (the PDPTEs were checked). The rules
 * say "nothing they accept can make the next VM entry fail": this target
 * holds them to it over any sequence. */
/* clang-format off */
/* fuzz-srcs: vcpu/cr_rules.c */
/* clang-format on */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "tests/fuzz/fuzz_input.h"
#include "vcpu/cr_rules.h"

#define CR0_PE   (1ULL << 0)
#define CR0_TS   (1ULL << 3)
#define CR0_ET   (1ULL << 4)
#define CR0_WP   (1ULL << 16)
#define CR0_NW   (1ULL << 29)
#define CR0_CD   (1ULL << 30)
#define CR0_PG   (1ULL << 31)
#define CR4_PAE  (1ULL << 5)
#define CR4_LA57 (1ULL << 12)
#define CR4_PCID (1ULL << 17)
#define CR4_CET  (1ULL << 23)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)

static bool pae_paging(const struct cr_state *s)
{
    return (s->cr0 & CR0_PG) && (s->cr4 & CR4_PAE) && !(s->efer & EFER_LMA);
}

static void check_state(const struct cr_state *s, uint64_t cr4_ok, uint64_t efer_ok)
{
    bool lma = s->efer & EFER_LMA;
    FUZZ_CHECK(!(s->cr0 >> 32));
    FUZZ_CHECK(!(s->cr0 & CR0_PG) || (s->cr0 & CR0_PE));
    FUZZ_CHECK(!(s->cr0 & CR0_NW) || (s->cr0 & CR0_CD));
    FUZZ_CHECK(lma == ((s->cr0 & CR0_PG) && (s->efer & EFER_LME)));
    FUZZ_CHECK(!lma || (s->cr4 & CR4_PAE));
    FUZZ_CHECK(!(s->cr4 & CR4_PCID) || lma);
    FUZZ_CHECK(!(s->cr4 & CR4_CET) || (s->cr0 & CR0_WP));
    FUZZ_CHECK(!(s->cr4 & ~cr4_ok));
    FUZZ_CHECK(!(s->efer & ~efer_ok));
    FUZZ_CHECK(!s->cs_l || lma);
}

/* Applies an accepted CR0 value as the CPU does (EFER.LMA follows). */
static void load_cr0(struct cr_state *s, uint64_t val)
{
    s->cr0 = val;
    if ((val & CR0_PG) && (s->efer & EFER_LME))
        s->efer |= EFER_LMA;
    else
        s->efer &= ~EFER_LMA;
    if (!(s->efer & EFER_LMA))
        s->cs_l = false;
}

/* CR0 values a guest would write: the current one with a few bits flipped,
 * or anything. */
static uint64_t pick(struct fuzz_input *in, uint64_t cur)
{
    uint8_t how = fuzz_u8(in);
    if (how & 0x80)
        return fuzz_u64(in);
    uint64_t flips = 0;
    for (unsigned i = 0; i < (how & 3) + 1u; i++)
        flips |= 1ULL << (fuzz_u8(in) & 63);
    return cur ^ (how & 0x40 ? flips : flips & 0xffffffffULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size, 0};
    struct cr_features f = {fuzz_u32(&in), fuzz_u32(&in), fuzz_u32(&in), fuzz_u32(&in),
                            fuzz_u32(&in)};
    uint64_t cr4_ok = cr4_allowed_bits(&f), efer_ok = efer_allowed_bits(&f);
    FUZZ_CHECK(!(cr4_ok & ((1ULL << 13) | (1ULL << 14)))); /* never VMXE or SMXE */
    /* The state at reset (SDM vol. 3 table 10-1): CD, NW, ET. */
    struct cr_state s = {CR0_CD | CR0_NW | CR0_ET, 0, 0, 0, false};
    check_state(&s, cr4_ok, efer_ok);

    for (unsigned steps = 0; fuzz_left(&in) && steps < 256; steps++) {
        struct cr_state before = s;
        uint64_t val;
        bool loaded = false;
        switch (fuzz_u8(&in) % 7) {
        case 0: /* MOV to CR0 */
            val = pick(&in, s.cr0);
            if (cr0_write_ok(&s, val)) {
                loaded = cr_write_loads_pdptes(&s, 0, val);
                load_cr0(&s, val);
            }
            break;
        case 1: /* LMSW */
            val = lmsw_cr0(s.cr0, fuzz_u16(&in));
            FUZZ_CHECK((val & ~0xfULL) == (s.cr0 & ~0xfULL));
            FUZZ_CHECK(!(s.cr0 & CR0_PE) || (val & CR0_PE));
            if (cr0_write_ok(&s, val)) {
                loaded = cr_write_loads_pdptes(&s, 0, val);
                load_cr0(&s, val);
            }
            break;
        case 2: /* CLTS: always allowed */
            FUZZ_CHECK(cr0_write_ok(&s, s.cr0 & ~CR0_TS));
            load_cr0(&s, s.cr0 & ~CR0_TS);
            break;
        case 3: /* MOV to CR4 */
            val = pick(&in, s.cr4);
            if (cr4_write_ok(&s, val, cr4_ok)) {
                loaded = cr_write_loads_pdptes(&s, 4, val);
                s.cr4 = val;
            }
            break;
        case 4: /* WRMSR IA32_EFER */
            val = pick(&in, s.efer);
            if (efer_write_ok(&s, val, efer_ok)) {
                s.efer = efer_after_write(&s, val);
                FUZZ_CHECK((s.efer & EFER_LMA) == (before.efer & EFER_LMA));
            }
            break;
        case 5: /* MOV to CR3 (no exit with EPT; low bits a PCID with PCIDE) */
            s.cr3 = fuzz_u64(&in) & 0x000ffffffffff000ULL;
            if (s.cr4 & CR4_PCID)
                s.cr3 |= fuzz_u16(&in) & 0xfff;
            break;
        case 6: /* a far jump: a 64-bit CS only in IA-32e mode */
            s.cs_l = (s.efer & EFER_LMA) && (fuzz_u8(&in) & 1);
            break;
        }
        check_state(&s, cr4_ok, efer_ok);
        if ((before.efer & EFER_LMA) && (s.efer & EFER_LMA))
            FUZZ_CHECK(!((before.cr4 ^ s.cr4) & CR4_LA57));
        if (pae_paging(&s) && !pae_paging(&before) && (s.cr0 != before.cr0 || s.cr4 != before.cr4))
            FUZZ_CHECK(loaded);
    }

    /* The PDPTE check: a present entry with a reserved bit is refused. */
    uint64_t pdpte[4] = {fuzz_u64(&in), fuzz_u64(&in), fuzz_u64(&in), fuzz_u64(&in)};
    unsigned maxphy = 32 + fuzz_u8(&in) % 21;
    bool ok = true;
    for (unsigned i = 0; i < 4; i++)
        if ((pdpte[i] & 1) && (pdpte[i] & (0x1e6ULL | (~0ULL << maxphy))))
            ok = false;
    FUZZ_CHECK(pae_pdptes_ok(pdpte, maxphy) == ok);
    return 0;
}
