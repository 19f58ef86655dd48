/* Per-VM ACPI tables: RSDP, XSDT, FADT, FACS, MADT and a DSDT with \_S5,
 * built into a buffer that the caller copies to guest-physical base_gpa
 * (normally the VM's read-only BIOS area 0xE0000-0xFFFFF, where scanning
 * guests find the RSDP).
 *
 * Power button: the FADT fixed-feature button (PWR_BUTTON flag clear). To
 * press it the hypervisor sets PWRBTN_STS in PM1a_STS and, when the guest
 * has set PWRBTN_EN in PM1a_EN, raises the SCI (level, active low).
 * Power-off: the guest writes SLP_TYP = s5_typ and SLP_EN to PM1a_CNT.
 * Reset: the guest writes 0x06 to I/O port 0xCF9 (FADT RESET_REG). */
#ifndef VDEV_ACPI_GEN_H
#define VDEV_ACPI_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vpci_acpi;

/* The virtual platform the tables describe. */
#define ACPI_GEN_LAPIC_ADDR  0xFEE00000u
#define ACPI_GEN_IOAPIC_ADDR 0xFEC00000u
#define ACPI_GEN_IOAPIC_PINS 24
#define ACPI_GEN_RESET_PORT  0xCF9
#define ACPI_GEN_RESET_VALUE 0x06
#define ACPI_GEN_MAX_VCPUS   254 /* APIC IDs 0..n-1 and the IOAPIC's ID n stay below 0xFF */

/* Suggested I/O ports (PM1a_EVT: 2 bytes status + 2 bytes enable). */
#define ACPI_GEN_PM1A_EVT 0x600
#define ACPI_GEN_PM1A_CNT 0x604
#define ACPI_GEN_PM_TMR   0x608
#define ACPI_GEN_SCI_IRQ  9
#define ACPI_GEN_S5_TYP   5

#define ACPI_GEN_PM1_EVT_LEN 4
#define ACPI_GEN_PM1_CNT_LEN 2
#define ACPI_GEN_PM_TMR_LEN  4

/* PM1 status (PM1a_EVT + 0) and enable (PM1a_EVT + 2) bits. */
#define ACPI_GEN_PM1_TMR     (1u << 0) /* TMR_STS / TMR_EN: timer bit 31 toggled */
#define ACPI_GEN_PM1_GBL     (1u << 5) /* GBL_STS / GBL_EN */
#define ACPI_GEN_PM1_PWRBTN  (1u << 8) /* PWRBTN_STS / PWRBTN_EN */
#define ACPI_GEN_PM1_RTC     (1u << 10)
#define ACPI_GEN_PM1_WAK_STS (1u << 15)
/* PM1 control (PM1a_CNT) bits. */
#define ACPI_GEN_PM1_SCI_EN        (1u << 0)
#define ACPI_GEN_PM1_SLP_TYP_SHIFT 10
#define ACPI_GEN_PM1_SLP_TYP_MASK  (7u << 10)
#define ACPI_GEN_PM1_SLP_EN        (1u << 13)

struct acpi_gen_params {
    unsigned nr_vcpus;                   /* 1..ACPI_GEN_MAX_VCPUS: Local APIC IDs 0..n-1 */
    uint64_t base_gpa;                   /* where buf will be copied in guest-physical memory */
    uint16_t pm1a_evt, pm1a_cnt, pm_tmr; /* I/O ports, none of them 0 */
    uint8_t sci_irq;                     /* ISA IRQ 1..15 except 2 (GSI 2 carries IRQ 0) */
    uint8_t s5_typ;                      /* SLP_TYP for \_S5, 0..7 */
    char oem_id[7];                      /* up to 6 characters, space-padded; "" means "BLKHD" */
    bool i8042;                          /* an 8042 keyboard controller is emulated */
    const struct vpci_acpi *pci;         /* a PCI bus (DSDT \_SB.PCI0, MCFG, MSI); NULL: none */
};

struct acpi_gen_layout {
    uint64_t rsdp_gpa, xsdt_gpa, madt_gpa, fadt_gpa, facs_gpa, dsdt_gpa;
    size_t total;      /* bytes of buf used (from base_gpa) */
    uint8_t ioapic_id; /* the vIOAPIC's ID register must report this */
};

/* Fills *p with the suggested ports, SCI and S5 values for nr_vcpus vCPUs
 * and tables at base_gpa. */
void acpi_gen_default_params(struct acpi_gen_params *p, unsigned nr_vcpus, uint64_t base_gpa);

/* 0 when *p can be built, else -1 with the reason in err. */
int acpi_gen_validate(const struct acpi_gen_params *p, char *err, size_t errlen);

/* Builds every table into buf (zeroing what it uses) and fills *out.
 * Returns the bytes used, or 0 if buf_len is too small or *p is invalid.
 * Every table is checksummed; the RSDP is 16-byte and the FACS 64-byte
 * aligned in guest-physical memory. */
size_t acpi_gen_build(const struct acpi_gen_params *p, uint8_t *buf, size_t buf_len,
                      struct acpi_gen_layout *out);

#endif
