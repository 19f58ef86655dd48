/* The vendor-neutral virtual CPU: registers, state, counters, and the
 * small backend interface that vmx/ implements (an SVM backend later
 * implements the same, as Jailhouse splits vmx.c and svm.c). */
#ifndef GUEST_VCPU_H
#define GUEST_VCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/spinlock.h"

struct vm;

/* General registers in x86 encoding order, so instruction decoders can
 * index them directly. RSP lives in the VMCS and is synced on demand. */
enum gpr {
    GPR_RAX,
    GPR_RCX,
    GPR_RDX,
    GPR_RBX,
    GPR_RSP,
    GPR_RBP,
    GPR_RSI,
    GPR_RDI,
    GPR_R8,
    GPR_R9,
    GPR_R10,
    GPR_R11,
    GPR_R12,
    GPR_R13,
    GPR_R14,
    GPR_R15,
    NR_GPRS
};

enum vcpu_entry_mode {
    ENTRY_REAL_MODE,      /* 16-bit, needs unrestricted guest */
    ENTRY_PROTECTED_FLAT, /* 32-bit flat, paging off (multiboot, Linux 32-bit) */
    ENTRY_LONG_MODE,      /* 64-bit, identity-mapped by tables the loader built */
};

struct vcpu_boot_state {
    enum vcpu_entry_mode mode;
    uint64_t rip;
    uint64_t rsp;
    uint64_t gprs[NR_GPRS]; /* initial values (e.g. EAX/EBX for multiboot) */
    uint64_t cr3;           /* long mode: guest-physical PML4 */
    uint64_t gdt_base;      /* long mode: a GDT the loader placed in guest RAM */
    uint16_t gdt_limit;
    uint16_t cs_sel, ds_sel; /* flat selectors; 0 = 0x08 and 0x10 */
};

enum vcpu_run_state {
    VCPU_RUNNABLE,
    VCPU_BLOCKED, /* HLT: waits for an event */
    VCPU_PAUSED,
    VCPU_STOPPED,
};

/* Why run() returned to the scheduler. */
enum vcpu_run_result {
    RUN_PREEMPTED, /* slice over, or the scheduler asked */
    RUN_HALTED,    /* guest executed HLT with nothing pending */
    RUN_YIELDED,   /* hypercall yield */
    RUN_STOPPED,   /* the VM is stopping (crash, stop-self, console) */
};

/* Registers captured when a VM crashes, for `info`. */
struct vcpu_snapshot {
    uint64_t gprs[NR_GPRS];
    uint64_t rip, rsp, rflags, cr0, cr3, cr4, efer;
    uint16_t cs;
};

struct exit_stat {
    uint64_t count;
    uint64_t cycles;
};

#define VCPU_EXIT_STATS 72
/* CPUID leaves cached per vCPU: basic 0-0x16, 0x80000000-8, 0x40000000-0x10. */
#define VCPU_CPUID_CACHE 49

struct vcpu {
    struct vm *vm;
    unsigned id;   /* index in the VM */
    unsigned pcpu; /* physical CPU it runs on */
    uint16_t vpid;
    volatile enum vcpu_run_state state;
    volatile bool stop_request; /* set by other CPUs; checked before each entry */
    volatile bool pause_request;
    volatile bool kick; /* leave the guest at the next chance */
    uint64_t gprs[NR_GPRS];
    struct vcpu_boot_state boot;
    void *arch; /* backend state (struct vmx_vcpu) */

    /* State outside the VMCS, switched when vCPUs share a CPU. */
    uint64_t xcr0;
    void *xsave_area;
    uint64_t cr2, dr[4], dr6;
    uint64_t msr_star, msr_lstar, msr_cstar, msr_fmask, msr_kernel_gs_base, msr_tsc_aux;
    uint64_t spec_ctrl;
    uint8_t cr8; /* the TPR class when no vLAPIC holds it (vcpu_tpr.c) */

    bool cr4_osxsave;  /* mirrored into CPUID.1:ECX.OSXSAVE */
    bool waiting_sipi; /* an AP before its SIPI */

    /* Emulated MSR state. */
    uint64_t msr_pat, msr_mtrr_def_type, msr_apic_base, msr_misc_enable;
    uint64_t msr_mtrr_fixed[11], msr_mtrr_var[16];

    /* Pending events, delivered at the next entry in priority order. */
    bool nmi_pending;
    bool exception_pending;
    uint8_t exception_vector;
    bool exception_has_error;
    uint32_t exception_error;
    uint8_t irq_pending_vector; /* 0: none (external interrupts from vdevices) */

    struct sched_entity *sched; /* scheduler bookkeeping */
    struct exit_stat exits[VCPU_EXIT_STATS];
    uint64_t total_exits;
    uint64_t guest_cycles, root_cycles;
    uint64_t entry_tsc;

    /* CPUID results computed at the first CPUID exit (guest/cpuid.c). */
    bool cpuid_cache_ready;
    bool cpuid_fast; /* cache ready, and the VM has no platform (vmx_take_exit) */
    uint32_t cpuid_cache[VCPU_CPUID_CACHE][4];
};

/* What a backend (VMX now, SVM later) provides. */
struct vcpu_backend {
    const char *name;
    int (*init)(struct vcpu *v);
    void (*destroy)(struct vcpu *v);
    /* Runs the guest until the scheduler must decide something; slice_tsc
     * 0 means no time slice (a vCPU alone on its CPU). */
    enum vcpu_run_result (*run)(struct vcpu *v, uint64_t slice_tsc);
    void (*inject_exception)(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error);
    unsigned (*cpl)(struct vcpu *v);
    bool (*long_mode)(struct vcpu *v);
    /* Called when this vCPU leaves its CPU for good (VMCLEAR). */
    void (*unload)(struct vcpu *v);
    const char *(*exit_reason_name)(unsigned reason);
    /* Only on the vCPU's own CPU with its state loaded (exit handlers). */
    void (*snapshot)(struct vcpu *v, struct vcpu_snapshot *out);
};

extern const struct vcpu_backend *vcpu_backend;

/* The guest's task priority, CR8 = TPR[7:4] (guest/vcpu_tpr.c). It never
 * reaches the physical local APIC. A VM with a vLAPIC keeps it there (one
 * copy for CR8, the xAPIC TPR register and x2APIC MSR 0x808, which
 * interrupt delivery obeys): its CR8 accesses must exit. Without a vLAPIC
 * the backend may keep it in a TPR shadow instead. */
bool vcpu_tpr_in_vlapic(struct vcpu *v);
uint64_t vcpu_cr8_read(struct vcpu *v);
void vcpu_cr8_write(struct vcpu *v, uint64_t cr8); /* cr8 < 16, checked by the caller */

#endif
