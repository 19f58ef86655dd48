/* Memory map normalisation: sorting, merging, overlap precedence, subtract. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mm/memmap.h"

#define R(b, l, t) ((struct mem_region){(b), (l), (t)})

static void expect_map(const struct mem_region *got, unsigned n, const struct mem_region *want,
                       unsigned wn)
{
    if (n != wn) {
        for (unsigned i = 0; i < n; i++)
            print_message("  [%u] 0x%llx+0x%llx type %u\n", i, (unsigned long long)got[i].base,
                          (unsigned long long)got[i].len, got[i].type);
        fail_msg("got %u regions, want %u", n, wn);
    }
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(got[i].base, want[i].base);
        assert_int_equal(got[i].len, want[i].len);
        assert_int_equal(got[i].type, want[i].type);
    }
}

static void test_sort_and_merge(void **state)
{
    struct mem_region r[8] = {
        R(0x300000, 0x100000, MEM_USABLE), R(0x100000, 0x100000, MEM_USABLE),
        R(0x0, 0x9f000, MEM_USABLE),       R(0x200000, 0x100000, MEM_USABLE), /* touching */
        R(0x500000, 0, MEM_RESERVED),                                         /* empty: dropped */
    };
    unsigned n = 5;
    assert_int_equal(memmap_normalize(r, &n, 8), 0);
    const struct mem_region want[] = {R(0x0, 0x9f000, MEM_USABLE),
                                      R(0x100000, 0x300000, MEM_USABLE)};
    expect_map(r, n, want, 2);
}

static void test_same_type_overlap(void **state)
{
    struct mem_region r[4] = {R(0x1000, 0x5000, MEM_RESERVED), R(0x2000, 0x1000, MEM_RESERVED),
                              R(0x4000, 0x4000, MEM_RESERVED)};
    unsigned n = 3;
    assert_int_equal(memmap_normalize(r, &n, 4), 0);
    const struct mem_region want[] = {R(0x1000, 0x7000, MEM_RESERVED)};
    expect_map(r, n, want, 1);
}

static void test_reserved_inside_usable(void **state)
{
    /* reserved hole in the middle splits usable in two */
    struct mem_region r[4] = {R(0x100000, 0x900000, MEM_USABLE),
                              R(0x400000, 0x100000, MEM_RESERVED)};
    unsigned n = 2;
    assert_int_equal(memmap_normalize(r, &n, 4), 0);
    const struct mem_region want[] = {R(0x100000, 0x300000, MEM_USABLE),
                                      R(0x400000, 0x100000, MEM_RESERVED),
                                      R(0x500000, 0x500000, MEM_USABLE)};
    expect_map(r, n, want, 3);
}

static void test_precedence(void **state)
{
    /* Usable overlapped at its start by ACPI, NVS over ACPI, bad over reserved. */
    struct mem_region r[16] = {
        R(0x10000, 0x10000, MEM_USABLE),  R(0x8000, 0x10000, MEM_ACPI_RECLAIM),
        R(0x14000, 0x2000, MEM_ACPI_NVS), R(0x40000, 0x10000, MEM_RESERVED),
        R(0x48000, 0x10000, MEM_BAD),     R(0x58000, 0x8000, MEM_USABLE),
        R(0x60000, 0x1000, 99), /* unknown type: reserved */
    };
    unsigned n = 7;
    assert_int_equal(memmap_normalize(r, &n, 16), 0);
    const struct mem_region want[] = {
        R(0x8000, 0xc000, MEM_ACPI_RECLAIM),  R(0x14000, 0x2000, MEM_ACPI_NVS),
        R(0x16000, 0x2000, MEM_ACPI_RECLAIM), R(0x18000, 0x8000, MEM_USABLE),
        R(0x40000, 0x8000, MEM_RESERVED),     R(0x48000, 0x10000, MEM_BAD),
        R(0x58000, 0x8000, MEM_USABLE),       R(0x60000, 0x1000, MEM_RESERVED),
    };
    expect_map(r, n, want, 8);
}

static void test_usable_never_wins(void **state)
{
    /* usable listed after and covering a reserved range */
    struct mem_region r[4] = {R(0x2000, 0x1000, MEM_RESERVED), R(0x0, 0x10000, MEM_USABLE)};
    unsigned n = 2;
    assert_int_equal(memmap_normalize(r, &n, 4), 0);
    const struct mem_region want[] = {R(0x0, 0x2000, MEM_USABLE), R(0x2000, 0x1000, MEM_RESERVED),
                                      R(0x3000, 0xd000, MEM_USABLE)};
    expect_map(r, n, want, 3);
}

static void test_wrap_clipped(void **state)
{
    struct mem_region r[2] = {R(0xfffffffffffff000ull, 0x10000, MEM_USABLE)};
    unsigned n = 1;
    assert_int_equal(memmap_normalize(r, &n, 2), 0);
    assert_int_equal(n, 1);
    assert_int_equal(r[0].base + r[0].len, UINT64_MAX);
}

static void test_capacity(void **state)
{
    /* two reserved holes need 5 entries; with max 4 it must fail, not overflow */
    struct mem_region r[4] = {R(0x0, 0x100000, MEM_USABLE), R(0x10000, 0x1000, MEM_RESERVED),
                              R(0x20000, 0x1000, MEM_RESERVED)};
    unsigned n = 3;
    assert_int_equal(memmap_normalize(r, &n, 4), -1);
    assert_true(n <= 4);

    struct mem_region r2[5] = {R(0x0, 0x100000, MEM_USABLE), R(0x10000, 0x1000, MEM_RESERVED),
                               R(0x20000, 0x1000, MEM_RESERVED)};
    n = 3;
    assert_int_equal(memmap_normalize(r2, &n, 5), 0);
    assert_int_equal(n, 5);
}

static uint32_t rank(uint32_t t)
{
    static const uint32_t rk[] = {3, 0, 3, 1, 2, 4};
    return t <= 5 ? rk[t] : 3;
}

/* Reference: the type covering addr in the raw input (0 = none). */
static uint32_t raw_type_at(const struct mem_region *r, unsigned n, uint64_t addr)
{
    uint32_t best = 0;
    for (unsigned i = 0; i < n; i++) {
        if (addr >= r[i].base && addr - r[i].base < r[i].len) {
            uint32_t t = (r[i].type >= 1 && r[i].type <= 5) ? r[i].type : MEM_RESERVED;
            if (!best || rank(t) > rank(best))
                best = t;
        }
    }
    return best;
}

static uint32_t norm_type_at(const struct mem_region *r, unsigned n, uint64_t addr)
{
    for (unsigned i = 0; i < n; i++)
        if (addr >= r[i].base && addr - r[i].base < r[i].len)
            return r[i].type;
    return 0;
}

static void test_random_against_reference(void **state)
{
    srand(42);
    for (int iter = 0; iter < 3000; iter++) {
        struct mem_region raw[12], r[64];
        unsigned n = 1 + (unsigned)rand() % 12;
        for (unsigned i = 0; i < n; i++) {
            raw[i].base = (uint64_t)(rand() % 64) * 0x1000;
            raw[i].len = (uint64_t)(rand() % 24) * 0x1000;
            raw[i].type = 1 + (unsigned)rand() % 6; /* includes unknown 6 */
        }
        memcpy(r, raw, sizeof(raw));
        unsigned m = n;
        assert_int_equal(memmap_normalize(r, &m, 64), 0);
        for (unsigned i = 0; i < m; i++) {
            assert_true(r[i].len > 0);
            assert_true(r[i].type >= MEM_USABLE && r[i].type <= MEM_BAD);
            if (i) {
                assert_true(r[i].base >= r[i - 1].base + r[i - 1].len);
                /* touching same-type regions must have been merged */
                if (r[i].base == r[i - 1].base + r[i - 1].len)
                    assert_int_not_equal(r[i].type, r[i - 1].type);
            }
        }
        for (uint64_t a = 0; a < 0x60000; a += 0x800)
            assert_int_equal(norm_type_at(r, m, a), raw_type_at(raw, n, a));
    }
}

static void test_subtract(void **state)
{
    struct mem_region r[6] = {R(0x0, 0x9f000, MEM_USABLE), R(0x100000, 0x700000, MEM_USABLE),
                              R(0x800000, 0x1000, MEM_RESERVED)};
    unsigned n = 3;
    /* middle: split */
    assert_int_equal(memmap_subtract(r, &n, 6, 0x200000, 0x100000), 0);
    const struct mem_region w1[] = {R(0x0, 0x9f000, MEM_USABLE), R(0x100000, 0x100000, MEM_USABLE),
                                    R(0x300000, 0x500000, MEM_USABLE),
                                    R(0x800000, 0x1000, MEM_RESERVED)};
    expect_map(r, n, w1, 4);
    /* across several regions: head cut, whole removed, tail cut */
    assert_int_equal(memmap_subtract(r, &n, 6, 0x50000, 0x2b0000 + 0x10000), 0);
    const struct mem_region w2[] = {R(0x0, 0x50000, MEM_USABLE), R(0x310000, 0x4f0000, MEM_USABLE),
                                    R(0x800000, 0x1000, MEM_RESERVED)};
    expect_map(r, n, w2, 3);
    /* no room for a split: unchanged */
    struct mem_region full[1] = {R(0x0, 0x10000, MEM_USABLE)};
    unsigned fn = 1;
    assert_int_equal(memmap_subtract(full, &fn, 1, 0x4000, 0x1000), -1);
    expect_map(full, fn, (struct mem_region[]){R(0x0, 0x10000, MEM_USABLE)}, 1);
    /* len 0 and a range to 2^64 */
    assert_int_equal(memmap_subtract(r, &n, 6, 0x1000, 0), 0);
    assert_int_equal(n, 3);
    assert_int_equal(memmap_subtract(r, &n, 6, 0x400000, UINT64_MAX), 0);
    const struct mem_region w3[] = {R(0x0, 0x50000, MEM_USABLE), R(0x310000, 0xf0000, MEM_USABLE)};
    expect_map(r, n, w3, 2);
}

static void test_usable_stats(void **state)
{
    const struct mem_region r[] = {R(0x0, 0x9f000, MEM_USABLE), R(0x9f000, 0x1000, MEM_RESERVED),
                                   R(0x100000, 0x3ff00000, MEM_USABLE),
                                   R(0x40000000, 0x1000, MEM_ACPI_NVS)};
    assert_int_equal(memmap_usable_bytes(r, 4), 0x9f000 + 0x3ff00000);
    assert_int_equal(memmap_usable_count(r, 4), 2);
    assert_int_equal(memmap_usable_bytes(r, 0), 0);
    assert_string_equal(memmap_type_name(MEM_ACPI_NVS), "ACPI NVS");
    assert_string_equal(memmap_type_name(42), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sort_and_merge),
        cmocka_unit_test(test_same_type_overlap),
        cmocka_unit_test(test_reserved_inside_usable),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_usable_never_wins),
        cmocka_unit_test(test_wrap_clipped),
        cmocka_unit_test(test_capacity),
        cmocka_unit_test(test_random_against_reference),
        cmocka_unit_test(test_subtract),
        cmocka_unit_test(test_usable_stats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
