/* svm_check_vmcb: a VMCB from svm_vmcb_init passes, and each broken rule of
 * APM 15.5.1 is named (one mutation per case). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "svm/svm_check.h"
#include "svm/svm_vmcb.h"

static const struct svm_check_limits lim = {
    .maxphyaddr = 40, .long_mode = true, .nested_paging = true};

static struct vmcb *good(enum svm_boot_mode mode)
{
    struct vmcb *v = aligned_alloc(4096, sizeof(struct vmcb));
    struct svm_vmcb_params p = {.mode = mode,
                                .rip = 0x100000,
                                .cr3 = 0x200000,
                                .iopm_pa = 0x300000,
                                .msrpm_pa = 0x304000,
                                .ncr3 = 0x310000,
                                .asid = 1};
    svm_vmcb_init(v, &p);
    assert_null(svm_check_vmcb(v, &lim));
    return v;
}

/* Applies one mutation to a good VMCB and expects the rule text. */
#define EXPECT_RULE(mode, mutation, rule)                                                          \
    do {                                                                                           \
        struct vmcb *v = good(mode);                                                               \
        mutation;                                                                                  \
        const char *got = svm_check_vmcb(v, &lim);                                                 \
        assert_non_null(got);                                                                      \
        assert_string_equal(got, "15.5.1: " rule);                                                 \
        free(v);                                                                                   \
    } while (0)

static void test_control_register_rules(void **state)
{
    EXPECT_RULE(SVM_BOOT_PROTECTED_FLAT, v->save.efer &= ~(1ULL << 12), "EFER.SVME is zero");
    EXPECT_RULE(SVM_BOOT_PROTECTED_FLAT, v->save.cr0 |= 1ULL << 29, "CR0.NW set without CR0.CD");
    /* NW with CD is legal. */
    struct vmcb *v = good(SVM_BOOT_PROTECTED_FLAT);
    v->save.cr0 |= (1ULL << 29) | (1ULL << 30);
    assert_null(svm_check_vmcb(v, &lim));
    free(v);
    EXPECT_RULE(SVM_BOOT_PROTECTED_FLAT, v->save.cr0 |= 1ULL << 32, "CR0[63:32] not zero");
    EXPECT_RULE(SVM_BOOT_PROTECTED_FLAT, v->save.cr3 = 1ULL << 32, "CR3 has an MBZ bit set");
    EXPECT_RULE(SVM_BOOT_LONG, v->save.cr3 = 1ULL << 40, "CR3 has an MBZ bit set");
    /* In long mode CR3 may reach MAXPHYADDR - 1. */
    v = good(SVM_BOOT_LONG);
    v->save.cr3 = 1ULL << 39;
    assert_null(svm_check_vmcb(v, &lim));
    free(v);
    EXPECT_RULE(SVM_BOOT_PROTECTED_FLAT, v->save.cr4 |= 1ULL << 13, "CR4 has an MBZ bit set");
    EXPECT_RULE(SVM_BOOT_PROTECTED_FLAT, v->save.cr4 |= 1ULL << 40, "CR4 has an MBZ bit set");
    EXPECT_RULE(SVM_BOOT_PROTECTED_FLAT, v->save.dr6 |= 1ULL << 32, "DR6[63:32] not zero");
    EXPECT_RULE(SVM_BOOT_PROTECTED_FLAT, v->save.dr7 |= 1ULL << 63, "DR7[63:32] not zero");
    EXPECT_RULE(SVM_BOOT_PROTECTED_FLAT, v->save.efer |= 1ULL << 9, "EFER has an MBZ bit set");
    EXPECT_RULE(SVM_BOOT_PROTECTED_FLAT, v->save.efer |= 1ULL << 63, "EFER has an MBZ bit set");
}

static void test_long_mode_rules(void **state)
{
    EXPECT_RULE(SVM_BOOT_LONG, v->save.cr4 &= ~(1ULL << 5),
                "EFER.LME and CR0.PG set with CR4.PAE zero");
    EXPECT_RULE(SVM_BOOT_LONG, v->save.cr0 &= ~1ULL, "EFER.LME and CR0.PG set with CR0.PE zero");
    EXPECT_RULE(SVM_BOOT_LONG, v->save.cs.attrib |= VMCB_ATTR_DB,
                "EFER.LME, CR0.PG, CR4.PAE, CS.L and CS.D all set");
    /* L and D together outside long mode are no VMRUN matter. */
    struct vmcb *v = good(SVM_BOOT_PROTECTED_FLAT);
    v->save.cs.attrib |= VMCB_ATTR_L | VMCB_ATTR_DB;
    assert_null(svm_check_vmcb(v, &lim));
    /* A CPU without long mode refuses LME. */
    struct svm_check_limits no_lm = lim;
    no_lm.long_mode = false;
    free(v);
    v = good(SVM_BOOT_LONG);
    assert_string_equal(svm_check_vmcb(v, &no_lm),
                        "15.5.1: EFER.LME or EFER.LMA set but the CPU has no long mode");
    free(v);
}

static void test_control_area_rules(void **state)
{
    EXPECT_RULE(SVM_BOOT_REAL, v->control.intercept_misc2 &= ~SVM_INTERCEPT_VMRUN,
                "the VMRUN intercept bit is clear");
    EXPECT_RULE(SVM_BOOT_REAL, v->control.guest_asid = 0, "ASID is zero");
    EXPECT_RULE(SVM_BOOT_REAL, v->control.msrpm_base_pa = (1ULL << 40) - 0x1000,
                "the MSR permission map extends beyond MAXPHYADDR");
    EXPECT_RULE(SVM_BOOT_REAL, v->control.iopm_base_pa = (1ULL << 40) - 0x2000,
                "the I/O permission map extends beyond MAXPHYADDR");
    EXPECT_RULE(SVM_BOOT_REAL, v->control.nested_cr3 = 1ULL << 45, "nCR3 beyond MAXPHYADDR");
    struct svm_check_limits no_np = lim;
    no_np.nested_paging = false;
    struct vmcb *v = good(SVM_BOOT_REAL);
    assert_string_equal(svm_check_vmcb(v, &no_np),
                        "15.5.1: nested paging enabled but not supported");
    free(v);
}

static void test_event_injection_rules(void **state)
{
    /* #GP with an error code is legal, also in the check. */
    struct vmcb *v = good(SVM_BOOT_PROTECTED_FLAT);
    v->control.event_inj = SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_EXEPT | SVM_EVTINJ_VALID_ERR | 13;
    assert_null(svm_check_vmcb(v, &lim));
    v->control.event_inj = SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_INTR | 0x30;
    assert_null(svm_check_vmcb(v, &lim));
    /* Not valid: whatever else is there does not count. */
    v->control.event_inj = 0x7ff;
    assert_null(svm_check_vmcb(v, &lim));
    free(v);
    EXPECT_RULE(SVM_BOOT_PROTECTED_FLAT,
                v->control.event_inj = SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_EXEPT | 2,
                "illegal event injection (EVENTINJ)");
    EXPECT_RULE(SVM_BOOT_PROTECTED_FLAT,
                v->control.event_inj = SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_EXEPT | 32,
                "illegal event injection (EVENTINJ)");
    EXPECT_RULE(SVM_BOOT_PROTECTED_FLAT,
                v->control.event_inj = SVM_EVTINJ_VALID | (1U << SVM_EVTINJ_TYPE_SHIFT) | 0x20,
                "illegal event injection (EVENTINJ)");
    EXPECT_RULE(SVM_BOOT_PROTECTED_FLAT,
                v->control.event_inj = SVM_EVTINJ_VALID | (6U << SVM_EVTINJ_TYPE_SHIFT),
                "illegal event injection (EVENTINJ)");
}

/* The first broken rule in APM order is the one reported. */
static void test_first_rule_wins(void **state)
{
    EXPECT_RULE(SVM_BOOT_LONG, (v->control.guest_asid = 0, v->save.efer &= ~(1ULL << 12)),
                "EFER.SVME is zero");
}

/* QEMU TCG fails VMRUN on a long-mode CR3 above MAXPHYADDR (which it let
 * the guest load) and then leaves the host's state in the VMCB, which
 * breaks no rule: the state saved before VMRUN, put back, names it. */
static void test_failure_named_from_entry_state(void **state)
{
    struct vmcb *v = good(SVM_BOOT_LONG);
    v->save.cr3 = (1ULL << 45) | 0x200000;
    struct svm_checked_state at_entry;
    svm_checked_state_save(v, &at_entry);
    /* What QEMU writes back: the host's (valid) control registers. */
    v->save.cr3 = 0x1000;
    v->save.cr0 = 0x80050033ULL;
    v->save.cr4 = 0x6b0;
    v->save.efer = 0x1d01;
    v->save.dr7 = 0x400;
    assert_null(svm_check_vmcb(v, &lim));
    svm_vmcb_restore_checked(v, &at_entry);
    const char *got = svm_check_vmcb(v, &lim);
    assert_non_null(got);
    assert_string_equal(got, "15.5.1: CR3 has an MBZ bit set");
    /* Everything the rules read comes back, not just CR3. */
    assert_int_equal(v->save.cr3, (1ULL << 45) | 0x200000);
    assert_int_equal(v->save.efer & (1ULL << 8), 1ULL << 8);
    free(v);

    /* The same for a DR7 upper half and a broken CS.L/CS.D pair. */
    v = good(SVM_BOOT_LONG);
    v->save.dr7 = 1ULL << 40;
    svm_checked_state_save(v, &at_entry);
    v->save.dr7 = 0x400;
    svm_vmcb_restore_checked(v, &at_entry);
    assert_string_equal(svm_check_vmcb(v, &lim), "15.5.1: DR7[63:32] not zero");
    free(v);
    v = good(SVM_BOOT_LONG);
    v->save.cs.attrib |= VMCB_ATTR_DB;
    svm_checked_state_save(v, &at_entry);
    v->save.cs.attrib &= (uint16_t)~VMCB_ATTR_DB;
    svm_vmcb_restore_checked(v, &at_entry);
    assert_string_equal(svm_check_vmcb(v, &lim),
                        "15.5.1: EFER.LME, CR0.PG, CR4.PAE, CS.L and CS.D all set");
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failure_named_from_entry_state),
        cmocka_unit_test(test_control_register_rules),
        cmocka_unit_test(test_long_mode_rules),
        cmocka_unit_test(test_control_area_rules),
        cmocka_unit_test(test_event_injection_rules),
        cmocka_unit_test(test_first_rule_wins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
