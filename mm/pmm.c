#include "mm/pmm.h"

#include "lib/format.h"
#include "lib/log.h"
#include "lib/spinlock.h"
#include "lib/string.h"

#define PAGE_SHIFT 12
#define LOW_PFN    (PMM_LOW_LIMIT >> PAGE_SHIFT)
#define PFN_LIMIT  ((UINT64_MAX >> PAGE_SHIFT) + 1) /* one past the last page */
#define MAX_ALIGN  (1ull << 40)

enum ext_kind {
    EXT_FREE,
    EXT_RESERVED,
    EXT_ALLOC, /* pmm_alloc*, pmm_claim: may be freed */
    EXT_TABLE, /* our own table */
};

struct extent {
    uint64_t pfn;
    uint64_t npages;
    const char *owner; /* NULL when free */
    uint32_t kind;
};

struct early_reserve {
    uint64_t first, end; /* page frame numbers, end exclusive */
    const char *owner;
};

static spinlock_t pmm_lock = SPINLOCK_INIT;
static struct extent *ext;
static unsigned long nr_ext, cap_ext;
static uint64_t total_pages, free_pages;
static int initialized;
static struct early_reserve early[PMM_MAX_EARLY_RESERVE];
static unsigned nr_early;

static uint64_t ext_end(const struct extent *e)
{
    return e->pfn + e->npages;
}

static uint64_t umin(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static uint64_t umax(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

/* Pages touched by [base, base+len): rounded outward, clipped at 2^64. */
static void page_span(uint64_t base, uint64_t len, uint64_t *first, uint64_t *end)
{
    *first = base >> PAGE_SHIFT;
    if (len > UINT64_MAX - base)
        *end = PFN_LIMIT;
    else
        *end = ((base + len - 1) >> PAGE_SHIFT) + 1;
}

static const char *kind_name(uint32_t kind)
{
    switch (kind) {
    case EXT_FREE:
        return "free";
    case EXT_RESERVED:
        return "reserved";
    case EXT_ALLOC:
        return "allocated";
    default:
        return "allocator table";
    }
}

/* First extent that ends after pfn (extents are sorted and disjoint). */
static unsigned long lower_bound(uint64_t pfn)
{
    unsigned long lo = 0, hi = nr_ext;
    while (lo < hi) {
        unsigned long mid = lo + (hi - lo) / 2;
        if (ext_end(&ext[mid]) <= pfn)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int needs_split(uint64_t pfn)
{
    unsigned long i = lower_bound(pfn);
    return i < nr_ext && ext[i].pfn < pfn;
}

static void split_at(uint64_t pfn)
{
    unsigned long i = lower_bound(pfn);
    if (i >= nr_ext || ext[i].pfn >= pfn)
        return;
    memmove(&ext[i + 1], &ext[i], (nr_ext - i) * sizeof(*ext));
    nr_ext++;
    ext[i].npages = pfn - ext[i].pfn;
    ext[i + 1].npages -= ext[i].npages;
    ext[i + 1].pfn = pfn;
}

static int mergeable(const struct extent *a, const struct extent *b)
{
    return ext_end(a) == b->pfn && a->kind == b->kind && a->owner == b->owner;
}

/* Merges extents lo-1 .. hi+1 where possible. */
static void merge_window(unsigned long lo, unsigned long hi)
{
    if (!nr_ext)
        return;
    if (lo > 0)
        lo--;
    if (hi + 1 < nr_ext)
        hi++;
    else
        hi = nr_ext - 1;
    unsigned long w = lo;
    for (unsigned long r = lo + 1; r <= hi; r++) {
        if (mergeable(&ext[w], &ext[r]))
            ext[w].npages += ext[r].npages;
        else
            ext[++w] = ext[r];
    }
    unsigned long removed = hi - w;
    if (removed) {
        memmove(&ext[w + 1], &ext[hi + 1], (nr_ext - hi - 1) * sizeof(*ext));
        nr_ext -= removed;
    }
}

/* Sets every extent page in [first, end) to kind/owner (gaps stay gaps).
 * Returns -1 with nothing changed when the table has no room for splits. */
static int set_range(uint64_t first, uint64_t end, uint32_t kind, const char *owner)
{
    if (nr_ext + (unsigned long)needs_split(first) + (unsigned long)needs_split(end) > cap_ext)
        return -1;
    split_at(first);
    split_at(end);
    unsigned long a = lower_bound(first), i;
    for (i = a; i < nr_ext && ext[i].pfn < end; i++) {
        if (ext[i].kind == EXT_FREE && kind != EXT_FREE)
            free_pages -= ext[i].npages;
        else if (ext[i].kind != EXT_FREE && kind == EXT_FREE)
            free_pages += ext[i].npages;
        ext[i].kind = kind;
        ext[i].owner = owner;
    }
    if (i > a)
        merge_window(a, i - 1);
    return 0;
}

/* The first extent in [first, end) that is not of kind `want`, or a gap
 * (*gap set). NULL when the range is entirely of kind want. */
static const struct extent *find_other(uint64_t first, uint64_t end, uint32_t want, int *gap,
                                       uint64_t *where)
{
    uint64_t cur = first;
    *gap = 0;
    for (unsigned long i = lower_bound(first); cur < end; i++) {
        if (i >= nr_ext || ext[i].pfn > cur) {
            *gap = 1;
            *where = cur;
            return NULL;
        }
        if (ext[i].kind != want) {
            *where = umax(ext[i].pfn, first);
            return &ext[i];
        }
        cur = ext_end(&ext[i]);
    }
    return NULL;
}

static int reserve_locked(uint64_t first, uint64_t end, const char *owner)
{
    for (unsigned long i = lower_bound(first); i < nr_ext && ext[i].pfn < end; i++) {
        if (ext[i].kind == EXT_ALLOC || ext[i].kind == EXT_TABLE) {
            pr_err("pmm: cannot reserve 0x%llx-0x%llx for %s: page 0x%llx is %s by %s",
                   (unsigned long long)(first << PAGE_SHIFT),
                   (unsigned long long)(end << PAGE_SHIFT), owner,
                   (unsigned long long)(umax(ext[i].pfn, first) << PAGE_SHIFT),
                   kind_name(ext[i].kind), ext[i].owner);
            return -1;
        }
    }
    /* Only the two ends can split. */
    if (nr_ext + (unsigned long)needs_split(first) + (unsigned long)needs_split(end) > cap_ext) {
        pr_err("pmm: extent table full, cannot reserve 0x%llx for %s",
               (unsigned long long)(first << PAGE_SHIFT), owner);
        return -1;
    }
    uint64_t cur = first;
    while (cur < end) {
        unsigned long i = lower_bound(cur);
        if (i >= nr_ext || ext[i].pfn >= end)
            break;
        uint64_t s = umax(ext[i].pfn, cur), e = umin(ext_end(&ext[i]), end);
        if (ext[i].kind == EXT_FREE)
            set_range(s, e, EXT_RESERVED, owner);
        cur = e;
    }
    return 0;
}

static unsigned long table_capacity(uint64_t usable_pages, unsigned regions)
{
    /* Headroom for fragmentation: one extent per 2 MiB of RAM, at least 4096. */
    return 4096 + regions + 2 * PMM_MAX_EARLY_RESERVE + (unsigned long)(usable_pages / 512);
}

/* Usable pages of region r (page 0 excluded); 0 when none. */
static uint64_t usable_span(const struct mem_region *r, uint64_t *first, uint64_t *end)
{
    if (r->type != MEM_USABLE || r->len == 0)
        return 0;
    *first = umax((r->base >> PAGE_SHIFT) + ((r->base & (PMM_PAGE_SIZE - 1)) != 0), 1);
    *end = (r->base + r->len) >> PAGE_SHIFT;
    return *end > *first ? *end - *first : 0;
}

static uint64_t table_pages_for(const struct mem_region *map, unsigned n, uint64_t *usable)
{
    uint64_t pages = 0, f, e;
    unsigned regions = 0;
    for (unsigned i = 0; i < n; i++) {
        uint64_t p = usable_span(&map[i], &f, &e);
        pages += p;
        regions += p != 0;
    }
    if (usable)
        *usable = pages;
    uint64_t bytes = (uint64_t)table_capacity(pages, regions) * sizeof(struct extent);
    return (bytes + PMM_PAGE_SIZE - 1) >> PAGE_SHIFT;
}

static int check_map(const struct mem_region *map, unsigned n)
{
    uint64_t prev_end = 0;
    for (unsigned i = 0; i < n; i++) {
        if (map[i].len == 0)
            continue;
        if (map[i].len > UINT64_MAX - map[i].base) {
            pr_err("pmm: memory map entry %u (0x%llx + 0x%llx) wraps past 2^64", i,
                   (unsigned long long)map[i].base, (unsigned long long)map[i].len);
            return -1;
        }
        if (map[i].base < prev_end) {
            pr_err("pmm: memory map entry %u at 0x%llx overlaps or precedes the one before it "
                   "(not normalised)",
                   i, (unsigned long long)map[i].base);
            return -1;
        }
        prev_end = map[i].base + map[i].len;
    }
    return 0;
}

/* Lowest spot at or above 1 MiB for the table that avoids early reservations. */
static int place_table(const struct mem_region *map, unsigned n, uint64_t pages, uint64_t *at)
{
    uint64_t first, end;
    for (unsigned i = 0; i < n; i++) {
        if (!usable_span(&map[i], &first, &end))
            continue;
        uint64_t s = umax(first, LOW_PFN);
        while (s < end && end - s >= pages) {
            int moved = 0;
            for (unsigned k = 0; k < nr_early; k++) {
                if (early[k].first < s + pages && early[k].end > s) {
                    s = early[k].end;
                    moved = 1;
                }
            }
            if (!moved) {
                *at = s;
                return 0;
            }
        }
    }
    return -1;
}

int pmm_init(const struct mem_region *map, unsigned n, void *(*phys_to_virt)(uint64_t phys))
{
    uint64_t usable, table_pfn, first, end;
    int rc = -1;

    spin_lock(&pmm_lock);
    if (initialized) {
        pr_err("pmm: pmm_init called twice");
        goto out;
    }
    if (!map || check_map(map, n))
        goto out;
    uint64_t table_pages = table_pages_for(map, n, &usable);
    if (!usable) {
        pr_err("pmm: the memory map has no usable memory");
        goto out;
    }
    if (place_table(map, n, table_pages, &table_pfn)) {
        pr_err("pmm: no free usable range of %llu KiB above 1 MiB for the allocator table",
               (unsigned long long)(table_pages * 4));
        goto out;
    }
    uint64_t table_phys = table_pfn << PAGE_SHIFT;
    ext = phys_to_virt ? phys_to_virt(table_phys) : (struct extent *)(uintptr_t)table_phys;
    if (!ext) {
        pr_err("pmm: phys_to_virt(0x%llx) failed", (unsigned long long)table_phys);
        goto out;
    }
    cap_ext = (unsigned long)(table_pages * PMM_PAGE_SIZE / sizeof(*ext));
    nr_ext = 0;
    for (unsigned i = 0; i < n; i++) {
        uint64_t p = usable_span(&map[i], &first, &end);
        if (!p)
            continue;
        if (nr_ext && ext_end(&ext[nr_ext - 1]) == first)
            ext[nr_ext - 1].npages += p;
        else
            ext[nr_ext++] = (struct extent){first, p, NULL, EXT_FREE};
    }
    total_pages = free_pages = usable;
    set_range(table_pfn, table_pfn + table_pages, EXT_TABLE, "pmm");
    for (unsigned k = 0; k < nr_early; k++)
        reserve_locked(early[k].first, early[k].end, early[k].owner);
    nr_early = 0;
    initialized = 1;
    rc = 0;
    pr_info("pmm: %llu MiB usable, table of %lu extents (%llu KiB) at 0x%llx",
            (unsigned long long)(usable >> (20 - PAGE_SHIFT)), cap_ext,
            (unsigned long long)(table_pages * 4), (unsigned long long)table_phys);
out:
    spin_unlock(&pmm_lock);
    return rc;
}

int pmm_reserve(uint64_t base, uint64_t len, const char *owner)
{
    uint64_t first, end;
    int rc = 0;

    if (len == 0)
        return 0;
    if (!owner)
        owner = "reserved";
    page_span(base, len, &first, &end);
    spin_lock(&pmm_lock);
    if (initialized) {
        rc = reserve_locked(first, end, owner);
    } else if (nr_early >= PMM_MAX_EARLY_RESERVE) {
        pr_err("pmm: more than %u reservations before pmm_init (dropping %s)",
               PMM_MAX_EARLY_RESERVE, owner);
        rc = -1;
    } else {
        early[nr_early++] = (struct early_reserve){first, end, owner};
    }
    spin_unlock(&pmm_lock);
    return rc;
}

int pmm_claim_why(uint64_t base, uint64_t len, const char *owner, char *why, unsigned whylen)
{
    int gap, rc = -1;
    uint64_t where = 0;
    char dummy[1];

    if (!why || !whylen) {
        why = dummy;
        whylen = sizeof(dummy);
    }
    why[0] = '\0';
    if (!owner)
        owner = "claimed";
    if ((base | len) & (PMM_PAGE_SIZE - 1) || len == 0 || len > UINT64_MAX - base) {
        fmt_snprintf(why, whylen, "bad range 0x%llx + 0x%llx (must be page-aligned and non-empty)",
                     (unsigned long long)base, (unsigned long long)len);
        return -1;
    }
    uint64_t first = base >> PAGE_SHIFT, end = (base + len) >> PAGE_SHIFT;
    spin_lock(&pmm_lock);
    if (!initialized) {
        fmt_snprintf(why, whylen, "claim before pmm_init");
        goto out;
    }
    const struct extent *e = find_other(first, end, EXT_FREE, &gap, &where);
    if (gap)
        fmt_snprintf(why, whylen, "0x%llx-0x%llx is not free: 0x%llx is not usable RAM",
                     (unsigned long long)base, (unsigned long long)(base + len - 1),
                     (unsigned long long)(where << PAGE_SHIFT));
    else if (e)
        fmt_snprintf(why, whylen, "0x%llx-0x%llx is not free: 0x%llx is %s by %s",
                     (unsigned long long)base, (unsigned long long)(base + len - 1),
                     (unsigned long long)(where << PAGE_SHIFT), kind_name(e->kind), e->owner);
    else if (set_range(first, end, EXT_ALLOC, owner))
        fmt_snprintf(why, whylen, "extent table full");
    else
        rc = 0;
out:
    spin_unlock(&pmm_lock);
    return rc;
}

int pmm_claim(uint64_t base, uint64_t len, const char *owner)
{
    char why[160];
    int rc = pmm_claim_why(base, len, owner, why, sizeof(why));
    if (rc)
        pr_err("pmm: %s: cannot claim: %s", owner ? owner : "claimed", why);
    return rc;
}

/* First fit in [min_pfn, max_end) with the given alignment. */
static uint64_t alloc_locked(uint64_t npages, uint64_t align, uint64_t min_pfn, uint64_t max_end,
                             const char *owner)
{
    for (unsigned long i = lower_bound(min_pfn); i < nr_ext && ext[i].pfn < max_end; i++) {
        if (ext[i].kind != EXT_FREE)
            continue;
        uint64_t s = umax(ext[i].pfn, min_pfn);
        s = (s + align - 1) & ~(align - 1);
        uint64_t limit = umin(ext_end(&ext[i]), max_end);
        if (s >= limit || limit - s < npages)
            continue;
        if (set_range(s, s + npages, EXT_ALLOC, owner)) {
            pr_err("pmm: extent table full, cannot allocate for %s", owner);
            return 0;
        }
        return s << PAGE_SHIFT;
    }
    return 0;
}

static uint64_t alloc_common(uint64_t npages, uint64_t align, uint64_t min_pfn, uint64_t max_end,
                             const char *owner)
{
    uint64_t phys = 0;

    if (!owner)
        owner = "anonymous";
    if (align == 0)
        align = 1;
    if (npages == 0 || (align & (align - 1)) || align > MAX_ALIGN) {
        pr_err("pmm: %s: bad allocation request (%llu pages, alignment %llu pages)", owner,
               (unsigned long long)npages, (unsigned long long)align);
        return 0;
    }
    spin_lock(&pmm_lock);
    if (!initialized)
        pr_err("pmm: %s: allocation before pmm_init", owner);
    else if (npages <= free_pages)
        phys = alloc_locked(npages, align, min_pfn, max_end, owner);
    spin_unlock(&pmm_lock);
    if (!phys)
        pr_warn("pmm: %s: no %llu contiguous free pages (alignment %llu)", owner,
                (unsigned long long)npages, (unsigned long long)align);
    return phys;
}

uint64_t pmm_alloc(uint64_t npages, uint64_t align_pages, const char *owner)
{
    return alloc_common(npages, align_pages, LOW_PFN, PFN_LIMIT, owner);
}

uint64_t pmm_alloc_below(uint64_t limit, uint64_t npages, const char *owner)
{
    return alloc_common(npages, 1, 1, limit >> PAGE_SHIFT, owner);
}

void pmm_free(uint64_t phys, uint64_t npages)
{
    int gap;
    uint64_t where = 0;

    if ((phys & (PMM_PAGE_SIZE - 1)) || npages == 0 || npages > (PFN_LIMIT - 1) ||
        (phys >> PAGE_SHIFT) > PFN_LIMIT - 1 - npages) {
        pr_err("pmm: bad free of %llu pages at 0x%llx", (unsigned long long)npages,
               (unsigned long long)phys);
        return;
    }
    uint64_t first = phys >> PAGE_SHIFT, end = first + npages;
    spin_lock(&pmm_lock);
    const struct extent *e = initialized ? find_other(first, end, EXT_ALLOC, &gap, &where) : NULL;
    if (!initialized)
        pr_err("pmm: free of 0x%llx before pmm_init", (unsigned long long)phys);
    else if (gap)
        pr_err("pmm: free of %llu pages at 0x%llx: 0x%llx is not usable RAM, never allocated",
               (unsigned long long)npages, (unsigned long long)phys,
               (unsigned long long)(where << PAGE_SHIFT));
    else if (e && e->kind == EXT_FREE)
        pr_err("pmm: double free of %llu pages at 0x%llx: 0x%llx is already free",
               (unsigned long long)npages, (unsigned long long)phys,
               (unsigned long long)(where << PAGE_SHIFT));
    else if (e)
        pr_err("pmm: free of %llu pages at 0x%llx: 0x%llx is not allocated (%s by %s)",
               (unsigned long long)npages, (unsigned long long)phys,
               (unsigned long long)(where << PAGE_SHIFT), kind_name(e->kind), e->owner);
    else if (set_range(first, end, EXT_FREE, NULL))
        pr_err("pmm: extent table full, leaking %llu pages at 0x%llx", (unsigned long long)npages,
               (unsigned long long)phys);
    spin_unlock(&pmm_lock);
}

uint64_t pmm_free_pages(void)
{
    spin_lock(&pmm_lock);
    uint64_t v = free_pages;
    spin_unlock(&pmm_lock);
    return v;
}

uint64_t pmm_total_pages(void)
{
    spin_lock(&pmm_lock);
    uint64_t v = total_pages;
    spin_unlock(&pmm_lock);
    return v;
}

void pmm_for_each_range(void (*fn)(uint64_t base, uint64_t len, const char *owner, void *ctx),
                        void *ctx)
{
    for (unsigned long i = 0;; i++) {
        spin_lock(&pmm_lock);
        if (i >= nr_ext) {
            spin_unlock(&pmm_lock);
            return;
        }
        struct extent e = ext[i];
        spin_unlock(&pmm_lock);
        fn(e.pfn << PAGE_SHIFT, e.npages << PAGE_SHIFT, e.owner ? e.owner : "free", ctx);
    }
}

#ifdef HOST_TEST
void pmm_test_reset(void)
{
    ext = NULL;
    nr_ext = cap_ext = 0;
    total_pages = free_pages = 0;
    initialized = 0;
    nr_early = 0;
}

uint64_t pmm_table_bytes(const struct mem_region *map, unsigned n)
{
    return table_pages_for(map, n, NULL) * PMM_PAGE_SIZE;
}
#endif
