/* Per-CPU vCPU scheduler. A vCPU alone on its CPU runs with no time-slice
 * exits; vCPUs sharing a CPU run highest priority first and round-robin
 * among equals, sliced with the VMX preemption timer; HLT blocks until a
 * device of the VM has an interrupt (a blocked vCPU's next device deadline
 * ends the running vCPU's slice); wake-ups, pause and stop requests from
 * other CPUs arrive by IPI. The boot CPU also runs the console. */
#ifndef CORE_SCHED_H
#define CORE_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "hvm/vcpu.h"

#define SCHED_MAX_PER_CPU      16
#define SCHED_DEFAULT_SLICE_US 10000

void sched_init(void);
/* Runs this CPU's queue forever; console_cpu polls the console too. */
__attribute__((noreturn)) void sched_cpu_loop(bool console_cpu, void (*console_poll)(void));
/* Wakes a blocked or paused vCPU. */
void sched_wake(struct vcpu *v);
/* Statistics for `cpus`. */
unsigned sched_queue_length(unsigned cpu);
/* The TSC cycles the CPU has spent running vCPUs (their guest time and the
 * root time of their exits) up to *at, the turn in progress included, and
 * the TSC when it started scheduling (*since; 0: not yet). */
void sched_cpu_time(unsigned cpu, uint64_t *busy, uint64_t *since, uint64_t *at);

#endif
