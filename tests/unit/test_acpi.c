/* ACPI table parsing against synthetic firmware tables in host buffers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/acpi.h"
#include "lib/log.h"

/* Fake physical memory: the first MiB (BIOS areas) and a table area. */
#define LOW_SIZE 0x100000u
#define HI_BASE  0x7FE00000u
#define HI_SIZE  0x10000u

static uint8_t low[LOW_SIZE];
static uint8_t hi[HI_SIZE];

static const void *fake_map(uint64_t phys, uint64_t len)
{
    if (!phys || len > UINT64_MAX - phys)
        return NULL;
    if (phys + len <= LOW_SIZE)
        return low + phys;
    if (phys >= HI_BASE && phys + len <= (uint64_t)HI_BASE + HI_SIZE)
        return hi + (phys - HI_BASE);
    return NULL;
}

/* Table placement in the fake table area. */
enum {
    O_XSDT = 0x000,
    O_RSDT = 0x100,
    O_MADT = 0x200,
    O_FADT = 0x400,
    O_DSDT = 0x600,
    O_FACS = 0x800,
    O_HPET = 0x900,
    O_MCFG = 0xA00,
    O_DMAR = 0xB00,
    O_SSDT = 0xC00,
};
#define PHYS(o) ((uint64_t)HI_BASE + (o))
#define T(o)    (hi + (o))

static uint8_t rsdp[36];
static unsigned long long log_mark;

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
static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    while (n--)
        s = (uint8_t)(s + *p++);
    return s;
}
static uint32_t tlen(unsigned off)
{
    const uint8_t *p = T(off) + 4;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void fix(unsigned off)
{
    T(off)[9] = 0;
    T(off)[9] = (uint8_t)-sum(T(off), tlen(off));
}
static void header(unsigned off, const char *sig, uint32_t len, uint8_t rev)
{
    memset(T(off), 0, len);
    memcpy(T(off), sig, 4);
    put32(T(off) + 4, len);
    T(off)[8] = rev;
    memcpy(T(off) + 10, "BULKHD", 6);
}
static void gas(uint8_t *p, uint8_t space, uint8_t width, uint64_t addr)
{
    p[0] = space;
    p[1] = width;
    p[3] = 1;
    put64(p + 4, addr);
}

static void make_rsdp(uint8_t *p, uint8_t rev, uint32_t rsdt, uint64_t xsdt)
{
    memset(p, 0, 36);
    memcpy(p, "RSD PTR ", 8);
    memcpy(p + 9, "BULKHD", 6);
    p[15] = rev;
    put32(p + 16, rsdt);
    put32(p + 20, 36);
    put64(p + 24, xsdt);
    p[8] = (uint8_t)-sum(p, 20);
    p[32] = (uint8_t)-sum(p, 36);
}

static unsigned madt_entry(unsigned off, unsigned pos, const uint8_t *e, unsigned n)
{
    memcpy(T(off) + pos, e, n);
    return pos + n;
}

static void build_madt(void)
{
    static const uint8_t entries[] = {
        0, 8,  0,    0, 1, 0, 0,    0,                               /* LAPIC uid 0 id 0 enabled */
        0, 8,  1,    1, 1, 0, 0,    0,                               /* LAPIC uid 1 id 1 enabled */
        0, 8,  2,    2, 0, 0, 0,    0,                               /* LAPIC id 2 unusable */
        0, 8,  3,    3, 2, 0, 0,    0,                               /* LAPIC id 3 online-capable */
        1, 12, 2,    0, 0, 0, 0xC0, 0xFE, 0,    0, 0, 0,             /* IOAPIC 2 at 0xFEC00000 */
        2, 10, 0,    0, 2, 0, 0,    0,    0,    0,                   /* ISO IRQ 0 -> GSI 2 */
        2, 10, 0,    9, 9, 0, 0,    0,    0x0D, 0,                   /* ISO IRQ 9 level/high */
        4, 6,  0xFF, 5, 0, 1,                                        /* LAPIC NMI */
        9, 16, 0,    0, 0, 1, 0,    0,    1,    0, 0, 0, 4, 0, 0, 0, /* x2APIC 0x100 uid 4 */
    };
    uint32_t len = 44 + sizeof(entries);
    header(O_MADT, "APIC", len, 4);
    put32(T(O_MADT) + 36, 0xFEE00000);
    put32(T(O_MADT) + 40, 1);
    madt_entry(O_MADT, 44, entries, sizeof(entries));
    fix(O_MADT);
}

static void build_fadt(void)
{
    uint8_t *f = T(O_FADT);
    header(O_FADT, "FACP", 276, 6);
    put32(f + 36, (uint32_t)PHYS(O_FACS));
    put32(f + 40, (uint32_t)PHYS(O_DSDT));
    put16(f + 46, 9);
    put32(f + 48, 0xB2);
    f[52] = 0xF1;
    put32(f + 64, 0x604);
    put32(f + 76, 0x608);
    f[108] = 0x32;
    put16(f + 109, 0x0003);
    put32(f + 112, ACPI_FADT_TMR_VAL_EXT | ACPI_FADT_RESET_REG_SUP);
    gas(f + 116, ACPI_GAS_IO, 8, 0xCF9);
    f[128] = 6;
    put64(f + 140, PHYS(O_DSDT));
    gas(f + 172, ACPI_GAS_IO, 16, 0x604);
    gas(f + 208, ACPI_GAS_IO, 32, 0x608);
    fix(O_FADT);
}

/* Name(\_S5, Package(4){5, 5, 0, 0}) after a decoy "_S5_" in other AML. */
static const uint8_t s5_aml[] = {0x70, 0x0A, 0x01, '_',  'S',  '5',  '_',  0x08, '\\', '_',  'S',
                                 '5',  '_',  0x12, 0x08, 0x04, 0x0A, 0x05, 0x0A, 0x05, 0x00, 0x00};

static void build_aml(unsigned off, const char *sig, const uint8_t *aml, size_t n)
{
    header(off, sig, (uint32_t)(36 + n), 2);
    memcpy(T(off) + 36, aml, n);
    fix(off);
}

static void build_hpet(void)
{
    header(O_HPET, "HPET", 56, 1);
    gas(T(O_HPET) + 40, ACPI_GAS_MEMORY, 64, 0xFED00000);
    fix(O_HPET);
}

static void build_mcfg(void)
{
    header(O_MCFG, "MCFG", 44 + 32, 1);
    uint8_t *e = T(O_MCFG) + 44;
    put64(e, 0xB0000000);
    e[11] = 0xFF;
    e += 16; /* second entry: start bus above end bus */
    put64(e, 0xC0000000);
    put16(e + 8, 1);
    e[10] = 5;
    e[11] = 2;
    fix(O_MCFG);
}

static void build_dmar(void)
{
    header(O_DMAR, "DMAR", 48 + 16 + 24, 1);
    uint8_t *d = T(O_DMAR);
    d[36] = 38;
    d[37] = 1;
    uint8_t *e = d + 48;
    put16(e, 0); /* DRHD */
    put16(e + 2, 16);
    e[4] = 1;
    put64(e + 8, 0xFED90000);
    e += 16;
    put16(e, 1); /* RMRR */
    put16(e + 2, 24);
    fix(O_DMAR);
}

static const uint64_t root_entries[] = {PHYS(O_FADT), PHYS(O_MADT), PHYS(O_HPET),
                                        PHYS(O_MCFG), PHYS(O_DMAR), PHYS(O_SSDT)};
#define NR_ROOT (sizeof(root_entries) / sizeof(root_entries[0]))

static void build_roots(const uint64_t *ents, unsigned n)
{
    header(O_XSDT, "XSDT", 36 + 8 * n, 1);
    header(O_RSDT, "RSDT", 36 + 4 * n, 1);
    for (unsigned i = 0; i < n; i++) {
        put64(T(O_XSDT) + 36 + 8 * i, ents[i]);
        put32(T(O_RSDT) + 36 + 4 * i, (uint32_t)ents[i]);
    }
    fix(O_XSDT);
    fix(O_RSDT);
}

static int setup(void **state)
{
    memset(low, 0, sizeof(low));
    memset(hi, 0, sizeof(hi));
    build_madt();
    build_fadt();
    build_aml(O_DSDT, "DSDT", s5_aml, sizeof(s5_aml));
    memcpy(T(O_FACS), "FACS", 4);
    put32(T(O_FACS) + 4, 64);
    build_hpet();
    build_mcfg();
    build_dmar();
    static const uint8_t ssdt_aml[] = {0x10, 0x05, '\\', 0x00};
    build_aml(O_SSDT, "SSDT", ssdt_aml, sizeof(ssdt_aml));
    build_roots(root_entries, NR_ROOT);
    make_rsdp(rsdp, 2, (uint32_t)PHYS(O_RSDT), PHYS(O_XSDT));
    log_mark = log_ring_head();
    return 0;
}

/* True when a log line written since setup contains every needle. */
static int logged(const char *a, const char *b)
{
    static char buf[65536];
    unsigned long long pos = log_mark;
    size_t n = log_ring_read(&pos, buf, sizeof(buf) - 1);
    buf[n] = '\0';
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
        if (strstr(line, a) && (!b || strstr(line, b)))
            return 1;
    return 0;
}

static struct acpi_info info;
static char err[160];

static int run(const uint8_t *r, uint32_t len)
{
    return acpi_init(&info, r, len, fake_map, err, sizeof(err));
}

static void test_full_xsdt(void **state)
{
    assert_int_equal(run(rsdp, 36), 0);
    assert_true(info.present);
    assert_true(info.use_xsdt);
    assert_int_equal(info.revision, 2);
    assert_string_equal(info.oem_id, "BULKHD");
    assert_int_equal(info.nr_skipped, 0);

    char line[256];
    acpi_format_tables(&info, line, sizeof(line));
    assert_string_equal(line, "FACP APIC HPET MCFG DMAR SSDT DSDT FACS");
    assert_non_null(acpi_find_table(&info, "DSDT", 0));
    assert_null(acpi_find_table(&info, "DSDT", 1));

    /* MADT */
    assert_true(info.has_madt);
    assert_int_equal(info.lapic_addr, 0xFEE00000);
    assert_true(info.pcat_compat);
    assert_int_equal(info.nr_cpus, 4);
    assert_int_equal(info.cpus[0].apic_id, 0);
    assert_true(info.cpus[0].enabled);
    assert_int_equal(info.cpus[1].apic_id, 1);
    assert_int_equal(info.cpus[1].uid, 1);
    assert_int_equal(info.cpus[2].apic_id, 3);
    assert_false(info.cpus[2].enabled);
    assert_int_equal(info.cpus[3].apic_id, 0x100);
    assert_int_equal(info.cpus[3].uid, 4);
    assert_true(info.cpus[3].x2apic);
    assert_int_equal(info.nr_ioapics, 1);
    assert_int_equal(info.ioapics[0].id, 2);
    assert_int_equal(info.ioapics[0].addr, 0xFEC00000);
    assert_int_equal(info.nr_overrides, 2);
    assert_int_equal(info.overrides[0].bus_irq, 0);
    assert_int_equal(info.overrides[0].gsi, 2);
    assert_int_equal(info.overrides[1].bus_irq, 9);
    assert_int_equal(info.overrides[1].flags, 0x0D);

    /* FADT */
    assert_true(info.has_fadt);
    assert_int_equal(info.pm_tmr_blk, 0x608);
    assert_true(info.pm_tmr_32bit);
    assert_int_equal(info.pm1a_cnt_blk, 0x604);
    assert_int_equal(info.pm1b_cnt_blk, 0);
    assert_int_equal(info.smi_cmd, 0xB2);
    assert_int_equal(info.acpi_enable, 0xF1);
    assert_int_equal(info.sci_int, 9);
    assert_true(info.has_reset_reg);
    assert_int_equal(info.reset_reg.space_id, ACPI_GAS_IO);
    assert_int_equal(info.reset_reg.address, 0xCF9);
    assert_int_equal(info.reset_value, 6);
    assert_int_equal(info.dsdt_phys, PHYS(O_DSDT));
    assert_int_equal(info.facs_phys, PHYS(O_FACS));
    assert_int_equal(info.century, 0x32);
    assert_int_equal(info.iapc_boot_arch, 3);
    assert_true(info.has_s5);
    assert_int_equal(info.slp_typa, 5);
    assert_int_equal(info.slp_typb, 5);

    /* HPET, MCFG (second entry invalid), DMAR */
    assert_true(info.has_hpet);
    assert_int_equal(info.hpet_addr, 0xFED00000);
    assert_int_equal(info.nr_mcfg, 1);
    assert_int_equal(info.mcfg[0].base, 0xB0000000);
    assert_int_equal(info.mcfg[0].end_bus, 255);
    assert_true(logged("MCFG", "entry 1"));
    assert_true(info.has_dmar);
    assert_int_equal(info.dmar_haw, 39);
    assert_int_equal(info.dmar_flags, 1);
    assert_int_equal(info.nr_drhd, 1);
    assert_int_equal(info.drhd[0].base, 0xFED90000);
    assert_int_equal(info.drhd[0].flags, 1);
    assert_int_equal(info.nr_rmrr, 1);
}

static void test_rsdt_only(void **state)
{
    make_rsdp(rsdp, 0, (uint32_t)PHYS(O_RSDT), 0);
    assert_int_equal(run(rsdp, 20), 0);
    assert_false(info.use_xsdt);
    assert_true(info.has_madt && info.has_fadt && info.has_hpet && info.has_s5);
}

static void test_rsdp_bad(void **state)
{
    rsdp[8]++;
    assert_int_equal(run(rsdp, 36), -1);
    assert_false(info.present);
    assert_non_null(strstr(err, "checksum"));

    make_rsdp(rsdp, 2, 0, PHYS(O_XSDT));
    memcpy(rsdp, "RSD PTX ", 8);
    assert_int_equal(run(rsdp, 36), -1);
    assert_non_null(strstr(err, "signature"));

    make_rsdp(rsdp, 2, (uint32_t)PHYS(O_RSDT), PHYS(O_XSDT));
    assert_int_equal(run(rsdp, 19), -1);

    make_rsdp(rsdp, 0, 0, 0);
    assert_int_equal(run(rsdp, 20), -1);
    assert_non_null(strstr(err, "neither"));
}

static void test_rsdp_ext_checksum_bad(void **state)
{
    rsdp[32]++;
    assert_int_equal(run(rsdp, 36), 0);
    assert_false(info.use_xsdt);
    assert_true(logged("extended checksum", NULL));

    /* Revision 2 but only the 20-byte ACPI 1.0 part was handed over. */
    make_rsdp(rsdp, 2, (uint32_t)PHYS(O_RSDT), PHYS(O_XSDT));
    assert_int_equal(run(rsdp, 20), 0);
    assert_false(info.use_xsdt);
    assert_true(info.has_madt);
}

static void test_xsdt_bad_falls_back(void **state)
{
    T(O_XSDT)[40]++;
    assert_int_equal(run(rsdp, 36), 0);
    assert_false(info.use_xsdt);
    assert_true(info.has_madt && info.has_fadt && info.has_s5);
    assert_true(logged("XSDT", "falling back"));

    /* Both roots bad: no ACPI at all. */
    T(O_RSDT)[40]++;
    assert_int_equal(run(rsdp, 36), -1);
    assert_non_null(strstr(err, "RSDT"));
    assert_non_null(strstr(err, "checksum"));
}

static void test_bad_table_skipped(void **state)
{
    T(O_HPET)[50]++;
    assert_int_equal(run(rsdp, 36), 0);
    assert_false(info.has_hpet);
    assert_int_equal(info.nr_skipped, 1);
    assert_true(info.has_madt && info.has_fadt && info.has_dmar);
    assert_null(acpi_find_table(&info, "HPET", 0));
    assert_true(logged("HPET at 0x7fe00900", "bad checksum"));
}

static void test_truncated_and_bad_lengths(void **state)
{
    /* MADT claims to run past the end of mappable memory. */
    put32(T(O_MADT) + 4, HI_SIZE);
    assert_int_equal(run(rsdp, 36), 0);
    assert_false(info.has_madt);
    assert_true(logged("APIC at 0x7fe00200", "truncated"));

    setup(state);
    put32(T(O_MADT) + 4, 20);
    assert_int_equal(run(rsdp, 36), 0);
    assert_false(info.has_madt);
    assert_true(logged("APIC", "shorter than"));

    setup(state);
    put32(T(O_MADT) + 4, 0x7FFFFFFF);
    assert_int_equal(run(rsdp, 36), 0);
    assert_false(info.has_madt);
    assert_true(logged("APIC", "implausible"));
    assert_true(info.has_fadt);
}

/* The FACS has no checksum: its length is believed only as far as there is
 * memory to read (the fuzz target found one recorded with 84,812 bytes). */
static void test_facs_lengths(void **state)
{
    put32(T(O_FACS) + 4, HI_SIZE);
    assert_int_equal(run(rsdp, 36), 0);
    assert_null(acpi_find_table(&info, "FACS", 0));
    assert_int_equal(info.nr_skipped, 1);
    assert_true(logged("FACS at 0x7fe00800", "runs past mappable memory"));

    setup(state);
    put32(T(O_FACS) + 4, 63);
    assert_int_equal(run(rsdp, 36), 0);
    assert_null(acpi_find_table(&info, "FACS", 0));
    assert_true(logged("FACS at 0x7fe00800", "length below 64"));

    setup(state);
    T(O_FACS)[0] = 'X';
    assert_int_equal(run(rsdp, 36), 0);
    assert_true(logged("FACS at 0x7fe00800", "bad signature"));

    setup(state);
    put32(T(O_FACS) + 4, HI_SIZE - O_FACS); /* up to the end of memory: fine */
    assert_int_equal(run(rsdp, 36), 0);
    const struct acpi_table_ref *f = acpi_find_table(&info, "FACS", 0);
    assert_non_null(f);
    assert_int_equal(f->len, HI_SIZE - O_FACS);
}

static void test_root_entries_hostile(void **state)
{
    const uint64_t ents[] = {
        0, PHYS(O_MADT), 0xFFFFFFFFFFFFFFF0ull, PHYS(0xFFF0), PHYS(O_MADT), PHYS(O_FADT)};
    build_roots(ents, 6);
    assert_int_equal(run(rsdp, 36), 0);
    assert_true(info.has_madt);
    assert_true(info.has_fadt);
    assert_int_equal(info.nr_cpus, 4); /* the duplicate MADT entry is not parsed twice */
    assert_int_equal(info.nr_skipped, 3);
    assert_true(logged("null address", NULL));
    assert_true(logged("listed twice", NULL));
    assert_true(logged("0x7fe0fff0", "not mappable"));
}

static void test_madt_entry_len_zero(void **state)
{
    /* Second LAPIC entry gets length 0: keep the first, stop, no endless loop. */
    T(O_MADT)[44 + 8 + 1] = 0;
    fix(O_MADT);
    assert_int_equal(run(rsdp, 36), 0);
    assert_true(info.has_madt);
    assert_int_equal(info.nr_cpus, 1);
    assert_int_equal(info.nr_ioapics, 0);
    assert_true(logged("APIC", "offset 52 has length 0"));
}

static void test_madt_entry_past_end(void **state)
{
    uint32_t len = tlen(O_MADT);
    /* Last entry (x2APIC, 16 bytes) claims 40 bytes. */
    T(O_MADT)[len - 16 + 1] = 40;
    fix(O_MADT);
    assert_int_equal(run(rsdp, 36), 0);
    assert_int_equal(info.nr_cpus, 3);
    assert_int_equal(info.nr_overrides, 2);
    assert_true(logged("APIC", "runs past"));
}

static void test_madt_short_and_duplicate_entries(void **state)
{
    static const uint8_t entries[] = {
        0,    8,  0, 0,    1, 0, 0,    0,                /* LAPIC id 0 */
        0,    8,  1, 0,    1, 0, 0,    0,                /* LAPIC id 0 again */
        1,    4,  3, 0,                                  /* IOAPIC entry too short */
        0,    8,  2, 0xFF, 1, 0, 0,    0,                /* APIC ID 0xff */
        2,    10, 1, 4,    4, 0, 0,    0,    0, 0,       /* override on a non-ISA bus */
        5,    12, 0, 0,    0, 0, 0xE0, 0xFE, 1, 0, 0, 0, /* LAPIC address override */
        0,    8,  3, 7,    1, 0, 0,    0,                /* LAPIC id 7 still parsed */
        0x7F, 3,  0,                                     /* unknown type: skipped by length */
    };
    header(O_MADT, "APIC", 44 + sizeof(entries), 4);
    put32(T(O_MADT) + 36, 0xFEE00000);
    madt_entry(O_MADT, 44, entries, sizeof(entries));
    fix(O_MADT);
    assert_int_equal(run(rsdp, 36), 0);
    assert_int_equal(info.nr_cpus, 2);
    assert_int_equal(info.cpus[1].apic_id, 7);
    assert_int_equal(info.nr_ioapics, 0);
    assert_int_equal(info.nr_overrides, 0);
    assert_int_equal(info.lapic_addr, 0x1FEE00000ull);
    assert_false(info.pcat_compat);
    assert_true(logged("APIC ID 0 listed twice", NULL));
    assert_true(logged("too short (4 bytes)", NULL));
}

static void test_madt_many_cpus(void **state)
{
    /* 300 x2APIC entries: 256 kept, the rest counted. */
    const unsigned off = 0x8000, n = 300;
    header(off, "APIC", 44 + 16 * n, 4);
    for (unsigned i = 0; i < n; i++) {
        uint8_t e[16] = {9, 16, 0, 0};
        put32(e + 4, i);
        put32(e + 8, 1);
        put32(e + 12, i);
        madt_entry(off, 44 + 16 * i, e, 16);
    }
    fix(off);
    const uint64_t ents[] = {PHYS(O_FADT), PHYS(off)};
    build_roots(ents, 2);
    assert_int_equal(run(rsdp, 36), 0);
    assert_int_equal(info.nr_cpus, ACPI_MAX_CPUS);
    assert_int_equal(info.nr_cpus_ignored, n - ACPI_MAX_CPUS);
    assert_int_equal(info.cpus[255].apic_id, 255);
}

static void test_fadt_variants(void **state)
{
    /* X_PM_TMR_BLK in memory space: warn and use the 32-bit block. */
    gas(T(O_FADT) + 208, ACPI_GAS_MEMORY, 32, 0xFED00000);
    put32(T(O_FADT) + 48, 0x10000); /* SMI_CMD beyond the port range */
    fix(O_FADT);
    assert_int_equal(run(rsdp, 36), 0);
    assert_int_equal(info.pm_tmr_blk, 0x608);
    assert_int_equal(info.smi_cmd, 0);
    assert_true(logged("X_PM_TMR_BLK", "not supported"));

    /* ACPI 1.0 FADT (116 bytes): no X_ fields, no reset register. */
    setup(state);
    put32(T(O_FADT) + 4, 116);
    fix(O_FADT);
    assert_int_equal(run(rsdp, 36), 0);
    assert_true(info.has_fadt);
    assert_false(info.has_reset_reg);
    assert_int_equal(info.dsdt_phys, PHYS(O_DSDT));
    assert_true(info.has_s5);

    /* Shorter than any FADT: skipped, no DSDT. */
    setup(state);
    put32(T(O_FADT) + 4, 100);
    fix(O_FADT);
    assert_int_equal(run(rsdp, 36), 0);
    assert_false(info.has_fadt);
    assert_false(info.has_s5);
    assert_int_equal(info.nr_skipped, 1);
    assert_true(logged("FACP", "shorter"));

    /* Reset register in an unknown space; DSDT pointer to garbage. */
    setup(state);
    gas(T(O_FADT) + 116, 7, 8, 0x1234);
    put64(T(O_FADT) + 140, PHYS(O_HPET));
    fix(O_FADT);
    assert_int_equal(run(rsdp, 36), 0);
    assert_false(info.has_reset_reg);
    assert_false(info.has_s5);
    assert_true(logged("DSDT", "expected 'DSDT'"));
}

static void test_s5_from_ssdt(void **state)
{
    static const uint8_t no_s5[] = {0x10, 0x05, '\\', 0x00, 0x00};
    static const uint8_t ssdt_s5[] = {0x08, '_', 'S', '5', '_', 0x12, 0x05, 0x02, 0x0A, 0x07, 0x00};
    build_aml(O_DSDT, "DSDT", no_s5, sizeof(no_s5));
    build_aml(O_SSDT, "SSDT", ssdt_s5, sizeof(ssdt_s5));
    assert_int_equal(run(rsdp, 36), 0);
    assert_true(info.has_s5);
    assert_int_equal(info.slp_typa, 7);
    assert_int_equal(info.slp_typb, 0);
}

static void test_s5_truncated_in_dsdt(void **state)
{
    /* PkgLength claims 0x20 bytes; the table ends sooner. */
    uint8_t aml[sizeof(s5_aml)];
    memcpy(aml, s5_aml, sizeof(aml));
    aml[14] = 0x20;
    build_aml(O_DSDT, "DSDT", aml, sizeof(aml));
    assert_int_equal(run(rsdp, 36), 0);
    assert_true(info.has_fadt);
    assert_false(info.has_s5);
    assert_true(logged("DSDT at 0x7fe00600", "past the table end"));
}

static int s5(const uint8_t *aml, size_t n, uint8_t *a, uint8_t *b)
{
    static uint8_t tbl[256];
    memset(tbl, 0, 36);
    memcpy(tbl + 36, aml, n);
    *a = *b = 0xEE;
    return acpi_parse_s5(tbl, (uint32_t)(36 + n), a, b, err, sizeof(err));
}

static void test_s5_encodings(void **state)
{
    uint8_t a, b;
    /* Two-byte PkgLength, ZeroOp and OneOp elements. */
    static const uint8_t two[] = {0x08, '_', 'S', '5', '_', 0x12, 0x45, 0x00, 0x04, 0x01, 0x00};
    assert_int_equal(s5(two, sizeof(two), &a, &b), 0);
    assert_int_equal(a, 1);
    assert_int_equal(b, 0);
    /* One WordPrefix element carrying both values. */
    static const uint8_t one[] = {0x08, '_', 'S', '5', '_', 0x12, 0x05, 0x01, 0x0B, 0x05, 0x07};
    assert_int_equal(s5(one, sizeof(one), &a, &b), 0);
    assert_int_equal(a, 5);
    assert_int_equal(b, 7);
    /* DWordPrefix elements. */
    static const uint8_t dw[] = {0x08, '_', 'S', '5', '_',  0x12, 0x0C, 0x02, 0x0C,
                                 0x03, 0,   0,   0,   0x0C, 0x04, 0,    0,    0};
    assert_int_equal(s5(dw, sizeof(dw), &a, &b), 0);
    assert_int_equal(a, 3);
    assert_int_equal(b, 4);
}

static void test_s5_malformed(void **state)
{
    uint8_t a, b;
    static const uint8_t none[] = {0x10, 0x05, '\\', 0x00, '_', 'S', '5', '_', 0x12};
    assert_int_equal(s5(none, sizeof(none), &a, &b), -1); /* not preceded by NameOp */
    assert_int_equal(s5(none, 0, &a, &b), -1);
    static const uint8_t at_end[] = {0x08, '_', 'S', '5', '_'};
    assert_int_equal(s5(at_end, sizeof(at_end), &a, &b), -2);
    static const uint8_t not_pkg[] = {0x08, '_', 'S', '5', '_', 0x0A, 0x05};
    assert_int_equal(s5(not_pkg, sizeof(not_pkg), &a, &b), -2);
    assert_non_null(strstr(err, "Package"));
    /* Package length fits, but the second element is cut off inside it. */
    static const uint8_t cut[] = {0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x0A, 0x05, 0x0A};
    assert_int_equal(s5(cut, sizeof(cut), &a, &b), -2);
    assert_non_null(strstr(err, "second element"));
    /* Byte constant truncated by the package end. */
    static const uint8_t cut2[] = {0x08, '_', 'S', '5', '_', 0x12, 0x03, 0x02, 0x0A, 0x05};
    assert_int_equal(s5(cut2, sizeof(cut2), &a, &b), -2);
    /* Four-byte PkgLength with a huge value; and its bytes missing. */
    static const uint8_t huge[] = {0x08, '_', 'S', '5', '_', 0x12, 0xCF, 0xFF, 0xFF, 0xFF, 0x02};
    assert_int_equal(s5(huge, sizeof(huge), &a, &b), -2);
    static const uint8_t lenbytes[] = {0x08, '_', 'S', '5', '_', 0x12, 0xC1, 0x01};
    assert_int_equal(s5(lenbytes, sizeof(lenbytes), &a, &b), -2);
    assert_non_null(strstr(err, "PkgLength"));
    /* Empty package, and a non-constant element (a name). */
    static const uint8_t empty[] = {0x08, '_', 'S', '5', '_', 0x12, 0x02, 0x00};
    assert_int_equal(s5(empty, sizeof(empty), &a, &b), -2);
    static const uint8_t name[] = {0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 'A', 'B', 'C', 'D'};
    assert_int_equal(s5(name, sizeof(name), &a, &b), -2);
    /* A malformed match followed by a good one: the good one wins. */
    static const uint8_t both[] = {0x08, '_', 'S', '5',  '_',  0x00, 0x08, '_',
                                   'S',  '5', '_', 0x12, 0x04, 0x01, 0x0A, 0x03};
    assert_int_equal(s5(both, sizeof(both), &a, &b), 0);
    assert_int_equal(a, 3);
    assert_int_equal(acpi_parse_s5(NULL, 0, &a, &b, err, sizeof(err)), -1);
}

static void test_bios_scan(void **state)
{
    /* A corrupt candidate first, then a good RSDP in the BIOS area. */
    make_rsdp(low + 0xE0000, 2, (uint32_t)PHYS(O_RSDT), PHYS(O_XSDT));
    low[0xE0000 + 8]++;
    make_rsdp(low + 0xF0010, 2, (uint32_t)PHYS(O_RSDT), PHYS(O_XSDT));
    assert_int_equal(run(NULL, 0), 0);
    assert_true(info.use_xsdt);
    assert_true(logged("candidate at 0xe0000", "checksum"));

    /* The EBDA is searched first. */
    memset(low + 0xE0000, 0, 0x20000);
    put16(low + 0x40E, 0x9FC0);
    make_rsdp(low + 0x9FC00 + 0x40, 0, (uint32_t)PHYS(O_RSDT), 0);
    assert_int_equal(run(NULL, 0), 0);
    assert_false(info.use_xsdt);

    /* Nothing anywhere. */
    memset(low, 0, sizeof(low));
    assert_int_equal(run(NULL, 0), -1);
    assert_non_null(strstr(err, "no valid RSDP"));
    /* An RSDP in the last 16 bytes of the BIOS area is too short to be one. */
    memcpy(low + 0xFFFF0, "RSD PTR ", 8);
    assert_int_equal(run(NULL, 0), -1);
}

static void test_dmar_bad_structure(void **state)
{
    uint8_t *e = T(O_DMAR) + 48;
    put16(e + 2, 0); /* DRHD of length 0 */
    fix(O_DMAR);
    assert_int_equal(run(rsdp, 36), 0);
    assert_true(info.has_dmar);
    assert_int_equal(info.nr_drhd, 0);
    assert_int_equal(info.nr_rmrr, 0);
    assert_true(logged("DMAR", "bad length 0"));

    setup(state);
    put64(T(O_DMAR) + 48 + 8, 0xFED90123); /* unaligned register base */
    fix(O_DMAR);
    assert_int_equal(run(rsdp, 36), 0);
    assert_int_equal(info.nr_drhd, 0);
    assert_int_equal(info.nr_rmrr, 1);
}

static void test_format_tables_truncates(void **state)
{
    assert_int_equal(run(rsdp, 36), 0);
    char small[10];
    size_t n = acpi_format_tables(&info, small, sizeof(small));
    assert_int_equal(n, 9);
    assert_string_equal(small, "FACP APIC");
    assert_int_equal(acpi_format_tables(&info, small, 0), 0);
}

#define T_(f) cmocka_unit_test_setup(f, setup)
int main(void)
{
    const struct CMUnitTest tests[] = {
        T_(test_full_xsdt),
        T_(test_rsdt_only),
        T_(test_rsdp_bad),
        T_(test_rsdp_ext_checksum_bad),
        T_(test_xsdt_bad_falls_back),
        T_(test_bad_table_skipped),
        T_(test_truncated_and_bad_lengths),
        T_(test_facs_lengths),
        T_(test_root_entries_hostile),
        T_(test_madt_entry_len_zero),
        T_(test_madt_entry_past_end),
        T_(test_madt_short_and_duplicate_entries),
        T_(test_madt_many_cpus),
        T_(test_fadt_variants),
        T_(test_s5_from_ssdt),
        T_(test_s5_truncated_in_dsdt),
        T_(test_s5_encodings),
        T_(test_s5_malformed),
        T_(test_bios_scan),
        T_(test_dmar_bad_structure),
        T_(test_format_tables_truncates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
