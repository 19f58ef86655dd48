/* libFuzzer target: a multiboot kernel as the loader takes it (an ELF file
 * from a boot module or uploaded with `define`), then the placement of the
 * boot information and modules around its segments and the memory map
 * that reports them (loader/elf.c, loader/boot_place.c), as
 * guest_load_kernel does. Input: 12 bytes of VM (RAM size, module count
 * and sizes), then the file. Besides the sanitizers it checks what the
 * loader relies on before it copies anything into guest RAM: every segment
 * inside the file and the VM's RAM and out of the legacy hole, the entry in
 * a segment, nothing placed over a segment or over anything else placed,
 * and a sorted memory map without overlaps. */
/* clang-format off */
/* fuzz-srcs: loader/elf.c loader/boot_place.c lib/format.c lib/strutil.c */
/* clang-format on */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loader/boot_place.h"
#include "loader/loader.h"
#include "tests/fuzz/fuzz_input.h"

/* The guest-physical map of vcpu/vm.h (docs/guest-memory-map.md). */
#define LOW_RAM_END   0xa0000ULL
#define BIOS_AREA     0xe0000ULL
#define BIOS_AREA_END 0x100000ULL
#define MMIO_HOLE     0xc0000000ULL
#define HIGH_RAM      0x100000000ULL
#define INFO_MAX      0x2000ULL /* loader.c's MB_INFO_MAX */
#define PAGE          0x1000ULL
#define MAX_MODULES   4
#define MAP_MAX       32

static bool overlap(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end)
{
    return a < b_end && b < a_end;
}

static bool inside_one(const struct gpa_range *ram, unsigned nr, uint64_t a, uint64_t end)
{
    for (unsigned i = 0; i < nr; i++)
        if (a >= ram[i].start && end <= ram[i].end && a < end)
            return true;
    return false;
}

static void check_elf(const struct elf_image *elf, uint64_t size, uint64_t ram_size)
{
    bool entry_ok = false;
    FUZZ_CHECK(elf->nr_segments >= 1 && elf->nr_segments <= ELF_MAX_SEGMENTS);
    for (unsigned i = 0; i < elf->nr_segments; i++) {
        const struct elf_segment *s = &elf->seg[i];
        FUZZ_CHECK(s->memsz && s->filesz <= s->memsz);
        FUZZ_CHECK(s->offset <= size && s->filesz <= size - s->offset);
        FUZZ_CHECK(s->paddr + s->memsz > s->paddr && s->paddr + s->memsz <= ram_size);
        FUZZ_CHECK(!overlap(s->paddr, s->paddr + s->memsz, LOW_RAM_END, BIOS_AREA_END));
        if (elf->entry >= s->paddr && elf->entry < s->paddr + s->memsz)
            entry_ok = true;
    }
    FUZZ_CHECK(entry_ok);
}

static void check_plan(const struct boot_plan *plan, const struct gpa_range *ram, unsigned nr_ram,
                       const struct gpa_range *segs, unsigned nr_segs, const uint64_t *msize,
                       unsigned nr_mods)
{
    FUZZ_CHECK(plan->nr_reserved == 1 + nr_mods);
    FUZZ_CHECK(plan->info_gpa == plan->stack_gpa + BOOT_PLACE_STACK);
    for (unsigned i = 0; i < plan->nr_reserved; i++) {
        const struct gpa_range *r = &plan->reserved[i];
        FUZZ_CHECK(r->start % PAGE == 0 && r->end % PAGE == 0);
        FUZZ_CHECK(inside_one(ram, nr_ram, r->start, r->end));
        for (unsigned s = 0; s < nr_segs; s++)
            FUZZ_CHECK(!overlap(r->start, r->end, segs[s].start, segs[s].end));
        for (unsigned j = 0; j < i; j++)
            FUZZ_CHECK(!overlap(r->start, r->end, plan->reserved[j].start, plan->reserved[j].end));
    }
    /* The stack and the information block fit in the first reservation. */
    FUZZ_CHECK(plan->reserved[0].start == plan->stack_gpa);
    FUZZ_CHECK(plan->reserved[0].end >= plan->info_gpa + INFO_MAX);
    for (unsigned m = 0; m < nr_mods; m++) {
        FUZZ_CHECK(plan->module_gpa[m] == plan->reserved[1 + m].start);
        FUZZ_CHECK(plan->reserved[1 + m].end - plan->reserved[1 + m].start >=
                   (msize[m] ? msize[m] : 1));
    }
}

static void check_map(const struct boot_map_entry *map, unsigned n)
{
    FUZZ_CHECK(n <= MAP_MAX);
    for (unsigned i = 0; i < n; i++) {
        FUZZ_CHECK(map[i].len && map[i].addr + map[i].len > map[i].addr);
        FUZZ_CHECK(map[i].type == 1 || map[i].type == 2);
        if (i)
            FUZZ_CHECK(map[i - 1].addr + map[i - 1].len <= map[i].addr);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size, 0};
    /* 2 MiB to 8 GiB of RAM, in 2 MiB steps; up to 4 modules of 0-64 MiB. */
    uint64_t mem = ((uint64_t)(fuzz_u16(&in) & 0xfff) + 1) << 21;
    unsigned nr_mods = fuzz_u8(&in) % (MAX_MODULES + 1);
    uint64_t msize[MAX_MODULES];
    fuzz_u8(&in); /* reserved */
    for (unsigned m = 0; m < MAX_MODULES; m++)
        msize[m] = (uint64_t)fuzz_u16(&in) << 10;
    uint64_t low = mem < MMIO_HOLE ? mem : MMIO_HOLE;

    /* A private copy: reads past the end then hit ASan's redzone. */
    size_t file_size = fuzz_left(&in);
    uint8_t *file = malloc(file_size ? file_size : 1);
    if (!file)
        return 0;
    memcpy(file, data + in.pos, file_size);

    struct elf_image elf;
    char err[160];
    if (elf_parse(file, file_size, low, &elf, err, sizeof(err))) {
        FUZZ_CHECK(memchr(err, '\0', sizeof(err)) && err[0]);
        free(file);
        return 0;
    }
    check_elf(&elf, file_size, low);
    free(file);

    struct gpa_range segs[ELF_MAX_SEGMENTS];
    for (unsigned i = 0; i < elf.nr_segments; i++)
        segs[i] = (struct gpa_range){elf.seg[i].paddr, elf.seg[i].paddr + elf.seg[i].memsz};
    const struct gpa_range ram[2] = {{0x1000, LOW_RAM_END}, {BIOS_AREA_END, low}};
    struct boot_plan_in pin = {ram, 2, segs, elf.nr_segments, INFO_MAX, msize, nr_mods};
    struct boot_plan plan;
    if (boot_plan_layout(&pin, &plan, err, sizeof(err))) {
        FUZZ_CHECK(memchr(err, '\0', sizeof(err)) && err[0]);
        return 0;
    }
    check_plan(&plan, ram, 2, segs, elf.nr_segments, msize, nr_mods);

    const struct gpa_range map_ram[3] = {
        {0, LOW_RAM_END}, {BIOS_AREA_END, low}, {HIGH_RAM, HIGH_RAM + (mem - low)}};
    const struct boot_map_entry bios = {BIOS_AREA, BIOS_AREA_END - BIOS_AREA, 2};
    struct boot_map_entry map[MAP_MAX];
    unsigned n = boot_map_build(map_ram, mem > low ? 3 : 2, plan.reserved, plan.nr_reserved, &bios,
                                1, map, MAP_MAX);
    check_map(map, n);
    /* Every reservation is reported as reserved, not as RAM. */
    for (unsigned i = 0; i < plan.nr_reserved; i++)
        for (unsigned j = 0; j < n; j++)
            if (overlap(plan.reserved[i].start, plan.reserved[i].end, map[j].addr,
                        map[j].addr + map[j].len))
                FUZZ_CHECK(map[j].type == 2);
    return 0;
}
