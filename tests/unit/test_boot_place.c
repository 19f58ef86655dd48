/* Placement of the multiboot information and modules (loader/boot_place.c)
 * against hostile kernel layouts, and the memory map that reports them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "loader/boot_place.h"

#define MiB      0x100000ULL
#define LOW_END  0xa0000ULL
#define INFO_MAX 0x2000ULL

/* A 4 MiB VM's RAM below 4 GiB, as loader.c hands it over. */
static const struct gpa_range ram4m[2] = {{0x1000, LOW_END}, {MiB, 4 * MiB}};

static int plan(const struct gpa_range *img, unsigned n, const uint64_t *mods, unsigned nm,
                struct boot_plan *out, char *err)
{
    struct boot_plan_in in = {ram4m, 2, img, n, INFO_MAX, mods, nm};
    memset(out, 0xa5, sizeof(*out));
    return boot_plan_layout(&in, out, err, 200);
}

static int overlaps(uint64_t a, uint64_t b, struct gpa_range r)
{
    return a < r.end && r.start < b;
}

static int in_ram(uint64_t a, uint64_t b)
{
    for (unsigned i = 0; i < 2; i++)
        if (a >= ram4m[i].start && b <= ram4m[i].end)
            return 1;
    return 0;
}

/* Everything placed is in RAM, page-aligned, clear of the image and of
 * everything else placed. */
static void check_plan(const struct gpa_range *img, unsigned n, const uint64_t *mods, unsigned nm,
                       const struct boot_plan *p)
{
    assert_int_equal(p->info_gpa, p->stack_gpa + BOOT_PLACE_STACK);
    assert_int_equal(p->nr_reserved, 1 + nm);
    assert_int_equal(p->reserved[0].start, p->stack_gpa);
    assert_true(p->reserved[0].end >= p->info_gpa + INFO_MAX);
    for (unsigned r = 0; r < p->nr_reserved; r++) {
        struct gpa_range x = p->reserved[r];
        assert_int_equal(x.start & 0xfff, 0);
        assert_true(in_ram(x.start, x.end));
        if (r)
            assert_true(x.end - x.start >= mods[r - 1]);
        if (r)
            assert_int_equal(x.start, p->module_gpa[r - 1]);
        for (unsigned i = 0; i < n; i++)
            assert_false(overlaps(x.start, x.end, img[i]));
        for (unsigned o = 0; o < r; o++)
            assert_false(overlaps(x.start, x.end, p->reserved[o]));
    }
}

static void test_usual_kernel(void **state)
{
    (void)state;
    struct boot_plan p;
    char err[200];
    const struct gpa_range img[2] = {{MiB, MiB + 0x3000}, {MiB + 0x3000, MiB + 0x5800}};
    const uint64_t mods[2] = {5000, 4096};
    assert_int_equal(plan(img, 2, mods, 2, &p, err), 0);
    /* Where the information always was, with its stack below it. */
    assert_int_equal(p.info_gpa, 0x8000);
    assert_int_equal(p.stack_gpa, 0x7000);
    /* Modules page-aligned right after the kernel's last segment. */
    assert_int_equal(p.module_gpa[0], MiB + 0x6000);
    assert_int_equal(p.module_gpa[1], MiB + 0x8000);
    check_plan(img, 2, mods, 2, &p);
}

static void test_kernel_linked_at_0x8000(void **state)
{
    (void)state;
    struct boot_plan p;
    char err[200];
    const struct gpa_range img[1] = {{0x8000, 0x8000 + 0x2345}};
    const uint64_t mods[1] = {100};
    assert_int_equal(plan(img, 1, mods, 1, &p, err), 0);
    assert_int_equal(p.stack_gpa, 0xb000); /* just above it */
    assert_int_equal(p.module_gpa[0], 0xe000);
    check_plan(img, 1, mods, 1, &p);
}

static void test_low_memory_all_taken(void **state)
{
    (void)state;
    struct boot_plan p;
    char err[200];
    /* Segments over all of low RAM, unsorted and overlapping: the
     * information goes after the last one. */
    const struct gpa_range img[3] = {{0x50000, LOW_END}, {0, 0x60000}, {MiB, MiB + 0x10000}};
    assert_int_equal(plan(img, 3, NULL, 0, &p, err), 0);
    assert_int_equal(p.stack_gpa, MiB + 0x10000);
    check_plan(img, 3, NULL, 0, &p);
}

static void test_below_first_segment(void **state)
{
    (void)state;
    struct boot_plan p;
    char err[200];
    /* Low RAM and everything after the kernel taken: only below it is free. */
    const struct gpa_range img[2] = {{0, LOW_END}, {2 * MiB, 4 * MiB}};
    const uint64_t mods[1] = {0x10000};
    assert_int_equal(plan(img, 2, mods, 1, &p, err), 0);
    assert_int_equal(p.stack_gpa, MiB);
    assert_int_equal(p.module_gpa[0], MiB + 0x3000);
    check_plan(img, 2, mods, 1, &p);
}

static void test_no_room(void **state)
{
    (void)state;
    struct boot_plan p;
    char err[200];
    const struct gpa_range all[2] = {{0, LOW_END}, {MiB, 4 * MiB}};
    assert_int_equal(plan(all, 2, NULL, 0, &p, err), -1);
    assert_string_equal(err, "no room for the boot information (12 KiB) in guest RAM below 4 GiB "
                             "outside the kernel's segments");
    /* Room for the information only (three pages between two segments). */
    const struct gpa_range gap[2] = {{0, LOW_END}, {MiB + 0x3000, 4 * MiB}};
    const uint64_t mods[1] = {1};
    assert_int_equal(plan(gap, 2, NULL, 0, &p, err), 0);
    assert_int_equal(p.stack_gpa, MiB);
    assert_int_equal(plan(gap, 2, mods, 1, &p, err), -1);
    assert_string_equal(err, "module 1 (1 bytes) does not fit in guest RAM below 4 GiB outside "
                             "the kernel and the modules before it");
    /* A module larger than RAM, and one whose size would overflow. */
    const struct gpa_range img[1] = {{MiB, MiB + 0x1000}};
    const uint64_t big[2] = {4096, 8 * MiB};
    assert_int_equal(plan(img, 1, big, 2, &p, err), -1);
    assert_string_equal(err, "module 2 (8388608 bytes) does not fit in guest RAM below 4 GiB "
                             "outside the kernel and the modules before it");
    const uint64_t huge[1] = {UINT64_MAX - 10};
    assert_int_equal(plan(img, 1, huge, 1, &p, err), -1);
    /* Too many modules for the table. */
    uint64_t many[BOOT_PLACE_MAX_MODULES + 1];
    for (unsigned i = 0; i <= BOOT_PLACE_MAX_MODULES; i++)
        many[i] = 1;
    assert_int_equal(plan(img, 1, many, BOOT_PLACE_MAX_MODULES + 1, &p, err), -1);
}

static void test_hostile_ranges(void **state)
{
    (void)state;
    struct boot_plan p;
    char err[200];
    /* Out of RAM, empty, and wrapping past the top (covers all above 2 MiB). */
    const struct gpa_range img[3] = {
        {64 * MiB, 65 * MiB}, {0x8000, 0x8000}, {2 * MiB, 2 * MiB - 1}};
    const uint64_t mods[1] = {MiB};
    assert_int_equal(plan(img, 3, mods, 1, &p, err), 0);
    assert_int_equal(p.info_gpa, 0x8000); /* the empty range takes nothing */
    assert_true(p.module_gpa[0] + MiB <= 2 * MiB);
    assert_int_equal(p.module_gpa[0], MiB);
    /* find: size 0, an alignment that is no power of two, nothing fits. */
    assert_int_equal(boot_place_find(ram4m, 2, NULL, 0, 0, 0x1000, 0), UINT64_MAX);
    assert_int_equal(boot_place_find(ram4m, 2, NULL, 0, 16, 0x1800, 0), UINT64_MAX);
    assert_int_equal(boot_place_find(ram4m, 2, NULL, 0, 4 * MiB, 0x1000, 0), UINT64_MAX);
    assert_int_equal(boot_place_find(ram4m, 2, NULL, 0, 16, 0x1000, UINT64_MAX - 5), UINT64_MAX);
    assert_int_equal(boot_place_find(ram4m, 2, NULL, 0, 16, 0x1000, 0x9f001), MiB);
}

/* Random layouts: whatever fits is placed correctly, and a failure is a
 * real lack of room (checked by giving the same layout an empty kernel). */
static void test_random_layouts(void **state)
{
    (void)state;
    srand(1234);
    for (int round = 0; round < 20000; round++) {
        struct gpa_range img[6];
        uint64_t mods[4];
        unsigned n = (unsigned)(rand() % 7), nm = (unsigned)(rand() % 5);
        for (unsigned i = 0; i < n; i++) {
            uint64_t s = (uint64_t)(rand() % (5 * 256)) * 0x1000 + (uint64_t)(rand() % 3) * 0x10;
            img[i] = (struct gpa_range){s, s + (uint64_t)(rand() % (2 * 256)) * 0x1000 + 1};
        }
        for (unsigned i = 0; i < nm; i++)
            mods[i] = (uint64_t)(rand() % (300 * 1024)) + 1;
        struct boot_plan p;
        char err[200];
        if (plan(img, n, mods, nm, &p, err) == 0)
            check_plan(img, n, mods, nm, &p);
        else
            assert_true(n > 0);
    }
}

static void test_memory_map(void **state)
{
    (void)state;
    const struct gpa_range ram[3] = {
        {0, LOW_END}, {MiB, 4 * MiB}, {1ULL << 32, (1ULL << 32) + MiB}};
    /* Unsorted reserved ranges, one at the very start of a RAM range. */
    const struct gpa_range res[3] = {
        {2 * MiB, 2 * MiB + 0x3000}, {0x7000, 0xa000}, {MiB, MiB + 0x1000}};
    const struct boot_map_entry bios = {0xe0000, 0x20000, 2};
    struct boot_map_entry m[16];
    unsigned n = boot_map_build(ram, 3, res, 3, &bios, 1, m, 16);
    const struct boot_map_entry want[] = {
        {0, 0x7000, 1},
        {0x7000, 0x3000, 2},
        {0xa000, LOW_END - 0xa000, 1},
        {0xe0000, 0x20000, 2},
        {MiB, 0x1000, 2},
        {MiB + 0x1000, MiB - 0x1000, 1},
        {2 * MiB, 0x3000, 2},
        {2 * MiB + 0x3000, 2 * MiB - 0x3000, 1},
        {1ULL << 32, MiB, 1},
    };
    assert_int_equal(n, sizeof(want) / sizeof(want[0]));
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(m[i].addr, want[i].addr);
        assert_int_equal(m[i].len, want[i].len);
        assert_int_equal(m[i].type, want[i].type);
    }
    /* A small table is filled, never overrun. */
    assert_int_equal(boot_map_build(ram, 3, res, 3, &bios, 1, m, 4), 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usual_kernel),
        cmocka_unit_test(test_kernel_linked_at_0x8000),
        cmocka_unit_test(test_low_memory_all_taken),
        cmocka_unit_test(test_below_first_segment),
        cmocka_unit_test(test_no_room),
        cmocka_unit_test(test_hostile_ranges),
        cmocka_unit_test(test_random_layouts),
        cmocka_unit_test(test_memory_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
