/* The virtual PCI bus (vdev/vpci_*.c), continued from test_vpci_bridge.c:
 * the filtered capability list, PM and PCIe shadows, MSI and MSI-X routing,
 * the trapped MSI-X table and PBA, small BARs, and hostile device contents.
 * The fake hardware is vpci_bridge_fake.h. */
#include "vpci_bridge_fake.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_capabilities_filtered, setup),
        cmocka_unit_test_setup(test_pm_and_pcie_shadow, setup),
        cmocka_unit_test_setup(test_msi, setup),
        cmocka_unit_test_setup(test_msi_unroutable, setup),
        cmocka_unit_test_setup(test_msix, setup),
        cmocka_unit_test_setup(test_msix_many_entries, setup),
        cmocka_unit_test_setup(test_hostile_devices, setup),
        cmocka_unit_test_setup(test_small_bar_trapped, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
