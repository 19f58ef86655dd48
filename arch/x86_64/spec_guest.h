/* The speculation controls a guest sees (docs/security.md, "Guests' own
 * controls"): which CPUID bits, which of IA32_SPEC_CTRL's bits it may set,
 * whether IA32_PRED_CMD and IA32_FLUSH_CMD exist, and what its
 * IA32_ARCH_CAPABILITIES reads. A pure function of the host's enumeration
 * (spec_guest_decide, unit-tested in tests/unit/test_spec_guest.c); the
 * MSRs themselves are vcpu/msr.c's, the switch of IA32_SPEC_CTRL at entry
 * and exit the backend's (vcpu_backend->spec_ctrl_load, vmx/vmx_spec.c). */
#ifndef ARCH_X86_64_SPEC_GUEST_H
#define ARCH_X86_64_SPEC_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/spec_ctrl.h"

/* IA32_SPEC_CTRL bits beyond arch/x86_64/spec_ctrl.h's */
#define SPEC_CTRL_STIBP (1ULL << 1)
#define SPEC_CTRL_SSBD  (1ULL << 2)

struct spec_guest {
    uint32_t cpuid7_edx;     /* CPUID.(7,0):EDX as the guest sees it */
    uint32_t ext8_ebx;       /* CPUID.80000008H:EBX as the guest sees it */
    uint64_t spec_ctrl_bits; /* IA32_SPEC_CTRL bits it may set; 0: no such MSR */
    bool pred_cmd;           /* IA32_PRED_CMD.IBPB exists */
    bool flush_cmd;          /* IA32_FLUSH_CMD.L1D_FLUSH exists */
    bool arch_caps_msr;      /* IA32_ARCH_CAPABILITIES exists ... */
    uint64_t arch_caps;      /* ... and reads this */
};

/* host: the boot CPU's enumeration (arch/x86_64/spec_ctrl.c);
 * host_ext8_ebx: its CPUID.80000008H:EBX; switched: the backend loads the
 * guest's IA32_SPEC_CTRL at every entry and the host's at every exit
 * (without that, no IA32_SPEC_CTRL bit is shown). */
void spec_guest_decide(const struct spec_cpu *host, uint32_t host_ext8_ebx, bool switched,
                       struct spec_guest *g);

#ifndef HOST_TEST
/* This machine's view: decided once on the boot CPU, before any vCPU
 * exists (vcpu/hvm.c, once the backend is chosen); read-only after. */
extern struct spec_guest spec_guest_view;
void spec_guest_init(bool switched);
#endif

#endif
