/* A running VM's maps as the VMX backend holds them: the I/O bitmaps
 * (ports opened and closed while the guest runs, e.g. a passed-through
 * device's I/O BAR) and the CPU's cached EPT translations. Which ports and
 * when is vcpu/vm_sync.c's and the device model's; this file writes bits. */
#include "ept/invept.h"
#include "hvm/io_bitmap.h"
#include "vmx/vmx.h"
#include "vmx/vmx_caps.h"

void vmx_io_intercept(struct vcpu *v, uint16_t base, uint32_t count, bool intercept)
{
    struct vmx_vcpu *x = v->arch;
    if (!x || !x->io_bitmap_phys)
        return;
    /* Bitmaps A and B are two consecutive pages: one flat bitmap. The CPU
     * reads them at each I/O instruction; vm_sync_vcpus makes every CPU of
     * the VM leave the guest before the change counts as done. */
    io_bitmap_set((uint8_t *)x->io_bitmap_phys, base, count, intercept);
}

void vmx_flush_second_level(struct vcpu *v)
{
    /* On v's CPU: its cached guest-physical translations of this EPT go
     * (single context drops them for every VPID that used the EPTP). */
    if (vmx_caps.invept_single && !invept_single(ept_eptp(v->vm_info.ept, false)))
        return;
    if (vmx_caps.invept_all)
        invept_all();
}
