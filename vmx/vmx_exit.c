/* The exit dispatch table and the handlers that need no decoding. */
#include "vmx/vmx_exit.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/exc_merge.h"
#include "vcpu/cpuid.h"
#include "vcpu/hypercall.h"
#include "vdev/virq.h"
#include "vcpu/vm.h"
#include "lib/log.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"

struct vmx_exit_state *vmx_exit_state(struct vcpu *v)
{
    return &((struct vmx_vcpu *)v->arch)->es;
}

enum vmx_exit_action vmx_stop_action(struct vcpu *v)
{
    return VMX_EXIT_STOP;
}

static enum vmx_exit_action inject_ud(struct vcpu *v)
{
    vmx_queue_exception(v, 6, false, 0);
    return VMX_EXIT_CONTINUE;
}

static enum vmx_exit_action inject_gp(struct vcpu *v)
{
    vmx_queue_exception(v, 13, true, 0);
    return VMX_EXIT_CONTINUE;
}

static enum vmx_exit_action handle_exception_nmi(struct vcpu *v, struct vmx_exit *e)
{
    uint32_t info = (uint32_t)vmcs_read(VM_EXIT_INTR_INFO);
    uint8_t vector = info & INTR_INFO_VECTOR_MASK;

    if ((info & INTR_TYPE_MASK) == INTR_TYPE_NMI) {
        /* A host NMI arrived while the guest ran: hand it to our handler. */
        __asm__ volatile("int $2");
        return VMX_EXIT_CONTINUE;
    }
    if (vector == 1) {
        /* #DB: DR6 is not in the VMCS; the qualification holds its bits. */
        uint64_t dr6 = (e->qualification & 0x600f) | 0xffff0ff0ULL;
        __asm__ volatile("mov %0, %%db6" ::"r"(dr6));
    }
    struct vmx_exit_state *es = &((struct vmx_vcpu *)v->arch)->es;
    /* Raised while delivering another exception: the SDM's double-fault
     * rules decide, not "first one again, then this one". */
    if ((es->reinject_info & INTR_INFO_VALID) &&
        (es->reinject_info & INTR_TYPE_MASK) == INTR_TYPE_HARD_EXCEPTION) {
        uint8_t first = es->reinject_info & INTR_INFO_VECTOR_MASK;
        es->reinject_info = 0;
        if (x86_merge_exceptions(first, vector) == EXC_MERGE_TRIPLE_FAULT) {
            vm_crash(v, "triple fault (exception %u while delivering #DF)", vector);
            return VMX_EXIT_STOP;
        }
        if (x86_merge_exceptions(first, vector) == EXC_MERGE_DOUBLE_FAULT) {
            vmx_queue_exception(v, 8, true, 0);
            return VMX_EXIT_CONTINUE;
        }
    }
    if ((info & INTR_TYPE_MASK) == INTR_TYPE_PRIV_SW_EXCEPTION) {
        /* ICEBP (INT1): a trap past the instruction, with no gate DPL
         * check. Re-injected as the same type with its length, so the
         * guest's handler sees RIP after it (a hardware-exception type
         * would re-execute it forever). */
        es->reinject_info = INTR_INFO_VALID | INTR_TYPE_PRIV_SW_EXCEPTION | vector;
        es->reinject_error = 0;
        es->reinject_len = (uint32_t)vmcs_read(VM_EXIT_INSTRUCTION_LEN);
        return VMX_EXIT_CONTINUE;
    }
    /* #DB and #AC are intercepted only so a guest cannot wedge the CPU;
     * the guest gets them back. */
    uint32_t ec = (uint32_t)vmcs_read(VM_EXIT_INTR_ERROR_CODE);
    vmx_queue_exception(v, vector, info & INTR_INFO_DELIVER_CODE, ec);
    return VMX_EXIT_CONTINUE;
}

static enum vmx_exit_action handle_external_interrupt(struct vcpu *v, struct vmx_exit *e)
{
    /* Interrupts are left pending (no ack on exit): enabling interrupts in
     * the run loop delivers it to the host IDT. */
    return VMX_EXIT_CONTINUE;
}

static enum vmx_exit_action handle_triple_fault(struct vcpu *v, struct vmx_exit *e)
{
    vm_crash(v, "triple fault at rip 0x%llx", (unsigned long long)vmcs_read(GUEST_RIP));
    return VMX_EXIT_STOP;
}

static enum vmx_exit_action handle_init(struct vcpu *v, struct vmx_exit *e)
{
    /* INIT to a single-vCPU VM has nowhere to go: treat as a reset request
     * the lifecycle code handles (for now: stop). Multi-vCPU start comes
     * with the vLAPIC. */
    vmcs_write(GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_WAIT_SIPI);
    return VMX_EXIT_HALT;
}

static enum vmx_exit_action handle_sipi(struct vcpu *v, struct vmx_exit *e)
{
    uint64_t vector = e->qualification & 0xff;
    v->boot.mode = ENTRY_REAL_MODE;
    v->boot.rip = vector << 12;
    vmcs_write(GUEST_CS_SELECTOR, vector << 8);
    vmcs_write(GUEST_CS_BASE, vector << 12);
    vmcs_write(GUEST_RIP, 0);
    vmcs_write(GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
    return VMX_EXIT_CONTINUE;
}

static enum vmx_exit_action handle_window(struct vcpu *v, struct vmx_exit *e)
{
    struct vmx_vcpu *x = v->arch;
    /* The pending event is injected at entry; the window bit is re-armed
     * there if still needed. */
    x->proc &= ~(e->reason == EXIT_REASON_NMI_WINDOW ? CPU_BASED_NMI_WINDOW_EXITING
                                                     : CPU_BASED_INTR_WINDOW_EXITING);
    vmcs_write(CPU_BASED_VM_EXEC_CONTROL, x->proc);
    return VMX_EXIT_CONTINUE;
}

static inline enum vmx_exit_action handle_cpuid(struct vcpu *v, struct vmx_exit *e)
{
    struct cpuid_regs r;
    uint32_t leaf = (uint32_t)v->gprs[GPR_RAX];
    if (leaf == 1)
        v->cr4_osxsave = vmcs_read(GUEST_CR4) & CR4_OSXSAVE;
    guest_cpuid(v, leaf, (uint32_t)v->gprs[GPR_RCX], &r);
    v->gprs[GPR_RAX] = r.eax;
    v->gprs[GPR_RBX] = r.ebx;
    v->gprs[GPR_RCX] = r.ecx;
    v->gprs[GPR_RDX] = r.edx;
    vmx_skip_instruction_inline();
    return VMX_EXIT_CONTINUE;
}

static enum vmx_exit_action handle_hlt(struct vcpu *v, struct vmx_exit *e)
{
    vmx_skip_instruction(v);
    /* With an interrupt already deliverable the guest need not sleep. */
    if (v->nmi_pending)
        return VMX_EXIT_CONTINUE;
    if (v->vm->platform && (vmcs_read(GUEST_RFLAGS) & RFLAGS_IF) && vcpu_pending_interrupt(v) >= 0)
        return VMX_EXIT_CONTINUE;
    return VMX_EXIT_HALT;
}

static enum vmx_exit_action handle_vmcall(struct vcpu *v, struct vmx_exit *e)
{
    if (vmx_guest_cpl(v) != 0) {
        vm_log_violation(v->vm, "vmcall from CPL %u refused (#UD)", vmx_guest_cpl(v));
        return inject_ud(v);
    }
    vmx_skip_instruction_inline();
    switch (hypercall_dispatch(v)) {
    case HC_ACT_YIELD:
        return VMX_EXIT_YIELD;
    case HC_ACT_STOP:
        return VMX_EXIT_STOP;
    default:
        return VMX_EXIT_CONTINUE;
    }
}

static enum vmx_exit_action handle_vmx_instruction(struct vcpu *v, struct vmx_exit *e)
{
    vm_log_violation(v->vm, "VMX instruction (%s) at rip 0x%llx: #UD injected",
                     vmx_exit_reason_name(e->reason), (unsigned long long)vmcs_read(GUEST_RIP));
    return inject_ud(v);
}

static enum vmx_exit_action handle_ud(struct vcpu *v, struct vmx_exit *e)
{
    return inject_ud(v);
}

static enum vmx_exit_action handle_rdpmc(struct vcpu *v, struct vmx_exit *e)
{
    return inject_gp(v); /* no PMU is shown to guests */
}

static enum vmx_exit_action handle_invd_wbinvd(struct vcpu *v, struct vmx_exit *e)
{
    /* Caches are coherent with EPT memory; a guest flush must not stall
     * the whole machine (and INVD would discard our dirty lines). */
    vmx_skip_instruction(v);
    return VMX_EXIT_CONTINUE;
}

static enum vmx_exit_action handle_pause(struct vcpu *v, struct vmx_exit *e)
{
    vmx_skip_instruction(v);
    return VMX_EXIT_CONTINUE;
}

static enum vmx_exit_action handle_preemption_timer(struct vcpu *v, struct vmx_exit *e)
{
    return VMX_EXIT_PREEMPT;
}

static enum vmx_exit_action handle_xsetbv(struct vcpu *v, struct vmx_exit *e)
{
    uint32_t index = (uint32_t)v->gprs[GPR_RCX];
    uint64_t val = (v->gprs[GPR_RDX] << 32) | (uint32_t)v->gprs[GPR_RAX];
    uint64_t allowed = guest_xcr0_allowed();

    /* XCR0 rules: x87 always on; AVX needs SSE; AVX-512 parts all or none. */
    /* OSXSAVE is not intercepted: the live CR4 has the guest's value. */
    bool bad = index != 0 || vmx_guest_cpl(v) != 0 || !(vmcs_read(GUEST_CR4) & CR4_OSXSAVE) ||
               (val & ~allowed) || !(val & 1) || ((val & 4) && !(val & 2)) ||
               ((val & 0xe0) && (val & 0xe0) != 0xe0) || ((val & 0xe0) && !(val & 4));
    if (bad)
        return inject_gp(v);
    v->xcr0 = val;
    xsetbv(0, val);
    vmx_skip_instruction(v);
    return VMX_EXIT_CONTINUE;
}

static enum vmx_exit_action handle_task_switch(struct vcpu *v, struct vmx_exit *e)
{
    vm_crash(v, "hardware task switch is not supported (rip 0x%llx)",
             (unsigned long long)vmcs_read(GUEST_RIP));
    return VMX_EXIT_STOP;
}

static enum vmx_exit_action handle_mce(struct vcpu *v, struct vmx_exit *e)
{
    vm_crash(v, "machine check during VM entry");
    return VMX_EXIT_STOP;
}

#define H(r, fn, q) [EXIT_REASON_##r] = {fn, q, #r}

static const struct vmx_exit_entry dispatch_table[VMX_NR_EXIT_REASONS] = {
    H(EXCEPTION_NMI, handle_exception_nmi, true),
    H(EXTERNAL_INTERRUPT, handle_external_interrupt, false),
    H(TRIPLE_FAULT, handle_triple_fault, false),
    H(INIT_SIGNAL, handle_init, false),
    H(SIPI_SIGNAL, handle_sipi, true),
    H(INTERRUPT_WINDOW, handle_window, false),
    H(NMI_WINDOW, handle_window, false),
    H(TASK_SWITCH, handle_task_switch, true),
    H(CPUID, handle_cpuid, false),
    H(GETSEC, handle_ud, false),
    H(HLT, handle_hlt, false),
    H(INVD, handle_invd_wbinvd, false),
    H(RDPMC, handle_rdpmc, false),
    H(VMCALL, handle_vmcall, false),
    H(VMCLEAR, handle_vmx_instruction, false),
    H(VMLAUNCH, handle_vmx_instruction, false),
    H(VMPTRLD, handle_vmx_instruction, false),
    H(VMPTRST, handle_vmx_instruction, false),
    H(VMREAD, handle_vmx_instruction, false),
    H(VMRESUME, handle_vmx_instruction, false),
    H(VMWRITE, handle_vmx_instruction, false),
    H(VMOFF, handle_vmx_instruction, false),
    H(VMON, handle_vmx_instruction, false),
    H(CR_ACCESS, vmx_exit_cr_access, true),
    H(IO_INSTRUCTION, vmx_exit_io, true),
    H(MSR_READ, vmx_exit_rdmsr, false),
    H(MSR_WRITE, vmx_exit_wrmsr, false),
    H(MWAIT_INSTRUCTION, handle_ud, false),
    H(MONITOR_INSTRUCTION, handle_ud, false),
    H(PAUSE_INSTRUCTION, handle_pause, false),
    H(MCE_DURING_VMENTRY, handle_mce, false),
    H(EPT_VIOLATION, vmx_exit_ept_violation, true),
    H(EPT_MISCONFIG, vmx_exit_ept_misconfig, false),
    H(INVEPT, handle_vmx_instruction, false),
    H(PREEMPTION_TIMER, handle_preemption_timer, false),
    H(INVVPID, handle_vmx_instruction, false),
    H(WBINVD, handle_invd_wbinvd, false),
    H(XSETBV, handle_xsetbv, false),
    H(VMFUNC, handle_ud, false),
    H(ENCLS, handle_ud, false),
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
    [EXIT_REASON_APIC_ACCESS] = "APIC_ACCESS",
    [EXIT_REASON_EOI_INDUCED] = "EOI_INDUCED",
    [EXIT_REASON_GDTR_IDTR] = "GDTR_IDTR",
    [EXIT_REASON_LDTR_TR] = "LDTR_TR",
    [EXIT_REASON_RDTSCP] = "RDTSCP",
    [EXIT_REASON_APIC_WRITE] = "APIC_WRITE",
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
    if (dispatch_table[reason].name)
        return dispatch_table[reason].name;
    return reason_names[reason] ? reason_names[reason] : "UNKNOWN";
}

/* Every exit but CPUID: the table dispatch. */
static __attribute__((noinline)) enum vmx_exit_action dispatch(struct vcpu *v, uint32_t raw)
{
    struct vmx_vcpu *x = v->arch;
    struct vmx_exit e;

    e.reason = raw & 0xffff;
    if (raw & VMX_EXIT_REASON_FAILED_ENTRY) {
        vmx_report_entry_failure(v, 3);
        return VMX_EXIT_STOP;
    }
    /* An event being delivered when the exit hit must not be lost. Exits
     * caused by executing an instruction cannot happen during delivery, so
     * the common fast exits skip the read. */
    bool instruction_exit = e.reason == EXIT_REASON_VMCALL ||
                            e.reason == EXIT_REASON_IO_INSTRUCTION ||
                            e.reason == EXIT_REASON_MSR_READ || e.reason == EXIT_REASON_MSR_WRITE ||
                            e.reason == EXIT_REASON_HLT;
    uint32_t idt = instruction_exit ? 0 : (uint32_t)vmcs_read(IDT_VECTORING_INFO_FIELD);
    if (idt & INTR_INFO_VALID) {
        x->es.reinject_info = idt;
        x->es.reinject_error = (uint32_t)vmcs_read(IDT_VECTORING_ERROR_CODE);
        x->es.reinject_len = (uint32_t)vmcs_read(VM_EXIT_INSTRUCTION_LEN);
    }

    const struct vmx_exit_entry *ent =
        e.reason < VMX_NR_EXIT_REASONS ? &dispatch_table[e.reason] : NULL;
    if (ent && ent->handler) {
        e.qualification = ent->need_qualification ? vmcs_read(EXIT_QUALIFICATION) : 0;
        return ent->handler(v, &e);
    }
    vm_crash(v, "unhandled VM exit %u (%s) at rip 0x%llx", e.reason, vmx_exit_reason_name(e.reason),
             (unsigned long long)vmcs_read(GUEST_RIP));
    return VMX_EXIT_STOP;
}

enum vmx_exit_action vmx_handle_exit(struct vcpu *v, uint32_t raw, uint64_t exit_tsc,
                                     uint64_t *end_tsc)
{
    struct vmx_vcpu *x = v->arch;
    unsigned reason = raw & 0xffff;

    /* CPUID: no table, no IDT-vectoring read (an instruction exit cannot
     * interrupt event delivery). */
    enum vmx_exit_action a = raw == EXIT_REASON_CPUID ? handle_cpuid(v, NULL) : dispatch(v, raw);

    unsigned slot = reason < VCPU_EXIT_STATS ? reason : VCPU_EXIT_STATS - 1;
    uint64_t t = vmx_count_exit(v, slot, exit_tsc, end_tsc);

    /* Re-enter at once when nothing can need the slow path: the exit is an
     * emulated instruction that leaves no event to deliver, and the VM has
     * no platform (so no interrupt or device deadline can be pending). */
    if (a == VMX_EXIT_CONTINUE && (raw == EXIT_REASON_CPUID || raw == EXIT_REASON_VMCALL) &&
        !v->vm->platform && !(x->es.reinject_info | v->exception_pending | v->nmi_pending)) {
        v->root_cycles += t - exit_tsc;
        return VMX_EXIT_FAST;
    }
    return a;
}
