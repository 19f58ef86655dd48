/* Per-CPU SVM enable and disable (AMD64 APM vol. 2, 15.4 "Enabling SVM"). */
#include "svm/svm_cpu.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/ipi.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/spec_ctrl.h"
#include "lib/log.h"
#include "lib/string.h"
#include "mm/pmm.h"
#include "svm/svm_caps.h"

static struct svm_cpu svm_cpus[MAX_CPUS];

struct svm_cpu *svm_this_cpu(void)
{
    return &svm_cpus[this_cpu_id()];
}

void svm_caps_probe(void)
{
    struct svm_cpuid_in in;
    memset(&in, 0, sizeof(in));
    in.max_ext_leaf = cpuid(0x80000000).eax;
    if (in.max_ext_leaf >= 0x80000001)
        in.ext1_ecx = cpuid(0x80000001).ecx;
    if (in.max_ext_leaf >= 0x8000000a) {
        struct cpuid_regs r = cpuid(0x8000000a);
        in.leaf_a_eax = r.eax;
        in.leaf_a_ebx = r.ebx;
        in.leaf_a_edx = r.edx;
    }
    /* VM_CR exists only where SVM does; reading it elsewhere is a #GP. */
    if (in.ext1_ecx & CPUID_80000001_ECX_SVM)
        in.vm_cr_readable = rdmsr_safe(MSR_VM_CR, &in.vm_cr);
    svm_caps_decode(&svm_caps, &in);
}

static inline void svm_vmsave(uint64_t pa)
{
    __asm__ volatile("vmsave %%rax" ::"a"(pa) : "memory");
}

static inline void svm_stgi(void)
{
    __asm__ volatile("stgi" ::: "memory");
}

int svm_cpu_enable(void)
{
    struct percpu *pc = this_cpu();
    struct svm_cpu *sc = &svm_cpus[pc->cpu_id];

    if (!svm_caps.available)
        return -1;
    if (sc->on)
        return 0;
    uint64_t vm_cr;
    if (!rdmsr_safe(MSR_VM_CR, &vm_cr)) {
        pr_err("cpu %u: svm: VM_CR unreadable", pc->cpu_id);
        return -1;
    }
    if (vm_cr & VM_CR_SVMDIS) {
        /* Probed on the boot CPU; firmware could still differ per CPU. */
        if ((vm_cr & VM_CR_LOCK) || !wrmsr_safe(MSR_VM_CR, vm_cr & ~VM_CR_SVMDIS)) {
            pr_err("cpu %u: svm: disabled by firmware (VM_CR.SVMDIS with LOCK)", pc->cpu_id);
            return -1;
        }
    }
    if (!sc->hsave_pa) {
        sc->hsave_pa = pmm_alloc(1, 1, "svm host-save area");
        sc->host_vmcb_pa = pmm_alloc(1, 1, "svm host vmsave area");
        if (!sc->hsave_pa || !sc->host_vmcb_pa) {
            pr_err("cpu %u: svm: no memory for the host-save area", pc->cpu_id);
            return -1;
        }
        memset((void *)sc->hsave_pa, 0, 4096);
        memset((void *)sc->host_vmcb_pa, 0, 4096);
    }
    if (!wrmsr_safe(MSR_IA32_EFER, rdmsr(MSR_IA32_EFER) | EFER_SVME)) {
        pr_err("cpu %u: svm: cannot set EFER.SVME", pc->cpu_id);
        return -1;
    }
    wrmsr(MSR_VM_HSAVE_PA, sc->hsave_pa);
    /* The host's FS/GS bases (GS: this CPU's percpu block), TR, LDTR and
     * syscall MSRs, which VMLOAD of a guest replaces: the world switch
     * VMLOADs them back from here after every exit. */
    svm_vmsave(sc->host_vmcb_pa);
    /* next = 0: the first ASID handed out on this CPU flushes the TLB. */
    sc->asids = (struct svm_asid_pool){.nr_asids = svm_caps.nr_asids};
    sc->on = true;
    spec_ctrl_init_cpu();
    pr_debug("cpu %u: svm: on (hsave 0x%llx)", pc->cpu_id, (unsigned long long)sc->hsave_pa);
    return 0;
}

void svm_cpu_disable(void)
{
    struct svm_cpu *sc = svm_this_cpu();
    if (!sc->on)
        return;
    /* STGI needs EFER.SVME; leave with GIF set so INIT/NMI work again. */
    svm_stgi();
    wrmsr(MSR_IA32_EFER, rdmsr(MSR_IA32_EFER) & ~EFER_SVME);
    wrmsr(MSR_VM_HSAVE_PA, 0);
    sc->on = false;
}

void svm_disable_all_cpus(void)
{
    ipi_park_all_others(svm_cpu_disable);
}
