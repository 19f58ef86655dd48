/* The xAPIC MMIO window follows IA32_APIC_BASE (vdev/lapic_window.h). */
#include "vdev/lapic_window.h"

#include <stddef.h>

#include "vcpu/vm.h"
#include "vdev/platform.h"

#define WINDOW_SIZE 0x1000ULL
#define BASE_MASK   0x000ffffffffff000ULL /* bits 51:12 of IA32_APIC_BASE */

static uint64_t window_of(const struct vm_platform *p, unsigned id)
{
    return vlapic_get_apic_base(&p->lapic[id]) & BASE_MASK;
}

/* The default window or the movable one (the IOAPIC shares their ctx). */
static bool is_lapic_entry(const struct vm_platform *p, unsigned slot)
{
    const struct mmio_range *r = &p->vm->mmio[slot];
    return r->ctx == p && r->size == WINDOW_SIZE &&
           (r->base == VLAPIC_DEFAULT_BASE || (int)slot == p->lapic_moved_slot);
}

/* The page holds nothing else of the VM: no RAM, ROM or passed-through
 * BAR in its second-level tables, and no other emulated device. */
static bool page_free(const struct vm_platform *p, uint64_t page)
{
    const struct vm *vm = p->vm;
    if (ept_translate(&vm->ept, page, NULL, NULL, NULL) == 0)
        return false;
    for (unsigned i = 0; i < vm->nr_mmio; i++) {
        const struct mmio_range *r = &vm->mmio[i];
        if (page < r->base + r->size && r->base < page + WINDOW_SIZE && !is_lapic_entry(p, i))
            return false;
    }
    return true;
}

static bool moved_in_use(const struct vm_platform *p, unsigned except)
{
    for (unsigned i = 0; i < p->vm->nr_vcpus; i++)
        if (i != except && window_of(p, i) == p->lapic_moved_base &&
            p->lapic_moved_base != VLAPIC_DEFAULT_BASE)
            return true;
    return false;
}

int lapic_window_init(struct vm_platform *p, mmio_handler_fn lapic_mmio)
{
    p->lapic_moved_base = VLAPIC_DEFAULT_BASE;
    p->lapic_moved_slot = (int)p->vm->nr_mmio;
    return vm_register_mmio(p->vm, VLAPIC_DEFAULT_BASE, WINDOW_SIZE, lapic_mmio, p,
                            "lapic (moved)");
}

bool lapic_window_can_move(const struct vm_platform *p, unsigned id, uint64_t apic_base)
{
    uint64_t page = apic_base & BASE_MASK;
    if (page == window_of(p, id) || page == VLAPIC_DEFAULT_BASE || page == p->lapic_moved_base)
        return true;
    return !moved_in_use(p, id) && page_free(p, page);
}

void lapic_window_moved(struct vm_platform *p, unsigned id, uint64_t apic_base)
{
    uint64_t page = apic_base & BASE_MASK;
    (void)id;
    if (page == VLAPIC_DEFAULT_BASE || page == p->lapic_moved_base)
        return;
    /* One aligned store: vCPUs looking the table up see the old page or
     * the new one, and no vCPU is at the old one (lapic_window_can_move). */
    p->lapic_moved_base = page;
    __atomic_store_n(&p->vm->mmio[p->lapic_moved_slot].base, page, __ATOMIC_RELEASE);
}

bool lapic_window_owns(const struct vm_platform *p, unsigned id, uint64_t gpa)
{
    return (gpa & ~(WINDOW_SIZE - 1)) == window_of(p, id);
}
