/* Virtual-interrupt delivery and EOI virtualization, the neutral half: the
 * vLAPIC (vdev/vlapic*.c) stays the one truth; before an entry its IRR,
 * ISR, TMR and TPR are handed to the backend (apicv_load), which lets the
 * CPU deliver its vectors and virtualize their EOIs without exits; at the
 * next exit that finds the CPU's copy changed, the vLAPIC takes the same
 * steps (vcpu_apicv_seen). x2APIC mode, and xAPIC mode with the VM's
 * APIC-access page (vdev/lapic_apicv_window.h; the state then names the
 * page, and what the CPU did includes the TPR and self-IPIs). VMX only
 * (hvm/backend.h), where `vmx.apicv=off` turns it off (v->apicv_possible
 * stays false). */
#ifndef VCPU_APICV_H
#define VCPU_APICV_H

#include <stdbool.h>
#include <stdint.h>

#include "hvm/vcpu.h"

/* Before an entry (vcpu_inject_pending): hands the vLAPIC's state to the
 * backend when the vCPU can use virtual-interrupt delivery, and stops it
 * when it no longer can. True: the vLAPIC's vectors are the CPU's to
 * deliver (v->apicv_on). */
bool vcpu_apicv_load(struct vcpu *v);

#endif
