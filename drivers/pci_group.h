/* Isolation groups of PCI functions: functions that can reach each other
 * without the IOMMU seeing it (peer-to-peer, or DMA tagged with another
 * requester's ID) form one group, and a group goes to one VM or to none.
 *  - everything behind a conventional PCI bridge or a PCIe-to-PCI bridge
 *    (its requests carry the bridge's ID): the topmost such bridge's group;
 *  - devices below a PCIe switch downstream port without ACS: the
 *    switch's group (peer-to-peer inside the switch);
 *  - functions of one multi-function device without ACS: one group.
 * Pure (host unit tests with a fake configuration space). */
#ifndef DRIVERS_PCI_GROUP_H
#define DRIVERS_PCI_GROUP_H

#include <stdint.h>

#include "drivers/pci.h"

struct pci_group {
    uint16_t leader; /* index in the device table of the group's first member */
    char why[72];    /* "" when the function is alone */
};

/* Fills out[0..n) for devs[0..n) (the enumerated table), reading
 * capabilities through ops. */
void pci_groups(const struct pci_ops *ops, const struct pci_dev *devs, unsigned n,
                struct pci_group *out);

/* Kernel: the groups of the enumerated devices (pci_get order). */
unsigned pci_groups_host(struct pci_group *out, unsigned max);

#endif
