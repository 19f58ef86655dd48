/* Hypercalls: every argument is validated; buffers are guest-physical and
 * must lie inside the VM's RAM (ept_read_guest checks each byte's page). A
 * bad argument is an error code for the guest (docs/hypercalls.md), never a
 * reason to stop the VM: a guest must be able to learn that a call failed. */
#include "guest/hypercall.h"

#include "arch/x86_64/tsc.h"
#include "guest/vm.h"
#include "include/bulkhead/hypercall.h"
#include "lib/log.h"

#define HC_CONSOLE_MAX   4096
#define HC_VERSION_VALUE ((0U << 16) | 1U)

static uint64_t arg(struct vcpu *v, enum gpr r)
{
    uint64_t val = v->gprs[r];
    /* 32-bit guests: the upper halves are not theirs to define. */
    if (!vcpu_backend->long_mode(v))
        val &= 0xffffffffULL;
    return val;
}

static int64_t console_write(struct vcpu *v, uint64_t gpa, uint64_t len)
{
    char buf[256];
    uint64_t done = 0;

    if (len > HC_CONSOLE_MAX)
        return HC_EINVAL;
    if (gpa + len < gpa)
        return HC_EFAULT;
    /* Check the whole range first: a bad tail must not print a head. */
    for (uint64_t off = 0; off < len; off += 4096) {
        uint8_t probe;
        if (vm_read_guest(v->vm, gpa + off, &probe, 1))
            return HC_EFAULT;
    }
    if (len && vm_read_guest(v->vm, gpa + len - 1, buf, 1))
        return HC_EFAULT;
    while (done < len) {
        uint64_t chunk = len - done < sizeof(buf) ? len - done : sizeof(buf);
        if (vm_read_guest(v->vm, gpa + done, buf, chunk))
            return HC_EFAULT;
        for (uint64_t i = 0; i < chunk; i++)
            vuart_write(&v->vm->uarts[0], 0, (uint8_t)buf[i]);
        done += chunk;
    }
    return (int64_t)done;
}

enum hc_action hypercall_dispatch(struct vcpu *v)
{
    uint64_t nr = arg(v, GPR_RAX);
    int64_t ret = 0;
    enum hc_action act = HC_ACT_CONTINUE;

    switch (nr) {
    case HC_VERSION:
        ret = HC_VERSION_VALUE;
        break;
    case HC_CONSOLE_WRITE:
        ret = console_write(v, arg(v, GPR_RBX), arg(v, GPR_RCX));
        if (ret == HC_EFAULT)
            vm_log_violation(v->vm,
                             "hypercall console-write buffer 0x%llx+0x%llx lies outside the "
                             "VM's RAM (-EFAULT)",
                             (unsigned long long)arg(v, GPR_RBX),
                             (unsigned long long)arg(v, GPR_RCX));
        break;
    case HC_YIELD:
        act = HC_ACT_YIELD;
        break;
    case HC_STOP_SELF:
        v->vm->exit_code = (int)(arg(v, GPR_RBX) & 0xff);
        vm_request_stop(v->vm, VM_SHUTOFF, "stopped itself (code %d)", v->vm->exit_code);
        act = HC_ACT_STOP;
        break;
    case HC_GET_TSC_KHZ:
        ret = (int64_t)tsc_khz();
        break;
    case HC_SHUTDOWN_REQUESTED:
        ret = v->vm->shutdown_requested;
        break;
    default:
        ret = HC_ENOSYS;
        break;
    }
    v->gprs[GPR_RAX] = (uint64_t)ret;
    if (!vcpu_backend->long_mode(v))
        v->gprs[GPR_RAX] &= 0xffffffffULL;
    return act;
}
