/* Root-mode page tables: an identity map of physical memory, owned by the
 * hypervisor, with W^X permissions on its own image. */
#ifndef ARCH_X86_64_PAGING_H
#define ARCH_X86_64_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#define PAGE_SIZE 4096ULL
#define PG_W      0x1 /* writable */
#define PG_X      0x2 /* executable (never together with PG_W) */
#define PG_UC     0x4 /* uncached (MMIO) */

struct mem_region;

/* Builds the tables from the memory map and switches to them; enables NX,
 * WP, SMEP, SMAP and UMIP where the CPU has them. */
void paging_init(const struct mem_region *map, unsigned n);
/* Changes the mapping of [va, va+size) to identity with these flags,
 * splitting large pages. W together with X is refused. */
int paging_set(uint64_t va, uint64_t size, unsigned flags);
/* Removes the mapping (guard pages). */
int paging_unmap(uint64_t va, uint64_t size);
/* Makes sure an MMIO range (possibly above RAM) is mapped RW, NX, UC. */
int paging_map_mmio(uint64_t phys, uint64_t size);
/* CR0.WP and the CR4 protections on an application processor. */
void paging_init_ap(void);
uint64_t paging_root(void);
/* True when the CPU feature is on (for the banner and tests). */
bool paging_has_nx(void);
const char *paging_protections(void); /* e.g. "nx smep smap umip" */

#endif
