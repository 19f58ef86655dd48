/* SVM on each physical CPU: EFER.SVME, the host-save area (VM_HSAVE_PA)
 * and the page VMSAVE/VMLOAD keep the host's hidden state in. */
#ifndef SVM_SVM_CPU_H
#define SVM_SVM_CPU_H

#include <stdbool.h>
#include <stdint.h>

#include "svm/svm_vmcb.h"

struct svm_cpu {
    bool on;
    uint64_t hsave_pa;          /* VM_HSAVE_PA: the CPU keeps host state here on VMRUN */
    uint64_t host_vmcb_pa;      /* VMSAVE target for the host's FS/GS/TR/LDTR/syscall MSRs */
    struct svm_asid_pool asids; /* the ASIDs this CPU hands out (svm_asid_assign) */
};

/* Turns SVM on for this CPU: clears VM_CR.SVMDIS when firmware left it
 * unlocked, sets EFER.SVME, gives the CPU its host-save area and saves the
 * host's VMLOAD state. 0, or -1 with a log line (svm_caps not available,
 * no memory). */
int svm_cpu_enable(void);
/* Leaves SVM on this CPU (power-off, reboot): GIF set, EFER.SVME cleared. */
void svm_cpu_disable(void);
/* Every CPU leaves SVM; the others park (a shutdown hook, like
 * vmx_disable_all_cpus). */
void svm_disable_all_cpus(void);
struct svm_cpu *svm_this_cpu(void);

#endif
