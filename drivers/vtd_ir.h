/* VT-d interrupt remapping (VT-d spec 5.1, 9.10, 9.11, 9.12): interrupt
 * remapping table entries (IRTEs), the remappable MSI format that points a
 * device at one, the per-unit table with its entry allocator, and the
 * posted-interrupt descriptor. Pure code (host unit tests); the unit's
 * registers are programmed in vtd.c. */
#ifndef DRIVERS_VTD_IR_H
#define DRIVERS_VTD_IR_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/ioapic_rte.h"
#include "drivers/vtd_hw.h"

/* 2^(VTD_IRT_S+1) entries of 16 bytes: 256 entries, one 4 KiB page. */
#define VTD_IRT_S       7
#define VTD_IRT_ENTRIES 256

/* IRTE fields (9.10). */
#define VTD_IRTE_P         1ULL
#define VTD_IRTE_FPD       (1ULL << 1)
#define VTD_IRTE_DM        (1ULL << 2) /* logical destination */
#define VTD_IRTE_TM        (1ULL << 4) /* level triggered */
#define VTD_IRTE_DLM(m)    ((uint64_t)((m)&7) << 5)
#define VTD_IRTE_URG       (1ULL << 14) /* posted format */
#define VTD_IRTE_IM_POSTED (1ULL << 15)
#define VTD_IRTE_VECTOR(v) ((uint64_t)(v) << 16)
#define VTD_IRTE_SID(s)    ((uint64_t)(s)) /* high quadword */
#define VTD_IRTE_SQ(q)     ((uint64_t)((q)&3) << 16)
#define VTD_IRTE_SVT(t)    ((uint64_t)((t)&3) << 18)

/* Source validation (SVT): what the unit checks the requester ID against. */
#define VTD_SVT_NONE 0
#define VTD_SVT_SID  1 /* requester ID == SID (under the SQ mask) */
#define VTD_SVT_BUS  2 /* requester bus within SID[15:8]..SID[7:0] */

struct vtd_irte_spec {
    uint8_t vector;
    uint32_t dest;   /* APIC ID */
    bool x2apic;     /* IRTA.EIME: 32-bit destination; else xAPIC (8 bits) */
    uint16_t sid;    /* requester ID allowed to use the entry */
    uint8_t svt, sq; /* VTD_SVT_*, source-id qualifier (function bits ignored) */
    bool level;      /* level-triggered (I/O APIC pins) */
};

/* A present remapped-format IRTE: fixed delivery, physical destination.
 * Returns false (entry untouched) for a destination the format cannot hold
 * (above 255 without x2APIC) or an invalid vector (below 16) or SVT. */
bool vtd_irte_remapped(const struct vtd_irte_spec *s, struct vtd_entry128 *out);

/* A present posted-format IRTE (9.11): vector is the guest's, pd_phys the
 * 64-byte aligned posted-interrupt descriptor. false on a bad alignment. */
bool vtd_irte_posted(uint8_t vector, uint64_t pd_phys, uint16_t sid, bool urgent,
                     struct vtd_entry128 *out);

/* The MSI a device must send to use IRTE `index` (5.1.2.2: remappable
 * format, SHV=0 so the data register is ignored). */
void vtd_msi_remappable(unsigned index, uint32_t *addr_lo, uint32_t *data);

/* The I/O APIC redirection entry, remappable format (5.1.5.1), that makes a
 * pin raise IRTE `index`: interrupt format bit 48, index[14:0] in 63:49 and
 * index[15] in bit 11. vector must equal the IRTE's (the I/O APIC matches
 * the EOI broadcast against it); polarity, trigger and mask as usual (the
 * fields of arch/x86_64/ioapic_rte.h). */
uint64_t vtd_ioapic_rte_remappable(unsigned index, uint8_t vector, bool level, bool active_low,
                                   bool masked);

/* The IRTE index a redirection entry in remappable format points at;
 * false for one in compatibility format. */
bool vtd_ioapic_rte_index(uint64_t rte, unsigned *index);

/* A compatibility-format MSI address (interrupt format bit 4 clear):
 * physical destination APIC ID dest[7:0] in bits 19:12, fixed delivery by
 * the data register. Blocked by a unit that remaps interrupts once
 * GSTS.CFIS is 0 or IRTA.EIME is 1 (fault reason 0x25). */
uint32_t vtd_msi_compat(uint8_t dest);

/* The IRTE for an I/O APIC pin: only the I/O APIC's own source-id (from
 * the DMAR's I/O APIC scope) may use it, all 16 bits compared. */
bool vtd_irte_ioapic(uint8_t vector, uint32_t dest, bool x2apic, uint16_t ioapic_sid, bool level,
                     struct vtd_entry128 *out);

/* The interrupt remapping table of one unit. */
struct vtd_irt {
    struct vtd_entry128 *entries; /* VTD_IRT_ENTRIES */
    uint64_t phys;
    uint64_t used[VTD_IRT_ENTRIES / 64];
};

/* Claims a free index; -1 when full. */
int vtd_irt_alloc(struct vtd_irt *t);
/* Writes entry `index` (high half first when it becomes present, present
 * bit cleared first when it goes away). Invalidate the interrupt entry
 * cache afterwards. */
void vtd_irt_write(struct vtd_irt *t, unsigned index, struct vtd_entry128 e);
/* Clears the entry and frees the index. */
void vtd_irt_free(struct vtd_irt *t, unsigned index);
unsigned vtd_irt_count(const struct vtd_irt *t);

/* Posted-interrupt descriptor (9.12): 64 bytes, 64-byte aligned. */
struct vtd_pi_desc {
    uint64_t pir[4];  /* one bit per vector */
    uint64_t control; /* ON bit 0, SN bit 1, NV 23:16, NDST 63:32 */
    uint64_t rsvd[3];
} __attribute__((aligned(64)));

#define VTD_PI_ON (1ULL << 0)
#define VTD_PI_SN (1ULL << 1)

/* Sets up a descriptor for notification vector nv on APIC ID ndst
 * (x2APIC: 32 bits; xAPIC: the ID goes in NDST[15:8]). */
void vtd_pi_init(struct vtd_pi_desc *d, uint8_t nv, uint32_t ndst, bool x2apic);
/* What the unit does when it posts `vector`: sets its PIR bit and, unless
 * a notification is outstanding (ON) or suppressed (SN), sets ON. Returns
 * true when a notification interrupt must be sent. */
bool vtd_pi_post(struct vtd_pi_desc *d, uint8_t vector);
/* What the CPU side does on notification: clears ON, then takes every
 * pending bit into pending[4]. Returns how many vectors were pending. */
unsigned vtd_pi_drain(struct vtd_pi_desc *d, uint64_t pending[4]);
/* Suppress (vCPU not running) or allow notifications. */
void vtd_pi_suppress(struct vtd_pi_desc *d, bool sn);

#endif
