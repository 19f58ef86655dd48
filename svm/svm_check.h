/* When VMRUN fails with VMEXIT_INVALID the CPU says nothing more: this
 * check names the rule of APM vol. 2, 15.5.1 "Canonicalization and
 * Consistency Checks" that the VMCB breaks, as vmx_check_guest_state does
 * for a failed VM entry. A pure function over the VMCB. */
#ifndef SVM_SVM_CHECK_H
#define SVM_SVM_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "svm/vmcb.h"

struct svm_check_limits {
    unsigned maxphyaddr; /* CPUID 0x80000008 EAX[7:0] */
    bool long_mode;      /* CPUID 0x80000001 EDX.LM */
    bool nested_paging;  /* CPUID 0x8000000A EDX.NP */
    uint64_t efer_valid; /* EFER bits the CPU implements; 0: the architectural set */
    uint64_t cr4_valid;  /* CR4 bits the CPU implements; 0: the architectural set */
};

/* NULL when no listed rule is broken, else a text naming the rule
 * ("15.5.1: CR0.NW set without CR0.CD"). */
const char *svm_check_vmcb(const struct vmcb *v, const struct svm_check_limits *lim);

/* The guest state the checks read, as it was before VMRUN. QEMU TCG
 * fails VMRUN after it has begun loading the guest and then writes the
 * host's CR0, CR3, CR4, EFER, DR6, DR7 and segments into the VMCB, so the
 * VMCB it leaves breaks no rule; svm_vmcb_restore_checked puts the
 * values VMRUN saw back before svm_check_vmcb looks. */
struct svm_checked_state {
    uint64_t cr0, cr3, cr4, dr6, dr7, efer;
    uint16_t cs_attrib;
};
void svm_checked_state_save(const struct vmcb *v, struct svm_checked_state *out);
void svm_vmcb_restore_checked(struct vmcb *v, const struct svm_checked_state *at_entry);

#endif
