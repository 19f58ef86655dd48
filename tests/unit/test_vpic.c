/* The 8259A pair: Linux's and SeaBIOS's init sequences, masking,
 * priorities and rotation, EOI variants, the cascade, ELCR level lines,
 * spurious IR7/IR15, poll mode, IRR/ISR/IMR reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vdev/vpic.h"

static void out(struct vpic *p, uint16_t port, uint8_t v)
{
    assert_true(vpic_io(p, port, false, &v));
}

static uint8_t in(struct vpic *p, uint16_t port)
{
    uint8_t v = 0x5a;
    assert_true(vpic_io(p, port, true, &v));
    return v;
}

/* arch/x86/kernel/i8259.c init_8259A(0), then every line unmasked. */
static void linux_init(struct vpic *p)
{
    vpic_init(p);
    out(p, 0x21, 0xff);
    out(p, 0xa1, 0xff);
    out(p, 0x20, 0x11);
    out(p, 0x21, 0x30);
    out(p, 0x21, 0x04);
    out(p, 0x21, 0x01);
    out(p, 0xa0, 0x11);
    out(p, 0xa1, 0x38);
    out(p, 0xa1, 0x02);
    out(p, 0xa1, 0x01);
    out(p, 0x21, 0x00);
    out(p, 0xa1, 0x00);
}

static void seabios_init(struct vpic *p)
{
    vpic_init(p);
    out(p, 0x20, 0x11);
    out(p, 0xa0, 0x11);
    out(p, 0x21, 0x08);
    out(p, 0xa1, 0x70);
    out(p, 0x21, 0x04);
    out(p, 0xa1, 0x02);
    out(p, 0x21, 0x01);
    out(p, 0xa1, 0x01);
    out(p, 0x21, 0xfb);
    out(p, 0xa1, 0xff);
}

static void pulse(struct vpic *p, unsigned irq)
{
    vpic_set_irq(p, irq, true);
    vpic_set_irq(p, irq, false);
}

static void test_ports(void **state)
{
    struct vpic p;
    uint8_t v = 0;
    vpic_init(&p);
    assert_false(vpic_io(&p, 0x22, true, &v));
    assert_false(vpic_io(&p, 0x40, false, &v));
    assert_false(vpic_io(&p, 0x4d2, true, &v));
    assert_true(vpic_io(&p, 0x4d0, true, &v));
}

static void test_linux_probe_imr(void **state)
{
    struct vpic p;
    vpic_init(&p);
    out(&p, 0x21, 0xff);
    assert_int_equal(in(&p, 0x21), 0xff);
    out(&p, 0x21, 0xfb);
    assert_int_equal(in(&p, 0x21), 0xfb);
    linux_init(&p);
    assert_int_equal(in(&p, 0x21), 0x00);
    out(&p, 0xa1, 0xff);
    out(&p, 0x21, 0xff);
    pulse(&p, 0);
    assert_false(vpic_output(&p));
    /* ICW1 clears the IMR (datasheet). */
    out(&p, 0x20, 0x11);
    assert_int_equal(in(&p, 0x21), 0x00);
}

static void test_linux_vectors_and_eoi(void **state)
{
    struct vpic p;
    linux_init(&p);
    assert_false(vpic_output(&p));
    pulse(&p, 0);
    assert_true(vpic_output(&p));
    assert_int_equal(in(&p, 0x20), 0x01); /* IRR */
    assert_int_equal(vpic_ack(&p), 0x30);
    assert_false(vpic_output(&p));
    out(&p, 0x20, 0x0b); /* OCW3: read ISR */
    assert_int_equal(in(&p, 0x20), 0x01);
    out(&p, 0x20, 0x60); /* specific EOI IR0 */
    assert_int_equal(in(&p, 0x20), 0x00);
    out(&p, 0x20, 0x0a); /* back to IRR */
    assert_int_equal(in(&p, 0x20), 0x00);
}

static void test_seabios_vectors(void **state)
{
    struct vpic p;
    seabios_init(&p);
    assert_int_equal(in(&p, 0x21), 0xfb);
    pulse(&p, 1); /* masked */
    assert_false(vpic_output(&p));
    out(&p, 0x21, 0xf9);
    assert_true(vpic_output(&p));
    assert_int_equal(vpic_ack(&p), 0x09);
    out(&p, 0x20, 0x20);
    pulse(&p, 8); /* slave masked */
    assert_false(vpic_output(&p));
    out(&p, 0xa1, 0xfe);
    assert_true(vpic_output(&p));
    assert_int_equal(vpic_ack(&p), 0x70);
}

static void test_priority_and_nesting(void **state)
{
    struct vpic p;
    linux_init(&p);
    pulse(&p, 4);
    pulse(&p, 3);
    assert_int_equal(vpic_ack(&p), 0x33); /* lower IR wins */
    assert_false(vpic_output(&p));        /* IR4 waits behind IR3 in service */
    pulse(&p, 1);
    assert_true(vpic_output(&p)); /* higher priority nests */
    assert_int_equal(vpic_ack(&p), 0x31);
    out(&p, 0x20, 0x20); /* non-specific EOI clears the highest: IR1 */
    out(&p, 0x20, 0x0b);
    assert_int_equal(in(&p, 0x20), 0x08);
    out(&p, 0x20, 0x20);
    assert_int_equal(in(&p, 0x20), 0x00);
    assert_int_equal(vpic_ack(&p), 0x34);
    out(&p, 0x20, 0x20);
}

static void test_rotation(void **state)
{
    struct vpic p;
    linux_init(&p);
    pulse(&p, 0);
    assert_int_equal(vpic_ack(&p), 0x30);
    out(&p, 0x20, 0xa0); /* rotate on non-specific EOI: IR0 becomes lowest */
    pulse(&p, 0);
    pulse(&p, 5);
    assert_int_equal(vpic_ack(&p), 0x35);
    out(&p, 0x20, 0xe5); /* rotate on specific EOI 5: IR6 highest */
    pulse(&p, 7);
    assert_int_equal(vpic_ack(&p), 0x37); /* 7 beats 0 now */
    out(&p, 0x20, 0x67);
    out(&p, 0x20, 0xc7); /* set priority: IR7 lowest, IR0 highest */
    pulse(&p, 7);
    assert_int_equal(vpic_ack(&p), 0x30);
    assert_int_equal(vpic_ack(&p), 0x37);
}

static void test_auto_eoi(void **state)
{
    struct vpic p;
    linux_init(&p);
    out(&p, 0x20, 0x11);
    out(&p, 0x21, 0x30);
    out(&p, 0x21, 0x04);
    out(&p, 0x21, 0x03); /* 8086 mode, auto-EOI */
    pulse(&p, 3);
    assert_int_equal(vpic_ack(&p), 0x33);
    out(&p, 0x20, 0x0b);
    assert_int_equal(in(&p, 0x20), 0x00); /* nothing in service */
    pulse(&p, 5);
    assert_int_equal(vpic_ack(&p), 0x35);
}

static void test_cascade(void **state)
{
    struct vpic p;
    linux_init(&p);
    pulse(&p, 12);
    assert_true(vpic_output(&p));
    assert_int_equal(vpic_ack(&p), 0x3c);
    out(&p, 0xa0, 0x0b);
    assert_int_equal(in(&p, 0xa0), 0x10);
    out(&p, 0x20, 0x0b);
    assert_int_equal(in(&p, 0x20), 0x04);
    /* A second slave request while IR2 is in service waits for both EOIs. */
    pulse(&p, 9);
    assert_false(vpic_output(&p)); /* master IR2 in service blocks */
    out(&p, 0xa0, 0x64);           /* Linux: specific EOI on the slave, */
    out(&p, 0x20, 0x62);           /* then on the master's cascade */
    assert_true(vpic_output(&p));
    assert_int_equal(vpic_ack(&p), 0x39);
    out(&p, 0xa0, 0x20);
    out(&p, 0x20, 0x20);
    assert_false(vpic_output(&p));
    /* The cascade ranks as IR2 on the master: IRQ 8-15 beat IRQ 3. */
    pulse(&p, 3);
    pulse(&p, 15);
    assert_int_equal(vpic_ack(&p), 0x3f);
    out(&p, 0xa0, 0x20);
    out(&p, 0x20, 0x20);
    assert_int_equal(vpic_ack(&p), 0x33);
    /* External IRQ 2 is the cascade itself: ignored. */
    out(&p, 0x20, 0x20);
    vpic_set_irq(&p, 2, true);
    assert_false(vpic_output(&p));
    vpic_set_irq(&p, 99, true); /* out of range: ignored */
    assert_false(vpic_output(&p));
}

static void test_edge_vs_level(void **state)
{
    struct vpic p;
    linux_init(&p);
    /* Edge: a held line raises one request only. */
    vpic_set_irq(&p, 5, true);
    assert_int_equal(vpic_ack(&p), 0x35);
    out(&p, 0x20, 0x20);
    assert_false(vpic_output(&p));
    vpic_set_irq(&p, 5, false);
    /* Level via ELCR (the SCI on IRQ 9): requests while high. */
    out(&p, 0x4d1, 0xff);
    assert_int_equal(in(&p, 0x4d1), 0xde); /* IRQ 8 and 13 are edge only */
    out(&p, 0x4d0, 0xff);
    assert_int_equal(in(&p, 0x4d0), 0xf8);
    vpic_set_irq(&p, 9, true);
    assert_int_equal(vpic_ack(&p), 0x39);
    out(&p, 0xa0, 0x20);
    out(&p, 0x20, 0x20);
    assert_true(vpic_output(&p)); /* still high: requests again */
    vpic_set_irq(&p, 9, false);
    assert_false(vpic_output(&p));
    /* ICW1 LTIM: every input level-triggered. */
    out(&p, 0x4d0, 0x00);
    out(&p, 0x20, 0x19);
    out(&p, 0x21, 0x30);
    out(&p, 0x21, 0x04);
    out(&p, 0x21, 0x01);
    vpic_set_irq(&p, 4, true);
    assert_int_equal(vpic_ack(&p), 0x34);
    out(&p, 0x20, 0x20);
    assert_true(vpic_output(&p));
    vpic_set_irq(&p, 4, false);
    assert_false(vpic_output(&p));
}

static void test_edge_latch_reset_by_icw1(void **state)
{
    struct vpic p;
    linux_init(&p);
    vpic_set_irq(&p, 6, true);
    out(&p, 0x20, 0x11); /* re-init clears the latched edge */
    out(&p, 0x21, 0x30);
    out(&p, 0x21, 0x04);
    out(&p, 0x21, 0x01);
    assert_false(vpic_output(&p));
    vpic_set_irq(&p, 6, true); /* no new edge */
    assert_false(vpic_output(&p));
    vpic_set_irq(&p, 6, false);
    vpic_set_irq(&p, 6, true);
    assert_true(vpic_output(&p));
}

static void test_spurious(void **state)
{
    struct vpic p;
    linux_init(&p);
    out(&p, 0x4d0, 0x08); /* IRQ 3 level */
    vpic_set_irq(&p, 3, true);
    assert_true(vpic_output(&p));
    vpic_set_irq(&p, 3, false); /* vanished before the acknowledge */
    assert_int_equal(vpic_ack(&p), 0x37);
    out(&p, 0x20, 0x0b);
    assert_int_equal(in(&p, 0x20), 0x00); /* IR7 not put in service */
    /* Masked between request and acknowledge. */
    pulse(&p, 5);
    out(&p, 0x21, 0x20);
    assert_false(vpic_output(&p));
    assert_int_equal(vpic_ack(&p), 0x37);
    out(&p, 0x21, 0x00);
    assert_int_equal(vpic_ack(&p), 0x35); /* the latched edge survives */
    out(&p, 0x20, 0x20);
    /* Spurious IR15: slave request vanishes after the master saw it. */
    out(&p, 0x4d1, 0x02); /* IRQ 9 level */
    vpic_set_irq(&p, 9, true);
    out(&p, 0xa1, 0x02);           /* masked on the slave after the master latched... */
    assert_false(vpic_output(&p)); /* ...the cascade follows the slave */
    out(&p, 0xa1, 0x00);
    vpic_set_irq(&p, 9, false);
    assert_int_equal(vpic_ack(&p), 0x37);
}

static void test_poll(void **state)
{
    struct vpic p;
    linux_init(&p);
    out(&p, 0x20, 0x0c); /* OCW3 poll */
    assert_int_equal(in(&p, 0x20), 0x00);
    pulse(&p, 6);
    pulse(&p, 1);
    out(&p, 0x20, 0x0c);
    assert_int_equal(in(&p, 0x20), 0x81);
    assert_int_equal(in(&p, 0x20), 0x40); /* poll is one-shot; IRR read */
    out(&p, 0x20, 0x0b);
    assert_int_equal(in(&p, 0x20), 0x02); /* IR1 in service */
    out(&p, 0x20, 0x61);
    out(&p, 0xa0, 0x0c);
    assert_int_equal(in(&p, 0xa1), 0x00); /* poll on the slave: none */
    out(&p, 0x20, 0x0c);
    assert_int_equal(in(&p, 0x21), 0x86); /* either port answers a poll */
}

static void test_special_mask(void **state)
{
    struct vpic p;
    linux_init(&p);
    pulse(&p, 1);
    assert_int_equal(vpic_ack(&p), 0x31);
    pulse(&p, 5);
    assert_false(vpic_output(&p));
    out(&p, 0x21, 0x02); /* mask the in-service IR1 */
    out(&p, 0x20, 0x68); /* special mask mode on */
    assert_true(vpic_output(&p));
    assert_int_equal(vpic_ack(&p), 0x35);
    out(&p, 0x20, 0x65);
    out(&p, 0x20, 0x48); /* off */
    out(&p, 0x21, 0x00);
    out(&p, 0x20, 0x61);
    out(&p, 0x20, 0x0b);
    assert_int_equal(in(&p, 0x20), 0x00);
}

static void test_hostile_writes(void **state)
{
    struct vpic p;
    vpic_init(&p);
    for (unsigned i = 0; i < 4096; i++) {
        static const uint16_t ports[] = {0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1};
        uint8_t v = (uint8_t)(i * 37 + (i >> 3));
        vpic_io(&p, ports[i % 6], (i & 64) != 0, &v);
        vpic_set_irq(&p, i % 17, i & 1);
        if (vpic_output(&p)) {
            int vec = vpic_ack(&p);
            assert_true(vec >= 0 && vec < 256);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ports),
        cmocka_unit_test(test_linux_probe_imr),
        cmocka_unit_test(test_linux_vectors_and_eoi),
        cmocka_unit_test(test_seabios_vectors),
        cmocka_unit_test(test_priority_and_nesting),
        cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_auto_eoi),
        cmocka_unit_test(test_cascade),
        cmocka_unit_test(test_edge_vs_level),
        cmocka_unit_test(test_edge_latch_reset_by_icw1),
        cmocka_unit_test(test_spurious),
        cmocka_unit_test(test_poll),
        cmocka_unit_test(test_special_mask),
        cmocka_unit_test(test_hostile_writes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
