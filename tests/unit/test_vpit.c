/* The 8254: mode output timelines, latch and read-back, access modes,
 * port 0x61 (channel 2 gate/output, refresh), IRQ 0 pulses and their
 * coalescing after a late tick. The fake TSC runs at exactly 1000 ticks
 * per PIT input clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vdev/vpit.h"

#define T0 5000000ull /* TSC at init */

static uint64_t fake_tsc;
static unsigned irq_edges, irq_calls;
static bool irq_high;

static uint64_t fake_now(void *ctx)
{
    return fake_tsc;
}

static void irq_line(void *ctx, unsigned irq, bool high)
{
    assert_int_equal(irq, 0);
    assert_ptr_equal(ctx, &irq_edges);
    if (high && !irq_high)
        irq_edges++;
    irq_high = high;
    irq_calls++;
}

static const struct vdev_clock clk = {NULL, fake_now, VPIT_HZ};

static uint64_t tsc_of(uint64_t clocks)
{
    return T0 + clocks * 1000;
}

/* Move time to `clocks` PIT clocks after init. */
static void at(uint64_t clocks)
{
    fake_tsc = tsc_of(clocks);
}

static void setup_pit(struct vpit *t)
{
    fake_tsc = T0;
    irq_edges = irq_calls = 0;
    irq_high = false;
    vpit_init(t, &clk, irq_line, &irq_edges);
}

static void out(struct vpit *t, uint16_t port, uint8_t v)
{
    assert_true(vpit_io(t, port, false, &v));
}

static uint8_t in(struct vpit *t, uint16_t port)
{
    uint8_t v = 0x5a;
    assert_true(vpit_io(t, port, true, &v));
    return v;
}

static uint16_t read_word(struct vpit *t, uint16_t port)
{
    uint8_t lo = in(t, port);
    return (uint16_t)(lo | in(t, port) << 8);
}

/* OUT of a channel through the read-back status. */
static bool out_bit(struct vpit *t, unsigned ch)
{
    out(t, 0x43, (uint8_t)(0xe0 | 2u << ch));
    return in(t, 0x40 + ch) & 0x80;
}

static void program(struct vpit *t, unsigned ch, unsigned mode, uint16_t count)
{
    out(t, 0x43, (uint8_t)(ch << 6 | 0x30 | mode << 1));
    out(t, 0x40 + ch, (uint8_t)count);
    out(t, 0x40 + ch, (uint8_t)(count >> 8));
}

static void test_ports(void **state)
{
    struct vpit t;
    uint8_t v;
    setup_pit(&t);
    assert_false(vpit_io(&t, 0x3f, true, &v));
    assert_false(vpit_io(&t, 0x44, true, &v));
    assert_false(vpit_io(&t, 0x60, true, &v));
    assert_int_equal(vpit_next_deadline(&t), VDEV_NEVER);
}

static void test_mode2_rate_generator(void **state)
{
    struct vpit t;
    setup_pit(&t);
    program(&t, 0, 2, 11932); /* Linux's 100 Hz LATCH */
    assert_int_equal(vpit_next_deadline(&t), tsc_of(11932));
    assert_int_equal(read_word(&t, 0x40), 11932);
    at(100);
    assert_int_equal(read_word(&t, 0x40), 11832);
    at(11930);
    assert_true(out_bit(&t, 0));
    at(11931); /* low for the clock before reload */
    assert_false(out_bit(&t, 0));
    assert_int_equal(read_word(&t, 0x40), 1);
    at(11932);
    assert_true(out_bit(&t, 0));
    assert_int_equal(read_word(&t, 0x40), 11932);
    vpit_tick(&t, fake_tsc);
    assert_int_equal(irq_edges, 1);
    assert_false(irq_high); /* a pulse */
    assert_int_equal(vpit_next_deadline(&t), tsc_of(2 * 11932));
    /* Early ticks do nothing. */
    vpit_tick(&t, tsc_of(2 * 11932) - 1);
    assert_int_equal(irq_edges, 1);
    vpit_tick(&t, tsc_of(2 * 11932));
    assert_int_equal(irq_edges, 2);
}

static void test_coalesce_after_gap(void **state)
{
    struct vpit t;
    setup_pit(&t);
    program(&t, 0, 2, 11932);
    at(11932);
    vpit_tick(&t, fake_tsc);
    assert_int_equal(irq_edges, 1);
    /* The integrator comes back a second late: 100 periods missed. */
    at(11932 + VPIT_HZ);
    vpit_tick(&t, fake_tsc);
    assert_int_equal(irq_edges, 2);
    uint64_t next = vpit_next_deadline(&t);
    assert_true(next > fake_tsc);
    assert_true(next <= fake_tsc + 11932 * 1000);
    assert_int_equal((next - T0) / 1000 % 11932, 0); /* still on the period grid */
    vpit_tick(&t, fake_tsc);
    assert_int_equal(irq_edges, 2);
}

/* What a late tick or the 5 kHz floor merges into one edge is counted. */
static void test_coalesced_counted(void **state)
{
    struct vpit t;
    setup_pit(&t);
    program(&t, 0, 2, 11932);
    at(11932);
    vpit_tick(&t, fake_tsc);
    assert_int_equal(t.irqs, 1);
    assert_int_equal(t.coalesced, 0);
    at(11932 * 50); /* periods 2-49 missed */
    vpit_tick(&t, fake_tsc);
    assert_int_equal(t.irqs, 2);
    assert_int_equal(t.coalesced, 48);
    vpit_tick(&t, vpit_next_deadline(&t)); /* on time again */
    assert_int_equal(t.irqs, 3);
    assert_int_equal(t.coalesced, 48);

    /* A reload of 1 asks for 1.19 MHz: edges at most every 239 clocks, the
     * periods between them counted. */
    setup_pit(&t);
    program(&t, 0, 2, 1);
    for (unsigned i = 0; i < 100; i++) {
        uint64_t d = vpit_next_deadline(&t);
        assert_true(d >= fake_tsc + (VPIT_HZ / 5000) * 1000);
        fake_tsc = d;
        vpit_tick(&t, fake_tsc);
    }
    assert_int_equal(t.irqs, 100);
    assert_int_equal(irq_edges, 100);
    uint64_t periods = (fake_tsc - T0) / 1000;
    assert_int_equal(t.irqs + t.coalesced, periods);
}

static void test_mode3_square_wave(void **state)
{
    struct vpit t;
    setup_pit(&t);
    program(&t, 0, 3, 100);
    at(0);
    assert_true(out_bit(&t, 0));
    assert_int_equal(read_word(&t, 0x40), 100);
    at(10);
    assert_int_equal(read_word(&t, 0x40), 80); /* two per clock */
    at(49);
    assert_true(out_bit(&t, 0));
    at(50);
    assert_false(out_bit(&t, 0));
    at(99);
    assert_false(out_bit(&t, 0));
    at(100);
    assert_true(out_bit(&t, 0));
    at(250);
    assert_false(out_bit(&t, 0));
    /* Odd count: high one clock longer. */
    program(&t, 0, 3, 101);
    at(250 + 50);
    assert_true(out_bit(&t, 0));
    at(250 + 51);
    assert_false(out_bit(&t, 0));
    /* IRQ on each rising edge; a tiny count is held to the 5 kHz floor. */
    program(&t, 0, 3, 1000);
    assert_int_equal(vpit_next_deadline(&t), fake_tsc + 1000 * 1000);
    program(&t, 0, 3, 2);
    assert_true(vpit_next_deadline(&t) >= fake_tsc + (VPIT_HZ / 5000) * 1000);
}

static void test_mode0_terminal_count(void **state)
{
    struct vpit t;
    setup_pit(&t);
    out(&t, 0x43, 0x30);
    assert_false(out_bit(&t, 0)); /* low from the control word on */
    out(&t, 0x40, 0xe8);
    assert_int_equal(vpit_next_deadline(&t), VDEV_NEVER); /* half a count */
    out(&t, 0x40, 0x03);                                  /* 1000 */
    assert_int_equal(vpit_next_deadline(&t), tsc_of(1000));
    at(999);
    assert_false(out_bit(&t, 0));
    assert_int_equal(read_word(&t, 0x40), 1);
    at(1000);
    assert_true(out_bit(&t, 0));
    at(1001);
    assert_int_equal(read_word(&t, 0x40), 0xffff); /* wraps, keeps counting */
    assert_true(out_bit(&t, 0));
    vpit_tick(&t, fake_tsc);
    assert_int_equal(irq_edges, 1);
    assert_true(irq_high); /* a level until reprogrammed */
    assert_int_equal(vpit_next_deadline(&t), VDEV_NEVER);
    /* Linux's PIT shutdown: mode 0, count 0 (65536). */
    program(&t, 0, 0, 0);
    assert_false(irq_high);
    assert_int_equal(vpit_next_deadline(&t), fake_tsc + 65536ull * 1000);
}

static void test_mode4_strobe(void **state)
{
    struct vpit t;
    setup_pit(&t);
    program(&t, 0, 4, 500);
    at(499);
    assert_true(out_bit(&t, 0));
    at(500);
    assert_false(out_bit(&t, 0));
    at(501);
    assert_true(out_bit(&t, 0));
    vpit_tick(&t, fake_tsc);
    assert_int_equal(irq_edges, 1);
    assert_false(irq_high);
    assert_int_equal(vpit_next_deadline(&t), VDEV_NEVER);
}

static void test_latch_and_readback(void **state)
{
    struct vpit t;
    setup_pit(&t);
    program(&t, 0, 2, 5000);
    at(1000);
    out(&t, 0x43, 0x00); /* counter latch, channel 0 */
    at(1500);
    out(&t, 0x43, 0x00); /* ignored while the first is unread */
    assert_int_equal(in(&t, 0x40), (4000 & 0xff));
    at(2000);
    assert_int_equal(in(&t, 0x40), 4000 >> 8);
    assert_int_equal(read_word(&t, 0x40), 3000); /* live again */
    /* Read-back: status and count of channels 0 and 2. */
    program(&t, 2, 0, 0x1234);
    out(&t, 0x61, 0x01);
    at(2100);
    out(&t, 0x43, 0xc0 | 0x02 | 0x08);
    assert_int_equal(in(&t, 0x40), 0x80 | 0x30 | 2 << 1); /* OUT high, mode 2 */
    assert_int_equal(read_word(&t, 0x40), 5000 - 2100);
    assert_int_equal(in(&t, 0x42), 0x30); /* mode 0, OUT low, count loaded */
    at(2200);
    assert_int_equal(read_word(&t, 0x42), 0x1234 - 100);
    /* Null count until a count is written. */
    out(&t, 0x43, 0x80 | 0x30);
    out(&t, 0x43, 0xe8);
    assert_int_equal(in(&t, 0x42), 0x40 | 0x30);
}

static void test_access_modes(void **state)
{
    struct vpit t;
    setup_pit(&t);
    out(&t, 0x43, 0x10 | 0x04); /* ch0 LSB only, mode 2 */
    out(&t, 0x40, 0x50);
    assert_int_equal(in(&t, 0x40), 0x50);
    assert_int_equal(in(&t, 0x40), 0x50);
    out(&t, 0x43, 0x20 | 0x04); /* MSB only */
    out(&t, 0x40, 0x12);
    assert_int_equal(in(&t, 0x40), 0x12);
    at(1);
    assert_int_equal(in(&t, 0x40), 0x11); /* 0x11ff */
    out(&t, 0x43, 0x30 | 0x04);           /* LSB then MSB */
    out(&t, 0x40, 0x34);
    out(&t, 0x40, 0x12);
    assert_int_equal(in(&t, 0x40), 0x34);
    assert_int_equal(in(&t, 0x40), 0x12);
    assert_int_equal(in(&t, 0x40), 0x34);
    /* BCD: count 1000 decimal. */
    out(&t, 0x43, 0x30 | 0x04 | 0x01);
    out(&t, 0x40, 0x00);
    out(&t, 0x40, 0x10);
    at(2);
    assert_int_equal(read_word(&t, 0x40), 0x0999);
    assert_int_equal(vpit_next_deadline(&t), tsc_of(1 + 1000));
    /* Without a control word the control port reads as absent. */
    assert_int_equal(in(&t, 0x43), 0xff);
}

/* Linux's quick_pit_calibrate / pit_calibrate_tsc on channel 2. */
static void test_port61_channel2(void **state)
{
    struct vpit t;
    setup_pit(&t);
    assert_int_equal(in(&t, 0x61) & 0x23, 0x20); /* gate off, OUT2 high (mode 3) */
    out(&t, 0x61, (uint8_t)((in(&t, 0x61) & ~0x02) | 0x01));
    assert_int_equal(in(&t, 0x61) & 0x03, 0x01);
    out(&t, 0x43, 0xb0);
    out(&t, 0x42, 0xff);
    out(&t, 0x42, 0xff);
    at(100);
    assert_int_equal(in(&t, 0x61) & 0x20, 0);
    assert_int_equal(read_word(&t, 0x42), 0xffff - 100);
    /* Gate low suspends mode 0. */
    out(&t, 0x61, 0x00);
    at(5000);
    assert_int_equal(read_word(&t, 0x42), 0xffff - 100);
    out(&t, 0x61, 0x01);
    at(5000 + 65535 - 101);
    assert_int_equal(in(&t, 0x61) & 0x20, 0);
    at(5000 + 65535 - 100);
    assert_int_equal(in(&t, 0x61) & 0x20, 0x20);
    assert_int_equal(read_word(&t, 0x42), 0);
    /* Channel 2 never touches IRQ 0. */
    assert_int_equal(irq_calls, 0);
    assert_int_equal(vpit_next_deadline(&t), VDEV_NEVER);
    /* Speaker data bit and bits 2-3 read back, 4-7 do not stick. */
    out(&t, 0x61, 0xff);
    assert_int_equal(in(&t, 0x61) & 0xcf, 0x0f);
    /* Mode 2 with the gate low: stopped, OUT high; rising edge reloads. */
    out(&t, 0x61, 0x00);
    program(&t, 2, 2, 300);
    at(200000);
    assert_int_equal(read_word(&t, 0x42), 300);
    assert_true(in(&t, 0x61) & 0x20);
    out(&t, 0x61, 0x01);
    at(200000 + 299);
    assert_false(in(&t, 0x61) & 0x20);
    /* Mode 1: the gate edge triggers a one-shot with OUT low. */
    out(&t, 0x61, 0x00);
    program(&t, 2, 1, 50);
    assert_true(in(&t, 0x61) & 0x20);
    out(&t, 0x61, 0x01);
    at(200000 + 299 + 49);
    assert_false(in(&t, 0x61) & 0x20);
    at(200000 + 299 + 50);
    assert_true(in(&t, 0x61) & 0x20);
}

static void test_refresh_toggles(void **state)
{
    struct vpit t;
    setup_pit(&t);
    unsigned changes = 0;
    uint8_t last = in(&t, 0x61) & 0x10;
    for (unsigned i = 1; i <= 100; i++) {
        at(i * 9);
        uint8_t now = in(&t, 0x61) & 0x10;
        changes += now != last;
        last = now;
    }
    assert_in_range(changes, 45, 55); /* every 18 clocks, ~15 us */
}

static void test_other_rate(void **state)
{
    /* A 2.5 GHz TSC: 100 Hz still fires 100 times a second, within 1%. */
    struct vpit t;
    struct vdev_clock c = {NULL, fake_now, 2500000};
    fake_tsc = 1000;
    irq_edges = 0;
    irq_high = false;
    vpit_init(&t, &c, irq_line, &irq_edges);
    program(&t, 0, 2, 11932);
    while (vpit_next_deadline(&t) <= 1000 + 2500000000ull) {
        fake_tsc = vpit_next_deadline(&t);
        vpit_tick(&t, fake_tsc);
    }
    assert_in_range(irq_edges, 99, 101);
}

static void test_hostile(void **state)
{
    struct vpit t;
    setup_pit(&t);
    uint32_t x = 12345;
    for (unsigned i = 0; i < 20000; i++) {
        x = x * 1103515245 + 12345;
        static const uint16_t ports[] = {0x40, 0x41, 0x42, 0x43, 0x61};
        uint8_t v = (uint8_t)(x >> 16);
        vpit_io(&t, ports[(x >> 8) % 5], (x >> 4) & 1, &v);
        fake_tsc += (x >> 20) & 0xffff;
        if (vpit_next_deadline(&t) <= fake_tsc)
            vpit_tick(&t, fake_tsc);
        assert_true(vpit_next_deadline(&t) > fake_tsc);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ports),
        cmocka_unit_test(test_mode2_rate_generator),
        cmocka_unit_test(test_coalesce_after_gap),
        cmocka_unit_test(test_coalesced_counted),
        cmocka_unit_test(test_mode3_square_wave),
        cmocka_unit_test(test_mode0_terminal_count),
        cmocka_unit_test(test_mode4_strobe),
        cmocka_unit_test(test_latch_and_readback),
        cmocka_unit_test(test_access_modes),
        cmocka_unit_test(test_port61_channel2),
        cmocka_unit_test(test_refresh_toggles),
        cmocka_unit_test(test_other_rate),
        cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
