/* The MC146818 model: BCD/binary and 12/24 h reads, time advancing with
 * the clock, UIP, SET and guest writes, register C and IRQ 8 (UIE, PIE,
 * AIE), century, CMOS RAM and index masking. Fake TSC at 1 GHz. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vdev/vrtc.h"

#define HZ 1000000000ull
#define T0 777ull

static uint64_t fake_tsc;
static unsigned irq_edges;
static bool irq_high;

static uint64_t fake_now(void *ctx)
{
    return fake_tsc;
}

static void irq_line(void *ctx, unsigned irq, bool high)
{
    assert_int_equal(irq, 8);
    if (high && !irq_high)
        irq_edges++;
    irq_high = high;
}

static const struct vdev_clock clk = {NULL, fake_now, HZ / 1000};

static void setup_rtc(struct vrtc *r, const struct rtc_time *start)
{
    fake_tsc = T0;
    irq_edges = 0;
    irq_high = false;
    vrtc_init(r, &clk, start, irq_line, NULL);
}

static uint8_t rd(struct vrtc *r, uint8_t idx)
{
    uint8_t v = idx;
    assert_true(vrtc_io(r, 0x70, false, &v));
    assert_true(vrtc_io(r, 0x71, true, &v));
    return v;
}

static void wr(struct vrtc *r, uint8_t idx, uint8_t val)
{
    assert_true(vrtc_io(r, 0x70, false, &idx));
    assert_true(vrtc_io(r, 0x71, false, &val));
}

static void at_ms(uint64_t ms)
{
    fake_tsc = T0 + ms * (HZ / 1000);
}

static const struct rtc_time leap = {58, 59, 23, 29, 2, 2024}; /* a Thursday */

static void test_ports(void **state)
{
    struct vrtc r;
    uint8_t v;
    setup_rtc(&r, &leap);
    assert_false(vrtc_io(&r, 0x72, true, &v));
    assert_true(vrtc_io(&r, 0x70, true, &v));
    assert_int_equal(v, 0xff);
    assert_int_equal(rd(&r, 0x0d), 0x80);
    assert_int_equal(rd(&r, 0x0a), 0x26);
    assert_int_equal(rd(&r, 0x0b), 0x02);
}

static void test_bcd_24h_and_advance(void **state)
{
    struct vrtc r;
    setup_rtc(&r, &leap);
    assert_int_equal(rd(&r, 0x00), 0x58);
    assert_int_equal(rd(&r, 0x02), 0x59);
    assert_int_equal(rd(&r, 0x04), 0x23);
    assert_int_equal(rd(&r, 0x06), 0x05); /* Thursday, Sunday = 1 */
    assert_int_equal(rd(&r, 0x07), 0x29);
    assert_int_equal(rd(&r, 0x08), 0x02);
    assert_int_equal(rd(&r, 0x09), 0x24);
    assert_int_equal(rd(&r, 0x32), 0x20);
    at_ms(999);
    assert_int_equal(rd(&r, 0x00), 0x58);
    at_ms(2000); /* leap day rolls into March */
    assert_int_equal(rd(&r, 0x00), 0x00);
    assert_int_equal(rd(&r, 0x04), 0x00);
    assert_int_equal(rd(&r, 0x07), 0x01);
    assert_int_equal(rd(&r, 0x08), 0x03);
    assert_int_equal(rd(&r, 0x06), 0x06);
}

static void test_binary_12h(void **state)
{
    struct vrtc r;
    const struct rtc_time t = {7, 5, 13, 31, 12, 1999};
    setup_rtc(&r, &t);
    wr(&r, 0x0b, 0x04); /* binary, 12-hour */
    assert_int_equal(rd(&r, 0x00), 7);
    assert_int_equal(rd(&r, 0x04), 0x80 | 1); /* 1 PM */
    assert_int_equal(rd(&r, 0x09), 99);
    assert_int_equal(rd(&r, 0x32), 19);
    wr(&r, 0x0b, 0x00); /* BCD 12-hour */
    assert_int_equal(rd(&r, 0x04), 0x81);
    wr(&r, 0x0b, 0x02);
    assert_int_equal(rd(&r, 0x04), 0x13);
    /* Midnight and noon in 12-hour mode; the century rolls over. */
    wr(&r, 0x0b, 0x00);
    at_ms((11 * 3600 - 5 * 60 - 7) * 1000ull); /* 00:00:00 2000-01-01 */
    assert_int_equal(rd(&r, 0x04), 0x12);
    assert_int_equal(rd(&r, 0x09), 0x00);
    assert_int_equal(rd(&r, 0x32), 0x20);
    assert_int_equal(rd(&r, 0x08), 0x01);
    at_ms((23 * 3600 - 5 * 60 - 7) * 1000ull);
    assert_int_equal(rd(&r, 0x04), 0x92); /* 12 PM */
}

static void test_uip(void **state)
{
    struct vrtc r;
    setup_rtc(&r, &leap);
    assert_int_equal(rd(&r, 0x0a) & 0x80, 0);
    fake_tsc = T0 + HZ - 1000; /* 1 us before the update */
    assert_int_equal(rd(&r, 0x0a) & 0x80, 0x80);
    assert_int_equal(rd(&r, 0x00), 0x58); /* time still consistent */
    fake_tsc = T0 + HZ - 2300000;
    assert_int_equal(rd(&r, 0x0a) & 0x80, 0);
    fake_tsc = T0 + HZ;
    assert_int_equal(rd(&r, 0x0a) & 0x80, 0);
    assert_int_equal(rd(&r, 0x00), 0x59);
    /* A guest polling UIP every 50 us sees it within any second. */
    unsigned seen = 0;
    for (uint64_t t = 0; t < HZ; t += 50000) {
        fake_tsc = T0 + HZ + t;
        seen += rd(&r, 0x0a) >> 7;
    }
    assert_in_range(seen, 40, 50);
    /* A's divider and rate bits are writable, UIP is not. */
    wr(&r, 0x0a, 0xa6);
    at_ms(1500);
    assert_int_equal(rd(&r, 0x0a), 0x26);
    wr(&r, 0x0a, 0x2f);
    assert_int_equal(rd(&r, 0x0a), 0x2f);
}

static void test_set_and_write(void **state)
{
    struct vrtc r;
    setup_rtc(&r, &leap);
    /* Linux's mc146818_set_time: SET, write, clear SET. */
    wr(&r, 0x0b, 0x82 | 0x10);
    assert_int_equal(rd(&r, 0x0b), 0x82); /* SET cleared UIE */
    at_ms(5000);
    assert_int_equal(rd(&r, 0x00), 0x58); /* halted */
    assert_int_equal(rd(&r, 0x0a) & 0x80, 0);
    wr(&r, 0x00, 0x30);
    wr(&r, 0x02, 0x15);
    wr(&r, 0x04, 0x10);
    wr(&r, 0x07, 0x15);
    wr(&r, 0x08, 0x06);
    wr(&r, 0x09, 0x31);
    wr(&r, 0x32, 0x20);
    assert_int_equal(rd(&r, 0x00), 0x30);
    wr(&r, 0x0b, 0x02);
    at_ms(5000 + 2500);
    assert_int_equal(rd(&r, 0x00), 0x32);
    assert_int_equal(rd(&r, 0x02), 0x15);
    assert_int_equal(rd(&r, 0x04), 0x10);
    assert_int_equal(rd(&r, 0x07), 0x15);
    assert_int_equal(rd(&r, 0x08), 0x06);
    assert_int_equal(rd(&r, 0x09), 0x31);
    assert_int_equal(rd(&r, 0x06), 0x01); /* 2031-06-15 is a Sunday */
    /* A write while running changes that field only. */
    wr(&r, 0x02, 0x45);
    at_ms(5000 + 3500);
    assert_int_equal(rd(&r, 0x02), 0x45);
    assert_int_equal(rd(&r, 0x00), 0x33);
    /* Garbage is clamped, never trusted. */
    wr(&r, 0x0b, 0x82);
    wr(&r, 0x00, 0xff);
    wr(&r, 0x04, 0xff);
    wr(&r, 0x07, 0x00);
    wr(&r, 0x08, 0xee);
    wr(&r, 0x32, 0x00);
    wr(&r, 0x0b, 0x02);
    assert_int_equal(rd(&r, 0x00), 0x59);
    assert_int_equal(rd(&r, 0x04), 0x23);
    assert_int_equal(rd(&r, 0x07), 0x01);
    assert_int_equal(rd(&r, 0x08), 0x12);
    assert_int_equal(rd(&r, 0x32), 0x19);
}

static void test_uie_irq_and_register_c(void **state)
{
    struct vrtc r;
    setup_rtc(&r, &leap);
    assert_int_equal(vrtc_next_deadline(&r), VDEV_NEVER);
    at_ms(1500);
    /* UF (and PF at the default 1024 Hz) set without enables: no IRQF. */
    assert_int_equal(rd(&r, 0x0c), 0x50);
    assert_int_equal(rd(&r, 0x0c), 0x00); /* read clears */
    assert_int_equal(irq_edges, 0);
    wr(&r, 0x0b, 0x12);
    assert_int_equal(vrtc_next_deadline(&r), T0 + 2 * HZ);
    vrtc_tick(&r, T0 + 2 * HZ - 1);
    assert_false(irq_high);
    fake_tsc = T0 + 2 * HZ;
    vrtc_tick(&r, fake_tsc);
    assert_true(irq_high);
    assert_int_equal(irq_edges, 1);
    assert_int_equal(vrtc_next_deadline(&r), VDEV_NEVER); /* until C is read */
    assert_int_equal(rd(&r, 0x0c) & 0xb0, 0xb0);          /* AF too: midnight matches alarm 0 */
    assert_false(irq_high);
    assert_int_equal(vrtc_next_deadline(&r), T0 + 3 * HZ);
    /* Late tick: one interrupt. */
    fake_tsc = T0 + 10 * HZ;
    vrtc_tick(&r, fake_tsc);
    assert_int_equal(irq_edges, 2);
    assert_int_equal(rd(&r, 0x0c) & 0xb0, 0x90);
    assert_int_equal(rd(&r, 0x00), 0x08);
}

/* Periodic interrupts merged into one (a late tick, a guest slow to read
 * C) are counted; on-time ones are not. */
static void test_pie_coalesced_counted(void **state)
{
    struct vrtc r;
    setup_rtc(&r, &leap);
    wr(&r, 0x0a, 0x2a); /* 64 Hz: 512 ticks of 32.768 kHz */
    wr(&r, 0x0b, 0x42);
    for (unsigned i = 0; i < 10; i++) {
        fake_tsc = vrtc_next_deadline(&r);
        vrtc_tick(&r, fake_tsc);
        rd(&r, 0x0c);
    }
    assert_int_equal(r.irqs, 10);
    assert_int_equal(r.coalesced, 0);
    /* A tick half a second late: 32 periods, one interrupt. */
    fake_tsc = vrtc_next_deadline(&r) + HZ / 2 - 1;
    vrtc_tick(&r, fake_tsc);
    assert_int_equal(r.irqs, 11);
    assert_int_equal(r.coalesced, 31);
    /* C unread: no new interrupt, no timer; the read counts what passed.
     * The next period is still known (vdev/rt_ticks.c arms for it). */
    assert_int_equal(vrtc_next_deadline(&r), VDEV_NEVER);
    uint64_t pf = vrtc_next_periodic(&r, fake_tsc);
    assert_true(pf > fake_tsc && pf <= fake_tsc + HZ / 64 + 1);
    fake_tsc += HZ / 4;
    assert_int_equal(rd(&r, 0x0c) & 0xc0, 0xc0);
    assert_int_equal(r.irqs, 11);
    assert_int_equal(r.coalesced, 31 + 16);
    assert_int_equal(irq_edges, 11);
    assert_int_equal(vrtc_next_deadline(&r), vrtc_next_periodic(&r, fake_tsc));
    wr(&r, 0x0b, 0x02); /* PIE off */
    assert_int_equal(vrtc_next_periodic(&r, fake_tsc), VDEV_NEVER);
}

static void test_pie(void **state)
{
    struct vrtc r;
    setup_rtc(&r, &leap);
    wr(&r, 0x0a, 0x26); /* 1024 Hz */
    wr(&r, 0x0b, 0x42);
    unsigned n = 0;
    while (vrtc_next_deadline(&r) <= T0 + HZ) {
        fake_tsc = vrtc_next_deadline(&r);
        vrtc_tick(&r, fake_tsc);
        assert_true(irq_high);
        assert_int_equal(rd(&r, 0x0c) & 0xc0, 0xc0);
        n++;
    }
    assert_in_range(n, 1023, 1025);
    assert_int_equal(irq_edges, n);
    /* Rate 15: 2 Hz. */
    wr(&r, 0x0a, 0x2f);
    n = 0;
    uint64_t end = fake_tsc + HZ;
    while (vrtc_next_deadline(&r) <= end) {
        fake_tsc = vrtc_next_deadline(&r);
        vrtc_tick(&r, fake_tsc);
        rd(&r, 0x0c);
        n++;
    }
    assert_in_range(n, 1, 3);
    /* Rate 0: off. */
    wr(&r, 0x0a, 0x20);
    assert_int_equal(vrtc_next_deadline(&r), VDEV_NEVER);
}

static void test_alarm(void **state)
{
    struct vrtc r;
    setup_rtc(&r, &leap);
    wr(&r, 0x01, 0x03);
    wr(&r, 0x03, 0xff); /* any minute */
    wr(&r, 0x05, 0x00);
    wr(&r, 0x0b, 0x22);
    fake_tsc = vrtc_next_deadline(&r);
    vrtc_tick(&r, fake_tsc); /* 23:59:59: no */
    assert_false(irq_high);
    fake_tsc = vrtc_next_deadline(&r);
    vrtc_tick(&r, fake_tsc); /* 00:00:00 */
    assert_false(irq_high);
    at_ms(5000); /* 00:00:03 */
    vrtc_tick(&r, fake_tsc);
    assert_true(irq_high);
    assert_int_equal(rd(&r, 0x0c) & 0xa0, 0xa0);
}

static void test_cmos_ram_and_index(void **state)
{
    struct vrtc r;
    setup_rtc(&r, &leap);
    for (unsigned i = 0x0e; i < 0x80; i++)
        if (i != 0x32)
            wr(&r, (uint8_t)i, (uint8_t)(i ^ 0x5a));
    for (unsigned i = 0x0e; i < 0x80; i++)
        if (i != 0x32)
            assert_int_equal(rd(&r, (uint8_t)i), i ^ 0x5a);
    /* Bit 7 of the index is the NMI mask: 0x8e is register 0x0e. */
    assert_int_equal(rd(&r, 0x8e), 0x0e ^ 0x5a);
    assert_int_equal(rd(&r, 0x80 | 0x0d), 0x80);
    wr(&r, 0xff, 0x11);
    assert_int_equal(rd(&r, 0x7f), 0x11);
    /* C and D ignore writes. */
    wr(&r, 0x0d, 0x00);
    wr(&r, 0x0c, 0xff);
    assert_int_equal(rd(&r, 0x0d), 0x80);
    assert_int_equal(rd(&r, 0x0c), 0x00);
    vrtc_cmos_set(&r, 0x15, 0x80);
    vrtc_cmos_set(&r, 0x00, 0x99);
    vrtc_cmos_set(&r, 0x1000, 0x99);
    assert_int_equal(rd(&r, 0x15), 0x80);
    assert_int_equal(rd(&r, 0x00), 0x58);
}

static void test_hostile(void **state)
{
    struct vrtc r;
    setup_rtc(&r, NULL);
    assert_int_equal(rd(&r, 0x09), 0x00);
    assert_int_equal(rd(&r, 0x32), 0x20);
    uint32_t x = 99;
    for (unsigned i = 0; i < 20000; i++) {
        x = x * 1103515245 + 12345;
        uint8_t v = (uint8_t)(x >> 16);
        vrtc_io(&r, (x >> 8) & 1 ? 0x71 : 0x70, (x >> 9) & 1, &v);
        fake_tsc += (x >> 12) & 0xfffff;
        if (vrtc_next_deadline(&r) <= fake_tsc)
            vrtc_tick(&r, fake_tsc);
        assert_true(vrtc_next_deadline(&r) > fake_tsc);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ports),         cmocka_unit_test(test_bcd_24h_and_advance),
        cmocka_unit_test(test_binary_12h),    cmocka_unit_test(test_uip),
        cmocka_unit_test(test_set_and_write), cmocka_unit_test(test_uie_irq_and_register_c),
        cmocka_unit_test(test_pie),           cmocka_unit_test(test_pie_coalesced_counted),
        cmocka_unit_test(test_alarm),         cmocka_unit_test(test_cmos_ram_and_index),
        cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
