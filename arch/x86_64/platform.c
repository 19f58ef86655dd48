#include "arch/x86_64/platform.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/panic.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/pic.h"
#include "lib/log.h"

void platform_init_interrupts(void)
{
    struct percpu *bsp = this_cpu();

    /* The BIOS left the 8259 on the exception vectors. */
    pic_remap_and_mask();
    if (lapic_init())
        panic("no usable local APIC: interrupts and SMP are impossible");
    bsp->apic_id = lapic_id();
    bsp->online = true;
    if (!nr_cpus)
        nr_cpus = 1;
    ioapic_init();
    ipi_init();
    tsc_calibrate();
    timer_init_cpu();
}

/* Boot check of the cross-CPU plumbing: each AP takes an IPI call that arms
 * a 1 ms timer there; the timer callback reports back. */
#define CHECK_DELAY_NS   1000000ULL
#define CHECK_TIMEOUT_NS 100000000ULL

struct cpu_check {
    struct timer t;
    uint64_t armed, fired;
};
static struct cpu_check checks[MAX_CPUS];

static void check_fired(struct timer *t, void *arg)
{
    struct cpu_check *c = arg;
    __atomic_store_n(&c->fired, rdtsc(), __ATOMIC_RELEASE);
}

static void check_arm(void *arg)
{
    struct cpu_check *c = arg;
    timer_setup(&c->t, check_fired, c);
    c->armed = rdtsc();
    timer_add(&c->t, c->armed + ns_to_tsc(CHECK_DELAY_NS));
}

static void check_aps(void)
{
    unsigned asked = 0, ok = 0;
    for (unsigned i = 1; i < MAX_CPUS; i++) {
        if (!cpus[i] || !cpus[i]->online)
            continue;
        asked++;
        checks[i].fired = 0;
        if (ipi_call(i, check_arm, &checks[i], true))
            checks[i].armed = 0;
    }
    if (!asked)
        return;
    uint64_t end = rdtsc() + ns_to_tsc(CHECK_TIMEOUT_NS);
    for (unsigned i = 1; i < MAX_CPUS; i++) {
        if (!cpus[i] || !cpus[i]->online)
            continue;
        while (checks[i].armed && !__atomic_load_n(&checks[i].fired, __ATOMIC_ACQUIRE) &&
               rdtsc() < end)
            cpu_relax();
        if (!checks[i].armed) {
            pr_err("smp: cpu %u did not run an IPI call", i);
        } else if (!checks[i].fired) {
            pr_err("smp: cpu %u: a 1 ms timer did not fire within 100 ms", i);
        } else {
            ok++;
            pr_debug("smp: cpu %u: IPI call ok, 1 ms timer fired after %llu us", i,
                     (unsigned long long)(tsc_to_ns(checks[i].fired - checks[i].armed) / 1000));
        }
    }
    if (ok == asked)
        pr_info("smp: IPI calls and timers work on %u of %u APs", ok, asked);
}

void platform_start_aps(void)
{
    smp_start_aps();
    check_aps();
}
