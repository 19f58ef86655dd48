#include "arch/x86_64/timer.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/irq.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/tsc.h"
#include "lib/log.h"
#include "lib/spinlock.h"

#define LAPIC_CAL_US 10000
/* Callbacks per interrupt: a timer that keeps re-arming in the past cannot
 * keep the CPU in the handler forever. */
#define MAX_CALLBACKS_PER_IRQ 64

struct timer_cpu {
    spinlock_t lock;
    struct timer_queue q;
    unsigned cpu;
    uint64_t fired;
};

static struct timer_cpu timer_cpus[MAX_CPUS];
static bool mode_chosen;
static bool use_deadline;
static uint64_t lapic_per_tsc_q32; /* LAPIC timer ticks per TSC tick, 32.32 */

uint64_t timer_now(void)
{
    return rdtsc();
}

const char *timer_mode(void)
{
    return use_deadline ? "tsc-deadline" : "lapic-oneshot";
}

/* Caller holds tc->lock with interrupts off, on tc's own CPU. */
static void program(struct timer_cpu *tc)
{
    uint64_t next = tq_next_deadline(&tc->q);
    if (use_deadline) {
        /* Writing 0 disarms; a deadline in the past fires at once. */
        lapic_timer_deadline(next == UINT64_MAX ? 0 : (next ? next : 1));
        return;
    }
    if (next == UINT64_MAX) {
        lapic_timer_oneshot(0);
        return;
    }
    uint64_t now = rdtsc();
    uint64_t delta = next > now ? next - now : 0;
    uint64_t count = (uint64_t)(((unsigned __int128)delta * lapic_per_tsc_q32) >> 32);
    /* Too far out: fire early, find nothing due and re-arm. */
    if (count > 0xffffffffULL)
        count = 0xffffffffULL;
    lapic_timer_oneshot(count ? (uint32_t)count : 1);
}

static void timer_irq(struct irq_frame *f, void *arg)
{
    struct timer_cpu *tc = this_cpu()->timer;
    if (!tc)
        return;
    for (int n = 0;; n++) {
        spin_lock(&tc->lock);
        struct timer *t = n < MAX_CALLBACKS_PER_IRQ ? tq_pop_expired(&tc->q, rdtsc()) : NULL;
        if (!t) {
            program(tc);
            spin_unlock(&tc->lock);
            return;
        }
        t->owner = NULL;
        tc->fired++;
        spin_unlock(&tc->lock);
        t->fn(t, t->arg);
    }
}

static void measure_lapic_timer(void)
{
    lapic_write(LAPIC_LVT_TMR, LAPIC_LVT_MASKED);
    lapic_write(LAPIC_TMR_DCR, LAPIC_DCR_DIV16);
    lapic_write(LAPIC_TMR_ICR, 0xffffffffu);
    uint64_t t0 = rdtsc();
    udelay(LAPIC_CAL_US);
    uint32_t ccr = lapic_read(LAPIC_TMR_CCR);
    uint64_t t1 = rdtsc();
    lapic_write(LAPIC_TMR_ICR, 0);
    uint64_t elapsed = 0xffffffffu - ccr;
    if (!elapsed || t1 <= t0) {
        pr_err("timer: LAPIC timer does not count; timers will not fire");
        lapic_per_tsc_q32 = 0;
        return;
    }
    /* elapsed < 2^32, so the shift cannot overflow. */
    lapic_per_tsc_q32 = (elapsed << 32) / (t1 - t0);
    pr_info("timer: LAPIC timer at %llu kHz (divide by 16)",
            (unsigned long long)(elapsed * 1000 / LAPIC_CAL_US));
}

void timer_init_cpu(void)
{
    struct percpu *pc = this_cpu();
    struct timer_cpu *tc = &timer_cpus[pc->cpu_id];

    unsigned long flags = irq_save();
    if (!mode_chosen) {
        use_deadline = lapic_has_tsc_deadline();
        if (!use_deadline)
            measure_lapic_timer();
        irq_register(VEC_TIMER, timer_irq, NULL);
        mode_chosen = true;
        pr_info("timer: per-CPU one-shot timers in %s mode", timer_mode());
    }
    tc->lock = (spinlock_t)SPINLOCK_INIT;
    tc->q.head = NULL;
    tc->q.count = 0;
    tc->cpu = pc->cpu_id;
    pc->timer = tc;
    lapic_timer_setup(VEC_TIMER, use_deadline);
    irq_restore(flags);
}

void timer_resume_cpu(void)
{
    struct timer_cpu *tc = this_cpu()->timer;
    unsigned long flags = irq_save();
    if (tc) {
        lapic_timer_setup(VEC_TIMER, use_deadline);
        spin_lock(&tc->lock);
        program(tc);
        spin_unlock(&tc->lock);
    }
    irq_restore(flags);
}

/* Takes t off whatever queue it is on; interrupts are off. */
static bool detach(struct timer *t)
{
    struct timer_cpu *tc = t->owner;
    if (!tc)
        return false;
    bool removed = false;
    spin_lock(&tc->lock);
    if (t->owner == tc) {
        removed = tq_remove(&tc->q, t);
        t->owner = NULL;
    }
    spin_unlock(&tc->lock);
    /* An early interrupt on tc's CPU is harmless: it finds nothing due. */
    return removed;
}

void timer_add(struct timer *t, uint64_t deadline_tsc)
{
    unsigned long flags = irq_save();
    struct timer_cpu *tc = this_cpu()->timer;
    if (!tc) {
        irq_restore(flags);
        pr_err("timer: timer_add on cpu %u before timer_init_cpu", this_cpu_id());
        return;
    }
    detach(t);
    spin_lock(&tc->lock);
    t->deadline_tsc = deadline_tsc;
    t->owner = tc;
    tq_insert(&tc->q, t);
    /* Always reprogram: should an expiry interrupt ever go missing (seen
     * in Bochs after a guest ran on the CPU), an overdue head timer would
     * otherwise block every later one; a past deadline fires at once. */
    program(tc);
    spin_unlock(&tc->lock);
    irq_restore(flags);
}

bool timer_cancel(struct timer *t)
{
    unsigned long flags = irq_save();
    bool r = detach(t);
    irq_restore(flags);
    return r;
}
