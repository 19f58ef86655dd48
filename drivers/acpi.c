/* ACPI discovery: RSDP, XSDT/RSDT, FADT with its DSDT/FACS and \_S5.
 * Per-table parsers for MADT, HPET, MCFG and DMAR live in acpi_tables.c. */
#include "drivers/acpi.h"

#include "drivers/acpi_internal.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/string.h"

struct acpi_info acpi;

#define RSDP_V1_LEN      20
#define RSDP_V2_LEN      36
#define ROOT_MAX_ENTRIES 1024
#define EBDA_PTR         0x40E
#define EBDA_SCAN_LEN    1024
#define BIOS_AREA_START  0xE0000
#define BIOS_AREA_LEN    0x20000
#define FADT_V1_LEN      116
#define FACS_MIN_LEN     64

/* AML opcodes used by the \_S5 parser. */
#define AML_ZERO_OP    0x00
#define AML_ONE_OP     0x01
#define AML_NAME_OP    0x08
#define AML_BYTE_PFX   0x0A
#define AML_WORD_PFX   0x0B
#define AML_DWORD_PFX  0x0C
#define AML_QWORD_PFX  0x0E
#define AML_PACKAGE_OP 0x12
#define AML_ONES_OP    0xFF

uint8_t acpi_sum8(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

void acpi_sig_copy(char dst[5], const uint8_t *src)
{
    for (int i = 0; i < 4; i++)
        dst[i] = (src[i] >= 0x20 && src[i] < 0x7F) ? (char)src[i] : '?';
    dst[4] = '\0';
}

const uint8_t *acpi_load_table(acpi_map_fn map, uint64_t phys, const char *want, char sig[5],
                               uint32_t *len_out, char *why, size_t whylen)
{
    str_copy(sig, want ? want : "????", 5);
    if (!phys) {
        fmt_snprintf(why, whylen, "null address");
        return NULL;
    }
    if (phys > UINT64_MAX - ACPI_HDR_LEN) {
        fmt_snprintf(why, whylen, "address out of range");
        return NULL;
    }
    const uint8_t *h = map(phys, ACPI_HDR_LEN);
    if (!h) {
        fmt_snprintf(why, whylen, "header not mappable");
        return NULL;
    }
    char found[5];
    acpi_sig_copy(found, h);
    if (want && memcmp(h, want, 4)) {
        fmt_snprintf(why, whylen, "signature is '%s', expected '%s'", found, want);
        return NULL;
    }
    str_copy(sig, found, 5);
    uint32_t len = acpi_rd32(h + 4);
    if (len < ACPI_HDR_LEN) {
        fmt_snprintf(why, whylen, "length %u is shorter than the %u-byte header", len,
                     ACPI_HDR_LEN);
        return NULL;
    }
    if (len > ACPI_TABLE_MAX_LEN || phys > UINT64_MAX - len) {
        fmt_snprintf(why, whylen, "length %u is implausible", len);
        return NULL;
    }
    const uint8_t *t = map(phys, len);
    if (!t) {
        fmt_snprintf(why, whylen, "length %u runs past mappable memory (truncated)", len);
        return NULL;
    }
    if (acpi_sum8(t, len)) {
        fmt_snprintf(why, whylen, "bad checksum");
        return NULL;
    }
    *len_out = len;
    return t;
}

/* ---- RSDP ---- */

struct rsdp_result {
    uint8_t revision;
    char oem_id[7];
    uint64_t rsdt, xsdt;
};

/* Validates an RSDP candidate with avail readable bytes. The extended part
 * (XSDT) is dropped with a warning when broken; the RSDT still serves. */
static int rsdp_check(const uint8_t *p, size_t avail, struct rsdp_result *r, char *why,
                      size_t whylen)
{
    if (avail < RSDP_V1_LEN) {
        fmt_snprintf(why, whylen, "RSDP too short (%u bytes)", (unsigned)avail);
        return -1;
    }
    if (memcmp(p, "RSD PTR ", 8)) {
        fmt_snprintf(why, whylen, "RSDP signature missing");
        return -1;
    }
    if (acpi_sum8(p, RSDP_V1_LEN)) {
        fmt_snprintf(why, whylen, "RSDP bad checksum");
        return -1;
    }
    memset(r, 0, sizeof(*r));
    r->revision = p[15];
    for (int i = 0; i < 6; i++)
        r->oem_id[i] = (p[9 + i] >= 0x20 && p[9 + i] < 0x7F) ? (char)p[9 + i] : ' ';
    r->rsdt = acpi_rd32(p + 16);
    if (r->revision >= 2) {
        uint32_t len = avail >= RSDP_V2_LEN ? acpi_rd32(p + 20) : 0;
        if (avail < RSDP_V2_LEN)
            pr_warn("acpi: RSDP revision %u but only %u bytes given; using the RSDT", r->revision,
                    (unsigned)avail);
        else if (len < RSDP_V2_LEN || len > avail)
            pr_warn("acpi: RSDP length %u invalid (have %u bytes); using the RSDT", len,
                    (unsigned)avail);
        else if (acpi_sum8(p, len))
            pr_warn("acpi: RSDP extended checksum bad; using the RSDT");
        else
            r->xsdt = acpi_rd64(p + 24);
    }
    if (!r->rsdt && !r->xsdt) {
        fmt_snprintf(why, whylen, "RSDP names neither an RSDT nor an XSDT");
        return -1;
    }
    return 0;
}

static int rsdp_scan_area(acpi_map_fn map, uint64_t base, uint32_t size, struct rsdp_result *r)
{
    const uint8_t *area = map(base, size);
    char why[96];
    if (!area)
        return -1;
    for (uint32_t off = 0; off + RSDP_V1_LEN <= size; off += 16) {
        if (memcmp(area + off, "RSD PTR ", 8))
            continue;
        if (rsdp_check(area + off, size - off, r, why, sizeof(why)) == 0) {
            pr_debug("acpi: RSDP at 0x%llx", (unsigned long long)(base + off));
            return 0;
        }
        pr_warn("acpi: RSDP candidate at 0x%llx: %s", (unsigned long long)(base + off), why);
    }
    return -1;
}

static int rsdp_find(acpi_map_fn map, struct rsdp_result *r)
{
    const uint8_t *p = map(EBDA_PTR, 2);
    if (p) {
        uint64_t ebda = (uint64_t)acpi_rd16(p) << 4;
        /* Outside conventional memory below the video area means no EBDA. */
        if (ebda >= 0x400 && ebda + EBDA_SCAN_LEN <= 0xA0000 &&
            rsdp_scan_area(map, ebda, EBDA_SCAN_LEN, r) == 0)
            return 0;
    }
    return rsdp_scan_area(map, BIOS_AREA_START, BIOS_AREA_LEN, r);
}

/* ---- table list ---- */

static bool table_known(const struct acpi_info *o, uint64_t phys)
{
    for (unsigned i = 0; i < o->nr_tables; i++)
        if (o->tables[i].phys == phys)
            return true;
    return false;
}

static void table_record(struct acpi_info *o, const char *sig, uint64_t phys, uint32_t len)
{
    if (o->nr_tables >= ACPI_MAX_TABLES) {
        pr_warn("acpi: more than %u tables; %s at 0x%llx not listed", ACPI_MAX_TABLES, sig,
                (unsigned long long)phys);
        return;
    }
    struct acpi_table_ref *t = &o->tables[o->nr_tables++];
    str_copy(t->sig, sig, sizeof(t->sig));
    t->phys = phys;
    t->len = len;
}

size_t acpi_format_tables(const struct acpi_info *info, char *buf, size_t len)
{
    size_t n = 0;
    if (len)
        buf[0] = '\0';
    for (unsigned i = 0; i < info->nr_tables && i < ACPI_MAX_TABLES; i++) {
        int w = fmt_snprintf(buf + n, len - n, "%s%s", i ? " " : "", info->tables[i].sig);
        if (w < 0 || (size_t)w >= len - n) {
            n = len ? len - 1 : 0;
            break;
        }
        n += (size_t)w;
    }
    return n;
}

const struct acpi_table_ref *acpi_find_table(const struct acpi_info *info, const char *sig,
                                             unsigned nth)
{
    for (unsigned i = 0; i < info->nr_tables && i < ACPI_MAX_TABLES; i++)
        if (!strncmp(info->tables[i].sig, sig, 4) && nth-- == 0)
            return &info->tables[i];
    return NULL;
}

/* ---- FADT ---- */

void acpi_read_gas(const uint8_t *p, struct acpi_gas *g)
{
    g->space_id = p[0];
    g->bit_width = p[1];
    g->bit_offset = p[2];
    g->access_size = p[3];
    g->address = acpi_rd64(p + 4);
}

/* Picks the X_ GAS when it is present and non-zero, else the 32-bit field;
 * only SystemIO blocks are usable here. */
static uint32_t fadt_io_block(const uint8_t *t, uint32_t len, uint32_t legacy_off, uint32_t x_off,
                              const char *name, uint64_t phys)
{
    uint32_t legacy = acpi_rd32(t + legacy_off);
    if (x_off + 12 <= len) {
        struct acpi_gas g;
        acpi_read_gas(t + x_off, &g);
        if (g.address) {
            if (g.space_id == ACPI_GAS_IO && g.address <= 0xFFFF)
                return (uint32_t)g.address;
            pr_warn("acpi: FACP at 0x%llx: X_%s in address space %u at 0x%llx not supported%s",
                    (unsigned long long)phys, name, g.space_id, (unsigned long long)g.address,
                    legacy ? "; using the 32-bit field" : "");
        }
    }
    if (legacy > 0xFFFF) {
        pr_warn("acpi: FACP at 0x%llx: %s 0x%x is not an I/O port, ignored",
                (unsigned long long)phys, name, legacy);
        return 0;
    }
    return legacy;
}

static bool parse_fadt(struct acpi_info *o, const uint8_t *t, uint32_t len, uint64_t phys)
{
    if (len < FADT_V1_LEN) {
        pr_warn("acpi: FACP at 0x%llx: length %u shorter than the ACPI 1.0 FADT (%u), skipped",
                (unsigned long long)phys, len, FADT_V1_LEN);
        return false;
    }
    o->facs_phys = acpi_rd32(t + 36);
    o->dsdt_phys = acpi_rd32(t + 40);
    if (len >= 140 && acpi_rd64(t + 132))
        o->facs_phys = acpi_rd64(t + 132);
    if (len >= 148 && acpi_rd64(t + 140))
        o->dsdt_phys = acpi_rd64(t + 140);
    o->sci_int = acpi_rd16(t + 46);
    o->smi_cmd = acpi_rd32(t + 48);
    if (o->smi_cmd > 0xFFFF) {
        pr_warn("acpi: FACP at 0x%llx: SMI_CMD 0x%x is not an I/O port, ignored",
                (unsigned long long)phys, o->smi_cmd);
        o->smi_cmd = 0;
    }
    o->acpi_enable = t[52];
    o->pm1a_cnt_blk = fadt_io_block(t, len, 64, 172, "PM1a_CNT_BLK", phys);
    o->pm1b_cnt_blk = fadt_io_block(t, len, 68, 184, "PM1b_CNT_BLK", phys);
    o->pm_tmr_blk = fadt_io_block(t, len, 76, 208, "PM_TMR_BLK", phys);
    o->century = t[108];
    o->iapc_boot_arch = acpi_rd16(t + 109);
    o->fadt_flags = acpi_rd32(t + 112);
    o->pm_tmr_32bit = (o->fadt_flags & ACPI_FADT_TMR_VAL_EXT) != 0;

    o->has_reset_reg = false;
    if (len >= 129 && (o->fadt_flags & ACPI_FADT_RESET_REG_SUP)) {
        acpi_read_gas(t + 116, &o->reset_reg);
        o->reset_value = t[128];
        const struct acpi_gas *g = &o->reset_reg;
        if (!g->address)
            pr_warn("acpi: FACP at 0x%llx: RESET_REG_SUP set but RESET_REG is zero",
                    (unsigned long long)phys);
        else if (g->space_id > ACPI_GAS_PCI || (g->space_id == ACPI_GAS_IO && g->address > 0xFFFF))
            pr_warn("acpi: FACP at 0x%llx: RESET_REG space %u address 0x%llx not supported",
                    (unsigned long long)phys, g->space_id, (unsigned long long)g->address);
        else
            o->has_reset_reg = true;
    }
    o->has_fadt = true;
    return true;
}

/* ---- \_S5 ---- */

static int s5_fail(char *err, size_t errlen, const char *why, size_t off)
{
    fmt_snprintf(err, errlen, "\\_S5 at offset %u: %s", (unsigned)off, why);
    return -2;
}

/* One integer element: ZeroOp, OneOp, OnesOp or a Byte/Word/DWord/QWord
 * constant, all inside [*pos, end). */
static int aml_integer(const uint8_t *t, size_t *pos, size_t end, uint64_t *v)
{
    size_t p = *pos;
    if (p >= end)
        return -1;
    unsigned n;
    switch (t[p]) {
    case AML_ZERO_OP:
        *v = 0;
        *pos = p + 1;
        return 0;
    case AML_ONE_OP:
        *v = 1;
        *pos = p + 1;
        return 0;
    case AML_ONES_OP:
        *v = ~0ull;
        *pos = p + 1;
        return 0;
    case AML_BYTE_PFX:
        n = 1;
        break;
    case AML_WORD_PFX:
        n = 2;
        break;
    case AML_DWORD_PFX:
        n = 4;
        break;
    case AML_QWORD_PFX:
        n = 8;
        break;
    default:
        return -1;
    }
    if (end - p - 1 < n)
        return -1;
    *v = 0;
    for (unsigned i = 0; i < n; i++)
        *v |= (uint64_t)t[p + 1 + i] << (8 * i);
    *pos = p + 1 + n;
    return 0;
}

/* q points just past the name "_S5_". */
static int s5_package(const uint8_t *t, size_t len, size_t q, uint8_t *typa, uint8_t *typb,
                      char *err, size_t errlen)
{
    if (q >= len || t[q] != AML_PACKAGE_OP)
        return s5_fail(err, errlen, "not followed by a Package", q);
    q++;
    if (q >= len)
        return s5_fail(err, errlen, "PkgLength truncated", q);
    uint8_t lead = t[q];
    unsigned extra = lead >> 6;
    size_t plen;
    if (!extra) {
        plen = lead & 0x3F;
    } else {
        if (lead & 0x30)
            return s5_fail(err, errlen, "PkgLength reserved bits set", q);
        if (len - q - 1 < extra)
            return s5_fail(err, errlen, "PkgLength truncated", q);
        plen = lead & 0x0F;
        for (unsigned i = 0; i < extra; i++)
            plen |= (size_t)t[q + 1 + i] << (4 + 8 * i);
    }
    /* PkgLength counts its own bytes and the package contents. */
    if (plen < 1 + extra + 1)
        return s5_fail(err, errlen, "package too short", q);
    if (plen > len - q)
        return s5_fail(err, errlen, "package runs past the table end", q);
    size_t end = q + plen;
    q += 1 + extra;
    uint8_t nr = t[q++];
    if (nr == 0)
        return s5_fail(err, errlen, "empty package", q);
    uint64_t a, b;
    if (aml_integer(t, &q, end, &a))
        return s5_fail(err, errlen, "first element is not an integer constant", q);
    if (nr == 1) {
        /* Some firmware packs SLP_TYPa and SLP_TYPb into one integer. */
        *typa = (uint8_t)(a & 0xFF);
        *typb = (uint8_t)((a >> 8) & 0xFF);
        return 0;
    }
    if (aml_integer(t, &q, end, &b))
        return s5_fail(err, errlen, "second element is not an integer constant", q);
    *typa = (uint8_t)a;
    *typb = (uint8_t)b;
    return 0;
}

int acpi_parse_s5(const uint8_t *t, uint32_t len, uint8_t *typa, uint8_t *typb, char *err,
                  size_t errlen)
{
    int rc = -1;
    fmt_snprintf(err, errlen, "no \\_S5 object");
    if (!t || len <= ACPI_HDR_LEN)
        return rc;
    for (size_t i = ACPI_HDR_LEN + 1; i + 4 <= len; i++) {
        if (memcmp(t + i, "_S5_", 4))
            continue;
        size_t name = i;
        if (t[name - 1] == '\\')
            name--;
        if (name <= ACPI_HDR_LEN || t[name - 1] != AML_NAME_OP)
            continue;
        char why[96];
        int r = s5_package(t, len, i + 4, typa, typb, why, sizeof(why));
        if (r == 0)
            return 0;
        /* Keep looking: the bytes may have matched by accident. */
        str_copy(err, why, errlen);
        rc = r;
    }
    return rc;
}

static void s5_from_table(struct acpi_info *o, const uint8_t *t, uint32_t len, const char *sig,
                          uint64_t phys)
{
    char why[128];
    int r = acpi_parse_s5(t, len, &o->slp_typa, &o->slp_typb, why, sizeof(why));
    if (r == 0) {
        o->has_s5 = true;
        if ((o->slp_typa | o->slp_typb) & ~7u)
            pr_warn("acpi: %s at 0x%llx: \\_S5 SLP_TYP values 0x%x/0x%x exceed 3 bits", sig,
                    (unsigned long long)phys, o->slp_typa, o->slp_typb);
    } else if (r == -2) {
        pr_warn("acpi: %s at 0x%llx: %s", sig, (unsigned long long)phys, why);
    }
}

/* ---- top level ---- */

static void handle_table(struct acpi_info *o, acpi_map_fn map, uint64_t phys)
{
    char sig[5], why[96];
    uint32_t len = 0;
    const uint8_t *t = acpi_load_table(map, phys, NULL, sig, &len, why, sizeof(why));
    if (!t) {
        pr_warn("acpi: table %s at 0x%llx: %s, skipped", sig, (unsigned long long)phys, why);
        o->nr_skipped++;
        return;
    }
    if (table_known(o, phys)) {
        pr_warn("acpi: table %s at 0x%llx listed twice, ignored", sig, (unsigned long long)phys);
        return;
    }
    bool ok = true, dup = false;
    if (!strcmp(sig, "APIC")) {
        dup = o->has_madt;
        ok = dup || acpi_parse_madt(o, t, len, phys);
    } else if (!strcmp(sig, "FACP")) {
        dup = o->has_fadt;
        ok = dup || parse_fadt(o, t, len, phys);
    } else if (!strcmp(sig, "HPET")) {
        dup = o->has_hpet;
        ok = dup || acpi_parse_hpet(o, t, len, phys);
    } else if (!strcmp(sig, "MCFG")) {
        ok = acpi_parse_mcfg(o, t, len, phys);
    } else if (!strcmp(sig, "DMAR")) {
        dup = o->has_dmar;
        ok = dup || acpi_parse_dmar(o, t, len, phys);
    }
    if (dup)
        pr_warn("acpi: second %s at 0x%llx ignored", sig, (unsigned long long)phys);
    if (!ok) {
        o->nr_skipped++;
        return;
    }
    table_record(o, sig, phys, len);
}

static void handle_fadt_children(struct acpi_info *o, acpi_map_fn map)
{
    char sig[5], why[96];
    uint32_t len = 0;
    if (o->dsdt_phys) {
        const uint8_t *t = acpi_load_table(map, o->dsdt_phys, "DSDT", sig, &len, why, sizeof(why));
        if (!t) {
            pr_warn("acpi: DSDT at 0x%llx: %s, skipped", (unsigned long long)o->dsdt_phys, why);
            o->nr_skipped++;
        } else {
            table_record(o, "DSDT", o->dsdt_phys, len);
            s5_from_table(o, t, len, "DSDT", o->dsdt_phys);
        }
    }
    /* The FACS has no checksum; check what can be checked. The length it
     * claims is recorded only when that much is there to read. */
    if (o->facs_phys) {
        const uint8_t *f =
            o->facs_phys <= UINT64_MAX - FACS_MIN_LEN ? map(o->facs_phys, FACS_MIN_LEN) : NULL;
        uint32_t flen = f ? acpi_rd32(f + 4) : 0;
        const char *bad = !f                     ? "not mappable"
                          : memcmp(f, "FACS", 4) ? "bad signature"
                          : flen < FACS_MIN_LEN  ? "length below 64"
                          : flen > ACPI_TABLE_MAX_LEN || o->facs_phys > UINT64_MAX - flen ||
                                  !map(o->facs_phys, flen)
                              ? "length runs past mappable memory"
                              : NULL;
        if (bad) {
            pr_warn("acpi: FACS at 0x%llx: %s, skipped", (unsigned long long)o->facs_phys, bad);
            o->nr_skipped++;
        } else {
            table_record(o, "FACS", o->facs_phys, flen);
        }
    }
    /* Without a usable \_S5 in the DSDT, an SSDT may define it. */
    for (unsigned i = 0; !o->has_s5 && i < o->nr_tables; i++) {
        if (strcmp(o->tables[i].sig, "SSDT"))
            continue;
        const uint8_t *t = map(o->tables[i].phys, o->tables[i].len);
        if (t)
            s5_from_table(o, t, o->tables[i].len, "SSDT", o->tables[i].phys);
    }
}

static int parse_root(struct acpi_info *o, acpi_map_fn map, const struct rsdp_result *r, char *err,
                      size_t errlen)
{
    char sig[5], why[96];
    uint32_t len = 0;
    const uint8_t *t = NULL;
    uint64_t root = 0;
    if (r->xsdt) {
        t = acpi_load_table(map, r->xsdt, "XSDT", sig, &len, why, sizeof(why));
        if (t) {
            root = r->xsdt;
            o->use_xsdt = true;
        } else {
            pr_warn("acpi: XSDT at 0x%llx: %s; falling back to the RSDT",
                    (unsigned long long)r->xsdt, why);
        }
    }
    if (!t && r->rsdt) {
        t = acpi_load_table(map, r->rsdt, "RSDT", sig, &len, why, sizeof(why));
        if (t)
            root = r->rsdt;
        else
            fmt_snprintf(err, errlen, "RSDT at 0x%llx: %s", (unsigned long long)r->rsdt, why);
    }
    if (!t) {
        if (!r->rsdt)
            fmt_snprintf(err, errlen, "no valid XSDT and no RSDT");
        return -1;
    }
    unsigned esz = o->use_xsdt ? 8 : 4;
    uint32_t n = (len - ACPI_HDR_LEN) / esz;
    if ((len - ACPI_HDR_LEN) % esz)
        pr_warn("acpi: %s at 0x%llx: length %u is not a whole number of entries", sig,
                (unsigned long long)root, len);
    if (n > ROOT_MAX_ENTRIES) {
        pr_warn("acpi: %s at 0x%llx: %u entries, only the first %u used", sig,
                (unsigned long long)root, n, ROOT_MAX_ENTRIES);
        n = ROOT_MAX_ENTRIES;
    }
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = t + ACPI_HDR_LEN + i * esz;
        handle_table(o, map, esz == 8 ? acpi_rd64(e) : acpi_rd32(e));
    }
    return 0;
}

int acpi_init(struct acpi_info *out, const uint8_t *rsdp_copy, uint32_t rsdp_len, acpi_map_fn map,
              char *err, size_t errlen)
{
    struct rsdp_result r;
    char why[96];
    memset(out, 0, sizeof(*out));
    if (errlen)
        err[0] = '\0';
    if (!map) {
        fmt_snprintf(err, errlen, "no map function");
        return -1;
    }
    if (rsdp_copy) {
        if (rsdp_check(rsdp_copy, rsdp_len, &r, why, sizeof(why))) {
            fmt_snprintf(err, errlen, "RSDP from the boot loader: %s", why);
            return -1;
        }
    } else if (rsdp_find(map, &r)) {
        fmt_snprintf(err, errlen, "no valid RSDP in the EBDA or 0xE0000-0xFFFFF");
        return -1;
    }
    out->revision = r.revision;
    memcpy(out->oem_id, r.oem_id, sizeof(out->oem_id));
    if (parse_root(out, map, &r, err, errlen))
        return -1;
    if (out->has_fadt)
        handle_fadt_children(out, map);
    out->present = true;
    return 0;
}

#ifndef HOST_TEST
static uint64_t map_limit = 1ull << 32;

void acpi_set_map_limit(uint64_t limit)
{
    map_limit = limit;
}

/* Physical == virtual for RAM and low MMIO; refuse what may be unmapped. */
static const void *identity_map(uint64_t phys, uint64_t len)
{
    if (!phys || len > map_limit || phys > map_limit - len)
        return NULL;
    return (const void *)(uintptr_t)phys;
}

int acpi_probe(const uint8_t *rsdp_copy, uint32_t rsdp_len)
{
    char err[160];
    if (acpi_init(&acpi, rsdp_copy, rsdp_len, identity_map, err, sizeof(err))) {
        pr_warn("acpi: %s; continuing without ACPI", err);
        return -1;
    }
    char line[ACPI_MAX_TABLES * 5 + 1];
    acpi_format_tables(&acpi, line, sizeof(line));
    pr_info("acpi: %s", line);
    pr_debug("acpi: rev %u oem '%s' %s, %u cpus, %u ioapics, %u overrides, %u skipped",
             acpi.revision, acpi.oem_id, acpi.use_xsdt ? "XSDT" : "RSDT", acpi.nr_cpus,
             acpi.nr_ioapics, acpi.nr_overrides, acpi.nr_skipped);
    return 0;
}
#endif
