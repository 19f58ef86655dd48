/* VT-d fault records: decoding, reason texts, the log line, per-device
 * counting and the log rate limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/vtd_fault.h"
#include "drivers/vtd_hw.h"

#define HI(reason, sid, read)                                                                      \
    (VTD_FRCD_F | ((uint64_t)(reason) << 32) | ((read) ? VTD_FRCD_T_READ : 0) | (sid))

static void test_decode_and_format_dma(void **state)
{
    struct vtd_fault f;
    char line[200];
    vtd_fault_decode(0x56c000, HI(5, 0x0028, false), &f);
    assert_int_equal(f.sid, 0x28);
    assert_false(f.read);
    assert_int_equal(f.reason, 5);
    assert_int_equal(f.addr, 0x56c000);
    vtd_fault_format(&f, line, sizeof(line));
    assert_string_equal(line, "iommu: fault 00:05.0 write addr 0x56c000 reason 0x05 "
                              "(write to a page without write permission)");
    /* Read, on another bus and function; FI's low bits are not an address. */
    vtd_fault_decode(0x12345678fffULL, HI(2, 0x3a1f, true), &f);
    assert_true(f.read);
    assert_int_equal(f.addr, 0x12345678000ULL);
    vtd_fault_format(&f, line, sizeof(line));
    assert_string_equal(line, "iommu: fault 3a:03.7 read addr 0x12345678000 reason 0x02 "
                              "(context entry not present: device has no DMA access)");
}

static void test_decode_interrupt_fault(void **state)
{
    struct vtd_fault f;
    char line[200];
    vtd_fault_decode(5ULL << 48, HI(0x26, 0x0028, true), &f);
    assert_true(vtd_fault_is_ir(f.reason));
    assert_int_equal(f.index, 5);
    assert_int_equal(f.addr, 0);
    assert_false(f.read); /* interrupt requests are writes */
    vtd_fault_format(&f, line, sizeof(line));
    assert_string_equal(line, "iommu: fault 00:05.0 write addr 0x0 reason 0x26 (interrupt "
                              "blocked by source-id verification, interrupt index 5)");
}

static void test_reason_strings(void **state)
{
    static const unsigned known[] = {1,   2,   3,    4,    5,    6,    7,    8,    9,    0xa, 0xb,
                                     0xc, 0xd, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27};
    for (unsigned i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        const char *s = vtd_fault_reason_str(known[i]);
        assert_string_not_equal(s, "unknown");
        for (unsigned k = 0; k < i; k++)
            assert_string_not_equal(s, vtd_fault_reason_str(known[k]));
    }
    assert_string_equal(vtd_fault_reason_str(0), "unknown");
    assert_string_equal(vtd_fault_reason_str(0x0e), "unknown");
    assert_string_equal(vtd_fault_reason_str(0xff), "unknown");
    assert_string_equal(vtd_fault_reason_str(6), "read from a page without read permission");
    assert_false(vtd_fault_is_ir(0x1f));
    assert_true(vtd_fault_is_ir(0x20));
}

static void test_rate_limit(void **state)
{
    struct vtd_fault_stat tab[4];
    memset(tab, 0, sizeof(tab));
    struct vtd_fault f = {.sid = 0x28, .reason = 5, .addr = 0x1000};
    struct vtd_fault_stat *s = vtd_fault_stat_get(tab, 4, 0, 0x28);
    uint64_t sup = 99;
    /* A burst: the first VTD_FAULT_BURST are logged, the rest counted. */
    for (unsigned i = 0; i < VTD_FAULT_BURST; i++) {
        assert_true(vtd_fault_account(s, &f, 1000 + i, 100, &sup));
        assert_int_equal(sup, 0);
    }
    for (unsigned i = 0; i < 7; i++)
        assert_false(vtd_fault_account(s, &f, 1010, 100, &sup));
    assert_int_equal(s->count, VTD_FAULT_BURST + 7);
    /* A window later the next one is logged and says how many were not. */
    f.addr = 0x2000;
    assert_true(vtd_fault_account(s, &f, 1100, 100, &sup));
    assert_int_equal(sup, 7);
    assert_int_equal(s->last_addr, 0x2000);
    assert_true(vtd_fault_account(s, &f, 1101, 100, &sup));
    assert_int_equal(sup, 0);
}

static void test_stat_slots(void **state)
{
    struct vtd_fault_stat tab[3];
    memset(tab, 0, sizeof(tab));
    struct vtd_fault_stat *a = vtd_fault_stat_get(tab, 3, 0, 0x28);
    assert_ptr_equal(vtd_fault_stat_get(tab, 3, 0, 0x28), a);
    struct vtd_fault_stat *b = vtd_fault_stat_get(tab, 3, 1, 0x28); /* other segment */
    assert_ptr_not_equal(a, b);
    struct vtd_fault_stat *c = vtd_fault_stat_get(tab, 3, 0, 0x10);
    /* Table full: newcomers share the last slot instead of being lost. */
    assert_ptr_equal(vtd_fault_stat_get(tab, 3, 0, 0x99), c);
    assert_null(vtd_fault_stat_get(tab, 0, 0, 0x28));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_and_format_dma),
        cmocka_unit_test(test_decode_interrupt_fault),
        cmocka_unit_test(test_reason_strings),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_stat_slots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
