/* Scalable-mode root, context and PASID tables; see vtd_sm.h. */
#include "drivers/vtd_sm.h"

#include "drivers/vtd_tables.h"
#include "lib/string.h"

bool vtd_want_scalable;

struct vtd_entry128 vtd_sm_root_entry(uint64_t lower_ctx, uint64_t upper_ctx)
{
    struct vtd_entry128 e = {0, 0};
    if (lower_ctx)
        e.lo = (lower_ctx & VTD_CTX_ADDR_MASK) | VTD_SM_ROOT_P;
    if (upper_ctx)
        e.hi = (upper_ctx & VTD_CTX_ADDR_MASK) | VTD_SM_ROOT_P;
    return e;
}

struct vtd_entry256 vtd_sm_context_entry(uint64_t pasid_dir)
{
    struct vtd_entry256 e = {{0, 0, 0, 0}};
    e.q[0] = (pasid_dir & VTD_CTX_ADDR_MASK) | VTD_SM_CTX_PDTS(0) | VTD_SM_CTX_P;
    e.q[1] = VTD_SM_CTX_RID_PASID(VTD_SM_RID_PASID);
    return e;
}

uint64_t vtd_sm_pasid_dir_entry(uint64_t pasid_table)
{
    return (pasid_table & VTD_CTX_ADDR_MASK) | VTD_SM_PDE_P;
}

struct vtd_pasid_entry vtd_sm_pasid_entry(uint16_t did, uint64_t slpt_phys, unsigned levels)
{
    struct vtd_pasid_entry e;
    memset(&e, 0, sizeof(e));
    e.q[0] = (slpt_phys & VTD_SL_ADDR_MASK) | VTD_SM_PE_PGTT_SL |
             VTD_SM_PE_AW(vtd_levels_to_aw(levels)) | VTD_SM_PE_P;
    e.q[1] = VTD_SM_PE_DID(did);
    return e;
}

const char *vtd_sm_refusal(uint64_t ecap, bool qi)
{
    if (!(ecap & VTD_ECAP_SMTS))
        return "the unit has no scalable mode (ECAP.SMTS 0)";
    if (!(ecap & VTD_ECAP_SLTS))
        return "no second-level translation in scalable mode (ECAP.SLTS 0)";
    if (!(ecap & VTD_ECAP_QI))
        return "no invalidation queue (scalable mode needs it)";
    if (!qi)
        return "the invalidation queue is off (iommu.qi=off)";
    return NULL;
}

int vtd_sm_parse_mode(const char *v, bool *scalable)
{
    if (!strcmp(v, "legacy"))
        *scalable = false;
    else if (!strcmp(v, "scalable"))
        *scalable = true;
    else
        return -1;
    return 0;
}

/* ---- tables ---- */

static struct vtd_entry256 *ctx_entry(const struct vtd_ctx_tables *t, uint8_t bus, uint8_t devfn)
{
    uint64_t table = devfn < VTD_SM_CTX_PER_TABLE ? t->ctx[bus] : t->upper[bus];
    struct vtd_entry256 *e = vtd_ctx_virt(t, table);
    return e ? &e[devfn % VTD_SM_CTX_PER_TABLE] : NULL;
}

static void store(uint64_t *p, uint64_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* The PASID table behind a context entry (present or not: a cleared entry
 * keeps its directory pointer so the pages are reused, not freed while the
 * unit may still cache them). 0 when none. */
static uint64_t pasid_table_of(const struct vtd_ctx_tables *t, const struct vtd_entry256 *ce,
                               uint64_t *dir_out)
{
    uint64_t dir = ce->q[0] & VTD_CTX_ADDR_MASK;
    *dir_out = dir;
    const uint64_t *d = vtd_ctx_virt(t, dir);
    return d ? d[0] & VTD_CTX_ADDR_MASK : 0;
}

/* Writes a PASID entry: taken down first (P in the first quadword), the
 * rest written, P set last, so the unit never sees a torn entry. */
static void write_pasid_entry(const struct vtd_ctx_tables *t, struct vtd_pasid_entry *p,
                              const struct vtd_pasid_entry *v)
{
    store(&p->q[0], 0);
    for (unsigned i = 1; i < 8; i++)
        store(&p->q[i], v->q[i]);
    store(&p->q[0], v->q[0]);
    vtd_ctx_flush(t, p, sizeof(*p));
}

int vtd_sm_set(struct vtd_ctx_tables *t, uint8_t bus, uint8_t devfn, uint16_t did,
               uint64_t slpt_phys, unsigned levels)
{
    uint64_t *table = devfn < VTD_SM_CTX_PER_TABLE ? &t->ctx[bus] : &t->upper[bus];
    uint64_t new_table = 0, new_dir = 0;
    if (!*table && !(new_table = vtd_ctx_alloc_zeroed(t)))
        return VTD_ERR_NOMEM;
    if (new_table)
        *table = new_table;
    struct vtd_entry256 *ce = ctx_entry(t, bus, devfn);
    uint64_t dir, ptab = pasid_table_of(t, ce, &dir);
    if (!dir && !(dir = new_dir = vtd_ctx_alloc_zeroed(t)))
        goto nomem;
    if (!ptab && !(ptab = vtd_ctx_alloc_zeroed(t)))
        goto nomem;

    struct vtd_pasid_entry pe = vtd_sm_pasid_entry(did, slpt_phys, levels);
    struct vtd_pasid_entry *pt = vtd_ctx_virt(t, ptab);
    write_pasid_entry(t, &pt[VTD_SM_RID_PASID % VTD_SM_PE_PER_TABLE], &pe);
    uint64_t *d = vtd_ctx_virt(t, dir);
    store(&d[VTD_SM_RID_PASID / VTD_SM_PE_PER_TABLE], vtd_sm_pasid_dir_entry(ptab));
    vtd_ctx_flush(t, d, sizeof(*d));

    bool was = ce->q[0] & VTD_SM_CTX_P;
    if (!was) { /* the rest first, P last */
        struct vtd_entry256 v = vtd_sm_context_entry(dir);
        for (unsigned i = 1; i < 4; i++)
            store(&ce->q[i], v.q[i]);
        store(&ce->q[0], v.q[0]);
        vtd_ctx_flush(t, ce, sizeof(*ce));
        t->nr_present++;
    }
    if (new_table) {
        struct vtd_entry128 *root = vtd_ctx_virt(t, t->root);
        vtd_ctx_write128(t, &root[bus], vtd_sm_root_entry(t->ctx[bus], t->upper[bus]));
    }
    return VTD_OK;

nomem:
    if (new_dir)
        t->ops->free_page(t->ops->ctx, new_dir);
    if (new_table) {
        *table = 0;
        t->ops->free_page(t->ops->ctx, new_table);
    }
    return VTD_ERR_NOMEM;
}

void vtd_sm_clear(struct vtd_ctx_tables *t, uint8_t bus, uint8_t devfn)
{
    struct vtd_entry256 *ce = ctx_entry(t, bus, devfn);
    if (!ce || !(ce->q[0] & VTD_SM_CTX_P))
        return;
    store(&ce->q[0], ce->q[0] & ~VTD_SM_CTX_P);
    vtd_ctx_flush(t, ce, sizeof(*ce));
    t->nr_present--;
    uint64_t dir, ptab = pasid_table_of(t, ce, &dir);
    struct vtd_pasid_entry *pt = vtd_ctx_virt(t, ptab);
    if (pt) {
        store(&pt[VTD_SM_RID_PASID].q[0], 0);
        vtd_ctx_flush(t, &pt[VTD_SM_RID_PASID], sizeof(*pt));
    }
}

bool vtd_sm_get(const struct vtd_ctx_tables *t, uint8_t bus, uint8_t devfn,
                struct vtd_entry256 *out)
{
    const struct vtd_entry256 *ce = ctx_entry(t, bus, devfn);
    if (!ce) {
        memset(out, 0, sizeof(*out));
        return false;
    }
    *out = *ce;
    return out->q[0] & VTD_SM_CTX_P;
}

/* Frees the PASID tables and directories and the upper context tables;
 * vtd_ctx_destroy frees the rest. */
void vtd_sm_destroy(struct vtd_ctx_tables *t)
{
    for (unsigned b = 0; b < 256; b++)
        for (unsigned f = 0; f < 256; f++) {
            struct vtd_entry256 *ce = ctx_entry(t, (uint8_t)b, (uint8_t)f);
            if (!ce)
                continue;
            uint64_t dir, ptab = pasid_table_of(t, ce, &dir);
            if (ptab)
                t->ops->free_page(t->ops->ctx, ptab);
            if (dir)
                t->ops->free_page(t->ops->ctx, dir);
        }
    for (unsigned b = 0; b < 256; b++)
        if (t->upper[b])
            t->ops->free_page(t->ops->ctx, t->upper[b]);
    memset(t->upper, 0, sizeof(t->upper));
}
