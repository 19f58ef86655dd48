/* Guest MSR policy. Writes that could harm the machine (FEATURE_CONTROL,
 * microcode, MTRRs, TSC) never reach hardware: they are emulated per vCPU
 * or refused with #GP exactly as a CPU without that MSR would. */
#include "vcpu/msr.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/spec_guest.h"
#include "hvm/backend.h"
#include "lib/log.h"
#include "vcpu/cr_rules.h"
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
/* IA32_MISC_ENABLE of the virtual CPU: a guest may write fast strings (0),
 * automatic thermal control (3) and xTPR message disable (23), which have
 * no effect on it and read back as written. The rest is fixed: BTS and
 * PEBS unavailable (11, 12) read 1, everything else 0 (no PMU, SpeedStep,
 * MONITOR, CPUID limit or XD disable); a write that changes a fixed bit is
 * refused with #GP. vm/vm.c sets the reset value (0x1801). */
#define MISC_ENABLE_WRITABLE ((1ULL << 0) | (1ULL << 3) | (1ULL << 23))

/* EFER rules (vcpu/cr_rules.c): only the bits the guest's CPUID shows; LME
 * cannot change while paging is on; LMA is the CPU's to set. */
static bool set_efer(struct vcpu *v, uint64_t val)
{
    struct cr_state s;
    struct cr_features f;
    vcpu_cr_state(v, &s);
    vcpu_cr_features(v, &f);
    if (!efer_write_ok(&s, val, efer_allowed_bits(&f)))
        return false;
    return vcpu_backend->set_reg(v, HVM_REG_EFER, efer_after_write(&s, val));
}

/* The guest's TSC becomes host TSC + offset, for the vLAPIC's TSC-deadline
 * timer too; IA32_TSC_ADJUST moves by the same amount as the TSC (SDM vol.
 * 3 17.17.3), whichever of the two MSRs the guest wrote. */
static void set_tsc_offset(struct vcpu *v, uint64_t offset)
{
    v->msr_tsc_adjust += offset - v->vm_info.tsc_offset;
    v->vm_info.tsc_offset = offset;
    vcpu_backend->set_tsc_offset(v, offset);
    if (v->vm->platform)
        v->vm->platform_ops->set_tsc_offset(v, offset);
}

/* CPUID.1:EDX.APIC shows IA32_APIC_BASE.EN (SDM vol. 3 10.4.3): the cached
 * leaf follows every write, so no CPUID path can answer a stale bit. */
static void apic_base_written(struct vcpu *v)
{
    uint64_t base;
    bool gp;
    if (!v->cpuid_cache_ready || !v->vm->platform_ops->rdmsr(v, MSR_IA32_APIC_BASE, &base, &gp))
        return;
    if (base & (1ULL << 11))
        v->cpuid_cache[1][3] |= 1U << 9;
    else
        v->cpuid_cache[1][3] &= ~(1U << 9);
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

/* The speculation controls the guest sees (arch/x86_64/spec_guest.c): 1 done,
 * 0 #GP (a bit it may not set), -1 the MSR is not shown to it. IBPB and
 * the L1D flush act at once, on this CPU, as the guest asked. */
static int spec_msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
    const struct spec_guest *g = &spec_guest_view;
    switch (msr) {
    case MSR_IA32_SPEC_CTRL:
        if (!g->spec_ctrl_bits)
            return -1;
        if (val & ~g->spec_ctrl_bits) {
            vm_log_violation(v->vm, "wrmsr IA32_SPEC_CTRL <- 0x%llx: bits not offered, #GP",
                             (unsigned long long)val);
            return 0;
        }
        if (val != v->spec_ctrl) {
            v->spec_ctrl = val;
            vcpu_backend->spec_ctrl_load(v);
        }
        return 1;
    case MSR_IA32_PRED_CMD:  /* bit 0: IBPB */
    case MSR_IA32_FLUSH_CMD: /* bit 0: L1D_FLUSH */
        if (!(msr == MSR_IA32_PRED_CMD ? g->pred_cmd : g->flush_cmd))
            return -1;
        if (val & ~1ULL)
            return 0;
        if (val)
            wrmsr(msr, 1);
        return 1;
    }
    return -1;
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
    case MSR_IA32_TSC_ADJUST:
        *val = v->msr_tsc_adjust;
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
    case MSR_IA32_SPEC_CTRL:
        if (!spec_guest_view.spec_ctrl_bits)
            break;
        *val = v->spec_ctrl;
        return true;
    case MSR_IA32_ARCH_CAPS:
        if (!spec_guest_view.arch_caps_msr)
            break;
        *val = spec_guest_view.arch_caps;
        return true;
    default:
        break; /* IA32_PRED_CMD and IA32_FLUSH_CMD are write-only: #GP */
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
        else if (msr == MSR_IA32_APIC_BASE)
            apic_base_written(v);
        return !gp;
    }
    switch (msr) {
    case MSR_IA32_TSC:
        /* Moves this vCPU's TSC offset (the real TSC is never written). */
        set_tsc_offset(v, val - rdtsc());
        return true;
    case MSR_IA32_TSC_ADJUST:
        set_tsc_offset(v, v->vm_info.tsc_offset + (val - v->msr_tsc_adjust));
        return true;
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
        if ((val ^ v->msr_misc_enable) & ~MISC_ENABLE_WRITABLE)
            return false;
        v->msr_misc_enable = val;
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
    case MSR_IA32_SPEC_CTRL:
    case MSR_IA32_PRED_CMD:
    case MSR_IA32_FLUSH_CMD: {
        int r = spec_msr_write(v, msr, val);
        if (r >= 0)
            return r;
        break; /* not shown to this guest */
    }
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
