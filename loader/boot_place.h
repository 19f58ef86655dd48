/* Where a multiboot loader puts what the kernel does not bring itself (the
 * boot information, its stack, the modules): guest RAM that no kernel
 * segment uses. Pure logic, shared with the host unit tests. */
#ifndef LOADER_BOOT_PLACE_H
#define LOADER_BOOT_PLACE_H

#include <stdint.h>

struct gpa_range {
    uint64_t start, end; /* [start, end) */
};

#define BOOT_PLACE_MAX_MODULES 16
#define BOOT_PLACE_MAX_BUSY    40
#define BOOT_PLACE_STACK       0x1000ULL /* the initial ESP sits below the information */
#define BOOT_PLACE_PREFERRED   0x8000ULL /* where the information goes when that is free */

/* The lowest address a >= from, a multiple of align (a power of two), with
 * [a, a + size) inside one ram[] range and clear of every busy[] range
 * (which may overlap, be unsorted or lie outside RAM); UINT64_MAX when
 * nothing fits. */
uint64_t boot_place_find(const struct gpa_range *ram, unsigned nr_ram, const struct gpa_range *busy,
                         unsigned nr_busy, uint64_t size, uint64_t align, uint64_t from);

struct boot_plan_in {
    const struct gpa_range *ram; /* guest RAM a 32-bit kernel can address */
    unsigned nr_ram;
    const struct gpa_range *image; /* the kernel's segments (or a raw image) */
    unsigned nr_image;
    uint64_t info_size; /* the information block (the stack comes on top) */
    const uint64_t *module_size;
    unsigned nr_modules;
};

struct boot_plan {
    uint64_t stack_gpa; /* BOOT_PLACE_STACK bytes; ESP starts at info_gpa */
    uint64_t info_gpa;  /* = stack_gpa + BOOT_PLACE_STACK */
    uint64_t module_gpa[BOOT_PLACE_MAX_MODULES];
    /* What the memory map reports reserved: the stack and information
     * block, then each module, all page-granular. */
    struct gpa_range reserved[1 + BOOT_PLACE_MAX_MODULES];
    unsigned nr_reserved;
};

/* The stack and information block at BOOT_PLACE_PREFERRED when it is free,
 * else the lowest free place; each module page-aligned after the kernel's
 * last segment, else the lowest free place. 0, or -1 with a reason. */
int boot_plan_layout(const struct boot_plan_in *in, struct boot_plan *out, char *err,
                     unsigned errlen);

/* A memory map: ram[] as type 1 (available) with the reserved[] parts cut
 * out as type 2, plus extra[] (already typed, e.g. the BIOS area), sorted by
 * address. Returns the number of entries written (at most max). */
struct boot_map_entry {
    uint64_t addr, len;
    uint32_t type;
};
unsigned boot_map_build(const struct gpa_range *ram, unsigned nr_ram,
                        const struct gpa_range *reserved, unsigned nr_reserved,
                        const struct boot_map_entry *extra, unsigned nr_extra,
                        struct boot_map_entry *out, unsigned max);

#endif
