/* MC146818 CMOS RTC of one VM at 0x70 (index; bit 7 is the NMI mask,
 * ignored) and 0x71 (data). Time starts from the host RTC and advances
 * with the host TSC; guest writes to the clock change this VM's own time
 * only. Registers 0-9 and the century (0x32) in BCD or binary and 12/24 h
 * per register B; A with a simulated update-in-progress flag and writable
 * divider/rate bits; B with SET and the PIE/AIE/UIE enables; C flags
 * (read clears) with IRQF driving IRQ 8 as a level until C is read; D with
 * VRT. The rest of the 128 bytes is plain CMOS RAM. Pure state machine;
 * the caller serialises access. */
#ifndef VDEV_VRTC_H
#define VDEV_VRTC_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/rtc.h"
#include "vdev/vplatform.h"

#define VRTC_IRQ         8
#define VRTC_CMOS_SIZE   128
#define VRTC_REG_CENTURY 0x32 /* the FADT's CENTURY field names it */

struct vrtc {
    uint8_t cmos[VRTC_CMOS_SIZE]; /* time registers hold the last snapshot */
    uint8_t index;
    struct vdev_clock clk;
    uint64_t tsc_hz;
    int64_t base_secs; /* VM time (seconds since 1970) at base_tsc */
    uint64_t base_tsc;
    uint64_t epoch;    /* TSC at init: the periodic-interrupt timebase */
    uint64_t last_32k; /* 32.768 kHz ticks at the last flag evaluation */
    int64_t last_sec;  /* VM second of the last update cycle evaluated */
    uint64_t deadline; /* next PF/UF/AF worth an interrupt, or VDEV_NEVER */
    irq_line_fn irq;
    void *irq_ctx;
    bool irq_level;
    /* IRQ 8 rising edges, and periodic interrupts merged into one (late
     * ticks, or a guest slow to read C): `stats` shows both. */
    uint64_t irqs;
    uint64_t coalesced;
};

/* start NULL means 2000-01-01 00:00:00. Register B starts 24-hour BCD. */
void vrtc_init(struct vrtc *r, const struct vdev_clock *clk, const struct rtc_time *start,
               irq_line_fn irq, void *ctx);
/* One byte at 0x70 or 0x71; false for other ports. */
bool vrtc_io(struct vrtc *r, uint16_t port, bool in, uint8_t *val);
/* For the integrator filling CMOS RAM (memory size bytes, equipment):
 * idx 0x0E-0x7F except the century; others are ignored. */
void vrtc_cmos_set(struct vrtc *r, unsigned idx, uint8_t val);
uint64_t vrtc_next_deadline(const struct vrtc *r);
/* With PIE on, the next periodic-interrupt time after `now` whether or
 * not IRQ 8 still waits for a read of C (vrtc_next_deadline is NEVER
 * then); VDEV_NEVER with PIE off. */
uint64_t vrtc_next_periodic(const struct vrtc *r, uint64_t now);
void vrtc_tick(struct vrtc *r, uint64_t now);

#endif
