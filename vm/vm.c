/* VM objects and their lifecycle: create, start, finish a stop; the
 * vUARTs' port handlers. Dispatch, guest memory and stop requests are the
 * vCPU layer's (vcpu/vm_core.c). */
#include "vm/vm.h"

#include <stdarg.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "loader/loader.h"
#include "loader/modules.h"
#include "vdev/platform.h"
#include "hvm/backend.h"
#include "vcpu/hvm.h"
#include "vcpu/vcpu_switch.h"
#include "vdev/virq.h"
#include "vm/vm_output.h"
#include "vcpu/vm_sched.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/string.h"
#include "mm/pmm.h"
#include "vdev/vpci_pt.h"

struct vm *vms[MAX_VMS];
unsigned nr_vms;
static spinlock_t vms_lock = SPINLOCK_INIT;
static uint16_t next_vpid = 1;

#define SIZE_2M (2ULL << 20)

static const char *const state_names[] = {"defined", "running", "paused", "shut off", "crashed"};

const char *vm_state_name(enum vm_state s)
{
    return (unsigned)s < 5 ? state_names[s] : "?";
}

struct vm *vm_find(const char *name)
{
    for (unsigned i = 0; i < nr_vms; i++)
        if (vms[i] && !strcmp(vms[i]->cfg.name, name))
            return vms[i];
    return NULL;
}

static bool valid_name(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

static void uart_line(void *ctx, const char *line, unsigned len)
{
    vm_console_output(ctx, line, len);
}

static void uart1_line(void *ctx, const char *line, unsigned len)
{
    vm_console_output_tty(ctx, 1, line, len);
}

static void uart_raw(void *ctx, const char *bytes, unsigned len)
{
    vm_output_raw(ctx, bytes, len);
}

/* Hypercall console output goes through the first vUART, as if written
 * to its transmit register. */
static void console_put(struct vm *vm, const char *bytes, unsigned len)
{
    for (unsigned i = 0; i < len; i++)
        vuart_write(&vm->uarts[0], 0, (uint8_t)bytes[i]);
}

struct vm *vm_create(const struct vm_config *cfg, char *err, unsigned errlen)
{
    if (!valid_name(cfg->name)) {
        fmt_snprintf(err, errlen, "bad VM name '%s' (letters, digits, - _ . only)", cfg->name);
        return NULL;
    }
    if (vm_find(cfg->name)) {
        fmt_snprintf(err, errlen, "a VM named '%s' already exists", cfg->name);
        return NULL;
    }
    if (cfg->mem_size < SIZE_2M || (cfg->mem_size & (SIZE_2M - 1))) {
        fmt_snprintf(err, errlen, "memory for '%s' must be a multiple of 2 MiB, at least 2 MiB",
                     cfg->name);
        return NULL;
    }
    if (GPA_HIGH_RAM + vm_mem_high(cfg->mem_size) > GPA_HIGH_RAM_MAX) {
        fmt_snprintf(err, errlen, "memory for '%s' is larger than %llu GiB", cfg->name,
                     (unsigned long long)((GPA_HIGH_RAM_MAX - GPA_HIGH_RAM + GPA_MMIO_HOLE) >> 30));
        return NULL;
    }
    if (!cfg->nr_vcpus || cfg->nr_vcpus > MAX_VCPUS) {
        fmt_snprintf(err, errlen, "'%s' needs 1 to %d vCPUs", cfg->name, MAX_VCPUS);
        return NULL;
    }
    if (!guest_module_find(cfg->kernel)) {
        fmt_snprintf(err, errlen, "module '%s' for '%s' was not loaded by the boot loader",
                     cfg->kernel, cfg->name);
        return NULL;
    }
    uint64_t page = pmm_alloc(VM_OBJECT_PAGES, 1, "vm objects");
    if (!page) {
        fmt_snprintf(err, errlen, "out of memory for VM '%s'", cfg->name);
        return NULL;
    }
    struct vm *vm = (struct vm *)page;
    memset(vm, 0, VM_OBJECT_PAGES * 4096);
    vm->uarts = (struct vuart *)(vm + 1);
    vm->console_put = console_put;
    vm_event_output = vm_output_event;
    vm->cfg = *cfg;
    vm->state = VM_DEFINED;
    spin_lock(&vms_lock);
    unsigned slot = 0; /* the first one vm_remove freed, else a new one */
    while (slot < nr_vms && vms[slot])
        slot++;
    if (slot >= MAX_VMS) {
        spin_unlock(&vms_lock);
        pmm_free(page, VM_OBJECT_PAGES);
        fmt_snprintf(err, errlen, "too many VMs (at most %d)", MAX_VMS);
        return NULL;
    }
    static uint64_t serials;
    vm->id = slot;
    vm->serial = ++serials;
    vms[slot] = vm;
    if (slot == nr_vms)
        nr_vms++;
    spin_unlock(&vms_lock);
    vm_output_new_owner(vm); /* nothing of the slot's previous VM */
    return vm;
}

int vm_remove(struct vm *vm, char *err, unsigned errlen)
{
    if (vm->state == VM_RUNNING || vm->state == VM_PAUSED) {
        fmt_snprintf(err, errlen, "vm %s is %s; destroy or shut it down first", vm->cfg.name,
                     vm_state_name(vm->state));
        return -1;
    }
    if (vm->teardown || vm->vcpus_out || vm->scrubbing || vm->attached) {
        fmt_snprintf(err, errlen, "vm %s is still stopping; try again in a moment", vm->cfg.name);
        return -1;
    }
    vm->restart_at = 0; /* a pending restart-on-crash goes with it */
    vm_free_ram(vm);    /* (kept scrubbed for a restart, if at all) */
    spin_lock(&vms_lock);
    vms[vm->id] = NULL;
    while (nr_vms && !vms[nr_vms - 1])
        nr_vms--;
    spin_unlock(&vms_lock);
    pmm_free((uint64_t)vm, VM_OBJECT_PAGES);
    return 0;
}

/* LAPIC and IOAPIC windows are in the documented map; until their device
 * models exist they behave as absent hardware. */
static bool absent_mmio(struct vcpu *v, uint64_t gpa, unsigned size, bool write, uint64_t *val,
                        void *ctx)
{
    if (!write)
        *val = size == 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
    vm_log_violation(v->vm, "%s window access at 0x%llx: absent (platform = none)",
                     (const char *)ctx, (unsigned long long)gpa);
    return true;
}

static bool uart_port(struct vcpu *v, uint16_t port, unsigned size, bool in, uint32_t *val,
                      void *ctx)
{
    struct vuart *u = ctx;
    /* Wider accesses touch consecutive byte registers, as on a real bus. */
    uint32_t result = 0;
    for (unsigned i = 0; i < size; i++) {
        unsigned off = port + i - u->base;
        if (off > 7) {
            result |= 0xffU << (8 * i);
            continue;
        }
        if (in)
            result |= (uint32_t)vuart_read(u, off) << (8 * i);
        else
            vuart_write(u, off, (uint8_t)(*val >> (8 * i)));
    }
    if (in)
        *val = result;
    vm_uart_update_irq(v->vm);
    return true;
}

void vm_uart_update_irq(struct vm *vm)
{
    struct vm_platform *p = vm->platform;
    unsigned n = vm->nr_uarts < VM_MAX_UARTS ? vm->nr_uarts : VM_MAX_UARTS;
    if (!p)
        return;
    spin_lock(&p->lock);
    for (unsigned i = 0; i < n; i++) {
        /* Two vUARTs may share a line: it is high while either asks. */
        bool level = false;
        for (unsigned j = 0; j < n; j++)
            if (vm->cfg.uarts[j].irq == vm->cfg.uarts[i].irq)
                level |= vuart_irq_pending(&vm->uarts[j]);
        vm_irq_set_level(vm, vm->cfg.uarts[i].irq, level);
    }
    spin_unlock(&p->lock);
}

bool vm_uart_input(struct vm *vm, uint8_t byte)
{
    bool ok = vuart_push_rx(&vm->uarts[0], byte);
    vm_uart_update_irq(vm);
    return ok;
}

static uint64_t ept_alloc(void *ctx)
{
    uint64_t p = pmm_alloc(1, 1, "ept tables");
    if (p)
        memset((void *)p, 0, 4096);
    return p;
}

static void ept_free(void *ctx, uint64_t phys)
{
    pmm_free(phys, 1);
}

static void *ept_p2v(void *ctx, uint64_t phys)
{
    return (void *)phys;
}

static const struct ept_ops vm_ept_ops = {ept_alloc, ept_free, ept_p2v, NULL};

static int build_memory(struct vm *vm, char *err, unsigned errlen)
{
    uint64_t pages = vm->cfg.mem_size / 4096;
    uint64_t base = vm->cfg.mem_base;
    bool zero = true;
    if (vm->ram_hpa && vm->ram_clean && vm->ram_alloc_size == vm->cfg.mem_size) {
        /* Scrubbed in chunks after the last stop and kept for this restart:
         * already zero, no bulk clear here. */
        zero = false;
    } else if (base) {
        /* A fixed partition: exactly this host range or nothing. */
        char why[120];
        if ((base & (SIZE_2M - 1)) || base + vm->cfg.mem_size < base) {
            fmt_snprintf(err, errlen, "memory_base 0x%llx is not 2 MiB aligned",
                         (unsigned long long)base);
            return -1;
        }
        if (pmm_claim_why(base, vm->cfg.mem_size, vm->cfg.name, why, sizeof(why))) {
            fmt_snprintf(err, errlen, "memory_base: %s", why);
            return -1;
        }
        vm->ram_hpa = base;
    } else {
        vm->ram_hpa = pmm_alloc(pages, SIZE_2M / 4096, vm->cfg.name);
        if (!vm->ram_hpa) {
            fmt_snprintf(err, errlen, "not enough free memory for %llu MiB",
                         (unsigned long long)(vm->cfg.mem_size >> 20));
            return -1;
        }
    }
    vm->ram_alloc_size = vm->cfg.mem_size;
    vm->ram_clean = false;
    if (zero)
        memset((void *)vm->ram_hpa, 0, vm->cfg.mem_size); /* a VM starts from zeroed RAM */
    bool pg_2m, pg_1g;
    hvm_npt_page_sizes(&pg_2m, &pg_1g);
    const struct ept_format *fmt = hvm_npt_format();
    if (ept_init_format(&vm->ept, &vm_ept_ops, fmt ? fmt : &ept_format_ept, pg_2m, pg_1g))
        goto nomem;
    const unsigned rwx = EPT_R | EPT_W | EPT_X;
    uint64_t ib = vm_identity_base(&vm->cfg); /* its devices DMA to guest addresses */
    if (ib) {
        if (ept_map(&vm->ept, 0, vm->ram_hpa, GPA_LOW_RAM_END, rwx, EPT_MT_WB) ||
            ept_map(&vm->ept, GPA_ROM_AREA, vm->ram_hpa + GPA_ROM_AREA,
                    GPA_BIOS_AREA_END - GPA_ROM_AREA, EPT_R | EPT_X, EPT_MT_WB) ||
            ept_map(&vm->ept, ib + GPA_BIOS_AREA_END, ib + GPA_BIOS_AREA_END,
                    vm->cfg.mem_size - GPA_BIOS_AREA_END, rwx, EPT_MT_WB))
            goto nomem;
    } else if (ept_map(&vm->ept, 0, vm->ram_hpa, GPA_LOW_RAM_END, rwx, EPT_MT_WB) ||
               ept_map(&vm->ept, GPA_ROM_AREA, vm->ram_hpa + GPA_ROM_AREA,
                       GPA_BIOS_AREA_END - GPA_ROM_AREA, EPT_R | EPT_X, EPT_MT_WB) ||
               ept_map(&vm->ept, GPA_BIOS_AREA_END, vm->ram_hpa + GPA_BIOS_AREA_END,
                       vm_mem_low(vm->cfg.mem_size) - GPA_BIOS_AREA_END, rwx, EPT_MT_WB))
        goto nomem;
    /* RAM that would overlap the 32-bit MMIO hole continues at 4 GiB, as
     * on a PC: the tail of the same host block. */
    if (vm_mem_high(vm->cfg.mem_size) &&
        ept_map(&vm->ept, GPA_HIGH_RAM, vm->ram_hpa + GPA_MMIO_HOLE, vm_mem_high(vm->cfg.mem_size),
                rwx, EPT_MT_WB))
        goto nomem;
    vm->ept_ready = true;
    return 0;
nomem:
    fmt_snprintf(err, errlen, "out of memory for the EPT tables");
    return -1;
}

/* Devices and second-level tables; the RAM block stays (see vm_free_ram). */
static void release_devices(struct vm *vm)
{
    vpt_detach(vm); /* quiesced and out of its domain before the RAM is scrubbed */
    platform_destroy(vm);
    vm->ept_ready = false;
    ept_destroy(&vm->ept);
    memset(&vm->ept, 0, sizeof(vm->ept));
}

void vm_free_ram(struct vm *vm)
{
    if (!vm->ram_hpa)
        return;
    pmm_free(vm->ram_hpa, vm->ram_alloc_size / 4096);
    vm->ram_hpa = 0;
    vm->ram_clean = false;
}

/* A start that failed half-way: scrub at once (the block may hold part of
 * the image) and free everything. */
static void release_memory(struct vm *vm)
{
    release_devices(vm);
    if (vm->ram_hpa) {
        memset((void *)vm->ram_hpa, 0, vm->ram_alloc_size);
        vm_free_ram(vm);
    }
}

static void free_vcpus(struct vm *vm)
{
    for (unsigned i = 0; i < vm->nr_vcpus; i++) {
        struct vcpu *v = vm->vcpus[i];
        if (!v)
            continue;
        vcpu_backend->destroy(v);
        if (v->xsave_area)
            pmm_free((uint64_t)v->xsave_area, 2);
        pmm_free((uint64_t)v, (sizeof(*v) + 4095) / 4096);
        vm->vcpus[i] = NULL;
    }
    vm->nr_vcpus = 0;
}

static struct vcpu *make_vcpu(struct vm *vm, unsigned id, const struct vcpu_boot_state *boot)
{
    uint64_t page = pmm_alloc((sizeof(struct vcpu) + 4095) / 4096, 1, "vcpus");
    uint64_t xs = pmm_alloc(2, 1, "xsave areas");
    if (!page || !xs) {
        if (page)
            pmm_free(page, (sizeof(struct vcpu) + 4095) / 4096);
        if (xs)
            pmm_free(xs, 2);
        return NULL;
    }
    struct vcpu *v = (struct vcpu *)page;
    memset(v, 0, sizeof(*v));
    vcpu_fpu_area_init((void *)xs); /* nothing of a previous VM's registers */
    v->xsave_area = (void *)xs;
    v->vm = vm;
    v->id = id;
    v->pcpu = vm->cfg.pcpu[id];
    v->xcr0 = 1;
    v->boot = *boot;
    v->vm_info.vm_serial = vm->serial;
    v->vm_info.ept = &vm->ept;
    v->vm_info.tsc_offset = vm->tsc_offset;
    v->vm_info.realtime = vm->cfg.realtime;
    _Static_assert(VM_MAX_IOPORTS <= VCPU_MAX_IO_PASSTHROUGH, "vcpu_vm_info holds every range");
    v->vm_info.nr_io_passthrough =
        vm->cfg.nr_ioports < VM_MAX_IOPORTS ? vm->cfg.nr_ioports : VM_MAX_IOPORTS;
    for (unsigned i = 0; i < v->vm_info.nr_io_passthrough; i++) {
        v->vm_info.io_passthrough[i].base = vm->cfg.ioports[i].base;
        v->vm_info.io_passthrough[i].count = vm->cfg.ioports[i].count;
    }
    v->msr_apic_base = 0xfee00000ULL | (1ULL << 11) | (id == 0 ? (1ULL << 8) : 0);
    v->msr_misc_enable = (1ULL << 0) | (1ULL << 11) | (1ULL << 12);
    v->msr_pat = 0x0007040600070406ULL;
    spin_lock(&vms_lock);
    v->vpid = next_vpid++;
    if (next_vpid == 0)
        next_vpid = 1;
    spin_unlock(&vms_lock);
    if (vcpu_backend->init(v)) {
        pmm_free(xs, 2);
        pmm_free(page, (sizeof(struct vcpu) + 4095) / 4096);
        return NULL;
    }
    return v;
}

int vm_start(struct vm *vm, char *err, unsigned errlen)
{
    struct vcpu_boot_state boot;

    if (vm->teardown) {
        fmt_snprintf(err, errlen, "%s is still stopping", vm->cfg.name);
        return -1;
    }
    if (vm->state == VM_RUNNING || vm->state == VM_PAUSED || vm->vcpus_running) {
        fmt_snprintf(err, errlen, "%s is already running", vm->cfg.name);
        return -1;
    }
    /* Started again while its last stop's scrub is under way (a restart
     * waits for it; a console `start` does not): finish it now. */
    vm_scrub_finish(vm);
    if (!hvm_available()) {
        fmt_snprintf(err, errlen, "cannot start %s: %s unavailable (%s)", vm->cfg.name,
                     vcpu_backend->name, hvm_unavailable_reason());
        return -1;
    }
    const struct guest_module *m = guest_module_find(vm->cfg.kernel);
    if (!m) {
        fmt_snprintf(err, errlen, "module '%s' not found", vm->cfg.kernel);
        return -1;
    }
    vm->nr_ports = vm->nr_mmio = 0;
    vm->shutdown_requested = false;
    vm->violations_logged = 0;
    vm->reason[0] = '\0';
    vm->exit_code = 0;
    vm->have_crash_regs = false;
    vm->shutdown_deadline = 0;
    vm->restart_at = 0;
    vm->restart_kind = VM_RESTART_NONE;
    vm->vcpus_out = false;
    vm->scrubbing = false;
    if (build_memory(vm, err, errlen))
        goto fail;
    /* A real-time VM writes the physical TSC deadline: its TSC is the host's. */
    vm->tsc_offset = vm->cfg.realtime ? 0 : (uint64_t) - (int64_t)rdtsc();
    if (vm->cfg.realtime && !lapic_is_x2apic()) {
        fmt_snprintf(err, errlen,
                     "realtime: the local APICs are not in x2APIC mode (a real-time VM owns "
                     "its local APIC through the x2APIC MSRs)");
        goto fail;
    }
    /* Every VM gets the whole PC unless it asked to be a bare partition
     * (`platform = none`; never for Linux, the checker refuses that). */
    if (vm_has_platform(&vm->cfg) && platform_create(vm, err, errlen))
        goto fail;
    if (vm->cfg.protocol == BOOT_LINUX) {
        if (guest_load_linux(vm, &boot, err, errlen))
            goto fail;
    } else if (vm->cfg.protocol == BOOT_RAW) {
        if (guest_load_raw(vm, (const void *)m->start, m->end - m->start, &boot, err, errlen))
            goto fail;
    } else if (guest_load_kernel(vm, (const void *)m->start, m->end - m->start, vm->cfg.cmdline,
                                 &boot, err, errlen)) {
        goto fail;
    }
    if (vpt_attach(vm, err, errlen))
        goto fail;
    long leaves = vm_check_isolation(vm, vpt_owns_hpa); /* its own BARs are its */
    if (leaves < 0) {
        fmt_snprintf(err, errlen, "isolation check failed: EPT maps memory outside the VM");
        goto fail;
    }
    pr_debug("vm %s: isolation check passed (%ld EPT leaves, all inside its RAM)", vm->cfg.name,
             leaves);
    /* uarts[0] exists even without `uarts` (hypercall output goes there);
     * only configured vUARTs get their ports. */
    vm->nr_uarts = vm->cfg.nr_uarts < VM_MAX_UARTS ? vm->cfg.nr_uarts : VM_MAX_UARTS;
    for (unsigned i = 0; i < VM_MAX_UARTS; i++) {
        uint16_t port = i < vm->nr_uarts ? vm->cfg.uarts[i].port : 0;
        vuart_init(&vm->uarts[i], port, i ? uart1_line : uart_line, vm);
        if (i < vm->nr_uarts && vm_register_ports(vm, port, 8, uart_port, &vm->uarts[i])) {
            fmt_snprintf(err, errlen, "cannot map the vUART at 0x%x", port);
            goto fail;
        }
    }
    vm->uarts[0].raw_output = uart_raw;
    vm->uarts[0].raw = vm->attached;
    if (!vm->platform) {
        vm_register_mmio(vm, GPA_IOAPIC, 0x1000, absent_mmio, "ioapic", "ioapic");
        vm_register_mmio(vm, GPA_LAPIC, 0x1000, absent_mmio, "lapic", "lapic");
    }
    for (unsigned i = 0; i < vm->cfg.nr_vcpus; i++) {
        struct vcpu *v = make_vcpu(vm, i, &boot);
        if (!v) {
            fmt_snprintf(err, errlen, "out of memory for vCPU %u", i);
            goto fail;
        }
        vm->vcpus[i] = v;
        vm->nr_vcpus = i + 1;
        /* Application processors wait for INIT-SIPI, as on hardware. */
        if (i > 0) {
            v->state = VCPU_BLOCKED;
            v->waiting_sipi = true;
        }
    }
    vm->start_tsc = rdtsc();
    vm->state = VM_RUNNING;
    vm->starts++;
    vm->vcpus_running = vm->nr_vcpus;
    for (unsigned i = 0; i < vm->nr_vcpus; i++)
        vm_sched_ops->add(vm->vcpus[i]);
    pr_info("vm %s: started (%llu MiB, %u vcpu%s on cpu %u)", vm->cfg.name,
            (unsigned long long)(vm->cfg.mem_size >> 20), vm->nr_vcpus, vm->nr_vcpus > 1 ? "s" : "",
            vm->cfg.pcpu[0]);
    return 0;
fail:
    free_vcpus(vm);
    release_memory(vm);
    vm->state = VM_SHUTOFF;
    return -1;
}

void vm_finish_stop(struct vm *vm)
{
    for (unsigned i = 0; i < VM_MAX_UARTS; i++)
        vuart_flush(&vm->uarts[i]);
    struct exit_stat totals[VCPU_EXIT_STATS];
    uint64_t guest, root;
    vm_exit_totals(vm, totals, &guest, &root);
    memcpy(vm->exits, totals, sizeof(totals));
    vm->guest_cycles = guest;
    vm->root_cycles = root;
    free_vcpus(vm);
    release_devices(vm);
    vm->uarts[0].raw = false;
    /* The RAM is scrubbed a chunk per console turn (vm_lifecycle_poll),
     * then freed or kept for a restart. */
    vm->scrub_done = 0;
    vm->scrubbing = vm->ram_hpa != 0;
}
