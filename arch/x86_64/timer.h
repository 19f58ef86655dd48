/* Per-CPU one-shot timers on TSC deadlines, driven by the LAPIC timer
 * (TSC-deadline mode when the CPU has it). Callbacks run in interrupt
 * context on VEC_TIMER, on the CPU that armed the timer, with no lock held. */
#ifndef ARCH_X86_64_TIMER_H
#define ARCH_X86_64_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/timer_queue.h" /* struct timer */

static inline void timer_setup(struct timer *t, timer_fn fn, void *arg)
{
    t->deadline_tsc = 0;
    t->fn = fn;
    t->arg = arg;
    t->next = 0;
    t->owner = 0;
}

/* On every CPU after its LAPIC is up; the first call (BSP, after TSC
 * calibration) picks the mode and measures the LAPIC timer. */
void timer_init_cpu(void);
/* After a real-time guest owned this CPU's local APIC (docs/realtime.md):
 * the LAPIC timer set up again and the earliest pending timer programmed. */
void timer_resume_cpu(void);
/* Arms t on the calling CPU (re-arms it if already pending anywhere). */
void timer_add(struct timer *t, uint64_t deadline_tsc);
/* True if t was pending. Its callback may still be running on its CPU. */
bool timer_cancel(struct timer *t);
uint64_t timer_now(void);
/* "tsc-deadline" or "lapic-oneshot" (for the banner). */
const char *timer_mode(void);

#endif
