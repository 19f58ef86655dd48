/* attack=tsc-write (needs `platform=pc`): moves its TSC 2^40 cycles ahead
 * with WRMSR IA32_TSC, then arms the local APIC's TSC-deadline timer a
 * million cycles after the new "now" and polls the IRR (interrupts off)
 * for the timer's vector. The vLAPIC must count the same guest TSC the
 * guest reads: with a stale offset the deadline lies 2^40 cycles away and
 * the timer never fires. */
#include "tests/guests/lib/guest.h"

#include "tests/guests/hostile/attacks.h"

#define LAPIC_BASE      0xfee00000u
#define LAPIC_SVR       0xf0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_IRR2      0x220 /* vectors 64-95 */
#define TIMER_VECTOR    0x40
#define MSR_TSC         0x10
#define MSR_TSC_DEADL   0x6e0

static volatile uint32_t *lapic(unsigned off)
{
    return (volatile uint32_t *)(uintptr_t)(LAPIC_BASE + off);
}

void attack_tsc_write(void)
{
    uint32_t a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    if (!(c & (1u << 24))) {
        printf("hostile: tsc-write: no TSC-deadline timer (CPUID.1:ECX[24])\n");
        return;
    }
    *lapic(LAPIC_SVR) = 0x1ff;                           /* software enable, spurious vector 0xff */
    *lapic(LAPIC_LVT_TIMER) = TIMER_VECTOR | (2u << 17); /* TSC-deadline mode */
    uint64_t before = rdtsc();
    wrmsr(MSR_TSC, before + (1ull << 40));
    printf("hostile: tsc-write moved the TSC by 0x%llx\n", rdtsc() - before);
    uint64_t now = rdtsc();
    wrmsr(MSR_TSC_DEADL, now + 20000000); /* 20 million cycles from now */
    uint64_t start = rdtsc(), waited = 0;
    bool fired = false;
    while ((waited = rdtsc() - start) < 400000000ull) {
        if (*lapic(LAPIC_IRR2) & (1u << (TIMER_VECTOR - 64))) {
            fired = true;
            break;
        }
    }
    uint32_t rem;
    printf("hostile: tsc-write deadline timer %s after %llu million cycles\n",
           fired ? "fired" : "did not fire", udiv64(waited, 1000000, &rem));
}
