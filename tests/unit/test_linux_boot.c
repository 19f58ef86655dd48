/* Linux boot protocol: bzImage parsing, the zero page, e820 and layout, on
 * synthetic images and (when scripts/build-linux-guest.sh has run, or the
 * host has one in /boot) a real Debian kernel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "loader/linux_boot.h"
#include "vcpu/vm.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)

static uint8_t img[64 * 1024];
static uint8_t zp[LINUX_ZERO_PAGE_SIZE];
static char err[256];

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}
static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}
static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p)
{
    return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* A 2.15 header like Debian 6.1's: 39 setup sectors, 16 MiB preferred,
 * 2 MiB alignment, 48 MiB init_size; payload fills the rest of img. */
static void make_image(void)
{
    memset(img, 0, sizeof(img));
    img[0x1F1] = 39;
    put16(img + 0x1FE, 0xAA55);
    img[0x200] = 0xEB;
    img[0x201] = 0x6A; /* header ends at 0x26C */
    memcpy(img + 0x202, "HdrS", 4);
    put16(img + 0x206, 0x20F);
    put16(img + 0x1FA, 0xFFFF); /* vid_mode */
    img[0x211] = LINUX_LOADED_HIGH;
    uint32_t payload = sizeof(img) - 40 * 512;
    put32(img + 0x1F4, payload / 16);
    put32(img + 0x22C, 0x7FFFFFFF);
    put32(img + 0x230, 2 * MIB);
    img[0x234] = 1;
    put16(img + 0x236, LINUX_XLF_KERNEL_64 | LINUX_XLF_CAN_BE_LOADED_ABOVE_4G);
    put32(img + 0x238, 2047);
    put64(img + 0x250, 0x1234); /* setup_data: must not survive */
    put64(img + 0x258, 16 * MIB);
    put32(img + 0x260, 48 * MIB);
    put32(img + 0x264, 0x190);
    img[0x26C] = 0x77; /* past the header: must not be copied */
}

static int setup(void **state)
{
    make_image();
    memset(err, 0, sizeof(err));
    return 0;
}

static void test_parse_good(void **state)
{
    struct linux_image li;
    assert_int_equal(linux_parse_bzimage(img, sizeof(img), &li, err, sizeof(err)), 0);
    assert_int_equal(li.protocol, 0x20F);
    assert_int_equal(li.setup_sects, 39);
    assert_int_equal(li.setup_size, 40 * 512);
    assert_int_equal(li.payload_offset, 40 * 512);
    assert_int_equal(li.payload_size, sizeof(img) - 40 * 512);
    assert_int_equal(li.pref_address, 16 * MIB);
    assert_int_equal(li.init_size, 48 * MIB);
    assert_int_equal(li.kernel_alignment, 2 * MIB);
    assert_true(li.relocatable);
    assert_int_equal(li.cmdline_size, 2047);
    assert_int_equal(li.xloadflags, 3);
    assert_int_equal(li.handover_offset, 0x190);
    assert_int_equal(li.initrd_addr_max, 0x7FFFFFFF);
    assert_int_equal(li.hdr_end, 0x26C);
}

static void expect_parse_error(uint64_t size, const char *needle)
{
    struct linux_image li;
    assert_int_equal(linux_parse_bzimage(img, size, &li, err, sizeof(err)), -1);
    if (!strstr(err, needle))
        fail_msg("error '%s' lacks '%s'", err, needle);
}

static void test_parse_errors(void **state)
{
    expect_parse_error(0x100, "too small");
    img[0x1FE] = 0;
    expect_parse_error(sizeof(img), "0xAA55");
    make_image();
    img[0x203] = 'x';
    expect_parse_error(sizeof(img), "HdrS");
    make_image();
    put16(img + 0x206, 0x204);
    expect_parse_error(sizeof(img), "protocol 2.04 too old, need 2.06");
    make_image();
    img[0x201] = 0x10; /* header would end before cmdline_size */
    expect_parse_error(sizeof(img), "header length");
    make_image();
    img[0x201] = 0xFF;
    expect_parse_error(sizeof(img), "header length");
    make_image();
    expect_parse_error(0x260, "truncated");
    expect_parse_error(40 * 512, "truncated");
    expect_parse_error(40 * 512 + 100, "syssize");
    img[0x211] = 0;
    expect_parse_error(sizeof(img), "LOADED_HIGH");
    make_image();
    put32(img + 0x230, 3 * MIB);
    expect_parse_error(sizeof(img), "kernel_alignment");
    make_image();
    put32(img + 0x1F4, 0);
    expect_parse_error(sizeof(img), "syssize");
}

static void test_parse_setup_sects_zero(void **state)
{
    struct linux_image li;
    img[0x1F1] = 0; /* means 4 */
    assert_int_equal(linux_parse_bzimage(img, sizeof(img), &li, err, sizeof(err)), 0);
    assert_int_equal(li.setup_sects, 0);
    assert_int_equal(li.setup_size, 5 * 512);
    assert_int_equal(li.payload_offset, 5 * 512);
    assert_int_equal(li.payload_size, sizeof(img) - 5 * 512);
}

/* An old 2.06 kernel: no pref_address or init_size in its header. */
static void test_parse_206(void **state)
{
    struct linux_image li;
    put16(img + 0x206, 0x206);
    img[0x201] = 0x3A; /* header ends at 0x23C */
    assert_int_equal(linux_parse_bzimage(img, sizeof(img), &li, err, sizeof(err)), 0);
    assert_int_equal(li.pref_address, 0x100000);
    assert_int_equal(li.init_size, 0);
    assert_int_equal(li.xloadflags, 0);
    struct linux_layout lay;
    assert_int_equal(linux_plan_layout(&li, 64 * MIB, 0, 10, &lay, err, sizeof(err)), 0);
    assert_int_equal(lay.kernel_gpa, 2 * MIB); /* 1 MiB aligned up to 2 MiB */
    assert_true(lay.kernel_end >= lay.kernel_gpa + li.payload_size);
    /* 2.10+ with a header too short for init_size is hostile. */
    put16(img + 0x206, 0x20A);
    expect_parse_error(sizeof(img), "before init_size");
}

static void test_boot_params(void **state)
{
    struct linux_image li;
    assert_int_equal(linux_parse_bzimage(img, sizeof(img), &li, err, sizeof(err)), 0);
    struct e820_entry map[8];
    unsigned n = linux_build_e820(128 * MIB, 0xE0000, 0x1000, map, 8);
    assert_true(n > 0);
    struct linux_boot_params_in in = {
        .cmdline_gpa = 0x20000,
        .cmdline_len = 30,
        .initrd_gpa = 0x7000000,
        .initrd_size = 0x123456,
        .rsdp_gpa = 0xE0000,
        .e820 = map,
        .nr_e820 = n,
    };
    memset(zp, 0xCC, sizeof(zp));
    assert_int_equal(linux_build_boot_params(img, sizeof(img), &li, &in, zp, err, sizeof(err)), 0);
    assert_int_equal(zp[0], 0); /* zeroed */
    assert_int_equal(zp[0x1F0], 0);
    assert_int_equal(zp[0x1F1], 39); /* header copied */
    assert_memory_equal(zp + 0x202, "HdrS", 4);
    assert_int_equal(rd16(zp + 0x206), 0x20F);
    assert_int_equal(rd64(zp + 0x258), 16 * MIB);
    assert_int_equal(rd32(zp + 0x260), 48 * MIB);
    assert_int_equal(zp[0x26C], 0);    /* nothing past the header */
    assert_int_equal(zp[0x210], 0xFF); /* type_of_loader */
    assert_int_equal(zp[0x211] & LINUX_CAN_USE_HEAP, LINUX_CAN_USE_HEAP);
    assert_int_equal(zp[0x211] & LINUX_KEEP_SEGMENTS, 0);
    assert_int_equal(zp[0x211] & LINUX_LOADED_HIGH, LINUX_LOADED_HIGH);
    assert_int_not_equal(rd16(zp + 0x224), 0);     /* heap_end_ptr */
    assert_int_equal(rd32(zp + 0x228), 0x20000);   /* cmd_line_ptr */
    assert_int_equal(rd32(zp + 0x0C8), 0);         /* ext_cmd_line_ptr */
    assert_int_equal(rd32(zp + 0x218), 0x7000000); /* ramdisk_image */
    assert_int_equal(rd32(zp + 0x21C), 0x123456);  /* ramdisk_size */
    assert_int_equal(rd32(zp + 0x0C0), 0);
    assert_int_equal(rd32(zp + 0x0C4), 0);
    assert_int_equal(rd64(zp + 0x070), 0xE0000); /* acpi_rsdp_addr */
    assert_int_equal(rd64(zp + 0x250), 0);       /* setup_data cleared */
    assert_int_equal(zp[0x1E8], n);              /* e820_entries */
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *e = zp + 0x2D0 + 20 * i;
        assert_int_equal(rd64(e), map[i].addr);
        assert_int_equal(rd64(e + 8), map[i].size);
        assert_int_equal(rd32(e + 16), map[i].type);
    }
    assert_int_equal(zp[0x2D0 + 20 * n], 0);
}

static void test_boot_params_high_and_errors(void **state)
{
    struct linux_image li;
    assert_int_equal(linux_parse_bzimage(img, sizeof(img), &li, err, sizeof(err)), 0);
    struct linux_boot_params_in in = {
        .cmdline_gpa = 0x123456789ull,
        .cmdline_len = 5,
        .initrd_gpa = 0x140000000ull,
        .initrd_size = 0x100000001ull,
    };
    assert_int_equal(linux_build_boot_params(img, sizeof(img), &li, &in, zp, err, sizeof(err)), 0);
    assert_int_equal(rd32(zp + 0x228), 0x23456789);
    assert_int_equal(rd32(zp + 0x0C8), 0x1);
    assert_int_equal(rd32(zp + 0x218), 0x40000000);
    assert_int_equal(rd32(zp + 0x0C0), 0x1);
    assert_int_equal(rd32(zp + 0x21C), 0x1);
    assert_int_equal(rd32(zp + 0x0C4), 0x1);
    assert_int_equal(rd64(zp + 0x070), 0); /* no RSDP given */

    /* Without XLF_CAN_BE_LOADED_ABOVE_4G both must stay low. */
    li.xloadflags = 0;
    assert_int_equal(linux_build_boot_params(img, sizeof(img), &li, &in, zp, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "below 4 GiB"));
    in.cmdline_gpa = 0x20000;
    assert_int_equal(linux_build_boot_params(img, sizeof(img), &li, &in, zp, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "initrd_addr_max"));
    in.initrd_gpa = 0x7FFFF000;
    in.initrd_size = 0x1000;
    assert_int_equal(linux_build_boot_params(img, sizeof(img), &li, &in, zp, err, sizeof(err)), 0);
    in.initrd_gpa = UINT64_MAX - 10;
    in.initrd_size = 100;
    assert_int_equal(linux_build_boot_params(img, sizeof(img), &li, &in, zp, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "wraps"));
    in.initrd_size = 0;

    in.cmdline_len = 2048;
    assert_int_equal(linux_build_boot_params(img, sizeof(img), &li, &in, zp, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "command line"));
    in.cmdline_len = 2047;

    struct e820_entry many[LINUX_E820_MAX + 1];
    memset(many, 0, sizeof(many));
    in.e820 = many;
    in.nr_e820 = LINUX_E820_MAX;
    assert_int_equal(linux_build_boot_params(img, sizeof(img), &li, &in, zp, err, sizeof(err)), 0);
    assert_int_equal(zp[0x1E8], LINUX_E820_MAX);
    in.nr_e820 = LINUX_E820_MAX + 1;
    assert_int_equal(linux_build_boot_params(img, sizeof(img), &li, &in, zp, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "e820"));
    in.nr_e820 = 0;

    /* The RSDP field needs protocol 2.14. */
    in.rsdp_gpa = 0xE0000;
    li.protocol = 0x20D;
    assert_int_equal(linux_build_boot_params(img, sizeof(img), &li, &in, zp, err, sizeof(err)), 0);
    assert_int_equal(rd64(zp + 0x070), 0);

    /* A parsed header that does not fit the image given. */
    assert_int_equal(linux_build_boot_params(img, 0x200, &li, &in, zp, err, sizeof(err)), -1);
    li.hdr_end = 0x300;
    assert_int_equal(linux_build_boot_params(img, sizeof(img), &li, &in, zp, err, sizeof(err)), -1);
}

static void assert_entry(const struct e820_entry *e, uint64_t addr, uint64_t end, uint32_t type)
{
    assert_int_equal(e->addr, addr);
    assert_int_equal(e->addr + e->size, end);
    assert_int_equal(e->type, type);
}

/* The EPT layout (vcpu/vm.h: RAM split at the MMIO hole, the rest at
 * 4 GiB) and the e820 map Linux is given must describe the same RAM. */
static void test_ept_split_matches_e820(void **state)
{
    assert_int_equal(GPA_MMIO_HOLE, LINUX_LOW_RAM_TOP);
    assert_int_equal(GPA_HIGH_RAM, LINUX_HIGH_RAM_BASE);
    const uint64_t sizes[] = {128 * MIB, 3 * GIB, 3 * GIB + 2 * MIB, 5 * GIB};
    for (unsigned k = 0; k < 4; k++) {
        uint64_t mem = sizes[k];
        assert_int_equal(vm_mem_low(mem) + vm_mem_high(mem), mem);
        struct e820_entry m[16];
        unsigned n = linux_build_e820(mem, 0xE0000, 0x800, m, 16);
        const struct e820_entry *last = &m[n - 1];
        if (vm_mem_high(mem)) {
            assert_int_equal(last->addr, GPA_HIGH_RAM);
            assert_int_equal(last->size, vm_mem_high(mem));
        } else {
            assert_int_equal(last->addr + last->size, vm_mem_low(mem));
        }
    }
}

static void test_e820(void **state)
{
    struct e820_entry m[16];
    unsigned n = linux_build_e820(128 * MIB, 0xE0000, 0x800, m, 16);
    assert_int_equal(n, 4);
    assert_entry(&m[0], 0, 0x9FC00, 1);
    assert_entry(&m[1], 0x9FC00, 0xA0000, 2);
    assert_entry(&m[2], 0xE0000, 0x100000, 2);
    assert_entry(&m[3], 0x100000, 128 * MIB, 1);

    n = linux_build_e820(3 * GIB, 0xE0000, 0x800, m, 16);
    assert_int_equal(n, 4);
    assert_entry(&m[3], 0x100000, 3 * GIB, 1);

    n = linux_build_e820(5 * GIB, 0xE0000, 0x800, m, 16);
    assert_int_equal(n, 5);
    assert_entry(&m[3], 0x100000, 3 * GIB, 1);
    assert_entry(&m[4], 4 * GIB, 6 * GIB, 1); /* 2 GiB moved above the hole */
    uint64_t ram = 0;
    for (unsigned i = 0; i < n; i++) {
        if (m[i].type == 1)
            ram += m[i].size;
        if (i)
            assert_true(m[i].addr >= m[i - 1].addr + m[i - 1].size);
        assert_false(m[i].addr < 4 * GIB && m[i].addr + m[i].size > 3 * GIB);
    }
    assert_int_equal(ram, 5 * GIB - 0x60400); /* all but the 640K-1M hole and the EBDA */

    /* Tables outside the BIOS area: cut out of RAM as ACPI. */
    n = linux_build_e820(128 * MIB, 128 * MIB - 0x10000, 0x1000, m, 16);
    assert_int_equal(n, 6);
    assert_entry(&m[3], 0x100000, 128 * MIB - 0x10000, 1);
    assert_entry(&m[4], 128 * MIB - 0x10000, 128 * MIB - 0xF000, 3);
    assert_entry(&m[5], 128 * MIB - 0xF000, 128 * MIB, 1);

    /* Too little room, and hostile sizes. */
    assert_int_equal(linux_build_e820(128 * MIB, 0xE0000, 0x800, m, 3), 0);
    assert_int_equal(linux_build_e820(UINT64_MAX, 0xE0000, 0x800, m, 16), 0);
    assert_int_equal(linux_build_e820(128 * MIB, UINT64_MAX - 5, 0x800, m, 16), 0);

    /* Tiny VM: only the low RAM it has. */
    n = linux_build_e820(0x80000, 0xE0000, 0x800, m, 16);
    assert_int_equal(n, 3);
    assert_entry(&m[0], 0, 0x80000, 1);
}

static void test_layout(void **state)
{
    struct linux_image li;
    struct linux_layout lay;
    assert_int_equal(linux_parse_bzimage(img, sizeof(img), &li, err, sizeof(err)), 0);
    assert_int_equal(linux_plan_layout(&li, 128 * MIB, 2 * MIB + 5, 100, &lay, err, sizeof(err)),
                     0);
    assert_int_equal(lay.kernel_gpa, 16 * MIB);
    assert_int_equal(lay.kernel_end, 64 * MIB);
    assert_true(lay.initrd_gpa >= lay.kernel_end);
    assert_true(lay.initrd_gpa + 2 * MIB + 5 <= 128 * MIB);
    assert_int_equal(lay.initrd_gpa % 4096, 0);
    assert_int_equal(lay.initrd_gpa, 126 * MIB - 4096); /* as high as possible */
    assert_true(lay.zero_page_gpa < 0x9F000 && lay.cmdline_gpa < 0x9F000);
    assert_true(lay.cmdline_gpa + 2048 <= 0x9F000);
    assert_int_equal(lay.zero_page_gpa % 4096, 0);
    assert_true(lay.gdt_gpa + 4096 <= lay.zero_page_gpa || lay.gdt_gpa >= lay.zero_page_gpa + 4096);

    /* Big VM: the initrd stays below initrd_addr_max (2 GiB). */
    assert_int_equal(linux_plan_layout(&li, 5 * GIB, 10 * MIB, 0, &lay, err, sizeof(err)), 0);
    assert_true(lay.initrd_gpa + 10 * MIB <= 2 * GIB);

    /* Too small: a clear minimum. */
    assert_int_equal(linux_plan_layout(&li, 32 * MIB, 0, 0, &lay, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "Linux needs at least 64 MiB"));
    assert_int_equal(linux_plan_layout(&li, 65 * MIB, 2 * MIB, 0, &lay, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "at least 66 MiB"));
    assert_int_equal(linux_plan_layout(&li, 66 * MIB, 2 * MIB, 0, &lay, err, sizeof(err)), 0);

    /* Command line longer than cmdline_size. */
    assert_int_equal(linux_plan_layout(&li, 128 * MIB, 0, 2048, &lay, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "command line"));

    /* Non-relocatable: exactly pref_address; a hostile one is refused. */
    li.relocatable = false;
    li.pref_address = 0x1100000;
    assert_int_equal(linux_plan_layout(&li, 128 * MIB, 0, 0, &lay, err, sizeof(err)), 0);
    assert_int_equal(lay.kernel_gpa, 0x1100000);
    li.pref_address = 0x1000;
    assert_int_equal(linux_plan_layout(&li, 128 * MIB, 0, 0, &lay, err, sizeof(err)), -1);
    li.pref_address = 16 * MIB;
    li.init_size = 0xFFFFFFFF;
    assert_int_equal(linux_plan_layout(&li, 8 * GIB, 0, 0, &lay, err, sizeof(err)), -1);
    li.init_size = 48 * MIB;
    /* initrd that cannot fit under initrd_addr_max above the kernel */
    li.initrd_addr_max = 64 * MIB + 0xFFFF;
    assert_int_equal(linux_plan_layout(&li, 128 * MIB, 1 * MIB, 0, &lay, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "initrd_addr_max"));
}

/* ---- a real kernel, when one is around ---- */

static uint8_t *read_file(const char *path, uint64_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n > 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n))) {
            if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
                free(buf);
                buf = NULL;
            }
            *size = (uint64_t)n;
        }
    }
    fclose(f);
    return buf;
}

static void test_real_kernel(void **state)
{
    const char *paths[] = {getenv("LINUX_BZIMAGE"), "build/linux/bzImage", "/vmlinuz", NULL};
    uint64_t size = 0;
    uint8_t *k = NULL;
    const char *used = NULL;
    for (unsigned i = 0; i < sizeof(paths) / sizeof(paths[0]) && !k; i++)
        if (paths[i] && (k = read_file(paths[i], &size)))
            used = paths[i];
    if (!k) {
        print_message("no real kernel (run scripts/build-linux-guest.sh); skipped\n");
        skip();
    }
    struct linux_image li;
    if (linux_parse_bzimage(k, size, &li, err, sizeof(err)))
        fail_msg("%s: %s", used, err);
    print_message("%s: protocol %u.%02u, setup %llu bytes, pref 0x%llx, init_size %u, align "
                  "0x%x, xloadflags 0x%x\n",
                  used, li.protocol >> 8, li.protocol & 0xFF, (unsigned long long)li.setup_size,
                  (unsigned long long)li.pref_address, li.init_size, li.kernel_alignment,
                  li.xloadflags);
    assert_true(li.protocol >= 0x20F); /* Debian 6.1: 2.15 */
    assert_true(li.relocatable);
    assert_true(li.xloadflags & LINUX_XLF_KERNEL_64);
    assert_true(li.init_size > li.payload_size);

    struct linux_layout lay;
    assert_int_equal(linux_plan_layout(&li, 128 * MIB, 1 * MIB, 64, &lay, err, sizeof(err)), 0);
    assert_int_equal(linux_plan_layout(&li, 32 * MIB, 1 * MIB, 64, &lay, err, sizeof(err)), -1);
    print_message("32 MiB VM: %s\n", err);

    struct e820_entry map[8];
    struct linux_boot_params_in in = {
        .cmdline_gpa = 0x20000, .cmdline_len = 20, .rsdp_gpa = 0xE0000};
    in.e820 = map;
    in.nr_e820 = linux_build_e820(128 * MIB, 0xE0000, 0x1000, map, 8);
    assert_int_equal(linux_build_boot_params(k, size, &li, &in, zp, err, sizeof(err)), 0);
    assert_memory_equal(zp + 0x1F1, k + 0x1F1, 0x210 - 0x1F1);
    assert_int_equal(rd64(zp + 0x070), 0xE0000);
    free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_parse_good, setup),
        cmocka_unit_test_setup(test_parse_errors, setup),
        cmocka_unit_test_setup(test_parse_setup_sects_zero, setup),
        cmocka_unit_test_setup(test_parse_206, setup),
        cmocka_unit_test_setup(test_boot_params, setup),
        cmocka_unit_test_setup(test_boot_params_high_and_errors, setup),
        cmocka_unit_test_setup(test_e820, setup),
        cmocka_unit_test(test_ept_split_matches_e820),
        cmocka_unit_test_setup(test_layout, setup),
        cmocka_unit_test_setup(test_real_kernel, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
