#include "vdev/platform.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/tsc.h"
#include "drivers/rtc.h"
#include "vdev/acpi_gen.h"
#include "vdev/lapic_apicv_window.h"
#include "vdev/lapic_window.h"
#include "vdev/virq.h"
#include "vdev/vpci.h"
#include "vcpu/vm.h"
#include "hvm/backend.h"
#include "vdev/vpci_acpi.h"
#include "vdev/vpci_pt.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/string.h"
#include "mm/pmm.h"

#define PLATFORM_PAGES ((sizeof(struct vm_platform) + 4095) / 4096)

static uint64_t clock_now(void *ctx)
{
    return rdtsc();
}

static void isa_irq(void *ctx, unsigned irq, bool high)
{
    vm_irq_set_level(ctx, irq, high);
}

static void guest_power_off(void *ctx)
{
    vm_request_stop(ctx, VM_SHUTOFF, "powered off by the guest (ACPI S5)");
}

static void guest_reset(void *ctx)
{
    vm_request_reset(ctx, VM_RESTART_GUEST, "reset by the guest");
}

static void power_button(struct vm *vm)
{
    struct vm_platform *p = vm->platform;
    spin_lock(&p->lock);
    vpm_power_button(&p->pm);
    spin_unlock(&p->lock);
}

/* Ports: one handler dispatching to the models by address. */
static bool pc_ports(struct vcpu *v, uint16_t port, unsigned size, bool in, uint32_t *val,
                     void *ctx)
{
    struct vm_platform *p = ctx;
    bool ok = true;
    spin_lock(&p->lock);
    if (port >= ACPI_GEN_PM1A_EVT && port < ACPI_GEN_PM_TMR + ACPI_GEN_PM_TMR_LEN) {
        ok = vpm_io(&p->pm, port, size, in, val);
    } else if (port >= 0xcf8 && port <= 0xcff) {
        /* Its passed-through devices, or an empty bus. */
        if (p->vm->pt ? !vpt_config_io(p->vm, port, size, in, val)
                      : !vpci_io(&p->pci_addr, port, size, in, val))
            ok = vpm_io(&p->pm, port, size, in, val); /* 0xCF9: reset control */
    } else if (port == 0x80 || port == 0xed) {
        if (in)
            *val = 0xff; /* POST-code and delay ports: nothing there, silently */
    } else if (port == 0x92) {
        ok = vpm_io(&p->pm, port, size, in, val);
    } else {
        uint32_t result = 0;
        for (unsigned i = 0; i < size; i++) {
            uint16_t pt = port + i;
            uint8_t b = in ? 0xff : (uint8_t)(*val >> (8 * i));
            if ((pt >= 0x40 && pt <= 0x43) || pt == 0x61)
                vpit_io(&p->pit, pt, in, &b);
            else if (pt == 0x70 || pt == 0x71)
                vrtc_io(&p->rtc, pt, in, &b);
            else
                vpic_io(&p->pic, pt, in, &b);
            result |= (uint32_t)b << (8 * i);
        }
        if (in)
            *val = result;
    }
    /* A real-time VM's device timers run on the housekeeping CPU: one
     * programmed earlier than its timer is armed needs it armed now. */
    bool arm = p->rt_ticked && rt_ticks_need_arm(p);
    spin_unlock(&p->lock);
    if (arm)
        rt_ticks_arm(p);
    if (p->vm->pt && port >= 0xcf8 && port <= 0xcff)
        vpt_sync(p->vm); /* a BAR moved or closed: every vCPU sees it first */
    return ok;
}

static bool ioapic_mmio(struct vcpu *v, uint64_t gpa, unsigned size, bool write, uint64_t *val,
                        void *ctx)
{
    struct vm_platform *p = ctx;
    bool ok;
    spin_lock(&p->lock);
    if (write)
        ok = vioapic_mmio_write(&p->ioapic, (uint32_t)(gpa & 0xfff), size, *val);
    else
        ok = vioapic_mmio_read(&p->ioapic, (uint32_t)(gpa & 0xfff), size, val);
    spin_unlock(&p->lock);
    return ok;
}

static bool lapic_mmio(struct vcpu *v, uint64_t gpa, unsigned size, bool write, uint64_t *val,
                       void *ctx)
{
    struct vm_platform *p = ctx;
    struct vlapic *a = &p->lapic[v->id];
    bool ok;
    spin_lock(&p->lock);
    if (!lapic_window_owns(p, v->id, gpa)) {
        /* Another vCPU's window, or this one's old page: absent hardware. */
        if (!write)
            *val = size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
        ok = true;
    } else if (write)
        ok = vlapic_mmio_write(a, (uint32_t)(gpa & 0xfff), size, *val);
    else
        ok = vlapic_mmio_read(a, (uint32_t)(gpa & 0xfff), size, val);
    spin_unlock(&p->lock);
    return ok;
}

bool platform_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *val, bool *gp)
{
    struct vm_platform *p = v->vm->platform;
    struct vlapic *a;
    if (!p)
        return false;
    a = &p->lapic[v->id];
    *gp = false;
    spin_lock(&p->lock);
    bool mine = true;
    if (msr == 0x1b)
        *val = vlapic_get_apic_base(a);
    else if (msr == 0x6e0)
        *val = vlapic_get_tsc_deadline(a);
    else if (msr >= 0x800 && msr <= 0x8ff)
        *gp = !vlapic_msr_read(a, msr, val);
    else
        mine = false;
    spin_unlock(&p->lock);
    return mine;
}

bool platform_wrmsr(struct vcpu *v, uint32_t msr, uint64_t val, bool *gp)
{
    struct vm_platform *p = v->vm->platform;
    struct vlapic *a;
    if (!p)
        return false;
    a = &p->lapic[v->id];
    *gp = false;
    spin_lock(&p->lock);
    bool mine = true;
    bool unmapped = false;
    if (msr == 0x1b) {
        /* The xAPIC window moves with the base (vdev/lapic_window.c), and
         * is an APIC-access page only while every vCPU's mode and base
         * allow it (vdev/lapic_apicv_window.c). */
        *gp = !lapic_window_can_move(p, v->id, val) || !vlapic_set_apic_base(a, val);
        if (!*gp) {
            lapic_window_moved(p, v->id, val);
            unmapped = lapic_apicv_window_update(p);
        }
    } else if (msr == 0x6e0)
        vlapic_set_tsc_deadline(a, val);
    else if (msr >= 0x800 && msr <= 0x8ff)
        *gp = !vlapic_msr_write(a, msr, val);
    else
        mine = false;
    spin_unlock(&p->lock);
    /* No vCPU may keep the old translation, this one (which may leave
     * xAPIC mode, or now own a window elsewhere) included, before it runs. */
    if (unmapped)
        lapic_apicv_window_sync(p);
    return mine;
}

_Static_assert(VLAPIC_STARTUP_RUN == (int)VCPU_STARTUP_RUN &&
                   VLAPIC_STARTUP_WAIT == (int)VCPU_STARTUP_WAIT &&
                   VLAPIC_STARTUP_SIPI == (int)VCPU_STARTUP_SIPI &&
                   VLAPIC_STARTUP_RESET == (int)VCPU_STARTUP_RESET,
               "one start-up state encoding");

int platform_take_startup(struct vcpu *v, uint8_t *sipi)
{
    struct vm_platform *p = v->vm->platform;
    if (!p)
        return VCPU_STARTUP_RUN;
    spin_lock(&p->lock);
    int r = (int)vlapic_take_startup(&p->lapic[v->id], sipi);
    spin_unlock(&p->lock);
    return r;
}

static uint64_t platform_get_cr8(struct vcpu *v)
{
    struct vm_platform *p = v->vm->platform;
    spin_lock(&p->lock);
    uint64_t cr8 = vlapic_get_cr8(&p->lapic[v->id]);
    spin_unlock(&p->lock);
    return cr8;
}

static void platform_set_cr8(struct vcpu *v, uint64_t cr8)
{
    struct vm_platform *p = v->vm->platform;
    spin_lock(&p->lock);
    vlapic_set_cr8(&p->lapic[v->id], cr8);
    spin_unlock(&p->lock);
}

/* The TSC-deadline timer counts guest TSC: it follows IA32_TSC writes. */
static void platform_set_tsc_offset(struct vcpu *v, uint64_t offset)
{
    struct vm_platform *p = v->vm->platform;
    spin_lock(&p->lock);
    vlapic_set_tsc_offset(&p->lapic[v->id], offset);
    spin_unlock(&p->lock);
}

/* The PM timer is a function of the TSC alone (its epoch and frequency
 * change only while the VM is stopped): read without the lock, by the
 * backend's fast path (vcpu_fast_port_in). */
static bool platform_port_in_fast(struct vcpu *v, uint16_t port, unsigned size, uint32_t *val)
{
    if (port != ACPI_GEN_PM_TMR || size != 4)
        return false;
    *val = vpm_timer(&v->vm->platform->pm, rdtsc());
    return true;
}

/* What the vCPU layer calls (vcpu/vm.h), with vm->platform set. */
static const struct vm_platform_ops pc_platform_ops = {
    .pending_interrupt = vcpu_pending_interrupt,
    .ack_interrupt = vcpu_ack_interrupt,
    .timers_tick = vm_timers_tick,
    .take_startup = platform_take_startup,
    .rdmsr = platform_rdmsr,
    .wrmsr = platform_wrmsr,
    .get_cr8 = platform_get_cr8,
    .set_cr8 = platform_set_cr8,
    .set_tsc_offset = platform_set_tsc_offset,
    .port_in_fast = platform_port_in_fast,
    .apic_fast = platform_apic_fast,
    .apicv_fast = platform_apicv_fast,
    .apicv_export = platform_apicv_export,
    .apicv_import = platform_apicv_import,
};

/* The ACPI tables live in the VM's read-only BIOS area, written through
 * the host mapping (the guest cannot write there). */
static int install_acpi(struct vm *vm, char *err, unsigned errlen)
{
    static uint8_t buf[GPA_BIOS_AREA_END - GPA_BIOS_AREA];
    struct acpi_gen_params ap;
    struct acpi_gen_layout lay;
    acpi_gen_default_params(&ap, vm->cfg.nr_vcpus, GPA_BIOS_AREA);
    struct vpci_acpi pci = {vm->cfg.nr_pci, VPT_MMIO_BASE,      VPT_MMIO_SIZE, VPT_IO_BASE,
                            VPT_IO_SIZE,    VPT_GUEST_GSI_BASE, VPT_ECAM_BASE};
    if (vm->cfg.nr_pci)
        ap.pci = &pci; /* passed-through devices (vdev/vpci_pt.h) */
    memset(buf, 0, sizeof(buf));
    if (!acpi_gen_build(&ap, buf, sizeof(buf), &lay)) {
        fmt_snprintf(err, errlen, "cannot build the ACPI tables");
        return -1;
    }
    memcpy((void *)(vm->ram_hpa + GPA_BIOS_AREA), buf, lay.total);
    vm->acpi_rsdp_gpa = lay.rsdp_gpa;
    vm->ioapic_id = lay.ioapic_id;
    return 0;
}

int platform_create(struct vm *vm, char *err, unsigned errlen)
{
    uint64_t page = pmm_alloc(PLATFORM_PAGES, 1, "vm platform");
    struct rtc_time now = {0, 0, 0, 1, 1, 2026};
    if (!page) {
        fmt_snprintf(err, errlen, "out of memory for the virtual platform");
        return -1;
    }
    if (install_acpi(vm, err, errlen)) {
        pmm_free(page, PLATFORM_PAGES);
        return -1;
    }
    struct vm_platform *p = (struct vm_platform *)page;
    memset(p, 0, sizeof(*p));
    p->vm = vm;
    p->clock = (struct vdev_clock){NULL, clock_now, tsc_khz()};
    vpic_init(&p->pic);
    p->ioapic_ops = (struct vioapic_ops){vm, virq_ioapic_deliver};
    vioapic_init(&p->ioapic, vm->ioapic_id, &p->ioapic_ops);
    /* A real-time guest EOIs its own local APIC (vdev/virq_rt.h). */
    p->ioapic.eoi_unseen = vm->cfg.realtime && vcpu_backend->realtime_lapic;
    /* ... and gets its device ticks from the housekeeping CPU. */
    p->rt_ticked = p->ioapic.eoi_unseen;
    if (p->rt_ticked)
        rt_ticks_init(p);
    vpit_init(&p->pit, &p->clock, isa_irq, vm);
    if (host_rtc_read(&now))
        pr_warn("vm %s: host RTC unreadable; the guest clock starts at 2026-01-01", vm->cfg.name);
    vrtc_init(&p->rtc, &p->clock, &now, isa_irq, vm);
    /* CMOS memory size, for guests that still look there. */
    uint64_t ext_kb = (vm_mem_low(vm->cfg.mem_size) - 0x100000) >> 10;
    if (ext_kb > 0xffff)
        ext_kb = 0xffff; /* the register's limit, as on a PC */
    vrtc_cmos_set(&p->rtc, 0x17, (uint8_t)ext_kb);
    vrtc_cmos_set(&p->rtc, 0x18, (uint8_t)(ext_kb >> 8));
    vpm_init(&p->pm, &p->clock, ACPI_GEN_PM1A_EVT, ACPI_GEN_PM1A_CNT, ACPI_GEN_PM_TMR,
             ACPI_GEN_S5_TYP, isa_irq, vm, guest_power_off, guest_reset, vm);
    for (unsigned i = 0; i < vm->cfg.nr_vcpus && i < 8; i++) {
        p->lapic_ctx[i] = (struct lapic_ctx){vm, i};
        p->lapic_ops[i] = (struct vlapic_ops){&p->lapic_ctx[i], clock_now,      tsc_khz(),  true, 0,
                                              virq_send_ipi,    virq_eoi_level, virq_notify};
        vlapic_init(&p->lapic[i], i, i == 0, &p->lapic_ops[i]);
        vlapic_set_tsc_offset(&p->lapic[i], vm->tsc_offset);
    }
    vm->platform_ops = &pc_platform_ops;
    vm->platform = p;
    /* The SCI is active-low level in the MADT: its line idles high. */
    vioapic_set_level(&p->ioapic, ACPI_GEN_SCI_IRQ, true);

    static const uint16_t ranges[][2] = {
        {0x20, 2},
        {0xa0, 2},
        {0x4d0, 2},
        {0x40, 4},
        {0x61, 1},
        {0x70, 2},
        {0x80, 1},
        {0xed, 1},
        {0x92, 1},
        {0xcf8, 8},
        {ACPI_GEN_PM1A_EVT, 12},
    };
    for (unsigned i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
        vm_register_ports(vm, ranges[i][0], ranges[i][1], pc_ports, p);
    vm_register_mmio(vm, GPA_IOAPIC, 0x1000, ioapic_mmio, p, "ioapic");
    vm_register_mmio(vm, GPA_LAPIC, 0x1000, lapic_mmio, p, "lapic");
    lapic_window_init(p, lapic_mmio);
    lapic_apicv_window_init(p);
    vm->power_button = power_button;
    return 0;
}

void platform_destroy(struct vm *vm)
{
    if (!vm->platform)
        return;
    lapic_apicv_window_free(vm->platform);
    if (vm->platform->rt_ticked && !rt_ticks_stop(vm->platform))
        /* A device-timer call may still reach it: kept for good (a leak
         * bounded by one platform per such stop) rather than reused. */
        pr_err("vm %s: the housekeeping CPU did not confirm that the device timer stopped; "
               "its %u KiB of device state are kept, not freed",
               vm->cfg.name, (unsigned)(PLATFORM_PAGES * 4));
    else
        pmm_free((uint64_t)vm->platform, PLATFORM_PAGES);
    vm->platform = NULL;
    vm->platform_ops = NULL;
    vm->power_button = NULL;
}
