/* Hypercall dispatch (ABI in include/bulkhead/hypercall.h). */
#ifndef VCPU_HYPERCALL_H
#define VCPU_HYPERCALL_H

#include "hvm/vcpu.h"

/* What the run loop does next. Not named HC_*: those are the ABI's call
 * numbers (include/bulkhead/hypercall.h), and HC_YIELD is one of them. */
enum hc_action {
    HC_ACT_CONTINUE,
    HC_ACT_YIELD,
    HC_ACT_STOP,
};

/* Reads the call from the vCPU's registers, validates every argument and
 * writes the result to RAX. The caller has checked CPL 0. */
enum hc_action hypercall_dispatch(struct vcpu *v);

#endif
