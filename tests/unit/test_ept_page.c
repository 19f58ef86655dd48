/* ept_page_clear: a 4 KiB page that comes and goes while the VM runs (the
 * APIC-access page of vdev/lapic_apicv_window.c) keeps its tables, so
 * mapping it again allocates nothing and nothing is reclaimed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ept/ept.h"

#define POOL_PAGES 64
#define POOL_BASE  0x10000000ULL
#define PAGE_HPA   0x20000000ULL
#define WINDOW     0xfee00000ULL

struct pool {
    uint8_t *mem;
    uint8_t used[POOL_PAGES];
    unsigned allocs, frees;
};

static uint64_t pool_alloc(void *ctx)
{
    struct pool *p = ctx;
    for (unsigned i = 0; i < POOL_PAGES; i++) {
        if (!p->used[i]) {
            p->used[i] = 1;
            p->allocs++;
            return POOL_BASE + (uint64_t)i * 4096;
        }
    }
    return 0;
}

static void pool_free(void *ctx, uint64_t phys)
{
    struct pool *p = ctx;
    p->used[(phys - POOL_BASE) / 4096] = 0;
    p->frees++;
}

static void *pool_virt(void *ctx, uint64_t phys)
{
    struct pool *p = ctx;
    if (phys >= POOL_BASE && phys < POOL_BASE + POOL_PAGES * 4096ULL)
        return p->mem + (phys - POOL_BASE);
    return NULL;
}

struct fixture {
    struct pool pool;
    struct ept_ops ops;
    struct ept ept;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->pool.mem = aligned_alloc(4096, POOL_PAGES * 4096);
    f->ops = (struct ept_ops){pool_alloc, pool_free, pool_virt, &f->pool};
    assert_int_equal(ept_init(&f->ept, &f->ops, true, true), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    ept_destroy(&f->ept);
    free(f->pool.mem);
    free(f);
    return 0;
}

static void test_clear_and_map_again_allocates_nothing(void **state)
{
    struct fixture *f = *state;
    uint64_t hpa = 0;
    assert_int_equal(ept_map(&f->ept, WINDOW, PAGE_HPA, 4096, EPT_R | EPT_W, EPT_MT_UC), 0);
    assert_int_equal(ept_translate(&f->ept, WINDOW, &hpa, NULL, NULL), 0);
    assert_int_equal(hpa, PAGE_HPA);
    unsigned tables = f->pool.allocs;
    for (int i = 0; i < 100; i++) {
        assert_int_equal(ept_page_clear(&f->ept, WINDOW), 0);
        assert_int_not_equal(ept_translate(&f->ept, WINDOW, NULL, NULL, NULL), 0);
        assert_int_equal(ept_map(&f->ept, WINDOW, PAGE_HPA, 4096, EPT_R | EPT_W, EPT_MT_UC), 0);
    }
    assert_int_equal(f->pool.allocs, tables); /* no growth however often it toggles */
    assert_int_equal(f->pool.frees, 0);
    /* The neighbours are untouched, and clearing a hole is fine. */
    assert_int_not_equal(ept_translate(&f->ept, WINDOW + 4096, NULL, NULL, NULL), 0);
    assert_int_equal(ept_page_clear(&f->ept, WINDOW + 4096), 0);
}

static void test_clear_refuses_bad_input(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(ept_page_clear(&f->ept, WINDOW + 1), EPT_ERR_INVAL);
    assert_int_equal(ept_page_clear(&f->ept, 1ULL << 60), EPT_ERR_RANGE);
    /* A 2 MiB page is never split or dropped by it. */
    assert_int_equal(ept_map(&f->ept, 0x40000000ULL, PAGE_HPA, 0x200000, EPT_RWX, EPT_MT_WB), 0);
    assert_int_equal(ept_page_clear(&f->ept, 0x40001000ULL), EPT_ERR_INVAL);
    assert_int_equal(ept_translate(&f->ept, 0x40001000ULL, NULL, NULL, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_clear_and_map_again_allocates_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_clear_refuses_bad_input, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
