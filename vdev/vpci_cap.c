/* The capability list a guest sees: only MSI, MSI-X, PCI Express and power
 * management are kept, re-linked in their original order; every other
 * byte of 0x40-0xFF reads 0 and ignores writes. Power management and the
 * PCI Express control registers are a shadow: the guest's writes land
 * there and never reach the hardware, so it cannot power the device down
 * (losing its BARs) or reset it behind the hypervisor's back. */
#include "vdev/vpci_priv.h"

#include "lib/format.h"
#include "lib/string.h"

#define MAX_CAPS 48 /* (256 - 64) / 4: more means a loop */

static unsigned msi_len(uint16_t ctrl)
{
    unsigned len = (ctrl & (1u << 7)) ? 14 : 10; /* 64-bit address */
    if (ctrl & (1u << 8))
        len += 10; /* mask and pending bits (+ reserved data bytes) */
    return (len + 3) & ~3u;
}

/* Length of a kept capability at off, 0 for one that is hidden. */
static unsigned cap_len(const struct vpci_dev *d, unsigned off)
{
    switch (d->cfg[off]) {
    case PCI_CAP_PM:
        return 8;
    case PCI_CAP_MSI:
        return msi_len(vpci_snap16(d, off + 2));
    case PCI_CAP_MSIX:
        return 12;
    case PCI_CAP_PCIE:
        return (vpci_snap16(d, off + 2) & 0xf) >= 2 ? 0x3c : 0x24;
    default:
        return 0;
    }
}

bool vpci_caps_scan(struct vpci_dev *d, char *err, size_t errlen)
{
    uint8_t kept[MAX_CAPS];
    unsigned nk = 0;
    uint64_t seen = 0; /* one bit per dword of 0x40-0xFF */
    memset(d->cap_owner, 0, sizeof(d->cap_owner));
    memset(d->cap_next, 0, sizeof(d->cap_next));
    d->first_cap = 0;
    if (!(vpci_snap16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
        return true;
    /* The device's values are not trusted: pointers below 0x40, loops,
     * capabilities running off the end or overlapping others end the
     * walk or are dropped. */
    for (unsigned ptr = d->cfg[PCI_CAP_PTR] & 0xfc; ptr >= 0x40; ptr = d->cfg[ptr + 1] & 0xfc) {
        unsigned bit = (ptr - 0x40) / 4;
        if (seen & (1ULL << bit))
            break;
        seen |= 1ULL << bit;
        unsigned len = cap_len(d, ptr);
        if (!len || ptr + len > VPCI_CFG_SIZE)
            continue;
        bool clash = false;
        for (unsigned i = 0; i < len; i++)
            clash |= d->cap_owner[ptr + i] != 0;
        for (unsigned k = 0; k < nk; k++)
            clash |= d->cfg[kept[k]] == d->cfg[ptr]; /* a second MSI etc. */
        if (clash)
            continue;
        for (unsigned i = 0; i < len; i++)
            d->cap_owner[ptr + i] = (uint8_t)ptr;
        kept[nk++] = (uint8_t)ptr;
        if (d->cfg[ptr] == PCI_CAP_PM) {
            d->pm_cap = (uint8_t)ptr;
        } else if (d->cfg[ptr] == PCI_CAP_PCIE) {
            d->pcie_cap = (uint8_t)ptr;
            d->pcie_len = (uint8_t)len;
            memcpy(d->pcie, &d->cfg[ptr], len);
            d->pcie[8 + 1] &= 0x7f; /* device control: "initiate FLR" reads 0 */
        } else if (d->cfg[ptr] == PCI_CAP_MSI) {
            d->msi.cap = (uint8_t)ptr;
        } else if (d->cfg[ptr] == PCI_CAP_MSIX) {
            d->msix.cap = (uint8_t)ptr;
        }
    }
    if (nk) {
        d->first_cap = kept[0];
        for (unsigned k = 0; k + 1 < nk; k++)
            d->cap_next[kept[k]] = kept[k + 1];
    }
    (void)err;
    (void)errlen;
    return true;
}

uint32_t vpci_cap_read(struct vpci_bus *b, struct vpci_dev *d, unsigned off)
{
    unsigned cap = d->cap_owner[off];
    if (!cap)
        return 0;
    unsigned rel = off - cap;
    uint8_t id = d->cfg[cap];
    uint32_t v;
    if (id == PCI_CAP_MSI)
        v = vpci_msi_read(b, d, rel);
    else if (id == PCI_CAP_MSIX)
        v = vpci_msix_cap_read(b, d, rel);
    else if (id == PCI_CAP_PCIE)
        v = (uint32_t)d->pcie[rel] | (uint32_t)d->pcie[rel + 1] << 8 |
            (uint32_t)d->pcie[rel + 2] << 16 | (uint32_t)d->pcie[rel + 3] << 24;
    else if (rel == 4) /* PM control/status: the shadow; PME status never set */
        v = d->pmcsr | (vpci_snap32(d, off) & 0xffff0000u);
    else
        v = vpci_snap32(d, off);
    if (rel == 0)
        v = (v & 0xffff0000u) | id | (uint32_t)d->cap_next[cap] << 8;
    return v;
}

/* PCI Express registers whose writes the shadow keeps (device, link,
 * slot, root control; device and link control 2), as rel -> writable
 * bits of the 32-bit register. Status halves are RW1C in the shadow. */
static uint32_t pcie_writable(unsigned rel, uint32_t *rw1c)
{
    *rw1c = 0;
    switch (rel) {
    case 0x08: /* device control (initiate FLR refused) / status */
        *rw1c = 0x000f0000u;
        return 0x7fffu;
    case 0x10: /* link control / status */
        *rw1c = 0xc0000000u;
        return 0x0fffu;
    case 0x18: /* slot control / status */
        *rw1c = 0x011f0000u;
        return 0x1fffu;
    case 0x1c: /* root control */
    case 0x28: /* device control 2 */
    case 0x30: /* link control 2 */
        return 0xffffu;
    default:
        return 0;
    }
}

void vpci_cap_write(struct vpci_bus *b, struct vpci_dev *d, unsigned off, uint32_t val,
                    uint32_t mask)
{
    unsigned cap = d->cap_owner[off];
    if (!cap)
        return;
    unsigned rel = off - cap;
    uint8_t id = d->cfg[cap];
    if (id == PCI_CAP_MSI) {
        vpci_msi_write(b, d, rel, val, mask);
    } else if (id == PCI_CAP_MSIX) {
        vpci_msix_cap_write(b, d, rel, val, mask);
    } else if (id == PCI_CAP_PM && rel == 4) {
        /* Power state and PME enable, virtual: the device stays in D0. */
        uint16_t w = (uint16_t)(mask & 0x0103u);
        d->pmcsr = (uint16_t)((d->pmcsr & ~w) | (val & w));
    } else if (id == PCI_CAP_PCIE && rel + 4 <= d->pcie_len) {
        uint32_t rw1c, wr = pcie_writable(rel, &rw1c);
        if (rel == 0x08 && (val & mask & (1u << 15)))
            vpci_refuse(b, d, "function-level reset by the guest is not passed to the device");
        uint32_t cur = vpci_cap_read(b, d, off);
        uint32_t m = mask & wr;
        cur = (cur & ~m) | (val & m);
        cur &= ~(val & mask & rw1c);
        if (rel == 0)
            return;
        for (unsigned i = 0; i < 4; i++)
            d->pcie[rel + i] = (uint8_t)(cur >> (8 * i));
    }
}
