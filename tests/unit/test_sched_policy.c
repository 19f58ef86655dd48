/* The scheduler's pure decisions: which vCPU runs next, how long it runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/sched_policy.h"

static void test_none_runnable(void **state)
{
    struct sched_candidate c[3] = {
        {false, false, 0, false}, {false, false, 5, false}, {false, false, 1, false}};
    unsigned cursor = 1;
    assert_int_equal(sched_pick_index(c, 3, &cursor), -1);
    assert_int_equal(cursor, 1); /* untouched */
    assert_int_equal(sched_pick_index(c, 0, &cursor), -1);
}

static void test_equal_priorities_take_turns(void **state)
{
    struct sched_candidate c[3] = {
        {true, false, 0, false}, {true, false, 0, false}, {true, false, 0, false}};
    unsigned cursor = 0;
    assert_int_equal(sched_pick_index(c, 3, &cursor), 0);
    assert_int_equal(sched_pick_index(c, 3, &cursor), 1);
    assert_int_equal(sched_pick_index(c, 3, &cursor), 2);
    assert_int_equal(sched_pick_index(c, 3, &cursor), 0);
}

static void test_blocked_ones_are_skipped(void **state)
{
    struct sched_candidate c[4] = {{true, false, 0, false},
                                   {false, false, 0, false},
                                   {false, false, 0, false},
                                   {true, false, 0, false}};
    unsigned cursor = 1;
    assert_int_equal(sched_pick_index(c, 4, &cursor), 3);
    assert_int_equal(sched_pick_index(c, 4, &cursor), 0);
    assert_int_equal(sched_pick_index(c, 4, &cursor), 3);
}

static void test_higher_priority_always_first(void **state)
{
    struct sched_candidate c[3] = {
        {true, false, 1, false}, {true, false, 7, false}, {true, false, 1, false}};
    unsigned cursor = 2;
    for (int i = 0; i < 5; i++)
        assert_int_equal(sched_pick_index(c, 3, &cursor), 1);
    /* Once it blocks, the lower ones share round-robin. */
    c[1].runnable = false;
    int a = sched_pick_index(c, 3, &cursor);
    int b = sched_pick_index(c, 3, &cursor);
    assert_true((a == 0 && b == 2) || (a == 2 && b == 0));
}

static void test_two_high_share_and_low_waits(void **state)
{
    struct sched_candidate c[4] = {{true, false, 3, false},
                                   {true, false, 0, false},
                                   {true, false, 3, false},
                                   {true, false, 0, false}};
    unsigned cursor = 0;
    for (int i = 0; i < 6; i++) {
        int got = sched_pick_index(c, 4, &cursor);
        assert_int_equal(got, i % 2 ? 2 : 0);
    }
}

static void test_cursor_out_of_range_is_wrapped(void **state)
{
    struct sched_candidate c[2] = {{true, false, 0, false}, {true, false, 0, false}};
    unsigned cursor = 7; /* the queue shrank since */
    assert_int_equal(sched_pick_index(c, 2, &cursor), 1);
    assert_int_equal(cursor, 0);
}

static void test_a_yield_lets_lower_priorities_run(void **state)
{
    /* The high-priority vCPU polls and yields: the others get the turn. */
    struct sched_candidate c[3] = {
        {true, true, 10, false}, {true, false, 0, false}, {true, false, 0, false}};
    unsigned cursor = 0;
    int a = sched_pick_index(c, 3, &cursor);
    assert_true(a == 1 || a == 2);
    /* Without the yield it wins again. */
    c[0].yielded = false;
    assert_int_equal(sched_pick_index(c, 3, &cursor), 0);
}

static void test_a_yield_alone_runs_again(void **state)
{
    struct sched_candidate c[2] = {{true, true, 0, false}, {false, false, 9, false}};
    unsigned cursor = 0;
    assert_int_equal(sched_pick_index(c, 2, &cursor), 0);
}

static void test_a_spin_yield_prefers_a_sibling(void **state)
{
    /* vCPU 0 spun (PAUSE loop) and yielded; 1 and 3 are other VMs' vCPUs,
     * 2 its sibling: the sibling runs next, wherever the cursor stands. */
    for (unsigned start = 0; start < 4; start++) {
        struct sched_candidate c[4] = {{true, true, 0, false},
                                       {true, false, 0, false},
                                       {true, false, 0, true},
                                       {true, false, 0, false}};
        unsigned cursor = start;
        assert_int_equal(sched_pick_index(c, 4, &cursor), 2);
    }
    /* A sibling does not outrank a higher priority. */
    struct sched_candidate d[3] = {
        {true, true, 1, false}, {true, false, 1, true}, {true, false, 2, false}};
    unsigned cursor = 0;
    assert_int_equal(sched_pick_index(d, 3, &cursor), 2);
    /* A blocked sibling is no choice: the others take turns as usual. */
    d[2].priority = 1;
    d[1].runnable = false;
    assert_int_equal(sched_pick_index(d, 3, &cursor), 2);
    /* Only the spinner itself left: it runs again. */
    d[2].runnable = false;
    assert_int_equal(sched_pick_index(d, 3, &cursor), 0);
}

static void test_turn_alone_without_deadline_is_unbounded(void **state)
{
    assert_int_equal(sched_turn_length(0, 1000, SCHED_NO_DEADLINE), 0);
    assert_int_equal(sched_turn_length(500, 1000, SCHED_NO_DEADLINE), 500);
}

static void test_blocked_deadline_cuts_the_turn(void **state)
{
    /* Alone but another vCPU sleeps until 1300: the turn ends then. */
    assert_int_equal(sched_turn_length(0, 1000, 1300), 300);
    /* A slice shorter than the deadline stays. */
    assert_int_equal(sched_turn_length(200, 1000, 1300), 200);
    assert_int_equal(sched_turn_length(400, 1000, 1300), 300);
}

static void test_past_deadline_gives_the_shortest_turn(void **state)
{
    assert_int_equal(sched_turn_length(0, 1000, 900), 1);
    assert_int_equal(sched_turn_length(500, 1000, 1000), 1);
}

static void test_wake_ends_turn(void **state)
{
    /* Alone on its CPU (no slice): any wake-up ends the turn. */
    assert_true(sched_wake_ends_turn(true, false, 5, 0));
    /* Sharing: only a higher priority, or a sibling of the same VM. */
    assert_false(sched_wake_ends_turn(false, false, 1, 1));
    assert_false(sched_wake_ends_turn(false, false, 2, 1));
    assert_true(sched_wake_ends_turn(false, false, 1, 2));
    assert_true(sched_wake_ends_turn(false, true, 1, 1));
    assert_true(sched_wake_ends_turn(false, true, 3, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_none_runnable),
        cmocka_unit_test(test_equal_priorities_take_turns),
        cmocka_unit_test(test_blocked_ones_are_skipped),
        cmocka_unit_test(test_higher_priority_always_first),
        cmocka_unit_test(test_two_high_share_and_low_waits),
        cmocka_unit_test(test_cursor_out_of_range_is_wrapped),
        cmocka_unit_test(test_a_yield_lets_lower_priorities_run),
        cmocka_unit_test(test_a_yield_alone_runs_again),
        cmocka_unit_test(test_a_spin_yield_prefers_a_sibling),
        cmocka_unit_test(test_turn_alone_without_deadline_is_unbounded),
        cmocka_unit_test(test_blocked_deadline_cuts_the_turn),
        cmocka_unit_test(test_wake_ends_turn),
        cmocka_unit_test(test_past_deadline_gives_the_shortest_turn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
