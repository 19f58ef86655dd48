/* The SDM's rules for MOV to CR0/CR4 and WRMSR EFER (vcpu/cr_rules.c):
 * every write they accept leaves a state a VM entry takes, every write
 * the SDM refuses is refused (the caller injects #GP). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "arch/x86_64/debug_regs.h"
#include "vcpu/cr_rules.h"

#define BIT(n) (1ULL << (n))
#define CR0_PE BIT(0)
#define CR0_ET BIT(4)
#define CR0_NE BIT(5)
#define CR0_WP BIT(16)
#define CR0_NW BIT(29)
#define CR0_CD BIT(30)
#define CR0_PG BIT(31)

#define CR4_PSE   BIT(4)
#define CR4_PAE   BIT(5)
#define CR4_MCE   BIT(6)
#define CR4_PGE   BIT(7)
#define CR4_LA57  BIT(12)
#define CR4_VMXE  BIT(13)
#define CR4_SMXE  BIT(14)
#define CR4_PCIDE BIT(17)
#define CR4_PKE   BIT(22)
#define CR4_CET   BIT(23)

#define EFER_SCE BIT(0)
#define EFER_LME BIT(8)
#define EFER_LMA BIT(10)
#define EFER_NXE BIT(11)

/* A Skylake-like guest view: PSE PAE PGE FXSR SSE TSC DE VME (no MCE),
 * PCID XSAVE, FSGSBASE SMEP SMAP, UMIP; no PKU, LA57, CET; LM NX SYSCALL. */
static const struct cr_features skylake = {
    .leaf1_ecx = (1U << 17) | (1U << 26),
    .leaf1_edx = (1U << 1) | (1U << 2) | (1U << 3) | (1U << 4) | (1U << 6) | (1U << 13) |
                 (1U << 24) | (1U << 25),
    .leaf7_ebx = (1U << 0) | (1U << 7) | (1U << 20),
    .leaf7_ecx = (1U << 2),
    .ext1_edx = (1U << 11) | (1U << 20) | (1U << 29),
};

/* 64-bit mode, 4-level paging. */
static const struct cr_state long64 = {
    .cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_WP | CR0_PG,
    .cr3 = 0x1000,
    .cr4 = CR4_PAE | CR4_PGE,
    .efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE,
    .cs_l = true,
};

/* 32-bit protected mode, paging off. */
static const struct cr_state prot32 = {
    .cr0 = CR0_PE | CR0_ET | CR0_NE,
    .cr3 = 0,
    .cr4 = 0,
    .efer = 0,
    .cs_l = false,
};

static void test_cr4_allowed_follows_cpuid(void **state)
{
    uint64_t a = cr4_allowed_bits(&skylake);
    assert_true(a & CR4_PAE);
    assert_true(a & CR4_PGE);
    assert_true(a & CR4_PCIDE);
    assert_true(a & BIT(18));  /* OSXSAVE */
    assert_true(a & BIT(16));  /* FSGSBASE */
    assert_false(a & CR4_MCE); /* hidden machine check */
    assert_false(a & (CR4_VMXE | CR4_SMXE));
    assert_false(a & (CR4_PKE | CR4_LA57 | CR4_CET));
    assert_false(a & BIT(15));
    assert_false(a >> 32);
    struct cr_features none = {0, 0, 0, 0, 0};
    assert_int_equal(cr4_allowed_bits(&none), BIT(8)); /* PCE only */
    struct cr_features pku = skylake;
    pku.leaf7_ecx |= 1U << 3;
    assert_true(cr4_allowed_bits(&pku) & CR4_PKE);
}

static void test_cr0_rules(void **state)
{
    uint64_t cr0 = long64.cr0;
    assert_true(cr0_write_ok(&long64, cr0));
    assert_true(cr0_write_ok(&long64, cr0 | CR0_CD));          /* caching off */
    assert_true(cr0_write_ok(&long64, cr0 | CR0_CD | CR0_NW)); /* both */
    assert_false(cr0_write_ok(&long64, cr0 | CR0_NW));         /* NW without CD */
    assert_false(cr0_write_ok(&long64, cr0 | BIT(32)));        /* reserved */
    assert_false(cr0_write_ok(&long64, cr0 | BIT(63)));
    assert_false(cr0_write_ok(&long64, cr0 & ~CR0_PE)); /* PG without PE */
    /* Paging off in 64-bit mode: refused; from compatibility mode: the
     * way out of IA-32e mode, unless PCIDs are on. */
    assert_false(cr0_write_ok(&long64, cr0 & ~CR0_PG));
    struct cr_state compat = long64;
    compat.cs_l = false;
    assert_true(cr0_write_ok(&compat, cr0 & ~CR0_PG));
    compat.cr4 |= CR4_PCIDE;
    assert_false(cr0_write_ok(&compat, cr0 & ~CR0_PG));
    /* Entering IA-32e mode needs PAE. */
    struct cr_state entering = prot32;
    entering.efer = EFER_LME;
    assert_false(cr0_write_ok(&entering, prot32.cr0 | CR0_PG));
    entering.cr4 = CR4_PAE;
    assert_true(cr0_write_ok(&entering, prot32.cr0 | CR0_PG));
    /* 32-bit paging on and off, real mode. */
    assert_true(cr0_write_ok(&prot32, prot32.cr0 | CR0_PG));
    assert_true(cr0_write_ok(&prot32, 0));
    assert_false(cr0_write_ok(&prot32, CR0_PG));
    /* CET keeps WP. */
    struct cr_state cet = long64;
    cet.cr4 |= CR4_CET;
    assert_false(cr0_write_ok(&cet, cr0 & ~CR0_WP));
    assert_true(cr0_write_ok(&long64, cr0 & ~CR0_WP));
}

/* LMSW loads PE, MP, EM and TS only, and cannot clear PE. */
static void test_lmsw(void **state)
{
    (void)state;
    assert_int_equal(lmsw_cr0(0x10, 0x1), 0x11);                /* PE set: protected mode */
    assert_int_equal(lmsw_cr0(0x80000011, 0x0), 0x80000011);    /* PE stays */
    assert_int_equal(lmsw_cr0(0x80000011, 0xfffe), 0x8000001f); /* bits 15:4 ignored */
    assert_int_equal(lmsw_cr0(0x8005003f, 0x0004), 0x80050035); /* MP, TS cleared, EM set */
    assert_int_equal(lmsw_cr0(0x6000001e, 0x0001), 0x60000011); /* CD, NW untouched */
    /* Whatever LMSW loads passes the CR0 rules from a valid CR0. */
    struct cr_state s = {.cr0 = 0x80050033, .cr4 = 0x20, .efer = 0x500, .cs_l = true};
    for (unsigned src = 0; src < 16; src++)
        assert_true(cr0_write_ok(&s, lmsw_cr0(s.cr0, (uint16_t)src)));
}

static void test_cr4_rules(void **state)
{
    uint64_t a = cr4_allowed_bits(&skylake), cr4 = long64.cr4;
    assert_true(cr4_write_ok(&long64, cr4, a));
    assert_true(cr4_write_ok(&long64, cr4 | CR4_PSE, a));
    assert_false(cr4_write_ok(&long64, cr4 | CR4_VMXE, a));
    assert_false(cr4_write_ok(&long64, cr4 | CR4_MCE, a)); /* not in CPUID */
    assert_false(cr4_write_ok(&long64, cr4 | CR4_PKE, a));
    assert_false(cr4_write_ok(&long64, cr4 | BIT(15), a));
    assert_false(cr4_write_ok(&long64, cr4 | BIT(40), a));
    assert_false(cr4_write_ok(&long64, cr4 & ~CR4_PAE, a)); /* leaving IA-32e */
    /* LA57 cannot change in IA-32e mode even where the CPU has it. */
    assert_false(cr4_write_ok(&long64, cr4 | CR4_LA57, a | CR4_LA57));
    struct cr_state la57 = long64;
    la57.cr4 |= CR4_LA57;
    assert_false(cr4_write_ok(&la57, cr4, a | CR4_LA57));
    assert_true(cr4_write_ok(&prot32, CR4_LA57, a | CR4_LA57));
    /* PCIDE: IA-32e mode with CR3[11:0] = 0 only; clearing it is fine. */
    assert_true(cr4_write_ok(&long64, cr4 | CR4_PCIDE, a));
    struct cr_state low = long64;
    low.cr3 |= 0x8;
    assert_false(cr4_write_ok(&low, cr4 | CR4_PCIDE, a));
    assert_false(cr4_write_ok(&prot32, CR4_PAE | CR4_PCIDE, a));
    struct cr_state pcid = long64;
    pcid.cr4 |= CR4_PCIDE;
    pcid.cr3 |= 0x5; /* a PCID */
    assert_true(cr4_write_ok(&pcid, pcid.cr4, a));
    assert_true(cr4_write_ok(&pcid, cr4, a));
    /* Outside IA-32e mode PAE comes and goes. */
    assert_true(cr4_write_ok(&prot32, CR4_PAE, a));
    struct cr_state pae32 = prot32;
    pae32.cr4 = CR4_PAE;
    assert_true(cr4_write_ok(&pae32, 0, a));
    /* CET needs CR0.WP. */
    uint64_t cet = a | CR4_CET;
    assert_true(cr4_write_ok(&long64, cr4 | CR4_CET, cet));
    struct cr_state nowp = long64;
    nowp.cr0 &= ~CR0_WP;
    assert_false(cr4_write_ok(&nowp, cr4 | CR4_CET, cet));
}

static void test_efer_rules(void **state)
{
    uint64_t a = efer_allowed_bits(&skylake), efer = long64.efer;
    assert_int_equal(a, EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE);
    assert_true(efer_write_ok(&long64, efer, a));
    assert_false(efer_write_ok(&long64, efer & ~EFER_LME, a)); /* paging on */
    assert_false(efer_write_ok(&long64, efer | BIT(1), a));
    assert_false(efer_write_ok(&long64, efer | BIT(12), a)); /* SVME: not offered */
    assert_false(efer_write_ok(&long64, efer | BIT(63), a));
    assert_true(efer_write_ok(&long64, efer & ~EFER_NXE, a));
    /* LMA is the CPU's: a write neither sets nor clears it. */
    assert_true(efer_write_ok(&long64, efer & ~EFER_LMA, a));
    assert_int_equal(efer_after_write(&long64, efer & ~EFER_LMA), efer);
    assert_true(efer_write_ok(&prot32, EFER_LME | EFER_LMA, a));
    assert_int_equal(efer_after_write(&prot32, EFER_LME | EFER_LMA), EFER_LME);
    /* Paging off: LME may change; paging on (32-bit): it may not. */
    assert_true(efer_write_ok(&prot32, EFER_LME, a));
    struct cr_state paged32 = prot32;
    paged32.cr0 |= CR0_PG;
    assert_false(efer_write_ok(&paged32, EFER_LME, a));
    /* NX hidden: NXE reserved. */
    struct cr_features nonx = skylake;
    nonx.ext1_edx &= ~(1U << 20);
    assert_false(efer_write_ok(&prot32, EFER_NXE, efer_allowed_bits(&nonx)));
}

static void test_rf_classes(void **state)
{
    static const uint8_t faults[] = {0, 5, 6, 7, 10, 11, 12, 13, 14, 16, 17, 19, 20, 21};
    static const uint8_t others[] = {1, 2, 3, 4, 8, 9, 18, 32, 255};
    for (unsigned i = 0; i < sizeof(faults); i++)
        assert_true(exception_pushes_rf(faults[i]));
    for (unsigned i = 0; i < sizeof(others); i++)
        assert_false(exception_pushes_rf(others[i]));
}

static void test_pdptes(void **state)
{
    /* PAE paging on outside IA-32e mode loads them: CR0.PG with PAE, or
     * PAE with paging on; not with LME (IA-32e mode), not when already on. */
    struct cr_state pae = prot32;
    pae.cr4 = CR4_PAE;
    assert_true(cr_write_loads_pdptes(&pae, 0, pae.cr0 | CR0_PG));
    assert_false(cr_write_loads_pdptes(&prot32, 0, prot32.cr0 | CR0_PG)); /* 32-bit paging */
    struct cr_state paged32 = prot32;
    paged32.cr0 |= CR0_PG;
    assert_true(cr_write_loads_pdptes(&paged32, 4, CR4_PAE));
    struct cr_state lme = pae;
    lme.efer = EFER_LME;
    assert_false(cr_write_loads_pdptes(&lme, 0, lme.cr0 | CR0_PG));
    struct cr_state on = pae;
    on.cr0 |= CR0_PG;
    assert_false(cr_write_loads_pdptes(&on, 0, on.cr0 | CR0_CD));
    assert_false(cr_write_loads_pdptes(&long64, 0, long64.cr0));

    uint64_t good[4] = {0x1001, 0x2001, 0, 0x3000 | 0x18}; /* PWT/PCD allowed */
    assert_true(pae_pdptes_ok(good, 36));
    uint64_t rw[4] = {0x1003, 0, 0, 0}; /* bit 1 reserved */
    assert_false(pae_pdptes_ok(rw, 36));
    uint64_t ps[4] = {0, 0x1081, 0, 0}; /* bit 7 reserved */
    assert_false(pae_pdptes_ok(ps, 36));
    uint64_t high[4] = {0, 0, 0x1000000001ULL, 0}; /* bit 36 above MAXPHYADDR 36 */
    assert_false(pae_pdptes_ok(high, 36));
    assert_true(pae_pdptes_ok(high, 39));
    uint64_t absent[4] = {0xfffffffffffffffeULL, 0, 0, 0}; /* not present: not checked */
    assert_true(pae_pdptes_ok(absent, 36));
}

/* A #DB the hypervisor intercepted reaches DR6 as on hardware: the new
 * conditions are ORed in, bits already set stay, the fixed bits read 1. */
static void test_dr6_merge(void **state)
{
    uint64_t bd = 1ULL << 13, bs = 1ULL << 14, b1 = 1ULL << 1;
    assert_int_equal(x86_dr6_merge(0, bs), DR6_FIXED1 | bs);
    assert_int_equal(x86_dr6_merge(DR6_FIXED1 | bd, bs), DR6_FIXED1 | bd | bs);
    assert_int_equal(x86_dr6_merge(DR6_FIXED1 | b1, 1), DR6_FIXED1 | b1 | 1);
    /* Only B0-B3, BD, BS, BT come from the qualification; bit 12 and the
     * upper half are never set. */
    assert_int_equal(x86_dr6_merge(DR6_FIXED1, ~0ULL), DR6_FIXED1 | DR6_HITS);
    assert_int_equal(x86_dr6_merge(~0ULL, 0), 0xffffefffULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cr4_allowed_follows_cpuid),
        cmocka_unit_test(test_cr0_rules),
        cmocka_unit_test(test_lmsw),
        cmocka_unit_test(test_cr4_rules),
        cmocka_unit_test(test_efer_rules),
        cmocka_unit_test(test_rf_classes),
        cmocka_unit_test(test_dr6_merge),
        cmocka_unit_test(test_pdptes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
