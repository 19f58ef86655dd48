/* Guest state for the vendor-neutral layer: registers, segments, PDPTEs
 * and activity read from and written to the VMCS. CR0/CR4 loads apply the
 * VMX fixed bits, keep the guest's view in the read shadows, track
 * long-mode transitions and load the PAE PDPTEs when paging comes on. */
#include "arch/x86_64/cpu.h"
#include "lib/string.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_caps.h"
#include "vmx/vmx_exit.h"

static void load_pdptrs(struct vcpu *v)
{
    uint64_t pdpte[4] = {0, 0, 0, 0};
    uint64_t cr3 = vmcs_read(GUEST_CR3) & 0xffffffe0ULL;
    if (vcpu_read_guest(v, cr3, pdpte, sizeof(pdpte))) {
        vcpu_queue_exception(v, 13, true, 0);
        return;
    }
    vmcs_write(GUEST_PDPTR0, pdpte[0]);
    vmcs_write(GUEST_PDPTR1, pdpte[1]);
    vmcs_write(GUEST_PDPTR2, pdpte[2]);
    vmcs_write(GUEST_PDPTR3, pdpte[3]);
}

void vmx_set_guest_cr0(struct vcpu *v, uint64_t val)
{
    struct vmx_vcpu *x = v->arch;
    uint64_t fixed0 = vmx_caps.cr0_fixed0;
    /* Unrestricted guests may run with PE or PG clear. */
    if (x->proc2 & SECONDARY_EXEC_UNRESTRICTED_GUEST)
        fixed0 &= ~(CR0_PE | CR0_PG);
    uint64_t old = x->cr0_shadow;
    x->cr0_shadow = val;
    /* The guest's CD/NW are not applied: EPT memory types rule. */
    uint64_t hw = ((val & ~(CR0_CD | CR0_NW)) | fixed0 | CR0_NE) & vmx_caps.cr0_fixed1;
    vmcs_write(GUEST_CR0, hw);
    vmcs_write(CR0_READ_SHADOW, val);

    bool pg_on = (val & CR0_PG) && !(old & CR0_PG);
    bool pg_off = !(val & CR0_PG) && (old & CR0_PG);
    if (pg_on && (x->efer & EFER_LME)) {
        x->efer |= EFER_LMA;
        x->entry_ctl |= VM_ENTRY_IA32E_MODE;
    } else if (pg_off && (x->efer & EFER_LMA)) {
        x->efer &= ~EFER_LMA;
        x->entry_ctl &= ~VM_ENTRY_IA32E_MODE;
    }
    if (pg_on || pg_off) {
        vmcs_write(GUEST_IA32_EFER, x->efer);
        vmcs_write(VM_ENTRY_CONTROLS, x->entry_ctl);
    }
    if (pg_on && (x->cr4_shadow & CR4_PAE) && !(x->efer & EFER_LMA))
        load_pdptrs(v);
}

bool vmx_set_guest_cr4(struct vcpu *v, uint64_t val)
{
    struct vmx_vcpu *x = v->arch;
    /* Bits this CPU cannot set in VMX operation are reserved. */
    if ((val | vmx_caps.cr4_fixed0) & ~vmx_caps.cr4_fixed1)
        return false;
    uint64_t old = x->cr4_shadow;
    x->cr4_shadow = val;
    vmcs_write(GUEST_CR4, (val | vmx_caps.cr4_fixed0) & vmx_caps.cr4_fixed1);
    vmcs_write(CR4_READ_SHADOW, val);
    if (((val ^ old) & CR4_PAE) && (val & CR4_PAE) && (x->cr0_shadow & CR0_PG) &&
        !(x->efer & EFER_LMA))
        load_pdptrs(v);
    return true;
}

unsigned vmx_guest_cpl(struct vcpu *v)
{
    uint32_t ar = (uint32_t)vmcs_read(GUEST_SS_AR_BYTES);
    return (ar >> 5) & 3;
}

/* Bits outside the guest/host masks change without exits: merge them with
 * the read shadows for the guest's view. */
static uint64_t guest_cr0(struct vmx_vcpu *x)
{
    uint64_t mask = vmcs_read(CR0_GUEST_HOST_MASK);
    return (vmcs_read(GUEST_CR0) & ~mask) | (x->cr0_shadow & mask);
}

static uint64_t guest_cr4(struct vmx_vcpu *x)
{
    uint64_t mask = vmcs_read(CR4_GUEST_HOST_MASK);
    return (vmcs_read(GUEST_CR4) & ~mask) | (x->cr4_shadow & mask);
}

uint64_t vmx_get_reg(struct vcpu *v, enum hvm_reg r)
{
    struct vmx_vcpu *x = v->arch;
    switch (r) {
    case HVM_REG_RIP:
        return vmcs_read(GUEST_RIP);
    case HVM_REG_RSP:
        return vmcs_read(GUEST_RSP);
    case HVM_REG_RFLAGS:
        return vmcs_read(GUEST_RFLAGS);
    case HVM_REG_CR0:
        return guest_cr0(x);
    case HVM_REG_CR3:
        return vmcs_read(GUEST_CR3);
    case HVM_REG_CR4:
        return guest_cr4(x);
    case HVM_REG_EFER:
        return x->efer;
    case HVM_REG_PAT:
        return vmcs_read(GUEST_IA32_PAT);
    case HVM_REG_DR6: {
        uint64_t dr6; /* not in the VMCS: live in the CPU */
        __asm__ volatile("mov %%db6, %0" : "=r"(dr6));
        return dr6;
    }
    case HVM_REG_DR7:
        return vmcs_read(GUEST_DR7);
    }
    return 0;
}

bool vmx_set_reg(struct vcpu *v, enum hvm_reg r, uint64_t val)
{
    struct vmx_vcpu *x = v->arch;
    switch (r) {
    case HVM_REG_RIP:
        vmcs_write(GUEST_RIP, val);
        return true;
    case HVM_REG_RSP:
        vmcs_write(GUEST_RSP, val);
        return true;
    case HVM_REG_RFLAGS:
        vmcs_write(GUEST_RFLAGS, val);
        return true;
    case HVM_REG_CR0:
        vmx_set_guest_cr0(v, val);
        return true;
    case HVM_REG_CR3:
        vmcs_write(GUEST_CR3, val);
        return true;
    case HVM_REG_CR4:
        return vmx_set_guest_cr4(v, val);
    case HVM_REG_EFER:
        /* The neutral layer has applied the architectural rules (LMA kept). */
        x->efer = val;
        vmcs_write(GUEST_IA32_EFER, x->efer);
        return true;
    case HVM_REG_PAT:
        vmcs_write(GUEST_IA32_PAT, val);
        return true;
    case HVM_REG_DR6:
        __asm__ volatile("mov %0, %%db6" ::"r"(val));
        return true;
    case HVM_REG_DR7:
        vmcs_write(GUEST_DR7, val);
        return true;
    }
    return false;
}

void vmx_get_segment(struct vcpu *v, enum hvm_seg s, struct hvm_segment *out)
{
    /* ES, CS, SS, DS, FS, GS: the VMCS encodes them in this order, the
     * fields of one register at fixed distances (SDM appendix B). */
    unsigned idx = (unsigned)s;
    out->selector = (uint16_t)vmcs_read((enum vmcs_field)(GUEST_ES_SELECTOR + idx * 2));
    out->limit = (uint32_t)vmcs_read((enum vmcs_field)(GUEST_ES_LIMIT + idx * 2));
    out->attr = (uint32_t)vmcs_read((enum vmcs_field)(GUEST_ES_AR_BYTES + idx * 2));
    out->base = vmcs_read((enum vmcs_field)(GUEST_ES_BASE + idx * 2));
}

bool vmx_get_pdptes(struct vcpu *v, uint64_t out[4])
{
    /* Saved at every exit with EPT. */
    out[0] = vmcs_read(GUEST_PDPTR0);
    out[1] = vmcs_read(GUEST_PDPTR1);
    out[2] = vmcs_read(GUEST_PDPTR2);
    out[3] = vmcs_read(GUEST_PDPTR3);
    return true;
}

void vmx_set_activity(struct vcpu *v, enum hvm_activity a)
{
    vmcs_write(GUEST_ACTIVITY_STATE,
               a == HVM_WAIT_SIPI ? GUEST_ACTIVITY_WAIT_SIPI : GUEST_ACTIVITY_ACTIVE);
}

void vmx_skip_instruction(struct vcpu *v, unsigned len)
{
    vmx_advance_rip(len);
}

void vmx_snapshot(struct vcpu *v, struct vcpu_snapshot *out)
{
    struct vmx_vcpu *x = v->arch;
    memcpy(out->gprs, v->gprs, sizeof(out->gprs));
    out->gprs[GPR_RSP] = vmcs_read(GUEST_RSP);
    out->rip = vmcs_read(GUEST_RIP);
    out->rsp = out->gprs[GPR_RSP];
    out->rflags = vmcs_read(GUEST_RFLAGS);
    out->cr0 = guest_cr0(x);
    out->cr3 = vmcs_read(GUEST_CR3);
    out->cr4 = guest_cr4(x);
    out->efer = x->efer;
    out->cs = (uint16_t)vmcs_read(GUEST_CS_SELECTOR);
}
