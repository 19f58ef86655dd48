/* CR8 is the guest's task priority, never the host's: what it writes must
 * read back after the CPU ran another vCPU (the `fill` neighbour writes
 * 9), and CR8 = 15 must not mask the host's timer and IPIs. The attack
 * ends spinning with CR8 = 15: the test destroys the VM and checks that the
 * console still answers. */
#include "tests/guests/hostile64/hostile64.h"

void attack_cr8(void)
{
    uint32_t rounds = cmdline_get_u32("rounds", 200);
    uint64_t c0 = read_cr8();
    printf("hostile: cr8 at start %llu\n", (unsigned long long)c0);
    if (c0 != 0)
        breach("cr8 reads %llu at start, not 0", (unsigned long long)c0);
    for (uint32_t round = 1; round <= rounds; round++) {
        uint64_t want = 2 + round % 5; /* 2-6: never the neighbour's 9 */
        write_cr8(want);
        hc_yield();
        uint64_t got = read_cr8();
        if (got != want) {
            breach("cr8 reads %llu after a yield, wrote %llu (round %u)", (unsigned long long)got,
                   (unsigned long long)want, round);
            break;
        }
    }
    uint32_t last = cmdline_get_u32("final", 15) & 15;
    write_cr8(last);
    printf("hostile: cr8 %u (read back %llu), spinning\n", last, (unsigned long long)read_cr8());
    char how[8] = "pause";
    cmdline_get("spin", how, sizeof(how));
    if (strcmp(how, "plain") == 0)
        for (;;)
            __asm__ volatile("" ::: "memory");
    if (strcmp(how, "sti") == 0)
        __asm__ volatile("sti");
    for (;;)
        cpu_relax();
}
