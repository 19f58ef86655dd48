/* The parts of the ACPI DMAR table (VT-d spec chapter 8) the VT-d driver
 * needs beyond what drivers/acpi records: each DRHD's device scopes and the
 * RMRRs (firmware-reserved DMA ranges) with the devices they name. The table
 * is hostile input: a malformed structure or scope is skipped with a
 * warning, the rest still parses. Pure code (host unit tests). */
#ifndef DRIVERS_VTD_DMAR_H
#define DRIVERS_VTD_DMAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VTD_MAX_UNITS      8
#define VTD_MAX_RMRR       16
#define VTD_MAX_SCOPES     64
#define VTD_SCOPE_MAX_PATH 8

/* Device scope types (8.3.1). */
#define VTD_SCOPE_ENDPOINT 1
#define VTD_SCOPE_BRIDGE   2 /* the bridge and everything below it */
#define VTD_SCOPE_IOAPIC   3
#define VTD_SCOPE_HPET     4
#define VTD_SCOPE_ACPI     5

struct vtd_scope {
    uint8_t type;
    uint8_t enum_id; /* I/O APIC ID, HPET number */
    uint8_t start_bus;
    uint8_t path_len; /* (device, function) pairs */
    uint8_t path[VTD_SCOPE_MAX_PATH][2];
};

struct vtd_dmar_drhd {
    uint64_t base;
    uint16_t segment;
    bool include_all; /* every device of the segment no other unit names */
    unsigned first_scope, nr_scopes;
};

struct vtd_dmar_rmrr {
    uint64_t base, limit; /* limit inclusive */
    uint16_t segment;
    unsigned first_scope, nr_scopes;
};

struct vtd_dmar {
    uint8_t haw;   /* host address width in bits */
    uint8_t flags; /* bit 0 INTR_REMAP, bit 1 X2APIC_OPT_OUT */
    unsigned nr_drhd;
    struct vtd_dmar_drhd drhd[VTD_MAX_UNITS];
    unsigned nr_rmrr;
    struct vtd_dmar_rmrr rmrr[VTD_MAX_RMRR];
    unsigned nr_scopes;
    struct vtd_scope scopes[VTD_MAX_SCOPES];
    unsigned nr_bad; /* structures or scopes skipped */
};

#define VTD_DMAR_INTR_REMAP    1u
#define VTD_DMAR_X2APIC_OPTOUT 2u

/* Parses a whole DMAR table (header included, checksum already checked).
 * Returns 0, or -1 with a reason in err when the table is unusable as a
 * whole; bad parts only count in nr_bad (and are logged). */
int vtd_dmar_parse(const uint8_t *t, uint32_t len, struct vtd_dmar *out, char *err, size_t errlen);

/* Reads a bridge's secondary and subordinate bus numbers; returns false
 * when there is no bridge at that address. */
typedef bool (*vtd_bridge_fn)(void *ctx, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn,
                              uint8_t *secondary, uint8_t *subordinate);

/* Resolves a PCI scope (endpoint or bridge) to the range of requester IDs
 * it covers, walking the path's bridges. false when the path does not
 * lead anywhere (or the scope is not a PCI one). */
bool vtd_scope_resolve(const struct vtd_scope *s, uint16_t seg, vtd_bridge_fn bridge, void *ctx,
                       uint16_t *first_bdf, uint16_t *last_bdf);

/* Whether scope s names the device seg:bdf. */
bool vtd_scope_matches(const struct vtd_scope *s, uint16_t seg, uint16_t bdf, vtd_bridge_fn bridge,
                       void *ctx);

/* Index of the DRHD that translates seg:bdf (one naming it in its scope,
 * else the segment's INCLUDE_PCI_ALL one), or -1. */
int vtd_dmar_unit_for(const struct vtd_dmar *d, uint16_t seg, uint16_t bdf, vtd_bridge_fn bridge,
                      void *ctx);

/* The source-id (requester ID) of the I/O APIC with this APIC ID, from the
 * I/O APIC scope of the DRHD that names it (its path crossing bridges as a
 * PCI scope's does). Returns that DRHD's index, or -1 when no unit names
 * the I/O APIC (its interrupts cannot be remapped then). */
int vtd_dmar_ioapic_source(const struct vtd_dmar *d, uint8_t ioapic_id, vtd_bridge_fn bridge,
                           void *ctx, uint16_t *seg, uint16_t *sid);

/* Compatibility-format interrupts can only be blocked when every I/O APIC
 * sends through a unit that remaps interrupts: the index in ids[] (MADT
 * I/O APIC IDs) of the first one no DRHD in remap_units (bit i: DRHD i
 * remaps interrupts) names with a resolvable scope, or -1 when all are. */
int vtd_dmar_first_unremapped_ioapic(const struct vtd_dmar *d, const uint8_t *ids, unsigned n,
                                     unsigned remap_units, vtd_bridge_fn bridge, void *ctx);

/* Parses "BB:DD.F" or "SSSS:BB:DD.F" (hexadecimal, as lspci prints them);
 * false on anything else. */
bool vtd_parse_bdf(const char *s, uint16_t *seg, uint16_t *bdf);

#endif
