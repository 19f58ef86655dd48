/* Physical page allocator (4 KiB pages).
 *
 * State is a sorted table of extents covering all usable memory, each free
 * or owned (allocated or reserved) by a named owner. The table lives in
 * usable memory that pmm_init picks and reserves (owner "pmm"); its
 * capacity scales with RAM (about 1.2 MiB of table for 64 GiB).
 *
 * Order of use at boot:
 *   1. pmm_reserve() the hypervisor image, the multiboot information and
 *      every module. Reservations made before pmm_init are queued (up to
 *      PMM_MAX_EARLY_RESERVE) and keep pmm_init from putting its table on
 *      top of them - reserving these only after pmm_init is a bug waiting
 *      to happen (pmm_reserve then fails if they hit the table).
 *   2. pmm_init() with the normalised memory map (memmap_normalize).
 *   3. pmm_claim() fixed host-physical ranges, then allocate.
 *
 * Never handed out: non-usable memory, page 0, anything below 1 MiB except
 * through pmm_alloc_below, reserved ranges. Memory is not zeroed.
 * All calls are serialised by one spinlock (interrupt state is the
 * caller's business). */
#ifndef MM_PMM_H
#define MM_PMM_H

#include <stdint.h>

#include "mm/memmap.h"

#define PMM_PAGE_SIZE         4096ull
#define PMM_LOW_LIMIT         0x100000ull /* pmm_alloc never returns memory below this */
#define PMM_MAX_EARLY_RESERVE 64

/* map must be normalised (sorted, non-overlapping). phys_to_virt gives
 * the address the allocator uses to reach its table (NULL: identity).
 * Returns 0, or -1 (logged) on a bad map, no room for the table, or a
 * second call. */
int pmm_init(const struct mem_region *map, unsigned n, void *(*phys_to_virt)(uint64_t phys));

/* Never hand out [base, base+len), rounded outward to pages. Overlapping
 * other reservations is fine (an MBI and a module may share a page); parts
 * outside usable memory are ignored. Returns -1 (logged, nothing changed)
 * if part of the range is already allocated or holds the allocator's table,
 * or the early queue is full. */
int pmm_reserve(uint64_t base, uint64_t len, const char *owner);

/* Takes [base, base+len) (page-aligned) for owner, which must be entirely
 * usable and free; for fixed host-physical ranges. After pmm_init only.
 * Returns 0 or -1 (logged, nothing changed). Release with pmm_free. */
int pmm_claim(uint64_t base, uint64_t len, const char *owner);
/* The same without logging: on failure why receives the reason, naming the
 * range and the first page in the way with its owner ("... is allocated by
 * vm web", "... is not usable RAM"). owner must outlive the claim. */
int pmm_claim_why(uint64_t base, uint64_t len, const char *owner, char *why, unsigned whylen);

/* npages contiguous pages at or above PMM_LOW_LIMIT, aligned to align_pages
 * pages (power of two; 0 means 1; 512 = 2 MiB). First fit from low
 * addresses. Returns the physical address, or 0 when nothing fits. */
uint64_t pmm_alloc(uint64_t npages, uint64_t align_pages, const char *owner);

/* npages contiguous pages ending at or below limit, lowest first, never
 * page 0 (AP trampoline). Returns the physical address or 0. */
uint64_t pmm_alloc_below(uint64_t limit, uint64_t npages, const char *owner);

/* Frees pages from pmm_alloc/pmm_alloc_below/pmm_claim (a whole allocation
 * or part of one). Freeing free, reserved or unknown pages is logged with
 * pr_err and changes nothing. */
void pmm_free(uint64_t phys, uint64_t npages);

uint64_t pmm_free_pages(void);  /* free pages, below 1 MiB included */
uint64_t pmm_total_pages(void); /* usable pages (page 0 excluded) */

/* Calls fn for every extent in address order: free ones with owner "free",
 * reserved and allocated ones with their owner. fn runs without the lock
 * held, so it may log or allocate; the listing is then not a snapshot. */
void pmm_for_each_range(void (*fn)(uint64_t base, uint64_t len, const char *owner, void *ctx),
                        void *ctx);

#ifdef HOST_TEST
/* Forgets all state so each test can call pmm_init again. */
void pmm_test_reset(void);
/* Bytes of table pmm_init will need for this map (tests size the backing). */
uint64_t pmm_table_bytes(const struct mem_region *map, unsigned n);
#endif

#endif
