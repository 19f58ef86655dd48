/* VT-d remapping units: bring-up, invalidation, fault events, interrupt
 * remapping tables, and the console report. Domains are in vtd_domain.c,
 * the edu self-test in vtd_selftest.c. */
#include "drivers/vtd.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/irq.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/tsc.h"
#include "drivers/acpi.h"
#include "drivers/pci.h"
#include "drivers/vtd_priv.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/string.h"
#include "mm/pmm.h"

struct vtd_unit vtd_units[VTD_MAX_UNITS];
unsigned vtd_nr_units;
struct vtd_dmar vtd_dmar_info;
unsigned vtd_dom_levels, vtd_dom_iova_bits, vtd_dom_sllps, vtd_max_did;
static char dmar_error[96];
static bool any_noncoherent;
bool vtd_use_queued_invalidation = true;
static struct vtd_fault_stat fault_stats[VTD_FAULT_SLOTS];
static spinlock_t fault_lock = SPINLOCK_INIT;

#define REG_WINDOW 0x1000ULL
#define TIMEOUT_US 100000 /* every hardware wait: 100 ms */
#define P(x)       ((unsigned long long)(x))

/* ---- memory for tables ---- */

static uint64_t mem_alloc(void *ctx)
{
    return pmm_alloc(1, 1, "iommu tables");
}

static void mem_free(void *ctx, uint64_t phys)
{
    pmm_free(phys, 1);
}

static void *mem_virt(void *ctx, uint64_t phys)
{
    return (void *)(uintptr_t)phys; /* RAM is identity-mapped */
}

/* Units without page-walk coherency read tables from memory, not caches. */
static void mem_flush(void *ctx, const void *p, size_t len)
{
    if (!any_noncoherent)
        return;
    uintptr_t a = (uintptr_t)p & ~63UL, end = (uintptr_t)p + len;
    for (; a < end; a += 64)
        __asm__ volatile("clflush (%0)" ::"r"(a) : "memory");
    __asm__ volatile("mfence" ::: "memory");
}

const struct vtd_pt_ops vtd_mem_ops = {mem_alloc, mem_free, mem_virt, mem_flush, NULL};

static void *alloc_zeroed_page(void)
{
    uint64_t p = pmm_alloc(1, 1, "iommu tables");
    if (p) {
        memset((void *)(uintptr_t)p, 0, 4096);
        mem_flush(NULL, (void *)(uintptr_t)p, 4096);
    }
    return (void *)(uintptr_t)p;
}

/* ---- registers ---- */

static inline uint32_t rd32(struct vtd_unit *u, unsigned off)
{
    return *(volatile uint32_t *)(u->regs + off);
}
static inline uint64_t rd64(struct vtd_unit *u, unsigned off)
{
    return *(volatile uint64_t *)(u->regs + off);
}
/* Register writes start work on tables and queues in memory: the compiler
 * must not sink those stores past them (x86 keeps the order itself). */
static inline void wr32(struct vtd_unit *u, unsigned off, uint32_t v)
{
    __asm__ volatile("" ::: "memory");
    *(volatile uint32_t *)(u->regs + off) = v;
}
static inline void wr64(struct vtd_unit *u, unsigned off, uint64_t v)
{
    __asm__ volatile("" ::: "memory");
    *(volatile uint64_t *)(u->regs + off) = v;
}

static uint64_t deadline(void)
{
    uint64_t khz = tsc_khz();
    return rdtsc() + (khz ? khz * (TIMEOUT_US / 1000) : 1000000000ULL);
}

/* Issues a global command and waits for the status bit to follow. */
static int gcmd(struct vtd_unit *u, uint32_t cmd, bool on, uint32_t wait_bit, bool wait_set)
{
    uint32_t sts = rd32(u, VTD_REG_GSTS) & VTD_GSTS_PERSISTENT;
    wr32(u, VTD_REG_GCMD, on ? (sts | cmd) : (sts & ~cmd));
    for (uint64_t end = deadline(); rdtsc() < end;) {
        if (!!(rd32(u, VTD_REG_GSTS) & wait_bit) == wait_set)
            return VTD_OK;
        cpu_relax();
    }
    return VTD_ERR_HW;
}

static int wait_reg64_clear(struct vtd_unit *u, unsigned off, uint64_t bit)
{
    for (uint64_t end = deadline(); rdtsc() < end;) {
        if (!(rd64(u, off) & bit))
            return VTD_OK;
        cpu_relax();
    }
    return VTD_ERR_HW;
}

static void flush_write_buffer(struct vtd_unit *u)
{
    if (u->cap & VTD_CAP_RWBF)
        gcmd(u, VTD_GCMD_WBF, true, VTD_GCMD_WBF, false);
}

/* ---- invalidation ---- */

/* Queues descriptors plus a wait descriptor and waits for its status write. */
static int qi_submit(struct vtd_unit *u, const struct vtd_qi_desc *d, unsigned n)
{
    /* Scalable mode: 256-bit slots, the upper half zero (IQA.DW). */
    const unsigned wide = u->scalable, slots = 4096 / (sizeof(struct vtd_qi_desc) << wide);
    uint32_t seq = ++u->qi_seq;
    for (unsigned i = 0; i <= n; i++) {
        struct vtd_qi_desc w = {VTD_QI_WAIT | VTD_QI_WAIT_SW | VTD_QI_WAIT_FN |
                                    ((uint64_t)seq << 32),
                                u->qi_status_phys};
        struct vtd_qi_desc *slot = &u->qi_queue[u->qi_tail << wide];
        slot[0] = i < n ? d[i] : w;
        if (wide)
            slot[1] = (struct vtd_qi_desc){0, 0};
        mem_flush(NULL, slot, sizeof(w) << wide);
        u->qi_tail = (u->qi_tail + 1) % slots;
    }
    wr64(u, VTD_REG_IQT, (uint64_t)u->qi_tail << (VTD_IQ_DESC_SHIFT + wide));
    for (uint64_t end = deadline(); rdtsc() < end;) {
        if (__atomic_load_n(u->qi_status, __ATOMIC_ACQUIRE) == seq)
            return VTD_OK;
        if (rd32(u, VTD_REG_FSTS) & (VTD_FSTS_IQE | VTD_FSTS_ITE | VTD_FSTS_ICE)) {
            pr_err("iommu: unit at 0x%llx: invalidation queue error (fault status 0x%x)",
                   P(u->base), rd32(u, VTD_REG_FSTS));
            wr32(u, VTD_REG_FSTS, VTD_FSTS_IQE | VTD_FSTS_ITE | VTD_FSTS_ICE);
            return VTD_ERR_HW;
        }
        cpu_relax();
    }
    pr_err("iommu: unit at 0x%llx: invalidation wait timed out", P(u->base));
    return VTD_ERR_HW;
}

static int inv_context_global(struct vtd_unit *u)
{
    flush_write_buffer(u);
    if (u->qi) { /* scalable mode: the PASID cache too (6.5.3.3) */
        struct vtd_qi_desc d[2] = {{VTD_QI_CC | VTD_QI_G_GLOBAL, 0},
                                   {VTD_QI_PC | VTD_QI_PC_G_GLOBAL, 0}};
        return qi_submit(u, d, u->scalable ? 2 : 1);
    }
    wr64(u, VTD_REG_CCMD, VTD_CCMD_ICC | VTD_CCMD_CIRG_GLOBAL);
    return wait_reg64_clear(u, VTD_REG_CCMD, VTD_CCMD_ICC);
}

/* did 0: every domain. */
static int inv_iotlb(struct vtd_unit *u, uint16_t did)
{
    flush_write_buffer(u);
    if (u->qi) {
        struct vtd_qi_desc d = {VTD_QI_IOTLB | VTD_QI_IOTLB_DR | VTD_QI_IOTLB_DW |
                                    (did ? VTD_QI_G_DOMAIN | VTD_QI_DID(did) : VTD_QI_G_GLOBAL),
                                0};
        return qi_submit(u, &d, 1);
    }
    unsigned off = VTD_ECAP_IRO(u->ecap) + VTD_IOTLB_REG_OFF;
    wr64(u, off,
         VTD_IOTLB_IVT | VTD_IOTLB_DR | VTD_IOTLB_DW |
             (did ? VTD_IOTLB_IIRG_DOMAIN | VTD_IOTLB_DID(did) : VTD_IOTLB_IIRG_GLOBAL));
    return wait_reg64_clear(u, off, VTD_IOTLB_IVT);
}

int vtd_unit_flush_iotlb(struct vtd_unit *u, uint16_t did)
{
    spin_lock(&u->lock);
    int r = inv_iotlb(u, did);
    spin_unlock(&u->lock);
    return r;
}

static int inv_iec_global(struct vtd_unit *u)
{
    struct vtd_qi_desc d = {VTD_QI_IEC, 0}; /* G=0: every entry */
    return u->qi ? qi_submit(u, &d, 1) : VTD_ERR_HW;
}

int vtd_unit_flush_iec(struct vtd_unit *u)
{
    spin_lock(&u->lock);
    int r = inv_iec_global(u);
    spin_unlock(&u->lock);
    return r;
}

/* ---- context entries ---- */

int vtd_unit_set_context(struct vtd_unit *u, uint16_t bdf, const struct vtd_domain *d)
{
    spin_lock(&u->lock);
    int r = vtd_ctx_set(&u->ctx, PCI_BUS(bdf), bdf & 0xff, d->did, d->pt.root, d->pt.levels);
    if (!r)
        r = inv_context_global(u);
    if (!r)
        r = inv_iotlb(u, d->did);
    spin_unlock(&u->lock);
    return r;
}

int vtd_unit_clear_context(struct vtd_unit *u, uint16_t bdf)
{
    spin_lock(&u->lock);
    vtd_ctx_clear(&u->ctx, PCI_BUS(bdf), bdf & 0xff);
    int r = inv_context_global(u);
    if (!r)
        r = inv_iotlb(u, 0);
    spin_unlock(&u->lock);
    return r;
}

bool vtd_bridge_buses(void *ctx, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn,
                      uint8_t *secondary, uint8_t *subordinate)
{
    uint16_t bdf = PCI_BDF(bus, dev, fn);
    if (pci_read16(seg, bdf, PCI_VENDOR_ID) == 0xffff ||
        (pci_read8(seg, bdf, PCI_HEADER_TYPE) & 0x7f) != PCI_HEADER_BRIDGE)
        return false;
    *secondary = pci_read8(seg, bdf, PCI_SECONDARY_BUS);
    *subordinate = pci_read8(seg, bdf, PCI_SECONDARY_BUS + 1);
    return true;
}

int vtd_unit_for(uint16_t seg, uint16_t bdf)
{
    int i = vtd_dmar_unit_for(&vtd_dmar_info, seg, bdf, vtd_bridge_buses, NULL);
    return i >= 0 && vtd_units[i].usable ? i : -1;
}

/* ---- faults ---- */

void (*vtd_fault_hook)(uint16_t seg, uint16_t sid, bool read, uint64_t addr, uint8_t reason);

static void record_fault(struct vtd_unit *u, uint64_t lo, uint64_t hi)
{
    struct vtd_fault f;
    char line[200];
    uint64_t suppressed = 0, khz = tsc_khz();
    vtd_fault_decode(lo, hi, &f);
    u->nr_faults++;
    if (vtd_fault_hook)
        vtd_fault_hook(u->segment, f.sid, f.read, f.addr, f.reason);
    struct vtd_fault_stat *s = vtd_fault_stat_get(fault_stats, VTD_FAULT_SLOTS, u->segment, f.sid);
    bool log = vtd_fault_account(s, &f, rdtsc(), (khz ? khz : 1000000) * 1000, &suppressed);
    if (!log)
        return;
    vtd_fault_format(&f, line, sizeof(line));
    if (suppressed)
        pr_warn("%s; %llu more from this device not shown", line, P(suppressed));
    else
        pr_warn("%s", line);
}

static unsigned unit_faults(struct vtd_unit *u)
{
    unsigned found = 0, fro = VTD_CAP_FRO(u->cap), nfr = VTD_CAP_NFR(u->cap);
    uint32_t fsts = rd32(u, VTD_REG_FSTS);
    if (fsts & VTD_FSTS_PPF) {
        unsigned i = VTD_FSTS_FRI(fsts) % nfr;
        for (unsigned k = 0; k < nfr; k++, i = (i + 1) % nfr) {
            unsigned off = fro + i * 16;
            uint64_t hi = rd64(u, off + 8);
            if (!(hi & VTD_FRCD_F))
                break;
            uint64_t lo = rd64(u, off);
            wr32(u, off + 12, (uint32_t)(VTD_FRCD_F >> 32)); /* write 1 to clear F */
            record_fault(u, lo, hi);
            found++;
        }
    }
    if (fsts & VTD_FSTS_PFO) {
        u->nr_overflows++;
        pr_warn("iommu: unit at 0x%llx: fault records overflowed, some faults were lost",
                P(u->base));
    }
    /* Queue errors (IQE/ICE/ITE) are for qi_submit to see and clear. */
    wr32(u, VTD_REG_FSTS, fsts & VTD_FSTS_PFO);
    return found;
}

static void fault_irq(struct irq_frame *f, void *arg)
{
    spin_lock(&fault_lock);
    unit_faults(arg);
    spin_unlock(&fault_lock);
}

unsigned vtd_fault_poll(void)
{
    unsigned n = 0;
    unsigned long flags = irq_save();
    spin_lock(&fault_lock);
    for (unsigned i = 0; i < vtd_nr_units; i++)
        if (vtd_units[i].usable)
            n += unit_faults(&vtd_units[i]);
    spin_unlock(&fault_lock);
    irq_restore(flags);
    return n;
}

uint64_t vtd_fault_count(uint16_t seg, uint16_t sid, uint64_t *last_addr, uint8_t *last_reason)
{
    uint64_t n = 0;
    unsigned long flags = irq_save();
    spin_lock(&fault_lock);
    for (unsigned i = 0; i < VTD_FAULT_SLOTS; i++)
        if (fault_stats[i].used && fault_stats[i].seg == seg && fault_stats[i].sid == sid) {
            n = fault_stats[i].count;
            if (last_addr)
                *last_addr = fault_stats[i].last_addr;
            if (last_reason)
                *last_reason = fault_stats[i].last_reason;
        }
    spin_unlock(&fault_lock);
    irq_restore(flags);
    return n;
}

/* The fault event is an MSI in compatibility format to this CPU: vector in
 * FEDATA, APIC ID in FEADDR[19:12] and, with extended interrupt mode, its
 * upper bits in FEUADDR. The unit's own interrupts are not subject to
 * interrupt remapping (VT-d spec, "Remapping Hardware - Interrupt
 * Programming"), so blocking compatibility format does not block it. */
static void setup_fault_event(struct vtd_unit *u)
{
    wr32(u, VTD_REG_FECTL, VTD_FECTL_IM);
    unit_faults(u); /* whatever firmware left behind */
    int vec = irq_alloc_vector();
    if (vec < 0) {
        pr_warn("iommu: unit at 0x%llx: no interrupt vector; faults are seen only when polled",
                P(u->base));
        return;
    }
    u->vector = vec;
    irq_register((uint8_t)vec, fault_irq, u);
    uint32_t apic = lapic_id();
    wr32(u, VTD_REG_FEDATA, (uint32_t)vec);
    wr32(u, VTD_REG_FEADDR, vtd_msi_compat((uint8_t)apic));
    wr32(u, VTD_REG_FEUADDR, u->eim ? (apic & 0xffffff00u) : 0);
    wr32(u, VTD_REG_FECTL, 0);
}

/* ---- bring-up ---- */

static bool unit_fail(struct vtd_unit *u, const char *why)
{
    str_copy(u->why, why, sizeof(u->why));
    u->usable = false;
    return false;
}

/* Maps the registers and checks the capabilities against what this driver
 * does: legacy-mode second-level tables of 3 or 4 levels, no ATS. */
static bool unit_probe(struct vtd_unit *u)
{
    if (paging_map_mmio(u->base, REG_WINDOW))
        return unit_fail(u, "registers cannot be mapped");
    u->regs = (volatile uint8_t *)(uintptr_t)u->base;
    u->ver = rd32(u, VTD_REG_VER);
    u->cap = rd64(u, VTD_REG_CAP);
    u->ecap = rd64(u, VTD_REG_ECAP);
    if (u->ver == 0xffffffffu || !u->cap || u->cap == ~0ULL)
        return unit_fail(u, "no remapping unit answers at this address");
    u->present = true;
    uint64_t need = VTD_CAP_FRO(u->cap) + 16ULL * VTD_CAP_NFR(u->cap);
    uint64_t iotlb = VTD_ECAP_IRO(u->ecap) + 16ULL;
    if (need < iotlb)
        need = iotlb;
    if (need > REG_WINDOW && paging_map_mmio(u->base, (need + 0xfff) & ~0xfffULL))
        return unit_fail(u, "register window too large to map");
    if (!vtd_pick_levels(VTD_CAP_SAGAW(u->cap), 39) && !vtd_pick_levels(VTD_CAP_SAGAW(u->cap), 48))
        return unit_fail(u, "no 3- or 4-level second-level tables (SAGAW)");
    u->coherent = u->ecap & VTD_ECAP_C;
    u->qi = (u->ecap & VTD_ECAP_QI) && vtd_use_queued_invalidation;
    /* Interrupt remapping needs queued invalidation (the interrupt entry
     * cache has no register interface) and the DMAR's blessing. */
    u->ir = (u->ecap & VTD_ECAP_IR) && u->qi && (vtd_dmar_info.flags & VTD_DMAR_INTR_REMAP);
    u->eim = u->ir && (u->ecap & VTD_ECAP_EIM) && lapic_is_x2apic();
    const char *no_sm = vtd_want_scalable ? vtd_sm_refusal(u->ecap, u->qi) : NULL;
    u->scalable = vtd_want_scalable && !no_sm;
    if (no_sm)
        pr_warn("iommu: unit at 0x%llx: iommu.mode=scalable, but %s: legacy mode used", P(u->base),
                no_sm);
    u->usable = true;
    return true;
}

/* Firmware may hand over a unit with translation, queued invalidation or
 * interrupt remapping on: turn them off before changing the tables. */
static void unit_quiesce(struct vtd_unit *u)
{
    uint32_t sts = rd32(u, VTD_REG_GSTS);
    if (sts & VTD_GCMD_TE) {
        pr_info("iommu: unit at 0x%llx: translation was on at boot; turned off to take over",
                P(u->base));
        gcmd(u, VTD_GCMD_TE, false, VTD_GCMD_TE, false);
    }
    if (sts & VTD_GCMD_IRE)
        gcmd(u, VTD_GCMD_IRE, false, VTD_GCMD_IRE, false);
    if (sts & VTD_GCMD_QIE)
        gcmd(u, VTD_GCMD_QIE, false, VTD_GCMD_QIE, false);
}

static int enable_qi(struct vtd_unit *u)
{
    u->qi_queue = alloc_zeroed_page();
    u->qi_status = alloc_zeroed_page();
    if (!u->qi_queue || !u->qi_status)
        return VTD_ERR_NOMEM;
    u->qi_status_phys = (uint64_t)(uintptr_t)u->qi_status;
    u->qi_tail = 0;
    wr64(u, VTD_REG_IQT, 0);
    wr64(u, VTD_REG_IQA,
         (uint64_t)(uintptr_t)u->qi_queue | VTD_IQA_QS(0) | (u->scalable ? VTD_IQA_DW : 0));
    return gcmd(u, VTD_GCMD_QIE, true, VTD_GCMD_QIE, true);
}

/* Remappable-format interrupts are checked against the table, so a device
 * can raise only what its entries allow. Compatibility-format ones bypass
 * the table unless blocked: GCMD.CFI is cleared whenever every I/O APIC's
 * pins can be remapped (vtd_ioapic_decide), and extended interrupt mode
 * (x2APIC destinations) blocks them in any case. */
static int enable_ir(struct vtd_unit *u)
{
    u->irt.entries = alloc_zeroed_page();
    if (!u->irt.entries)
        return VTD_ERR_NOMEM;
    u->irt.phys = (uint64_t)(uintptr_t)u->irt.entries;
    wr64(u, VTD_REG_IRTA, u->irt.phys | (u->eim ? VTD_IRTA_EIME : 0) | VTD_IRTA_S(VTD_IRT_S));
    int r = gcmd(u, VTD_GCMD_SIRTP, true, VTD_GCMD_SIRTP, true);
    if (!r)
        r = inv_iec_global(u);
    /* Probe the control (it acts only once IRE is set): QEMU's unit does
     * not implement it, keeps GSTS.CFIS 0 and passes compatibility format
     * through regardless, which the report then says. */
    if (!r)
        u->cfi_control = !gcmd(u, VTD_GCMD_CFI, true, VTD_GCMD_CFI, true);
    if (!r && u->cfi_control && vtd_compat_blocked &&
        gcmd(u, VTD_GCMD_CFI, false, VTD_GCMD_CFI, false))
        pr_err("iommu: unit at 0x%llx: GSTS.CFIS stays set: compatibility-format interrupts are "
               "not blocked",
               P(u->base));
    if (!r)
        r = gcmd(u, VTD_GCMD_IRE, true, VTD_GCMD_IRE, true);
    return r;
}

static int unit_setup_tables(struct vtd_unit *u)
{
    int r = vtd_ctx_init_mode(&u->ctx, &vtd_mem_ops, u->scalable);
    if (r)
        return r;
    wr64(u, VTD_REG_RTADDR, u->ctx.root | (u->scalable ? VTD_RTADDR_TTM_SCALABLE : 0));
    r = gcmd(u, VTD_GCMD_SRTP, true, VTD_GCMD_SRTP, true);
    if (!r)
        r = inv_context_global(u);
    if (!r)
        r = inv_iotlb(u, 0);
    return r;
}

static void unit_enable_translation(struct vtd_unit *u)
{
    if (gcmd(u, VTD_GCMD_TE, true, VTD_GCMD_TE, true)) {
        unit_fail(u, "translation did not turn on");
        pr_err("iommu: unit at 0x%llx: translation did not turn on", P(u->base));
        return;
    }
    u->translating = true;
    /* Protected memory regions are redundant (and in the way) now. */
    if ((u->cap & (VTD_CAP_PLMR | VTD_CAP_PHMR)) && (rd32(u, VTD_REG_PMEN) & (1u << 31))) {
        wr32(u, VTD_REG_PMEN, 0);
        for (uint64_t end = deadline(); rdtsc() < end && (rd32(u, VTD_REG_PMEN) & 1);)
            cpu_relax();
    }
}

static void unit_bring_up(struct vtd_unit *u)
{
    unit_quiesce(u);
    int r = u->qi ? enable_qi(u) : 0;
    if (r) {
        pr_warn("iommu: unit at 0x%llx: queued invalidation failed (%s); using registers",
                P(u->base), vtd_strerror(r));
        u->qi = u->ir = u->eim = u->scalable = false;
    }
    setup_fault_event(u);
    if ((r = unit_setup_tables(u))) {
        unit_fail(u, "root table or invalidation failed");
        pr_err("iommu: unit at 0x%llx: root table setup failed: %s", P(u->base), vtd_strerror(r));
        return;
    }
    if (u->ir && (r = enable_ir(u))) {
        pr_warn("iommu: unit at 0x%llx: interrupt remapping failed to start (%s)", P(u->base),
                vtd_strerror(r));
        u->ir = u->eim = false;
    }
}

/* Domain tables must suit every unit: the depth all support, the smallest
 * input width, the page sizes all have. */
static void pick_domain_format(void)
{
    unsigned sagaw = 0x1f, mgaw = 64, sllps = 0xf, nd = 7;
    for (unsigned i = 0; i < vtd_nr_units; i++) {
        struct vtd_unit *u = &vtd_units[i];
        if (!u->usable)
            continue;
        unsigned s = sagaw & VTD_CAP_SAGAW(u->cap);
        if (!vtd_pick_levels(s, 39) && !vtd_pick_levels(s, 48)) {
            unit_fail(u, "no page-table depth in common with the other units");
            continue;
        }
        sagaw = s;
        if (VTD_CAP_MGAW(u->cap) < mgaw)
            mgaw = VTD_CAP_MGAW(u->cap);
        sllps &= VTD_CAP_SLLPS(u->cap);
        if (VTD_CAP_ND(u->cap) < nd)
            nd = VTD_CAP_ND(u->cap);
        if (!u->coherent)
            any_noncoherent = true;
    }
    vtd_dom_levels = vtd_pick_levels(sagaw, 39);
    if (!vtd_dom_levels)
        vtd_dom_levels = vtd_pick_levels(sagaw, 48);
    vtd_dom_iova_bits = mgaw;
    vtd_dom_sllps = sllps;
    /* 2^(4 + 2 ND) domain IDs; ID 0 is never used (reserved with caching mode). */
    vtd_max_did = nd >= 6 ? 0xffff : (1u << (4 + 2 * nd)) - 1;
}

static void log_unit(unsigned i, struct vtd_unit *u)
{
    if (!u->usable) {
        pr_warn("iommu: unit %u at 0x%llx not used: %s", i, P(u->base), u->why);
        return;
    }
    pr_info("iommu: unit %u at 0x%llx: version %u.%u, translation %s%s, %s invalidation, "
            "interrupt remapping %s%s%s",
            i, P(u->base), (u->ver >> 4) & 0xf, u->ver & 0xf, u->translating ? "on" : "off",
            u->scalable ? " (scalable mode)" : "", u->qi ? "queued" : "register",
            u->ir ? "on" : "off", u->eim ? " (x2apic)" : "",
            !u->ir                                    ? ""
            : vtd_compat_blocked && !vtd_unit_cfis(i) ? ", compatibility format blocked"
                                                      : ", compatibility format allowed");
}

void vtd_init(void)
{
    const struct acpi_table_ref *ref = acpi_find_table(&acpi, "DMAR", 0);
    if (!ref)
        return;
    if (vtd_dmar_parse((const uint8_t *)(uintptr_t)ref->phys, ref->len, &vtd_dmar_info, dmar_error,
                       sizeof(dmar_error))) {
        pr_warn("iommu: DMAR unusable: %s; DMA is not remapped", dmar_error);
        return;
    }
    vtd_nr_units = vtd_dmar_info.nr_drhd;
    for (unsigned i = 0; i < vtd_nr_units; i++) {
        struct vtd_unit *u = &vtd_units[i];
        u->base = vtd_dmar_info.drhd[i].base;
        u->segment = vtd_dmar_info.drhd[i].segment;
        u->include_all = vtd_dmar_info.drhd[i].include_all;
        u->vector = -1;
        unit_probe(u);
    }
    pick_domain_format();
    unsigned remap_units = 0;
    for (unsigned i = 0; i < vtd_nr_units; i++)
        if (vtd_units[i].usable && vtd_units[i].ir)
            remap_units |= 1u << i;
    vtd_ioapic_decide(remap_units);
    /* Extended interrupt mode blocks compatibility format too: not while
     * some I/O APIC still needs it. */
    for (unsigned i = 0; i < vtd_nr_units && !vtd_compat_blocked; i++)
        vtd_units[i].eim = false;
    for (unsigned i = 0; i < vtd_nr_units; i++)
        if (vtd_units[i].usable)
            unit_bring_up(&vtd_units[i]);
    /* Firmware-reserved ranges are mapped before anything is blocked. */
    vtd_rmrr_setup();
    for (unsigned i = 0; i < vtd_nr_units; i++) {
        if (vtd_units[i].usable)
            unit_enable_translation(&vtd_units[i]);
        log_unit(i, &vtd_units[i]);
    }
    bool any_ir = false;
    for (unsigned i = 0; i < vtd_nr_units; i++)
        any_ir |= vtd_units[i].usable && vtd_units[i].ir;
    if (any_ir)
        vtd_ioapic_start();
}

bool vtd_active(void)
{
    for (unsigned i = 0; i < vtd_nr_units; i++)
        if (vtd_units[i].translating)
            return true;
    return false;
}

/* ---- interrupt remapping entries ---- */

#define HANDLE(unit, index) ((int)(((unit) << 16) | (index)))

int vtd_unit_irte_install(unsigned ui, struct vtd_entry128 e)
{
    struct vtd_unit *u = &vtd_units[ui];
    spin_lock(&u->lock);
    int idx = vtd_irt_alloc(&u->irt);
    int r = idx < 0 ? VTD_ERR_NOMEM : VTD_OK;
    if (!r) {
        vtd_irt_write(&u->irt, (unsigned)idx, e);
        mem_flush(NULL, &u->irt.entries[idx], sizeof(e));
        r = inv_iec_global(u);
        if (r)
            vtd_irt_free(&u->irt, (unsigned)idx);
    }
    spin_unlock(&u->lock);
    return r ? r : HANDLE(ui, idx);
}

int vtd_unit_irte_update(unsigned ui, unsigned index, struct vtd_entry128 e)
{
    struct vtd_unit *u = &vtd_units[ui];
    if (index >= VTD_IRT_ENTRIES)
        return VTD_ERR_INVAL;
    spin_lock(&u->lock);
    vtd_irt_write(&u->irt, index, e);
    mem_flush(NULL, &u->irt.entries[index], sizeof(e));
    int r = inv_iec_global(u);
    spin_unlock(&u->lock);
    return r;
}

bool vtd_unit_cfis(unsigned ui)
{
    return ui < vtd_nr_units && vtd_units[ui].regs &&
           (rd32(&vtd_units[ui], VTD_REG_GSTS) & VTD_GCMD_CFI);
}

int vtd_irte_alloc(uint16_t seg, uint16_t sid, uint8_t vector, uint32_t dest, uint32_t *msi_addr,
                   uint32_t *msi_data)
{
    int ui = vtd_unit_for(seg, sid);
    if (ui < 0)
        return VTD_ERR_NODEV;
    struct vtd_unit *u = &vtd_units[ui];
    if (!u->ir)
        return VTD_ERR_NODEV;
    struct vtd_irte_spec s = {vector, dest, u->eim, sid, VTD_SVT_SID, 0, false};
    struct vtd_entry128 e;
    if (!vtd_irte_remapped(&s, &e))
        return VTD_ERR_INVAL;
    int h = vtd_unit_irte_install((unsigned)ui, e);
    if (h >= 0)
        vtd_msi_remappable((unsigned)h & 0xffff, msi_addr, msi_data);
    return h;
}

void vtd_irte_free(int handle)
{
    unsigned ui = (unsigned)handle >> 16, idx = (unsigned)handle & 0xffff;
    if (handle < 0 || ui >= vtd_nr_units || !vtd_units[ui].ir)
        return;
    struct vtd_unit *u = &vtd_units[ui];
    spin_lock(&u->lock);
    vtd_irt_free(&u->irt, idx);
    mem_flush(NULL, &u->irt.entries[idx], sizeof(struct vtd_entry128));
    inv_iec_global(u);
    spin_unlock(&u->lock);
}

/* ---- console report ---- */

static void show_unit(unsigned i, struct vtd_unit *u, void (*out)(const char *fmt, ...))
{
    out("  unit %u: registers at 0x%llx, segment %u%s\n", i, P(u->base), u->segment,
        u->include_all ? ", all devices" : "");
    if (!u->usable) {
        out("    not used: %s\n", u->why);
        return;
    }
    unsigned sl = VTD_CAP_SLLPS(u->cap);
    out("    version %u.%u, translation %s, default deny, %u context entries present\n",
        (u->ver >> 4) & 0xf, u->ver & 0xf, u->translating ? "on" : "off", u->ctx.nr_present);
    out("    features: sagaw 0x%x, mgaw %u, %u domain ids, large pages%s%s%s, %s invalidation, "
        "interrupt remapping %s%s, caching mode %s, write-buffer flush %s, page-walk coherency "
        "%s, posted interrupts %s, scalable mode %s, ats off\n",
        VTD_CAP_SAGAW(u->cap), VTD_CAP_MGAW(u->cap), 1u << (4 + 2 * VTD_CAP_ND(u->cap)),
        (sl & 1) ? " 2m" : "", (sl & 2) ? " 1g" : "", sl ? "" : " none",
        u->qi ? "queued" : "register", u->ir ? "on" : "off",
        u->ir ? (u->eim ? " (x2apic destinations)" : " (xapic destinations)") : "",
        (u->cap & VTD_CAP_CM) ? "on" : "off", (u->cap & VTD_CAP_RWBF) ? "needed" : "not needed",
        u->coherent ? "yes" : "no", (u->cap & VTD_CAP_PI) ? "present (not used)" : "absent",
        !(u->ecap & VTD_ECAP_SMTS) ? "absent"
        : u->scalable              ? "present (used)"
                                   : "present (legacy mode used)");
    out("    translation: %s\n",
        u->scalable ? "scalable mode (second-level tables through RID_PASID 0)" : "legacy mode");
    if (u->ir) {
        out("    interrupt remapping table: %u of %u entries in use\n", vtd_irt_count(&u->irt),
            VTD_IRT_ENTRIES);
        vtd_ioapic_show(i, out);
    }
    out("    faults: %llu%s\n", P(u->nr_faults), u->nr_overflows ? " (records overflowed)" : "");
}

void vtd_show(void (*out)(const char *fmt, ...))
{
    if (dmar_error[0]) {
        out("iommu: none (DMAR unusable: %s); devices cannot be passed through safely\n",
            dmar_error);
        return;
    }
    if (!acpi.has_dmar || !vtd_dmar_info.nr_drhd) {
        out("iommu: none (no ACPI DMAR table); devices cannot be passed through safely\n");
        return;
    }
    out("iommu: vt-d, %u unit%s, host address width %u, DMA remapping %s, interrupt remapping "
        "%s\n",
        vtd_nr_units, vtd_nr_units == 1 ? "" : "s", vtd_dmar_info.haw, vtd_active() ? "on" : "off",
        (vtd_dmar_info.flags & VTD_DMAR_INTR_REMAP) ? "supported" : "not supported");
    for (unsigned i = 0; i < vtd_nr_units; i++)
        show_unit(i, &vtd_units[i], out);
    for (unsigned i = 0; i < vtd_dmar_info.nr_rmrr; i++) {
        const struct vtd_dmar_rmrr *r = &vtd_dmar_info.rmrr[i];
        out("  rmrr 0x%llx-0x%llx: identity-mapped for %u device scope%s (domain rmrr)\n",
            P(r->base), P(r->limit), r->nr_scopes, r->nr_scopes == 1 ? "" : "s");
    }
    vtd_show_domains(out);
    unsigned long flags = irq_save();
    spin_lock(&fault_lock);
    struct vtd_fault_stat copy[VTD_FAULT_SLOTS];
    memcpy(copy, fault_stats, sizeof(copy));
    spin_unlock(&fault_lock);
    irq_restore(flags);
    bool any = false;
    for (unsigned i = 0; i < VTD_FAULT_SLOTS; i++) {
        const struct vtd_fault_stat *s = &copy[i];
        if (!s->used)
            continue;
        if (!any)
            out("  fault counts:\n");
        any = true;
        out("    %04x:%02x:%02x.%u %llu (last: addr 0x%llx reason 0x%02x, %s)\n", s->seg,
            s->sid >> 8, (s->sid >> 3) & 0x1f, s->sid & 7, P(s->count), P(s->last_addr),
            s->last_reason, vtd_fault_reason_str(s->last_reason));
    }
    if (!any)
        out("  fault counts: none\n");
}
