/* Guest MSR policy. Writes that could harm the machine (FEATURE_CONTROL,
 * microcode, MTRRs, TSC) never reach hardware: they are emulated per vCPU
 * or refused with #GP exactly as a CPU without that MSR would. */
#include "vcpu/msr.h"

#include "arch/x86_64/cpu.h"
#include "hvm/backend.h"
#include "lib/log.h"
#include "vcpu/vm.h"

#define MSR_IA32_TSC          0x10
#define MSR_IA32_PLATFORM_ID  0x17
#define MSR_IA32_BIOS_SIGN_ID 0x8b
#define MSR_IA32_MTRRCAP      0xfe
#define MSR_IA32_MCG_CAP      0x179
#define MSR_IA32_MCG_STATUS   0x17a
#define MSR_IA32_DEBUGCTL     0x1d9
/* AMD's SYSCFG and NB_CFG: Linux reads SYSCFG (MTRR set-up) and sets
 * NB_CFG.EnableCf8ExtCfg on AMD CPUs without a safe access: read as 0,
 * writes dropped (nothing of the host's northbridge is the guest's). */
#define MSR_AMD64_SYSCFG      0xc0010010
#define MSR_AMD64_NB_CFG      0xc001001f
#define MSR_MTRR_PHYS_BASE0   0x200
#define MSR_MTRR_FIX64K       0x250
#define MSR_MTRR_FIX16K_80000 0x258
#define MSR_MTRR_FIX16K_A0000 0x259
#define MSR_MTRR_FIX4K_C0000  0x268
#define MSR_MTRR_FIX4K_F8000  0x26f
#define MSR_MTRR_DEF_TYPE     0x2ff

#define MTRR_VARIABLE_COUNT 8
/* Fast strings, and "BTS/PEBS unavailable" so guests do not probe them. */
#define MISC_ENABLE_DEFAULT ((1ULL << 0) | (1ULL << 11) | (1ULL << 12))

/* EFER rules: only the bits CPUID shows; LME cannot change while paging
 * is on; LMA is the CPU's to set. */
static bool set_efer(struct vcpu *v, uint64_t val)
{
    uint64_t old = vcpu_backend->get_reg(v, HVM_REG_EFER);
    uint64_t allowed = EFER_SCE | EFER_LME | EFER_LMA;
    if (cpuid(0x80000001).edx & (1U << 20))
        allowed |= EFER_NXE;
    if (val & ~allowed)
        return false;
    if ((vcpu_backend->get_reg(v, HVM_REG_CR0) & CR0_PG) && ((val ^ old) & EFER_LME))
        return false;
    return vcpu_backend->set_reg(v, HVM_REG_EFER, (val & ~EFER_LMA) | (old & EFER_LMA));
}

static bool valid_mem_type(uint64_t t)
{
    return t == 0 || t == 1 || t == 4 || t == 5 || t == 6;
}

static bool valid_pat(uint64_t pat)
{
    for (int i = 0; i < 8; i++) {
        uint64_t t = (pat >> (i * 8)) & 0xff;
        if (!(valid_mem_type(t) || t == 7))
            return false;
    }
    return true;
}

static int fixed_mtrr_index(uint32_t msr)
{
    if (msr == MSR_MTRR_FIX64K)
        return 0;
    if (msr == MSR_MTRR_FIX16K_80000 || msr == MSR_MTRR_FIX16K_A0000)
        return 1 + (int)(msr - MSR_MTRR_FIX16K_80000);
    if (msr >= MSR_MTRR_FIX4K_C0000 && msr <= MSR_MTRR_FIX4K_F8000)
        return 3 + (int)(msr - MSR_MTRR_FIX4K_C0000);
    return -1;
}

static bool fixed_mtrr_valid(uint64_t v)
{
    for (int i = 0; i < 8; i++)
        if (!valid_mem_type((v >> (i * 8)) & 0xff))
            return false;
    return true;
}

bool guest_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *val)
{
    int fi;
    bool gp;
    if (v->vm->platform && v->vm->platform_ops->rdmsr(v, msr, val, &gp))
        return !gp;
    switch (msr) {
    case MSR_IA32_PLATFORM_ID:
    case MSR_IA32_BIOS_SIGN_ID:
    case MSR_IA32_MCG_CAP: /* no machine-check banks */
    case MSR_IA32_MCG_STATUS:
    case MSR_IA32_DEBUGCTL:
    case MSR_AMD64_SYSCFG:
    case MSR_AMD64_NB_CFG:
        *val = 0;
        return true;
    case MSR_IA32_FEATURE_CONTROL:
        *val = 1; /* locked, VMX off: VMX is hidden from guests */
        return true;
    case MSR_IA32_APIC_BASE:
        *val = v->msr_apic_base;
        return true;
    case MSR_IA32_MISC_ENABLE:
        *val = v->msr_misc_enable;
        return true;
    case MSR_IA32_PAT:
        *val = vcpu_backend->get_reg(v, HVM_REG_PAT);
        return true;
    case MSR_IA32_EFER:
        *val = vcpu_backend->get_reg(v, HVM_REG_EFER);
        return true;
    case MSR_IA32_MTRRCAP:
        /* Variable ranges, fixed ranges, write-combining. */
        *val = MTRR_VARIABLE_COUNT | (1ULL << 8) | (1ULL << 10);
        return true;
    case MSR_MTRR_DEF_TYPE:
        *val = v->msr_mtrr_def_type;
        return true;
    default:
        break;
    }
    if (msr >= MSR_MTRR_PHYS_BASE0 && msr < MSR_MTRR_PHYS_BASE0 + 2 * MTRR_VARIABLE_COUNT) {
        *val = v->msr_mtrr_var[msr - MSR_MTRR_PHYS_BASE0];
        return true;
    }
    if ((fi = fixed_mtrr_index(msr)) >= 0) {
        *val = v->msr_mtrr_fixed[fi];
        return true;
    }
    vm_log_violation(v->vm, "rdmsr 0x%x: not present, #GP injected", msr);
    return false;
}

bool guest_wrmsr(struct vcpu *v, uint32_t msr, uint64_t val)
{
    int fi;
    bool gp;
    if (v->vm->platform && v->vm->platform_ops->wrmsr(v, msr, val, &gp)) {
        if (gp)
            vm_log_violation(v->vm, "wrmsr 0x%x <- 0x%llx refused by the vLAPIC (#GP)", msr,
                             (unsigned long long)val);
        return !gp;
    }
    switch (msr) {
    case MSR_IA32_TSC: {
        /* Moves this vCPU's TSC offset (the real TSC is never written), and
         * its vLAPIC's with it: the TSC-deadline timer counts guest TSC. */
        uint64_t offset = val - rdtsc();
        vcpu_backend->set_tsc_offset(v, offset);
        if (v->vm->platform)
            v->vm->platform_ops->set_tsc_offset(v, offset);
        return true;
    }
    case MSR_IA32_BIOS_UPDT_TRIG:
        vm_log_violation(v->vm, "wrmsr 0x79 (microcode update) dropped");
        return true;
    case MSR_IA32_BIOS_SIGN_ID:
        return true;
    case MSR_IA32_FEATURE_CONTROL:
        /* Locked, as firmware leaves it: a write faults on hardware too. */
        vm_log_violation(v->vm, "wrmsr 0x3a (IA32_FEATURE_CONTROL): locked, #GP injected");
        return false;
    case MSR_IA32_DEBUGCTL:
        return true; /* LBR/BTF are not offered; the write has no effect */
    case MSR_AMD64_SYSCFG:
    case MSR_AMD64_NB_CFG:
        return true;
    case MSR_IA32_MCG_STATUS:
        return val == 0;
    case MSR_IA32_APIC_BASE:
        /* Only the enable and BSP bits are meaningful without a vLAPIC. */
        if ((val & ~0xfffffffffULL) || (val & 0x6ffULL))
            return false;
        v->msr_apic_base = (v->msr_apic_base & ~(1ULL << 11)) | (val & (1ULL << 11));
        return true;
    case MSR_IA32_MISC_ENABLE:
        v->msr_misc_enable = (v->msr_misc_enable & ~(1ULL << 0)) | (val & (1ULL << 0));
        return true;
    case MSR_IA32_PAT:
        if (!valid_pat(val))
            return false;
        vcpu_backend->set_reg(v, HVM_REG_PAT, val);
        v->msr_pat = val;
        return true;
    case MSR_IA32_EFER:
        return set_efer(v, val);
    case MSR_MTRR_DEF_TYPE:
        if ((val & ~0xcffULL) || !valid_mem_type(val & 0xff))
            return false;
        v->msr_mtrr_def_type = val;
        return true;
    default:
        break;
    }
    if (msr >= MSR_MTRR_PHYS_BASE0 && msr < MSR_MTRR_PHYS_BASE0 + 2 * MTRR_VARIABLE_COUNT) {
        bool is_base = !((msr - MSR_MTRR_PHYS_BASE0) & 1);
        if (is_base ? ((val & 0xf00ULL) || !valid_mem_type(val & 0xff)) : (val & 0x7ffULL))
            return false;
        v->msr_mtrr_var[msr - MSR_MTRR_PHYS_BASE0] = val;
        return true;
    }
    if ((fi = fixed_mtrr_index(msr)) >= 0) {
        if (!fixed_mtrr_valid(val))
            return false;
        v->msr_mtrr_fixed[fi] = val;
        return true;
    }
    vm_log_violation(v->vm, "wrmsr 0x%x <- 0x%llx: not present, #GP injected", msr,
                     (unsigned long long)val);
    return false;
}
