/* The device's I/O BAR (the e1000's IOADDR at +0, IODATA at +4), with the
 * exit counts the test reads from `stats` in mind: IO_ROUNDS rounds (two
 * port accesses each) with I/O decoding on at the host ports (direct: no
 * exits), the same with decoding off (each one traps and reads all ones),
 * and again with decoding on (direct again). Then a few accesses with the
 * BAR moved inside the window (trapped and forwarded to the host ports),
 * and the BAR put over the hypervisor's UART (0x3F8) and the configuration
 * ports (0xCF8): refused, and both keep working. */
#include "tests/guests/pcitest/pcitest.h"

#define IO_ROUNDS    10000
#define E1000_STATUS 0x08

/* Reads a register through IOADDR/IODATA n times; the last value, or
 * 0xdeadbeef when the reads disagreed. */
static uint32_t io_rounds(uint16_t base, unsigned n)
{
    uint32_t first = 0, v = 0;
    for (unsigned i = 0; i < n; i++) {
        outl(base, E1000_STATUS);
        v = inl((uint16_t)(base + 4));
        if (i == 0)
            first = v;
        else if (v != first)
            return 0xdeadbeefu;
    }
    return v;
}

static unsigned find_io_bar(unsigned dev)
{
    for (unsigned k = 0; k < 6; k++)
        if (cfg_read(dev, 0x10 + 4 * k) & 1)
            return k;
    return 6;
}

void pcitest_iobar(unsigned dev, uint32_t mmio_bar)
{
    unsigned k = find_io_bar(dev);
    if (k == 6) {
        fail("no I/O BAR");
        return;
    }
    unsigned reg = 0x10 + 4 * k;
    uint16_t io = (uint16_t)(cfg_read(dev, reg) & ~3u);
    cfg_write(dev, reg, 0xffffffffu);
    uint32_t size = ~(cfg_read(dev, reg) & ~3u) + 1;
    cfg_write(dev, reg, io);
    printf("pcitest: I/O BAR%u 0x%x size 0x%x\n", k, io, size & 0xffff);
    uint32_t cmd = cfg_read(dev, 0x04) & 0xffff;
    uint32_t status = ((volatile uint32_t *)(uintptr_t)mmio_bar)[E1000_STATUS / 4];

    cfg_write(dev, 0x04, cmd | 1u); /* I/O decoding on */
    uint32_t direct = io_rounds(io, IO_ROUNDS);
    printf("pcitest: io direct: %u accesses, STATUS 0x%x (mmio 0x%x)\n", 2 * IO_ROUNDS, direct,
           status);
    if (direct == 0xffffffffu || direct == 0xdeadbeefu)
        fail("I/O BAR not reached");

    cfg_write(dev, 0x04, cmd & ~1u); /* off: every access traps, nothing decodes */
    uint32_t off = io_rounds(io, IO_ROUNDS);
    printf("pcitest: io decode off: %u accesses read 0x%x\n", 2 * IO_ROUNDS, off);
    if (off != 0xffffffffu)
        fail("I/O BAR still decoded with I/O decoding off");

    cfg_write(dev, 0x04, cmd | 1u);
    uint32_t again = io_rounds(io, IO_ROUNDS);
    printf("pcitest: io decode on again: %u accesses, STATUS 0x%x\n", 2 * IO_ROUNDS, again);
    if (again != direct)
        fail("I/O BAR after decoding on again");

    /* Moved inside the window: other port numbers than the hardware's, so
     * trapped and forwarded; the old ports decode nothing. */
    uint16_t moved = (uint16_t)(io ^ 0x800);
    cfg_write(dev, reg, moved);
    uint32_t fwd = io_rounds(moved, 8), stale = io_rounds(io, 1);
    printf("pcitest: io BAR moved to 0x%x: STATUS 0x%x, old ports read 0x%x\n",
           cfg_read(dev, reg) & ~3u, fwd, stale);
    if (fwd != direct || stale != 0xffffffffu)
        fail("I/O BAR move");

    /* Over the hypervisor's ports: refused (outside the VM's window), and
     * the UART and the configuration mechanism keep working. */
    cfg_write(dev, reg, 0x3f8);
    printf("pcitest: io BAR over 0x3f8: the serial line still prints\n");
    cfg_write(dev, reg, 0xcf8);
    uint32_t id = cfg_read(dev, 0);
    printf("pcitest: io BAR over 0xcf8: config space reads %04x:%04x\n", id & 0xffff, id >> 16);
    if (id != 0x100e8086u)
        fail("config space after an I/O BAR over 0xcf8");
    cfg_write(dev, reg, io);
    uint32_t back = io_rounds(io, 8);
    printf("pcitest: io BAR back at 0x%x: STATUS 0x%x\n", cfg_read(dev, reg) & ~3u, back);
    if (back != direct)
        fail("I/O BAR back at its host ports");
}
