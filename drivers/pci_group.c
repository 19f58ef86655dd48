/* See pci_group.h. Device registers are not trusted: every walk is bounded. */
#include "drivers/pci_group.h"

#include "lib/format.h"
#include "lib/string.h"

#define CAP_PCIE    0x10
#define EXT_CAP_ACS 0x000d
#define PCIE_DOWN   6
#define PCIE_TO_PCI 7

/* PCI Express device/port type, or -1 without a PCI Express capability. */
static int pcie_type(const struct pci_ops *o, const struct pci_dev *d)
{
    uint16_t bdf = PCI_BDF(d->bus, d->dev, d->fn);
    uint8_t p = pci_ops_find_cap(o, d->seg, bdf, CAP_PCIE);
    return p ? (int)((o->read(o->ctx, d->seg, bdf, (uint16_t)(p + 2), 2) >> 4) & 0xf) : -1;
}

/* An ACS extended capability (needs extended configuration space: without
 * ECAM the reads are all ones and the answer is no). */
static bool has_acs(const struct pci_ops *o, const struct pci_dev *d)
{
    uint16_t bdf = PCI_BDF(d->bus, d->dev, d->fn);
    unsigned off = 0x100;
    for (unsigned k = 0; k < 64 && off >= 0x100 && off < 0x1000; k++) {
        uint32_t h = o->read(o->ctx, d->seg, bdf, (uint16_t)off, 4);
        if (h == 0 || h == 0xffffffffu)
            return false;
        if ((h & 0xffff) == EXT_CAP_ACS)
            return true;
        off = (h >> 20) & 0xffc;
    }
    return false;
}

static int parent(const struct pci_dev *devs, unsigned n, unsigned i)
{
    for (unsigned k = 0; k < n; k++)
        if (k != i && devs[k].header_type == PCI_HEADER_BRIDGE && devs[k].seg == devs[i].seg &&
            devs[k].secondary_bus == devs[i].bus && devs[k].secondary_bus != devs[k].bus)
            return (int)k;
    return -1;
}

static void name(const struct pci_dev *d, char *buf, size_t len)
{
    fmt_snprintf(buf, len, "%02x:%02x.%x", d->bus, d->dev, d->fn);
}

void pci_groups(const struct pci_ops *o, const struct pci_dev *devs, unsigned n,
                struct pci_group *out)
{
    for (unsigned i = 0; i < n; i++) {
        int anchor = -1;
        char b[16];
        out[i].why[0] = 0;
        /* Climb to the root bus (bounded: a bus loop in hostile tables). */
        int p = parent(devs, n, i);
        for (unsigned depth = 0; p >= 0 && depth < 32; depth++) {
            int t = pcie_type(o, &devs[p]);
            if (t < 0 || t == PCIE_TO_PCI) {
                anchor = p; /* the topmost one wins */
                name(&devs[p], b, sizeof(b));
                fmt_snprintf(out[i].why, sizeof(out[i].why), "behind the %s bridge %s",
                             t < 0 ? "PCI" : "PCIe-to-PCI", b);
            } else if (t == PCIE_DOWN && !has_acs(o, &devs[p])) {
                int up = parent(devs, n, (unsigned)p);
                if (up >= 0 && anchor < 0) {
                    anchor = up;
                    name(&devs[up], b, sizeof(b));
                    fmt_snprintf(out[i].why, sizeof(out[i].why),
                                 "below the PCIe switch %s, whose ports lack ACS", b);
                }
            }
            p = parent(devs, n, (unsigned)p);
        }
        if (anchor >= 0) {
            out[i].leader = (uint16_t)anchor;
            continue;
        }
        /* Functions of one device share unless the function has ACS. */
        out[i].leader = (uint16_t)i;
        if (has_acs(o, &devs[i]))
            continue;
        for (unsigned k = 0; k < n; k++) {
            if (k != i && devs[k].seg == devs[i].seg && devs[k].bus == devs[i].bus &&
                devs[k].dev == devs[i].dev) {
                if (k < out[i].leader)
                    out[i].leader = (uint16_t)k;
                fmt_snprintf(out[i].why, sizeof(out[i].why), "functions of one device without ACS");
            }
        }
    }
}

#ifndef HOST_TEST
static uint32_t k_read(void *ctx, uint16_t seg, uint16_t bdf, uint16_t off, unsigned w)
{
    return w == 1   ? pci_read8(seg, bdf, off)
           : w == 2 ? pci_read16(seg, bdf, off)
                    : pci_read32(seg, bdf, off);
}

unsigned pci_groups_host(struct pci_group *out, unsigned max)
{
    static const struct pci_ops ops = {k_read, NULL, NULL};
    unsigned n = pci_count() < max ? pci_count() : max;
    if (n)
        pci_groups(&ops, pci_get(0), n, out);
    return n;
}
#endif
