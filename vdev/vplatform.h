/* What the legacy platform models (vPIC, vPIT, vRTC, vPM) need from the
 * integrator: the host clock and a way to drive an ISA IRQ line. Pure
 * header, no arch dependency. */
#ifndef VDEV_VPLATFORM_H
#define VDEV_VPLATFORM_H

#include <stdbool.h>
#include <stdint.h>

/* Host TSC and its rate. now() must be monotonic. */
struct vdev_clock {
    void *ctx;
    uint64_t (*now)(void *ctx);
    uint64_t tsc_khz;
};

/* Drive an ISA IRQ line; the integrator routes it via vm_irq_set_level. */
typedef void (*irq_line_fn)(void *ctx, unsigned irq, bool high);

#define VDEV_NEVER UINT64_MAX

/* TSC ticks per second; a clock without a rate counts as 1 GHz rather than
 * dividing by zero. */
static inline uint64_t vdev_tsc_hz(const struct vdev_clock *c)
{
    return (c && c->tsc_khz) ? c->tsc_khz * 1000 : 1000000000ull;
}

static inline uint64_t vdev_now(const struct vdev_clock *c)
{
    return (c && c->now) ? c->now(c->ctx) : 0;
}

/* floor(a * mul / div) without 128-bit division (no libgcc in the kernel).
 * Exact while mul * div < 2^64, true for every rate pair used here
 * (a 100 GHz TSC times 3.58 MHz is about 2^58). */
static inline uint64_t vdev_muldiv(uint64_t a, uint64_t mul, uint64_t div)
{
    return (a / div) * mul + (a % div) * mul / div;
}

/* ceil(a * mul / div), same limits. */
static inline uint64_t vdev_muldiv_ceil(uint64_t a, uint64_t mul, uint64_t div)
{
    uint64_t r = (a % div) * mul;
    return (a / div) * mul + r / div + (r % div != 0);
}

#endif
