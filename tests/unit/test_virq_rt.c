/* Which vCPUs of a real-time VM a vIOAPIC delivery reaches as a physical
 * IPI (vdev/virq_rt.c): by the x2APIC IDs of their CPUs or their virtual
 * IDs, broadcasts, lowest priority, and what is never sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vdev/virq_rt.h"

/* vCPU 0 on the CPU with x2APIC ID 2, vCPU 1 on ID 3. */
static const uint32_t ids[2] = {2, 3};

static void test_physical_ids(void **state)
{
    assert_int_equal(virq_rt_targets(ids, 2, 2, false, 0, 0x41), 1);
    assert_int_equal(virq_rt_targets(ids, 2, 3, false, 0, 0x41), 2);
    /* The virtual ID, when no CPU of the VM has it as its own. */
    assert_int_equal(virq_rt_targets(ids, 2, 1, false, 0, 0x41), 2);
    assert_int_equal(virq_rt_targets(ids, 2, 0, false, 0, 0x41), 1);
    /* Neither: nobody. */
    assert_int_equal(virq_rt_targets(ids, 2, 7, false, 0, 0x41), 0);
    /* A one-vCPU VM on CPU 1 (ID 1): 0 (virtual) and 1 (physical) are it. */
    static const uint32_t one[1] = {1};
    assert_int_equal(virq_rt_targets(one, 1, 0, false, 0, 0x30), 1);
    assert_int_equal(virq_rt_targets(one, 1, 1, false, 0, 0x30), 1);
}

static void test_broadcast_lowest_logical(void **state)
{
    assert_int_equal(virq_rt_targets(ids, 2, 0xff, false, 0, 0x41), 3);
    assert_int_equal(virq_rt_targets(ids, 2, 0xff, false, 1, 0x41), 1);
    assert_int_equal(virq_rt_targets(ids, 2, 0x0f, true, 0, 0x41), 1);
    assert_int_equal(virq_rt_targets(ids, 2, 3, false, 1, 0x41), 2);
}

static void test_never_sent(void **state)
{
    /* SMI, NMI, INIT, ExtINT: they would need an exit to emulate. */
    for (unsigned mode = 2; mode < 8; mode++)
        assert_int_equal(virq_rt_targets(ids, 2, 2, false, mode, 0x41), 0);
    /* Vectors below 16 are illegal in a fixed IPI. */
    assert_int_equal(virq_rt_targets(ids, 2, 2, false, 0, 15), 0);
    assert_int_equal(virq_rt_targets(ids, 2, 2, false, 0, 16), 1);
    assert_int_equal(virq_rt_targets(ids, 0, 2, false, 0, 0x41), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_physical_ids),
        cmocka_unit_test(test_broadcast_lowest_logical),
        cmocka_unit_test(test_never_sent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
