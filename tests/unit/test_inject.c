/* The vendor-neutral event-injection decisions (vcpu/inject.c) against a
 * fake backend and a fake platform: one event per entry in the order
 * reinjection > exception > NMI > interrupt, blocking honoured, windows
 * requested only while something waits, error codes only where the
 * architecture delivers them. No VMX anywhere: what an SVM backend gets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86_64/cpu.h"
#include "hvm/backend.h"
#include "vcpu/vm.h"

/* --- fake backend --- */
static struct vcpu_event injected[8];
static unsigned nr_injected;
static uint32_t blocking;
static uint64_t cr0 = CR0_PE;
static bool win_nmi, win_irq;
static unsigned window_writes;

static void fake_inject(struct vcpu *v, const struct vcpu_event *e)
{
    assert_true(nr_injected < 8);
    injected[nr_injected++] = *e;
}

static uint32_t fake_blocking(struct vcpu *v)
{
    return blocking;
}

static uint64_t rflags = 0x2;

static uint64_t fake_get_reg(struct vcpu *v, enum hvm_reg r)
{
    return r == HVM_REG_CR0 ? cr0 : r == HVM_REG_RFLAGS ? rflags : 0;
}

static bool fake_set_reg(struct vcpu *v, enum hvm_reg r, uint64_t val)
{
    assert_int_equal(r, HVM_REG_RFLAGS); /* the only register injection writes */
    rflags = val;
    return true;
}

static void fake_windows(struct vcpu *v, bool nmi, bool irq)
{
    win_nmi = nmi;
    win_irq = irq;
    window_writes++;
}

static const struct vcpu_backend fake = {
    .name = "fake",
    .get_reg = fake_get_reg,
    .set_reg = fake_set_reg,
    .event_blocking = fake_blocking,
    .inject_event = fake_inject,
    .set_windows = fake_windows,
};
const struct vcpu_backend *vcpu_backend = &fake;

/* --- fake platform: one pending interrupt vector, or none --- */
static int pending = -1;
static unsigned acks;

static int fake_pending(struct vcpu *v)
{
    return pending;
}

static int fake_ack(struct vcpu *v, int p)
{
    acks++;
    pending = -1;
    return p;
}

static const struct vm_platform_ops platform_ops = {
    .pending_interrupt = fake_pending,
    .ack_interrupt = fake_ack,
};

void vm_crash(struct vcpu *v, const char *fmt, ...)
{
    fail_msg("unexpected crash");
}

static struct vm vm;
static struct vcpu v;

static int setup(void **state)
{
    memset(&vm, 0, sizeof(vm));
    memset(&v, 0, sizeof(v));
    vm.platform = (struct vm_platform *)&vm; /* any non-NULL: "has a platform" */
    vm.platform_ops = &platform_ops;
    v.vm = &vm;
    nr_injected = 0;
    blocking = 0;
    cr0 = CR0_PE;
    rflags = 0x2;
    win_nmi = win_irq = false;
    window_writes = 0;
    pending = -1;
    acks = 0;
    return 0;
}

static void test_nothing_pending_touches_nothing(void **state)
{
    vcpu_inject_pending(&v);
    assert_int_equal(nr_injected, 0);
    assert_int_equal(window_writes, 0);
}

static void test_priority_order(void **state)
{
    v.reinject = (struct vcpu_event){true, EVENT_HW_EXCEPTION, 14, true, 2, 0};
    v.exception_pending = true;
    v.exception_vector = 13;
    v.exception_has_error = true;
    v.nmi_pending = true;
    pending = 0x30;

    vcpu_inject_pending(&v); /* the interrupted event first */
    assert_int_equal(nr_injected, 1);
    assert_int_equal(injected[0].vector, 14);
    assert_false(v.reinject.valid);
    assert_true(win_nmi && win_irq); /* both wait behind it */

    vcpu_inject_pending(&v); /* then the exception */
    assert_int_equal(injected[1].type, EVENT_HW_EXCEPTION);
    assert_int_equal(injected[1].vector, 13);
    assert_true(injected[1].has_error);

    vcpu_inject_pending(&v); /* then the NMI */
    assert_int_equal(injected[2].type, EVENT_NMI);
    assert_int_equal(injected[2].vector, 2);
    assert_false(win_nmi);

    vcpu_inject_pending(&v); /* then the interrupt, acknowledged once */
    assert_int_equal(injected[3].type, EVENT_EXT_INTR);
    assert_int_equal(injected[3].vector, 0x30);
    assert_int_equal(acks, 1);
    assert_false(win_irq);

    vcpu_inject_pending(&v);
    assert_int_equal(nr_injected, 4);
}

static void test_blocked_interrupt_waits_for_its_window(void **state)
{
    pending = 0x41;
    blocking = HVM_BLOCK_IF;
    vcpu_inject_pending(&v);
    assert_int_equal(nr_injected, 0);
    assert_int_equal(acks, 0); /* not taken out of the vLAPIC while it cannot go in */
    assert_true(win_irq);
    blocking = HVM_BLOCK_SHADOW; /* STI shadow: still not */
    vcpu_inject_pending(&v);
    assert_int_equal(nr_injected, 0);
    blocking = 0;
    vcpu_inject_pending(&v);
    assert_int_equal(nr_injected, 1);
    assert_int_equal(injected[0].vector, 0x41);
    assert_false(win_irq);
    /* The interrupt is gone: the window stays closed, no more writes. */
    unsigned writes = window_writes;
    vcpu_inject_pending(&v);
    assert_int_equal(window_writes, writes);
}

static void test_nmi_blocked_by_nmi(void **state)
{
    v.nmi_pending = true;
    blocking = HVM_BLOCK_NMI;
    vcpu_inject_pending(&v);
    assert_int_equal(nr_injected, 0);
    assert_true(win_nmi);
    blocking = HVM_BLOCK_IF; /* IF does not hold an NMI back */
    vcpu_inject_pending(&v);
    assert_int_equal(nr_injected, 1);
    assert_int_equal(injected[0].type, EVENT_NMI);
    assert_false(v.nmi_pending);
}

static void test_error_codes(void **state)
{
    /* #UD has none even if asked; #GP has one in protected mode only. */
    v.exception_pending = true;
    v.exception_vector = 6;
    v.exception_has_error = true;
    vcpu_inject_pending(&v);
    assert_false(injected[0].has_error);
    cr0 = 0;
    v.exception_pending = true;
    v.exception_vector = 13;
    v.exception_has_error = true;
    v.exception_error = 0x18;
    vcpu_inject_pending(&v);
    assert_false(injected[1].has_error); /* real mode: the entry would fail */
    cr0 = CR0_PE;
    v.exception_pending = true;
    vcpu_inject_pending(&v);
    assert_true(injected[2].has_error);
    assert_int_equal(injected[2].error, 0x18);
}

/* SDM 6.15: a fault's delivery pushes RF = 1; traps, aborts, #DB, NMIs and
 * interrupts leave RFLAGS alone. Also for an event delivered again. */
static void test_faults_push_rf(void **state)
{
    static const struct {
        uint8_t vector;
        bool rf;
    } cases[] = {{13, true}, {14, true}, {6, true},  {0, true},  {17, true},
                 {1, false}, {3, false}, {4, false}, {8, false}, {18, false}};
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rflags = 0x2;
        nr_injected = 0;
        v.exception_pending = true;
        v.exception_vector = cases[i].vector;
        vcpu_inject_pending(&v);
        assert_int_equal(injected[nr_injected - 1].vector, cases[i].vector);
        assert_int_equal(!!(rflags & (1ULL << 16)), cases[i].rf);
    }
    rflags = 0x2;
    nr_injected = 0;
    v.reinject = (struct vcpu_event){true, EVENT_HW_EXCEPTION, 14, true, 2, 0};
    vcpu_inject_pending(&v);
    assert_true(rflags & (1ULL << 16));
    rflags = 0x2;
    v.reinject = (struct vcpu_event){true, EVENT_SW_INTR, 0x80, false, 0, 2};
    vcpu_inject_pending(&v);
    assert_int_equal(rflags, 0x2);
    rflags = 0x2;
    pending = 0x30;
    vcpu_inject_pending(&v);
    assert_int_equal(injected[nr_injected - 1].type, EVENT_EXT_INTR);
    assert_int_equal(rflags, 0x2);
}

static void test_no_platform_no_interrupts(void **state)
{
    vm.platform = NULL;
    vm.platform_ops = NULL; /* never called without a platform */
    vcpu_inject_pending(&v);
    assert_int_equal(nr_injected, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_nothing_pending_touches_nothing, setup),
        cmocka_unit_test_setup(test_priority_order, setup),
        cmocka_unit_test_setup(test_blocked_interrupt_waits_for_its_window, setup),
        cmocka_unit_test_setup(test_nmi_blocked_by_nmi, setup),
        cmocka_unit_test_setup(test_error_codes, setup),
        cmocka_unit_test_setup(test_no_platform_no_interrupts, setup),
        cmocka_unit_test_setup(test_faults_push_rf, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
