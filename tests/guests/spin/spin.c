/* spin: CPU-bound forever loop for scheduler and isolation tests. Prints
 * "spin NAME: COUNTER" every every= loop iterations. */
#include "tests/guests/lib/guest.h"

/* About 3 instructions per iteration: ~0.3 s per line under Bochs at
 * ~100M instructions/s, far faster on hardware. */
#define DEFAULT_EVERY 10000000u

void guest_main(uint32_t magic, uint32_t mbi)
{
    char name[32] = "spin";
    (void)magic;
    (void)mbi;

    cmdline_get("name", name, sizeof(name));
    uint32_t every = cmdline_get_u32("every", DEFAULT_EVERY);
    uint32_t count = cmdline_get_u32("count", 0); /* 0: forever */
    bool yield = cmdline_get_u32("yield", 0) != 0;
    bool halt = cmdline_get_u32("halt", 0) != 0; /* at count: idle instead of stopping */
    /* RFLAGS.IF=1 (no IDT: only where nothing is ever injected): Bochs 2.7
     * takes no external-interrupt exit from a guest with IF=0, so tests of
     * host-timer preemption need it. */
    bool sti = cmdline_get_u32("sti", 0) != 0;
    if (every == 0)
        every = 1;

    printf("spin %s: start, every %u iterations\n", name, every);
    if (sti)
        __asm__ volatile("sti");
    for (uint32_t line = 1;; line++) {
        /* The empty asm keeps the loop from being optimised away. */
        for (uint32_t i = 0; i < every; i++)
            __asm__ volatile("" ::: "memory");
        printf("spin %s: %u\n", name, line);
        if (yield)
            hc_yield();
        if (count && line >= count)
            break;
    }
    printf("spin %s: done\n", name);
    if (halt) {
        /* An idle VM: halted with interrupts off, nothing wakes it. */
        printf("spin %s: halted\n", name);
        for (;;)
            __asm__ volatile("cli; hlt");
    }
    guest_exit(0);
}
