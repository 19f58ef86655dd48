/* RDMSR/WRMSR policy: MSRs the guest's CPUID implies are emulated or
 * safely passed; anything else raises #GP, as on hardware. */
#ifndef VCPU_MSR_H
#define VCPU_MSR_H

#include <stdbool.h>
#include <stdint.h>

#include "hvm/vcpu.h"

/* Return false when the guest must get #GP. */
bool guest_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *val);
bool guest_wrmsr(struct vcpu *v, uint32_t msr, uint64_t val);

#endif
