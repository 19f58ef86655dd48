/* Ordering and removal in the per-CPU timer list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "arch/x86_64/timer_queue.h"

static void test_empty(void **state)
{
    struct timer_queue q = {0};
    assert_int_equal(tq_next_deadline(&q), UINT64_MAX);
    assert_null(tq_pop_expired(&q, UINT64_MAX));
}

static void test_sorted_and_fifo(void **state)
{
    struct timer_queue q = {0};
    struct timer t[5] = {{.deadline_tsc = 50},
                         {.deadline_tsc = 10},
                         {.deadline_tsc = 30},
                         {.deadline_tsc = 10},
                         {.deadline_tsc = 70}};
    for (int i = 0; i < 5; i++)
        tq_insert(&q, &t[i]);
    assert_int_equal(q.count, 5);
    assert_int_equal(tq_next_deadline(&q), 10);
    assert_null(tq_pop_expired(&q, 9));
    /* Equal deadlines come out in insertion order. */
    assert_ptr_equal(tq_pop_expired(&q, 10), &t[1]);
    assert_ptr_equal(tq_pop_expired(&q, 10), &t[3]);
    assert_null(tq_pop_expired(&q, 29));
    assert_ptr_equal(tq_pop_expired(&q, 1000), &t[2]);
    assert_ptr_equal(tq_pop_expired(&q, 1000), &t[0]);
    assert_ptr_equal(tq_pop_expired(&q, 1000), &t[4]);
    assert_null(tq_pop_expired(&q, UINT64_MAX));
    assert_int_equal(q.count, 0);
}

static void test_remove(void **state)
{
    struct timer_queue q = {0};
    struct timer a = {.deadline_tsc = 1}, b = {.deadline_tsc = 2}, c = {.deadline_tsc = 3}, d = {0};
    tq_insert(&q, &a);
    tq_insert(&q, &b);
    tq_insert(&q, &c);
    assert_true(tq_remove(&q, &b));
    assert_false(tq_remove(&q, &b));
    assert_false(tq_remove(&q, &d));
    assert_true(tq_remove(&q, &a)); /* the head */
    assert_int_equal(tq_next_deadline(&q), 3);
    assert_true(tq_remove(&q, &c)); /* the last */
    assert_int_equal(tq_next_deadline(&q), UINT64_MAX);
    assert_int_equal(q.count, 0);
    /* A removed timer can be queued again. */
    tq_insert(&q, &b);
    assert_ptr_equal(tq_pop_expired(&q, 2), &b);
}

static void test_extremes(void **state)
{
    struct timer_queue q = {0};
    struct timer z = {.deadline_tsc = 0}, m = {.deadline_tsc = UINT64_MAX};
    tq_insert(&q, &m);
    tq_insert(&q, &z);
    assert_ptr_equal(tq_pop_expired(&q, 0), &z);
    assert_null(tq_pop_expired(&q, UINT64_MAX - 1));
    assert_ptr_equal(tq_pop_expired(&q, UINT64_MAX), &m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_sorted_and_fifo),
        cmocka_unit_test(test_remove),
        cmocka_unit_test(test_extremes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
