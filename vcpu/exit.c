/* One handler per exit kind, for every vendor: the dispatch and the exits
 * that need no decoding (CPUID, HLT, hypercalls, XSETBV, exceptions,
 * INIT/SIPI, windows, instructions refused with #UD or #GP). Port I/O and
 * MSRs are in exit_io.c, second-level faults and MMIO in mmio.c, CR
 * accesses in exit_cr.c, event delivery in inject.c. */
#include <stdarg.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/exc_merge.h"
#include "lib/format.h"
#include "vcpu/cpuid.h"
#include "vcpu/debug_rules.h"
#include "vcpu/exit_handlers.h"
#include "vcpu/hypercall.h"
#include "vcpu/vm.h"

void vcpu_crash(struct vcpu *v, const char *fmt, ...)
{
    char reason[128];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    vm_crash(v, "%s", reason);
}

int vcpu_read_guest(struct vcpu *v, uint64_t gpa, void *buf, uint64_t len)
{
    return vm_read_guest(v->vm, gpa, buf, len);
}

void vcpu_queue_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
    /* A second exception while one is queued: the SDM's double-fault rules
     * (benign, contributory and page-fault classes). */
    if (v->exception_pending) {
        switch (x86_merge_exceptions(v->exception_vector, vector)) {
        case EXC_MERGE_TRIPLE_FAULT:
            vm_crash(v, "triple fault (exception %u while delivering #DF)", vector);
            return;
        case EXC_MERGE_DOUBLE_FAULT:
            vector = 8;
            has_error = true;
            error = 0;
            break;
        case EXC_MERGE_SECOND:
            break;
        }
    }
    v->exception_pending = true;
    v->exception_vector = vector;
    v->exception_has_error = has_error;
    v->exception_error = error;
}

uint64_t vcpu_read_gpr(struct vcpu *v, unsigned r)
{
    return r == GPR_RSP ? vcpu_backend->get_reg(v, HVM_REG_RSP) : v->gprs[r];
}

void vcpu_write_gpr(struct vcpu *v, unsigned r, uint64_t val)
{
    if (r == GPR_RSP)
        vcpu_backend->set_reg(v, HVM_REG_RSP, val);
    else
        v->gprs[r] = val;
}

static uint64_t rip(struct vcpu *v)
{
    return vcpu_backend->get_reg(v, HVM_REG_RIP);
}

bool vcpu_complete(struct vcpu *v, struct exit_record *e)
{
    if (__builtin_expect(!e->insn_len, 0)) {
        e->insn_len = (uint8_t)vcpu_decode_insn_len(v, e);
        if (!e->insn_len) {
            vm_crash(v, "cannot decode the length of the instruction at rip 0x%llx (%s exit)",
                     (unsigned long long)rip(v), vcpu_backend->exit_reason_name(e->stat_slot));
            return false;
        }
    }
    e->advance_rip = true;
    return true;
}

static enum exit_action completed(struct vcpu *v, struct exit_record *e)
{
    return vcpu_complete(v, e) ? EXIT_ACT_CONTINUE : EXIT_ACT_STOP;
}

static enum exit_action inject_ud(struct vcpu *v)
{
    vcpu_queue_exception(v, 6, false, 0);
    return EXIT_ACT_CONTINUE;
}

static enum exit_action inject_gp(struct vcpu *v)
{
    vcpu_queue_exception(v, 13, true, 0);
    return EXIT_ACT_CONTINUE;
}

/* An intercepted #DB is about to be delivered (or merged into #DF): what
 * its delivery does to DR6 and DR7 (vcpu/debug_rules.c). */
static void db_delivery(struct vcpu *v, const struct exit_record *e)
{
    const struct vcpu_backend *b = vcpu_backend;
    struct debug_regs r = {b->get_reg(v, HVM_REG_DR6), b->get_reg(v, HVM_REG_DR7)};
    struct debug_regs after =
        db_delivery_rules(r, e->exception.db_hits, e->exception.type == EVENT_HW_EXCEPTION);
    if (after.dr6 != r.dr6)
        b->set_reg(v, HVM_REG_DR6, after.dr6);
    if (after.dr7 != r.dr7)
        b->set_reg(v, HVM_REG_DR7, after.dr7);
}

static enum exit_action handle_exception(struct vcpu *v, struct exit_record *e)
{
    uint8_t vector = e->exception.vector;
    if (vector == 1)
        db_delivery(v, e);
    /* Raised while delivering another exception: the SDM's double-fault
     * rules decide, not "first one again, then this one". */
    if (v->reinject.valid && v->reinject.type == EVENT_HW_EXCEPTION) {
        uint8_t first = v->reinject.vector;
        v->reinject.valid = false;
        if (x86_merge_exceptions(first, vector) == EXC_MERGE_TRIPLE_FAULT) {
            vm_crash(v, "triple fault (exception %u while delivering #DF)", vector);
            return EXIT_ACT_STOP;
        }
        if (x86_merge_exceptions(first, vector) == EXC_MERGE_DOUBLE_FAULT) {
            vcpu_queue_exception(v, 8, true, 0);
            return EXIT_ACT_CONTINUE;
        }
    }
    if (e->exception.type == EVENT_PRIV_SW_EXCEPTION) {
        /* ICEBP (INT1): a trap past the instruction, with no gate DPL
         * check. Re-injected as the same type with its length, so the
         * guest's handler sees RIP after it (a hardware-exception type
         * would re-execute it forever). */
        v->reinject =
            (struct vcpu_event){true, EVENT_PRIV_SW_EXCEPTION, vector, false, 0, e->insn_len};
        return EXIT_ACT_CONTINUE;
    }
    /* #DB and #AC are intercepted only so a guest cannot wedge the CPU;
     * the guest gets them back. */
    vcpu_queue_exception(v, vector, e->exception.has_error, e->exception.error);
    return EXIT_ACT_CONTINUE;
}

static enum exit_action handle_cpuid(struct vcpu *v, struct exit_record *e)
{
    struct cpuid_regs r;
    uint32_t leaf = (uint32_t)v->gprs[GPR_RAX];
    if (leaf == 1)
        v->cr4_osxsave = vcpu_backend->get_reg(v, HVM_REG_CR4) & CR4_OSXSAVE;
    guest_cpuid(v, leaf, (uint32_t)v->gprs[GPR_RCX], &r);
    v->gprs[GPR_RAX] = r.eax;
    v->gprs[GPR_RBX] = r.ebx;
    v->gprs[GPR_RCX] = r.ecx;
    v->gprs[GPR_RDX] = r.edx;
    return completed(v, e);
}

static enum exit_action handle_hlt(struct vcpu *v, struct exit_record *e)
{
    if (!vcpu_complete(v, e))
        return EXIT_ACT_STOP;
    /* With an interrupt already deliverable the guest need not sleep. */
    if (v->nmi_pending)
        return EXIT_ACT_CONTINUE;
    if (v->vm->platform && (vcpu_backend->get_reg(v, HVM_REG_RFLAGS) & RFLAGS_IF) &&
        v->vm->platform_ops->pending_interrupt(v) >= 0)
        return EXIT_ACT_CONTINUE;
    return EXIT_ACT_HALT;
}

static enum exit_action handle_hypercall(struct vcpu *v, struct exit_record *e)
{
    if (e->hypercall.cpl != 0) {
        vm_log_violation(v->vm, "vmcall from CPL %u refused (#UD)", e->hypercall.cpl);
        return inject_ud(v);
    }
    if (!vcpu_complete(v, e))
        return EXIT_ACT_STOP;
    switch (hypercall_dispatch(v)) {
    case HC_ACT_YIELD:
        return EXIT_ACT_YIELD;
    case HC_ACT_STOP:
        return EXIT_ACT_STOP;
    default:
        return EXIT_ACT_CONTINUE;
    }
}

static enum exit_action handle_xsetbv(struct vcpu *v, struct exit_record *e)
{
    uint32_t index = (uint32_t)v->gprs[GPR_RCX];
    uint64_t val = (v->gprs[GPR_RDX] << 32) | (uint32_t)v->gprs[GPR_RAX];
    uint64_t allowed = guest_xcr0_allowed();

    /* XCR0 rules: x87 always on; AVX needs SSE; AVX-512 parts all or none. */
    bool bad = index != 0 || vcpu_backend->cpl(v) != 0 ||
               !(vcpu_backend->get_reg(v, HVM_REG_CR4) & CR4_OSXSAVE) || (val & ~allowed) ||
               !(val & 1) || ((val & 4) && !(val & 2)) || ((val & 0xe0) && (val & 0xe0) != 0xe0) ||
               ((val & 0xe0) && !(val & 4));
    if (bad)
        return inject_gp(v);
    v->xcr0 = val;
    xsetbv(0, val);
    return completed(v, e);
}

static enum exit_action handle_init(struct vcpu *v)
{
    /* INIT outside the vLAPIC's INIT/SIPI path (vcpu_wait_for_sipi): the
     * vCPU waits for a SIPI. */
    vcpu_backend->set_activity(v, HVM_WAIT_SIPI);
    return EXIT_ACT_HALT;
}

static enum exit_action handle_sipi(struct vcpu *v, struct exit_record *e)
{
    /* Real mode at vector * 4 KiB, as on hardware. */
    v->boot.mode = ENTRY_REAL_MODE;
    v->boot.rip = (uint64_t)e->sipi.vector << 12;
    if (vcpu_backend->reset(v)) {
        vm_crash(v, "cannot reset the vCPU for its SIPI");
        return EXIT_ACT_STOP;
    }
    return EXIT_ACT_CONTINUE;
}

static enum exit_action handle_window(struct vcpu *v, struct exit_record *e)
{
    /* The pending event is injected at entry; the window is requested
     * again there if still needed. */
    if (e->kind == EXIT_NMI_WINDOW)
        v->nmi_window = false;
    else
        v->irq_window = false;
    vcpu_backend->set_windows(v, v->nmi_window, v->irq_window);
    return EXIT_ACT_CONTINUE;
}

/* A VMX or SVM instruction: nested virtualization is not offered. The
 * log names the extension as the vendor does ("VMX instruction"). */
static enum exit_action refuse_virt_insn(struct vcpu *v, struct exit_record *e)
{
    char ext[8];
    unsigned i = 0;
    for (; vcpu_backend->name[i] && i < sizeof(ext) - 1; i++) {
        char c = vcpu_backend->name[i];
        ext[i] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
    }
    ext[i] = 0;
    vm_log_violation(v->vm, "%s instruction (%s) at rip 0x%llx: #UD injected", ext,
                     vcpu_backend->exit_reason_name(e->stat_slot), (unsigned long long)rip(v));
    return inject_ud(v);
}

static enum exit_action dispatch(struct vcpu *v, struct exit_record *e)
{
    switch (e->kind) {
    case EXIT_CPUID:
        return handle_cpuid(v, e);
    case EXIT_HYPERCALL:
        return handle_hypercall(v, e);
    case EXIT_IO:
        return vcpu_exit_io(v, e);
    case EXIT_MSR_READ:
        return vcpu_exit_rdmsr(v, e);
    case EXIT_MSR_WRITE:
        if (v->vm_info.realtime && e->msr.index == 0x830)
            return vcpu_rt_icr_write(v, e); /* its own local APIC's ICR */
        return vcpu_exit_wrmsr(v, e);
    case EXIT_HLT:
        return handle_hlt(v, e);
    case EXIT_NPF:
        return vcpu_exit_npf(v, e);
    case EXIT_APIC_WRITE:
        return vcpu_exit_apic_write(v, e);
    case EXIT_CR_ACCESS:
        return vcpu_exit_cr_access(v, e);
    case EXIT_XSETBV:
        return handle_xsetbv(v, e);
    case EXIT_EXCEPTION:
        return handle_exception(v, e);
    case EXIT_APIC_EOI: /* the backend reported it (vcpu_apicv_seen) */
    case EXIT_EXT_INTR: /* left pending: enabling interrupts delivers it to the host */
    case EXIT_NMI:      /* the backend handed it to the host's handler */
        return EXIT_ACT_CONTINUE;
    case EXIT_INIT:
        return handle_init(v);
    case EXIT_SIPI:
        return handle_sipi(v, e);
    case EXIT_INTR_WINDOW:
    case EXIT_NMI_WINDOW:
        return handle_window(v, e);
    case EXIT_PREEMPT:
        return EXIT_ACT_PREEMPT;
    case EXIT_TRIPLE_FAULT:
        vm_crash(v, "triple fault at rip 0x%llx", (unsigned long long)rip(v));
        return EXIT_ACT_STOP;
    case EXIT_VIRT_INSN:
        return refuse_virt_insn(v, e);
    case EXIT_UD_INSN:
        return inject_ud(v);
    case EXIT_RDPMC:
        return inject_gp(v); /* no PMU is shown to guests */
    case EXIT_CACHE_FLUSH:
        /* Caches are coherent with second-level memory; a guest flush must
         * not stall the whole machine (and INVD would discard our dirty
         * lines). */
        return completed(v, e);
    case EXIT_PAUSE:
        return vcpu_exit_pause(v, e);
    case EXIT_TASK_SWITCH:
        vm_crash(v, "hardware task switch is not supported (rip 0x%llx)",
                 (unsigned long long)rip(v));
        return EXIT_ACT_STOP;
    case EXIT_MCE:
        vm_crash(v, "machine check during VM entry");
        return EXIT_ACT_STOP;
    case EXIT_ENTRY_FAILED:
        return EXIT_ACT_STOP; /* reported by the backend */
    case EXIT_UNKNOWN:
    default:
        break;
    }
    vm_crash(v, "unhandled VM exit %u (%s) at rip 0x%llx", e->raw_reason,
             vcpu_backend->exit_reason_name(e->stat_slot), (unsigned long long)rip(v));
    return EXIT_ACT_STOP;
}

bool vcpu_fast_port_in(struct vcpu *v, uint16_t port, unsigned size)
{
    const struct vm *vm = v->vm;
    uint32_t val;
    if (!vm->platform || !vm->platform_ops->port_in_fast ||
        !vm->platform_ops->port_in_fast(v, port, size, &val))
        return false;
    /* 32-bit results zero-extend into RAX; 8/16-bit keep the rest. */
    if (size == 4) {
        v->gprs[GPR_RAX] = val;
    } else {
        uint64_t mask = (1ULL << (size * 8)) - 1;
        v->gprs[GPR_RAX] = (v->gprs[GPR_RAX] & ~mask) | (val & mask);
    }
    return true;
}

enum exit_action vcpu_handle_exit(struct vcpu *v, struct exit_record *e, uint64_t exit_tsc,
                                  uint64_t *end_tsc)
{
    /* CPUID and hypercalls first: the exits guests take in tight loops,
     * without the dispatch's compare tree. */
    enum exit_action a = e->kind == EXIT_CPUID       ? handle_cpuid(v, e)
                         : e->kind == EXIT_HYPERCALL ? handle_hypercall(v, e)
                                                     : dispatch(v, e);

    unsigned slot = e->stat_slot < VCPU_EXIT_STATS ? e->stat_slot : VCPU_EXIT_STATS - 1;
    uint64_t t = rdtsc();
    *end_tsc = t;
    v->exits[slot].count++;
    v->exits[slot].cycles += t - exit_tsc;

    /* Re-enter at once when nothing can need the slow path: the exit is an
     * emulated instruction that leaves no event to deliver and changes no
     * interrupt state of its own. What devices and other vCPUs do meanwhile
     * is the run loop's to watch: it ends fast re-entries at the next
     * device deadline and when v->intr_news is set (hvm/exit.h). */
    if (a == EXIT_ACT_CONTINUE && (e->kind == EXIT_CPUID || e->kind == EXIT_HYPERCALL) &&
        !(v->reinject.valid | v->exception_pending | v->nmi_pending)) {
        v->root_cycles += t - exit_tsc;
        return EXIT_ACT_FAST;
    }
    return a;
}
