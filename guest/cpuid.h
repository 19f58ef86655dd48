/* What CPUID shows a guest: host features filtered through a whitelist. */
#ifndef GUEST_CPUID_H
#define GUEST_CPUID_H

#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "guest/vcpu.h"

void guest_cpuid(struct vcpu *v, uint32_t leaf, uint32_t subleaf, struct cpuid_regs *out);
/* The XCR0 bits a guest may set (those its CPUID leaf 0xD shows). */
uint64_t guest_xcr0_allowed(void);

#endif
