/* VM-exit dispatch: a table indexed by basic exit reason (as ACRN's
 * dispatch_table), each entry naming its handler and whether it needs the
 * exit qualification read. */
#ifndef VMX_VMX_EXIT_H
#define VMX_VMX_EXIT_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "vcpu/cpuid.h"
#include "hvm/vcpu.h"
#include "vmx/vmcs.h"

enum vmx_exit_action {
    VMX_EXIT_CONTINUE, /* re-enter the guest */
    VMX_EXIT_PREEMPT,  /* back to the scheduler, still runnable */
    VMX_EXIT_HALT,     /* blocked until an event */
    VMX_EXIT_YIELD,
    VMX_EXIT_STOP, /* the VM is stopping */
    VMX_EXIT_FAST, /* re-enter without the entry checks: nothing to deliver */
};

struct vmx_exit {
    uint32_t reason; /* basic reason, bits 15:0 */
    uint64_t qualification;
};

/* Per-vCPU exit bookkeeping that must survive to the next entry. */
struct vmx_exit_state {
    uint32_t reinject_info;
    uint32_t reinject_error;
    uint32_t reinject_len;
};

typedef enum vmx_exit_action (*vmx_exit_handler)(struct vcpu *v, struct vmx_exit *e);

struct vmx_exit_entry {
    vmx_exit_handler handler;
    bool need_qualification;
    const char *name;
};

/* Handles the exit (raw: VM_EXIT_REASON) taken at exit_tsc; *end_tsc gets
 * the TSC read when the handler was done (the exit counters' reading,
 * reused by the run loop). VMX_EXIT_FAST (see vmx_take_exit) also means the
 * root time up to *end_tsc has been added to v->root_cycles. */
enum vmx_exit_action vmx_handle_exit(struct vcpu *v, uint32_t raw, uint64_t exit_tsc,
                                     uint64_t *end_tsc);
struct vmx_exit_state *vmx_exit_state(struct vcpu *v);

/* Handlers living in vmx_exit_io.c and vmx_exit_cr.c. */
enum vmx_exit_action vmx_exit_io(struct vcpu *v, struct vmx_exit *e);
enum vmx_exit_action vmx_exit_rdmsr(struct vcpu *v, struct vmx_exit *e);
enum vmx_exit_action vmx_exit_wrmsr(struct vcpu *v, struct vmx_exit *e);
enum vmx_exit_action vmx_exit_ept_violation(struct vcpu *v, struct vmx_exit *e);
enum vmx_exit_action vmx_exit_ept_misconfig(struct vcpu *v, struct vmx_exit *e);
enum vmx_exit_action vmx_exit_cr_access(struct vcpu *v, struct vmx_exit *e);
enum vmx_exit_action vmx_stop_action(struct vcpu *v);

int vmx_enter_core(void);

/* vmx_enter (vmx/vmx.h) for the run loop: the entry stub keeps only RBP
 * and RBX, so the compiler spills just the values it needs across the
 * guest's run. *exit_tsc gets the TSC read by the stub right after the exit. */
static inline int vmx_enter_inline(uint64_t *gprs, int launched, uint64_t *host_rsp_cache,
                                   uint64_t *exit_tsc)
{
    register uint64_t *rdi __asm__("rdi") = gprs;
    register long rsi __asm__("rsi") = launched;
    register uint64_t *rdx __asm__("rdx") = host_rsp_cache;
    int fail;
    __asm__ volatile("call vmx_enter_core"
                     : "=a"(*exit_tsc), "=c"(fail), "+r"(rdi), "+r"(rsi), "+r"(rdx)
                     :
                     : "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "memory", "cc");
    return fail;
}

/* Advances GUEST_RIP past the exiting instruction; it ends STI/MOV-SS
 * blocking, as on hardware. */
static inline void vmx_skip_instruction_inline(void)
{
    /* No failure check: GUEST_RIP is always writable with a VMCS loaded. */
    __asm__ volatile("vmwrite %1, %0" ::"r"((uint64_t)GUEST_RIP),
                     "r"(vmcs_read(GUEST_RIP) + vmcs_read(VM_EXIT_INSTRUCTION_LEN))
                     : "cc", "memory");
    uint32_t intr = (uint32_t)vmcs_read(GUEST_INTERRUPTIBILITY_INFO);
    if (__builtin_expect(intr & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS), 0))
        vmcs_write(GUEST_INTERRUPTIBILITY_INFO,
                   intr & ~(GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS));
}

/* Counts an exit of `slot` that began at exit_tsc and ends now; the
 * reading goes to *end_tsc for the run loop. */
static inline uint64_t vmx_count_exit(struct vcpu *v, unsigned slot, uint64_t exit_tsc,
                                      uint64_t *end_tsc)
{
    uint64_t t = rdtsc();
    *end_tsc = t;
    v->exits[slot].count++;
    v->exits[slot].cycles += t - exit_tsc;
    v->total_exits++;
    return t;
}

/* Inlined in the run loop: the exit guests take most in tight loops, CPUID
 * of a cached leaf in a VM without a platform, handled without a call;
 * every other exit goes to vmx_handle_exit. Such a CPUID leaves nothing to
 * deliver (an instruction exit cannot interrupt event delivery, the
 * handler queues nothing, and vmx_run takes no fast re-entry while an
 * earlier event is still queued), hence VMX_EXIT_FAST. v->cpuid_fast is set with
 * the cache, at the vCPU's first CPUID exit (which takes the slow path). */
static inline enum vmx_exit_action vmx_take_exit(struct vcpu *v, uint64_t exit_tsc,
                                                 uint64_t *end_tsc)
{
    uint32_t raw = (uint32_t)vmcs_read(VM_EXIT_REASON);
    uint32_t leaf = (uint32_t)v->gprs[GPR_RAX];
    unsigned slot;
    /* Leaf 1 is left out: its OSXSAVE bit needs a read of GUEST_CR4. */
    if (raw != EXIT_REASON_CPUID || !v->cpuid_fast ||
        (slot = guest_cpuid_cache_slot(leaf, GUEST_CPUID_UNCACHED | (1U << 1))) == VCPU_CPUID_CACHE)
        return vmx_handle_exit(v, raw, exit_tsc, end_tsc);
    const uint32_t *c = v->cpuid_cache[slot];
    v->gprs[GPR_RAX] = c[0];
    v->gprs[GPR_RBX] = c[1];
    v->gprs[GPR_RCX] = c[2];
    v->gprs[GPR_RDX] = c[3];
    vmx_skip_instruction_inline();
    v->root_cycles += vmx_count_exit(v, EXIT_REASON_CPUID, exit_tsc, end_tsc) - exit_tsc;
    return VMX_EXIT_FAST;
}

#endif
