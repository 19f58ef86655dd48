/* The per-VM ACPI generator, read back by the project's own ACPI parser
 * (drivers/acpi.c) plus independent checks of checksums and alignment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/acpi.h"
#include "vdev/acpi_gen.h"
#include "lib/log.h"

#define BIOS_BASE 0xE0000u
#define BIOS_SIZE 0x20000u

/* Fake guest-physical memory: one window holding the generated tables. */
static uint8_t mem[BIOS_SIZE];
static uint64_t mem_base;

static const void *map(uint64_t phys, uint64_t len)
{
    if (phys < mem_base || len > sizeof(mem) || phys - mem_base > sizeof(mem) - len)
        return NULL;
    return mem + (phys - mem_base);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p)
{
    return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}
static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    while (n--)
        s = (uint8_t)(s + *p++);
    return s;
}
static const uint8_t *at(uint64_t gpa)
{
    return mem + (gpa - mem_base);
}

static unsigned long long log_mark;

static int setup(void **state)
{
    memset(mem, 0xA5, sizeof(mem)); /* the generator must clear what it uses */
    log_mark = log_ring_head();
    return 0;
}

/* The parser logs a warning for anything it disagrees with; the only line
 * allowed is the debug note of where the scan found the RSDP. */
static void assert_no_log(void)
{
    static char buf[16384];
    unsigned long long pos = log_mark;
    size_t n = log_ring_read(&pos, buf, sizeof(buf) - 1);
    buf[n] = '\0';
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
        if (!strstr(line, "acpi: RSDP at 0x"))
            fail_msg("unexpected log output: %s", line);
}

static size_t build(struct acpi_gen_params *p, struct acpi_gen_layout *l)
{
    size_t n = acpi_gen_build(p, mem + (p->base_gpa - mem_base),
                              sizeof(mem) - (p->base_gpa - mem_base), l);
    assert_true(n > 0);
    assert_int_equal(n, l->total);
    return n;
}

static void assert_table_sums(const struct acpi_gen_layout *l)
{
    const uint64_t tables[] = {l->xsdt_gpa, l->fadt_gpa, l->madt_gpa, l->dsdt_gpa};
    for (unsigned i = 0; i < 4; i++) {
        const uint8_t *t = at(tables[i]);
        assert_int_equal(sum(t, rd32(t + 4)), 0);
    }
    const uint8_t *r = at(l->rsdp_gpa);
    assert_memory_equal(r, "RSD PTR ", 8);
    assert_int_equal(sum(r, 20), 0);
    assert_int_equal(rd32(r + 20), 36);
    assert_int_equal(sum(r, 36), 0);
    assert_int_equal(r[15], 2);
    assert_int_equal(rd64(r + 24), l->xsdt_gpa);
    assert_int_equal(l->rsdp_gpa % 16, 0);
    assert_int_equal(l->facs_gpa % 64, 0);
    const uint8_t *f = at(l->facs_gpa);
    assert_memory_equal(f, "FACS", 4);
    assert_int_equal(rd32(f + 4), 64);
}

static void test_parser_agrees(void **state)
{
    struct acpi_gen_params p;
    struct acpi_gen_layout l;
    mem_base = BIOS_BASE;
    acpi_gen_default_params(&p, 4, BIOS_BASE);
    memcpy(p.oem_id, "BULKHD", 7);
    build(&p, &l);
    assert_table_sums(&l);
    assert_int_equal(l.rsdp_gpa, BIOS_BASE);
    assert_int_equal(l.ioapic_id, 4);

    /* Scan the BIOS area as a guest would (rsdp_copy NULL). */
    static struct acpi_info info;
    char err[160];
    assert_int_equal(acpi_init(&info, NULL, 0, map, err, sizeof(err)), 0);
    assert_true(info.present);
    assert_int_equal(info.revision, 2);
    assert_true(info.use_xsdt);
    assert_string_equal(info.oem_id, "BULKHD");
    assert_int_equal(info.nr_skipped, 0);
    char list[64];
    acpi_format_tables(&info, list, sizeof(list));
    assert_string_equal(list, "FACP APIC DSDT FACS");

    assert_true(info.has_madt);
    assert_int_equal(info.lapic_addr, 0xFEE00000);
    assert_true(info.pcat_compat);
    assert_int_equal(info.nr_cpus, 4);
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(info.cpus[i].apic_id, i);
        assert_int_equal(info.cpus[i].uid, i);
        assert_true(info.cpus[i].enabled);
        assert_false(info.cpus[i].x2apic);
    }
    assert_int_equal(info.nr_ioapics, 1);
    assert_int_equal(info.ioapics[0].id, 4);
    assert_int_equal(info.ioapics[0].addr, 0xFEC00000);
    assert_int_equal(info.ioapics[0].gsi_base, 0);
    assert_int_equal(info.nr_overrides, 2);
    assert_int_equal(info.overrides[0].bus_irq, 0);
    assert_int_equal(info.overrides[0].gsi, 2);
    assert_int_equal(info.overrides[0].flags, 0x5); /* edge, active high */
    assert_int_equal(info.overrides[1].bus_irq, 9);
    assert_int_equal(info.overrides[1].gsi, 9);
    assert_int_equal(info.overrides[1].flags, 0xF); /* level, active low */

    assert_true(info.has_fadt);
    assert_int_equal(info.pm_tmr_blk, 0x608);
    assert_true(info.pm_tmr_32bit);
    assert_int_equal(info.pm1a_cnt_blk, 0x604);
    assert_int_equal(info.pm1b_cnt_blk, 0);
    assert_int_equal(info.smi_cmd, 0);
    assert_int_equal(info.sci_int, 9);
    assert_true(info.has_reset_reg);
    assert_int_equal(info.reset_reg.space_id, ACPI_GAS_IO);
    assert_int_equal(info.reset_reg.address, 0xCF9);
    assert_int_equal(info.reset_reg.bit_width, 8);
    assert_int_equal(info.reset_value, 6);
    assert_int_equal(info.dsdt_phys, l.dsdt_gpa);
    assert_int_equal(info.facs_phys, l.facs_gpa);
    /* No 8042 asked for: only legacy devices, no VGA, no MSI. */
    assert_int_equal(info.iapc_boot_arch, 0x1 | 0x4 | 0x8);
    assert_int_equal(info.fadt_flags & (1u << 4), 0);     /* fixed power button present */
    assert_int_not_equal(info.fadt_flags & (1u << 5), 0); /* no sleep button */

    assert_true(info.has_s5);
    assert_int_equal(info.slp_typa, 5);
    assert_int_equal(info.slp_typb, 5);
    assert_no_log();
}

/* Raw FADT fields the parser does not expose. */
static void test_fadt_fields(void **state)
{
    struct acpi_gen_params p;
    struct acpi_gen_layout l;
    mem_base = BIOS_BASE;
    acpi_gen_default_params(&p, 1, BIOS_BASE);
    p.i8042 = true;
    build(&p, &l);
    const uint8_t *t = at(l.fadt_gpa);
    assert_memory_equal(t, "FACP", 4);
    assert_int_equal(rd32(t + 4), 276);
    assert_true(t[8] >= 5);
    assert_int_equal(rd32(t + 36), l.facs_gpa);
    assert_int_equal(rd64(t + 132), 0); /* FIRMWARE_CTRL is set: X_ must be 0 */
    assert_int_equal(rd32(t + 40), l.dsdt_gpa);
    assert_int_equal(rd64(t + 140), l.dsdt_gpa);
    assert_int_equal(rd32(t + 56), 0x600);
    assert_int_equal(t[88], 4);
    assert_int_equal(t[89], 2);
    assert_int_equal(t[91], 4);
    assert_int_equal(t[148], 1); /* X_PM1a_EVT_BLK: I/O */
    assert_int_equal(t[149], 32);
    assert_int_equal(rd64(t + 152), 0x600);
    assert_int_equal(t[173], 16);        /* X_PM1a_CNT_BLK width */
    assert_int_equal(t[209], 32);        /* X_PM_TMR_BLK width */
    assert_int_equal(t[109] & 0x2, 0x2); /* 8042 present when asked */
    uint32_t flags = rd32(t + 112);
    assert_int_equal(flags & 0x1, 0x1);      /* WBINVD */
    assert_int_equal(flags & 0x4, 0x4);      /* PROC_C1 */
    assert_int_equal(flags & 0x400, 0x400);  /* RESET_REG_SUP */
    assert_int_equal(flags & (1u << 20), 0); /* not hardware-reduced */
}

static void test_dsdt_aml(void **state)
{
    struct acpi_gen_params p;
    struct acpi_gen_layout l;
    mem_base = BIOS_BASE;
    for (unsigned typ = 0; typ <= 7; typ++) {
        acpi_gen_default_params(&p, 2, BIOS_BASE + 0x1000);
        p.s5_typ = (uint8_t)typ;
        build(&p, &l);
        const uint8_t *d = at(l.dsdt_gpa);
        uint32_t len = rd32(d + 4);
        assert_int_equal(sum(d, len), 0);
        uint8_t a = 0xEE, b = 0xEE;
        char err[96];
        assert_int_equal(acpi_parse_s5(d, len, &a, &b, err, sizeof(err)), 0);
        assert_int_equal(a, typ);
        assert_int_equal(b, typ);
    }
    /* The exact AML for the default: Name (\_S5, Package (4) {5, 5, 0, 0}). */
    acpi_gen_default_params(&p, 1, BIOS_BASE);
    build(&p, &l);
    static const uint8_t aml[] = {0x08, 0x5C, '_',  'S',  '5',  '_',  0x12, 0x08,
                                  0x04, 0x0A, 0x05, 0x0A, 0x05, 0x00, 0x00};
    const uint8_t *d = at(l.dsdt_gpa);
    assert_int_equal(rd32(d + 4), 36 + sizeof(aml));
    assert_memory_equal(d + 36, aml, sizeof(aml));
}

static void test_many_vcpus_and_unaligned_base(void **state)
{
    struct acpi_gen_params p;
    struct acpi_gen_layout l;
    mem_base = BIOS_BASE;
    acpi_gen_default_params(&p, ACPI_GEN_MAX_VCPUS, BIOS_BASE + 0x123); /* odd base */
    build(&p, &l);
    assert_table_sums(&l);
    static struct acpi_info info;
    char err[160];
    assert_int_equal(acpi_init(&info, at(l.rsdp_gpa), 36, map, err, sizeof(err)), 0);
    assert_int_equal(info.nr_cpus, ACPI_GEN_MAX_VCPUS);
    assert_int_equal(info.cpus[ACPI_GEN_MAX_VCPUS - 1].apic_id, ACPI_GEN_MAX_VCPUS - 1);
    assert_int_equal(info.ioapics[0].id, ACPI_GEN_MAX_VCPUS);
    assert_no_log();
}

/* Above 4 GiB: FACS only through X_FIRMWARE_CTRL, DSDT through X_DSDT. */
static void test_high_base(void **state)
{
    struct acpi_gen_params p;
    struct acpi_gen_layout l;
    mem_base = 0x123400000ull;
    acpi_gen_default_params(&p, 2, mem_base);
    p.s5_typ = 0;
    p.sci_irq = 11;
    build(&p, &l);
    assert_table_sums(&l);
    const uint8_t *t = at(l.fadt_gpa);
    assert_int_equal(rd32(t + 36), 0);
    assert_int_equal(rd64(t + 132), l.facs_gpa);
    assert_int_equal(rd32(t + 40), 0);
    assert_int_equal(rd64(t + 140), l.dsdt_gpa);
    static struct acpi_info info;
    char err[160];
    assert_int_equal(acpi_init(&info, at(l.rsdp_gpa), 36, map, err, sizeof(err)), 0);
    assert_int_equal(info.facs_phys, l.facs_gpa);
    assert_int_equal(info.dsdt_phys, l.dsdt_gpa);
    assert_int_equal(info.sci_int, 11);
    assert_int_equal(info.overrides[1].bus_irq, 11);
    assert_true(info.has_s5);
    assert_int_equal(info.slp_typa, 0);
    assert_no_log();
}

static void test_too_small(void **state)
{
    struct acpi_gen_params p;
    struct acpi_gen_layout l;
    mem_base = BIOS_BASE;
    acpi_gen_default_params(&p, 8, BIOS_BASE);
    size_t need = acpi_gen_build(&p, mem, sizeof(mem), &l);
    assert_true(need > 0);
    memset(mem, 0xA5, sizeof(mem));
    assert_int_equal(acpi_gen_build(&p, mem, need - 1, &l), 0);
    assert_int_equal(mem[0], 0xA5); /* nothing written */
    assert_int_equal(acpi_gen_build(&p, mem, 0, &l), 0);
    assert_int_equal(acpi_gen_build(&p, mem, need, &l), need);
}

static void test_bad_params(void **state)
{
    struct acpi_gen_params p;
    struct acpi_gen_layout l;
    char err[128];
    acpi_gen_default_params(&p, 1, BIOS_BASE);
    assert_int_equal(acpi_gen_validate(&p, err, sizeof(err)), 0);

    p.nr_vcpus = 0;
    assert_int_equal(acpi_gen_validate(&p, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "vCPUs"));
    assert_int_equal(acpi_gen_build(&p, mem, sizeof(mem), &l), 0);
    p.nr_vcpus = ACPI_GEN_MAX_VCPUS + 1;
    assert_int_equal(acpi_gen_build(&p, mem, sizeof(mem), &l), 0);

    acpi_gen_default_params(&p, 1, BIOS_BASE);
    p.pm_tmr = 0x602; /* inside PM1a_EVT */
    assert_int_equal(acpi_gen_validate(&p, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "overlap"));
    p.pm_tmr = 0xFFFE; /* wraps the I/O space */
    assert_int_equal(acpi_gen_validate(&p, err, sizeof(err)), -1);
    p.pm_tmr = 0;
    assert_int_equal(acpi_gen_validate(&p, err, sizeof(err)), -1);

    acpi_gen_default_params(&p, 1, BIOS_BASE);
    p.sci_irq = 2;
    assert_int_equal(acpi_gen_validate(&p, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "SCI"));
    p.sci_irq = 16;
    assert_int_equal(acpi_gen_validate(&p, err, sizeof(err)), -1);

    acpi_gen_default_params(&p, 1, BIOS_BASE);
    p.s5_typ = 8;
    assert_int_equal(acpi_gen_validate(&p, err, sizeof(err)), -1);
    acpi_gen_default_params(&p, 1, UINT64_MAX - 0x100);
    assert_int_equal(acpi_gen_validate(&p, err, sizeof(err)), -1);
}

static void test_oem_id_padding(void **state)
{
    struct acpi_gen_params p;
    struct acpi_gen_layout l;
    mem_base = BIOS_BASE;
    acpi_gen_default_params(&p, 1, BIOS_BASE);
    memcpy(p.oem_id, "VM1", 4);
    build(&p, &l);
    assert_memory_equal(at(l.rsdp_gpa) + 9, "VM1   ", 6);
    assert_memory_equal(at(l.madt_gpa) + 10, "VM1   ", 6);
    p.oem_id[0] = '\0';
    build(&p, &l);
    assert_memory_equal(at(l.fadt_gpa) + 10, "BLKHD ", 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_parser_agrees, setup),
        cmocka_unit_test_setup(test_fadt_fields, setup),
        cmocka_unit_test_setup(test_dsdt_aml, setup),
        cmocka_unit_test_setup(test_many_vcpus_and_unaligned_base, setup),
        cmocka_unit_test_setup(test_high_base, setup),
        cmocka_unit_test_setup(test_too_small, setup),
        cmocka_unit_test_setup(test_bad_params, setup),
        cmocka_unit_test_setup(test_oem_id_padding, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
