/* Internals shared by the vLAPIC's files (vlapic.c: registers,
 * priorities, reset; vlapic_timer.c: the timer; vlapic_ipi.c: ICR, IPIs,
 * INIT/SIPI, LINT pins, destinations). Not for other users. */
#ifndef VDEV_VLAPIC_PRIV_H
#define VDEV_VLAPIC_PRIV_H

#include "vdev/vlapic.h"

#define LVT_VECTOR     0xFFu
#define LVT_DM         (7u << 8)
#define LVT_STATUS     (1u << 12) /* delivery status: read-only, always idle here */
#define LVT_POLARITY   (1u << 13)
#define LVT_REMOTE     (1u << 14) /* read-only */
#define LVT_LEVEL      (1u << 15)
#define LVT_MASKED     (1u << 16)
#define LVT_TIMER_PER  (1u << 17)
#define LVT_TIMER_TSC  (1u << 18)
#define LVT_TIMER_MODE (LVT_TIMER_PER | LVT_TIMER_TSC)

#define SVR_ENABLE   (1u << 8)
#define SVR_WRITABLE 0x3FFu /* vector, enable, focus checking (Linux sets bit 9) */

#define ICR_VECTOR   0xFFu
#define ICR_LOGICAL  (1u << 11)
#define ICR_BUSY     (1u << 12)
#define ICR_ASSERT   (1u << 14)
#define ICR_LEVEL    (1u << 15)
#define ICR_SH_SHIFT 18
#define ICR_WRITABLE ((0xFFFu & ~ICR_BUSY) | ICR_ASSERT | ICR_LEVEL | (3u << ICR_SH_SHIFT))
/* x2APIC: must-be-zero bits of the low dword; BUSY is ignored as Intel does. */
#define X2_ICR_RSVD ((1u << 13) | (3u << 16) | 0xFFF00000u)

#define ESR_SEND_ILLEGAL (1u << 5)
#define ESR_RECV_ILLEGAL (1u << 6)

#define DCR_WRITABLE 0xBu
#define DFR_RESERVED 0x0FFFFFFFu /* bits 0-27 read as ones */

#define TIMER_MODE_ONESHOT  0u
#define TIMER_MODE_PERIODIC 1u
#define TIMER_MODE_TSC      2u

static inline uint64_t now_tsc(const struct vlapic *a)
{
    return a->ops.now ? a->ops.now(a->ops.ctx) : 0;
}

static inline bool test_vec(const uint32_t *bm, unsigned v)
{
    return (bm[(v >> 5) & 7] >> (v & 31)) & 1u;
}

static inline void set_vec(uint32_t *bm, unsigned v)
{
    bm[(v >> 5) & 7] |= 1u << (v & 31);
}

static inline void clear_vec(uint32_t *bm, unsigned v)
{
    bm[(v >> 5) & 7] &= ~(1u << (v & 31));
}

/* Highest set vector, or -1. */
static inline int highest_vec(const uint32_t *bm)
{
    for (int w = 7; w >= 0; w--)
        if (bm[w])
            return w * 32 + 31 - __builtin_clz(bm[w]);
    return -1;
}

static inline bool sw_enabled(const struct vlapic *a)
{
    return (a->svr & SVR_ENABLE) != 0;
}

static inline unsigned timer_mode(const struct vlapic *a)
{
    unsigned m = (a->lvt[VLAPIC_LVT_TIMER] >> 17) & 3;
    /* 11b is reserved: it counts as one-shot (as KVM does). */
    return m == 3 ? TIMER_MODE_ONESHOT : m;
}

static inline uint64_t timer_divisor(uint32_t dcr)
{
    unsigned v = (dcr & 3) | ((dcr >> 1) & 4); /* bits 0, 1, 3 */
    return 1ull << ((v + 1) & 7);              /* 000 = 2 ... 110 = 128, 111 = 1 */
}

static inline uint32_t x2apic_ldr(uint32_t id)
{
    return ((id >> 4) << 16) | (1u << (id & 0xF));
}

/* now + delta without wrapping into the past. */
static inline uint64_t add_sat(uint64_t now, uint64_t delta)
{
    return delta >= VTIME_NEVER - now ? VTIME_NEVER - 1 : now + delta;
}

/* vlapic.c */
void vlapic_notify(struct vlapic *a);
void vlapic_accept(struct vlapic *a, uint8_t vector, bool level);
/* The same without ops->notify; true when the IRR bit was set. */
bool vlapic_accept_quiet(struct vlapic *a, uint8_t vector, bool level);
void vlapic_raise_error(struct vlapic *a, uint32_t bits);

/* vlapic_timer.c */
uint32_t vlapic_timer_current(const struct vlapic *a, uint64_t now);
void vlapic_timer_stop(struct vlapic *a);
void vlapic_timer_write_initial(struct vlapic *a, uint32_t count);
void vlapic_timer_write_dcr(struct vlapic *a, uint32_t dcr);
void vlapic_timer_write_lvt(struct vlapic *a, uint32_t val);

/* vlapic_ipi.c: the ICR's low dword was written (dest: 8 or 32 bits). */
void vlapic_send_icr(struct vlapic *a, uint32_t lo, uint32_t dest);

#endif
