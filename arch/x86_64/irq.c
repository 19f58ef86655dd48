#include "arch/x86_64/irq.h"

#include <stdbool.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/exceptions.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/percpu.h"
#include "lib/spinlock.h"

struct idt_entry {
    uint16_t offset_lo;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_hi;
    uint32_t zero;
} __attribute__((packed));

extern const uint64_t isr_stub_table[256];

static struct idt_entry idt[256] __attribute__((aligned(16)));
static irq_handler_fn handlers[256];
static void *handler_args[256];
static spinlock_t vector_lock = SPINLOCK_INIT;
/* Device vectors only: how many times each was taken, on any CPU. */
static uint64_t device_counts[VEC_DEVICE_LAST - VEC_DEVICE_FIRST + 1];
void (*irq_eoi_hook)(void);
void (*nmi_hook)(struct irq_frame *f);

static void set_gate(unsigned vec, uint64_t addr, uint8_t ist)
{
    idt[vec].offset_lo = addr & 0xffff;
    idt[vec].selector = KERNEL_CS;
    idt[vec].ist = ist;
    idt[vec].type_attr = 0x8e; /* present, DPL 0, 64-bit interrupt gate */
    idt[vec].offset_mid = (addr >> 16) & 0xffff;
    idt[vec].offset_hi = addr >> 32;
    idt[vec].zero = 0;
}

void idt_init(void)
{
    for (unsigned v = 0; v < 256; v++)
        set_gate(v, isr_stub_table[v], 0);
    /* Faults that can arrive on a broken or busy stack get their own. */
    idt[2].ist = IST_NMI;
    idt[8].ist = IST_DF;
    idt[18].ist = IST_MC;
}

void idt_load(void)
{
    struct descriptor_ptr p = {sizeof(idt) - 1, (uint64_t)idt};
    __asm__ volatile("lidt %0" ::"m"(p) : "memory");
}

int irq_register(uint8_t vector, irq_handler_fn fn, void *arg)
{
    if (vector < 32)
        return -1;
    handler_args[vector] = arg;
    __atomic_store_n(&handlers[vector], fn, __ATOMIC_RELEASE);
    return 0;
}

int irq_alloc_vector(void)
{
    int found = -1;
    spin_lock(&vector_lock);
    for (int v = VEC_DEVICE_FIRST; v <= VEC_DEVICE_LAST; v++) {
        if (!handlers[v] && !handler_args[v]) {
            handler_args[v] = (void *)1; /* claimed until registered */
            found = v;
            break;
        }
    }
    spin_unlock(&vector_lock);
    return found;
}

void irq_dispatch(struct irq_frame *f)
{
    uint64_t v = f->vector;

    if (v < 32) {
        exception_handle(f);
        return;
    }
    /* Lines 0x20-0x2f: a spurious 8259 interrupt; it was masked, nothing to EOI
     * at the LAPIC. */
    if (v >= VEC_PIC_BASE && v < VEC_PIC_BASE + 16 && !handlers[v])
        return;
    if (v == VEC_SPURIOUS)
        return;
    this_cpu()->irqs++;
    if (v >= VEC_DEVICE_FIRST && v <= VEC_DEVICE_LAST)
        __atomic_fetch_add(&device_counts[v - VEC_DEVICE_FIRST], 1, __ATOMIC_RELAXED);
    irq_handler_fn fn = __atomic_load_n(&handlers[v], __ATOMIC_ACQUIRE);
    if (fn)
        fn(f, handler_args[v]);
    if (irq_eoi_hook)
        irq_eoi_hook();
}

uint64_t irq_count(uint8_t vector)
{
    if (vector < VEC_DEVICE_FIRST || vector > VEC_DEVICE_LAST)
        return 0;
    return __atomic_load_n(&device_counts[vector - VEC_DEVICE_FIRST], __ATOMIC_RELAXED);
}
