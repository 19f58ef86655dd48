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

struct nic_common {
    uint16_t seg, bdf;
    uint16_t device_id;
    uint8_t mac[6];
    uint64_t mem, mem_pages; /* host-physical: rings and buffers, one allocation */
    struct vtd_domain *dma;  /* under VT-d: maps exactly mem */
    int vector;              /* -1: polled only */
    uint32_t gsi;
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

#endif
