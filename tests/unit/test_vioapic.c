/* The virtual IOAPIC: registers, edge and level pins, Remote IRR and EOI,
 * masking, polarity, hostile register writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vdev/vioapic.h"

struct delivery {
    uint32_t dest;
    bool logical;
    unsigned mode;
    uint8_t vector;
    bool level;
};
static struct delivery got[64];
static unsigned nr_got;

static void rec_deliver(void *ctx, uint32_t dest, bool logical, unsigned mode, uint8_t vector,
                        bool level)
{
    assert_true(nr_got < 64);
    got[nr_got++] = (struct delivery){dest, logical, mode, vector, level};
}

static const struct vioapic_ops ops = {.deliver = rec_deliver};
static struct vioapic io;

static int setup(void **state)
{
    nr_got = 0;
    vioapic_init(&io, 2, &ops);
    return 0;
}

static uint32_t rd(unsigned index)
{
    uint64_t v;
    assert_true(vioapic_mmio_write(&io, VIOAPIC_REGSEL, 4, index));
    assert_true(vioapic_mmio_read(&io, VIOAPIC_WIN, 4, &v));
    return (uint32_t)v;
}

static void wr(unsigned index, uint32_t val)
{
    assert_true(vioapic_mmio_write(&io, VIOAPIC_REGSEL, 4, index));
    assert_true(vioapic_mmio_write(&io, VIOAPIC_WIN, 4, val));
}

static void program(unsigned pin, uint32_t lo, uint8_t dest)
{
    wr(0x11 + 2 * pin, (uint32_t)dest << 24);
    wr(0x10 + 2 * pin, lo);
}

#define LEVEL  (1u << 15)
#define LOWACT (1u << 13)
#define MASKED (1u << 16)
#define REMOTE (1u << 14)

static void test_id_version(void **state)
{
    assert_int_equal(rd(0), 2u << 24);
    assert_int_equal(rd(1), 0x170011);
    assert_int_equal(rd(2), 2u << 24);
    wr(0, 0xFFFFFFFF); /* only bits 24-27 */
    assert_int_equal(rd(0), 0xFu << 24);
    wr(1, 0);
    wr(2, 0);
    assert_int_equal(rd(1), 0x170011);
    assert_int_equal(rd(2), 0xFu << 24);
    /* IOREGSEL reads back its low byte; byte writes work. */
    uint64_t v;
    assert_true(vioapic_mmio_write(&io, VIOAPIC_REGSEL, 1, 0x1234));
    assert_true(vioapic_mmio_read(&io, VIOAPIC_REGSEL, 4, &v));
    assert_int_equal(v, 0x34);
    /* Reset: all pins masked. */
    for (unsigned pin = 0; pin < VIOAPIC_NR_PINS; pin++) {
        assert_int_equal(rd(0x10 + 2 * pin), MASKED);
        assert_int_equal(rd(0x11 + 2 * pin), 0);
    }
    /* Sub-dword read of the window. */
    assert_true(vioapic_mmio_write(&io, VIOAPIC_REGSEL, 4, 1));
    assert_true(vioapic_mmio_read(&io, VIOAPIC_WIN + 2, 1, &v));
    assert_int_equal(v, 0x17);
    /* Other offsets read 0; impossible input is refused. */
    assert_true(vioapic_mmio_read(&io, 0x20, 4, &v));
    assert_int_equal(v, 0);
    assert_true(vioapic_mmio_write(&io, 0x40, 4, 0x55));
    assert_false(vioapic_mmio_read(&io, 0x1000, 4, &v));
    assert_false(vioapic_mmio_write(&io, 0, 3, 0));
}

static void test_redir_read_only_bits(void **state)
{
    program(3, 0xFFFFFFFF, 0xAB);
    /* Writable: vector, mode, dest mode, polarity, trigger, mask; not
     * delivery status (12), Remote IRR (14), reserved 17-31. */
    assert_int_equal(rd(0x16), 0x1AFFF);
    wr(0x17, 0xFFFFFFFF);
    assert_int_equal(rd(0x17), 0xFF000000);
    program(3, 0x0030, 0x01);
    assert_int_equal(rd(0x16), 0x30);
    assert_int_equal(rd(0x17), 0x01000000);
    assert_int_equal(nr_got, 0);
}

static void test_edge_rising_only(void **state)
{
    program(4, 0x0934, 0x0F); /* lowest priority, logical, vector 0x34 */
    vioapic_set_level(&io, 4, true);
    assert_int_equal(nr_got, 1);
    assert_int_equal(got[0].dest, 0x0F);
    assert_true(got[0].logical);
    assert_int_equal(got[0].mode, 1);
    assert_int_equal(got[0].vector, 0x34);
    assert_false(got[0].level);
    vioapic_set_level(&io, 4, true); /* still high: no edge */
    assert_int_equal(nr_got, 1);
    vioapic_set_level(&io, 4, false);
    assert_int_equal(nr_got, 1);
    vioapic_set_level(&io, 4, true);
    assert_int_equal(nr_got, 2);
    /* An edge while masked is lost, also after unmasking. */
    vioapic_set_level(&io, 4, false);
    wr(0x18, 0x0934 | MASKED);
    vioapic_set_level(&io, 4, true);
    wr(0x18, 0x0934);
    assert_int_equal(nr_got, 2);
    /* Edge pins never get Remote IRR. */
    assert_int_equal(rd(0x18) & REMOTE, 0);
}

static void test_level_remote_irr_eoi(void **state)
{
    program(9, LEVEL | 0x49, 0x00);
    vioapic_set_level(&io, 9, true);
    assert_int_equal(nr_got, 1);
    assert_true(got[0].level);
    assert_int_equal(rd(0x22) & REMOTE, REMOTE);
    /* Writes cannot clear Remote IRR. */
    wr(0x22, LEVEL | 0x49);
    assert_int_equal(rd(0x22) & REMOTE, REMOTE);
    vioapic_set_level(&io, 9, true); /* awaiting EOI: nothing */
    assert_int_equal(nr_got, 1);
    vioapic_eoi(&io, 0x48); /* other vector: nothing */
    assert_int_equal(rd(0x22) & REMOTE, REMOTE);
    /* EOI with the line still asserted delivers again. */
    vioapic_eoi(&io, 0x49);
    assert_int_equal(nr_got, 2);
    assert_int_equal(rd(0x22) & REMOTE, REMOTE);
    /* Line drops, then EOI: Remote IRR clears, nothing delivered. */
    vioapic_set_level(&io, 9, false);
    vioapic_eoi(&io, 0x49);
    assert_int_equal(nr_got, 2);
    assert_int_equal(rd(0x22) & REMOTE, 0);
    /* Linux's EOI for version 0x11: toggle to edge and back. */
    vioapic_set_level(&io, 9, true);
    assert_int_equal(nr_got, 3);
    wr(0x22, MASKED | 0x49);
    assert_int_equal(rd(0x22) & REMOTE, 0);
    vioapic_set_level(&io, 9, false);
    wr(0x22, LEVEL | 0x49);
    assert_int_equal(nr_got, 3);
}

static void test_mask_unmask_asserted_level(void **state)
{
    program(10, LEVEL | MASKED | 0x50, 0x01);
    vioapic_set_level(&io, 10, true);
    assert_int_equal(nr_got, 0);
    wr(0x24, LEVEL | 0x50); /* unmask: delivers */
    assert_int_equal(nr_got, 1);
    assert_int_equal(got[0].vector, 0x50);
    /* Masked with Remote IRR set: the EOI clears it but holds delivery. */
    wr(0x24, LEVEL | MASKED | 0x50);
    vioapic_eoi(&io, 0x50);
    assert_int_equal(nr_got, 1);
    assert_int_equal(rd(0x24) & REMOTE, 0);
    wr(0x24, LEVEL | 0x50);
    assert_int_equal(nr_got, 2);
}

static void test_polarity(void **state)
{
    /* Active-low level (the SCI): the line idles high. */
    vioapic_set_level(&io, 9, true);
    program(9, LEVEL | LOWACT | 0x61, 0x00);
    assert_int_equal(nr_got, 0);
    vioapic_set_level(&io, 9, false); /* asserted */
    assert_int_equal(nr_got, 1);
    vioapic_set_level(&io, 9, true);
    vioapic_eoi(&io, 0x61);
    assert_int_equal(nr_got, 1);
    /* Active-low edge: delivers on the falling edge. */
    program(5, LOWACT | 0x62, 0x00);
    vioapic_set_level(&io, 5, true);
    assert_int_equal(nr_got, 1);
    vioapic_set_level(&io, 5, false);
    assert_int_equal(nr_got, 2);
    assert_int_equal(got[1].vector, 0x62);
}

static void test_out_of_range(void **state)
{
    assert_int_equal(rd(0x03), 0);
    assert_int_equal(rd(0x0F), 0);
    assert_int_equal(rd(0x40), 0);
    assert_int_equal(rd(0xFF), 0);
    wr(0x40, 0x12345678);
    wr(0xFF, 0x12345678);
    wr(0x05, 0x12345678);
    assert_int_equal(rd(0x40), 0);
    assert_int_equal(rd(0x3F), 0); /* last entry's high dword untouched */
    vioapic_set_level(&io, 24, true);
    vioapic_set_level(&io, ~0u, true);
    assert_int_equal(nr_got, 0);
}

static void test_all_ones_garbage(void **state)
{
    for (unsigned i = 0; i < 256; i++)
        wr(i, 0xFFFFFFFF);
    /* Entries: masked, nothing read-only set. */
    for (unsigned pin = 0; pin < VIOAPIC_NR_PINS; pin++) {
        assert_int_equal(rd(0x10 + 2 * pin), 0x1AFFF);
        assert_int_equal(rd(0x11 + 2 * pin), 0xFF000000);
    }
    for (unsigned pin = 0; pin < VIOAPIC_NR_PINS; pin++)
        vioapic_set_level(&io, pin, true);
    assert_int_equal(nr_got, 0);
    /* Unmasked garbage: active low, so asserted while low. */
    for (unsigned pin = 0; pin < VIOAPIC_NR_PINS; pin++)
        wr(0x10 + 2 * pin, 0xFFFEFFFF);
    assert_int_equal(nr_got, 0);
    for (unsigned pin = 0; pin < VIOAPIC_NR_PINS; pin++)
        vioapic_set_level(&io, pin, false);
    /* Mode 7 (ExtINT) level: edge semantics, no Remote IRR. */
    assert_int_equal(nr_got, VIOAPIC_NR_PINS);
    assert_int_equal(got[0].mode, 7);
    assert_false(got[0].level);
    for (unsigned v = 0; v < 256; v++)
        vioapic_eoi(&io, (uint8_t)v);
    for (uint32_t off = 0; off < 0x1000; off += 4)
        for (unsigned sz = 1; sz <= 8; sz *= 2) {
            uint64_t v;
            assert_true(vioapic_mmio_write(&io, off, sz, ~0ull));
            assert_true(vioapic_mmio_read(&io, off, sz, &v));
        }
}

/* A real-time VM's guest EOIs its own local APIC: no Remote IRR, so a
 * level pin delivers at every update that finds it asserted (and on
 * unmasking), never waiting for an EOI that will not come. */
static void test_level_without_eoi(void **state)
{
    io.eoi_unseen = true;
    program(9, 0x31 | LEVEL, 1);
    vioapic_set_level(&io, 9, true);
    assert_int_equal(nr_got, 1);
    assert_int_equal(rd(0x10 + 18) & REMOTE, 0);
    vioapic_set_level(&io, 9, true); /* still asserted at the next update */
    assert_int_equal(nr_got, 2);
    vioapic_set_level(&io, 9, false);
    vioapic_set_level(&io, 9, false);
    assert_int_equal(nr_got, 2);
    /* Masked meanwhile: unmasking an asserted line delivers once. */
    program(9, 0x31 | LEVEL | MASKED, 1);
    vioapic_set_level(&io, 9, true);
    assert_int_equal(nr_got, 2);
    program(9, 0x31 | LEVEL, 1);
    assert_int_equal(nr_got, 3);
    assert_int_equal(got[2].vector, 0x31);
    /* Edge pins keep their rising-edge rule. */
    program(4, 0x41, 1);
    vioapic_set_level(&io, 4, true);
    vioapic_set_level(&io, 4, true);
    assert_int_equal(nr_got, 4);
    assert_int_equal(got[3].vector, 0x41);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_id_version, setup),
        cmocka_unit_test_setup(test_level_without_eoi, setup),
        cmocka_unit_test_setup(test_redir_read_only_bits, setup),
        cmocka_unit_test_setup(test_edge_rising_only, setup),
        cmocka_unit_test_setup(test_level_remote_irr_eoi, setup),
        cmocka_unit_test_setup(test_mask_unmask_asserted_level, setup),
        cmocka_unit_test_setup(test_polarity, setup),
        cmocka_unit_test_setup(test_out_of_range, setup),
        cmocka_unit_test_setup(test_all_ones_garbage, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
