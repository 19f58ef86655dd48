/* The vLAPIC timer (SDM Vol. 3A 10.5.4): one-shot, periodic and
 * TSC-deadline modes against the integrator's clock (ops->now). */
#include "vdev/vlapic_priv.h"

/* Periodic timers are bounded to 100 us so a guest cannot make its vCPU's
 * CPU exit continuously; reads of the count stay within the initial count. */
static uint64_t period_eff(const struct vlapic *a)
{
    uint64_t min = a->ops.tsc_khz / 10;
    if (min < 1)
        min = 1;
    return a->timer_period < min ? min : a->timer_period;
}

uint32_t vlapic_timer_current(const struct vlapic *a, uint64_t now)
{
    if (timer_mode(a) == TIMER_MODE_TSC || a->timer_deadline == VTIME_NEVER || !a->timer_period)
        return 0;
    uint64_t left;
    if (now < a->timer_deadline) {
        left = a->timer_deadline - now;
    } else if (timer_mode(a) == TIMER_MODE_PERIODIC) {
        uint64_t p = period_eff(a);
        left = p - (now - a->timer_deadline) % p; /* not ticked yet: reloaded meanwhile */
    } else {
        return 0;
    }
    uint64_t div = timer_divisor(a->dcr);
    uint64_t count = left / div + (left % div != 0); /* counts down every div ticks */
    return count > a->timer_initial ? a->timer_initial : (uint32_t)count;
}

void vlapic_timer_stop(struct vlapic *a)
{
    a->timer_deadline = VTIME_NEVER;
}

void vlapic_timer_write_initial(struct vlapic *a, uint32_t count)
{
    if (timer_mode(a) == TIMER_MODE_TSC)
        return; /* ignored in TSC-deadline mode */
    a->timer_initial = count;
    a->timer_period = (uint64_t)count * timer_divisor(a->dcr);
    if (!count) {
        vlapic_timer_stop(a);
        return;
    }
    a->timer_deadline = add_sat(now_tsc(a), a->timer_period);
}

void vlapic_timer_write_dcr(struct vlapic *a, uint32_t dcr)
{
    uint64_t now = now_tsc(a);
    uint32_t cur = vlapic_timer_current(a, now);
    bool running = timer_mode(a) != TIMER_MODE_TSC && a->timer_deadline != VTIME_NEVER;
    a->dcr = dcr & DCR_WRITABLE;
    uint64_t div = timer_divisor(a->dcr);
    a->timer_period = (uint64_t)a->timer_initial * div;
    /* The count keeps going from where it is, at the new rate. */
    if (running)
        a->timer_deadline = add_sat(now, (uint64_t)cur * div);
}

void vlapic_timer_write_lvt(struct vlapic *a, uint32_t val)
{
    unsigned old = timer_mode(a);
    a->lvt[VLAPIC_LVT_TIMER] = val;
    unsigned new = timer_mode(a);
    /* Switching between TSC-deadline and the counting modes disarms both. */
    if ((old == TIMER_MODE_TSC) != (new == TIMER_MODE_TSC)) {
        a->timer_initial = 0;
        a->timer_period = 0;
        a->tsc_deadline = 0;
        vlapic_timer_stop(a);
    }
}

uint64_t vlapic_get_tsc_deadline(const struct vlapic *a)
{
    if (!vlapic_hw_enabled(a) || timer_mode(a) != TIMER_MODE_TSC)
        return 0;
    return a->tsc_deadline;
}

void vlapic_set_tsc_deadline(struct vlapic *a, uint64_t guest_tsc)
{
    if (!vlapic_hw_enabled(a) || timer_mode(a) != TIMER_MODE_TSC)
        return;
    a->tsc_deadline = guest_tsc;
    if (!guest_tsc) {
        vlapic_timer_stop(a);
        return;
    }
    uint64_t now = now_tsc(a);
    uint64_t guest_now = now + a->tsc_offset;
    /* A deadline already past fires at the next tick. */
    a->timer_deadline = guest_tsc <= guest_now ? now : add_sat(now, guest_tsc - guest_now);
}

void vlapic_set_tsc_offset(struct vlapic *a, uint64_t tsc_offset)
{
    uint64_t dl = vlapic_get_tsc_deadline(a);
    a->tsc_offset = tsc_offset;
    if (dl && a->timer_deadline != VTIME_NEVER)
        vlapic_set_tsc_deadline(a, dl); /* same guest deadline, new host time */
}

uint64_t vlapic_next_deadline(const struct vlapic *a)
{
    if (!vlapic_hw_enabled(a))
        return VTIME_NEVER;
    return a->timer_deadline;
}

static void tick(struct vlapic *a, uint64_t now, bool notify)
{
    if (!vlapic_hw_enabled(a) || a->timer_deadline == VTIME_NEVER || now < a->timer_deadline)
        return;
    switch (timer_mode(a)) {
    case TIMER_MODE_PERIODIC: {
        /* Missed periods coalesce into one interrupt. */
        uint64_t p = period_eff(a);
        uint64_t missed = (now - a->timer_deadline) / p + 1;
        if (missed > (VTIME_NEVER - 1 - a->timer_deadline) / p)
            a->timer_deadline = add_sat(now, p);
        else
            a->timer_deadline += missed * p;
        break;
    }
    case TIMER_MODE_TSC:
        a->tsc_deadline = 0;
        vlapic_timer_stop(a);
        break;
    default:
        vlapic_timer_stop(a);
        break;
    }
    /* A masked timer still counts; it just does not interrupt. */
    uint32_t lvt = a->lvt[VLAPIC_LVT_TIMER];
    if (lvt & LVT_MASKED)
        return;
    if (notify)
        vlapic_accept(a, lvt & LVT_VECTOR, false);
    else
        vlapic_accept_quiet(a, lvt & LVT_VECTOR, false);
}

void vlapic_tick(struct vlapic *a, uint64_t now)
{
    tick(a, now, true);
}

void vlapic_tick_running(struct vlapic *a, uint64_t now)
{
    tick(a, now, false);
}
