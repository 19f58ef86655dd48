/* The hypervisor's Intel VT-d driver: DMA remapping with default deny and
 * interrupt remapping, on every remapping unit the ACPI DMAR names.
 *
 * After vtd_init every unit translates (legacy root/context tables) and no
 * device has a present context entry, so no device can DMA anywhere. A
 * device reaches memory only once it is attached to a domain, and a domain
 * maps only memory the page allocator gave to the domain's owner (never the
 * hypervisor's). RMRR ranges are identity-mapped for the devices they name.
 * Faults arrive as an MSI from each unit and are logged as
 * `iommu: fault <bdf> <read|write> addr 0x<addr> reason 0x<n> (<meaning>)`,
 * counted per device and rate-limited.
 *
 * Independent of VMX: this works (and is tested) under QEMU TCG. */
#ifndef DRIVERS_VTD_H
#define DRIVERS_VTD_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/vtd_pt.h"

struct vtd_domain;

/* false (command line `iommu.qi=off`): invalidate through the registers
 * even where a unit has an invalidation queue; interrupt remapping, which
 * needs the queue, stays off then. Set before vtd_init. */
extern bool vtd_use_queued_invalidation;

/* Brings up every DRHD unit (logs what it did). Needs ACPI, the page
 * allocator, paging, PCI enumeration and the local APIC. */
void vtd_init(void);
/* True when at least one unit translates DMA. */
bool vtd_active(void);

/* A domain whose mappings may only reach host memory the page allocator
 * gave to `owner` (copied); allow_non_ram also lets it map ranges outside
 * RAM (RMRRs). NULL when there is no IOMMU or no free domain slot. */
struct vtd_domain *vtd_domain_create(const char *name, const char *owner, bool allow_non_ram);
/* Maps [iova, iova+size) to host memory [hpa, ...) for DMA with perms
 * (VTD_PERM_R/W). VTD_ERR_DENIED (reason in why) for memory the owner does
 * not own. The IOTLB is invalidated on every unit. */
int vtd_domain_map(struct vtd_domain *d, uint64_t iova, uint64_t hpa, uint64_t size, unsigned perms,
                   char *why, size_t whylen);
int vtd_domain_unmap(struct vtd_domain *d, uint64_t iova, uint64_t size);
/* Puts seg:bdf in the domain (present context entry). VTD_ERR_BUSY when it
 * is in another domain, VTD_ERR_NODEV when no unit translates it. */
int vtd_domain_attach(struct vtd_domain *d, uint16_t seg, uint16_t bdf);
/* Takes the device out of its domain: no DMA access any more. */
int vtd_domain_detach(uint16_t seg, uint16_t bdf);
/* Detaches every device, then frees the tables. */
void vtd_domain_destroy(struct vtd_domain *d);

/* An interrupt remapping entry that lets only requester seg:sid raise
 * `vector` on the CPU with APIC ID dest (x2APIC format where the unit and
 * CPU use it). Returns a handle >= 0 and the MSI address/data the device
 * must use, or a negative VTD_ERR_*. */
int vtd_irte_alloc(uint16_t seg, uint16_t sid, uint8_t vector, uint32_t dest, uint32_t *msi_addr,
                   uint32_t *msi_data);
void vtd_irte_free(int handle);

/* Routes I/O APIC pin gsi through interrupt remapping: an IRTE that only
 * that I/O APIC (its source-id from the DMAR's I/O APIC scope) may use,
 * raising vector on APIC ID dest, and the pin's redirection entry in
 * remappable format (left masked when asked). Returns a handle for
 * vtd_ioapic_unroute, or VTD_ERR_NODEV when no unit remaps that I/O APIC's
 * interrupts (the caller routes the pin in compatibility format then). */
int vtd_ioapic_route(uint32_t gsi, uint8_t vector, uint32_t dest, bool level, bool active_low,
                     bool masked);
/* Masks the pin and frees its entry. */
void vtd_ioapic_unroute(uint32_t gsi, int handle);

/* Called (interrupt context) for every fault recorded, before the log's
 * rate limit: passthrough uses it for `on_dma_fault = stop`. */
extern void (*vtd_fault_hook)(uint16_t seg, uint16_t sid, bool read, uint64_t addr, uint8_t reason);

/* Faults counted for seg:sid so far (and the last one's address and reason
 * when asked). */
uint64_t vtd_fault_count(uint16_t seg, uint16_t sid, uint64_t *last_addr, uint8_t *last_reason);
/* Processes fault records now, as the fault interrupt would. Returns how
 * many were found (the selftest uses it to tell a missing interrupt from a
 * missing fault). */
unsigned vtd_fault_poll(void);

/* The console's `iommu` report: units and features, domains and their
 * devices, fault counts. */
void vtd_show(void (*out)(const char *fmt, ...));

/* `iommu selftest`: drives QEMU's edu device (1234:11e8) at seg:bdf through
 * DMA into its domain, DMA outside it and disallowed interrupts. Prints its
 * steps through out and ends with exactly one line
 * `iommu selftest BB:DD.F: pass` or `... fail: <what>`; returns 0 on pass. */
int vtd_selftest(uint16_t seg, uint16_t bdf, void (*out)(const char *fmt, ...));

#endif
