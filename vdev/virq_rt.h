/* Emulated device interrupts for a real-time VM (docs/realtime.md). Its
 * vCPUs own their CPUs' local APICs and take interrupts without exits, so
 * a vIOAPIC pin is delivered as a physical fixed IPI with the guest's
 * vector to the CPU of the vCPU its redirection entry names; the guest
 * EOIs its own local APIC (which is why its vIOAPIC keeps no Remote IRR:
 * vioapic.eoi_unseen). */
#ifndef VDEV_VIRQ_RT_H
#define VDEV_VIRQ_RT_H

#include <stdbool.h>
#include <stdint.h>

/* The vCPUs (bit i = vCPU i, of n <= 32) that a vIOAPIC delivery reaches:
 * fixed or lowest-priority mode with a vector of 16 or more (anything else
 * reaches nobody: 0). A physical destination names a vCPU by the x2APIC ID
 * the guest reads from its local APIC (phys_ids[i], its CPU's) or, when no
 * CPU of the VM has that ID, by its virtual APIC ID (i); 0xff is every
 * vCPU (lowest priority: vCPU 0). A logical destination goes to vCPU 0:
 * the guest's logical IDs live in the local APICs, not in the model. */
uint32_t virq_rt_targets(const uint32_t *phys_ids, unsigned n, uint32_t dest, bool logical,
                         unsigned mode, uint8_t vector);

#endif
