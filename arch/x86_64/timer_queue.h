/* The deadline-ordered list behind the per-CPU timer service; pure code,
 * no locking (the caller holds the CPU's timer lock). */
#ifndef ARCH_X86_64_TIMER_QUEUE_H
#define ARCH_X86_64_TIMER_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

struct timer;
typedef void (*timer_fn)(struct timer *t, void *arg);

struct timer {
    uint64_t deadline_tsc;
    timer_fn fn;
    void *arg;
    /* Owned by the timer service: */
    struct timer *next;
    void *volatile owner; /* the CPU queue it is armed on, NULL when idle */
};

struct timer_queue {
    struct timer *head; /* earliest deadline first */
    unsigned count;
};

/* Equal deadlines keep insertion order. t must not already be queued. */
void tq_insert(struct timer_queue *q, struct timer *t);
/* False when t is not on q. */
bool tq_remove(struct timer_queue *q, struct timer *t);
/* Unlinks and returns the earliest timer with deadline <= now, or NULL. */
struct timer *tq_pop_expired(struct timer_queue *q, uint64_t now);
/* UINT64_MAX when empty. */
uint64_t tq_next_deadline(const struct timer_queue *q);

#endif
