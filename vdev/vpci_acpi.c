/* See vpci_acpi.h. AML encodings: ACPI 6.4, 20.2 (the grammar) and 6.4
 * (resource descriptors). */
#include "vdev/vpci_acpi.h"

#include "lib/string.h"

#define AML_ZERO   0x00
#define AML_ONE    0x01
#define AML_NAME   0x08
#define AML_BYTE   0x0a
#define AML_WORD   0x0b
#define AML_DWORD  0x0c
#define AML_BUFFER 0x11
#define AML_PKG    0x12
#define AML_EXT    0x5b
#define AML_DEVICE 0x82
#define AML_ROOT   0x5c
#define AML_DUAL   0x2e

struct out {
    uint8_t *p;
    size_t len, room;
};

static void b(struct out *o, uint8_t v)
{
    if (o->len < o->room)
        o->p[o->len] = v;
    o->len++;
}

static void bytes(struct out *o, const void *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        b(o, ((const uint8_t *)s)[i]);
}

static void le(struct out *o, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        b(o, (uint8_t)(v >> (8 * i)));
}

static void integer(struct out *o, uint64_t v)
{
    if (v <= 1) {
        b(o, v ? AML_ONE : AML_ZERO);
    } else if (v <= 0xff) {
        b(o, AML_BYTE);
        le(o, v, 1);
    } else if (v <= 0xffff) {
        b(o, AML_WORD);
        le(o, v, 2);
    } else {
        b(o, AML_DWORD);
        le(o, v, 4);
    }
}

/* A PkgLength for a body of n bytes (it counts its own bytes too). */
static void pkglen(struct out *o, size_t n)
{
    if (n + 1 < 0x40) {
        b(o, (uint8_t)(n + 1));
    } else if (n + 2 < 0x1000) {
        n += 2;
        b(o, (uint8_t)(0x40 | (n & 0xf)));
        b(o, (uint8_t)(n >> 4));
    } else {
        n += 3;
        b(o, (uint8_t)(0x80 | (n & 0xf)));
        b(o, (uint8_t)(n >> 4));
        b(o, (uint8_t)(n >> 12));
    }
}

/* Opens a package-like term: its length is filled in by close_pkg. The
 * body is built in place after room for a 3-byte PkgLength, then moved. */
static size_t open_pkg(struct out *o)
{
    size_t at = o->len;
    o->len += 3;
    return at;
}

static void close_pkg(struct out *o, size_t at)
{
    size_t body = o->len - at - 3;
    struct out h = {o->p ? o->p + at : NULL, 0, o->len <= o->room ? 3 : 0};
    pkglen(&h, body);
    if (o->len <= o->room)
        memmove(o->p + at + h.len, o->p + at + 3, body);
    o->len = at + h.len + body;
}

static void name(struct out *o, const char *seg4)
{
    b(o, AML_NAME);
    bytes(o, seg4, 4);
}

static void crs(struct out *o, const struct vpci_acpi *a)
{
    uint8_t r[68], *q = r;
    /* WordBusNumber: producer, MinFixed, MaxFixed; bus 0..0. */
    static const uint8_t bus[] = {0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0};
    memcpy(q, bus, sizeof(bus));
    q += sizeof(bus);
    /* IO(Decode16, 0xCF8, 0xCF8, 1, 8): the configuration ports. */
    static const uint8_t cf8[] = {0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08};
    memcpy(q, cf8, sizeof(cf8));
    q += sizeof(cf8);
    /* WordIO: the window of the I/O BARs. */
    uint16_t io_end = (uint16_t)(a->io_base + a->io_size - 1);
    uint8_t io[] = {0x88,
                    0x0d,
                    0x00,
                    0x01,
                    0x0c,
                    0x03,
                    0,
                    0,
                    (uint8_t)a->io_base,
                    (uint8_t)(a->io_base >> 8),
                    (uint8_t)io_end,
                    (uint8_t)(io_end >> 8),
                    0,
                    0,
                    (uint8_t)a->io_size,
                    (uint8_t)(a->io_size >> 8)};
    memcpy(q, io, sizeof(io));
    q += sizeof(io);
    /* DWordMemory: producer, MinFixed, MaxFixed, non-cacheable, read-write. */
    uint32_t mb = (uint32_t)a->mmio_base, me = (uint32_t)(a->mmio_base + a->mmio_size - 1);
    uint8_t mem[26] = {0x87, 0x17, 0x00, 0x00, 0x0c, 0x01};
    for (unsigned i = 0; i < 4; i++) {
        mem[10 + i] = (uint8_t)(mb >> (8 * i));
        mem[14 + i] = (uint8_t)(me >> (8 * i));
        mem[22 + i] = (uint8_t)((uint32_t)a->mmio_size >> (8 * i));
    }
    memcpy(q, mem, sizeof(mem));
    q += sizeof(mem);
    *q++ = 0x79; /* end tag, checksum 0 */
    *q++ = 0;
    name(o, "_CRS");
    b(o, AML_BUFFER);
    size_t at = open_pkg(o);
    integer(o, (uint64_t)(q - r));
    bytes(o, r, (size_t)(q - r));
    close_pkg(o, at);
}

static void prt(struct out *o, const struct vpci_acpi *a)
{
    name(o, "_PRT");
    b(o, AML_PKG);
    size_t at = open_pkg(o);
    b(o, (uint8_t)(a->slots * 4));
    for (unsigned s = 1; s <= a->slots; s++) {
        for (unsigned pin = 0; pin < 4; pin++) {
            b(o, AML_PKG);
            size_t e = open_pkg(o);
            b(o, 4);
            integer(o, (uint64_t)s << 16 | 0xffff); /* any function of slot s */
            integer(o, pin);
            integer(o, 0); /* source: none, a global interrupt */
            integer(o, a->gsi_base + s - 1);
            close_pkg(o, e);
        }
    }
    close_pkg(o, at);
}

size_t vpci_acpi_dsdt(uint8_t *p, size_t room, const struct vpci_acpi *a)
{
    struct out o = {p, 0, room};
    if (a->slots > 31)
        return 0;
    b(&o, AML_EXT);
    b(&o, AML_DEVICE);
    size_t at = open_pkg(&o);
    b(&o, AML_ROOT);
    b(&o, AML_DUAL);
    bytes(&o, "_SB_PCI0", 8);
    name(&o, "_HID");
    b(&o, AML_DWORD);
    le(&o, 0x030ad041, 4); /* EisaId("PNP0A03") */
    name(&o, "_UID");
    integer(&o, 0);
    name(&o, "_ADR");
    integer(&o, 0);
    name(&o, "_BBN");
    integer(&o, 0);
    crs(&o, a);
    prt(&o, a);
    close_pkg(&o, at);
    return o.len <= room ? o.len : 0;
}

void vpci_acpi_mcfg_body(uint8_t *p, const struct vpci_acpi *a)
{
    memset(p, 0, VPCI_ACPI_MCFG_LEN - 36);
    for (unsigned i = 0; i < 8; i++)
        p[8 + i] = (uint8_t)(a->ecam_base >> (8 * i)); /* after 8 reserved bytes */
    /* segment 0, buses 0..0 */
}
