/* The virtual PCI bus of a VM with passed-through devices (vdev/vpci_*.c):
 * host bridge and absent functions, both access paths, IDs as the
 * hardware's, BAR sizing and moving with the map/unmap callbacks, I/O BARs,
 * the command register's isolation rules. Capabilities, MSI and MSI-X are
 * in test_vpci_bridge_caps.c; the fake hardware is vpci_bridge_fake.h. */
#include "vpci_bridge_fake.h"

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
        cmocka_unit_test_setup(test_ports, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
