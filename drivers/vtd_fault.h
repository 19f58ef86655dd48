/* VT-d fault records (VT-d spec 7.3, 10.4.14, appendix A): decoding, the
 * meaning of each fault reason, the console line, and per-device counting
 * with a rate limit on the log. Pure code (host unit tests); reading the
 * unit's fault recording registers happens in vtd.c. */
#ifndef DRIVERS_VTD_FAULT_H
#define DRIVERS_VTD_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vtd_fault {
    uint16_t sid; /* requester ID (bus 15:8, device 7:3, function 2:0) */
    bool read;    /* false: write (interrupt requests are writes) */
    uint8_t reason;
    uint64_t addr;  /* page address of a DMA fault */
    uint16_t index; /* interrupt-remapping faults: the interrupt index */
};

/* From the two quadwords of a fault recording register (F set). */
void vtd_fault_decode(uint64_t lo, uint64_t hi, struct vtd_fault *f);
/* Interrupt-remapping faults are reasons 0x20-0x2f. */
bool vtd_fault_is_ir(unsigned reason);
/* "write to a page without write permission" etc.; "unknown" otherwise. */
const char *vtd_fault_reason_str(unsigned reason);
/* "iommu: fault 00:05.0 write addr 0x200000 reason 0x05 (...)". */
int vtd_fault_format(const struct vtd_fault *f, char *buf, size_t len);

/* Per-device fault counting with a log rate limit: at most VTD_FAULT_BURST
 * lines per device per window; the next line after a quiet window says how
 * many were left out. */
#define VTD_FAULT_BURST 5
#define VTD_FAULT_SLOTS 32

struct vtd_fault_stat {
    bool used;
    uint16_t seg, sid;
    uint64_t count;
    uint64_t last_addr;
    uint8_t last_reason;
    uint64_t window_start;
    unsigned in_window;
    uint64_t suppressed;
};

/* The slot for seg:sid, taking a free one (or the last, shared by every
 * device that finds the table full) when it has none. */
struct vtd_fault_stat *vtd_fault_stat_get(struct vtd_fault_stat *tab, unsigned n, uint16_t seg,
                                          uint16_t sid);
/* Counts one fault at time `now` (any monotonic unit; window in the same
 * unit). Returns true when it should be logged; *suppressed_before then
 * holds how many were left out since the last logged one. */
bool vtd_fault_account(struct vtd_fault_stat *s, const struct vtd_fault *f, uint64_t now,
                       uint64_t window, uint64_t *suppressed_before);

#endif
