/* The fake hardware behind the virtual PCI bus tests (test_vpci_bridge*.c):
 * a configuration space and BAR memory in arrays, the vpci_ops callbacks
 * recording what the bus asked for, and one passed-through device added
 * by setup(). Header-only: each test binary gets its own copy. */
#ifndef TESTS_UNIT_VPCI_BRIDGE_FAKE_H
#define TESTS_UNIT_VPCI_BRIDGE_FAKE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vdev/vpci_bridge.h"

/* Each test file uses its own subset of these. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-variable"

/* --- fake hardware ---------------------------------------------------- */

static uint8_t hw_cfg[VPCI_CFG_SIZE];
static unsigned hw_cfg_writes, add_writes;
static uint8_t hw_bar0[0x4000]; /* MSI-X table at 0x2000, PBA at 0x3000 */
static bool dma_ok;
static bool route_ok;

struct map_call {
    unsigned bar;
    uint64_t gpa;
    bool map;
};
static struct map_call maps[64];
static unsigned nr_maps;
static bool map_ok;

struct route_call {
    unsigned slot;
    uint64_t addr;
    uint32_t data;
    bool release;
};
static struct route_call routes[64];

struct io_call {
    uint16_t base, count;
    bool open;
};
static struct io_call ios[32];
static unsigned nr_ios;
static bool io_pass_on = true; /* false: ops->io_pass behaves as absent */
static unsigned nr_routes;
static unsigned nr_refused;
static char last_refusal[128];

static uint32_t get(const uint8_t *p, unsigned off, unsigned w)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < w; i++)
        v |= (uint32_t)p[off + i] << (8 * i);
    return v;
}

static void put(uint8_t *p, unsigned off, unsigned w, uint32_t v)
{
    for (unsigned i = 0; i < w; i++)
        p[off + i] = (uint8_t)(v >> (8 * i));
}

static uint32_t f_cfg_read(void *ctx, const struct vpci_dev *d, uint16_t off, unsigned w)
{
    assert_true(off + w <= VPCI_CFG_SIZE);
    return get(hw_cfg, off, w);
}

static void f_cfg_write(void *ctx, const struct vpci_dev *d, uint16_t off, unsigned w, uint32_t v)
{
    assert_true(off + w <= VPCI_CFG_SIZE);
    hw_cfg_writes++;
    if (off == PCI_STATUS) { /* RW1C */
        put(hw_cfg, off, 2, get(hw_cfg, off, 2) & ~v);
        return;
    }
    put(hw_cfg, off, w, v);
}

static uint64_t f_bar_read(void *ctx, const struct vpci_dev *d, unsigned bar, uint64_t off,
                           unsigned w)
{
    assert_int_equal(bar, 0);
    assert_true(off + w <= sizeof(hw_bar0));
    uint64_t v = 0;
    for (unsigned i = 0; i < w; i++)
        v |= (uint64_t)hw_bar0[off + i] << (8 * i);
    return v;
}

static void f_bar_write(void *ctx, const struct vpci_dev *d, unsigned bar, uint64_t off, unsigned w,
                        uint64_t v)
{
    assert_int_equal(bar, 0);
    assert_true(off + w <= sizeof(hw_bar0));
    for (unsigned i = 0; i < w; i++)
        hw_bar0[off + i] = (uint8_t)(v >> (8 * i));
}

static bool f_bar_map(void *ctx, const struct vpci_dev *d, unsigned bar, uint64_t gpa, bool map)
{
    assert_true(nr_maps < 64);
    maps[nr_maps++] = (struct map_call){bar, gpa, map};
    return map ? map_ok : true;
}

static bool f_dma_ready(void *ctx, const struct vpci_dev *d)
{
    return dma_ok;
}

static bool f_route(void *ctx, const struct vpci_dev *d, unsigned slot, uint64_t ga, uint32_t gd,
                    uint64_t *ha, uint32_t *hd)
{
    assert_true(nr_routes < 64);
    routes[nr_routes++] = (struct route_call){slot, ga, gd, false};
    if (!route_ok)
        return false;
    *ha = 0xfee00010ULL | ((uint64_t)slot << 5); /* a remappable-format handle */
    *hd = 0;
    return true;
}

static void f_release(void *ctx, const struct vpci_dev *d, unsigned slot)
{
    assert_true(nr_routes < 64);
    routes[nr_routes++] = (struct route_call){slot, 0, 0, true};
}

static void f_refused(void *ctx, const struct vpci_dev *d, const char *what)
{
    nr_refused++;
    strncpy(last_refusal, what, sizeof(last_refusal) - 1);
}

static bool io_refuse; /* the glue refuses opens (the host's own ports) */

static bool f_io_pass(void *ctx, uint16_t base, uint16_t count, bool open)
{
    assert_true(io_pass_on);
    assert_true(nr_ios < 32);
    ios[nr_ios++] = (struct io_call){base, count, open};
    return !open || !io_refuse;
}

static const struct vpci_ops ops = {
    NULL,        f_cfg_read, f_cfg_write, f_bar_read, f_bar_write, f_bar_map,
    f_dma_ready, f_route,    f_release,   f_refused,  f_io_pass,
};
static const struct vpci_ops ops_no_io = {
    NULL,        f_cfg_read, f_cfg_write, f_bar_read, f_bar_write, f_bar_map,
    f_dma_ready, f_route,    f_release,   f_refused,  NULL,
};

static struct vpci_bus bus;
static struct pci_dev hw;

#define MMIO_WIN 0xc0000000ULL
#define IO_WIN   0xc000ULL
#define SLOT1    PCI_BDF(0, 1, 0)

/* An 8086:10d3 network controller at host 00:19.0: BAR0 16 KiB memory,
 * BAR2 64-bit prefetchable 1 MiB (BAR3 its upper half), BAR4 32 bytes of
 * I/O. Capabilities: PM 0x40 -> vendor-specific 0x50 (hidden) -> MSI
 * 0x60 (64-bit, maskable) -> PCIe 0x80 (v2) -> MSI-X 0xc0 (5 entries,
 * table BAR0+0x2000, PBA BAR0+0x3000) -> AF 0xd0 (hidden). */
static void make_hw(void)
{
    memset(hw_cfg, 0, sizeof(hw_cfg));
    memset(hw_bar0, 0, sizeof(hw_bar0));
    put(hw_cfg, 0x00, 2, 0x8086);
    put(hw_cfg, 0x02, 2, 0x10d3);
    put(hw_cfg, 0x04, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    put(hw_cfg, 0x06, 2, PCI_STATUS_CAP_LIST | (1u << 13)); /* + a master abort seen */
    put(hw_cfg, 0x08, 4, 0x02000003);                       /* class 02/00, rev 3 */
    hw_cfg[0x0e] = 0x80;                                    /* multi-function */
    put(hw_cfg, 0x10, 4, 0xfebc0000);
    put(hw_cfg, 0x18, 4, 0xd000000c);
    put(hw_cfg, 0x1c, 4, 0x00000001);
    put(hw_cfg, 0x20, 4, 0x0000e001);
    put(hw_cfg, 0x2c, 4, 0x00011af4);
    put(hw_cfg, 0x30, 4, 0xfeb80000); /* expansion ROM: hidden */
    hw_cfg[0x34] = 0x40;
    hw_cfg[0x3c] = 11;
    hw_cfg[0x3d] = 1; /* INTA# */
    /* PM */
    hw_cfg[0x40] = PCI_CAP_PM;
    hw_cfg[0x41] = 0x50;
    put(hw_cfg, 0x42, 2, 0xc823);
    /* vendor-specific, hidden */
    hw_cfg[0x50] = 0x09;
    hw_cfg[0x51] = 0x60;
    hw_cfg[0x52] = 0x10;
    put(hw_cfg, 0x54, 4, 0xdeadbeef);
    /* MSI: 64-bit, per-vector masking, 4 vectors capable */
    hw_cfg[0x60] = PCI_CAP_MSI;
    hw_cfg[0x61] = 0x80;
    put(hw_cfg, 0x62, 2, (1u << 8) | (1u << 7) | (2u << 1));
    /* PCIe v2, FLR capable */
    hw_cfg[0x80] = PCI_CAP_PCIE;
    hw_cfg[0x81] = 0xc0;
    put(hw_cfg, 0x82, 2, 0x0002);
    put(hw_cfg, 0x84, 4, 1u << 28);
    put(hw_cfg, 0x88, 2, 0x2810);
    /* MSI-X */
    hw_cfg[0xc0] = PCI_CAP_MSIX;
    hw_cfg[0xc1] = 0xd0;
    put(hw_cfg, 0xc2, 2, 4);
    put(hw_cfg, 0xc4, 4, 0x2000 | 0);
    put(hw_cfg, 0xc8, 4, 0x3000 | 0);
    /* AF: hidden */
    hw_cfg[0xd0] = 0x13;
    hw_cfg[0xd1] = 0x00;

    memset(&hw, 0, sizeof(hw));
    hw.bus = 0;
    hw.dev = 0x19;
    hw.vendor = 0x8086;
    hw.device = 0x10d3;
    hw.header_type = PCI_HEADER_NORMAL;
    hw.bar[0] = 0xfebc0000;
    hw.bar_size[0] = 0x4000;
    hw.bar[2] = 0xd0000000;
    hw.bar_size[2] = 0x100000;
    hw.bar_flags[2] = PCI_BAR_MEM64 | PCI_BAR_PREFETCH;
    hw.bar_flags[3] = PCI_BAR_UPPER;
    hw.bar[4] = 0xe000;
    hw.bar_size[4] = 32;
    hw.bar_flags[4] = PCI_BAR_IO;
}

static struct vpci_dev *dev;

static int setup(void **state)
{
    make_hw();
    hw_cfg_writes = 0;
    nr_maps = nr_routes = nr_refused = nr_ios = 0;
    io_pass_on = true;
    io_refuse = false;
    last_refusal[0] = 0;
    dma_ok = route_ok = map_ok = true;
    vpci_bus_init(&bus, &ops, (struct vpci_window){MMIO_WIN, 0x10000000},
                  (struct vpci_window){IO_WIN, 0x4000});
    char err[128];
    dev = vpci_add_device(&bus, &hw, err, sizeof(err));
    assert_non_null(dev);
    add_writes = hw_cfg_writes;
    return 0;
}

static uint32_t rd(uint16_t reg, unsigned w)
{
    return vpci_cfg_read(&bus, SLOT1, reg, w);
}

static void wr(uint16_t reg, unsigned w, uint32_t v)
{
    vpci_cfg_write(&bus, SLOT1, reg, w, v);
}

static uint32_t port_rd(uint16_t bdf, uint16_t reg, unsigned w)
{
    uint32_t a = VPCI_ADDR_ENABLE | (uint32_t)bdf << 8 | (reg & 0xfc), v = 0;
    assert_true(vpci_bus_io(&bus, 0xcf8, 4, false, &a));
    assert_true(vpci_bus_io(&bus, (uint16_t)(0xcfc + (reg & 3)), w, true, &v));
    return v;
}

#pragma GCC diagnostic pop

#endif
