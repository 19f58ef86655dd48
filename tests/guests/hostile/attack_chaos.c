/* attack=stop-random: a guest that ends itself at a random moment, in a
 * random way, for the lifecycle stress test (test_lifecycle_stress): it
 * runs a random number of short busy rounds, printing one line each, then
 * stops itself (HC_STOP_SELF), resets itself through 0xCF9 (with the PC
 * platform), triple-faults, or spins on with `hlt` and interrupts off
 * until the console stops it. The seed is the TSC mixed with `seed=`, so
 * every boot differs. */
#include "tests/guests/lib/guest.h"

#include "tests/guests/hostile/attacks.h"

static uint32_t g_rng;

static uint32_t next_random(void)
{
    /* xorshift32 */
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 17;
    g_rng ^= g_rng << 5;
    return g_rng;
}

void attack_stop_random(void)
{
    g_rng = (uint32_t)rdtsc() ^ cmdline_get_u32("seed", 0x9e3779b9u);
    if (!g_rng)
        g_rng = 1;
    uint32_t rounds = 1 + next_random() % 24;
    uint32_t how = next_random() % 4;
    printf("hostile: stop-random %u rounds, then way %u\n", rounds, how);
    for (uint32_t i = 1; i <= rounds; i++) {
        for (volatile uint32_t k = next_random() % 2000000; k; k--)
            ;
        printf("hostile: stop-random round %u\n", i);
        if (next_random() % 4 == 0)
            hc_yield();
    }
    switch (how) {
    case 0:
        printf("hostile: stop-random stops itself\n");
        guest_exit(0);
    case 1:
        printf("hostile: stop-random resets\n");
        outb(0xcf9, 0x06);
        break;
    case 2:
        printf("hostile: stop-random triple-faults\n");
        load_empty_idt();
        __asm__ volatile("ud2");
        break;
    default:
        printf("hostile: stop-random halts with interrupts off\n");
        break;
    }
    for (;;)
        __asm__ volatile("cli; hlt");
}
