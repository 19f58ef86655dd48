/* Changing the maps of a running VM on every vCPU at once: ports opened or
 * closed in the I/O bitmaps, second-level translations dropped after its
 * EPT/NPT lost or changed a mapping. The backend writes the bits
 * (hvm/backend.h io_intercept, flush_second_level); this layer makes sure
 * every CPU the VM runs on has seen the change. */
#ifndef VCPU_VM_SYNC_H
#define VCPU_VM_SYNC_H

#include <stdbool.h>
#include <stdint.h>

struct vm;

/* Ports [base, base + count) exit (intercept) or reach the hardware, for
 * every vCPU the VM has (none before its vCPUs exist: their bitmaps are
 * built then from the configuration alone). Takes effect for each vCPU at
 * the latest when vm_sync_vcpus returns. Any CPU, any lock. */
void vm_io_intercept(struct vm *vm, uint16_t base, uint32_t count, bool intercept);

/* Brings every vCPU of the VM out of the guest at least once (an IPI call
 * on each CPU it runs on, waited for) and, with flush_second_level, drops
 * its cached second-level translations there. When it returns, no vCPU
 * runs with I/O bitmap bits or EPT/NPT translations from before the call.
 * Call with no lock held: the other CPUs may be waiting for one. A
 * real-time vCPU on another CPU takes no IPIs (they would land in its
 * IDT): it is kicked by NMI and not waited for (docs/passthrough.md).
 * 0, or -1 when a CPU did not answer (logged). */
int vm_sync_vcpus(struct vm *vm, bool flush_second_level);

#endif
