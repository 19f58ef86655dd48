/* A real-time VM's device timer on the housekeeping CPU (vdev/rt_ticks.c):
 * the stop that comes before its platform is freed, and what a callback
 * or an arm call does once the timer is stopping. The host's timer and
 * IPI calls are stubs that record what they were asked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86_64/ipi.h"
#include "arch/x86_64/timer.h"
#include "arch/x86_64/tsc.h"
#include "vdev/platform.h"
#include "vdev/rt_ticks.h"

/* --- Stubs --- */
static int ipi_result;     /* what ipi_call returns */
static bool ipi_runs_call; /* whether the call "runs" (a success) */
static unsigned ipi_calls, timer_adds, timer_cancels;
static uint64_t last_add;
static uint64_t device_deadline = VDEV_NEVER;

int ipi_call(unsigned cpu, void (*fn)(void *), void *arg, bool wait)
{
    (void)cpu;
    (void)wait;
    ipi_calls++;
    if (ipi_runs_call)
        fn(arg);
    return ipi_result;
}
void timer_add(struct timer *t, uint64_t deadline_tsc)
{
    t->deadline_tsc = deadline_tsc;
    timer_adds++;
    last_add = deadline_tsc;
}
bool timer_cancel(struct timer *t)
{
    (void)t;
    timer_cancels++;
    return true;
}
uint64_t ns_to_tsc(uint64_t ns)
{
    return ns;
}
uint64_t vpit_next_deadline(const struct vpit *t)
{
    (void)t;
    return device_deadline;
}
uint64_t vrtc_next_deadline(const struct vrtc *r)
{
    (void)r;
    return VDEV_NEVER;
}
uint64_t vrtc_next_periodic(const struct vrtc *r, uint64_t now)
{
    (void)r;
    (void)now;
    return VDEV_NEVER;
}
uint64_t vpm_next_deadline(const struct vpm *p)
{
    (void)p;
    return VDEV_NEVER;
}
void vpit_tick(struct vpit *t, uint64_t now) {}
void vrtc_tick(struct vrtc *r, uint64_t now) {}
void vpm_tick(struct vpm *p, uint64_t now) {}

static struct vm_platform plat;

static void setup(void)
{
    memset(&plat, 0, sizeof(plat));
    rt_ticks_init(&plat);
    ipi_result = 0;
    ipi_runs_call = true;
    ipi_calls = timer_adds = timer_cancels = 0;
    device_deadline = VDEV_NEVER;
}

static void test_stop_confirmed(void **state)
{
    (void)state;
    setup();
    assert_true(rt_ticks_stop(&plat));
    assert_true(plat.rt.stopping);
    assert_int_equal(ipi_calls, 1); /* the empty call that drains the CPU */
    assert_int_equal(timer_cancels, 2);
}

static void test_stop_unconfirmed_keeps_platform(void **state)
{
    (void)state;
    setup();
    /* The housekeeping CPU never took the call (stuck with interrupts
     * off for the whole IPI timeout): a callback may still come. */
    ipi_result = -1;
    ipi_runs_call = false;
    assert_false(rt_ticks_stop(&plat));
    assert_true(plat.rt.stopping);
}

static void test_callbacks_after_stop_do_nothing(void **state)
{
    (void)state;
    setup();
    assert_true(rt_ticks_stop(&plat));
    timer_adds = 0;
    device_deadline = 1000;
    /* The timer's callback, had it been running already. */
    plat.rt.timer.fn(&plat.rt.timer, &plat);
    assert_int_equal(timer_adds, 0);
    assert_int_equal(plat.rt.runs, 0);
    /* An arm call queued before the stop. */
    plat.rt.armed_at = 1000;
    plat.rt.quiet_until = 0;
    rt_ticks_arm(&plat);
    assert_int_equal(timer_adds, 0);
}

static void test_arm_before_stop_arms(void **state)
{
    (void)state;
    setup();
    device_deadline = UINT64_MAX - 1;
    assert_true(rt_ticks_need_arm(&plat));
    rt_ticks_arm(&plat);
    assert_int_equal(ipi_calls, 1);
    assert_int_equal(timer_adds, 1);
    /* Armed at the deadline or the end of the quiet gap, whichever first. */
    assert_true(last_add <= UINT64_MAX - 1);
    assert_int_equal(plat.rt.arm_calls, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stop_confirmed),
        cmocka_unit_test(test_stop_unconfirmed_keeps_platform),
        cmocka_unit_test(test_callbacks_after_stop_do_nothing),
        cmocka_unit_test(test_arm_before_stop_arms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
