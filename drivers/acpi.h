/* ACPI table discovery and parsing (RSDP, XSDT/RSDT, MADT, FADT, DSDT \_S5,
 * HPET, MCFG, DMAR) and the few ACPI hardware registers root mode uses
 * (PM timer, S5 power-off, reset). Firmware tables are hostile input: every
 * table is length- and checksum-checked, and a bad one is skipped with a
 * warning while the others still parse. */
#ifndef DRIVERS_ACPI_H
#define DRIVERS_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACPI_MAX_CPUS      256
#define ACPI_MAX_IOAPICS   8
#define ACPI_MAX_OVERRIDES 16
#define ACPI_MAX_TABLES    32
#define ACPI_MAX_MCFG      8
#define ACPI_MAX_DRHD      8
/* Anything longer is firmware garbage, not a table. */
#define ACPI_TABLE_MAX_LEN (16u << 20)

/* Generic Address Structure address spaces. */
#define ACPI_GAS_MEMORY 0
#define ACPI_GAS_IO     1
#define ACPI_GAS_PCI    2

/* FADT Flags. */
#define ACPI_FADT_TMR_VAL_EXT   (1u << 8)
#define ACPI_FADT_RESET_REG_SUP (1u << 10)

/* PM1 control register bits. */
#define ACPI_PM1_SCI_EN        (1u << 0)
#define ACPI_PM1_SLP_TYP_SHIFT 10
#define ACPI_PM1_SLP_TYP_MASK  (7u << 10)
#define ACPI_PM1_SLP_EN        (1u << 13)

#define ACPI_PM_TIMER_HZ 3579545u

struct acpi_cpu {
    uint32_t apic_id;
    uint32_t uid;
    bool enabled; /* false: online-capable only (hot-pluggable, not running) */
    bool x2apic;  /* from a Processor Local x2APIC entry */
};

struct acpi_ioapic {
    uint8_t id;
    uint32_t addr;
    uint32_t gsi_base;
};

struct acpi_override {
    uint8_t bus_irq;
    uint32_t gsi;
    uint16_t flags; /* MPS INTI flags: polarity bits 1:0, trigger mode bits 3:2 */
};

struct acpi_gas {
    uint8_t space_id, bit_width, bit_offset, access_size;
    uint64_t address;
};

struct acpi_table_ref {
    char sig[5];
    uint64_t phys;
    uint32_t len;
};

struct acpi_mcfg {
    uint64_t base; /* ECAM base of bus 0 of this segment, as in the MCFG */
    uint16_t segment;
    uint8_t start_bus, end_bus;
};

struct acpi_drhd {
    uint64_t base;
    uint16_t segment;
    uint8_t flags; /* bit 0 INCLUDE_PCI_ALL */
};

struct acpi_info {
    bool present;
    uint8_t revision; /* RSDP revision: 0 for ACPI 1.0, 2 and up with an XSDT */
    char oem_id[7];
    bool use_xsdt;
    unsigned nr_tables; /* valid tables in discovery order, DSDT/FACS included */
    struct acpi_table_ref tables[ACPI_MAX_TABLES];
    unsigned nr_skipped; /* tables rejected (bad checksum, length, mapping) */

    /* MADT */
    bool has_madt;
    uint64_t lapic_addr;
    bool pcat_compat; /* dual 8259 PICs present: mask them */
    struct acpi_cpu cpus[ACPI_MAX_CPUS];
    unsigned nr_cpus;
    unsigned nr_cpus_ignored; /* beyond ACPI_MAX_CPUS */
    struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
    unsigned nr_ioapics;
    struct acpi_override overrides[ACPI_MAX_OVERRIDES];
    unsigned nr_overrides;

    /* FADT (I/O port blocks only; 0 when absent or unsupported) */
    bool has_fadt;
    uint32_t pm_tmr_blk;
    bool pm_tmr_32bit;
    uint32_t pm1a_cnt_blk, pm1b_cnt_blk;
    uint32_t smi_cmd;
    uint8_t acpi_enable;
    uint16_t sci_int;
    bool has_reset_reg;
    struct acpi_gas reset_reg;
    uint8_t reset_value;
    uint64_t dsdt_phys;
    uint64_t facs_phys;
    uint8_t century;
    uint16_t iapc_boot_arch;
    uint32_t fadt_flags;
    bool has_s5; /* from \_S5 in the DSDT (or an SSDT) */
    uint8_t slp_typa, slp_typb;

    /* HPET */
    bool has_hpet;
    uint64_t hpet_addr;

    /* MCFG */
    unsigned nr_mcfg;
    struct acpi_mcfg mcfg[ACPI_MAX_MCFG];

    /* DMAR */
    bool has_dmar;
    uint8_t dmar_haw;   /* host address width in bits (the table field + 1) */
    uint8_t dmar_flags; /* bit 0 INTR_REMAP, bit 1 X2APIC_OPT_OUT */
    unsigned nr_drhd;
    struct acpi_drhd drhd[ACPI_MAX_DRHD];
    unsigned nr_rmrr;
};

/* Returns a pointer through which len bytes at phys can be read, or NULL if
 * that range is not mappable. Pointers must stay valid during acpi_init. */
typedef const void *(*acpi_map_fn)(uint64_t phys, uint64_t len);

/* Parses the ACPI tables into *out. rsdp_copy holds the RSDP bytes from the
 * multiboot2 ACPI tag (rsdp_len of them), or is NULL to scan the EBDA and
 * 0xE0000-0xFFFFF through map. Returns 0 with out->present set, or -1 with
 * a reason in err when there is no usable RSDP or root table. Bad individual
 * tables only produce warnings. */
int acpi_init(struct acpi_info *out, const uint8_t *rsdp_copy, uint32_t rsdp_len, acpi_map_fn map,
              char *err, size_t errlen);

/* Table signatures separated by spaces ("FACP APIC HPET ..."); returns the
 * length written (always terminated when len > 0). */
size_t acpi_format_tables(const struct acpi_info *info, char *buf, size_t len);

/* Looks a recorded table up by signature (nth match from 0); NULL if none. */
const struct acpi_table_ref *acpi_find_table(const struct acpi_info *info, const char *sig,
                                             unsigned nth);

/* Parses \_S5 out of an AML definition block (whole table, header included).
 * Returns 0 and sets *typa and *typb; -1 when there is no \_S5 object; -2 when
 * one is there but malformed (reason in err). */
int acpi_parse_s5(const uint8_t *table, uint32_t len, uint8_t *typa, uint8_t *typb, char *err,
                  size_t errlen);

/* The kernel's view, filled by acpi_probe. */
extern struct acpi_info acpi;

#ifndef HOST_TEST
/* Kernel entry: acpi_init on the global with the identity map, logging the
 * table banner or the failure. Tables must lie below *map_limit* (default
 * 4 GiB; raise it to the top of identity-mapped RAM when that is known). */
int acpi_probe(const uint8_t *rsdp_copy, uint32_t rsdp_len);
void acpi_set_map_limit(uint64_t limit);

/* drivers/acpi_power.c */
bool acpi_pm_timer_present(void);
/* Raw counter (24 or 32 bits wide, see acpi.pm_tmr_32bit); 0 if absent. */
uint32_t acpi_pm_timer_read(void);
/* Counter mask: 0xFFFFFF or 0xFFFFFFFF, for wrap-safe differences. */
uint32_t acpi_pm_timer_mask(void);
/* Switches the chipset into ACPI mode through SMI_CMD if needed; 0 when in
 * ACPI mode afterwards, -1 on timeout or without a FADT. */
int acpi_enable_mode(void);
/* Enters S5; returns only if the machine is still running. */
void acpi_poweroff_s5(void);
/* FADT reset register, then port 0xCF9, then the keyboard controller;
 * returns only if all of them failed. */
void acpi_reset(void);
#endif

#endif
