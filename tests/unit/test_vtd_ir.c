/* VT-d interrupt remapping: IRTE encoding (remapped and posted formats,
 * source-id verification fields, xAPIC and x2APIC destinations), the
 * remappable MSI address, the table's entry allocator, and the posted-
 * interrupt descriptor protocol. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/vtd_ir.h"

static void test_irte_xapic(void **state)
{
    struct vtd_irte_spec s = {.vector = 0x40, .dest = 3, .sid = 0x0028, .svt = VTD_SVT_SID};
    struct vtd_entry128 e;
    assert_true(vtd_irte_remapped(&s, &e));
    /* P, fixed delivery, physical, edge, vector 23:16, APIC ID in 47:40. */
    assert_int_equal(e.lo, 1ULL | (0x40ULL << 16) | (3ULL << 40));
    /* SID 79:64, SQ 81:80 = 0 (all 16 bits compared), SVT 83:82 = 01. */
    assert_int_equal(e.hi, 0x0028ULL | (1ULL << 18));
}

static void test_irte_x2apic_and_level(void **state)
{
    struct vtd_irte_spec s = {.vector = 0xfe,
                              .dest = 0x12345,
                              .x2apic = true,
                              .sid = 0xf0f8,
                              .svt = VTD_SVT_BUS,
                              .sq = 0,
                              .level = true};
    struct vtd_entry128 e;
    assert_true(vtd_irte_remapped(&s, &e));
    assert_int_equal(e.lo, 1ULL | (1ULL << 4) | (0xfeULL << 16) | (0x12345ULL << 32));
    assert_int_equal(e.hi, 0xf0f8ULL | (2ULL << 18));
    /* Qualifier: ignore function bits (SQ=3 masks SID[2:0]). */
    s.svt = VTD_SVT_SID;
    s.sq = 3;
    assert_true(vtd_irte_remapped(&s, &e));
    assert_int_equal(e.hi, 0xf0f8ULL | (3ULL << 16) | (1ULL << 18));
}

static void test_irte_refusals(void **state)
{
    struct vtd_entry128 e = {0x1111, 0x2222};
    /* An xAPIC destination has 8 bits; exceptions are not interrupts; SVT 3
     * is reserved. The output is left alone each time. */
    struct vtd_irte_spec s = {.vector = 0x40, .dest = 256, .sid = 1, .svt = VTD_SVT_SID};
    assert_false(vtd_irte_remapped(&s, &e));
    s.dest = 1;
    s.vector = 15;
    assert_false(vtd_irte_remapped(&s, &e));
    s.vector = 0x40;
    s.svt = 3;
    assert_false(vtd_irte_remapped(&s, &e));
    assert_int_equal(e.lo, 0x1111);
    assert_int_equal(e.hi, 0x2222);
}

static void test_irte_posted(void **state)
{
    struct vtd_entry128 e;
    uint64_t pd = 0x123456789ac0ULL;
    assert_true(vtd_irte_posted(0x51, pd, 0x0100, true, &e));
    /* P, URG 14, IM 15, vector, PDA[31:6] in 63:38. */
    assert_int_equal(e.lo, 1ULL | (1ULL << 14) | (1ULL << 15) | (0x51ULL << 16) |
                               ((pd & 0xffffffc0ULL) << 32));
    /* SID, SVT 01, PDA[63:32] in 127:96. */
    assert_int_equal(e.hi, 0x0100ULL | (1ULL << 18) | (pd & 0xffffffff00000000ULL));
    assert_false(vtd_irte_posted(0x51, pd + 8, 0x0100, false, &e)); /* not 64-byte aligned */
    assert_false(vtd_irte_posted(0x51, 0, 0x0100, false, &e));
}

static void test_msi_remappable(void **state)
{
    uint32_t addr, data;
    vtd_msi_remappable(5, &addr, &data);
    /* 0xFEE, handle[14:0] in 19:5, interrupt format bit 4, SHV 0. */
    assert_int_equal(addr, 0xfee00000u | (5u << 5) | (1u << 4));
    assert_int_equal(data, 0);
    vtd_msi_remappable(0x8001, &addr, &data);
    assert_int_equal(addr, 0xfee00000u | (1u << 5) | (1u << 4) | (1u << 2)); /* handle[15] */
    vtd_msi_remappable(0x7fff, &addr, &data);
    assert_int_equal(addr, 0xfee00000u | (0x7fffu << 5) | (1u << 4));
}

static void test_ioapic_irte(void **state)
{
    struct vtd_entry128 e;
    /* QEMU's I/O APIC source-id ff:00.0, level-triggered pin, xAPIC. */
    assert_true(vtd_irte_ioapic(0x45, 2, false, 0xff00, true, &e));
    assert_int_equal(e.lo, 1ULL | (1ULL << 4) | (0x45ULL << 16) | (2ULL << 40));
    /* All 16 bits of the source-id compared (SQ 0, SVT 01). */
    assert_int_equal(e.hi, 0xff00ULL | (1ULL << 18));
    /* x2APIC: the full 32-bit destination; edge-triggered pin. */
    assert_true(vtd_irte_ioapic(0x46, 0x1000, true, 0xf0f8, false, &e));
    assert_int_equal(e.lo, 1ULL | (0x46ULL << 16) | (0x1000ULL << 32));
    assert_int_equal(e.hi, 0xf0f8ULL | (1ULL << 18));
    /* Same refusals as any entry: 300 needs x2APIC, vector 8 is an exception. */
    e = (struct vtd_entry128){7, 7};
    assert_false(vtd_irte_ioapic(0x46, 300, false, 0xff00, true, &e));
    assert_false(vtd_irte_ioapic(8, 0, true, 0xff00, true, &e));
    assert_int_equal(e.lo, 7);
    assert_int_equal(e.hi, 7);
}

static void test_ioapic_rte_remappable(void **state)
{
    /* Vector 7:0, index[14:0] 63:49, format bit 48; destination fields 0. */
    assert_int_equal(vtd_ioapic_rte_remappable(5, 0x45, false, false, false),
                     0x45ULL | (1ULL << 48) | (5ULL << 49));
    /* Level 15, active low 13, masked 16. */
    assert_int_equal(vtd_ioapic_rte_remappable(5, 0x45, true, true, true),
                     0x45ULL | (1ULL << 13) | (1ULL << 15) | (1ULL << 16) | (1ULL << 48) |
                         (5ULL << 49));
    /* index[15] goes in bit 11; the top index bits fill 63:49. */
    assert_int_equal(vtd_ioapic_rte_remappable(0xffff, 0x30, false, false, false),
                     0x30ULL | (1ULL << 11) | (1ULL << 48) | (0x7fffULL << 49));
    assert_int_equal(vtd_ioapic_rte_remappable(0x8000, 0x30, false, false, false),
                     0x30ULL | (1ULL << 11) | (1ULL << 48));
    /* The same index as the remappable MSI a device would send. */
    uint32_t addr, data;
    vtd_msi_remappable(0x1234, &addr, &data);
    uint64_t rte = vtd_ioapic_rte_remappable(0x1234, 0x30, false, false, false);
    assert_int_equal((addr >> 5) & 0x7fff, rte >> 49);
}

static void test_ioapic_rte_index(void **state)
{
    /* Every index a pin can name survives the split into 63:49 and bit 11. */
    static const unsigned idx[] = {0, 1, 0x7fff, 0x8000, 0x8001, 0xffff, 255};
    for (unsigned i = 0; i < sizeof(idx) / sizeof(idx[0]); i++) {
        unsigned got = 12345;
        assert_true(vtd_ioapic_rte_index(
            vtd_ioapic_rte_remappable(idx[i], 0x31, i & 1, i & 2, i & 4), &got));
        assert_int_equal(got, idx[i]);
    }
    /* Compatibility format (bit 48 clear): no index, output untouched; the
     * destination byte of such an entry is not mistaken for one. */
    unsigned got = 77;
    assert_false(vtd_ioapic_rte_index(0x31ULL | (0xffULL << 56), &got));
    assert_false(vtd_ioapic_rte_index(0, &got));
    assert_int_equal(got, 77);
}

/* A hypervisor pin's pair: the IRTE holds destination, trigger and the
 * I/O APIC's source-id; the redirection entry holds the same vector (EOI
 * matching), polarity and mask, and names the entry. */
static void test_ioapic_pin_pair(void **state)
{
    struct vtd_entry128 e;
    /* UART on ISA IRQ 4: edge, active high, APIC 0, QEMU's I/O APIC. */
    assert_true(vtd_irte_ioapic(0x31, 0, false, 0xff00, false, &e));
    assert_int_equal(e.lo, 1ULL | (0x31ULL << 16));
    assert_int_equal(e.hi, 0xff00ULL | (1ULL << 18));
    uint64_t rte = vtd_ioapic_rte_remappable(0, 0x31, false, false, false);
    assert_int_equal(rte, 0x31ULL | (1ULL << 48));
    assert_int_equal((uint8_t)rte, (uint8_t)(e.lo >> 16));
    /* A PCI pin: level, active low, on APIC 5 (xAPIC: DST[15:8]). */
    assert_true(vtd_irte_ioapic(0x52, 5, false, 0xf0f8, true, &e));
    assert_int_equal(e.lo, 1ULL | (1ULL << 4) | (0x52ULL << 16) | (5ULL << 40));
    rte = vtd_ioapic_rte_remappable(9, 0x52, true, true, false);
    assert_int_equal(rte, 0x52ULL | (1ULL << 13) | (1ULL << 15) | (1ULL << 48) | (9ULL << 49));
    /* x2APIC destination 0x100 (past xAPIC's 255): only with EIME. */
    assert_false(vtd_irte_ioapic(0x52, 0x100, false, 0xf0f8, true, &e));
    assert_true(vtd_irte_ioapic(0x52, 0x100, true, 0xf0f8, true, &e));
    assert_int_equal(e.lo >> 32, 0x100);
}

static void test_msi_compat(void **state)
{
    /* 0xFEE, destination in 19:12, interrupt format bit 4 clear: the format
     * the unit blocks once GSTS.CFIS is 0. */
    assert_int_equal(vtd_msi_compat(0), 0xfee00000u);
    assert_int_equal(vtd_msi_compat(0xab), 0xfeeab000u);
    uint32_t addr, data;
    vtd_msi_remappable(0, &addr, &data);
    assert_true(addr & (1u << 4));
    assert_false(vtd_msi_compat(0xff) & (1u << 4));
}

static void test_irt_allocator(void **state)
{
    struct vtd_entry128 *mem = calloc(VTD_IRT_ENTRIES, sizeof(*mem));
    struct vtd_irt t = {.entries = mem};
    for (int i = 0; i < VTD_IRT_ENTRIES; i++)
        assert_int_equal(vtd_irt_alloc(&t), i);
    assert_int_equal(vtd_irt_alloc(&t), -1);
    assert_int_equal(vtd_irt_count(&t), VTD_IRT_ENTRIES);
    struct vtd_irte_spec s = {.vector = 0x30, .dest = 0, .sid = 0x28, .svt = VTD_SVT_SID};
    struct vtd_entry128 e;
    assert_true(vtd_irte_remapped(&s, &e));
    vtd_irt_write(&t, 77, e);
    assert_int_equal(mem[77].lo, e.lo);
    assert_int_equal(mem[77].hi, e.hi);
    vtd_irt_free(&t, 77);
    /* A freed entry is not present and its index is handed out again. */
    assert_int_equal(mem[77].lo, 0);
    assert_int_equal(mem[77].hi, 0);
    assert_int_equal(vtd_irt_count(&t), VTD_IRT_ENTRIES - 1);
    assert_int_equal(vtd_irt_alloc(&t), 77);
    vtd_irt_write(&t, VTD_IRT_ENTRIES, e); /* out of range: ignored */
    vtd_irt_free(&t, 9999);
    free(mem);
}

static void test_posted_descriptor(void **state)
{
    struct vtd_pi_desc *d = aligned_alloc(64, sizeof(*d));
    uint64_t pending[4];
    assert_int_equal(sizeof(*d), 64);
    vtd_pi_init(d, 0xf2, 3, false);
    /* NV 23:16; xAPIC NDST in 47:40 (NDST[15:8]). */
    assert_int_equal(d->control, (0xf2ULL << 16) | (3ULL << 40));
    vtd_pi_init(d, 0xf2, 0x10203, true);
    assert_int_equal(d->control, (0xf2ULL << 16) | (0x10203ULL << 32));
    /* First post notifies; later ones only accumulate until drained. */
    assert_true(vtd_pi_post(d, 0x41));
    assert_false(vtd_pi_post(d, 0x42));
    assert_false(vtd_pi_post(d, 0xff));
    assert_true(d->control & VTD_PI_ON);
    assert_int_equal(vtd_pi_drain(d, pending), 3);
    assert_int_equal(pending[1], (1ULL << 1) | (1ULL << 2));
    assert_int_equal(pending[3], 1ULL << 63);
    assert_false(d->control & VTD_PI_ON);
    assert_int_equal(vtd_pi_drain(d, pending), 0);
    /* Suppressed (vCPU not running): recorded, no notification. */
    vtd_pi_suppress(d, true);
    assert_false(vtd_pi_post(d, 0x60));
    assert_false(d->control & VTD_PI_ON);
    vtd_pi_suppress(d, false);
    assert_true(vtd_pi_post(d, 0x61));
    assert_int_equal(vtd_pi_drain(d, pending), 2);
    assert_int_equal(pending[1], (1ULL << 32) | (1ULL << 33));
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_irte_xapic),
        cmocka_unit_test(test_irte_x2apic_and_level),
        cmocka_unit_test(test_irte_refusals),
        cmocka_unit_test(test_irte_posted),
        cmocka_unit_test(test_msi_remappable),
        cmocka_unit_test(test_irt_allocator),
        cmocka_unit_test(test_posted_descriptor),
        cmocka_unit_test(test_ioapic_irte),
        cmocka_unit_test(test_ioapic_rte_remappable),
        cmocka_unit_test(test_ioapic_rte_index),
        cmocka_unit_test(test_ioapic_pin_pair),
        cmocka_unit_test(test_msi_compat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
