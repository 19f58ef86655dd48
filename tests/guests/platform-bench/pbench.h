/* What platform-bench.c and rt_input.c share. */
#ifndef PBENCH_H
#define PBENCH_H

#include "tests/guests/lib/guest.h"

#define MSR_X2APIC_ID    0x802
#define MSR_X2APIC_EOI   0x80b
#define MSR_TSC_DEADLINE 0x6e0

/* A 32-bit interrupt gate for vec. */
void pbench_set_gate(unsigned vec, uint32_t handler);
/* rt_input.c: one line typed on the console, received by vUART interrupts
 * (vIOAPIC pin 4) delivered to the local APIC the guest owns. */
void pbench_rt_read_line(void);
/* rt_ticks.c: the PIT and RTC interrupts of a real-time partition. */
void pbench_rt_ticks(uint32_t tsc_khz);

#endif
