/* Multiboot2 information parser: synthetic MBI blobs, good and hostile. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boot/mb2info.h"

#define PHYS 0x10000ull

struct mbi {
    _Alignas(8) uint8_t buf[16384];
    uint32_t len;
};

static struct mbi mb;
static struct boot_info bi;
static char err[256];

static void put32(uint32_t off, uint32_t v)
{
    memcpy(mb.buf + off, &v, 4);
}

static void mb_begin(void)
{
    memset(&mb, 0, sizeof(mb));
    mb.len = 8;
}

/* Appends a tag with size 8 + plen (or `size` when nonzero), padded to 8. */
static uint32_t mb_tag_sized(uint32_t type, const void *payload, uint32_t plen, uint32_t size)
{
    uint32_t off = mb.len;
    put32(off, type);
    put32(off + 4, size ? size : 8 + plen);
    if (plen)
        memcpy(mb.buf + off + 8, payload, plen);
    mb.len = (off + 8 + plen + 7) & ~7u;
    return off;
}

static uint32_t mb_tag(uint32_t type, const void *payload, uint32_t plen)
{
    return mb_tag_sized(type, payload, plen, 0);
}

static void mb_string(uint32_t type, const char *s)
{
    mb_tag(type, s, (uint32_t)strlen(s) + 1);
}

static void mb_module(uint32_t start, uint32_t end, const char *name)
{
    uint8_t p[128];
    memcpy(p, &start, 4);
    memcpy(p + 4, &end, 4);
    size_t n = strlen(name) + 1;
    memcpy(p + 8, name, n);
    mb_tag(MB2_TAG_MODULE, p, (uint32_t)(8 + n));
}

struct e820 {
    uint64_t base, len;
    uint32_t type;
};

static void mb_mmap(const struct e820 *e, unsigned n, uint32_t entry_size)
{
    uint8_t p[8192] = {0};
    uint32_t ver = 0;
    memcpy(p, &entry_size, 4);
    memcpy(p + 4, &ver, 4);
    for (unsigned i = 0; i < n; i++) {
        uint8_t *q = p + 8 + i * entry_size;
        memcpy(q, &e[i].base, 8);
        memcpy(q + 8, &e[i].len, 8);
        memcpy(q + 16, &e[i].type, 4);
    }
    mb_tag(MB2_TAG_MMAP, p, 8 + n * entry_size);
}

struct efid {
    uint32_t type;
    uint64_t base, pages;
};

static void mb_efi_mmap(const struct efid *d, unsigned n, uint32_t desc_size)
{
    uint8_t p[8192] = {0};
    uint32_t ver = 1;
    memcpy(p, &desc_size, 4);
    memcpy(p + 4, &ver, 4);
    for (unsigned i = 0; i < n; i++) {
        uint8_t *q = p + 8 + i * desc_size;
        memcpy(q, &d[i].type, 4);
        memcpy(q + 8, &d[i].base, 8);
        memcpy(q + 24, &d[i].pages, 8);
    }
    mb_tag(MB2_TAG_EFI_MMAP, p, 8 + n * desc_size);
}

static void mb_finish(void)
{
    mb_tag(MB2_TAG_END, NULL, 0);
    put32(0, mb.len);
}

static const struct e820 basic_map[] = {
    {0, 0x9f000, 1},         {0x9f000, 0x1000, 2},
    {0x100000, 0x100000, 1}, {0x200000, 0x7e00000, 1}, /* adjacent, same type: merged */
    {0xfec00000, 0x1000, 7},                           /* unknown type: reserved */
};

static void build_basic(void)
{
    mb_begin();
    mb_string(MB2_TAG_CMDLINE, "console=com1 log=debug");
    mb_string(MB2_TAG_BOOT_LOADER_NAME, "GRUB 2.06");
    mb_module(0x200000, 0x300000, "linux");
    mb_module(0x300000, 0x300800, "initrd");
    mb_mmap(basic_map, 5, 24);
}

static int parse(void)
{
    return mb2_parse(MB2_BOOTLOADER_MAGIC, mb.buf, PHYS, &bi, err, sizeof(err));
}

static void expect_fail(const char *needle)
{
    assert_int_equal(parse(), -1);
    if (!strstr(err, needle))
        fail_msg("error \"%s\" does not contain \"%s\"", err, needle);
    assert_non_null(strstr(err, "multiboot2: "));
    /* out is reset on failure */
    assert_int_equal(bi.nr_modules, 0);
    assert_int_equal(bi.nr_mmap, 0);
    assert_string_equal(bi.cmdline, "");
}

static void test_good_bios(void **state)
{
    build_basic();
    uint8_t rsdp[20] = "RSD PTR ";
    rsdp[15] = 0; /* revision 0 */
    mb_tag(MB2_TAG_ACPI_OLD, rsdp, 20);
    mb_finish();

    assert_int_equal(parse(), 0);
    assert_string_equal(err, "");
    assert_int_equal(bi.mbi_phys, PHYS);
    assert_int_equal(bi.mbi_size, mb.len);
    assert_string_equal(bi.cmdline, "console=com1 log=debug");
    assert_string_equal(bi.loader_name, "GRUB 2.06");
    assert_int_equal(bi.nr_modules, 2);
    assert_int_equal(bi.modules[0].start, 0x200000);
    assert_int_equal(bi.modules[0].end, 0x300000);
    assert_string_equal(bi.modules[0].name, "linux");
    assert_string_equal(bi.modules[1].name, "initrd");
    /* name points into the MBI, not a copy */
    assert_true((const uint8_t *)bi.modules[1].name > mb.buf &&
                (const uint8_t *)bi.modules[1].name < mb.buf + mb.len);
    assert_int_equal(bi.mmap_from_efi, 0);
    assert_int_equal(bi.nr_mmap, 4);
    assert_int_equal(bi.mmap[0].type, MEM_USABLE);
    assert_int_equal(bi.mmap[1].type, MEM_RESERVED);
    assert_int_equal(bi.mmap[2].base, 0x100000);
    assert_int_equal(bi.mmap[2].len, 0x7f00000);
    assert_int_equal(bi.mmap[2].type, MEM_USABLE);
    assert_int_equal(bi.mmap[3].type, MEM_RESERVED);
    assert_int_equal(bi.rsdp_len, 20);
    assert_memory_equal(bi.rsdp, "RSD PTR ", 8);
    assert_int_equal(bi.efi_system_table, 0);
}

static void test_minimal(void **state)
{
    /* No cmdline, no loader name: defaults. */
    static const struct e820 m[] = {{0x100000, 0x100000, 1}};
    mb_begin();
    mb_mmap(m, 1, 24);
    mb_finish();
    assert_int_equal(parse(), 0);
    assert_string_equal(bi.cmdline, "");
    assert_null(bi.loader_name);
    assert_int_equal(bi.nr_modules, 0);
    assert_int_equal(bi.rsdp_len, 0);
}

static void test_mmap_larger_entries(void **state)
{
    /* entry_size 32 (future versions): extra bytes skipped; zero-length dropped */
    static const struct e820 m[] = {{0x100000, 0x100000, 1},
                                    {0x300000, 0, 1},
                                    {0x400000, 0x1000, 3},
                                    {0x500000, 0x1000, 4},
                                    {0x600000, 0x1000, 5}};
    mb_begin();
    mb_mmap(m, 5, 32);
    mb_finish();
    assert_int_equal(parse(), 0);
    assert_int_equal(bi.nr_mmap, 4);
    assert_int_equal(bi.mmap[1].type, MEM_ACPI_RECLAIM);
    assert_int_equal(bi.mmap[2].type, MEM_ACPI_NVS);
    assert_int_equal(bi.mmap[3].type, MEM_BAD);
}

static const struct efid efi_map[] = {
    {7, 0x0, 0x9f},         /* Conventional */
    {0, 0x9f000, 1},        /* Reserved */
    {1, 0x100000, 0x10},    /* LoaderCode */
    {2, 0x110000, 0x10},    /* LoaderData: merged with the above */
    {3, 0x120000, 0x10},    /* BootServicesCode */
    {4, 0x130000, 0x10},    /* BootServicesData */
    {5, 0x140000, 0x10},    /* RuntimeServicesCode */
    {6, 0x150000, 0x10},    /* RuntimeServicesData: merged with RT code */
    {8, 0x160000, 0x10},    /* Unusable */
    {9, 0x170000, 0x10},    /* ACPIReclaim */
    {10, 0x180000, 0x10},   /* ACPINVS */
    {11, 0xfec00000, 1},    /* MMIO */
    {14, 0x200000000, 0x10} /* Persistent */
};

static void test_good_efi(void **state)
{
    static const struct e820 bios[] = {{0x100000, 0x100000, 1}};
    uint8_t rsdp2[36] = "RSD PTR ";
    rsdp2[15] = 2;
    uint8_t rsdp1[20] = "RSD PTR ";
    uint64_t st = 0x7fe00000;

    mb_begin();
    mb_mmap(bios, 1, 24);
    mb_tag(MB2_TAG_ACPI_NEW, rsdp2, 36);
    mb_tag(MB2_TAG_ACPI_OLD, rsdp1, 20); /* after tag 15: must not win */
    mb_tag(MB2_TAG_EFI64, &st, 8);
    mb_efi_mmap(efi_map, 13, 48);
    mb_tag(99, "junk", 4); /* unknown: skipped */
    mb_finish();

    assert_int_equal(parse(), 0);
    assert_int_equal(bi.mmap_from_efi, 1);
    assert_int_equal(bi.efi_boot_services_active, 0);
    assert_int_equal(bi.rsdp_len, 36);
    assert_int_equal(bi.rsdp[15], 2);
    assert_int_equal(bi.efi_system_table, st);

    static const struct mem_region want[] = {
        {0x0, 0x9f000, MEM_USABLE},
        {0x9f000, 0x1000, MEM_RESERVED},
        {0x100000, 0x40000, MEM_USABLE}, /* loader code/data + boot services */
        {0x140000, 0x20000, MEM_RESERVED},
        {0x160000, 0x10000, MEM_BAD},
        {0x170000, 0x10000, MEM_ACPI_RECLAIM},
        {0x180000, 0x10000, MEM_ACPI_NVS},
        {0xfec00000, 0x1000, MEM_RESERVED},
        {0x200000000, 0x10000, MEM_RESERVED},
    };
    assert_int_equal(bi.nr_mmap, sizeof(want) / sizeof(want[0]));
    for (unsigned i = 0; i < bi.nr_mmap; i++) {
        assert_int_equal(bi.mmap[i].base, want[i].base);
        assert_int_equal(bi.mmap[i].len, want[i].len);
        assert_int_equal(bi.mmap[i].type, want[i].type);
    }
}

static void test_efi_boot_services_kept(void **state)
{
    /* Tag 18 after tag 17 still turns boot services memory into reserved. */
    mb_begin();
    mb_efi_mmap(efi_map, 13, 40);
    mb_tag(MB2_TAG_EFI_BS, NULL, 0);
    mb_finish();
    assert_int_equal(parse(), 0);
    assert_int_equal(bi.efi_boot_services_active, 1);
    assert_int_equal(bi.mmap[2].base, 0x100000);
    assert_int_equal(bi.mmap[2].len, 0x20000);
    assert_int_equal(bi.mmap[2].type, MEM_USABLE);
    assert_int_equal(bi.mmap[3].base, 0x120000);
    assert_int_equal(bi.mmap[3].len, 0x40000);
    assert_int_equal(bi.mmap[3].type, MEM_RESERVED);
}

static void test_bad_magic(void **state)
{
    build_basic();
    mb_finish();
    assert_int_equal(mb2_parse(0x2badb002, mb.buf, PHYS, &bi, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "magic 0x2badb002"));
    assert_int_equal(mb2_parse(MB2_BOOTLOADER_MAGIC, NULL, PHYS, &bi, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "NULL"));
    assert_int_equal(mb2_parse(MB2_BOOTLOADER_MAGIC, mb.buf, PHYS + 4, &bi, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not 8-byte aligned"));
    assert_int_equal(mb2_parse(MB2_BOOTLOADER_MAGIC, mb.buf, UINT64_MAX - 7, &bi, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "wraps"));
    /* no error buffer: still fails cleanly */
    assert_int_equal(mb2_parse(0, mb.buf, PHYS, &bi, NULL, 0), -1);
    assert_int_equal(mb2_parse(MB2_BOOTLOADER_MAGIC, mb.buf, PHYS, NULL, err, sizeof(err)), -1);
}

static void test_bad_total_size(void **state)
{
    build_basic();
    mb_finish();
    put32(0, 8);
    expect_fail("total_size 0x8 is too small");
    put32(0, 2u * 1024 * 1024);
    expect_fail("larger than 1 MiB");
    /* total_size cuts the last (end) tag short */
    build_basic();
    mb_finish();
    put32(0, mb.len - 8);
    expect_fail("no end tag");
}

static void test_tag_past_end(void **state)
{
    mb_begin();
    mb_string(MB2_TAG_CMDLINE, "x");
    uint32_t off = mb.len;
    mb_mmap(basic_map, 2, 24);
    mb_finish();
    put32(off + 4, 0x1000); /* tag 6 claims more than there is */
    expect_fail("tag 6 at offset 0x18 runs past the end of the information");
}

static void test_tag_too_small(void **state)
{
    mb_begin();
    mb_tag_sized(MB2_TAG_MODULE, "\0\0\0\0\0\0\0\0", 8, 12); /* below the 16-byte minimum */
    mb_finish();
    expect_fail("tag 3 at offset 0x8: size 0xc is below the minimum");

    mb_begin();
    mb_tag_sized(77, NULL, 0, 4); /* unknown, but smaller than a header */
    mb_finish();
    expect_fail("size 0x4 is below the minimum 0x8");

    uint8_t short_rsdp[20] = "RSD PTR ";
    mb_begin();
    mb_mmap(basic_map, 1, 24);
    mb_tag(MB2_TAG_ACPI_NEW, short_rsdp, 20);
    mb_finish();
    expect_fail("tag 15");
}

static void test_missing_end_tag(void **state)
{
    build_basic();
    put32(0, mb.len); /* no end tag at all */
    expect_fail("no end tag");

    build_basic();
    mb_tag_sized(MB2_TAG_END, "\0\0\0\0\0\0\0\0", 8, 16);
    put32(0, mb.len);
    expect_fail("end tag at offset");
}

static void test_unterminated_strings(void **state)
{
    mb_begin();
    mb_tag(MB2_TAG_CMDLINE, "abc", 3); /* no NUL in the tag; the pad byte after it is 0 */
    mb_mmap(basic_map, 1, 24);
    mb_finish();
    expect_fail("command line is not NUL-terminated");

    mb_begin();
    mb_tag(MB2_TAG_BOOT_LOADER_NAME, NULL, 0);
    mb_mmap(basic_map, 1, 24);
    mb_finish();
    expect_fail("boot loader name is not NUL-terminated");

    uint8_t p[12] = {0, 0, 0x20, 0, 0, 0, 0x30, 0, 'a', 'b', 'c', 'd'};
    mb_begin();
    mb_tag(MB2_TAG_MODULE, p, 12);
    mb_mmap(basic_map, 1, 24);
    mb_finish();
    expect_fail("module name is not NUL-terminated");
}

static void test_module_start_end(void **state)
{
    mb_begin();
    mb_module(0x300000, 0x200000, "backwards");
    mb_mmap(basic_map, 1, 24);
    mb_finish();
    expect_fail("module 0 (\"backwards\") at offset 0x8: start 0x300000 is above end 0x200000");

    /* An empty module (GRUB gives an empty file start = end = 0) is kept,
     * empty, for its user to report by name: never a failed boot. */
    mb_begin();
    mb_module(0, 0, "bulkhead.cfg");
    mb_module(0x300000, 0x300000, "empty");
    mb_module(0x300000, 0x301000, "hello.elf");
    mb_mmap(basic_map, 1, 24);
    mb_finish();
    assert_int_equal(parse(), 0);
    assert_int_equal(bi.nr_modules, 3);
    assert_string_equal(bi.modules[0].name, "bulkhead.cfg");
    assert_int_equal(bi.modules[0].start, 0);
    assert_int_equal(bi.modules[0].end, 0);
    assert_string_equal(bi.modules[1].name, "empty");
    assert_int_equal(bi.modules[1].start, bi.modules[1].end);
    assert_int_equal(bi.modules[2].end - bi.modules[2].start, 0x1000);
}

static void test_too_many_modules(void **state)
{
    mb_begin();
    for (unsigned i = 0; i < MB2_MAX_MODULES; i++)
        mb_module(0x1000000 + i * 0x1000, 0x1001000 + i * 0x1000, "m");
    mb_mmap(basic_map, 1, 24);
    mb_finish();
    assert_int_equal(parse(), 0);
    assert_int_equal(bi.nr_modules, MB2_MAX_MODULES);

    mb_begin();
    for (unsigned i = 0; i <= MB2_MAX_MODULES; i++)
        mb_module(0x1000000 + i * 0x1000, 0x1001000 + i * 0x1000, "m");
    mb_mmap(basic_map, 1, 24);
    mb_finish();
    expect_fail("more than 32 modules");
}

static void test_too_many_regions(void **state)
{
    static struct e820 m[MB2_MAX_REGIONS + 1];
    for (unsigned i = 0; i <= MB2_MAX_REGIONS; i++)
        m[i] = (struct e820){0x100000 + i * 0x2000ull, 0x1000, 1}; /* gaps: no merging */
    mb_begin();
    mb_mmap(m, MB2_MAX_REGIONS, 24);
    mb_finish();
    assert_int_equal(parse(), 0);
    assert_int_equal(bi.nr_mmap, MB2_MAX_REGIONS);

    mb_begin();
    mb_mmap(m, MB2_MAX_REGIONS + 1, 24);
    mb_finish();
    expect_fail("more than 128 memory regions");
}

static void test_bad_entry_size(void **state)
{
    mb_begin();
    mb_mmap(basic_map, 2, 20);
    mb_finish();
    expect_fail("entry size 20 is invalid");

    mb_begin();
    mb_mmap(basic_map, 2, 28);
    mb_finish();
    expect_fail("entry size 28 is invalid");

    mb_begin();
    mb_efi_mmap(efi_map, 2, 32);
    mb_finish();
    expect_fail("descriptor size 32 is invalid");
}

static void test_bad_regions(void **state)
{
    static const struct e820 wrap[] = {{0xfffffffffffff000ull, 0x2000, 1}};
    mb_begin();
    mb_mmap(wrap, 1, 24);
    mb_finish();
    expect_fail("wraps past 2^64");

    static const struct efid huge[] = {{7, 0x100000, 0x10000000000000ull}};
    mb_begin();
    mb_efi_mmap(huge, 1, 40);
    mb_finish();
    expect_fail("NumberOfPages");

    /* a bad tag 6 is an error even when tag 17 is what we use */
    mb_begin();
    mb_mmap(wrap, 1, 24);
    mb_efi_mmap(efi_map, 3, 48);
    mb_finish();
    expect_fail("tag 6 entry 0");
}

static void test_no_memory_map(void **state)
{
    mb_begin();
    mb_string(MB2_TAG_CMDLINE, "x");
    mb_finish();
    expect_fail("no memory map");

    mb_begin();
    mb_mmap(basic_map, 0, 24);
    mb_finish();
    expect_fail("no memory map");
}

static void test_duplicate_tags(void **state)
{
    build_basic();
    mb_string(MB2_TAG_CMDLINE, "again");
    mb_finish();
    expect_fail("tag 1 at offset");
    assert_non_null(strstr(err, "more than once"));
}

static void test_error_truncation(void **state)
{
    char small[16];
    build_basic();
    mb_finish();
    put32(0, 4);
    assert_int_equal(mb2_parse(MB2_BOOTLOADER_MAGIC, mb.buf, PHYS, &bi, small, sizeof(small)), -1);
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_memory_equal(small, "multiboot2: tot", 15);
}

/* Random corruption of a good blob in an exactly-sized heap buffer: ASan
 * catches any read outside total_size. */
static void test_fuzz(void **state)
{
    build_basic();
    uint8_t r1[36] = "RSD PTR ";
    mb_tag(MB2_TAG_ACPI_NEW, r1, 36);
    mb_efi_mmap(efi_map, 13, 48);
    mb_finish();
    uint32_t len = mb.len;
    uint8_t *blob = aligned_alloc(8, len);
    uint8_t *work = aligned_alloc(8, len);
    memcpy(blob, mb.buf, len);
    srand(1234);
    unsigned ok = 0;
    for (int iter = 0; iter < 20000; iter++) {
        memcpy(work, blob, len);
        int flips = 1 + rand() % 4;
        for (int k = 0; k < flips; k++) {
            uint32_t at = 4 + (uint32_t)rand() % (len - 4); /* keep total_size honest */
            work[at] = (uint8_t)(rand() % 3 == 0 ? 0xff : rand());
        }
        if (rand() % 8 == 0) {
            uint32_t t = 16 + (uint32_t)rand() % (len - 16);
            memcpy(work, &t, 4); /* shorter total_size is always safe */
        }
        int rc = mb2_parse(MB2_BOOTLOADER_MAGIC, work, PHYS, &bi, err, sizeof(err));
        if (rc == 0) {
            ok++;
            assert_true(bi.nr_mmap > 0 && bi.nr_mmap <= MB2_MAX_REGIONS);
            for (unsigned i = 0; i < bi.nr_modules; i++)
                assert_true(bi.modules[i].start < bi.modules[i].end);
        } else {
            assert_true(strlen(err) > 12);
        }
    }
    assert_true(ok > 0);
    free(blob);
    free(work);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_bios),
        cmocka_unit_test(test_minimal),
        cmocka_unit_test(test_mmap_larger_entries),
        cmocka_unit_test(test_good_efi),
        cmocka_unit_test(test_efi_boot_services_kept),
        cmocka_unit_test(test_bad_magic),
        cmocka_unit_test(test_bad_total_size),
        cmocka_unit_test(test_tag_past_end),
        cmocka_unit_test(test_tag_too_small),
        cmocka_unit_test(test_missing_end_tag),
        cmocka_unit_test(test_unterminated_strings),
        cmocka_unit_test(test_module_start_end),
        cmocka_unit_test(test_too_many_modules),
        cmocka_unit_test(test_too_many_regions),
        cmocka_unit_test(test_bad_entry_size),
        cmocka_unit_test(test_bad_regions),
        cmocka_unit_test(test_no_memory_map),
        cmocka_unit_test(test_duplicate_tags),
        cmocka_unit_test(test_error_truncation),
        cmocka_unit_test(test_fuzz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
