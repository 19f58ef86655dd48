/* A real-time VM's device timers on the housekeeping CPU (rt_ticks.h). */
#include "vdev/rt_ticks.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/ipi.h"
#include "arch/x86_64/timer.h"
#include "arch/x86_64/tsc.h"
#include "vdev/platform.h"
#include "vcpu/vm.h"
#include "lib/format.h"
#include "lib/log.h"

/* The platform lock was taken (the console CPU delivering input to the
 * VM, say, when the timer interrupted it): try again this much later
 * rather than spin on a lock our own CPU may hold. */
#define RETRY_NS 20000
/* At most one arm call per this long: a guest reprogramming its PIT in a
 * loop costs CPU 0 one timer run per 100 us, and a deadline moved earlier
 * meanwhile is at most this late. */
#define ARM_GAP_NS 100000

#define HOUSEKEEPING_CPU 0

static uint64_t next_deadline(const struct vm_platform *p)
{
    uint64_t next = vpit_next_deadline(&p->pit);
    uint64_t d = vrtc_next_deadline(&p->rtc);
    if (d < next)
        next = d;
    d = vpm_next_deadline(&p->pm);
    return d < next ? d : next;
}

/* On the housekeeping CPU, in interrupt context. */
static void fired(struct timer *tm, void *arg)
{
    struct vm_platform *p = arg;
    struct rt_ticks *t = &p->rt;
    if (__atomic_load_n(&t->stopping, __ATOMIC_ACQUIRE))
        return;
    if (!spin_trylock(&p->lock)) {
        t->busy_retries++;
        timer_add(tm, rdtsc() + ns_to_tsc(RETRY_NS));
        return;
    }
    uint64_t now = rdtsc();
    bool unread = p->rtc.irq_level; /* the last RTC interrupt's C not read yet */
    vpit_tick(&p->pit, now);
    vrtc_tick(&p->rtc, now);
    vpm_tick(&p->pm, now);
    uint64_t next = next_deadline(p);
    /* The RTC has no deadline while IRQ 8 waits for the guest to read C,
     * which its handler does next: stay armed for the next period, so that
     * read (an exit on its CPU) finds the timer armed and need not call
     * this CPU. Once only: a guest that leaves C unread for a whole
     * period stops the timer. */
    t->rtc_grace = p->rtc.irq_level && !(unread && t->rtc_grace);
    if (t->rtc_grace) {
        uint64_t pf = vrtc_next_periodic(&p->rtc, now);
        if (pf < next)
            next = pf;
    }
    t->runs++;
    t->armed_at = next;
    /* Arm requests deferred until quiet_until are served by a run then. */
    uint64_t quiet = __atomic_load_n(&t->quiet_until, __ATOMIC_ACQUIRE);
    if (now < quiet && quiet < next)
        next = quiet;
    if (next != VDEV_NEVER)
        timer_add(tm, next);
    spin_unlock(&p->lock);
}

void rt_ticks_init(struct vm_platform *p)
{
    struct rt_ticks *t = &p->rt;
    timer_setup(&t->timer, fired, p);
    t->cpu = HOUSEKEEPING_CPU;
    t->armed_at = VDEV_NEVER;
    t->stopping = false;
    t->arm_pending = false;
    t->quiet_until = 0;
}

bool rt_ticks_need_arm(struct vm_platform *p)
{
    struct rt_ticks *t = &p->rt;
    uint64_t next = next_deadline(p);
    if (next >= t->armed_at)
        return false; /* the armed timer comes first; it re-arms itself */
    t->armed_at = next;
    return true;
}

/* On the housekeeping CPU, in interrupt context (an IPI call): the
 * deadline is read afresh, the timer callback may have moved it. */
static void arm_here(void *arg)
{
    struct vm_platform *p = arg;
    struct rt_ticks *t = &p->rt;
    uint64_t quiet = rdtsc() + ns_to_tsc(ARM_GAP_NS);
    __atomic_store_n(&t->quiet_until, quiet, __ATOMIC_RELEASE);
    __atomic_store_n(&t->arm_pending, false, __ATOMIC_RELEASE);
    uint64_t at = __atomic_load_n(&t->armed_at, __ATOMIC_ACQUIRE);
    if (__atomic_load_n(&t->stopping, __ATOMIC_ACQUIRE) || at == VDEV_NEVER)
        return;
    timer_add(&t->timer, at < quiet ? at : quiet);
}

void rt_ticks_arm(struct vm_platform *p)
{
    struct rt_ticks *t = &p->rt;
    if (rdtsc() < __atomic_load_n(&t->quiet_until, __ATOMIC_ACQUIRE) ||
        __atomic_exchange_n(&t->arm_pending, true, __ATOMIC_ACQ_REL)) {
        __atomic_add_fetch(&t->arms_deferred, 1, __ATOMIC_RELAXED);
        return;
    }
    __atomic_add_fetch(&t->arm_calls, 1, __ATOMIC_RELAXED);
    if (ipi_call(t->cpu, arm_here, p, false) == 0)
        return;
    __atomic_store_n(&t->arm_pending, false, __ATOMIC_RELEASE);
    /* Not armed: forget the deadline, so the next device access tries
     * again instead of believing a timer is on its way. */
    spin_lock(&p->lock);
    t->armed_at = VDEV_NEVER;
    spin_unlock(&p->lock);
    pr_warn("vm %s: the housekeeping CPU did not take the device timer; retried at the next "
            "device access",
            p->vm ? p->vm->cfg.name : "?");
}

static void nothing(void *arg) {}

bool rt_ticks_stop(struct vm_platform *p)
{
    struct rt_ticks *t = &p->rt;
    __atomic_store_n(&t->stopping, true, __ATOMIC_RELEASE);
    timer_cancel(&t->timer);
    /* A callback (the timer's, or an arm call) already running on the
     * housekeeping CPU runs with interrupts off, and its CPU takes one IPI
     * call after the other: once this empty call has run, none is left.
     * On that CPU itself, ipi_call runs it at once: nothing is running. */
    bool quiet = ipi_call(t->cpu, nothing, NULL, true) == 0;
    timer_cancel(&t->timer); /* in case that callback had re-armed it */
    return quiet;
}

bool rt_ticks_describe(const struct vm *vm, char *buf, unsigned len)
{
    const struct vm_platform *p = vm->platform;
    if (vm->state != VM_RUNNING || !p || !p->rt_ticked)
        return false;
    fmt_snprintf(buf, len,
                 "device ticks on cpu %u: %llu timer runs (%llu retried, %llu armed by IPI, %llu "
                 "deferred); pit "
                 "irq0 %llu, %llu periods coalesced; rtc irq8 %llu, %llu periods coalesced",
                 p->rt.cpu, (unsigned long long)p->rt.runs, (unsigned long long)p->rt.busy_retries,
                 (unsigned long long)p->rt.arm_calls, (unsigned long long)p->rt.arms_deferred,
                 (unsigned long long)p->pit.irqs, (unsigned long long)p->pit.coalesced,
                 (unsigned long long)p->rtc.irqs, (unsigned long long)p->rtc.coalesced);
    return true;
}
