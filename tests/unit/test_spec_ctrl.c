/* The speculation-mitigation decision table (arch/x86_64/spec_ctrl_plan.c)
 * on the CPUID and IA32_ARCH_CAPABILITIES values of real CPU generations,
 * and on the corner cases: bits the CPU does not enumerate are ignored,
 * affected CPUs without microcode support are reported, not hidden. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86_64/spec_ctrl.h"

/* CPUID.(7,0):EDX of a CPU with the 2018+ microcode: MD_CLEAR, IBRS/IBPB,
 * STIBP (27), L1D_FLUSH, ARCH_CAPABILITIES, SSBD (31). */
#define EDX_ALL                                                                                    \
    (CPUID7_EDX_MD_CLEAR | CPUID7_EDX_IBRS_IBPB | (1U << 27) | CPUID7_EDX_L1D_FLUSH |              \
     CPUID7_EDX_ARCH_CAPS | (1U << 31))
#define TSX_CTRL (1ULL << 7)

static struct spec_plan decide(uint32_t ebx, uint32_t edx, uint32_t edx72, uint64_t caps)
{
    struct spec_cpu c = {ebx, edx, edx72, caps};
    struct spec_plan p;
    memset(&p, 0xa5, sizeof(p)); /* every field must be written */
    spec_ctrl_decide(&c, &p);
    return p;
}

static void test_nothing_enumerated(void **state)
{
    /* A CPU (or emulator) that enumerates no control at all counts as
     * affected by everything, and says it cannot help it. */
    struct spec_plan p = decide(0, 0, 0, 0);
    assert_false(p.ibpb);
    assert_false(p.eibrs);
    assert_false(p.spec_ctrl_write);
    assert_int_equal(p.spec_ctrl, 0);
    assert_int_equal(p.entry, SPEC_ENTRY_NONE);
    assert_int_equal(p.bhi, SPEC_BHI_NONE);
    assert_true(p.l1tf_unmitigated);
    assert_true(p.mds_unmitigated);
    assert_true(p.rsb_underflow_exposed);
}

static void test_skylake_client(void **state)
{
    /* Skylake: L1TF and MDS affected, RSBA, no eIBRS. */
    struct spec_plan p = decide(CPUID7_EBX_RTM, EDX_ALL, 0, ARCH_CAP_RSBA | TSX_CTRL);
    assert_true(p.ibpb);
    assert_false(p.eibrs);
    assert_false(p.spec_ctrl_write);
    assert_int_equal(p.entry, SPEC_ENTRY_L1D); /* also clears the MDS buffers */
    assert_false(p.l1tf_unmitigated);
    assert_false(p.mds_unmitigated);
    assert_int_equal(p.bhi, SPEC_BHI_NONE);
    assert_true(p.rsb_underflow_exposed);
}

static void test_skylake_without_arch_caps(void **state)
{
    /* Early microcode: no ARCH_CAPABILITIES; the flush still applies. */
    struct spec_plan p = decide(0, EDX_ALL & ~CPUID7_EDX_ARCH_CAPS, 0, 0);
    assert_int_equal(p.entry, SPEC_ENTRY_L1D);
    assert_true(p.rsb_underflow_exposed);
}

static void test_cascade_lake(void **state)
{
    /* Not L1TF or MDS affected, eIBRS, TSX present without TAA_NO: VERW. */
    uint64_t caps = ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL | ARCH_CAP_SKIP_L1DFL_VMENTRY |
                    ARCH_CAP_MDS_NO | TSX_CTRL;
    struct spec_plan p = decide(CPUID7_EBX_RTM, EDX_ALL, 0, caps);
    assert_true(p.eibrs);
    assert_true(p.spec_ctrl_write);
    assert_int_equal(p.spec_ctrl, SPEC_CTRL_IBRS);
    assert_int_equal(p.entry, SPEC_ENTRY_VERW);
    assert_int_equal(p.bhi, SPEC_BHI_NONE); /* no RRSBA: returns never use the BTB */
    assert_false(p.rsb_underflow_exposed);
    /* The same CPU with TSX disabled (no RTM) needs no VERW. */
    p = decide(0, EDX_ALL, 0, caps);
    assert_int_equal(p.entry, SPEC_ENTRY_NONE);
    assert_false(p.mds_unmitigated);
    assert_false(p.l1tf_unmitigated);
}

static void test_alder_lake(void **state)
{
    /* eIBRS, RRSBA, BHI_CTRL; RFDS_CLEAR (Gracemont cores): VERW. */
    uint64_t caps = ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL | ARCH_CAP_SKIP_L1DFL_VMENTRY |
                    ARCH_CAP_MDS_NO | ARCH_CAP_TAA_NO | ARCH_CAP_RRSBA | ARCH_CAP_RFDS_CLEAR;
    struct spec_plan p = decide(0, EDX_ALL, CPUID7_2_EDX_BHI_CTRL | CPUID7_2_EDX_RRSBA_CTRL, caps);
    assert_true(p.eibrs);
    assert_int_equal(p.bhi, SPEC_BHI_DIS_S);
    assert_int_equal(p.spec_ctrl, SPEC_CTRL_IBRS | SPEC_CTRL_BHI_DIS_S);
    assert_int_equal(p.entry, SPEC_ENTRY_VERW);
    /* With RFDS_NO the register file needs no clearing. */
    p = decide(0, EDX_ALL, CPUID7_2_EDX_BHI_CTRL, caps | ARCH_CAP_RFDS_NO);
    assert_int_equal(p.entry, SPEC_ENTRY_NONE);
}

static void test_bhi_choices(void **state)
{
    uint64_t base = ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL | ARCH_CAP_MDS_NO | ARCH_CAP_TAA_NO;
    /* RRSBA without BHI_CTRL: RRSBA_DIS_S where it exists ... */
    struct spec_plan p = decide(0, EDX_ALL, CPUID7_2_EDX_RRSBA_CTRL, base | ARCH_CAP_RRSBA);
    assert_int_equal(p.bhi, SPEC_BHI_RRSBA_DIS_S);
    assert_int_equal(p.spec_ctrl, SPEC_CTRL_IBRS | SPEC_CTRL_RRSBA_DIS_S);
    /* ... else the clearing loop after every exit. */
    p = decide(0, EDX_ALL, 0, base | ARCH_CAP_RRSBA);
    assert_int_equal(p.bhi, SPEC_BHI_CLEAR_LOOP);
    assert_int_equal(p.spec_ctrl, SPEC_CTRL_IBRS);
    /* BHI_NO: nothing, whatever else is there. */
    p = decide(0, EDX_ALL, CPUID7_2_EDX_BHI_CTRL, base | ARCH_CAP_RRSBA | ARCH_CAP_BHI_NO);
    assert_int_equal(p.bhi, SPEC_BHI_NONE);
    assert_int_equal(p.spec_ctrl, SPEC_CTRL_IBRS);
    /* Without eIBRS neither control exists: nothing is written. */
    p = decide(0, EDX_ALL, CPUID7_2_EDX_BHI_CTRL | CPUID7_2_EDX_RRSBA_CTRL, ARCH_CAP_RRSBA);
    assert_int_equal(p.bhi, SPEC_BHI_NONE);
    assert_false(p.spec_ctrl_write);
}

static void test_unenumerated_bits_ignored(void **state)
{
    /* An ARCH_CAPABILITIES value without CPUID bit 29 is not trusted. */
    uint64_t caps = ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL | ARCH_CAP_MDS_NO | ARCH_CAP_TAA_NO;
    struct spec_plan p = decide(0, EDX_ALL & ~CPUID7_EDX_ARCH_CAPS, 0, caps);
    assert_false(p.eibrs);
    assert_int_equal(p.entry, SPEC_ENTRY_L1D);
    /* eIBRS needs IA32_SPEC_CTRL (CPUID bit 26) to be set at all. */
    p = decide(0, EDX_ALL & ~CPUID7_EDX_IBRS_IBPB, 0, caps);
    assert_false(p.eibrs);
    assert_false(p.ibpb);
    assert_false(p.spec_ctrl_write);
}

static void test_partial_microcode(void **state)
{
    /* L1TF affected, no L1D_FLUSH, but MD_CLEAR: VERW, and L1TF is reported. */
    struct spec_plan p = decide(0, CPUID7_EDX_MD_CLEAR | CPUID7_EDX_IBRS_IBPB, 0, 0);
    assert_int_equal(p.entry, SPEC_ENTRY_VERW);
    assert_true(p.l1tf_unmitigated);
    assert_false(p.mds_unmitigated);
    /* L1D_FLUSH without MD_CLEAR: the flush, and MDS is reported. */
    p = decide(0, CPUID7_EDX_L1D_FLUSH | CPUID7_EDX_IBRS_IBPB, 0, 0);
    assert_int_equal(p.entry, SPEC_ENTRY_L1D);
    assert_false(p.l1tf_unmitigated);
    assert_true(p.mds_unmitigated);
    /* SKIP_L1DFL_VMENTRY: no flush even with L1D_FLUSH; MDS still needs VERW. */
    p = decide(0, EDX_ALL, 0, ARCH_CAP_SKIP_L1DFL_VMENTRY);
    assert_int_equal(p.entry, SPEC_ENTRY_VERW);
    assert_false(p.l1tf_unmitigated);
}

static void test_describe(void **state)
{
    char buf[160];
    struct spec_plan p = decide(0, EDX_ALL, CPUID7_2_EDX_BHI_CTRL,
                                ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL | ARCH_CAP_MDS_NO |
                                    ARCH_CAP_TAA_NO | ARCH_CAP_RRSBA);
    spec_ctrl_describe(&p, buf, sizeof(buf));
    assert_string_equal(buf, "retpoline rsb_fill ibpb eibrs bhi_dis_s");
    p = decide(0, 0, 0, 0);
    spec_ctrl_describe(&p, buf, sizeof(buf));
    assert_string_equal(
        buf, "retpoline rsb_fill L1TF-UNMITIGATED MDS-UNMITIGATED rsb-underflow-exposed");
    p = decide(CPUID7_EBX_RTM, EDX_ALL, 0, ARCH_CAP_RSBA);
    spec_ctrl_describe(&p, buf, sizeof(buf));
    assert_string_equal(buf, "retpoline rsb_fill ibpb l1d_flush rsb-underflow-exposed");
}

static void test_force(void **state)
{
    unsigned mask = 77;
    assert_int_equal(spec_ctrl_parse_force("verw", &mask), 0);
    assert_int_equal(mask, SPEC_FORCE_VERW);
    assert_int_equal(spec_ctrl_parse_force("bhb_clear,verw,l1d_flush", &mask), 0);
    assert_int_equal(mask, SPEC_FORCE_VERW | SPEC_FORCE_BHB_CLEAR | SPEC_FORCE_L1D_FLUSH);
    /* Unknown names, empty items and prefixes are refused, mask untouched. */
    mask = 77;
    assert_int_equal(spec_ctrl_parse_force("verw,ibrs", &mask), -1);
    assert_int_equal(spec_ctrl_parse_force("verw,", &mask), -1);
    assert_int_equal(spec_ctrl_parse_force("ver", &mask), -1);
    assert_int_equal(spec_ctrl_parse_force("", &mask), -1);
    assert_int_equal(mask, 77);

    /* On a CPU that enumerates nothing (Bochs): VERW and the loop apply,
     * the L1D flush cannot (no IA32_FLUSH_CMD) and is refused. */
    struct spec_cpu none = {0, 0, 0, 0};
    struct spec_plan p = decide(0, 0, 0, 0);
    assert_true(spec_ctrl_apply_force(&none, SPEC_FORCE_VERW | SPEC_FORCE_BHB_CLEAR, &p));
    assert_int_equal(p.entry, SPEC_ENTRY_VERW);
    assert_int_equal(p.bhi, SPEC_BHI_CLEAR_LOOP);
    p = decide(0, 0, 0, 0);
    assert_false(spec_ctrl_apply_force(&none, SPEC_FORCE_L1D_FLUSH, &p));
    assert_int_equal(p.entry, SPEC_ENTRY_NONE);
    /* With FLUSH_CMD the flush wins over VERW (it clears the buffers too). */
    struct spec_cpu skx = {0, EDX_ALL, 0, ARCH_CAP_RDCL_NO | ARCH_CAP_MDS_NO};
    p = decide(0, EDX_ALL, 0, ARCH_CAP_RDCL_NO | ARCH_CAP_MDS_NO);
    assert_int_equal(p.entry, SPEC_ENTRY_NONE);
    assert_true(spec_ctrl_apply_force(&skx, SPEC_FORCE_L1D_FLUSH | SPEC_FORCE_VERW, &p));
    assert_int_equal(p.entry, SPEC_ENTRY_L1D);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_enumerated),
        cmocka_unit_test(test_skylake_client),
        cmocka_unit_test(test_skylake_without_arch_caps),
        cmocka_unit_test(test_cascade_lake),
        cmocka_unit_test(test_alder_lake),
        cmocka_unit_test(test_bhi_choices),
        cmocka_unit_test(test_unenumerated_bits_ignored),
        cmocka_unit_test(test_partial_microcode),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_force),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
