/* Exception merging: SDM Vol. 3A Table 6-5, pair by pair. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "arch/x86_64/exc_merge.h"

static const uint8_t benign[] = {1, 2, 3, 4, 5, 6, 7, 9, 16, 17, 18, 19, 21, 32, 255};
static const uint8_t contributory[] = {0, 10, 11, 12, 13};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_classes(void **state)
{
    for (unsigned i = 0; i < N(benign); i++)
        assert_int_equal(x86_exception_class(benign[i]), EXC_CLASS_BENIGN);
    for (unsigned i = 0; i < N(contributory); i++)
        assert_int_equal(x86_exception_class(contributory[i]), EXC_CLASS_CONTRIBUTORY);
    assert_int_equal(x86_exception_class(14), EXC_CLASS_PAGE_FAULT);
    assert_int_equal(x86_exception_class(8), EXC_CLASS_DOUBLE_FAULT);
}

static void test_benign_first_is_serial(void **state)
{
    for (unsigned i = 0; i < N(benign); i++) {
        for (unsigned j = 0; j < N(contributory); j++)
            assert_int_equal(x86_merge_exceptions(benign[i], contributory[j]), EXC_MERGE_SECOND);
        assert_int_equal(x86_merge_exceptions(benign[i], 14), EXC_MERGE_SECOND);
        assert_int_equal(x86_merge_exceptions(benign[i], benign[0]), EXC_MERGE_SECOND);
    }
}

static void test_contributory_first(void **state)
{
    for (unsigned i = 0; i < N(contributory); i++) {
        for (unsigned j = 0; j < N(contributory); j++)
            assert_int_equal(x86_merge_exceptions(contributory[i], contributory[j]),
                             EXC_MERGE_DOUBLE_FAULT);
        /* Contributory then #PF or benign: serial, no #DF. */
        assert_int_equal(x86_merge_exceptions(contributory[i], 14), EXC_MERGE_SECOND);
        assert_int_equal(x86_merge_exceptions(contributory[i], 6), EXC_MERGE_SECOND);
        assert_int_equal(x86_merge_exceptions(contributory[i], 17), EXC_MERGE_SECOND);
    }
}

static void test_page_fault_first(void **state)
{
    assert_int_equal(x86_merge_exceptions(14, 14), EXC_MERGE_DOUBLE_FAULT);
    for (unsigned j = 0; j < N(contributory); j++)
        assert_int_equal(x86_merge_exceptions(14, contributory[j]), EXC_MERGE_DOUBLE_FAULT);
    assert_int_equal(x86_merge_exceptions(14, 1), EXC_MERGE_SECOND);
    assert_int_equal(x86_merge_exceptions(14, 6), EXC_MERGE_SECOND);
}

static void test_double_fault_first(void **state)
{
    for (unsigned j = 0; j < N(contributory); j++)
        assert_int_equal(x86_merge_exceptions(8, contributory[j]), EXC_MERGE_TRIPLE_FAULT);
    assert_int_equal(x86_merge_exceptions(8, 14), EXC_MERGE_TRIPLE_FAULT);
    assert_int_equal(x86_merge_exceptions(8, 8), EXC_MERGE_TRIPLE_FAULT);
    assert_int_equal(x86_merge_exceptions(8, 1), EXC_MERGE_SECOND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classes),
        cmocka_unit_test(test_benign_first_is_serial),
        cmocka_unit_test(test_contributory_first),
        cmocka_unit_test(test_page_fault_first),
        cmocka_unit_test(test_double_fault_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
