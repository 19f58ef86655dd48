/* What a VM's ACPI tables say about its PCI bus (vdev/vpci_bridge.h):
 * the AML of the host bridge \_SB.PCI0 (PNP0A03) with its resources
 * (bus 0, the 0xCF8 ports, the I/O and memory windows of the BARs) and its
 * interrupt routing (_PRT: every pin of slot s to GSI gsi_base + s - 1,
 * level, active low), and the MCFG entry that gives the ECAM window. */
#ifndef VDEV_VPCI_ACPI_H
#define VDEV_VPCI_ACPI_H

#include <stddef.h>
#include <stdint.h>

struct vpci_acpi {
    unsigned slots; /* devices at 00:01.0 .. 00:slots.0 */
    uint64_t mmio_base, mmio_size;
    uint16_t io_base, io_size;
    unsigned gsi_base;
    uint64_t ecam_base; /* bus 0 only */
};

#define VPCI_ACPI_MCFG_LEN 60u /* header, 8 reserved bytes, one allocation */

/* Writes the DSDT term for \_SB.PCI0 into p; returns its length, or 0
 * when room is too small. */
size_t vpci_acpi_dsdt(uint8_t *p, size_t room, const struct vpci_acpi *a);
/* The MCFG body after the 36-byte header (VPCI_ACPI_MCFG_LEN - 36 bytes). */
void vpci_acpi_mcfg_body(uint8_t *p, const struct vpci_acpi *a);

#endif
