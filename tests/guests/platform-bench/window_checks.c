/* platform-bench mode=window apic=xapic: the xAPIC MMIO window behaves as
 * the local APIC's mode, enable bit and base say, however the hypervisor
 * backs it (emulated MMIO, or an APIC-access page the CPU virtualizes),
 * one PASS or FAIL line each:
 *   xapic: the version register reads as an APIC's, a TPR written reads
 *     back, a timer interrupt is taken and EOIed by MMIO;
 *   x2apic-hides-window: in x2APIC mode the page reads all-ones (the TPR
 *     offset too) and ignores writes;
 *   disabled-hides-window: the same with the APIC globally disabled;
 *   xapic-again: enabled in xAPIC mode again, the window works (version,
 *     TPR, a timer interrupt with its MMIO EOI);
 *   moved-window: moved to 0xFEB00000, the old page reads all-ones (the
 *     TPR offset too) and the new one is the APIC; moved back, the default
 *     page is the APIC again (the TPR kept) and a timer interrupt works. */
#include "tests/guests/platform-bench/pbench.h"

#define WINDOW_VEC    0x46
#define MSR_APIC_BASE 0x1b
#define DEFAULT_BASE  0xfee00000u
#define MOVED_BASE    0xfeb00000u
#define LVT_TSC_DL    (2u << 17)
#define APIC_EN       0x800u
#define APIC_EXTD     0x400u

extern char pbench_window_isr[];
void pbench_window_irq(void);

static volatile uint32_t window_irqs;

void pbench_window_irq(void)
{
    window_irqs++;
    pbench_apic_eoi();
}

static uint32_t rd(uint32_t base, unsigned off)
{
    return *(volatile uint32_t *)(uintptr_t)(base + off);
}

static void wr(uint32_t base, unsigned off, uint32_t val)
{
    *(volatile uint32_t *)(uintptr_t)(base + off) = val;
}

static bool looks_like_apic(uint32_t ver)
{
    return ver != 0 && ver != 0xffffffffu && (ver & 0xff) >= 0x10;
}

/* Software-enables the APIC at `base` (xAPIC mode) with its timer in
 * TSC-deadline mode, and takes one due deadline's interrupt. */
static bool timer_works(uint32_t base)
{
    pbench_apic_set_page(base);
    wr(base, APIC_SVR, 0x1ff);
    wr(base, APIC_LVTT, WINDOW_VEC | LVT_TSC_DL);
    uint32_t seen = window_irqs;
    wrmsr(MSR_TSC_DEADLINE, 1);
    __asm__ volatile("sti" ::: "memory");
    for (uint32_t spin = 0; window_irqs == seen && spin < 2000000; spin++)
        __asm__ volatile("pause" ::: "memory");
    __asm__ volatile("cli" ::: "memory");
    /* A second one: the first EOI reached the APIC (else this one waits). */
    seen = window_irqs;
    wrmsr(MSR_TSC_DEADLINE, 1);
    __asm__ volatile("sti" ::: "memory");
    for (uint32_t spin = 0; window_irqs == seen && spin < 2000000; spin++)
        __asm__ volatile("pause" ::: "memory");
    __asm__ volatile("cli" ::: "memory");
    return window_irqs == seen + 1;
}

static void result(const char *name, bool ok, const char *fmt, uint32_t a, uint32_t b)
{
    printf("platform-bench: check %s: %s (", name, ok ? "PASS" : "FAIL");
    printf(fmt, a, b);
    printf(")\n");
}

void pbench_window_checks(void)
{
    if (!pbench_xapic) {
        printf("platform-bench: mode=window needs apic=xapic\n");
        return;
    }
    pbench_set_gate(WINDOW_VEC, (uint32_t)(uintptr_t)pbench_window_isr);
    uint64_t base = rdmsr(MSR_APIC_BASE) & ~0xfffULL;

    uint32_t ver = rd(DEFAULT_BASE, APIC_VER);
    wr(DEFAULT_BASE, APIC_TPR, 0x30);
    uint32_t tpr = rd(DEFAULT_BASE, APIC_TPR);
    bool t = timer_works(DEFAULT_BASE);
    result("xapic", looks_like_apic(ver) && tpr == 0x30 && t, "version 0x%x, tpr 0x%x", ver, tpr);

    wrmsr(MSR_APIC_BASE, base | APIC_EN | APIC_EXTD);
    wr(DEFAULT_BASE, APIC_TPR, 0x70);
    ver = rd(DEFAULT_BASE, APIC_VER);
    tpr = rd(DEFAULT_BASE, APIC_TPR);
    uint32_t msr_tpr = (uint32_t)rdmsr(0x808);
    result("x2apic-hides-window", ver == 0xffffffffu && tpr == 0xffffffffu && msr_tpr != 0x70,
           "version 0x%x, tpr 0x%x", ver, tpr);

    wrmsr(MSR_APIC_BASE, base); /* disabled: from x2APIC mode the only way back */
    wr(DEFAULT_BASE, APIC_TPR, 0x70);
    ver = rd(DEFAULT_BASE, APIC_VER);
    tpr = rd(DEFAULT_BASE, APIC_TPR);
    result("disabled-hides-window", ver == 0xffffffffu && tpr == 0xffffffffu,
           "version 0x%x, tpr 0x%x", ver, tpr);

    wrmsr(MSR_APIC_BASE, base | APIC_EN);
    ver = rd(DEFAULT_BASE, APIC_VER);
    uint32_t tpr0 = rd(DEFAULT_BASE, APIC_TPR); /* the reset value */
    wr(DEFAULT_BASE, APIC_TPR, 0x20);
    tpr = rd(DEFAULT_BASE, APIC_TPR);
    t = timer_works(DEFAULT_BASE);
    result("xapic-again", looks_like_apic(ver) && tpr0 == 0 && tpr == 0x20 && t,
           "version 0x%x, tpr 0x%x", ver, tpr);

    wrmsr(MSR_APIC_BASE, MOVED_BASE | APIC_EN);
    uint32_t old_ver = rd(DEFAULT_BASE, APIC_VER);
    uint32_t old_tpr = rd(DEFAULT_BASE, APIC_TPR);
    ver = rd(MOVED_BASE, APIC_VER);
    wr(MOVED_BASE, APIC_TPR, 0x40);
    tpr = rd(MOVED_BASE, APIC_TPR);
    bool moved_ok =
        old_ver == 0xffffffffu && old_tpr == 0xffffffffu && looks_like_apic(ver) && tpr == 0x40;
    wrmsr(MSR_APIC_BASE, base | APIC_EN);
    uint32_t back_tpr = rd(DEFAULT_BASE, APIC_TPR);
    uint32_t gone_ver = rd(MOVED_BASE, APIC_VER);
    wr(DEFAULT_BASE, APIC_TPR, 0); /* class 4 would hold the timer's vector */
    t = timer_works(DEFAULT_BASE);
    result("moved-window", moved_ok && back_tpr == 0x40 && gone_ver == 0xffffffffu && t,
           "old page tpr 0x%x, back tpr 0x%x", old_tpr, back_tpr);
    pbench_apic_set_page(DEFAULT_BASE);
}
