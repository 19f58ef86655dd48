/* Application processors: INIT, then SIPI (repeated until the AP reports),
 * or INIT-SIPI-SIPI with no delay at all, through the local APIC's ICR,
 * one AP at a time, each on its own stack.
 * The VM needs a virtual local APIC (`platform = pc` or a Linux VM). */
#include "tests/guests/lib64/lib64.h"

#define LAPIC_BASE 0xfee00000ull
#define LAPIC_ID   0x20
#define LAPIC_SVR  0xf0
#define LAPIC_ICRL 0x300
#define LAPIC_ICRH 0x310
#define TRAMP_BASE 0x7000 /* trampoline64.S: the SIPI vector is 0x07 */
#define ICR_SIPI   0x4600

extern const uint8_t lib64_tramp_start[], lib64_tramp_end[];
void lib64_load_idt(void);
void lib64_fpu_init(void);

/* Read by trampoline64.S before the AP has a stack of its own. */
volatile uint64_t lib64_ap_stack;
static uint8_t g_stacks[LIB64_MAX_CPUS][16384] __attribute__((aligned(16)));
static void (*volatile g_ap_fn)(unsigned);
static volatile unsigned g_ap_index;
static volatile unsigned g_ap_online;

static inline volatile uint32_t *lapic(unsigned reg)
{
    return (volatile uint32_t *)(uintptr_t)(LAPIC_BASE + reg);
}

unsigned smp_cpu_id(void)
{
    return *lapic(LAPIC_ID) >> 24;
}

static void delay_ms(uint32_t ms)
{
    int32_t khz = hypercall(HC_GET_TSC_KHZ, 0, 0, 0, 0);
    uint64_t ticks = (uint64_t)(khz > 0 ? (uint32_t)khz : 1000000u) * ms;
    uint64_t t0 = rdtsc();
    while (rdtsc() - t0 < ticks)
        cpu_relax();
}

void smp_send_ipi(unsigned apic_id, uint32_t low)
{
    *lapic(LAPIC_ICRH) = apic_id << 24;
    *lapic(LAPIC_ICRL) = low;
}

void lib64_ap_main(void);
void lib64_ap_main(void)
{
    unsigned me = g_ap_index;
    lib64_load_idt();
    lib64_fpu_init();
    __atomic_store_n(&g_ap_online, me, __ATOMIC_RELEASE);
    g_ap_fn(me);
    halt_forever();
}

static bool ap_online(unsigned i)
{
    return __atomic_load_n(&g_ap_online, __ATOMIC_ACQUIRE) == i;
}

/* The MP protocol with its delays: INIT, 10 ms, then SIPI until it answers. */
static bool start_with_delays(unsigned i)
{
    smp_send_ipi(i, SMP_ICR_INIT);
    delay_ms(10);
    for (unsigned tries = 0; tries < 20; tries++) {
        smp_send_ipi(i, ICR_SIPI | (TRAMP_BASE >> 12));
        for (unsigned w = 0; w < 50; w++) {
            delay_ms(1);
            if (ap_online(i))
                return true;
        }
    }
    return false;
}

/* INIT, SIPI, SIPI back to back, then up to a second for the AP. */
static bool start_back_to_back(unsigned i)
{
    smp_send_ipi(i, SMP_ICR_INIT);
    smp_send_ipi(i, ICR_SIPI | (TRAMP_BASE >> 12));
    smp_send_ipi(i, ICR_SIPI | (TRAMP_BASE >> 12));
    for (unsigned w = 0; w < 1000; w++) {
        if (ap_online(i))
            return true;
        delay_ms(1);
    }
    return false;
}

static unsigned start_aps(unsigned n, void (*fn)(unsigned cpu), bool (*start)(unsigned))
{
    unsigned started = 0;
    size_t len = (size_t)(lib64_tramp_end - lib64_tramp_start);
    if (n > LIB64_MAX_CPUS)
        n = LIB64_MAX_CPUS;
    memcpy((void *)(uintptr_t)TRAMP_BASE, lib64_tramp_start, len);
    *lapic(LAPIC_SVR) = 0x1ff; /* software-enable, spurious vector 0xff */
    g_ap_fn = fn;
    for (unsigned i = 1; i < n; i++) {
        g_ap_index = i;
        g_ap_online = 0;
        lib64_ap_stack = (uint64_t)(uintptr_t)(g_stacks[i] + sizeof(g_stacks[i]));
        bool up = start(i);
        if (!up) {
            printf("lib64: cpu %u did not start\n", i);
            break;
        }
        started++;
    }
    return started;
}

unsigned smp_start_aps(unsigned n, void (*fn)(unsigned cpu))
{
    return start_aps(n, fn, start_with_delays);
}

unsigned smp_start_aps_back_to_back(unsigned n, void (*fn)(unsigned cpu))
{
    return start_aps(n, fn, start_back_to_back);
}

bool smp_restart_ap_back_to_back(unsigned i)
{
    if (i == 0 || i >= LIB64_MAX_CPUS || !g_ap_fn)
        return false;
    g_ap_index = i;
    g_ap_online = 0;
    lib64_ap_stack = (uint64_t)(uintptr_t)(g_stacks[i] + sizeof(g_stacks[i]));
    return start_back_to_back(i);
}
