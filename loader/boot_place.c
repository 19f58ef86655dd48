/* Placement of the multiboot information and modules in guest RAM, and the
 * memory map that reports them (loader/boot_place.h). Every range comes
 * from a kernel image or a configuration: nothing here trusts its input to
 * be sorted, disjoint or free of overflow. */
#include "loader/boot_place.h"

#include <stdbool.h>

#include "lib/format.h"

#define PAGE 0x1000ULL

/* x rounded up to a multiple of align, or UINT64_MAX when that overflows. */
static uint64_t align_up(uint64_t x, uint64_t align)
{
    if (x > UINT64_MAX - (align - 1))
        return UINT64_MAX;
    return (x + align - 1) & ~(align - 1);
}

/* The lowest fit inside one RAM range, or UINT64_MAX. */
static uint64_t find_in(struct gpa_range r, const struct gpa_range *busy, unsigned nr_busy,
                        uint64_t size, uint64_t align, uint64_t from)
{
    uint64_t a = align_up(from > r.start ? from : r.start, align);
    for (;;) {
        if (a == UINT64_MAX || a >= r.end || size > r.end - a)
            return UINT64_MAX;
        bool moved = false;
        for (unsigned i = 0; i < nr_busy; i++) {
            /* A range that wraps past the top covers everything above its start. */
            uint64_t bstart = busy[i].start;
            uint64_t bend = busy[i].end < bstart ? UINT64_MAX : busy[i].end;
            if (bstart < bend && bstart < a + size && bend > a) {
                a = align_up(bend, align); /* only ever upwards: this ends */
                moved = true;
                break;
            }
        }
        if (!moved)
            return a;
    }
}

uint64_t boot_place_find(const struct gpa_range *ram, unsigned nr_ram, const struct gpa_range *busy,
                         unsigned nr_busy, uint64_t size, uint64_t align, uint64_t from)
{
    uint64_t best = UINT64_MAX;
    if (!size || !align || (align & (align - 1)))
        return UINT64_MAX;
    for (unsigned i = 0; i < nr_ram; i++) {
        uint64_t a = find_in(ram[i], busy, nr_busy, size, align, from);
        if (a < best)
            best = a;
    }
    return best;
}

/* First from the preferred address up, then anywhere. */
static uint64_t place(const struct boot_plan_in *in, const struct gpa_range *busy, unsigned nr_busy,
                      uint64_t size, uint64_t from)
{
    uint64_t a = boot_place_find(in->ram, in->nr_ram, busy, nr_busy, size, PAGE, from);
    return a != UINT64_MAX ? a : boot_place_find(in->ram, in->nr_ram, busy, nr_busy, size, PAGE, 0);
}

int boot_plan_layout(const struct boot_plan_in *in, struct boot_plan *out, char *err,
                     unsigned errlen)
{
    struct gpa_range busy[BOOT_PLACE_MAX_BUSY];
    unsigned nr_busy = 0;
    uint64_t last_end = 0;

    if (in->nr_modules > BOOT_PLACE_MAX_MODULES ||
        in->nr_image + 1 + in->nr_modules > BOOT_PLACE_MAX_BUSY) {
        fmt_snprintf(err, errlen, "too many segments and modules to place (%u and %u)",
                     in->nr_image, in->nr_modules);
        return -1;
    }
    for (unsigned i = 0; i < in->nr_image; i++) {
        busy[nr_busy++] = in->image[i];
        if (in->image[i].end > last_end)
            last_end = in->image[i].end;
    }
    uint64_t info = align_up(in->info_size, PAGE);
    uint64_t size = info == UINT64_MAX ? UINT64_MAX : BOOT_PLACE_STACK + info;
    uint64_t a = size == UINT64_MAX || size < info
                     ? UINT64_MAX
                     : place(in, busy, nr_busy, size, BOOT_PLACE_PREFERRED - BOOT_PLACE_STACK);
    if (a == UINT64_MAX) {
        fmt_snprintf(err, errlen,
                     "no room for the boot information (%llu KiB) in guest RAM below 4 GiB "
                     "outside the kernel's segments",
                     (unsigned long long)(size == UINT64_MAX ? 0 : size >> 10));
        return -1;
    }
    out->stack_gpa = a;
    out->info_gpa = a + BOOT_PLACE_STACK;
    out->reserved[0] = (struct gpa_range){a, a + size};
    out->nr_reserved = 1;
    busy[nr_busy++] = out->reserved[0];
    for (unsigned m = 0; m < in->nr_modules; m++) {
        uint64_t msz = align_up(in->module_size[m] ? in->module_size[m] : 1, PAGE);
        uint64_t at = msz == UINT64_MAX ? UINT64_MAX : place(in, busy, nr_busy, msz, last_end);
        if (at == UINT64_MAX) {
            fmt_snprintf(err, errlen,
                         "module %u (%llu bytes) does not fit in guest RAM below 4 GiB outside "
                         "the kernel and the modules before it",
                         m + 1, (unsigned long long)in->module_size[m]);
            return -1;
        }
        out->module_gpa[m] = at;
        out->reserved[out->nr_reserved++] = (struct gpa_range){at, at + msz};
        busy[nr_busy++] = (struct gpa_range){at, at + msz};
    }
    return 0;
}

static void emit(struct boot_map_entry *out, unsigned max, unsigned *n, uint64_t a, uint64_t b,
                 uint32_t type)
{
    if (a < b && *n < max)
        out[(*n)++] = (struct boot_map_entry){a, b - a, type};
}

unsigned boot_map_build(const struct gpa_range *ram, unsigned nr_ram,
                        const struct gpa_range *reserved, unsigned nr_reserved,
                        const struct boot_map_entry *extra, unsigned nr_extra,
                        struct boot_map_entry *out, unsigned max)
{
    struct gpa_range res[1 + BOOT_PLACE_MAX_MODULES];
    unsigned nr = 0, n = 0;

    /* The reserved ranges, sorted by start. */
    for (unsigned i = 0; i < nr_reserved && nr < sizeof(res) / sizeof(res[0]); i++) {
        unsigned j = nr++;
        for (; j > 0 && res[j - 1].start > reserved[i].start; j--)
            res[j] = res[j - 1];
        res[j] = reserved[i];
    }
    for (unsigned r = 0; r < nr_ram; r++) {
        uint64_t pos = ram[r].start, end = ram[r].end;
        for (unsigned i = 0; i < nr && pos < end; i++) {
            uint64_t s = res[i].start > pos ? res[i].start : pos;
            uint64_t e = res[i].end < end ? res[i].end : end;
            if (s >= e)
                continue;
            emit(out, max, &n, pos, s, 1);
            emit(out, max, &n, s, e, 2);
            pos = e;
        }
        emit(out, max, &n, pos, end, 1);
    }
    for (unsigned i = 0; i < nr_extra; i++)
        emit(out, max, &n, extra[i].addr, extra[i].addr + extra[i].len, extra[i].type);
    /* Sorted by address, as guests expect. */
    for (unsigned i = 1; i < n; i++) {
        struct boot_map_entry e = out[i];
        unsigned j = i;
        for (; j > 0 && out[j - 1].addr > e.addr; j--)
            out[j] = out[j - 1];
        out[j] = e;
    }
    return n;
}
