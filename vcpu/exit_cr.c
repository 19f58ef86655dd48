/* Control-register exits: the architectural rules for CR0 and CR4
 * (vcpu/cr_rules.c; the backend applies its vendor's fixed bits and
 * long-mode transitions), CR4 bits the guest's CPUID does not show
 * refused, CR8 kept by the vCPU layer (vcpu/vcpu_tpr.c). */
#include "arch/x86_64/cpu.h"
#include "lib/log.h"
#include "vcpu/cpuid.h"
#include "vcpu/cr_rules.h"
#include "vcpu/exit_handlers.h"
#include "vcpu/vcpu_tpr.h"
#include "vcpu/vm.h"

void vcpu_cr_state(struct vcpu *v, struct cr_state *s)
{
    const struct vcpu_backend *b = vcpu_backend;
    struct hvm_segment cs;
    b->get_segment(v, HVM_SEG_CS, &cs);
    s->cr0 = b->get_reg(v, HVM_REG_CR0);
    s->cr3 = b->get_reg(v, HVM_REG_CR3);
    s->cr4 = b->get_reg(v, HVM_REG_CR4);
    s->efer = b->get_reg(v, HVM_REG_EFER);
    s->cs_l = cs.attr & (1U << 13);
}

void vcpu_cr_features(struct vcpu *v, struct cr_features *f)
{
    struct cpuid_regs r;
    guest_cpuid(v, 1, 0, &r);
    f->leaf1_ecx = r.ecx;
    f->leaf1_edx = r.edx;
    guest_cpuid(v, 7, 0, &r);
    f->leaf7_ebx = r.ebx;
    f->leaf7_ecx = r.ecx;
    guest_cpuid(v, 0x80000001, 0, &r);
    f->ext1_edx = r.edx;
}

/* PAE paging turning on loads the PDPTEs: a reserved bit in a present one,
 * or a PDPT outside the guest's memory, is a #GP (not a failed entry). */
static bool pdptes_valid(struct vcpu *v, const struct cr_state *s, unsigned cr, uint64_t val)
{
    uint64_t pdpte[4];
    struct cpuid_regs r;
    if (!cr_write_loads_pdptes(s, cr, val))
        return true;
    if (vcpu_read_guest(v, s->cr3 & 0xffffffe0ULL, pdpte, sizeof(pdpte)))
        return false;
    guest_cpuid(v, 0x80000008, 0, &r);
    return pae_pdptes_ok(pdpte, (r.eax & 0xff) ? (r.eax & 0xff) : 36);
}

static bool cr0_valid(struct vcpu *v, uint64_t val)
{
    struct cr_state s;
    vcpu_cr_state(v, &s);
    return cr0_write_ok(&s, val) && pdptes_valid(v, &s, 0, val);
}

static bool cr4_valid(struct vcpu *v, uint64_t val)
{
    struct cr_state s;
    struct cr_features f;
    vcpu_cr_state(v, &s);
    vcpu_cr_features(v, &f);
    return cr4_write_ok(&s, val, cr4_allowed_bits(&f)) && pdptes_valid(v, &s, 4, val);
}

enum exit_action vcpu_exit_cr_access(struct vcpu *v, struct exit_record *e)
{
    const struct vcpu_backend *b = vcpu_backend;
    unsigned cr = e->cr.cr, reg = e->cr.gpr;

    if (!e->cr.decoded && cr == 0 && e->cr.type == CR_MOV_TO) {
        /* SVM without DecodeAssists: an LMSW from memory (exit_lmsw.c). */
        int rc = vcpu_decode_cr0_write(v, e);
        if (rc <= 0)
            return rc == 0 ? EXIT_ACT_CONTINUE : EXIT_ACT_STOP;
    }
    if (!e->cr.decoded && (e->cr.type == CR_MOV_TO || e->cr.type == CR_MOV_FROM)) {
        /* The backend could not decode the instruction (bytes at RIP that
         * are not the CR access the exit names). */
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
        uint64_t val = lmsw_cr0(b->get_reg(v, HVM_REG_CR0), e->cr.lmsw_src);
        if (!cr0_valid(v, val) || !b->set_reg(v, HVM_REG_CR0, val))
            goto gp;
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
