/* platform: what a multiboot kernel finds at boot (tests/integration/
 * test_platform.py). Prints the protocol, where it was loaded and where the
 * boot information lies, each module it got (string, size, checksum, and
 * whether it sits clear of the kernel, page-aligned, reserved in the memory
 * map), then with `apic` on its command line looks for the PC platform: a
 * local APIC (CPUID, version register, a periodic timer that must interrupt
 * it) and the ACPI RSDP. Lines start with "platform: "; anything wrong is a
 * "platform: FAIL ..." line. Ends with stop-self 0. The same source is
 * built as platform.elf (multiboot2), platform-mb1.elf (v1 only) and
 * platform-low.elf (linked at 0x8000). */
#include "tests/guests/lib/guest.h"

#define MB1_BOOT_MAGIC 0x2badb002u
#define LAPIC          0xfee00000u
#define LAPIC_ID       0x20
#define LAPIC_VERSION  0x30
#define LAPIC_SVR      0xf0
#define LAPIC_LVT_TMR  0x320
#define LAPIC_TMR_INIT 0x380
#define LAPIC_TMR_CUR  0x390
#define LAPIC_TMR_DIV  0x3e0
#define TIMER_VECTOR   0x40
#define WANT_TICKS     5u
#define MAX_MODS       16
#define MAX_MAP        48

extern char __image_start[], __image_end[];
void platform_timer_isr(void);
volatile uint32_t platform_ticks;

struct range {
    uint64_t addr, len;
    uint32_t type;
};

static struct {
    uint32_t start, end;
    char string[80];
} g_mods[MAX_MODS];
static unsigned g_nr_mods;
static struct range g_map[MAX_MAP];
static unsigned g_nr_map;
static uint32_t g_info_size;
static char g_cmdline[512];
static unsigned g_fails;

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        printf("platform: FAIL " __VA_ARGS__);                                                     \
        g_fails++;                                                                                 \
    } while (0)

static void copy_str(char *dst, unsigned size, const char *src, unsigned max)
{
    unsigned i = 0;
    for (; i + 1 < size && i < max && src[i]; i++)
        dst[i] = src[i];
    dst[i] = '\0';
}

static void add_map(uint64_t addr, uint64_t len, uint32_t type)
{
    if (g_nr_map < MAX_MAP)
        g_map[g_nr_map++] = (struct range){addr, len, type};
}

static void add_mod(uint32_t start, uint32_t end, const char *s)
{
    if (g_nr_mods >= MAX_MODS)
        return;
    g_mods[g_nr_mods].start = start;
    g_mods[g_nr_mods].end = end;
    copy_str(g_mods[g_nr_mods].string, sizeof(g_mods[0].string), s, 4096);
    g_nr_mods++;
}

/* Multiboot2: tags of type 1 (cmdline), 3 (module), 6 (memory map). */
static void parse_mb2(uint32_t mbi)
{
    const uint8_t *b = (const uint8_t *)(uintptr_t)mbi;
    uint32_t total = *(const uint32_t *)b, off = 8;
    g_info_size = total;
    while (off + 8 <= total && total < 65536) {
        uint32_t type = *(const uint32_t *)(b + off), size = *(const uint32_t *)(b + off + 4);
        if (size < 8 || size > total - off || type == 0)
            break;
        if (type == 1)
            copy_str(g_cmdline, sizeof(g_cmdline), (const char *)b + off + 8, size - 8);
        if (type == 3 && size >= 17)
            add_mod(*(const uint32_t *)(b + off + 8), *(const uint32_t *)(b + off + 12),
                    (const char *)b + off + 16);
        if (type == 6 && size >= 16) {
            uint32_t esize = *(const uint32_t *)(b + off + 8);
            for (uint32_t e = 16; esize >= 24 && e + esize <= size; e += esize)
                add_map(*(const uint64_t *)(b + off + e), *(const uint64_t *)(b + off + e + 8),
                        *(const uint32_t *)(b + off + e + 16));
        }
        off += (size + 7) & ~7u;
    }
}

/* Multiboot v1: flags bit 2 cmdline, 3 modules, 6 memory map. */
static void parse_mb1(uint32_t mbi)
{
    const uint32_t *w = (const uint32_t *)(uintptr_t)mbi;
    g_info_size = 88;
    if (w[0] & (1u << 2))
        copy_str(g_cmdline, sizeof(g_cmdline), (const char *)(uintptr_t)w[4], 4096);
    if (w[0] & (1u << 3)) {
        const uint32_t *m = (const uint32_t *)(uintptr_t)w[6];
        for (uint32_t i = 0; i < w[5] && i < MAX_MODS; i++)
            add_mod(m[4 * i], m[4 * i + 1], (const char *)(uintptr_t)m[4 * i + 2]);
    }
    if (w[0] & (1u << 6)) {
        uint32_t at = w[12], end = w[12] + w[11];
        while (at + 24 <= end) {
            const uint8_t *e = (const uint8_t *)(uintptr_t)at;
            add_map(*(const uint64_t *)(e + 4), *(const uint64_t *)(e + 12),
                    *(const uint32_t *)(e + 20));
            at += 4 + *(const uint32_t *)e;
        }
    }
}

static bool overlaps(uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    return a < d && c < b;
}

/* The memory-map type covering all of [a, b), or 0 when no one entry does. */
static uint32_t map_type(uint32_t a, uint32_t b)
{
    for (unsigned i = 0; i < g_nr_map; i++)
        if (g_map[i].addr <= a && g_map[i].addr + g_map[i].len >= b)
            return g_map[i].type;
    return 0;
}

static uint32_t fnv1a(const uint8_t *p, uint32_t n)
{
    uint32_t h = 0x811c9dc5u;
    for (uint32_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x01000193u;
    return h;
}

static void show_modules(uint32_t mbi)
{
    uint32_t img0 = (uint32_t)(uintptr_t)__image_start, img1 = (uint32_t)(uintptr_t)__image_end;
    printf("platform: %u modules\n", g_nr_mods);
    for (unsigned i = 0; i < g_nr_mods; i++) {
        uint32_t s = g_mods[i].start, e = g_mods[i].end;
        if (e < s || e - s > 64u << 20) {
            FAIL("module %u: bad range 0x%x-0x%x\n", i, s, e);
            continue;
        }
        printf("platform: module %u '%s' size %u fnv1a 0x%08x\n", i, g_mods[i].string, e - s,
               fnv1a((const uint8_t *)(uintptr_t)s, e - s));
        if (s & 0xfff)
            FAIL("module %u at 0x%x is not page-aligned\n", i, s);
        if (overlaps(s, e, img0, img1))
            FAIL("module %u at 0x%x-0x%x overlaps the kernel\n", i, s, e);
        if (overlaps(s, e, mbi, mbi + g_info_size))
            FAIL("module %u at 0x%x-0x%x overlaps the boot information\n", i, s, e);
        for (unsigned j = 0; j < i; j++)
            if (overlaps(s, e, g_mods[j].start, g_mods[j].end))
                FAIL("modules %u and %u overlap\n", j, i);
        if (map_type(s, e) != 2)
            FAIL("module %u at 0x%x-0x%x is not reserved in the memory map (type %u)\n", i, s, e,
                 map_type(s, e));
    }
}

static volatile uint32_t *lapic(unsigned reg)
{
    return (volatile uint32_t *)(uintptr_t)(LAPIC + reg);
}

static bool find_rsdp(uint32_t *at)
{
    for (uint32_t p = 0xe0000; p < 0x100000; p += 16) {
        const char *s = (const char *)(uintptr_t)p;
        if (s[0] == 'R' && s[1] == 'S' && s[2] == 'D' && s[3] == ' ' && s[4] == 'P' &&
            s[5] == 'T' && s[6] == 'R' && s[7] == ' ') {
            *at = p;
            return true;
        }
    }
    return false;
}

/* The local APIC's periodic timer at TIMER_VECTOR, taken with IF=1. */
static void lapic_timer(void)
{
    struct {
        uint16_t limit;
        uint32_t base;
    } __attribute__((packed)) idtr;
    desc_init();
    __asm__ volatile("sidt %0" : "=m"(idtr));
    uint32_t isr = (uint32_t)(uintptr_t)platform_timer_isr;
    volatile uint32_t *gate = (volatile uint32_t *)(uintptr_t)(idtr.base + TIMER_VECTOR * 8);
    gate[0] = (SEL_KCODE << 16) | (isr & 0xffff);
    gate[1] = (isr & 0xffff0000u) | 0x8e00; /* present 32-bit interrupt gate */

    *lapic(LAPIC_SVR) = 0x1ff;                         /* enabled, spurious vector 0xff */
    *lapic(LAPIC_TMR_DIV) = 0xb;                       /* divide by 1 */
    *lapic(LAPIC_LVT_TMR) = TIMER_VECTOR | (1u << 17); /* periodic */
    *lapic(LAPIC_TMR_INIT) = 200000;
    uint32_t cur = *lapic(LAPIC_TMR_CUR);
    if (cur == 0 || cur > 200000)
        FAIL("timer current count 0x%x after arming with 200000\n", cur);
    uint64_t t0 = rdtsc();
    __asm__ volatile("sti");
    while (platform_ticks < WANT_TICKS && rdtsc() - t0 < 4000000000ull)
        cpu_relax();
    __asm__ volatile("cli");
    *lapic(LAPIC_LVT_TMR) = TIMER_VECTOR | (1u << 16); /* masked */
    uint32_t ticks = platform_ticks;
    if (ticks < WANT_TICKS)
        FAIL("lapic timer: %u of %u interrupts\n", ticks, WANT_TICKS);
    else
        printf("platform: lapic timer: %u periodic interrupts at vector 0x%x\n", WANT_TICKS,
               TIMER_VECTOR);
}

static void probe_platform(void)
{
    uint32_t a, b, c, d, at;
    cpuid(1, 0, &a, &b, &c, &d);
    bool apic = d & (1u << 9);
    printf("platform: cpuid apic=%u x2apic=%u tsc-deadline=%u\n", apic ? 1 : 0, (c >> 21) & 1,
           (c >> 24) & 1);
    if (find_rsdp(&at))
        printf("platform: acpi rsdp at 0x%x\n", at);
    else
        printf("platform: no acpi rsdp\n");
    if (!apic) {
        /* A bare partition: the window is absent (reads all-ones). */
        printf("platform: no local APIC; version register reads 0x%x\n", *lapic(LAPIC_VERSION));
        return;
    }
    uint32_t ver = *lapic(LAPIC_VERSION);
    printf("platform: local APIC id %u version 0x%x max lvt %u\n", *lapic(LAPIC_ID) >> 24,
           ver & 0xff, ((ver >> 16) & 0xff) + 1);
    lapic_timer();
}

void guest_main(uint32_t magic, uint32_t mbi)
{
    const char *proto = "unknown";
    if (magic == MB2_BOOT_MAGIC) {
        proto = "multiboot2";
        parse_mb2(mbi);
    } else if (magic == MB1_BOOT_MAGIC) {
        proto = "multiboot1";
        parse_mb1(mbi);
    } else {
        FAIL("boot magic 0x%x\n", magic);
    }
    printf("platform: %s, loaded at 0x%x, boot information at 0x%x, cmdline '%s'\n", proto,
           (uint32_t)(uintptr_t)__image_start, mbi, g_cmdline);
    if (overlaps(mbi, mbi + g_info_size, (uint32_t)(uintptr_t)__image_start,
                 (uint32_t)(uintptr_t)__image_end))
        FAIL("the boot information overlaps the kernel\n");
    if (map_type(mbi, mbi + g_info_size) != 2)
        FAIL("the boot information at 0x%x is not reserved in the memory map (type %u)\n", mbi,
             map_type(mbi, mbi + g_info_size));
    show_modules(mbi);
    bool want_apic = false;
    for (const char *p = g_cmdline; *p; p++)
        if (p[0] == 'a' && p[1] == 'p' && p[2] == 'i' && p[3] == 'c' &&
            (p == g_cmdline || p[-1] == ' '))
            want_apic = true;
    if (want_apic)
        probe_platform();
    printf("platform: done, %u failures\n", g_fails);
    hc_stop_self(0);
    halt_forever();
}
