/* Every vCPU of a running VM sees a change of its maps: see vm_sync.h. */
#include "vcpu/vm_sync.h"

#include "arch/x86_64/ipi.h"
#include "arch/x86_64/percpu.h"
#include "hvm/backend.h"
#include "lib/log.h"
#include "vcpu/vm.h"
#include "vcpu/vm_sched.h"

void vm_io_intercept(struct vm *vm, uint16_t base, uint32_t count, bool intercept)
{
    if (!vcpu_backend->io_intercept)
        return;
    for (unsigned i = 0; i < vm->nr_vcpus; i++)
        if (vm->vcpus[i])
            vcpu_backend->io_intercept(vm->vcpus[i], base, count, intercept);
}

/* Run on each CPU of the VM, in root mode (an IPI call, or the caller's
 * own CPU): taking the call means that CPU is out of the guest, so its next
 * entry reads the new bitmaps. */
static void left_guest(void *vm)
{
    (void)vm;
}

/* The same, and the VM's vCPUs on this CPU drop their cached second-level
 * translations. */
static void flush_here(void *arg)
{
    struct vm *vm = arg;
    unsigned me = this_cpu_id();
    for (unsigned i = 0; i < vm->nr_vcpus; i++) {
        struct vcpu *v = vm->vcpus[i];
        if (v && v->pcpu == me && vcpu_backend->flush_second_level)
            vcpu_backend->flush_second_level(v);
    }
}

int vm_sync_vcpus(struct vm *vm, bool flush_second_level)
{
    bool done[MAX_CPUS] = {false};
    unsigned me = this_cpu_id();
    void (*call)(void *) = flush_second_level ? flush_here : left_guest;
    int r = 0;
    __atomic_thread_fence(__ATOMIC_SEQ_CST); /* the bits before the calls */
    for (unsigned i = 0; i < vm->nr_vcpus; i++) {
        struct vcpu *v = vm->vcpus[i];
        if (!v || v->pcpu >= MAX_CPUS || done[v->pcpu])
            continue;
        done[v->pcpu] = true;
        if (v->pcpu == me) {
            call(vm);
        } else if (v->vm_info.realtime) {
            /* Its CPU's interrupts go to its IDT: an IPI call would land
             * there. An NMI makes it exit; nothing confirms when. */
            vm_sched_ops->kick(v);
        } else if (ipi_call(v->pcpu, call, vm, true)) {
            pr_warn("vm %s: cpu %u did not confirm a change of the VM's maps", vm->cfg.name,
                    v->pcpu);
            r = -1;
        }
    }
    return r;
}
