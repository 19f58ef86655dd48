/* The normalized exit record: what a vendor backend (vmx/, svm/) makes of
 * one VM exit, and what the vendor-neutral layer (vcpu/) handles once for
 * every vendor. Also the calls the neutral layer offers a backend's run
 * loop (implemented in vcpu/, declared here so that a backend never
 * includes a vcpu/ header).
 *
 * A backend fills only what its hardware tells it: a length of 0 means
 * "unknown" (SVM without NRIPS), and the neutral layer fetches and decodes
 * the instruction itself; a CR access whose operand the hardware does not
 * decode (SVM without DecodeAssists) says so with cr.decoded = false. */
#ifndef HVM_EXIT_H
#define HVM_EXIT_H

#include <stdbool.h>
#include <stdint.h>

#include "hvm/vcpu.h"

enum exit_kind {
    EXIT_UNKNOWN,      /* a reason the backend does not translate: the VM stops */
    EXIT_CPUID,        /* leaf in RAX, subleaf in RCX */
    EXIT_HLT,          /* HLT executed */
    EXIT_IO,           /* IN/OUT/INS/OUTS: details in .io */
    EXIT_MSR_READ,     /* RDMSR: index in .msr (from RCX) */
    EXIT_MSR_WRITE,    /* WRMSR */
    EXIT_CR_ACCESS,    /* MOV to/from CR0/CR4/CR8, CLTS, LMSW: .cr */
    EXIT_NPF,          /* second-level fault (EPT violation / NPT #NPF): .npf */
    EXIT_XSETBV,       /* XSETBV: index in RCX, value in EDX:EAX */
    EXIT_HYPERCALL,    /* VMCALL / VMMCALL: .hypercall */
    EXIT_EXCEPTION,    /* an intercepted guest exception (#DB, #AC, ...): .exception */
    EXIT_EXT_INTR,     /* a host interrupt arrived: handled by the host IDT */
    EXIT_NMI,          /* a host NMI arrived (the backend has handed it to the host) */
    EXIT_INIT,         /* INIT signal */
    EXIT_SIPI,         /* start-up IPI in wait-for-SIPI: .sipi */
    EXIT_INTR_WINDOW,  /* the guest can take an interrupt now */
    EXIT_NMI_WINDOW,   /* the guest can take an NMI now */
    EXIT_PREEMPT,      /* the slice timer fired */
    EXIT_TRIPLE_FAULT, /* triple fault / SHUTDOWN */
    EXIT_VIRT_INSN,    /* a VMX/SVM instruction: #UD to the guest */
    EXIT_UD_INSN,      /* an instruction guests must not use (MONITOR, GETSEC...): #UD */
    EXIT_RDPMC,        /* no PMU is shown: #GP */
    EXIT_CACHE_FLUSH,  /* INVD/WBINVD: skipped */
    EXIT_PAUSE,        /* PAUSE-loop exiting / PAUSE filter: a yield (vcpu/exit_pause.c) */
    EXIT_TASK_SWITCH,  /* hardware task switch: not supported, the VM stops */
    EXIT_MCE,          /* machine check during entry */
    EXIT_ENTRY_FAILED, /* the backend diagnosed and reported a failed entry */
    EXIT_APIC_EOI,     /* a virtualized EOI the vLAPIC has already seen (vcpu_apicv_seen) */
    EXIT_APIC_WRITE,   /* a write to the APIC-access page that completed: .apic_write */
};

/* Event types, numbered as VMX's interruption types (SVM's EVENTINJ types
 * map onto them). */
enum vcpu_event_type {
    EVENT_EXT_INTR = 0,
    EVENT_NMI = 2,
    EVENT_HW_EXCEPTION = 3,
    EVENT_SW_INTR = 4,
    EVENT_PRIV_SW_EXCEPTION = 5, /* ICEBP (INT1) */
    EVENT_SW_EXCEPTION = 6,      /* INT3, INTO */
};

enum cr_access_type {
    CR_MOV_TO,   /* MOV to CRn from .gpr */
    CR_MOV_FROM, /* MOV from CRn to .gpr */
    CR_CLTS,
    CR_LMSW, /* source bits 3:0 in .lmsw_src */
};

struct exit_record {
    enum exit_kind kind;
    /* The vendor's raw reason and the statistics slot it counts in
     * (< VCPU_EXIT_STATS; its name comes from backend->exit_reason_name). */
    uint32_t raw_reason;
    uint16_t stat_slot;
    /* Length of the exiting instruction, 0 = unknown: the neutral layer
     * decodes it (vcpu/insn_len.c) before advancing RIP. */
    uint8_t insn_len;
    /* Set by the neutral layer: the instruction completed, the backend
     * advances RIP by its length before the next entry (one place that
     * also ends STI/MOV-SS blocking, as the hardware does). */
    bool advance_rip;
    union {
        struct {
            uint16_t port;
            uint8_t size; /* 1, 2 or 4 */
            bool in, string, rep;
            uint8_t addr_size; /* string: 2, 4 or 8 bytes */
            bool linear_valid; /* string: .linear is the memory operand's address */
            uint64_t linear;   /* (VMX gives it; else computed from ES:RDI / DS:RSI) */
        } io;
        struct {
            uint32_t index;
        } msr;
        struct {
            uint8_t cr; /* 0, 3, 4 or 8 */
            enum cr_access_type type;
            bool decoded; /* false: the backend could not say which GPR */
            uint8_t gpr;  /* enum gpr, when decoded */
            uint16_t lmsw_src;
        } cr;
        struct {
            uint64_t gpa;
            bool read, write, fetch;
            bool not_permitted; /* mapped, but the access is not allowed */
            bool misconfig;     /* a bad second-level entry: a hypervisor bug */
            bool gla_valid;
            uint64_t gla;
        } npf;
        struct {
            uint8_t vector;
            uint8_t type; /* enum vcpu_event_type: HW or PRIV_SW (ICEBP) */
            bool has_error;
            uint32_t error;
            /* #DB: its conditions in DR6's layout (B0-B3, BD, BS, BT),
             * merged into the guest's DR6 by vcpu/debug_rules.c */
            uint64_t db_hits;
        } exception;
        struct {
            uint8_t vector;
        } sipi;
        struct {
            uint8_t cpl; /* read by the backend with the exit: CPL 3 is refused */
        } hypercall;
        struct {
            /* Offset in the xAPIC page (at HVM_APIC_ACCESS_GPA) and the
             * dword the guest's write left there (an ICR write that was
             * not a virtualized self-IPI): the vLAPIC takes it now. */
            uint16_t offset;
            uint32_t value;
        } apic_write;
    };
};

/* What the backend's run loop does after an exit. */
enum exit_action {
    EXIT_ACT_CONTINUE, /* re-enter the guest */
    EXIT_ACT_PREEMPT,  /* back to the scheduler (or a device deadline), still runnable */
    EXIT_ACT_HALT,     /* blocked until an event */
    EXIT_ACT_YIELD,
    EXIT_ACT_STOP, /* the VM is stopping */
    /* Re-enter without the entry checks: nothing to deliver. A backend that
     * honours it must still end such re-entries at the next device
     * deadline (vcpu_device_deadline) and when v->intr_news is set; one
     * that does not treats it as EXIT_ACT_CONTINUE. */
    EXIT_ACT_FAST,
};

/* --- Provided by the vendor-neutral layer (vcpu/) to the backends. --- */

/* Handles one exit that began at exit_tsc; counts it in v->exits and
 * stores the TSC read at the end in *end_tsc. EXIT_ACT_FAST also means the
 * root time up to *end_tsc has been added to v->root_cycles. Before the
 * call the backend has stored an event the exit interrupted in
 * v->reinject. */
enum exit_action vcpu_handle_exit(struct vcpu *v, struct exit_record *e, uint64_t exit_tsc,
                                  uint64_t *end_tsc);
/* A hypercall from CPL 0 that only returns a value (HC_VERSION,
 * HC_GET_TSC_KHZ, HC_SHUTDOWN_REQUESTED): answered into RAX, true; any
 * other call is left alone (false) for vcpu_handle_exit. A backend's run
 * loop may use it for the exits guests take in tight loops; the
 * instruction, the exit counters and EXIT_ACT_FAST's rules are then its. */
bool vcpu_pure_hypercall(struct vcpu *v, bool long_mode);
/* A non-string IN that the VM's devices answer with no side effect and no
 * lock (the PM timer): the result is in RAX, true; false for the full
 * path. For the backend's run loop, under the same rules. */
bool vcpu_fast_port_in(struct vcpu *v, uint16_t port, unsigned size);
/* The exits of a timer cycle, for the backend's run loop under the same
 * rules: a WRMSR to IA32_TSC_DEADLINE (0x6e0) or the x2APIC EOI (0x80b)
 * with its value and the guest's RFLAGS.IF, or an interrupt window (msr
 * 0). The vLAPIC takes the write, a deadline already past fires at once,
 * and the interrupt now deliverable is injected (or its window requested).
 * VCPU_FAST_NO: nothing done, the full path handles the exit;
 * VCPU_FAST_DONE: done, the instruction (a WRMSR) is the backend's to
 * complete, and a fast re-entry may follow, bounded by v->fast_deadline
 * (the vLAPIC's next deadline, host TSC; UINT64_MAX: none);
 * VCPU_FAST_FULL: done, but the next entry must take the full path (an
 * NMI, INIT/SIPI, the vPIC). With virtual-interrupt delivery, `seen`
 * (NULL: nothing) is what the CPU did since the entry (vcpu_apicv_seen),
 * applied first in every case; the interrupt is then the CPU's to deliver. */
enum { VCPU_FAST_NO, VCPU_FAST_DONE, VCPU_FAST_FULL };
int vcpu_fast_apic(struct vcpu *v, uint32_t msr, uint64_t val, bool if_set,
                   const struct hvm_apicv_delta *seen);
/* Virtual-interrupt delivery (vcpu/apicv.c): the backend's CPU changed
 * the vLAPIC state it was given (apicv_load) by d (vectors delivered, EOIs
 * done without an exit): the vLAPIC takes the same steps. Called at an
 * exit before anything looks at the vLAPIC, only when d holds something. */
void vcpu_apicv_seen(struct vcpu *v, const struct hvm_apicv_delta *d);
/* Before an entry: INIT/SIPI from the vLAPIC. True when the vCPU must
 * wait (for a SIPI); a SIPI resets the vCPU through backend->reset. */
bool vcpu_wait_for_sipi(struct vcpu *v);
/* Before an entry: ticks the VM's device timers, returns the next device
 * deadline (host TSC) or UINT64_MAX. */
uint64_t vcpu_device_deadline(struct vcpu *v, uint64_t now_tsc);
/* Before an entry: chooses the one event to deliver (reinjection, then an
 * exception, an NMI, an interrupt) and hands it to backend->inject_event,
 * or requests the window it waits for. */
void vcpu_inject_pending(struct vcpu *v);
/* The run loop's decisions, the same for every backend (vcpu/run_loop.c).
 * Before an entry, with host interrupts on: a stop, pause or kick request,
 * or a vCPU waiting for its SIPI ends the run (true; *r says how). */
bool vcpu_run_should_leave(struct vcpu *v, enum vcpu_run_result *r);
/* Before an entry, with interrupts off, at host TSC now: false when the
 * slice (slice_end, 0 = none) is over; else *until is how long the guest
 * may run (TSC cycles, 0 = no bound): the rest of the slice, the next
 * device deadline (the VM's devices ticked; none for a real-time vCPU of a
 * realtime_lapic backend) and the CPU's guest_run_max_tsc; *next_device is
 * that deadline (UINT64_MAX: none), which fast re-entries must not pass. */
bool vcpu_entry_budget(struct vcpu *v, uint64_t now, uint64_t slice_end, uint64_t *until,
                       uint64_t *next_device);
/* Between a backend's fast re-entries, at host TSC now before limit (the
 * slice's end or the next device deadline; UINT64_MAX: none): how long the
 * guest may run on (TSC cycles, 0 = no bound), within the CPU's
 * guest_run_max_tsc as for vcpu_entry_budget. */
uint64_t vcpu_fast_budget(uint64_t now, uint64_t limit);
/* After an exit handled at host TSC now: true when the run ends (*r), as
 * the action says or because the slice is over. */
bool vcpu_run_ends(enum exit_action a, uint64_t now, uint64_t slice_end, enum vcpu_run_result *r);
/* A host timer on this CPU whose interrupt ends the guest's run at
 * deadline (host TSC; 0 cancels), for a CPU without a preemption timer
 * (SVM; VMX with vmx.preemption_timer=off). */
void vcpu_arm_slice_timer(uint64_t deadline);
/* Queues an exception for the guest (merging as the SDM's double-fault
 * rules say: a triple fault stops the VM). */
void vcpu_queue_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error);
/* Stops the VM with a reason (console, `info`). */
void vcpu_crash(struct vcpu *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Bounds-checked guest-physical reads (PAE PDPTEs, for example). */
int vcpu_read_guest(struct vcpu *v, uint64_t gpa, void *buf, uint64_t len);
/* After an exit: the guest's XCR0 as the CPU holds it. A backend whose
 * CPU may let XSETBV through without an exit (QEMU TCG under SVM) reports
 * it: a value the XSETBV rules allow is adopted (the vCPU switch keeps
 * it); any other is undone and the VM stopped (false). */
bool vcpu_xcr0_seen(struct vcpu *v, uint64_t xcr0);
/* The guest's CR8 lives in its vLAPIC (CR8 accesses must exit) or not. */
bool vcpu_tpr_in_vlapic(struct vcpu *v);

#endif
