/* What a vendor backend (vmx/ now, svm/ next) implements for the
 * vendor-neutral layer, as Jailhouse splits vmx.c and svm.c. The neutral
 * layer (vcpu/) calls a backend only through vcpu_backend; core/ reaches
 * it only through hvm_*() (vcpu/hvm.c). Every op is an indirect call
 * (a retpoline): the hot paths (CPUID, VMCALL) stay inside the backend's
 * run loop, and the neutral layer caches what it can. */
#ifndef HVM_BACKEND_H
#define HVM_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "hvm/exit.h"
#include "hvm/vcpu.h"

struct ept_format;

/* Guest registers a backend keeps in its own state (VMCS, VMCB). */
enum hvm_reg {
    HVM_REG_RIP,
    HVM_REG_RSP,
    HVM_REG_RFLAGS,
    HVM_REG_CR0, /* as the guest sees it (bits it owns live, the rest shadowed) */
    HVM_REG_CR3,
    HVM_REG_CR4, /* as the guest sees it */
    HVM_REG_EFER,
    HVM_REG_PAT,
    HVM_REG_DR6, /* VMX: the CPU's (live while the vCPU is loaded); SVM: the VMCB's */
    HVM_REG_DR7,
};

enum hvm_seg { HVM_SEG_ES, HVM_SEG_CS, HVM_SEG_SS, HVM_SEG_DS, HVM_SEG_FS, HVM_SEG_GS };

/* A segment register. attr uses the VMX access-rights layout (type 3:0,
 * S 4, DPL 6:5, P 7, AVL 12, L 13, D/B 14, G 15, unusable 16); an SVM
 * backend expands its packed attributes into it. */
struct hvm_segment {
    uint64_t base;
    uint32_t limit;
    uint32_t attr;
    uint16_t selector;
};

/* backend->event_blocking: what keeps an event out right now. */
#define HVM_BLOCK_SHADOW (1U << 0) /* STI or MOV-SS blocking */
#define HVM_BLOCK_NMI    (1U << 1) /* an NMI handler is running */
#define HVM_BLOCK_IF     (1U << 2) /* RFLAGS.IF = 0 */

enum hvm_activity {
    HVM_ACTIVE,
    HVM_WAIT_SIPI, /* after INIT */
};

struct vcpu_backend {
    const char *name; /* "vmx", "svm": the banner and messages */
    /* A real-time vCPU (vcpu_vm_info.realtime) drives the physical local
     * APIC and takes its CPU's interrupts without exits (docs/realtime.md):
     * emulated devices reach it by physical IPI (vdev/virq_rt.c). */
    bool realtime_lapic;

    /* --- Machine level (core/ through vcpu/hvm.c) --- */
    /* Detects the extension; false with *reason when it cannot be used. */
    bool (*probe)(const char **reason);
    /* The banner's text after "<name>: " (features in use). */
    void (*describe)(char *buf, unsigned len);
    /* Enters root mode on the calling CPU: 0 or -1 (reason logged). */
    int (*cpu_enable)(void);
    /* Leaves root mode on every CPU (power-off and reboot). */
    void (*disable_all_cpus)(void);
    /* Large pages the second-level tables may use. */
    void (*npt_page_sizes)(bool *pg_2m, bool *pg_1g);
    /* The second-level table format (ept/ept.h); NULL: EPT. */
    const struct ept_format *npt_format;
    /* A "<name>.key=value" boot option (key without the prefix): 1 taken,
     * 0 not an option of this backend, -1 a bad value (logged). */
    int (*set_option)(const char *key, const char *value);

    /* --- One vCPU --- */
    int (*init)(struct vcpu *v);
    void (*destroy)(struct vcpu *v);
    /* Called when this vCPU leaves its CPU for good (VMCLEAR, TLB flush). */
    void (*unload)(struct vcpu *v);
    /* Rebuilds the guest state from v->boot (after a SIPI). */
    int (*reset)(struct vcpu *v);
    /* Runs the guest until the scheduler must decide something; slice_tsc
     * 0 means no time slice (a vCPU alone on its CPU). */
    enum vcpu_run_result (*run)(struct vcpu *v, uint64_t slice_tsc);

    /* --- Guest state, only on the vCPU's CPU with its state loaded --- */
    uint64_t (*get_reg)(struct vcpu *v, enum hvm_reg r);
    /* False when the value cannot be loaded (reserved bits for this CPU,
     * an EFER.LME change with paging on): the caller injects #GP. CR0/CR4
     * writes apply the vendor's fixed bits and long-mode transitions. */
    bool (*set_reg)(struct vcpu *v, enum hvm_reg r, uint64_t val);
    void (*get_segment)(struct vcpu *v, enum hvm_seg s, struct hvm_segment *out);
    unsigned (*cpl)(struct vcpu *v);
    bool (*long_mode)(struct vcpu *v); /* EFER.LMA */
    /* PAE paging: the PDPTE registers, when the CPU keeps them (VMX);
     * false means the walker reads them from CR3. */
    bool (*get_pdptes)(struct vcpu *v, uint64_t out[4]);
    void (*set_activity)(struct vcpu *v, enum hvm_activity a);
    /* Advances RIP by len (an instruction completed by the neutral layer
     * outside the record's advance_rip) and ends STI/MOV-SS blocking. */
    void (*skip_instruction)(struct vcpu *v, unsigned len);
    /* The guest's TSC becomes host TSC + offset (IA32_TSC writes). */
    void (*set_tsc_offset)(struct vcpu *v, uint64_t offset);

    /* --- A running VM's maps (vcpu/vm_sync.c drives them for the VM) --- */
    /* Ports [base, base + count) exit (intercept) or reach the hardware
     * for this vCPU from its next I/O instruction: one bit each in its I/O
     * bitmaps (VMX A/B, SVM IOPM), written in memory from any CPU. The
     * caller makes sure no CPU runs v with the old bits (vm_sync_vcpus). */
    void (*io_intercept)(struct vcpu *v, uint16_t base, uint32_t count, bool intercept);
    /* The VM's second-level tables lost or changed a mapping: v must not
     * use a translation cached before this call once it enters again.
     * Called on v's own CPU (pcpu) while v is not in the guest: VMX
     * INVEPTs there, SVM flushes v's ASID at its next VMRUN. */
    void (*flush_second_level)(struct vcpu *v);

    /* --- Events: the neutral layer decides, the backend writes --- */
    uint32_t (*event_blocking)(struct vcpu *v); /* HVM_BLOCK_* */
    /* Delivers e at the next entry (an interrupt also wakes a HLT). */
    void (*inject_event)(struct vcpu *v, const struct vcpu_event *e);
    /* Exit as soon as the guest can take an NMI / an interrupt. */
    void (*set_windows)(struct vcpu *v, bool nmi, bool irq);
    /* Virtual-interrupt delivery (may be NULL): the CPU takes the local
     * APIC's vectors from the state in s at the next entry, delivers them
     * when the guest can take one and virtualizes the EOI of every vector
     * whose TMR bit is clear, without exits. s NULL: stop (back to
     * inject_event and windows). False: not used for this vCPU (no CPU
     * support, turned off, a real-time vCPU); s is then ignored. While it
     * is used, the backend reports at its exits what the CPU did, before
     * anything else looks at the vLAPIC (vcpu_apicv_seen, hvm/exit.h). */
    bool (*apicv_load)(struct vcpu *v, const struct hvm_apicv_state *s);
    /* Whether apicv_load can use a VM's APIC-access page (xAPIC mode):
     * when NULL or false, VMs get none (vdev/lapic_apicv_window.c). */
    bool (*apicv_uses_access_page)(void);
    /* The guest's IA32_SPEC_CTRL (v->spec_ctrl) changed: load it at every
     * entry from now on, root mode's value (spec_plan.spec_ctrl) at every
     * exit. Called on the vCPU's CPU with its state current. NULL: the
     * backend cannot switch it, and guests see no IA32_SPEC_CTRL
     * (arch/x86_64/spec_guest.c). */
    void (*spec_ctrl_load)(struct vcpu *v);

    /* --- Reports --- */
    const char *(*exit_reason_name)(unsigned stat_slot);
    void (*snapshot)(struct vcpu *v, struct vcpu_snapshot *out);
};

/* The backend in use (vcpu/hvm.c chooses it at hvm_init). */
extern const struct vcpu_backend *vcpu_backend;

/* Every backend the image holds, probed in vcpu/hvm.c in this order. */
extern const struct vcpu_backend vmx_backend;
extern const struct vcpu_backend svm_backend;

#endif
