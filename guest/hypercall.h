/* Hypercall dispatch (ABI in include/bulkhead/hypercall.h). */
#ifndef GUEST_HYPERCALL_H
#define GUEST_HYPERCALL_H

#include "guest/vcpu.h"

enum hc_action {
    HC_CONTINUE,
    HC_YIELD,
    HC_STOP,
};

/* Reads the call from the vCPU's registers, validates every argument and
 * writes the result to RAX. The caller has checked CPL 0. */
enum hc_action hypercall_dispatch(struct vcpu *v);

#endif
