/* What lwIP needs from its platform: a millisecond clock, random numbers,
 * atoi, and where its diagnostics go. */
#include <stdarg.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/tsc.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lwip/arch.h"
#include "lwip/sys.h"

/* Milliseconds from the calibrated TSC; wraps as lwIP expects of a u32_t. */
u32_t sys_now(void)
{
    uint64_t khz = tsc_khz();
    return (u32_t)(khz ? rdtsc() / khz : 0);
}

static bool have_rdrand(void)
{
    static int known = -1;
    if (known < 0)
        known = (cpuid(1).ecx >> 30) & 1;
    return known;
}

/* TCP initial sequence numbers, DHCP transaction IDs and local ports:
 * RDRAND where the CPU has it, else a xorshift seeded from the TSC (the
 * TSC's low bits at each call still stir it). */
unsigned net_random(void)
{
    static uint64_t state;
    if (have_rdrand()) {
        uint64_t v;
        for (int i = 0; i < 10; i++) {
            unsigned char ok;
            __asm__ volatile("rdrand %0; setc %1" : "=r"(v), "=qm"(ok));
            if (ok)
                return (unsigned)v;
        }
    }
    state ^= rdtsc() * 0x9e3779b97f4a7c15ull;
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (unsigned)(state >> 11);
}

int atoi(const char *s)
{
    int v = 0, neg = 0;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (*s++ - '0');
    return neg ? -v : v;
}

void net_lwip_diag(const char *fmt, ...)
{
    char buf[200];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    pr_debug("lwip: %s", buf);
}

void net_lwip_assert(const char *msg, int line, const char *file)
{
    pr_err("lwip: assertion failed at %s:%d: %s", file, line, msg);
}
