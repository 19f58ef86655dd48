/* A CR0 write whose instruction the backend could not decode (SVM without
 * DecodeAssists decodes MOV CR, CLTS and LMSW from a register itself, but
 * not LMSW from memory): the instruction at RIP fetched and decoded here,
 * and LMSW's 16-bit operand read as the CPU reads it, through segmentation
 * and the guest's page tables. A refused access becomes the guest's
 * #GP(0), #SS(0) or #PF, never a stopped VM. */
#include "arch/x86_64/cpu.h"
#include "lib/string.h"
#include "vcpu/exit_handlers.h"
#include "vcpu/gva.h"
#include "vcpu/vm.h"
#include "vcpu/x86_operand.h"

#define RFLAGS_VM (1ULL << 17)
#define CR4_LA57  (1ULL << 12)

static enum x86_cpu_mode cpu_mode(struct vcpu *v, unsigned code_mode)
{
    const struct vcpu_backend *b = vcpu_backend;
    if (code_mode == 64)
        return X86_MODE_64;
    if (!(b->get_reg(v, HVM_REG_CR0) & CR0_PE) || (b->get_reg(v, HVM_REG_RFLAGS) & RFLAGS_VM))
        return X86_MODE_REAL;
    return X86_MODE_PROTECTED;
}

/* Reads the 2-byte operand at la (which may straddle two pages). 1 done,
 * 0 an exception is queued or the instruction runs again, -1 the VM was
 * stopped. */
static int read_operand(struct vcpu *v, uint64_t la, bool wrap32, uint16_t *val)
{
    uint8_t buf[2];
    for (unsigned i = 0; i < 2; i++) {
        uint64_t a = la + i, gpa;
        if (wrap32)
            a &= 0xffffffffULL;
        /* Both bytes are checked before either is used, as the CPU does. */
        enum walk_outcome o = vcpu_translate(v, a, GWALK_READ, &gpa, true);
        if (o == WALK_FAULTED || o == WALK_RETRY)
            return 0;
        if (o != WALK_OK) {
            vm_crash(v, "LMSW operand at linear 0x%llx: page tables outside guest RAM",
                     (unsigned long long)a);
            return -1;
        }
        uint64_t dev = 0;
        if (vm_read_guest(v->vm, gpa, &buf[i], 1) == 0)
            continue;
        if (!vm_mmio_access(v, gpa, 1, false, &dev)) {
            vm_crash(v,
                     "memory violation: LMSW operand at guest-physical 0x%llx outside the VM's "
                     "memory map",
                     (unsigned long long)gpa);
            return -1;
        }
        buf[i] = (uint8_t)dev;
    }
    *val = (uint16_t)(buf[0] | (buf[1] << 8));
    return 1;
}

int vcpu_decode_cr0_write(struct vcpu *v, struct exit_record *e)
{
    const struct vcpu_backend *b = vcpu_backend;
    uint8_t bytes[15];
    unsigned mode;
    struct x86_lmsw in;
    uint64_t rip = b->get_reg(v, HVM_REG_RIP);
    int got = vcpu_fetch_instruction(v, vcpu_rip_linear(v, rip, &mode), bytes);
    if (got == 0)
        return 0; /* #PF queued (the guest changed its tables), or fetch again */
    if (got < 0 || !x86_decode_lmsw(bytes, (unsigned)got, mode, &in)) {
        vm_crash(v, "CR0 write at rip 0x%llx by an instruction that is not MOV CR0, CLTS or LMSW",
                 (unsigned long long)rip);
        return -1;
    }
    if (b->cpl(v) != 0) { /* checked before the intercept on hardware */
        vcpu_queue_exception(v, 13, true, 0);
        return 0;
    }
    uint16_t src;
    if (!in.mem) {
        src = (uint16_t)vcpu_read_gpr(v, in.gpr);
    } else {
        uint64_t gprs[16], la;
        memcpy(gprs, v->gprs, sizeof(gprs));
        gprs[GPR_RSP] = b->get_reg(v, HVM_REG_RSP);
        uint64_t rip_next = mode == 64 ? rip + in.len : (rip + in.len) & 0xffffffffULL;
        uint64_t off = x86_operand_offset(&in.op, gprs, rip_next);
        struct hvm_segment sd;
        b->get_segment(v, (enum hvm_seg)in.op.seg, &sd);
        enum x86_cpu_mode cm = cpu_mode(v, mode);
        unsigned va_bits = (b->get_reg(v, HVM_REG_CR4) & CR4_LA57) ? 57 : 48;
        switch (x86_segment_linear(&sd, in.op.seg, cm, va_bits, off, 2, false, &la)) {
        case X86_SEG_OK:
            break;
        case X86_SEG_SS:
            vcpu_queue_exception(v, 12, true, 0);
            return 0;
        default:
            vcpu_queue_exception(v, 13, true, 0);
            return 0;
        }
        int rc = read_operand(v, la, cm != X86_MODE_64, &src);
        if (rc <= 0)
            return rc;
    }
    e->cr.type = CR_LMSW;
    e->cr.decoded = true;
    e->cr.lmsw_src = src;
    e->insn_len = (uint8_t)in.len;
    return 1;
}
