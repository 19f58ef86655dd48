/* ACPI PM1 event/control registers, the PM timer, the SCI, S5 power-off,
 * and the 0xCF9/0x92 resets. Fake TSC at 2.4 GHz. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vdev/acpi_gen.h"
#include "vdev/vpm.h"

#define KHZ 2400000ull
#define HZ  (KHZ * 1000)
#define T0  123456ull

static uint64_t fake_tsc;
static unsigned sci_edges, power_offs, resets;
static bool sci_high;
static int cb_token;

static uint64_t fake_now(void *ctx)
{
    return fake_tsc;
}

static void irq_line(void *ctx, unsigned irq, bool high)
{
    assert_int_equal(irq, ACPI_GEN_SCI_IRQ);
    if (high && !sci_high)
        sci_edges++;
    sci_high = high;
}

static void power_off(void *ctx)
{
    assert_ptr_equal(ctx, &cb_token);
    power_offs++;
}

static void do_reset(void *ctx)
{
    assert_ptr_equal(ctx, &cb_token);
    resets++;
}

static const struct vdev_clock clk = {NULL, fake_now, KHZ};

static void setup_pm(struct vpm *p)
{
    fake_tsc = T0;
    sci_edges = power_offs = resets = 0;
    sci_high = false;
    vpm_init(p, &clk, ACPI_GEN_PM1A_EVT, ACPI_GEN_PM1A_CNT, ACPI_GEN_PM_TMR, ACPI_GEN_S5_TYP,
             irq_line, NULL, power_off, do_reset, &cb_token);
}

static uint32_t in(struct vpm *p, uint16_t port, unsigned size)
{
    uint32_t v = 0xdeadbeef;
    assert_true(vpm_io(p, port, size, true, &v));
    return v;
}

static void out(struct vpm *p, uint16_t port, unsigned size, uint32_t v)
{
    assert_true(vpm_io(p, port, size, false, &v));
}

static void test_ports(void **state)
{
    struct vpm p;
    uint32_t v;
    setup_pm(&p);
    assert_false(vpm_io(&p, 0x5ff, 1, true, &v));
    assert_false(vpm_io(&p, 0x606, 1, true, &v));
    assert_false(vpm_io(&p, 0x60c, 4, true, &v));
    assert_false(vpm_io(&p, 0xcf8, 4, true, &v));
    assert_false(vpm_io(&p, 0xcf9, 2, true, &v)); /* byte register only */
    assert_false(vpm_io(&p, 0x93, 1, true, &v));
    assert_int_equal(vpm_next_deadline(&p), VDEV_NEVER);
}

static void test_timer_rate(void **state)
{
    struct vpm p;
    setup_pm(&p);
    uint32_t a = in(&p, ACPI_GEN_PM_TMR, 4);
    fake_tsc += HZ;
    uint32_t b = in(&p, ACPI_GEN_PM_TMR, 4);
    assert_in_range(b - a, 3579545 - 35795, 3579545 + 35795);
    /* Monotonic over small steps, 1- and 2-byte reads are parts of it. */
    uint32_t last = b;
    for (unsigned i = 0; i < 1000; i++) {
        fake_tsc += 1234;
        uint32_t t = in(&p, ACPI_GEN_PM_TMR, 4);
        assert_true(t >= last);
        last = t;
    }
    assert_int_equal(in(&p, ACPI_GEN_PM_TMR, 2), last & 0xffff);
    assert_int_equal(in(&p, ACPI_GEN_PM_TMR + 2, 2), last >> 16);
    assert_int_equal(in(&p, ACPI_GEN_PM_TMR + 3, 1), last >> 24);
    assert_int_equal(in(&p, ACPI_GEN_PM_TMR + 2, 4), 0xffff0000u | last >> 16);
    out(&p, ACPI_GEN_PM_TMR, 4, 0); /* read-only */
    assert_int_equal(in(&p, ACPI_GEN_PM_TMR, 4), last);
    /* 32 bits wrap after ~20 minutes. */
    fake_tsc = T0 + vdev_muldiv((1ull << 32) + 5, HZ, VPM_TMR_HZ) + 1;
    assert_int_equal(in(&p, ACPI_GEN_PM_TMR, 4), 5);
}

static void test_tmr_sts_and_sci(void **state)
{
    struct vpm p;
    setup_pm(&p);
    assert_int_equal(in(&p, ACPI_GEN_PM1A_EVT, 2), 0);
    /* Bit 31 toggles: status without enable, no SCI. */
    fake_tsc = T0 + vdev_muldiv(1ull << 31, HZ, VPM_TMR_HZ) + 1;
    assert_int_equal(in(&p, ACPI_GEN_PM1A_EVT, 2), ACPI_GEN_PM1_TMR);
    assert_false(sci_high);
    out(&p, ACPI_GEN_PM1A_EVT, 2, ACPI_GEN_PM1_TMR); /* write 1 to clear */
    assert_int_equal(in(&p, ACPI_GEN_PM1A_EVT, 2), 0);
    /* TMR_EN: the deadline is the next toggle, the SCI follows. */
    out(&p, ACPI_GEN_PM1A_EVT + 2, 2, ACPI_GEN_PM1_TMR);
    assert_int_equal(in(&p, ACPI_GEN_PM1A_EVT + 2, 2), ACPI_GEN_PM1_TMR);
    uint64_t dl = vpm_next_deadline(&p);
    assert_int_equal(dl, T0 + vdev_muldiv_ceil(1ull << 32, HZ, VPM_TMR_HZ));
    vpm_tick(&p, dl - 1);
    assert_false(sci_high);
    fake_tsc = dl;
    vpm_tick(&p, dl);
    assert_true(sci_high);
    assert_int_equal(vpm_timer(&p, dl), 0);
    assert_int_equal(vpm_next_deadline(&p), VDEV_NEVER);
    out(&p, ACPI_GEN_PM1A_EVT, 2, 0xffff);
    assert_false(sci_high);
    assert_true(vpm_next_deadline(&p) > dl);
}

static void test_power_button(void **state)
{
    struct vpm p;
    setup_pm(&p);
    vpm_power_button(&p);
    assert_false(sci_high); /* not enabled yet */
    assert_int_equal(in(&p, ACPI_GEN_PM1A_EVT, 2), ACPI_GEN_PM1_PWRBTN);
    /* Enable by a byte write to PM1_EN's high byte: the pending press
     * raises the SCI at once. */
    out(&p, ACPI_GEN_PM1A_EVT + 3, 1, ACPI_GEN_PM1_PWRBTN >> 8);
    assert_true(sci_high);
    assert_int_equal(sci_edges, 1);
    /* Writing 0 bits clears nothing; the 1 clears. */
    out(&p, ACPI_GEN_PM1A_EVT, 2, 0);
    assert_true(sci_high);
    out(&p, ACPI_GEN_PM1A_EVT + 1, 1, 0x01);
    assert_false(sci_high);
    /* A dword write reaches status and enable together. */
    vpm_power_button(&p);
    assert_true(sci_high);
    assert_int_equal(in(&p, ACPI_GEN_PM1A_EVT, 4),
                     (uint32_t)ACPI_GEN_PM1_PWRBTN << 16 | ACPI_GEN_PM1_PWRBTN);
    out(&p, ACPI_GEN_PM1A_EVT, 4, (uint32_t)ACPI_GEN_PM1_PWRBTN << 16 | ACPI_GEN_PM1_PWRBTN);
    assert_false(sci_high);
    assert_int_equal(in(&p, ACPI_GEN_PM1A_EVT + 2, 2), ACPI_GEN_PM1_PWRBTN);
    /* Reserved enable bits do not stick. */
    out(&p, ACPI_GEN_PM1A_EVT + 2, 2, 0xffff);
    assert_int_equal(in(&p, ACPI_GEN_PM1A_EVT + 2, 2), 0x0721);
    /* WAK_STS is write-1-to-clear too (set by nothing here). */
    out(&p, ACPI_GEN_PM1A_EVT, 2, ACPI_GEN_PM1_WAK_STS);
    assert_int_equal(in(&p, ACPI_GEN_PM1A_EVT, 2) & ACPI_GEN_PM1_WAK_STS, 0);
}

static void test_pm1_cnt_and_s5(void **state)
{
    struct vpm p;
    setup_pm(&p);
    assert_int_equal(in(&p, ACPI_GEN_PM1A_CNT, 2), ACPI_GEN_PM1_SCI_EN);
    assert_int_equal(in(&p, ACPI_GEN_PM1A_CNT, 1), ACPI_GEN_PM1_SCI_EN);
    /* SLP_TYP alone latches, reads back; SCI_EN cannot be cleared. */
    out(&p, ACPI_GEN_PM1A_CNT, 2, 3u << ACPI_GEN_PM1_SLP_TYP_SHIFT);
    assert_int_equal(in(&p, ACPI_GEN_PM1A_CNT, 2),
                     3u << ACPI_GEN_PM1_SLP_TYP_SHIFT | ACPI_GEN_PM1_SCI_EN);
    /* Other sleep states: ignored. */
    out(&p, ACPI_GEN_PM1A_CNT, 2, 3u << ACPI_GEN_PM1_SLP_TYP_SHIFT | ACPI_GEN_PM1_SLP_EN);
    out(&p, ACPI_GEN_PM1A_CNT, 2, 1u << ACPI_GEN_PM1_SLP_TYP_SHIFT | ACPI_GEN_PM1_SLP_EN);
    assert_int_equal(power_offs, 0);
    assert_int_equal(in(&p, ACPI_GEN_PM1A_CNT, 2) & ACPI_GEN_PM1_SLP_EN, 0);
    /* Linux's acpi_hw_legacy_sleep: SLP_TYP first, then SLP_EN. */
    uint32_t v = in(&p, ACPI_GEN_PM1A_CNT, 2) & ~ACPI_GEN_PM1_SLP_TYP_MASK;
    v |= (uint32_t)ACPI_GEN_S5_TYP << ACPI_GEN_PM1_SLP_TYP_SHIFT;
    out(&p, ACPI_GEN_PM1A_CNT, 2, v);
    assert_int_equal(power_offs, 0);
    out(&p, ACPI_GEN_PM1A_CNT, 2, v | ACPI_GEN_PM1_SLP_EN);
    assert_int_equal(power_offs, 1);
    /* A byte write of the high byte does the same; a dword too. */
    out(&p, ACPI_GEN_PM1A_CNT + 1, 1, (ACPI_GEN_S5_TYP << 2) | 0x20);
    assert_int_equal(power_offs, 2);
    out(&p, ACPI_GEN_PM1A_CNT, 4, v | ACPI_GEN_PM1_SLP_EN | 0xffff0000u);
    assert_int_equal(power_offs, 3);
    assert_int_equal(resets, 0);
}

static void test_reset_ports(void **state)
{
    struct vpm p;
    setup_pm(&p);
    assert_int_equal(in(&p, 0xcf9, 1), 0);
    out(&p, 0xcf9, 1, 0x02); /* Linux writes SYS_RST first: latched only */
    assert_int_equal(resets, 0);
    assert_int_equal(in(&p, 0xcf9, 1), 0x02);
    out(&p, 0xcf9, 1, 0x06);
    assert_int_equal(resets, 1);
    out(&p, 0xcf9, 1, 0x0e);
    assert_int_equal(resets, 2);
    assert_int_equal(in(&p, 0xcf9, 1), 0x0a); /* RST_CPU self-clears */
    out(&p, 0xcf9, 1, 0x08);
    assert_int_equal(resets, 2);
    /* Port 0x92: A20 reads back, bit 0 is fast reset. */
    assert_int_equal(in(&p, 0x92, 1), 0x02);
    out(&p, 0x92, 1, 0x00);
    assert_int_equal(in(&p, 0x92, 1), 0x00);
    out(&p, 0x92, 1, 0x02);
    assert_int_equal(resets, 2);
    out(&p, 0x92, 1, 0x03);
    assert_int_equal(resets, 3);
    assert_int_equal(power_offs, 0);
}

static void test_no_callbacks(void **state)
{
    struct vpm p;
    vpm_init(&p, NULL, ACPI_GEN_PM1A_EVT, ACPI_GEN_PM1A_CNT, ACPI_GEN_PM_TMR, ACPI_GEN_S5_TYP, NULL,
             NULL, NULL, NULL, NULL);
    out(&p, 0xcf9, 1, 0x06);
    out(&p, ACPI_GEN_PM1A_CNT, 2, 0x3400);
    out(&p, ACPI_GEN_PM1A_EVT, 4, 0xffffffff);
    vpm_power_button(&p);
    assert_int_equal(in(&p, ACPI_GEN_PM_TMR, 4), 0);
    /* Odd sizes are treated as bytes. */
    assert_int_equal(in(&p, ACPI_GEN_PM1A_EVT, 3), ACPI_GEN_PM1_PWRBTN & 0xff);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ports),           cmocka_unit_test(test_timer_rate),
        cmocka_unit_test(test_tmr_sts_and_sci), cmocka_unit_test(test_power_button),
        cmocka_unit_test(test_pm1_cnt_and_s5),  cmocka_unit_test(test_reset_ports),
        cmocka_unit_test(test_no_callbacks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
