/* The INTx part of `iommu selftest`: QEMU's edu device raises its legacy
 * interrupt (MSI off) on command (0x60 raise, 0x64 acknowledge). The test
 * finds the I/O APIC pin it arrives on by routing each unused PCI pin
 * (GSI 16 and up) through an interrupt remapping entry in turn, then shows
 * that the pin's interrupt goes through the remapping table: with the
 * entry gone it is blocked, with an entry again it is delivered again. */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/irq.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/tsc.h"
#include "drivers/pci.h"
#include "drivers/vtd_priv.h"
#include "lib/format.h"
#include "lib/string.h"

#define EDU_IRQ_RAISE 0x60
#define EDU_IRQ_ACK   0x64
#define FIRST_PCI_GSI 16u
#define MAX_GSI       (FIRST_PCI_GSI + 48u)

static int intx_vector = -1;
static volatile unsigned intx_irqs;
static volatile uint32_t intx_gsi;

static void intx_irq(struct irq_frame *f, void *arg)
{
    /* Level-triggered: masked, or it fires again until acknowledged. */
    ioapic_mask_gsi(intx_gsi);
    intx_irqs++;
}

static uint64_t after_ms(unsigned ms)
{
    uint64_t khz = tsc_khz();
    return rdtsc() + (khz ? khz : 1000000) * ms;
}

/* Raises edu's INTx, waits for it, lowers it again. */
static bool raise_intx(volatile uint8_t *bar, unsigned wait_ms)
{
    unsigned before = intx_irqs;
    *(volatile uint32_t *)(bar + EDU_IRQ_RAISE) = 1;
    for (uint64_t end = after_ms(wait_ms); rdtsc() < end && intx_irqs == before;)
        cpu_relax();
    *(volatile uint32_t *)(bar + EDU_IRQ_ACK) = 1;
    for (uint64_t end = after_ms(20); rdtsc() < end;)
        cpu_relax(); /* let the lowered line reach the I/O APIC */
    return intx_irqs != before;
}

static bool pin_unused(uint32_t gsi)
{
    uint64_t rte;
    return ioapic_read_rte(gsi, &rte) == 0 && (rte & IOAPIC_RTE_MASKED);
}

bool vtd_selftest_intx(uint16_t seg, uint16_t bdf, volatile uint8_t *bar,
                       void (*out)(const char *fmt, ...), char *what, size_t whatlen)
{
    if (intx_vector < 0) {
        intx_vector = irq_alloc_vector();
        if (intx_vector < 0) {
            str_copy(what, "no free interrupt vector for INTx", whatlen);
            return false;
        }
        irq_register((uint8_t)intx_vector, intx_irq, NULL);
    }
    uint8_t vec = (uint8_t)intx_vector;
    uint32_t dest = lapic_id();
    uint16_t cmd = pci_read16(seg, bdf, PCI_COMMAND);
    pci_write16(seg, bdf, PCI_COMMAND, (uint16_t)(cmd & ~PCI_COMMAND_INTX_DISABLE)); /* INTx on */
    bool ok = false;
    int h = -1;
    uint32_t gsi = 0;
    for (uint32_t g = FIRST_PCI_GSI; g < MAX_GSI && h < 0; g++) {
        if (!pin_unused(g))
            continue;
        intx_gsi = g;
        int r = vtd_ioapic_route(g, vec, dest, true, true, false);
        if (r < 0) {
            fmt_snprintf(what, whatlen, "I/O APIC pin %u not remapped: %s", g, vtd_strerror(r));
            goto out;
        }
        if (raise_intx(bar, 200)) {
            h = r;
            gsi = g;
        } else {
            vtd_ioapic_unroute(g, r);
        }
    }
    if (h < 0) {
        str_copy(what, "INTx arrived on no remapped I/O APIC pin", whatlen);
        goto out;
    }
    unsigned index = (unsigned)h & 0xffff;
    uint16_t sseg = 0, sid = 0;
    int id = ioapic_gsi_id(gsi);
    if (id >= 0)
        vtd_dmar_ioapic_source(&vtd_dmar_info, (uint8_t)id, vtd_bridge_buses, NULL, &sseg, &sid);
    out("  INTx on I/O APIC pin %u through remapping entry %u (vector 0x%x, source-id "
        "%02x:%02x.%u): delivered\n",
        gsi, index, vec, sid >> 8, (sid >> 3) & 0x1f, sid & 7);

    /* The pin still points at that entry, but the entry is gone. */
    vtd_ioapic_unroute(gsi, h);
    h = -1;
    ioapic_write_rte(gsi, vtd_ioapic_rte_remappable(index, vec, true, true, false));
    if (raise_intx(bar, 300)) {
        str_copy(what, "INTx through an empty remapping entry was delivered", whatlen);
        ioapic_mask_gsi(gsi);
        goto out;
    }
    ioapic_mask_gsi(gsi);
    out("  INTx through empty entry %u: blocked\n", index);

    /* An entry again: delivered again (the pin was not simply stuck). */
    h = vtd_ioapic_route(gsi, vec, dest, true, true, false);
    if (h < 0) {
        fmt_snprintf(what, whatlen, "no remapping entry for pin %u: %s", gsi, vtd_strerror(h));
        goto out;
    }
    if (!raise_intx(bar, 1000)) {
        str_copy(what, "INTx through a new remapping entry did not arrive", whatlen);
        goto out;
    }
    out("  INTx through new entry %u: delivered again\n", (unsigned)h & 0xffff);
    ok = true;
out:
    if (h >= 0)
        vtd_ioapic_unroute(gsi, h);
    pci_write16(seg, bdf, PCI_COMMAND,
                (uint16_t)(pci_read16(seg, bdf, PCI_COMMAND) | PCI_COMMAND_INTX_DISABLE));
    return ok;
}
