/* See pci_quiesce.h. */
#include "drivers/pci_quiesce.h"

#include <stddef.h>

#ifndef HOST_TEST
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/tsc.h"
#endif

#define CAP_PM   0x01
#define CAP_PCIE 0x10
#define CAP_AF   0x13

#define PCIE_DEVCAP     0x04
#define PCIE_DEVCTL     0x08
#define PCIE_DEVSTA     0x0a
#define PCIE_DEVCAP_FLR (1u << 28)
#define PCIE_DEVCTL_FLR (1u << 15)
#define PCIE_DEVSTA_TRP (1u << 5) /* transactions pending */
#define AF_CAP_TP_FLR   0x03      /* AF capabilities: TP and FLR both */
#define AF_CTRL_FLR     0x01
#define AF_STATUS_TP    0x01

static uint32_t rd(const struct pci_ops *o, uint16_t seg, uint16_t bdf, uint16_t off, unsigned w)
{
    return o->read(o->ctx, seg, bdf, off, w);
}

static void wr(const struct pci_ops *o, uint16_t seg, uint16_t bdf, uint16_t off, unsigned w,
               uint32_t v)
{
    o->write(o->ctx, seg, bdf, off, w, v);
}

static void wait_clear(const struct pci_ops *o, uint16_t seg, uint16_t bdf, uint16_t off,
                       unsigned w, uint32_t bit, void (*delay_ms)(unsigned))
{
    /* At most about 100 ms for outstanding transactions, as Linux waits. */
    for (unsigned i = 0; i < 10 && (rd(o, seg, bdf, off, w) & bit); i++)
        delay_ms(10);
}

enum pci_quiesce_how pci_quiesce_ops(const struct pci_ops *o, uint16_t seg, uint16_t bdf,
                                     void (*delay_ms)(unsigned ms))
{
    uint32_t saved[6 + 1];
    uint16_t cmd = (uint16_t)rd(o, seg, bdf, PCI_COMMAND, 2);
    /* First of all: no more DMA, whatever follows. */
    wr(o, seg, bdf, PCI_COMMAND, 2, cmd & ~PCI_COMMAND_MASTER);
    for (unsigned i = 0; i < 6; i++)
        saved[i] = rd(o, seg, bdf, (uint16_t)(PCI_BAR0 + 4 * i), 4);
    saved[6] = rd(o, seg, bdf, PCI_INTERRUPT, 1);

    enum pci_quiesce_how how = PCI_QUIESCE_DISABLED;
    uint16_t pcie = pci_ops_find_cap(o, seg, bdf, CAP_PCIE);
    uint16_t af = pci_ops_find_cap(o, seg, bdf, CAP_AF);
    if (pcie && (rd(o, seg, bdf, pcie + PCIE_DEVCAP, 4) & PCIE_DEVCAP_FLR)) {
        wait_clear(o, seg, bdf, pcie + PCIE_DEVSTA, 2, PCIE_DEVSTA_TRP, delay_ms);
        uint16_t ctl = (uint16_t)rd(o, seg, bdf, pcie + PCIE_DEVCTL, 2);
        wr(o, seg, bdf, pcie + PCIE_DEVCTL, 2, ctl | PCIE_DEVCTL_FLR);
        how = PCI_QUIESCE_FLR;
    } else if (af && (rd(o, seg, bdf, af + 3, 1) & AF_CAP_TP_FLR) == AF_CAP_TP_FLR) {
        wait_clear(o, seg, bdf, af + 5, 1, AF_STATUS_TP, delay_ms);
        wr(o, seg, bdf, af + 4, 1, AF_CTRL_FLR);
        how = PCI_QUIESCE_AF_FLR;
    }
    if (how != PCI_QUIESCE_DISABLED) {
        delay_ms(100); /* PCIe base spec: 100 ms before the function is touched again */
        for (unsigned i = 0; i < 6; i++)
            wr(o, seg, bdf, (uint16_t)(PCI_BAR0 + 4 * i), 4, saved[i]);
        wr(o, seg, bdf, PCI_INTERRUPT, 1, saved[6]);
    }
    /* After a reset these are off already; without one they go off here.
     * Decoding stays off until the device is given again. */
    uint16_t msi = pci_ops_find_cap(o, seg, bdf, PCI_CAP_MSI),
             msix = pci_ops_find_cap(o, seg, bdf, PCI_CAP_MSIX);
    if (msi)
        wr(o, seg, bdf, msi + 2, 2, rd(o, seg, bdf, msi + 2, 2) & ~1u);
    if (msix)
        wr(o, seg, bdf, msix + 2, 2,
           (rd(o, seg, bdf, msix + 2, 2) & ~PCI_MSIX_CTRL_ENABLE) | PCI_MSIX_CTRL_FN_MASK);
    cmd = (uint16_t)rd(o, seg, bdf, PCI_COMMAND, 2);
    wr(o, seg, bdf, PCI_COMMAND, 2,
       (cmd & ~(PCI_COMMAND_MASTER | PCI_COMMAND_IO | PCI_COMMAND_MEMORY)) |
           PCI_COMMAND_INTX_DISABLE);
    return how;
}

const char *pci_quiesce_name(enum pci_quiesce_how how)
{
    switch (how) {
    case PCI_QUIESCE_FLR:
        return "function-level reset";
    case PCI_QUIESCE_AF_FLR:
        return "function-level reset (advanced features)";
    default:
        return "bus mastering and decoding off (no function-level reset)";
    }
}

#ifndef HOST_TEST
static uint32_t k_read(void *ctx, uint16_t seg, uint16_t bdf, uint16_t off, unsigned w)
{
    return w == 1   ? pci_read8(seg, bdf, off)
           : w == 2 ? pci_read16(seg, bdf, off)
                    : pci_read32(seg, bdf, off);
}

static void k_write(void *ctx, uint16_t seg, uint16_t bdf, uint16_t off, unsigned w, uint32_t v)
{
    if (w == 1)
        pci_write8(seg, bdf, off, (uint8_t)v);
    else if (w == 2)
        pci_write16(seg, bdf, off, (uint16_t)v);
    else
        pci_write32(seg, bdf, off, v);
}

static void k_delay(unsigned ms)
{
    uint64_t end = rdtsc() + (uint64_t)ms * (tsc_khz() ? tsc_khz() : 1000000);
    while (rdtsc() < end)
        __asm__ volatile("pause");
}

enum pci_quiesce_how pci_quiesce(uint16_t seg, uint16_t bdf)
{
    static const struct pci_ops ops = {k_read, k_write, NULL};
    return pci_quiesce_ops(&ops, seg, bdf, k_delay);
}
#endif
