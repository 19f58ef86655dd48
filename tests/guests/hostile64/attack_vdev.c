/* Device models shared by vCPUs: every vCPU of the VM hammers the vUART
 * (bytes without newlines, so its line buffer fills and wraps while others
 * write; and console-write hypercalls into the same vUART), the vIOAPIC
 * (select/window pairs on masked redirection entries), the CMOS index and
 * the PIT latch, all at once. The hypervisor must stay up, and every line
 * it prints for this VM must fit the vUART's 240-character line (the test
 * checks). Needs `platform = pc` and vcpus > 1 for APs. */
#include "tests/guests/hostile64/hostile64.h"

#define UART        0x3f8
#define IOAPIC_SEL  ((volatile uint32_t *)(uintptr_t)0xfec00000u)
#define IOAPIC_WIN  ((volatile uint32_t *)(uintptr_t)0xfec00010u)
#define IOAPIC_MASK 0x10000u

static uint32_t g_iters;
static volatile unsigned g_done;
static volatile uint32_t g_bad_version;

static void hammer(unsigned cpu)
{
    static char msgs[LIB64_MAX_CPUS][48];
    char *msg = msgs[cpu % LIB64_MAX_CPUS];
    unsigned len = 0;
    for (const char *s = "hypercall line from cpu "; *s; s++)
        msg[len++] = *s;
    msg[len++] = (char)('0' + cpu % 10);
    msg[len++] = '\n';

    for (uint32_t i = 0; i < g_iters; i++) {
        outb(UART, (uint8_t)('a' + cpu % 26));
        /* Redirection entry 8+cpu: masked, so nothing is ever delivered. */
        *IOAPIC_SEL = 0x10 + 2 * (8 + cpu % 8);
        *IOAPIC_WIN = IOAPIC_MASK | (0x40 + cpu);
        *IOAPIC_SEL = 0x01; /* version: 0x11 in bits 7:0 unless someone moved SEL */
        uint32_t ver = *IOAPIC_WIN;
        if ((ver & 0xff) != 0x11 && (ver & 0xff) != 0x40 + cpu)
            g_bad_version = ver; /* another vCPU's select in between is fine */
        if (i % 64 == 0) {
            outb(0x70, (uint8_t)(i & 0x3f)); /* CMOS index, then data */
            (void)inb(0x71);
            outb(0x43, 0x00); /* latch PIT channel 0, read it */
            (void)inb(0x40);
            (void)inb(0x40);
        }
        if (i % 512 == 0)
            hc_console_write((uint32_t)(uintptr_t)msg, len);
    }
    __atomic_add_fetch(&g_done, 1, __ATOMIC_SEQ_CST);
}

void attack_vdev_race(void)
{
    unsigned want = cmdline_get_u32("vcpus", 4);
    g_iters = cmdline_get_u32("iters", 20000);
    if (want < 1 || want > LIB64_MAX_CPUS)
        want = 4;
    unsigned n = 1 + smp_start_aps(want, hammer);
    hammer(0);
    uint64_t t0 = rdtsc();
    while (__atomic_load_n(&g_done, __ATOMIC_SEQ_CST) < n) {
        if (rdtsc() - t0 > (1ull << 36)) {
            printf("\nhostile: vdev-race only %u of %u vcpus finished\n", g_done, n);
            return;
        }
        cpu_relax();
    }
    printf("\nhostile: vdev-race %u vcpus done, %u rounds each\n", n, g_iters);
    if (g_bad_version)
        printf("hostile: vdev-race saw ioapic window 0x%x (a racing select; allowed)\n",
               g_bad_version);
    if (n < want)
        breach("only %u of %u vcpus started", n, want);
}
