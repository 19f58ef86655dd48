/* Control-register exits: the architectural rules for CR0 and CR4 (the
 * backend applies its vendor's fixed bits and long-mode transitions),
 * CR4.VMXE/SMXE hidden, CR8 kept by the vCPU layer (vcpu/vcpu_tpr.c). */
#include "arch/x86_64/cpu.h"
#include "lib/log.h"
#include "vcpu/exit_handlers.h"
#include "vcpu/vcpu_tpr.h"
#include "vcpu/vm.h"

static bool cr0_valid(struct vcpu *v, uint64_t val)
{
    if (val >> 32)
        return false;
    if ((val & CR0_PG) && !(val & CR0_PE))
        return false;
    if ((val & CR0_NW) && !(val & CR0_CD))
        return false;
    /* Entering long mode needs PAE first. */
    if ((val & CR0_PG) && (vcpu_backend->get_reg(v, HVM_REG_EFER) & EFER_LME) &&
        !(vcpu_backend->get_reg(v, HVM_REG_CR4) & CR4_PAE))
        return false;
    return true;
}

static bool cr4_valid(struct vcpu *v, uint64_t val)
{
    /* VMX and SMX are hidden from guests (bits the CPU lacks are the
     * backend's to refuse). */
    if (val & (CR4_VMXE | CR4_SMXE))
        return false;
    if ((vcpu_backend->get_reg(v, HVM_REG_EFER) & EFER_LMA) && !(val & CR4_PAE))
        return false;
    return true;
}

enum exit_action vcpu_exit_cr_access(struct vcpu *v, struct exit_record *e)
{
    const struct vcpu_backend *b = vcpu_backend;
    unsigned cr = e->cr.cr, reg = e->cr.gpr;

    if (!e->cr.decoded && (e->cr.type == CR_MOV_TO || e->cr.type == CR_MOV_FROM)) {
        /* The operand is not known without a decoder of MOV CR (SVM
         * without DecodeAssists intercepts no CR access yet). */
        vm_crash(v, "CR%u access without its operand decoded", cr);
        return EXIT_ACT_STOP;
    }
    switch (e->cr.type) {
    case CR_MOV_TO: {
        uint64_t val = vcpu_read_gpr(v, reg);
        if (cr == 0) {
            if (!cr0_valid(v, val) || !b->set_reg(v, HVM_REG_CR0, val))
                goto gp;
        } else if (cr == 4) {
            if (!cr4_valid(v, val) || !b->set_reg(v, HVM_REG_CR4, val))
                goto gp;
            v->cr4_osxsave = val & CR4_OSXSAVE;
        } else if (cr == 8) {
            if (val >> 4) /* bits 63:4 are reserved */
                goto gp;
            vcpu_cr8_write(v, val);
        } else {
            goto unhandled;
        }
        break;
    }
    case CR_MOV_FROM: /* CR8 (when it exits), CR0/CR4 in odd cases */
        if (cr == 0)
            vcpu_write_gpr(v, reg, b->get_reg(v, HVM_REG_CR0));
        else if (cr == 4)
            vcpu_write_gpr(v, reg, b->get_reg(v, HVM_REG_CR4));
        else if (cr == 8)
            vcpu_write_gpr(v, reg, vcpu_cr8_read(v));
        else
            goto unhandled;
        break;
    case CR_CLTS:
        b->set_reg(v, HVM_REG_CR0, b->get_reg(v, HVM_REG_CR0) & ~CR0_TS);
        break;
    case CR_LMSW: { /* loads bits 0-3, cannot clear PE */
        uint64_t cr0 = b->get_reg(v, HVM_REG_CR0);
        uint64_t val = (cr0 & ~0xeULL) | (e->cr.lmsw_src & 0xf) | (cr0 & CR0_PE);
        b->set_reg(v, HVM_REG_CR0, val);
        break;
    }
    }
    return vcpu_complete(v, e) ? EXIT_ACT_CONTINUE : EXIT_ACT_STOP;
gp:
    vcpu_queue_exception(v, 13, true, 0);
    return EXIT_ACT_CONTINUE;
unhandled:
    vm_crash(v, "unexpected CR%u access type %u", cr, e->cr.type);
    return EXIT_ACT_STOP;
}
