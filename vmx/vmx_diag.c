/* Diagnostics: VM-instruction errors by name, a software check of a
 * documented subset of the SDM's guest-state rules (26.3.1), a dump. */
#include "arch/x86_64/cpu.h"
#include "lib/format.h"
#include "lib/log.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_caps.h"

/* SDM Vol. 3C 31.4, "VM Instruction Error Numbers". */
static const char *const instruction_errors[] = {
    [1] = "VMCALL executed in VMX root operation",
    [2] = "VMCLEAR with invalid physical address",
    [3] = "VMCLEAR with VMXON pointer",
    [4] = "VMLAUNCH with non-clear VMCS",
    [5] = "VMRESUME with non-launched VMCS",
    [6] = "VMRESUME after VMXOFF",
    [7] = "VM entry with invalid control field(s)",
    [8] = "VM entry with invalid host-state field(s)",
    [9] = "VMPTRLD with invalid physical address",
    [10] = "VMPTRLD with VMXON pointer",
    [11] = "VMPTRLD with incorrect VMCS revision identifier",
    [12] = "VMREAD/VMWRITE from/to unsupported VMCS component",
    [13] = "VMWRITE to read-only VMCS component",
    [15] = "VMXON executed in VMX root operation",
    [16] = "VM entry with invalid executive-VMCS pointer",
    [17] = "VM entry with non-launched executive VMCS",
    [18] = "VM entry with executive-VMCS pointer not VMXON pointer",
    [19] = "VMCALL with non-clear VMCS",
    [20] = "VMCALL with invalid VM-exit control fields",
    [22] = "VMCALL with incorrect MSEG revision identifier",
    [23] = "VMXOFF under dual-monitor treatment of SMIs and SMM",
    [24] = "VMCALL with invalid SMM-monitor features",
    [25] = "VM entry with invalid VM-execution control fields in executive VMCS",
    [26] = "VM entry with events blocked by MOV SS",
    [28] = "Invalid operand to INVEPT/INVVPID",
};

const char *vmx_instruction_error_name(unsigned err)
{
    if (err < sizeof(instruction_errors) / sizeof(instruction_errors[0]) && instruction_errors[err])
        return instruction_errors[err];
    return "unknown error";
}

static bool fixed_ok(uint64_t v, uint64_t f0, uint64_t f1)
{
    return (v & f0) == f0 && (v & ~f1) == 0;
}

#define RULE(cond, text)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fmt_snprintf(buf, len, "%s", text);                                                    \
            return buf;                                                                            \
        }                                                                                          \
    } while (0)

const char *vmx_check_guest_state(char *buf, unsigned len)
{
    uint64_t cr0 = vmcs_read(GUEST_CR0), cr4 = vmcs_read(GUEST_CR4);
    uint32_t proc2 = (uint32_t)vmcs_read(SECONDARY_VM_EXEC_CONTROL);
    uint32_t entry = (uint32_t)vmcs_read(VM_ENTRY_CONTROLS);
    uint64_t f0 = vmx_caps.cr0_fixed0;
    bool ug = proc2 & SECONDARY_EXEC_UNRESTRICTED_GUEST;
    bool ia32e = entry & VM_ENTRY_IA32E_MODE;
    uint64_t efer = vmcs_read(GUEST_IA32_EFER);
    uint64_t rflags = vmcs_read(GUEST_RFLAGS);
    uint32_t cs_ar = (uint32_t)vmcs_read(GUEST_CS_AR_BYTES);
    uint32_t ss_ar = (uint32_t)vmcs_read(GUEST_SS_AR_BYTES);
    uint32_t tr_ar = (uint32_t)vmcs_read(GUEST_TR_AR_BYTES);
    uint32_t act = (uint32_t)vmcs_read(GUEST_ACTIVITY_STATE);
    uint32_t intr = (uint32_t)vmcs_read(GUEST_INTERRUPTIBILITY_INFO);

    if (ug)
        f0 &= ~(CR0_PE | CR0_PG);
    RULE(fixed_ok(cr0, f0, vmx_caps.cr0_fixed1), "26.3.1.1: CR0 violates IA32_VMX_CR0_FIXED0/1");
    RULE(!(cr0 & CR0_PG) || (cr0 & CR0_PE), "26.3.1.1: CR0.PG set without CR0.PE");
    RULE(fixed_ok(cr4, vmx_caps.cr4_fixed0, vmx_caps.cr4_fixed1),
         "26.3.1.1: CR4 violates IA32_VMX_CR4_FIXED0/1");
    RULE(!ia32e || ((cr0 & CR0_PG) && (cr4 & CR4_PAE)),
         "26.3.1.1: IA-32e mode guest requires CR0.PG and CR4.PAE");
    RULE(ia32e || !(cr4 & CR4_PCIDE), "26.3.1.1: CR4.PCIDE outside IA-32e mode");
    RULE(!(vmcs_read(GUEST_DR7) >> 32), "26.3.1.1: DR7 bits 63:32 must be 0");
    RULE(!!(efer & EFER_LMA) == ia32e,
         "26.3.1.1: EFER.LMA differs from the IA-32e mode guest control");
    RULE(!(cr0 & CR0_PG) || !!(efer & EFER_LME) == !!(efer & EFER_LMA),
         "26.3.1.1: with CR0.PG, EFER.LME must equal EFER.LMA");
    RULE(vmcs_read(VMCS_LINK_POINTER) == ~0ULL, "26.3.1.5: VMCS link pointer must be all ones");
    RULE(!(tr_ar & (1U << 16)), "26.3.1.2: TR must be usable");
    RULE(((tr_ar & 0xf) == 11) || (!ia32e && (tr_ar & 0xf) == 3),
         "26.3.1.2: TR type must be a busy TSS");
    RULE(tr_ar & (1U << 7), "26.3.1.2: TR must be present");
    RULE(!(cs_ar & (1U << 16)) && (cs_ar & (1U << 7)), "26.3.1.2: CS must be usable and present");
    RULE(!ia32e || !((cs_ar & (1U << 13)) && (cs_ar & (1U << 14))),
         "26.3.1.2: CS.L and CS.D both set in IA-32e mode");
    RULE(ug || (cr0 & CR0_PE) || (rflags & (1ULL << 17)) || (cs_ar & 0xf) != 0,
         "26.3.1.2: real-mode guest needs unrestricted guest");
    RULE((ss_ar & (1U << 16)) || ((ss_ar >> 5) & 3) == ((cs_ar >> 5) & 3) || !(cr0 & CR0_PE) ||
             (cs_ar & 0xf) == 3,
         "26.3.1.2: SS.DPL must equal CS.DPL");
    RULE(rflags & 2, "26.3.1.4: RFLAGS bit 1 must be set");
    RULE(!(rflags & 0xffffffffffc08028ULL), "26.3.1.4: RFLAGS reserved bits set");
    RULE(!ia32e || !(rflags & (1ULL << 17)), "26.3.1.4: RFLAGS.VM set in IA-32e mode");
    RULE(act <= 3, "26.3.1.5: invalid activity state");
    RULE(!((intr & GUEST_INTR_STATE_STI) && (intr & GUEST_INTR_STATE_MOV_SS)),
         "26.3.1.5: STI and MOV-SS blocking both set");
    RULE(!(intr & GUEST_INTR_STATE_STI) || (rflags & RFLAGS_IF),
         "26.3.1.5: STI blocking with RFLAGS.IF clear");
    uint64_t rip = vmcs_read(GUEST_RIP);
    RULE(ia32e && (cs_ar & (1U << 13)) ? true : !(rip >> 32),
         "26.3.1.4: RIP bits 63:32 must be 0 outside 64-bit mode");
    return NULL;
}

void vmx_dump_guest(struct vcpu *v)
{
    pr_err("  rip 0x%llx rsp 0x%llx rflags 0x%llx cr0 0x%llx cr3 0x%llx cr4 0x%llx",
           (unsigned long long)vmcs_read(GUEST_RIP), (unsigned long long)vmcs_read(GUEST_RSP),
           (unsigned long long)vmcs_read(GUEST_RFLAGS), (unsigned long long)vmcs_read(GUEST_CR0),
           (unsigned long long)vmcs_read(GUEST_CR3), (unsigned long long)vmcs_read(GUEST_CR4));
    pr_err("  rax 0x%llx rbx 0x%llx rcx 0x%llx rdx 0x%llx rsi 0x%llx rdi 0x%llx",
           (unsigned long long)v->gprs[GPR_RAX], (unsigned long long)v->gprs[GPR_RBX],
           (unsigned long long)v->gprs[GPR_RCX], (unsigned long long)v->gprs[GPR_RDX],
           (unsigned long long)v->gprs[GPR_RSI], (unsigned long long)v->gprs[GPR_RDI]);
    pr_err("  cs 0x%llx ar 0x%llx efer 0x%llx entry-ctls 0x%llx",
           (unsigned long long)vmcs_read(GUEST_CS_SELECTOR),
           (unsigned long long)vmcs_read(GUEST_CS_AR_BYTES),
           (unsigned long long)vmcs_read(GUEST_IA32_EFER),
           (unsigned long long)vmcs_read(VM_ENTRY_CONTROLS));
}

void vmx_report_entry_failure(struct vcpu *v, int fail_kind)
{
    char rule[128];
    if (fail_kind == 1) {
        vcpu_crash(v, "VM entry failed: VMfailInvalid (no current VMCS)");
        return;
    }
    if (fail_kind == 2) {
        unsigned err = (unsigned)vmcs_read(VM_INSTRUCTION_ERROR);
        vcpu_crash(v, "VM entry failed: VM-instruction error %u (%s)", err,
                   vmx_instruction_error_name(err));
        vmx_dump_guest(v);
        return;
    }
    unsigned reason = (unsigned)vmcs_read(VM_EXIT_REASON) & 0xffff;
    const char *broken = vmx_check_guest_state(rule, sizeof(rule));
    vcpu_crash(v, "VM entry failed: exit reason %u (%s), qualification %llu; %s", reason,
               reason == 33   ? "invalid guest state"
               : reason == 34 ? "MSR loading"
                              : "machine check",
               (unsigned long long)vmcs_read(EXIT_QUALIFICATION),
               broken ? broken : "no rule of the checked subset is broken");
    vmx_dump_guest(v);
}
