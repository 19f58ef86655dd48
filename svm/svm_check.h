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

#endif
