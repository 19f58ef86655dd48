/* The run loop's rules as pure functions, host-tested: how long the guest
 * may run from one entry, and (hvm/exit.h's vcpu_run_ends) what an exit's
 * action means for the run. vcpu/run_loop.c applies them with the vCPU's
 * and the CPU's state. */
#ifndef VCPU_RUN_RULES_H
#define VCPU_RUN_RULES_H

#include <stdint.h>

#include "hvm/exit.h"

/* TSC cycles the guest may run from now (0: no bound): the rest of the
 * slice (slice_end, 0 = none; not yet over), the next device deadline
 * (UINT64_MAX: none; one already past still gives 1 cycle, so the guest
 * exits at once) and run_max (0: none), whichever comes first. */
uint64_t run_entry_until(uint64_t now, uint64_t slice_end, uint64_t next_device, uint64_t run_max);

#endif
