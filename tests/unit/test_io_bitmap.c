/* hvm/io_bitmap.h: the flat I/O permission bitmap both backends write
 * when a running VM's ports open and close (a passed-through I/O BAR). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hvm/io_bitmap.h"

/* VMX bitmaps A+B are 8 KiB, SVM's IOPM 12 KiB: the third page (accesses
 * past 0xffff) is never written. */
static uint8_t bm[0x3000];

static int setup(void **state)
{
    memset(bm, 0xff, sizeof(bm));
    return 0;
}

static void test_open_exactly_the_range(void **state)
{
    io_bitmap_set(bm, 0xc003, 0x3a, false); /* odd edges: partial bytes */
    for (uint32_t p = 0xbff0; p < 0xc060; p++)
        assert_int_equal(io_bitmap_intercepts(bm, (uint16_t)p, 1), p < 0xc003 || p >= 0xc03d);
    /* A dword access half inside still exits. */
    assert_true(io_bitmap_intercepts(bm, 0xc001, 4));
    assert_false(io_bitmap_intercepts(bm, 0xc004, 4));
    assert_true(io_bitmap_intercepts(bm, 0xc03b, 4));
}

static void test_close_restores_all_ones(void **state)
{
    uint8_t before[sizeof(bm)];
    memcpy(before, bm, sizeof(bm));
    io_bitmap_set(bm, 0xc000, 0x40, false);
    io_bitmap_set(bm, 0xc000, 0x40, true);
    assert_memory_equal(before, bm, sizeof(bm));
}

/* Two ranges sharing a byte: closing one leaves the other open. */
static void test_neighbours_keep_their_bits(void **state)
{
    io_bitmap_set(bm, 0xd000, 4, false);
    io_bitmap_set(bm, 0xd004, 4, false);
    io_bitmap_set(bm, 0xd000, 4, true);
    assert_true(io_bitmap_intercepts(bm, 0xd000, 4));
    assert_false(io_bitmap_intercepts(bm, 0xd004, 4));
}

/* Ranges are clipped at port 0xffff; accesses past it always exit, and
 * the IOPM's third page is never touched. */
static void test_top_of_the_port_space(void **state)
{
    io_bitmap_set(bm, 0xfff0, 0x100, false);
    assert_false(io_bitmap_intercepts(bm, 0xfffc, 4));
    assert_true(io_bitmap_intercepts(bm, 0xfffe, 4)); /* runs past 0xffff */
    assert_true(io_bitmap_intercepts(bm, 0xffef, 1));
    for (unsigned i = 0x2000; i < sizeof(bm); i++)
        assert_int_equal(bm[i], 0xff);
    io_bitmap_set(bm, 0, 0, false); /* nothing */
    assert_true(io_bitmap_intercepts(bm, 0, 1));
    io_bitmap_set(bm, 0x7ffe, 4, false); /* across bitmaps A and B */
    assert_false(io_bitmap_intercepts(bm, 0x7ffe, 4));
    assert_int_equal(bm[0xfff], 0x3f);
    assert_int_equal(bm[0x1000], 0xfc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_open_exactly_the_range, setup),
        cmocka_unit_test_setup(test_close_restores_all_ones, setup),
        cmocka_unit_test_setup(test_neighbours_keep_their_bits, setup),
        cmocka_unit_test_setup(test_top_of_the_port_space, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
