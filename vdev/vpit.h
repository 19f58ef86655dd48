/* 8254 PIT of one VM: channels 0-2 at 0x40-0x42, control word at 0x43,
 * and system control port B (0x61: channel 2 gate, speaker data, refresh
 * toggle, channel 2 output). Counts at 1.193182 MHz derived from the host
 * TSC. Channel 0's output drives IRQ 0: its terminal count in mode 0 as a
 * level, one pulse per period in modes 2 and 3 (and the strobe of mode 4).
 * Periods missed because the integrator ticked late coalesce into one
 * pulse. Pure state machine; the caller serialises access. */
#ifndef VDEV_VPIT_H
#define VDEV_VPIT_H

#include <stdbool.h>
#include <stdint.h>

#include "vdev/vplatform.h"

#define VPIT_HZ 1193182u

struct vpit_channel {
    uint32_t count;        /* reload value, 1..65536 (10000 in BCD) */
    uint16_t latched;      /* counter latch / read-back snapshot */
    uint8_t count_latched; /* read state of the latched value, 0 = none */
    uint8_t status;
    bool status_latched;
    uint8_t read_state, write_state, write_lsb;
    uint8_t rw, mode; /* control word fields, mode 0-7 as written */
    bool bcd;
    bool gate;
    bool armed;         /* a count has been loaded since the control word */
    bool running;       /* counting (gate and trigger allow it) */
    bool null_count;    /* read-back status bit 6 */
    uint64_t d_base;    /* input clocks counted before start_tsc */
    uint64_t start_tsc; /* when the current counting stretch began */
};

struct vpit {
    struct vpit_channel ch[3];
    struct vdev_clock clk;
    uint64_t tsc_hz;
    uint64_t epoch; /* TSC at init, for the refresh toggle */
    uint8_t port61; /* writable bits 0-3 */
    irq_line_fn irq;
    void *irq_ctx;
    bool irq_level;        /* IRQ 0 as last driven */
    uint64_t irq_deadline; /* next channel 0 output edge, or VDEV_NEVER */
    uint64_t irq_period;   /* periodic modes: periods counted at the last edge */
    /* IRQ 0 edges delivered, and periods merged into them (a late tick, or
     * the rate floor below a reload of 239): `stats` shows both. */
    uint64_t irqs;
    uint64_t coalesced;
};

void vpit_init(struct vpit *t, const struct vdev_clock *clk, irq_line_fn irq, void *irq_ctx);
/* One byte at 0x40-0x43 or 0x61; false for other ports. */
bool vpit_io(struct vpit *t, uint16_t port, bool in, uint8_t *val);
/* When vpit_tick must run next (host TSC), or VDEV_NEVER. */
uint64_t vpit_next_deadline(const struct vpit *t);
/* Delivers channel 0's expired output edges (at most one per call). */
void vpit_tick(struct vpit *t, uint64_t now);

#endif
