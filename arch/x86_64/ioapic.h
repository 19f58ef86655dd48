/* I/O APICs from the MADT: all pins masked at boot, routed on request. */
#ifndef ARCH_X86_64_IOAPIC_H
#define ARCH_X86_64_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define MAX_IOAPICS 8

/* Maps every MADT I/O APIC, reads its version and pin count, masks all
 * pins. Bad entries are skipped with a warning. Returns the number usable. */
unsigned ioapic_init(void);
unsigned ioapic_count(void);

/* Routes a GSI to vector on dest_cpu (physical destination, fixed delivery)
 * and unmasks it. 0, or -1 (logged) for an unknown GSI, CPU or vector. */
int ioapic_route_gsi(uint32_t gsi, uint8_t vector, unsigned dest_cpu, bool level, bool active_low);
/* ISA IRQ 0-15: edge/active-high unless a MADT interrupt source override
 * says otherwise (and the override's GSI is used). */
int ioapic_route_isa_irq(unsigned isa_irq, uint8_t vector, unsigned dest_cpu);
/* The GSI an ISA IRQ arrives on, after overrides. */
uint32_t ioapic_isa_to_gsi(unsigned isa_irq);
int ioapic_mask_gsi(uint32_t gsi);
int ioapic_unmask_gsi(uint32_t gsi);

/* For interrupt remapping (drivers/vtd_ioapic.c): the MADT ID of the I/O
 * APIC that holds gsi (-1 for none), and raw access to the pin's 64-bit
 * redirection entry (written masked first, low half last). -1 for an
 * unknown GSI. */
int ioapic_gsi_id(uint32_t gsi);
int ioapic_read_rte(uint32_t gsi, uint64_t *rte);
int ioapic_write_rte(uint32_t gsi, uint64_t rte);
/* The MADT ID of the i-th usable I/O APIC (i < ioapic_count()), else -1. */
int ioapic_id_at(unsigned i);

/* Interrupt remapping of the hypervisor's own pins. The IOMMU driver
 * installs a remapper once its units remap interrupts: from then on
 * ioapic_route_gsi hands every pin to it, and it writes the pin's
 * redirection entry in remappable format (pointing at an interrupt
 * remapping entry) instead of compatibility format. NOT_REMAPPED means no
 * unit remaps this I/O APIC's interrupts: the pin is routed in
 * compatibility format then. FAILED (logged by the remapper) leaves the pin
 * masked: the unit would block it in compatibility format. */
enum ioapic_remap { IOAPIC_REMAPPED, IOAPIC_NOT_REMAPPED, IOAPIC_REMAP_FAILED };
typedef enum ioapic_remap (*ioapic_remap_fn)(uint32_t gsi, uint8_t vector, uint32_t apic_id,
                                             bool level, bool active_low, bool masked);
/* Installs the remapper and hands it every pin routed before in
 * compatibility format (unmasked, fixed delivery, physical destination).
 * Returns how many pins it remapped. */
unsigned ioapic_set_remapper(ioapic_remap_fn fn);

#endif
