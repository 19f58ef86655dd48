/* The I/O permission bitmap both vendors use: one bit per port, set =
 * the access exits. VMX's bitmaps A (ports 0-0x7fff) and B (0x8000-0xffff)
 * sit in two consecutive pages, so both read as one flat bitmap, as SVM's
 * IOPM does (its third page covers accesses that run past port 0xffff and
 * stays all ones). Shared by vmx/ and svm/; pure, so unit-tested. */
#ifndef HVM_IO_BITMAP_H
#define HVM_IO_BITMAP_H

#include <stdbool.h>
#include <stdint.h>

#define IO_BITMAP_PORTS 0x10000u

/* Sets (intercept) or clears the bits of ports [base, base + count),
 * clipped at port 0xffff. Byte-wide atomic updates: a neighbouring range
 * sharing a byte keeps its bits whoever else writes. */
static inline void io_bitmap_set(uint8_t *bm, uint16_t base, uint32_t count, bool intercept)
{
    uint32_t end = (uint32_t)base + count;
    if (end > IO_BITMAP_PORTS || end < base)
        end = IO_BITMAP_PORTS;
    for (uint32_t port = base; port < end; port++) {
        uint8_t bit = (uint8_t)(1u << (port % 8));
        if (intercept)
            __atomic_fetch_or(&bm[port / 8], bit, __ATOMIC_SEQ_CST);
        else
            __atomic_fetch_and(&bm[port / 8], (uint8_t)~bit, __ATOMIC_SEQ_CST);
    }
}

/* Whether an access of size bytes at port exits: any of its bits set, or
 * past port 0xffff (both vendors' rule). */
static inline bool io_bitmap_intercepts(const uint8_t *bm, uint16_t port, unsigned size)
{
    if ((uint32_t)port + size > IO_BITMAP_PORTS)
        return true;
    for (uint32_t p = port; p < (uint32_t)port + size; p++)
        if (bm[p / 8] & (1u << (p % 8)))
            return true;
    return false;
}

#endif
