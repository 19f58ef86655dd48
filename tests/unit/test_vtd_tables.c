/* VT-d second-level page tables, root and context tables: entry formats,
 * depths, large pages, limits, refusals without side effects, rollback on
 * allocation failure, cache-line write-back for non-coherent units. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/vtd_hw.h"
#include "drivers/vtd_pt.h"
#include "drivers/vtd_tables.h"
#include "test_vtd_pool.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

/* Walks by hand, independently of vtd_pt_translate: the entry that maps
 * iova at `level` (the leaf level expected), 0 when the walk stops early. */
static uint64_t entry_at(struct pool *p, const struct vtd_pt *pt, uint64_t iova, unsigned level)
{
    uint64_t t = pt->root;
    for (unsigned l = pt->levels; l >= level; l--) {
        uint64_t e = pool_word(p, t + 8 * ((iova >> (12 + 9 * (l - 1))) & 511));
        if (l == level)
            return e;
        if (!(e & 3) || (e & VTD_SL_PS))
            return 0;
        t = e & VTD_SL_ADDR_MASK;
    }
    return 0;
}

static void test_map_4k_three_levels(void **state)
{
    struct pool *p = pool_new(true);
    struct vtd_pt pt;
    assert_int_equal(vtd_pt_init(&pt, &p->ops, 3, 39, 39, 0), VTD_OK);
    assert_int_equal(pt.iova_limit, 1ULL << 39);
    assert_int_equal(vtd_pt_map(&pt, 0x12345000, 0x7000000, 0x2000, VTD_PERM_RW), VTD_OK);
    /* Three tables: the root (directory pointers), a directory, a table. */
    assert_int_equal(pt.nr_tables, 3);
    uint64_t e = entry_at(p, &pt, 0x12346000, 1);
    assert_int_equal(e, 0x7001000 | VTD_SL_R | VTD_SL_W);
    /* Non-leaf entries: R and W (so the leaf decides), no PS bit. */
    uint64_t d = entry_at(p, &pt, 0x12346000, 2);
    assert_int_equal(d & 0xfff, VTD_SL_R | VTD_SL_W);
    uint64_t hpa;
    unsigned perms;
    assert_int_equal(vtd_pt_translate(&pt, 0x12345abc, &hpa, &perms), VTD_OK);
    assert_int_equal(hpa, 0x7000abc);
    assert_int_equal(perms, VTD_PERM_RW);
    assert_int_equal(vtd_pt_translate(&pt, 0x12347000, NULL, NULL), VTD_ERR_FAULT);
    /* Every other word of the new tables is zero although the pool gave
     * dirty pages. */
    assert_int_equal(entry_at(p, &pt, 0x12347000, 1), 0);
    vtd_pt_destroy(&pt);
    assert_int_equal(p->allocs, p->frees);
    pool_delete(p);
}

static void test_four_levels_and_limits(void **state)
{
    struct pool *p = pool_new(true);
    struct vtd_pt pt;
    assert_int_equal(vtd_pt_init(&pt, &p->ops, 4, 48, 46, 0), VTD_OK);
    assert_int_equal(vtd_pt_map(&pt, 1ULL << 40, 0x1000, 0x1000, VTD_PERM_R), VTD_OK);
    assert_int_equal(entry_at(p, &pt, 1ULL << 40, 1), 0x1000 | VTD_SL_R);
    /* Output beyond the host address width, input beyond the input width. */
    assert_int_equal(vtd_pt_map(&pt, 0, 1ULL << 46, 0x1000, VTD_PERM_R), VTD_ERR_RANGE);
    assert_int_equal(vtd_pt_map(&pt, 1ULL << 48, 0, 0x1000, VTD_PERM_R), VTD_ERR_RANGE);
    assert_int_equal(vtd_pt_map(&pt, ~0xfffULL, 0, 0x2000, VTD_PERM_R), VTD_ERR_RANGE);
    vtd_pt_destroy(&pt);
    /* MGAW below what the levels reach narrows the input range. */
    assert_int_equal(vtd_pt_init(&pt, &p->ops, 3, 36, 39, 0), VTD_OK);
    assert_int_equal(pt.iova_limit, 1ULL << 36);
    assert_int_equal(vtd_pt_map(&pt, 1ULL << 36, 0, 0x1000, VTD_PERM_R), VTD_ERR_RANGE);
    vtd_pt_destroy(&pt);
    assert_int_equal(p->allocs, p->frees);
    pool_delete(p);
}

static void test_large_pages(void **state)
{
    struct pool *p = pool_new(true);
    struct vtd_pt pt;
    /* No SLLPS: 2 MiB becomes 512 small entries in one table. */
    assert_int_equal(vtd_pt_init(&pt, &p->ops, 3, 39, 39, 0), VTD_OK);
    assert_int_equal(vtd_pt_map(&pt, 2 * MiB, 4 * MiB, 2 * MiB, VTD_PERM_RW), VTD_OK);
    assert_int_equal(pt.nr_tables, 3);
    assert_int_equal(entry_at(p, &pt, 2 * MiB + 0x1ff000, 1), (6 * MiB - 0x1000) | 3);
    vtd_pt_destroy(&pt);
    /* 2 MiB pages: one directory entry with PS. */
    assert_int_equal(vtd_pt_init(&pt, &p->ops, 3, 39, 39, 1), VTD_OK);
    assert_int_equal(vtd_pt_map(&pt, 2 * MiB, 4 * MiB, 4 * MiB + 0x1000, VTD_PERM_RW), VTD_OK);
    assert_int_equal(entry_at(p, &pt, 2 * MiB, 2), 4 * MiB | VTD_SL_PS | 3);
    assert_int_equal(entry_at(p, &pt, 4 * MiB, 2), 6 * MiB | VTD_SL_PS | 3);
    /* The tail page is a 4 KiB leaf. */
    assert_int_equal(entry_at(p, &pt, 6 * MiB, 1), 8 * MiB | 3);
    assert_int_equal(pt.mapped, 4 * MiB + 0x1000);
    uint64_t hpa;
    assert_int_equal(vtd_pt_translate(&pt, 3 * MiB + 0x123, &hpa, NULL), VTD_OK);
    assert_int_equal(hpa, 5 * MiB + 0x123);
    /* Unmapping part of a large page would need a split: refused, intact. */
    assert_int_equal(vtd_pt_unmap(&pt, 2 * MiB, 0x1000), VTD_ERR_SPLIT);
    assert_int_equal(vtd_pt_translate(&pt, 2 * MiB, NULL, NULL), VTD_OK);
    /* Misaligned host address: small pages only. */
    assert_int_equal(vtd_pt_map(&pt, 16 * MiB, 0x1000, 2 * MiB, VTD_PERM_R), VTD_OK);
    assert_int_equal(entry_at(p, &pt, 16 * MiB, 2) & VTD_SL_PS, 0);
    vtd_pt_destroy(&pt);
    /* 1 GiB pages at level 3 of a 4-level table. */
    assert_int_equal(vtd_pt_init(&pt, &p->ops, 4, 48, 39, 3), VTD_OK);
    assert_int_equal(vtd_pt_map(&pt, GiB, 2 * GiB, GiB, VTD_PERM_RW), VTD_OK);
    assert_int_equal(entry_at(p, &pt, GiB, 3), 2 * GiB | VTD_SL_PS | 3);
    vtd_pt_destroy(&pt);
    assert_int_equal(p->allocs, p->frees);
    pool_delete(p);
}

static void test_refusals_change_nothing(void **state)
{
    struct pool *p = pool_new(true);
    struct vtd_pt pt;
    assert_int_equal(vtd_pt_init(&pt, &p->ops, 3, 39, 39, 1), VTD_OK);
    assert_int_equal(vtd_pt_map(&pt, 0x100000, 0x200000, 0x1000, VTD_PERM_R), VTD_OK);
    unsigned tables = pt.nr_tables;
    /* Overlap with an existing mapping anywhere in the range. */
    assert_int_equal(vtd_pt_map(&pt, 0xff000, 0x900000, 0x3000, VTD_PERM_RW), VTD_ERR_EXIST);
    assert_int_equal(vtd_pt_translate(&pt, 0xff000, NULL, NULL), VTD_ERR_FAULT);
    uint64_t hpa;
    unsigned perms;
    assert_int_equal(vtd_pt_translate(&pt, 0x100000, &hpa, &perms), VTD_OK);
    assert_int_equal(hpa, 0x200000);
    assert_int_equal(perms, VTD_PERM_R);
    /* Bad arguments. */
    assert_int_equal(vtd_pt_map(&pt, 0x1000, 0x1000, 0, VTD_PERM_R), VTD_ERR_INVAL);
    assert_int_equal(vtd_pt_map(&pt, 0x1800, 0x1000, 0x1000, VTD_PERM_R), VTD_ERR_INVAL);
    assert_int_equal(vtd_pt_map(&pt, 0x1000, 0x1800, 0x1000, VTD_PERM_R), VTD_ERR_INVAL);
    assert_int_equal(vtd_pt_map(&pt, 0x1000, 0x1000, 0x1000, 0), VTD_ERR_INVAL);
    assert_int_equal(vtd_pt_map(&pt, 0x1000, 0x1000, 0x1000, 4), VTD_ERR_INVAL);
    assert_int_equal(pt.nr_tables, tables);
    assert_int_equal(vtd_pt_init(&pt, &p->ops, 2, 39, 39, 0), VTD_ERR_INVAL);
    assert_int_equal(vtd_pt_init(&pt, &p->ops, 6, 39, 39, 0), VTD_ERR_INVAL);
    pool_delete(p);
}

static void test_unmap(void **state)
{
    struct pool *p = pool_new(true);
    struct vtd_pt pt;
    assert_int_equal(vtd_pt_init(&pt, &p->ops, 3, 39, 39, 0), VTD_OK);
    assert_int_equal(vtd_pt_map(&pt, 0x400000, 0x400000, 0x4000, VTD_PERM_RW), VTD_OK);
    /* Holes are fine; the rest goes. */
    assert_int_equal(vtd_pt_unmap(&pt, 0x3ff000, 0x3000), VTD_OK);
    assert_int_equal(vtd_pt_translate(&pt, 0x400000, NULL, NULL), VTD_ERR_FAULT);
    assert_int_equal(vtd_pt_translate(&pt, 0x401000, NULL, NULL), VTD_ERR_FAULT);
    assert_int_equal(vtd_pt_translate(&pt, 0x402000, NULL, NULL), VTD_OK);
    /* Tables stay until destroy (the unit may cache them until the next
     * IOTLB invalidation): the range can be mapped again without allocation. */
    unsigned allocs = p->allocs;
    assert_int_equal(vtd_pt_map(&pt, 0x400000, 0x800000, 0x2000, VTD_PERM_R), VTD_OK);
    assert_int_equal(p->allocs, allocs);
    assert_int_equal(vtd_pt_unmap(&pt, 0x401000, 0x1001), VTD_ERR_INVAL);
    /* What is mapped is counted: 0x402000-0x403fff and the two new pages. */
    assert_int_equal(pt.mapped, 0x4000);
    vtd_pt_destroy(&pt);
    assert_int_equal(p->allocs, p->frees);
    pool_delete(p);
}

/* A large mapping where an unmap left an empty table: the table stays in
 * use (small leaves) instead of being overwritten and leaked. */
static void test_large_over_emptied_table(void **state)
{
    struct pool *p = pool_new(true);
    struct vtd_pt pt;
    assert_int_equal(vtd_pt_init(&pt, &p->ops, 3, 39, 39, 1), VTD_OK);
    assert_int_equal(vtd_pt_map(&pt, 2 * MiB, 0x100000, 0x1000, VTD_PERM_R), VTD_OK);
    assert_int_equal(vtd_pt_unmap(&pt, 2 * MiB, 0x1000), VTD_OK);
    assert_int_equal(vtd_pt_map(&pt, 2 * MiB, 8 * MiB, 2 * MiB, VTD_PERM_RW), VTD_OK);
    assert_int_equal(entry_at(p, &pt, 2 * MiB, 2) & VTD_SL_PS, 0);
    uint64_t hpa;
    assert_int_equal(vtd_pt_translate(&pt, 4 * MiB - 0x1000, &hpa, NULL), VTD_OK);
    assert_int_equal(hpa, 10 * MiB - 0x1000);
    vtd_pt_destroy(&pt);
    assert_int_equal(p->allocs, p->frees);
    pool_delete(p);
}

static void test_nomem_rolls_back(void **state)
{
    struct pool *p = pool_new(true);
    struct vtd_pt pt;
    assert_int_equal(vtd_pt_init(&pt, &p->ops, 3, 39, 39, 0), VTD_OK);
    /* 4 MiB across two page tables: the second table cannot be had. */
    p->fail_after = 2;
    assert_int_equal(vtd_pt_map(&pt, 0, 0x1000000, 4 * MiB, VTD_PERM_RW), VTD_ERR_NOMEM);
    p->fail_after = -1;
    assert_int_equal(pt.mapped, 0);
    for (uint64_t a = 0; a < 4 * MiB; a += 0x1000)
        assert_int_equal(vtd_pt_translate(&pt, a, NULL, NULL), VTD_ERR_FAULT);
    assert_int_equal(vtd_pt_map(&pt, 0, 0x1000000, 4 * MiB, VTD_PERM_RW), VTD_OK);
    vtd_pt_destroy(&pt);
    assert_int_equal(p->allocs, p->frees);
    pool_delete(p);
}

static void test_noncoherent_flushes(void **state)
{
    struct pool *p = pool_new(false);
    struct vtd_pt pt;
    assert_int_equal(vtd_pt_init(&pt, &p->ops, 3, 39, 39, 0), VTD_OK);
    assert_int_equal(vtd_pt_map(&pt, 0x5000, 0x9000, 0x1000, VTD_PERM_RW), VTD_OK);
    /* Each entry written on the walk was written back to memory. */
    uint64_t t = pt.root;
    for (unsigned l = 3; l >= 1; l--) {
        uint64_t at = t + 8 * ((0x5000 >> (12 + 9 * (l - 1))) & 511);
        assert_true(pool_line_flushed(p, at));
        t = pool_word(p, at) & VTD_SL_ADDR_MASK;
    }
    vtd_pt_destroy(&pt);
    pool_delete(p);
}

/* Random maps and unmaps against a page-by-page model of a 64 MiB window:
 * translate must always agree, refusals must change nothing. */
static void test_random_against_model(void **state)
{
    enum { PAGES = 64 * MiB / 0x1000 };
    static uint64_t model[PAGES]; /* hpa | perms, 0 = unmapped */
    struct pool *p = pool_new(false);
    struct vtd_pt pt;
    uint32_t seed = 777;
    memset(model, 0, sizeof(model));
    assert_int_equal(vtd_pt_init(&pt, &p->ops, 3, 39, 39, 1), VTD_OK);
    for (unsigned iter = 0; iter < 3000; iter++) {
        seed = seed * 1103515245u + 12345u;
        bool big = (seed >> 4) % 4 == 0;
        uint64_t n = big ? 512 * (1 + (seed >> 8) % 2) : 1 + (seed >> 8) % 40;
        uint64_t first = (seed >> 12) % PAGES;
        if (big)
            first &= ~511ULL;
        if (first + n > PAGES)
            n = PAGES - first;
        uint64_t iova = first * 0x1000, size = n * 0x1000;
        if ((seed >> 30) & 1) {
            uint64_t hpa = (big ? 0x40000000ULL : 0x80000000ULL) + iova;
            unsigned perms = 1 + (seed >> 20) % 3;
            bool free_range = true;
            for (uint64_t i = first; i < first + n; i++)
                free_range &= !model[i];
            int r = vtd_pt_map(&pt, iova, hpa, size, perms);
            assert_int_equal(r, free_range ? VTD_OK : VTD_ERR_EXIST);
            if (!r)
                for (uint64_t i = 0; i < n; i++)
                    model[first + i] = (hpa + i * 0x1000) | perms;
        } else {
            int r = vtd_pt_unmap(&pt, iova, size);
            assert_true(r == VTD_OK || r == VTD_ERR_SPLIT);
            if (!r)
                for (uint64_t i = first; i < first + n; i++)
                    model[i] = 0;
        }
        uint64_t mapped = 0;
        for (uint64_t i = 0; i < PAGES; i += 1 + (iter % 7)) {
            uint64_t hpa;
            unsigned perms;
            int r = vtd_pt_translate(&pt, i * 0x1000, &hpa, &perms);
            if (!model[i]) {
                assert_int_equal(r, VTD_ERR_FAULT);
                continue;
            }
            assert_int_equal(r, VTD_OK);
            assert_int_equal(hpa | perms, model[i]);
        }
        for (uint64_t i = 0; i < PAGES; i++)
            mapped += model[i] ? 0x1000 : 0;
        assert_int_equal(pt.mapped, mapped);
    }
    vtd_pt_destroy(&pt);
    assert_int_equal(p->allocs, p->frees);
    pool_delete(p);
}

static void test_pick_levels(void **state)
{
    assert_int_equal(vtd_pick_levels(0x2, 39), 3); /* QEMU: 39-bit only */
    assert_int_equal(vtd_pick_levels(0x4, 39), 4);
    assert_int_equal(vtd_pick_levels(0x6, 39), 3);
    assert_int_equal(vtd_pick_levels(0x6, 40), 4);
    assert_int_equal(vtd_pick_levels(0x2, 48), 0);
    assert_int_equal(vtd_pick_levels(0x1, 30), 0); /* 2-level is not supported */
    assert_int_equal(vtd_pick_levels(0, 39), 0);
    assert_int_equal(vtd_levels_to_aw(3), 1);
    assert_int_equal(vtd_levels_to_aw(4), 2);
}

static void test_context_entry_format(void **state)
{
    struct vtd_entry128 e = vtd_context_entry(0x1234, 0xabcde000, 3);
    /* Present, fault reporting on (FPD clear), TT 00 (no ATS). */
    assert_int_equal(e.lo, 0xabcde000 | 1);
    assert_int_equal(e.hi, (0x1234 << 8) | 1);
    e = vtd_context_entry(7, 0x1000, 4);
    assert_int_equal(e.hi, (7 << 8) | 2);
}

static void test_root_and_context_tables(void **state)
{
    struct pool *p = pool_new(false);
    struct vtd_ctx_tables t;
    struct vtd_entry128 e;
    assert_int_equal(vtd_ctx_init(&t, &p->ops), VTD_OK);
    /* Nothing present: every device is denied. */
    for (unsigned b = 0; b < 256; b++)
        assert_int_equal(pool_word(p, t.root + 16 * b), 0);
    assert_false(vtd_ctx_get(&t, 0, 0x28, &e));
    assert_int_equal(vtd_ctx_set(&t, 2, 0x28, 5, 0x3000, 3), VTD_OK);
    uint64_t root_lo = pool_word(p, t.root + 16 * 2);
    assert_int_equal(root_lo & 1, 1);
    assert_int_equal(root_lo & ~0xfffULL, t.ctx[2]);
    assert_true(pool_line_flushed(p, t.root + 16 * 2));
    assert_true(vtd_ctx_get(&t, 2, 0x28, &e));
    assert_int_equal(e.lo, 0x3000 | 1);
    assert_int_equal(e.hi, (5 << 8) | 1);
    assert_true(pool_line_flushed(p, t.ctx[2] + 16 * 0x28));
    /* Only that function: its neighbours stay denied. */
    assert_false(vtd_ctx_get(&t, 2, 0x29, &e));
    assert_false(vtd_ctx_get(&t, 3, 0x28, &e));
    /* Moving to another domain replaces the entry. */
    assert_int_equal(vtd_ctx_set(&t, 2, 0x28, 6, 0x4000, 4), VTD_OK);
    assert_int_equal(t.nr_present, 1);
    assert_true(vtd_ctx_get(&t, 2, 0x28, &e));
    assert_int_equal(e.hi, (6 << 8) | 2);
    vtd_ctx_clear(&t, 2, 0x28);
    assert_false(vtd_ctx_get(&t, 2, 0x28, &e));
    assert_int_equal(t.nr_present, 0);
    assert_int_equal(pool_word(p, t.ctx[2] + 16 * 0x28), 0);
    /* Bad arguments: domain 0, unaligned or missing table, wrong depth. */
    assert_int_equal(vtd_ctx_set(&t, 1, 0, 0, 0x3000, 3), VTD_ERR_INVAL);
    assert_int_equal(vtd_ctx_set(&t, 1, 0, 1, 0x3001, 3), VTD_ERR_INVAL);
    assert_int_equal(vtd_ctx_set(&t, 1, 0, 1, 0, 3), VTD_ERR_INVAL);
    assert_int_equal(vtd_ctx_set(&t, 1, 0, 1, 0x3000, 2), VTD_ERR_INVAL);
    vtd_ctx_destroy(&t);
    assert_int_equal(p->allocs, p->frees);
    pool_delete(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_4k_three_levels),
        cmocka_unit_test(test_four_levels_and_limits),
        cmocka_unit_test(test_large_pages),
        cmocka_unit_test(test_refusals_change_nothing),
        cmocka_unit_test(test_unmap),
        cmocka_unit_test(test_large_over_emptied_table),
        cmocka_unit_test(test_nomem_rolls_back),
        cmocka_unit_test(test_noncoherent_flushes),
        cmocka_unit_test(test_random_against_model),
        cmocka_unit_test(test_pick_levels),
        cmocka_unit_test(test_context_entry_format),
        cmocka_unit_test(test_root_and_context_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
