/* Second-level table builder and walker (EPT or NPT format); see ept.h for
 * the contract. Levels are numbered as in the SDM walk: 4 = PML4, 3 = PDPT,
 * 2 = PD, 1 = PT. Every entry bit goes through e->fmt. */
#include "ept/ept.h"

#include "lib/log.h"
#include "lib/string.h"

#define ENTRIES 512u

const struct ept_format ept_format_ept = {
    .name = "ept",
    .present = EPT_RWX,
    .r = EPT_R,
    .w = EPT_W,
    .x = EPT_X,
    .ipat = EPTE_IPAT,
    .table = EPT_RWX,
    .accessed = EPTE_ACCESSED,
    .dirty = EPTE_DIRTY,
    .mt_bits = {[EPT_MT_UC] = (uint64_t)EPT_MT_UC << EPTE_MT_SHIFT,
                [EPT_MT_WC] = (uint64_t)EPT_MT_WC << EPTE_MT_SHIFT,
                [EPT_MT_WT] = (uint64_t)EPT_MT_WT << EPTE_MT_SHIFT,
                [EPT_MT_WP] = (uint64_t)EPT_MT_WP << EPTE_MT_SHIFT,
                [EPT_MT_WB] = (uint64_t)EPT_MT_WB << EPTE_MT_SHIFT},
    .mt_mask = EPTE_MT_MASK,
    .mt_valid = (1u << EPT_MT_UC) | (1u << EPT_MT_WC) | (1u << EPT_MT_WT) | (1u << EPT_MT_WP) |
                (1u << EPT_MT_WB),
};

/* The host PAT at its reset value: index 0 WB, 1 WT, 3 UC. Nested and
 * guest memory types combine (APM 15.25.8); WB here leaves the guest's
 * own choice in force. */
const struct ept_format ept_format_npt = {
    .name = "npt",
    .present = NPTE_P,
    .r = NPTE_P,
    .w = NPTE_RW,
    .nx = NPTE_NX,
    .table = NPTE_P | NPTE_RW | NPTE_US,
    .leaf = NPTE_US,
    .accessed = NPTE_A,
    .dirty = NPTE_D,
    .mt_bits = {[EPT_MT_UC] = NPTE_PCD | NPTE_PWT, [EPT_MT_WT] = NPTE_PWT, [EPT_MT_WB] = 0},
    .mt_mask = NPTE_PCD | NPTE_PWT | NPTE_PAT_4K,
    .mt_valid = (1u << EPT_MT_UC) | (1u << EPT_MT_WT) | (1u << EPT_MT_WB),
    .pat_4k = NPTE_PAT_4K,
    .pat_large = NPTE_PAT_LG,
};

static inline unsigned level_shift(unsigned level)
{
    return 12 + 9 * (level - 1);
}

static inline uint64_t level_size(unsigned level)
{
    return 1ULL << level_shift(level);
}

static inline unsigned level_index(uint64_t gpa, unsigned level)
{
    return (unsigned)(gpa >> level_shift(level)) & (ENTRIES - 1);
}

static inline bool present(const struct ept *e, uint64_t v)
{
    return (v & e->fmt->present) != 0;
}

static inline bool is_leaf(uint64_t v, unsigned level)
{
    return level == 1 || (v & EPTE_LARGE);
}

static inline uint64_t leaf_hpa(uint64_t v, unsigned level)
{
    return v & EPTE_ADDR_MASK & ~(level_size(level) - 1);
}

static inline unsigned leaf_perms(const struct ept *e, uint64_t v)
{
    const struct ept_format *f = e->fmt;
    unsigned p = 0;
    if (v & f->r)
        p |= EPT_R;
    if (v & f->w)
        p |= EPT_W;
    if (f->x ? (v & f->x) != 0 : (v & f->nx) == 0)
        p |= EPT_X;
    if (f->ipat && (v & f->ipat))
        p |= EPT_IPAT;
    return p;
}

/* The memory-type bits of a leaf as a 4 KiB leaf would hold them. */
static inline uint64_t mt_field(const struct ept *e, uint64_t v, unsigned level)
{
    const struct ept_format *f = e->fmt;
    if (level > 1 && f->pat_large)
        v = (v & ~f->pat_4k) | ((v & f->pat_large) ? f->pat_4k : 0);
    return v & f->mt_mask;
}

static unsigned leaf_mtype(const struct ept *e, uint64_t v, unsigned level)
{
    uint64_t bits = mt_field(e, v, level);
    for (unsigned mt = 0; mt < 8; mt++)
        if ((e->fmt->mt_valid & (1u << mt)) && e->fmt->mt_bits[mt] == bits)
            return mt;
    return EPT_MT_UC; /* not one we write; the strictest reading */
}

/* All the bits of a leaf but its address and the large-page bit. mt: the
 * memory-type field as a 4 KiB leaf holds it (mt_bits[], or mt_field() of
 * an existing leaf, so splits and protects keep it exactly). */
static uint64_t leaf_bits(const struct ept *e, unsigned perms, uint64_t mt, unsigned level)
{
    const struct ept_format *f = e->fmt;
    uint64_t v = f->leaf | mt;
    if (perms & EPT_R)
        v |= f->r;
    if (perms & EPT_W)
        v |= f->w;
    if (perms & EPT_X)
        v |= f->x;
    else
        v |= f->nx;
    if (perms & EPT_IPAT)
        v |= f->ipat;
    if (level > 1 && f->pat_large && (v & f->pat_4k))
        v = (v & ~f->pat_4k) | f->pat_large;
    return v;
}

/* The guest may walk these tables on another CPU: publish whole entries. */
static inline void set_entry(uint64_t *p, uint64_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Hardware may set A/D bits under us. */
static inline uint64_t get_entry(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static uint64_t *table_of(const struct ept *e, uint64_t phys)
{
    if (!phys || (phys & (EPT_PAGE_SIZE - 1)))
        return NULL;
    return e->ops->phys_to_virt(e->ops->ctx, phys);
}

static uint64_t alloc_table(struct ept *e)
{
    uint64_t phys = e->ops->alloc_page(e->ops->ctx);
    if (!phys)
        return 0;
    uint64_t *t = table_of(e, phys);
    if (!t || phys >= e->hpa_limit) {
        pr_err("ept: allocator returned unusable page 0x%llx\n", (unsigned long long)phys);
        e->ops->free_page(e->ops->ctx, phys);
        return 0;
    }
    /* A stale entry here would map arbitrary host memory into the guest. */
    memset(t, 0, EPT_PAGE_SIZE);
    e->nr_table_pages++;
    return phys;
}

/* An unlinked table may still sit in some CPU's paging-structure cache until
 * INVEPT, so it is parked, not freed. Word 0 links the list; as a 4 KiB
 * aligned value it reads as a non-present entry to any stale walker. */
static void retire_table(struct ept *e, uint64_t phys, uint64_t *t)
{
    set_entry(&t[0], e->reclaim_head);
    e->reclaim_head = phys;
    e->nr_reclaim++;
    e->nr_table_pages--;
}

static bool table_empty(const uint64_t *t)
{
    for (unsigned i = 0; i < ENTRIES; i++)
        if (get_entry(&t[i]))
            return false;
    return true;
}

struct walk {
    uint64_t *ptep;
    uint64_t entry;
    unsigned level;
};

/* Descends towards gpa and stops at a leaf, a non-present entry or level 1. */
static int lookup(const struct ept *e, uint64_t gpa, struct walk *w)
{
    uint64_t tphys = e->pml4_phys;
    for (unsigned level = 4;; level--) {
        uint64_t *t = table_of(e, tphys);
        if (!t)
            return EPT_ERR_CORRUPT;
        w->ptep = &t[level_index(gpa, level)];
        w->entry = get_entry(w->ptep);
        w->level = level;
        if (!present(e, w->entry) || level == 1)
            return 0;
        if (w->entry & EPTE_LARGE)
            return level == 4 ? EPT_ERR_CORRUPT : 0;
        tphys = w->entry & EPTE_ADDR_MASK;
    }
}

static int check_gpa_range(const struct ept *e, uint64_t gpa, uint64_t size)
{
    if (!e || !e->pml4_phys)
        return EPT_ERR_INVAL;
    if (!size || ((gpa | size) & (EPT_PAGE_SIZE - 1)))
        return EPT_ERR_INVAL;
    if (gpa + size < gpa || gpa + size > e->gpa_limit)
        return EPT_ERR_RANGE;
    return 0;
}

static int check_perms(const struct ept *e, unsigned perms)
{
    unsigned rwx = perms & EPT_RWX;
    if ((perms & ~(EPT_RWX | EPT_IPAT)) || !rwx)
        return EPT_ERR_INVAL;
    if ((perms & EPT_IPAT) && !e->fmt->ipat)
        return EPT_ERR_INVAL;
    /* NPT: a present entry is readable, so there is no mapping without R. */
    if (!e->fmt->x && !(rwx & EPT_R))
        return EPT_ERR_PERM;
    /* Write-only and write+execute are EPT misconfigurations. */
    if ((rwx & EPT_W) && !(rwx & EPT_R))
        return EPT_ERR_PERM;
    if (rwx == EPT_X && !e->allow_xonly)
        return EPT_ERR_PERM;
    return 0;
}

static bool valid_mtype(const struct ept *e, unsigned mt)
{
    return mt < 8 && (e->fmt->mt_valid & (1u << mt));
}

int ept_init(struct ept *e, const struct ept_ops *ops, bool allow_2m, bool allow_1g)
{
    return ept_init_format(e, ops, &ept_format_ept, allow_2m, allow_1g);
}

int ept_init_format(struct ept *e, const struct ept_ops *ops, const struct ept_format *fmt,
                    bool allow_2m, bool allow_1g)
{
    if (!e)
        return EPT_ERR_INVAL;
    memset(e, 0, sizeof(*e));
    if (!ops || !ops->alloc_page || !ops->free_page || !ops->phys_to_virt || !fmt)
        return EPT_ERR_INVAL;
    e->ops = ops;
    e->fmt = fmt;
    e->allow_2m = allow_2m;
    e->allow_1g = allow_1g;
    e->gpa_limit = 1ULL << 48;
    e->hpa_limit = 1ULL << 52;
    e->pml4_phys = alloc_table(e);
    if (!e->pml4_phys) {
        e->ops = NULL;
        return EPT_ERR_NOMEM;
    }
    return 0;
}

int ept_set_limits(struct ept *e, unsigned gpa_bits, unsigned hpa_bits)
{
    if (!e || gpa_bits < 21 || gpa_bits > 48 || hpa_bits < 32 || hpa_bits > 52)
        return EPT_ERR_INVAL;
    e->gpa_limit = 1ULL << gpa_bits;
    e->hpa_limit = 1ULL << hpa_bits;
    return 0;
}

uint64_t ept_eptp(const struct ept *e, bool enable_ad)
{
    return e->pml4_phys | EPTP_MT_WB | EPTP_WALK_LEN_4 | (enable_ad ? EPTP_AD_ENABLE : 0);
}

uint64_t ept_ncr3(const struct ept *e)
{
    return e->pml4_phys;
}

/* Removes every leaf in [start, end) below the table at `level` whose first
 * entry maps `base`, and unlinks tables left empty. Leaves must lie wholly
 * inside the range (callers split the ends first). */
static int clear_range(struct ept *e, uint64_t tphys, unsigned level, uint64_t base, uint64_t start,
                       uint64_t end)
{
    uint64_t *t = table_of(e, tphys);
    uint64_t sz = level_size(level);
    if (!t)
        return EPT_ERR_CORRUPT;
    for (unsigned i = level_index(start, level); i < ENTRIES; i++) {
        uint64_t eb = base + (uint64_t)i * sz;
        if (eb >= end)
            break;
        uint64_t v = get_entry(&t[i]);
        if (!present(e, v))
            continue;
        if (is_leaf(v, level)) {
            if (level == 4 || eb < start || eb + sz > end)
                return EPT_ERR_CORRUPT;
            set_entry(&t[i], 0);
            continue;
        }
        uint64_t child = v & EPTE_ADDR_MASK;
        uint64_t cs = start > eb ? start : eb;
        uint64_t ce = end < eb + sz ? end : eb + sz;
        int r = clear_range(e, child, level - 1, eb, cs, ce);
        if (r)
            return r;
        uint64_t *ct = table_of(e, child);
        if (table_empty(ct)) {
            set_entry(&t[i], 0);
            retire_table(e, child, ct);
        }
    }
    return 0;
}

/* Maps one naturally aligned chunk as a leaf at `level`. */
static int map_chunk(struct ept *e, uint64_t gpa, uint64_t hpa, unsigned level, unsigned perms,
                     unsigned mt)
{
    uint64_t tphys = e->pml4_phys;
    for (unsigned l = 4; l > level; l--) {
        uint64_t *t = table_of(e, tphys);
        if (!t)
            return EPT_ERR_CORRUPT;
        uint64_t *p = &t[level_index(gpa, l)];
        uint64_t v = get_entry(p);
        if (!present(e, v)) {
            uint64_t nt = alloc_table(e);
            if (!nt)
                return EPT_ERR_NOMEM;
            /* Non-leaf entries grant everything; leaves decide. */
            v = nt | e->fmt->table;
            set_entry(p, v);
        } else if (is_leaf(v, l)) {
            return EPT_ERR_EXIST;
        }
        tphys = v & EPTE_ADDR_MASK;
    }
    uint64_t *t = table_of(e, tphys);
    if (!t)
        return EPT_ERR_CORRUPT;
    uint64_t *p = &t[level_index(gpa, level)];
    if (present(e, get_entry(p)))
        return EPT_ERR_EXIST;
    set_entry(p,
              hpa | leaf_bits(e, perms, e->fmt->mt_bits[mt], level) | (level > 1 ? EPTE_LARGE : 0));
    return 0;
}

static unsigned chunk_level(const struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t left)
{
    if (e->allow_1g && !((gpa | hpa) & (EPT_1G - 1)) && left >= EPT_1G)
        return 3;
    if (e->allow_2m && !((gpa | hpa) & (EPT_2M - 1)) && left >= EPT_2M)
        return 2;
    return 1;
}

int ept_map(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size, unsigned perms,
            enum ept_mtype mt)
{
    int r = check_gpa_range(e, gpa, size);
    if (r)
        return r;
    if (hpa & (EPT_PAGE_SIZE - 1))
        return EPT_ERR_INVAL;
    if (hpa + size < hpa || hpa + size > e->hpa_limit)
        return EPT_ERR_RANGE;
    if ((r = check_perms(e, perms)))
        return r;
    if (!valid_mtype(e, mt))
        return EPT_ERR_INVAL;

    uint64_t end = gpa + size;
    /* Refuse overlap before touching anything. */
    for (uint64_t a = gpa; a < end;) {
        struct walk w;
        if ((r = lookup(e, a, &w)))
            return r;
        if (present(e, w.entry))
            return EPT_ERR_EXIST;
        a = (a & ~(level_size(w.level) - 1)) + level_size(w.level);
    }

    for (uint64_t off = 0; off < size;) {
        unsigned level = chunk_level(e, gpa + off, hpa + off, size - off);
        r = map_chunk(e, gpa + off, hpa + off, level, perms, mt);
        if (r) {
            /* The range was empty before, so clearing all of it (and the
             * tables made for it) restores the old state exactly. */
            int rr = clear_range(e, e->pml4_phys, 4, 0, gpa, end);
            if (rr)
                pr_err("ept: rollback of 0x%llx failed: %s\n", (unsigned long long)gpa,
                       ept_strerror(rr));
            return r;
        }
        off += level_size(level);
    }
    return 0;
}

/* Replaces a large leaf by a table of next-lower leaves with the same
 * translation, permissions, memory type and A/D state. */
static int split_leaf(struct ept *e, uint64_t *p, unsigned level)
{
    uint64_t v = get_entry(p);
    uint64_t child = alloc_table(e);
    if (!child)
        return EPT_ERR_NOMEM;
    uint64_t *ct = table_of(e, child);
    uint64_t base = leaf_hpa(v, level);
    uint64_t csz = level_size(level - 1);
    uint64_t bits = leaf_bits(e, leaf_perms(e, v), mt_field(e, v, level), level - 1) |
                    (v & (e->fmt->accessed | e->fmt->dirty)) | (level - 1 > 1 ? EPTE_LARGE : 0);
    for (unsigned i = 0; i < ENTRIES; i++)
        ct[i] = (base + (uint64_t)i * csz) | bits;
    set_entry(p, child | e->fmt->table);
    return 0;
}

/* Makes `addr` a leaf boundary by splitting any large page that spans it.
 * The translation stays the same, so a later failure leaves nothing undone. */
static int split_at(struct ept *e, uint64_t addr)
{
    if (addr >= e->gpa_limit)
        return 0;
    for (;;) {
        struct walk w;
        int r = lookup(e, addr, &w);
        if (r)
            return r;
        if (!present(e, w.entry) || w.level == 1 || !(addr & (level_size(w.level) - 1)))
            return 0;
        if ((r = split_leaf(e, w.ptep, w.level)))
            return r;
    }
}

int ept_unmap(struct ept *e, uint64_t gpa, uint64_t size)
{
    int r = check_gpa_range(e, gpa, size);
    if (r)
        return r;
    if ((r = split_at(e, gpa)) || (r = split_at(e, gpa + size)))
        return r;
    return clear_range(e, e->pml4_phys, 4, 0, gpa, gpa + size);
}

static int protect_range(struct ept *e, uint64_t tphys, unsigned level, uint64_t base,
                         uint64_t start, uint64_t end, unsigned perms)
{
    uint64_t *t = table_of(e, tphys);
    uint64_t sz = level_size(level);
    if (!t)
        return EPT_ERR_CORRUPT;
    for (unsigned i = level_index(start, level); i < ENTRIES; i++) {
        uint64_t eb = base + (uint64_t)i * sz;
        if (eb >= end)
            break;
        uint64_t v = get_entry(&t[i]);
        if (!present(e, v))
            return EPT_ERR_CORRUPT; /* checked mapped beforehand */
        if (is_leaf(v, level)) {
            if (level == 4 || eb < start || eb + sz > end)
                return EPT_ERR_CORRUPT;
            /* Same address, memory type and A/D bits; new permissions. */
            uint64_t ad = v & (e->fmt->accessed | e->fmt->dirty);
            set_entry(&t[i], leaf_hpa(v, level) | ad | (level > 1 ? EPTE_LARGE : 0) |
                                 leaf_bits(e, perms, mt_field(e, v, level), level));
            continue;
        }
        uint64_t cs = start > eb ? start : eb;
        uint64_t ce = end < eb + sz ? end : eb + sz;
        int r = protect_range(e, v & EPTE_ADDR_MASK, level - 1, eb, cs, ce, perms);
        if (r)
            return r;
    }
    return 0;
}

int ept_protect(struct ept *e, uint64_t gpa, uint64_t size, unsigned perms)
{
    int r = check_gpa_range(e, gpa, size);
    if (r)
        return r;
    if ((r = check_perms(e, perms)))
        return r;
    uint64_t end = gpa + size;
    for (uint64_t a = gpa; a < end;) {
        struct walk w;
        if ((r = lookup(e, a, &w)))
            return r;
        if (!present(e, w.entry))
            return EPT_ERR_NOENT;
        a = (a & ~(level_size(w.level) - 1)) + level_size(w.level);
    }
    if ((r = split_at(e, gpa)) || (r = split_at(e, end)))
        return r;
    return protect_range(e, e->pml4_phys, 4, 0, gpa, end, perms);
}

int ept_page_clear(struct ept *e, uint64_t gpa)
{
    int r = check_gpa_range(e, gpa, EPT_PAGE_SIZE);
    if (r)
        return r;
    struct walk w;
    if ((r = lookup(e, gpa, &w)))
        return r;
    if (!present(e, w.entry))
        return 0; /* nothing there: already clear */
    if (w.level != 1)
        return EPT_ERR_INVAL; /* a large page: ept_unmap's business */
    set_entry(w.ptep, 0);
    return 0;
}

void ept_reclaim(struct ept *e)
{
    while (e->reclaim_head) {
        uint64_t phys = e->reclaim_head;
        uint64_t *t = table_of(e, phys);
        e->reclaim_head = t ? t[0] : 0;
        e->ops->free_page(e->ops->ctx, phys);
        e->nr_reclaim--;
    }
}

static void free_tables(struct ept *e, uint64_t tphys, unsigned level)
{
    uint64_t *t = table_of(e, tphys);
    if (t && level > 1) {
        for (unsigned i = 0; i < ENTRIES; i++) {
            uint64_t v = t[i];
            if (present(e, v) && !is_leaf(v, level))
                free_tables(e, v & EPTE_ADDR_MASK, level - 1);
        }
    }
    e->ops->free_page(e->ops->ctx, tphys);
    e->nr_table_pages--;
}

void ept_destroy(struct ept *e)
{
    if (!e || !e->pml4_phys)
        return;
    ept_reclaim(e);
    free_tables(e, e->pml4_phys, 4);
    memset(e, 0, sizeof(*e));
}

int ept_translate(const struct ept *e, uint64_t gpa, uint64_t *hpa, unsigned *perms,
                  uint64_t *page_size)
{
    struct walk w;
    /* Indexing ignores bits above 47: reject them or they would alias. */
    if (!e || !e->pml4_phys || gpa >= e->gpa_limit)
        return EPT_ERR_FAULT;
    if (lookup(e, gpa, &w) || !present(e, w.entry))
        return EPT_ERR_FAULT;
    uint64_t sz = level_size(w.level);
    if (hpa)
        *hpa = leaf_hpa(w.entry, w.level) | (gpa & (sz - 1));
    if (perms)
        *perms = leaf_perms(e, w.entry);
    if (page_size)
        *page_size = sz;
    return 0;
}

static void walk_leaves(const struct ept *e, uint64_t tphys, unsigned level, uint64_t base,
                        ept_leaf_fn fn, void *arg)
{
    const uint64_t *t = table_of(e, tphys);
    if (!t)
        return;
    for (unsigned i = 0; i < ENTRIES; i++) {
        uint64_t v = get_entry(&t[i]);
        uint64_t eb = base + (uint64_t)i * level_size(level);
        if (!present(e, v))
            continue;
        if (level == 4 && (v & EPTE_LARGE))
            continue; /* reserved; never written by us */
        if (is_leaf(v, level))
            fn(eb, leaf_hpa(v, level), level_size(level), leaf_perms(e, v), leaf_mtype(e, v, level),
               arg);
        else
            walk_leaves(e, v & EPTE_ADDR_MASK, level - 1, eb, fn, arg);
    }
}

void ept_for_each_leaf(const struct ept *e, ept_leaf_fn fn, void *arg)
{
    if (e && e->pml4_phys && fn)
        walk_leaves(e, e->pml4_phys, 4, 0, fn, arg);
}

/* Checks the whole range on the first pass and copies on the second, so a
 * failing write leaves guest memory untouched. */
static int guest_copy(const struct ept *e, uint64_t gpa, uint64_t len, bool write, uint8_t *rbuf,
                      const uint8_t *wbuf)
{
    unsigned need = write ? EPT_W : EPT_R;
    if (!len)
        return 0;
    if (!e || gpa + len < gpa)
        return EPT_ERR_FAULT;
    for (int pass = 0; pass < 2; pass++) {
        uint64_t done = 0;
        while (done < len) {
            uint64_t hpa, psz;
            unsigned perms;
            if (ept_translate(e, gpa + done, &hpa, &perms, &psz))
                return EPT_ERR_FAULT;
            if ((perms & need) != need)
                return EPT_ERR_FAULT;
            uint64_t n = psz - (hpa & (psz - 1));
            if (n > len - done)
                n = len - done;
            uint8_t *hv = e->ops->phys_to_virt(e->ops->ctx, hpa);
            if (!hv)
                return EPT_ERR_FAULT;
            if (pass && write)
                memcpy(hv, wbuf + done, n);
            else if (pass)
                memcpy(rbuf + done, hv, n);
            done += n;
        }
    }
    return 0;
}

int ept_read_guest(const struct ept *e, uint64_t gpa, void *buf, uint64_t len)
{
    return guest_copy(e, gpa, len, false, buf, NULL);
}

int ept_write_guest(const struct ept *e, uint64_t gpa, const void *buf, uint64_t len)
{
    return guest_copy(e, gpa, len, true, NULL, buf);
}

const char *ept_strerror(int err)
{
    switch (err) {
    case EPT_OK:
        return "ok";
    case EPT_ERR_FAULT:
        return "guest-physical address not mapped or access not permitted";
    case EPT_ERR_INVAL:
        return "invalid argument (alignment, size, permissions or memory type)";
    case EPT_ERR_EXIST:
        return "range already mapped";
    case EPT_ERR_NOMEM:
        return "out of memory for EPT tables";
    case EPT_ERR_PERM:
        return "permission combination would be an EPT misconfiguration";
    case EPT_ERR_RANGE:
        return "address beyond physical-address width or range wraps";
    case EPT_ERR_NOENT:
        return "range not fully mapped";
    case EPT_ERR_CORRUPT:
        return "EPT tables corrupt";
    case EPT_ERR_HW:
        return "INVEPT/INVVPID failed";
    default:
        return "unknown EPT error";
    }
}
