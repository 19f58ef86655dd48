/* platform-bench mode=check: what the fast path of a timer cycle (WRMSR
 * IA32_TSC_DEADLINE, the EOI, the interrupt window) must keep of the
 * local APIC's behaviour, one PASS or FAIL line each:
 *   past-deadline: a deadline already due, written with interrupts on, is
 *     taken before the next instruction;
 *   future-deadline: a deadline 200,000 TSC ticks ahead is taken, at most
 *     50,000 ticks late (the hypervisor must arm a timer for it: nothing
 *     else in this VM would make its vCPU exit);
 *   eoi-next: a lower-priority self-IPI sent from the timer handler waits
 *     for its EOI and is taken right after the handler returns;
 *   masked-window: a deadline due while interrupts are off is taken at the
 *     STI, not earlier;
 *   tpr-masks: with the TPR (x2APIC MSR 0x808, or xAPIC offset 0x80) above the timer's class, a
 *     due deadline is held with interrupts on, and taken as soon as the
 *     TPR is lowered again (with virtual-interrupt delivery the CPU must
 *     see every TPR the guest writes);
 *   level-eoi: level_check.c. */
#include "tests/guests/platform-bench/pbench.h"

#define CHECK_TIMER_VEC  0x42
#define CHECK_IPI_VEC    0x32
#define LVT_TSC_DEADLINE (2u << 17)
#define ICR_SELF         (1u << 18)
#define ICR_ASSERT       (1u << 14)

void pbench_set_gate(unsigned vec, uint32_t handler);
bool pbench_level_check(void);
void pbench_check_timer_irq(void);
void pbench_check_ipi_irq(void);
extern char pbench_check_timer_isr[], pbench_check_ipi_isr[];

static volatile uint32_t stage, timer_stage, timer_irqs, ipi_irqs, ipi_timer_done;
static volatile uint64_t timer_tsc;
static volatile bool send_ipi_in_handler, in_timer_handler;

static inline void wrmsr64(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

void pbench_check_timer_irq(void)
{
    timer_tsc = rdtsc();
    timer_stage = stage;
    in_timer_handler = true;
    if (send_ipi_in_handler) /* lower class than the timer: waits for the EOI */
        pbench_apic_self_ipi(ICR_SELF | ICR_ASSERT | CHECK_IPI_VEC);
    timer_irqs++;
    in_timer_handler = false;
    pbench_apic_eoi();
}

void pbench_check_ipi_irq(void)
{
    ipi_timer_done = timer_irqs; /* the timer's handler ran to its end first */
    ipi_irqs++;
    pbench_apic_eoi();
}

static void result(const char *name, bool ok)
{
    printf("platform-bench: check %s: %s", name, ok ? "PASS" : "FAIL");
}

/* Spins with interrupts on until the timer's handler ran or `ticks` pass. */
static bool wait_timer(uint32_t seen, uint64_t ticks)
{
    uint64_t t0 = rdtsc();
    while (timer_irqs == seen)
        if (rdtsc() - t0 > ticks)
            return false;
    return true;
}

void pbench_checks(void)
{
    pbench_apic_write(APIC_LVTT, CHECK_TIMER_VEC | LVT_TSC_DEADLINE);
    pbench_set_gate(CHECK_TIMER_VEC, (uint32_t)(uintptr_t)pbench_check_timer_isr);
    pbench_set_gate(CHECK_IPI_VEC, (uint32_t)(uintptr_t)pbench_check_ipi_isr);

    /* past-deadline */
    uint32_t seen = timer_irqs;
    stage = 1;
    __asm__ volatile("sti" ::: "memory");
    wrmsr64(MSR_TSC_DEADLINE, 1);
    stage = 2;
    bool got = wait_timer(seen, 10000000);
    __asm__ volatile("cli" ::: "memory");
    result("past-deadline", got && timer_stage == 1);
    printf(" (taken %s, at stage %u)\n", got ? "yes" : "no", timer_stage);

    /* future-deadline */
    seen = timer_irqs;
    uint64_t dl = rdtsc() + 200000;
    wrmsr64(MSR_TSC_DEADLINE, dl);
    __asm__ volatile("sti" ::: "memory");
    got = wait_timer(seen, 20000000);
    __asm__ volatile("cli" ::: "memory");
    uint64_t late = got ? timer_tsc - dl : 0;
    result("future-deadline", got && timer_tsc >= dl && late < 50000);
    printf(" (taken %s, %llu ticks late)\n", got ? "yes" : "no", (unsigned long long)late);

    /* eoi-next */
    seen = timer_irqs;
    uint32_t ipis = ipi_irqs;
    send_ipi_in_handler = true;
    wrmsr64(MSR_TSC_DEADLINE, 1);
    __asm__ volatile("sti" ::: "memory");
    got = wait_timer(seen, 10000000);
    for (uint32_t spin = 0; ipi_irqs == ipis && spin < 1000000; spin++)
        __asm__ volatile("" ::: "memory");
    __asm__ volatile("cli" ::: "memory");
    send_ipi_in_handler = false;
    result("eoi-next", got && ipi_irqs - ipis == 1 && ipi_timer_done == timer_irqs);
    printf(" (timer %s, ipi %u, after the timer's handler %s)\n", got ? "yes" : "no",
           ipi_irqs - ipis, ipi_timer_done == timer_irqs ? "yes" : "no");

    /* masked-window */
    seen = timer_irqs;
    stage = 3;
    wrmsr64(MSR_TSC_DEADLINE, 1);
    for (volatile uint32_t spin = 0; spin < 20000; spin++)
        ;
    bool early = timer_irqs != seen;
    stage = 4;
    __asm__ volatile("sti" ::: "memory");
    got = wait_timer(seen, 10000000);
    __asm__ volatile("cli" ::: "memory");
    result("masked-window", got && !early && timer_stage == 4);
    printf(" (taken %s, %s, at stage %u)\n", got ? "yes" : "no",
           early ? "early" : "not before the sti", timer_stage);

    /* tpr-masks */
    seen = timer_irqs;
    stage = 5;
    pbench_apic_write(APIC_TPR, 0x50); /* class 5: masks vector 0x42 */
    wrmsr64(MSR_TSC_DEADLINE, 1);
    __asm__ volatile("sti" ::: "memory");
    for (volatile uint32_t spin = 0; spin < 20000; spin++)
        ;
    early = timer_irqs != seen;
    stage = 6;
    pbench_apic_write(APIC_TPR, 0);
    got = wait_timer(seen, 10000000);
    __asm__ volatile("cli" ::: "memory");
    result("tpr-masks", got && !early && timer_stage == 6);
    printf(" (taken %s, %s, at stage %u)\n", got ? "yes" : "no",
           early ? "despite the TPR" : "not before the TPR was lowered", timer_stage);

    pbench_level_check(); /* level_check.c */
}
