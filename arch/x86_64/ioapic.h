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

#endif
