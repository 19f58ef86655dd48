/* State outside the VMCS that belongs to a vCPU: the XSAVE area and XCR0,
 * CR2, DR0-3/DR6, the syscall MSRs, KERNEL_GS_BASE and TSC_AUX. The root
 * never uses them, so they only move when another vCPU takes the CPU.
 *
 * FPU/SIMD state: every vCPU owns every component a guest may enable
 * (guest_xcr0_allowed(), plus x87 and SSE), whatever its own XCR0 says.
 * XSAVE and XRSTOR run with XCR0 set to that union in root mode, so a
 * guest that leaves XCR0 = 1 still gets its own XMM/YMM registers back
 * (not the previous vCPU's), and a guest that shrinks XCR0 between two
 * switches cannot leave XSTATE_BV bits that its XCR0 lacks (which made
 * XRSTOR raise #GP in root mode). The guest's XCR0 goes back last. PKRU
 * (component 9) is part of the union where the CPU has it: a guest's
 * protection-key rights are saved at switch-out, and the next vCPU gets
 * its own (0 at first), never the previous one's. */
#include "vcpu/vcpu_switch.h"

#include "arch/x86_64/cpu.h"
#include "vcpu/cpuid.h"
#include "vcpu/xsavec_check.h"
#include "lib/log.h"
#include "lib/string.h"

#define XSAVE_AREA_BYTES 8192 /* what make_vcpu allocates (guest/vm.c) */
#define XSAVE_HDR        512  /* XSTATE_BV, XCOMP_BV, reserved: 64 bytes */
#define MXCSR_OFFSET     24
#define MXCSR_MASK_OFF   28
#define MXCSR_RESET      0x1f80U

static int xsave_state = -1; /* -1 unknown, 0 FXSAVE only, 1 XSAVE */
static uint64_t xsave_mask;  /* the union every switch saves and restores */
static uint32_t mxcsr_mask = 0xffbfU;

static bool have_xsave(void)
{
    if (xsave_state < 0) {
        uint64_t allowed = guest_xcr0_allowed();
        xsave_state = allowed != 0;
        xsave_mask = xsave_switch_mask(allowed);
    }
    return xsave_state;
}

static bool have_rdtscp(void)
{
    static int cached = -1;
    if (cached < 0)
        cached = (cpuid(0x80000001).edx & (1U << 27)) != 0;
    return cached;
}

uint64_t vcpu_xsave_mask(void)
{
    return have_xsave() ? xsave_mask : 3;
}

void vcpu_switch_cpu_init(void)
{
    /* Root mode must be allowed to run XSAVE/FXSAVE on the guests' behalf. */
    uint64_t cr4 = read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;
    if (have_xsave())
        cr4 |= CR4_OSXSAVE;
    write_cr4(cr4);
    write_cr0(read_cr0() & ~(CR0_TS | CR0_EM));
    if (have_xsave()) {
        /* The standard-format area for the union must fit the allocation. */
        xsetbv(0, xsave_mask);
        struct cpuid_regs r = {0, 0, 0, 0};
        cpuid_count(0xd, 0, &r);
        if (r.ebx > XSAVE_AREA_BYTES)
            pr_err("fpu: XSAVE area of %u bytes exceeds the %u reserved per vCPU", r.ebx,
                   XSAVE_AREA_BYTES);
        xsavec_probe_cpu(); /* before any guest's registers are loaded here */
        xsetbv(0, 1);
    }
    /* MXCSR_MASK tells which MXCSR bits XRSTOR/FXRSTOR accept. */
    static uint8_t probe[512] __attribute__((aligned(64)));
    memset(probe, 0, sizeof(probe));
    __asm__ volatile("fxsave64 (%0)" ::"r"(probe) : "memory");
    uint32_t m = *(uint32_t *)(probe + MXCSR_MASK_OFF);
    mxcsr_mask = m ? m : 0xffbfU;
}

void vcpu_fpu_area_init(void *area)
{
    uint8_t *a = area;
    memset(a, 0, XSAVE_AREA_BYTES);
    /* XSTATE_BV = 0: every component in its initial state; MXCSR is the
     * one field XRSTOR still loads from the legacy region. */
    *(uint32_t *)(a + MXCSR_OFFSET) = MXCSR_RESET;
    *(uint16_t *)(a + 0) = 0x037f; /* FCW, for FXRSTOR without XSAVE */
}

/* Only the hypervisor writes these areas, but a corrupt one must cost its
 * vCPU its registers, never the host: fields XRSTOR would fault on. */
static bool area_valid(const uint8_t *a)
{
    uint32_t mxcsr = *(const uint32_t *)(a + MXCSR_OFFSET);
    if (mxcsr & ~mxcsr_mask)
        return false;
    if (!have_xsave())
        return true;
    const uint64_t *hdr = (const uint64_t *)(a + XSAVE_HDR);
    if (hdr[0] & ~xsave_mask) /* XSTATE_BV */
        return false;
    for (unsigned i = 1; i < 8; i++) /* XCOMP_BV (standard form) and reserved */
        if (hdr[i])
            return false;
    return true;
}

void vcpu_state_save(struct vcpu *v)
{
    if (have_xsave()) {
        xsetbv(0, xsave_mask);
        __asm__ volatile("xsave64 (%0)" ::"r"(v->xsave_area), "a"((uint32_t)xsave_mask),
                         "d"((uint32_t)(xsave_mask >> 32))
                         : "memory");
    } else {
        __asm__ volatile("fxsave64 (%0)" ::"r"(v->xsave_area) : "memory");
    }
    v->cr2 = read_cr2();
    __asm__ volatile("mov %%db0, %0" : "=r"(v->dr[0]));
    __asm__ volatile("mov %%db1, %0" : "=r"(v->dr[1]));
    __asm__ volatile("mov %%db2, %0" : "=r"(v->dr[2]));
    __asm__ volatile("mov %%db3, %0" : "=r"(v->dr[3]));
    __asm__ volatile("mov %%db6, %0" : "=r"(v->dr6));
    v->msr_star = rdmsr(MSR_IA32_STAR);
    v->msr_lstar = rdmsr(MSR_IA32_LSTAR);
    v->msr_cstar = rdmsr(MSR_IA32_CSTAR);
    v->msr_fmask = rdmsr(MSR_IA32_FMASK);
    v->msr_kernel_gs_base = rdmsr(MSR_IA32_KERNEL_GS_BASE);
    if (have_rdtscp())
        v->msr_tsc_aux = rdmsr(MSR_IA32_TSC_AUX);
}

/* XRSTOR/FXRSTOR of the vCPU's area under the union mask; false when it
 * faulted (the exception-fixup table resumes after it). */
static bool restore_fpu(void *area)
{
    int err = 0;
    if (have_xsave())
        __asm__ volatile("1: xrstor64 (%1)\n"
                         "2:\n" EX_TABLE_ENTRY(1b, 3f) ".pushsection .text.fixup,\"ax\"\n"
                                                       "3: movl $1, %0\n"
                                                       " jmp 2b\n"
                                                       " .popsection\n"
                         : "+r"(err)
                         : "r"(area), "a"((uint32_t)xsave_mask), "d"((uint32_t)(xsave_mask >> 32))
                         : "memory");
    else
        __asm__ volatile("1: fxrstor64 (%1)\n"
                         "2:\n" EX_TABLE_ENTRY(1b, 3f) ".pushsection .text.fixup,\"ax\"\n"
                                                       "3: movl $1, %0\n"
                                                       " jmp 2b\n"
                                                       " .popsection\n"
                         : "+r"(err)
                         : "r"(area)
                         : "memory");
    return err == 0;
}

void vcpu_state_load(struct vcpu *v)
{
    if (have_xsave())
        xsetbv(0, xsave_mask);
    if (!area_valid(v->xsave_area) || !restore_fpu(v->xsave_area)) {
        /* Never the previous vCPU's registers: start this one afresh. */
        pr_err("fpu: vcpu %u: invalid saved FPU state; reset to the initial state", v->id);
        vcpu_fpu_area_init(v->xsave_area);
        restore_fpu(v->xsave_area);
    }
    if (have_xsave())
        xsetbv(0, v->xcr0);
    write_cr2(v->cr2);
    __asm__ volatile("mov %0, %%db0" ::"r"(v->dr[0]));
    __asm__ volatile("mov %0, %%db1" ::"r"(v->dr[1]));
    __asm__ volatile("mov %0, %%db2" ::"r"(v->dr[2]));
    __asm__ volatile("mov %0, %%db3" ::"r"(v->dr[3]));
    __asm__ volatile("mov %0, %%db6" ::"r"(v->dr6 | 0xffff0ff0ULL));
    wrmsr(MSR_IA32_STAR, v->msr_star);
    wrmsr(MSR_IA32_LSTAR, v->msr_lstar);
    wrmsr(MSR_IA32_CSTAR, v->msr_cstar);
    wrmsr(MSR_IA32_FMASK, v->msr_fmask);
    wrmsr(MSR_IA32_KERNEL_GS_BASE, v->msr_kernel_gs_base);
    if (have_rdtscp())
        wrmsr(MSR_IA32_TSC_AUX, v->msr_tsc_aux);
}
