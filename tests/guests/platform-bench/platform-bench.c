/* platform-bench: exit costs in a VM with the whole virtual platform, and
 * the timer-interrupt latency of a (real-time) partition. Bochs' TSC counts
 * emulated instructions, so every figure is an instruction count.
 *
 *   mode=exits (default): TSC ticks per CPUID, per VMCALL, per PM-timer
 *     read (port pmtmr=, 0x608 by default) and per TSC-deadline timer cycle
 *     (program a deadline that is already due, take the interrupt, EOI),
 *     each over iters= round trips. Without a hypervisor (CPUID.1:ECX[31]
 *     clear: the bare machine) only the timer cycle is measured, for
 *     comparison.
 *   mode=rt: a periodic TSC-deadline timer (period= TSC ticks, 1 ms at the
 *     TSC frequency by default) for secs= seconds (10), after a start-up
 *     that touches nothing but the local APIC's x2APIC MSRs. The handler
 *     reads the TSC, re-arms and EOIs; the latency is that TSC minus the
 *     deadline. Prints `rt-bench: measuring` before and min/median/max
 *     after, and nothing in between (a real-time partition then takes no
 *     VM exit at all). With input=1 it first waits for a line typed on its
 *     console, taken by vUART receive interrupts (rt_input.c), which a
 *     real-time partition gets by IPI to the local APIC it owns.
 *   mode=ticks: the PIT and RTC interrupts of a real-time partition,
 *     counted against the TSC (rt_ticks.c).
 *   mode=check: the local APIC behaviour a timer cycle's fast path must
 *     keep, one PASS or FAIL line each (timer_checks.c).
 *   mode=window: the xAPIC window follows IA32_APIC_BASE (x2APIC and back,
 *     disabled, moved), one PASS or FAIL line each (window_checks.c).
 *
 * apic=xapic: mode=exits and mode=check drive the local APIC through its
 * xAPIC MMIO page (EOI, TPR, ICR, LVT as memory writes) instead of the
 * x2APIC MSRs (apic.c); the TSC deadline is an MSR in both modes. */
#include "tests/guests/platform-bench/pbench.h"

#define TIMER_VEC        0x40
#define LVT_TSC_DEADLINE (2u << 17)
#define MAX_SAMPLES      20000u

static volatile uint32_t irqs;
static volatile bool rt_mode;
static volatile uint64_t deadline, period;
static uint32_t samples[MAX_SAMPLES];
static volatile uint32_t nsamples, wanted;

/* Called from isr.S with interrupts off. */
void pbench_timer_irq(void);
void pbench_timer_irq(void)
{
    uint64_t now = rdtsc();
    if (rt_mode) {
        uint64_t late = now - deadline;
        if (nsamples < MAX_SAMPLES)
            samples[nsamples] = late > 0xffffffffu ? 0xffffffffu : (uint32_t)late;
        nsamples++;
        if (nsamples < wanted) {
            deadline += period;
            wrmsr(MSR_TSC_DEADLINE, deadline);
        }
    }
    irqs++;
    pbench_apic_eoi();
}

extern char pbench_isr[];

void pbench_checks(void); /* timer_checks.c */

void pbench_set_gate(unsigned vec, uint32_t handler)
{
    struct {
        uint16_t limit;
        uint32_t base;
    } __attribute__((packed)) idtr;
    __asm__ volatile("sidt %0" : "=m"(idtr));
    uint16_t *g = (uint16_t *)(uintptr_t)(idtr.base + vec * 8);
    g[0] = (uint16_t)handler;
    g[1] = SEL_KCODE;
    g[2] = 0x8e00; /* present, DPL 0, 32-bit interrupt gate */
    g[3] = (uint16_t)(handler >> 16);
}

static bool under_hypervisor(void)
{
    uint32_t a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    return c & (1u << 31);
}

/* x2APIC (or xAPIC with apic=xapic) on, software-enabled, its timer in
 * TSC-deadline mode. */
static bool lapic_setup(void)
{
    uint32_t a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    if (!(d & (1u << 9)) || !(c & (1u << 21)) || !(c & (1u << 24))) {
        printf("platform-bench: no APIC, x2APIC or TSC deadline (cpuid.1 ecx 0x%x edx 0x%x)\n", c,
               d);
        return false;
    }
    pbench_apic_enable();
    pbench_apic_write(APIC_SVR, 0x1ff);
    pbench_apic_write(APIC_LVTT, TIMER_VEC | LVT_TSC_DEADLINE);
    pbench_set_gate(TIMER_VEC, (uint32_t)(uintptr_t)pbench_isr);
    return true;
}

static uint64_t bench_cpuid(uint32_t n)
{
    uint32_t a, b, c, d;
    uint64_t t0 = rdtsc();
    for (uint32_t i = 0; i < n; i++)
        cpuid(0, 0, &a, &b, &c, &d);
    return rdtsc() - t0;
}

static uint64_t bench_vmcall(uint32_t n)
{
    uint64_t t0 = rdtsc();
    for (uint32_t i = 0; i < n; i++)
        (void)hc_version();
    return rdtsc() - t0;
}

static uint64_t bench_pmtimer(uint16_t port, uint32_t n)
{
    uint64_t t0 = rdtsc();
    for (uint32_t i = 0; i < n; i++)
        (void)inl(port);
    return rdtsc() - t0;
}

/* One cycle: a deadline already due, wait for the interrupt (its handler
 * EOIs). Returns 0 when an interrupt never came. */
static uint64_t bench_tscdeadline(uint32_t n)
{
    uint64_t t0 = rdtsc();
    for (uint32_t i = 0; i < n; i++) {
        uint32_t seen = irqs;
        wrmsr(MSR_TSC_DEADLINE, rdtsc());
        __asm__ volatile("sti");
        for (uint32_t spin = 0; irqs == seen; spin++) {
            if (spin > 10000000u) {
                __asm__ volatile("cli");
                return 0;
            }
            __asm__ volatile("" ::: "memory");
        }
        __asm__ volatile("cli");
    }
    return rdtsc() - t0;
}

static void report(const char *what, uint64_t ticks, uint32_t n)
{
    printf("platform-bench: %s %llu cycles/exit over %u iterations\n", what, udiv64(ticks, n, NULL),
           n);
}

static void sort_samples(uint32_t *s, uint32_t n)
{
    /* Shell sort (Ciura's gaps): no recursion, fine for 20,000 entries. */
    static const uint32_t gaps[] = {10941, 4861, 1750, 701, 301, 132, 57, 23, 10, 4, 1};
    for (unsigned g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
        uint32_t gap = gaps[g];
        for (uint32_t i = gap; i < n; i++) {
            uint32_t x = s[i], j = i;
            for (; j >= gap && s[j - gap] > x; j -= gap)
                s[j] = s[j - gap];
            s[j] = x;
        }
    }
}

static uint32_t tsc_khz(void)
{
    uint32_t a, b, c, d, khz = 100000; /* Bochs: ips=100000000 */
    if (under_hypervisor()) {
        cpuid(0x40000010, 0, &a, &b, &c, &d); /* the TSC frequency in kHz */
        if (a)
            khz = a;
    }
    return khz;
}

static void run_rt(void)
{
    uint32_t khz = tsc_khz();
    if (cmdline_get_u32("input", 0))
        pbench_rt_read_line();
    uint32_t secs = cmdline_get_u32("secs", 10);
    period = cmdline_get_u32("period", khz); /* 1 ms */
    if (!period)
        period = khz;
    uint64_t total = (uint64_t)khz * 1000 * secs;
    uint64_t n = udiv64(total, (uint32_t)(period > 0xffffffffu ? 0xffffffffu : period), NULL);
    wanted = n > 0xffffffffu ? 0xffffffffu : (uint32_t)n;
    if (!wanted)
        wanted = 1;
    rt_mode = true;
    printf("rt-bench: measuring: %u periods of %llu TSC ticks (%u s)\n", wanted,
           (unsigned long long)period, secs);
    deadline = rdtsc() + period;
    wrmsr(MSR_TSC_DEADLINE, deadline);
    __asm__ volatile("sti");
    while (nsamples < wanted)
        __asm__ volatile("hlt" ::: "memory");
    __asm__ volatile("cli");
    uint32_t kept = nsamples < MAX_SAMPLES ? nsamples : MAX_SAMPLES;
    sort_samples(samples, kept);
    printf("rt-bench: latency min %u median %u max %u over %u interrupts\n", samples[0],
           samples[kept / 2], samples[kept - 1], nsamples);
}

void guest_main(uint32_t magic, uint32_t mbi)
{
    (void)magic;
    (void)mbi;
    desc_init();
    char mode[8] = "exits";
    cmdline_get("mode", mode, sizeof(mode));
    bool hv = under_hypervisor();
    uint32_t n = cmdline_get_u32("iters", 100000);
    if (!n)
        n = 1;
    pbench_apic_mode_from_cmdline();
    if (!lapic_setup())
        goto out;
    if (!strcmp(mode, "window")) {
        pbench_window_checks(); /* window_checks.c */
        goto out;
    }
    if (!strcmp(mode, "rt")) {
        run_rt();
        goto out;
    }
    if (!strcmp(mode, "ticks")) {
        pbench_rt_ticks(tsc_khz()); /* rt_ticks.c */
        goto out;
    }
    if (!strcmp(mode, "check")) {
        pbench_checks(); /* timer_checks.c */
        goto out;
    }
    if (hv) {
        report("cpuid", bench_cpuid(n), n);
        report("vmcall", bench_vmcall(n), n);
        report("pmtimer", bench_pmtimer((uint16_t)cmdline_get_u32("pmtmr", 0x608), n), n);
    }
    uint64_t t = bench_tscdeadline(n);
    if (!t)
        printf("platform-bench: tscdeadline: no timer interrupt\n");
    else
        report(hv ? "tscdeadline" : "tscdeadline-bare", t, n);
out:
    printf("platform-bench: done\n");
    if (hv)
        guest_exit(0);
    halt_forever();
}
