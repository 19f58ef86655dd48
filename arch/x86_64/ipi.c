#include "arch/x86_64/ipi.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/irq.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/panic.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/tsc.h"
#include "lib/log.h"
#include "lib/spinlock.h"

#define IPI_TIMEOUT_NS   100000000ULL
#define IPI_KICK_NS      1000000ULL /* then an NMI brings the target out of a guest */
#define PANIC_TIMEOUT_NS 100000000ULL
#define NMI_LOG_GAP_NS   1000000000ULL

/* One call in flight per target CPU. */
struct call_slot {
    spinlock_t lock; /* held by the sender until the target took the call */
    void (*fn)(void *);
    void *arg;
    uint64_t seq;      /* of the call in fn/arg */
    uint32_t pending;  /* 1: fn/arg/seq are valid and not yet taken */
    uint64_t done_seq; /* last seq that returned */
    uint64_t next_seq;
};

static struct call_slot slots[MAX_CPUS];
static uint64_t nmi_counts[MAX_CPUS];
static uint32_t nmi_kicks[MAX_CPUS]; /* NMIs sent by kick_with_nmi, not yet seen */
static uint64_t nmi_last_log[MAX_CPUS];
void (*ipi_resched_hook)(void);

static bool cpu_usable(unsigned cpu)
{
    return cpu < MAX_CPUS && cpus[cpu] && cpus[cpu]->online;
}

/* Takes the call waiting for this CPU, if any. Interrupts are off. */
static void take_call(void)
{
    struct call_slot *s = &slots[this_cpu_id()];
    if (!__atomic_load_n(&s->pending, __ATOMIC_ACQUIRE))
        return;
    void (*fn)(void *) = s->fn;
    void *arg = s->arg;
    uint64_t seq = s->seq;
    uint32_t one = 1;
    /* Loses to a sender that gave up and withdrew the call. */
    if (!__atomic_compare_exchange_n(&s->pending, &one, 0, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        return;
    fn(arg);
    __atomic_store_n(&s->done_seq, seq, __ATOMIC_RELEASE);
}

static void call_irq(struct irq_frame *f, void *arg)
{
    take_call();
}

void ipi_poll(void)
{
    unsigned long flags = irq_save();
    take_call();
    irq_restore(flags);
}

/* While we spin with interrupts off, serve calls aimed at us: two CPUs
 * calling each other must not both wait out the timeout. */
static void wait_poll(void)
{
    if (!irq_enabled())
        take_call();
    cpu_relax();
}

/*
 * A CPU running a guest takes an interrupt through an external-interrupt
 * VM exit. Bochs 2.7 delivers none while the guest runs with RFLAGS.IF=0
 * (it keeps interrupts masked from the VM entry on), so a CPU that runs
 * such a guest alone, with no time slice, would never see the call. Every
 * VM exits on an NMI: the exit handler hands the NMI to nmi_handler()
 * below, and the run loop, enabling interrupts, then takes the call.
 */
static void kick_with_nmi(unsigned cpu)
{
    __atomic_add_fetch(&nmi_kicks[cpu], 1, __ATOMIC_SEQ_CST);
    if (lapic_send_nmi(cpus[cpu]->apic_id))
        __atomic_sub_fetch(&nmi_kicks[cpu], 1, __ATOMIC_SEQ_CST);
}

int ipi_call(unsigned cpu, void (*fn)(void *), void *arg, bool wait)
{
    if (!cpu_usable(cpu) || !fn) {
        pr_err("ipi: cpu %u is not online", cpu);
        return -1;
    }
    if (cpu == this_cpu_id()) {
        unsigned long flags = irq_save();
        fn(arg);
        irq_restore(flags);
        return 0;
    }
    struct call_slot *s = &slots[cpu];
    uint64_t end = rdtsc() + ns_to_tsc(IPI_TIMEOUT_NS);
    while (!spin_trylock(&s->lock)) {
        if (rdtsc() > end) {
            pr_warn("ipi: call slot of cpu %u stayed busy; call dropped", cpu);
            return -1;
        }
        wait_poll();
    }
    uint64_t seq = ++s->next_seq;
    s->fn = fn;
    s->arg = arg;
    s->seq = seq;
    __atomic_store_n(&s->pending, 1, __ATOMIC_RELEASE);
    int r = lapic_send_ipi(cpus[cpu]->apic_id, VEC_IPI_CALL);

    uint64_t kick_at = rdtsc() + ns_to_tsc(IPI_KICK_NS);
    bool kicked = false;
    while (__atomic_load_n(&s->pending, __ATOMIC_ACQUIRE) && rdtsc() < end) {
        if (!kicked && rdtsc() > kick_at) {
            kick_with_nmi(cpu);
            kicked = true;
        }
        wait_poll();
    }
    uint32_t one = 1;
    if (__atomic_compare_exchange_n(&s->pending, &one, 0, false, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE)) {
        spin_unlock(&s->lock);
        pr_warn("ipi: cpu %u did not take the call%s; withdrawn", cpu, r ? " (ICR busy)" : "");
        return -1;
    }
    /* Taken: the target copied fn/arg, so the slot is free for the next. */
    spin_unlock(&s->lock);
    if (!wait)
        return 0;
    while (__atomic_load_n(&s->done_seq, __ATOMIC_ACQUIRE) < seq) {
        if (rdtsc() > end) {
            pr_warn("ipi: call on cpu %u still running after 100 ms", cpu);
            return -1;
        }
        wait_poll();
    }
    return 0;
}

int ipi_call_all_others(void (*fn)(void *), void *arg, bool wait)
{
    int r = 0;
    unsigned me = this_cpu_id();
    for (unsigned i = 0; i < MAX_CPUS; i++)
        if (i != me && cpu_usable(i) && ipi_call(i, fn, arg, wait))
            r = -1;
    return r;
}

void ipi_resched(unsigned cpu)
{
    if (cpu_usable(cpu))
        lapic_send_ipi(cpus[cpu]->apic_id, VEC_IPI_RESCHED);
}

void ipi_resched_nmi(unsigned cpu)
{
    ipi_resched(cpu);
    if (cpu_usable(cpu))
        kick_with_nmi(cpu);
}

static void resched_irq(struct irq_frame *f, void *arg)
{
    if (ipi_resched_hook)
        ipi_resched_hook();
}

uint64_t ipi_nmi_count(unsigned cpu)
{
    return cpu < MAX_CPUS ? __atomic_load_n(&nmi_counts[cpu], __ATOMIC_RELAXED) : 0;
}

/* GS_BASE may be unset very early; NMIs can arrive any time. */
static struct percpu *current_percpu(void)
{
    return (struct percpu *)rdmsr(MSR_IA32_GS_BASE);
}

static void nmi_handler(struct irq_frame *f)
{
    struct percpu *pc = current_percpu();
    unsigned cpu = pc ? pc->cpu_id : 0;
    if (cpu >= MAX_CPUS)
        return;
    /* Our own kick (kick_with_nmi): it has done its work by arriving. */
    uint32_t kicks = __atomic_load_n(&nmi_kicks[cpu], __ATOMIC_SEQ_CST);
    while (kicks && !__atomic_compare_exchange_n(&nmi_kicks[cpu], &kicks, kicks - 1, false,
                                                 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        ;
    if (kicks)
        return;
    uint64_t n = __atomic_add_fetch(&nmi_counts[cpu], 1, __ATOMIC_RELAXED);
    uint64_t now = rdtsc();
    /* The log takes a try-lock only, so it is safe here; rate-limit it. */
    if (n == 1 || now - nmi_last_log[cpu] > ns_to_tsc(NMI_LOG_GAP_NS)) {
        nmi_last_log[cpu] = now;
        pr_warn("nmi: unexpected NMI on cpu %u at rip 0x%llx (%llu so far)", cpu,
                (unsigned long long)f->rip, (unsigned long long)n);
    }
}

/* panic(): NMI every other online CPU and give them 100 ms to park. No
 * locks, no logging: we may have interrupted their holders. */
static void panic_stop_others(void)
{
    struct percpu *me = current_percpu();
    for (unsigned i = 0; i < MAX_CPUS; i++) {
        struct percpu *pc = cpus[i];
        if (pc && pc != me && pc->online)
            lapic_send_nmi(pc->apic_id);
    }
    uint64_t end = rdtsc() + ns_to_tsc(PANIC_TIMEOUT_NS);
    for (;;) {
        bool all = true;
        for (unsigned i = 0; i < MAX_CPUS; i++) {
            struct percpu *pc = cpus[i];
            if (pc && pc != me && pc->online && !pc->halted_by_panic)
                all = false;
        }
        if (all || rdtsc() > end)
            return;
        cpu_relax();
    }
}

void ipi_init(void)
{
    irq_register(VEC_IPI_CALL, call_irq, NULL);
    irq_register(VEC_IPI_RESCHED, resched_irq, NULL);
    nmi_hook = nmi_handler;
    panic_stop_others_hook = panic_stop_others;
}

static volatile unsigned parked_cpus;

static void leave_and_park(void *arg)
{
    ((void (*)(void))arg)();
    __atomic_add_fetch(&parked_cpus, 1, __ATOMIC_SEQ_CST);
    for (;;) {
        irq_disable();
        halt();
    }
}

void ipi_park_all_others(void (*leave)(void))
{
    unsigned others = 0;
    for (unsigned c = 0; c < MAX_CPUS; c++)
        if (cpus[c] && cpus[c]->online && c != this_cpu_id())
            others++;
    ipi_call_all_others(leave_and_park, (void *)leave, false);
    for (unsigned long i = 0; i < 100000000UL && parked_cpus < others; i++)
        cpu_relax();
    leave();
}
