/* A vCPU's SVM state (VMCB, I/O and MSR permission maps, ASID) and one
 * trip through the guest. The run loop of the SVM backend (once plugged
 * into hvm/backend.h) and the boot self-test are built on it. */
#ifndef SVM_SVM_VCPU_H
#define SVM_SVM_VCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "svm/svm_vmcb.h"

struct svm_vcpu {
    struct vmcb *vmcb; /* identity-mapped: also its physical address */
    uint64_t vmcb_pa, iopm_pa, msrpm_pa;
    struct svm_vcpu_asid asid;
    bool flush_pending; /* the nested tables lost a mapping: flush at the next entry */
};

/* Allocates the VMCB (one page), IOPM (3) and MSRPM (2) and builds the
 * maps: ports in pass[] reach the hardware, MSRs as svm_msrpm_build.
 * 0, or -1 with nothing left allocated. */
int svm_vcpu_alloc(struct svm_vcpu *s, const struct svm_port_range *pass, unsigned n);
void svm_vcpu_free(struct svm_vcpu *s);
/* Builds the VMCB for p (its iopm/msrpm/asid fields are filled here). */
void svm_vcpu_setup(struct svm_vcpu *s, const struct svm_vmcb_params *p);
/* Enters the guest once on this CPU (SVM enabled here): ASID from this
 * CPU's pool with the TLB_CONTROL it needs, RAX and RSP moved between
 * gprs[] (enum gpr order) and the VMCB around svm_enter. Returns the TSC
 * read after the exit; the exit is in the VMCB (svm_exit_code). Call with
 * interrupts disabled; host_interrupts as for svm_enter: a host interrupt
 * that made the guest exit is taken when the caller enables interrupts,
 * an NMI when GIF is set again, before this returns. */
uint64_t svm_vcpu_enter(struct svm_vcpu *s, uint64_t gprs[16], int host_interrupts);

#endif
