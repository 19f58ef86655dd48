/* Per-VM ACPI table generator. Layouts follow the ACPI 6.x specification:
 * RSDP (5.2.5.3), XSDT (5.2.8), FADT revision 6 (5.2.9), FACS (5.2.10),
 * DSDT (5.2.11.1) and MADT (5.2.12). All multi-byte fields are written byte
 * by byte (little-endian, unaligned). */
#include "vdev/acpi_gen.h"

#include "lib/format.h"
#include "lib/string.h"
#include "vdev/vpci_acpi.h"

#define HDR_LEN   36u
#define RSDP_LEN  36u
#define FADT_LEN  276u
#define FACS_LEN  64u
#define XSDT_ENTS 2u /* FADT, MADT */

#define MADT_LAPIC_LEN     8u
#define MADT_IOAPIC_LEN    12u
#define MADT_ISO_LEN       10u
#define MADT_LAPIC_NMI_LEN 6u
#define MADT_PCAT_COMPAT   (1u << 0)

/* MPS INTI flags: polarity bits 1:0, trigger mode bits 3:2. */
#define INTI_HIGH  0x1u
#define INTI_LOW   0x3u
#define INTI_EDGE  (0x1u << 2)
#define INTI_LEVEL (0x3u << 2)

/* FADT Flags. */
#define FADT_WBINVD        (1u << 0)
#define FADT_PROC_C1       (1u << 2)
#define FADT_SLP_BUTTON    (1u << 5) /* set: no fixed-feature sleep button */
#define FADT_FIX_RTC       (1u << 6) /* set: RTC wake status not in PM1 */
#define FADT_TMR_VAL_EXT   (1u << 8)
#define FADT_RESET_REG_SUP (1u << 10)

/* FADT IAPC_BOOT_ARCH. */
#define BOOT_LEGACY_DEVICES (1u << 0)
#define BOOT_8042           (1u << 1)
#define BOOT_NO_VGA         (1u << 2)
#define BOOT_NO_MSI         (1u << 3)

#define GAS_IO       1
#define ACCESS_BYTE  1
#define ACCESS_WORD  2
#define ACCESS_DWORD 3
#define GAS_LEN      12u
#define ADDR32_LIMIT 0x100000000ull

/* AML (ACPI 6.x chapter 20) for Name (\_S5, Package (4) {typ, typ, 0, 0}). */
#define AML_ZERO_OP    0x00
#define AML_ONE_OP     0x01
#define AML_NAME_OP    0x08
#define AML_BYTE_PFX   0x0A
#define AML_PACKAGE_OP 0x12
#define AML_ROOT_CHAR  0x5C

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

static uint8_t checksum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    while (n--)
        s = (uint8_t)(s + *p++);
    return (uint8_t)-s;
}

/* Space-padded 6-character OEM ID. */
static void oem_id6(uint8_t dst[6], const char *src)
{
    size_t n = strnlen(src, 6);
    if (!n) {
        src = "BLKHD";
        n = 5;
    }
    memset(dst, ' ', 6);
    memcpy(dst, src, n);
}

/* Standard description header; the checksum is filled in last. */
static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev, const uint8_t oem[6],
                   const char *table_id)
{
    memcpy(t, sig, 4);
    put32(t + 4, len);
    t[8] = rev;
    memcpy(t + 10, oem, 6);
    memset(t + 16, ' ', 8);
    memcpy(t + 16, table_id, strnlen(table_id, 8));
    put32(t + 24, 1);          /* OEM revision */
    memcpy(t + 28, "BLKH", 4); /* creator ID */
    put32(t + 32, 1);          /* creator revision */
}

static void finish(uint8_t *t, uint32_t len)
{
    t[9] = 0;
    t[9] = checksum(t, len);
}

static void gas(uint8_t *p, uint8_t space, uint8_t bit_width, uint8_t access, uint64_t addr)
{
    p[0] = space;
    p[1] = bit_width;
    p[2] = 0;
    p[3] = access;
    put64(p + 4, addr);
}

static uint8_t *aml_int(uint8_t *p, uint8_t v)
{
    if (v <= 1) {
        *p++ = v ? AML_ONE_OP : AML_ZERO_OP;
    } else {
        *p++ = AML_BYTE_PFX;
        *p++ = v;
    }
    return p;
}

/* Writes the DSDT body into p (room for at least 16 bytes); returns its
 * length. PkgLength fits one byte: the package is under 64 bytes. */
static size_t dsdt_body(uint8_t *p, uint8_t typ)
{
    uint8_t *q = p;
    *q++ = AML_NAME_OP;
    *q++ = AML_ROOT_CHAR;
    memcpy(q, "_S5_", 4);
    q += 4;
    *q++ = AML_PACKAGE_OP;
    uint8_t *pkglen = q++;
    *q++ = 4; /* NumElements */
    q = aml_int(q, typ);
    q = aml_int(q, typ);
    *q++ = AML_ZERO_OP;
    *q++ = AML_ZERO_OP;
    *pkglen = (uint8_t)(q - pkglen); /* counts itself and what follows */
    return (size_t)(q - p);
}

void acpi_gen_default_params(struct acpi_gen_params *p, unsigned nr_vcpus, uint64_t base_gpa)
{
    memset(p, 0, sizeof(*p));
    p->nr_vcpus = nr_vcpus;
    p->base_gpa = base_gpa;
    p->pm1a_evt = ACPI_GEN_PM1A_EVT;
    p->pm1a_cnt = ACPI_GEN_PM1A_CNT;
    p->pm_tmr = ACPI_GEN_PM_TMR;
    p->sci_irq = ACPI_GEN_SCI_IRQ;
    p->s5_typ = ACPI_GEN_S5_TYP;
}

/* True when the I/O ranges [a, a+al) and [b, b+bl) overlap. */
static bool ports_overlap(uint32_t a, uint32_t al, uint32_t b, uint32_t bl)
{
    return a < b + bl && b < a + al;
}

int acpi_gen_validate(const struct acpi_gen_params *p, char *err, size_t errlen)
{
    if (!p->nr_vcpus || p->nr_vcpus > ACPI_GEN_MAX_VCPUS) {
        fmt_snprintf(err, errlen, "acpi: %u vCPUs; 1 to %u supported", p->nr_vcpus,
                     ACPI_GEN_MAX_VCPUS);
        return -1;
    }
    if (!p->pm1a_evt || !p->pm1a_cnt || !p->pm_tmr) {
        fmt_snprintf(err, errlen, "acpi: PM1a_EVT, PM1a_CNT and PM_TMR ports must be non-zero");
        return -1;
    }
    /* Each block must fit in the 64 KiB I/O space and not overlap another. */
    if (p->pm1a_evt > 0x10000 - ACPI_GEN_PM1_EVT_LEN ||
        p->pm1a_cnt > 0x10000 - ACPI_GEN_PM1_CNT_LEN || p->pm_tmr > 0x10000 - ACPI_GEN_PM_TMR_LEN ||
        ports_overlap(p->pm1a_evt, ACPI_GEN_PM1_EVT_LEN, p->pm1a_cnt, ACPI_GEN_PM1_CNT_LEN) ||
        ports_overlap(p->pm1a_evt, ACPI_GEN_PM1_EVT_LEN, p->pm_tmr, ACPI_GEN_PM_TMR_LEN) ||
        ports_overlap(p->pm1a_cnt, ACPI_GEN_PM1_CNT_LEN, p->pm_tmr, ACPI_GEN_PM_TMR_LEN)) {
        fmt_snprintf(err, errlen,
                     "acpi: PM ports 0x%x (4 bytes), 0x%x (2), 0x%x (4) overlap or wrap",
                     p->pm1a_evt, p->pm1a_cnt, p->pm_tmr);
        return -1;
    }
    if (!p->sci_irq || p->sci_irq == 2 || p->sci_irq > 15) {
        fmt_snprintf(err, errlen, "acpi: SCI IRQ %u; an ISA IRQ 1-15 other than 2 is needed",
                     p->sci_irq);
        return -1;
    }
    if (p->s5_typ > 7) {
        fmt_snprintf(err, errlen, "acpi: S5 SLP_TYP %u does not fit 3 bits", p->s5_typ);
        return -1;
    }
    if (p->base_gpa > UINT64_MAX - (1u << 20)) {
        fmt_snprintf(err, errlen, "acpi: base address 0x%llx out of range",
                     (unsigned long long)p->base_gpa);
        return -1;
    }
    return 0;
}

/* Offset from base whose guest-physical address is a multiple of align. */
static size_t align_off(uint64_t base, size_t off, uint64_t align)
{
    uint64_t a = base + off;
    return off + (size_t)((align - (a & (align - 1))) & (align - 1));
}

static void build_fadt(uint8_t *t, const struct acpi_gen_params *p, const uint8_t oem[6],
                       uint64_t facs, uint64_t dsdt)
{
    header(t, "FACP", FADT_LEN, 6, oem, "BLKHFACP");
    /* One FACS address only: FIRMWARE_CTRL below 4 GiB, else X_FIRMWARE_CTRL. */
    if (facs < ADDR32_LIMIT)
        put32(t + 36, (uint32_t)facs);
    else
        put64(t + 132, facs);
    if (dsdt < ADDR32_LIMIT)
        put32(t + 40, (uint32_t)dsdt);
    put64(t + 140, dsdt);
    t[45] = 0; /* Preferred_PM_Profile: unspecified */
    put16(t + 46, p->sci_irq);
    put32(t + 48, 0); /* SMI_CMD 0: no mode switch, SCI_EN reads as set */
    put32(t + 56, p->pm1a_evt);
    put32(t + 64, p->pm1a_cnt);
    put32(t + 76, p->pm_tmr);
    t[88] = ACPI_GEN_PM1_EVT_LEN;
    t[89] = ACPI_GEN_PM1_CNT_LEN;
    t[91] = ACPI_GEN_PM_TMR_LEN;
    put16(t + 96, 101);  /* P_LVL2_LAT > 100: no C2 */
    put16(t + 98, 1001); /* P_LVL3_LAT > 1000: no C3 */
    t[108] = 0x32;       /* CENTURY: CMOS register of the RTC century */
    put16(t + 109, (uint16_t)(BOOT_LEGACY_DEVICES | BOOT_NO_VGA | (p->pci ? 0 : BOOT_NO_MSI) |
                              (p->i8042 ? BOOT_8042 : 0)));
    /* PWR_BUTTON (bit 4) clear: the fixed-feature power button is present. */
    put32(t + 112, FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON | FADT_FIX_RTC | FADT_TMR_VAL_EXT |
                       FADT_RESET_REG_SUP);
    gas(t + 116, GAS_IO, 8, ACCESS_BYTE, ACPI_GEN_RESET_PORT);
    t[128] = ACPI_GEN_RESET_VALUE;
    t[131] = 0; /* FADT minor version */
    gas(t + 148, GAS_IO, ACPI_GEN_PM1_EVT_LEN * 8, ACCESS_WORD, p->pm1a_evt);
    gas(t + 172, GAS_IO, ACPI_GEN_PM1_CNT_LEN * 8, ACCESS_WORD, p->pm1a_cnt);
    gas(t + 208, GAS_IO, ACPI_GEN_PM_TMR_LEN * 8, ACCESS_DWORD, p->pm_tmr);
    memcpy(t + 268, "BULKHEAD", 8); /* hypervisor vendor identity */
    finish(t, FADT_LEN);
}

static void build_madt(uint8_t *t, uint32_t len, const struct acpi_gen_params *p,
                       const uint8_t oem[6], uint8_t ioapic_id)
{
    header(t, "APIC", len, 4, oem, "BLKHMADT");
    put32(t + 36, ACPI_GEN_LAPIC_ADDR);
    put32(t + 40, MADT_PCAT_COMPAT);
    uint8_t *e = t + 44;
    for (unsigned i = 0; i < p->nr_vcpus; i++, e += MADT_LAPIC_LEN) {
        e[0] = 0;
        e[1] = MADT_LAPIC_LEN;
        e[2] = (uint8_t)i; /* ACPI processor UID */
        e[3] = (uint8_t)i; /* APIC ID */
        put32(e + 4, 1);   /* enabled */
    }
    e[0] = 1;
    e[1] = MADT_IOAPIC_LEN;
    e[2] = ioapic_id;
    e[3] = 0;
    put32(e + 4, ACPI_GEN_IOAPIC_ADDR);
    put32(e + 8, 0); /* GSI base */
    e += MADT_IOAPIC_LEN;
    /* The PIT's IRQ 0 arrives on IOAPIC pin 2, as on PC chipsets. */
    e[0] = 2;
    e[1] = MADT_ISO_LEN;
    e[2] = 0; /* ISA */
    e[3] = 0;
    put32(e + 4, 2);
    put16(e + 8, INTI_EDGE | INTI_HIGH);
    e += MADT_ISO_LEN;
    /* The SCI is level-triggered, active low (ACPI 6.x 5.2.9: SCI_INT). */
    e[0] = 2;
    e[1] = MADT_ISO_LEN;
    e[2] = 0;
    e[3] = p->sci_irq;
    put32(e + 4, p->sci_irq);
    put16(e + 8, INTI_LEVEL | INTI_LOW);
    e += MADT_ISO_LEN;
    /* LINT1 of every processor (UID 0xFF) is NMI, edge, high. */
    e[0] = 4;
    e[1] = MADT_LAPIC_NMI_LEN;
    e[2] = 0xFF;
    put16(e + 3, INTI_EDGE | INTI_HIGH);
    e[5] = 1;
    finish(t, len);
}

size_t acpi_gen_build(const struct acpi_gen_params *p, uint8_t *buf, size_t buf_len,
                      struct acpi_gen_layout *out)
{
    char why[8];
    if (!p || !buf || !out || acpi_gen_validate(p, why, sizeof(why)))
        return 0;
    uint64_t base = p->base_gpa;
    uint8_t aml[1024];
    size_t aml_len = dsdt_body(aml, p->s5_typ);
    if (p->pci) { /* the passthrough bus (vdev/vpci_acpi.h) */
        size_t n = vpci_acpi_dsdt(aml + aml_len, sizeof(aml) - aml_len, p->pci);
        if (!n)
            return 0;
        aml_len += n;
    }
    uint32_t madt_len =
        44 + p->nr_vcpus * MADT_LAPIC_LEN + MADT_IOAPIC_LEN + 2 * MADT_ISO_LEN + MADT_LAPIC_NMI_LEN;
    uint32_t xsdt_len = HDR_LEN + (XSDT_ENTS + (p->pci ? 1 : 0)) * 8;
    uint32_t dsdt_len = HDR_LEN + (uint32_t)aml_len;

    size_t o_rsdp = align_off(base, 0, 16);
    size_t o_facs = align_off(base, o_rsdp + RSDP_LEN, 64);
    size_t o_xsdt = align_off(base, o_facs + FACS_LEN, 8);
    size_t o_fadt = align_off(base, o_xsdt + xsdt_len, 8);
    size_t o_madt = align_off(base, o_fadt + FADT_LEN, 8);
    size_t o_dsdt = align_off(base, o_madt + madt_len, 8);
    size_t o_mcfg = align_off(base, o_dsdt + dsdt_len, 8);
    size_t total = p->pci ? o_mcfg + VPCI_ACPI_MCFG_LEN : o_dsdt + dsdt_len;
    if (total > buf_len)
        return 0;
    memset(buf, 0, total);

    uint8_t oem[6];
    oem_id6(oem, p->oem_id);
    uint8_t ioapic_id = (uint8_t)p->nr_vcpus;

    uint8_t *r = buf + o_rsdp;
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, oem, 6);
    r[15] = 2; /* revision: ACPI 2.0+ with an XSDT; RsdtAddress stays 0 */
    put32(r + 20, RSDP_LEN);
    put64(r + 24, base + o_xsdt);
    r[8] = checksum(r, 20);
    r[32] = checksum(r, RSDP_LEN);

    uint8_t *f = buf + o_facs;
    memcpy(f, "FACS", 4);
    put32(f + 4, FACS_LEN);
    f[32] = 2; /* version */

    uint8_t *x = buf + o_xsdt;
    header(x, "XSDT", xsdt_len, 1, oem, "BLKHXSDT");
    put64(x + HDR_LEN, base + o_fadt);
    put64(x + HDR_LEN + 8, base + o_madt);
    if (p->pci) {
        put64(x + HDR_LEN + 16, base + o_mcfg);
        uint8_t *m = buf + o_mcfg;
        header(m, "MCFG", VPCI_ACPI_MCFG_LEN, 1, oem, "BLKHMCFG");
        vpci_acpi_mcfg_body(m + HDR_LEN, p->pci);
        finish(m, VPCI_ACPI_MCFG_LEN);
    }
    finish(x, xsdt_len);

    build_fadt(buf + o_fadt, p, oem, base + o_facs, base + o_dsdt);
    build_madt(buf + o_madt, madt_len, p, oem, ioapic_id);

    uint8_t *d = buf + o_dsdt;
    header(d, "DSDT", dsdt_len, 2, oem, "BLKHDSDT"); /* revision 2: 64-bit integers */
    memcpy(d + HDR_LEN, aml, aml_len);
    finish(d, dsdt_len);

    out->rsdp_gpa = base + o_rsdp;
    out->xsdt_gpa = base + o_xsdt;
    out->fadt_gpa = base + o_fadt;
    out->madt_gpa = base + o_madt;
    out->facs_gpa = base + o_facs;
    out->dsdt_gpa = base + o_dsdt;
    out->total = total;
    out->ioapic_id = ioapic_id;
    return total;
}
