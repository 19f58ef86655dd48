/* libFuzzer target: the multiboot2 boot information a boot loader hands the
 * hypervisor (boot/mb2info.c), then the memory map as the boot code
 * normalises it and takes out what it keeps (mm/memmap.c). Input: the
 * information itself; its total_size field is set to the input's length,
 * as a loader's block is as long as it says (what lies beyond is not the
 * parser's to read). Besides the sanitizers it checks what the boot code
 * relies on: strings terminated inside the block, counts within their
 * arrays, modules that do not end before they start, a normalised map
 * sorted and without overlaps. */
/* clang-format off */
/* fuzz-srcs: boot/mb2info.c mm/memmap.c lib/format.c lib/strutil.c */
/* clang-format on */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boot/mb2info.h"
#include "mm/memmap.h"
#include "tests/fuzz/fuzz_input.h"

#define MBI_PHYS 0x10000ULL

static const uint8_t *buf_start, *buf_end;

/* A string from the block: inside it and terminated there, or a constant. */
static void check_string(const char *s, bool may_be_null)
{
    if (!s) {
        FUZZ_CHECK(may_be_null);
        return;
    }
    const uint8_t *p = (const uint8_t *)s;
    if (p < buf_start || p >= buf_end) {
        FUZZ_CHECK(!*s); /* the parser's own "" */
        return;
    }
    FUZZ_CHECK(memchr(p, '\0', (size_t)(buf_end - p)));
}

static void check_map(const struct mem_region *r, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        FUZZ_CHECK(r[i].len && r[i].base + r[i].len - 1 >= r[i].base);
        if (i)
            FUZZ_CHECK(r[i - 1].base + r[i - 1].len <= r[i].base);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct boot_info info;
    static struct mem_region map[MB2_MAX_REGIONS * 2];
    char err[200];
    if (size < 8 || size > MB2_MAX_SIZE)
        return 0;
    /* malloc'd: 16-byte aligned as the parser may assume, redzones after. */
    uint8_t *mbi = malloc(size);
    if (!mbi)
        return 0;
    memcpy(mbi, data, size);
    uint32_t total = (uint32_t)size;
    memcpy(mbi, &total, 4);
    buf_start = mbi;
    buf_end = mbi + size;

    if (mb2_parse(MB2_BOOTLOADER_MAGIC, mbi, MBI_PHYS, &info, err, sizeof(err))) {
        FUZZ_CHECK(memchr(err, '\0', sizeof(err)) && err[0]);
        FUZZ_CHECK(info.nr_modules == 0 && info.nr_mmap == 0);
        free(mbi);
        return 0;
    }
    FUZZ_CHECK(info.mbi_phys == MBI_PHYS && info.mbi_size == size);
    check_string(info.cmdline, false);
    check_string(info.loader_name, true);
    FUZZ_CHECK(info.nr_modules <= MB2_MAX_MODULES);
    for (unsigned i = 0; i < info.nr_modules; i++) {
        FUZZ_CHECK(info.modules[i].start <= info.modules[i].end);
        check_string(info.modules[i].name, false);
    }
    FUZZ_CHECK(info.nr_mmap >= 1 && info.nr_mmap <= MB2_MAX_REGIONS);
    FUZZ_CHECK(info.rsdp_len == 0 || info.rsdp_len == 20 || info.rsdp_len == 36);

    /* What boot does next: normalise, then keep the block for itself. */
    unsigned n = info.nr_mmap;
    memcpy(map, info.mmap, n * sizeof(map[0]));
    if (memmap_normalize(map, &n, sizeof(map) / sizeof(map[0])) == 0) {
        check_map(map, n);
        uint64_t usable = memmap_usable_bytes(map, n);
        if (memmap_subtract(map, &n, sizeof(map) / sizeof(map[0]), info.mbi_phys, info.mbi_size) ==
            0) {
            check_map(map, n);
            FUZZ_CHECK(memmap_usable_bytes(map, n) <= usable);
        }
    }
    free(mbi);
    return 0;
}
