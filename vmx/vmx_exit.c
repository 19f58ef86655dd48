/* VM exits translated into exit records (hvm/exit.h): the basic reason
 * picks the record's kind from a table, the exit qualification and the
 * other exit fields fill its details. The handling is the vendor-neutral
 * layer's (vcpu_handle_exit). */
#include "vmx/vmx_exit.h"

#include "arch/x86_64/cpu.h"
#include "lib/log.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"

struct vmx_exit_entry {
    uint8_t kind;     /* enum exit_kind */
    bool instruction; /* caused by executing an instruction: it completes */
    const char *name;
};

#define K(r, k, insn) [EXIT_REASON_##r] = {k, insn, #r}

static const struct vmx_exit_entry exit_table[VMX_NR_EXIT_REASONS] = {
    K(EXCEPTION_NMI, EXIT_EXCEPTION, false),
    K(EXTERNAL_INTERRUPT, EXIT_EXT_INTR, false),
    K(TRIPLE_FAULT, EXIT_TRIPLE_FAULT, false),
    K(INIT_SIGNAL, EXIT_INIT, false),
    K(SIPI_SIGNAL, EXIT_SIPI, false),
    K(INTERRUPT_WINDOW, EXIT_INTR_WINDOW, false),
    K(NMI_WINDOW, EXIT_NMI_WINDOW, false),
    K(TASK_SWITCH, EXIT_TASK_SWITCH, false),
    K(CPUID, EXIT_CPUID, true),
    K(GETSEC, EXIT_UD_INSN, false),
    K(HLT, EXIT_HLT, true),
    K(INVD, EXIT_CACHE_FLUSH, true),
    K(RDPMC, EXIT_RDPMC, false),
    K(VMCALL, EXIT_HYPERCALL, true),
    K(VMCLEAR, EXIT_VIRT_INSN, false),
    K(VMLAUNCH, EXIT_VIRT_INSN, false),
    K(VMPTRLD, EXIT_VIRT_INSN, false),
    K(VMPTRST, EXIT_VIRT_INSN, false),
    K(VMREAD, EXIT_VIRT_INSN, false),
    K(VMRESUME, EXIT_VIRT_INSN, false),
    K(VMWRITE, EXIT_VIRT_INSN, false),
    K(VMOFF, EXIT_VIRT_INSN, false),
    K(VMON, EXIT_VIRT_INSN, false),
    K(CR_ACCESS, EXIT_CR_ACCESS, true),
    K(IO_INSTRUCTION, EXIT_IO, true),
    K(MSR_READ, EXIT_MSR_READ, true),
    K(MSR_WRITE, EXIT_MSR_WRITE, true),
    K(MWAIT_INSTRUCTION, EXIT_UD_INSN, false),
    K(MONITOR_INSTRUCTION, EXIT_UD_INSN, false),
    K(PAUSE_INSTRUCTION, EXIT_PAUSE, true),
    K(MCE_DURING_VMENTRY, EXIT_MCE, false),
    K(EPT_VIOLATION, EXIT_NPF, false),
    K(EPT_MISCONFIG, EXIT_NPF, false),
    K(INVEPT, EXIT_VIRT_INSN, false),
    K(PREEMPTION_TIMER, EXIT_PREEMPT, false),
    K(INVVPID, EXIT_VIRT_INSN, false),
    K(WBINVD, EXIT_CACHE_FLUSH, true),
    K(XSETBV, EXIT_XSETBV, true),
    K(VMFUNC, EXIT_UD_INSN, false),
    K(ENCLS, EXIT_UD_INSN, false),
    K(EOI_INDUCED, EXIT_APIC_EOI, false),
    K(APIC_ACCESS, EXIT_NPF, false),       /* xAPIC mode: vmx_apicv_translate_access */
    K(APIC_WRITE, EXIT_APIC_WRITE, false), /* trap-like: nothing in flight */
};

static const char *const reason_names[VMX_NR_EXIT_REASONS] = {
    [EXIT_REASON_INVALID_STATE] = "INVALID_STATE",
    [EXIT_REASON_MSR_LOAD_FAIL] = "MSR_LOAD_FAIL",
    [EXIT_REASON_IO_SMI] = "IO_SMI",
    [EXIT_REASON_OTHER_SMI] = "OTHER_SMI",
    [EXIT_REASON_INVLPG] = "INVLPG",
    [EXIT_REASON_RDTSC] = "RDTSC",
    [EXIT_REASON_RSM] = "RSM",
    [EXIT_REASON_DR_ACCESS] = "DR_ACCESS",
    [EXIT_REASON_MONITOR_TRAP_FLAG] = "MONITOR_TRAP_FLAG",
    [EXIT_REASON_TPR_BELOW_THRESHOLD] = "TPR_BELOW_THRESHOLD",
    [EXIT_REASON_GDTR_IDTR] = "GDTR_IDTR",
    [EXIT_REASON_LDTR_TR] = "LDTR_TR",
    [EXIT_REASON_RDTSCP] = "RDTSCP",
    [EXIT_REASON_RDRAND] = "RDRAND",
    [EXIT_REASON_INVPCID] = "INVPCID",
    [EXIT_REASON_RDSEED] = "RDSEED",
    [EXIT_REASON_PML_FULL] = "PML_FULL",
    [EXIT_REASON_XSAVES] = "XSAVES",
    [EXIT_REASON_XRSTORS] = "XRSTORS",
    [EXIT_REASON_UMWAIT] = "UMWAIT",
    [EXIT_REASON_TPAUSE] = "TPAUSE",
};

const char *vmx_exit_reason_name(unsigned reason)
{
    if (reason >= VMX_NR_EXIT_REASONS)
        return "UNKNOWN";
    if (exit_table[reason].name)
        return exit_table[reason].name;
    return reason_names[reason] ? reason_names[reason] : "UNKNOWN";
}

/* An event being delivered when the exit hit (IDT-vectoring information)
 * must not be lost: the neutral layer delivers it again first. */
static void save_vectoring(struct vcpu *v)
{
    uint32_t idt = (uint32_t)vmcs_read(IDT_VECTORING_INFO_FIELD);
    if (!(idt & INTR_INFO_VALID))
        return;
    v->reinject = (struct vcpu_event){
        .valid = true,
        .type = (uint8_t)((idt & INTR_TYPE_MASK) >> 8),
        .vector = (uint8_t)(idt & INTR_INFO_VECTOR_MASK),
        .has_error = idt & INTR_INFO_DELIVER_CODE,
        .error = (uint32_t)vmcs_read(IDT_VECTORING_ERROR_CODE),
        .insn_len = (uint8_t)vmcs_read(VM_EXIT_INSTRUCTION_LEN),
    };
}

static void translate_exception(struct exit_record *e)
{
    uint32_t info = (uint32_t)vmcs_read(VM_EXIT_INTR_INFO);
    uint8_t vector = info & INTR_INFO_VECTOR_MASK;

    if ((info & INTR_TYPE_MASK) == INTR_TYPE_NMI) {
        /* A host NMI arrived while the guest ran: hand it to our handler. */
        __asm__ volatile("int $2");
        e->kind = EXIT_NMI;
        return;
    }
    /* #DB: the CPU left DR6 as it was and put the new conditions in the
     * qualification (none for ICEBP); vcpu/debug_rules.c merges them. */
    if (vector == 1 && (info & INTR_TYPE_MASK) == INTR_TYPE_HARD_EXCEPTION)
        e->exception.db_hits = vmcs_read(EXIT_QUALIFICATION);
    e->exception.vector = vector;
    e->exception.type = (info & INTR_TYPE_MASK) == INTR_TYPE_PRIV_SW_EXCEPTION
                            ? EVENT_PRIV_SW_EXCEPTION
                            : EVENT_HW_EXCEPTION;
    e->exception.has_error = info & INTR_INFO_DELIVER_CODE;
    e->exception.error = (uint32_t)vmcs_read(VM_EXIT_INTR_ERROR_CODE);
    if (e->exception.type == EVENT_PRIV_SW_EXCEPTION)
        e->insn_len = (uint8_t)vmcs_read(VM_EXIT_INSTRUCTION_LEN);
}

static void translate_io(struct exit_record *e, uint64_t q)
{
    e->io.size = (uint8_t)((q & 7) + 1);
    e->io.in = q & 8;
    e->io.string = q & 16;
    e->io.rep = q & 32;
    e->io.port = (uint16_t)(q >> 16);
    if (e->io.string) {
        uint32_t info = (uint32_t)vmcs_read(VMX_INSTRUCTION_INFO);
        unsigned as = 2U << ((info >> 7) & 7); /* 0: 16-bit, 1: 32, 2: 64 */
        e->io.addr_size = (uint8_t)(as > 8 ? 8 : as);
        e->io.linear_valid = true;
        e->io.linear = vmcs_read(GUEST_LINEAR_ADDRESS);
    }
}

static void translate_cr(struct exit_record *e, uint64_t q)
{
    static const uint8_t types[4] = {CR_MOV_TO, CR_MOV_FROM, CR_CLTS, CR_LMSW};
    e->cr.cr = q & 0xf;
    e->cr.type = types[(q >> 4) & 3];
    e->cr.gpr = (q >> 8) & 0xf;
    e->cr.decoded = true;
    e->cr.lmsw_src = (uint16_t)((q >> 16) & 0xffff);
}

static void translate_ept_violation(struct exit_record *e, uint64_t q)
{
    e->npf.gpa = vmcs_read(GUEST_PHYSICAL_ADDRESS);
    e->npf.read = q & 1;
    e->npf.write = q & 2;
    e->npf.fetch = q & 4;
    e->npf.not_permitted = q & 0x38;
    e->npf.gla_valid = q & (1U << 7);
    e->npf.gla = e->npf.gla_valid ? vmcs_read(GUEST_LINEAR_ADDRESS) : 0;
    /* NMI blocking was lifted by an IRET that faulted: put it back. */
    if ((q & (1ULL << 12)) && !(vmcs_read(IDT_VECTORING_INFO_FIELD) & INTR_INFO_VALID))
        vmcs_write(GUEST_INTERRUPTIBILITY_INFO,
                   vmcs_read(GUEST_INTERRUPTIBILITY_INFO) | GUEST_INTR_STATE_NMI);
}

/* Fills the record of every exit but the CPUID fast path. */
static __attribute__((noinline)) void translate(struct vcpu *v, uint32_t raw, struct exit_record *e)
{
    unsigned reason = raw & 0xffff;
    const struct vmx_exit_entry *ent = reason < VMX_NR_EXIT_REASONS ? &exit_table[reason] : NULL;

    e->raw_reason = reason;
    e->stat_slot = (uint16_t)reason;
    if (raw & VMX_EXIT_REASON_FAILED_ENTRY) {
        vmx_report_entry_failure(v, 3);
        e->kind = EXIT_ENTRY_FAILED;
        return;
    }
    e->kind = ent ? ent->kind : EXIT_UNKNOWN;
    /* Exits caused by executing an instruction cannot happen during event
     * delivery: they skip the IDT-vectoring read. */
    if (!ent || !ent->instruction)
        save_vectoring(v);
    else
        e->insn_len = (uint8_t)vmcs_read(VM_EXIT_INSTRUCTION_LEN);

    switch (e->kind) {
    case EXIT_IO:
        translate_io(e, vmcs_read(EXIT_QUALIFICATION));
        break;
    case EXIT_MSR_READ:
    case EXIT_MSR_WRITE:
        e->msr.index = (uint32_t)v->gprs[GPR_RCX];
        break;
    case EXIT_HYPERCALL:
        e->hypercall.cpl = (uint8_t)vmx_guest_cpl(v);
        break;
    case EXIT_CR_ACCESS:
        translate_cr(e, vmcs_read(EXIT_QUALIFICATION));
        break;
    case EXIT_EXCEPTION:
        translate_exception(e);
        break;
    case EXIT_SIPI:
        e->sipi.vector = (uint8_t)(vmcs_read(EXIT_QUALIFICATION) & 0xff);
        break;
    case EXIT_APIC_WRITE:
        vmx_apicv_translate_write(v, vmcs_read(EXIT_QUALIFICATION), e);
        break;
    case EXIT_NPF:
        if (reason == EXIT_REASON_APIC_ACCESS) {
            uint64_t q = vmcs_read(EXIT_QUALIFICATION);
            /* NMI blocking lifted by an IRET that faulted: put it back. */
            if ((q & (1ULL << 16)) && !(vmcs_read(IDT_VECTORING_INFO_FIELD) & INTR_INFO_VALID))
                vmcs_write(GUEST_INTERRUPTIBILITY_INFO,
                           vmcs_read(GUEST_INTERRUPTIBILITY_INFO) | GUEST_INTR_STATE_NMI);
            vmx_apicv_translate_access(v, q, e);
        } else if (reason == EXIT_REASON_EPT_MISCONFIG) {
            e->npf.misconfig = true;
            e->npf.gpa = vmcs_read(GUEST_PHYSICAL_ADDRESS);
        } else {
            translate_ept_violation(e, vmcs_read(EXIT_QUALIFICATION));
        }
        break;
    default:
        break;
    }
}

enum exit_action vmx_handle_exit(struct vcpu *v, uint32_t raw, uint64_t exit_tsc, uint64_t *end_tsc)
{
    struct exit_record e;

    /* What the CPU did with the vLAPIC's vectors, before anything looks
     * at the vLAPIC (an EOI-induced exit needs nothing else). */
    vmx_apicv_seen(v);

    /* CPUID and VMCALL, the exits guests take in tight loops: no table and
     * no IDT-vectoring read (an instruction exit cannot interrupt event
     * delivery), only the fields their handlers read. */
    if (raw == EXIT_REASON_CPUID || raw == EXIT_REASON_VMCALL) {
        e.kind = raw == EXIT_REASON_CPUID ? EXIT_CPUID : EXIT_HYPERCALL;
        e.raw_reason = raw;
        e.stat_slot = (uint16_t)raw;
        e.insn_len = (uint8_t)vmcs_read(VM_EXIT_INSTRUCTION_LEN);
        if (raw == EXIT_REASON_VMCALL)
            e.hypercall.cpl = (uint8_t)vmx_guest_cpl(v);
    } else {
        e = (struct exit_record){0};
        translate(v, raw, &e);
    }
    e.advance_rip = false;
    enum exit_action a = vcpu_handle_exit(v, &e, exit_tsc, end_tsc);
    if (e.advance_rip)
        vmx_advance_rip(e.insn_len);
    return a;
}
