/* The virtual PCI bus of a VM with passed-through devices (vdev/vpci_*.c):
 * host bridge and absent functions, both access paths, IDs as the
 * hardware's, BAR sizing and moving with the map/unmap callbacks, the
 * command register's isolation rules, the filtered capability list, MSI
 * and MSI-X routing, the trapped MSI-X table and PBA, and hostile device
 * contents. The "hardware" is a fake configuration space and BAR memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vdev/vpci_bridge.h"

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

/* --- tests ------------------------------------------------------------ */

static void test_host_bridge_and_absent(void **state)
{
    assert_int_equal(port_rd(0, 0, 4), VPCI_HOST_VENDOR | VPCI_HOST_DEVICE << 16);
    assert_int_equal(port_rd(0, 0x0a, 2), 0x0600);
    assert_int_equal(port_rd(0, 0x0e, 1), 0); /* single function, type 0 */
    assert_int_equal(port_rd(PCI_BDF(0, 5, 0), 0, 4), 0xffffffffu);
    assert_int_equal(port_rd(PCI_BDF(0, 1, 1), 0, 2), 0xffff); /* only function 0 */
    assert_int_equal(port_rd(PCI_BDF(1, 1, 0), 0, 4), 0xffffffffu);
    /* Writes to the host bridge go nowhere. */
    uint64_t v = 0x12345678;
    vpci_ecam_access(&bus, 0x10, 4, true, &v);
    vpci_ecam_access(&bus, 0x10, 4, false, &v);
    assert_int_equal(v, 0);
    /* Host hardware never touched for the bridge or absent slots. */
    assert_int_equal(hw_cfg_writes, add_writes);
}

static void test_ids_as_hardware(void **state)
{
    assert_int_equal(port_rd(SLOT1, 0, 4), 0x10d38086);
    assert_int_equal(port_rd(SLOT1, 0x0b, 1), 0x02);
    assert_int_equal(rd(0x08, 1), 3);
    assert_int_equal(rd(0x2c, 4), 0x00011af4);
    assert_int_equal(rd(0x3d, 1), 1);
    assert_int_equal(rd(0x0e, 1), 0); /* the multi-function bit is not shown */
    uint64_t v;
    vpci_ecam_access(&bus, (uint64_t)SLOT1 << 12, 4, false, &v);
    assert_int_equal(v, 0x10d38086);
    vpci_ecam_access(&bus, ((uint64_t)SLOT1 << 12) | 0x100, 4, false, &v);
    assert_int_equal(v, 0); /* no extended capabilities */
    vpci_ecam_access(&bus, VPCI_ECAM_SIZE, 4, false, &v);
    assert_int_equal(v, 0xffffffffu);
}

static void test_readonly_writes_dropped(void **state)
{
    unsigned before = hw_cfg_writes;
    wr(0x00, 4, 0);
    wr(0x08, 4, 0);
    wr(0x2c, 4, 0);
    wr(0x30, 4, 0xffffffff); /* ROM sizing: hidden, reads 0 */
    wr(0x34, 1, 0x80);
    wr(0x54, 4, 0); /* inside the hidden vendor capability */
    wr(0xf0, 4, 0x1234);
    wr(0x100, 4, 0xffffffff);
    assert_int_equal(rd(0x00, 4), 0x10d38086);
    assert_int_equal(rd(0x08, 4), 0x02000003);
    assert_int_equal(rd(0x30, 4), 0);
    assert_int_equal(rd(0x34, 1), 0x40);
    assert_int_equal(rd(0x54, 4), 0);
    assert_int_equal(hw_cfg_writes, before);
    assert_int_equal(get(hw_cfg, 0x30, 4), 0xfeb80000);
    /* Interrupt line is the guest's scratch register; the pin is not. */
    wr(0x3c, 2, 0x0409);
    assert_int_equal(rd(0x3c, 2), 0x0109);
    /* Misaligned and odd widths: all ones, nothing written. */
    assert_int_equal(rd(0x01, 2), 0xffff);
    assert_int_equal(rd(0x02, 4), 0xffffffffu);
    wr(0x05, 2, 0xffff);
    assert_int_equal(hw_cfg_writes, before);
}

static void test_status_rw1c(void **state)
{
    assert_true(rd(0x06, 2) & (1u << 13));
    assert_true(rd(0x06, 2) & PCI_STATUS_CAP_LIST);
    wr(0x06, 2, 1u << 13);
    assert_false(get(hw_cfg, 0x06, 2) & (1u << 13));
    assert_true(get(hw_cfg, 0x06, 2) & PCI_STATUS_CAP_LIST);
}

static void test_bar_sizing(void **state)
{
    wr(0x10, 4, 0xffffffff);
    assert_int_equal(rd(0x10, 4), 0xffffc000u);
    wr(0x18, 4, 0xffffffff);
    wr(0x1c, 4, 0xffffffff);
    assert_int_equal(rd(0x18, 4), 0xfff0000cu);
    assert_int_equal(rd(0x1c, 4), 0xffffffffu);
    wr(0x20, 4, 0xffffffff);
    assert_int_equal(rd(0x20, 4), 0xffffffe1u);
    wr(0x14, 4, 0xffffffff); /* not implemented */
    assert_int_equal(rd(0x14, 4), 0);
    wr(0x24, 4, 0xffffffff);
    assert_int_equal(rd(0x24, 4), 0);
    /* Sizing never reaches the hardware's BARs, nor maps anything
     * (decoding is off). */
    assert_int_equal(get(hw_cfg, 0x10, 4), 0xfebc0000);
    assert_int_equal(nr_maps, 0);
    /* Byte writes to a BAR only change their byte. */
    wr(0x10, 4, 0xc0000000);
    wr(0x12, 1, 0x01);
    assert_int_equal(rd(0x10, 4), 0xc0010000u);
}

static void test_bar_assign_and_map(void **state)
{
    assert_true(vpci_assign_bars(&bus));
    /* Largest first: the 1 MiB BAR at the window base, then 16 KiB. */
    assert_int_equal(rd(0x18, 4), (uint32_t)MMIO_WIN | 0xc);
    assert_int_equal(rd(0x1c, 4), 0);
    assert_int_equal(rd(0x10, 4), (uint32_t)(MMIO_WIN + 0x100000));
    /* The I/O BAR keeps its host ports (0xe000 lies in the window). */
    assert_int_equal(rd(0x20, 4), 0xe000 | 1);
    assert_int_equal(nr_maps, 0);
    assert_int_equal(rd(0x04, 2), 0); /* decoding off until the guest turns it on */
    wr(0x04, 2, PCI_COMMAND_MEMORY);
    assert_int_equal(nr_maps, 2);
    assert_int_equal(maps[0].bar, 0);
    assert_int_equal(maps[0].gpa, MMIO_WIN + 0x100000);
    assert_true(maps[0].map);
    assert_int_equal(maps[1].bar, 2);
    assert_int_equal(maps[1].gpa, MMIO_WIN);
    assert_true(get(hw_cfg, 0x04, 2) & PCI_COMMAND_MEMORY);
    wr(0x04, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
    assert_int_equal(nr_maps, 3);
    assert_int_equal(maps[2].bar, 4);
    assert_int_equal(maps[2].gpa, 0xe000);
    /* Move BAR0 with decoding on: unmapped at the old address, mapped at the new. */
    wr(0x10, 4, (uint32_t)(MMIO_WIN + 0x200000));
    assert_int_equal(nr_maps, 5);
    assert_false(maps[3].map);
    assert_int_equal(maps[3].gpa, MMIO_WIN + 0x100000);
    assert_true(maps[4].map);
    assert_int_equal(maps[4].gpa, MMIO_WIN + 0x200000);
    /* The hardware's BAR never moves. */
    assert_int_equal(get(hw_cfg, 0x10, 4), 0xfebc0000);
    unsigned bar;
    uint64_t off;
    assert_ptr_equal(vpci_find_bar(&bus, MMIO_WIN + 0x200010, false, &bar, &off), dev);
    assert_int_equal(bar, 0);
    assert_int_equal(off, 0x10);
    assert_null(vpci_find_bar(&bus, MMIO_WIN + 0x100010, false, &bar, &off));
    /* Outside the window: unmapped, refused, never mapped there. */
    wr(0x10, 4, 0x10000000);
    assert_false(maps[nr_maps - 1].map);
    assert_int_equal(nr_refused, 1);
    for (unsigned i = 0; i < nr_maps; i++)
        assert_false(maps[i].map && maps[i].gpa == 0x10000000);
    /* Decoding off: everything unmapped. */
    wr(0x04, 2, 0);
    unsigned mapped = 0;
    for (unsigned i = 0; i < nr_maps; i++)
        mapped += maps[i].map ? 1 : 0;
    assert_int_equal(mapped, nr_maps - mapped);
    assert_null(vpci_find_bar(&bus, MMIO_WIN, false, &bar, &off));
}

/* I/O BARs: opened in the VM's I/O bitmap while decoded at the host ports,
 * closed when the guest moves the BAR or turns decoding off. */
static void test_io_bar_direct(void **state)
{
    assert_true(vpci_assign_bars(&bus));
    assert_int_equal(dev->bar[4].guest, 0xe000);
    wr(0x04, 2, PCI_COMMAND_IO);
    assert_int_equal(nr_ios, 1);
    assert_int_equal(ios[0].base, 0xe000);
    assert_int_equal(ios[0].count, 32);
    assert_true(ios[0].open);
    assert_true(dev->bar[4].io_open);
    /* Moved elsewhere in the window: closed, then mapped but trapped (the
     * port numbers would differ from the hardware's). */
    wr(0x20, 4, 0xc100);
    assert_int_equal(nr_ios, 2);
    assert_false(ios[1].open);
    assert_int_equal(ios[1].base, 0xe000);
    assert_true(dev->bar[4].mapped);
    assert_int_equal(dev->bar[4].mapped_at, 0xc100);
    assert_false(dev->bar[4].io_open);
    unsigned bar;
    uint64_t off;
    assert_ptr_equal(vpci_find_bar(&bus, 0xc104, true, &bar, &off), dev);
    /* Back at the host ports: open again. */
    wr(0x20, 4, 0xe000);
    assert_int_equal(nr_ios, 3);
    assert_true(ios[2].open);
    /* Memory decoding changes nothing for it; I/O decoding off closes. */
    wr(0x04, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
    assert_int_equal(nr_ios, 3);
    wr(0x04, 2, PCI_COMMAND_MEMORY);
    assert_int_equal(nr_ios, 4);
    assert_false(ios[3].open);
    assert_false(dev->bar[4].io_open);
    /* Open again, then the VM stops: closed on release. */
    wr(0x04, 2, PCI_COMMAND_IO);
    assert_int_equal(nr_ios, 5);
    vpci_bus_release(&bus);
    assert_int_equal(nr_ios, 6);
    assert_false(ios[5].open);
    assert_int_equal(ios[5].base, 0xe000);
    /* Opens and closes pair up. */
    int open = 0;
    for (unsigned i = 0; i < nr_ios; i++)
        open += ios[i].open ? 1 : -1;
    assert_int_equal(open, 0);
}

/* Host ports outside the VM's window: placed in the window, always trapped. */
static void test_io_bar_outside_window_trapped(void **state)
{
    hw.bar[4] = 0x1000;
    char err[128];
    vpci_bus_init(&bus, &ops, (struct vpci_window){MMIO_WIN, 0x10000000},
                  (struct vpci_window){IO_WIN, 0x4000});
    dev = vpci_add_device(&bus, &hw, err, sizeof(err));
    assert_non_null(dev);
    assert_true(vpci_assign_bars(&bus));
    assert_int_equal(dev->bar[4].guest, IO_WIN);
    wr(0x04, 2, PCI_COMMAND_IO);
    assert_true(dev->bar[4].mapped);
    assert_int_equal(nr_ios, 0);
    /* The guest cannot make it direct by moving it to the host ports: they
     * lie outside its window (refused, not mapped). */
    wr(0x20, 4, 0x1000);
    assert_int_equal(nr_ios, 0);
    assert_false(dev->bar[4].mapped);
}

/* Without ops->io_pass every I/O BAR stays trapped. */
static void test_io_bar_without_io_pass(void **state)
{
    io_pass_on = false;
    char err[128];
    vpci_bus_init(&bus, &ops_no_io, (struct vpci_window){MMIO_WIN, 0x10000000},
                  (struct vpci_window){IO_WIN, 0x4000});
    dev = vpci_add_device(&bus, &hw, err, sizeof(err));
    assert_true(vpci_assign_bars(&bus));
    wr(0x04, 2, PCI_COMMAND_IO);
    assert_true(dev->bar[4].mapped);
    assert_false(dev->bar[4].io_open);
    wr(0x04, 2, 0);
    assert_false(dev->bar[4].mapped);
}

static void test_io_direct_rules(void **state)
{
    struct vpci_bar r = {.size = 32, .hw_size = 32, .host = 0xe000, .flags = PCI_BAR_IO};
    uint16_t base = 0, count = 0;
    assert_true(vpci_io_direct_ok(&r, 0xe000, &base, &count));
    assert_int_equal(base, 0xe000);
    assert_int_equal(count, 32);
    assert_false(vpci_io_direct_ok(&r, 0xe020, &base, &count)); /* not the host ports */
    r.host = 0xcf0;
    r.size = r.hw_size = 16;
    assert_false(vpci_io_direct_ok(&r, 0xcf0, &base, &count)); /* covers 0xcf8-0xcff */
    r.host = 0xfff0;
    r.size = r.hw_size = 32;
    assert_false(vpci_io_direct_ok(&r, 0xfff0, &base, &count)); /* past port 0xffff */
    r.host = 0xe000;
    r.size = 64; /* the guest would see more than the hardware has */
    assert_false(vpci_io_direct_ok(&r, 0xe000, &base, &count));
    struct vpci_bar m = {.size = 4096, .hw_size = 4096, .host = 0xe000};
    assert_false(vpci_io_direct_ok(&m, 0xe000, &base, &count)); /* MMIO */
    /* The legacy PC ports and the emulators' shutdown port never pass,
     * whatever the device's host BAR says. */
    static const uint16_t hostile[][2] = {
        {0x3f8, 8},  /* the hypervisor's UART */
        {0xcf8, 8},  /* PCI configuration */
        {0x20, 2},   /* the PIC */
        {0x40, 4},   /* the PIT */
        {0x70, 2},   /* the RTC */
        {0xfe0, 64}, /* ends above 0x1000 but starts below */
        {0x8900, 1}, /* Bochs' shutdown port */
        {0x8800, 0x100 * 2},
    };
    for (unsigned i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
        struct vpci_bar h = {.size = hostile[i][1],
                             .hw_size = hostile[i][1],
                             .host = hostile[i][0],
                             .flags = PCI_BAR_IO};
        assert_false(vpci_io_direct_ok(&h, h.host, &base, &count));
    }
    /* The same rule for the forwarding path. */
    assert_true(vpci_io_port_reserved(0x3f8, 0x3ff));
    assert_true(vpci_io_port_reserved(0xcfc, 0xcff));
    assert_true(vpci_io_port_reserved(0xffe, 0x1001));
    assert_true(vpci_io_port_reserved(0x8900, 0x8903));
    assert_true(vpci_io_port_reserved(0xfffe, 0x10001));
    assert_false(vpci_io_port_reserved(0x1000, 0x1003));
    assert_false(vpci_io_port_reserved(0xc000, 0xc03f));
    assert_false(vpci_io_port_reserved(0x88fc, 0x88ff));
    struct vpci_bar low = {.size = 16, .hw_size = 16, .host = 0x1000, .flags = PCI_BAR_IO};
    assert_true(vpci_io_direct_ok(&low, 0x1000, &base, &count)); /* the first allowed port */
    assert_int_equal(base, 0x1000);
    assert_int_equal(count, 16);
}

/* The glue refuses an open (the host's own ports): the BAR stays trapped
 * and forwarded, and no close follows for ports never opened. */
static void test_io_bar_open_refused(void **state)
{
    io_refuse = true;
    assert_true(vpci_assign_bars(&bus));
    wr(0x04, 2, PCI_COMMAND_IO);
    assert_int_equal(nr_ios, 1);
    assert_true(ios[0].open);
    assert_true(dev->bar[4].mapped);
    assert_false(dev->bar[4].io_open);
    unsigned bar;
    uint64_t off;
    assert_ptr_equal(vpci_find_bar(&bus, 0xe004, true, &bar, &off), dev);
    wr(0x04, 2, 0);
    vpci_bus_release(&bus);
    assert_int_equal(nr_ios, 1);
    assert_false(dev->bar[4].mapped);
}

/* Two devices whose host ports collide in the window cannot both keep them. */
static void test_io_bar_assignment_collisions(void **state)
{
    char err[128];
    struct pci_dev hw2 = hw;
    hw2.dev = 0x1a;
    vpci_bus_init(&bus, &ops, (struct vpci_window){MMIO_WIN, 0x10000000},
                  (struct vpci_window){IO_WIN, 0x4000});
    struct vpci_dev *a = vpci_add_device(&bus, &hw, err, sizeof(err));
    struct vpci_dev *b = vpci_add_device(&bus, &hw2, err, sizeof(err));
    assert_non_null(a);
    assert_non_null(b);
    assert_true(vpci_assign_bars(&bus));
    assert_int_equal(a->bar[4].guest, 0xe000);
    assert_int_not_equal(b->bar[4].guest, 0xe000);
    assert_true(b->bar[4].guest >= IO_WIN && b->bar[4].guest + 32 <= IO_WIN + 0x4000);
    assert_int_equal(b->bar[4].guest % 32, 0);
}

static void test_bar_map_refused_by_caller(void **state)
{
    assert_true(vpci_assign_bars(&bus));
    map_ok = false;
    wr(0x04, 2, PCI_COMMAND_MEMORY);
    assert_int_equal(nr_refused, 2);
    unsigned bar;
    uint64_t off;
    assert_null(vpci_find_bar(&bus, MMIO_WIN, false, &bar, &off));
}

static void test_master_needs_domain(void **state)
{
    assert_false(get(hw_cfg, 0x04, 2) & PCI_COMMAND_MASTER); /* turned off at add */
    assert_true(vpci_assign_bars(&bus));
    dma_ok = false;
    wr(0x04, 2, PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY);
    assert_int_equal(rd(0x04, 2), PCI_COMMAND_MEMORY);
    assert_false(get(hw_cfg, 0x04, 2) & PCI_COMMAND_MASTER);
    assert_int_equal(nr_refused, 1);
    assert_non_null(strstr(last_refusal, "DMA domain"));
    dma_ok = true;
    wr(0x04, 2, PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY | (1u << 9) | (1u << 3));
    /* Fast back-to-back and special cycles are not writable. */
    assert_int_equal(rd(0x04, 2), PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY);
    assert_true(get(hw_cfg, 0x04, 2) & PCI_COMMAND_MASTER);
}

static void test_capabilities_filtered(void **state)
{
    /* PM 0x40 -> MSI 0x60 -> PCIe 0x80 -> MSI-X 0xc0 -> end. */
    assert_int_equal(rd(0x34, 1), 0x40);
    assert_int_equal(rd(0x40, 2), 0x6001);
    assert_int_equal(rd(0x60, 2), 0x8005);
    assert_int_equal(rd(0x80, 2), 0xc010);
    assert_int_equal(rd(0xc0, 2), 0x0011);
    assert_int_equal(rd(0x50, 4), 0); /* vendor-specific: hidden */
    assert_int_equal(rd(0xd0, 4), 0); /* AF: hidden */
    assert_int_equal(rd(0x42, 2), 0xc823);
    /* MSI: one vector offered, 64-bit and maskable as the hardware. */
    assert_int_equal(rd(0x62, 2), (1u << 8) | (1u << 7));
    /* MSI-X table size 5, the table/PBA locations as the hardware's. */
    assert_int_equal(rd(0xc2, 2), 4);
    assert_int_equal(rd(0xc4, 4), 0x2000);
    assert_int_equal(rd(0xc8, 4), 0x3000);
}

static void test_pm_and_pcie_shadow(void **state)
{
    unsigned before = hw_cfg_writes;
    wr(0x44, 2, 3); /* D3hot: virtual */
    assert_int_equal(rd(0x44, 2) & 3, 3);
    wr(0x44, 2, 0);
    assert_int_equal(rd(0x44, 2) & 3, 0);
    /* PCIe device control: max payload etc. land in the shadow; FLR is refused. */
    wr(0x88, 2, 0x2830);
    assert_int_equal(rd(0x88, 2), 0x2830);
    wr(0x88, 2, 0x8000 | 0x2830);
    assert_int_equal(rd(0x88, 2), 0x2830);
    assert_int_equal(nr_refused, 1);
    wr(0x84, 4, 0); /* device capabilities: read-only */
    assert_int_equal(rd(0x84, 4), 1u << 28);
    wr(0x80, 4, 0xffffffff);
    assert_int_equal(rd(0x80, 2), 0xc010);
    assert_int_equal(hw_cfg_writes, before);
}

static void test_msi(void **state)
{
    wr(0x64, 4, 0xfee01000);
    wr(0x68, 4, 0);
    wr(0x6c, 2, 0x41);
    assert_int_equal(nr_routes, 0); /* not enabled yet */
    wr(0x62, 2, 1 | (3u << 4));     /* enable, asking for 8 vectors: gets one */
    assert_int_equal(rd(0x62, 2), 1 | (1u << 8) | (1u << 7));
    assert_int_equal(nr_routes, 1);
    assert_int_equal(routes[0].slot, VPCI_MSI_SLOT);
    assert_int_equal(routes[0].addr, 0xfee01000);
    assert_int_equal(routes[0].data, 0x41);
    /* The hardware holds the host's message, enabled, one vector. */
    assert_int_equal(get(hw_cfg, 0x64, 4), 0xfee00010);
    assert_int_equal(get(hw_cfg, 0x6c, 2), 0);
    assert_int_equal(get(hw_cfg, 0x62, 2) & 0x71, 1);
    assert_int_equal(get(hw_cfg, 0x70, 4), 0);
    /* The guest reads its own message back. */
    assert_int_equal(rd(0x64, 4), 0xfee01000);
    assert_int_equal(rd(0x6c, 2), 0x41);
    /* Masking releases the route and masks the hardware. */
    wr(0x70, 4, 1);
    assert_true(routes[1].release);
    assert_int_equal(get(hw_cfg, 0x70, 4), 1);
    assert_int_equal(rd(0x70, 4), 1);
    /* Unmasking routes again; a new vector re-routes. */
    wr(0x70, 4, 0);
    assert_int_equal(nr_routes, 3);
    assert_false(routes[2].release);
    wr(0x6c, 2, 0x42);
    assert_int_equal(nr_routes, 5);
    assert_true(routes[3].release);
    assert_int_equal(routes[4].data, 0x42);
    /* Pending bit from the hardware. */
    put(hw_cfg, 0x74, 4, 1);
    assert_int_equal(rd(0x74, 4), 1);
    /* Disable. */
    wr(0x62, 2, 0);
    assert_int_equal(get(hw_cfg, 0x62, 2) & 1, 0);
    assert_true(routes[nr_routes - 1].release);
}

static void test_msi_unroutable(void **state)
{
    route_ok = false;
    wr(0x64, 4, 0x12345678); /* not an interrupt address at all */
    wr(0x62, 2, 1);
    assert_int_equal(get(hw_cfg, 0x62, 2) & 1, 0);
    assert_int_equal(nr_refused, 1);
    assert_int_equal(rd(0x62, 2) & 1, 1); /* the guest's view keeps its bit */
}

static uint64_t tbl(uint64_t off, unsigned w, bool write, uint64_t v)
{
    vpci_bar_access(&bus, dev, 0, off, w, write, &v);
    return v;
}

static void test_msix(void **state)
{
    uint64_t off[2], len[2];
    /* Table page and PBA page are adjacent: one range. */
    assert_int_equal(vpci_bar_traps(dev, 0, off, len), 1);
    assert_int_equal(off[0], 0x2000);
    assert_int_equal(len[0], 0x2000);
    assert_int_equal(vpci_bar_traps(dev, 2, off, len), 0);
    /* Masked at reset. */
    assert_int_equal(tbl(0x2000 + 12, 4, false, 0), 1);
    tbl(0x2000 + 16 * 2, 8, true, 0x00000000fee02000ULL);
    tbl(0x2000 + 16 * 2 + 8, 4, true, 0x51);
    assert_int_equal(tbl(0x2000 + 16 * 2, 4, false, 0), 0xfee02000);
    assert_int_equal(tbl(0x2000 + 16 * 2 + 8, 4, false, 0), 0x51);
    /* Nothing reached the hardware table yet. */
    assert_int_equal(get(hw_bar0, 0x2000 + 16 * 2, 4), 0);
    put(hw_bar0, 0x2000 + 16 * 4 + 12, 4, 0); /* a previous owner's unmasked entry */
    wr(0xc2, 2, 0x8000);                      /* enable */
    assert_int_equal(rd(0xc2, 2), 0x8004);
    assert_int_equal(get(hw_bar0, 0x2000 + 16 * 4 + 12, 4), 1);
    assert_int_equal(nr_routes, 0);        /* all entries masked */
    tbl(0x2000 + 16 * 2 + 12, 4, true, 0); /* unmask entry 2 */
    assert_int_equal(nr_routes, 1);
    assert_int_equal(routes[0].slot, VPCI_MSIX_SLOT(2));
    assert_int_equal(routes[0].addr, 0xfee02000);
    assert_int_equal(routes[0].data, 0x51);
    assert_int_equal(get(hw_bar0, 0x2000 + 16 * 2, 4), 0xfee00010 | (VPCI_MSIX_SLOT(2) << 5));
    assert_int_equal(get(hw_bar0, 0x2000 + 16 * 2 + 12, 4), 0);
    assert_int_equal(get(hw_cfg, 0xc2, 2) & 0xc000, 0x8000);
    /* Function mask: released, hardware entry masked. */
    wr(0xc2, 2, 0xc000);
    assert_true(routes[1].release);
    assert_int_equal(get(hw_bar0, 0x2000 + 16 * 2 + 12, 4), 1);
    wr(0xc2, 2, 0x8000);
    assert_int_equal(nr_routes, 3);
    /* PBA: read from the hardware, writes dropped. */
    put(hw_bar0, 0x3000, 4, 0x4);
    assert_int_equal(tbl(0x3000, 8, false, 0), 4);
    tbl(0x3000, 4, true, 0xffffffff);
    assert_int_equal(get(hw_bar0, 0x3000, 4), 4);
    /* Odd widths in the table: all ones, dropped. */
    assert_int_equal(tbl(0x2000 + 1, 1, false, 0), 0xff);
    tbl(0x2000 + 16 * 2, 2, true, 0);
    assert_int_equal(tbl(0x2000 + 16 * 2, 4, false, 0), 0xfee02000);
    /* Other registers in the trapped pages are the device's. */
    put(hw_bar0, 0x2800, 4, 0xabcd);
    assert_int_equal(tbl(0x2800, 4, false, 0), 0xabcd);
    tbl(0x2804, 4, true, 0x77);
    assert_int_equal(get(hw_bar0, 0x2804, 4), 0x77);
    /* Release at VM stop: everything masked and released. */
    vpci_bus_release(&bus);
    assert_true(routes[nr_routes - 1].release);
    assert_int_equal(get(hw_bar0, 0x2000 + 16 * 2 + 12, 4), 1);
    assert_int_equal(get(hw_cfg, 0xc2, 2) & 0xc000, 0x4000);
}

static void test_msix_many_entries(void **state)
{
    make_hw();
    put(hw_cfg, 0xc2, 2, 199); /* 200 entries: 64 shown */
    hw.bar_size[0] = 0x4000;
    vpci_bus_init(&bus, &ops, (struct vpci_window){MMIO_WIN, 0x10000000},
                  (struct vpci_window){IO_WIN, 0x4000});
    char err[128];
    dev = vpci_add_device(&bus, &hw, err, sizeof(err));
    assert_non_null(dev);
    assert_int_equal(rd(0xc2, 2) & 0x7ff, VPCI_MSIX_MAX - 1);
    /* Entries beyond the shown ones: read 0, writes dropped. */
    tbl(0x2000 + 16 * 100, 4, true, 0xfee00000);
    assert_int_equal(tbl(0x2000 + 16 * 100, 4, false, 1), 0);
    assert_int_equal(get(hw_bar0, 0x2000 + 16 * 100, 4), 0);
}

static void test_hostile_devices(void **state)
{
    char err[128];
    /* MSI-X table beyond its BAR. */
    make_hw();
    put(hw_cfg, 0xc4, 4, 0x3ff8);
    vpci_bus_init(&bus, &ops, (struct vpci_window){MMIO_WIN, 0x10000000},
                  (struct vpci_window){IO_WIN, 0x4000});
    assert_null(vpci_add_device(&bus, &hw, err, sizeof(err)));
    assert_non_null(strstr(err, "MSI-X"));
    /* MSI-X table in an I/O BAR. */
    make_hw();
    put(hw_cfg, 0xc4, 4, 4);
    assert_null(vpci_add_device(&bus, &hw, err, sizeof(err)));
    /* A bridge. */
    make_hw();
    hw.header_type = PCI_HEADER_BRIDGE;
    assert_null(vpci_add_device(&bus, &hw, err, sizeof(err)));
    assert_non_null(strstr(err, "bridge"));
    /* IDs changed since enumeration. */
    make_hw();
    hw.device = 0x1234;
    assert_null(vpci_add_device(&bus, &hw, err, sizeof(err)));
    /* A capability loop, a pointer below 0x40, one running off the end:
     * the walk ends, what is sane is kept. */
    make_hw();
    hw_cfg[0xc1] = 0x40; /* MSI-X -> PM again */
    assert_non_null(dev = vpci_add_device(&bus, &hw, err, sizeof(err)));
    assert_int_equal(rd(0xc0, 2), 0x0011);
    make_hw();
    hw_cfg[0x61] = 0x10; /* MSI -> into the header: end */
    vpci_bus_init(&bus, &ops, (struct vpci_window){MMIO_WIN, 0x10000000},
                  (struct vpci_window){IO_WIN, 0x4000});
    assert_non_null(dev = vpci_add_device(&bus, &hw, err, sizeof(err)));
    assert_int_equal(rd(0x60, 2), 0x0005);
    assert_int_equal(rd(0x80, 4), 0);
    make_hw();
    hw_cfg[0x61] = 0xf8; /* MSI -> PCIe at 0xf8 running off the end: hidden */
    hw_cfg[0xf8] = PCI_CAP_PCIE;
    vpci_bus_init(&bus, &ops, (struct vpci_window){MMIO_WIN, 0x10000000},
                  (struct vpci_window){IO_WIN, 0x4000});
    assert_non_null(dev = vpci_add_device(&bus, &hw, err, sizeof(err)));
    assert_int_equal(rd(0x60, 2), 0x0005);
    assert_int_equal(rd(0xf8, 4), 0);
    /* Full bus. */
    for (unsigned i = 1; i < VPCI_MAX_DEVS; i++)
        assert_non_null(vpci_add_device(&bus, &hw, err, sizeof(err)));
    assert_null(vpci_add_device(&bus, &hw, err, sizeof(err)));
}

static void test_small_bar_trapped(void **state)
{
    make_hw();
    hw.bar_size[0] = 0x80; /* 128 bytes: shown as a page, trapped whole */
    hw_cfg[0x81] = 0;      /* no MSI-X */
    vpci_bus_init(&bus, &ops, (struct vpci_window){MMIO_WIN, 0x10000000},
                  (struct vpci_window){IO_WIN, 0x4000});
    char err[128];
    assert_non_null(dev = vpci_add_device(&bus, &hw, err, sizeof(err)));
    wr(0x10, 4, 0xffffffff);
    assert_int_equal(rd(0x10, 4), 0xfffff000u);
    uint64_t off[2], len[2];
    assert_int_equal(vpci_bar_traps(dev, 0, off, len), 1);
    assert_int_equal(off[0], 0);
    assert_int_equal(len[0], 0x1000);
    put(hw_bar0, 0x7c, 4, 0x55);
    assert_int_equal(tbl(0x7c, 4, false, 0), 0x55);
    assert_int_equal(tbl(0x80, 4, false, 0), 0xffffffffu); /* past the real BAR */
    tbl(0x80, 4, true, 0x99);
    assert_int_equal(get(hw_bar0, 0x80, 4), 0);
}

static void test_ports(void **state)
{
    uint32_t v = 0x12345678;
    assert_false(vpci_bus_io(&bus, 0xcf7, 1, true, &v));
    assert_false(vpci_bus_io(&bus, 0xd00, 1, true, &v));
    assert_false(vpci_bus_io(&bus, 0xcf9, 1, false, &v)); /* reset control */
    /* The latch: dword only, reserved bits cleared. */
    v = 0xffffffff;
    assert_true(vpci_bus_io(&bus, 0xcf8, 4, false, &v));
    assert_true(vpci_bus_io(&bus, 0xcf8, 4, true, &v));
    assert_int_equal(v, 0x80fffffc);
    v = 0;
    assert_true(vpci_bus_io(&bus, 0xcf8, 2, false, &v)); /* ignored */
    assert_true(vpci_bus_io(&bus, 0xcf8, 4, true, &v));
    assert_int_equal(v, 0x80fffffc);
    /* Disabled latch: all ones. */
    v = (uint32_t)SLOT1 << 8;
    assert_true(vpci_bus_io(&bus, 0xcf8, 4, false, &v));
    assert_true(vpci_bus_io(&bus, 0xcfc, 4, true, &v));
    assert_int_equal(v, 0xffffffffu);
    /* A word at 0xcfe reads the device ID; a dword at 0xcfd crosses: all ones. */
    v = VPCI_ADDR_ENABLE | (uint32_t)SLOT1 << 8;
    assert_true(vpci_bus_io(&bus, 0xcf8, 4, false, &v));
    assert_true(vpci_bus_io(&bus, 0xcfe, 2, true, &v));
    assert_int_equal(v, 0x10d3);
    assert_true(vpci_bus_io(&bus, 0xcfd, 4, true, &v));
    assert_int_equal(v, 0xffffffffu);
    /* A byte write through 0xcfd reaches the command register's high byte. */
    v = VPCI_ADDR_ENABLE | (uint32_t)SLOT1 << 8 | 0x04;
    assert_true(vpci_bus_io(&bus, 0xcf8, 4, false, &v));
    v = 0x04;
    assert_true(vpci_bus_io(&bus, 0xcfd, 1, false, &v));
    assert_int_equal(rd(0x04, 2), PCI_COMMAND_INTX_DISABLE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_host_bridge_and_absent, setup),
        cmocka_unit_test_setup(test_ids_as_hardware, setup),
        cmocka_unit_test_setup(test_readonly_writes_dropped, setup),
        cmocka_unit_test_setup(test_status_rw1c, setup),
        cmocka_unit_test_setup(test_bar_sizing, setup),
        cmocka_unit_test_setup(test_bar_assign_and_map, setup),
        cmocka_unit_test_setup(test_bar_map_refused_by_caller, setup),
        cmocka_unit_test_setup(test_io_bar_direct, setup),
        cmocka_unit_test_setup(test_io_bar_outside_window_trapped, setup),
        cmocka_unit_test_setup(test_io_bar_without_io_pass, setup),
        cmocka_unit_test_setup(test_io_bar_open_refused, setup),
        cmocka_unit_test_setup(test_io_direct_rules, setup),
        cmocka_unit_test_setup(test_io_bar_assignment_collisions, setup),
        cmocka_unit_test_setup(test_master_needs_domain, setup),
        cmocka_unit_test_setup(test_capabilities_filtered, setup),
        cmocka_unit_test_setup(test_pm_and_pcie_shadow, setup),
        cmocka_unit_test_setup(test_msi, setup),
        cmocka_unit_test_setup(test_msi_unroutable, setup),
        cmocka_unit_test_setup(test_msix, setup),
        cmocka_unit_test_setup(test_msix_many_entries, setup),
        cmocka_unit_test_setup(test_hostile_devices, setup),
        cmocka_unit_test_setup(test_small_bar_trapped, setup),
        cmocka_unit_test_setup(test_ports, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
