/* Root and context tables; see vtd_tables.h. */
#include "drivers/vtd_tables.h"

#include "drivers/vtd_sm.h"

#include "lib/string.h"

struct vtd_entry128 vtd_context_entry(uint16_t did, uint64_t slpt_phys, unsigned levels)
{
    struct vtd_entry128 e;
    e.lo = (slpt_phys & VTD_CTX_ADDR_MASK) | VTD_CTX_TT_SL | VTD_CTX_P;
    e.hi = VTD_CTX_DID(did) | VTD_CTX_AW(vtd_levels_to_aw(levels));
    return e;
}

void *vtd_ctx_virt(const struct vtd_ctx_tables *t, uint64_t phys)
{
    return phys ? t->ops->phys_to_virt(t->ops->ctx, phys) : NULL;
}

static struct vtd_entry128 *entries(const struct vtd_ctx_tables *t, uint64_t phys)
{
    return vtd_ctx_virt(t, phys);
}

void vtd_ctx_flush(const struct vtd_ctx_tables *t, const void *p, size_t len)
{
    if (t->ops->flush)
        t->ops->flush(t->ops->ctx, p, len);
}

uint64_t vtd_ctx_alloc_zeroed(const struct vtd_ctx_tables *t)
{
    uint64_t phys = t->ops->alloc_page(t->ops->ctx);
    void *v = phys ? t->ops->phys_to_virt(t->ops->ctx, phys) : NULL;
    if (!v) {
        if (phys)
            t->ops->free_page(t->ops->ctx, phys);
        return 0;
    }
    memset(v, 0, VTD_PAGE);
    vtd_ctx_flush(t, v, VTD_PAGE);
    return phys;
}

int vtd_ctx_init(struct vtd_ctx_tables *t, const struct vtd_pt_ops *ops)
{
    return vtd_ctx_init_mode(t, ops, false);
}

int vtd_ctx_init_mode(struct vtd_ctx_tables *t, const struct vtd_pt_ops *ops, bool scalable)
{
    memset(t, 0, sizeof(*t));
    if (!ops || !ops->alloc_page || !ops->free_page || !ops->phys_to_virt)
        return VTD_ERR_INVAL;
    t->ops = ops;
    t->scalable = scalable;
    t->root = vtd_ctx_alloc_zeroed(t);
    return t->root ? VTD_OK : VTD_ERR_NOMEM;
}

/* The present bit lives in the low quadword: write the high one first when
 * making an entry present, and clear the low one first when removing it. */
void vtd_ctx_write128(const struct vtd_ctx_tables *t, struct vtd_entry128 *p, struct vtd_entry128 v)
{
    if (v.lo & 1) {
        __atomic_store_n(&p->hi, v.hi, __ATOMIC_RELEASE);
        __atomic_store_n(&p->lo, v.lo, __ATOMIC_RELEASE);
    } else {
        __atomic_store_n(&p->lo, v.lo, __ATOMIC_RELEASE);
        __atomic_store_n(&p->hi, v.hi, __ATOMIC_RELEASE);
    }
    vtd_ctx_flush(t, p, sizeof(*p));
}

int vtd_ctx_set(struct vtd_ctx_tables *t, uint8_t bus, uint8_t devfn, uint16_t did,
                uint64_t slpt_phys, unsigned levels)
{
    if (!t->root || !did || !slpt_phys || (slpt_phys & (VTD_PAGE - 1)) || levels < 3 || levels > 5)
        return VTD_ERR_INVAL;
    if (t->scalable)
        return vtd_sm_set(t, bus, devfn, did, slpt_phys, levels);
    if (!t->ctx[bus]) {
        uint64_t c = vtd_ctx_alloc_zeroed(t);
        if (!c)
            return VTD_ERR_NOMEM;
        t->ctx[bus] = c;
        struct vtd_entry128 re = {(c & VTD_CTX_ADDR_MASK) | VTD_ROOT_P, 0};
        vtd_ctx_write128(t, &entries(t, t->root)[bus], re);
    }
    struct vtd_entry128 *p = &entries(t, t->ctx[bus])[devfn];
    bool was = p->lo & VTD_CTX_P;
    if (was) /* never a torn entry: take it down, then put the new one up */
        vtd_ctx_write128(t, p, (struct vtd_entry128){0, 0});
    vtd_ctx_write128(t, p, vtd_context_entry(did, slpt_phys, levels));
    if (!was)
        t->nr_present++;
    return VTD_OK;
}

void vtd_ctx_clear(struct vtd_ctx_tables *t, uint8_t bus, uint8_t devfn)
{
    if (t->scalable) {
        vtd_sm_clear(t, bus, devfn);
        return;
    }
    if (!t->ctx[bus])
        return;
    struct vtd_entry128 *p = &entries(t, t->ctx[bus])[devfn];
    if (p->lo & VTD_CTX_P)
        t->nr_present--;
    vtd_ctx_write128(t, p, (struct vtd_entry128){0, 0});
}

bool vtd_ctx_get(const struct vtd_ctx_tables *t, uint8_t bus, uint8_t devfn,
                 struct vtd_entry128 *out)
{
    if (t->scalable) {
        struct vtd_entry256 e;
        bool present = vtd_sm_get(t, bus, devfn, &e);
        out->lo = e.q[0];
        out->hi = e.q[1];
        return present;
    }
    if (!t->ctx[bus])
        return false;
    *out = entries(t, t->ctx[bus])[devfn];
    return out->lo & VTD_CTX_P;
}

void vtd_ctx_destroy(struct vtd_ctx_tables *t)
{
    if (!t->ops)
        return;
    if (t->scalable)
        vtd_sm_destroy(t);
    for (unsigned b = 0; b < 256; b++)
        if (t->ctx[b])
            t->ops->free_page(t->ops->ctx, t->ctx[b]);
    if (t->root)
        t->ops->free_page(t->ops->ctx, t->root);
    memset(t->ctx, 0, sizeof(t->ctx));
    t->root = 0;
    t->nr_present = 0;
}
