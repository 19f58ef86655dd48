/* HPET main counter, for TSC calibration (no comparators are used). */
#ifndef DRIVERS_HPET_H
#define DRIVERS_HPET_H

#include <stdbool.h>
#include <stdint.h>

/* Maps the block from the ACPI HPET table, checks the capabilities and
 * enables the main counter. 0, or -1 (logged) when absent or implausible. */
int hpet_init(void);
bool hpet_available(void);
uint64_t hpet_period_fs(void);    /* counter period in femtoseconds */
uint64_t hpet_counter(void);      /* main counter value */
uint64_t hpet_counter_mask(void); /* 32 or 64 bits wide */

#endif
