/* 8254 PIT, channel 2 only: a last-resort reference clock for calibration. */
#ifndef DRIVERS_PIT_H
#define DRIVERS_PIT_H

#include <stdbool.h>
#include <stdint.h>

#define PIT_HZ 1193182u

/* Runs channel 2 one-shot (mode 0) for `ticks` PIT ticks (1..65535) and
 * returns the TSC ticks that passed in *tsc_delta. False if OUT2 never rose
 * within a bounded number of polls (gated or absent PIT). */
bool pit_measure_tsc(uint16_t ticks, uint64_t *tsc_delta);

#endif
