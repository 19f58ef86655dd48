#include "drivers/nic_common.h"

#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/irq.h"
#include "arch/x86_64/paging.h"
#include "drivers/pci.h"
#include "drivers/uart16550.h"
#include "drivers/vtd.h"
#include "lib/format.h"
#include "lib/string.h"
#include "mm/pmm.h"

#define OWNER "net"

uint16_t nic_common_begin(struct nic_common *n, const struct pci_dev *p)
{
    memset(n, 0, sizeof(*n));
    n->pci = p;
    n->irte = -1;
    n->seg = p->seg;
    n->bdf = PCI_BDF(p->bus, p->dev, p->fn);
    n->device_id = p->device;
    n->vector = -1;
    uint16_t cmd = pci_read16(n->seg, n->bdf, PCI_COMMAND);
    cmd = (uint16_t)((cmd | PCI_COMMAND_MEMORY) & ~PCI_COMMAND_MASTER);
    pci_write16(n->seg, n->bdf, PCI_COMMAND, cmd);
    return cmd;
}

int nic_common_alloc(struct nic_common *n, uint64_t pages, char *why, size_t whylen)
{
    n->mem_pages = pages;
    n->mem = pmm_alloc(pages, 1, OWNER);
    if (!n->mem) {
        fmt_snprintf(why, whylen, "no memory for rings and buffers (%llu pages)",
                     (unsigned long long)pages);
        return -1;
    }
    memset((void *)(uintptr_t)n->mem, 0, pages * PAGE_SIZE);
    if (!vtd_active())
        return 0;
    char vwhy[96] = "";
    n->dma = vtd_domain_create("net", OWNER, false);
    int r = n->dma ? vtd_domain_map(n->dma, n->mem, n->mem, pages * PAGE_SIZE, VTD_PERM_RW, vwhy,
                                    sizeof(vwhy))
                   : VTD_ERR_NOMEM;
    if (!r)
        r = vtd_domain_attach(n->dma, n->seg, n->bdf);
    if (r) {
        fmt_snprintf(why, whylen, "iommu: no DMA domain for the NIC: %s%s%s", vtd_strerror(r),
                     vwhy[0] ? ": " : "", vwhy);
        return -1;
    }
    return 0;
}

void nic_common_free(struct nic_common *n)
{
    if (n->dma) {
        vtd_domain_destroy(n->dma);
        n->dma = NULL;
    }
    if (n->mem) {
        pmm_free(n->mem, n->mem_pages);
        n->mem = 0;
    }
}

void nic_common_start(struct nic_common *n, uint16_t cmd)
{
    pci_write16(n->seg, n->bdf, PCI_COMMAND,
                (uint16_t)(cmd | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE));
}

bool nic_common_set_link(struct nic_common *n, bool up)
{
    if (up == n->link)
        return false;
    n->link = up;
    n->c.link_changes++;
    return true;
}

bool nic_common_mac_ok(const uint8_t mac[6])
{
    bool zero = true;
    for (unsigned i = 0; i < 6; i++)
        zero &= mac[i] == 0;
    return !zero && !(mac[0] & 1);
}

/* The BIOS's interrupt line is the I/O APIC input on the PC chipsets the
 * emulators model (PIIX: PIRQ routed to ISA IRQs 5/9/10/11); a level,
 * active-low PCI interrupt unless the MADT says otherwise for that IRQ.
 * Elsewhere (q35 in APIC mode, real boards) the routing lives in ACPI AML,
 * which the hypervisor does not run: polling covers those machines. */
bool nic_common_route_intx(struct nic_common *n, void (*handler)(struct irq_frame *, void *),
                           void *arg, unsigned cpu)
{
    uint8_t line = pci_read8(n->seg, n->bdf, PCI_INTERRUPT);
    const struct uart_config *uart = uart_get_config();
    int vec;
    /* Never an ISA line the hypervisor uses itself (timer, cascade, RTC,
     * its console UART): a wrong BIOS value must not steal it. */
    if (line == 0 || line == 2 || line == 8 || line >= 16 || (!uart->mmio && line == uart->irq) ||
        (vec = irq_alloc_vector()) < 0)
        return false;
    irq_register((uint8_t)vec, handler, arg);
    if (ioapic_route_isa_irq(line, (uint8_t)vec, cpu))
        return false;
    n->vector = vec;
    n->irq_mode = NIC_IRQ_INTX;
    n->gsi = ioapic_isa_to_gsi(line);
    uint16_t cmd = pci_read16(n->seg, n->bdf, PCI_COMMAND);
    pci_write16(n->seg, n->bdf, PCI_COMMAND, (uint16_t)(cmd & ~PCI_COMMAND_INTX_DISABLE));
    return true;
}
