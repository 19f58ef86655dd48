/* Physical memory map: region list as reported by the firmware/boot loader,
 * and helpers to turn it into a sorted, non-overlapping map. Pure logic. */
#ifndef MM_MEMMAP_H
#define MM_MEMMAP_H

#include <stdint.h>

/* Values follow the multiboot2 / E820 type numbers. */
enum mem_type {
    MEM_USABLE = 1,
    MEM_RESERVED = 2,
    MEM_ACPI_RECLAIM = 3,
    MEM_ACPI_NVS = 4,
    MEM_BAD = 5,
};

struct mem_region {
    uint64_t base;
    uint64_t len;
    uint32_t type;
};

/* Sorts by base, drops empty regions, maps unknown types to MEM_RESERVED,
 * clips regions that would wrap past 2^64, merges touching/overlapping
 * regions of one type and resolves overlaps of different types in favour
 * of the more restrictive one (usable < ACPI reclaim < ACPI NVS < reserved
 * < bad). Overlaps can split regions, so the result may need more entries
 * than the input: max is the capacity of r. Returns 0, or -1 when max is
 * too small (r is then still a valid, sorted, but possibly partly merged
 * list; callers should treat this as fatal). */
int memmap_normalize(struct mem_region *r, unsigned *n, unsigned max);

/* Removes [base, base+len) from every region of a normalised map (any
 * type), splitting where needed. Returns 0, or -1 when a split needs more
 * than max entries (r is unchanged then). */
int memmap_subtract(struct mem_region *r, unsigned *n, unsigned max, uint64_t base, uint64_t len);

uint64_t memmap_usable_bytes(const struct mem_region *r, unsigned n);
unsigned memmap_usable_count(const struct mem_region *r, unsigned n);
/* "usable", "reserved", "ACPI reclaim", "ACPI NVS", "bad", or "unknown". */
const char *memmap_type_name(uint32_t type);

#endif
