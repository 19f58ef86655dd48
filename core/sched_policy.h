/* The scheduler's decisions as pure functions (no locks, no hardware), so
 * the host unit tests can check them: which vCPU runs next, and how long
 * its turn may last. core/sched.c applies them to the run queues. */
#ifndef CORE_SCHED_POLICY_H
#define CORE_SCHED_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#define SCHED_NO_DEADLINE UINT64_MAX

struct sched_candidate {
    bool runnable;
    bool yielded;      /* gave its turn away: runs only if nothing else can */
    unsigned priority; /* larger runs first */
    /* A sibling of a vCPU that gave its turn away in a PAUSE loop (it is
     * spinning for one of them): preferred over others of equal priority,
     * as KVM's directed yield. */
    bool directed;
};

/* The index of the runnable candidate of the highest priority, searching
 * from *cursor so equal priorities take turns; advances *cursor past it.
 * A candidate that yielded is passed over for any other runnable one,
 * whatever its priority: a guest that yields says it has nothing to do.
 * Among equal priorities a directed candidate goes first.
 * -1 when none is runnable. */
int sched_pick_index(const struct sched_candidate *c, unsigned n, unsigned *cursor);

/* The length of a turn in TSC ticks, 0 for "until it blocks": `slice` when
 * the CPU is shared (0 when alone), cut short at the earliest device
 * deadline of a blocked vCPU on the same CPU, which must get its
 * interrupt on time. */
uint64_t sched_turn_length(uint64_t slice, uint64_t now, uint64_t blocked_deadline);

/* A vCPU woke for an interrupt on the CPU where `cur` runs: does cur's turn
 * end now? When cur had the CPU to itself (running without a slice, the
 * woken one would wait forever), when the woken one outranks it, or when
 * both belong to one VM: cur just sent the IPI and typically spins for the
 * answer (a TLB shootdown), which only the woken vCPU can give. */
bool sched_wake_ends_turn(bool cur_alone, bool same_vm, unsigned cur_priority,
                          unsigned woken_priority);

#endif
