/* BARs and the command register of a passed-through device: sizing and
 * moving in the guest's view, mapping through ops->bar_map while decoding
 * is on and the address lies in the bus window, bus mastering only once
 * the device's DMA domain exists. */
#include "vdev/vpci_priv.h"

#define PAGE 4096ULL

void vpci_bars_init(struct vpci_dev *d, const struct pci_dev *hw)
{
    for (unsigned i = 0; i < 6; i++) {
        struct vpci_bar *r = &d->bar[i];
        r->flags = hw->bar_flags[i];
        r->host = hw->bar[i];
        r->hw_size = (r->flags & PCI_BAR_UPPER) ? 0 : hw->bar_size[i];
        r->size = r->hw_size;
        /* The EPT maps whole pages: a smaller MMIO BAR shows as one page,
         * trapped, so no neighbour's registers on its page are exposed. */
        if (r->size && !(r->flags & PCI_BAR_IO) && r->size < PAGE)
            r->size = PAGE;
    }
}

uint32_t vpci_bar_read(const struct vpci_dev *d, unsigned i)
{
    const struct vpci_bar *r = &d->bar[i];
    if (r->flags & PCI_BAR_UPPER)
        return i > 0 ? (uint32_t)(d->bar[i - 1].guest >> 32) : 0;
    if (!r->size)
        return 0;
    if (r->flags & PCI_BAR_IO)
        return ((uint32_t)r->guest & ~3u) | 1u;
    return ((uint32_t)r->guest & ~0xfu) | ((r->flags & PCI_BAR_MEM64) ? 4u : 0u) |
           ((r->flags & PCI_BAR_PREFETCH) ? 8u : 0u);
}

/* Brings BAR i's mapping in line with the guest's address and decoding. */
static void remap(struct vpci_bus *b, struct vpci_dev *d, unsigned i)
{
    struct vpci_bar *r = &d->bar[i];
    bool io = r->flags & PCI_BAR_IO;
    bool decode = d->command & (io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY);
    bool fits = vpci_in_window(io ? &b->io : &b->mmio, r->guest, r->size);
    bool want = decode && fits;
    if (r->mapped && (!want || r->mapped_at != r->guest)) {
        vpci_io_unmapping(b, d, i);
        b->ops->bar_map(b->ops->ctx, d, i, r->mapped_at, false);
        r->mapped = false;
    }
    if (want && !r->mapped) {
        if (b->ops->bar_map(b->ops->ctx, d, i, r->guest, true)) {
            r->mapped = true;
            r->mapped_at = r->guest;
            vpci_io_mapped(b, d, i);
        } else {
            vpci_refuse(b, d, "BAR mapping refused by the hypervisor (overlap)");
        }
    } else if (decode && !fits && r->size) {
        vpci_refuse(b, d, "BAR outside the VM's PCI window: not mapped");
    }
}

void vpci_bar_write(struct vpci_bus *b, struct vpci_dev *d, unsigned i, uint32_t val, uint32_t mask)
{
    struct vpci_bar *r = &d->bar[i];
    uint32_t reg = (vpci_bar_read(d, i) & ~mask) | (val & mask);
    if (r->flags & PCI_BAR_UPPER) {
        if (i == 0)
            return;
        struct vpci_bar *lo = &d->bar[i - 1];
        lo->guest = ((lo->guest & 0xffffffffULL) | (uint64_t)reg << 32) & ~(lo->size - 1);
        remap(b, d, i - 1);
        return;
    }
    if (!r->size)
        return; /* not implemented: reads stay 0 */
    if (r->flags & PCI_BAR_IO) {
        r->guest = (uint64_t)(reg & ~3u) & ~(r->size - 1) & 0xffffffffULL;
    } else {
        uint64_t hi = (r->flags & PCI_BAR_MEM64) ? (r->guest & ~0xffffffffULL) : 0;
        r->guest = (hi | (reg & ~0xfu)) & ~(r->size - 1);
    }
    remap(b, d, i);
}

#define CMD_WRITABLE                                                                               \
    (PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | (1u << 6) | (1u << 8) |            \
     PCI_COMMAND_INTX_DISABLE)

void vpci_command_write(struct vpci_bus *b, struct vpci_dev *d, uint16_t val, uint16_t mask)
{
    uint16_t cmd = (uint16_t)(((d->command & ~mask) | (val & mask)) & CMD_WRITABLE);
    if ((cmd & PCI_COMMAND_MASTER) && !(d->command & PCI_COMMAND_MASTER) &&
        !b->ops->dma_ready(b->ops->ctx, d)) {
        cmd &= (uint16_t)~PCI_COMMAND_MASTER;
        vpci_refuse(b, d, "bus mastering refused: the device's DMA domain does not exist");
    }
    /* The hardware keeps decoding its host addresses; the guest's bits
     * decide what is mapped where. Other hardware bits stay as they are. */
    uint16_t hw = (uint16_t)b->ops->cfg_read(b->ops->ctx, d, PCI_COMMAND, 2);
    hw = (uint16_t)((hw & ~CMD_WRITABLE) | cmd);
    b->ops->cfg_write(b->ops->ctx, d, PCI_COMMAND, 2, hw);
    d->command = cmd;
    for (unsigned i = 0; i < 6; i++)
        if (d->bar[i].size)
            remap(b, d, i);
}

void vpci_bars_unmap(struct vpci_bus *b, struct vpci_dev *d)
{
    for (unsigned i = 0; i < 6; i++) {
        struct vpci_bar *r = &d->bar[i];
        vpci_io_unmapping(b, d, i);
        if (r->mapped)
            b->ops->bar_map(b->ops->ctx, d, i, r->mapped_at, false);
        r->mapped = false;
    }
}
