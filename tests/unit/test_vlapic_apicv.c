/* Virtual-interrupt delivery's bookkeeping: the word delta a backend
 * computes from the VIRR/VISR it gave and finds (hvm_apicv_word_delta),
 * and the vLAPIC's export/import (vdev/vlapic_apicv.c): delivered vectors
 * move IRR -> ISR, virtualized EOIs end service (level ones reach
 * eoi_level, highest first), a vector accepted again is not lost, an INIT
 * since the export wins, a disabled APIC exports no IRR. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hvm/vcpu.h"
#include "vdev/vlapic.h"

static uint64_t clock_now;
static uint8_t eoi_vectors[16];
static unsigned nr_eoi;

static uint64_t fake_now(void *ctx)
{
    (void)ctx;
    return clock_now;
}

static void rec_eoi(void *ctx, uint8_t vector)
{
    assert_true(nr_eoi < 16);
    eoi_vectors[nr_eoi++] = vector;
}

static struct vlapic_ops ops = {
    .now = fake_now,
    .tsc_khz = 1000000,
    .tsc_deadline = true,
    .phys_addr_bits = 39,
    .eoi_level = rec_eoi,
};

static struct vlapic a;
static uint32_t irr[8], isr[8], tmr[8];
static uint8_t tpr;

static bool bit(const uint32_t *bm, unsigned v)
{
    return (bm[v / 32] >> (v % 32)) & 1;
}

static int setup(void **state)
{
    clock_now = 1000000;
    nr_eoi = 0;
    vlapic_init(&a, 0, true, &ops);
    assert_true(vlapic_set_apic_base(&a, 0xFEE00000ull | VLAPIC_BASE_EN | VLAPIC_BASE_EXTD));
    assert_true(vlapic_msr_write(&a, 0x80F, 0x1FF)); /* SVR: enabled */
    return 0;
}

/* What a CPU with virtual-interrupt delivery does to the exported state,
 * and the delta of every word, as a backend computes it. */
static void cpu_delta(const uint32_t now_irr[8], const uint32_t now_isr[8],
                      struct hvm_apicv_delta *d)
{
    d->words = 0;
    for (unsigned i = 0; i < 8; i++) {
        hvm_apicv_word_delta(irr[i], isr[i], now_irr[i], now_isr[i], &d->delivered[i],
                             &d->eoied[i]);
        if (d->delivered[i] | d->eoied[i])
            d->words |= (uint8_t)(1u << i);
    }
}

static void test_word_delta(void **state)
{
    uint32_t del, eoi;
    /* 0x41 delivered and still in service, 0x43 still pending. */
    hvm_apicv_word_delta(0xA, 0, 0x8, 0x2, &del, &eoi);
    assert_int_equal(del, 0x2);
    assert_int_equal(eoi, 0);
    /* Delivered and its EOI done, an older one in service ended too. */
    hvm_apicv_word_delta(0x2, 0x1, 0, 0, &del, &eoi);
    assert_int_equal(del, 0x2);
    assert_int_equal(eoi, 0x3);
    /* Nothing happened. */
    hvm_apicv_word_delta(0x2, 0x1, 0x2, 0x1, &del, &eoi);
    assert_int_equal(del | eoi, 0);
}

static void test_export_shows_state(void **state)
{
    vlapic_deliver(&a, 0xEC, false);
    vlapic_deliver(&a, 0x31, true);
    vlapic_set_cr8(&a, 2);
    vlapic_apicv_export(&a, irr, isr, tmr, &tpr);
    assert_true(bit(irr, 0xEC) && bit(irr, 0x31));
    assert_true(bit(tmr, 0x31) && !bit(tmr, 0xEC));
    assert_int_equal(tpr, 0x20);
    for (unsigned i = 0; i < 8; i++)
        assert_int_equal(isr[i], 0);
}

static void test_timer_cycle_deliver_and_eoi(void **state)
{
    vlapic_deliver(&a, 0xEC, false);
    vlapic_apicv_export(&a, irr, isr, tmr, &tpr);
    /* The CPU delivered 0xEC and virtualized its EOI. */
    uint32_t now_irr[8] = {0}, now_isr[8] = {0};
    struct hvm_apicv_delta d;
    cpu_delta(now_irr, now_isr, &d);
    assert_int_equal(d.words, 1u << 7);
    vlapic_apicv_import(&a, d.words, d.delivered, d.eoied);
    assert_int_equal(vlapic_pending_vector(&a), -1);
    assert_int_equal(vlapic_ppr(&a), 0);
    assert_int_equal(nr_eoi, 0); /* edge: nothing for the vIOAPIC */
}

static void test_delivered_still_in_service(void **state)
{
    vlapic_deliver(&a, 0x51, false);
    vlapic_apicv_export(&a, irr, isr, tmr, &tpr);
    uint32_t now_irr[8] = {0}, now_isr[8] = {0};
    now_isr[2] = 1u << 17; /* 0x51 in service */
    struct hvm_apicv_delta d;
    cpu_delta(now_irr, now_isr, &d);
    vlapic_apicv_import(&a, d.words, d.delivered, d.eoied);
    uint64_t v;
    assert_true(vlapic_msr_read(&a, 0x812, &v)); /* ISR word 2 */
    assert_int_equal(v, 1u << 17);
    assert_true(vlapic_msr_read(&a, 0x822, &v)); /* IRR word 2 */
    assert_int_equal(v, 0);
    assert_int_equal(vlapic_ppr(&a), 0x50);
    /* A lower class waits for the EOI the model now knows it needs. */
    vlapic_deliver(&a, 0x41, false);
    assert_int_equal(vlapic_pending_vector(&a), -1);
}

static void test_level_eoi_reaches_ioapic_highest_first(void **state)
{
    vlapic_deliver(&a, 0x61, true);
    vlapic_ack(&a, 0x61);
    vlapic_deliver(&a, 0x92, true);
    vlapic_apicv_export(&a, irr, isr, tmr, &tpr);
    /* The CPU delivered 0x92, then both EOIs (0x92 first). */
    uint32_t now_irr[8] = {0}, now_isr[8] = {0};
    struct hvm_apicv_delta d;
    cpu_delta(now_irr, now_isr, &d);
    vlapic_apicv_import(&a, d.words, d.delivered, d.eoied);
    assert_int_equal(nr_eoi, 2);
    assert_int_equal(eoi_vectors[0], 0x92);
    assert_int_equal(eoi_vectors[1], 0x61);
    assert_int_equal(vlapic_ppr(&a), 0);
}

static void test_accepted_again_is_not_lost(void **state)
{
    vlapic_deliver(&a, 0xEC, false);
    vlapic_apicv_export(&a, irr, isr, tmr, &tpr);
    vlapic_deliver(&a, 0xEC, false); /* again, while the CPU has it */
    uint32_t now_irr[8] = {0}, now_isr[8] = {0};
    struct hvm_apicv_delta d;
    cpu_delta(now_irr, now_isr, &d);
    vlapic_apicv_import(&a, d.words, d.delivered, d.eoied);
    assert_int_equal(vlapic_pending_vector(&a), 0xEC);
}

static void test_init_since_export_wins(void **state)
{
    vlapic_deliver(&a, 0xEC, false);
    vlapic_apicv_export(&a, irr, isr, tmr, &tpr);
    vlapic_reset(&a); /* an INIT while the CPU held the state */
    assert_true(vlapic_msr_write(&a, 0x80F, 0x1FF));
    uint32_t now_irr[8] = {0}, now_isr[8] = {0};
    now_isr[7] = 1u << 12;
    struct hvm_apicv_delta d;
    cpu_delta(now_irr, now_isr, &d);
    vlapic_apicv_import(&a, d.words, d.delivered, d.eoied);
    uint64_t v;
    assert_true(vlapic_msr_read(&a, 0x817, &v));
    assert_int_equal(v, 0); /* no ISR bit came back */
}

static void test_disabled_apic_exports_no_irr(void **state)
{
    vlapic_deliver(&a, 0xEC, false);
    assert_true(vlapic_msr_write(&a, 0x80F, 0xFF)); /* software disabled */
    vlapic_apicv_export(&a, irr, isr, tmr, &tpr);
    for (unsigned i = 0; i < 8; i++)
        assert_int_equal(irr[i], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_word_delta),
        cmocka_unit_test_setup(test_export_shows_state, setup),
        cmocka_unit_test_setup(test_timer_cycle_deliver_and_eoi, setup),
        cmocka_unit_test_setup(test_delivered_still_in_service, setup),
        cmocka_unit_test_setup(test_level_eoi_reaches_ioapic_highest_first, setup),
        cmocka_unit_test_setup(test_accepted_again_is_not_lost, setup),
        cmocka_unit_test_setup(test_init_since_export_wins, setup),
        cmocka_unit_test_setup(test_disabled_apic_exports_no_irr, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
