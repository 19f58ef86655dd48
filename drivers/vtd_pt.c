/* VT-d second-level page-table builder; see vtd_pt.h. Levels are numbered
 * from the leaf: 1 = page table, 2 = directory, 3 = directory pointer,
 * 4 = PML4, 5 = PML5. */
#include "drivers/vtd_pt.h"

#include "drivers/vtd_hw.h"
#include "lib/string.h"

#define ENTRIES 512u

static inline unsigned level_shift(unsigned level)
{
    return 12 + 9 * (level - 1);
}

static inline uint64_t level_size(unsigned level)
{
    return 1ULL << level_shift(level);
}

static inline unsigned level_index(uint64_t iova, unsigned level)
{
    return (unsigned)(iova >> level_shift(level)) & (ENTRIES - 1);
}

static inline bool present(uint64_t e)
{
    return (e & (VTD_SL_R | VTD_SL_W)) != 0;
}

static inline bool is_leaf(uint64_t e, unsigned level)
{
    return level == 1 || (e & VTD_SL_PS);
}

static uint64_t *table(const struct vtd_pt *pt, uint64_t phys)
{
    if (!phys || (phys & (VTD_PAGE - 1)))
        return NULL;
    return pt->ops->phys_to_virt(pt->ops->ctx, phys);
}

/* One 64-bit store, so a walker on another agent sees old or new; then
 * written back for units that do not snoop. */
static void set_entry(const struct vtd_pt *pt, uint64_t *p, uint64_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
    if (pt->ops->flush)
        pt->ops->flush(pt->ops->ctx, p, sizeof(*p));
}

static uint64_t alloc_table(struct vtd_pt *pt)
{
    uint64_t phys = pt->ops->alloc_page(pt->ops->ctx);
    if (!phys)
        return 0;
    uint64_t *t = table(pt, phys);
    if (!t || phys >= pt->hpa_limit) {
        pt->ops->free_page(pt->ops->ctx, phys);
        return 0;
    }
    /* A stale word here would let the device reach arbitrary memory. */
    memset(t, 0, VTD_PAGE);
    if (pt->ops->flush)
        pt->ops->flush(pt->ops->ctx, t, VTD_PAGE);
    pt->nr_tables++;
    return phys;
}

int vtd_pt_init(struct vtd_pt *pt, const struct vtd_pt_ops *ops, unsigned levels,
                unsigned iova_bits, unsigned hpa_bits, unsigned sllps)
{
    if (!pt)
        return VTD_ERR_INVAL;
    memset(pt, 0, sizeof(*pt));
    if (!ops || !ops->alloc_page || !ops->free_page || !ops->phys_to_virt || levels < 3 ||
        levels > 5 || iova_bits < 21 || hpa_bits < 32 || hpa_bits > 52)
        return VTD_ERR_INVAL;
    unsigned reach = level_shift(levels) + 9;
    pt->ops = ops;
    pt->levels = levels;
    pt->iova_limit = 1ULL << (iova_bits < reach ? iova_bits : reach);
    pt->hpa_limit = 1ULL << hpa_bits;
    pt->allow_2m = sllps & 1;
    pt->allow_1g = (sllps & 2) && (sllps & 1);
    pt->root = alloc_table(pt);
    if (!pt->root) {
        pt->ops = NULL;
        return VTD_ERR_NOMEM;
    }
    return VTD_OK;
}

static bool range_empty(const struct vtd_pt *pt, uint64_t tphys, unsigned level, uint64_t va,
                        uint64_t end)
{
    uint64_t *t = table(pt, tphys);
    uint64_t size = level_size(level);
    if (!t)
        return false;
    while (va < end) {
        uint64_t next = (va & ~(size - 1)) + size;
        if (next > end || next == 0)
            next = end;
        uint64_t e = __atomic_load_n(&t[level_index(va, level)], __ATOMIC_RELAXED);
        if (present(e) &&
            (is_leaf(e, level) || !range_empty(pt, e & VTD_SL_ADDR_MASK, level - 1, va, next)))
            return false;
        va = next;
    }
    return true;
}

static bool large_ok(const struct vtd_pt *pt, unsigned level)
{
    return (level == 2 && pt->allow_2m) || (level == 3 && pt->allow_1g);
}

static int map_level(struct vtd_pt *pt, uint64_t tphys, unsigned level, uint64_t va, uint64_t end,
                     uint64_t pa, unsigned perms)
{
    uint64_t *t = table(pt, tphys);
    uint64_t size = level_size(level);
    if (!t)
        return VTD_ERR_INVAL;
    while (va < end) {
        uint64_t *p = &t[level_index(va, level)];
        uint64_t e = __atomic_load_n(p, __ATOMIC_RELAXED);
        /* A large leaf only into an empty slot: a table an unmap left there
         * stays linked (the unit may cache it until destroy). */
        if (level == 1 ||
            (large_ok(pt, level) && !present(e) && !((va | pa) & (size - 1)) && end - va >= size)) {
            set_entry(pt, p, (pa & VTD_SL_ADDR_MASK) | perms | (level > 1 ? VTD_SL_PS : 0));
            pt->mapped += size;
            va += size;
            pa += size;
            continue;
        }
        uint64_t next = (va & ~(size - 1)) + size;
        if (next > end || next == 0)
            next = end;
        if (!present(e)) {
            uint64_t child = alloc_table(pt);
            if (!child)
                return VTD_ERR_NOMEM;
            e = child | VTD_SL_R | VTD_SL_W;
            set_entry(pt, p, e);
        } else if (e & VTD_SL_PS) {
            return VTD_ERR_EXIST;
        }
        int r = map_level(pt, e & VTD_SL_ADDR_MASK, level - 1, va, next, pa, perms);
        if (r)
            return r;
        pa += next - va;
        va = next;
    }
    return VTD_OK;
}

/* dry: only report VTD_ERR_SPLIT. Tables left empty stay linked. */
static int unmap_level(struct vtd_pt *pt, uint64_t tphys, unsigned level, uint64_t va, uint64_t end,
                       bool dry)
{
    uint64_t *t = table(pt, tphys);
    uint64_t size = level_size(level);
    if (!t)
        return VTD_ERR_INVAL;
    while (va < end) {
        uint64_t base = va & ~(size - 1);
        uint64_t next = base + size;
        if (next > end || next == 0)
            next = end;
        uint64_t *p = &t[level_index(va, level)];
        uint64_t e = __atomic_load_n(p, __ATOMIC_RELAXED);
        if (present(e)) {
            if (is_leaf(e, level)) {
                if (base != va || next - base != size)
                    return VTD_ERR_SPLIT;
                if (!dry) {
                    set_entry(pt, p, 0);
                    pt->mapped -= size;
                }
            } else {
                int r = unmap_level(pt, e & VTD_SL_ADDR_MASK, level - 1, va, next, dry);
                if (r)
                    return r;
            }
        }
        va = next;
    }
    return VTD_OK;
}

static int check_range(const struct vtd_pt *pt, uint64_t iova, uint64_t size)
{
    if (!pt || !pt->root || !size || ((iova | size) & (VTD_PAGE - 1)))
        return VTD_ERR_INVAL;
    if (iova + size < iova || iova + size > pt->iova_limit)
        return VTD_ERR_RANGE;
    return VTD_OK;
}

int vtd_pt_map(struct vtd_pt *pt, uint64_t iova, uint64_t hpa, uint64_t size, unsigned perms)
{
    int r = check_range(pt, iova, size);
    if (r)
        return r;
    if (!perms || (perms & ~VTD_PERM_RW) || (hpa & (VTD_PAGE - 1)))
        return VTD_ERR_INVAL;
    if (hpa + size < hpa || hpa + size > pt->hpa_limit)
        return VTD_ERR_RANGE;
    if (!range_empty(pt, pt->root, pt->levels, iova, iova + size))
        return VTD_ERR_EXIST;
    r = map_level(pt, pt->root, pt->levels, iova, iova + size, hpa, perms);
    if (r) /* out of table pages part way: take back what was mapped */
        unmap_level(pt, pt->root, pt->levels, iova, iova + size, false);
    return r;
}

int vtd_pt_unmap(struct vtd_pt *pt, uint64_t iova, uint64_t size)
{
    int r = check_range(pt, iova, size);
    if (!r)
        r = unmap_level(pt, pt->root, pt->levels, iova, iova + size, true);
    if (!r)
        r = unmap_level(pt, pt->root, pt->levels, iova, iova + size, false);
    return r;
}

int vtd_pt_translate(const struct vtd_pt *pt, uint64_t iova, uint64_t *hpa, unsigned *perms)
{
    if (!pt || !pt->root || iova >= pt->iova_limit)
        return VTD_ERR_FAULT;
    uint64_t tphys = pt->root;
    for (unsigned level = pt->levels; level >= 1; level--) {
        uint64_t *t = table(pt, tphys);
        if (!t)
            return VTD_ERR_FAULT;
        uint64_t e = __atomic_load_n(&t[level_index(iova, level)], __ATOMIC_RELAXED);
        if (!present(e))
            return VTD_ERR_FAULT;
        if (is_leaf(e, level)) {
            uint64_t mask = level_size(level) - 1;
            if (hpa)
                *hpa = (e & VTD_SL_ADDR_MASK & ~mask) | (iova & mask);
            if (perms)
                *perms = (unsigned)(e & VTD_PERM_RW);
            return VTD_OK;
        }
        tphys = e & VTD_SL_ADDR_MASK;
    }
    return VTD_ERR_FAULT;
}

static void free_level(struct vtd_pt *pt, uint64_t tphys, unsigned level)
{
    uint64_t *t = table(pt, tphys);
    if (t && level > 1)
        for (unsigned i = 0; i < ENTRIES; i++)
            if (present(t[i]) && !is_leaf(t[i], level))
                free_level(pt, t[i] & VTD_SL_ADDR_MASK, level - 1);
    pt->ops->free_page(pt->ops->ctx, tphys);
    pt->nr_tables--;
}

void vtd_pt_destroy(struct vtd_pt *pt)
{
    if (!pt || !pt->ops || !pt->root)
        return;
    free_level(pt, pt->root, pt->levels);
    pt->root = 0;
}

unsigned vtd_pick_levels(unsigned sagaw, unsigned need_bits)
{
    for (unsigned levels = 3; levels <= 5; levels++)
        if ((sagaw & (1u << vtd_levels_to_aw(levels))) && 30 + 9 * (levels - 2) >= need_bits)
            return levels;
    return 0;
}

const char *vtd_strerror(int err)
{
    switch (err) {
    case VTD_OK:
        return "ok";
    case VTD_ERR_FAULT:
        return "not mapped";
    case VTD_ERR_INVAL:
        return "invalid argument";
    case VTD_ERR_EXIST:
        return "already mapped";
    case VTD_ERR_NOMEM:
        return "out of memory";
    case VTD_ERR_DENIED:
        return "memory the domain may not see";
    case VTD_ERR_RANGE:
        return "beyond the address width";
    case VTD_ERR_SPLIT:
        return "would split a large page";
    case VTD_ERR_HW:
        return "hardware error or timeout";
    case VTD_ERR_NODEV:
        return "no IOMMU for that device";
    case VTD_ERR_BUSY:
        return "in use";
    }
    return "unknown error";
}
