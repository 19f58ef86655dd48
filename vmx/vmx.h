/* The VMX backend of the vCPU contract (hvm/backend.h): VMXON, VMCS
 * set-up, the entry stub, exits translated into exit records, guest state
 * read and written for the vendor-neutral layer (vcpu/). */
#ifndef VMX_VMX_H
#define VMX_VMX_H

#include <stdbool.h>
#include <stdint.h>

#include "hvm/backend.h"
#include "hvm/vcpu.h"

struct vmx_vcpu {
    uint64_t vmcs_phys;
    uint64_t msr_bitmap_phys;
    uint64_t io_bitmap_phys; /* two pages: A (0-0x7fff) and B */
    uint64_t vapic_phys;     /* virtual-APIC page: the TPR shadow (VTPR at 0x80) */
    bool cr8_exiting;        /* CR8 accesses exit (the vLAPIC keeps the TPR) */
    int loaded_cpu;          /* -1: not current anywhere */
    bool launched;
    uint64_t host_rsp; /* last HOST_RSP written, to skip the VMWRITE */
    bool set_up;
    uint32_t pin, proc, proc2, exit_ctl, entry_ctl;
    uint64_t cr0_shadow, cr4_shadow; /* what the guest believes */
    uint64_t efer;
    bool slicing; /* preemption timer armed */
    /* Virtual-interrupt delivery (vmx_apicv.c): usable for this vCPU, in
     * use, and the VIRR/VISR, guest interrupt status and EOI-exit bitmap
     * as last written or seen. */
    bool apicv_usable, apicv_on, apicv_eoi_stale;
    /* Which modes the CPU can virtualize for this vCPU, the one in use
     * (xAPIC: accesses to apic_access_hpa virtualized), and the VTPR as
     * last written or seen (xAPIC mode: the guest writes it without an
     * exit). */
    bool apicv_x2apic_ok, apicv_xapic_ok, apicv_xapic;
    /* A vector held back while the guest has IF clear (vmx_apicv.c): an
     * interrupt-window exit is kept requested for it. apicv_fast: the
     * load is the fast path's, after a WRMSR. */
    bool apicv_window, apicv_fast;
    uint8_t apicv_tpr;
    uint64_t apic_access_hpa;
    uint16_t apicv_status;
    uint8_t apicv_words; /* bit i: word i of apicv_irr|apicv_isr non-empty */
    uint32_t apicv_irr[8], apicv_isr[8], apicv_eoi_exit[8];
    /* IA32_SPEC_CTRL when the guest's differs from root mode's
     * (vmx_spec.c): [0] the VM-entry MSR-load list (the guest's value),
     * [1] the VM-exit MSR-load list (root mode's). */
    struct vmx_msr_entry {
        uint32_t index, reserved;
        uint64_t value;
    } spec_msrs[2] __attribute__((aligned(16)));
};

/* Per physical CPU. */
struct vmx_cpu {
    uint64_t vmxon_phys;
    bool on;
    struct vcpu *current; /* whose VMCS is loaded */
};

/* VMXON on the calling CPU; returns 0 or -1 (reason logged). */
int vmx_cpu_enable(void);
/* VMXOFF on the calling CPU (VMCLEAR of whatever is loaded first). */
void vmx_cpu_disable(void);
/* VMXOFF on every CPU (power-off and reboot path). */
void vmx_disable_all_cpus(void);

/* Internals shared by the vmx/ files. */
int vmx_vcpu_setup_vmcs(struct vcpu *v);
struct vmx_cpu *vmx_this_cpu(void);
void vmx_report_entry_failure(struct vcpu *v, int fail_kind);
const char *vmx_instruction_error_name(unsigned err);
/* Names the first broken rule of a documented subset of the SDM's
 * guest-state checks (26.3.1), or NULL if none found. */
const char *vmx_check_guest_state(char *buf, unsigned len);
const char *vmx_exit_reason_name(unsigned reason);
void vmx_dump_guest(struct vcpu *v);
/* Loads CR0/CR4 as the guest asked, applying the VMX fixed bits and
 * keeping the guest's view in the read shadows (vmx_state.c); CR4 returns
 * false for bits this CPU cannot set. */
void vmx_set_guest_cr0(struct vcpu *v, uint64_t val);
bool vmx_set_guest_cr4(struct vcpu *v, uint64_t val);
unsigned vmx_guest_cpl(struct vcpu *v);
/* The guest-state ops of vmx_backend (vmx_state.c). */
uint64_t vmx_get_reg(struct vcpu *v, enum hvm_reg r);
bool vmx_set_reg(struct vcpu *v, enum hvm_reg r, uint64_t val);
void vmx_get_segment(struct vcpu *v, enum hvm_seg s, struct hvm_segment *out);
bool vmx_get_pdptes(struct vcpu *v, uint64_t out[4]);
void vmx_set_activity(struct vcpu *v, enum hvm_activity a);
void vmx_skip_instruction(struct vcpu *v, unsigned len);
void vmx_snapshot(struct vcpu *v, struct vcpu_snapshot *out);
/* Event fields and windows (vmx_run.c). */
uint32_t vmx_event_blocking(struct vcpu *v);
void vmx_inject_event(struct vcpu *v, const struct vcpu_event *e);
void vmx_set_windows(struct vcpu *v, bool nmi, bool irq);
/* Machine level (vmx.c). */
bool vmx_probe(const char **reason);
void vmx_describe(char *buf, unsigned len);
void vmx_npt_page_sizes(bool *pg_2m, bool *pg_1g);
int vmx_set_option(const char *key, const char *value);

/* A running VM's maps (vmx_maps.c): hvm/backend.h io_intercept and
 * flush_second_level. */
void vmx_io_intercept(struct vcpu *v, uint16_t base, uint32_t count, bool intercept);
void vmx_flush_second_level(struct vcpu *v);

/* False: slices end by host LAPIC timers instead (`vmx.preemption_timer=off`). */
extern bool vmx_use_preemption_timer;
/* False: no virtual-interrupt delivery (`vmx.apicv=off`). */
extern bool vmx_use_apicv;
/* Virtual-interrupt delivery (vmx_apicv.c): the backend op, the exit-side
 * look at what the CPU did (before anything reads the vLAPIC), and the
 * EOI-induced exit of a level-triggered vector. */
bool vmx_apicv_load(struct vcpu *v, const struct hvm_apicv_state *s);
bool vmx_apicv_uses_access_page(void);
/* The backend op spec_ctrl_load (vmx_spec.c); also from the VMCS set-up. */
void vmx_spec_ctrl_load(struct vcpu *v);
void vmx_apicv_seen(struct vcpu *v);
/* The same look, its result in d for the caller (true: d holds something). */
bool vmx_apicv_delta(struct vcpu *v, struct hvm_apicv_delta *d);
void vmx_apicv_msr_bitmap(struct vmx_vcpu *x, bool eoi_passes);
/* xAPIC mode's exits (vmx_apicv.c): an APIC access the CPU did not
 * virtualize (reason 44) and a write it completed for the vLAPIC to act
 * on (reason 56), as exit records. */
struct exit_record;
void vmx_apicv_translate_access(struct vcpu *v, uint64_t qual, struct exit_record *e);
void vmx_apicv_translate_write(struct vcpu *v, uint64_t qual, struct exit_record *e);

int vmx_enter(uint64_t *gprs, int launched, uint64_t *host_rsp_cache);
void vmx_exit_entry(void);

#endif
