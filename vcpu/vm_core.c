/* The VM's core record as exit handling needs it: port and MMIO dispatch,
 * guest-memory access, the isolation check, stop and crash requests. The
 * lifecycle that creates and frees VMs is in vm/. */
#include "vcpu/vm.h"

#include <stdarg.h>

#include "arch/x86_64/cpu.h"
#include "hvm/backend.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/string.h"
#include "vcpu/vm_sched.h"

#define VIOLATION_LOG_BURST 8

const struct vm_sched_ops *vm_sched_ops;
void (*vm_event_output)(const char *line);

/* Lifecycle lines go behind the guests' output (vm/vm_output.c provides
 * the sink, vm_create sets it); before any VM exists they go to the log. */
static void event(const char *line)
{
    if (vm_event_output)
        vm_event_output(line);
    else
        pr_info("%s", line);
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
    event(line);
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
    bool (*also_own)(const struct vm *vm, uint64_t hpa, uint64_t size);
    long leaves;
    bool bad;
};

static void check_leaf(uint64_t gpa, uint64_t hpa, uint64_t size, unsigned perms, unsigned mt,
                       void *arg)
{
    struct iso_check *c = arg;
    c->leaves++;
    if ((hpa < c->vm->ram_hpa || hpa + size > c->vm->ram_hpa + c->vm->ram_alloc_size) &&
        !(c->also_own && c->also_own(c->vm, hpa, size))) {
        if (!c->bad)
            pr_err("vm %s: isolation: gpa 0x%llx maps host 0x%llx outside its own RAM",
                   c->vm->cfg.name, (unsigned long long)gpa, (unsigned long long)hpa);
        c->bad = true;
    }
}

long vm_check_isolation(struct vm *vm,
                        bool (*also_own)(const struct vm *vm, uint64_t hpa, uint64_t size))
{
    struct iso_check c = {vm, also_own, 0, false};
    ept_for_each_leaf(&vm->ept, check_leaf, &c);
    return c.bad ? -1 : c.leaves;
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
    event(line);
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

void vm_vcpu_stopped(struct vcpu *v)
{
    struct vm *vm = v->vm;
    v->state = VCPU_STOPPED;
    /* The last one out hands the VM to the console CPU, which frees it. */
    if (__atomic_sub_fetch(&vm->vcpus_running, 1, __ATOMIC_SEQ_CST) == 0)
        __atomic_store_n(&vm->vcpus_out, true, __ATOMIC_RELEASE);
}
