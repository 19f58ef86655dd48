/* A virtual 82093AA-style IOAPIC with 24 pins (version 0x11: no EOI
 * register; Linux clears Remote IRR by toggling the trigger mode, which
 * this model honours). Pure state machine: deliveries go out through
 * ops->deliver; the integrator serialises calls and matches destinations
 * against its vLAPICs (vlapic_match_dest), then calls vlapic_deliver.
 *
 * Pin levels are electrical: vioapic_set_level(pin, high) is the wire,
 * and an active-low pin (polarity bit 13) is asserted while low. Models of
 * active-low lines (the SCI in our MADT) therefore idle high: set the line
 * high at VM start and pull it low to assert. */
#ifndef VDEV_VIOAPIC_H
#define VDEV_VIOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/ioapic_rte.h"

#define VIOAPIC_NR_PINS      24
#define VIOAPIC_VERSION      (0x11u | ((VIOAPIC_NR_PINS - 1u) << 16))
#define VIOAPIC_DEFAULT_BASE 0xFEC00000ull

#define VIOAPIC_REGSEL 0x00u
#define VIOAPIC_WIN    0x10u

/* Register indexes (through IOREGSEL). */
#define VIOAPIC_REG_ID    0x00u
#define VIOAPIC_REG_VER   0x01u
#define VIOAPIC_REG_ARB   0x02u
#define VIOAPIC_REG_REDIR 0x10u /* 0x10 + 2*pin: low dword, +1: high dword */

/* Redirection entry bits: IOAPIC_RTE_* of arch/x86_64/ioapic_rte.h. */

struct vioapic_ops {
    void *ctx;
    /* dest: the entry's 8-bit destination field; delivery_mode: bits 8-10. */
    void (*deliver)(void *ctx, uint32_t dest, bool dest_logical, unsigned delivery_mode,
                    uint8_t vector, bool level_trig);
};

struct vioapic {
    struct vioapic_ops ops; /* a copy */
    uint8_t id;             /* 4 bits; the MADT gives it */
    uint8_t ioregsel;
    uint64_t redir[VIOAPIC_NR_PINS]; /* Remote IRR lives in bit 14 */
    uint32_t line;                   /* electrical level per pin (bit = high) */
    uint64_t deliveries;             /* statistics */
    /* The EOIs of this VM's interrupts never reach the model (a real-time
     * VM's guest EOIs its own local APIC: docs/realtime.md): Remote IRR is
     * never set, so a level pin delivers again at every line update that
     * finds it asserted (and on unmasking), not once per EOI. */
    bool eoi_unseen;
};

/* Reset: every pin masked, edge, active high, vector 0; lines low. */
void vioapic_init(struct vioapic *io, uint8_t id, const struct vioapic_ops *ops);
/* MMIO within the IOAPIC page (offset 0-0xFFF, sizes 1/2/4/8): IOREGSEL at
 * 0x00, IOWIN at 0x10 (dword accesses); elsewhere reads 0 and writes are
 * ignored. False only for an offset past the page or an impossible size. */
bool vioapic_mmio_read(struct vioapic *io, uint32_t offset, unsigned size, uint64_t *val);
bool vioapic_mmio_write(struct vioapic *io, uint32_t offset, unsigned size, uint64_t val);
/* Register-level access (IOREGSEL index), for tests and debugging. */
uint32_t vioapic_read_reg(const struct vioapic *io, unsigned index);
void vioapic_write_reg(struct vioapic *io, unsigned index, uint32_t val);
/* Edge pins deliver on the asserting edge when unmasked (a masked edge is
 * lost); level pins deliver while asserted, unmasked and Remote IRR clear,
 * and set Remote IRR. Pins past 23 are ignored. */
void vioapic_set_level(struct vioapic *io, unsigned pin, bool high);
/* EOI broadcast from a vLAPIC: clears Remote IRR of level pins with that
 * vector and re-delivers any that are still asserted. */
void vioapic_eoi(struct vioapic *io, uint8_t vector);

#endif
