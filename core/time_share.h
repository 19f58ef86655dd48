/* The arithmetic behind `cpus` and `stats`: shares of time from TSC-cycle
 * counters (pure, unit-tested in tests/unit/test_time_share.c). Every
 * counter is in the same time base, the TSC, as the scheduler keeps it. */
#ifndef CORE_TIME_SHARE_H
#define CORE_TIME_SHARE_H

#include <stdint.h>

/* part as a percentage of whole, rounded to the nearest, at most 100; 0 when
 * whole is 0. Exact for any 64-bit counters (no overflow). */
unsigned share_percent(uint64_t part, uint64_t whole);

/* A CPU's busy time at `now`: its finished turns (busy_done) plus the turn
 * in progress since turn_start (0: none). A vCPU alone on its CPU runs one
 * endless turn, which must count while it lasts. */
uint64_t share_busy_at(uint64_t busy_done, uint64_t turn_start, uint64_t now);

/* Load over an interval: the window remembers where the last reading left
 * off. share_window_take returns the busy share of the time since then and
 * starts the next interval at (now, busy). A counter that went backwards
 * (cannot happen; be safe) gives 0. */
struct share_window {
    uint64_t at;   /* TSC at the start of the interval */
    uint64_t busy; /* busy counter then */
};
unsigned share_window_take(struct share_window *w, uint64_t busy, uint64_t now);

#endif
