/* The I/O APIC redirection entry (82093AA datasheet 3.2.4; the remappable
 * format of VT-d spec 5.1.5.1 reuses bits 7:0 and 16:11): its fields, and
 * the decode that interrupt remapping needs to take over a pin routed in
 * compatibility format. Pure (host unit tests). */
#ifndef ARCH_X86_64_IOAPIC_RTE_H
#define ARCH_X86_64_IOAPIC_RTE_H

#include <stdbool.h>
#include <stdint.h>

#define IOAPIC_RTE_VECTOR       0xFFULL
#define IOAPIC_RTE_DM_SHIFT     8
#define IOAPIC_RTE_DELMODE_MASK (7ULL << IOAPIC_RTE_DM_SHIFT) /* 000: fixed */
#define IOAPIC_RTE_LOGICAL      (1ULL << 11)
#define IOAPIC_RTE_STATUS       (1ULL << 12) /* delivery status, read-only */
#define IOAPIC_RTE_ACTIVE_LOW   (1ULL << 13)
#define IOAPIC_RTE_REMOTE       (1ULL << 14) /* Remote IRR, read-only */
#define IOAPIC_RTE_LEVEL        (1ULL << 15)
#define IOAPIC_RTE_MASKED       (1ULL << 16)
#define IOAPIC_RTE_REMAPPABLE   (1ULL << 48) /* interrupt format: remappable */
#define IOAPIC_RTE_DEST_SHIFT   56

struct ioapic_route {
    uint8_t vector;
    uint8_t dest; /* physical APIC ID */
    bool level, active_low;
};

/* Compatibility format, fixed delivery, physical destination and unmasked
 * (what ioapic_route_gsi writes without remapping): true with its route.
 * false for a masked, remappable, logical or non-fixed entry. */
static inline bool ioapic_rte_compat_route(uint64_t rte, struct ioapic_route *r)
{
    if (rte &
        (IOAPIC_RTE_MASKED | IOAPIC_RTE_REMAPPABLE | IOAPIC_RTE_LOGICAL | IOAPIC_RTE_DELMODE_MASK))
        return false;
    r->vector = (uint8_t)rte;
    r->dest = (uint8_t)(rte >> IOAPIC_RTE_DEST_SHIFT);
    r->level = (rte & IOAPIC_RTE_LEVEL) != 0;
    r->active_low = (rte & IOAPIC_RTE_ACTIVE_LOW) != 0;
    return true;
}

/* The compatibility-format entry for a route, unmasked. */
static inline uint64_t ioapic_rte_compat(const struct ioapic_route *r)
{
    return (uint64_t)r->vector | (r->level ? IOAPIC_RTE_LEVEL : 0) |
           (r->active_low ? IOAPIC_RTE_ACTIVE_LOW : 0) |
           ((uint64_t)r->dest << IOAPIC_RTE_DEST_SHIFT);
}

#endif
