/* The virtual PCI bus of one VM with passed-through devices: a host bridge
 * at 00:00.0 and the VM's devices at guest slots 00:01.0 upwards, reached
 * through configuration mechanism #1 (ports 0xCF8/0xCFC) and through ECAM.
 *
 * Pure logic (host unit tests, fuzzing): the hardware is reached only
 * through struct vpci_ops. What the guest sees of a device:
 *  - IDs, class, subsystem and interrupt pin as the hardware's;
 *  - the command register virtual: bus mastering only once the device's
 *    DMA domain exists (ops->dma_ready), never a write that breaks
 *    isolation; I/O and memory decoding map and unmap the BARs;
 *  - BARs virtual: sizing (write all ones, read the size mask) and moving;
 *    ops->bar_map tells the caller to map a BAR at the guest's address
 *    (MMIO in the second-level tables, I/O in the I/O bitmap) or unmap it;
 *    an address outside the bus windows is never mapped;
 *  - the capability list filtered: MSI, MSI-X, PCI Express and power
 *    management kept and re-linked, the rest (and every extended
 *    capability, and the expansion ROM) hidden;
 *  - MSI and MSI-X emulated: the guest's address/data/mask live here, and
 *    ops->msi_route turns an enabled, unmasked vector into the host
 *    address/data programmed into the hardware; the MSI-X table and PBA
 *    are trapped (vpci_bar_access);
 *  - writes to read-only or hidden registers are dropped.
 * The caller serialises calls on one bus (the VM's platform lock). */
#ifndef VDEV_VPCI_BRIDGE_H
#define VDEV_VPCI_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/pci.h"

#define VPCI_MAX_DEVS     8
#define VPCI_MSIX_MAX     64 /* MSI-X entries emulated per device */
#define VPCI_CFG_SIZE     256
#define VPCI_ECAM_SIZE    0x100000ULL /* bus 0 only: 32 devices x 8 functions x 4 KiB */
#define VPCI_ADDR_ENABLE  0x80000000U
#define VPCI_HOST_VENDOR  0x8086 /* the host bridge: an i440FX, as Bochs' */
#define VPCI_HOST_DEVICE  0x1237
#define VPCI_MSI_SLOT     0          /* ops->msi_route slot of the MSI vector */
#define VPCI_MSIX_SLOT(n) (1u + (n)) /* ... and of MSI-X entry n */

/* Capability IDs kept (PCI 3.0 appendix H). */
#define PCI_CAP_PM   0x01
#define PCI_CAP_PCIE 0x10

struct vpci_dev;

struct vpci_ops {
    void *ctx;
    /* The device's own configuration space (width 1, 2 or 4, aligned). */
    uint32_t (*cfg_read)(void *ctx, const struct vpci_dev *d, uint16_t off, unsigned width);
    void (*cfg_write)(void *ctx, const struct vpci_dev *d, uint16_t off, unsigned width,
                      uint32_t val);
    /* The device's registers behind a host BAR (MSI-X table, PBA and what
     * shares their pages): width 1, 2, 4 or 8. */
    uint64_t (*bar_read)(void *ctx, const struct vpci_dev *d, unsigned bar, uint64_t off,
                         unsigned width);
    void (*bar_write)(void *ctx, const struct vpci_dev *d, unsigned bar, uint64_t off,
                      unsigned width, uint64_t val);
    /* Map (map=true) BAR `bar` at guest address gpa, or unmap it from gpa.
     * Returns false when the mapping cannot be made (the BAR then stays
     * unmapped). */
    bool (*bar_map)(void *ctx, const struct vpci_dev *d, unsigned bar, uint64_t gpa, bool map);
    /* May the device master the bus (its DMA domain exists)? */
    bool (*dma_ready)(void *ctx, const struct vpci_dev *d);
    /* An enabled, unmasked vector with the guest's MSI address and data:
     * returns the host's (remapped) address/data for the hardware, or false
     * when it cannot be routed (the vector then stays off). */
    bool (*msi_route)(void *ctx, const struct vpci_dev *d, unsigned slot, uint64_t guest_addr,
                      uint32_t guest_data, uint64_t *host_addr, uint32_t *host_data);
    /* The vector routed before is off now (free its remapping entry). */
    void (*msi_release)(void *ctx, const struct vpci_dev *d, unsigned slot);
    /* A guest write that was refused, in words (for the log). */
    void (*refused)(void *ctx, const struct vpci_dev *d, const char *what);
    /* Opens (open=true) ports [base, base+count) in the VM's I/O bitmap, so
     * they reach the hardware without a trap, or closes them again. An
     * open may be refused (false: the ports stay trapped, e.g. the host's
     * own); a close always succeeds. NULL: I/O BARs are always trapped and
     * forwarded port by port. */
    bool (*io_pass)(void *ctx, uint16_t base, uint16_t count, bool open);
};

struct vpci_bar {
    uint64_t size;    /* as the guest sees it; 0: not implemented (or an upper half) */
    uint64_t hw_size; /* the hardware's: an MMIO BAR under a page shows as a page, trapped */
    uint64_t host;    /* the hardware's address, never changed */
    uint64_t guest;   /* the guest's address, flag bits stripped */
    uint8_t flags;    /* PCI_BAR_IO, PCI_BAR_MEM64, PCI_BAR_PREFETCH, PCI_BAR_UPPER */
    bool mapped;      /* ops->bar_map(map=true) done at mapped_at */
    uint64_t mapped_at;
    bool io_open; /* I/O BAR: its ports opened by ops->io_pass at mapped_at */
};

struct vpci_msi {
    uint8_t cap; /* offset, 0 = none */
    bool is64, maskable;
    bool enabled;
    uint64_t addr;
    uint32_t data, mask;
    bool routed; /* ops->msi_route succeeded for the current message */
    uint64_t routed_addr;
    uint32_t routed_data;
};

struct vpci_msix_entry {
    uint32_t addr_lo, addr_hi, data, ctrl;
    bool routed;
    uint64_t routed_addr;
    uint32_t routed_data;
};

struct vpci_msix {
    uint8_t cap;
    bool enabled, fn_mask;
    unsigned nr;    /* entries the guest sees */
    unsigned hw_nr; /* entries the hardware has */
    uint8_t table_bar, pba_bar;
    uint32_t table_off, pba_off;
    struct vpci_msix_entry e[VPCI_MSIX_MAX];
};

struct vpci_dev {
    uint8_t slot; /* guest device number on bus 0 (function 0) */
    uint16_t host_seg, host_bdf;
    uint8_t cfg[VPCI_CFG_SIZE];       /* the hardware's header and capabilities, read once */
    uint8_t cap_owner[VPCI_CFG_SIZE]; /* kept capability owning each byte (its offset), or 0 */
    uint8_t cap_next[VPCI_CFG_SIZE];  /* re-linked next pointer, by capability offset */
    uint8_t first_cap;
    uint16_t command; /* the guest's view */
    uint8_t cache_line, latency, irq_line;
    struct vpci_bar bar[6];
    struct vpci_msi msi;
    struct vpci_msix msix;
    uint8_t pm_cap;
    uint16_t pmcsr;
    uint8_t pcie_cap;
    uint8_t pcie_len;
    uint8_t pcie[0x3c]; /* shadow: control writes stay here */
    unsigned refused;   /* writes refused so far */
};

struct vpci_window {
    uint64_t base, size;
};

struct vpci_bus {
    const struct vpci_ops *ops;
    uint32_t cf8;
    struct vpci_window mmio, io; /* where guest BARs may be mapped */
    struct vpci_dev dev[VPCI_MAX_DEVS];
    unsigned nr;
};

void vpci_bus_init(struct vpci_bus *b, const struct vpci_ops *ops, struct vpci_window mmio,
                   struct vpci_window io);
/* Adds the hardware function hw at the next guest slot: reads its
 * configuration space, filters the capabilities, quietens MSI/MSI-X and
 * turns bus mastering off in the hardware. NULL with a reason in err for a
 * device that cannot be given (a bridge, a full bus, an MSI-X table
 * outside its BAR). */
struct vpci_dev *vpci_add_device(struct vpci_bus *b, const struct pci_dev *hw, char *err,
                                 size_t errlen);
/* What firmware does: gives every BAR a naturally aligned guest address
 * inside the windows (largest first). An I/O BAR whose host ports lie in
 * the I/O window keeps them (port numbers are not translated: only there
 * can it reach the hardware without a trap). Decoding stays off until the
 * guest turns it on. Returns false when the windows are too small. */
bool vpci_assign_bars(struct vpci_bus *b);

/* Configuration access by guest BDF (bus 15:8, device 7:3, function 2:0)
 * and register: width 1, 2 or 4, aligned. Absent functions read all ones. */
uint32_t vpci_cfg_read(struct vpci_bus *b, uint16_t bdf, uint16_t reg, unsigned width);
void vpci_cfg_write(struct vpci_bus *b, uint16_t bdf, uint16_t reg, unsigned width, uint32_t val);
/* Ports 0xCF8-0xCFF: false for ports that are not the mechanism's (outside
 * the range, and byte accesses to 0xCF9, the reset control register). */
bool vpci_bus_io(struct vpci_bus *b, uint16_t port, unsigned size, bool in, uint32_t *val);
/* An access at offset off of the ECAM window (bus 0 only). */
void vpci_ecam_access(struct vpci_bus *b, uint64_t off, unsigned size, bool write, uint64_t *val);

/* The part of BAR `bar` that must trap (the pages holding the MSI-X table
 * and PBA): up to two ranges of BAR offsets, page aligned. Returns how
 * many. */
unsigned vpci_bar_traps(const struct vpci_dev *d, unsigned bar, uint64_t off[2], uint64_t len[2]);
/* A guest access at offset off of BAR `bar` in a trapped page: the MSI-X
 * table is emulated, the PBA read from the hardware, anything else there
 * forwarded. Width 1, 2, 4 or 8. */
void vpci_bar_access(struct vpci_bus *b, struct vpci_dev *d, unsigned bar, uint64_t off,
                     unsigned width, bool write, uint64_t *val);
/* The device (and BAR) whose guest address range holds gpa, or NULL. */
struct vpci_dev *vpci_find_bar(struct vpci_bus *b, uint64_t gpa, bool io, unsigned *bar,
                               uint64_t *off);

/* vpci_io.c. Whether I/O BAR r, decoded at guest port gpa, may reach the
 * hardware directly: only at its host ports (no translation of port
 * numbers), the whole BAR and nothing else, never a port below 0x1000
 * (the PC's legacy ports: PIC, PIT, RTC, UARTs, the configuration
 * mechanism 0xCF8-0xCFF, ...) nor an emulator's control ports. The ports
 * to open in *base, *count. */
bool vpci_io_direct_ok(const struct vpci_bar *r, uint64_t gpa, uint16_t *base, uint16_t *count);
/* Whether host ports [first, last] include one no VM may reach, directly
 * or forwarded (the legacy ports below 0x1000, 0x8900), or run past
 * 0xffff. */
bool vpci_io_port_reserved(uint32_t first, uint32_t last);
/* Called by the BAR state machine right after BAR i was mapped at
 * mapped_at (opens its ports when vpci_io_direct_ok) and right before it
 * is unmapped (closes them). */
void vpci_io_mapped(struct vpci_bus *b, struct vpci_dev *d, unsigned i);
void vpci_io_unmapping(struct vpci_bus *b, struct vpci_dev *d, unsigned i);

/* Stops everything the guest started: unmaps BARs and releases routed
 * vectors (the VM stops; the hardware is quiesced separately). */
void vpci_bus_release(struct vpci_bus *b);

#endif
