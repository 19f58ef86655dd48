/* I/O BARs of passed-through devices: their ports go straight to the
 * hardware (opened in the VM's I/O bitmap) while the guest decodes the BAR
 * at the device's host ports, and trap (forwarded port by port, checked
 * against the BAR) anywhere else. Port numbers cannot be translated the
 * way the EPT translates MMIO addresses, hence the "host ports only"
 * rule; vpci_assign_bars puts the BAR there first. */
#include "vdev/vpci_priv.h"

/* Ports that never pass nor are forwarded to, whatever a device's BAR
 * claims: the legacy PC
 * ports below 0x1000 (where no PCI I/O BAR belongs; the hypervisor's
 * UART, PIC, PIT, RTC and 0xCF8-0xCFF live there) and the emulators'
 * shutdown port. The host's ACPI ports are checked by the glue (vpci_pt.c,
 * which knows the machine). */
static const struct {
    uint32_t first, last;
} never_direct[] = {
    {0x0000, 0x0fff},
    {0x8900, 0x8900},
};

bool vpci_io_port_reserved(uint32_t first, uint32_t last)
{
    for (unsigned i = 0; i < sizeof(never_direct) / sizeof(never_direct[0]); i++)
        if (first <= never_direct[i].last && last >= never_direct[i].first)
            return true;
    return last > 0xffff || last < first;
}

bool vpci_io_direct_ok(const struct vpci_bar *r, uint64_t gpa, uint16_t *base, uint16_t *count)
{
    if (!(r->flags & PCI_BAR_IO) || !r->hw_size || r->size != r->hw_size || gpa != r->host ||
        r->hw_size > 0x10000 || gpa > 0x10000 - r->hw_size ||
        vpci_io_port_reserved((uint32_t)gpa, (uint32_t)(gpa + r->hw_size - 1)))
        return false;
    *base = (uint16_t)gpa;
    *count = (uint16_t)r->hw_size;
    return true;
}

void vpci_io_mapped(struct vpci_bus *b, struct vpci_dev *d, unsigned i)
{
    struct vpci_bar *r = &d->bar[i];
    uint16_t base, count;
    if (!b->ops->io_pass || !r->mapped || r->io_open ||
        !vpci_io_direct_ok(r, r->mapped_at, &base, &count))
        return;
    r->io_open = b->ops->io_pass(b->ops->ctx, base, count, true);
}

void vpci_io_unmapping(struct vpci_bus *b, struct vpci_dev *d, unsigned i)
{
    struct vpci_bar *r = &d->bar[i];
    uint16_t base, count;
    if (!r->io_open)
        return;
    r->io_open = false;
    if (b->ops->io_pass && vpci_io_direct_ok(r, r->mapped_at, &base, &count))
        b->ops->io_pass(b->ops->ctx, base, count, false);
}
