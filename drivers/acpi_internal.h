/* Shared between acpi.c and acpi_tables.c only. */
#ifndef DRIVERS_ACPI_INTERNAL_H
#define DRIVERS_ACPI_INTERNAL_H

#include "drivers/acpi.h"

#define ACPI_HDR_LEN 36u

/* Firmware tables are packed and unaligned: read them byte by byte. */
static inline uint16_t acpi_rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t acpi_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t acpi_rd64(const uint8_t *p)
{
    return (uint64_t)acpi_rd32(p) | ((uint64_t)acpi_rd32(p + 4) << 32);
}

uint8_t acpi_sum8(const uint8_t *p, size_t n);
/* Copies a 4-byte signature, printable characters only. */
void acpi_sig_copy(char dst[5], const uint8_t *src);
void acpi_read_gas(const uint8_t *p, struct acpi_gas *g);
/* Maps and validates one table (header length bounds, whole-length mapping,
 * checksum, and the signature when want is given). sig receives the found
 * signature for messages. NULL with a reason in why on failure. */
const uint8_t *acpi_load_table(acpi_map_fn map, uint64_t phys, const char *want, char sig[5],
                               uint32_t *len_out, char *why, size_t whylen);

/* acpi_tables.c: each returns false (after a warning) when the table is
 * unusable as a whole. */
bool acpi_parse_madt(struct acpi_info *o, const uint8_t *t, uint32_t len, uint64_t phys);
bool acpi_parse_hpet(struct acpi_info *o, const uint8_t *t, uint32_t len, uint64_t phys);
bool acpi_parse_mcfg(struct acpi_info *o, const uint8_t *t, uint32_t len, uint64_t phys);
bool acpi_parse_dmar(struct acpi_info *o, const uint8_t *t, uint32_t len, uint64_t phys);

#endif
