/* VM objects and their lifecycle: create, start, stop; port and MMIO
 * dispatch; guest-memory access; the isolation check. */
#include "guest/vm.h"

#include <stdarg.h>

#include "arch/x86_64/cpu.h"
#include "guest/loader.h"
#include "guest/modules.h"
#include "guest/platform.h"
#include "guest/vcpu_switch.h"
#include "guest/virq.h"
#include "guest/vm_output.h"
#include "guest/vm_sched.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/string.h"
#include "mm/pmm.h"
#include "vdev/vpci_pt.h"
#include "vmx/vmx_caps.h"

struct vm *vms[MAX_VMS];
unsigned nr_vms;
const struct vm_sched_ops *vm_sched_ops;
static spinlock_t vms_lock = SPINLOCK_INIT;
static uint16_t next_vpid = 1;

#define SIZE_2M             (2ULL << 20)
#define VIOLATION_LOG_BURST 8

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
    uint64_t page = pmm_alloc((sizeof(struct vm) + 4095) / 4096, 1, "vm objects");
    if (!page) {
        fmt_snprintf(err, errlen, "out of memory for VM '%s'", cfg->name);
        return NULL;
    }
    struct vm *vm = (struct vm *)page;
    memset(vm, 0, sizeof(*vm));
    vm->cfg = *cfg;
    vm->state = VM_DEFINED;
    spin_lock(&vms_lock);
    if (nr_vms >= MAX_VMS) {
        spin_unlock(&vms_lock);
        pmm_free(page, (sizeof(struct vm) + 4095) / 4096);
        fmt_snprintf(err, errlen, "too many VMs (at most %d)", MAX_VMS);
        return NULL;
    }
    vm->id = nr_vms;
    vms[nr_vms++] = vm;
    spin_unlock(&vms_lock);
    return vm;
}

int vm_register_ports(struct vm *vm, uint16_t base, uint16_t count, port_handler_fn fn, void *ctx)
{
    if (vm->nr_ports >= VM_MAX_PORT_HANDLERS || !count || base + count > 0x10000)
        return -1;
    vm->ports[vm->nr_ports++] = (struct port_range){base, count, fn, ctx};
    return 0;
}

int vm_register_mmio(struct vm *vm, uint64_t base, uint64_t size, mmio_handler_fn fn, void *ctx,
                     const char *name)
{
    if (vm->nr_mmio >= VM_MAX_MMIO_HANDLERS || !size || base + size < base)
        return -1;
    vm->mmio[vm->nr_mmio++] = (struct mmio_range){base, size, fn, ctx, name};
    return 0;
}

void vm_log_violation(struct vm *vm, const char *fmt, ...)
{
    char msg[160];
    uint64_t now = rdtsc();
    /* A burst of lines, then one per ~10^9 cycles, so a storm costs little. */
    if (vm->violations_logged >= VIOLATION_LOG_BURST &&
        now - vm->last_violation_log_tsc < 1000000000ULL) {
        vm->violations_logged++;
        return;
    }
    char line[200];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    vm->violations_logged++;
    vm->last_violation_log_tsc = now;
    /* Queued, not printed: exit handlers never wait on the UART. */
    fmt_snprintf(line, sizeof(line), "warning: vm %s: %s", vm->cfg.name, msg);
    vm_output_event(line);
}

void vm_port_access(struct vcpu *v, uint16_t port, unsigned size, bool in, uint32_t *val)
{
    struct vm *vm = v->vm;
    for (unsigned i = 0; i < vm->nr_ports; i++) {
        struct port_range *r = &vm->ports[i];
        if (port >= r->base && port < r->base + r->count) {
            if (r->fn(v, port, size, in, val, r->ctx))
                return;
            break;
        }
    }
    /* Absent hardware: reads float high, writes go nowhere. */
    if (in)
        *val = size == 4 ? 0xffffffffU : (1U << (size * 8)) - 1;
    vm_log_violation(vm, "unassigned I/O port 0x%x %s (size %u): absent hardware", port,
                     in ? "read" : "write", size);
}

bool vm_mmio_access(struct vcpu *v, uint64_t gpa, unsigned size, bool write, uint64_t *val)
{
    struct vm *vm = v->vm;
    for (unsigned i = 0; i < vm->nr_mmio; i++) {
        struct mmio_range *r = &vm->mmio[i];
        if (gpa >= r->base && gpa - r->base < r->size) {
            if (!size)
                return true;
            if (gpa + size - r->base > r->size)
                return false;
            return r->fn(v, gpa, size, write, val, r->ctx);
        }
    }
    return false;
}

/* LAPIC and IOAPIC windows are in the documented map; until their device
 * models exist they behave as absent hardware. */
static bool absent_mmio(struct vcpu *v, uint64_t gpa, unsigned size, bool write, uint64_t *val,
                        void *ctx)
{
    if (!write)
        *val = size == 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
    vm_log_violation(v->vm, "%s window access at 0x%llx: no device model yet", (const char *)ctx,
                     (unsigned long long)gpa);
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

int vm_read_guest(struct vm *vm, uint64_t gpa, void *buf, uint64_t len)
{
    if (!vm->ept_ready)
        return -1;
    return ept_read_guest(&vm->ept, gpa, buf, len) ? -1 : 0;
}

int vm_write_guest(struct vm *vm, uint64_t gpa, const void *buf, uint64_t len)
{
    if (!vm->ept_ready)
        return -1;
    return ept_write_guest(&vm->ept, gpa, buf, len) ? -1 : 0;
}

int vm_cmpxchg_guest(struct vm *vm, uint64_t gpa, unsigned len, uint64_t old_val, uint64_t new_val)
{
    uint64_t hpa;
    unsigned perms;
    if (!vm->ept_ready || (len != 4 && len != 8) || (gpa & (len - 1)) ||
        ept_translate(&vm->ept, gpa, &hpa, &perms, NULL) || !(perms & EPT_W))
        return -1;
    void *p = vm->ept.ops->phys_to_virt(vm->ept.ops->ctx, hpa);
    if (!p)
        return -1;
    if (len == 4) {
        uint32_t expect = (uint32_t)old_val;
        return __atomic_compare_exchange_n((uint32_t *)p, &expect, (uint32_t)new_val, false,
                                           __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)
                   ? 0
                   : 1;
    }
    uint64_t expect = old_val;
    return __atomic_compare_exchange_n((uint64_t *)p, &expect, new_val, false, __ATOMIC_SEQ_CST,
                                       __ATOMIC_SEQ_CST)
               ? 0
               : 1;
}

struct iso_check {
    struct vm *vm;
    long leaves;
    bool bad;
};

static void check_leaf(uint64_t gpa, uint64_t hpa, uint64_t size, unsigned perms, unsigned mt,
                       void *arg)
{
    struct iso_check *c = arg;
    c->leaves++;
    if ((hpa < c->vm->ram_hpa || hpa + size > c->vm->ram_hpa + c->vm->ram_alloc_size) &&
        !vpt_owns_hpa(c->vm, hpa, size)) { /* or a BAR of its own device */
        if (!c->bad)
            pr_err("vm %s: isolation: gpa 0x%llx maps host 0x%llx outside its own RAM",
                   c->vm->cfg.name, (unsigned long long)gpa, (unsigned long long)hpa);
        c->bad = true;
    }
}

long vm_check_isolation(struct vm *vm)
{
    struct iso_check c = {vm, 0, false};
    ept_for_each_leaf(&vm->ept, check_leaf, &c);
    return c.bad ? -1 : c.leaves;
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
    if (ept_init(&vm->ept, &vm_ept_ops, vmx_caps.ept_2m, vmx_caps.ept_1g))
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
    if (!vmx_caps.available) {
        fmt_snprintf(err, errlen, "cannot start %s: vmx unavailable (%s)", vm->cfg.name,
                     vmx_caps.reason);
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
    vm->tsc_offset = (uint64_t) - (int64_t)rdtsc();
    if (vm->cfg.protocol != BOOT_LINUX && vm->cfg.platform == PLATFORM_PC &&
        platform_create(vm, err, errlen))
        goto fail;
    if (vm->cfg.protocol == BOOT_LINUX) {
        if (platform_create(vm, err, errlen) || guest_load_linux(vm, &boot, err, errlen))
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
    long leaves = vm_check_isolation(vm);
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

static bool request_stop(struct vm *vm, enum vm_state final, const char *reason,
                         enum vm_restart_kind restart)
{
    spin_lock(&vm->lock);
    if (vm->state != VM_RUNNING && vm->state != VM_PAUSED) {
        spin_unlock(&vm->lock);
        return false;
    }
    vm->state = final; /* the vCPUs see it at their next check */
    vm->teardown = true;
    vm->restart_kind = restart; /* only the request that wins sets it */
    str_copy(vm->reason, reason, sizeof(vm->reason));
    for (unsigned i = 0; i < vm->nr_vcpus; i++)
        vm->vcpus[i]->stop_request = true;
    spin_unlock(&vm->lock);
    char line[200];
    if (final == VM_CRASHED)
        fmt_snprintf(line, sizeof(line), "error: vm %s: crashed: %s", vm->cfg.name, reason);
    else
        fmt_snprintf(line, sizeof(line), "vm %s: %s", vm->cfg.name, reason);
    vm_output_event(line);
    for (unsigned i = 0; i < vm->nr_vcpus; i++)
        vm_sched_ops->kick(vm->vcpus[i]);
    return true;
}

bool vm_request_reset(struct vm *vm, enum vm_restart_kind kind, const char *reason)
{
    return request_stop(vm, VM_SHUTOFF, reason, kind);
}

void vm_request_stop(struct vm *vm, enum vm_state final, const char *fmt, ...)
{
    char reason[128];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    request_stop(vm, final, reason, VM_RESTART_NONE);
}

void vm_crash(struct vcpu *v, const char *fmt, ...)
{
    char reason[128];
    va_list ap;
    if (v->vm->state == VM_RUNNING && vcpu_backend->snapshot) {
        vcpu_backend->snapshot(v, &v->vm->crash_regs);
        v->vm->have_crash_regs = true;
    }
    va_start(ap, fmt);
    fmt_vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    request_stop(v->vm, VM_CRASHED, reason, VM_RESTART_NONE);
}

void vm_stop(struct vm *vm, enum vm_state final, const char *fmt, ...)
{
    char reason[128];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    request_stop(vm, final, reason, VM_RESTART_NONE);
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

void vm_vcpu_stopped(struct vcpu *v)
{
    struct vm *vm = v->vm;
    v->state = VCPU_STOPPED;
    /* The last one out hands the VM to the console CPU, which frees it. */
    if (__atomic_sub_fetch(&vm->vcpus_running, 1, __ATOMIC_SEQ_CST) == 0)
        __atomic_store_n(&vm->vcpus_out, true, __ATOMIC_RELEASE);
}
