/* VT-d scalable-mode translation structures (VT-d spec 3.4.3, 9.2, 9.4,
 * 9.5, 9.6): a scalable-mode root entry points at two context tables per
 * bus (devfn 0-127 and 128-255, 256-bit entries); a context entry points at
 * a PASID directory, whose entry 0 points at a PASID table, whose entry
 * for RID_PASID 0 (the PASID of requests without one) holds the domain:
 * second-level translation only (PGTT 010b), its tables, DID and width.
 * Used where a unit runs in scalable mode (iommu.mode=scalable); legacy mode
 * is the default. Pure code over struct vtd_pt_ops memory (host unit
 * tests). */
#ifndef DRIVERS_VTD_SM_H
#define DRIVERS_VTD_SM_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/vtd_hw.h"

/* RTADDR_REG.TTM (10.4.6): 01b = scalable-mode root table. */
#define VTD_RTADDR_TTM_SCALABLE (1ULL << 10)
/* IQA_REG.DW (10.4.23): 256-bit descriptors, as scalable mode requires. */
#define VTD_IQA_DW (1ULL << 11)
/* PASID-cache invalidate descriptor (6.5.2.3): type 7, G=11b global. */
#define VTD_QI_PC          0x7ULL
#define VTD_QI_PC_G_GLOBAL (3ULL << 4)
#define VTD_QI_PC_G_PASID  (1ULL << 4) /* PASID-selective within a domain */
#define VTD_QI_PC_PASID(p) ((uint64_t)(p) << 32)

/* Scalable-mode root entry (9.2): LP/LCTP in the low quadword, UP/UCTP in
 * the high one; bits 11:1 of each reserved. */
#define VTD_SM_ROOT_P    1ULL
#define VTD_SM_ROOT_RSVD 0xffeULL

/* Scalable-mode context entry (9.4), 256 bits, 128 per table. */
#define VTD_SM_CTX_P            1ULL
#define VTD_SM_CTX_FPD          (1ULL << 1)
#define VTD_SM_CTX_PDTS(n)      ((uint64_t)((n)&7) << 9) /* 2^(n+7) directory entries */
#define VTD_SM_CTX_RSVD0        0x1e0ULL                 /* bits 8:5 */
#define VTD_SM_CTX_RSVD1        (~0x1fffffULL)           /* bits 127:85 */
#define VTD_SM_CTX_RID_PASID(p) ((uint64_t)(p)&0xfffff)  /* high quadword */
#define VTD_SM_CTX_PER_TABLE    128

/* PASID directory entry (9.5), 64 bits: P, FPD, PASID table pointer. */
#define VTD_SM_PDE_P    1ULL
#define VTD_SM_PDE_FPD  (1ULL << 1)
#define VTD_SM_PDE_RSVD 0xffcULL

/* PASID table entry (9.6), 512 bits, 64 per table. */
#define VTD_SM_PE_P         1ULL
#define VTD_SM_PE_FPD       (1ULL << 1)
#define VTD_SM_PE_AW(aw)    ((uint64_t)((aw)&7) << 2)
#define VTD_SM_PE_PGTT_SL   (2ULL << 6) /* second-level translation only */
#define VTD_SM_PE_PGTT(q0)  ((unsigned)(((q0) >> 6) & 7))
#define VTD_SM_PE_DID(d)    ((uint64_t)(d)) /* second quadword, bits 15:0 */
#define VTD_SM_PE_PER_TABLE 64

/* The PASID untranslated requests without a PASID use (context entry
 * RID_PASID); the only one this driver fills in. */
#define VTD_SM_RID_PASID 0

struct vtd_entry256 {
    uint64_t q[4];
};
struct vtd_pasid_entry {
    uint64_t q[8];
};

/* Root entry for a bus: lower/upper context tables, 0 for none. */
struct vtd_entry128 vtd_sm_root_entry(uint64_t lower_ctx, uint64_t upper_ctx);
/* Context entry: PASID directory at pasid_dir (PDTS 0: 128 entries, enough
 * for PASID 0), RID_PASID 0, fault reporting on, no ATS/PASID/PRI. */
struct vtd_entry256 vtd_sm_context_entry(uint64_t pasid_dir);
/* PASID directory entry pointing at a PASID table, fault reporting on. */
uint64_t vtd_sm_pasid_dir_entry(uint64_t pasid_table);
/* PASID table entry: second-level only through the tables at slpt_phys of
 * `levels` (3-5) levels, in domain did, fault reporting on. */
struct vtd_pasid_entry vtd_sm_pasid_entry(uint16_t did, uint64_t slpt_phys, unsigned levels);

/* Why a unit with these extended capabilities cannot run in scalable mode
 * (NULL when it can); qi: the invalidation queue is in use. */
const char *vtd_sm_refusal(uint64_t ecap, bool qi);

/* Parses iommu.mode (legacy or scalable); -1 when it is neither. */
int vtd_sm_parse_mode(const char *v, bool *scalable);
/* iommu.mode=scalable: units that can run scalable mode do (set before
 * vtd_init). */
extern bool vtd_want_scalable;

/* Table operations behind vtd_ctx_* of a scalable struct vtd_ctx_tables
 * (vtd_tables.h). */
struct vtd_ctx_tables;
int vtd_sm_set(struct vtd_ctx_tables *t, uint8_t bus, uint8_t devfn, uint16_t did,
               uint64_t slpt_phys, unsigned levels);
void vtd_sm_clear(struct vtd_ctx_tables *t, uint8_t bus, uint8_t devfn);
bool vtd_sm_get(const struct vtd_ctx_tables *t, uint8_t bus, uint8_t devfn,
                struct vtd_entry256 *out);
void vtd_sm_destroy(struct vtd_ctx_tables *t);

#endif
