/* The vPIT, RTC and PM timer of a real-time VM (docs/realtime.md), ticked
 * from a housekeeping CPU. Its vCPU never exits, so the run loop that
 * ticks other VMs' devices before each entry never runs for it: a host
 * timer on the housekeeping CPU (CPU 0) runs the devices' expired
 * deadlines instead, and their interrupts reach the guest the way its
 * vUART's do (vIOAPIC pin -> physical IPI, vdev/virq.c). The timer is
 * armed only while a device has a deadline, at that deadline: an idle or
 * unprogrammed device costs the housekeeping CPU nothing, and a device's
 * rate is bounded by the device model (the vPIT's 5 kHz floor, the RTC's
 * wait for a read of register C), whose missed periods coalesce. */
#ifndef VDEV_RT_TICKS_H
#define VDEV_RT_TICKS_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/timer_queue.h"

struct vm_platform;

struct rt_ticks {
    struct timer timer; /* on `cpu` */
    unsigned cpu;       /* the housekeeping CPU */
    uint64_t armed_at;  /* the timer's deadline, VDEV_NEVER: not armed;
                           changed under the platform lock */
    volatile bool stopping;
    bool rtc_grace;        /* armed one RTC period ahead of a read of C */
    uint64_t runs;         /* timer callbacks that ticked the devices */
    uint64_t busy_retries; /* callbacks that found the platform lock taken */
    uint64_t arm_calls;    /* IPI calls asking the housekeeping CPU to arm it */
    /* The guest decides how often it reprograms a device: arm calls are
     * bounded. One call at a time (it reads armed_at when it runs), and
     * none until quiet_until after one ran: the timer then fires by
     * quiet_until and reads every deadline afresh. */
    bool arm_pending;
    uint64_t quiet_until;   /* TSC */
    uint64_t arms_deferred; /* arm requests left to that timer */
};

/* At platform creation, for a real-time VM. */
void rt_ticks_init(struct vm_platform *p);
/* After a guest access to a ticked device, with the platform lock held:
 * true when the timer must be armed earlier (then call rt_ticks_arm after
 * dropping the lock). */
bool rt_ticks_need_arm(struct vm_platform *p);
/* Asks the housekeeping CPU to arm the timer (an IPI call, no lock held). */
void rt_ticks_arm(struct vm_platform *p);
/* Before the platform is freed: no callback runs or will run after it
 * (true). False: the housekeeping CPU did not run a call within the IPI
 * timeout, so a callback may still be running or queued there: the
 * platform must then never be freed. */
bool rt_ticks_stop(struct vm_platform *p);

struct vm;
/* For `stats`: one line on a running real-time VM's device ticks, or
 * false (no line) for any other VM. */
bool rt_ticks_describe(const struct vm *vm, char *buf, unsigned len);

#endif
