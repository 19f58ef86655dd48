/* The decisions every backend's run loop makes the same way (hvm/exit.h):
 * when a run ends before an entry, how long the guest may run, what an
 * exit's action means for the run, and the host timer that ends a slice
 * where the CPU has no preemption timer. The loops themselves (the world
 * switch, fast re-entries) stay the backends'. */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/timer.h"
#include "hvm/backend.h"
#include "hvm/exit.h"
#include "vcpu/run_rules.h"

bool vcpu_run_should_leave(struct vcpu *v, enum vcpu_run_result *r)
{
    if (v->stop_request) {
        *r = RUN_STOPPED;
        return true;
    }
    if (v->pause_request || v->kick) {
        v->kick = false;
        *r = RUN_PREEMPTED;
        return true;
    }
    if (vcpu_wait_for_sipi(v)) {
        *r = RUN_HALTED;
        return true;
    }
    return false;
}

bool vcpu_entry_budget(struct vcpu *v, uint64_t now, uint64_t slice_end, uint64_t *until,
                       uint64_t *next_device)
{
    if (slice_end && now >= slice_end)
        return false;
    /* A real-time vCPU that drives its local APIC gets no device ticks:
     * nothing may end its run. */
    bool rt = v->vm_info.realtime && vcpu_backend->realtime_lapic;
    uint64_t next = rt ? UINT64_MAX : vcpu_device_deadline(v, now);
    uint64_t u = run_entry_until(now, slice_end, next, this_cpu()->guest_run_max_tsc);
    *until = u;
    *next_device = next;
    return true;
}

uint64_t vcpu_fast_budget(uint64_t now, uint64_t limit)
{
    return run_entry_until(now, 0, limit, this_cpu()->guest_run_max_tsc);
}

static struct timer slice_timers[MAX_CPUS];
static uint64_t slice_deadline[MAX_CPUS];

static void slice_timer_fired(struct timer *t, void *arg)
{
    (void)t;
    slice_deadline[(uintptr_t)arg] = 0;
}

void vcpu_arm_slice_timer(uint64_t deadline)
{
    unsigned c = this_cpu_id();
    if (slice_deadline[c] == deadline)
        return;
    if (!slice_timers[c].fn)
        timer_setup(&slice_timers[c], slice_timer_fired, (void *)(uintptr_t)c);
    slice_deadline[c] = deadline;
    if (deadline)
        timer_add(&slice_timers[c], deadline);
    else
        timer_cancel(&slice_timers[c]);
}
