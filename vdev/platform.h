/* The PC platform of one VM: vLAPIC per vCPU, vIOAPIC, vPIC, vPIT, RTC,
 * ACPI PM (timer, S5, power button), reset ports, an empty PCI bus. Only
 * VMs that ask for it get one (Linux guests); minimal VMs see absent
 * hardware. Every model is guarded by one per-VM lock. */
#ifndef VDEV_PLATFORM_H
#define VDEV_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>

#include "hvm/vcpu.h"
#include "vdev/vioapic.h"
#include "vdev/vlapic.h"
#include "vdev/vpic.h"
#include "vdev/vpit.h"
#include "vdev/vpm.h"
#include "vdev/vplatform.h"
#include "vdev/vrtc.h"
#include "vdev/rt_ticks.h"
#include "lib/spinlock.h"

#define PLATFORM_PIC_VECTOR 0x100 /* vcpu_pending_interrupt: "ask the vPIC" */

struct vm;

struct lapic_ctx {
    struct vm *vm;
    unsigned vcpu;
};

struct vm_platform {
    spinlock_t lock;
    struct vm *vm;
    struct vdev_clock clock;
    struct vpic pic;
    struct vioapic ioapic;
    struct vpit pit;
    struct vrtc rtc;
    struct vpm pm;
    struct vlapic lapic[8];
    struct vlapic_ops lapic_ops[8];
    struct lapic_ctx lapic_ctx[8];
    struct vioapic_ops ioapic_ops;
    uint32_t pci_addr; /* the 0xCF8 latch */
    /* The movable xAPIC window (vdev/lapic_window.c): its page, and its
     * entry in the VM's MMIO table. */
    uint64_t lapic_moved_base;
    int lapic_moved_slot;
    /* A real-time VM's vPIT, RTC and PM timer are ticked from the
     * housekeeping CPU (vdev/rt_ticks.h). */
    bool rt_ticked;
    struct rt_ticks rt;
    /* The APIC-access page of the xAPIC window (vdev/lapic_apicv_window.h):
     * its host address (0: none), whether the EPT maps it now, and whether
     * mapping it failed once (emulated for good then). */
    uint64_t apic_access_hpa;
    bool apic_access_mapped, apic_access_broken;
};

/* At VM start (after memory): creates the devices and claims their ports
 * and MMIO windows. Returns 0 or -1 with a reason. */
int platform_create(struct vm *vm, char *err, unsigned errlen);
void platform_destroy(struct vm *vm);
/* MSRs the platform owns (APIC base, x2APIC, TSC deadline); false = not
 * ours. *gp = true when the guest must get #GP. */
bool platform_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *val, bool *gp);
bool platform_wrmsr(struct vcpu *v, uint32_t msr, uint64_t val, bool *gp);
/* The vCPU's start-up state (enum vcpu_startup, vcpu/vm.h): waiting for a
 * SIPI, or starting at the SIPI's vector (*sipi), which ends the wait. */
int platform_take_startup(struct vcpu *v, uint8_t *sipi);
/* vm_platform_ops.apic_fast (vdev/platform_fast.c). */
int platform_apic_fast(struct vcpu *v, uint32_t msr, uint64_t val, bool can_take, int *vector,
                       uint64_t *deadline);
int platform_apicv_fast(struct vcpu *v, uint32_t msr, uint64_t val, uint64_t *deadline,
                        const struct hvm_apicv_delta *seen, struct hvm_apicv_state *s);
bool platform_apicv_export(struct vcpu *v, struct hvm_apicv_state *s);
void platform_apicv_import(struct vcpu *v, const struct hvm_apicv_delta *d);

#endif
