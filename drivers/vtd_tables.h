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
    uint64_t root;       /* physical address of the root table */
    uint64_t ctx[256];   /* context table of each bus, 0 when none yet */
    unsigned nr_present; /* present context entries */
};

/* A legacy context entry: second-level translation only (TT=00, so
 * translated requests and ATS are refused), fault reporting on. */
struct vtd_entry128 vtd_context_entry(uint16_t did, uint64_t slpt_phys, unsigned levels);

int vtd_ctx_init(struct vtd_ctx_tables *t, const struct vtd_pt_ops *ops);
/* Makes devfn on bus translate through the table at slpt_phys (levels 3-5)
 * in domain did (1..65535). Allocates the bus' context table on first use. */
int vtd_ctx_set(struct vtd_ctx_tables *t, uint8_t bus, uint8_t devfn, uint16_t did,
                uint64_t slpt_phys, unsigned levels);
/* Makes the entry not present (DMA blocked). Invalidate afterwards. */
void vtd_ctx_clear(struct vtd_ctx_tables *t, uint8_t bus, uint8_t devfn);
/* Copies the entry out; false when not present. */
bool vtd_ctx_get(const struct vtd_ctx_tables *t, uint8_t bus, uint8_t devfn,
                 struct vtd_entry128 *out);
/* Frees every table (none may be in use by a unit). */
void vtd_ctx_destroy(struct vtd_ctx_tables *t);

#endif
