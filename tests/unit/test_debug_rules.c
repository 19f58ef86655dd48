/* vcpu/debug_rules.c: what delivering an intercepted #DB does to DR6 and
 * DR7, the same for VMX (conditions from the exit qualification, DR6 as
 * the guest left it) and SVM (the CPU has already written them into the
 * VMCB's DR6). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "arch/x86_64/debug_regs.h"
#include "vcpu/debug_rules.h"

#define BS  (1ULL << 14)
#define BD  (1ULL << 13)
#define B0  (1ULL << 0)
#define B2  (1ULL << 2)
#define GD  (1ULL << 13)
#define L0  (1ULL << 0)
#define FX7 0x400ULL

/* VMX: a single step over a DR6 that already had BD keeps BD and adds BS. */
static void test_merge_keeps_old_bits(void **state)
{
    struct debug_regs r = db_delivery_rules((struct debug_regs){DR6_FIXED1 | BD, FX7}, BS, true);
    assert_int_equal(r.dr6, DR6_FIXED1 | BD | BS);
    assert_int_equal(r.dr7, FX7);
    /* A breakpoint hit on top of an earlier one: both B bits. */
    r = db_delivery_rules((struct debug_regs){DR6_FIXED1 | B2, FX7 | L0}, B0, true);
    assert_int_equal(r.dr6, DR6_FIXED1 | B2 | B0);
    assert_int_equal(r.dr7, FX7 | L0);
}

/* SVM: the conditions are already in DR6; merging them again changes
 * nothing but the fixed bits and the reserved upper half (VMRUN would
 * fail on DR6[63:32]). */
static void test_merge_is_idempotent(void **state)
{
    uint64_t dr6 = DR6_FIXED1 | BD | BS;
    struct debug_regs r = db_delivery_rules((struct debug_regs){dr6, FX7}, dr6, true);
    assert_int_equal(r.dr6, dr6);
    r = db_delivery_rules((struct debug_regs){0xdead000000000000ULL | BS, FX7}, BS, true);
    assert_int_equal(r.dr6, DR6_FIXED1 | BS);
    /* Bit 12 and the fixed bits never come from the conditions. */
    r = db_delivery_rules((struct debug_regs){0, FX7}, ~0ULL, true);
    assert_int_equal(r.dr6, DR6_FIXED1 | DR6_HITS);
}

/* Entering the #DB handler clears GD, whatever caused the #DB (a MOV DR
 * with GD set, a single step, ICEBP); nothing else of DR7 changes. */
static void test_gd_cleared(void **state)
{
    struct debug_regs r =
        db_delivery_rules((struct debug_regs){DR6_FIXED1, FX7 | GD | L0}, BD, true);
    assert_int_equal(r.dr7, FX7 | L0);
    assert_int_equal(r.dr6, DR6_FIXED1 | BD);
    r = db_delivery_rules((struct debug_regs){DR6_FIXED1, FX7 | GD}, BS, true);
    assert_int_equal(r.dr7, FX7);
}

/* ICEBP (INT1): no condition in DR6, GD still cleared. */
static void test_icebp(void **state)
{
    struct debug_regs r =
        db_delivery_rules((struct debug_regs){DR6_FIXED1 | B2, FX7 | GD}, BS, false);
    assert_int_equal(r.dr6, DR6_FIXED1 | B2);
    assert_int_equal(r.dr7, FX7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_keeps_old_bits),
        cmocka_unit_test(test_merge_is_idempotent),
        cmocka_unit_test(test_gd_cleared),
        cmocka_unit_test(test_icebp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
