/* TSC frequency, calibrated at boot against a fixed-frequency reference. */
#ifndef ARCH_X86_64_TSC_H
#define ARCH_X86_64_TSC_H

#include <stdint.h>

/* Measures the TSC against the ACPI PM timer, else the HPET, else PIT
 * channel 2. CPUID 0x15/0x16 only refine the result when they agree
 * within 1%. Logs `tsc: N kHz (calibrated against SOURCE)`. */
void tsc_calibrate(void);
uint64_t tsc_khz(void);
const char *tsc_calibration_source(void); /* "pm-timer", "hpet", "pit" */

uint64_t tsc_to_ns(uint64_t ticks);
uint64_t ns_to_tsc(uint64_t ns);
/* Busy-waits; before calibration it assumes a fast (4 GHz) TSC, so waits
 * are never shorter than asked. */
void udelay(uint64_t us);

#endif
