/* libFuzzer target: a Linux bzImage as guest_load_linux takes it (a boot
 * module, or one uploaded with `define`): the setup header
 * (linux_parse_bzimage), the placement of kernel, initrd, command line and
 * zero page (linux_plan_layout), the VM's e820 (linux_build_e820) and the
 * zero page itself (linux_build_boot_params), all in loader/linux_boot.c.
 * Input: 14 bytes of VM (RAM size, initrd size, command-line length, where
 * the ACPI tables are), then the file. Besides the sanitizers it checks
 * what the loader relies on before it copies the kernel into guest RAM:
 * the payload inside the file, the kernel and initrd inside the VM's RAM
 * below 3 GiB and apart, and an e820 sorted without overlaps. */
/* clang-format off */
/* fuzz-srcs: loader/linux_boot.c lib/format.c lib/strutil.c */
/* clang-format on */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loader/linux_boot.h"
#include "tests/fuzz/fuzz_input.h"

#define MIB  (1ULL << 20)
#define PAGE 4096ULL

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
    return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static void check_image(const struct linux_image *li, uint64_t size)
{
    FUZZ_CHECK(li->protocol >= LINUX_MIN_PROTOCOL);
    FUZZ_CHECK(li->hdr_end <= LINUX_HDR_END_MAX && li->hdr_end <= size);
    FUZZ_CHECK(li->loadflags & LINUX_LOADED_HIGH);
    FUZZ_CHECK(li->payload_offset == li->setup_size && li->setup_size < size);
    FUZZ_CHECK(li->payload_size == size - li->setup_size && li->payload_size);
    FUZZ_CHECK(li->syssize && (uint64_t)li->syssize * 16 <= li->payload_size);
    if (li->relocatable)
        FUZZ_CHECK(li->kernel_alignment && !(li->kernel_alignment & (li->kernel_alignment - 1)));
}

static bool apart(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end)
{
    return a_end <= b || b_end <= a;
}

static void check_layout(const struct linux_image *li, const struct linux_layout *l, uint64_t mem,
                         uint64_t initrd_size)
{
    uint64_t low_top = mem < LINUX_LOW_RAM_TOP ? mem : LINUX_LOW_RAM_TOP;
    FUZZ_CHECK(l->kernel_gpa >= MIB && l->kernel_gpa < l->kernel_end);
    FUZZ_CHECK(l->kernel_end <= low_top);
    FUZZ_CHECK(l->kernel_end - l->kernel_gpa >= li->payload_size);
    if (li->relocatable)
        FUZZ_CHECK(l->kernel_gpa % li->kernel_alignment == 0);
    if (initrd_size) {
        FUZZ_CHECK(l->initrd_gpa % PAGE == 0 && l->initrd_gpa >= l->kernel_end);
        FUZZ_CHECK(l->initrd_gpa + initrd_size <= low_top);
        FUZZ_CHECK(l->initrd_gpa + initrd_size - 1 <= li->initrd_addr_max);
    }
    /* The low-memory pieces: below the EBDA, apart from each other. */
    FUZZ_CHECK(l->zero_page_gpa + LINUX_ZERO_PAGE_SIZE <= LINUX_EBDA_START);
    FUZZ_CHECK(l->gdt_gpa + PAGE <= LINUX_EBDA_START && l->cmdline_gpa < LINUX_EBDA_START);
    FUZZ_CHECK(apart(l->zero_page_gpa, l->zero_page_gpa + LINUX_ZERO_PAGE_SIZE, l->gdt_gpa,
                     l->gdt_gpa + PAGE));
    FUZZ_CHECK(apart(l->zero_page_gpa, l->zero_page_gpa + LINUX_ZERO_PAGE_SIZE, l->cmdline_gpa,
                     l->cmdline_gpa + 1));
}

static void check_e820(const struct e820_entry *e, unsigned n, uint64_t mem)
{
    uint64_t ram = 0;
    for (unsigned i = 0; i < n; i++) {
        FUZZ_CHECK(e[i].size && e[i].addr + e[i].size > e[i].addr);
        FUZZ_CHECK(e[i].type >= LINUX_E820_RAM && e[i].type <= LINUX_E820_ACPI);
        if (i)
            FUZZ_CHECK(e[i - 1].addr + e[i - 1].size <= e[i].addr);
        if (e[i].type == LINUX_E820_RAM)
            ram += e[i].size;
    }
    FUZZ_CHECK(ram <= mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size, 0};
    /* 1 MiB to 16 GiB, then sizes the configuration would refuse. */
    uint16_t m = fuzz_u16(&in);
    uint64_t mem = m & 0x8000 ? (uint64_t)(m & 0x7fff) << 12 : ((uint64_t)m + 1) << 20;
    uint32_t initrd_size = fuzz_u32(&in);
    uint32_t cmdline_len = fuzz_u16(&in) & 0x7fff;
    uint64_t acpi_base = (uint64_t)fuzz_u32(&in) << 4, acpi_size = fuzz_u16(&in);

    uint64_t file_size = fuzz_left(&in);
    uint8_t *file = malloc(file_size ? file_size : 1);
    if (!file)
        return 0;
    memcpy(file, data + in.pos, file_size);

    struct linux_image li;
    char err[200];
    if (linux_parse_bzimage(file, file_size, &li, err, sizeof(err))) {
        FUZZ_CHECK(memchr(err, '\0', sizeof(err)) && err[0]);
        free(file);
        return 0;
    }
    check_image(&li, file_size);

    struct e820_entry e820[LINUX_E820_MAX];
    unsigned n = linux_build_e820(mem, acpi_base, acpi_size, e820, LINUX_E820_MAX);
    check_e820(e820, n, mem);

    struct linux_layout l;
    if (linux_plan_layout(&li, mem, initrd_size, cmdline_len, &l, err, sizeof(err))) {
        FUZZ_CHECK(memchr(err, '\0', sizeof(err)) && err[0]);
        free(file);
        return 0;
    }
    check_layout(&li, &l, mem, initrd_size);

    static uint8_t zp[LINUX_ZERO_PAGE_SIZE];
    struct linux_boot_params_in bp = {
        l.cmdline_gpa, cmdline_len, l.initrd_gpa, initrd_size, 0xe0000, e820, n};
    if (!linux_build_boot_params(file, file_size, &li, &bp, zp, err, sizeof(err))) {
        /* What Linux reads back: our pointers, its own header otherwise. */
        FUZZ_CHECK(zp[LINUX_HDR_TYPE_OF_LOADER] == 0xff);
        FUZZ_CHECK(zp[LINUX_BP_E820_ENTRIES] == n);
        FUZZ_CHECK(rd32(zp + LINUX_HDR_CMD_LINE_PTR) == (uint32_t)l.cmdline_gpa);
        if (initrd_size)
            FUZZ_CHECK(rd32(zp + LINUX_HDR_RAMDISK_IMAGE) == (uint32_t)l.initrd_gpa &&
                       rd32(zp + LINUX_HDR_RAMDISK_SIZE) == initrd_size);
        for (unsigned i = 0; i < n; i++)
            FUZZ_CHECK(rd64(zp + LINUX_BP_E820_TABLE + 20 * i) == e820[i].addr);
        FUZZ_CHECK(!memcmp(zp + LINUX_HDR_SETUP_SECTS, file + LINUX_HDR_SETUP_SECTS,
                           LINUX_HDR_TYPE_OF_LOADER - LINUX_HDR_SETUP_SECTS));
    } else {
        FUZZ_CHECK(memchr(err, '\0', sizeof(err)) && err[0]);
    }
    free(file);
    return 0;
}
