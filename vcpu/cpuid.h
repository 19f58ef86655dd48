/* What CPUID shows a guest: host features filtered through a whitelist. */
#ifndef GUEST_CPUID_H
#define GUEST_CPUID_H

#include <stddef.h>
#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "hvm/vcpu.h"

void guest_cpuid(struct vcpu *v, uint32_t leaf, uint32_t subleaf, struct cpuid_regs *out);
/* The XCR0 bits a guest may set (those its CPUID leaf 0xD shows). */
uint64_t guest_xcr0_allowed(void);

/* Most leaves depend only on the host, the VM's configuration and the
 * vCPU's ID: they are computed once per vCPU (at its first CPUID exit) into
 * v->cpuid_cache, so an exit costs a lookup, not host CPUIDs. Cached: basic
 * leaves 0-0x16 except the subleaf-dependent 4, 7, 0xB and 0xD (which also
 * follows XCR0), 0x80000000-0x80000008 and 0x40000000-0x40000010. */
#define GUEST_CPUID_UNCACHED  ((1U << 4) | (1U << 7) | (1U << 0xb) | (1U << 0xd))
#define GUEST_CPUID_CACHE_EXT 0x17
#define GUEST_CPUID_CACHE_HV  (GUEST_CPUID_CACHE_EXT + 9)

void guest_cpuid_fill_cache(struct vcpu *v);

/* The slot of a cached leaf, or VCPU_CPUID_CACHE for a leaf to compute:
 * any above, or a basic leaf whose bit is set in `uncached` (at least
 * GUEST_CPUID_UNCACHED). */
static inline unsigned guest_cpuid_cache_slot(uint32_t leaf, uint32_t uncached)
{
    if (leaf < GUEST_CPUID_CACHE_EXT)
        return (uncached >> leaf) & 1 ? VCPU_CPUID_CACHE : leaf;
    if (leaf - 0x80000000U < 9)
        return GUEST_CPUID_CACHE_EXT + (leaf - 0x80000000U);
    if (leaf - 0x40000000U < VCPU_CPUID_CACHE - GUEST_CPUID_CACHE_HV)
        return GUEST_CPUID_CACHE_HV + (leaf - 0x40000000U);
    return VCPU_CPUID_CACHE;
}

/* EAX, EBX, ECX, EDX of a cached leaf, or NULL. Leaf 1 comes without
 * OSXSAVE (ECX bit 27), which follows the guest's CR4.OSXSAVE. */
static inline const uint32_t *guest_cpuid_cached(struct vcpu *v, uint32_t leaf)
{
    unsigned slot = guest_cpuid_cache_slot(leaf, GUEST_CPUID_UNCACHED);
    if (slot == VCPU_CPUID_CACHE)
        return NULL;
    if (__builtin_expect(!v->cpuid_cache_ready, 0))
        guest_cpuid_fill_cache(v);
    return v->cpuid_cache[slot];
}

#endif
