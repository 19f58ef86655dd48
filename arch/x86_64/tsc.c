#include "arch/x86_64/tsc.h"

#include <stdbool.h>

#include "arch/x86_64/cpu.h"
#include "drivers/acpi.h"
#include "drivers/hpet.h"
#include "drivers/pit.h"
#include "lib/log.h"

#define CAL_MS         20
#define CAL_TRIALS     3
#define REF_POLL_LIMIT 50000000u
#define ASSUMED_KHZ    4000000ULL /* before calibration: long rather than short waits */

static uint64_t khz;
static const char *source = "none";
/* ns = ticks * ns_mult >> 32, ticks = ns * tsc_mult >> 32 */
static uint64_t ns_mult, tsc_mult;

uint64_t tsc_khz(void)
{
    return khz;
}

const char *tsc_calibration_source(void)
{
    return source;
}

static uint64_t mul_shr32(uint64_t a, uint64_t b)
{
    return (uint64_t)(((unsigned __int128)a * b) >> 32);
}

uint64_t tsc_to_ns(uint64_t ticks)
{
    return khz ? mul_shr32(ticks, ns_mult) : ticks * 1000000ULL / ASSUMED_KHZ;
}

uint64_t ns_to_tsc(uint64_t ns)
{
    return khz ? mul_shr32(ns, tsc_mult) : ns * (ASSUMED_KHZ / 1000000ULL);
}

void udelay(uint64_t us)
{
    uint64_t f = khz ? khz : ASSUMED_KHZ;
    uint64_t ticks = us * f / 1000;
    uint64_t start = rdtsc();
    while (rdtsc() - start < ticks)
        cpu_relax();
}

/* One trial: 0 when the reference did not move as expected. */
static uint64_t measure_pm_timer(void)
{
    uint32_t mask = acpi_pm_timer_mask();
    uint32_t target = ACPI_PM_TIMER_HZ / 1000 * CAL_MS;
    uint32_t t0 = acpi_pm_timer_read(), t1 = t0;
    uint32_t i;
    /* Start on an edge so a partly elapsed tick is not counted. */
    for (i = 0; i < REF_POLL_LIMIT && t1 == t0; i++)
        t1 = acpi_pm_timer_read();
    if (t1 == t0)
        return 0;
    uint64_t start = rdtsc();
    uint32_t t = t1, d = 0;
    for (i = 0; i < REF_POLL_LIMIT && d < target; i++) {
        t = acpi_pm_timer_read();
        d = (t - t1) & mask;
    }
    uint64_t end = rdtsc();
    if (d < target)
        return 0;
    return (end - start) * ACPI_PM_TIMER_HZ / ((uint64_t)d * 1000);
}

static uint64_t measure_hpet(void)
{
    uint64_t mask = hpet_counter_mask();
    uint64_t target = (uint64_t)CAL_MS * 1000000000000ULL / hpet_period_fs();
    uint64_t c0 = hpet_counter(), c1 = c0;
    uint32_t i;
    for (i = 0; i < REF_POLL_LIMIT && c1 == c0; i++)
        c1 = hpet_counter();
    if (c1 == c0)
        return 0;
    uint64_t start = rdtsc();
    uint64_t d = 0;
    for (i = 0; i < REF_POLL_LIMIT && d < target; i++)
        d = (hpet_counter() - c1) & mask;
    uint64_t end = rdtsc();
    if (d < target)
        return 0;
    uint64_t ref_ns = d * hpet_period_fs() / 1000000;
    return ref_ns ? (end - start) * 1000000 / ref_ns : 0;
}

static uint64_t measure_pit(void)
{
    const uint16_t ticks = PIT_HZ / 1000 * CAL_MS;
    uint64_t delta;
    if (!pit_measure_tsc(ticks, &delta))
        return 0;
    return delta * PIT_HZ / ((uint64_t)ticks * 1000);
}

/* Median of CAL_TRIALS: an SMI or emulator hiccup spoils one trial, not the result. */
static uint64_t calibrate_with(uint64_t (*measure)(void))
{
    uint64_t v[CAL_TRIALS];
    for (int i = 0; i < CAL_TRIALS; i++) {
        v[i] = measure();
        if (!v[i])
            return 0;
    }
    for (int i = 1; i < CAL_TRIALS; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            uint64_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return v[CAL_TRIALS / 2];
}

/* The TSC frequency CPUID claims (0x15, else 0x16), in kHz; 0 if none. */
static uint64_t cpuid_tsc_khz(void)
{
    uint32_t max = cpuid(0).eax;
    if (max >= 0x15) {
        struct cpuid_regs r = cpuid(0x15);
        if (r.eax && r.ebx && r.ecx)
            return (uint64_t)r.ecx * r.ebx / r.eax / 1000;
    }
    if (max >= 0x16) {
        struct cpuid_regs r = cpuid(0x16);
        if (r.eax & 0xffff)
            return (uint64_t)(r.eax & 0xffff) * 1000;
    }
    return 0;
}

static void set_khz(uint64_t k)
{
    khz = k;
    ns_mult = (1000000ULL << 32) / k;
    tsc_mult = (k << 32) / 1000000ULL;
}

void tsc_calibrate(void)
{
    uint64_t k = 0;
    unsigned long flags = irq_save();
    if (acpi_pm_timer_present()) {
        k = calibrate_with(measure_pm_timer);
        if (k)
            source = "pm-timer";
        else
            pr_warn("tsc: ACPI PM timer does not count; trying the next reference");
    }
    if (!k && hpet_init() == 0) {
        k = calibrate_with(measure_hpet);
        if (k)
            source = "hpet";
        else
            pr_warn("tsc: HPET counter does not count; trying the PIT");
    }
    if (!k) {
        k = calibrate_with(measure_pit);
        if (k)
            source = "pit";
    }
    irq_restore(flags);

    uint64_t ck = cpuid_tsc_khz();
    if (!k) {
        k = ck ? ck : 1000000;
        source = ck ? "cpuid" : "guess";
        pr_err("tsc: no reference clock works; using %llu kHz from %s, timing will be off",
               (unsigned long long)k, source);
        set_khz(k);
        return;
    }
    set_khz(k);
    pr_info("tsc: %llu kHz (calibrated against %s)", (unsigned long long)k, source);
    if (ck) {
        uint64_t diff = ck > k ? ck - k : k - ck;
        if (diff * 100 <= k) {
            pr_info("tsc: CPUID agrees (%llu kHz); using its exact value", (unsigned long long)ck);
            set_khz(ck);
        } else {
            pr_info("tsc: CPUID claims %llu kHz; ignored", (unsigned long long)ck);
        }
    }
    if (!(cpuid(0x80000000).eax >= 0x80000007 && (cpuid(0x80000007).edx & (1u << 8))))
        pr_info("tsc: not invariant on this CPU; deep C-states or P-state changes may skew it");
}
