/* The guest's task priority, CR8 = TPR[7:4]. It never reaches the
 * physical local APIC. A VM with a vLAPIC keeps it there (one copy for
 * CR8, the xAPIC TPR register and x2APIC MSR 0x808, which interrupt
 * delivery obeys): its CR8 accesses must exit (vcpu_tpr_in_vlapic, in
 * hvm/exit.h for the backends). Without a vLAPIC the backend may keep it
 * in a TPR shadow instead. */
#ifndef VCPU_VCPU_TPR_H
#define VCPU_VCPU_TPR_H

#include <stdint.h>

#include "hvm/exit.h"

uint64_t vcpu_cr8_read(struct vcpu *v);
void vcpu_cr8_write(struct vcpu *v, uint64_t cr8); /* cr8 < 16, checked by the caller */

#endif
