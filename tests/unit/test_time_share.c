/* The arithmetic of `cpus` and `stats`: percentages from TSC-cycle counters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/time_share.h"

static void test_percent_rounds_and_clamps(void **state)
{
    assert_int_equal(share_percent(0, 1000), 0);
    assert_int_equal(share_percent(1000, 1000), 100);
    assert_int_equal(share_percent(500, 1000), 50);
    assert_int_equal(share_percent(994, 1000), 99);  /* 99.4 */
    assert_int_equal(share_percent(995, 1000), 100); /* 99.5 rounds up */
    assert_int_equal(share_percent(4, 1000), 0);
    assert_int_equal(share_percent(5, 1000), 1);
    assert_int_equal(share_percent(1, 3), 33);
    assert_int_equal(share_percent(2, 3), 67);
    /* More than the whole (counters read a moment apart) is 100, not 150. */
    assert_int_equal(share_percent(1500, 1000), 100);
    assert_int_equal(share_percent(0, 0), 0);
    assert_int_equal(share_percent(7, 0), 0);
}

static void test_percent_of_huge_counters(void **state)
{
    /* 100 * part overflows 64 bits here. */
    uint64_t whole = UINT64_MAX - 7;
    assert_int_equal(share_percent(whole / 2, whole), 50);
    assert_int_equal(share_percent(whole / 4 * 3, whole), 75);
    assert_int_equal(share_percent(whole - 1, whole), 100);
    assert_int_equal(share_percent(UINT64_MAX / 100, UINT64_MAX), 1);
    assert_int_equal(share_percent(1ULL << 62, 1ULL << 63), 50);
}

static void test_busy_counts_the_turn_in_progress(void **state)
{
    /* A vCPU alone on its CPU: one turn since 1000, nothing finished yet. */
    assert_int_equal(share_busy_at(0, 1000, 5000), 4000);
    assert_int_equal(share_busy_at(300, 1000, 5000), 4300);
    /* No turn running: only the finished ones. */
    assert_int_equal(share_busy_at(300, 0, 5000), 300);
    /* A turn that starts "after" now (read a moment apart): nothing extra. */
    assert_int_equal(share_busy_at(300, 6000, 5000), 300);
}

static void test_window_measures_each_interval(void **state)
{
    struct share_window w = {.at = 0, .busy = 0};
    /* Busy all the time since the start. */
    assert_int_equal(share_window_take(&w, 1000, 1000), 100);
    assert_int_equal(w.at, 1000);
    assert_int_equal(w.busy, 1000);
    /* Then idle for 1000: the next reading shows that interval only. */
    assert_int_equal(share_window_take(&w, 1000, 2000), 0);
    /* Then a quarter busy. */
    assert_int_equal(share_window_take(&w, 1250, 3000), 25);
    /* No time passed: 0, and the window stays consistent. */
    assert_int_equal(share_window_take(&w, 1250, 3000), 0);
    /* A busy counter that went backwards gives 0 rather than garbage. */
    assert_int_equal(share_window_take(&w, 100, 4000), 0);
    assert_int_equal(share_window_take(&w, 600, 5000), 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percent_rounds_and_clamps),
        cmocka_unit_test(test_percent_of_huge_counters),
        cmocka_unit_test(test_busy_counts_the_turn_in_progress),
        cmocka_unit_test(test_window_measures_each_interval),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
