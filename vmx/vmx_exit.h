/* VM exits: each basic exit reason translated into a normalized exit
 * record (hvm/exit.h) by a table indexed by reason (as ACRN's
 * dispatch_table), handled by the vendor-neutral layer. The run loop's
 * inlined fast path answers a cached CPUID itself. */
#ifndef VMX_VMX_EXIT_H
#define VMX_VMX_EXIT_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "hvm/exit.h"
#include "hvm/vcpu.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"

/* Translates and handles the exit (raw: VM_EXIT_REASON) taken at
 * exit_tsc; *end_tsc gets the TSC read when the handler was done (the exit
 * counters' reading, reused by the run loop). EXIT_ACT_FAST (see
 * vmx_take_exit) also means the root time up to *end_tsc has been added
 * to v->root_cycles. */
enum exit_action vmx_handle_exit(struct vcpu *v, uint32_t raw, uint64_t exit_tsc,
                                 uint64_t *end_tsc);
const char *vmx_exit_reason_name(unsigned reason);
/* A WRMSR or an interrupt-window exit: the timer cycle's fast path
 * (vcpu_fast_apic) when it applies, else vmx_handle_exit (vmx_run_apic.c).
 * EXIT_ACT_FAST may leave v->fast_deadline for the run loop. */
enum exit_action vmx_fast_apic_exit(struct vcpu *v, uint32_t raw, uint64_t exit_tsc,
                                    uint64_t *end_tsc);

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

/* Advances GUEST_RIP by len (an instruction the neutral layer completed);
 * it ends STI/MOV-SS blocking, as on hardware. */
static inline void vmx_advance_rip(unsigned len)
{
    /* No failure check: GUEST_RIP is always writable with a VMCS loaded. */
    __asm__ volatile("vmwrite %1, %0" ::"r"((uint64_t)GUEST_RIP), "r"(vmcs_read(GUEST_RIP) + len)
                     : "cc", "memory");
    uint32_t intr = (uint32_t)vmcs_read(GUEST_INTERRUPTIBILITY_INFO);
    if (__builtin_expect(intr & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS), 0))
        vmcs_write(GUEST_INTERRUPTIBILITY_INFO,
                   intr & ~(GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS));
}

/* Inlined in the run loop: the exits guests take most in tight loops, CPUID
 * of a cached leaf, answered from the cache the neutral layer filled
 * (hvm/vcpu.h; the policy is vcpu/cpuid.c's) without a call, and a
 * value-only hypercall (vcpu_pure_hypercall); every other exit goes to
 * vmx_handle_exit. These leave nothing to deliver (an instruction exit
 * cannot interrupt event delivery, the handler queues nothing, and vmx_run
 * takes no fast re-entry while an earlier event is still queued), hence
 * EXIT_ACT_FAST; vmx_run stops such re-entries at the next device deadline
 * and on interrupt news.
 * v->cpuid_fast is set with the cache, at the vCPU's first CPUID exit
 * (which takes the slow path). */
static inline enum exit_action vmx_take_exit(struct vcpu *v, uint64_t exit_tsc, uint64_t *end_tsc)
{
    uint32_t raw = (uint32_t)vmcs_read(VM_EXIT_REASON);
    uint32_t leaf = (uint32_t)v->gprs[GPR_RAX];
    unsigned slot;
    if (raw == EXIT_REASON_CPUID) {
        /* Leaf 1 is left out: its OSXSAVE bit needs a read of GUEST_CR4. */
        if (!v->cpuid_fast || (slot = vcpu_cpuid_cache_slot(
                                   leaf, VCPU_CPUID_UNCACHED | (1U << 1))) == VCPU_CPUID_CACHE)
            return vmx_handle_exit(v, raw, exit_tsc, end_tsc);
        const uint32_t *c = v->cpuid_cache[slot];
        v->gprs[GPR_RAX] = c[0];
        v->gprs[GPR_RBX] = c[1];
        v->gprs[GPR_RCX] = c[2];
        v->gprs[GPR_RDX] = c[3];
    } else if (raw == EXIT_REASON_IO_INSTRUCTION) {
        /* A plain IN (no string, no REP) the devices answer lock-free. */
        uint64_t q = vmcs_read(EXIT_QUALIFICATION);
        if ((q & 0x38) != 8 || !vcpu_fast_port_in(v, (uint16_t)(q >> 16), (unsigned)(q & 7) + 1))
            return vmx_handle_exit(v, raw, exit_tsc, end_tsc);
    } else if (raw == EXIT_REASON_MSR_WRITE || raw == EXIT_REASON_INTERRUPT_WINDOW) {
        return vmx_fast_apic_exit(v, raw, exit_tsc, end_tsc);
    } else if (raw != EXIT_REASON_VMCALL || ((vmcs_read(GUEST_SS_AR_BYTES) >> 5) & 3) ||
               !vcpu_pure_hypercall(v, ((struct vmx_vcpu *)v->arch)->efer & EFER_LMA)) {
        /* Not a value-only hypercall from CPL 0 (the policy is vcpu/'s):
         * CPL 3 and every other call take the full path. */
        return vmx_handle_exit(v, raw, exit_tsc, end_tsc);
    }
    vmx_skip_instruction_inline();
    uint64_t t = rdtsc();
    *end_tsc = t;
    v->exits[raw].count++;
    v->exits[raw].cycles += t - exit_tsc;
    v->root_cycles += t - exit_tsc;
    return EXIT_ACT_FAST;
}

#endif
