/* The run loop's rules (vcpu/run_rules.c), shared by the backends' run
 * loops: how long a guest may run from an entry, and when an exit ends
 * the run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vcpu/run_rules.h"

#define NONE UINT64_MAX

static void test_entry_until(void **state)
{
    (void)state;
    /* Nothing bounds a lone vCPU's run. */
    assert_int_equal(run_entry_until(1000, 0, NONE, 0), 0);
    /* The rest of the slice. */
    assert_int_equal(run_entry_until(1000, 1500, NONE, 0), 500);
    /* A device deadline before the slice's end wins, and without a slice. */
    assert_int_equal(run_entry_until(1000, 1500, 1200, 0), 200);
    assert_int_equal(run_entry_until(1000, 1500, 1800, 0), 500);
    assert_int_equal(run_entry_until(1000, 0, 1800, 0), 800);
    /* A deadline already due: one cycle, the guest exits at once. */
    assert_int_equal(run_entry_until(1000, 0, 1000, 0), 1);
    assert_int_equal(run_entry_until(1000, 1500, 900, 0), 1);
    /* The CPU's bound (guest_run_max_tsc) caps everything, also no bound. */
    assert_int_equal(run_entry_until(1000, 0, NONE, 300), 300);
    assert_int_equal(run_entry_until(1000, 1500, NONE, 300), 300);
    assert_int_equal(run_entry_until(1000, 1500, 1100, 300), 100);
}

static void test_run_ends(void **state)
{
    (void)state;
    enum vcpu_run_result r = RUN_STOPPED + 1;
    /* Continue and fast re-entries go on inside the slice. */
    assert_false(vcpu_run_ends(EXIT_ACT_CONTINUE, 1000, 2000, &r));
    assert_false(vcpu_run_ends(EXIT_ACT_FAST, 1000, 0, &r));
    assert_int_equal(r, RUN_STOPPED + 1);
    /* ... and end at its end, whatever the action. */
    assert_true(vcpu_run_ends(EXIT_ACT_CONTINUE, 2000, 2000, &r));
    assert_int_equal(r, RUN_PREEMPTED);
    /* PREEMPT before the slice's end is a device deadline: go on. */
    assert_false(vcpu_run_ends(EXIT_ACT_PREEMPT, 1000, 2000, &r));
    assert_false(vcpu_run_ends(EXIT_ACT_PREEMPT, 1000, 0, &r));
    assert_true(vcpu_run_ends(EXIT_ACT_PREEMPT, 2500, 2000, &r));
    assert_int_equal(r, RUN_PREEMPTED);
    /* The others end the run as they say, also inside the slice. */
    assert_true(vcpu_run_ends(EXIT_ACT_HALT, 1000, 2000, &r));
    assert_int_equal(r, RUN_HALTED);
    assert_true(vcpu_run_ends(EXIT_ACT_YIELD, 1000, 0, &r));
    assert_int_equal(r, RUN_YIELDED);
    assert_true(vcpu_run_ends(EXIT_ACT_STOP, 1000, 2000, &r));
    assert_int_equal(r, RUN_STOPPED);
    /* A stop at the slice's end is still a stop. */
    assert_true(vcpu_run_ends(EXIT_ACT_STOP, 3000, 2000, &r));
    assert_int_equal(r, RUN_STOPPED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entry_until),
        cmocka_unit_test(test_run_ends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
