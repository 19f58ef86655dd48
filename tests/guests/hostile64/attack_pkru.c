/* attack=pkru-leak: protection-key rights (PKRU) across vCPU switches.
 * Two VMs share a CPU, each with its own value (value=N on the command
 * line): each turns CR4.PKE on, checks PKRU starts at 0 (not the
 * neighbour's), then writes its value, yields, and checks that it reads
 * it back, rounds=N times. Without PKU in CPUID (a CPU without it, or a
 * hypervisor that hides it) it says so and survives: nothing to leak. */
#include "tests/guests/hostile64/hostile64.h"

#define CR4_PKE (1ull << 22)

static inline uint32_t rdpkru(void)
{
    uint32_t eax, edx;
    __asm__ volatile("rdpkru" : "=a"(eax), "=d"(edx) : "c"(0));
    return eax;
}
static inline void wrpkru(uint32_t v)
{
    __asm__ volatile("wrpkru" : : "a"(v), "c"(0), "d"(0) : "memory");
}

void attack_pkru_leak(void)
{
    uint32_t a, b, c, d;
    cpuid(7, 0, &a, &b, &c, &d);
    if (!(c & (1u << 3))) {
        printf("hostile: pkru-leak: no PKU in CPUID.7.0:ECX\n");
        return;
    }
    write_cr4(read_cr4() | CR4_PKE);
    cpuid(7, 0, &a, &b, &c, &d);
    if (!(c & (1u << 4)))
        breach("CPUID.7.0:ECX.OSPKE is 0 with CR4.PKE set");
    uint32_t value = cmdline_get_u32("value", 0x55555554u);
    uint32_t rounds = cmdline_get_u32("rounds", 300);
    hc_yield(); /* let the neighbour set its PKRU first */
    uint32_t start = rdpkru();
    if (start != 0)
        breach("PKRU reads 0x%x at start, not 0", start);
    for (uint32_t round = 1; round <= rounds; round++) {
        wrpkru(value ^ (round & 1 ? 0 : 0xc)); /* two values of our own */
        hc_yield();
        uint32_t want = value ^ (round & 1 ? 0 : 0xc), got = rdpkru();
        if (got != want) {
            breach("PKRU reads 0x%x after a yield, wrote 0x%x (round %u)", got, want, round);
            return;
        }
    }
    printf("hostile: pkru-leak 0x%x kept over %u yields\n", value, rounds);
}
