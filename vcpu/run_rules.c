/* The run loop's pure rules (vcpu/run_rules.h). */
#include "vcpu/run_rules.h"

uint64_t run_entry_until(uint64_t now, uint64_t slice_end, uint64_t next_device, uint64_t run_max)
{
    /* The next of: the end of the slice, a device deadline. */
    uint64_t u = slice_end ? slice_end - now : 0;
    if (next_device != UINT64_MAX) {
        uint64_t d = next_device > now ? next_device - now : 1;
        if (!u || d < u)
            u = d;
    }
    /* Bounded where the CPU asks for it (the console CPU: see percpu.h). */
    if (run_max && (!u || u > run_max))
        u = run_max;
    return u;
}

bool vcpu_run_ends(enum exit_action a, uint64_t now, uint64_t slice_end, enum vcpu_run_result *r)
{
    switch (a) {
    case EXIT_ACT_CONTINUE:
    case EXIT_ACT_FAST:
        break;
    case EXIT_ACT_PREEMPT:
        if (!slice_end || now < slice_end)
            break; /* a device deadline, not the slice: tick and go on */
        *r = RUN_PREEMPTED;
        return true;
    case EXIT_ACT_HALT:
        *r = RUN_HALTED;
        return true;
    case EXIT_ACT_YIELD:
        *r = RUN_YIELDED;
        return true;
    case EXIT_ACT_STOP:
        *r = RUN_STOPPED;
        return true;
    }
    if (slice_end && now >= slice_end) {
        *r = RUN_PREEMPTED;
        return true;
    }
    return false;
}
