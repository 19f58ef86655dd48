/* MSI-X for the hypervisor's NIC (PCI Local Bus 3.0, 6.8.2; VT-d 5.1.2.2
 * for the remappable format): one table entry, one vector, on the console
 * CPU. Everything read from the device (the capability, its table's BAR
 * and offset) is checked before it is used. */
#include "arch/x86_64/irq.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/percpu.h"
#include "drivers/nic_common.h"
#include "drivers/pci.h"
#include "drivers/vtd.h"
#include "drivers/vtd_ir.h"
#include "lib/format.h"

#define MSIX_ENTRY_MASKED 1u /* vector control, bit 0 */

/* Entry 0 of the MSI-X table, mapped, or NULL when the capability points
 * outside a memory BAR the device has. */
static volatile uint32_t *table_entry0(const struct nic_common *n, uint8_t cap)
{
    const struct pci_dev *p = n->pci;
    uint32_t table = pci_read32(n->seg, n->bdf, (uint16_t)(cap + 4));
    unsigned bir = table & 7;
    uint64_t off = table & ~7u;
    if (!p || bir >= 6 || !p->bar[bir] || (p->bar_flags[bir] & (PCI_BAR_IO | PCI_BAR_UPPER)) ||
        off + 16 > p->bar_size[bir])
        return NULL;
    uint64_t at = p->bar[bir] + off;
    if (paging_map_mmio(at, 16))
        return NULL;
    return (volatile uint32_t *)(uintptr_t)at;
}

bool nic_common_route_msix(struct nic_common *n, void (*handler)(struct irq_frame *, void *),
                           void *arg, unsigned cpu)
{
    uint8_t cap = pci_find_cap(n->seg, n->bdf, PCI_CAP_MSIX);
    if (!cap || cpu >= MAX_CPUS || !cpus[cpu])
        return false;
    volatile uint32_t *entry = table_entry0(n, cap);
    int vec = entry ? irq_alloc_vector() : -1;
    if (vec < 0)
        return false;
    uint32_t dest = cpus[cpu]->apic_id, addr, data;
    int irte = vtd_active() ? vtd_irte_alloc(n->seg, n->bdf, (uint8_t)vec, dest, &addr, &data)
                            : VTD_ERR_NODEV;
    if (irte < 0) {
        /* No unit remaps this device's interrupts: compatibility format,
         * physical destination, fixed delivery, edge. */
        if (irte != VTD_ERR_NODEV || dest > 0xff)
            return false;
        addr = vtd_msi_compat((uint8_t)dest);
        data = (uint32_t)vec;
    }
    irq_register((uint8_t)vec, handler, arg);
    uint16_t ctrl = pci_read16(n->seg, n->bdf, (uint16_t)(cap + 2));
    /* Enabled with the function masked while entry 0 is written. */
    pci_write16(n->seg, n->bdf, (uint16_t)(cap + 2),
                (uint16_t)(ctrl | PCI_MSIX_CTRL_ENABLE | PCI_MSIX_CTRL_FN_MASK));
    entry[3] = MSIX_ENTRY_MASKED;
    entry[0] = addr;
    entry[1] = 0;
    entry[2] = data;
    entry[3] = 0;
    pci_write16(n->seg, n->bdf, (uint16_t)(cap + 2),
                (uint16_t)((ctrl | PCI_MSIX_CTRL_ENABLE) & ~PCI_MSIX_CTRL_FN_MASK));
    n->vector = vec;
    n->irte = irte;
    n->msix_cap = cap;
    n->irq_mode = NIC_IRQ_MSIX;
    return true;
}

void nic_common_msix_off(struct nic_common *n)
{
    if (n->irq_mode != NIC_IRQ_MSIX)
        return;
    uint16_t ctrl = pci_read16(n->seg, n->bdf, (uint16_t)(n->msix_cap + 2));
    pci_write16(n->seg, n->bdf, (uint16_t)(n->msix_cap + 2),
                (uint16_t)(ctrl & ~PCI_MSIX_CTRL_ENABLE));
    if (n->irte >= 0)
        vtd_irte_free(n->irte);
    n->irte = -1;
    n->vector = -1;
    n->irq_mode = NIC_IRQ_POLL;
}

const char *nic_common_irq_text(const struct nic_common *n)
{
    static char buf[64];
    switch (n->irq_mode) {
    case NIC_IRQ_INTX:
        fmt_snprintf(buf, sizeof(buf), "GSI %u", n->gsi);
        return buf;
    case NIC_IRQ_MSIX:
        if (n->irte >= 0)
            fmt_snprintf(buf, sizeof(buf), "MSI-X vector 0x%x through remapping entry %u",
                         n->vector, (unsigned)n->irte & 0xffff);
        else
            fmt_snprintf(buf, sizeof(buf), "MSI-X vector 0x%x, compatibility format", n->vector);
        return buf;
    default:
        return NULL;
    }
}
