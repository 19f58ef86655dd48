/* VT-d second-level page tables (VT-d spec 9.8): the per-domain map from
 * I/O virtual addresses (what a device puts on the bus) to host-physical
 * memory. 3, 4 or 5 levels, as the unit's SAGAW allows; 4 KiB, 2 MiB and
 * 1 GiB leaves.
 *
 * Why not ept/: the leaf bits agree with EPT's (R=0, W=1, large=7), but the
 * EPT builder is fixed at four levels (QEMU's unit and many client parts
 * only walk three), never writes back cache lines (units without page-walk
 * coherency, ECAP.C=0, need that), and ept/ sits above drivers/ in the
 * layering. This builder is small and knows only what VT-d needs.
 *
 * Table memory is reached only through struct vtd_pt_ops, so the host unit
 * tests run it on a fake page pool. Tables emptied by an unmap are kept
 * until vtd_pt_destroy: the unit may cache them until the next IOTLB
 * invalidation, so freeing them early would hand a walker freed memory. */
#ifndef DRIVERS_VTD_PT_H
#define DRIVERS_VTD_PT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VTD_PAGE 0x1000ULL

/* Error codes (negative), shared by the whole VT-d driver. */
#define VTD_OK         0
#define VTD_ERR_FAULT  (-1) /* not mapped */
#define VTD_ERR_INVAL  (-2) /* alignment, size 0, bad permissions */
#define VTD_ERR_EXIST  (-3) /* part of the range is already mapped */
#define VTD_ERR_NOMEM  (-4)
#define VTD_ERR_DENIED (-5) /* host memory the domain may not see */
#define VTD_ERR_RANGE  (-6) /* beyond the domain's address width, or wraps */
#define VTD_ERR_SPLIT  (-7) /* unmap would split a large page */
#define VTD_ERR_HW     (-8) /* the unit did not respond or reported an error */
#define VTD_ERR_NODEV  (-9) /* no unit, or no unit for that device */
#define VTD_ERR_BUSY   (-10)

/* Permissions as in the entry. */
#define VTD_PERM_R  1u
#define VTD_PERM_W  2u
#define VTD_PERM_RW 3u

struct vtd_pt_ops {
    /* Physical address of a 4 KiB page, 0 on failure (need not be zeroed). */
    uint64_t (*alloc_page)(void *ctx);
    void (*free_page)(void *ctx, uint64_t phys);
    void *(*phys_to_virt)(void *ctx, uint64_t phys);
    /* Writes back the cache lines of [p, p+len) (non-coherent units); NULL
     * when the unit snoops the caches. */
    void (*flush)(void *ctx, const void *p, size_t len);
    void *ctx;
};

struct vtd_pt {
    const struct vtd_pt_ops *ops;
    uint64_t root;   /* physical address of the top table */
    unsigned levels; /* 3..5 */
    bool allow_2m, allow_1g;
    uint64_t iova_limit; /* I/O virtual addresses must be below this */
    uint64_t hpa_limit;  /* host-physical addresses must be below this */
    unsigned nr_tables;  /* table pages, root included */
    uint64_t mapped;     /* bytes mapped */
};

/* levels 3..5; iova_bits caps the input range below what the levels reach
 * (the unit's MGAW); hpa_bits the output (the DMAR's host address width);
 * sllps is CAP.SLLPS (bit 0: 2 MiB pages, bit 1: 1 GiB pages). */
int vtd_pt_init(struct vtd_pt *pt, const struct vtd_pt_ops *ops, unsigned levels,
                unsigned iova_bits, unsigned hpa_bits, unsigned sllps);
/* Maps [iova, iova+size) to [hpa, ...) with perms (VTD_PERM_R/W, not 0);
 * page-aligned, size > 0. The whole range must be unmapped; on any failure
 * nothing changes. Large pages are used where both sides align. */
int vtd_pt_map(struct vtd_pt *pt, uint64_t iova, uint64_t hpa, uint64_t size, unsigned perms);
/* Removes every mapping in the range (holes are fine). VTD_ERR_SPLIT, with
 * nothing changed, when a large page straddles an end. Flush the IOTLB
 * afterwards. */
int vtd_pt_unmap(struct vtd_pt *pt, uint64_t iova, uint64_t size);
/* 0 and the host address and permissions, or VTD_ERR_FAULT. */
int vtd_pt_translate(const struct vtd_pt *pt, uint64_t iova, uint64_t *hpa, unsigned *perms);
/* Frees every table page; no unit may still use them. */
void vtd_pt_destroy(struct vtd_pt *pt);

const char *vtd_strerror(int err);

#endif
