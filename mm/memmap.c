#include "mm/memmap.h"

#include "lib/string.h"

static uint64_t region_end(const struct mem_region *r)
{
    return r->base + r->len;
}

/* Higher wins where regions of different types overlap. */
static int rank(uint32_t type)
{
    switch (type) {
    case MEM_USABLE:
        return 0;
    case MEM_ACPI_RECLAIM:
        return 1;
    case MEM_ACPI_NVS:
        return 2;
    case MEM_RESERVED:
        return 3;
    case MEM_BAD:
        return 4;
    default:
        return 3;
    }
}

static void remove_at(struct mem_region *r, unsigned *n, unsigned i)
{
    memmove(&r[i], &r[i + 1], (*n - i - 1) * sizeof(*r));
    (*n)--;
}

/* Caller guarantees *n < capacity. */
static void insert_sorted(struct mem_region *r, unsigned *n, struct mem_region v)
{
    unsigned i = *n;
    while (i > 0 && r[i - 1].base > v.base) {
        r[i] = r[i - 1];
        i--;
    }
    r[i] = v;
    (*n)++;
}

/* One merge/overlap fix; 1 when something changed, 0 when stable, -1 when a
 * split needs a slot we do not have. */
static int resolve_once(struct mem_region *r, unsigned *n, unsigned max)
{
    for (unsigned i = 0; i < *n; i++) {
        for (unsigned j = i + 1; j < *n && r[j].base <= region_end(&r[i]); j++) {
            uint64_t ei = region_end(&r[i]), ej = region_end(&r[j]);

            if (r[i].type == r[j].type) {
                if (ej > ei)
                    r[i].len = ej - r[i].base;
                remove_at(r, n, j);
                return 1;
            }
            if (r[j].base == ei)
                continue; /* touching, different types: fine */
            if (rank(r[i].type) >= rank(r[j].type)) {
                /* j loses the overlapping part */
                struct mem_region rest = {ei, ej - ei, r[j].type};
                remove_at(r, n, j);
                if (ej > ei)
                    insert_sorted(r, n, rest);
                return 1;
            }
            /* i loses the overlapping part; its tail past j survives */
            if (ei > ej && *n >= max)
                return -1;
            struct mem_region tail = {ej, ei > ej ? ei - ej : 0, r[i].type};
            r[i].len = r[j].base - r[i].base;
            if (r[i].len == 0)
                remove_at(r, n, i);
            if (tail.len)
                insert_sorted(r, n, tail);
            return 1;
        }
    }
    return 0;
}

int memmap_normalize(struct mem_region *r, unsigned *n, unsigned max)
{
    unsigned out = 0;

    if (*n > max)
        *n = max;
    for (unsigned i = 0; i < *n; i++) {
        struct mem_region v = r[i];
        if (v.len == 0)
            continue;
        if (v.len > UINT64_MAX - v.base)
            v.len = UINT64_MAX - v.base;
        if (v.type < MEM_USABLE || v.type > MEM_BAD)
            v.type = MEM_RESERVED;
        insert_sorted(r, &out, v); /* out <= i, so this never overtakes unread input */
    }
    *n = out;

    for (;;) {
        int rc = resolve_once(r, n, max);
        if (rc <= 0)
            return rc;
    }
}

int memmap_subtract(struct mem_region *r, unsigned *n, unsigned max, uint64_t base, uint64_t len)
{
    if (len == 0)
        return 0;
    uint64_t end = len > UINT64_MAX - base ? UINT64_MAX : base + len;

    unsigned splits = 0;
    for (unsigned i = 0; i < *n; i++)
        if (r[i].base < base && region_end(&r[i]) > end)
            splits++;
    if (*n + splits > max)
        return -1;

    for (unsigned i = 0; i < *n;) {
        uint64_t rb = r[i].base, re = region_end(&r[i]);
        if (re <= base || rb >= end) {
            i++;
            continue;
        }
        if (rb >= base && re <= end) {
            remove_at(r, n, i);
            continue;
        }
        if (rb < base && re > end) {
            struct mem_region tail = {end, re - end, r[i].type};
            r[i].len = base - rb;
            insert_sorted(r, n, tail);
        } else if (rb < base) {
            r[i].len = base - rb;
        } else {
            r[i].base = end;
            r[i].len = re - end;
        }
        i++;
    }
    return 0;
}

uint64_t memmap_usable_bytes(const struct mem_region *r, unsigned n)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < n; i++)
        if (r[i].type == MEM_USABLE)
            total += r[i].len;
    return total;
}

unsigned memmap_usable_count(const struct mem_region *r, unsigned n)
{
    unsigned count = 0;
    for (unsigned i = 0; i < n; i++)
        if (r[i].type == MEM_USABLE && r[i].len)
            count++;
    return count;
}

const char *memmap_type_name(uint32_t type)
{
    switch (type) {
    case MEM_USABLE:
        return "usable";
    case MEM_RESERVED:
        return "reserved";
    case MEM_ACPI_RECLAIM:
        return "ACPI reclaim";
    case MEM_ACPI_NVS:
        return "ACPI NVS";
    case MEM_BAD:
        return "bad";
    default:
        return "unknown";
    }
}
