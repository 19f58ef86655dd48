/* The SVM backend of the vCPU contract (hvm/backend.h): internals shared
 * by svm_backend.c (ops, run loop) and svm_exit.c (exit translation). */
#ifndef SVM_SVM_BACKEND_H
#define SVM_SVM_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "hvm/backend.h"
#include "hvm/exit.h"
#include "hvm/vcpu.h"
#include "svm/svm_check.h"
#include "svm/svm_vcpu.h"

struct svm_vcpu_state {
    struct svm_vcpu sv;
    bool set_up;
    bool nmi_masked;   /* an injected NMI's handler runs until its IRET */
    bool host_osxsave; /* XGETBV works: the guest's XCR0 is checked after each exit */
    /* The guest's EFER.LME. The VMCB holds it only while CR0.PG is set:
     * QEMU TCG's #VMEXIT from a guest with LME set, paging and PAE off
     * does not reload the host's CR0 (docs/svm.md). With paging off LME
     * changes nothing, and every CR0 write exits. */
    bool efer_lme;
    /* What the last VMRUN was given, for naming its failure. */
    struct svm_checked_state at_entry;
};

enum exit_action svm_handle_exit(struct vcpu *v, uint64_t exit_tsc, uint64_t *end_tsc);
const char *svm_exit_slot_name(unsigned slot);
/* Logs and records why VMRUN failed (svm_check_vmcb) and stops the VM. */
void svm_report_vmrun_failure(struct vcpu *v);

/* Advances RIP by len; it ends the interrupt shadow, as on hardware. */
static inline void svm_skip(struct vmcb *vmcb, unsigned len)
{
    vmcb->save.rip += len;
    vmcb->control.interrupt_state &= ~SVM_INTERRUPT_SHADOW;
}

#endif
