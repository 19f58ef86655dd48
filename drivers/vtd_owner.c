/* Host-memory ownership check for IOMMU domain mappings; see vtd_owner.h. */
#include "drivers/vtd_owner.h"

#include "drivers/vtd_pt.h"
#include "lib/format.h"
#include "lib/string.h"
#include "mm/pmm.h"

struct check {
    uint64_t start, end; /* the range asked for */
    const char *owner;
    uint64_t covered; /* bytes of it inside usable RAM */
    bool denied;
    char *why;
    size_t whylen;
};

static void visit(uint64_t base, uint64_t len, const char *owner, void *ctx)
{
    struct check *c = ctx;
    uint64_t lo = base > c->start ? base : c->start;
    uint64_t hi = base + len < c->end ? base + len : c->end;
    if (lo >= hi)
        return;
    c->covered += hi - lo;
    if (!c->denied && (!owner || strcmp(owner, c->owner))) {
        c->denied = true;
        fmt_snprintf(c->why, c->whylen, "0x%llx-0x%llx belongs to %s", (unsigned long long)lo,
                     (unsigned long long)(hi - 1), owner ? owner : "nobody");
    }
}

int vtd_hpa_check(uint64_t hpa, uint64_t size, const char *owner, bool allow_non_ram, char *why,
                  size_t whylen)
{
    if (why && whylen)
        why[0] = 0;
    if (!owner || !owner[0] || !strcmp(owner, "free") || !size || hpa + size < hpa) {
        fmt_snprintf(why, whylen, "no owner or an empty range");
        return VTD_ERR_DENIED;
    }
    struct check c = {hpa, hpa + size, owner, 0, false, why, whylen};
    pmm_for_each_range(visit, &c);
    if (c.denied)
        return VTD_ERR_DENIED;
    if (c.covered != size && !allow_non_ram) {
        fmt_snprintf(why, whylen, "0x%llx-0x%llx is not (all) RAM", (unsigned long long)hpa,
                     (unsigned long long)(hpa + size - 1));
        return VTD_ERR_DENIED;
    }
    return VTD_OK;
}
