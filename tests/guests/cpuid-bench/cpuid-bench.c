/* cpuid-bench: average TSC cycles per CPUID (leaf 0) and per VMCALL
 * (HC_VERSION) round trip, over iters= iterations. Both exit
 * unconditionally, so this is the VM exit + entry cost plus the handler. */
#include "tests/guests/lib/guest.h"

#define DEFAULT_ITERS 1000000u

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

void guest_main(uint32_t magic, uint32_t mbi)
{
    (void)magic;
    (void)mbi;
    uint32_t n = cmdline_get_u32("iters", DEFAULT_ITERS);
    if (n == 0)
        n = 1;

    printf("cpuid-bench: cpuid %llu cycles/exit over %u iterations\n",
           udiv64(bench_cpuid(n), n, NULL), n);
    printf("cpuid-bench: vmcall %llu cycles/exit over %u iterations\n",
           udiv64(bench_vmcall(n), n, NULL), n);
    guest_exit(0);
}
