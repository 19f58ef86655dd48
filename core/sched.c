#include "core/sched.h"
#include "core/sched_policy.h"
#include "core/time_share.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/ipi.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/timer.h"
#include "arch/x86_64/tsc.h"
#include "vdev/virq.h"
#include "vcpu/vcpu_switch.h"
#include "vm/vm.h"
#include "vcpu/vm_sched.h"
#include "lib/log.h"
#include "lib/spinlock.h"
#include "hvm/backend.h"
#include "vcpu/hvm.h"

struct run_queue {
    spinlock_t lock;
    struct vcpu *vcpus[SCHED_MAX_PER_CPU];
    unsigned n;
    unsigned next;     /* round-robin cursor */
    struct vcpu *last; /* whose non-VMCS state is in the registers */
    /* CPU time (TSC cycles), read by `cpus` on the console CPU. busy_cycles
     * holds finished turns, turn_start the start of the one running (0:
     * none); acct_seq is odd while they change, so a reader on another CPU
     * retries instead of seeing a turn counted twice or not at all. */
    volatile uint64_t busy_cycles, turn_start;
    volatile uint32_t acct_seq;
    uint64_t loop_start;             /* when this CPU started scheduling */
    struct timer wake_timer;         /* the next device deadline of a blocked vCPU */
    volatile uint64_t wake_armed_at; /* wake_timer's deadline; VTIME_NEVER: not armed */
    uint64_t blocked_deadline;       /* earliest device deadline of a blocked vCPU */
    struct vcpu *volatile running;
    struct vcpu *yielded; /* gave up its last turn: others go first, once */
    struct vm *spin_vm;   /* yielded spinning (PAUSE loop): its siblings first */
    /* When the turn in progress ends (its slice; 0: unbounded). A sibling
     * a PAUSE-loop yield picks gets only the rest of it, so two vCPUs of
     * one VM passing the CPU back and forth cannot keep it from others. */
    uint64_t turn_deadline;
    volatile bool running_alone; /* entered without a slice: nothing ends its turn */
};

static struct run_queue queues[MAX_CPUS];

_Static_assert(VTIME_NEVER == SCHED_NO_DEADLINE, "one 'no deadline' value");

static int sched_add(struct vcpu *v)
{
    if (v->pcpu >= MAX_CPUS || !cpus[v->pcpu] || !cpus[v->pcpu]->online)
        return -1;
    struct run_queue *q = &queues[v->pcpu];
    spin_lock(&q->lock);
    if (q->n >= SCHED_MAX_PER_CPU) {
        spin_unlock(&q->lock);
        return -1;
    }
    q->vcpus[q->n] = v;
    __atomic_store_n(&q->n, q->n + 1, __ATOMIC_RELEASE); /* sched_sibling_runnable */
    spin_unlock(&q->lock);
    /* A vCPU running without a slice would keep the CPU from the new one. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    struct vcpu *cur = q->running;
    if (cur && q->running_alone)
        cur->kick = true;
    if (v->pcpu != this_cpu_id())
        ipi_resched(v->pcpu);
    return 0;
}

/* A real-time vCPU takes its CPU's interrupts itself: only an NMI makes it
 * exit (docs/realtime.md). The second NMI covers one that arrives between
 * the run loop's last look at its requests and the entry. */
static void kick_realtime(struct vcpu *v)
{
    if (v->pcpu == this_cpu_id() || v->pcpu >= MAX_CPUS || !cpus[v->pcpu])
        return;
    lapic_send_nmi(cpus[v->pcpu]->apic_id);
    uint64_t t0 = rdtsc(), wait = tsc_khz() / 10; /* 100 us */
    while (rdtsc() - t0 < wait)
        cpu_relax();
    lapic_send_nmi(cpus[v->pcpu]->apic_id);
}

static void sched_kick(struct vcpu *v)
{
    v->kick = true;
    if (v->vm_info.realtime)
        kick_realtime(v);
    else if (v->pcpu != this_cpu_id())
        ipi_resched(v->pcpu);
}

static void sched_wake_op(struct vcpu *v)
{
    sched_wake(v);
}

/* On v's CPU, while v runs there: only that CPU removes from its queue;
 * another CPU's sched_add appends (the slot before the count), so a
 * lock-free look sees whole entries. */
static bool sched_sibling_runnable(struct vcpu *v)
{
    struct run_queue *q = &queues[v->pcpu];
    unsigned n = __atomic_load_n(&q->n, __ATOMIC_ACQUIRE);
    for (unsigned i = 0; i < n && i < SCHED_MAX_PER_CPU; i++) {
        struct vcpu *s = q->vcpus[i];
        if (s != v && s->vm == v->vm && s->state == VCPU_RUNNABLE && !s->stop_request)
            return true;
    }
    return false;
}

static const struct vm_sched_ops ops = {sched_add, sched_kick, sched_wake_op,
                                        sched_sibling_runnable};

void sched_init(void)
{
    vm_sched_ops = &ops;
}

/* An interrupt for v: unblock it, and make its CPU look (an IPI wakes an
 * idle CPU, or makes the running guest exit so the interrupt is injected
 * at once). No kick of v: that would end v's own turn early and starve it;
 * whether the vCPU running there gives way is sched_wake_ends_turn's. */
void sched_wake(struct vcpu *v)
{
    /* A real-time vCPU never blocks (HLT does not exit) and takes no
     * emulated interrupts: a reschedule IPI would land in its IDT. */
    if (v->vm_info.realtime)
        return;
    if (v->state == VCPU_BLOCKED || (v->state == VCPU_PAUSED && !v->pause_request))
        v->state = VCPU_RUNNABLE;
    /* End the running vCPU's turn when it had the CPU to itself (it runs
     * without a slice: v would wait forever) or when v outranks it. */
    struct run_queue *q = &queues[v->pcpu];
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    struct vcpu *cur = q->running;
    if (cur && cur != v &&
        sched_wake_ends_turn(q->running_alone, cur->vm == v->vm, cur->vm->cfg.priority,
                             v->vm->cfg.priority))
        cur->kick = true;
    if (v->pcpu != this_cpu_id())
        ipi_resched(v->pcpu);
}

static void remove_at(struct run_queue *q, unsigned i)
{
    spin_lock(&q->lock);
    for (unsigned j = i; j + 1 < q->n; j++)
        q->vcpus[j] = q->vcpus[j + 1];
    q->n--;
    if (q->next >= q->n)
        q->next = 0;
    spin_unlock(&q->lock);
}

static void wake_fired(struct timer *t, void *arg)
{
    ((struct run_queue *)arg)->wake_armed_at = VTIME_NEVER;
}

/* A halted vCPU wakes when its VM's devices have an interrupt for it; the
 * CPU sleeps until the earliest device deadline of its halted vCPUs. */
static void check_blocked(struct run_queue *q, struct vcpu *v, uint64_t *next)
{
    if (!v->vm->platform || v->state != VCPU_BLOCKED)
        return;
    uint64_t d = vm_timers_tick(v->vm, rdtsc());
    if (d < *next)
        *next = d;
    /* In wait-for-SIPI only a SIPI wakes it (vdev/virq.h). */
    if (vcpu_wakeup_pending(v) || (v->nmi_pending && !v->waiting_sipi))
        v->state = VCPU_RUNNABLE;
}

/* Retires vCPUs of stopping VMs; returns the number still runnable. */
static unsigned reap_and_count(struct run_queue *q)
{
    unsigned runnable = 0;
    uint64_t next = VTIME_NEVER;
    for (unsigned i = 0; i < q->n;) {
        struct vcpu *v = q->vcpus[i];
        if (v->stop_request) {
            vcpu_backend->unload(v); /* VMCLEAR and INVEPT here, on its CPU */
            if (q->last == v)
                q->last = NULL;
            if (q->yielded == v)
                q->yielded = NULL;
            remove_at(q, i);
            vm_vcpu_stopped(v);
            continue;
        }
        check_blocked(q, v, &next);
        if (v->pause_request && v->state == VCPU_RUNNABLE)
            v->state = VCPU_PAUSED;
        if (v->state == VCPU_RUNNABLE)
            runnable++;
        i++;
    }
    q->blocked_deadline = next;
    /* Idle: sleep until the earliest deadline (re-armed when it moved). */
    if (!runnable && next < q->wake_armed_at) {
        q->wake_armed_at = next;
        timer_add(&q->wake_timer, next);
    }
    return runnable;
}

static bool reap_pending(struct run_queue *q)
{
    for (unsigned i = 0; i < q->n; i++)
        if (q->vcpus[i]->stop_request)
            return true;
    return false;
}

static struct vcpu *pick(struct run_queue *q)
{
    struct sched_candidate c[SCHED_MAX_PER_CPU];
    unsigned n = q->n;
    for (unsigned i = 0; i < n; i++) {
        struct vcpu *v = q->vcpus[i];
        c[i] =
            (struct sched_candidate){v->state == VCPU_RUNNABLE && !v->stop_request, v == q->yielded,
                                     v->vm->cfg.priority, v->vm == q->spin_vm && v != q->yielded};
    }
    int i = sched_pick_index(c, n, &q->next);
    return i < 0 ? NULL : q->vcpus[i];
}

static bool other_runnable(struct run_queue *q, struct vcpu *v)
{
    for (unsigned i = 0; i < q->n; i++)
        if (q->vcpus[i] != v && q->vcpus[i]->state == VCPU_RUNNABLE)
            return true;
    return false;
}

static void turn_begin(struct run_queue *q, uint64_t t0)
{
    q->acct_seq++;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    q->turn_start = t0;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    q->acct_seq++;
}

static void turn_end(struct run_queue *q, uint64_t t1)
{
    q->acct_seq++;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    q->busy_cycles += t1 - q->turn_start;
    q->turn_start = 0;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    q->acct_seq++;
}

static uint64_t slice_tsc(struct vcpu *v)
{
    uint64_t us = v->vm->cfg.slice_us ? v->vm->cfg.slice_us : SCHED_DEFAULT_SLICE_US;
    return tsc_khz() * us / 1000;
}

void sched_cpu_loop(bool console_cpu, void (*console_poll)(void))
{
    unsigned cpu = this_cpu_id();
    struct run_queue *q = &queues[cpu];
    bool vmx_ok = hvm_cpu_enable() == 0;

    vcpu_switch_cpu_init();
    q->loop_start = rdtsc();
    timer_setup(&q->wake_timer, wake_fired, q);
    q->wake_armed_at = VTIME_NEVER;
    for (;;) {
        /* An interrupt after this point (a timer, a wake-up IPI, console
         * input) may have news the checks below missed: no sleeping then. */
        uint64_t irqs_seen = this_cpu()->irqs;
        if (console_poll)
            console_poll();
        unsigned runnable = reap_and_count(q);
        /* A PAUSE-loop yield passes the rest of its turn to a sibling,
         * without moving the round-robin cursor: the turn is the same. */
        unsigned cursor = q->next;
        if (q->spin_vm && !(q->turn_deadline && q->turn_deadline > rdtsc()))
            q->spin_vm = NULL; /* its turn is over: the usual order */
        struct vcpu *v = vmx_ok ? pick(q) : NULL;
        bool inherited = v && q->spin_vm && v->vm == q->spin_vm;
        if (inherited)
            q->next = cursor;
        q->yielded = NULL; /* a yield counts for one choice */
        q->spin_vm = NULL;
        if (!v) {
            irq_disable();
            /* Check again with interrupts off, then sleep: sti;hlt back to
             * back so a wake-up cannot slip between them. An interrupt taken
             * since the top of the loop (the wake timer firing while it was
             * being armed, say) means look again instead. */
            if (this_cpu()->irqs == irqs_seen && !pick(q) && !reap_pending(q))
                irq_enable_and_halt();
            irq_enable();
            continue;
        }
        if (q->last != v) {
            if (q->last)
                vcpu_state_save(q->last);
            vcpu_state_load(v);
            q->last = v;
        }
        /* Alone on a CPU: no slice, unless the console shares it. */
        uint64_t slice = (runnable > 1 || console_cpu) ? slice_tsc(v) : 0;
        uint64_t t0 = rdtsc();
        if (inherited)
            slice = q->turn_deadline > t0 ? q->turn_deadline - t0 : 1;
        slice = sched_turn_length(slice, t0, q->blocked_deadline);
        q->running_alone = !slice;
        q->running = v;
        /* Pairs with the fence in sched_wake: a wake-up that came before
         * `running` was visible is seen here, and gets v a slice. */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (!slice && other_runnable(q, v)) {
            slice = slice_tsc(v);
            q->running_alone = false;
        }
        if (!inherited)
            q->turn_deadline = slice ? t0 + slice : 0;
        /* The backend counts v's root time from v->entry_tsc (its last
         * exit) to its next entry: start it at this turn, or the time v
         * was halted or other vCPUs ran would count as v's root time. */
        v->entry_tsc = t0;
        turn_begin(q, t0);
        enum vcpu_run_result r = vcpu_backend->run(v, slice);
        uint64_t t1 = rdtsc();
        turn_end(q, t1);
        /* The root time after v's last exit (handling it, leaving run). */
        v->root_cycles += t1 - v->entry_tsc;
        v->entry_tsc = t1;
        q->running = NULL;
        q->running_alone = false;
        switch (r) {
        case RUN_HALTED:
            if (!v->stop_request && !v->nmi_pending)
                v->state = VCPU_BLOCKED;
            break;
        case RUN_YIELDED:
            q->yielded = v;
            /* A PAUSE loop (vcpu/exit_pause.c): it waits for a sibling. */
            q->spin_vm = v->spin_yield ? v->vm : NULL;
            v->spin_yield = false;
            break;
        case RUN_PREEMPTED:
        case RUN_STOPPED:
            break;
        }
    }
}

unsigned sched_queue_length(unsigned cpu)
{
    return cpu < MAX_CPUS ? queues[cpu].n : 0;
}

void sched_cpu_time(unsigned cpu, uint64_t *busy, uint64_t *since, uint64_t *at)
{
    *busy = 0;
    *since = 0;
    *at = rdtsc();
    if (cpu >= MAX_CPUS)
        return;
    struct run_queue *q = &queues[cpu];
    uint64_t done, start, now = *at;
    uint32_t seq;
    for (unsigned tries = 0; tries < 1000; tries++) {
        seq = q->acct_seq;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        done = q->busy_cycles;
        start = q->turn_start;
        now = rdtsc();
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (!(seq & 1) && seq == q->acct_seq)
            break;
    }
    *busy = share_busy_at(done, start, now);
    *since = q->loop_start;
    *at = now;
}
