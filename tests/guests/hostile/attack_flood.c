/* console-flood: console-write hypercalls in a loop, as fast as the guest
 * can make them, each a 4 KiB buffer of short numbered lines. The
 * hypervisor must keep answering its console, keep showing the other VMs'
 * lines and still be able to destroy this VM: it drops this VM's excess
 * output (counted in `stats`) instead of waiting for the UART. Every call
 * must succeed and return the full length: anything else is a BREACH (the
 * guest asked nothing wrong). rounds=N stops after N calls (default: never,
 * until destroyed). */
#include "tests/guests/lib/guest.h"

#define FLOOD_BUF 4096

static char g_flood[FLOOD_BUF];

/* "flood NNNNNNNN\n" lines (15 bytes) fill the buffer; the last one is cut
 * to fit, which is fine: the next call goes on with a new line. */
static unsigned fill(uint32_t round)
{
    static const char hex[] = "0123456789abcdef";
    unsigned n = 0;
    while (n + 15 <= FLOOD_BUF) {
        memcpy(g_flood + n, "flood ", 6);
        for (int i = 0; i < 8; i++)
            g_flood[n + 6 + i] = hex[(round >> (28 - 4 * i)) & 0xf];
        g_flood[n + 14] = '\n';
        n += 15;
        round++;
    }
    return n;
}

void attack_console_flood(void)
{
    uint32_t rounds = cmdline_get_u32("rounds", 0);
    uint32_t line = 0;
    printf("hostile: console-flood: %s\n",
           rounds ? "flooding for a number of calls" : "flooding until destroyed");
    for (uint32_t r = 0; !rounds || r < rounds; r++) {
        unsigned len = fill(line);
        line += len / 15;
        int32_t got = hc_console_write((uint32_t)(uintptr_t)g_flood, len);
        if (got != (int32_t)len) {
            printf("hostile: BREACH console-flood: console write of %u bytes returned %d\n", len,
                   got);
            return;
        }
    }
}
