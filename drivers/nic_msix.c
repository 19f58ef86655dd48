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
#include "lib/format.h"

#define PCI_CAP_ID_MSIX   0x11
#define MSIX_CTRL_ENABLE  (1u << 15)
#define MSIX_CTRL_FMASK   (1u << 14) /* function mask */
#define MSIX_ENTRY_MASKED 1u         /* vector control, bit 0 */
#define MSI_ADDR_BASE     0xfee00000u
#define MSIX_CAP_WALK_MAX 48 /* a looped list ends here */

static uint8_t find_cap(const struct nic_common *n, uint8_t want)
{
    if (!(pci_read16(n->seg, n->bdf, PCI_STATUS) & PCI_STATUS_CAPLIST))
        return 0;
    uint8_t at = pci_read8(n->seg, n->bdf, PCI_CAP_PTR) & 0xfc;
    for (unsigned guard = 0; at >= 0x40 && guard < MSIX_CAP_WALK_MAX; guard++) {
        if (pci_read8(n->seg, n->bdf, at) == want)
            return at;
        at = pci_read8(n->seg, n->bdf, (uint16_t)(at + 1)) & 0xfc;
    }
    return 0;
}

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
    uint8_t cap = find_cap(n, PCI_CAP_ID_MSIX);
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
        addr = MSI_ADDR_BASE | dest << 12;
        data = (uint32_t)vec;
    }
    irq_register((uint8_t)vec, handler, arg);
    uint16_t ctrl = pci_read16(n->seg, n->bdf, (uint16_t)(cap + 2));
    /* Enabled with the function masked while entry 0 is written. */
    pci_write16(n->seg, n->bdf, (uint16_t)(cap + 2),
                (uint16_t)(ctrl | MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK));
    entry[3] = MSIX_ENTRY_MASKED;
    entry[0] = addr;
    entry[1] = 0;
    entry[2] = data;
    entry[3] = 0;
    pci_write16(n->seg, n->bdf, (uint16_t)(cap + 2),
                (uint16_t)((ctrl | MSIX_CTRL_ENABLE) & ~MSIX_CTRL_FMASK));
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
    pci_write16(n->seg, n->bdf, (uint16_t)(n->msix_cap + 2), (uint16_t)(ctrl & ~MSIX_CTRL_ENABLE));
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
