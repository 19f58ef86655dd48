/* Guest CPUID, built from a whitelist of host features: what a VM must
 * not see (VMX, SMX, the PMU, power management, machine check, TSX, ...)
 * is hidden, the hypervisor bit is set, and the true TSC frequency is
 * reported (leaves 0x15/0x16 and 0x40000010). */
#include "vcpu/cpuid.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/spec_guest.h"
#include "arch/x86_64/tsc.h"
#include "hvm/backend.h"
#include "vcpu/vm.h"
#include "vcpu/xsavec_check.h"
#include "include/bulkhead/hypercall.h"
#include "lib/string.h"

#define BIT(n) (1U << (n))

#define MAX_BASIC_LEAF 0x16
#define MAX_EXT_LEAF   0x80000008
#define HV_MAX_LEAF    BULKHEAD_CPUID_TIMING

/* Leaf 1 ECX: SSE3 PCLMUL SSSE3 FMA CX16 SSE4.1 SSE4.2 MOVBE POPCNT AES
 * XSAVE AVX F16C RDRAND (and PCID). Hidden: DTES64 MONITOR DS-CPL VMX SMX
 * EST TM2 SDBG xTPR PDCM DCA x2APIC TSC-deadline (no vLAPIC yet). */
#define LEAF1_ECX_ALLOWED                                                                          \
    (BIT(0) | BIT(1) | BIT(9) | BIT(12) | BIT(13) | BIT(17) | BIT(19) | BIT(20) | BIT(22) |        \
     BIT(23) | BIT(25) | BIT(26) | BIT(28) | BIT(29) | BIT(30))
/* Leaf 1 EDX: FPU VME DE PSE TSC MSR PAE CX8 SEP MTRR PGE CMOV PAT PSE36
 * CLFSH MMX FXSR SSE SSE2 SS. Hidden: MCE MCA APIC PSN DS ACPI TM PBE. */
#define LEAF1_EDX_ALLOWED                                                                          \
    (BIT(0) | BIT(1) | BIT(2) | BIT(3) | BIT(4) | BIT(5) | BIT(6) | BIT(8) | BIT(11) | BIT(12) |   \
     BIT(13) | BIT(15) | BIT(16) | BIT(17) | BIT(19) | BIT(23) | BIT(24) | BIT(25) | BIT(26) |     \
     BIT(27))
/* Leaf 7.0 EBX: FSGSBASE BMI1 AVX2 SMEP BMI2 ERMS INVPCID AVX512F/DQ
 * RDSEED ADX SMAP IFMA CLFLUSHOPT CLWB AVX512PF/ER/CD SHA AVX512BW/VL.
 * Hidden: SGX HLE RTM PQM MPX PQE Intel PT. TSC_ADJUST (bit 1) is shown
 * whatever the host has: vcpu/msr.c emulates it. */
#define LEAF7_EBX_ALLOWED                                                                          \
    (BIT(0) | BIT(3) | BIT(5) | BIT(7) | BIT(8) | BIT(9) | BIT(10) | BIT(16) | BIT(17) | BIT(18) | \
     BIT(19) | BIT(20) | BIT(21) | BIT(23) | BIT(24) | BIT(26) | BIT(27) | BIT(28) | BIT(29) |     \
     BIT(30) | BIT(31))
/* Leaf 7.0 ECX: VBMI UMIP PKU VBMI2 GFNI VAES VPCLMULQDQ VNNI BITALG
 * VPOPCNTDQ RDPID (OSPKE follows the guest's CR4.PKE; PKRU is switched
 * with the XSAVE state). Hidden: WAITPKG, CET, LA57, SGX-LC. */
#define LEAF7_ECX_ALLOWED                                                                          \
    (BIT(1) | BIT(2) | BIT(3) | BIT(6) | BIT(8) | BIT(9) | BIT(10) | BIT(11) | BIT(12) | BIT(14) | \
     BIT(22))
/* 0x80000001 ECX: LAHF ABM SSE4A PREFETCHW; EDX: SYSCALL NX 1G-pages
 * RDTSCP LM. */
#define EXT1_ECX_ALLOWED (BIT(0) | BIT(5) | BIT(6) | BIT(8))
#define EXT1_EDX_ALLOWED (BIT(11) | BIT(20) | BIT(26) | BIT(27) | BIT(29))

uint64_t guest_xcr0_allowed(void)
{
    struct cpuid_regs r = {0, 0, 0, 0};
    if (cpuid(0).eax < 0xd || !(cpuid(1).ecx & BIT(26)))
        return 0;
    cpuid_count(0xd, 0, &r);
    return xcr0_guest_mask(((uint64_t)r.edx << 32) | r.eax);
}

/* CPUID.(0xD,i) for a user state component. Its standard-format size and
 * offset are architectural (SDM vol. 1, 13.4.3, the same on every CPU that
 * has it); Bochs 2.7 lists PKRU (9) in CPUID.(0xD,0) but describes it with
 * zeros in sub-leaf 9, while its XSAVE stores it at 2688 as the SDM says:
 * a guest would size its buffers 8 bytes short (Linux: "misordered
 * xstate", "XSAVE consistency problem"). Such an empty sub-leaf of a
 * component the CPU enumerates gets the architectural layout. */
static void xstate_component(unsigned i, struct cpuid_regs *c)
{
    static const struct {
        uint8_t component;
        uint16_t size, offset;
    } layout[] = {
        {2, 256, 576},  {3, 64, 960},    {4, 64, 1024}, {5, 64, 1088},
        {6, 512, 1152}, {7, 1024, 1664}, {9, 8, 2688},
    };
    cpuid_count(0xd, i, c);
    if (c->eax)
        return;
    for (unsigned k = 0; k < sizeof(layout) / sizeof(layout[0]); k++)
        if (layout[k].component == i) {
            c->eax = layout[k].size;
            c->ebx = layout[k].offset;
            c->ecx = 0; /* user state, no 64-byte alignment in compacted form */
            c->edx = 0;
        }
}

/* Bytes the standard XSAVE format needs for the given components. */
static uint32_t xsave_size(uint64_t xcr0)
{
    uint32_t size = 576; /* legacy region + header */
    for (unsigned i = 2; i < 64; i++) {
        if (!(xcr0 & (1ULL << i)))
            continue;
        struct cpuid_regs c;
        xstate_component(i, &c);
        if (c.ebx + c.eax > size)
            size = c.ebx + c.eax;
    }
    return size;
}

/* Bytes the compacted format (XSAVEC) needs: components packed in order,
 * those flagged in ECX bit 1 of their sub-leaf aligned to 64 bytes. */
static uint32_t xsave_compacted_size(uint64_t xcr0)
{
    uint32_t size = 576;
    for (unsigned i = 2; i < 64; i++) {
        if (!(xcr0 & (1ULL << i)))
            continue;
        struct cpuid_regs c;
        xstate_component(i, &c);
        if (c.ecx & 2)
            size = (size + 63) & ~63U;
        size += c.eax;
    }
    return size;
}

static void leaf_0xd(struct vcpu *v, uint32_t sub, struct cpuid_regs *out)
{
    uint64_t allowed = guest_xcr0_allowed();
    if (!allowed) {
        return;
    }
    if (sub == 0) {
        out->eax = (uint32_t)allowed;
        out->edx = (uint32_t)(allowed >> 32);
        out->ebx = xsave_size(v->xcr0 ? v->xcr0 : 1);
        out->ecx = xsave_size(allowed);
    } else if (sub == 1) {
        struct cpuid_regs h;
        cpuid_count(0xd, 1, &h);
        /* XSAVEOPT XSAVEC XGETBV1; not XSAVES (IA32_XSS is not emulated).
         * XSAVEC only when the CPU's passed the probe (Bochs 2.7's writes
         * the AVX state over the XSAVE header: vcpu/xsavec_check.h). */
        out->eax = h.eax & (BIT(0) | (xsavec_usable() ? BIT(1) : 0) | BIT(2));
        out->ebx = xsave_compacted_size(v->xcr0 ? v->xcr0 : 1);
    } else if (sub < 64 && (allowed & (1ULL << sub))) {
        xstate_component(sub, out);
        out->ecx &= 1; /* aligned flag only; no supervisor components */
        out->edx = 0;
    }
}

static void hypervisor_leaves(uint32_t leaf, struct cpuid_regs *out)
{
    if (leaf == BULKHEAD_CPUID_BASE) {
        out->eax = HV_MAX_LEAF;
        memcpy(&out->ebx, BULKHEAD_CPUID_SIGNATURE, 4);
        memcpy(&out->ecx, BULKHEAD_CPUID_SIGNATURE + 4, 4);
        memcpy(&out->edx, BULKHEAD_CPUID_SIGNATURE + 8, 4);
    } else if (leaf == BULKHEAD_CPUID_TIMING) {
        out->eax = (uint32_t)tsc_khz();
        out->ebx = (uint32_t)tsc_khz(); /* the vLAPIC timer runs at the TSC rate */
    }
}

static void compute_leaf(struct vcpu *v, uint32_t leaf, uint32_t sub, struct cpuid_regs *out)
{
    static uint32_t host_max, host_ext_max;
    struct cpuid_regs h = {0, 0, 0, 0};
    if (!host_max) {
        host_ext_max = cpuid(0x80000000).eax;
        host_max = cpuid(0).eax;
    }
    unsigned nr = v->vm->nr_vcpus ? v->vm->nr_vcpus : 1;

    *out = (struct cpuid_regs){0, 0, 0, 0};
    if (leaf >= 0x40000000 && leaf < 0x40000100) {
        hypervisor_leaves(leaf, out);
        return;
    }
    if (leaf >= 0x80000000) {
        if (leaf > MAX_EXT_LEAF || leaf > host_ext_max)
            return;
        cpuid_count(leaf, sub, &h);
        switch (leaf) {
        case 0x80000000:
            out->eax = host_ext_max < MAX_EXT_LEAF ? host_ext_max : MAX_EXT_LEAF;
            out->ebx = h.ebx;
            out->ecx = h.ecx;
            out->edx = h.edx;
            break;
        case 0x80000001:
            out->eax = h.eax;
            out->ecx = h.ecx & EXT1_ECX_ALLOWED;
            out->edx = h.edx & EXT1_EDX_ALLOWED;
            break;
        case 0x80000002:
        case 0x80000003:
        case 0x80000004:
        case 0x80000005:
        case 0x80000006:
            *out = h;
            break;
        case 0x80000007:
            out->edx = h.edx & BIT(8); /* invariant TSC: offsetting keeps it */
            break;
        case 0x80000008:
            out->eax = h.eax & 0xffff;           /* physical and linear address widths */
            out->ebx = spec_guest_view.ext8_ebx; /* AMD's speculation controls */
            break;
        }
        return;
    }
    if (leaf > MAX_BASIC_LEAF)
        return;
    if (leaf <= host_max)
        cpuid_count(leaf, sub, &h);
    switch (leaf) {
    case 0:
        out->eax = MAX_BASIC_LEAF;
        out->ebx = h.ebx;
        out->ecx = h.ecx;
        out->edx = h.edx;
        break;
    case 1:
        out->eax = h.eax;
        /* Virtual APIC ID, logical processor count, CLFLUSH line size. */
        out->ebx = (v->id << 24) | (nr << 16) | (h.ebx & 0xff00);
        out->ecx = (h.ecx & LEAF1_ECX_ALLOWED) | BIT(31);
        out->edx = h.edx & LEAF1_EDX_ALLOWED;
        if (nr > 1)
            out->edx |= BIT(28);
        if (v->cr4_osxsave)
            out->ecx |= BIT(27);
        /* With a virtual platform: an APIC (while IA32_APIC_BASE.EN is
         * set; vcpu/msr.c keeps the cached bit current), x2APIC and the
         * TSC deadline. */
        if (v->vm->platform) {
            uint64_t base = 0;
            bool gp;
            if (!v->vm->platform_ops->rdmsr(v, MSR_IA32_APIC_BASE, &base, &gp) ||
                (base & (1ULL << 11)))
                out->edx |= BIT(9);
            out->ecx |= BIT(21) | BIT(24);
        }
        break;
    case 2:
        *out = h;
        break;
    case 4:
        *out = h;
        out->eax = (h.eax & 0x3ff) | ((nr - 1) << 26) | (h.eax & 0x3c000);
        break;
    case 7:
        if (sub == 0) {
            out->eax = 0;
            out->ebx = (h.ebx & LEAF7_EBX_ALLOWED) | BIT(1);
            out->ecx = h.ecx & LEAF7_ECX_ALLOWED;
            /* PKU only with its XSAVE component, which the switch needs. */
            if (!(guest_xcr0_allowed() & (1ULL << 9)))
                out->ecx &= ~BIT(3);
            if ((out->ecx & BIT(3)) && (vcpu_backend->get_reg(v, HVM_REG_CR4) & CR4_PKE))
                out->ecx |= BIT(4);
            /* Speculation controls: arch/x86_64/spec_guest.c. */
            out->edx = spec_guest_view.cpuid7_edx;
        }
        break;
    case 0xb:
        /* Topology: one thread per core, nr cores in one package. */
        out->edx = v->id;
        if (sub == 0) {
            out->eax = 0;
            out->ebx = 1;
            out->ecx = (1U << 8);
        } else if (sub == 1) {
            unsigned shift = 0;
            while ((1U << shift) < nr)
                shift++;
            out->eax = shift;
            out->ebx = nr;
            out->ecx = (2U << 8) | 1;
        } else {
            out->ecx = sub & 0xff;
        }
        break;
    case 0xd:
        leaf_0xd(v, sub, out);
        break;
    case 0x15: {
        /* TSC = crystal * EBX / EAX: report the calibrated frequency. */
        uint64_t khz = tsc_khz();
        out->eax = 1;
        out->ebx = 1;
        out->ecx = (uint32_t)(khz * 1000 > 0xffffffffULL ? 0 : khz * 1000);
        if (!out->ecx) {
            out->eax = 1;
            out->ebx = (uint32_t)(khz / 1000);
            out->ecx = 1000000; /* 1 MHz "crystal" */
        }
        break;
    }
    case 0x16:
        out->eax = (uint32_t)(tsc_khz() / 1000);
        out->ebx = out->eax;
        out->ecx = 100;
        break;
    default:
        break; /* 3, 5, 6, 8-0xa (PMU), 0xc, 0xe-0x14: hidden */
    }
}

_Static_assert(VCPU_CPUID_CACHE_EXT == MAX_BASIC_LEAF + 1 &&
                   VCPU_CPUID_CACHE_HV == VCPU_CPUID_CACHE_EXT + (MAX_EXT_LEAF - 0x80000000) + 1 &&
                   VCPU_CPUID_CACHE ==
                       VCPU_CPUID_CACHE_HV + (HV_MAX_LEAF - BULKHEAD_CPUID_BASE) + 1,
               "vcpu/cpuid.h's cache layout must match the leaves served here");

/* Computes the cacheable leaves once per vCPU (they depend only on the host,
 * the VM's configuration and the vCPU's ID), so a CPUID exit costs a table
 * lookup instead of host CPUIDs, each of which is itself slow on hardware. */
void guest_cpuid_fill_cache(struct vcpu *v)
{
    for (uint32_t i = 0; i < VCPU_CPUID_CACHE; i++) {
        uint32_t leaf = i < VCPU_CPUID_CACHE_EXT  ? i
                        : i < VCPU_CPUID_CACHE_HV ? 0x80000000U + (i - VCPU_CPUID_CACHE_EXT)
                                                  : 0x40000000U + (i - VCPU_CPUID_CACHE_HV);
        if (vcpu_cpuid_cache_slot(leaf, VCPU_CPUID_UNCACHED) == VCPU_CPUID_CACHE)
            continue;
        struct cpuid_regs r;
        compute_leaf(v, leaf, 0, &r);
        if (leaf == 1)
            r.ecx &= ~BIT(27); /* OSXSAVE follows the guest's CR4 at lookup */
        v->cpuid_cache[i][0] = r.eax;
        v->cpuid_cache[i][1] = r.ebx;
        v->cpuid_cache[i][2] = r.ecx;
        v->cpuid_cache[i][3] = r.edx;
    }
    v->cpuid_cache_ready = true;
    /* A CPUID exit can be answered from the cache without looking for
     * interrupts to deliver: a backend may do it in its run loop
     * (hvm/vcpu.h; vmx_take_exit), which stops such fast re-entries at the
     * next device deadline and at any interrupt news (v->intr_news). */
    v->cpuid_fast = true;
}

void guest_cpuid(struct vcpu *v, uint32_t leaf, uint32_t sub, struct cpuid_regs *out)
{
    const uint32_t *c = guest_cpuid_cached(v, leaf);
    if (!c) {
        compute_leaf(v, leaf, sub, out);
        return;
    }
    out->eax = c[0];
    out->ebx = c[1];
    out->ecx = c[2] | (leaf == 1 && v->cr4_osxsave ? BIT(27) : 0);
    out->edx = c[3];
}
