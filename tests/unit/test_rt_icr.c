/* vcpu_rt_icr_allowed: the IPIs a real-time vCPU may send through its own
 * local APIC (docs/realtime.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86_64/percpu.h"
#include "vcpu/exit_handlers.h"
#include "vcpu/vm.h"

struct percpu *cpus[MAX_CPUS];
static struct percpu cpu1 = {.apic_id = 1}, cpu2 = {.apic_id = 2}, cpu3 = {.apic_id = 3};

/* What rt_icr.c links against besides the rule. */
void vm_log_violation(struct vm *vm, const char *fmt, ...) {}
bool vcpu_complete(struct vcpu *v, struct exit_record *e)
{
    return true;
}

static struct vm vm;

#define DEST(id) ((uint64_t)(id) << 32)

static void setup_vm(void)
{
    memset(&vm, 0, sizeof(vm));
    cpus[1] = &cpu1;
    cpus[2] = &cpu2;
    cpus[3] = &cpu3;
    vm.nr_vcpus = 2;
    vm.cfg.nr_vcpus = 2;
    vm.cfg.pcpu[0] = 1;
    vm.cfg.pcpu[1] = 2;
}

static void test_inside_the_vm(void **state)
{
    (void)state;
    setup_vm();
    assert_true(vcpu_rt_icr_allowed(&vm, DEST(2) | 0x40));             /* fixed, to vCPU 1 */
    assert_true(vcpu_rt_icr_allowed(&vm, DEST(1) | 0x40 | (1 << 14))); /* level assert */
    assert_true(vcpu_rt_icr_allowed(&vm, (1u << 18) | 0x41));          /* self */
    assert_true(vcpu_rt_icr_allowed(&vm, DEST(2) | (4u << 8)));        /* NMI */
}

static void test_outside_refused(void **state)
{
    (void)state;
    setup_vm();
    assert_false(vcpu_rt_icr_allowed(&vm, DEST(3) | 0x40));              /* another VM's CPU */
    assert_false(vcpu_rt_icr_allowed(&vm, DEST(0) | 0x40));              /* the console CPU */
    assert_false(vcpu_rt_icr_allowed(&vm, (2u << 18) | 0x40));           /* all including self */
    assert_false(vcpu_rt_icr_allowed(&vm, (3u << 18) | 0x40));           /* all but self */
    assert_false(vcpu_rt_icr_allowed(&vm, DEST(2) | (1u << 11) | 0x40)); /* logical */
    assert_false(vcpu_rt_icr_allowed(&vm, DEST(2) | (5u << 8)));         /* INIT */
    assert_false(vcpu_rt_icr_allowed(&vm, DEST(2) | (6u << 8) | 0x10));  /* SIPI */
    assert_false(vcpu_rt_icr_allowed(&vm, DEST(2) | (2u << 8)));         /* SMI */
    assert_false(vcpu_rt_icr_allowed(&vm, DEST(2) | 0x0f));              /* illegal vector */
    assert_false(vcpu_rt_icr_allowed(&vm, DEST(2) | 0x40 | (1u << 12))); /* reserved bit */
    assert_false(vcpu_rt_icr_allowed(&vm, DEST(0xffffffffu) | 0x40));    /* broadcast ID */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inside_the_vm),
        cmocka_unit_test(test_outside_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
