/* Virtual-interrupt delivery in xAPIC mode: the word delta when the CPU
 * also raises vectors itself (self-IPI virtualization,
 * hvm_apicv_word_delta_xapic), and the vLAPIC taking those vectors and the
 * TPR the guest wrote without an exit (vlapic_apicv_import_xapic). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hvm/vcpu.h"
#include "vdev/vlapic.h"

static uint64_t fake_now(void *ctx)
{
    (void)ctx;
    return 1000000;
}

static struct vlapic_ops ops = {
    .now = fake_now,
    .tsc_khz = 1000000,
    .tsc_deadline = true,
    .phys_addr_bits = 39,
};

static struct vlapic a;
static uint32_t irr[8], isr[8], tmr[8];
static uint8_t tpr;

static int setup(void **state)
{
    vlapic_init(&a, 0, true, &ops);                     /* xAPIC mode, enabled, at 0xFEE00000 */
    assert_true(vlapic_mmio_write(&a, 0xF0, 4, 0x1FF)); /* SVR: software enabled */
    return 0;
}

static uint32_t reg(unsigned off)
{
    uint64_t v = 0;
    assert_true(vlapic_mmio_read(&a, off, 4, &v));
    return (uint32_t)v;
}

static void test_word_delta_xapic(void **state)
{
    uint32_t del, eoi, raised;
    /* Given 0x2 pending, nothing happened. */
    hvm_apicv_word_delta_xapic(0x2, 0, 0x2, 0, &del, &eoi, &raised);
    assert_int_equal(del | eoi | raised, 0);
    /* Given bit 1 pending: delivered; bit 3 raised by a self-IPI, pending. */
    hvm_apicv_word_delta_xapic(0x2, 0, 0x8, 0x2, &del, &eoi, &raised);
    assert_int_equal(del, 0x2);
    assert_int_equal(eoi, 0);
    assert_int_equal(raised, 0x8);
    /* A self-IPI raised and delivered: in service, never given. */
    hvm_apicv_word_delta_xapic(0, 0, 0, 0x10, &del, &eoi, &raised);
    assert_int_equal(del, 0x10);
    assert_int_equal(raised, 0);
    /* Given pending, delivered, then raised again by a self-IPI: both. */
    hvm_apicv_word_delta_xapic(0x4, 0, 0x4, 0x4, &del, &eoi, &raised);
    assert_int_equal(del, 0x4);
    assert_int_equal(raised, 0x4);
    /* An EOI of a given in-service vector. */
    hvm_apicv_word_delta_xapic(0, 0x20, 0, 0, &del, &eoi, &raised);
    assert_int_equal(eoi, 0x20);
    assert_int_equal(del | raised, 0);
    /* With nothing raised it agrees with the x2APIC delta. */
    uint32_t d2, e2;
    hvm_apicv_word_delta(0xA, 0x1, 0x8, 0x2, &d2, &e2);
    hvm_apicv_word_delta_xapic(0xA, 0x1, 0x8, 0x2, &del, &eoi, &raised);
    assert_int_equal(del, d2);
    assert_int_equal(eoi, e2);
    assert_int_equal(raised, 0);
}

static void test_self_ipi_and_tpr_reach_the_vlapic(void **state)
{
    vlapic_apicv_export(&a, irr, isr, tmr, &tpr);
    /* The CPU raised vector 0x51 (self-IPI) and the guest wrote TPR 0x30. */
    uint32_t raised[8] = {0};
    raised[2] = 1u << 0x11;
    vlapic_apicv_import(&a, 0, raised, raised); /* nothing delivered or EOIed */
    vlapic_apicv_import_xapic(&a, 1u << 2, raised, 0x30);
    assert_int_equal(reg(0x200 + 0x10 * 2), 1u << 0x11); /* IRR */
    assert_int_equal(reg(0x180 + 0x10 * 2), 0);          /* TMR: edge */
    assert_int_equal(reg(0x80), 0x30);                   /* TPR */
    assert_int_equal(vlapic_pending_vector(&a), 0x51);   /* above the PPR */
    /* -1: the TPR stays. */
    vlapic_apicv_import_xapic(&a, 0, raised, -1);
    assert_int_equal(reg(0x80), 0x30);
}

static void test_reset_since_export_wins(void **state)
{
    assert_true(vlapic_mmio_write(&a, 0x80, 4, 0x20));
    vlapic_apicv_export(&a, irr, isr, tmr, &tpr);
    vlapic_reset(&a); /* an INIT while the CPU held the state */
    uint32_t raised[8] = {0};
    raised[3] = 1;
    vlapic_apicv_import_xapic(&a, 1u << 3, raised, 0x70);
    assert_int_equal(reg(0x200 + 0x10 * 3), 0);
    assert_int_equal(reg(0x80), 0); /* the reset value, not the stale write */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_word_delta_xapic),
        cmocka_unit_test_setup(test_self_ipi_and_tpr_reach_the_vlapic, setup),
        cmocka_unit_test_setup(test_reset_since_export_wins, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
