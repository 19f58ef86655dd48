/* Physical page allocator: never hands out what it must not, alignment,
 * exhaustion, free/double free, big and low allocations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/log.h"
#include "mm/memmap.h"
#include "mm/pmm.h"

#define KiB 1024ull
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)
#define PG  4096ull

#define R(b, l, t) ((struct mem_region){(b), (l), (t)})

/* "Physical memory" only backs the allocator's table. */
static void *table_buf;
static uint64_t table_phys, table_len;

static void *fake_phys_to_virt(uint64_t phys)
{
    table_phys = phys;
    return table_buf;
}

static unsigned long long log_pos;

static int log_has(const char *needle)
{
    static char buf[65536];
    size_t n = log_ring_read(&log_pos, buf, sizeof(buf) - 1);
    buf[n] = 0;
    return strstr(buf, needle) != NULL;
}

static int setup(void **state)
{
    pmm_test_reset();
    table_phys = 0;
    log_set_level(LOG_ERR);
    log_pos = log_ring_head();
    return 0;
}

static int teardown(void **state)
{
    free(table_buf);
    table_buf = NULL;
    return 0;
}

static int init_map(const struct mem_region *map, unsigned n)
{
    free(table_buf);
    table_len = pmm_table_bytes(map, n);
    table_buf = malloc(table_len);
    assert_non_null(table_buf);
    return pmm_init(map, n, fake_phys_to_virt);
}

/* 0-636 KiB usable, 1 MiB-48 MiB usable with a reserved hole and an ACPI
 * range, 4 GiB-4 GiB+16 MiB usable. */
static struct mem_region map[16];
static unsigned nmap;

static void build_map(void)
{
    const struct mem_region raw[] = {
        R(0x0, 0x9f000, MEM_USABLE),
        R(0x9f000, 0x61000, MEM_RESERVED),
        R(0x100000, 47 * MiB, MEM_USABLE),
        R(0x1000000, 0x100000, MEM_RESERVED),    /* hole at 16 MiB */
        R(0x2000000, 0x10000, MEM_ACPI_RECLAIM), /* not usable */
        R(0x2fff800, 0x800, MEM_ACPI_NVS),       /* partial page at the top */
        R(4 * GiB, 16 * MiB, MEM_USABLE),
        R(0xfec00000, 0x1000, MEM_RESERVED),
    };
    memcpy(map, raw, sizeof(raw));
    nmap = sizeof(raw) / sizeof(raw[0]);
    assert_int_equal(memmap_normalize(map, &nmap, 16), 0);
}

static int usable_page(uint64_t a)
{
    for (unsigned i = 0; i < nmap; i++)
        if (map[i].type == MEM_USABLE && a >= map[i].base && a + PG <= map[i].base + map[i].len)
            return 1;
    return 0;
}

static int overlaps(uint64_t a, uint64_t len, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + len;
}

/* Image 1-1.5 MiB, MBI and a module sharing a page. */
#define IMG_BASE 0x100000ull
#define IMG_LEN  0x80000ull
#define MBI_BASE 0x300000ull
#define MBI_LEN  0x1234ull
#define MOD_BASE 0x301800ull
#define MOD_LEN  0x200000ull

static void reserve_boot(void)
{
    assert_int_equal(pmm_reserve(IMG_BASE, IMG_LEN, "image"), 0);
    assert_int_equal(pmm_reserve(MBI_BASE, MBI_LEN, "mbi"), 0);
    assert_int_equal(pmm_reserve(MOD_BASE, MOD_LEN, "module"), 0);
}

static int forbidden(uint64_t a, uint64_t len)
{
    return overlaps(a, len, IMG_BASE, IMG_LEN) || overlaps(a, len, MBI_BASE & ~(PG - 1), 2 * PG) ||
           overlaps(a, len, MOD_BASE & ~(PG - 1), MOD_LEN + PG) ||
           overlaps(a, len, table_phys, table_len);
}

static void test_never_hands_out_forbidden(void **state)
{
    build_map();
    reserve_boot();
    assert_int_equal(init_map(map, nmap), 0);

    /* the table went to usable memory, above 1 MiB, away from the boot ranges */
    assert_true(table_phys >= 1 * MiB);
    assert_true(usable_page(table_phys) && usable_page(table_phys + table_len - PG));
    assert_false(overlaps(table_phys, table_len, IMG_BASE, IMG_LEN));

    uint64_t total = pmm_total_pages();
    /* 0x1000-0x9f000 (page 0 excluded), 47 MiB - 1 MiB hole - 64 KiB ACPI - 1 page NVS, 16 MiB */
    assert_int_equal(total, 0x9e + (46 * MiB - 0x10000) / PG - 1 + 16 * MiB / PG);

    uint64_t free_before = pmm_free_pages();
    uint64_t low_free = 0x9e;
    static uint8_t seen[(4 * GiB + 16 * MiB) / PG];
    memset(seen, 0, sizeof(seen));
    uint64_t count = 0, a;
    while ((a = pmm_alloc(1, 1, "t")) != 0) {
        assert_int_equal(a & (PG - 1), 0);
        assert_true(a >= 1 * MiB);
        assert_true(usable_page(a));
        assert_false(forbidden(a, PG));
        assert_true(a / PG < sizeof(seen));
        assert_int_equal(seen[a / PG], 0);
        seen[a / PG] = 1;
        count++;
    }
    /* exhausted: only low memory remains free, and pmm_alloc never uses it */
    assert_int_equal(pmm_free_pages(), low_free);
    assert_int_equal(count, free_before - low_free);
    assert_int_equal(pmm_alloc(1, 1, "t"), 0);
    /* low memory still reachable through the dedicated call */
    a = pmm_alloc_below(1 * MiB, 1, "trampoline");
    assert_true(a >= PG && a < 1 * MiB);
}

static void test_alignment(void **state)
{
    build_map();
    reserve_boot();
    assert_int_equal(init_map(map, nmap), 0);
    assert_int_not_equal(pmm_alloc(1, 1, "a"), 0); /* misalign the first free page */
    for (uint64_t align = 1; align <= 1024; align <<= 1) {
        uint64_t a = pmm_alloc(3, align, "aligned");
        assert_int_not_equal(a, 0);
        assert_int_equal(a % (align * PG), 0);
        assert_false(forbidden(a, 3 * PG));
        assert_true(usable_page(a) && usable_page(a + 2 * PG));
    }
    /* bad requests */
    assert_int_equal(pmm_alloc(1, 3, "bad"), 0);
    assert_true(log_has("bad allocation request"));
    assert_int_equal(pmm_alloc(0, 1, "bad"), 0);
    assert_int_equal(pmm_alloc(UINT64_MAX, 1, "bad"), 0);
    assert_int_equal(pmm_alloc(1, 1ull << 50, "bad"), 0);
    assert_int_not_equal(pmm_alloc(1, 0, "zero-align"), 0);
}

static void test_large_aligned(void **state)
{
    build_map();
    reserve_boot();
    assert_int_equal(init_map(map, nmap), 0);
    uint64_t before = pmm_free_pages();
    /* 12 MiB, 2 MiB aligned: does not fit in 1-16 MiB after the boot
     * reservations, so it lands at 18 MiB (the 17-32 MiB stretch) */
    uint64_t a = pmm_alloc(12 * MiB / PG, 512, "guest-ram");
    assert_int_equal(a, 18 * MiB);
    assert_false(forbidden(a, 12 * MiB));
    assert_int_equal(pmm_free_pages(), before - 12 * MiB / PG);
    /* a second one must go above 4 GiB (16 MiB there) or fail */
    uint64_t b = pmm_alloc(16 * MiB / PG, 512, "guest-ram2");
    assert_int_equal(b, 4 * GiB);
    assert_int_equal(pmm_alloc(16 * MiB / PG, 512, "too-big"), 0);
    pmm_free(a, 12 * MiB / PG);
    pmm_free(b, 16 * MiB / PG);
    assert_int_equal(pmm_free_pages(), before);
}

static void test_64gib(void **state)
{
    struct mem_region big[] = {R(0x0, 0x9f000, MEM_USABLE),
                               R(1 * MiB, 3 * GiB - 1 * MiB, MEM_USABLE),
                               R(3 * GiB, 1 * GiB, MEM_RESERVED), R(4 * GiB, 61 * GiB, MEM_USABLE)};
    assert_int_equal(init_map(big, 4), 0);
    assert_true(table_len <= 2 * MiB);
    uint64_t a = pmm_alloc(16 * GiB / PG, 512, "vm0");
    assert_int_equal(a, 4 * GiB); /* does not fit below 3 GiB */
    uint64_t b = pmm_alloc(2 * GiB / PG, 512, "vm1");
    assert_true(b >= 1 * MiB && b + 2 * GiB <= 3 * GiB);
    /* many single pages and frees: fragmentation stays within the table */
    static uint64_t pages[20000];
    for (int i = 0; i < 20000; i++) {
        pages[i] = pmm_alloc(1, 1, (i & 1) ? "odd" : "even");
        assert_int_not_equal(pages[i], 0);
    }
    for (int i = 0; i < 20000; i += 2)
        pmm_free(pages[i], 1);
    for (int i = 1; i < 20000; i += 2)
        pmm_free(pages[i], 1);
    pmm_free(a, 16 * GiB / PG);
    pmm_free(b, 2 * GiB / PG);
    assert_int_equal(pmm_free_pages(), pmm_total_pages() - table_len / PG);
}

static void test_free_and_realloc(void **state)
{
    build_map();
    reserve_boot();
    assert_int_equal(init_map(map, nmap), 0);
    uint64_t before = pmm_free_pages();
    uint64_t a = pmm_alloc(10, 1, "a");
    uint64_t b = pmm_alloc(10, 1, "b");
    assert_int_equal(b, a + 10 * PG);
    pmm_free(a, 10);
    assert_int_equal(pmm_alloc(10, 1, "c"), a); /* first fit reuses the hole */
    /* partial free of an allocation */
    pmm_free(b + 2 * PG, 3);
    assert_int_equal(pmm_alloc(3, 1, "d"), b + 2 * PG);
    pmm_free(a, 10);
    pmm_free(b, 2);
    pmm_free(b + 2 * PG, 3);
    pmm_free(b + 5 * PG, 5);
    assert_int_equal(pmm_free_pages(), before);
    assert_false(log_has("free of"));
}

static void test_double_and_bad_free(void **state)
{
    build_map();
    reserve_boot();
    assert_int_equal(init_map(map, nmap), 0);
    uint64_t a = pmm_alloc(4, 1, "a");
    pmm_free(a, 4);
    uint64_t free_now = pmm_free_pages();

    pmm_free(a, 4);
    assert_true(log_has("double free"));
    assert_int_equal(pmm_free_pages(), free_now);

    /* a range that is half allocated, half free: nothing changes */
    uint64_t b = pmm_alloc(4, 1, "b");
    pmm_free(b, 8);
    assert_true(log_has("already free"));
    assert_int_equal(pmm_free_pages(), free_now - 4);

    pmm_free(IMG_BASE, 1);
    assert_true(log_has("not allocated (reserved by image)"));
    pmm_free(table_phys, 1);
    assert_true(log_has("allocator table by pmm"));
    pmm_free(0x1000000, 1); /* reserved hole in the map */
    assert_true(log_has("not usable RAM"));
    pmm_free(b + 1, 1);
    assert_true(log_has("bad free"));
    pmm_free(b, 0);
    assert_true(log_has("bad free"));
    pmm_free(0xfffffffffffff000ull, 2);
    assert_true(log_has("bad free"));
    assert_int_equal(pmm_free_pages(), free_now - 4);
    /* the real owner can still free it */
    pmm_free(b, 4);
    assert_int_equal(pmm_free_pages(), free_now);
}

static void test_low_alloc(void **state)
{
    build_map();
    assert_int_equal(init_map(map, nmap), 0);
    uint64_t a = pmm_alloc_below(1 * MiB, 1, "trampoline");
    assert_int_equal(a, PG); /* lowest usable page, never page 0 */
    uint64_t b = pmm_alloc_below(0x9f000, 0x9d, "rest");
    assert_int_equal(b, 2 * PG);
    assert_int_equal(pmm_alloc_below(1 * MiB, 1, "none-left"), 0);
    pmm_free(a, 1);
    assert_int_equal(pmm_alloc_below(1 * MiB, 1, "again"), PG);
    /* the limit is the end of the allocation */
    pmm_free(b + 0x9c * PG, 1);
    assert_int_equal(pmm_alloc_below(0x9e000, 1, "limit"), 0);
    assert_int_equal(pmm_alloc_below(0x9f000, 1, "limit"), b + 0x9c * PG);
}

static void test_low_only_page0(void **state)
{
    /* firmware left only page 0 usable below 1 MiB */
    struct mem_region m[] = {R(0x0, 0x1000, MEM_USABLE), R(0x1000, 0xff000, MEM_RESERVED),
                             R(1 * MiB, 8 * MiB, MEM_USABLE)};
    assert_int_equal(init_map(m, 3), 0);
    assert_int_equal(pmm_alloc_below(1 * MiB, 1, "trampoline"), 0);
    assert_int_equal(pmm_total_pages(), 8 * MiB / PG);
}

static void test_reserve_after_init(void **state)
{
    build_map();
    assert_int_equal(init_map(map, nmap), 0);
    uint64_t a = pmm_alloc(4, 1, "a");
    assert_int_equal(pmm_reserve(a + PG, PG, "late"), -1);
    assert_true(log_has("allocated by a"));
    assert_int_equal(pmm_reserve(table_phys, 1, "late"), -1);
    uint64_t free_now = pmm_free_pages();
    /* overlapping reservations and non-usable parts are fine */
    assert_int_equal(pmm_reserve(40 * MiB, 2 * MiB, "r1"), 0);
    assert_int_equal(pmm_reserve(41 * MiB, 2 * MiB, "r2"), 0);
    assert_int_equal(pmm_reserve(0xfec00000, 0x1000, "ioapic"), 0);
    assert_int_equal(pmm_free_pages(), free_now - 3 * MiB / PG);
    assert_int_equal(pmm_reserve(1 * MiB, 0, "empty"), 0);
    for (int i = 0; i < 100; i++) {
        uint64_t p = pmm_alloc(1, 1, "t");
        assert_false(overlaps(p, PG, 40 * MiB, 3 * MiB));
    }
}

static void test_claim(void **state)
{
    build_map();
    assert_int_equal(init_map(map, nmap), 0);
    uint64_t free_now = pmm_free_pages();
    assert_int_equal(pmm_claim(32 * MiB, 4 * MiB, "acpi"), -1); /* starts on ACPI memory */
    assert_int_equal(pmm_claim(34 * MiB, 4 * MiB, "vm-fixed"), 0);
    assert_int_equal(pmm_free_pages(), free_now - 4 * MiB / PG);
    assert_int_equal(pmm_claim(36 * MiB, 4 * MiB, "vm2"), -1);
    assert_true(log_has("allocated by vm-fixed"));
    assert_int_equal(pmm_claim(15 * MiB, 2 * MiB, "vm3"), -1); /* crosses the hole */
    assert_true(log_has("not usable RAM"));
    assert_int_equal(pmm_claim(40 * MiB + 1, PG, "vm4"), -1);
    assert_int_equal(pmm_free_pages(), free_now - 4 * MiB / PG);
    pmm_free(34 * MiB, 4 * MiB / PG);
    assert_int_equal(pmm_free_pages(), free_now);
}

/* The reason a VM with memory_base shows when its range is taken. */
static void test_claim_why(void **state)
{
    char why[160];
    build_map();
    assert_int_equal(init_map(map, nmap), 0);
    assert_int_equal(pmm_claim_why(34 * MiB, 4 * MiB, "web", why, sizeof(why)), 0);
    assert_string_equal(why, "");
    assert_int_equal(pmm_claim_why(36 * MiB, 4 * MiB, "db", why, sizeof(why)), -1);
    assert_string_equal(why, "0x2400000-0x27fffff is not free: 0x2400000 is allocated by web");
    assert_int_equal(pmm_claim_why(15 * MiB, 2 * MiB, "db", why, sizeof(why)), -1);
    assert_non_null(strstr(why, "is not usable RAM"));
    assert_int_equal(pmm_claim_why(40 * MiB, 2 * MiB, "db", NULL, 0), 0);
    pmm_free(34 * MiB, 4 * MiB / PG);
    assert_int_equal(pmm_claim_why(34 * MiB, 4 * MiB, "db", why, sizeof(why)), 0);
}

struct walk {
    uint64_t next, free_bytes;
    unsigned n, saw_image, saw_alloc;
};

static void walk_fn(uint64_t base, uint64_t len, const char *owner, void *ctx)
{
    struct walk *w = ctx;
    assert_true(base >= w->next);
    assert_true(len > 0);
    w->next = base + len;
    w->n++;
    if (!strcmp(owner, "free"))
        w->free_bytes += len;
    if (!strcmp(owner, "image")) {
        assert_int_equal(base, IMG_BASE);
        assert_int_equal(len, IMG_LEN);
        w->saw_image = 1;
    }
    if (!strcmp(owner, "listed"))
        w->saw_alloc++;
}

static void test_for_each_range(void **state)
{
    build_map();
    reserve_boot();
    assert_int_equal(init_map(map, nmap), 0);
    uint64_t a = pmm_alloc(5, 1, "listed");
    assert_int_not_equal(a, 0);
    struct walk w = {0};
    pmm_for_each_range(walk_fn, &w);
    assert_true(w.n >= 6);
    assert_int_equal(w.free_bytes, pmm_free_pages() * PG);
    assert_int_equal(w.saw_image, 1);
    assert_int_equal(w.saw_alloc, 1);
}

static void test_init_errors(void **state)
{
    struct mem_region unsorted[] = {R(8 * MiB, 1 * MiB, MEM_USABLE),
                                    R(1 * MiB, 1 * MiB, MEM_USABLE)};
    assert_int_equal(pmm_alloc(1, 1, "early"), 0);
    assert_true(log_has("before pmm_init"));
    assert_int_equal(init_map(unsorted, 2), -1);
    assert_true(log_has("not normalised"));

    struct mem_region none[] = {R(0, 0x9f000, MEM_RESERVED)};
    assert_int_equal(init_map(none, 1), -1);
    assert_true(log_has("no usable memory"));

    struct mem_region tiny[] = {R(0, 0x9f000, MEM_USABLE), R(1 * MiB, 64 * KiB, MEM_USABLE)};
    assert_int_equal(init_map(tiny, 2), -1);
    assert_true(log_has("for the allocator table"));

    /* the early reservation covers the only place the table fits */
    struct mem_region small[] = {R(1 * MiB, 1 * MiB, MEM_USABLE)};
    assert_int_equal(pmm_reserve(1 * MiB, 896 * KiB, "image"), 0);
    log_pos = log_ring_head();
    assert_int_equal(init_map(small, 1), -1);
    assert_true(log_has("for the allocator table"));

    pmm_test_reset();
    for (int i = 0; i < PMM_MAX_EARLY_RESERVE; i++)
        assert_int_equal(pmm_reserve((uint64_t)(i + 1) * MiB, PG, "r"), 0);
    assert_int_equal(pmm_reserve(100 * MiB, PG, "one-too-many"), -1);
    assert_true(log_has("one-too-many"));

    pmm_test_reset();
    build_map();
    assert_int_equal(init_map(map, nmap), 0);
    assert_int_equal(pmm_init(map, nmap, fake_phys_to_virt), -1);
    assert_true(log_has("twice"));
}

/* Random allocs and frees checked against a page-ownership shadow. */
static void test_random_shadow(void **state)
{
    struct mem_region m[] = {R(1 * MiB, 8 * MiB, MEM_USABLE), R(9 * MiB, 1 * MiB, MEM_RESERVED),
                             R(10 * MiB, 6 * MiB, MEM_USABLE)};
    assert_int_equal(init_map(m, 3), 0);
    enum { NP = 16 * MiB / PG, NA = 64 };
    static uint16_t shadow[NP];
    memset(shadow, 0, sizeof(shadow));
    struct {
        uint64_t a, n;
    } live[NA] = {{0, 0}};
    srand(7);
    uint64_t base_free = pmm_free_pages(), used = 0;
    for (int it = 0; it < 20000; it++) {
        int k = rand() % NA;
        if (live[k].a) {
            pmm_free(live[k].a, live[k].n);
            for (uint64_t p = 0; p < live[k].n; p++)
                shadow[live[k].a / PG + p] = 0;
            used -= live[k].n;
            live[k].a = 0;
        } else {
            uint64_t n = 1 + (uint64_t)(rand() % (rand() % 8 ? 8 : 600));
            uint64_t align = 1ull << (rand() % 10);
            uint64_t a = pmm_alloc(n, align, "r");
            if (!a)
                continue;
            assert_int_equal(a % (align * PG), 0);
            for (uint64_t p = 0; p < n; p++) {
                uint64_t pg = a / PG + p;
                assert_true(pg < NP && pg >= 256);
                assert_false(pg >= 9 * MiB / PG && pg < 10 * MiB / PG);
                assert_false(overlaps(pg * PG, PG, table_phys, table_len));
                assert_int_equal(shadow[pg], 0);
                shadow[pg] = (uint16_t)(k + 1);
            }
            live[k].a = a;
            live[k].n = n;
            used += n;
        }
        assert_int_equal(pmm_free_pages(), base_free - used);
    }
    assert_false(log_has("pmm: double"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_never_hands_out_forbidden, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alignment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_aligned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_64gib, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_and_realloc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_double_and_bad_free, setup, teardown),
        cmocka_unit_test_setup_teardown(test_low_alloc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_low_only_page0, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reserve_after_init, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_why, setup, teardown),
        cmocka_unit_test_setup_teardown(test_for_each_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_shadow, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
