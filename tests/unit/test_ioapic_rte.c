/* The I/O APIC redirection entry: the compatibility-format entry the
 * hypervisor writes for a route without remapping, and the decode that
 * hands such a pin over to interrupt remapping (ioapic_set_remapper):
 * only unmasked, fixed, physical, compatibility-format entries qualify. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "arch/x86_64/ioapic_rte.h"

static void test_compat_encoding(void **state)
{
    struct ioapic_route r = {.vector = 0x31, .dest = 0, .level = false, .active_low = false};
    assert_int_equal(ioapic_rte_compat(&r), 0x31);
    r = (struct ioapic_route){.vector = 0x52, .dest = 0xfe, .level = true, .active_low = true};
    /* Level 15, active low 13, destination 63:56; fixed, physical. */
    assert_int_equal(ioapic_rte_compat(&r),
                     0x52ULL | (1ULL << 13) | (1ULL << 15) | (0xfeULL << 56));
}

static void test_decode_round_trip(void **state)
{
    for (unsigned i = 0; i < 16; i++) {
        struct ioapic_route in = {(uint8_t)(0x30 + i), (uint8_t)(i * 17), i & 1, (i >> 1) & 1};
        struct ioapic_route out = {0};
        assert_true(ioapic_rte_compat_route(ioapic_rte_compat(&in), &out));
        assert_int_equal(out.vector, in.vector);
        assert_int_equal(out.dest, in.dest);
        assert_int_equal(out.level, in.level);
        assert_int_equal(out.active_low, in.active_low);
    }
}

static void test_decode_refusals(void **state)
{
    struct ioapic_route r = {.vector = 0x77};
    uint64_t good = 0x31ULL | (3ULL << 56);
    /* Masked pins (every pin after ioapic_init) stay as they are. */
    assert_false(ioapic_rte_compat_route(good | IOAPIC_RTE_MASKED, &r));
    /* Already remappable: bits 63:49 are an index, not a destination. */
    assert_false(ioapic_rte_compat_route(good | IOAPIC_RTE_REMAPPABLE, &r));
    /* Logical destination, or a delivery mode other than fixed (lowest
     * priority 001, NMI 100, ExtINT 111): not what the hypervisor writes. */
    assert_false(ioapic_rte_compat_route(good | IOAPIC_RTE_LOGICAL, &r));
    assert_false(ioapic_rte_compat_route(good | (1ULL << 8), &r));
    assert_false(ioapic_rte_compat_route(good | (4ULL << 8), &r));
    assert_false(ioapic_rte_compat_route(good | (7ULL << 8), &r));
    assert_int_equal(r.vector, 0x77); /* untouched */
    assert_true(ioapic_rte_compat_route(good, &r));
    assert_int_equal(r.vector, 0x31);
    assert_int_equal(r.dest, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compat_encoding),
        cmocka_unit_test(test_decode_round_trip),
        cmocka_unit_test(test_decode_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
