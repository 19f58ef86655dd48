/* What platform-bench.c and rt_input.c share. */
#ifndef PBENCH_H
#define PBENCH_H

#include "tests/guests/lib/guest.h"

#define MSR_X2APIC_ID    0x802
#define MSR_X2APIC_EOI   0x80b
#define MSR_TSC_DEADLINE 0x6e0

/* The local APIC (apic.c): its registers by xAPIC offset, reached through
 * the x2APIC MSRs or, with apic=xapic on the command line, the xAPIC MMIO
 * page (mode=exits and mode=check). */
#define APIC_ID   0x20
#define APIC_VER  0x30
#define APIC_TPR  0x80
#define APIC_EOI  0xb0
#define APIC_SVR  0xf0
#define APIC_ICR  0x300
#define APIC_LVTT 0x320
extern bool pbench_xapic;
void pbench_apic_mode_from_cmdline(void);
void pbench_apic_enable(void);
void pbench_apic_set_page(uint32_t base);
uint32_t pbench_apic_read(unsigned off);
void pbench_apic_write(unsigned off, uint32_t val);
void pbench_apic_eoi(void);
void pbench_apic_self_ipi(uint32_t icr_lo);
uint32_t pbench_apic_id(void);
/* window_checks.c (mode=window): the xAPIC window follows the APIC's mode,
 * enable bit and base. */
void pbench_window_checks(void);

/* A 32-bit interrupt gate for vec. */
void pbench_set_gate(unsigned vec, uint32_t handler);
/* rt_input.c: one line typed on the console, received by vUART interrupts
 * (vIOAPIC pin 4) delivered to the local APIC the guest owns. */
void pbench_rt_read_line(void);
/* rt_ticks.c: the PIT and RTC interrupts of a real-time partition. */
void pbench_rt_ticks(uint32_t tsc_khz);

#endif
