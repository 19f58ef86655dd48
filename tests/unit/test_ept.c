/* EPT/NPT builder and walker tests against a host-backed fake physical
 * memory. The format-independent cases run once per format (test_npt_*
 * wrappers); the entry-bit cases check each format's own encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ept/ept.h"

#define POOL_PAGES 2048
#define POOL_BASE  0x10000000ULL /* fake phys of table pages */
#define DATA_BASE  0x80000000ULL /* fake phys of "guest RAM" backed by data[] */
#define DATA_SIZE  0x10000ULL

struct pool {
    uint8_t *mem;
    uint8_t used[POOL_PAGES];
    unsigned allocs, frees;
    int fail_after; /* -1: never fail; n: the (n+1)th alloc from now fails */
    uint8_t *data;
};

static uint64_t pool_alloc(void *ctx)
{
    struct pool *p = ctx;
    if (p->fail_after == 0)
        return 0;
    if (p->fail_after > 0)
        p->fail_after--;
    for (unsigned i = 0; i < POOL_PAGES; i++) {
        if (!p->used[i]) {
            p->used[i] = 1;
            p->allocs++;
            /* Dirty on purpose: ept must zero tables itself rather than trust
             * the allocator with what becomes guest-visible mappings. */
            memset(p->mem + (size_t)i * 4096, 0xff, 4096);
            return POOL_BASE + (uint64_t)i * 4096;
        }
    }
    return 0;
}

static void pool_free(void *ctx, uint64_t phys)
{
    struct pool *p = ctx;
    assert_true(phys >= POOL_BASE && phys < POOL_BASE + POOL_PAGES * 4096ULL);
    assert_int_equal(phys & 0xfff, 0);
    unsigned i = (unsigned)((phys - POOL_BASE) / 4096);
    assert_true(p->used[i]); /* double free */
    p->used[i] = 0;
    memset(p->mem + (size_t)i * 4096, 0xa5, 4096); /* poison: catches use after free */
    p->frees++;
}

static void *pool_virt(void *ctx, uint64_t phys)
{
    struct pool *p = ctx;
    if (phys >= POOL_BASE && phys < POOL_BASE + POOL_PAGES * 4096ULL)
        return p->mem + (phys - POOL_BASE);
    if (phys >= DATA_BASE && phys < DATA_BASE + DATA_SIZE)
        return p->data + (phys - DATA_BASE);
    return NULL;
}

struct fixture {
    struct pool pool;
    struct ept_ops ops;
    struct ept ept;
    const struct ept_format *fmt;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->pool.mem = aligned_alloc(4096, POOL_PAGES * 4096);
    f->pool.data = calloc(1, DATA_SIZE);
    f->pool.fail_after = -1;
    f->ops = (struct ept_ops){pool_alloc, pool_free, pool_virt, &f->pool};
    f->fmt = &ept_format_ept;
    *state = f;
    return 0;
}

static int setup_npt(void **state)
{
    setup(state);
    ((struct fixture *)*state)->fmt = &ept_format_npt;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    free(f->pool.mem);
    free(f->pool.data);
    free(f);
    return 0;
}

struct leaf {
    uint64_t gpa, hpa, size;
    unsigned perms, mt;
};

struct leaves {
    struct leaf l[4096];
    unsigned n;
    unsigned n4k, n2m, n1g;
};

static void collect(uint64_t gpa, uint64_t hpa, uint64_t size, unsigned perms, unsigned mt,
                    void *arg)
{
    struct leaves *ls = arg;
    if (ls->n < 4096)
        ls->l[ls->n] = (struct leaf){gpa, hpa, size, perms, mt};
    if (ls->n > 0 && ls->n <= 4096)
        assert_true(gpa > ls->l[ls->n - 1].gpa); /* ascending order */
    ls->n++;
    ls->n4k += size == EPT_PAGE_SIZE;
    ls->n2m += size == EPT_2M;
    ls->n1g += size == EPT_1G;
}

static struct leaves *leaves_of(const struct ept *e)
{
    static struct leaves ls;
    memset(&ls, 0, sizeof(ls));
    ept_for_each_leaf(e, collect, &ls);
    return &ls;
}

static void expect_tr(const struct ept *e, uint64_t gpa, uint64_t hpa, unsigned perms, uint64_t psz)
{
    uint64_t h = 0, s = 0;
    unsigned p = 0;
    assert_int_equal(ept_translate(e, gpa, &h, &p, &s), 0);
    assert_int_equal(h, hpa);
    assert_int_equal(p, perms);
    assert_int_equal(s, psz);
}

/* Raw entry for gpa at level (4 = PML4 .. 1 = PT), following table pointers. */
static uint64_t raw_entry(struct fixture *f, uint64_t gpa, unsigned level)
{
    uint64_t phys = f->ept.pml4_phys;
    for (unsigned l = 4;; l--) {
        uint64_t *t = pool_virt(&f->pool, phys);
        assert_non_null(t);
        uint64_t v = t[(gpa >> (12 + 9 * (l - 1))) & 511];
        if (l == level)
            return v;
        assert_int_equal(v & EPTE_LARGE, 0);
        phys = v & EPTE_ADDR_MASK;
    }
}

static void init(struct fixture *f, bool m2, bool g1)
{
    assert_int_equal(ept_init_format(&f->ept, &f->ops, f->fmt, m2, g1), 0);
}

static void finish(struct fixture *f)
{
    ept_destroy(&f->ept);
    assert_int_equal(f->pool.allocs, f->pool.frees);
    assert_int_equal(f->ept.pml4_phys, 0);
}

static void test_init_destroy_eptp(void **state)
{
    struct fixture *f = *state;
    init(f, true, true);
    assert_int_equal(f->pool.allocs, 1);
    assert_int_equal(f->ept.nr_table_pages, 1);
    uint64_t pml4 = f->ept.pml4_phys;
    assert_int_equal(pml4 & 0xfff, 0);
    assert_int_equal(ept_eptp(&f->ept, false), pml4 | 0x1e);
    assert_int_equal(ept_eptp(&f->ept, true), pml4 | 0x5e);
    assert_int_equal(ept_translate(&f->ept, 0, NULL, NULL, NULL), -1);
    assert_int_equal(ept_translate(&f->ept, 0x123456000, NULL, NULL, NULL), -1);
    finish(f);
    ept_destroy(&f->ept); /* twice is harmless */

    f->pool.fail_after = 0;
    assert_int_equal(ept_init(&f->ept, &f->ops, true, true), EPT_ERR_NOMEM);
    struct ept_ops bad = {NULL, pool_free, pool_virt, &f->pool};
    assert_int_equal(ept_init(&f->ept, &bad, true, true), EPT_ERR_INVAL);
}

static void test_1g_leaf_when_allowed(void **state)
{
    struct fixture *f = *state;
    init(f, true, true);
    assert_int_equal(ept_map(&f->ept, EPT_1G, 0x3 * EPT_1G, EPT_1G, EPT_RWX, EPT_MT_WB), 0);
    struct leaves *ls = leaves_of(&f->ept);
    assert_int_equal(ls->n, 1);
    assert_int_equal(ls->n1g, 1);
    assert_int_equal(ls->l[0].gpa, EPT_1G);
    assert_int_equal(ls->l[0].hpa, 3 * EPT_1G);
    assert_int_equal(ls->l[0].mt, EPT_MT_WB);
    assert_int_equal(f->ept.nr_table_pages, 2); /* PML4 + PDPT */
    expect_tr(&f->ept, EPT_1G + 0x12345678, 3 * EPT_1G + 0x12345678, EPT_RWX, EPT_1G);
    assert_int_equal(ept_translate(&f->ept, EPT_1G - 1, NULL, NULL, NULL), -1);
    assert_int_equal(ept_translate(&f->ept, 2 * EPT_1G, NULL, NULL, NULL), -1);
    finish(f);
}

static void test_2m_leaves_without_1g(void **state)
{
    struct fixture *f = *state;
    init(f, true, false);
    assert_int_equal(ept_map(&f->ept, EPT_1G, 0x3 * EPT_1G, EPT_1G, EPT_R | EPT_W, EPT_MT_WB), 0);
    struct leaves *ls = leaves_of(&f->ept);
    assert_int_equal(ls->n, 512);
    assert_int_equal(ls->n2m, 512);
    assert_int_equal(f->ept.nr_table_pages, 3);
    expect_tr(&f->ept, EPT_1G + 0x12345678, 3 * EPT_1G + 0x12345678, EPT_R | EPT_W, EPT_2M);
    finish(f);
}

static void test_4k_only_and_alignment_choice(void **state)
{
    struct fixture *f = *state;
    init(f, false, false);
    assert_int_equal(ept_map(&f->ept, 0, 0x40000000, 2 * EPT_2M, EPT_RWX, EPT_MT_WB), 0);
    struct leaves *ls = leaves_of(&f->ept);
    assert_int_equal(ls->n4k, 1024);
    assert_int_equal(ls->n, 1024);
    assert_int_equal(f->ept.nr_table_pages, 5); /* PML4, PDPT, PD, 2 PT */
    finish(f);

    /* gpa 2M-aligned but hpa only 4K-aligned: no large page possible. */
    init(f, true, true);
    assert_int_equal(ept_map(&f->ept, EPT_2M, 0x40001000, EPT_2M, EPT_RWX, EPT_MT_WB), 0);
    ls = leaves_of(&f->ept);
    assert_int_equal(ls->n4k, 512);
    assert_int_equal(ls->n2m, 0);
    finish(f);

    /* Unaligned head and tail, large middle. */
    init(f, true, true);
    assert_int_equal(ept_map(&f->ept, 0x1ff000, 0x801ff000, 0x202000, EPT_RWX, EPT_MT_WB), 0);
    ls = leaves_of(&f->ept);
    assert_int_equal(ls->n, 3);
    assert_int_equal(ls->l[0].gpa, 0x1ff000);
    assert_int_equal(ls->l[0].size, EPT_PAGE_SIZE);
    assert_int_equal(ls->l[1].gpa, 0x200000);
    assert_int_equal(ls->l[1].hpa, 0x80200000);
    assert_int_equal(ls->l[1].size, EPT_2M);
    assert_int_equal(ls->l[2].gpa, 0x400000);
    assert_int_equal(ls->l[2].size, EPT_PAGE_SIZE);
    finish(f);

    /* 1G allowed but size just short of 1G: 2M pages. */
    init(f, true, true);
    assert_int_equal(ept_map(&f->ept, 0, 0, EPT_1G - EPT_2M, EPT_RWX, EPT_MT_WB), 0);
    ls = leaves_of(&f->ept);
    assert_int_equal(ls->n2m, 511);
    assert_int_equal(ls->n1g, 0);
    finish(f);
}

static void test_perms_and_memtypes_in_leaves(void **state)
{
    struct fixture *f = *state;
    init(f, true, true);
    assert_int_equal(ept_map(&f->ept, 0x1000, 0x1000, 0x1000, EPT_R, EPT_MT_UC), 0);
    assert_int_equal(ept_map(&f->ept, 0x2000, 0x2000, 0x1000, EPT_R | EPT_X | EPT_IPAT, EPT_MT_WC),
                     0);
    assert_int_equal(ept_map(&f->ept, 0x3000, 0x3000, 0x1000, EPT_R | EPT_W, EPT_MT_WT), 0);
    assert_int_equal(ept_map(&f->ept, 0x4000, 0x4000, 0x1000, EPT_RWX, EPT_MT_WP), 0);
    struct leaves *ls = leaves_of(&f->ept);
    assert_int_equal(ls->n, 4);
    assert_int_equal(ls->l[0].perms, EPT_R);
    assert_int_equal(ls->l[0].mt, EPT_MT_UC);
    assert_int_equal(ls->l[1].perms, EPT_R | EPT_X | EPT_IPAT);
    assert_int_equal(ls->l[1].mt, EPT_MT_WC);
    assert_int_equal(ls->l[2].perms, EPT_R | EPT_W);
    assert_int_equal(ls->l[2].mt, EPT_MT_WT);
    assert_int_equal(ls->l[3].mt, EPT_MT_WP);

    /* Raw entry: PTE for 0x2000 has R|X, MT=1 in bits 5:3, IPAT bit 6, no bit 7. */
    uint64_t *pml4 = pool_virt(&f->pool, f->ept.pml4_phys);
    uint64_t *pdpt = pool_virt(&f->pool, pml4[0] & EPTE_ADDR_MASK);
    uint64_t *pd = pool_virt(&f->pool, pdpt[0] & EPTE_ADDR_MASK);
    uint64_t *pt = pool_virt(&f->pool, pd[0] & EPTE_ADDR_MASK);
    assert_int_equal(pml4[0] & 7, 7);
    assert_int_equal(pt[2], 0x2000 | 0x5 | (1 << 3) | (1 << 6));

    /* Protect keeps memory type, replaces IPAT with the new flags. */
    assert_int_equal(ept_protect(&f->ept, 0x2000, 0x1000, EPT_R | EPT_W), 0);
    assert_int_equal(pt[2], 0x2000 | 0x3 | (1 << 3));
    finish(f);
}

static void test_split_2m_by_unmap(void **state)
{
    struct fixture *f = *state;
    init(f, true, true);
    assert_int_equal(ept_map(&f->ept, 0x200000, 0x40000000, EPT_2M, EPT_R | EPT_W, EPT_MT_WB), 0);
    assert_int_equal(ept_unmap(&f->ept, 0x201000, 0x1000), 0);
    assert_int_equal(ept_translate(&f->ept, 0x201000, NULL, NULL, NULL), -1);
    assert_int_equal(ept_translate(&f->ept, 0x201fff, NULL, NULL, NULL), -1);
    expect_tr(&f->ept, 0x200000, 0x40000000, EPT_R | EPT_W, EPT_PAGE_SIZE);
    expect_tr(&f->ept, 0x202abc, 0x40002abc, EPT_R | EPT_W, EPT_PAGE_SIZE);
    expect_tr(&f->ept, 0x3ff000, 0x401ff000, EPT_R | EPT_W, EPT_PAGE_SIZE);
    struct leaves *ls = leaves_of(&f->ept);
    assert_int_equal(ls->n4k, 511);
    for (unsigned i = 0; i < ls->n; i++)
        assert_int_equal(ls->l[i].mt, EPT_MT_WB);
    /* Split PTEs: exact bits, no large-page bit; the PDE now points to a table. */
    assert_int_equal(raw_entry(f, 0x202000, 1), 0x40002000 | EPT_R | EPT_W | (6 << 3));
    assert_int_equal(raw_entry(f, 0x202000, 2) & (EPTE_LARGE | 7), 7);
    finish(f);
}

static void test_split_1g_by_protect(void **state)
{
    struct fixture *f = *state;
    init(f, true, true);
    assert_int_equal(ept_map(&f->ept, 0, EPT_1G, EPT_1G, EPT_RWX, EPT_MT_WB), 0);
    assert_int_equal(ept_protect(&f->ept, 0x345000, 0x1000, EPT_R), 0);
    struct leaves *ls = leaves_of(&f->ept);
    assert_int_equal(ls->n1g, 0);
    assert_int_equal(ls->n2m, 511);
    assert_int_equal(ls->n4k, 512);
    expect_tr(&f->ept, 0x345000, EPT_1G + 0x345000, EPT_R, EPT_PAGE_SIZE);
    expect_tr(&f->ept, 0x344000, EPT_1G + 0x344000, EPT_RWX, EPT_PAGE_SIZE);
    expect_tr(&f->ept, 0x346000, EPT_1G + 0x346000, EPT_RWX, EPT_PAGE_SIZE);
    expect_tr(&f->ept, 0x1234567, EPT_1G + 0x1234567, EPT_RWX, EPT_2M);
    expect_tr(&f->ept, EPT_1G - 1, 2 * EPT_1G - 1, EPT_RWX, EPT_2M);
    assert_int_equal(raw_entry(f, 0x600000, 2), (EPT_1G + 0x600000) | 7 | (6 << 3) | EPTE_LARGE);
    assert_int_equal(raw_entry(f, 0x345000, 1), (EPT_1G + 0x345000) | EPT_R | (6 << 3));

    /* Protect a whole 2M page: no split needed. */
    unsigned tables = f->ept.nr_table_pages;
    assert_int_equal(ept_protect(&f->ept, 0x800000, EPT_2M, EPT_R | EPT_X), 0);
    assert_int_equal(f->ept.nr_table_pages, tables);
    expect_tr(&f->ept, 0x900000, EPT_1G + 0x900000, EPT_R | EPT_X, EPT_2M);
    finish(f);
}

static void test_unmap_straddling_and_table_freeing(void **state)
{
    struct fixture *f = *state;
    init(f, true, true);
    assert_int_equal(ept_map(&f->ept, 0, 0, EPT_1G, EPT_RWX, EPT_MT_WB), 0);
    assert_int_equal(ept_unmap(&f->ept, 0x1ff000, 0x2000), 0);
    expect_tr(&f->ept, 0x1fe000, 0x1fe000, EPT_RWX, EPT_PAGE_SIZE);
    expect_tr(&f->ept, 0x201000, 0x201000, EPT_RWX, EPT_PAGE_SIZE);
    expect_tr(&f->ept, 0x400000, 0x400000, EPT_RWX, EPT_2M);
    assert_int_equal(ept_translate(&f->ept, 0x1ff000, NULL, NULL, NULL), -1);
    assert_int_equal(ept_translate(&f->ept, 0x200000, NULL, NULL, NULL), -1);
    assert_int_equal(leaves_of(&f->ept)->n, 510 + 511 + 511); /* 2M + two split 2M */
    finish(f);

    /* Emptied tables are parked until ept_reclaim, then freed. */
    init(f, false, false);
    assert_int_equal(ept_map(&f->ept, 0x7f0000000, 0x5000, 0x2000, EPT_R, EPT_MT_WB), 0);
    assert_int_equal(f->ept.nr_table_pages, 4);
    unsigned frees = f->pool.frees;
    assert_int_equal(ept_unmap(&f->ept, 0x7f0000000, 0x1000), 0);
    assert_int_equal(f->ept.nr_table_pages, 4);             /* PT still holds one page */
    assert_int_equal(ept_unmap(&f->ept, 0, 1ULL << 48), 0); /* whole space, holes fine */
    assert_int_equal(f->ept.nr_table_pages, 1);
    assert_int_equal(f->ept.nr_reclaim, 3);
    assert_int_equal(f->pool.frees, frees);
    ept_reclaim(&f->ept);
    assert_int_equal(f->pool.frees, frees + 3);
    assert_int_equal(f->ept.nr_reclaim, 0);
    assert_int_equal(leaves_of(&f->ept)->n, 0);
    /* Mapping again reuses fresh tables. */
    assert_int_equal(ept_map(&f->ept, 0x7f0000000, 0x5000, 0x1000, EPT_R, EPT_MT_WB), 0);
    expect_tr(&f->ept, 0x7f0000000, 0x5000, EPT_R, EPT_PAGE_SIZE);
    finish(f);
}

static void test_overlap_refused_without_side_effects(void **state)
{
    struct fixture *f = *state;
    init(f, true, true);
    assert_int_equal(ept_map(&f->ept, 0x5000, 0x5000, 0x1000, EPT_R, EPT_MT_WB), 0);
    assert_int_equal(ept_map(&f->ept, 0x400000, 0x400000, EPT_2M, EPT_R, EPT_MT_WB), 0);
    unsigned allocs = f->pool.allocs, tables = f->ept.nr_table_pages;
    /* Conflict at the end of the range: nothing before it may appear. */
    assert_int_equal(ept_map(&f->ept, 0, 0x100000, 0x6000, EPT_RWX, EPT_MT_WB), EPT_ERR_EXIST);
    /* Conflict with a large page from a 4K map inside it. */
    assert_int_equal(ept_map(&f->ept, 0x401000, 0, 0x1000, EPT_RWX, EPT_MT_WB), EPT_ERR_EXIST);
    /* Conflict needing new tables first (range spans into a new 1G region). */
    assert_int_equal(ept_map(&f->ept, 0x200000, 0, 0x400000, EPT_RWX, EPT_MT_WB), EPT_ERR_EXIST);
    assert_int_equal(f->pool.allocs, allocs);
    assert_int_equal(f->ept.nr_table_pages, tables);
    assert_int_equal(ept_translate(&f->ept, 0x0, NULL, NULL, NULL), -1);
    assert_int_equal(ept_translate(&f->ept, 0x4000, NULL, NULL, NULL), -1);
    assert_int_equal(ept_translate(&f->ept, 0x200000, NULL, NULL, NULL), -1);
    expect_tr(&f->ept, 0x5000, 0x5000, EPT_R, EPT_PAGE_SIZE);
    assert_int_equal(leaves_of(&f->ept)->n, 2);
    /* Adjacent is fine. */
    assert_int_equal(ept_map(&f->ept, 0x4000, 0x100000, 0x1000, EPT_RWX, EPT_MT_WB), 0);
    assert_int_equal(ept_map(&f->ept, 0x6000, 0x100000, 0x1000, EPT_RWX, EPT_MT_WB), 0);
    finish(f);
}

static void test_invalid_arguments(void **state)
{
    struct fixture *f = *state;
    init(f, true, true);
    struct ept *e = &f->ept;
    assert_int_equal(ept_map(e, 0, 0, 0x1000, EPT_W, EPT_MT_WB), EPT_ERR_PERM);
    assert_int_equal(ept_map(e, 0, 0, 0x1000, EPT_W | EPT_X, EPT_MT_WB), EPT_ERR_PERM);
    assert_int_equal(ept_map(e, 0, 0, 0x1000, EPT_X, EPT_MT_WB), EPT_ERR_PERM);
    assert_int_equal(ept_map(e, 0, 0, 0x1000, 0, EPT_MT_WB), EPT_ERR_INVAL);
    assert_int_equal(ept_map(e, 0, 0, 0x1000, EPT_R | 0x100, EPT_MT_WB), EPT_ERR_INVAL);
    assert_int_equal(ept_map(e, 0x800, 0, 0x1000, EPT_R, EPT_MT_WB), EPT_ERR_INVAL);
    assert_int_equal(ept_map(e, 0, 0x800, 0x1000, EPT_R, EPT_MT_WB), EPT_ERR_INVAL);
    assert_int_equal(ept_map(e, 0, 0, 0x1800, EPT_R, EPT_MT_WB), EPT_ERR_INVAL);
    assert_int_equal(ept_map(e, 0, 0, 0, EPT_R, EPT_MT_WB), EPT_ERR_INVAL);
    static const unsigned reserved_mt[] = {2, 3, 7, 8};
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(ept_map(e, 0, 0, 0x1000, EPT_R, (enum ept_mtype)reserved_mt[i]),
                         EPT_ERR_INVAL);
    assert_int_equal(ept_map(e, 0xfffffffffffff000ULL, 0, 0x2000, EPT_R, EPT_MT_WB), EPT_ERR_RANGE);
    assert_int_equal(ept_map(e, (1ULL << 48) - 0x1000, 0, 0x2000, EPT_R, EPT_MT_WB), EPT_ERR_RANGE);
    assert_int_equal(ept_map(e, 1ULL << 48, 0, 0x1000, EPT_R, EPT_MT_WB), EPT_ERR_RANGE);
    assert_int_equal(ept_map(e, 0, 1ULL << 52, 0x1000, EPT_R, EPT_MT_WB), EPT_ERR_RANGE);
    assert_int_equal(ept_map(e, 0, 0xfffffffffffff000ULL, 0x2000, EPT_R, EPT_MT_WB), EPT_ERR_RANGE);
    assert_int_equal(ept_unmap(e, 0x800, 0x1000), EPT_ERR_INVAL);
    assert_int_equal(ept_unmap(e, 0xfffffffffffff000ULL, 0x2000), EPT_ERR_RANGE);
    assert_int_equal(ept_protect(e, 0, 0x1000, EPT_R), EPT_ERR_NOENT);
    assert_int_equal(f->ept.nr_table_pages, 1);
    assert_int_equal(leaves_of(e)->n, 0);

    /* Top page of the 48-bit space is usable; narrower limits are honoured. */
    assert_int_equal(ept_map(e, (1ULL << 48) - 0x1000, 0x1000, 0x1000, EPT_R, EPT_MT_WB), 0);
    expect_tr(e, (1ULL << 48) - 1, 0x1fff, EPT_R, EPT_PAGE_SIZE);
    /* Bits above the width must not alias into the tables. */
    assert_int_equal(ept_translate(e, (1ULL << 49) - 1, NULL, NULL, NULL), -1);
    assert_int_equal(ept_set_limits(e, 39, 46), 0);
    assert_int_equal(ept_map(e, 1ULL << 39, 0, 0x1000, EPT_R, EPT_MT_WB), EPT_ERR_RANGE);
    assert_int_equal(ept_map(e, 0, 1ULL << 46, 0x1000, EPT_R, EPT_MT_WB), EPT_ERR_RANGE);
    assert_int_equal(ept_set_limits(e, 49, 46), EPT_ERR_INVAL);

    /* Execute-only with the capability. */
    e->allow_xonly = true;
    assert_int_equal(ept_map(e, 0, 0, 0x1000, EPT_X, EPT_MT_WB), 0);
    assert_int_equal(ept_protect(e, 0, 0x1000, EPT_W), EPT_ERR_PERM);
    assert_int_equal(ept_protect(e, 0, 0x1000, 0), EPT_ERR_INVAL);
    /* Protect over a hole changes nothing. */
    assert_int_equal(ept_protect(e, 0, 0x2000, EPT_R), EPT_ERR_NOENT);
    expect_tr(e, 0, 0, EPT_X, EPT_PAGE_SIZE);
    assert_string_equal(ept_strerror(EPT_ERR_EXIST), "range already mapped");
    assert_non_null(ept_strerror(12345));
    finish(f);
}

static void test_nomem_rollback(void **state)
{
    struct fixture *f = *state;
    init(f, false, false);
    /* Needs PDPT, PD, PT, PT: the 4th allocation fails after the first PT is full. */
    f->pool.fail_after = 3;
    assert_int_equal(ept_map(&f->ept, 0x1ff000, 0, 0x3000, EPT_RWX, EPT_MT_WB), EPT_ERR_NOMEM);
    assert_int_equal(leaves_of(&f->ept)->n, 0);
    assert_int_equal(ept_translate(&f->ept, 0x1ff000, NULL, NULL, NULL), -1);
    assert_int_equal(f->ept.nr_table_pages, 1);
    ept_reclaim(&f->ept);
    assert_int_equal(f->pool.allocs, f->pool.frees + 1);
    f->pool.fail_after = -1;
    assert_int_equal(ept_map(&f->ept, 0x1ff000, 0, 0x3000, EPT_RWX, EPT_MT_WB), 0);
    finish(f);

    /* A split that cannot get a page leaves the translation intact. */
    init(f, true, true);
    assert_int_equal(ept_map(&f->ept, 0, 0, EPT_1G, EPT_RWX, EPT_MT_WB), 0);
    f->pool.fail_after = 1; /* 1G->2M works, 2M->4K fails */
    assert_int_equal(ept_unmap(&f->ept, 0x1000, 0x1000), EPT_ERR_NOMEM);
    assert_int_equal(ept_protect(&f->ept, 0x1000, 0x1000, EPT_R), EPT_ERR_NOMEM);
    for (uint64_t a = 0; a < EPT_1G; a += 0x1000 * 61)
        expect_tr(&f->ept, a, a, EPT_RWX, EPT_2M);
    f->pool.fail_after = -1;
    finish(f);
}

static void test_guest_access(void **state)
{
    struct fixture *f = *state;
    struct ept *e = &f->ept;
    uint8_t *data = f->pool.data;
    init(f, true, true);
    /* Two guest pages, backed in reverse order. */
    assert_int_equal(ept_map(e, 0x1000, DATA_BASE + 0x3000, 0x1000, EPT_RWX, EPT_MT_WB), 0);
    assert_int_equal(ept_map(e, 0x2000, DATA_BASE + 0x0000, 0x1000, EPT_RWX, EPT_MT_WB), 0);
    uint8_t in[16], out[16];
    for (int i = 0; i < 16; i++)
        in[i] = (uint8_t)(0x40 + i);
    assert_int_equal(ept_write_guest(e, 0x1ff8, in, 16), 0);
    assert_memory_equal(data + 0x3ff8, in, 8);
    assert_memory_equal(data + 0x0000, in + 8, 8);
    memset(out, 0, sizeof(out));
    assert_int_equal(ept_read_guest(e, 0x1ff8, out, 16), 0);
    assert_memory_equal(out, in, 16);
    assert_int_equal(ept_read_guest(e, 0x1000, out, 0), 0);

    /* Crossing into unmapped memory fails. */
    assert_int_equal(ept_read_guest(e, 0x2ff8, out, 16), -1);
    assert_int_equal(ept_read_guest(e, 0xff8, out, 16), -1);
    assert_int_equal(ept_write_guest(e, 0x2ff8, in, 9), -1);
    assert_int_equal(ept_write_guest(e, 0x2ff8, in, 8), 0);

    /* Second page read-only: a crossing write fails and writes nothing. */
    assert_int_equal(ept_protect(e, 0x2000, 0x1000, EPT_R), 0);
    memset(data + 0x3ff0, 0, 16);
    assert_int_equal(ept_write_guest(e, 0x1ff0, in, 17), -1);
    for (int i = 0; i < 16; i++)
        assert_int_equal(data[0x3ff0 + i], 0);
    assert_int_equal(ept_write_guest(e, 0x1ff0, in, 16), 0);
    assert_int_equal(ept_read_guest(e, 0x1ff8, out, 16), 0);

    /* An execute-only page is not readable through the accessor. */
    e->allow_xonly = true;
    assert_int_equal(ept_protect(e, 0x2000, 0x1000, EPT_X), 0);
    assert_int_equal(ept_read_guest(e, 0x2000, out, 1), -1);

    /* Wrapping and out-of-width ranges. */
    assert_int_equal(ept_read_guest(e, 0xfffffffffffffff0ULL, out, 0x20), -1);
    assert_int_equal(ept_read_guest(e, (1ULL << 48) + 0x1000, out, 1), -1);

    /* Mapped but not reachable by phys_to_virt: fail, do not crash. */
    assert_int_equal(ept_map(e, 0x10000, 0x7000000000, 0x1000, EPT_RWX, EPT_MT_WB), 0);
    assert_int_equal(ept_read_guest(e, 0x10000, out, 4), -1);
    finish(f);
}

/* Random map/unmap/protect against a page-granular model. */
struct model_page {
    uint64_t hpa;
    unsigned perms;
    bool mapped;
};

#define MODEL_PAGES 4096 /* 16 MiB of guest-physical space */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(uint64_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state % n;
}

static void test_random_against_model(void **state)
{
    struct fixture *f = *state;
    static struct model_page m[MODEL_PAGES];
    static const unsigned perm_set[] = {EPT_R, EPT_R | EPT_W, EPT_RWX, EPT_R | EPT_X};
    memset(m, 0, sizeof(m));
    init(f, true, false);
    for (int iter = 0; iter < 600; iter++) {
        /* Bias towards 2M-aligned sizes so large pages appear and get split. */
        uint64_t first = rnd(4) ? rnd(MODEL_PAGES) : rnd(MODEL_PAGES / 512) * 512;
        uint64_t n = rnd(3) ? 1 + rnd(64) : 512 * (1 + rnd(3));
        if (first + n > MODEL_PAGES)
            n = MODEL_PAGES - first;
        uint64_t gpa = first * 4096, size = n * 4096;
        unsigned op = (unsigned)rnd(3);
        if (op == 0) {
            uint64_t hpa = rnd(2) ? gpa + 0x100000000ULL : rnd(1 << 20) * 4096;
            unsigned perms = perm_set[rnd(4)];
            bool free_range = true;
            for (uint64_t i = first; i < first + n; i++)
                free_range &= !m[i].mapped;
            int r = ept_map(&f->ept, gpa, hpa, size, perms, EPT_MT_WB);
            assert_int_equal(r, free_range ? 0 : EPT_ERR_EXIST);
            if (!r)
                for (uint64_t i = 0; i < n; i++)
                    m[first + i] = (struct model_page){hpa + i * 4096, perms, true};
        } else if (op == 1) {
            assert_int_equal(ept_unmap(&f->ept, gpa, size), 0);
            for (uint64_t i = first; i < first + n; i++)
                m[i].mapped = false;
        } else {
            unsigned perms = perm_set[rnd(4)];
            bool full = true;
            for (uint64_t i = first; i < first + n; i++)
                full &= m[i].mapped;
            int r = ept_protect(&f->ept, gpa, size, perms);
            assert_int_equal(r, full ? 0 : EPT_ERR_NOENT);
            if (!r)
                for (uint64_t i = first; i < first + n; i++)
                    m[i].perms = perms;
        }
        if (iter % 50 == 0)
            ept_reclaim(&f->ept);
        for (uint64_t i = 0; i < MODEL_PAGES; i++) {
            uint64_t hpa;
            unsigned perms;
            int r = ept_translate(&f->ept, i * 4096 + 0x10, &hpa, &perms, NULL);
            if (!m[i].mapped) {
                assert_int_equal(r, -1);
                continue;
            }
            assert_int_equal(r, 0);
            assert_int_equal(hpa, m[i].hpa + 0x10);
            assert_int_equal(perms, m[i].perms);
        }
    }
    finish(f);
}

/* The format-independent cases, run on NPT tables. */
#define NPT_CASE(name)                                                                             \
    static void test_npt_##name(void **state)                                                      \
    {                                                                                              \
        assert_ptr_equal(((struct fixture *)*state)->fmt, &ept_format_npt);                        \
        test_##name(state);                                                                        \
    }
NPT_CASE(1g_leaf_when_allowed)
NPT_CASE(2m_leaves_without_1g)
NPT_CASE(4k_only_and_alignment_choice)
NPT_CASE(unmap_straddling_and_table_freeing)
NPT_CASE(overlap_refused_without_side_effects)
NPT_CASE(nomem_rollback)
NPT_CASE(random_against_model)

#define NPT_TABLE (NPTE_P | NPTE_RW | NPTE_US)

static void test_npt_entry_bits(void **state)
{
    struct fixture *f = *state;
    init(f, true, true);
    assert_int_equal(ept_ncr3(&f->ept), f->ept.pml4_phys);
    assert_int_equal(ept_map(&f->ept, 0x1000, 0x41000, 0x1000, EPT_RWX, EPT_MT_WB), 0);
    assert_int_equal(ept_map(&f->ept, 0x2000, 0x42000, 0x1000, EPT_R, EPT_MT_WB), 0);
    assert_int_equal(ept_map(&f->ept, 0x3000, 0x43000, 0x1000, EPT_R | EPT_X, EPT_MT_UC), 0);
    assert_int_equal(ept_map(&f->ept, 0x4000, 0x44000, 0x1000, EPT_R | EPT_W, EPT_MT_WT), 0);
    assert_int_equal(ept_map(&f->ept, EPT_2M, 0x800000, EPT_2M, EPT_R | EPT_W, EPT_MT_UC), 0);
    assert_int_equal(ept_map(&f->ept, EPT_1G, EPT_1G, EPT_1G, EPT_RWX, EPT_MT_WB), 0);

    /* Tables grant everything (present, writable, user); leaves decide. */
    assert_int_equal(raw_entry(f, 0x1000, 4) & ~EPTE_ADDR_MASK, NPT_TABLE);
    assert_int_equal(raw_entry(f, 0x1000, 3) & ~EPTE_ADDR_MASK, NPT_TABLE);
    assert_int_equal(raw_entry(f, 0x1000, 2) & ~EPTE_ADDR_MASK, NPT_TABLE);
    assert_int_equal(raw_entry(f, 0x1000, 1), 0x41000 | NPTE_P | NPTE_RW | NPTE_US);
    assert_int_equal(raw_entry(f, 0x2000, 1), 0x42000 | NPTE_P | NPTE_US | NPTE_NX);
    assert_int_equal(raw_entry(f, 0x3000, 1), 0x43000 | NPTE_P | NPTE_US | NPTE_PCD | NPTE_PWT);
    assert_int_equal(raw_entry(f, 0x4000, 1),
                     0x44000 | NPTE_P | NPTE_RW | NPTE_US | NPTE_PWT | NPTE_NX);
    assert_int_equal(raw_entry(f, EPT_2M, 2), 0x800000 | NPTE_P | NPTE_RW | NPTE_US | NPTE_PS |
                                                  NPTE_PCD | NPTE_PWT | NPTE_NX);
    assert_int_equal(raw_entry(f, EPT_1G, 3), EPT_1G | NPTE_P | NPTE_RW | NPTE_US | NPTE_PS);

    expect_tr(&f->ept, 0x1234, 0x41234, EPT_RWX, EPT_PAGE_SIZE);
    expect_tr(&f->ept, 0x2000, 0x42000, EPT_R, EPT_PAGE_SIZE);
    expect_tr(&f->ept, 0x3000, 0x43000, EPT_R | EPT_X, EPT_PAGE_SIZE);
    expect_tr(&f->ept, EPT_2M + 0x1000, 0x801000, EPT_R | EPT_W, EPT_2M);
    struct leaves *ls = leaves_of(&f->ept);
    assert_int_equal(ls->n, 6);
    assert_int_equal(ls->l[0].mt, EPT_MT_WB);
    assert_int_equal(ls->l[2].mt, EPT_MT_UC);
    assert_int_equal(ls->l[3].mt, EPT_MT_WT);
    assert_int_equal(ls->l[4].mt, EPT_MT_UC);
    finish(f);
}

static void test_npt_refusals(void **state)
{
    struct fixture *f = *state;
    init(f, true, true);
    struct ept *e = &f->ept;
    unsigned before = f->pool.allocs;
    /* No readable-less mapping: a present NPT entry is readable. */
    e->allow_xonly = true;
    assert_int_equal(ept_map(e, 0, 0, 0x1000, EPT_X, EPT_MT_WB), EPT_ERR_PERM);
    assert_int_equal(ept_map(e, 0, 0, 0x1000, EPT_W, EPT_MT_WB), EPT_ERR_PERM);
    assert_int_equal(ept_map(e, 0, 0, 0x1000, EPT_W | EPT_X, EPT_MT_WB), EPT_ERR_PERM);
    /* No "ignore PAT" bit, and only the types the reset host PAT offers. */
    assert_int_equal(ept_map(e, 0, 0, 0x1000, EPT_R | EPT_IPAT, EPT_MT_WB), EPT_ERR_INVAL);
    assert_int_equal(ept_map(e, 0, 0, 0x1000, EPT_R, EPT_MT_WC), EPT_ERR_INVAL);
    assert_int_equal(ept_map(e, 0, 0, 0x1000, EPT_R, EPT_MT_WP), EPT_ERR_INVAL);
    assert_int_equal(f->pool.allocs, before);
    assert_int_equal(ept_map(e, 0, 0, 0x1000, EPT_R, EPT_MT_WB), 0);
    assert_int_equal(ept_protect(e, 0, 0x1000, EPT_X), EPT_ERR_PERM);
    assert_int_equal(ept_protect(e, 0, 0x1000, EPT_R | EPT_IPAT), EPT_ERR_INVAL);
    expect_tr(e, 0, 0, EPT_R, EPT_PAGE_SIZE);
    /* The EPT format still takes what NPT refuses. */
    finish(f);
    f->fmt = &ept_format_ept;
    init(f, true, true);
    assert_int_equal(ept_map(&f->ept, 0, 0, 0x1000, EPT_R | EPT_IPAT, EPT_MT_WC), 0);
    finish(f);
}

/* A split keeps translation, permissions, memory type and A/D bits, with
 * the PAT bit moved from bit 12 (large) to bit 7 (4 KiB) where it is set. */
static void test_npt_split_keeps_bits(void **state)
{
    struct fixture *f = *state;
    init(f, true, true);
    assert_int_equal(ept_map(&f->ept, EPT_2M, 0x800000, EPT_2M, EPT_R | EPT_W, EPT_MT_UC), 0);
    uint64_t *pd = pool_virt(&f->pool, raw_entry(f, EPT_2M, 3) & EPTE_ADDR_MASK);
    pd[1] |= NPTE_A | NPTE_D | NPTE_PAT_LG; /* as the CPU (A/D) or a PAT index 7 would */
    assert_int_equal(ept_unmap(&f->ept, EPT_2M + 0x5000, 0x1000), 0);
    uint64_t want =
        NPTE_P | NPTE_RW | NPTE_US | NPTE_PCD | NPTE_PWT | NPTE_PAT_4K | NPTE_A | NPTE_D | NPTE_NX;
    assert_int_equal(raw_entry(f, EPT_2M + 0x4000, 1), 0x804000 | want);
    assert_int_equal(raw_entry(f, EPT_2M + 0x6000, 1), 0x806000 | want);
    assert_int_equal(raw_entry(f, EPT_2M + 0x5000, 1), 0);
    assert_int_equal(raw_entry(f, EPT_2M, 2) & ~EPTE_ADDR_MASK, NPT_TABLE);

    /* protect: NX goes with X granted; type, A/D and address stay. */
    assert_int_equal(ept_protect(&f->ept, EPT_2M + 0x4000, 0x1000, EPT_R | EPT_X), 0);
    assert_int_equal(raw_entry(f, EPT_2M + 0x4000, 1), 0x804000 | NPTE_P | NPTE_US | NPTE_PCD |
                                                           NPTE_PWT | NPTE_PAT_4K | NPTE_A |
                                                           NPTE_D);
    expect_tr(&f->ept, EPT_2M + 0x4000, 0x804000, EPT_R | EPT_X, EPT_PAGE_SIZE);
    expect_tr(&f->ept, EPT_2M + 0x6000, 0x806000, EPT_R | EPT_W, EPT_PAGE_SIZE);

    /* A 1 GiB leaf protected in part splits into 2 MiB leaves. */
    assert_int_equal(ept_map(&f->ept, EPT_1G, 0, EPT_1G, EPT_RWX, EPT_MT_WB), 0);
    assert_int_equal(ept_protect(&f->ept, EPT_1G + EPT_2M, EPT_2M, EPT_R), 0);
    assert_int_equal(raw_entry(f, EPT_1G + EPT_2M, 2),
                     EPT_2M | NPTE_P | NPTE_US | NPTE_PS | NPTE_NX);
    assert_int_equal(raw_entry(f, EPT_1G, 2), NPTE_P | NPTE_RW | NPTE_US | NPTE_PS);
    finish(f);
}

static void test_npt_guest_access(void **state)
{
    struct fixture *f = *state;
    init(f, true, true);
    struct ept *e = &f->ept;
    assert_int_equal(ept_map(e, 0x10000, DATA_BASE, 0x2000, EPT_R | EPT_W, EPT_MT_WB), 0);
    assert_int_equal(ept_map(e, 0x12000, DATA_BASE + 0x2000, 0x1000, EPT_R, EPT_MT_WB), 0);
    uint8_t buf[16] = "nested paging!";
    assert_int_equal(ept_write_guest(e, 0x10ff8, buf, 16), 0); /* crosses two leaves */
    uint8_t back[16];
    assert_int_equal(ept_read_guest(e, 0x10ff8, back, 16), 0);
    assert_memory_equal(buf, back, 16);
    assert_memory_equal(f->pool.data + 0xff8, buf, 16);
    /* Into the read-only page: the write fails and changes nothing. */
    assert_int_equal(ept_write_guest(e, 0x11ff8, buf, 16), -1);
    for (unsigned i = 0; i < 16; i++)
        assert_int_equal(f->pool.data[0x1ff8 + i], 0);
    assert_int_equal(ept_read_guest(e, 0x11ff8, back, 16), 0);
    assert_int_equal(ept_read_guest(e, 0x12ff8, back, 16), -1); /* runs off the end */
    finish(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_init_destroy_eptp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_1g_leaf_when_allowed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_2m_leaves_without_1g, setup, teardown),
        cmocka_unit_test_setup_teardown(test_4k_only_and_alignment_choice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_perms_and_memtypes_in_leaves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_2m_by_unmap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_split_1g_by_protect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unmap_straddling_and_table_freeing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overlap_refused_without_side_effects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nomem_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_guest_access, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_against_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_npt_1g_leaf_when_allowed, setup_npt, teardown),
        cmocka_unit_test_setup_teardown(test_npt_2m_leaves_without_1g, setup_npt, teardown),
        cmocka_unit_test_setup_teardown(test_npt_4k_only_and_alignment_choice, setup_npt, teardown),
        cmocka_unit_test_setup_teardown(test_npt_unmap_straddling_and_table_freeing, setup_npt,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_npt_overlap_refused_without_side_effects, setup_npt,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_npt_nomem_rollback, setup_npt, teardown),
        cmocka_unit_test_setup_teardown(test_npt_random_against_model, setup_npt, teardown),
        cmocka_unit_test_setup_teardown(test_npt_entry_bits, setup_npt, teardown),
        cmocka_unit_test_setup_teardown(test_npt_refusals, setup_npt, teardown),
        cmocka_unit_test_setup_teardown(test_npt_split_keeps_bits, setup_npt, teardown),
        cmocka_unit_test_setup_teardown(test_npt_guest_access, setup_npt, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
