/* Where a vCPU's xAPIC MMIO window is: the page IA32_APIC_BASE names
 * (SDM vol. 3 10.4.5). Each VM has its default window at 0xFEE00000 and
 * one more, movable one; a vCPU reaches its vLAPIC only through the window
 * at its own base, and the other window reads as absent hardware (all
 * ones, writes dropped). A move is refused (the WRMSR gets #GP) when the
 * new page holds RAM, ROM or another device, or when another vCPU of the
 * VM already uses a different moved base. Called with the platform lock
 * held (vdev/platform.c). */
#ifndef VDEV_LAPIC_WINDOW_H
#define VDEV_LAPIC_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu/vm.h"

struct vm_platform;

/* At platform creation, after the default window: registers the movable
 * one with the same handler (parked on the default page, where the
 * default window, registered first, takes precedence). */
int lapic_window_init(struct vm_platform *p, mmio_handler_fn lapic_mmio);
/* Whether vCPU `id` may move its window to the page of `apic_base`. */
bool lapic_window_can_move(const struct vm_platform *p, unsigned id, uint64_t apic_base);
/* After IA32_APIC_BASE of vCPU `id` took `apic_base`: the window follows. */
void lapic_window_moved(struct vm_platform *p, unsigned id, uint64_t apic_base);
/* Whether vCPU `id`'s window covers gpa. */
bool lapic_window_owns(const struct vm_platform *p, unsigned id, uint64_t gpa);

#endif
