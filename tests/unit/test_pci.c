/* PCI enumeration against a fake configuration space. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/pci.h"
#include "lib/log.h"

enum bar_kind { BAR_NONE, BAR_MEM32, BAR_MEM64, BAR_MEM64_HI, BAR_IO };

struct fake_fn {
    uint16_t seg, bdf;
    uint8_t cfg[256];
    uint64_t bar_size[6];
    uint8_t bar_kind[6];
};

#define MAX_FAKE 300
static struct fake_fn fns[MAX_FAKE];
static unsigned nr_fns;
static unsigned decode_violations;
static unsigned bus_scans[256]; /* reads of dev 0 fn 0 vendor ID per bus */
static unsigned long long log_mark;

static struct fake_fn *find(uint16_t seg, uint16_t bdf)
{
    for (unsigned i = 0; i < nr_fns; i++)
        if (fns[i].seg == seg && fns[i].bdf == bdf)
            return &fns[i];
    return NULL;
}

static uint32_t get(const struct fake_fn *f, unsigned off, unsigned width)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < width; i++)
        v |= (uint32_t)f->cfg[off + i] << (8 * i);
    return v;
}

static void set(struct fake_fn *f, unsigned off, unsigned width, uint32_t v)
{
    for (unsigned i = 0; i < width; i++)
        f->cfg[off + i] = (uint8_t)(v >> (8 * i));
}

static uint32_t fake_read(void *ctx, uint16_t seg, uint16_t bdf, uint16_t off, unsigned width)
{
    if (off == PCI_VENDOR_ID && seg == 0 && (bdf & 0xFF) == 0)
        bus_scans[PCI_BUS(bdf)]++;
    assert_true(width == 1 || width == 2 || width == 4);
    assert_int_equal(off % width, 0);
    struct fake_fn *f = find(seg, bdf);
    if (!f || off >= 256)
        return 0xFFFFFFFF;
    return get(f, off, width);
}

static void fake_write(void *ctx, uint16_t seg, uint16_t bdf, uint16_t off, unsigned width,
                       uint32_t v)
{
    struct fake_fn *f = find(seg, bdf);
    if (!f || off >= 256)
        return;
    unsigned hdr = f->cfg[PCI_HEADER_TYPE] & 0x7F;
    unsigned nbars = hdr == 0 ? 6 : hdr == 1 ? 2 : 0;
    if (off >= PCI_BAR0 && off < PCI_BAR0 + 4 * nbars) {
        assert_int_equal(width, 4);
        unsigned i = (off - PCI_BAR0) / 4;
        bool host = f->cfg[0x0B] == 0x06 && f->cfg[0x0A] == 0x00;
        if (v == 0xFFFFFFFF && !host && (f->cfg[PCI_COMMAND] & 3))
            decode_violations++;
        uint32_t old = get(f, off, 4);
        uint64_t size = f->bar_size[i];
        switch (f->bar_kind[i]) {
        case BAR_MEM32:
            v = (v & ~(uint32_t)(size - 1) & ~0xFu) | (old & 0xF);
            break;
        case BAR_MEM64:
            v = (v & ~(uint32_t)(size - 1) & ~0xFu) | (old & 0xF);
            break;
        case BAR_MEM64_HI:
            v &= (uint32_t)(~(f->bar_size[i - 1] - 1) >> 32);
            break;
        case BAR_IO:
            v = (v & ~(uint32_t)(size - 1) & 0xFFFC) | 1;
            break;
        default:
            v = 0;
        }
    }
    set(f, off, width, v);
}

static const struct pci_ops fake_ops = {.read = fake_read, .write = fake_write};

static struct fake_fn *add(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t vendor,
                           uint16_t device, uint8_t cls, uint8_t sub, uint8_t hdr)
{
    assert_true(nr_fns < MAX_FAKE);
    struct fake_fn *f = &fns[nr_fns++];
    memset(f, 0, sizeof(*f));
    f->seg = seg;
    f->bdf = PCI_BDF(bus, dev, fn);
    set(f, PCI_VENDOR_ID, 2, vendor);
    set(f, PCI_DEVICE_ID, 2, device);
    set(f, PCI_CLASS_REV, 4, (uint32_t)cls << 24 | (uint32_t)sub << 16 | 0x01);
    f->cfg[PCI_HEADER_TYPE] = hdr;
    set(f, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    return f;
}

static struct fake_fn *bridge(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t sec, uint8_t sub)
{
    struct fake_fn *f = add(0, bus, dev, fn, 0x8086, 0x244E, 0x06, 0x04, 1);
    f->cfg[PCI_PRIMARY_BUS] = bus;
    f->cfg[PCI_SECONDARY_BUS] = sec;
    f->cfg[PCI_SECONDARY_BUS + 1] = sub;
    return f;
}

static void bar(struct fake_fn *f, unsigned i, enum bar_kind kind, uint64_t base, uint64_t size,
                bool prefetch)
{
    f->bar_kind[i] = (uint8_t)kind;
    f->bar_size[i] = size;
    uint32_t lo = (uint32_t)base;
    if (kind == BAR_IO)
        lo |= 1;
    if (kind == BAR_MEM64)
        lo |= 4;
    if (prefetch)
        lo |= 8;
    set(f, PCI_BAR0 + 4 * i, 4, lo);
    if (kind == BAR_MEM64) {
        f->bar_kind[i + 1] = BAR_MEM64_HI;
        set(f, PCI_BAR0 + 4 * (i + 1), 4, (uint32_t)(base >> 32));
    }
}

static int setup(void **state)
{
    nr_fns = 0;
    decode_violations = 0;
    memset(bus_scans, 0, sizeof(bus_scans));
    pci_set_ops(NULL);
    log_mark = log_ring_head();
    return 0;
}

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

static const struct pci_root root0 = {0, 0, 255, false};

static unsigned enumerate(void)
{
    return pci_enumerate(&fake_ops, &root0, 1);
}

static void test_bus0_multifunction(void **state)
{
    add(0, 0, 0, 0, 0x8086, 0x1237, 0x06, 0x00, 0);
    add(0, 0, 1, 0, 0x8086, 0x7000, 0x06, 0x01, 0x80);
    add(0, 0, 1, 1, 0x8086, 0x7010, 0x01, 0x01, 0);
    add(0, 0, 1, 3, 0x8086, 0x7113, 0x06, 0x80, 0); /* gap at function 2 */
    struct fake_fn *nic = add(0, 0, 2, 0, 0x8086, 0x100E, 0x02, 0x00, 0);
    bar(nic, 0, BAR_MEM32, 0xFEBC0000, 0x20000, false);
    bar(nic, 1, BAR_IO, 0xC000, 0x40, false);
    set(nic, PCI_INTERRUPT, 2, 0x010B);
    add(0, 0, 3, 0, 0x1234, 0x1111, 0x03, 0x00, 0);
    add(0, 0, 3, 1, 0x1234, 0x2222, 0x03, 0x00, 0); /* fn 0 not multi-function: unseen */
    add(0, 0, 4, 0, 0x0000, 0x0000, 0x02, 0x00, 0); /* vendor 0: absent */

    assert_int_equal(enumerate(), 6);
    assert_int_equal(pci_count(), 6);
    const struct pci_dev *d = pci_get(3);
    assert_int_equal(d->dev, 1);
    assert_int_equal(d->fn, 3);
    assert_null(pci_get(6));
    assert_null(pci_find_bdf(0, 0, 1, 2));
    assert_null(pci_find_bdf(0, 0, 3, 1));
    assert_null(pci_find_bdf(0, 0, 4, 0));

    d = pci_find_bdf(0, 0, 2, 0);
    assert_non_null(d);
    assert_int_equal(d->vendor, 0x8086);
    assert_int_equal(d->device, 0x100E);
    assert_int_equal(d->class_code, 2);
    assert_int_equal(d->revision, 1);
    assert_int_equal(d->irq_line, 11);
    assert_int_equal(d->irq_pin, 1);
    assert_int_equal(d->bar[0], 0xFEBC0000);
    assert_int_equal(d->bar_size[0], 0x20000);
    assert_int_equal(d->bar_flags[0], 0);
    assert_int_equal(d->bar[1], 0xC000);
    assert_int_equal(d->bar_size[1], 0x40);
    assert_int_equal(d->bar_flags[1], PCI_BAR_IO);
    assert_int_equal(d->bar_size[2], 0);
    assert_true(logged("pci: 00:02.0 8086:100e network controller", NULL));

    /* BARs and command register restored; decode off while sizing. */
    struct fake_fn *f = find(0, PCI_BDF(0, 2, 0));
    assert_int_equal(get(f, PCI_BAR0, 4), 0xFEBC0000);
    assert_int_equal(get(f, PCI_BAR0 + 4, 4), 0xC001);
    assert_int_equal(get(f, PCI_COMMAND, 2), 7);
    assert_int_equal(decode_violations, 0);

    assert_ptr_equal(pci_find_class(NULL, 0x02, 0xFF), d);
    assert_null(pci_find_class(d, 0x02, 0xFF));
    const struct pci_dev *b = pci_find_class(NULL, 0x06, 0xFF);
    assert_int_equal(b->dev, 0);
    b = pci_find_class(b, 0x06, 0xFF);
    assert_int_equal(b->dev, 1);
    assert_int_equal(pci_find_class(NULL, 0x06, 0x80)->fn, 3);
}

static void test_bridge_and_64bit_bars(void **state)
{
    add(0, 0, 0, 0, 0x8086, 0x29C0, 0x06, 0x00, 0);
    struct fake_fn *br = bridge(0, 0x1E, 0, 1, 1);
    bar(br, 0, BAR_MEM32, 0xFE000000, 0x1000, false);
    struct fake_fn *gpu = add(0, 1, 0, 0, 0x10DE, 0x1234, 0x03, 0x00, 0);
    bar(gpu, 0, BAR_MEM64, 0x800000000ull, 0x100000000ull, true);
    bar(gpu, 2, BAR_MEM64, 0xFD000000, 0x4000, false);
    bar(gpu, 4, BAR_IO, 0xD000, 0x80, false);

    assert_int_equal(enumerate(), 3);
    const struct pci_dev *b = pci_find_bdf(0, 0, 0x1E, 0);
    assert_int_equal(b->header_type, PCI_HEADER_BRIDGE);
    assert_int_equal(b->secondary_bus, 1);
    assert_int_equal(b->bar_size[0], 0x1000);
    assert_int_equal(b->bar_size[2], 0); /* type 1 headers have two BARs */

    const struct pci_dev *d = pci_find_bdf(0, 1, 0, 0);
    assert_non_null(d);
    assert_int_equal(d->bar[0], 0x800000000ull);
    assert_int_equal(d->bar_size[0], 0x100000000ull);
    assert_int_equal(d->bar_flags[0], PCI_BAR_MEM64 | PCI_BAR_PREFETCH);
    assert_int_equal(d->bar_flags[1], PCI_BAR_UPPER);
    assert_int_equal(d->bar_size[1], 0);
    assert_int_equal(d->bar[2], 0xFD000000);
    assert_int_equal(d->bar_size[2], 0x4000);
    assert_int_equal(d->bar_flags[2], PCI_BAR_MEM64);
    assert_int_equal(d->bar_flags[3], PCI_BAR_UPPER);
    assert_int_equal(d->bar_size[4], 0x80);
    assert_int_equal(d->bar_flags[4], PCI_BAR_IO);

    struct fake_fn *f = find(0, PCI_BDF(1, 0, 0));
    assert_int_equal(get(f, PCI_BAR0, 4), 0x0000000C);
    assert_int_equal(get(f, PCI_BAR0 + 4, 4), 0x8);
    assert_int_equal(decode_violations, 0);
}

static void test_bridge_loops(void **state)
{
    add(0, 0, 0, 0, 0x8086, 0x29C0, 0x06, 0x00, 0);
    bridge(0, 1, 0, 1, 2);
    bridge(0, 2, 0, 2, 2); /* bus 2 is also reached through bus 1 */
    bridge(1, 0, 0, 1, 1); /* points at its own bus */
    bridge(1, 1, 0, 2, 2);
    bridge(2, 0, 0, 1, 1); /* points back up */
    bridge(2, 1, 0, 0, 0); /* unconfigured */
    add(0, 2, 5, 0, 0x1AF4, 0x1000, 0x02, 0x00, 0);

    unsigned n = enumerate();
    assert_int_equal(n, 8);
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = i + 1; j < n; j++)
            assert_false(pci_get(i)->bus == pci_get(j)->bus && pci_get(i)->dev == pci_get(j)->dev &&
                         pci_get(i)->fn == pci_get(j)->fn);
    assert_non_null(pci_find_bdf(0, 2, 5, 0));
    assert_true(logged("01:00.0", "not above its own bus"));
    assert_true(logged("02:00.0", "not above its own bus"));
    assert_true(logged("already scanned", NULL));
    for (unsigned b = 0; b < 256; b++)
        assert_int_equal(bus_scans[b], b < 3 ? 1 : 0);
}

static void test_bar64_last_slot(void **state)
{
    struct fake_fn *f = add(0, 0, 0, 0, 0x1234, 0x5678, 0x01, 0x06, 0);
    bar(f, 5, BAR_MEM32, 0xF0000000, 0x1000, false);
    set(f, PCI_BAR0 + 20, 4, 0xF0000004); /* claims 64-bit in BAR5 */
    assert_int_equal(enumerate(), 1);
    const struct pci_dev *d = pci_get(0);
    assert_int_equal(d->bar_size[5], 0x1000);
    assert_int_equal(d->bar_flags[5], 0);
    assert_true(logged("64-bit BAR5 has no upper half", NULL));
}

static void test_host_bridge_functions(void **state)
{
    /* 00:00.0 and 00:00.1 are host bridges: bus 1 has no PCI bridge to it. */
    add(0, 0, 0, 0, 0x1022, 0x1450, 0x06, 0x00, 0x80);
    add(0, 0, 0, 1, 0x1022, 0x1450, 0x06, 0x00, 0);
    add(0, 0, 0, 2, 0x1022, 0x1451, 0x08, 0x06, 0); /* IOMMU: not a host bridge */
    add(0, 1, 5, 0, 0x8086, 0x100E, 0x02, 0x00, 0);
    add(0, 2, 0, 0, 0x8086, 0x100E, 0x02, 0x00, 0); /* fn 2 is not a host bridge */
    assert_int_equal(enumerate(), 4);
    assert_non_null(pci_find_bdf(0, 1, 5, 0));
    assert_null(pci_find_bdf(0, 2, 0, 0));
    assert_string_equal(pci_class_name(0x08, 0x06), "IOMMU");
}

static void test_brute_force_and_segments(void **state)
{
    add(0, 0, 0, 0, 0x8086, 0x29C0, 0x06, 0x00, 0);
    add(0, 0x40, 3, 0, 0x8086, 0x100E, 0x02, 0x00, 0); /* peer root bus */
    add(1, 0x10, 0, 0, 0x8086, 0x10D3, 0x02, 0x00, 0); /* segment 1 */

    assert_int_equal(enumerate(), 1);

    const struct pci_root roots[] = {
        {0, 0, 255, true},
        {0, 0, 0x7F, true}, /* overlaps the first: nothing twice */
        {1, 0x10, 0x1F, false},
        {2, 5, 1, true}, /* empty range */
    };
    assert_int_equal(pci_enumerate(&fake_ops, roots, 4), 3);
    assert_non_null(pci_find_bdf(0, 0x40, 3, 0));
    assert_non_null(pci_find_bdf(1, 0x10, 0, 0));
    assert_null(pci_find_bdf(1, 0, 0, 0));
    assert_true(logged("bus range 05-01", NULL));
    assert_true(logged("pci: 0001:10:00.0 8086:10d3", NULL));
}

static void test_too_many_functions(void **state)
{
    for (unsigned dev = 0; dev < 32; dev++)
        for (unsigned fn = 0; fn < 8; fn++)
            add(0, 0, (uint8_t)dev, (uint8_t)fn, 0x1234, (uint16_t)(dev * 8 + fn), 0xFF, 0,
                fn == 0 ? 0x80 : 0);
    /* The very last function is a bridge: still followed when not recorded. */
    fns[nr_fns - 1].cfg[PCI_HEADER_TYPE] = 1;
    fns[nr_fns - 1].cfg[PCI_SECONDARY_BUS] = 1;
    add(0, 1, 0, 0, 0x1234, 0xBEEF, 0x02, 0, 0);
    bridge(1, 1, 0, 2, 2);
    struct fake_fn *deep = add(0, 2, 0, 0, 0x1234, 0xCAFE, 0x02, 0, 0);
    bar(deep, 0, BAR_MEM32, 0xE0000000, 0x1000, false);
    assert_int_equal(enumerate(), PCI_MAX_DEVICES);
    assert_true(logged("more than 256 functions", NULL));
    /* Unrecorded functions are not touched by BAR sizing either. */
    assert_int_equal(get(deep, PCI_BAR0, 4), 0xE0000000);
    assert_int_equal(decode_violations, 0);
}

static void test_accessors(void **state)
{
    struct fake_fn *f = add(0, 0, 3, 0, 0x8086, 0x100E, 0x02, 0x00, 0);
    assert_int_equal(pci_read32(0, PCI_BDF(0, 3, 0), 0), 0xFFFFFFFF); /* no ops yet */
    pci_write32(0, PCI_BDF(0, 3, 0), 0x40, 1);
    pci_set_ops(&fake_ops);
    uint16_t bdf = PCI_BDF(0, 3, 0);
    assert_int_equal(pci_read32(0, bdf, 0), 0x100E8086);
    assert_int_equal(pci_read16(0, bdf, 2), 0x100E);
    assert_int_equal(pci_read8(0, bdf, 0x0B), 0x02);
    assert_int_equal(pci_read16(0, bdf, 1), 0xFFFF); /* unaligned */
    assert_int_equal(pci_read32(0, bdf, 2), 0xFFFFFFFF);
    pci_write16(0, bdf, 0x40, 0xBEEF);
    pci_write8(0, bdf, 0x42, 0x12);
    pci_write32(0, bdf, 0x41, 0xFFFFFFFF); /* unaligned: dropped */
    assert_int_equal(get(f, 0x40, 4), 0x0012BEEF);
    pci_write32(0, bdf, 0x44, 0xA5A5A5A5);
    assert_int_equal(pci_read32(0, bdf, 0x44), 0xA5A5A5A5);
    assert_int_equal(pci_read32(0, PCI_BDF(0, 4, 0), 0), 0xFFFFFFFF);
    assert_int_equal(PCI_BUS(PCI_BDF(0xAB, 0x1F, 7)), 0xAB);
    assert_int_equal(PCI_DEV(PCI_BDF(0xAB, 0x1F, 7)), 0x1F);
    assert_int_equal(PCI_FN(PCI_BDF(0xAB, 0x1F, 7)), 7);
}

static void test_class_names(void **state)
{
    assert_string_equal(pci_class_name(0x02, 0x00), "network controller");
    assert_string_equal(pci_class_name(0x02, 0x80), "network controller");
    assert_string_equal(pci_class_name(0x06, 0x04), "PCI bridge");
    assert_string_equal(pci_class_name(0x06, 0x80), "bridge");
    assert_string_equal(pci_class_name(0x01, 0x06), "SATA controller");
    assert_string_equal(pci_class_name(0x0C, 0x03), "USB controller");
    assert_string_equal(pci_class_name(0x42, 0x00), "unknown device");
}

/* The capability walk (drivers/pci_cap.c): the list is device input. */
static void test_find_cap(void **state)
{
    struct fake_fn *f = add(0, 0, 5, 0, 0x1af4, 0x1041, 0x02, 0x00, 0);
    uint16_t bdf = PCI_BDF(0, 5, 0);
    f->cfg[PCI_CAP_PTR] = 0x40;
    f->cfg[0x40] = 0x09, f->cfg[0x41] = 0x52; /* low bits of a pointer are ignored */
    f->cfg[0x50] = PCI_CAP_MSIX, f->cfg[0x51] = 0x60;
    f->cfg[0x60] = PCI_CAP_MSI, f->cfg[0x61] = 0x00;
    /* Without the status bit there is no list to walk. */
    assert_int_equal(pci_ops_find_cap(&fake_ops, 0, bdf, PCI_CAP_MSIX), 0);
    set(f, PCI_STATUS, 2, PCI_STATUS_CAP_LIST);
    assert_int_equal(pci_ops_find_cap(&fake_ops, 0, bdf, 0x09), 0x40);
    assert_int_equal(pci_ops_find_cap(&fake_ops, 0, bdf, PCI_CAP_MSIX), 0x50);
    assert_int_equal(pci_ops_find_cap(&fake_ops, 0, bdf, PCI_CAP_MSI), 0x60);
    assert_int_equal(pci_ops_find_cap(&fake_ops, 0, bdf, 0x10), 0);
    /* Through the installed ops too. */
    pci_set_ops(&fake_ops);
    assert_int_equal(pci_find_cap(0, bdf, PCI_CAP_MSIX), 0x50);
    pci_set_ops(NULL);
    assert_int_equal(pci_find_cap(0, bdf, PCI_CAP_MSIX), 0);
    /* A looped list ends; a pointer into the header ends the walk. */
    f->cfg[0x61] = 0x40;
    assert_int_equal(pci_ops_find_cap(&fake_ops, 0, bdf, 0x10), 0);
    f->cfg[0x61] = 0x3c;
    f->cfg[0x3c] = 0x10;
    assert_int_equal(pci_ops_find_cap(&fake_ops, 0, bdf, 0x10), 0);
    /* An absent function reads all ones: no list. */
    assert_int_equal(pci_ops_find_cap(&fake_ops, 0, PCI_BDF(0, 6, 0), PCI_CAP_MSIX), 0);
}

#define T_(f) cmocka_unit_test_setup(f, setup)
int main(void)
{
    const struct CMUnitTest tests[] = {
        T_(test_bus0_multifunction),    T_(test_bridge_and_64bit_bars),
        T_(test_bridge_loops),          T_(test_bar64_last_slot),
        T_(test_host_bridge_functions), T_(test_brute_force_and_segments),
        T_(test_too_many_functions),    T_(test_accessors),
        T_(test_class_names),           T_(test_find_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
