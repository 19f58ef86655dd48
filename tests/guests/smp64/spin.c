/* smp64's two-vCPU modes (smp64.c picks them by mode=):
 *   mode=spin      vCPU 0 and vCPU 1 hand a token back and forth, each
 *                  spinning with PAUSE and interrupts off until the other
 *                  answers (as Linux's TSC synchronisation check does while
 *                  it brings up an AP), for spin_ms of guest time; prints
 *                  "smp64: spin: N rounds in M ms". Both on one physical
 *                  CPU, each round needs the spinner to give way: PAUSE-loop
 *                  exiting makes that take microseconds, without it every
 *                  hand-over waits for the end of a time slice.
 *   mode=init-bsp  AP 1 sends INIT to the BSP: a PC restarts at its reset
 *                  vector, Bulkhead restarts the VM. The BSP reports FAIL if
 *                  it still runs a second later.
 * Both then halt (the test reads `stats` or waits for the restart). */
#include "tests/guests/lib64/lib64.h"

void smp64_spin(uint32_t ms, uint64_t tsc_khz);
void smp64_init_bsp(uint64_t tsc_khz);

static volatile uint32_t g_token, g_spin_stop, g_ap_up;

static void spin_ap(unsigned cpu)
{
    (void)cpu;
    __asm__ volatile("cli" : : : "memory");
    __atomic_store_n(&g_ap_up, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&g_spin_stop, __ATOMIC_ACQUIRE)) {
        uint32_t t = __atomic_load_n(&g_token, __ATOMIC_ACQUIRE);
        if (t & 1)
            __atomic_store_n(&g_token, t + 1, __ATOMIC_RELEASE); /* answer */
        else
            cpu_relax();
    }
    halt_forever();
}

void smp64_spin(uint32_t ms, uint64_t tsc_khz)
{
    if (smp_start_aps_back_to_back(2, spin_ap) != 1) {
        printf("smp64: FAIL spin: cpu 1 did not start\n");
        guest_exit(1);
    }
    while (!__atomic_load_n(&g_ap_up, __ATOMIC_ACQUIRE))
        cpu_relax();
    printf("smp64: spin: start\n");
    __asm__ volatile("cli" : : : "memory");
    uint64_t t0 = rdtsc(), limit = tsc_khz * ms;
    uint32_t rounds = 0;
    while (rdtsc() - t0 < limit) {
        uint32_t want = 2 * rounds + 2;
        __atomic_store_n(&g_token, want - 1, __ATOMIC_RELEASE); /* odd: AP's turn */
        while (__atomic_load_n(&g_token, __ATOMIC_ACQUIRE) != want && rdtsc() - t0 < limit)
            cpu_relax();
        if (__atomic_load_n(&g_token, __ATOMIC_ACQUIRE) != want)
            break;
        rounds++;
    }
    __atomic_store_n(&g_spin_stop, 1, __ATOMIC_RELEASE);
    printf("smp64: spin: %u rounds in %u ms\n", rounds, ms);
    halt_forever();
}

static void init_bsp_ap(unsigned cpu)
{
    (void)cpu;
    printf("smp64: init-bsp: cpu 1 sends INIT to the BSP\n");
    smp_send_ipi(0, SMP_ICR_INIT); /* APIC ID 0 */
    halt_forever();
}

void smp64_init_bsp(uint64_t tsc_khz)
{
    if (smp_start_aps_back_to_back(2, init_bsp_ap) != 1) {
        printf("smp64: FAIL init-bsp: cpu 1 did not start\n");
        guest_exit(1);
    }
    /* The INIT stops this vCPU at its next exit, whatever it does. */
    uint64_t t0 = rdtsc();
    while (rdtsc() - t0 < tsc_khz * 1000)
        cpu_relax();
    printf("smp64: FAIL init-bsp: the BSP still runs a second after the INIT\n");
    guest_exit(1);
}
