/* platform-bench mode=ticks: the emulated PIT and RTC of a real-time
 * partition (docs/realtime.md), whose interrupts come from a host timer on
 * the housekeeping CPU as physical IPIs to the local APIC it owns. It
 * routes vIOAPIC pin 2 (IRQ 0) to vector 0x43 and pin 8 (IRQ 8) to 0x44 at
 * its own x2APIC ID, then, each rate counted against the TSC:
 *   1. PIT channel 0, mode 2, reload 1193 (1 kHz) for pit_secs= (10) s:
 *      the handler only counts and EOIs, so the phase takes no VM exit.
 *      `rt-ticks: pit measuring` before, `rt-ticks: pit N irqs in T tsc`
 *      after.
 *   2. RTC periodic interrupt at 64 Hz for rtc_secs= (4) s; the handler
 *      reads register C (one exit each: the RTC raises no new interrupt
 *      until C is read). `rt-ticks: rtc N irqs in T tsc`.
 *   3. PIT mode 0 one-shot of 11932 clocks (10 ms): `rt-ticks: pit
 *      one-shot after T tsc, N irqs` (N is 1: the output stays high).
 *   4. RTC update-ended interrupts: `rt-ticks: rtc update-ended N irqs,
 *      T tsc apart`; then an alarm 2 s ahead: `rt-ticks: rtc alarm after
 *      T tsc`.
 *   5. The bad case: PIT reload 1 (1.19 MHz asked) for bad_secs= (5) s:
 *      `rt-ticks: pit divisor 1 running`, then `rt-ticks: pit divisor 1:
 *      N irqs in T tsc`; the hypervisor bounds the rate and coalesces.
 *   6. The hostile case: storm_n= (4000) PIT reprogrammings in a row, each
 *      due earlier than the last, 2 s after `rt-ticks: storm in 2 s`, then
 *      `rt-ticks: storm N writes in T tsc` (the hypervisor bounds its arm
 *      calls to CPU 0).
 * Then `rt-ticks: idle` and idle_secs= (6) s with nothing programmed (the
 * housekeeping CPU then runs no timer for this VM), and `rt-ticks: done`.
 * Timeouts print `rt-ticks: FAIL ...`. */
#include "tests/guests/platform-bench/pbench.h"

#define PIT_VEC     0x43
#define RTC_VEC     0x44
#define PIT_PIN     2 /* IRQ 0, the MADT override */
#define RTC_PIN     8
#define IOAPIC_SEL  ((volatile uint32_t *)(uintptr_t)0xfec00000u)
#define IOAPIC_WIN  ((volatile uint32_t *)(uintptr_t)0xfec00010u)
#define RTE_LO(pin) (0x10 + 2 * (pin))
#define RTC_A       0x0a
#define RTC_B       0x0b
#define RTC_C       0x0c
#define B_PIE       0x40
#define B_AIE       0x20
#define B_UIE       0x10
#define C_AF        0x20
#define C_UF        0x10

extern char pbench_pit_isr[], pbench_rtc_isr[];
void pbench_pit_irq(void);
void pbench_rtc_irq(void);

static volatile uint32_t pit_irqs, rtc_irqs;
static volatile uint8_t rtc_flags; /* C bits seen since cleared */
static volatile uint64_t last_pit_tsc, last_rtc_tsc;
static uint64_t tsc_hz;

void pbench_pit_irq(void)
{
    last_pit_tsc = rdtsc();
    pit_irqs++;
    wrmsr(MSR_X2APIC_EOI, 0);
}

/* Port 0x70 holds C's index for the whole RTC part: one read, one exit. */
void pbench_rtc_irq(void)
{
    last_rtc_tsc = rdtsc();
    rtc_flags |= inb(0x71);
    rtc_irqs++;
    wrmsr(MSR_X2APIC_EOI, 0);
}

static void ioapic_route(unsigned pin, uint8_t vec, uint32_t apic_id)
{
    *IOAPIC_SEL = RTE_LO(pin) + 1;
    *IOAPIC_WIN = apic_id << 24;
    *IOAPIC_SEL = RTE_LO(pin);
    *IOAPIC_WIN = vec; /* fixed, physical, edge, active high, unmasked */
}

static uint8_t rtc_read(uint8_t idx)
{
    outb(0x70, idx);
    return inb(0x71);
}

static void rtc_write(uint8_t idx, uint8_t v)
{
    outb(0x70, idx);
    outb(0x71, v);
}

static void pit_program(uint8_t mode, uint16_t count)
{
    outb(0x43, (uint8_t)(0x30 | mode << 1)); /* channel 0, LSB then MSB */
    outb(0x40, (uint8_t)count);
    outb(0x40, (uint8_t)(count >> 8));
}

static void pit_stop(void)
{
    outb(0x43, 0x30); /* mode 0, no count: OUT low, not counting */
}

/* Halts (interrupts on) until *what reaches `want` or `ticks` pass. HLT
 * does not exit in a real-time partition: only an interrupt ends it, so
 * the local APIC's TSC-deadline timer (vector 0x40, platform-bench.c)
 * wakes us at the timeout if the awaited one never comes. */
static bool wait_count(volatile uint32_t *what, uint32_t want, uint64_t ticks)
{
    uint64_t t0 = rdtsc();
    wrmsr(MSR_TSC_DEADLINE, t0 + ticks + 1);
    bool ok = true;
    while (*what < want) {
        if (rdtsc() - t0 > ticks) {
            ok = false;
            break;
        }
        __asm__ volatile("sti; hlt; cli" ::: "memory");
    }
    wrmsr(MSR_TSC_DEADLINE, 0);
    return ok;
}

/* Counts *what over `ticks` of TSC from its next interrupt on. */
static bool measure(volatile uint32_t *what, volatile uint64_t *last, uint64_t ticks, uint32_t *n,
                    uint64_t *span)
{
    if (!wait_count(what, *what + 1, tsc_hz))
        return false;
    uint32_t c0 = *what;
    uint64_t t0 = *last;
    __asm__ volatile("sti");
    while (rdtsc() - t0 < ticks)
        __asm__ volatile("hlt" ::: "memory");
    __asm__ volatile("cli");
    *n = *what - c0;
    *span = *last - t0;
    return true;
}

static void rate_line(const char *what, uint32_t n, uint64_t span)
{
    /* n * tsc_hz / span, with span scaled to fit udiv64's 32-bit divisor. */
    uint32_t div = span >= 256 ? (uint32_t)(span >> 8) : 1;
    uint64_t hz = span >= 256 ? udiv64((uint64_t)n * tsc_hz, div, NULL) >> 8 : 0;
    printf("rt-ticks: %s %u irqs in %llu tsc (%llu Hz)\n", what, n, (unsigned long long)span,
           (unsigned long long)hz);
}

static void phase_pit(void)
{
    uint32_t n;
    uint64_t span;
    pit_program(2, 1193);
    if (!wait_count(&pit_irqs, 1, tsc_hz)) {
        printf("rt-ticks: FAIL no PIT interrupt within 1 s\n");
        return;
    }
    printf("rt-ticks: pit measuring (tsc %llu kHz)\n",
           (unsigned long long)udiv64(tsc_hz, 1000, NULL));
    bool ok =
        measure(&pit_irqs, &last_pit_tsc, tsc_hz * cmdline_get_u32("pit_secs", 10), &n, &span);
    pit_stop();
    if (ok)
        rate_line("pit", n, span);
    else
        printf("rt-ticks: FAIL the PIT stopped\n");
}

static void phase_rtc_periodic(void)
{
    uint32_t n;
    uint64_t span;
    rtc_write(RTC_A, 0x2a); /* 32.768 kHz divider, rate 10: 64 Hz */
    rtc_write(RTC_B, (uint8_t)(rtc_read(RTC_B) | B_PIE));
    (void)rtc_read(RTC_C); /* leaves the index at C for the handler */
    bool ok = measure(&rtc_irqs, &last_rtc_tsc, tsc_hz * cmdline_get_u32("rtc_secs", 4), &n, &span);
    rtc_write(RTC_B, (uint8_t)(rtc_read(RTC_B) & ~B_PIE));
    if (ok)
        rate_line("rtc", n, span);
    else
        printf("rt-ticks: FAIL no RTC periodic interrupt within 1 s\n");
}

static void phase_pit_oneshot(void)
{
    uint32_t before = pit_irqs;
    uint64_t t0 = rdtsc();
    pit_program(0, 11932);
    if (!wait_count(&pit_irqs, before + 1, tsc_hz)) {
        printf("rt-ticks: FAIL no PIT one-shot interrupt within 1 s\n");
        return;
    }
    uint64_t at = last_pit_tsc - t0;
    /* 50 ms more: the output stays high, no second edge. */
    (void)wait_count(&pit_irqs, before + 2, tsc_hz / 20);
    printf("rt-ticks: pit one-shot after %llu tsc, %u irqs\n", (unsigned long long)at,
           pit_irqs - before);
    pit_stop();
}

static void phase_rtc_update_alarm(void)
{
    uint32_t before = rtc_irqs;
    rtc_flags = 0;
    (void)rtc_read(RTC_C);
    rtc_write(RTC_B, (uint8_t)(rtc_read(RTC_B) | B_UIE));
    (void)rtc_read(RTC_C);
    bool ok = wait_count(&rtc_irqs, before + 1, 3 * tsc_hz);
    uint64_t first = last_rtc_tsc;
    ok = ok && wait_count(&rtc_irqs, before + 2, 3 * tsc_hz);
    rtc_write(RTC_B, (uint8_t)(rtc_read(RTC_B) & ~B_UIE));
    if (!ok || !(rtc_flags & C_UF)) {
        printf("rt-ticks: FAIL update-ended interrupts: %u, C 0x%x\n", rtc_irqs - before,
               rtc_flags);
        return;
    }
    printf("rt-ticks: rtc update-ended %u irqs, %llu tsc apart\n", rtc_irqs - before,
           (unsigned long long)(last_rtc_tsc - first));

    /* The alarm: seconds 2 ahead (BCD), minutes and hours "don't care". */
    uint8_t s = rtc_read(0x00);
    unsigned sec = (s >> 4) * 10u + (s & 0xf);
    sec = (sec + 2) % 60;
    rtc_write(0x01, (uint8_t)((sec / 10) << 4 | sec % 10));
    rtc_write(0x03, 0xc0);
    rtc_write(0x05, 0xc0);
    rtc_flags = 0;
    before = rtc_irqs;
    uint64_t t0 = rdtsc();
    rtc_write(RTC_B, (uint8_t)(rtc_read(RTC_B) | B_AIE));
    (void)rtc_read(RTC_C);
    ok = wait_count(&rtc_irqs, before + 1, 4 * tsc_hz);
    rtc_write(RTC_B, (uint8_t)(rtc_read(RTC_B) & ~B_AIE));
    if (!ok || !(rtc_flags & C_AF)) {
        printf("rt-ticks: FAIL alarm: %u irqs, C 0x%x\n", rtc_irqs - before, rtc_flags);
        return;
    }
    printf("rt-ticks: rtc alarm after %llu tsc\n", (unsigned long long)(last_rtc_tsc - t0));
}

static void phase_divisor_one(void)
{
    uint32_t n;
    uint64_t span;
    pit_program(2, 1);
    printf("rt-ticks: pit divisor 1 running\n");
    bool ok = measure(&pit_irqs, &last_pit_tsc, tsc_hz * cmdline_get_u32("bad_secs", 5), &n, &span);
    pit_stop();
    if (ok)
        rate_line("pit divisor 1:", n, span);
    else
        printf("rt-ticks: FAIL no PIT interrupt at divisor 1\n");
}

/* The hostile case: the PIT reprogrammed storm_n= (4000) times in a row,
 * each one-shot (MSB only: one port write) due earlier than the one
 * before, so each asks for the housekeeping CPU's timer earlier. */
static void phase_storm(void)
{
    uint32_t n = cmdline_get_u32("storm_n", 4000);
    printf("rt-ticks: storm in 2 s\n"); /* for the test to read `stats` first */
    static volatile uint32_t never;
    (void)wait_count(&never, 1, tsc_hz * 2);
    uint64_t t0 = rdtsc();
    outb(0x43, 0x20); /* channel 0, mode 0, MSB only */
    for (uint32_t i = 0; i < n; i++)
        outb(0x40, (uint8_t)(255 - i % 255)); /* 255..1: 214 us earlier each */
    uint64_t span = rdtsc() - t0;
    pit_stop();
    printf("rt-ticks: storm %u writes in %llu tsc\n", n, (unsigned long long)span);
}

void pbench_rt_ticks(uint32_t tsc_khz)
{
    tsc_hz = (uint64_t)tsc_khz * 1000;
    uint32_t me = (uint32_t)rdmsr(MSR_X2APIC_ID);
    pbench_set_gate(PIT_VEC, (uint32_t)(uintptr_t)pbench_pit_isr);
    pbench_set_gate(RTC_VEC, (uint32_t)(uintptr_t)pbench_rtc_isr);
    ioapic_route(PIT_PIN, PIT_VEC, me);
    ioapic_route(RTC_PIN, RTC_VEC, me);
    phase_pit();
    phase_rtc_periodic();
    phase_pit_oneshot();
    phase_rtc_update_alarm();
    phase_divisor_one();
    phase_storm();
    /* Nothing programmed: the housekeeping CPU must not tick for us. */
    printf("rt-ticks: idle\n");
    static volatile uint32_t never;
    (void)wait_count(&never, 1, tsc_hz * cmdline_get_u32("idle_secs", 6));
    printf("rt-ticks: done\n");
}
