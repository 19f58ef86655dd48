/* libFuzzer target: the VM's virtual PCI bus with a passed-through device
 * (vdev/vpci_*.c). The input first describes the device (its whole
 * configuration space, hostile capability lists included, and its BAR
 * sizes), then drives a sequence of guest accesses through 0xCF8/0xCFC,
 * ECAM and the trapped BAR pages, toggling whether the DMA domain exists
 * and whether routing succeeds. Checks: no BAR is ever mapped outside the
 * bus windows, mapped twice or unmapped when it was not mapped; the
 * hardware never masters the bus while the domain is absent; routes and
 * releases pair up per vector; I/O ports are opened only at a BAR's host
 * ports inside the window, never twice, and all closed at the end; MSI is enabled in the hardware
 * only with a route; the model only touches the device's own configuration space and BAR bytes; the
 * IDs read are the hardware's. */
/* clang-format off */
/* fuzz-srcs: vdev/vpci_bridge.c vdev/vpci_bar.c vdev/vpci_cap.c vdev/vpci_msi.c vdev/vpci_io.c lib/format.c lib/strutil.c */
/* clang-format on */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_input.h"
#include "vdev/vpci_bridge.h"

#define MMIO_BASE 0xc0000000ULL
#define MMIO_SIZE 0x10000000ULL
#define IO_BASE   0xc000ULL
#define IO_SIZE   0x4000ULL
#define BAR_BYTES 0x4000u

static uint8_t cfg[VPCI_CFG_SIZE];
static uint8_t barmem[6][BAR_BYTES];
static struct pci_dev hw;
static bool dma_ok, route_ok;
static bool mapped[VPCI_MAX_DEVS][6];
static uint64_t mapped_at[VPCI_MAX_DEVS][6];
static bool routed[VPCI_MAX_DEVS][1 + VPCI_MSIX_MAX];
static struct vpci_bus bus;

static unsigned idx(const struct vpci_dev *d)
{
    FUZZ_CHECK(d >= bus.dev && d < bus.dev + VPCI_MAX_DEVS);
    return (unsigned)(d - bus.dev);
}

static uint32_t cfg_read(void *ctx, const struct vpci_dev *d, uint16_t off, unsigned w)
{
    FUZZ_CHECK((w == 1 || w == 2 || w == 4) && off + w <= VPCI_CFG_SIZE);
    uint32_t v = 0;
    for (unsigned i = 0; i < w; i++)
        v |= (uint32_t)cfg[off + i] << (8 * i);
    return v;
}

static void cfg_write(void *ctx, const struct vpci_dev *d, uint16_t off, unsigned w, uint32_t v)
{
    FUZZ_CHECK((w == 1 || w == 2 || w == 4) && off + w <= VPCI_CFG_SIZE);
    FUZZ_CHECK(off >= 4); /* IDs are never written */
    bool master_before = cfg[PCI_COMMAND] & PCI_COMMAND_MASTER;
    for (unsigned i = 0; i < w; i++)
        cfg[off + i] = (uint8_t)(v >> (8 * i));
    /* Bus mastering is only ever turned on while the domain exists. */
    if (!master_before && (cfg[PCI_COMMAND] & PCI_COMMAND_MASTER))
        FUZZ_CHECK(dma_ok);
}

static uint64_t bar_read(void *ctx, const struct vpci_dev *d, unsigned bar, uint64_t off,
                         unsigned w)
{
    FUZZ_CHECK(bar < 6 && off < hw.bar_size[bar] && w <= hw.bar_size[bar] - off);
    FUZZ_CHECK(off + w <= BAR_BYTES);
    uint64_t v = 0;
    memcpy(&v, &barmem[bar][off], w);
    return v;
}

static void bar_write(void *ctx, const struct vpci_dev *d, unsigned bar, uint64_t off, unsigned w,
                      uint64_t v)
{
    FUZZ_CHECK(bar < 6 && off < hw.bar_size[bar] && w <= hw.bar_size[bar] - off);
    FUZZ_CHECK(off + w <= BAR_BYTES);
    memcpy(&barmem[bar][off], &v, w);
}

static bool bar_map(void *ctx, const struct vpci_dev *d, unsigned bar, uint64_t gpa, bool map)
{
    unsigned n = idx(d);
    FUZZ_CHECK(bar < 6 && d->bar[bar].size);
    if (!map) {
        FUZZ_CHECK(mapped[n][bar] && mapped_at[n][bar] == gpa);
        mapped[n][bar] = false;
        return true;
    }
    FUZZ_CHECK(!mapped[n][bar]);
    uint64_t size = d->bar[bar].size;
    bool io = d->bar[bar].flags & PCI_BAR_IO;
    uint64_t base = io ? IO_BASE : MMIO_BASE, wsize = io ? IO_SIZE : MMIO_SIZE;
    FUZZ_CHECK(gpa >= base && gpa - base < wsize && size <= wsize - (gpa - base));
    FUZZ_CHECK((gpa & (size - 1)) == 0);
    if (!io)
        FUZZ_CHECK((gpa & 0xfff) == 0 && (size & 0xfff) == 0);
    mapped[n][bar] = true;
    mapped_at[n][bar] = gpa;
    return true;
}

static bool dma_ready(void *ctx, const struct vpci_dev *d)
{
    return dma_ok;
}

static bool route(void *ctx, const struct vpci_dev *d, unsigned slot, uint64_t ga, uint32_t gd,
                  uint64_t *ha, uint32_t *hd)
{
    unsigned n = idx(d);
    FUZZ_CHECK(slot <= VPCI_MSIX_MAX);
    FUZZ_CHECK(!routed[n][slot]);
    if (!route_ok)
        return false;
    routed[n][slot] = true;
    *ha = 0xfee00000ULL | (slot << 5) | 0x10;
    *hd = 0;
    return true;
}

static void release(void *ctx, const struct vpci_dev *d, unsigned slot)
{
    unsigned n = idx(d);
    FUZZ_CHECK(slot <= VPCI_MSIX_MAX && routed[n][slot]);
    routed[n][slot] = false;
}

static struct {
    uint16_t base, count;
} io_open[16];
static unsigned nr_io_open;

/* Refuses some opens (as the glue does for the host's own ports): a
 * refused range must never be closed later. */
static bool io_pass(void *ctx, uint16_t base, uint16_t count, bool open)
{
    unsigned k = 0;
    while (k < nr_io_open && (io_open[k].base != base || io_open[k].count != count))
        k++;
    if (!open) {
        FUZZ_CHECK(k < nr_io_open);
        io_open[k] = io_open[--nr_io_open];
        return true;
    }
    FUZZ_CHECK(k == nr_io_open && nr_io_open < 16 && count);
    FUZZ_CHECK(base >= IO_BASE && base - IO_BASE < IO_SIZE && count <= IO_SIZE - (base - IO_BASE));
    bool host = false;
    for (unsigned n = 0; n < bus.nr; n++)
        for (unsigned b = 0; b < 6; b++) {
            const struct vpci_bar *r = &bus.dev[n].bar[b];
            host |= (r->flags & PCI_BAR_IO) && r->host == base && r->hw_size == count;
        }
    FUZZ_CHECK(host && base >= 0x1000);
    if (base & 0x100)
        return false;
    io_open[nr_io_open].base = base;
    io_open[nr_io_open++].count = count;
    return true;
}

static const struct vpci_ops ops = {NULL,      cfg_read, cfg_write, bar_read, bar_write, bar_map,
                                    dma_ready, route,    release,   NULL,     io_pass};

/* BAR sizes from one byte each: absent, I/O, 32- or 64-bit memory. */
static void make_bars(struct fuzz_input *in)
{
    for (unsigned i = 0; i < 6; i++) {
        uint8_t b = fuzz_u8(in);
        if (hw.bar_flags[i] & PCI_BAR_UPPER)
            continue;
        unsigned kind = b & 3, shift = (b >> 2) & 15;
        if (kind == 0)
            continue;
        hw.bar[i] = 0xfe000000u + i * 0x100000u;
        if (kind == 1) {
            hw.bar_flags[i] = PCI_BAR_IO;
            hw.bar_size[i] = 4ULL << (shift & 7);
            /* Host ports inside the window (kept there, ports direct) or
             * outside it; sometimes misaligned, as a hostile device may say. */
            if (shift & 8)
                hw.bar[i] = (uint32_t)(IO_BASE + (uint64_t)i * 0x400 + ((b >> 6) & 1) * 2);
            else
                hw.bar[i] = 0x1000u + i * 0x100u;
        } else {
            hw.bar_size[i] = 16ULL << shift; /* 16 B .. 512 KiB */
            if (hw.bar_size[i] > BAR_BYTES)
                hw.bar_size[i] = BAR_BYTES;
            if (kind == 3 && i < 5) {
                hw.bar_flags[i] = PCI_BAR_MEM64;
                hw.bar_flags[i + 1] = PCI_BAR_UPPER;
            }
        }
    }
}

static void check_msi_hw(const struct vpci_dev *d)
{
    /* Enabled and unmasked in the hardware only with a route. */
    if (!d->msi.cap || !(cfg[d->msi.cap + 2] & 1))
        return;
    if (d->msi.maskable && (cfg[d->msi.cap + (d->msi.is64 ? 0x10 : 0xc)] & 1))
        return;
    FUZZ_CHECK(routed[idx(d)][VPCI_MSI_SLOT]);
}

/* MSI-X: with the function enabled and unmasked in the hardware, a
 * hardware entry is unmasked only with a route. */
static void check_msix_hw(const struct vpci_dev *d)
{
    const struct vpci_msix *x = &d->msix;
    if (!x->cap)
        return;
    uint16_t c = (uint16_t)(cfg[x->cap + 2] | cfg[x->cap + 3] << 8);
    if (!(c & 0x8000) || (c & 0x4000))
        return;
    for (unsigned i = 0; i < x->hw_nr; i++) {
        uint64_t at = x->table_off + 16ULL * i + 12;
        FUZZ_CHECK(at + 4 <= BAR_BYTES);
        if (!(barmem[x->table_bar][at] & 1))
            FUZZ_CHECK(i < x->nr && routed[idx(d)][VPCI_MSIX_SLOT(i)]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size, 0};
    memset(&hw, 0, sizeof(hw));
    memset(mapped, 0, sizeof(mapped));
    memset(routed, 0, sizeof(routed));
    nr_io_open = 0;
    memset(barmem, 0, sizeof(barmem));
    for (unsigned i = 0; i < VPCI_CFG_SIZE; i++)
        cfg[i] = fuzz_u8(&in);
    cfg[0] = 0x86;
    cfg[1] = 0x80;
    cfg[2] = 0x0e;
    cfg[3] = 0x10;
    hw.vendor = 0x8086;
    hw.device = 0x100e;
    make_bars(&in);
    dma_ok = route_ok = true;
    vpci_bus_init(&bus, &ops, (struct vpci_window){MMIO_BASE, MMIO_SIZE},
                  (struct vpci_window){IO_BASE, IO_SIZE});
    char err[128];
    /* One device: its hardware state above is its alone. */
    if (!vpci_add_device(&bus, &hw, err, sizeof(err)))
        return 0;
    if (fuzz_u8(&in) & 1)
        vpci_assign_bars(&bus);
    while (fuzz_left(&in)) {
        uint8_t op = fuzz_u8(&in);
        unsigned sz = fuzz_size(&in);
        uint64_t val = fuzz_u64(&in);
        uint16_t reg = fuzz_u16(&in);
        uint16_t bdf = (uint16_t)((op & 0x10) ? PCI_BDF(0, 1, 0) : (reg >> 4));
        switch (op & 7) {
        case 0: {
            uint32_t v = (uint32_t)val;
            vpci_bus_io(&bus, (uint16_t)(0xcf8 + (reg & 7)), sz > 4 ? 4 : sz, op & 8, &v);
            break;
        }
        case 1:
        case 2:
            vpci_cfg_write(&bus, bdf, reg & 0xff, sz, (uint32_t)val);
            break;
        case 3: {
            uint32_t v = vpci_cfg_read(&bus, bdf, reg & 0xfff, sz);
            if (bdf == PCI_BDF(0, 1, 0) && (reg & 0xfff) == 0 && sz == 4)
                FUZZ_CHECK(v == 0x100e8086);
            break;
        }
        case 4:
            vpci_ecam_access(&bus, ((uint64_t)bdf << 12 | (reg & 0xfff)) & 0x1fffff, sz, op & 8,
                             &val);
            break;
        case 5: {
            vpci_bar_access(&bus, &bus.dev[0], (op >> 3) & 7, reg & 0x3fff, sz, op & 0x80, &val);
            break;
        }
        case 6:
            dma_ok = op & 8;
            route_ok = op & 0x20;
            break;
        case 7: {
            uint64_t off[2], len[2];
            for (unsigned n = 0; n < bus.nr; n++)
                for (unsigned b = 0; b < 6; b++) {
                    unsigned k = vpci_bar_traps(&bus.dev[n], b, off, len);
                    for (unsigned i = 0; i < k; i++)
                        FUZZ_CHECK(!(off[i] & 0xfff) && !(len[i] & 0xfff) &&
                                   off[i] + len[i] <= bus.dev[n].bar[b].size);
                }
            break;
        }
        }
        for (unsigned n = 0; n < bus.nr; n++) {
            check_msi_hw(&bus.dev[n]);
            check_msix_hw(&bus.dev[n]);
        }
    }
    vpci_bus_release(&bus);
    FUZZ_CHECK(nr_io_open == 0);
    for (unsigned n = 0; n < VPCI_MAX_DEVS; n++) {
        for (unsigned b = 0; b < 6; b++)
            FUZZ_CHECK(!mapped[n][b]);
        for (unsigned s = 0; s <= VPCI_MSIX_MAX; s++)
            FUZZ_CHECK(!routed[n][s]);
    }
    return 0;
}
