/* What CPUID shows a guest: host features filtered through a whitelist. */
#ifndef VCPU_CPUID_H
#define VCPU_CPUID_H

#include <stddef.h>
#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "hvm/vcpu.h"

void guest_cpuid(struct vcpu *v, uint32_t leaf, uint32_t subleaf, struct cpuid_regs *out);
/* The XCR0 bits a guest may set (those its CPUID leaf 0xD shows). */
uint64_t guest_xcr0_allowed(void);

/* XCR0 components a guest may enable when the CPU has them: x87, SSE, AVX,
 * the AVX-512 trio and PKRU (9, with CPUID.7.0:ECX.PKU shown). */
#define XCR0_GUEST_MASK 0x2e7ULL
static inline uint64_t xcr0_guest_mask(uint64_t host_supported)
{
    return host_supported & XCR0_GUEST_MASK;
}
/* What every vCPU switch saves and restores (vcpu/vcpu_switch.c): every
 * component any guest may enable, x87 and SSE always. PKRU is in it when
 * the CPU has it, so one VM's protection keys never reach the next. */
static inline uint64_t xsave_switch_mask(uint64_t guest_allowed)
{
    return guest_allowed | 3;
}

/* Fills v->cpuid_cache (layout in hvm/vcpu.h). */
void guest_cpuid_fill_cache(struct vcpu *v);

/* EAX, EBX, ECX, EDX of a cached leaf, or NULL. Leaf 1 comes without
 * OSXSAVE (ECX bit 27), which follows the guest's CR4.OSXSAVE. */
static inline const uint32_t *guest_cpuid_cached(struct vcpu *v, uint32_t leaf)
{
    unsigned slot = vcpu_cpuid_cache_slot(leaf, VCPU_CPUID_UNCACHED);
    if (slot == VCPU_CPUID_CACHE)
        return NULL;
    if (__builtin_expect(!v->cpuid_cache_ready, 0))
        guest_cpuid_fill_cache(v);
    return v->cpuid_cache[slot];
}

#endif
