/* SVM exits translated into exit records (hvm/exit.h) and handed to the
 * vendor-neutral layer; see docs/svm.md. */
#include "svm/svm_backend.h"

#include "arch/x86_64/cpu.h"
#include "lib/string.h"
#include "svm/svm_caps.h"
#include "svm/svm_decode.h"
#include "svm/svm_fetch.h"

/* VCPU_EXIT_STATS slots: CR, DR and exception exits in one slot each, the
 * codes 0x60-0x9f one slot each, then the rare rest grouped. */
#define SLOT_CR      0
#define SLOT_DR      1
#define SLOT_EXCP    2
#define SLOT_FIRST   3  /* 0x60 .. 0x9f */
#define SLOT_NEW     67 /* 0xa0 .. 0xa4 */
#define SLOT_NPF     68
#define SLOT_AVIC    69
#define SLOT_INVALID 70
#define SLOT_UNKNOWN 71
_Static_assert(SLOT_UNKNOWN < VCPU_EXIT_STATS, "exit statistics slots");

static unsigned stat_slot(uint64_t code)
{
    if (code < 0x20)
        return SLOT_CR;
    if (code < 0x40)
        return SLOT_DR;
    if (code < 0x60)
        return SLOT_EXCP;
    if (code < 0xa0)
        return SLOT_FIRST + (unsigned)(code - 0x60);
    if (code <= VMEXIT_TLBSYNC)
        return SLOT_NEW;
    if (code == VMEXIT_NPF)
        return SLOT_NPF;
    if (code >= VMEXIT_AVIC_INCOMPLETE_IPI && code <= VMEXIT_VMGEXIT)
        return SLOT_AVIC;
    if (code == VMEXIT_INVALID)
        return SLOT_INVALID;
    return SLOT_UNKNOWN;
}

const char *svm_exit_slot_name(unsigned slot)
{
    if (slot == SLOT_CR)
        return "VMEXIT_CRn";
    if (slot == SLOT_DR)
        return "VMEXIT_DRn";
    if (slot == SLOT_EXCP)
        return "VMEXIT_EXCPn";
    if (slot >= SLOT_FIRST && slot < SLOT_NEW)
        return svm_exit_name(0x60 + slot - SLOT_FIRST);
    if (slot == SLOT_NEW)
        return "VMEXIT_INVLPGB..TLBSYNC";
    if (slot == SLOT_NPF)
        return "VMEXIT_NPF";
    if (slot == SLOT_AVIC)
        return "VMEXIT_AVIC/VMGEXIT";
    if (slot == SLOT_INVALID)
        return "VMEXIT_INVALID";
    return "VMEXIT_UNKNOWN";
}

static int guest_read(void *ctx, uint64_t gpa, void *buf, unsigned len)
{
    return vcpu_read_guest(ctx, gpa, buf, len) ? -1 : 0;
}

/* #UD from VMCALL: guests written for VMX (the test guests' hypercall) call
 * with it; on AMD it raises #UD, which is taken as the hypercall when the
 * bytes at CS:RIP are VMCALL's, as KVM does. */
static bool is_vmcall(struct vcpu *v, const struct vmcb *vmcb)
{
    uint8_t b[3];
    struct svm_fetch_result r;
    const struct gwalk_mem mem = {guest_read, NULL, v};
    svm_fetch_insn(vmcb, &mem, 52, b, 3, &r);
    return r.status == SVM_FETCH_OK && r.len == 3 && b[0] == 0x0f && b[1] == 0x01 && b[2] == 0xc1;
}

/* A CR exit: the operand from DecodeAssists, or the instruction at CS:RIP
 * decoded (QEMU has no DecodeAssists). */
static void translate_cr(struct vcpu *v, struct vmcb *vmcb, uint64_t code, struct exit_record *e)
{
    static const uint8_t types[] = {
        [SVM_CR_MOV_TO] = CR_MOV_TO,
        [SVM_CR_MOV_FROM] = CR_MOV_FROM,
        [SVM_CR_CLTS] = CR_CLTS,
        [SVM_CR_LMSW] = CR_LMSW,
    };
    struct svm_cr cr;
    svm_cr_decode(code, vmcb->control.exit_info_1, svm_caps.decode_assists, &cr);
    e->kind = EXIT_CR_ACCESS;
    e->cr.cr = cr.cr;
    e->cr.type = cr.write ? CR_MOV_TO : CR_MOV_FROM;
    e->cr.decoded = cr.decoded;
    e->cr.gpr = cr.gpr;
    if (cr.decoded)
        return;
    uint8_t b[15];
    struct svm_fetch_result r;
    struct svm_cr_insn in;
    const struct gwalk_mem mem = {guest_read, NULL, v};
    svm_fetch_insn(vmcb, &mem, 52, b, sizeof(b), &r);
    bool long64 = (vmcb->save.efer & EFER_LMA) && (vmcb->save.cs.attrib & VMCB_ATTR_L);
    if (r.status != SVM_FETCH_OK || !svm_decode_cr_insn(b, r.len, long64, &in))
        return; /* decoded stays false: the neutral layer stops the VM */
    /* The instruction must be the one the exit names. */
    if (in.type == SVM_CR_MOV_TO || in.type == SVM_CR_MOV_FROM) {
        if (in.cr != cr.cr || (in.type == SVM_CR_MOV_TO) != cr.write)
            return;
    } else if (cr.cr != 0 || !cr.write) {
        return;
    }
    e->cr.type = types[in.type];
    e->cr.decoded = true;
    e->cr.gpr = in.gpr;
    e->insn_len = in.len;
    if (in.type == SVM_CR_LMSW)
        e->cr.lmsw_src = (uint16_t)v->gprs[in.gpr];
}

static void translate(struct vcpu *v, struct vmcb *vmcb, uint64_t code, struct exit_record *e)
{
    const struct vmcb_control_area *c = &vmcb->control;
    e->insn_len = svm_insn_len(vmcb, svm_caps.nrips);

    if (code <= VMEXIT_CR0_WRITE + 15) {
        translate_cr(v, vmcb, code, e);
        return;
    }
    if (code >= VMEXIT_EXCP0 && code < VMEXIT_EXCP0 + 32) {
        uint8_t vector = (uint8_t)(code - VMEXIT_EXCP0);
        if (vector == 6 && is_vmcall(v, vmcb)) {
            e->kind = EXIT_HYPERCALL;
            e->insn_len = 3;
            e->hypercall.cpl = vmcb->save.cpl;
            return;
        }
        e->kind = EXIT_EXCEPTION;
        e->exception.vector = vector;
        e->exception.type = EVENT_HW_EXCEPTION;
        /* Exceptions with an error code put it in EXITINFO1. */
        e->exception.has_error = vector == 8 || (vector >= 10 && vector <= 14) || vector == 17;
        e->exception.error = (uint32_t)c->exit_info_1;
        /* #DB: the CPU has already written its conditions into the VMCB's
         * DR6 (APM 15.12; QEMU does the same), so the merge in
         * vcpu/debug_rules.c finds them there; DR7.GD is still set. */
        if (vector == 1)
            e->exception.db_hits = vmcb->save.dr6;
        return;
    }
    switch (code) {
    case VMEXIT_CPUID:
        e->kind = EXIT_CPUID;
        break;
    case VMEXIT_HLT:
        e->kind = EXIT_HLT;
        break;
    case VMEXIT_IOIO: {
        struct svm_ioio io;
        if (!svm_ioio_decode(c->exit_info_1, svm_caps.decode_assists, &io)) {
            e->kind = EXIT_UNKNOWN;
            break;
        }
        e->kind = EXIT_IO;
        e->io.port = io.port;
        e->io.size = io.size;
        e->io.in = io.in;
        e->io.string = io.string;
        e->io.rep = io.rep;
        e->io.addr_size = io.addr_size;
        /* EXITINFO2 is the next RIP, with or without NRIPS. */
        uint64_t len = c->exit_info_2 - vmcb->save.rip;
        if (len >= 1 && len <= 15)
            e->insn_len = (uint8_t)len;
        break;
    }
    case VMEXIT_MSR:
        e->kind = c->exit_info_1 ? EXIT_MSR_WRITE : EXIT_MSR_READ;
        e->msr.index = (uint32_t)v->gprs[GPR_RCX];
        break;
    case VMEXIT_NPF: {
        struct svm_npf n;
        svm_npf_decode(c->exit_info_1, c->exit_info_2, &n);
        e->kind = EXIT_NPF;
        e->npf.gpa = n.gpa;
        e->npf.read = n.read;
        e->npf.write = n.write;
        e->npf.fetch = n.fetch;
        e->npf.not_permitted = n.not_permitted;
        e->npf.misconfig = n.misconfig;
        e->insn_len = 0; /* nRIP is not written for #NPF */
        break;
    }
    case VMEXIT_VMMCALL:
        e->kind = EXIT_HYPERCALL;
        e->hypercall.cpl = vmcb->save.cpl;
        break;
    case VMEXIT_XSETBV:
        e->kind = EXIT_XSETBV;
        break;
    case VMEXIT_INTR:
    case VMEXIT_SMI:
        e->kind = EXIT_EXT_INTR; /* taken by the host when it enables interrupts */
        break;
    case VMEXIT_NMI:
        e->kind = EXIT_NMI; /* taken by the host at STGI */
        break;
    case VMEXIT_INIT:
        e->kind = EXIT_INIT;
        break;
    case VMEXIT_VINTR:
        e->kind = EXIT_INTR_WINDOW;
        break;
    case VMEXIT_IRET:
        /* IRET ends NMI blocking once it completes: the window opens. */
        ((struct svm_vcpu_state *)v->arch)->nmi_masked = false;
        e->kind = EXIT_NMI_WINDOW;
        break;
    case VMEXIT_SHUTDOWN:
        e->kind = EXIT_TRIPLE_FAULT;
        break;
    case VMEXIT_VMRUN:
    case VMEXIT_VMLOAD:
    case VMEXIT_VMSAVE:
    case VMEXIT_STGI:
    case VMEXIT_CLGI:
    case VMEXIT_SKINIT:
    case VMEXIT_INVLPGA:
        e->kind = EXIT_VIRT_INSN;
        break;
    case VMEXIT_MONITOR:
    case VMEXIT_MWAIT:
    case VMEXIT_MWAIT_CONDITIONAL:
        e->kind = EXIT_UD_INSN;
        break;
    case VMEXIT_RDPMC:
        e->kind = EXIT_RDPMC;
        break;
    case VMEXIT_INVD:
    case VMEXIT_WBINVD:
        e->kind = EXIT_CACHE_FLUSH;
        break;
    case VMEXIT_PAUSE:
        e->kind = EXIT_PAUSE;
        break;
    case VMEXIT_TASK_SWITCH:
        e->kind = EXIT_TASK_SWITCH;
        break;
    default:
        e->kind = EXIT_UNKNOWN;
        break;
    }
}

/* QEMU TCG checks a guest's MOV to CR3 against MAXPHYADDR itself and,
 * instead of raising #GP as a CPU does, ends the guest with
 * VMEXIT_INVALID at that instruction (the VMCB is still valid). True when
 * that is what happened: the instruction at RIP is a MOV to CR3 whose
 * value has bits above MAXPHYADDR in long mode. */
static bool invalid_from_mov_cr3(struct vcpu *v, const struct vmcb *vmcb)
{
    uint8_t b[15];
    struct svm_fetch_result r;
    struct svm_cr_insn in;
    const struct gwalk_mem mem = {guest_read, NULL, v};
    unsigned maxphyaddr = cpuid(0x80000008).eax & 0xff;
    if (!(vmcb->save.efer & EFER_LMA) || maxphyaddr < 32 || maxphyaddr > 52)
        return false;
    svm_fetch_insn(vmcb, &mem, 52, b, sizeof(b), &r);
    bool long64 = vmcb->save.cs.attrib & VMCB_ATTR_L;
    if (r.status != SVM_FETCH_OK || !svm_decode_cr_insn(b, r.len, long64, &in))
        return false;
    uint64_t val = in.gpr == GPR_RSP ? vmcb->save.rsp : v->gprs[in.gpr];
    return in.type == SVM_CR_MOV_TO && in.cr == 3 && (val >> maxphyaddr) != 0;
}

enum exit_action svm_handle_exit(struct vcpu *v, uint64_t exit_tsc, uint64_t *end_tsc)
{
    struct svm_vcpu_state *s = v->arch;
    struct vmcb *vmcb = s->sv.vmcb;
    uint64_t code = svm_exit_code(vmcb);
    struct exit_record e = {0};

    e.raw_reason = (uint32_t)code;
    e.stat_slot = (uint16_t)stat_slot(code);
    /* An event the exit interrupted is delivered again first. */
    struct svm_event ev;
    if (svm_exitintinfo_decode(vmcb->control.exit_int_info, &ev))
        v->reinject = (struct vcpu_event){true, ev.type, ev.vector, ev.has_error, ev.error, 0};
    vmcb->control.event_inj = 0;
    if (code == VMEXIT_INVALID && !v->reinject.valid && invalid_from_mov_cr3(v, vmcb)) {
        /* Not while an event is being delivered: should the VMRUN that
         * delivers this #GP fail too, the report below names why. */
        e.kind = EXIT_EXCEPTION;
        e.exception =
            (typeof(e.exception)){.vector = 13, .type = EVENT_HW_EXCEPTION, .has_error = true};
    } else if (code == VMEXIT_INVALID) {
        svm_report_vmrun_failure(v);
        e.kind = EXIT_ENTRY_FAILED;
    } else {
        translate(v, vmcb, code, &e);
    }
    e.advance_rip = false;
    enum exit_action a = vcpu_handle_exit(v, &e, exit_tsc, end_tsc);
    if (e.advance_rip)
        svm_skip(vmcb, e.insn_len);
    return a;
}
