/* What guests are shown of the speculation controls
 * (arch/x86_64/spec_guest.c): only what the host has, IA32_SPEC_CTRL's
 * bits only where the backend switches the MSR, AMD's enumeration as
 * Intel's, and an IA32_ARCH_CAPABILITIES without the bits that announce
 * MSRs nobody emulates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86_64/spec_guest.h"

#define EDX_ALL                                                                                    \
    (CPUID7_EDX_MD_CLEAR | CPUID7_EDX_IBRS_IBPB | CPUID7_EDX_STIBP | CPUID7_EDX_L1D_FLUSH |        \
     CPUID7_EDX_ARCH_CAPS | CPUID7_EDX_SSBD)
#define EDX_CORE_CAPS (1U << 30)
#define TSX_CTRL      (1ULL << 7)
#define FB_CLEAR_CTRL (1ULL << 18)

static struct spec_guest decide(uint32_t edx, uint64_t caps, uint32_t ext8, bool switched)
{
    struct spec_cpu c = {0, edx, 0, caps};
    struct spec_guest g;
    memset(&g, 0xa5, sizeof(g)); /* every field must be written */
    spec_guest_decide(&c, ext8, switched, &g);
    return g;
}

static void test_nothing_enumerated(void **state)
{
    (void)state;
    struct spec_guest g = decide(0, 0, 0, true);
    assert_int_equal(g.cpuid7_edx, 0);
    assert_int_equal(g.ext8_ebx, 0);
    assert_int_equal(g.spec_ctrl_bits, 0);
    assert_false(g.pred_cmd);
    assert_false(g.flush_cmd);
    assert_false(g.arch_caps_msr);
    assert_int_equal(g.arch_caps, 0);
}

/* Bochs' Tiger Lake: CPUID.7.0:EDX 0xfc100510, IA32_ARCH_CAPABILITIES 0x1f. */
static void test_tiger_lake(void **state)
{
    (void)state;
    struct spec_guest g = decide(0xfc100510, 0x1f, 0, true);
    assert_int_equal(g.cpuid7_edx, EDX_ALL); /* not CORE_CAPABILITIES nor the rest */
    assert_int_equal(g.spec_ctrl_bits, SPEC_CTRL_IBRS | SPEC_CTRL_STIBP | SPEC_CTRL_SSBD);
    assert_true(g.pred_cmd);
    assert_true(g.flush_cmd);
    assert_true(g.arch_caps_msr);
    assert_int_equal(g.arch_caps, 0x1f);
}

static void test_without_the_switch(void **state)
{
    (void)state;
    /* Commands and enumeration only: IBRS, STIBP and SSBD hold a value
     * the backend would have to switch. Intel's IBPB is enumerated with
     * IBRS (bit 26), so it goes too; AMD's has a bit of its own. */
    struct spec_guest g =
        decide(EDX_ALL, ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL, EXT8_EBX_IBPB | EXT8_EBX_IBRS, false);
    assert_int_equal(g.cpuid7_edx,
                     CPUID7_EDX_MD_CLEAR | CPUID7_EDX_L1D_FLUSH | CPUID7_EDX_ARCH_CAPS);
    assert_int_equal(g.spec_ctrl_bits, 0);
    assert_int_equal(g.ext8_ebx, EXT8_EBX_IBPB);
    assert_true(g.pred_cmd);
    assert_true(g.flush_cmd);
    /* Enhanced IBRS means nothing without IBRS to set. */
    assert_int_equal(g.arch_caps, ARCH_CAP_RDCL_NO | ARCH_CAP_SKIP_L1DFL_VMENTRY);
}

static void test_amd(void **state)
{
    (void)state;
    uint32_t ext8 = EXT8_EBX_IBPB | EXT8_EBX_IBRS | EXT8_EBX_STIBP | EXT8_EBX_SSBD |
                    EXT8_EBX_SSB_NO | (1U << 9) /* WBNOINVD: not ours to show here */;
    struct spec_guest g = decide(0, 0, ext8, true);
    assert_int_equal(g.ext8_ebx, ext8 & ~(1U << 9));
    assert_int_equal(g.cpuid7_edx, 0);
    assert_int_equal(g.spec_ctrl_bits, SPEC_CTRL_IBRS | SPEC_CTRL_STIBP | SPEC_CTRL_SSBD);
    assert_true(g.pred_cmd);
    assert_false(g.flush_cmd);
    assert_false(g.arch_caps_msr);
    /* SSBD alone (an early AMD microcode): the MSR with one bit. */
    g = decide(0, 0, EXT8_EBX_SSBD, true);
    assert_int_equal(g.spec_ctrl_bits, SPEC_CTRL_SSBD);
    assert_false(g.pred_cmd);
}

static void test_single_controls(void **state)
{
    (void)state;
    /* SSBD without IBRS (possible on Intel): the MSR, with that bit only. */
    struct spec_guest g = decide(CPUID7_EDX_SSBD, 0, 0, true);
    assert_int_equal(g.cpuid7_edx, CPUID7_EDX_SSBD);
    assert_int_equal(g.spec_ctrl_bits, SPEC_CTRL_SSBD);
    assert_false(g.pred_cmd);
    /* The flush without IA32_ARCH_CAPABILITIES. */
    g = decide(CPUID7_EDX_L1D_FLUSH | EDX_CORE_CAPS, 0x1f, 0, true);
    assert_int_equal(g.cpuid7_edx, CPUID7_EDX_L1D_FLUSH);
    assert_true(g.flush_cmd);
    assert_false(g.arch_caps_msr);
    assert_int_equal(g.arch_caps, 0); /* the host's value unread without the bit */
}

static void test_arch_caps_filter(void **state)
{
    (void)state;
    /* Every "not affected" bit passes; bits that announce MSRs of their
     * own (TSX_CTRL, FB_CLEAR_CTRL) and unknown ones (63) do not. */
    uint64_t not_affected = ARCH_CAP_RDCL_NO | ARCH_CAP_MDS_NO | ARCH_CAP_TAA_NO | ARCH_CAP_BHI_NO |
                            ARCH_CAP_RFDS_NO | (1ULL << 4) | (1ULL << 24) | (1ULL << 26);
    struct spec_guest g =
        decide(EDX_ALL, not_affected | ARCH_CAP_IBRS_ALL | TSX_CTRL | FB_CLEAR_CTRL | (1ULL << 63),
               0, true);
    assert_int_equal(g.arch_caps, not_affected | ARCH_CAP_IBRS_ALL | ARCH_CAP_SKIP_L1DFL_VMENTRY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_enumerated), cmocka_unit_test(test_tiger_lake),
        cmocka_unit_test(test_without_the_switch), cmocka_unit_test(test_amd),
        cmocka_unit_test(test_single_controls),    cmocka_unit_test(test_arch_caps_filter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
