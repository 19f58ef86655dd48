/* The host side of passthrough that is pure logic: isolation groups
 * (drivers/pci_group.c), quiescing (drivers/pci_quiesce.c), the VM's ACPI
 * description of its PCI bus (vdev/vpci_acpi.c through guest/acpi_gen.c),
 * and the configuration checks of `pci` against the machine
 * (core/config_validate.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/config.h"
#include "drivers/pci_group.h"
#include "drivers/pci_quiesce.h"
#include "vdev/acpi_gen.h"
#include "vdev/vpci_acpi.h"

/* --- a fake configuration space: 16 functions by index ---------------- */

#define NF 16
static uint8_t space[NF][4096];
static uint16_t bdfs[NF];
static unsigned nf;
static unsigned delays_ms;

static int fidx(uint16_t bdf)
{
    for (unsigned i = 0; i < nf; i++)
        if (bdfs[i] == bdf)
            return (int)i;
    return -1;
}

static uint32_t f_read(void *ctx, uint16_t seg, uint16_t bdf, uint16_t off, unsigned w)
{
    int i = fidx(bdf);
    if (i < 0)
        return w == 4 ? 0xffffffffu : (1u << (8 * w)) - 1;
    uint32_t v = 0;
    for (unsigned k = 0; k < w; k++)
        v |= (uint32_t)space[i][off + k] << (8 * k);
    return v;
}

static void f_write(void *ctx, uint16_t seg, uint16_t bdf, uint16_t off, unsigned w, uint32_t v)
{
    int i = fidx(bdf);
    if (i < 0)
        return;
    for (unsigned k = 0; k < w; k++)
        space[i][off + k] = (uint8_t)(v >> (8 * k));
    /* An FLR (PCIe device control bit 15) clears the BARs and command. */
    if (off == 0x48 && (v & 0x8000) && space[i][0x40] == 0x10) {
        memset(&space[i][0x04], 0, 2);
        memset(&space[i][0x10], 0, 24);
        space[i][0x49] &= 0x7f;
    }
}

static void f_delay(unsigned ms)
{
    delays_ms += ms;
}

static const struct pci_ops ops = {f_read, f_write, NULL};

static void put(uint8_t *p, unsigned off, unsigned w, uint32_t v)
{
    for (unsigned k = 0; k < w; k++)
        p[off + k] = (uint8_t)(v >> (8 * k));
}

static struct pci_dev devs[NF];

static unsigned add(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t hdr, int pcie_type, bool acs)
{
    unsigned i = nf++;
    bdfs[i] = PCI_BDF(bus, dev, fn);
    memset(space[i], 0, sizeof(space[i]));
    memset(&devs[i], 0, sizeof(devs[i]));
    devs[i].bus = bus;
    devs[i].dev = dev;
    devs[i].fn = fn;
    devs[i].header_type = hdr;
    put(space[i], 0, 4, 0x12348086);
    if (pcie_type >= 0) {
        put(space[i], 0x06, 2, 0x10);
        space[i][0x34] = 0x40;
        space[i][0x40] = 0x10;
        put(space[i], 0x42, 2, (uint32_t)pcie_type << 4 | 2);
    }
    if (acs)
        put(space[i], 0x100, 4, 0x000d | 1u << 16);
    return i;
}

static unsigned bridge(uint8_t bus, uint8_t dev, uint8_t sec, int pcie_type)
{
    unsigned i = add(bus, dev, 0, PCI_HEADER_BRIDGE, pcie_type, false);
    devs[i].secondary_bus = sec;
    devs[i].subordinate_bus = sec;
    return i;
}

static int reset(void **state)
{
    nf = 0;
    delays_ms = 0;
    return 0;
}

static void test_groups(void **state)
{
    struct pci_group g[NF];
    /* Root bus: a single-function NIC, a multi-function device without
     * ACS (00:1f.0, .2, .3), one with ACS on every function (00:1c.0/.1),
     * a root port 00:01.0 -> bus 1 with a PCIe switch (upstream 01:00.0 ->
     * bus 2, downstream 02:00.0 without ACS -> bus 3, 02:01.0 -> bus 4),
     * a PCIe-to-PCI bridge 00:1e.0 -> bus 5 with two devices. */
    unsigned nic = add(0, 2, 0, 0, 0, false);
    unsigned lpc = add(0, 0x1f, 0, 0, -1, false), sata = add(0, 0x1f, 2, 0, -1, false);
    unsigned smb = add(0, 0x1f, 3, 0, -1, false);
    unsigned a0 = add(0, 0x1c, 0, 0, 0, true), a1 = add(0, 0x1c, 1, 0, 0, true);
    bridge(0, 1, 1, 4);
    unsigned up = bridge(1, 0, 2, 5);
    bridge(2, 0, 3, 6);
    bridge(2, 1, 4, 6);
    unsigned d3 = add(3, 0, 0, 0, 0, false), d4 = add(4, 0, 0, 0, 0, false);
    unsigned p2p = bridge(0, 0x1e, 5, 7);
    unsigned c1 = add(5, 1, 0, 0, -1, false), c2 = add(5, 2, 0, 0, -1, false);
    pci_groups(&ops, devs, nf, g);
    assert_int_equal(g[nic].leader, nic);
    assert_string_equal(g[nic].why, "");
    assert_int_equal(g[lpc].leader, lpc);
    assert_int_equal(g[sata].leader, lpc);
    assert_int_equal(g[smb].leader, lpc);
    assert_string_equal(g[sata].why, "functions of one device without ACS");
    assert_int_equal(g[a0].leader, a0);
    assert_int_equal(g[a1].leader, a1);
    assert_int_equal(g[d3].leader, up);
    assert_int_equal(g[d4].leader, up);
    assert_string_equal(g[d3].why, "below the PCIe switch 01:00.0, whose ports lack ACS");
    assert_int_equal(g[c1].leader, p2p);
    assert_int_equal(g[c2].leader, p2p);
    assert_string_equal(g[c2].why, "behind the PCIe-to-PCI bridge 00:1e.0");
}

static void test_groups_hostile(void **state)
{
    struct pci_group g[NF];
    /* Two bridges naming each other's bus (a loop), a capability loop. */
    unsigned b1 = bridge(1, 0, 2, 6), b2 = bridge(2, 0, 1, 6);
    unsigned d = add(2, 5, 0, 0, 0, false);
    space[d][0x41] = 0x40;                          /* PCIe capability pointing at itself */
    put(space[d], 0x100, 4, 0x0001 | 0x100u << 20); /* extended list loop */
    pci_groups(&ops, devs, nf, g);
    assert_true(g[d].leader < nf);
    assert_true(g[b1].leader < nf && g[b2].leader < nf);
}

static void test_quiesce_flr(void **state)
{
    unsigned i = add(0, 3, 0, 0, 0, false);
    put(space[i], 0x44, 4, 1u << 28); /* FLR capable */
    put(space[i], 0x04, 2, 0x7);
    put(space[i], 0x10, 4, 0xfebc0000);
    put(space[i], 0x14, 4, 0xc001);
    space[i][0x3c] = 11;
    assert_int_equal(pci_quiesce_ops(&ops, 0, bdfs[i], f_delay), PCI_QUIESCE_FLR);
    assert_true(delays_ms >= 100);
    /* BARs and the interrupt line back; no mastering, no decoding. */
    assert_int_equal(f_read(NULL, 0, bdfs[i], 0x10, 4), 0xfebc0000);
    assert_int_equal(f_read(NULL, 0, bdfs[i], 0x14, 4), 0xc001);
    assert_int_equal(space[i][0x3c], 11);
    assert_int_equal(f_read(NULL, 0, bdfs[i], 0x04, 2) & 7, 0);
}

static void test_quiesce_no_flr(void **state)
{
    unsigned i = add(0, 3, 0, 0, -1, false);
    put(space[i], 0x04, 2, 0x7);
    put(space[i], 0x06, 2, 0x10);
    space[i][0x34] = 0x50;
    space[i][0x50] = 0x05; /* MSI, enabled */
    space[i][0x51] = 0x60;
    put(space[i], 0x52, 2, 1);
    space[i][0x60] = 0x11; /* MSI-X, enabled */
    put(space[i], 0x62, 2, 0x8000);
    assert_int_equal(pci_quiesce_ops(&ops, 0, bdfs[i], f_delay), PCI_QUIESCE_DISABLED);
    assert_int_equal(delays_ms, 0);
    assert_int_equal(f_read(NULL, 0, bdfs[i], 0x04, 2) & 7, 0);
    assert_int_equal(f_read(NULL, 0, bdfs[i], 0x52, 2) & 1, 0);
    assert_int_equal(f_read(NULL, 0, bdfs[i], 0x62, 2), 0x4000);
    assert_non_null(strstr(pci_quiesce_name(PCI_QUIESCE_DISABLED), "bus mastering"));
}

/* --- ACPI ------------------------------------------------------------- */

static const struct vpci_acpi acpi_pci = {3,      0xc0000000, 0x20000000, 0xc000,
                                          0x1000, 16,         0xe0000000};

static unsigned pkglen(const uint8_t *p, unsigned *bytes)
{
    unsigned n = p[0] >> 6;
    *bytes = n + 1;
    if (!n)
        return p[0] & 0x3f;
    unsigned len = p[0] & 0xf;
    for (unsigned i = 1; i <= n; i++)
        len |= (unsigned)p[i] << (4 + 8 * (i - 1));
    return len;
}

static const uint8_t *find(const uint8_t *p, size_t n, const void *what, size_t wn)
{
    for (size_t i = 0; i + wn <= n; i++)
        if (!memcmp(p + i, what, wn))
            return p + i;
    return NULL;
}

static void test_dsdt_pci0(void **state)
{
    uint8_t aml[1024];
    size_t n = vpci_acpi_dsdt(aml, sizeof(aml), &acpi_pci);
    assert_true(n > 100);
    /* DeviceOp, its PkgLength covering exactly the term, \_SB.PCI0. */
    assert_int_equal(aml[0], 0x5b);
    assert_int_equal(aml[1], 0x82);
    unsigned lb, len = pkglen(aml + 2, &lb);
    assert_int_equal(2 + len, n);
    assert_memory_equal(aml + 2 + lb, "\\._SB_PCI0", 10);
    static const uint8_t hid[] = {0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x03};
    assert_non_null(find(aml, n, hid, sizeof(hid)));
    /* _PRT: 3 slots x 4 pins; slot 3 pin D -> GSI 18. */
    const uint8_t *prt = find(aml, n, "_PRT", 4);
    assert_non_null(prt);
    assert_int_equal(prt[4], 0x12);
    unsigned pb;
    pkglen(prt + 5, &pb);
    assert_int_equal(prt[5 + pb], 12);
    static const uint8_t last[] = {0x12, 0x0c, 0x04, 0x0c, 0xff, 0xff, 0x03,
                                   0x00, 0x0a, 0x03, 0x00, 0x0a, 18};
    assert_non_null(find(aml, n, last, sizeof(last)));
    /* _CRS: the memory window as a DWordMemory descriptor. */
    static const uint8_t win[] = {0x00, 0x00, 0x00, 0xc0, 0xff, 0xff, 0xff, 0xdf};
    assert_non_null(find(aml, n, win, sizeof(win)));
    /* Too little room: 0, nothing claimed. */
    assert_int_equal(vpci_acpi_dsdt(aml, 40, &acpi_pci), 0);
    struct vpci_acpi many = acpi_pci;
    many.slots = 32;
    assert_int_equal(vpci_acpi_dsdt(aml, sizeof(aml), &many), 0);
}

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    while (n--)
        s = (uint8_t)(s + *p++);
    return s;
}

static void test_tables_with_pci(void **state)
{
    static uint8_t buf[0x20000];
    struct acpi_gen_params p;
    struct acpi_gen_layout l;
    const uint64_t base = 0xe0000;
    acpi_gen_default_params(&p, 2, base);
    assert_true(acpi_gen_build(&p, buf, sizeof(buf), &l));
    uint8_t *x = buf + (l.xsdt_gpa - base);
    assert_int_equal(x[4], 36 + 16); /* FADT, MADT */
    uint8_t *f = buf + (l.fadt_gpa - base);
    assert_true(f[109] & (1u << 3)); /* IAPC_BOOT_ARCH: MSI not supported */
    size_t dsdt_plain = buf[l.dsdt_gpa - base + 4];

    p.pci = &acpi_pci;
    assert_true(acpi_gen_build(&p, buf, sizeof(buf), &l));
    x = buf + (l.xsdt_gpa - base);
    assert_int_equal(x[4], 36 + 24); /* + MCFG */
    assert_int_equal(sum(x, x[4]), 0);
    uint64_t mcfg;
    memcpy(&mcfg, x + 36 + 16, 8);
    uint8_t *m = buf + (mcfg - base);
    assert_memory_equal(m, "MCFG", 4);
    assert_int_equal(m[4], VPCI_ACPI_MCFG_LEN);
    assert_int_equal(sum(m, VPCI_ACPI_MCFG_LEN), 0);
    uint64_t ecam;
    memcpy(&ecam, m + 44, 8);
    assert_int_equal(ecam, 0xe0000000);
    assert_int_equal(m[54], 0); /* start bus */
    assert_int_equal(m[55], 0); /* end bus */
    f = buf + (l.fadt_gpa - base);
    assert_false(f[109] & (1u << 3)); /* MSI allowed with a PCI bus */
    uint8_t *d = buf + (l.dsdt_gpa - base);
    uint32_t dlen;
    memcpy(&dlen, d + 4, 4);
    assert_true(dlen > dsdt_plain);
    assert_int_equal(sum(d, dlen), 0);
    assert_non_null(find(d, dlen, "_SB_PCI0", 8));
}

/* --- configuration checks against the machine ------------------------- */

static struct config cfg;

static int parse_check(const char *text, const struct config_machine *m)
{
    config_parse(text, strlen(text), "t.cfg", &cfg);
    return config_validate(&cfg, m);
}

static const struct config_pci_fact facts[] = {
    {0, PCI_BDF(0, 2, 0), 0, NULL, false},
    {0, PCI_BDF(0, 0x1f, 0), 1, "functions of one device without ACS", false},
    {0, PCI_BDF(0, 0x1f, 2), 1, "functions of one device without ACS", false},
    {0, PCI_BDF(0, 0x1e, 0), 3, NULL, true},
};

static void expect_err(const char *msg)
{
    for (unsigned i = 0; i < cfg.nr_errors; i++)
        if (strstr(cfg.errors[i].msg, msg))
            return;
    for (unsigned i = 0; i < cfg.nr_errors; i++)
        print_message("error: %s\n", cfg.errors[i].msg);
    fail_msg("no error containing: %s", msg);
}

static void test_config_pci_machine(void **state)
{
    struct config_machine m = {0};
    m.pci_known = true;
    m.nr_pci = 4;
    m.pci = facts;
    m.iommu = 1;
    assert_int_equal(parse_check("[vm a]\nkernel = k\nplatform = pc\npci = [00:02.0]\n", &m), 0);
    assert_true(cfg.vm_valid[0]);
    /* Absent, and a bridge. */
    parse_check("[vm a]\nkernel = k\nplatform = pc\npci = [00:03.0]\n", &m);
    expect_err("pci: 00:03.0 does not exist on this machine");
    parse_check("[vm a]\nkernel = k\nplatform = pc\npci = [00:1e.0]\n", &m);
    expect_err("pci: 00:1e.0 is a bridge");
    /* One group in two VMs: the second is refused, naming the first and why. */
    parse_check("[vm a]\nkernel = k\nplatform = pc\npci = [00:1f.0]\n"
                "[vm b]\nkernel = k\nplatform = pc\npci = [00:1f.2]\n",
                &m);
    assert_true(cfg.vm_valid[0]);
    assert_false(cfg.vm_valid[1]);
    expect_err("pci: 00:1f.2 and 00:1f.0 (vm a) cannot be isolated from each other (functions "
               "of one device without ACS): give them to the same VM");
    /* ... one VM may have the whole group. */
    assert_int_equal(
        parse_check("[vm a]\nkernel = k\nplatform = pc\npci = [00:1f.0, 00:1f.2]\n", &m), 0);
    /* A device given twice. */
    parse_check("[vm a]\nkernel = k\nplatform = pc\npci = [00:02.0]\n"
                "[vm b]\nkernel = k\nplatform = pc\npci = [00:02.0]\n",
                NULL);
    expect_err("pci: 00:02.0 is already given to vm a (line 4)");
    assert_false(cfg.vm_valid[1]);
    /* No IOMMU: refused unless off-unsafe. */
    m.iommu = -1;
    parse_check("[vm a]\nkernel = k\nplatform = pc\npci = [00:02.0]\n", &m);
    expect_err("pci: this machine has no IOMMU, so 00:02.0 could DMA anywhere: refused unless the "
               "VM says `iommu = off-unsafe`");
    assert_int_equal(
        parse_check("[vm a]\nkernel = k\nplatform = pc\npci = [00:02.0]\niommu = off-unsafe\n", &m),
        0);
}

static void test_config_identity(void **state)
{
    /* iommu = off-unsafe + pci + memory_base: identity-mapped RAM, Linux only,
     * below the 32-bit PCI hole. */
    const char *ok = "[vm a]\nkernel = k\nprotocol = linux\nmemory = 256M\n"
                     "memory_base = 0x20000000\npci = [00:02.0]\niommu = off-unsafe\n";
    assert_int_equal(parse_check(ok, NULL), 0);
    assert_int_equal(vm_identity_base(&cfg.vms[0]), 0x20000000);
    parse_check("[vm a]\nkernel = k\nplatform = pc\nmemory = 256M\nmemory_base = 0x20000000\n"
                "pci = [00:02.0]\niommu = off-unsafe\n",
                NULL);
    expect_err("memory_base: identity-mapped RAM (iommu = off-unsafe with pci) needs protocol = "
               "linux");
    parse_check("[vm a]\nkernel = k\nprotocol = linux\nmemory = 1G\nmemory_base = 0xa0000000\n"
                "pci = [00:02.0]\niommu = off-unsafe\n",
                NULL);
    expect_err(
        "memory_base: identity-mapped RAM (iommu = off-unsafe with pci) must end below 3 GiB");
    /* Without memory_base, or without off-unsafe: no identity map. */
    parse_check("[vm a]\nkernel = k\nprotocol = linux\nmemory = 256M\npci = [00:02.0]\n"
                "iommu = off-unsafe\n",
                NULL);
    assert_int_equal(vm_identity_base(&cfg.vms[0]), 0);
    parse_check("[vm a]\nkernel = k\nprotocol = linux\nmemory = 256M\n"
                "memory_base = 0x20000000\npci = [00:02.0]\n",
                NULL);
    assert_int_equal(vm_identity_base(&cfg.vms[0]), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_groups, reset),
        cmocka_unit_test_setup(test_groups_hostile, reset),
        cmocka_unit_test_setup(test_quiesce_flr, reset),
        cmocka_unit_test_setup(test_quiesce_no_flr, reset),
        cmocka_unit_test(test_dsdt_pci0),
        cmocka_unit_test(test_tables_with_pci),
        cmocka_unit_test(test_config_pci_machine),
        cmocka_unit_test(test_config_identity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
