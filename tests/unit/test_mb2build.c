/* Multiboot2 builder (the EFI loader's half of the format): what it writes
 * must parse with the hypervisor's own parser (boot/mb2info.c) into the
 * same facts, and a full buffer or bad argument must fail, never overrun. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boot/efi/mb2build.h"
#include "boot/mb2info.h"

#define PHYS 0x200000ull

static _Alignas(8) uint8_t buf[8192];
static struct boot_info bi;
static char err[256];

/* Two EFI descriptors (40 bytes each, the UEFI 2.x layout): 1 MiB of
 * conventional memory at 1 MiB and 16 pages of runtime data at 2 GiB. */
static void efi_desc(uint8_t *d, uint32_t type, uint64_t phys, uint64_t pages)
{
    memset(d, 0, 40);
    memcpy(d, &type, 4);
    memcpy(d + 8, &phys, 8);
    memcpy(d + 24, &pages, 8);
}

static void test_round_trip(void **state)
{
    (void)state;
    struct mb2_builder b;
    uint8_t descs[80], rsdp[36], smbios[31] = "_SM_";
    efi_desc(descs, 7, 0x100000, 256);
    efi_desc(descs + 40, 6, 0x80000000, 16);
    memset(rsdp, 0, sizeof(rsdp));
    memcpy(rsdp, "RSD PTR ", 8);
    rsdp[15] = 2;

    mb2b_init(&b, buf, sizeof(buf));
    assert_int_equal(mb2b_string(&b, MB2_TAG_CMDLINE, "console=com1 exec=\"version\""), 0);
    assert_int_equal(mb2b_string(&b, MB2_TAG_BOOT_LOADER_NAME, "bulkhead.efi"), 0);
    assert_int_equal(mb2b_module(&b, 0x400000, 0x400123, "bulkhead.cfg"), 0);
    assert_int_equal(mb2b_module(&b, 0x500000, 0x600000, "hello.elf"), 0);
    assert_int_equal(mb2b_efi_mmap(&b, descs, sizeof(descs), 40, 1), 0);
    assert_int_equal(mb2b_efi64(&b, 0x7fe00000), 0);
    assert_int_equal(mb2b_acpi_rsdp(&b, rsdp, 36), 0);
    assert_int_equal(mb2b_smbios(&b, 3, 0, smbios, sizeof(smbios)), 0);
    struct mb2_fb_info fb = {0x80000000, 4096, 1024, 768, 32, {16, 8, 8, 8, 0, 8}};
    assert_int_equal(mb2b_framebuffer(&b, &fb), 0);
    uint32_t total = mb2b_finish(&b);
    assert_true(total > 0 && total % 8 == 0);

    assert_int_equal(mb2_parse(MB2_BOOTLOADER_MAGIC, buf, PHYS, &bi, err, sizeof(err)), 0);
    assert_int_equal(bi.mbi_size, total);
    assert_string_equal(bi.cmdline, "console=com1 exec=\"version\"");
    assert_string_equal(bi.loader_name, "bulkhead.efi");
    assert_int_equal(bi.nr_modules, 2);
    assert_int_equal(bi.modules[0].start, 0x400000);
    assert_int_equal(bi.modules[0].end, 0x400123);
    assert_string_equal(bi.modules[0].name, "bulkhead.cfg");
    assert_string_equal(bi.modules[1].name, "hello.elf");
    assert_true(bi.mmap_from_efi);
    assert_false(bi.efi_boot_services_active);
    assert_int_equal(bi.nr_mmap, 2);
    assert_int_equal(bi.mmap[0].base, 0x100000);
    assert_int_equal(bi.mmap[0].len, 0x100000);
    assert_int_equal(bi.mmap[0].type, MEM_USABLE);
    assert_int_equal(bi.mmap[1].type, MEM_RESERVED);
    assert_int_equal(bi.efi_system_table, 0x7fe00000);
    assert_int_equal(bi.rsdp_len, 36);
    assert_memory_equal(bi.rsdp, rsdp, 36);
    assert_int_equal(bi.fb.fb_type, MB2_FB_TYPE_RGB);
    assert_int_equal(bi.fb.addr, 0x80000000);
    assert_int_equal(bi.fb.width, 1024);
    assert_int_equal(bi.fb.height, 768);
    assert_int_equal(bi.fb_rgb.red_pos, 16);
    assert_int_equal(bi.fb_rgb.blue_size, 8);

    /* The framebuffer tag's fields sit where GRUB's struct puts them. */
    const uint8_t *p = buf + 8;
    while (1) {
        struct mb2_tag t;
        memcpy(&t, p, sizeof(t));
        assert_int_not_equal(t.type, MB2_TAG_END);
        if (t.type == MB2_TAG_FRAMEBUFFER) {
            struct mb2_tag_framebuffer f;
            memcpy(&f, p, sizeof(f));
            assert_int_equal(f.addr, 0x80000000);
            assert_int_equal(f.pitch, 4096);
            assert_int_equal(f.width, 1024);
            assert_int_equal(f.bpp, 32);
            assert_int_equal(f.fb_type, MB2_FB_TYPE_RGB);
            assert_int_equal(p[32], 16); /* red position */
            break;
        }
        p += (t.size + 7) & ~7u;
    }
}

static void test_full_buffer_fails_without_overrun(void **state)
{
    (void)state;
    struct mb2_builder b;
    static _Alignas(8) uint8_t small[64 + 16];
    memset(small, 0xa5, sizeof(small));
    mb2b_init(&b, small, 64);
    assert_int_equal(mb2b_string(&b, MB2_TAG_CMDLINE, "0123456789"), 0);
    assert_int_equal(mb2b_string(&b, MB2_TAG_CMDLINE, "0123456789012345678901234567890123"), -1);
    /* Failed stays failed: a later small tag must not sneak in. */
    assert_int_equal(mb2b_efi64(&b, 1), -1);
    assert_int_equal(mb2b_finish(&b), 0);
    for (size_t i = 64; i < sizeof(small); i++)
        assert_int_equal(small[i], 0xa5);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    struct mb2_builder b;
    uint8_t d[40] = {0};
    mb2b_init(&b, buf, sizeof(buf));
    assert_int_equal(mb2b_module(&b, 0x100000000ull, 0x100001000ull, "high"), -1);
    mb2b_init(&b, buf, sizeof(buf));
    assert_int_equal(mb2b_module(&b, 0x2000, 0x1000, "backwards"), -1);
    mb2b_init(&b, buf, sizeof(buf));
    assert_int_equal(mb2b_efi_mmap(&b, d, 39, 40, 1), -1);
    mb2b_init(&b, buf, sizeof(buf));
    assert_int_equal(mb2b_acpi_rsdp(&b, d, 24), -1);
    mb2b_init(&b, buf, sizeof(buf));
    struct mb2_fb_info fb = {0x80000000, 100, 1024, 768, 32, {0}};
    assert_int_equal(mb2b_framebuffer(&b, &fb), -1); /* pitch below width * 4 */
    mb2b_init(&b, buf, 8);
    assert_int_equal(mb2b_finish(&b), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_full_buffer_fails_without_overrun),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
