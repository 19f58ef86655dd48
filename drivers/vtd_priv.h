/* Shared between the VT-d driver's files (vtd.c, vtd_domain.c,
 * vtd_selftest.c) only. */
#ifndef DRIVERS_VTD_PRIV_H
#define DRIVERS_VTD_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/vtd.h"
#include "drivers/vtd_dmar.h"
#include "drivers/vtd_fault.h"
#include "drivers/vtd_hw.h"
#include "drivers/vtd_ir.h"
#include "drivers/vtd_sm.h"
#include "drivers/vtd_tables.h"
#include "lib/spinlock.h"

#define VTD_MAX_DOMAINS 16
#define VTD_MAX_DEVS    64

struct vtd_unit {
    bool present; /* described by the DMAR and answering */
    bool usable;  /* passed the capability checks */
    bool translating;
    char why[96]; /* why it is not usable */
    uint64_t base;
    volatile uint8_t *regs;
    uint16_t segment;
    bool include_all;
    uint32_t ver;
    uint64_t cap, ecap;
    bool qi, ir, eim, coherent;
    bool scalable; /* scalable-mode tables and 256-bit queue descriptors */
    /* GSTS.CFIS followed GCMD.CFI when probed: the unit implements the
     * compatibility-format control (QEMU 7.2's does not, and passes such
     * interrupts through whatever it is set to). */
    bool cfi_control;
    int vector;
    struct vtd_ctx_tables ctx;
    /* queued invalidation */
    struct vtd_qi_desc *qi_queue;
    unsigned qi_tail;
    volatile uint32_t *qi_status;
    uint64_t qi_status_phys;
    uint32_t qi_seq;
    struct vtd_irt irt;
    spinlock_t lock; /* registers, queue, tables of this unit */
    uint64_t nr_faults, nr_overflows;
};

struct vtd_domain {
    bool used;
    uint16_t did;
    char name[24];
    char owner[32];
    bool allow_non_ram;
    struct vtd_pt pt;
    unsigned nr_devices;
};

struct vtd_dev {
    bool used;
    uint16_t seg, bdf;
    int unit;
    struct vtd_domain *dom;
};

extern struct vtd_unit vtd_units[VTD_MAX_UNITS];
extern unsigned vtd_nr_units;
extern struct vtd_dmar vtd_dmar_info;
extern struct vtd_domain vtd_domains[VTD_MAX_DOMAINS];
extern struct vtd_dev vtd_devs[VTD_MAX_DEVS];
extern const struct vtd_pt_ops vtd_mem_ops;
extern unsigned vtd_dom_levels, vtd_dom_iova_bits, vtd_dom_sllps;
extern unsigned vtd_max_did; /* highest domain ID every unit supports */
extern spinlock_t vtd_lock;  /* domains and devices */

/* vtd.c: unit operations (caller holds no unit lock). */
int vtd_unit_for(uint16_t seg, uint16_t bdf);
int vtd_unit_set_context(struct vtd_unit *u, uint16_t bdf, const struct vtd_domain *d);
int vtd_unit_clear_context(struct vtd_unit *u, uint16_t bdf);
int vtd_unit_flush_iotlb(struct vtd_unit *u, uint16_t did);
int vtd_unit_flush_iec(struct vtd_unit *u);
/* Claims an entry in unit ui's remapping table, writes e there and
 * invalidates the entry cache: a handle for vtd_irte_free (the table index
 * in its low 16 bits), or a negative VTD_ERR_*. */
int vtd_unit_irte_install(unsigned ui, struct vtd_entry128 e);
/* Rewrites entry `index` of unit ui's table in place and invalidates the
 * entry cache. */
int vtd_unit_irte_update(unsigned ui, unsigned index, struct vtd_entry128 e);
/* GSTS.CFIS of unit ui as it reads now. */
bool vtd_unit_cfis(unsigned ui);
/* vtd_dmar scope resolution through PCI configuration space. */
bool vtd_bridge_buses(void *ctx, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn,
                      uint8_t *secondary, uint8_t *subordinate);

/* vtd_ioapic.c: whether compatibility-format interrupts are blocked (set
 * by vtd_ioapic_decide before the units start remapping; why holds the
 * reason when they are not). */
extern bool vtd_compat_blocked;
extern char vtd_compat_why[96];
/* Decides vtd_compat_blocked from the DMAR: blocked when every I/O APIC is
 * named by a unit in remap_units (bit i: unit i can remap interrupts). */
void vtd_ioapic_decide(unsigned remap_units);
/* Once the units remap interrupts: the hypervisor's own I/O APIC pins go
 * through remapping entries from now on (those routed already too). */
void vtd_ioapic_start(void);
/* The remapped pins and the compatibility-format state, for the console. */
void vtd_ioapic_show(unsigned unit, void (*out)(const char *fmt, ...));

/* vtd_selftest_intx.c: the edu device's INTx through a remapped I/O APIC
 * pin (MSI must be off). false with the reason in what. */
bool vtd_selftest_intx(uint16_t seg, uint16_t bdf, volatile uint8_t *bar,
                       void (*out)(const char *fmt, ...), char *what, size_t whatlen);

/* vtd_domain.c */
void vtd_rmrr_setup(void);
void vtd_show_domains(void (*out)(const char *fmt, ...));
/* The domain seg:bdf is in, or NULL. */
struct vtd_domain *vtd_device_domain(uint16_t seg, uint16_t bdf);

#endif
