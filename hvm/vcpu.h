/* The vendor-neutral virtual CPU: registers, state, pending events,
 * counters, and what a backend needs to know of its VM. Shared by the
 * neutral layer (vcpu/) and the vendor backends (vmx/, svm/); the ops a
 * backend implements are in hvm/backend.h, the exit record in hvm/exit.h. */
#ifndef HVM_VCPU_H
#define HVM_VCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/spinlock.h"

struct vm;
struct ept;

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
    RUN_YIELDED,   /* hypercall yield, or a PAUSE loop (spin_yield set) */
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

/* An event to deliver at an entry (enum vcpu_event_type in hvm/exit.h). */
struct vcpu_event {
    bool valid;
    uint8_t type;
    uint8_t vector;
    bool has_error;
    uint32_t error;
    uint8_t insn_len; /* software interrupts and exceptions, ICEBP */
};

#define VCPU_MAX_IO_PASSTHROUGH 8

/* What a backend needs of the VM (it never sees struct vm): filled by the
 * VM layer when it creates the vCPU. */
struct vcpu_vm_info {
    uint64_t vm_serial;  /* the VM's number, never reused (vm_create) */
    struct ept *ept;     /* second-level tables */
    uint64_t tsc_offset; /* guest TSC = host TSC + offset (kept current by vcpu/msr.c) */
    /* A real-time partition's vCPU (docs/realtime.md): it owns its CPU and
     * local APIC; no external-interrupt, HLT or PAUSE exits, no slices. */
    bool realtime;
    unsigned nr_io_passthrough;
    struct {
        uint16_t base, count;
    } io_passthrough[VCPU_MAX_IO_PASSTHROUGH]; /* ports that reach the hardware */
};

/* The local APIC's interrupt state a backend's virtual-interrupt delivery
 * works on (backend apicv_load): 256-bit IRR, ISR and TMR (word i holds
 * vectors 32i..32i+31), and the TPR. */
struct hvm_apicv_state {
    uint32_t irr[8], isr[8], tmr[8];
    uint8_t tpr;
    /* xAPIC mode: the VM's APIC-access page (host-physical), which its
     * second-level tables map at HVM_APIC_ACCESS_GPA while every vCPU
     * that could reach it virtualizes APIC accesses (vdev/lapic_apicv_window.c);
     * 0: x2APIC mode. */
    uint64_t apic_access_hpa;
};

/* Where the APIC-access page is mapped: the default xAPIC window. */
#define HVM_APIC_ACCESS_GPA 0xfee00000ULL

/* What the CPU did with such a state since it was given (or last looked
 * at): per 32-vector word, the vectors it delivered (IRR -> ISR) and those
 * whose service it ended (virtualized EOIs). Only the words of `words`
 * (bit i: word i) hold anything. */
struct hvm_apicv_delta {
    uint8_t words;
    uint32_t delivered[8], eoied[8];
    /* xAPIC mode only (x2APIC: all zero, tpr -1), where two more steps
     * take no exit: vectors the CPU raised itself (a self-IPI written to
     * the ICR: accepted as edge-triggered, then maybe delivered), and the
     * TPR written at offset 0x80 (-1: unchanged). */
    uint32_t raised[8];
    uint8_t raised_words; /* the words of raised[] that hold any */
    int16_t tpr;
};

/* One word of it, from the IRR/ISR given and the IRR/ISR the CPU holds
 * now: the CPU moves a vector out of the IRR only to deliver it, and a
 * vector leaves the ISR only by an EOI. */
static inline void hvm_apicv_word_delta(uint32_t given_irr, uint32_t given_isr, uint32_t now_irr,
                                        uint32_t now_isr, uint32_t *delivered, uint32_t *eoied)
{
    *delivered = given_irr & ~now_irr;
    *eoied = (given_isr | *delivered) & ~now_isr;
}

/* The same in xAPIC mode, where the CPU also raises vectors itself
 * (self-IPI virtualization): a vector in service that was not given was
 * raised and delivered; a vector pending now that was not given, or was
 * delivered meanwhile, was raised (again). A vector raised, delivered and
 * EOIed between two looks leaves no trace: the guest took it, nothing is
 * left to do. */
static inline void hvm_apicv_word_delta_xapic(uint32_t given_irr, uint32_t given_isr,
                                              uint32_t now_irr, uint32_t now_isr,
                                              uint32_t *delivered, uint32_t *eoied,
                                              uint32_t *raised)
{
    *delivered = (given_irr & ~now_irr) | (now_isr & ~given_isr);
    *eoied = (given_isr | *delivered) & ~now_isr;
    *raised = now_irr & ~(given_irr & ~*delivered);
}

struct vcpu {
    struct vm *vm;
    unsigned id;   /* index in the VM */
    unsigned pcpu; /* physical CPU it runs on */
    uint16_t vpid;
    volatile enum vcpu_run_state state;
    /* The requests a run loop checks before each entry, in one word so
     * that a fast re-entry reads them with one load. */
    union {
        struct {
            volatile bool stop_request; /* set by other CPUs; checked before each entry */
            volatile bool pause_request;
            volatile bool kick; /* leave the guest at the next chance */
            /* Set by vcpu_interrupt_notify: an interrupt may have become
             * pending since the run loop last looked, so its fast re-entry
             * must not skip the full path (cleared by the run loop before
             * it looks). */
            volatile bool intr_news;
            /* Set by vcpu_fast_apic with v->fast_deadline: the guest moved
             * its TSC deadline, so the fast re-entries must look at their
             * limit again (one flag here, so that the common fast re-entry
             * pays nothing for it). */
            volatile bool deadline_moved;
        };
        volatile uint64_t requests;
    };
    uint64_t gprs[NR_GPRS];
    struct vcpu_boot_state boot;
    void *arch; /* backend state (struct vmx_vcpu) */
    struct vcpu_vm_info vm_info;

    /* State outside the VMCS, switched when vCPUs share a CPU. */
    uint64_t xcr0;
    void *xsave_area;
    uint64_t cr2, dr[4], dr6;
    uint64_t msr_star, msr_lstar, msr_cstar, msr_fmask, msr_kernel_gs_base, msr_tsc_aux;
    uint64_t spec_ctrl; /* the guest's IA32_SPEC_CTRL (vcpu/msr.c), 0 at reset */
    uint8_t cr8;        /* the TPR class when no vLAPIC holds it (vcpu_tpr.c) */

    bool cr4_osxsave;  /* mirrored into CPUID.1:ECX.OSXSAVE */
    bool waiting_sipi; /* an AP before its SIPI */
    /* Set with RUN_YIELDED after a PAUSE-loop exit: the vCPU spins for
     * another one, so the scheduler prefers a sibling in the same VM
     * (directed yield); cleared by the scheduler. */
    bool spin_yield;

    /* Emulated MSR state. */
    uint64_t msr_pat, msr_mtrr_def_type, msr_apic_base, msr_misc_enable;
    uint64_t msr_tsc_adjust; /* moves with the TSC offset (vcpu/msr.c) */
    uint64_t msr_mtrr_fixed[11], msr_mtrr_var[16];

    /* Pending events, delivered at the next entry in priority order. */
    bool nmi_pending;
    bool exception_pending;
    uint8_t exception_vector;
    bool exception_has_error;
    uint32_t exception_error;
    uint8_t irq_pending_vector; /* 0: none (external interrupts from vdevices) */
    /* An event the exit interrupted (IDT-vectoring / EXITINTINFO), stored
     * by the backend before vcpu_handle_exit: delivered again first. */
    struct vcpu_event reinject;
    bool nmi_window, irq_window; /* windows requested from the backend */
    uint64_t fast_deadline;      /* set by vcpu_fast_apic (hvm/exit.h) */
    /* The backend delivers the vLAPIC's vectors itself (apicv_load), and
     * could for this vCPU (set by the backend when it builds its state:
     * without it nothing of apicv_load's runs). */
    bool apicv_on, apicv_possible;
    /* ... in xAPIC mode too (an APIC-access page): the VM's xAPIC window
     * may be mapped to one only while every vCPU of it has this. */
    bool apicv_xapic_possible;

    struct sched_entity *sched; /* scheduler bookkeeping */
    struct exit_stat exits[VCPU_EXIT_STATS];
    uint64_t guest_cycles, root_cycles;
    uint64_t entry_tsc;

    /* CPUID results computed at the first CPUID exit by the neutral layer
     * (vcpu/cpuid.c, its policy); backends may answer from the cache in
     * their run loop (vmx_take_exit) when cpuid_fast is set. */
    bool cpuid_cache_ready;
    bool cpuid_fast; /* cache ready */
    uint32_t cpuid_cache[VCPU_CPUID_CACHE][4];
};

/* Every exit the vCPU took (the sum of its counters: one increment fewer
 * on each round trip). */
static inline uint64_t vcpu_total_exits(const struct vcpu *v)
{
    uint64_t n = 0;
    for (unsigned r = 0; r < VCPU_EXIT_STATS; r++)
        n += v->exits[r].count;
    return n;
}

/* The CPUID cache layout. Most leaves depend only on the host, the VM's
 * configuration and the vCPU's ID: they are computed once per vCPU into
 * v->cpuid_cache. Cached: basic leaves 0-0x16 except the subleaf-dependent
 * 4, 7, 0xB and 0xD (which also follows XCR0), 0x80000000-0x80000008 and
 * 0x40000000-0x40000010. */
#define VCPU_CPUID_UNCACHED  ((1U << 4) | (1U << 7) | (1U << 0xb) | (1U << 0xd))
#define VCPU_CPUID_CACHE_EXT 0x17
#define VCPU_CPUID_CACHE_HV  (VCPU_CPUID_CACHE_EXT + 9)

/* The slot of a cached leaf, or VCPU_CPUID_CACHE for a leaf to compute:
 * any above, or a basic leaf whose bit is set in `uncached` (at least
 * VCPU_CPUID_UNCACHED). */
static inline unsigned vcpu_cpuid_cache_slot(uint32_t leaf, uint32_t uncached)
{
    if (leaf < VCPU_CPUID_CACHE_EXT)
        return (uncached >> leaf) & 1 ? VCPU_CPUID_CACHE : leaf;
    if (leaf - 0x80000000U < 9)
        return VCPU_CPUID_CACHE_EXT + (leaf - 0x80000000U);
    if (leaf - 0x40000000U < VCPU_CPUID_CACHE - VCPU_CPUID_CACHE_HV)
        return VCPU_CPUID_CACHE_HV + (leaf - 0x40000000U);
    return VCPU_CPUID_CACHE;
}

#endif
