/* RDMSR/WRMSR policy: MSRs the guest's CPUID implies are emulated or
 * safely passed; anything else raises #GP, as on hardware. */
#ifndef GUEST_MSR_H
#define GUEST_MSR_H

#include <stdbool.h>
#include <stdint.h>

#include "hvm/vcpu.h"

/* Return false when the guest must get #GP. */
bool guest_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *val);
bool guest_wrmsr(struct vcpu *v, uint32_t msr, uint64_t val);
/* Backend hooks for MSRs that live in its state (EFER, PAT). */
struct guest_msr_backend {
    uint64_t (*get_efer)(struct vcpu *v);
    bool (*set_efer)(struct vcpu *v, uint64_t val);
    uint64_t (*get_pat)(struct vcpu *v);
    void (*set_pat)(struct vcpu *v, uint64_t val);
    /* The guest's TSC becomes host TSC + offset (IA32_TSC writes). */
    void (*set_tsc_offset)(struct vcpu *v, uint64_t offset);
};
extern const struct guest_msr_backend *guest_msr_backend;

#endif
