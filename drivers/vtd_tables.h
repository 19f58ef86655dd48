/* VT-d root and context tables in legacy mode (VT-d spec 3.4.2, 9.1, 9.3):
 * one root table per unit, indexed by bus; a context table per bus in use,
 * indexed by device/function. A device without a present context entry
 * has no DMA access at all: that is the default for every device.
 * Pure code over struct vtd_pt_ops memory (host unit tests). */
#ifndef DRIVERS_VTD_TABLES_H
#define DRIVERS_VTD_TABLES_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/vtd_hw.h"
#include "drivers/vtd_pt.h"

struct vtd_ctx_tables {
    const struct vtd_pt_ops *ops;
    bool scalable;       /* scalable-mode tables (vtd_sm.h), else legacy */
    uint64_t root;       /* physical address of the root table */
    uint64_t ctx[256];   /* context table of each bus (scalable: devfn 0-127) */
    uint64_t upper[256]; /* scalable: context table for devfn 128-255 */
    unsigned nr_present; /* present context entries */
};

/* A legacy context entry: second-level translation only (TT=00, so
 * translated requests and ATS are refused), fault reporting on. */
struct vtd_entry128 vtd_context_entry(uint16_t did, uint64_t slpt_phys, unsigned levels);

int vtd_ctx_init(struct vtd_ctx_tables *t, const struct vtd_pt_ops *ops);
/* The same with scalable-mode root and context tables when scalable. */
int vtd_ctx_init_mode(struct vtd_ctx_tables *t, const struct vtd_pt_ops *ops, bool scalable);
/* Makes devfn on bus translate through the table at slpt_phys (levels 3-5)
 * in domain did (1..65535). Allocates the bus' context table on first use. */
int vtd_ctx_set(struct vtd_ctx_tables *t, uint8_t bus, uint8_t devfn, uint16_t did,
                uint64_t slpt_phys, unsigned levels);
/* Makes the entry not present (DMA blocked). Invalidate afterwards. */
void vtd_ctx_clear(struct vtd_ctx_tables *t, uint8_t bus, uint8_t devfn);
/* Copies the entry out (scalable: its first 128 bits); false when not
 * present. */
bool vtd_ctx_get(const struct vtd_ctx_tables *t, uint8_t bus, uint8_t devfn,
                 struct vtd_entry128 *out);
/* Frees every table (none may be in use by a unit). */
void vtd_ctx_destroy(struct vtd_ctx_tables *t);

/* For vtd_sm.c: a zeroed, written-back table page (0 when none), the
 * virtual address of a table, a cache write-back, and a 128-bit entry
 * written so that the unit never sees it torn. */
uint64_t vtd_ctx_alloc_zeroed(const struct vtd_ctx_tables *t);
void *vtd_ctx_virt(const struct vtd_ctx_tables *t, uint64_t phys);
void vtd_ctx_flush(const struct vtd_ctx_tables *t, const void *p, size_t len);
void vtd_ctx_write128(const struct vtd_ctx_tables *t, struct vtd_entry128 *p,
                      struct vtd_entry128 v);

#endif
