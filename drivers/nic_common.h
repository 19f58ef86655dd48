/* What the root-mode NIC drivers (e1000, virtio-net) share: the device's
 * identity and state every driver keeps, the one allocation of pages for
 * rings and buffers with its VT-d domain, the PCI command register steps
 * around bus mastering, and the legacy interrupt's routing. net/nic.c
 * reads the shared state through struct nic_common. */
#ifndef DRIVERS_NIC_COMMON_H
#define DRIVERS_NIC_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/nic_counters.h"

struct irq_frame;
struct pci_dev;
struct vtd_domain;

enum nic_irq_mode {
    NIC_IRQ_POLL, /* no interrupt: the console CPU's loop polls */
    NIC_IRQ_INTX, /* the legacy line through the I/O APIC (gsi) */
    NIC_IRQ_MSIX, /* MSI-X entry 0 (through remapping entry irte when >= 0) */
};

struct nic_common {
    const struct pci_dev *pci;
    uint16_t seg, bdf;
    uint16_t device_id;
    uint8_t mac[6];
    uint64_t mem, mem_pages; /* host-physical: rings and buffers, one allocation */
    struct vtd_domain *dma;  /* under VT-d: maps exactly mem */
    int vector;              /* -1: polled only */
    enum nic_irq_mode irq_mode;
    uint32_t gsi;     /* NIC_IRQ_INTX */
    int irte;         /* NIC_IRQ_MSIX: the VT-d remapping entry's handle, or -1 */
    uint8_t msix_cap; /* NIC_IRQ_MSIX: the capability's offset */
    bool link;
    struct nic_counters c;
};

/* Zeroes n and takes the device's identity from p; memory decoding on,
 * bus mastering off until the rings and the DMA domain exist. Returns the
 * PCI command value written (for nic_common_start). */
uint16_t nic_common_begin(struct nic_common *n, const struct pci_dev *p);
/* pages zeroed pages of the allocator's owner "net" in n->mem and, under
 * VT-d, a DMA domain of the NIC's own mapping them (identity: the NIC sees
 * host-physical addresses) and nothing else. 0, or -1 with the reason. */
int nic_common_alloc(struct nic_common *n, uint64_t pages, char *why, size_t whylen);
/* Undoes nic_common_alloc (the device must be quiet: reset or stopped). */
void nic_common_free(struct nic_common *n);
/* Bus mastering on, the legacy interrupt masked until it is routed. */
void nic_common_start(struct nic_common *n, uint16_t cmd);
/* Records the link state read from the device; true when it changed
 * (counted in c.link_changes). */
bool nic_common_set_link(struct nic_common *n, bool up);
/* A MAC address the NIC may use: not zero, not multicast. */
bool nic_common_mac_ok(const uint8_t mac[6]);
/* Routes the device's legacy interrupt (the BIOS's interrupt line) to
 * handler(arg) on cpu and unmasks it in the PCI command register; false
 * when it cannot (the caller then polls only). */
bool nic_common_route_intx(struct nic_common *n, void (*handler)(struct irq_frame *, void *),
                           void *arg, unsigned cpu);

/* MSI-X for the device's interrupts where it has the capability (drivers/
 * nic_msix.c): table entry 0 raises vector on cpu, through a VT-d
 * interrupt remapping entry that only this device may use when the IOMMU
 * remaps interrupts, else in compatibility format. The legacy line stays
 * masked. false (nothing changed) when the device has no MSI-X or it
 * cannot be set up; the caller falls back to the legacy line. */
bool nic_common_route_msix(struct nic_common *n, void (*handler)(struct irq_frame *, void *),
                           void *arg, unsigned cpu);
/* Turns MSI-X off again (a device that refused to use entry 0) and frees
 * the remapping entry; polling then, until the caller routes INTx. */
void nic_common_msix_off(struct nic_common *n);
/* How interrupts arrive, for `net`: "GSI 11", "MSI-X vector 0x31 through
 * remapping entry 2", "MSI-X vector 0x31, compatibility format"; NULL when
 * polled only. */
const char *nic_common_irq_text(const struct nic_common *n);

#endif