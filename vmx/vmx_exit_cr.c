/* Control-register exits: CR0/CR4 shadowed, CR4.VMXE hidden, long-mode
 * transitions tracked, PAE PDPTEs loaded when paging is switched on, CR8
 * kept by the vendor-neutral layer (guest/vcpu_tpr.c). */
#include "arch/x86_64/cpu.h"
#include "vcpu/vm.h"
#include "lib/log.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_caps.h"
#include "vmx/vmx_exit.h"

static void load_pdptrs(struct vcpu *v)
{
    uint64_t pdpte[4] = {0, 0, 0, 0};
    uint64_t cr3 = vmcs_read(GUEST_CR3) & 0xffffffe0ULL;
    if (vm_read_guest(v->vm, cr3, pdpte, sizeof(pdpte))) {
        vmx_queue_exception(v, 13, true, 0);
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

void vmx_set_guest_cr4(struct vcpu *v, uint64_t val)
{
    struct vmx_vcpu *x = v->arch;
    uint64_t old = x->cr4_shadow;
    x->cr4_shadow = val;
    v->cr4_osxsave = val & CR4_OSXSAVE;
    vmcs_write(GUEST_CR4, (val | vmx_caps.cr4_fixed0) & vmx_caps.cr4_fixed1);
    vmcs_write(CR4_READ_SHADOW, val);
    if (((val ^ old) & CR4_PAE) && (val & CR4_PAE) && (x->cr0_shadow & CR0_PG) &&
        !(x->efer & EFER_LMA))
        load_pdptrs(v);
}

static uint64_t read_gpr(struct vcpu *v, unsigned r)
{
    return r == GPR_RSP ? vmcs_read(GUEST_RSP) : v->gprs[r];
}

static void write_gpr(struct vcpu *v, unsigned r, uint64_t val)
{
    if (r == GPR_RSP)
        vmcs_write(GUEST_RSP, val);
    else
        v->gprs[r] = val;
}

static bool cr0_valid(struct vcpu *v, uint64_t val)
{
    struct vmx_vcpu *x = v->arch;
    if (val >> 32)
        return false;
    if ((val & CR0_PG) && !(val & CR0_PE))
        return false;
    if ((val & CR0_NW) && !(val & CR0_CD))
        return false;
    /* Entering long mode needs PAE first. */
    if ((val & CR0_PG) && (x->efer & EFER_LME) && !(x->cr4_shadow & CR4_PAE))
        return false;
    return true;
}

static bool cr4_valid(struct vcpu *v, uint64_t val)
{
    struct vmx_vcpu *x = v->arch;
    /* VMX and SMX are hidden from guests; bits the CPU lacks are reserved. */
    if (val & (CR4_VMXE | CR4_SMXE))
        return false;
    if ((val | vmx_caps.cr4_fixed0) & ~vmx_caps.cr4_fixed1)
        return false;
    if ((x->efer & EFER_LMA) && !(val & CR4_PAE))
        return false;
    return true;
}

enum vmx_exit_action vmx_exit_cr_access(struct vcpu *v, struct vmx_exit *e)
{
    struct vmx_vcpu *x = v->arch;
    uint64_t q = e->qualification;
    unsigned cr = q & 0xf, type = (q >> 4) & 3, reg = (q >> 8) & 0xf;

    switch (type) {
    case 0: { /* MOV to CR */
        uint64_t val = read_gpr(v, reg);
        if (cr == 0) {
            if (!cr0_valid(v, val))
                goto gp;
            vmx_set_guest_cr0(v, val);
        } else if (cr == 4) {
            if (!cr4_valid(v, val))
                goto gp;
            vmx_set_guest_cr4(v, val);
        } else if (cr == 8) {
            if (val >> 4) /* bits 63:4 are reserved */
                goto gp;
            vcpu_cr8_write(v, val);
        } else {
            goto unhandled;
        }
        break;
    }
    case 1: /* MOV from CR: CR8 (when it exits), CR0/CR4 in odd cases */
        if (cr == 0)
            write_gpr(v, reg, x->cr0_shadow);
        else if (cr == 4)
            write_gpr(v, reg, x->cr4_shadow);
        else if (cr == 8)
            write_gpr(v, reg, vcpu_cr8_read(v));
        else
            goto unhandled;
        break;
    case 2: /* CLTS */
        vmx_set_guest_cr0(v, x->cr0_shadow & ~CR0_TS);
        break;
    case 3: { /* LMSW: loads bits 0-3, cannot clear PE */
        uint64_t src = (q >> 16) & 0xf;
        uint64_t val = (x->cr0_shadow & ~0xeULL) | src | (x->cr0_shadow & CR0_PE);
        vmx_set_guest_cr0(v, val);
        break;
    }
    }
    vmx_skip_instruction(v);
    return VMX_EXIT_CONTINUE;
gp:
    vmx_queue_exception(v, 13, true, 0);
    return VMX_EXIT_CONTINUE;
unhandled:
    vm_crash(v, "unexpected CR%u access type %u", cr, type);
    return VMX_EXIT_STOP;
}
