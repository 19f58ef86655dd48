/* The IDT, interrupt vector allocation and dispatch. */
#ifndef ARCH_X86_64_IRQ_H
#define ARCH_X86_64_IRQ_H

#include <stdint.h>

struct irq_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};

/* Fixed vectors; device vectors are handed out by irq_alloc_vector(). */
#define VEC_PIC_BASE     0x20 /* 8259 remapped here, then masked */
#define VEC_DEVICE_FIRST 0x30
#define VEC_DEVICE_LAST  0xdf
#define VEC_TIMER        0xe0
#define VEC_IPI_CALL     0xe1
#define VEC_IPI_RESCHED  0xe2
#define VEC_IPI_STOP     0xe3
#define VEC_APIC_ERROR   0xfe
#define VEC_SPURIOUS     0xff

typedef void (*irq_handler_fn)(struct irq_frame *f, void *arg);

void idt_init(void); /* builds the shared IDT once */
void idt_load(void); /* on every CPU */
int irq_register(uint8_t vector, irq_handler_fn fn, void *arg);
/* Returns a free vector in the device range, or -1. */
int irq_alloc_vector(void);
/* How many times a device vector (VEC_DEVICE_FIRST..LAST) was taken since
 * boot, on any CPU; 0 for other vectors. */
uint64_t irq_count(uint8_t vector);
/* Set by the local APIC driver: acknowledges the interrupt being serviced. */
extern void (*irq_eoi_hook)(void);
/* Called for NMIs that are not a panic stop; set by the IPI code. */
extern void (*nmi_hook)(struct irq_frame *f);

void irq_dispatch(struct irq_frame *f);

#endif
