/* VT-d domains: a second-level table, the devices that translate through
 * it, and the rule that it maps only its owner's memory. Also the RMRR
 * domain firmware-reserved ranges go in. */
#include "arch/x86_64/cpu.h"
#include "drivers/pci.h"
#include "drivers/vtd_owner.h"
#include "drivers/vtd_priv.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/string.h"

struct vtd_domain vtd_domains[VTD_MAX_DOMAINS];
struct vtd_dev vtd_devs[VTD_MAX_DEVS];
spinlock_t vtd_lock = SPINLOCK_INIT;

#define P(x) ((unsigned long long)(x))

struct vtd_domain *vtd_domain_create(const char *name, const char *owner, bool allow_non_ram)
{
    if (!vtd_dom_levels)
        return NULL;
    struct vtd_domain *d = NULL;
    spin_lock(&vtd_lock);
    for (unsigned i = 0; i < VTD_MAX_DOMAINS && i + 1 <= vtd_max_did; i++)
        if (!vtd_domains[i].used) {
            d = &vtd_domains[i];
            memset(d, 0, sizeof(*d));
            d->used = true;
            d->did = (uint16_t)(i + 1); /* 0 is reserved when caching mode is on */
            break;
        }
    spin_unlock(&vtd_lock);
    if (!d)
        return NULL;
    str_copy(d->name, name, sizeof(d->name));
    str_copy(d->owner, owner, sizeof(d->owner));
    d->allow_non_ram = allow_non_ram;
    int r = vtd_pt_init(&d->pt, &vtd_mem_ops, vtd_dom_levels, vtd_dom_iova_bits, vtd_dmar_info.haw,
                        vtd_dom_sllps);
    if (r) {
        pr_err("iommu: domain %s: %s", name, vtd_strerror(r));
        d->used = false;
        return NULL;
    }
    return d;
}

static void flush_domain(struct vtd_domain *d)
{
    for (unsigned i = 0; i < vtd_nr_units; i++)
        if (vtd_units[i].usable)
            vtd_unit_flush_iotlb(&vtd_units[i], d->did);
}

int vtd_domain_map(struct vtd_domain *d, uint64_t iova, uint64_t hpa, uint64_t size, unsigned perms,
                   char *why, size_t whylen)
{
    if (!d || !d->used)
        return VTD_ERR_INVAL;
    int r = vtd_hpa_check(hpa, size, d->owner, d->allow_non_ram, why, whylen);
    if (r)
        return r;
    spin_lock(&vtd_lock);
    r = vtd_pt_map(&d->pt, iova, hpa, size, perms);
    spin_unlock(&vtd_lock);
    if (r)
        fmt_snprintf(why, whylen, "%s", vtd_strerror(r));
    else
        flush_domain(d); /* caching-mode units may hold not-present entries */
    return r;
}

int vtd_domain_unmap(struct vtd_domain *d, uint64_t iova, uint64_t size)
{
    if (!d || !d->used)
        return VTD_ERR_INVAL;
    spin_lock(&vtd_lock);
    int r = vtd_pt_unmap(&d->pt, iova, size);
    spin_unlock(&vtd_lock);
    if (!r)
        flush_domain(d);
    return r;
}

static struct vtd_dev *find_dev(uint16_t seg, uint16_t bdf)
{
    for (unsigned i = 0; i < VTD_MAX_DEVS; i++)
        if (vtd_devs[i].used && vtd_devs[i].seg == seg && vtd_devs[i].bdf == bdf)
            return &vtd_devs[i];
    return NULL;
}

struct vtd_domain *vtd_device_domain(uint16_t seg, uint16_t bdf)
{
    spin_lock(&vtd_lock);
    struct vtd_dev *v = find_dev(seg, bdf);
    struct vtd_domain *d = v ? v->dom : NULL;
    spin_unlock(&vtd_lock);
    return d;
}

int vtd_domain_attach(struct vtd_domain *d, uint16_t seg, uint16_t bdf)
{
    if (!d || !d->used)
        return VTD_ERR_INVAL;
    int ui = vtd_unit_for(seg, bdf);
    if (ui < 0)
        return VTD_ERR_NODEV;
    spin_lock(&vtd_lock);
    struct vtd_dev *v = find_dev(seg, bdf);
    if (v && v->dom != d) {
        spin_unlock(&vtd_lock);
        return VTD_ERR_BUSY;
    }
    if (!v)
        for (unsigned i = 0; i < VTD_MAX_DEVS && !v; i++)
            if (!vtd_devs[i].used)
                v = &vtd_devs[i];
    if (!v) {
        spin_unlock(&vtd_lock);
        return VTD_ERR_NOMEM;
    }
    bool fresh = !v->used;
    *v = (struct vtd_dev){true, seg, bdf, ui, d};
    if (fresh)
        d->nr_devices++;
    spin_unlock(&vtd_lock);
    int r = vtd_unit_set_context(&vtd_units[ui], bdf, d);
    if (r)
        vtd_domain_detach(seg, bdf);
    return r;
}

int vtd_domain_detach(uint16_t seg, uint16_t bdf)
{
    spin_lock(&vtd_lock);
    struct vtd_dev *v = find_dev(seg, bdf);
    if (!v) {
        spin_unlock(&vtd_lock);
        return VTD_ERR_NODEV;
    }
    int ui = v->unit;
    v->dom->nr_devices--;
    v->used = false;
    spin_unlock(&vtd_lock);
    return vtd_unit_clear_context(&vtd_units[ui], bdf);
}

void vtd_domain_destroy(struct vtd_domain *d)
{
    if (!d || !d->used)
        return;
    for (unsigned i = 0; i < VTD_MAX_DEVS; i++)
        if (vtd_devs[i].used && vtd_devs[i].dom == d)
            vtd_domain_detach(vtd_devs[i].seg, vtd_devs[i].bdf);
    flush_domain(d); /* no unit may still walk the tables */
    spin_lock(&vtd_lock);
    vtd_pt_destroy(&d->pt);
    d->used = false;
    spin_unlock(&vtd_lock);
}

/* ---- RMRR: firmware's reserved DMA ranges ---- */

static void rmrr_attach_scope(struct vtd_domain *d, const struct vtd_scope *s, uint16_t seg)
{
    uint16_t first, last;
    if (!vtd_scope_resolve(s, seg, vtd_bridge_buses, NULL, &first, &last)) {
        pr_warn("iommu: RMRR names a device that is not there (scope type %u, bus %u)", s->type,
                s->start_bus);
        return;
    }
    for (unsigned i = 0; i < pci_count(); i++) {
        const struct pci_dev *p = pci_get(i);
        uint16_t bdf = PCI_BDF(p->bus, p->dev, p->fn);
        if (p->seg != seg || !vtd_scope_matches(s, seg, bdf, vtd_bridge_buses, NULL))
            continue;
        int r = vtd_domain_attach(d, seg, bdf);
        if (r)
            pr_warn("iommu: RMRR device %02x:%02x.%u: %s", p->bus, p->dev, p->fn, vtd_strerror(r));
    }
}

/* Every RMRR range is identity-mapped in one "rmrr" domain, and the devices
 * the RMRRs name are put in it (they see those ranges and nothing else). */
void vtd_rmrr_setup(void)
{
    struct vtd_domain *d = NULL;
    char why[96];
    for (unsigned i = 0; i < vtd_dmar_info.nr_rmrr; i++) {
        const struct vtd_dmar_rmrr *r = &vtd_dmar_info.rmrr[i];
        if (!d && !(d = vtd_domain_create("rmrr", "rmrr", true))) {
            pr_err("iommu: no domain for the RMRRs; their devices get no DMA access");
            return;
        }
        uint64_t size = r->limit - r->base + 1;
        int e = vtd_domain_map(d, r->base, r->base, size, VTD_PERM_RW, why, sizeof(why));
        if (e) {
            pr_warn("iommu: RMRR 0x%llx-0x%llx not mapped: %s", P(r->base), P(r->limit), why);
            continue;
        }
        for (unsigned k = 0; k < r->nr_scopes; k++)
            rmrr_attach_scope(d, &vtd_dmar_info.scopes[r->first_scope + k], r->segment);
    }
}

void vtd_show_domains(void (*out)(const char *fmt, ...))
{
    unsigned n = 0;
    for (unsigned i = 0; i < VTD_MAX_DOMAINS; i++)
        n += vtd_domains[i].used;
    out("  domains: %u (%u-level tables)%s\n", n, vtd_dom_levels,
        n ? "" : "; no device has DMA access");
    for (unsigned i = 0; i < VTD_MAX_DOMAINS; i++) {
        const struct vtd_domain *d = &vtd_domains[i];
        if (!d->used)
            continue;
        out("    domain %u %s: owner %s, %llu KiB mapped, %u device%s:", d->did, d->name, d->owner,
            P(d->pt.mapped >> 10), d->nr_devices, d->nr_devices == 1 ? "" : "s");
        for (unsigned k = 0; k < VTD_MAX_DEVS; k++)
            if (vtd_devs[k].used && vtd_devs[k].dom == d)
                out(" %04x:%02x:%02x.%u", vtd_devs[k].seg, vtd_devs[k].bdf >> 8,
                    (vtd_devs[k].bdf >> 3) & 0x1f, vtd_devs[k].bdf & 7);
        out("\n");
    }
}
