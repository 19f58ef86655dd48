/* State outside the VMCS that belongs to a vCPU: the XSAVE area and XCR0,
 * CR2, DR0-3/DR6, the syscall MSRs, KERNEL_GS_BASE and TSC_AUX. The root
 * never uses them, so they only move when another vCPU takes the CPU. */
#include "guest/vcpu_switch.h"

#include "arch/x86_64/cpu.h"

static bool have_xsave(void)
{
    static int cached = -1;
    if (cached < 0)
        cached = (cpuid(1).ecx & (1U << 26)) != 0;
    return cached;
}

static bool have_rdtscp(void)
{
    static int cached = -1;
    if (cached < 0)
        cached = (cpuid(0x80000001).edx & (1U << 27)) != 0;
    return cached;
}

void vcpu_switch_cpu_init(void)
{
    /* Root mode must be allowed to run XSAVE/FXSAVE on the guests' behalf. */
    uint64_t cr4 = read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;
    if (have_xsave())
        cr4 |= CR4_OSXSAVE;
    write_cr4(cr4);
    write_cr0(read_cr0() & ~(CR0_TS | CR0_EM));
}

void vcpu_state_save(struct vcpu *v)
{
    if (have_xsave())
        __asm__ volatile("xsave64 (%0)" ::"r"(v->xsave_area), "a"(~0U), "d"(~0U) : "memory");
    else
        __asm__ volatile("fxsave64 (%0)" ::"r"(v->xsave_area) : "memory");
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

void vcpu_state_load(struct vcpu *v)
{
    if (have_xsave()) {
        xsetbv(0, v->xcr0);
        __asm__ volatile("xrstor64 (%0)" ::"r"(v->xsave_area), "a"(~0U), "d"(~0U) : "memory");
    } else {
        __asm__ volatile("fxrstor64 (%0)" ::"r"(v->xsave_area) : "memory");
    }
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
