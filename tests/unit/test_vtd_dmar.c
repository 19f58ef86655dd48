/* DMAR parsing for the VT-d driver: QEMU's real table (q35, intel-iommu,
 * intremap=on, edu at 00:05.0), include-all units, RMRRs, device scopes
 * through bridges, and hostile tables (bad lengths, overruns, unaligned or
 * inverted ranges, too many of everything). Also the BB:DD.F parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/vtd_dmar.h"
#include "lib/log.h"

/* Dumped from QEMU 7.2: -machine q35 -device intel-iommu,intremap=on
 * -device edu,addr=05.0. One DRHD at 0xfed90000 (not include-all) naming
 * the I/O APIC and each device on bus 0. */
static const uint8_t qemu_dmar[128] = {
    0x44, 0x4d, 0x41, 0x52, 0x80, 0x00, 0x00, 0x00, 0x01, 0xef, 0x42, 0x4f, 0x43, 0x48, 0x53, 0x20,
    0x42, 0x58, 0x50, 0x43, 0x20, 0x20, 0x20, 0x20, 0x01, 0x00, 0x00, 0x00, 0x42, 0x58, 0x50, 0x43,
    0x01, 0x00, 0x00, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x50, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xd9, 0xfe, 0x00, 0x00, 0x00, 0x00,
    0x03, 0x08, 0x00, 0x00, 0x00, 0xff, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00,
    0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x1f, 0x00,
    0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x1f, 0x02, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x1f, 0x03,
};

static struct vtd_dmar d;
static char err[128];

/* ---- a small table builder ---- */

static uint8_t tb[4096];
static uint32_t tlen;

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}
static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static void begin(uint8_t haw_bits, uint8_t flags)
{
    memset(tb, 0, sizeof(tb));
    memcpy(tb, "DMAR", 4);
    tb[36] = (uint8_t)(haw_bits - 1);
    tb[37] = flags;
    tlen = 48;
}

static uint8_t *drhd(uint64_t base, uint8_t flags, uint16_t seg)
{
    uint8_t *e = tb + tlen;
    put16(e, 0);
    put16(e + 2, 16);
    e[4] = flags;
    put16(e + 6, seg);
    put64(e + 8, base);
    tlen += 16;
    return e;
}

static uint8_t *rmrr(uint64_t base, uint64_t limit)
{
    uint8_t *e = tb + tlen;
    put16(e, 1);
    put16(e + 2, 24);
    put64(e + 8, base);
    put64(e + 16, limit);
    tlen += 24;
    return e;
}

/* Appends a scope to the structure e (the last one added). */
static void scope(uint8_t *e, uint8_t type, uint8_t enum_id, uint8_t bus, const uint8_t *path,
                  unsigned n)
{
    uint8_t *s = tb + tlen;
    s[0] = type;
    s[1] = (uint8_t)(6 + 2 * n);
    s[4] = enum_id;
    s[5] = bus;
    memcpy(s + 6, path, 2 * n);
    tlen += 6 + 2 * n;
    put16(e + 2, (uint16_t)(e[2] + (e[3] << 8) + 6 + 2 * n));
}

static int parse(void)
{
    put32(tb + 4, tlen);
    return vtd_dmar_parse(tb, tlen, &d, err, sizeof(err));
}

/* A bridge at 00:1c.0 leading to buses 2-4. */
static bool fake_bridge(void *ctx, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn,
                        uint8_t *secondary, uint8_t *subordinate)
{
    if (seg != 0 || bus != 0 || dev != 0x1c || fn != 0)
        return false;
    *secondary = 2;
    *subordinate = 4;
    return true;
}

#define BDF(b, dv, f) ((uint16_t)(((b) << 8) | ((dv) << 3) | (f)))

static void test_qemu_table(void **state)
{
    assert_int_equal(vtd_dmar_parse(qemu_dmar, sizeof(qemu_dmar), &d, err, sizeof(err)), 0);
    assert_int_equal(d.haw, 39);
    assert_int_equal(d.flags, VTD_DMAR_INTR_REMAP);
    assert_int_equal(d.nr_drhd, 1);
    assert_int_equal(d.drhd[0].base, 0xfed90000);
    assert_false(d.drhd[0].include_all);
    assert_int_equal(d.drhd[0].nr_scopes, 8);
    assert_int_equal(d.nr_bad, 0);
    const struct vtd_scope *io = &d.scopes[d.drhd[0].first_scope];
    assert_int_equal(io->type, VTD_SCOPE_IOAPIC);
    assert_int_equal(io->start_bus, 0xff);
    assert_int_equal(vtd_dmar_unit_for(&d, 0, BDF(0, 5, 0), NULL, NULL), 0);
    assert_int_equal(vtd_dmar_unit_for(&d, 0, BDF(0, 0x1f, 3), NULL, NULL), 0);
    /* Not named, and no include-all unit: nobody translates it. */
    assert_int_equal(vtd_dmar_unit_for(&d, 0, BDF(0, 3, 0), NULL, NULL), -1);
    assert_int_equal(vtd_dmar_unit_for(&d, 1, BDF(0, 5, 0), NULL, NULL), -1);
    /* The I/O APIC scope is not a PCI device. */
    assert_int_equal(vtd_dmar_unit_for(&d, 0, BDF(0xff, 0, 0), NULL, NULL), -1);
    /* It gives the I/O APIC's source-id: ff:00.0 (QEMU's pseudo device). */
    uint16_t seg = 9, sid = 0;
    assert_int_equal(io->enum_id, 0);
    assert_int_equal(vtd_dmar_ioapic_source(&d, 0, NULL, NULL, &seg, &sid), 0);
    assert_int_equal(seg, 0);
    assert_int_equal(sid, BDF(0xff, 0, 0));
    /* No scope for I/O APIC 1: its pins cannot be remapped. */
    assert_int_equal(vtd_dmar_ioapic_source(&d, 1, NULL, NULL, &seg, &sid), -1);
}

static void test_ioapic_scopes(void **state)
{
    static const uint8_t direct[] = {0x1e, 1}, behind[] = {0x1c, 0, 3, 1}, nowhere[] = {7, 0, 0, 0};
    begin(39, 1);
    uint8_t *u0 = drhd(0xfed90000, 0, 0);
    scope(u0, VTD_SCOPE_ENDPOINT, 2, 0, direct, 1); /* an endpoint, not I/O APIC 2 */
    uint8_t *u1 = drhd(0xfed91000, 1, 1);
    scope(u1, VTD_SCOPE_IOAPIC, 2, 0xf0, direct, 1);
    scope(u1, VTD_SCOPE_IOAPIC, 3, 0, behind, 2);  /* below the bridge at 00:1c.0 */
    scope(u1, VTD_SCOPE_IOAPIC, 4, 0, nowhere, 2); /* path through no bridge */
    assert_int_equal(parse(), 0);
    uint16_t seg, sid;
    assert_int_equal(vtd_dmar_ioapic_source(&d, 2, fake_bridge, NULL, &seg, &sid), 1);
    assert_int_equal(seg, 1);
    assert_int_equal(sid, BDF(0xf0, 0x1e, 1));
    /* fake_bridge only answers on segment 0. */
    assert_int_equal(vtd_dmar_ioapic_source(&d, 3, fake_bridge, NULL, &seg, &sid), -1);
    assert_int_equal(vtd_dmar_ioapic_source(&d, 4, fake_bridge, NULL, &seg, &sid), -1);
    assert_int_equal(vtd_dmar_ioapic_source(&d, 3, NULL, NULL, &seg, &sid), -1);
    /* On segment 0 the same path resolves through the bridge to bus 2. */
    begin(39, 1);
    u0 = drhd(0xfed90000, 0, 0);
    scope(u0, VTD_SCOPE_IOAPIC, 3, 0, behind, 2);
    assert_int_equal(parse(), 0);
    assert_int_equal(vtd_dmar_ioapic_source(&d, 3, fake_bridge, NULL, &seg, &sid), 0);
    assert_int_equal(sid, BDF(2, 3, 1));
    /* An I/O APIC scope never makes its unit translate a PCI device. */
    assert_int_equal(vtd_dmar_unit_for(&d, 0, BDF(2, 3, 1), fake_bridge, NULL), -1);
}

static void test_include_all_and_scoped_units(void **state)
{
    begin(46, 1);
    uint8_t *u0 = drhd(0xfed91000, 0, 0);
    static const uint8_t gfx[] = {2, 0};
    scope(u0, VTD_SCOPE_ENDPOINT, 0, 0, gfx, 1);
    drhd(0xfed90000, 1, 0); /* everything else */
    assert_int_equal(parse(), 0);
    assert_int_equal(d.nr_drhd, 2);
    assert_true(d.drhd[1].include_all);
    assert_int_equal(vtd_dmar_unit_for(&d, 0, BDF(0, 2, 0), NULL, NULL), 0);
    assert_int_equal(vtd_dmar_unit_for(&d, 0, BDF(0, 2, 1), NULL, NULL), 1);
    assert_int_equal(vtd_dmar_unit_for(&d, 0, BDF(7, 0, 0), NULL, NULL), 1);
    assert_int_equal(vtd_dmar_unit_for(&d, 1, BDF(0, 2, 0), NULL, NULL), -1);
}

/* Compatibility format can be blocked only when every I/O APIC sends
 * through a unit that remaps interrupts. */
static void test_every_ioapic_remapped(void **state)
{
    static const uint8_t path[] = {0x1e, 1};
    begin(39, 1);
    uint8_t *u0 = drhd(0xfed90000, 0, 0);
    scope(u0, VTD_SCOPE_IOAPIC, 2, 0xf0, path, 1);
    uint8_t *u1 = drhd(0xfed91000, 0, 0);
    scope(u1, VTD_SCOPE_IOAPIC, 8, 0xf1, path, 1);
    assert_int_equal(parse(), 0);
    const uint8_t both[] = {2, 8}, with_stray[] = {2, 8, 9};
    /* Both units remap: every I/O APIC is covered. */
    assert_int_equal(vtd_dmar_first_unremapped_ioapic(&d, both, 2, 3, NULL, NULL), -1);
    /* No I/O APIC at all: nothing needs compatibility format. */
    assert_int_equal(vtd_dmar_first_unremapped_ioapic(&d, both, 0, 0, NULL, NULL), -1);
    /* Unit 1 does not remap interrupts: I/O APIC 8 (index 1) still needs
     * compatibility format; so does one no unit names at all. */
    assert_int_equal(vtd_dmar_first_unremapped_ioapic(&d, both, 2, 1, NULL, NULL), 1);
    assert_int_equal(vtd_dmar_first_unremapped_ioapic(&d, both, 2, 2, NULL, NULL), 0);
    assert_int_equal(vtd_dmar_first_unremapped_ioapic(&d, with_stray, 3, 3, NULL, NULL), 2);
    /* QEMU's table: its one I/O APIC (id 0) is named by its one unit. */
    assert_int_equal(vtd_dmar_parse(qemu_dmar, sizeof(qemu_dmar), &d, err, sizeof(err)), 0);
    const uint8_t qemu_ids[] = {0};
    assert_int_equal(vtd_dmar_first_unremapped_ioapic(&d, qemu_ids, 1, 1, NULL, NULL), -1);
    assert_int_equal(vtd_dmar_first_unremapped_ioapic(&d, qemu_ids, 1, 0, NULL, NULL), 0);
}

static void test_scopes_through_bridges(void **state)
{
    begin(39, 0);
    uint8_t *u = drhd(0xfed90000, 0, 0);
    static const uint8_t behind[] = {0x1c, 0, 0, 0}; /* 00:1c.0, then 00.0 below it */
    scope(u, VTD_SCOPE_ENDPOINT, 0, 0, behind, 2);
    static const uint8_t bridge[] = {0x1c, 0};
    scope(u, VTD_SCOPE_BRIDGE, 0, 0, bridge, 1);
    assert_int_equal(parse(), 0);
    const struct vtd_scope *ep = &d.scopes[0], *br = &d.scopes[1];
    uint16_t first, last;
    assert_true(vtd_scope_resolve(ep, 0, fake_bridge, NULL, &first, &last));
    assert_int_equal(first, BDF(2, 0, 0));
    assert_int_equal(last, BDF(2, 0, 0));
    assert_true(vtd_scope_resolve(br, 0, fake_bridge, NULL, &first, &last));
    assert_int_equal(first, BDF(2, 0, 0));
    assert_int_equal(last, BDF(4, 0x1f, 7));
    /* The bridge scope covers the bridge and everything below it. */
    assert_true(vtd_scope_matches(br, 0, BDF(0, 0x1c, 0), fake_bridge, NULL));
    assert_true(vtd_scope_matches(br, 0, BDF(3, 1, 0), fake_bridge, NULL));
    assert_false(vtd_scope_matches(br, 0, BDF(5, 0, 0), fake_bridge, NULL));
    assert_false(vtd_scope_matches(br, 0, BDF(0, 0x1d, 0), fake_bridge, NULL));
    assert_int_equal(vtd_dmar_unit_for(&d, 0, BDF(4, 3, 2), fake_bridge, NULL), 0);
    /* Without config space (no bridge there), the paths lead nowhere. */
    assert_false(vtd_scope_resolve(ep, 0, NULL, NULL, &first, &last));
    assert_false(vtd_scope_matches(br, 0, BDF(3, 1, 0), NULL, NULL));
    assert_int_equal(vtd_dmar_unit_for(&d, 0, BDF(2, 0, 0), NULL, NULL), -1);
}

static void test_rmrr(void **state)
{
    begin(39, 0);
    drhd(0xfed90000, 1, 0);
    uint8_t *r = rmrr(0x3e000000, 0x3e0fffff);
    static const uint8_t usb[] = {0x14, 0};
    scope(r, VTD_SCOPE_ENDPOINT, 0, 0, usb, 1);
    rmrr(0x1000, 0x0fff);       /* limit below base */
    rmrr(0x2000800, 0x2000fff); /* unaligned base */
    rmrr(0x3000, 0x3ffe);       /* limit + 1 not page aligned */
    assert_int_equal(parse(), 0);
    assert_int_equal(d.nr_rmrr, 1);
    assert_int_equal(d.rmrr[0].base, 0x3e000000);
    assert_int_equal(d.rmrr[0].limit, 0x3e0fffff);
    assert_int_equal(d.rmrr[0].nr_scopes, 1);
    assert_true(
        vtd_scope_matches(&d.scopes[d.rmrr[0].first_scope], 0, BDF(0, 0x14, 0), NULL, NULL));
    assert_int_equal(d.nr_bad, 3);
}

static void test_hostile_structures(void **state)
{
    /* A structure of length 0 would loop forever: the rest is dropped. */
    begin(39, 0);
    drhd(0xfed90000, 1, 0);
    put16(tb + tlen, 0);
    put16(tb + tlen + 2, 0);
    tlen += 16;
    assert_int_equal(parse(), 0);
    assert_int_equal(d.nr_drhd, 1);
    assert_int_equal(d.nr_bad, 1);
    /* A structure longer than the table. */
    begin(39, 0);
    uint8_t *u = drhd(0xfed90000, 1, 0);
    put16(u + 2, 200);
    assert_int_equal(parse(), -1); /* no unit left */
    assert_non_null(strstr(err, "no usable"));
    /* Base 0, unaligned base, duplicate unit. */
    begin(39, 0);
    drhd(0, 1, 0);
    drhd(0xfed90800, 1, 0);
    drhd(0xfed90000, 1, 0);
    drhd(0xfed90000, 1, 0);
    assert_int_equal(parse(), 0);
    assert_int_equal(d.nr_drhd, 1);
    assert_int_equal(d.nr_bad, 3);
    /* Too many units. */
    begin(39, 0);
    for (unsigned i = 0; i < VTD_MAX_UNITS + 3; i++)
        drhd(0xfe000000 + 0x1000ULL * i, 0, 0);
    assert_int_equal(parse(), 0);
    assert_int_equal(d.nr_drhd, VTD_MAX_UNITS);
    assert_int_equal(d.nr_bad, 3);
    /* Stray bytes after the last structure. */
    begin(39, 0);
    drhd(0xfed90000, 1, 0);
    tlen += 3;
    assert_int_equal(parse(), 0);
    assert_int_equal(d.nr_bad, 1);
}

static void test_hostile_scopes(void **state)
{
    static const uint8_t p1[] = {1, 0};
    /* Scope of length 0 (would loop), odd length, overrunning its structure,
     * unknown type, path too long: each is skipped, the unit stays. */
    begin(39, 0);
    uint8_t *u = drhd(0xfed90000, 0, 0);
    scope(u, VTD_SCOPE_ENDPOINT, 0, 0, p1, 1);
    tb[tlen - 8 + 1] = 0; /* its length */
    assert_int_equal(parse(), 0);
    assert_int_equal(d.drhd[0].nr_scopes, 0);
    assert_int_equal(d.nr_bad, 1);

    begin(39, 0);
    u = drhd(0xfed90000, 0, 0);
    scope(u, VTD_SCOPE_ENDPOINT, 0, 0, p1, 1);
    tb[tlen - 8 + 1] = 9;
    assert_int_equal(parse(), 0);
    assert_int_equal(d.drhd[0].nr_scopes, 0);

    begin(39, 0);
    u = drhd(0xfed90000, 0, 0);
    scope(u, 9, 0, 0, p1, 1);
    scope(u, VTD_SCOPE_ENDPOINT, 0, 0, p1, 1);
    static const uint8_t deep[2 * (VTD_SCOPE_MAX_PATH + 1)] = {0};
    scope(u, VTD_SCOPE_ENDPOINT, 0, 0, deep, VTD_SCOPE_MAX_PATH + 1);
    assert_int_equal(parse(), 0);
    assert_int_equal(d.drhd[0].nr_scopes, 1);
    assert_int_equal(d.nr_bad, 2);

    /* More scopes than the driver keeps. */
    begin(39, 0);
    u = drhd(0xfed90000, 0, 0);
    for (unsigned i = 0; i < VTD_MAX_SCOPES + 2; i++) {
        uint8_t p[2] = {(uint8_t)(i & 0x1f), (uint8_t)((i >> 5) & 7)};
        scope(u, VTD_SCOPE_ENDPOINT, 0, 0, p, 1);
    }
    assert_int_equal(parse(), 0);
    assert_int_equal(d.drhd[0].nr_scopes, VTD_MAX_SCOPES);
    assert_int_equal(d.nr_bad, 1);
}

static void test_hostile_header(void **state)
{
    assert_int_equal(vtd_dmar_parse(qemu_dmar, 40, &d, err, sizeof(err)), -1);
    assert_int_equal(vtd_dmar_parse(qemu_dmar, 100, &d, err, sizeof(err)), -1); /* length field */
    assert_int_equal(vtd_dmar_parse(NULL, 0, &d, err, sizeof(err)), -1);
    begin(39, 0);
    memcpy(tb, "APIC", 4);
    drhd(0xfed90000, 1, 0);
    assert_int_equal(parse(), -1);
    begin(39, 0);
    tb[36] = 10; /* 11-bit host address width */
    drhd(0xfed90000, 1, 0);
    assert_int_equal(parse(), -1);
    assert_non_null(strstr(err, "address width"));
}

static void test_parse_bdf(void **state)
{
    uint16_t seg, bdf;
    assert_true(vtd_parse_bdf("00:05.0", &seg, &bdf));
    assert_int_equal(seg, 0);
    assert_int_equal(bdf, 0x28);
    assert_true(vtd_parse_bdf("ff:1f.7", &seg, &bdf));
    assert_int_equal(bdf, 0xffff);
    assert_true(vtd_parse_bdf("0001:3a:03.7", &seg, &bdf));
    assert_int_equal(seg, 1);
    assert_int_equal(bdf, 0x3a1f);
    assert_true(vtd_parse_bdf("0:5.0", &seg, &bdf));
    assert_int_equal(bdf, 0x28);
    static const char *bad[] = {"",         "00:05",    "00:20.0",       "00:05.8",
                                "00:05.0x", "100:05.0", "10000:00:00.0", "00:05.0.1",
                                ":05.0",    "00:.0",    "0000:100:00.0", "g0:05.0"};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(vtd_parse_bdf(bad[i], &seg, &bdf));
    assert_false(vtd_parse_bdf(NULL, &seg, &bdf));
}

/* Random corruption of QEMU's table (ASan/UBSan catch any overrun): every
 * byte may be garbage, the header length matches what is there. */
static void test_mutated_tables_never_overrun(void **state)
{
    uint32_t seed = 12345;
    for (unsigned iter = 0; iter < 20000; iter++) {
        uint32_t len = 52 + (seed = seed * 1103515245u + 12345u) % (sizeof(qemu_dmar) - 51);
        uint8_t *t = malloc(len); /* exact size: ASan sees a read past the end */
        memcpy(t, qemu_dmar, len);
        unsigned flips = 1 + (seed >> 16) % 6;
        for (unsigned k = 0; k < flips; k++) {
            seed = seed * 1103515245u + 12345u;
            unsigned at = 48 + (seed >> 8) % (len - 48);
            t[at] = (uint8_t)(seed >> 24);
        }
        put32(t + 4, len);
        if (vtd_dmar_parse(t, len, &d, err, sizeof(err)) == 0) {
            assert_true(d.nr_drhd >= 1 && d.nr_drhd <= VTD_MAX_UNITS);
            assert_true(d.nr_scopes <= VTD_MAX_SCOPES);
            for (unsigned u = 0; u < d.nr_drhd; u++) {
                assert_true(d.drhd[u].first_scope + d.drhd[u].nr_scopes <= d.nr_scopes);
                assert_int_equal(d.drhd[u].base & 0xfff, 0);
            }
            for (unsigned i = 0; i < d.nr_scopes; i++)
                vtd_scope_matches(&d.scopes[i], 0, BDF(0, 5, 0), fake_bridge, NULL);
            vtd_dmar_unit_for(&d, 0, BDF(2, 0, 0), fake_bridge, NULL);
        }
        free(t);
    }
}

int main(void)
{
    log_set_level(LOG_ERR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qemu_table),
        cmocka_unit_test(test_include_all_and_scoped_units),
        cmocka_unit_test(test_ioapic_scopes),
        cmocka_unit_test(test_scopes_through_bridges),
        cmocka_unit_test(test_rmrr),
        cmocka_unit_test(test_hostile_structures),
        cmocka_unit_test(test_hostile_scopes),
        cmocka_unit_test(test_hostile_header),
        cmocka_unit_test(test_parse_bdf),
        cmocka_unit_test(test_mutated_tables_never_overrun),
        cmocka_unit_test(test_every_ioapic_remapped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
