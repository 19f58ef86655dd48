/* Per-vCPU SVM state and one guest entry; see svm_vcpu.h. */
#include "svm/svm_vcpu.h"

#include "arch/x86_64/percpu.h"
#include "lib/string.h"
#include "mm/pmm.h"
#include "svm/svm_caps.h"
#include "svm/svm_cpu.h"
#include "svm/svm_entry.h"

#define GPR_RAX 0
#define GPR_RSP 4

int svm_vcpu_alloc(struct svm_vcpu *s, const struct svm_port_range *pass, unsigned n)
{
    memset(s, 0, sizeof(*s));
    s->asid.cpu = -1;
    s->vmcb_pa = pmm_alloc(1, 1, "svm vmcb");
    s->iopm_pa = pmm_alloc(SVM_IOPM_SIZE / 4096, 1, "svm iopm");
    s->msrpm_pa = pmm_alloc(SVM_MSRPM_SIZE / 4096, 1, "svm msrpm");
    if (!s->vmcb_pa || !s->iopm_pa || !s->msrpm_pa) {
        svm_vcpu_free(s);
        return -1;
    }
    s->vmcb = (struct vmcb *)s->vmcb_pa;
    memset(s->vmcb, 0, sizeof(*s->vmcb));
    svm_iopm_build((uint8_t *)s->iopm_pa, pass, n);
    svm_msrpm_build((uint8_t *)s->msrpm_pa);
    return 0;
}

void svm_vcpu_free(struct svm_vcpu *s)
{
    if (s->vmcb_pa)
        pmm_free(s->vmcb_pa, 1);
    if (s->iopm_pa)
        pmm_free(s->iopm_pa, SVM_IOPM_SIZE / 4096);
    if (s->msrpm_pa)
        pmm_free(s->msrpm_pa, SVM_MSRPM_SIZE / 4096);
    memset(s, 0, sizeof(*s));
    s->asid.cpu = -1;
}

void svm_vcpu_setup(struct svm_vcpu *s, const struct svm_vmcb_params *p)
{
    struct svm_vmcb_params q = *p;
    q.iopm_pa = s->iopm_pa;
    q.msrpm_pa = s->msrpm_pa;
    q.asid = 1; /* replaced at every entry by svm_vcpu_enter */
    svm_vmcb_init(s->vmcb, &q);
    /* A fresh VMCB gets a fresh ASID (and its flush) at the first entry. */
    s->asid = (struct svm_vcpu_asid){.cpu = -1};
}

uint64_t svm_vcpu_enter(struct svm_vcpu *s, uint64_t gprs[16], int host_interrupts)
{
    struct svm_cpu *sc = svm_this_cpu();
    struct vmcb *v = s->vmcb;

    /* No VMCB clean bits are ever set, so a changed ASID needs nothing
     * more than the field. */
    v->control.tlb_control = svm_asid_assign(&sc->asids, &s->asid, (int)this_cpu_id(),
                                             s->flush_pending, svm_caps.flush_by_asid);
    v->control.guest_asid = s->asid.asid;
    s->flush_pending = false;
    v->save.rax = gprs[GPR_RAX];
    v->save.rsp = gprs[GPR_RSP];
    uint64_t tsc = svm_enter(gprs, s->vmcb_pa, sc->host_vmcb_pa, host_interrupts);
    gprs[GPR_RAX] = v->save.rax;
    gprs[GPR_RSP] = v->save.rsp;
    return tsc;
}
