/* Quiescing a PCI function taken back from a VM: no more DMA and no more
 * interrupts from it before its IOMMU domain goes and the VM's memory is
 * scrubbed and reused. A function-level reset where the device has one
 * (PCI Express FLR, or the Advanced Features capability's), else bus
 * mastering, decoding and MSI/MSI-X turned off. The hardware BARs (and
 * the interrupt line register) are restored after a reset, so the device
 * can be given again. */
#ifndef DRIVERS_PCI_QUIESCE_H
#define DRIVERS_PCI_QUIESCE_H

#include <stdint.h>

#include "drivers/pci.h"

enum pci_quiesce_how {
    PCI_QUIESCE_FLR,      /* PCI Express function-level reset */
    PCI_QUIESCE_AF_FLR,   /* Advanced Features FLR */
    PCI_QUIESCE_DISABLED, /* no reset: bus mastering, decoding and MSI/MSI-X off */
};

/* What is done, and the step-by-step work over the config-space ops;
 * delay_ms waits (the spec's 100 ms after an FLR). Pure: unit-tested with
 * a fake configuration space. */
enum pci_quiesce_how pci_quiesce_ops(const struct pci_ops *ops, uint16_t seg, uint16_t bdf,
                                     void (*delay_ms)(unsigned ms));
const char *pci_quiesce_name(enum pci_quiesce_how how);

/* Kernel: through the installed configuration ops, waiting with the TSC. */
enum pci_quiesce_how pci_quiesce(uint16_t seg, uint16_t bdf);

#endif
