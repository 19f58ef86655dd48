/* Hypercalls: every argument is validated; buffers are guest-physical and
 * must lie inside the VM's RAM (ept_read_guest checks each byte's page). A
 * bad argument is an error code for the guest (docs/hypercalls.md), never a
 * reason to stop the VM: a guest must be able to learn that a call failed. */
#include "vcpu/hypercall.h"

#include "arch/x86_64/tsc.h"
#include "hvm/backend.h"
#include "vcpu/hypercall_args.h"
#include "vcpu/vm.h"
#include "include/bulkhead/hypercall.h"
#include "lib/log.h"

#define HC_VERSION_VALUE ((0U << 16) | 1U)

static uint64_t arg(const struct vcpu *v, enum gpr r, bool long_mode)
{
    return hc_arg(v->gprs[r], long_mode);
}

static int read_guest(void *ctx, uint64_t gpa, void *buf, uint64_t len)
{
    return vm_read_guest(ctx, gpa, buf, len);
}

static void put_console(void *ctx, const char *bytes, unsigned len)
{
    struct vm *vm = ctx;
    vm->console_put(vm, bytes, len);
}

static int64_t console_write(struct vcpu *v, uint64_t gpa, uint64_t len)
{
    const struct hc_guest_mem mem = {v->vm, read_guest};
    return hc_console_write(&mem, gpa, len, put_console, v->vm);
}

/* The calls that only return a value: no guest memory, no action. */
static bool pure_call(const struct vcpu *v, uint64_t nr, int64_t *ret)
{
    switch (nr) {
    case HC_VERSION:
        *ret = HC_VERSION_VALUE;
        return true;
    case HC_GET_TSC_KHZ:
        *ret = (int64_t)tsc_khz();
        return true;
    case HC_SHUTDOWN_REQUESTED:
        *ret = v->vm->shutdown_requested;
        return true;
    default:
        return false;
    }
}

static void set_result(struct vcpu *v, int64_t ret, bool long_mode)
{
    v->gprs[GPR_RAX] = (uint64_t)ret;
    if (!long_mode)
        v->gprs[GPR_RAX] &= 0xffffffffULL;
}

bool vcpu_pure_hypercall(struct vcpu *v, bool long_mode)
{
    int64_t ret;
    if (!pure_call(v, arg(v, GPR_RAX, long_mode), &ret))
        return false;
    set_result(v, ret, long_mode);
    return true;
}

enum hc_action hypercall_dispatch(struct vcpu *v)
{
    /* Asked once: every backend call is an indirect (retpoline) call. */
    bool long_mode = vcpu_backend->long_mode(v);
    uint64_t nr = arg(v, GPR_RAX, long_mode);
    int64_t ret = 0;
    enum hc_action act = HC_ACT_CONTINUE;

    if (pure_call(v, nr, &ret)) {
        set_result(v, ret, long_mode);
        return act;
    }
    switch (nr) {
    case HC_CONSOLE_WRITE:
        ret = console_write(v, arg(v, GPR_RBX, long_mode), arg(v, GPR_RCX, long_mode));
        if (ret == HC_EFAULT)
            vm_log_violation(v->vm,
                             "hypercall console-write buffer 0x%llx+0x%llx lies outside the "
                             "VM's RAM (-EFAULT)",
                             (unsigned long long)arg(v, GPR_RBX, long_mode),
                             (unsigned long long)arg(v, GPR_RCX, long_mode));
        break;
    case HC_YIELD:
        act = HC_ACT_YIELD;
        break;
    case HC_STOP_SELF:
        v->vm->exit_code = (int)(arg(v, GPR_RBX, long_mode) & 0xff);
        vm_request_stop(v->vm, VM_SHUTOFF, "stopped itself (code %d)", v->vm->exit_code);
        act = HC_ACT_STOP;
        break;
    default:
        ret = HC_ENOSYS;
        break;
    }
    set_result(v, ret, long_mode);
    return act;
}
