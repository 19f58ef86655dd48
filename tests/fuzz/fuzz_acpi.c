/* libFuzzer target: the firmware's ACPI tables as the hypervisor reads them
 * at boot (drivers/acpi.c, drivers/acpi_tables.c: RSDP, RSDT/XSDT, MADT,
 * FADT, DSDT/SSDT \_S5 AML, HPET, MCFG, DMAR) and the DMAR's structures and
 * device scopes as the VT-d driver reads them (drivers/vtd_dmar.c).
 *
 * Input: one byte of flags, then tables, each a 16-bit length and that many
 * bytes (header included). The harness lays them out in a fake table area,
 * lists them in an RSDT or XSDT it builds, and hands over the RSDP (as the
 * multiboot2 tag does, or in the BIOS area to be found by the scan). With
 * FIX, it also sets each table's length and checksum, and with LINK it
 * points the FADT at the DSDT and FACS given: without these the fuzzer
 * would hardly get past the checksums. Every map() returns a private copy
 * of exactly the bytes asked for, so a read past what the parser mapped
 * hits ASan's redzone. Besides the sanitizers it checks the counts against
 * their arrays, recorded tables inside the memory they came from, and the
 * DMAR's scope indices inside its scope array. */
/* clang-format off */
/* fuzz-srcs: drivers/acpi.c drivers/acpi_tables.c drivers/vtd_dmar.c lib/log.c lib/format.c lib/strutil.c */
/* clang-format on */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/acpi.h"
#include "drivers/vtd_dmar.h"
#include "tests/fuzz/fuzz_input.h"

enum {
    FIX = 1 << 0,       /* set each table's length and checksum */
    SCAN = 1 << 1,      /* RSDP in the BIOS area, not from the boot loader */
    XSDT = 1 << 2,      /* revision 2 with an XSDT (else RSDT only) */
    LINK = 1 << 3,      /* FADT -> DSDT and FACS */
    BOTH_ROOTS = 1 << 4 /* an RSDT beside the XSDT */
};

#define LOW_SIZE   0x100000u /* BIOS areas */
#define AREA_BASE  0x7fe00000ULL
#define AREA_SIZE  0x10000u
#define ROOT_OFF   0x0u /* XSDT; the RSDT follows it */
#define TABLES_OFF 0x400u
#define MAX_TABLES 24
#define MAX_MAPS   4096

static uint8_t low[LOW_SIZE];
static uint8_t area[AREA_SIZE];
static void *maps[MAX_MAPS];
static unsigned nr_maps;

static const void *fake_map(uint64_t phys, uint64_t len)
{
    const uint8_t *src = NULL;
    if (!phys || len > UINT64_MAX - phys || !len || nr_maps >= MAX_MAPS)
        return NULL;
    if (phys + len <= LOW_SIZE)
        src = low + phys;
    else if (phys >= AREA_BASE && phys + len <= AREA_BASE + AREA_SIZE)
        src = area + (phys - AREA_BASE);
    if (!src)
        return NULL;
    void *copy = malloc(len);
    if (!copy)
        return NULL;
    memcpy(copy, src, len);
    maps[nr_maps++] = copy;
    return copy;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void checksum(uint8_t *t, uint32_t len, unsigned at)
{
    uint8_t sum = 0;
    t[at] = 0;
    for (uint32_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + t[i]);
    t[at] = (uint8_t)-sum;
}

static void header(uint8_t *t, const char *sig, uint32_t len)
{
    memcpy(t, sig, 4);
    put32(t + 4, len);
    t[8] = 1;
    memcpy(t + 10, "FUZZED", 6);
    checksum(t, len, 9);
}

static bool bridge(void *ctx, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, uint8_t *sec,
                   uint8_t *sub)
{
    /* Every even device is a bridge to the next buses. */
    if (dev & 1)
        return false;
    *sec = (uint8_t)(bus + 1);
    *sub = (uint8_t)(bus + 1 + (dev >> 1));
    return *sec > bus;
}

static void check_dmar(const uint8_t *t, uint32_t len)
{
    static struct vtd_dmar d;
    char err[160];
    if (vtd_dmar_parse(t, len, &d, err, sizeof(err))) {
        FUZZ_CHECK(memchr(err, '\0', sizeof(err)) && err[0]);
        return;
    }
    FUZZ_CHECK(d.nr_drhd <= VTD_MAX_UNITS && d.nr_rmrr <= VTD_MAX_RMRR);
    FUZZ_CHECK(d.nr_scopes <= VTD_MAX_SCOPES);
    for (unsigned i = 0; i < d.nr_drhd; i++)
        FUZZ_CHECK(d.drhd[i].first_scope + d.drhd[i].nr_scopes <= d.nr_scopes);
    for (unsigned i = 0; i < d.nr_rmrr; i++) {
        FUZZ_CHECK(d.rmrr[i].first_scope + d.rmrr[i].nr_scopes <= d.nr_scopes);
        FUZZ_CHECK(d.rmrr[i].base <= d.rmrr[i].limit);
    }
    for (unsigned i = 0; i < d.nr_scopes; i++) {
        uint16_t first, last;
        FUZZ_CHECK(d.scopes[i].path_len <= VTD_SCOPE_MAX_PATH);
        if (vtd_scope_resolve(&d.scopes[i], 0, bridge, NULL, &first, &last))
            FUZZ_CHECK(first <= last);
    }
    for (unsigned bdf = 0; bdf < 0x10000; bdf += 0x0fff) {
        int u = vtd_dmar_unit_for(&d, 0, (uint16_t)bdf, bridge, NULL);
        FUZZ_CHECK(u >= -1 && u < (int)d.nr_drhd);
    }
    uint16_t seg, sid;
    int u = vtd_dmar_ioapic_source(&d, 2, bridge, NULL, &seg, &sid);
    FUZZ_CHECK(u >= -1 && u < (int)d.nr_drhd);
    static const uint8_t ids[] = {0, 2, 8};
    int f = vtd_dmar_first_unremapped_ioapic(&d, ids, 3, 0xff, bridge, NULL);
    FUZZ_CHECK(f >= -1 && f < 3);
}

static void check_info(const struct acpi_info *o)
{
    FUZZ_CHECK(o->nr_tables <= ACPI_MAX_TABLES && o->nr_cpus <= ACPI_MAX_CPUS);
    FUZZ_CHECK(o->nr_ioapics <= ACPI_MAX_IOAPICS && o->nr_overrides <= ACPI_MAX_OVERRIDES);
    FUZZ_CHECK(o->nr_mcfg <= ACPI_MAX_MCFG && o->nr_drhd <= ACPI_MAX_DRHD);
    FUZZ_CHECK(memchr(o->oem_id, '\0', sizeof(o->oem_id)));
    for (unsigned i = 0; i < o->nr_tables; i++) {
        const struct acpi_table_ref *r = &o->tables[i];
        FUZZ_CHECK(memchr(r->sig, '\0', sizeof(r->sig)));
        bool in_low = r->phys + r->len <= LOW_SIZE;
        bool in_area = r->phys >= AREA_BASE && r->phys + r->len <= AREA_BASE + AREA_SIZE;
        FUZZ_CHECK(r->len && (in_low || in_area));
    }
    char line[64];
    size_t n = acpi_format_tables(o, line, sizeof(line));
    FUZZ_CHECK(n < sizeof(line) && strlen(line) == n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size, 0};
    uint8_t flags = fuzz_u8(&in);
    uint64_t at[MAX_TABLES];
    uint32_t len[MAX_TABLES];
    unsigned n = 0, listed = 0;
    uint32_t off = TABLES_OFF;
    int dsdt = -1, facs = -1;

    memset(area, 0, sizeof(area));
    while (fuzz_left(&in) && n < MAX_TABLES) {
        uint32_t l = fuzz_u16(&in);
        if (l > fuzz_left(&in))
            l = (uint32_t)fuzz_left(&in);
        if (l > AREA_SIZE - off)
            break;
        memcpy(area + off, data + in.pos, l);
        in.pos += l;
        if (flags & FIX && l >= 36) {
            put32(area + off + 4, l);
            if (memcmp(area + off, "FACS", 4)) /* the FACS has no checksum */
                checksum(area + off, l, 9);
        }
        if (l >= 4 && !memcmp(area + off, "DSDT", 4) && dsdt < 0)
            dsdt = (int)n;
        else if (l >= 4 && !memcmp(area + off, "FACS", 4) && facs < 0)
            facs = (int)n;
        at[n] = AREA_BASE + off;
        len[n++] = l;
        off = (off + l + 15) & ~15u;
    }
    /* The FADT's pointers, then (again) its checksum. */
    for (unsigned i = 0; i < n && flags & LINK; i++) {
        uint8_t *t = area + (at[i] - AREA_BASE);
        if (len[i] < 44 || memcmp(t, "FACP", 4))
            continue;
        put32(t + 36, facs >= 0 ? (uint32_t)at[facs] : 0);
        put32(t + 40, dsdt >= 0 ? (uint32_t)at[dsdt] : 0);
        if (len[i] >= 148)
            put64(t + 140, dsdt >= 0 ? at[dsdt] : 0);
        if (flags & FIX)
            checksum(t, len[i], 9);
    }
    /* The root tables list everything but what the FADT points to. */
    uint8_t *xsdt = area + ROOT_OFF, *rsdt = area + ROOT_OFF + 0x200;
    for (unsigned i = 0; i < n; i++) {
        if (flags & LINK && ((int)i == dsdt || (int)i == facs))
            continue;
        put64(xsdt + 36 + 8 * listed, at[i]);
        put32(rsdt + 36 + 4 * listed, (uint32_t)at[i]);
        listed++;
    }
    header(xsdt, "XSDT", 36 + 8 * listed);
    header(rsdt, "RSDT", 36 + 4 * listed);

    uint8_t rsdp[36] = "RSD PTR ";
    memcpy(rsdp + 9, "FUZZED", 6);
    rsdp[15] = flags & XSDT ? 2 : 0;
    put32(rsdp + 16, !(flags & XSDT) || flags & BOTH_ROOTS ? (uint32_t)AREA_BASE + 0x200 : 0);
    put32(rsdp + 20, 36);
    put64(rsdp + 24, flags & XSDT ? AREA_BASE + ROOT_OFF : 0);
    checksum(rsdp, 20, 8);
    checksum(rsdp, 36, 32);

    static struct acpi_info info;
    char err[160];
    int r;
    if (flags & SCAN) {
        memset(low + 0xe0000, 0, 0x20000);
        memcpy(low + 0xe0000 + 16 * (flags >> 5), rsdp, sizeof(rsdp));
        r = acpi_init(&info, NULL, 0, fake_map, err, sizeof(err));
    } else {
        r = acpi_init(&info, rsdp, flags & XSDT ? 36 : 20, fake_map, err, sizeof(err));
    }
    if (r == 0) {
        check_info(&info);
        const struct acpi_table_ref *d = acpi_find_table(&info, "DMAR", 0);
        const uint8_t *t = d ? fake_map(d->phys, d->len) : NULL;
        if (t && d->len >= 48)
            check_dmar(t, d->len);
    } else {
        FUZZ_CHECK(memchr(err, '\0', sizeof(err)) && err[0]);
    }
    /* Each table's AML, as an SSDT would be read. */
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *t = len[i] ? fake_map(at[i], len[i]) : NULL;
        uint8_t a, b;
        if (t && len[i] >= 36 && get32(t + 4) == len[i])
            acpi_parse_s5(t, len[i], &a, &b, err, sizeof(err));
    }
    while (nr_maps)
        free(maps[--nr_maps]);
    return 0;
}
