/* The VM's xAPIC window as an APIC-access page (virtual-interrupt delivery
 * in xAPIC mode, vcpu/apicv.h): one zeroed page per VM, mapped in the
 * VM's second-level tables at 0xFEE00000 ONLY while every vCPU of the VM
 * can virtualize APIC accesses (vcpu->apicv_xapic_possible: VMX, the CPU
 * has it, `vmx.apicv=on`, not real-time) and its vLAPIC is enabled, in
 * xAPIC mode, at the default base. Such a vCPU has "virtualize APIC
 * accesses" on at every entry (vcpu_apicv_load), so the guest never reads
 * or writes the page's memory: the CPU virtualizes or exits. In every
 * other state the window is the MMIO hole that vdev/lapic_window.c
 * emulates. The page is the VM's own, never shared. Called with the
 * platform lock held, except lapic_apicv_window_sync. */
#ifndef VDEV_LAPIC_APICV_WINDOW_H
#define VDEV_LAPIC_APICV_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

struct vm_platform;

/* At platform creation: the page (0 on failure: the window stays MMIO). */
void lapic_apicv_window_init(struct vm_platform *p);
/* At platform destruction (no vCPU runs): unmapped and freed. */
void lapic_apicv_window_free(struct vm_platform *p);
/* Whether the window may be mapped to the page now (the rule above). */
bool lapic_apicv_window_wanted(const struct vm_platform *p);
/* Maps or unmaps the page as lapic_apicv_window_wanted says. True when a
 * mapping was removed: the caller must call lapic_apicv_window_sync after
 * dropping the lock and before this vCPU enters again. */
bool lapic_apicv_window_update(struct vm_platform *p);
/* Every vCPU of the VM drops cached translations of the page (INVEPT on
 * every CPU it runs on). No lock held. */
void lapic_apicv_window_sync(struct vm_platform *p);

#endif
