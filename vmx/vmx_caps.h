/* VMX capabilities, read once from the (TRUE) capability MSRs into one
 * structure that the rest of vmx/ uses. */
#ifndef VMX_VMX_CAPS_H
#define VMX_VMX_CAPS_H

#include <stdbool.h>
#include <stdint.h>

#define MSR_IA32_VMX_BASIC           0x480
#define MSR_IA32_VMX_PINBASED_CTLS   0x481
#define MSR_IA32_VMX_PROCBASED_CTLS  0x482
#define MSR_IA32_VMX_EXIT_CTLS       0x483
#define MSR_IA32_VMX_ENTRY_CTLS      0x484
#define MSR_IA32_VMX_MISC            0x485
#define MSR_IA32_VMX_CR0_FIXED0      0x486
#define MSR_IA32_VMX_CR0_FIXED1      0x487
#define MSR_IA32_VMX_CR4_FIXED0      0x488
#define MSR_IA32_VMX_CR4_FIXED1      0x489
#define MSR_IA32_VMX_VMCS_ENUM       0x48a
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x48b
#define MSR_IA32_VMX_EPT_VPID_CAP    0x48c
#define MSR_IA32_VMX_TRUE_PINBASED   0x48d
#define MSR_IA32_VMX_TRUE_PROCBASED  0x48e
#define MSR_IA32_VMX_TRUE_EXIT       0x48f
#define MSR_IA32_VMX_TRUE_ENTRY      0x490
#define MSR_IA32_VMX_VMFUNC          0x491

#define FEATURE_CONTROL_LOCKED        (1ULL << 0)
#define FEATURE_CONTROL_VMXON_IN_SMX  (1ULL << 1)
#define FEATURE_CONTROL_VMXON_OUTSIDE (1ULL << 2)

/* Each control MSR: low 32 bits allowed-0 (must be 1), high allowed-1. */
struct vmx_ctl_cap {
    uint32_t must_be_1;
    uint32_t may_be_1;
};

struct vmx_caps {
    bool available;
    char reason[64]; /* why not, when !available */
    uint64_t basic;
    uint32_t revision_id;
    uint32_t vmcs_size;
    bool true_ctls;
    struct vmx_ctl_cap pinbased, procbased, procbased2, exit, entry;
    uint64_t misc;
    uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
    uint64_t ept_vpid_cap;
    bool ept, ept_2m, ept_1g, ept_ad, vpid, unrestricted_guest, preemption_timer, apicv,
        posted_interrupts, vmcs_shadowing, pause_loop_exiting, invept_single, invept_all, invvpid;
    /* What vmx/vmx_apicv.c needs: the TPR shadow, virtualize x2APIC mode
     * and virtual-interrupt delivery. */
    bool apicv_x2apic;
    /* ... and for xAPIC mode: the TPR shadow, virtualize APIC accesses and
     * virtual-interrupt delivery. */
    bool apicv_xapic;
    unsigned preemption_timer_shift; /* timer ticks every 2^shift TSC cycles */
};

extern struct vmx_caps vmx_caps;

/* Reads the capabilities on the boot CPU; fills vmx_caps.reason when VMX
 * cannot be used (no VMX in CPUID, disabled by firmware, ...). */
void vmx_caps_probe(void);
/* "ept ept-2m ept-1g vpid ..." for the banner. */
void vmx_caps_describe(char *buf, unsigned len);
/* Adjusts a desired control value to what the CPU allows; returns the bits
 * of `want` that had to be dropped (0 when all were granted). */
uint32_t vmx_adjust_ctls(const struct vmx_ctl_cap *cap, uint32_t want, uint32_t *out);

#endif
