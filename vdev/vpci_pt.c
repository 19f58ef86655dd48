/* PCI passthrough glue: see vpci_pt.h. */
#include "vdev/vpci_pt.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/irq.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/percpu.h"
#include "drivers/acpi.h"
#include "drivers/pci.h"
#include "drivers/pci_quiesce.h"
#include "drivers/uart16550.h"
#include "drivers/vtd.h"
#include "vdev/platform.h"
#include "vdev/virq.h"
#include "vcpu/vm.h"
#include "vcpu/vm_sync.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/spinlock.h"
#include "lib/string.h"
#include "mm/pmm.h"
#include "vdev/vpci_bridge.h"

#define NSLOTS (1 + VPCI_MSIX_MAX)
#define P(x)   ((unsigned long long)(x))

struct vpt_vec { /* one MSI/MSI-X vector routed to the VM */
    struct vpt *pt;
    int hvec; /* host vector, 0 = none */
    int irte; /* remapping entry, -1 = none */
    uint32_t gdest;
    bool glogical;
    uint8_t gmode, gvec;
    volatile bool pending;
};

struct vpt_dev {
    const struct pci_dev *hw;
    struct vpt *pt;
    uint16_t sid;
    uint32_t host_gsi;
    bool host_active_low;
    int intx_vec;  /* host vector of its INTx, 0 = none */
    int intx_irte; /* remapping entry of its host I/O APIC pin, -1 = none */
    unsigned guest_gsi;
    volatile bool intx_pending;
    bool intx_asserted;
    bool claimed;
    struct vpt_vec vec[NSLOTS];
};

struct vpt {
    struct vm *vm;
    struct vpci_bus bus;
    struct vpci_ops ops;
    struct vtd_domain *dom;
    bool unsafe;
    unsigned nr;
    struct vpt_dev dev[VM_MAX_PCI];
    volatile bool dma_fault;
    uint16_t fault_sid;
    uint64_t fault_addr;
    /* Changes of the VM's maps (EPT, I/O bitmaps) made under the platform
     * lock, and how far vpt_sync has made every vCPU see them. */
    uint32_t change_gen, synced_gen;
    bool flush_pending; /* one of them changed the EPT */
};

#define VPT_PAGES ((sizeof(struct vpt) + 4095) / 4096)

/* Which VM owns which device: one VM each. */
static spinlock_t owners_lock;
static struct {
    uint16_t seg, sid;
    struct vpt *pt;
} owners[MAX_VMS * VM_MAX_PCI];

static struct vpt_dev *pdev(struct vpt *pt, const struct vpci_dev *d)
{
    return &pt->dev[d - pt->bus.dev];
}

static const char *bdf_str(const struct vpt_dev *d, char *buf)
{
    fmt_snprintf(buf, 16, "%02x:%02x.%x", d->hw->bus, d->hw->dev, d->hw->fn);
    return buf;
}

/* ---- the hardware, for the virtual bus ---- */

static uint32_t hw_cfg_read(void *ctx, const struct vpci_dev *d, uint16_t off, unsigned w)
{
    if (w == 1)
        return pci_read8(d->host_seg, d->host_bdf, off);
    if (w == 2)
        return pci_read16(d->host_seg, d->host_bdf, off);
    return pci_read32(d->host_seg, d->host_bdf, off);
}

static void hw_cfg_write(void *ctx, const struct vpci_dev *d, uint16_t off, unsigned w, uint32_t v)
{
    if (w == 1)
        pci_write8(d->host_seg, d->host_bdf, off, (uint8_t)v);
    else if (w == 2)
        pci_write16(d->host_seg, d->host_bdf, off, (uint16_t)v);
    else
        pci_write32(d->host_seg, d->host_bdf, off, v);
}

static uint64_t hw_bar_read(void *ctx, const struct vpci_dev *d, unsigned bar, uint64_t off,
                            unsigned w)
{
    const struct vpci_bar *r = &d->bar[bar];
    if (r->flags & PCI_BAR_IO) {
        uint16_t port = (uint16_t)(r->host + off);
        return w == 1 ? inb(port) : w == 2 ? inw(port) : inl(port);
    }
    volatile void *p = (volatile void *)(r->host + off);
    switch (w) {
    case 1:
        return *(volatile uint8_t *)p;
    case 2:
        return *(volatile uint16_t *)p;
    case 4:
        return *(volatile uint32_t *)p;
    default:
        return *(volatile uint64_t *)p;
    }
}

static void hw_bar_write(void *ctx, const struct vpci_dev *d, unsigned bar, uint64_t off,
                         unsigned w, uint64_t v)
{
    const struct vpci_bar *r = &d->bar[bar];
    if (r->flags & PCI_BAR_IO) {
        uint16_t port = (uint16_t)(r->host + off);
        if (w == 1)
            outb(port, (uint8_t)v);
        else if (w == 2)
            outw(port, (uint16_t)v);
        else
            outl(port, (uint32_t)v);
        return;
    }
    volatile void *p = (volatile void *)(r->host + off);
    if (w == 1)
        *(volatile uint8_t *)p = (uint8_t)v;
    else if (w == 2)
        *(volatile uint16_t *)p = (uint16_t)v;
    else if (w == 4)
        *(volatile uint32_t *)p = (uint32_t)v;
    else
        *(volatile uint64_t *)p = v;
}

/* A change of the VM's maps, made under the platform lock; vpt_sync
 * completes it once the lock is released. The flag is set before the
 * generation moves, so a vpt_sync that sees the generation sees it. */
static void maps_changed(struct vpt *pt, bool ept)
{
    if (ept)
        __atomic_store_n(&pt->flush_pending, true, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&pt->change_gen, 1, __ATOMIC_SEQ_CST);
}

void vpt_sync(struct vm *vm)
{
    struct vpt *pt = vm->pt;
    if (!pt)
        return;
    uint32_t gen = __atomic_load_n(&pt->change_gen, __ATOMIC_SEQ_CST);
    uint32_t done = __atomic_load_n(&pt->synced_gen, __ATOMIC_SEQ_CST);
    if (done == gen)
        return;
    /* Closed ports and unmapped pages must be gone on every CPU of the VM
     * before the guest learns the access completed (its other vCPUs could
     * otherwise still reach the device at the old place); a new mapping or
     * open ports only save exits. Both are rare (BAR moves, decode bits). */
    bool flush = __atomic_exchange_n(&pt->flush_pending, false, __ATOMIC_SEQ_CST);
    vm_sync_vcpus(vm, flush);
    while ((int32_t)(gen - done) > 0 &&
           !__atomic_compare_exchange_n(&pt->synced_gen, &done, gen, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST))
        ;
}

/* An MMIO BAR goes into the EPT at the guest's address, except the pages
 * that trap (MSI-X table and PBA); I/O BARs are forwarded by port_window. */
static bool hw_bar_map(void *ctx, const struct vpci_dev *d, unsigned bar, uint64_t gpa, bool map)
{
    struct vpt *pt = ctx;
    const struct vpci_bar *r = &d->bar[bar];
    struct ept *e = &pt->vm->ept;
    if (r->flags & PCI_BAR_IO)
        return true;
    if (!map) {
        ept_unmap(e, gpa, r->size);
        maps_changed(pt, true);
        return true;
    }
    uint64_t off[2], len[2], at = 0;
    unsigned n = vpci_bar_traps(d, bar, off, len);
    if (n == 2 && off[1] < off[0]) {
        uint64_t t = off[0], l = len[0];
        off[0] = off[1];
        len[0] = len[1];
        off[1] = t;
        len[1] = l;
    }
    for (unsigned i = 0; i <= n; i++) {
        uint64_t end = i < n ? off[i] : r->size;
        if (end > at && ept_map(e, gpa + at, r->host + at, end - at, EPT_R | EPT_W, EPT_MT_UC)) {
            ept_unmap(e, gpa, r->size);
            return false;
        }
        if (i < n)
            at = off[i] + len[i];
    }
    maps_changed(pt, true); /* nothing cached from before may hide the new pages */
    return true;
}

/* Ports the host itself uses (the ACPI blocks it powers off, resets and
 * keeps time with, its console UART) never pass to a VM, whatever a
 * device's BAR claims; vpci_io_direct_ok has already refused the legacy
 * ports below 0x1000 and anything outside the device's own host BAR. */
static bool host_owns_ports(uint16_t base, uint16_t count)
{
    const struct uart_config *uc = uart_get_config();
    const struct {
        uint32_t port, len;
    } own[] = {
        {acpi.pm1a_cnt_blk, 2},
        {acpi.pm1b_cnt_blk, 2},
        {acpi.pm_tmr_blk, 4},
        {acpi.smi_cmd, 1},
        {acpi.has_reset_reg && acpi.reset_reg.space_id == 1 ? (uint32_t)acpi.reset_reg.address : 0,
         1},
        {uc && !uc->mmio ? (uint32_t)uc->base : 0, 8},
    };
    uint32_t last = (uint32_t)base + count - 1;
    for (unsigned i = 0; i < sizeof(own) / sizeof(own[0]); i++)
        if (own[i].port && base <= own[i].port + own[i].len - 1 && last >= own[i].port)
            return true;
    return false;
}

/* An I/O BAR decoded at its host ports: they reach the device without an
 * exit (every vCPU's I/O bitmap), or trap again. Port numbers cannot be
 * translated like guest-physical addresses, so a BAR the guest moved
 * elsewhere stays trapped and forwarded (port_window): opening the new
 * ports would reach whatever the host has there. */
static bool hw_io_pass(void *ctx, uint16_t base, uint16_t count, bool open)
{
    struct vpt *pt = ctx;
    if (open && host_owns_ports(base, count)) {
        vm_log_violation(pt->vm,
                         "pci: I/O BAR at ports 0x%x-0x%x overlaps the host's own ports: it "
                         "stays trapped",
                         base, base + count - 1u);
        return false;
    }
    /* Before its vCPUs exist there are no bitmaps to write (and nothing
     * decodes yet): trapped until the guest turns decoding on. */
    if (open && !pt->vm->nr_vcpus)
        return false;
    vm_io_intercept(pt->vm, base, count, !open);
    maps_changed(pt, false);
    return true;
}

/* Bus mastering: only inside the VM's IOMMU domain. Without an IOMMU
 * (`iommu = off-unsafe`) the device would take the guest-physical
 * addresses its driver gives it as host addresses and write over whatever
 * lives there (this VM's RAM is not at the same host addresses), so DMA
 * stays refused; register access and interrupts work. */
static bool hw_dma_ready(void *ctx, const struct vpci_dev *d)
{
    struct vpt *pt = ctx;
    return pt->dom != NULL || (pt->unsafe && vm_identity_base(&pt->vm->cfg));
}

static void msi_irq(struct irq_frame *f, void *arg)
{
    struct vpt_vec *v = arg;
    v->pending = true; /* delivered by vpt_poll before the next entry */
}

static uint32_t host_apic_id(const struct vm *vm)
{
    unsigned cpu = vm->cfg.pcpu[0];
    return cpu < MAX_CPUS && cpus[cpu] ? cpus[cpu]->apic_id : 0;
}

static bool hw_msi_route(void *ctx, const struct vpci_dev *d, unsigned slot, uint64_t gaddr,
                         uint32_t gdata, uint64_t *haddr, uint32_t *hdata)
{
    struct vpt *pt = ctx;
    struct vpt_dev *pd = pdev(pt, d);
    struct vpt_vec *v = &pd->vec[slot];
    uint8_t mode = (gdata >> 8) & 7, vec = gdata & 0xff;
    /* Only fixed or lowest-priority interrupts to the local APIC window. */
    if ((gaddr >> 20) != 0xfee || vec < 16 || mode > 1 || slot >= NSLOTS)
        return false;
    int hv = irq_alloc_vector();
    if (hv < 0)
        return false;
    uint32_t apic = host_apic_id(pt->vm), a, dd;
    v->irte = -1;
    if (pt->dom) {
        int h = vtd_irte_alloc(d->host_seg, d->host_bdf, (uint8_t)hv, apic, &a, &dd);
        if (h < 0) {
            irq_register((uint8_t)hv, NULL, NULL);
            return false;
        }
        v->irte = h;
        *haddr = a;
        *hdata = dd;
    } else {
        *haddr = 0xfee00000ULL | (uint64_t)(apic & 0xff) << 12;
        *hdata = (uint32_t)hv;
    }
    v->pt = pt;
    v->hvec = hv;
    v->gdest = (uint32_t)(gaddr >> 12) & 0xff;
    v->glogical = gaddr & 4;
    v->gmode = mode;
    v->gvec = vec;
    v->pending = false;
    irq_register((uint8_t)hv, msi_irq, v);
    return true;
}

static void hw_msi_release(void *ctx, const struct vpci_dev *d, unsigned slot)
{
    struct vpt *pt = ctx;
    struct vpt_vec *v = &pdev(pt, d)->vec[slot];
    if (v->hvec)
        irq_register((uint8_t)v->hvec, NULL, NULL);
    if (v->irte >= 0)
        vtd_irte_free(v->irte);
    v->hvec = 0;
    v->irte = -1;
    v->pending = false;
}

static void hw_refused(void *ctx, const struct vpci_dev *d, const char *what)
{
    struct vpt *pt = ctx;
    char b[16];
    vm_log_violation(pt->vm, "pci %s (guest 00:%02x.0): %s", bdf_str(pdev(pt, d), b), d->slot,
                     what);
}

/* ---- guest accesses ---- */

bool vpt_config_io(struct vm *vm, uint16_t port, unsigned size, bool in, uint32_t *val)
{
    return vpci_bus_io(&vm->pt->bus, port, size, in, val);
}

static bool ecam_mmio(struct vcpu *v, uint64_t gpa, unsigned size, bool write, uint64_t *val,
                      void *ctx)
{
    struct vm *vm = ctx;
    spin_lock(&vm->platform->lock);
    vpci_ecam_access(&vm->pt->bus, gpa - VPT_ECAM_BASE, size, write, val);
    spin_unlock(&vm->platform->lock);
    vpt_sync(vm);
    return true;
}

/* The BAR window: only trapped pages (and unassigned space) exit here. */
static bool window_mmio(struct vcpu *v, uint64_t gpa, unsigned size, bool write, uint64_t *val,
                        void *ctx)
{
    struct vm *vm = ctx;
    unsigned bar;
    uint64_t off;
    spin_lock(&vm->platform->lock);
    struct vpci_dev *d = vpci_find_bar(&vm->pt->bus, gpa, false, &bar, &off);
    if (d)
        vpci_bar_access(&vm->pt->bus, d, bar, off, size, write, val);
    else if (!write)
        *val = size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1; /* nothing decodes here */
    spin_unlock(&vm->platform->lock);
    return true;
}

/* I/O BARs: forwarded to the device's host ports, within the BAR only. */
static bool port_window(struct vcpu *v, uint16_t port, unsigned size, bool in, uint32_t *val,
                        void *ctx)
{
    struct vm *vm = ctx;
    unsigned bar;
    uint64_t off;
    spin_lock(&vm->platform->lock);
    struct vpci_dev *d = vpci_find_bar(&vm->pt->bus, port, true, &bar, &off);
    uint32_t ones = size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
    uint32_t hport = d ? (uint32_t)(d->bar[bar].host + off) : 0;
    if (!d || off + size > d->bar[bar].hw_size || (size != 1 && size != 2 && size != 4)) {
        if (in)
            *val = ones;
    } else if (vpci_io_port_reserved(hport, hport + size - 1) ||
               host_owns_ports((uint16_t)hport, (uint16_t)size)) {
        /* A device whose host BAR claims the host's own ports. */
        if (in)
            *val = ones;
        vm_log_violation(vm, "pci: I/O BAR access to host port 0x%x refused: the host's own",
                         hport);
    } else if (in) {
        *val = (uint32_t)hw_bar_read(vm->pt, d, bar, off, size) & ones;
    } else {
        hw_bar_write(vm->pt, d, bar, off, size, *val & ones);
    }
    spin_unlock(&vm->platform->lock);
    return true;
}

/* ---- interrupts ---- */

static void intx_irq(struct irq_frame *f, void *arg)
{
    struct vpt_dev *d = arg;
    /* Level-triggered and shared with nobody: masked until the guest's
     * EOI, or it would fire again at once. */
    ioapic_mask_gsi(d->host_gsi);
    d->intx_pending = true;
}

static void intx_unmask(struct vpt_dev *d)
{
    ioapic_unmask_gsi(d->host_gsi);
}

void vpt_poll(struct vm *vm)
{
    struct vpt *pt = vm->pt;
    if (!pt)
        return;
    for (unsigned i = 0; i < pt->nr; i++) {
        struct vpt_dev *d = &pt->dev[i];
        if (d->intx_pending) {
            d->intx_pending = false;
            if (!d->intx_asserted) {
                d->intx_asserted = true;
                vm_irq_set_level(vm, d->guest_gsi, false); /* active low */
            } else {
                intx_unmask(d); /* still being served: wait for its EOI */
            }
        }
        for (unsigned s = 0; s < NSLOTS; s++) {
            struct vpt_vec *v = &d->vec[s];
            if (v->hvec && v->pending) {
                v->pending = false;
                virq_ioapic_deliver(vm, v->gdest, v->glogical, v->gmode, v->gvec, false);
            }
        }
    }
    if (pt->dma_fault) {
        pt->dma_fault = false;
        if (vm->cfg.dma_fault_stop)
            vm_request_stop(vm, VM_CRASHED,
                            "DMA fault by its device %02x:%02x.%x at 0x%llx (on_dma_fault = stop)",
                            pt->fault_sid >> 8, (pt->fault_sid >> 3) & 0x1f, pt->fault_sid & 7,
                            P(pt->fault_addr));
    }
}

void vpt_eoi(struct vm *vm, uint8_t vector)
{
    struct vpt *pt = vm->pt;
    if (!pt)
        return;
    for (unsigned i = 0; i < pt->nr; i++) {
        struct vpt_dev *d = &pt->dev[i];
        if (!d->intx_asserted || (vm->platform->ioapic.redir[d->guest_gsi] & 0xff) != vector)
            continue;
        d->intx_asserted = false;
        vm_irq_set_level(vm, d->guest_gsi, true);
        intx_unmask(d);
    }
}

static void dma_fault_hook(uint16_t seg, uint16_t sid, bool read, uint64_t addr, uint8_t reason)
{
    /* Interrupt context: only flags; the VM's CPU acts (vpt_poll). */
    for (unsigned i = 0; i < sizeof(owners) / sizeof(owners[0]); i++) {
        struct vpt *pt = owners[i].pt;
        if (pt && owners[i].seg == seg && owners[i].sid == sid) {
            pt->fault_sid = sid;
            pt->fault_addr = addr;
            pt->dma_fault = true;
        }
    }
}

/* ---- attach and detach ---- */

static bool claim(struct vpt *pt, struct vpt_dev *d, char *err, unsigned errlen)
{
    int slot = -1;
    char b[16];
    spin_lock(&owners_lock);
    for (unsigned i = 0; i < sizeof(owners) / sizeof(owners[0]); i++) {
        if (owners[i].pt && owners[i].seg == d->hw->seg && owners[i].sid == d->sid) {
            fmt_snprintf(err, errlen, "pci %s is in use by vm %s", bdf_str(d, b),
                         owners[i].pt->vm->cfg.name);
            spin_unlock(&owners_lock);
            return false;
        }
        if (!owners[i].pt && slot < 0)
            slot = (int)i;
    }
    if (slot >= 0) {
        owners[slot].seg = d->hw->seg;
        owners[slot].sid = d->sid;
        owners[slot].pt = pt;
        d->claimed = true;
    }
    spin_unlock(&owners_lock);
    return slot >= 0;
}

const char *vpt_owner(uint16_t seg, uint16_t sid)
{
    const char *name = NULL;
    spin_lock(&owners_lock);
    for (unsigned i = 0; i < sizeof(owners) / sizeof(owners[0]); i++)
        if (owners[i].pt && owners[i].seg == seg && owners[i].sid == sid)
            name = owners[i].pt->vm->cfg.name;
    spin_unlock(&owners_lock);
    return name;
}

static void unclaim(struct vpt *pt)
{
    spin_lock(&owners_lock);
    for (unsigned i = 0; i < sizeof(owners) / sizeof(owners[0]); i++)
        if (owners[i].pt == pt)
            owners[i].pt = NULL;
    spin_unlock(&owners_lock);
}

static int setup_iommu(struct vpt *pt, char *err, unsigned errlen)
{
    struct vm *vm = pt->vm;
    char why[120], name[24];
    if (!vtd_active()) {
        if (!vm->cfg.iommu_off_unsafe) {
            fmt_snprintf(err, errlen,
                         "pci: no IOMMU on this machine, passthrough refused (a device could "
                         "DMA anywhere); `iommu = off-unsafe` allows it at that risk");
            return -1;
        }
        pt->unsafe = true;
        pr_warn("vm %s: passthrough WITHOUT an IOMMU (iommu = off-unsafe): its devices can read "
                "and write all memory, the hypervisor's and other VMs' included; %s",
                vm->cfg.name,
                vm_identity_base(&vm->cfg)
                    ? "its RAM is identity-mapped, so their DMA reaches it"
                    : "bus mastering stays refused as its RAM is not identity-mapped (DMA would "
                      "miss it; a memory_base fixes that)");
        return 0;
    }
    fmt_snprintf(name, sizeof(name), "vm %s", vm->cfg.name);
    pt->dom = vtd_domain_create(name, vm->cfg.name, false);
    if (!pt->dom) {
        fmt_snprintf(err, errlen, "pci: no free IOMMU domain");
        return -1;
    }
    /* Exactly the VM's RAM, at its guest-physical addresses. */
    uint64_t low = vm_mem_low(vm->cfg.mem_size), high = vm_mem_high(vm->cfg.mem_size);
    uint64_t ib = vm_identity_base(&vm->cfg);
    const unsigned rw = VTD_PERM_R | VTD_PERM_W;
    int r;
    if (ib) { /* the layout of an identity-mapped VM (vm_identity_base) */
        r = vtd_domain_map(pt->dom, 0, vm->ram_hpa, GPA_LOW_RAM_END, rw, why, sizeof(why));
        if (!r)
            r = vtd_domain_map(pt->dom, ib + GPA_BIOS_AREA_END, ib + GPA_BIOS_AREA_END,
                               vm->cfg.mem_size - GPA_BIOS_AREA_END, rw, why, sizeof(why));
    } else {
        r = vtd_domain_map(pt->dom, 0, vm->ram_hpa, low, rw, why, sizeof(why));
        if (!r && high)
            r = vtd_domain_map(pt->dom, GPA_HIGH_RAM, vm->ram_hpa + GPA_MMIO_HOLE, high, rw, why,
                               sizeof(why));
    }
    if (r) {
        fmt_snprintf(err, errlen, "pci: cannot map the VM's RAM for DMA (error %d%s%s)", r,
                     r == VTD_ERR_DENIED ? ": " : "", r == VTD_ERR_DENIED ? why : "");
        return -1;
    }
    for (unsigned i = 0; i < pt->nr; i++) {
        char b[16];
        r = vtd_domain_attach(pt->dom, pt->dev[i].hw->seg, pt->dev[i].sid);
        if (r) {
            fmt_snprintf(err, errlen, "pci %s: cannot put it in the VM's IOMMU domain (%s)",
                         bdf_str(&pt->dev[i], b),
                         r == VTD_ERR_NODEV  ? "no IOMMU unit translates it"
                         : r == VTD_ERR_BUSY ? "it is in another domain"
                                             : "error");
            return -1;
        }
    }
    return 0;
}

static void setup_intx(struct vpt *pt, struct vpt_dev *d, struct vpci_dev *vd)
{
    struct vm *vm = pt->vm;
    uint8_t pin = vd->cfg[0x3d], line = d->hw->irq_line;
    d->intx_irte = -1;
    d->guest_gsi = VPT_GUEST_GSI_BASE + vd->slot - 1u;
    vd->irq_line = (uint8_t)d->guest_gsi; /* what firmware would write */
    if (pin < 1 || pin > 4 || line == 0 || line == 0xff)
        return;
    d->host_gsi = line < 16 ? ioapic_isa_to_gsi(line) : line;
    d->host_active_low = true; /* PCI INTx, unless the firmware's override says otherwise */
    for (unsigned i = 0; i < acpi.nr_overrides && i < ACPI_MAX_OVERRIDES; i++)
        if (line < 16 && acpi.overrides[i].bus_irq == line && (acpi.overrides[i].flags & 3) == 1)
            d->host_active_low = false;
    int v = irq_alloc_vector();
    if (v < 0)
        return;
    d->intx_vec = v;
    irq_register((uint8_t)v, intx_irq, d);
    spin_lock(&vm->platform->lock);
    vm_irq_set_level(vm, d->guest_gsi, true); /* idle: high */
    spin_unlock(&vm->platform->lock);
    /* Through an interrupt remapping entry where a unit remaps this I/O
     * APIC's interrupts: the pin can then raise only this vector on this
     * CPU. Compatibility format only where nothing remaps them. */
    int h = vtd_ioapic_route(d->host_gsi, (uint8_t)v, host_apic_id(vm), true, d->host_active_low,
                             false);
    bool routed = h >= 0;
    if (h == VTD_ERR_NODEV)
        routed =
            !ioapic_route_gsi(d->host_gsi, (uint8_t)v, vm->cfg.pcpu[0], true, d->host_active_low);
    else if (h < 0)
        pr_err("vm %s: pci %02x:%02x.%x: no remapping entry for host GSI %u: %s", vm->cfg.name,
               d->hw->bus, d->hw->dev, d->hw->fn, d->host_gsi, vtd_strerror(h));
    if (!routed) {
        irq_register((uint8_t)v, NULL, NULL);
        d->intx_vec = 0;
        return;
    }
    char how[40] = "";
    d->intx_irte = h >= 0 ? h : -1;
    if (h >= 0)
        fmt_snprintf(how, sizeof(how), " (remapping entry %u)", (unsigned)h & 0xffff);
    pr_info("vm %s: pci %02x:%02x.%x INT%c: host GSI %u%s -> guest GSI %u", vm->cfg.name,
            d->hw->bus, d->hw->dev, d->hw->fn, 'A' + pin - 1, d->host_gsi, how, d->guest_gsi);
}

int vpt_attach(struct vm *vm, char *err, unsigned errlen)
{
    if (!vm->cfg.nr_pci)
        return 0;
    if (!vm->platform) {
        fmt_snprintf(err, errlen, "pci: passed-through devices need `platform = pc`");
        return -1;
    }
    uint64_t page = pmm_alloc(VPT_PAGES, 1, "passthrough");
    if (!page) {
        fmt_snprintf(err, errlen, "pci: out of memory");
        return -1;
    }
    struct vpt *pt = (struct vpt *)page;
    memset(pt, 0, sizeof(*pt));
    pt->vm = vm;
    vm->pt = pt;
    pt->ops = (struct vpci_ops){
        pt,           hw_cfg_read,  hw_cfg_write,   hw_bar_read, hw_bar_write, hw_bar_map,
        hw_dma_ready, hw_msi_route, hw_msi_release, hw_refused,  hw_io_pass};
    vtd_fault_hook = dma_fault_hook;
    for (unsigned i = 0; i < vm->cfg.nr_pci; i++) {
        struct vpt_dev *d = &pt->dev[i];
        d->pt = pt;
        d->hw = pci_find_bdf(vm->cfg.pci[i].seg, vm->cfg.pci[i].bus, vm->cfg.pci[i].dev,
                             vm->cfg.pci[i].fn);
        if (!d->hw) {
            fmt_snprintf(err, errlen, "pci: no device at %04x:%02x:%02x.%x", vm->cfg.pci[i].seg,
                         vm->cfg.pci[i].bus, vm->cfg.pci[i].dev, vm->cfg.pci[i].fn);
            return -1;
        }
        d->sid = PCI_BDF(d->hw->bus, d->hw->dev, d->hw->fn);
        for (unsigned s = 0; s < NSLOTS; s++)
            d->vec[s].irte = -1;
        if (!claim(pt, d, err, errlen))
            return -1;
        pt->nr = i + 1;
    }
    if (setup_iommu(pt, err, errlen))
        return -1;
    vpci_bus_init(&pt->bus, &pt->ops, (struct vpci_window){VPT_MMIO_BASE, VPT_MMIO_SIZE},
                  (struct vpci_window){VPT_IO_BASE, VPT_IO_SIZE});
    for (unsigned i = 0; i < pt->nr; i++) {
        struct vpt_dev *d = &pt->dev[i];
        char why[120], b[16];
        for (unsigned k = 0; k < 6; k++)
            if (d->hw->bar_size[k] && !(d->hw->bar_flags[k] & (PCI_BAR_IO | PCI_BAR_UPPER)) &&
                paging_map_mmio(d->hw->bar[k] & ~0xfffULL,
                                (d->hw->bar_size[k] + (d->hw->bar[k] & 0xfff) + 0xfff) &
                                    ~0xfffULL)) {
                fmt_snprintf(err, errlen, "pci %s: cannot map BAR%u", bdf_str(d, b), k);
                return -1;
            }
        struct vpci_dev *vd = vpci_add_device(&pt->bus, d->hw, why, sizeof(why));
        if (!vd) {
            fmt_snprintf(err, errlen, "pci %s: %s", bdf_str(d, b), why);
            return -1;
        }
        setup_intx(pt, d, vd);
    }
    if (!vpci_assign_bars(&pt->bus)) {
        fmt_snprintf(err, errlen, "pci: the devices' BARs do not fit the VM's 512 MiB PCI window");
        return -1;
    }
    if (vm_register_mmio(vm, VPT_ECAM_BASE, VPCI_ECAM_SIZE, ecam_mmio, vm, "pci ecam") ||
        vm_register_mmio(vm, VPT_MMIO_BASE, VPT_MMIO_SIZE, window_mmio, vm, "pci bars") ||
        vm_register_ports(vm, VPT_IO_BASE, VPT_IO_SIZE, port_window, vm)) {
        fmt_snprintf(err, errlen, "pci: no room for the VM's PCI handlers");
        return -1;
    }
    for (unsigned i = 0; i < pt->nr; i++) {
        const struct pci_dev *h = pt->dev[i].hw;
        pr_info("vm %s: pci %02x:%02x.%x (%04x:%04x) at guest 00:%02x.0, %s", vm->cfg.name, h->bus,
                h->dev, h->fn, h->vendor, h->device, pt->bus.dev[i].slot,
                pt->dom ? "DMA confined to the VM's memory by the IOMMU" : "no IOMMU (unsafe)");
    }
    return 0;
}

void vpt_detach(struct vm *vm)
{
    struct vpt *pt = vm->pt;
    if (!pt)
        return;
    if (vm->ept_ready)
        vpci_bus_release(&pt->bus);
    for (unsigned i = 0; i < pt->nr; i++) {
        struct vpt_dev *d = &pt->dev[i];
        char b[16];
        if (d->intx_vec) {
            ioapic_mask_gsi(d->host_gsi);
            if (d->intx_irte >= 0)
                vtd_ioapic_unroute(d->host_gsi, d->intx_irte);
            d->intx_irte = -1;
            irq_register((uint8_t)d->intx_vec, NULL, NULL);
            d->intx_vec = 0;
        }
        for (unsigned s = 0; s < NSLOTS; s++) {
            if (d->vec[s].hvec)
                irq_register((uint8_t)d->vec[s].hvec, NULL, NULL);
            if (d->vec[s].irte >= 0)
                vtd_irte_free(d->vec[s].irte);
            d->vec[s].hvec = 0;
            d->vec[s].irte = -1;
        }
        /* No DMA or interrupt from it any more, before its domain goes and
         * the VM's memory is scrubbed and handed out again. */
        if (d->claimed) {
            enum pci_quiesce_how how = pci_quiesce(d->hw->seg, d->sid);
            pr_info("vm %s: pci %s quiesced (%s)", vm->cfg.name, bdf_str(d, b),
                    pci_quiesce_name(how));
        }
    }
    if (pt->dom)
        vtd_domain_destroy(pt->dom);
    unclaim(pt);
    vm->pt = NULL;
    pmm_free((uint64_t)pt, VPT_PAGES);
}

bool vpt_owns_hpa(const struct vm *vm, uint64_t hpa, uint64_t size)
{
    const struct vpt *pt = vm->pt;
    if (!pt)
        return false;
    for (unsigned i = 0; i < pt->nr; i++)
        for (unsigned k = 0; k < 6; k++) {
            const struct vpci_bar *r = &pt->bus.dev[i].bar[k];
            if (i < pt->bus.nr && r->hw_size >= 4096 && !(r->flags & PCI_BAR_IO) &&
                hpa >= r->host && hpa - r->host < r->hw_size &&
                size <= r->hw_size - (hpa - r->host))
                return true;
        }
    return false;
}
