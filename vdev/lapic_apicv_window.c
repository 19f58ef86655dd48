/* The APIC-access page of the VM's xAPIC window (vdev/lapic_apicv_window.h). */
#include "vdev/lapic_apicv_window.h"

#include "ept/ept.h"
#include "hvm/backend.h"
#include "lib/log.h"
#include "lib/string.h"
#include "mm/pmm.h"
#include "vcpu/vm.h"
#include "vcpu/vm_sync.h"
#include "vdev/platform.h"

void lapic_apicv_window_init(struct vm_platform *p)
{
    p->apic_access_mapped = p->apic_access_broken = false;
    p->apic_access_hpa = 0;
    if (p->vm->cfg.realtime)
        return; /* no virtual-interrupt delivery there */
    /* SVM, a CPU without "virtualize APIC accesses", vmx.apicv=off. */
    if (!vcpu_backend->apicv_uses_access_page || !vcpu_backend->apicv_uses_access_page())
        return;
    uint64_t page = pmm_alloc(1, 1, "apic-access page");
    if (!page) {
        pr_warn("vm %s: no APIC-access page: xAPIC accesses stay emulated", p->vm->cfg.name);
        return;
    }
    memset((void *)page, 0, 4096);
    p->apic_access_hpa = page;
}

void lapic_apicv_window_free(struct vm_platform *p)
{
    if (!p->apic_access_hpa)
        return;
    if (p->apic_access_mapped)
        ept_page_clear(&p->vm->ept, HVM_APIC_ACCESS_GPA);
    p->apic_access_mapped = false;
    pmm_free(p->apic_access_hpa, 1);
    p->apic_access_hpa = 0;
}

bool lapic_apicv_window_wanted(const struct vm_platform *p)
{
    const struct vm *vm = p->vm;
    if (!p->apic_access_hpa || p->apic_access_broken || !vm->nr_vcpus || vm->nr_vcpus > 8)
        return false;
    for (unsigned i = 0; i < vm->nr_vcpus; i++) {
        const struct vcpu *v = vm->vcpus[i];
        const struct vlapic *a = &p->lapic[i];
        /* A vCPU not built yet may have no APIC-access page control. */
        if (!v || !v->apicv_xapic_possible)
            return false;
        if (!vlapic_hw_enabled(a) || vlapic_x2apic_mode(a) ||
            (vlapic_get_apic_base(a) & ~0xfffULL) != HVM_APIC_ACCESS_GPA)
            return false;
    }
    return true;
}

bool lapic_apicv_window_update(struct vm_platform *p)
{
    bool want = lapic_apicv_window_wanted(p);
    if (want == p->apic_access_mapped)
        return false;
    struct ept *e = &p->vm->ept;
    if (want) {
        /* Read and write only: a fetch from the window stays an EPT
         * violation (the VM stops, as for any MMIO fetch). A new mapping
         * needs no INVEPT: nothing was cached for the hole. */
        int r = ept_map(e, HVM_APIC_ACCESS_GPA, p->apic_access_hpa, 4096, EPT_R | EPT_W, EPT_MT_UC);
        if (r) {
            pr_warn("vm %s: cannot map the APIC-access page: %s", p->vm->cfg.name, ept_strerror(r));
            p->apic_access_broken = true; /* emulated from now on */
            return false;
        }
        p->apic_access_mapped = true;
        return false;
    }
    int r = ept_page_clear(e, HVM_APIC_ACCESS_GPA);
    if (r)
        pr_err("vm %s: cannot unmap the APIC-access page: %s", p->vm->cfg.name, ept_strerror(r));
    p->apic_access_mapped = false;
    return true;
}

void lapic_apicv_window_sync(struct vm_platform *p)
{
    vm_sync_vcpus(p->vm, true);
}
