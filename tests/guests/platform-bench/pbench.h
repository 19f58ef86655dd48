/* What platform-bench.c and rt_input.c share. */
#ifndef PBENCH_H
#define PBENCH_H

#include "tests/guests/lib/guest.h"

#define MSR_X2APIC_ID    0x802
#define MSR_X2APIC_EOI   0x80b
#define MSR_TSC_DEADLINE 0x6e0

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

/* A 32-bit interrupt gate for vec. */
void pbench_set_gate(unsigned vec, uint32_t handler);
/* rt_input.c: one line typed on the console, received by vUART interrupts
 * (vIOAPIC pin 4) delivered to the local APIC the guest owns. */
void pbench_rt_read_line(void);
/* rt_ticks.c: the PIT and RTC interrupts of a real-time partition. */
void pbench_rt_ticks(uint32_t tsc_khz);

#endif
